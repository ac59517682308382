"""Invoices per second through our engine and through plain WeasyPrint on the same HTML.

One run, interleaved (engine, plain, engine, plain …) so that machine drift hits both
alike. "Engine" is the whole path a request takes: validate the payload, compute and
reconcile its figures, render the Jinja template, lay out and write a PDF/A-3b with the
payload attached, through the asset-only fetcher. "Plain" is `HTML(string=...).write_pdf()`
on the exact HTML the engine produced, with WeasyPrint's defaults (its own URL fetcher
reading the same asset files from disk, no PDF/A, no attachment). "Plain PDF/A" is the same
call asked for the output the engine writes (PDF/A-3b with the payload attached), so the
last ratio is the engine's own cost: validation, rules, Jinja and the asset fetcher.

    uv run python bench/render.py [--runs 20] [--sample PATH]
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

from weasyprint import HTML, Attachment

from correspondence.config import PROJECT_ROOT, Settings
from correspondence.engine import Engine
from correspondence.pdf import ASSETS_DIR

DEFAULT_SAMPLE = PROJECT_ROOT.parent / "shared" / "samples" / "02_premium_invoice_es-MX.json"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--sample", type=Path, default=DEFAULT_SAMPLE)
    args = parser.parse_args()

    payload = json.loads(args.sample.read_text("utf-8"))
    engine = Engine(Settings())
    validated = engine.validate(payload)
    plain_html = engine.html(validated, asset_base=ASSETS_DIR.as_uri() + "/")

    def ours() -> int:
        return engine.render(engine.validate(payload)).pages

    attachment = validated.doc.model_dump_json(indent=2, exclude_unset=True, by_alias=True).encode()

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

    for warm in (ours, plain, plain_pdfa):  # first render pays font loading and imports
        warm()
    engine_s: list[float] = []
    plain_s: list[float] = []
    pdfa_s: list[float] = []
    phases: dict[str, list[float]] = {"validate": [], "jinja": []}
    for _ in range(args.runs):
        t0 = time.perf_counter()
        pages_ours = ours()
        engine_s.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        pages_plain = plain()
        plain_s.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        plain_pdfa()
        pdfa_s.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        v = engine.validate(payload)
        phases["validate"].append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        engine.html(v)
        phases["jinja"].append(time.perf_counter() - t0)
    assert pages_ours == pages_plain, (pages_ours, pages_plain)

    e, p, a = (statistics.median(x) for x in (engine_s, plain_s, pdfa_s))
    print(f"sample: {args.sample.name}, {pages_ours} pages, {args.runs} interleaved runs each")
    print(
        f"engine (validate+rules+jinja+PDF/A+attachment): {e * 1000:7.1f} ms median  "
        f"{1 / e:5.2f} invoices/s"
    )
    print(
        f"plain WeasyPrint, same HTML:                    {p * 1000:7.1f} ms median  "
        f"{1 / p:5.2f} invoices/s"
    )
    print(
        f"plain WeasyPrint, same HTML, PDF/A-3b+attached: {a * 1000:7.1f} ms median  "
        f"{1 / a:5.2f} invoices/s"
    )
    for name, values in phases.items():
        print(f"  of which {name:<8} {statistics.median(values) * 1000:6.2f} ms")
    print(f"ratio engine/plain:       {e / p:.3f}  ({(e / p - 1) * 100:+.1f} %)")
    print(
        f"ratio engine/plain PDF/A: {e / a:.3f}  ({(e / a - 1) * 100:+.1f} %)  <- engine overhead"
    )


if __name__ == "__main__":
    main()
