"""Archiving one document (its PDF and its payload) in one piece against botocore's
``Expect: 100-continue`` handshake, in one run.

SeaweedFS (`weed mini` on a fresh folder, every port off its default) on 127.0.0.1; two
:class:`~correspondence.archive.s3.S3Archive` clients on one bucket: the archive as it
ships (uploads under a mebibyte sent in one piece) and the same archive with botocore's
default (every upload waits for ``100 Continue`` before its body). Each round archives
``--documents`` documents with each client in turn, as the service does: a rendered es-ES
invoice and its payload, written at the same time. Printed per document: wall time, the
client's CPU and SeaweedFS's CPU, and the ratios, over the rounds.

    .venv/bin/python bench/history/archive_put.py [--documents 300] [--rounds 4]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from correspondence.archive.s3 import S3Archive, _small_bodies_in_one_piece
from correspondence.config import Settings
from correspondence.kinds import KINDS, validate
from correspondence.renderers import EnginePool

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # bench/, for its servers
from pipeline_parts import make_bucket, process_cpu, seaweedfs  # isort: skip

BUCKET = "bench-archive-put"


def archive(endpoint: str, *, in_one_piece: bool) -> S3Archive:
    client = S3Archive(
        bucket=BUCKET,
        endpoint_url=endpoint,
        region="us-east-1",
        access_key_id="bench",
        secret_access_key="bench",
    )
    if not in_one_piece:  # botocore's default: every upload waits for 100 Continue
        client._client.meta.events.unregister(
            "before-sign.s3.PutObject", _small_bodies_in_one_piece
        )
    return client


def one_round(
    target: S3Archive, prefix: str, pdf: bytes, payload: bytes, documents: int, weed: int
) -> tuple[float, float, float]:
    """(wall, client CPU, SeaweedFS CPU) in ms a document, archiving ``documents``."""
    metadata = {"sha256": "0" * 64, "kind": "premium_invoice", "locale": "es-ES"}
    with ThreadPoolExecutor(1) as beside:  # the payload beside the PDF, as the service does
        weed0, cpu0, t0 = process_cpu(weed), time.process_time(), time.perf_counter()
        for i in range(documents):
            key = f"{prefix}/{i:05d}"
            json_put = beside.submit(
                target.put,
                key=f"{key}.json",
                data=payload,
                content_type="application/json",
                metadata=metadata,
            )
            target.put(
                key=f"{key}.pdf", data=pdf, content_type="application/pdf", metadata=metadata
            )
            json_put.result()
        wall, cpu = time.perf_counter() - t0, time.process_time() - cpu0
        served = process_cpu(weed) - weed0
    return wall / documents * 1000, cpu / documents * 1000, served / documents * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--documents", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=4)
    args = parser.parse_args()
    validated = validate(KINDS["premium_invoice"].sample())
    pdf = EnginePool(Settings(), 1).render(validated).document.pdf
    payload = validated.doc.model_dump_json(indent=2, exclude_unset=True, by_alias=True).encode()
    print(f"one document: a PDF of {len(pdf):,} bytes and a payload of {len(payload):,}")
    with tempfile.TemporaryDirectory() as folder, seaweedfs(Path(folder) / "weed") as served:
        endpoint, weed = served
        make_bucket(endpoint, BUCKET)
        clients = {
            "in one piece": archive(endpoint, in_one_piece=True),
            "100-continue": archive(endpoint, in_one_piece=False),
        }
        for name, client in clients.items():  # connections open, botocore's caches warm
            one_round(client, f"warm/{name}", pdf, payload, 20, weed)
        figures: dict[str, list[tuple[float, float, float]]] = {name: [] for name in clients}
        for round_ in range(args.rounds):
            order = list(clients) if round_ % 2 == 0 else list(reversed(clients))
            for name in order:
                prefix = f"round-{round_}/{name.replace(' ', '-')}"
                figures[name].append(
                    one_round(clients[name], prefix, pdf, payload, args.documents, weed)
                )
        for client in clients.values():
            client.close()
    print(f"{args.rounds} rounds of {args.documents} documents, ms a document (median of rounds):")
    print(f"{'':<16}{'wall':>8}{'client CPU':>12}{'SeaweedFS CPU':>15}")
    medians = {
        name: [statistics.median(r[i] for r in rows) for i in range(3)]
        for name, rows in figures.items()
    }
    for name, (wall, cpu, served) in medians.items():
        print(f"{name:<16}{wall:>8.2f}{cpu:>12.2f}{served:>15.2f}")
    one, cont = medians["in one piece"], medians["100-continue"]
    print(
        f"in one piece / 100-continue: wall {one[0] / cont[0]:.3f},"
        f" client CPU {one[1] / cont[1]:.3f}, SeaweedFS CPU {one[2] / cont[2]:.3f}"
    )


if __name__ == "__main__":
    main()
