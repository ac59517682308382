"""The command line: render, samples, batch, serve, worker, keys, staff, seed, reissue-check.

Thin, like the API: parse arguments, call the engine, map errors to exit codes.
Exit status 2 means the input was refused; every problem is printed on its own line as
``field.path: message``.

Cold start: only what parsing the arguments needs is imported at the top (``--help`` takes
a fraction of a second); each command imports what it uses, so ``render`` does not load the
registry, the API's dependencies or Celery, and ``keys`` does not load WeasyPrint.
"""

from __future__ import annotations

import argparse
import gc
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from correspondence.errors import CorrespondenceError, InvalidPayload
from correspondence.formatting import SUPPORTED_LOCALES
from correspondence.scopes import SCOPES
from correspondence.staff_languages import STAFF_LANGUAGES

if TYPE_CHECKING:
    from correspondence.config import Settings
    from correspondence.engine import Engine

EXIT_INVALID = 2


def _load(path: Path) -> Any:
    from correspondence import bounded_json

    try:
        data = path.read_bytes()
    except OSError as error:
        raise InvalidPayload.unreadable(path, error) from None
    return bounded_json.loads(data, subject=str(path))


def _render(args: argparse.Namespace, engine: Engine | None) -> int:
    assert engine is not None
    validated = engine.validate(_load(args.payload))
    out: Path = args.output
    out.parent.mkdir(parents=True, exist_ok=True)
    if args.html:
        out.write_text(engine.html(validated, locale=args.locale), "utf-8")
    else:
        pdf = engine.render(validated, locale=args.locale).pdf
        out.write_bytes(_signed(engine.settings, validated.kind.name, pdf))
    print(out)
    return 0


def _signed(settings: Settings, kind: str, pdf: bytes) -> bytes:
    from correspondence.cli_verify import signed

    return signed(settings, kind, pdf)


def _verify(args: argparse.Namespace, _engine: Engine | None) -> int:
    """``verify FILE.pdf``: its signature, and whether we issued these bytes."""
    from correspondence.cli_verify import verify

    return verify(args.file)


def _samples(args: argparse.Namespace, engine: Engine | None) -> int:
    from correspondence.engine import locales_of
    from correspondence.kinds import KINDS

    assert engine is not None
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    for name, kind in sorted(KINDS.items()):
        validated = engine.validate(kind.sample())
        # Every locale of the language its free text is written in (docs/language.md).
        locales = locales_of(validated) if args.all_locales else (validated.doc.document.locale,)
        for locale in locales:
            target = out / f"{name}.{locale}.pdf"
            rendered = engine.render(validated, locale=locale)
            target.write_bytes(rendered.pdf)
            print(f"{target}  ({rendered.pages} pages, {len(rendered.pdf):,} bytes)")
    return 0


def _batch(args: argparse.Namespace, engine: Engine | None) -> int:
    from correspondence.cli_batch import batch

    assert engine is not None
    refused = batch(args.file, args.out, engine)  # how many lines were refused
    return EXIT_INVALID if refused else 0


def _serve(args: argparse.Namespace, _engine: Engine | None) -> int:
    import uvicorn

    from correspondence import logs
    from correspondence.config import Settings

    settings = Settings()
    logs.configure(settings.log_format, settings.log_level)
    # The API is loaded by name: the core never imports it (see the import contracts).
    # log_config=None: uvicorn keeps its loggers, and our handler formats their lines.
    uvicorn.run(
        "api.app:app_from_environment",
        factory=True,
        host=args.host,
        port=args.port,
        log_level=settings.log_level.lower(),
        log_config=None,
        access_log=False,  # api.access_log writes one structured line per request
    )
    return 0


def _keys_create(args: argparse.Namespace, _engine: Engine | None) -> int:
    from correspondence.bootstrap import build_service
    from correspondence.config import Settings

    service = build_service(Settings())
    key = service.create_api_key(
        name=args.name, scopes=tuple(args.scopes), rate_limit_per_minute=args.rate_limit
    )
    print(key)
    print(
        f"(scopes: {' '.join(args.scopes)}; shown once, only its hash is stored)", file=sys.stderr
    )
    return 0


