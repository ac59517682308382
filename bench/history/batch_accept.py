"""Accepting a batch (`POST /v1/batches`, until its 202) with this checkout's code against
another checkout's, in one run.

PostgreSQL and Redis on 127.0.0.1, started here; two API processes on them, one running
this checkout and one running ``--before`` (for instance `git worktree add /tmp/before
6e57b0f~1`), each with its render processes (the defaults) and no Celery worker, so the
accepted documents wait in the queue. Each round sends a batch of ``--documents`` of
the pipeline's mix (`bench/pipeline.py`) to each API in turn, the order alternated, every
batch with references of its own. Printed per batch: the wall time to the 202 and the CPU
of the API's process tree (its render processes included), then the medians and their
ratios, this checkout over ``--before``.

    .venv/bin/python bench/history/batch_accept.py --before /tmp/before [--rounds 4]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path

import httpx

from correspondence.config import Settings
from tests.servers import postgresql, redis_server, settings_environment

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # bench/, for its servers
from pipeline import mixed  # isort: skip
from pipeline_parts import api_process, create_key, load_average, tree_cpu  # isort: skip

HERE = Path(__file__).resolve().parents[2]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--before", type=Path, required=True, help="the other checkout")
    parser.add_argument("--documents", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=4)
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="bench-accept-"))
    with ExitStack() as stack:
        settings = Settings(
            data_dir=root / "data",
            database_url=stack.enter_context(postgresql()),
            broker_url=stack.enter_context(redis_server()),
            max_queued_documents=10 * args.documents * args.rounds,
        )
        env = {**os.environ, **settings_environment(settings)}
        apis = {
            "after": stack.enter_context(api_process(env, root / "after.log", HERE)),
            "before": stack.enter_context(api_process(env, root / "before.log", args.before)),
        }
        key = create_key(env, "documents:write", "documents:read:all")
        seen: dict[str, list[tuple[float, float]]] = {"after": [], "before": []}
        print(f"load average {load_average()}")
        for number in range(args.rounds):
            order = ["after", "before"] if number % 2 == 0 else ["before", "after"]
            for name in order:
                base, pid = apis[name]
                batch = mixed(args.documents)
                for item in batch:
                    document = item["document"]
                    document["our_reference"] = f"R{number}{name[0]}-{document['our_reference']}"
                with httpx.Client(base_url=base, timeout=600) as http:
                    cpu, start = tree_cpu([pid]), time.perf_counter()
                    answer = http.post(
                        "/v1/batches", json=batch, headers={"Authorization": f"Bearer {key}"}
                    )
                    wall, used = time.perf_counter() - start, tree_cpu([pid]) - cpu
                assert answer.status_code == 202, answer.text
                assert answer.json()["counts"] == {"queued": args.documents}, answer.text
                seen[name].append((wall, used))
                print(f"round {number + 1}, {name}: {wall:.2f} s, API CPU {used:.2f} s")
        print(f"load average {load_average()}")
    median = {n: [statistics.median(x[i] for x in seen[n]) for i in (0, 1)] for n in seen}
    for i, what in enumerate(("wall", "API CPU")):
        after, before = median["after"][i], median["before"][i]
        print(f"{what}: {after:.2f} s against {before:.2f} s (median): {after / before:.3f}")


if __name__ == "__main__":
    main()
