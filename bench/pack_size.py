"""Renewal pack size: the assembled pack against the sum of its components rendered apart.

Both are measured in one run from the same payload and templates. The pack is one
WeasyPrint document, so each font subset and the sRGB profile are embedded once.

    uv run python bench/pack_size.py
"""

from __future__ import annotations

import dataclasses
import json
import time

from correspondence.config import PROJECT_ROOT, Settings
from correspondence.engine import Engine

SAMPLE = PROJECT_ROOT.parent / "shared" / "samples" / "01_renewal_pack_es-ES.json"


def main() -> None:
    engine = Engine(Settings())
    validated = engine.validate(json.loads(SAMPLE.read_text("utf-8")))
    engine.render(validated)  # warm up
    t0 = time.perf_counter()
    pack = engine.render(validated)
    pack_ms = (time.perf_counter() - t0) * 1000
    total, total_ms = 0, 0.0
    for key in validated.figures.components:  # type: ignore[attr-defined]
        only = dataclasses.replace(validated.figures, components=(key,))
        t0 = time.perf_counter()
        part = engine.render(dataclasses.replace(validated, figures=only))
        total_ms += (time.perf_counter() - t0) * 1000
        total += len(part.pdf)
        print(f"  {key:<16} {part.pages} pages {len(part.pdf):>8,} bytes")
    print(f"components rendered apart: {total:>8,} bytes  {total_ms:6.0f} ms")
    print(f"assembled pack ({pack.pages} pages):  {len(pack.pdf):>8,} bytes  {pack_ms:6.0f} ms")
    print(f"ratio pack/sum of parts: {len(pack.pdf) / total:.3f}")


if __name__ == "__main__":
    main()
