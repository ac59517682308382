"""Warm headless Chromium against warm WeasyPrint on the same HTML, in one run.

Chromium is Debian's package (/usr/bin/chromium) driven by Playwright in one reused tab;
it loads the document from our asset origin through a route that serves the packaged
assets from memory, exactly as WeasyPrint's fetcher does. Timed per document: Chromium,
`page.goto` + `page.pdf()`; "engine", our whole path (Jinja, layout, tagged PDF/A-3a with
the payload attached; the engine settled as in a worker); "weasyprint", layout and PDF of
the same HTML through WeasyPrint's public API alone (a renderer of its own with none of
the shortcuts of correspondence/pdf_fast.py, its stylesheet parsed once, tagged, no
PDF/A). Runs are interleaved, in
rotating order; medians and fastest runs are reported. After each Chromium run the loop
waits, untimed, until Chromium's processes have used no CPU for 50 ms (most times they
are still working 50 ms after page.pdf() has returned), so that no path is timed while
they do.

Then the CPU time each path spends per document, which bounds how many documents a
machine renders per second: ours from this thread's CPU clock around each run;
Chromium's from /proc, every Chromium process's CPU time over all its runs (it uses more
than one core at a time), less what those processes use while idle (measured before,
and deducted for the whole loop, which favours Chromium).

    .venv/bin/python bench/chromium.py [--runs 9] [--lines 25] [--only renewal_pack]
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from typing import Any

from playwright.sync_api import Route, sync_playwright
from procs import cpu_seconds, descendants

from correspondence.config import Settings
from correspondence.engine import Engine
from correspondence.kinds import KINDS, Validated
from correspondence.pdf import PdfRenderer, load_assets
from correspondence.render_worker import settle
from correspondence.templating import ASSET_ORIGIN
from tests.factories import sample_with_lines

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
DOCUMENT_URL = ASSET_ORIGIN + "document.html"
IDLE_SECONDS = 5.0


def chromium_cpu() -> float:
    """CPU seconds used so far by every Chromium process this one started."""
    return cpu_seconds(descendants(), "chromium")


def wait_until_chromium_is_quiet(window: float = 0.05, limit: float = 2.0) -> float:
    """Wait until Chromium's processes use no CPU for ``window`` seconds (at most
    ``limit``); the seconds waited."""
    start = time.perf_counter()
    last = chromium_cpu()
    while time.perf_counter() - start < limit:
        time.sleep(window)
        if (now := chromium_cpu()) == last:
            break
        last = now
    return time.perf_counter() - start


def documents(engine: Engine, lines: int) -> dict[str, Validated]:
    chosen = {f"invoice, {lines} lines": engine.validate(sample_with_lines(lines))}
    for kind in ("credit_limit_decision", "claim_decision", "renewal_pack"):
        chosen[kind] = engine.validate(KINDS[kind].sample())
    return chosen


def wanted(name: str, only: list[str]) -> bool:
    """Whether document ``name`` is measured: all of them unless ``--only`` names some."""
    return not only or any(part in name for part in only)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=9)
    parser.add_argument("--lines", type=int, default=25)
    parser.add_argument(
        "--only", action="append", default=[], help="documents whose name contains this"
    )
    args = parser.parse_args()
    engine = Engine(Settings())
    settle(engine)  # warmed and frozen, as in a worker process
    plain = PdfRenderer(shortcuts=False)  # WeasyPrint's public API only
    assets = load_assets()
    served: dict[str, str] = {}

    def route(r: Route) -> None:
        url = r.request.url
        if url == DOCUMENT_URL:
            r.fulfill(body=served["html"], content_type="text/html; charset=utf-8")
        elif url in assets:
            body, mime = assets[url]
            r.fulfill(body=body, content_type=mime)
        else:
            r.abort()

    print(
        f"{args.runs} interleaved runs; ms, median and (in brackets) fastest run: this"
        " machine's noise moves medians by ±15 %; ratio = WeasyPrint / Chromium"
    )
    print(
        f"{'document':<24}{'pages':>6}{'chromium':>16}{'engine':>16}{'weasyprint':>16}"
        f"{'eng/chr':>13}{'wp/chr':>13}"
    )
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        page = browser.new_page()
        page.route("**/*", route)
        served["html"] = "<!DOCTYPE html><title>idle</title>"
        page.goto(DOCUMENT_URL)  # every Chromium process started
        time.sleep(2)  # and done with that page
        idle = chromium_cpu()
        time.sleep(IDLE_SECONDS)
        idle_rate = (chromium_cpu() - idle) / IDLE_SECONDS  # CPU seconds per second
        cpu_rows: list[str] = []
        chosen = documents(engine, args.lines).items()
        for name, validated in [(n, v) for n, v in chosen if wanted(n, args.only)]:
            html = engine.html(validated)  # with its <link>, for Chromium
            bare = engine.html(validated, link_css=False)  # what our renderer lays out

            def chromium(html: str = html) -> int:
                served["html"] = html
                page.goto(DOCUMENT_URL, wait_until="load")
                pdf: Any = page.pdf(format="A4", print_background=True, prefer_css_page_size=True)
                return len(pdf)

            def ours(validated: Validated = validated) -> int:
                return engine.render(validated).pages

            def weasyprint(bare: str = bare) -> int:
                return plain.render(bare, stamp=None, variant=None).pages  # type: ignore[arg-type]

            paths: dict[str, Callable[[], int]] = {
                "chromium": chromium,
                "engine": ours,
                "weasyprint": weasyprint,
            }
            for run in paths.values():
                run()
            times: dict[str, list[float]] = {key: [] for key in paths}
            cpu = dict.fromkeys(paths, 0.0)
            order = list(paths.items())
            loop_start, chromium_start = time.perf_counter(), chromium_cpu()
            waited = 0.0
            for i in range(args.runs):
                for key, run in order[i % 3 :] + order[: i % 3]:  # rotated
                    t0, c0 = time.perf_counter(), time.thread_time()
                    run()
                    times[key].append(time.perf_counter() - t0)
                    cpu[key] += time.thread_time() - c0
                    if key == "chromium":
                        waited += wait_until_chromium_is_quiet()
            time.sleep(0.5)  # what Chromium still does after its last page.pdf()
            busy = chromium_cpu() - chromium_start
            cpu["chromium"] = busy - idle_rate * (time.perf_counter() - loop_start)
            ms = {key: seconds / args.runs * 1000 for key, seconds in cpu.items()}
            cpu_rows.append(
                f"{name:<24}"
                + "".join(f"{ms[key]:>12.1f}" for key in ("chromium", "engine", "weasyprint"))
                + "".join(f"{ms[key] / ms['chromium']:>13.2f}" for key in ("engine", "weasyprint"))
                + f"{waited / args.runs * 1000:>14.0f}"
            )
            m = {key: statistics.median(values) * 1000 for key, values in times.items()}
            f = {key: min(values) * 1000 for key, values in times.items()}

            def cell(text: str, width: int) -> str:
                return f"{text:>{width}}"

            cells = "".join(
                cell(f"{m[key]:.1f} ({f[key]:.1f})", 16)
                for key in ("chromium", "engine", "weasyprint")
            )
            ratios = "".join(
                cell(f"{m[key] / m['chromium']:.2f} ({f[key] / f['chromium']:.2f})", 13)
                for key in ("engine", "weasyprint")
            )
            print(f"{name:<24}{ours():>6}{cells}{ratios}")
        browser.close()
    print(
        f"\nCPU time per document, ms, mean of {args.runs} runs (Chromium: all its processes, less"
        f" their idle {idle_rate * 1000:.1f} ms/s)"
    )
    print(
        f"{'document':<24}{'chromium':>12}{'engine':>12}{'weasyprint':>12}{'eng/chr':>13}{'wp/chr':>13}"
        f"{'quiet after':>14}"
    )
    print(f"{'':<100}(ms waited)")
    print("\n".join(cpu_rows))


if __name__ == "__main__":
    main()