def _staff_create(args: argparse.Namespace, _engine: Engine | None) -> int:
    import getpass

    from correspondence.bootstrap import build_service
    from correspondence.config import Settings

    password = sys.stdin.readline().rstrip("\n") if args.password_stdin else getpass.getpass()
    staff = build_service(Settings()).create_staff(
        email=args.email, password=password, replace=args.replace, locale=args.language
    )
    print(f"staff user {staff.email} {'ready' if args.replace else 'created'}")
    return 0


def _admin(args: argparse.Namespace, _engine: Engine | None) -> int:
    """``keys list | revoke | rotate | limit``, ``staff list | disable``."""
    from correspondence import cli_admin

    return cli_admin.run(args)


def _seed(args: argparse.Namespace, _engine: Engine | None) -> int:
    from correspondence.bootstrap import build_service
    from correspondence.config import Settings
    from correspondence.kinds import KINDS
    from correspondence.service import Client

    service = build_service(Settings())
    internal = Client(id=0, name="seed", scopes=frozenset(SCOPES))
    for name, kind in sorted(KINDS.items()):
        outcome = service.issue(kind.sample(), client=internal)
        doc = outcome.document
        state = "issued" if outcome.created else "already issued"
        print(f"{name}: {state} as {doc.id} ({doc.number or doc.business_reference})")
    return 0


def _reissue_check(args: argparse.Namespace, _engine: Engine | None) -> int:
    from correspondence.bootstrap import build_service
    from correspondence.config import Settings

    report = build_service(Settings()).reissue_check(args.document_id)
    same_templates = report.stored_template_hash == report.current_template_hash
    print(f"document {report.document_id}")
    print(f"  stored   sha256 {report.stored_sha256} (as rendered, before any signature)")
    print(f"  rendered sha256 {report.rendered_sha256}")
    print(f"  templates {'unchanged' if same_templates else 'changed since issue'}")
    print("  identical" if report.identical else "  DIFFERENT")
    return 0 if report.identical else 1


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

    batch = sub.add_parser("batch", help="render every payload of an NDJSON file into a folder")
    batch.add_argument("file", type=Path, help="one payload per line")
    batch.add_argument("--out", type=Path, required=True, help="output folder")
    batch.set_defaults(run=_batch)

    serve = sub.add_parser("serve", help="start the HTTP API with the current settings")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.set_defaults(run=_serve)

    worker = sub.add_parser(
        "worker", help="start a Celery worker that issues accepted documents (needs a broker)"
    )
    worker.add_argument("--concurrency", type=int, help="processes; default one per core")
    worker.add_argument("--name", default="", help="worker name (default: celery@host)")
    worker.set_defaults(run=_worker)

    keys = sub.add_parser("keys", help="manage API keys").add_subparsers(dest="keys", required=True)
    create = keys.add_parser("create", help="create an API key and print it once")
    create.add_argument("--name", required=True)
    create.add_argument(
        "--scopes",
        nargs="+",
        required=True,
        choices=SCOPES,
    )
    create.add_argument(
        "--rate-limit", type=int, metavar="N", help="requests a minute (default: the setting)"
    )
    create.set_defaults(run=_keys_create)
    key_id = "the key's id (its prefix, as `keys list` shows)"
    keys_list = keys.add_parser("list", help="list API keys (never a secret or a hash)")
    keys_list.add_argument("--json", action="store_true", help="as JSON")
    keys_list.set_defaults(run=_admin, admin="keys list")
    revoke = keys.add_parser("revoke", help="revoke an API key: refused from its next request")
    revoke.add_argument("id", help=key_id)
    revoke.set_defaults(run=_admin, admin="keys revoke")
    rotate = keys.add_parser("rotate", help="give an API key a new secret and print it once")
    rotate.add_argument("id", help=key_id)
    rotate.set_defaults(run=_admin, admin="keys rotate")
    limit = keys.add_parser("limit", help="set an API key's rate limit (requests a minute)")
    limit.add_argument("id", help=key_id)
    limit.add_argument("per_minute", help="requests a minute, or 'default'")
    limit.set_defaults(run=_admin, admin="keys limit")

    staff = sub.add_parser("staff", help="manage staff users of the preview UI")
    staff_sub = staff.add_subparsers(dest="staff", required=True)
    staff_create = staff_sub.add_parser("create", help="add a staff user (argon2-hashed password)")
    staff_create.add_argument("--email", required=True)
    staff_create.add_argument(
        "--password-stdin", action="store_true", help="read the password from standard input"
    )
    staff_create.add_argument(
        "--replace", action="store_true", help="set the password if the user exists"
    )
    staff_create.add_argument(
        "--language", choices=STAFF_LANGUAGES, help="the staff UI's language (default en)"
    )
    staff_create.set_defaults(run=_staff_create)
    staff_language = staff_sub.add_parser(
        "language", help="set a staff user's UI language (en or es)"
    )
    staff_language.add_argument("email", help="the staff user's email")
    staff_language.add_argument("language", choices=STAFF_LANGUAGES)
    staff_language.set_defaults(run=_admin, admin="staff language")
    staff_disable = staff_sub.add_parser(
        "disable", help="disable a staff user: no sign-in, every session ended"
    )
    staff_disable.add_argument("email", nargs="?", help="the staff user's email")
    staff_disable.add_argument("--email", dest="email_option", help=argparse.SUPPRESS)
    staff_disable.set_defaults(run=_admin, admin="staff disable")
    staff_list = staff_sub.add_parser("list", help="list staff users (never a password hash)")
    staff_list.add_argument("--json", action="store_true", help="as JSON")
    staff_list.set_defaults(run=_admin, admin="staff list")

    seed = sub.add_parser("seed", help="issue every kind's sample into the registry")
    seed.set_defaults(run=_seed)

    verify = sub.add_parser(
        "verify", help="check a PDF's signature and whether we issued exactly these bytes"
    )
    verify.add_argument("file", type=Path, help="the PDF")
    verify.set_defaults(run=_verify)

    check = sub.add_parser("reissue-check", help="re-render a stored document and compare bytes")
    check.add_argument("document_id")
    check.set_defaults(run=_reissue_check)
    return top


