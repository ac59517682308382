"""Renewal packs: size against the sum of their parts, and throughput before and after
caching the work that every render repeated.

Both are measured in one run from the same payload and templates. The pack is one
WeasyPrint document, so each font subset and the sRGB profile are embedded once.

"Before" is the renderer as it was: the HTML links the stylesheet, so every render fetches
and parses it and loads its three @font-face fonts again. "After" is the renderer now: the
stylesheet is parsed once per worker (fonts loaded once) and applied to every render.
Interleaved runs, medians.

    .venv/bin/python bench/pack_size.py [--runs 9]
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import statistics
import time

from weasyprint import HTML

from correspondence.config import Settings
from correspondence.engine import Engine, issue_moment
from correspondence.kinds import SAMPLES_DIR, Validated
from correspondence.pdf import PDF_VARIANT
from correspondence.templating import ASSET_ORIGIN

SAMPLE = SAMPLES_DIR / "01_renewal_pack_es-ES.json"


def caching(engine: Engine, validated: Validated, runs: int) -> None:
    """Pack renders per second with the stylesheet parsed per render and parsed once."""
    linked = engine.html(validated)
    renderer = engine.pdf

    def before() -> None:
        document = HTML(string=linked, base_url=ASSET_ORIGIN, url_fetcher=renderer.fetcher)
        document.render(font_config=renderer.font_config).write_pdf(pdf_variant=PDF_VARIANT)

    def after() -> None:
        renderer.render(engine.html(validated, link_css=False), stamp=issue_moment(validated.doc))

    before(), after()
    times: dict[str, list[float]] = {"before": [], "after": []}
    for _ in range(runs):
        for name, run in (("before", before), ("after", after)):
            t0 = time.perf_counter()
            run()
            times[name].append(time.perf_counter() - t0)
    b, a = (statistics.median(times[k]) for k in ("before", "after"))
    print(f"pack render, stylesheet parsed per render: {b * 1000:6.0f} ms  {1 / b:5.2f} packs/s")
    print(f"pack render, stylesheet parsed once:       {a * 1000:6.0f} ms  {1 / a:5.2f} packs/s")
    print(f"ratio after/before: {a / b:.3f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=9)
    args = parser.parse_args()
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
    caching(engine, validated, args.runs)


if __name__ == "__main__":
    main()
