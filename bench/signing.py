"""What a PAdES signature adds to a document's render (issue 25; target: at most 30 ms).

For each kind that is signed by default, and a long invoice, in one run, interleaved: the
engine's render of the sample (unsigned, as the archive held it before signing), signing
those bytes PAdES B-B, signing them B-T against a timestamp authority on 127.0.0.1 (pyHanko's
DummyTimeStamper behind HTTP, as the tests run it: a real authority's own latency comes on
top), signing B-B with the visible block (its text set in the packaged Noto Sans, embedded
as a subset), and validating the signed PDF as ``GET /v1/verify`` does. Each is timed by the wall
clock and by the CPU time of this thread (which other processes on a busy machine disturb
far less). The ratio is (render + signing) / render.

``--compare`` also times, interleaved in the same run, signing as it was before issue 25's
cost work: pyHanko's own PDF reader (``correspondence/signing_reader.py`` replaces it),
the signing-certificate-v2 attribute built for every signature (``signing.py`` keeps it),
and the visible block set in the whole of Noto Sans (instead of its Windows-1252 cut).

    .venv/bin/python bench/signing.py [--runs 15] [--compare]
"""

from __future__ import annotations

import argparse
import contextlib
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from correspondence import signature_field, signing, signing_reader
from correspondence.config import Settings
from correspondence.engine import Engine
from correspondence.kinds import KINDS
from tests.factories import sample_with_lines
from tests.signing_pki import make_pki, timestamp_authority

TARGET_MS = 30.0


def documents() -> dict[str, dict[str, Any]]:
    out = {kind: KINDS[kind].sample() for kind in Settings().signing_kinds}
    out["premium_invoice, 25 lines"] = sample_with_lines(25)
    out["premium_invoice, 500 lines"] = sample_with_lines(500)
    return out


@contextlib.contextmanager
def as_before() -> Iterator[None]:
    """Signing with pyHanko's own reader, its signing-certificate-v2 attribute built for
    every signature, and the visible block in the whole Noto Sans."""
    from pyhanko.pdf_utils import xref
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.signers import SimpleSigner

    kept_key = signing._classes()[1]
    ours = (
        xref.XRefBuilder._read_xref_stream,
        signing_reader.Reader,
        kept_key._signed_attr_providers,
        signature_field.SMALL_FONT,
    )
    xref.XRefBuilder._read_xref_stream = signing_reader._PYHANKO_READ_XREF_STREAM
    signing_reader.Reader = lambda stream: PdfFileReader(stream, strict=False)  # type: ignore[assignment,misc]
    kept_key._signed_attr_providers = SimpleSigner._signed_attr_providers
    signature_field.SMALL_FONT = signature_field.FONT
    try:
        yield
    finally:
        xref.XRefBuilder._read_xref_stream, signing_reader.Reader = ours[:2]  # type: ignore[method-assign,misc]
        kept_key._signed_attr_providers, signature_field.SMALL_FONT = ours[2:]


def before(fn: Callable[[], object]) -> Callable[[], object]:
    def run() -> object:
        with as_before():
            return fn()

    return run


def timed(fn: Callable[[], object]) -> tuple[float, float]:
    """Wall and thread-CPU milliseconds of one call."""
    wall, cpu = time.perf_counter(), time.thread_time()
    fn()
    return (time.perf_counter() - wall) * 1000, (time.thread_time() - cpu) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--compare", action="store_true", help="also time signing as before")
    args = parser.parse_args()
    engine = Engine(Settings())
    with tempfile.TemporaryDirectory() as folder:
        pki = make_pki(Path(folder))
        with timestamp_authority(pki) as tsa:
            bb = signing.from_settings(Settings(**pki.settings()))
            bt = signing.from_settings(Settings(**pki.settings(tsa_url=tsa.url)))
            box = (36, 24, 236, 64)
            seen = signing.from_settings(Settings(**pki.settings(signing_visible_box=box)))
            assert bb is not None and bt is not None and seen is not None
            print(
                f"{args.runs} runs, medians in ms (wall / thread CPU); ratio = (render + "
                f"signing) / render, on CPU; target: signing adds ≤ {TARGET_MS:g} ms"
            )
            header = (
                "| document | pages | KiB | render | sign B-B | sign B-T | sign B-B visible "
                "| verify | added B-B (CPU) | ratio B-B | ratio B-T | ratio visible |"
            )
            print(header)
            print("|---" * 12 + "|")
            compared: list[tuple[str, dict[str, float]]] = []
            for name, payload in documents().items():
                validated = engine.validate(payload)
                rendered = engine.render(validated)
                pdf = rendered.pdf
                bb.sign(pdf), bt.sign(pdf), seen.sign(pdf)  # warm up
                if args.compare:
                    before(lambda p=pdf: (bb.sign(p), seen.sign(p)))()
                signed = bt.sign(pdf).pdf
                samples: dict[str, list[tuple[float, float]]] = {
                    "render": [],
                    "bb": [],
                    "bt": [],
                    "visible": [],
                    "verify": [],
                    "bb before": [],
                    "visible before": [],
                }
                for _ in range(args.runs):
                    samples["render"].append(timed(lambda v=validated: engine.render(v)))
                    samples["bb"].append(timed(lambda p=pdf: bb.sign(p)))
                    samples["bt"].append(timed(lambda p=pdf: bt.sign(p)))
                    samples["visible"].append(timed(lambda p=pdf: seen.sign(p)))
                    samples["verify"].append(
                        timed(lambda s=signed: signing.check(s, bt.trust_roots))
                    )
                    if args.compare:
                        samples["bb before"].append(timed(before(lambda p=pdf: bb.sign(p))))
                        samples["visible before"].append(timed(before(lambda p=pdf: seen.sign(p))))
                samples = {k: v for k, v in samples.items() if v}
                wall = {k: statistics.median(w for w, _ in v) for k, v in samples.items()}
                cpu = {k: statistics.median(c for _, c in v) for k, v in samples.items()}
                compared.append((name, cpu))

                def cell(key: str, w: dict[str, float] = wall, c: dict[str, float] = cpu) -> str:
                    return f"{w[key]:.1f} / {c[key]:.1f}"

                verdict = "met" if cpu["bb"] <= TARGET_MS else "MISSED"
                print(
                    f"| {name} | {rendered.pages} | {len(pdf) / 1024:.0f} | {cell('render')} "
                    f"| {cell('bb')} | {cell('bt')} | {cell('visible')} | {cell('verify')} "
                    f"| {cpu['bb']:.1f} ({verdict}) "
                    f"| {(cpu['render'] + cpu['bb']) / cpu['render']:.3f} "
                    f"| {(cpu['render'] + cpu['bt']) / cpu['render']:.3f} "
                    f"| {(cpu['render'] + cpu['visible']) / cpu['render']:.3f} |"
                )
            if args.compare:
                print("\nbefore / after, thread CPU ms (the same run, interleaved)")
                print(
                    "| document | sign B-B before | after | after/before "
                    "| visible before | after | after/before |"
                )
                print("|---" * 7 + "|")
                for name, cpu in compared:
                    print(
                        f"| {name} | {cpu['bb before']:.1f} | {cpu['bb']:.1f} "
                        f"| {cpu['bb'] / cpu['bb before']:.2f} | {cpu['visible before']:.1f} "
                        f"| {cpu['visible']:.1f} | {cpu['visible'] / cpu['visible before']:.2f} |"
                    )


if __name__ == "__main__":
    main()