def _worker(args: argparse.Namespace, _: Engine | None) -> int:
    from correspondence import logs, tracing
    from correspondence.config import Settings
    from correspondence.tasks import run_worker

    settings = Settings()
    logs.configure(settings.log_format, settings.log_level)
    tracing.configure(settings)
    run_worker(settings, concurrency=args.concurrency, name=args.name)
    return 0


def _engine(command: str) -> Engine:
    """The engine, imported and built with the cyclic garbage collector paused.

    Importing WeasyPrint, pydantic, Jinja and the kinds leaves 86,000 objects for the
    collector to track, and next to no garbage; it would walk them again and again as they
    come (269 collections, 0.11 s of CPU, measured with ``gc.callbacks``). Paused, then
    frozen: what the start built is set aside for the life of the process, as a render
    worker does once warm (``render_worker.settle``), and the document is collected as
    usual.
    """
    gc.disable()
    try:
        from correspondence.config import Settings
        from correspondence.engine import Engine
        from correspondence.pdf_fast import Shortcuts

        settings = Settings()
        shortcuts = None
        if command == "render" and settings.pdf_shortcuts:
            # One document: WeasyPrint parsed its own user-agent stylesheet on import, so
            # parsing the trimmed one too costs more than it saves in one layout (same bytes).
            shortcuts = Shortcuts(user_agent=False)
        engine = Engine(settings, shortcuts=shortcuts)
    finally:
        gc.freeze()
        gc.enable()
    return engine


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``correspondence`` command."""
    args = parser().parse_args(argv)
    try:
        engine = _engine(args.command) if args.command in ("render", "samples", "batch") else None
        code: int = args.run(args, engine)
    except InvalidPayload as error:
        for problem in error.problems:
            print(str(problem), file=sys.stderr)
        return EXIT_INVALID
    except CorrespondenceError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    except ValueError as error:  # pydantic's ValidationError is one
        from correspondence.config import problems

        if (lines := problems(error)) is None:
            raise
        for line in lines:
            print(f"error: configuration: {line}", file=sys.stderr)
        return 1
    return code


if __name__ == "__main__":
    sys.exit(main())
