"""A cold `correspondence render` of a letter against a cold plain WeasyPrint process
rendering the same HTML, both fresh processes, interleaved in rotating order.

"Ours" is the command a user types: `correspondence render letter.json -o letter.pdf`
(arguments parsed, settings read, payload validated and its figures computed, the
template rendered, a PDF/A-3b with the payload attached written). "Plain" is a fresh
`python -c` that imports WeasyPrint and writes `HTML(filename=…).write_pdf()` of the exact
HTML our engine produces for that letter, its assets read from the package folder, with
WeasyPrint's defaults. Also timed, fresh each time: `correspondence --help`, and a bare
`python -c pass` (the interpreter's own start).

Every process writes and reads its bytecode in a cache of this run (the environment's
PYTHONDONTWRITEBYTECODE is dropped for the children, PYTHONPYCACHEPREFIX points at a
temporary folder); each path runs once untimed first, so that every timed run finds its
bytecode compiled and its files in the page cache, as a deployed command would. Wall
time, and the child's CPU time (user + system, from `getrusage`), medians.

    .venv/bin/python bench/cold.py [--runs 9] [--kind credit_limit_decision]
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from correspondence.config import Settings
from correspondence.engine import Engine
from correspondence.kinds import KINDS, SAMPLES_DIR
from correspondence.pdf import ASSETS_DIR

BIN = Path(sys.executable).parent
PLAIN = (
    "import sys\nfrom weasyprint import HTML\nHTML(filename=sys.argv[1]).write_pdf(sys.argv[2])\n"
)


def timed(command: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Wall and CPU seconds of one fresh process running ``command`` to completion."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    subprocess.run(command, env=env, check=True, stdout=subprocess.DEVNULL)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=9)
    parser.add_argument("--kind", default="credit_limit_decision", choices=sorted(KINDS))
    args = parser.parse_args()

    engine = Engine(Settings())
    payload = SAMPLES_DIR / KINDS[args.kind].sample_file
    html = engine.html(
        engine.validate(KINDS[args.kind].sample()), asset_base=ASSETS_DIR.as_uri() + "/"
    )
    with tempfile.TemporaryDirectory(prefix="cold-") as tmp:
        work = Path(tmp)
        (work / "letter.html").write_text(html, "utf-8")
        env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
        env["PYTHONPYCACHEPREFIX"] = str(work / "pycache")
        commands = {
            "ours": [
                str(BIN / "correspondence"),
                "render",
                str(payload),
                "-o",
                str(work / "ours.pdf"),
            ],
            "plain": [
                sys.executable,
                "-c",
                PLAIN,
                str(work / "letter.html"),
                str(work / "plain.pdf"),
            ],
            "help": [str(BIN / "correspondence"), "--help"],
            "python": [sys.executable, "-c", "pass"],
        }
        for command in commands.values():  # bytecode compiled, files in the page cache
            timed(command, env)
        walls: dict[str, list[float]] = {name: [] for name in commands}
        cpus: dict[str, list[float]] = {name: [] for name in commands}
        names = list(commands)
        for run in range(args.runs):
            order = names[run % len(names) :] + names[: run % len(names)]
            for name in order:
                wall, cpu = timed(commands[name], env)
                walls[name].append(wall)
                cpus[name].append(cpu)
    load = os.getloadavg()
    print(f"{args.kind}: {args.runs} interleaved runs per path, fresh processes; medians in ms")
    print(f"load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} on {os.cpu_count()} cores")
    print(f"{'path':<10}{'wall':>9}{'CPU':>9}{'fastest':>9}")
    wall = {name: statistics.median(values) for name, values in walls.items()}
    cpu = {name: statistics.median(values) for name, values in cpus.items()}
    for name in commands:
        fastest = min(walls[name])
        print(f"{name:<10}{wall[name] * 1000:>9.0f}{cpu[name] * 1000:>9.0f}{fastest * 1000:>9.0f}")
    print(
        f"render ours / plain: wall {wall['ours'] / wall['plain']:.2f}, "
        f"CPU {cpu['ours'] / cpu['plain']:.2f} (target <= 1.1)"
    )
    print(f"--help: {wall['help'] * 1000:.0f} ms wall (target <= 300 ms)")


if __name__ == "__main__":
    main()
