"""The S3 archive client's own CPU time for an upload, this checkout's against another
checkout's (``--before``, for instance `git worktree add /tmp/before <commit>`), in one
run.

No store: each request is answered ``200`` inside the client, at botocore's
``before-send`` (after it is built, signed and its headers set), so what is measured is
the client's work alone, free of the store's and the network's noise. Each round uploads
``--uploads`` bodies of 35 kB (an invoice's PDF) with each client in turn, on one thread,
and takes its thread CPU time; the order is swapped every round. Printed: the median of
the rounds for each, and their ratio.

    .venv/bin/python bench/history/archive_client.py --before /tmp/before
"""

from __future__ import annotations

import argparse
import importlib.util
import statistics
import time
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

from botocore.awsrequest import AWSResponse

from correspondence.archive import s3

METADATA = {"sha256": "0" * 64, "kind": "premium_invoice", "locale": "es-ES"}


class _Empty:
    """The body of the canned answer."""

    def stream(self, **_: object) -> Iterator[bytes]:
        yield b""


def _answer(request: Any, **_: object) -> AWSResponse:
    return AWSResponse(request.url, 200, {}, _Empty())


def module_of(checkout: Path) -> ModuleType:
    """The other checkout's S3 archive module, loaded from its file."""
    path = checkout / "correspondence" / "archive" / "s3.py"
    spec = importlib.util.spec_from_file_location("before_s3", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def client(module: ModuleType) -> Any:
    archive = module.S3Archive(
        bucket="archive",
        endpoint_url="http://127.0.0.1:9",  # never reached
        region="us-east-1",
        access_key_id="bench",
        secret_access_key="bench",
    )
    archive._client.meta.events.register("before-send.s3.PutObject", _answer)
    return archive


def one_round(archive: Any, uploads: int) -> float:
    """Thread CPU ms an upload."""
    data = b"%PDF" + b"x" * 35_000
    start = time.thread_time()
    for i in range(uploads):
        archive.put(key=f"k/{i}.pdf", data=data, content_type="application/pdf", metadata=METADATA)
    return (time.thread_time() - start) / uploads * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", type=Path, required=True, help="the other checkout")
    parser.add_argument("--uploads", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=10)
    args = parser.parse_args()
    clients = {"after": client(s3), "before": client(module_of(args.before))}
    for archive in clients.values():
        one_round(archive, 50)  # botocore's caches warm
    seen: dict[str, list[float]] = {name: [] for name in clients}
    for number in range(args.rounds):
        order = list(clients) if number % 2 == 0 else list(reversed(clients))
        for name in order:
            seen[name].append(one_round(clients[name], args.uploads))
    after, before = statistics.median(seen["after"]), statistics.median(seen["before"])
    print(f"{args.rounds} rounds of {args.uploads} uploads, thread CPU ms an upload (median):")
    print(f"after {after:.3f}, before {before:.3f}: {after / before:.3f}")


if __name__ == "__main__":
    main()
