"""Documents per second through our engine and through plain WeasyPrint on the same HTML.

One run, interleaved (engine, plain, plain PDF/A, engine …) so that machine drift hits all
alike. "Engine" is the whole path a request takes: validate the payload, compute and
reconcile its figures, render the Jinja template, lay out and write a PDF/A-3b with the
payload attached through the asset-only fetcher (and, for packs, label the pages with
pypdf). "Plain" is `HTML(string=...).write_pdf()` on the exact HTML the engine produced,
with WeasyPrint's defaults (its own URL fetcher reading the same asset files from disk, no
PDF/A, no attachment). "Plain PDF/A" is the same call asked for the output the engine
writes, so the last ratio is the engine's own cost.

    .venv/bin/python bench/render.py [--runs 15] [--kind premium_invoice]
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

from weasyprint import HTML, Attachment

from correspondence.config import Settings
from correspondence.engine import Engine
from correspondence.kinds import KINDS
from correspondence.pdf import ASSETS_DIR


def measure(engine: Engine, kind: str, runs: int) -> dict[str, float]:
    payload = KINDS[kind].sample()
    validated = engine.validate(payload)
    plain_html = engine.html(validated, asset_base=ASSETS_DIR.as_uri() + "/")
    attachment = validated.doc.model_dump_json(indent=2, exclude_unset=True, by_alias=True).encode()

    def ours() -> int:
        return engine.render(engine.validate(payload)).pages

    def plain() -> int:
        document = HTML(string=plain_html).render()
        document.write_pdf()
        return len(document.pages)

    def plain_pdfa() -> int:
        document = HTML(string=plain_html).render()
        document.write_pdf(
            pdf_variant="pdf/a-3b", attachments=[Attachment(string=attachment, name="payload.json")]
        )
        return len(document.pages)

    paths: dict[str, Callable[[], int]] = {"engine": ours, "plain": plain, "pdfa": plain_pdfa}
    for run in paths.values():  # warm up: imports, fonts, caches
        run()
    times: dict[str, list[float]] = {name: [] for name in paths}
    pages = 0
    for _ in range(runs):
        for name, run in paths.items():
            t0 = time.perf_counter()
            pages = run()
            times[name].append(time.perf_counter() - t0)
    medians = {name: statistics.median(values) for name, values in times.items()}
    return {**medians, "pages": pages}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--kind", choices=sorted(KINDS), action="append")
    args = parser.parse_args()
    engine = Engine(Settings())
    print(f"{args.runs} interleaved runs per path; medians in ms")
    print(
        f"{'kind':<28}{'pages':>5}{'engine':>9}{'plain':>9}{'PDF/A':>9}"
        f"{'eng/plain':>11}{'eng/PDF/A':>11}{'docs/s':>8}"
    )
    for kind in args.kind or sorted(KINDS):
        m = measure(engine, kind, args.runs)
        print(
            f"{kind:<28}{int(m['pages']):>5}{m['engine'] * 1000:>9.1f}{m['plain'] * 1000:>9.1f}"
            f"{m['pdfa'] * 1000:>9.1f}{m['engine'] / m['plain']:>11.3f}"
            f"{m['engine'] / m['pdfa']:>11.3f}{1 / m['engine']:>8.2f}"
        )


if __name__ == "__main__":
    main()
