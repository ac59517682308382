"""Peak memory and CPU time of this process and of every process below it, read from
/proc (Linux)."""

from __future__ import annotations

import os
from pathlib import Path


def _status(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) * 1024
    return 0


def descendants(pid: int | None = None) -> list[int]:
    """Every live process below ``pid`` (default: this one)."""
    root = pid or os.getpid()
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            parents[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
    found, frontier = [], [root]
    while frontier:
        current = frontier.pop()
        children = [p for p, parent in parents.items() if parent == current]
        found += children
        frontier += children
    return found


def peak_rss(pid: int) -> int:
    """The highest resident set size ``pid`` has reached (VmHWM), in bytes."""
    return _status(pid, "VmHWM")


def cpu_seconds(pids: list[int], command: str) -> float:
    """User and system CPU time used so far by those of ``pids`` that run ``command``
    (their /proc comm), in seconds; at the kernel's clock-tick resolution (10 ms)."""
    ticks = 0
    for pid in pids:
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
        except OSError:  # gone since it was listed
            continue
        name, rest = stat[stat.index("(") + 1 :].rsplit(")", 1)
        if name == command:
            fields = rest.split()
            ticks += int(fields[11]) + int(fields[12])  # utime, stime
    return ticks / os.sysconf("SC_CLK_TCK")
