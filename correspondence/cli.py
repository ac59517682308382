"""The command line: ``correspondence render`` and ``correspondence samples``.

Thin, like the API: parse arguments, call the engine, map errors to exit codes.
Exit status 2 means the input was refused; every problem is printed on its own line as
``field.path: message``.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from correspondence.config import Settings
from correspondence.engine import Engine
from correspondence.errors import InvalidPayload, Problem
from correspondence.formatting import SUPPORTED_LOCALES
from correspondence.kinds import KINDS

EXIT_INVALID = 2


def _load(path: Path) -> Any:
    try:
        return json.loads(path.read_text("utf-8"))
    except OSError as error:
        raise InvalidPayload([Problem("", f"cannot read {path}: {error.strerror}", "io")]) from None
    except json.JSONDecodeError as error:
        raise InvalidPayload(
            [
                Problem(
                    "",
                    f"{path} is not JSON: {error.msg} (line {error.lineno}, column {error.colno})",
                    "json",
                )
            ]
        ) from None


def _render(args: argparse.Namespace, engine: Engine) -> int:
    validated = engine.validate(_load(args.payload))
    out: Path = args.output
    out.parent.mkdir(parents=True, exist_ok=True)
    if args.html:
        out.write_text(engine.html(validated, locale=args.locale), "utf-8")
    else:
        out.write_bytes(engine.render(validated, locale=args.locale).pdf)
    print(out)
    return 0


def _samples(args: argparse.Namespace, engine: Engine) -> int:
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    for name, kind in sorted(KINDS.items()):
        validated = engine.validate(kind.sample())
        locales = SUPPORTED_LOCALES if args.all_locales else (validated.doc.document.locale,)
        for locale in locales:
            target = out / f"{name}.{locale}.pdf"
            rendered = engine.render(validated, locale=locale)
            target.write_bytes(rendered.pdf)
            print(f"{target}  ({rendered.pages} pages, {len(rendered.pdf):,} bytes)")
    return 0


def parser() -> argparse.ArgumentParser:
    """The argument parser (public so the README can be checked against it)."""
    top = argparse.ArgumentParser(prog="correspondence", description=__doc__.splitlines()[0])
    sub = top.add_subparsers(dest="command", required=True)

    render = sub.add_parser("render", help="render one payload to PDF (or HTML)")
    render.add_argument("payload", type=Path, help="the request payload, JSON")
    render.add_argument("-o", "--output", type=Path, required=True, help="where to write")
    render.add_argument(
        "--locale",
        choices=SUPPORTED_LOCALES,
        help="render in this locale instead of document.locale",
    )
    render.add_argument("--html", action="store_true", help="write the HTML instead of the PDF")
    render.set_defaults(run=_render)

    samples = sub.add_parser("samples", help="render every kind's sample payload")
    samples.add_argument("--out", type=Path, default=Path("out"), help="output folder")
    samples.add_argument("--all-locales", action="store_true", help="every supported locale")
    samples.set_defaults(run=_samples)
    return top


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``correspondence`` command."""
    args = parser().parse_args(argv)
    engine = Engine(Settings())
    try:
        code: int = args.run(args, engine)
    except InvalidPayload as error:
        for problem in error.problems:
            print(str(problem), file=sys.stderr)
        return EXIT_INVALID
    return code


if __name__ == "__main__":
    sys.exit(main())
