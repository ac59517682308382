"""``correspondence batch FILE.ndjson --out DIR``: every line rendered in the warm worker
processes, without a registry. Imported by the CLI only when it runs."""

from __future__ import annotations

import json
import re
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from rich.progress import Progress

from correspondence import bounded_json
from correspondence.engine import Engine
from correspondence.errors import InvalidPayload, Problem
from correspondence.workers import build_renderers


def batch(file: Path, out: Path, engine: Engine) -> int:
    """Render every line of an NDJSON file into ``out`` in the warm worker processes; a
    line's business reference names its PDF, so running the same file again renders
    nothing twice. Returns how many lines were refused (their errors in errors.ndjson)."""
    lines = [(n, line) for n, line in enumerate(_read_text(file).splitlines(), 1) if line.strip()]
    out.mkdir(parents=True, exist_ok=True)
    renderers = build_renderers(engine.settings.model_copy(update={"render_wait_seconds": 3600}))

    def one(number: int, line: str) -> tuple[int, str, tuple[Problem, ...]]:
        try:
            payload = bounded_json.loads(line, subject=f"line {number}")
            validated = engine.validate(payload)
            doc = validated.doc.document
            name = re.sub(r"[^A-Za-z0-9._-]+", "-", f"{doc.type}-{doc.our_reference}")
            target = out / f"{name}.pdf"
            if target.exists():
                return number, "already there", ()
            target.write_bytes(renderers.render(validated).document.pdf)
            return number, "rendered", ()
        except InvalidPayload as error:
            return number, "refused", error.problems
        finally:
            progress.advance(task)

    counts = {"rendered": 0, "already there": 0, "refused": 0}
    try:
        with Progress() as progress, ThreadPoolExecutor(renderers.size) as threads:
            task = progress.add_task(f"{file.name}", total=len(lines))
            results = list(threads.map(lambda item: one(*item), lines))
    finally:
        renderers.close()
    with (out / "errors.ndjson").open("w", encoding="utf-8") as errors:
        for number, outcome, problems in results:
            counts[outcome] += 1
            if problems:
                fields = [{"field": p.field, "message": p.message} for p in problems]
                errors.write(json.dumps({"line": number, "errors": fields}, ensure_ascii=False))
                errors.write("\n")
    print(
        ", ".join(f"{value} {key}" for key, value in counts.items())
        + (f"; problems in {out / 'errors.ndjson'}" if counts["refused"] else "")
    )
    return counts["refused"]


def _read_text(path: Path) -> str:
    try:
        return path.read_text("utf-8")
    except OSError as error:
        raise InvalidPayload.unreadable(path, error) from None
