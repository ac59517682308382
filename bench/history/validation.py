"""Validating a payload (`correspondence.kinds.validate`) with this checkout's code against
another checkout's, in one run.

The pipeline's mix (`bench/pipeline.py`: invoices, packs and letters) of ``--documents``
payloads is written once to a file; a fresh process of each checkout (``--before``, for
instance `git worktree add /tmp/before 6e57b0f~1`) validates all of them once to warm up,
then ``--rounds`` times, and reports its median time a document. The two checkouts are
alternated ``--alternations`` times, the order swapped each time. Printed: every
process's median, then this checkout's over ``--before``'s.

    .venv/bin/python bench/history/validation.py --before /tmp/before
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # bench/, for the mix
from pipeline import mixed  # isort: skip

HERE = Path(__file__).resolve().parents[2]

ONE_PROCESS = """
import json, statistics, sys, time
sys.path.insert(0, ".")
from correspondence.kinds import validate
payloads = json.load(open(sys.argv[1]))
for payload in payloads:
    validate(payload)
rounds = []
for _ in range(int(sys.argv[2])):
    start = time.process_time()
    for payload in payloads:
        validate(payload)
    rounds.append((time.process_time() - start) / len(payloads) * 1000)
print(statistics.median(rounds))
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--before", type=Path, required=True, help="the other checkout")
    parser.add_argument("--documents", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--alternations", type=int, default=2)
    args = parser.parse_args()
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as file:
        json.dump(mixed(args.documents), file)
    seen: dict[str, list[float]] = {"after": [], "before": []}
    for number in range(args.alternations):
        order = ["after", "before"] if number % 2 == 0 else ["before", "after"]
        for name in order:
            where = HERE if name == "after" else args.before
            out = subprocess.run(
                [sys.executable, "-c", ONE_PROCESS, file.name, str(args.rounds)],
                cwd=where,
                capture_output=True,
                text=True,
                check=True,
            ).stdout
            seen[name].append(float(out))
            print(f"{name} ({where}): {float(out):.3f} ms of CPU a document")
    Path(file.name).unlink()
    after, before = statistics.median(seen["after"]), statistics.median(seen["before"])
    print(f"validate: {after:.3f} against {before:.3f} ms a document: {after / before:.3f}")


if __name__ == "__main__":
    main()
