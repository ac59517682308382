"""The CFDI QR code as a PNG of one pixel per module (ours) against an inline SVG of one
path per run of dark modules (what we drew before), in one run.

Both render the same es-MX invoice HTML through one warm renderer to PDF/A; only the QR
code's markup differs. Each render forgets the decoded PNG afterwards, as in production,
where every invoice has its own QR code.

    .venv/bin/python bench/history/qr_code.py [--runs 15]
"""

from __future__ import annotations

import argparse
import re

import segno
from pairs import STAMP, interleaved_ms, medians

from correspondence.config import Settings
from correspondence.engine import Engine
from tests.factories import sample_with_lines

QUIET_ZONE = 4
SVG = "http://www.w3.org/2000/svg"


def svg(payload: str) -> str:
    """The QR code as the inline SVG we drew before: one subpath per horizontal run."""
    matrix = segno.make_qr(payload, error="m").matrix
    runs: list[str] = []
    for y, row in enumerate(matrix):
        x = 0
        while x < len(row):
            if row[x]:
                start = x
                while x < len(row) and row[x]:
                    x += 1
                runs.append(f"M{start + QUIET_ZONE} {y + QUIET_ZONE}h{x - start}v1h-{x - start}z")
            else:
                x += 1
    size = len(matrix) + 2 * QUIET_ZONE
    return (
        f'<svg class="qr" xmlns="{SVG}" viewBox="0 0 {size} {size}" role="img">'
        f'<rect width="{size}" height="{size}" fill="#fff"/>'
        f'<path d="{"".join(runs)}" fill="#000"/></svg>'
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    engine = Engine(Settings())
    print(f"{args.runs} interleaved runs; medians in ms; ratio = PNG / SVG")
    print(f"{'document':<22}{'svg':>8}{'png':>8}{'ratio':>8}{'svg kB':>9}{'png kB':>9}")
    for lines in (1, 25):
        validated = engine.validate(sample_with_lines(lines))
        ours = engine.html(validated, link_css=False)
        assert validated.doc.cfdi is not None
        before, count = re.subn(r'<img class="qr"[^>]*>', svg(validated.doc.cfdi.qr_payload), ours)
        assert count == 1, "the invoice has no QR code to compare"
        variants = {"svg": before, "png": ours}
        sizes = {
            key: len(engine.pdf.render(html, stamp=STAMP).data) for key, html in variants.items()
        }
        paths = {
            key: (lambda h=html: engine.pdf.render(h, stamp=STAMP))
            for key, html in variants.items()
        }
        m = medians(interleaved_ms(paths, args.runs))
        old, new = m["svg"], m["png"]
        name = f"invoice, {lines} line" + "s" * (lines > 1)
        print(
            f"{name:<22}{old:>8.1f}{new:>8.1f}{new / old:>8.2f}"
            f"{sizes['svg'] / 1000:>9.1f}{sizes['png'] / 1000:>9.1f}"
        )


if __name__ == "__main__":
    main()
