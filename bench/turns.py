"""The render alone, and its turns with the pipeline (bench/pipeline.py).

This machine's speed moves by a quarter within a few minutes, so the render alone is not
measured once before and once after the pipeline but in turns with it: a sixteenth of the
documents alone, the pipeline until an eighth of the batch is issued, the next eighth
alone while the pipeline's Celery workers are paused, and so on, ending with the last
sixteenth alone.
"""

from __future__ import annotations

import gc
import multiprocessing
import os
import signal
import time
from collections.abc import Callable
from typing import Any

from correspondence.config import Settings
from correspondence.kinds import Validated, validate

from pipeline_parts import (  # isort: skip (bench/ is the script's own folder on sys.path)
    STOP_SECONDS,
    children,
    quiet_since,
    tree_cpu,
)


def _render_alone(
    payloads: list[dict[str, Any]], todo: Any, ready: Any, go: Any, done: Any
) -> None:
    from correspondence.render_worker import settle
    from correspondence.renderers import EnginePool
    from correspondence.workers import build_renderers

    # A session of its own, as each Celery worker has: with the kernel's autogroup
    # scheduling, a session is one scheduling group, and on a machine shared with others
    # two processes in one session get half the CPU that two sessions get.
    os.setsid()
    renderers = build_renderers(Settings(render_processes=0))  # as a Celery child does
    assert isinstance(renderers, EnginePool)
    with renderers.lease() as engine:
        settle(engine)
    validated: list[Validated] = [validate(p) for p in payloads]
    # Out of the collector's walks, as a Celery child holds nothing of the documents it
    # has not taken: held and walked, they cost the renders 2-9 % (bench/README.md).
    gc.freeze()
    ready.put(os.getpid())
    while go.get():  # one slice: take documents until its end marker, then wait for the next
        rendered = 0
        while (index := todo.get()) is not None:
            renderers.render(validated[index])
            rendered += 1
        done.put(rendered)


class Alone:
    """Two warm processes that render slices of ``payloads`` on demand, each slice timed
    on its own: the render alone, measured in turns with the pipeline."""

    def __init__(self, payloads: list[dict[str, Any]], processes: int = 2) -> None:
        context = multiprocessing.get_context("spawn")
        self.todo, ready, self.done = context.Queue(), context.Queue(), context.Queue()
        self.go = [context.Queue() for _ in range(processes)]  # one each: a slice's start
        self.workers = [
            context.Process(
                target=_render_alone,
                args=(payloads, self.todo, ready, go, self.done),
                daemon=True,  # gone with the benchmark, even if it fails before close()
            )
            for go in self.go
        ]
        for worker in self.workers:
            worker.start()
        try:
            self.pids = [ready.get(timeout=300) for _ in self.workers]
        except BaseException:
            self.close()
            raise

    def render(self, indices: range) -> tuple[float, float, list[int]]:
        """(seconds, CPU seconds, documents each process took) to render ``indices``."""
        for index in indices:
            self.todo.put(index)
        for _ in self.workers:
            self.todo.put(None)  # each process stops at one and waits for its next go
        cpu0 = tree_cpu(self.pids)
        t0 = time.perf_counter()
        for go in self.go:
            go.put(True)
        counts = [self.done.get(timeout=3600) for _ in self.workers]
        elapsed = time.perf_counter() - t0
        cpu = tree_cpu(self.pids) - cpu0
        assert sum(counts) == len(indices), counts
        return elapsed, cpu, counts

    def close(self) -> None:
        for go in self.go:
            go.put(False)
        for worker in self.workers:
            worker.join(STOP_SECONDS)
            if worker.is_alive():
                worker.kill()
                worker.join()


def slices(documents: int, windows: int) -> list[range]:
    """The render alone's turns around ``windows`` turns of the pipeline: a half turn
    first and last, so that a speed drifting steadily weighs on both sides alike."""
    if windows < 1 or documents < 2 * windows:
        raise SystemExit(f"--windows must be 1 to {documents // 2} for {documents} documents")
    edges = [0] + [round(documents * (2 * i + 1) / (2 * windows)) for i in range(windows)]
    return [range(a, b) for a, b in zip(edges, [*edges[1:], documents], strict=True)]


class Turns:
    """The turns of one run: the pipeline's windows, (seconds, documents issued), and the
    render alone's, (seconds, CPU seconds, documents each process took); and the CPU the
    pipeline's other processes (``watched``) used while the pipeline was paused (from the
    moment its children were found quiet, about a second after they fell quiet, to its
    resumption: the turns before and after the pipeline are not in its time)."""

    def __init__(self, alone: Alone, watched: list[int]) -> None:
        self._alone = alone
        self._watched = watched
        self.windows: list[tuple[float, int]] = []
        self.alones: list[tuple[float, float, list[int]]] = []
        self.paused = 0.0  # seconds the pipeline spent stopped
        self.resumed = 0.0  # when its current window began
        self.issued = 0  # documents issued before it
        self.watched_cpu = 0.0  # CPU seconds of ``watched`` while the pipeline was paused

    def alone(self, indices: range) -> None:
        self.alones.append(self._alone.render(indices))

    def pause(self, mains: list[int], indices: range, issued: Callable[[], int]) -> None:
        """Stop the Celery workers, let their children finish, render ``indices`` alone,
        then let the workers go on."""
        try:
            for pid in mains:
                os.kill(pid, signal.SIGSTOP)
            held = [child for pid in mains for child in children(pid)]
            assert len(held) == len(mains), f"children of the Celery workers: {held}"
            quiet = quiet_since(held)  # the wait for quiet is itself paused time
            before = tree_cpu(self._watched)  # from here on: the services while paused
            now = issued()
            self.windows.append((quiet - self.resumed, now - self.issued))
            self.issued = now
            self.alone(indices)
            assert issued() == now, "a child issued a document while the pipeline was paused"
            self.watched_cpu += tree_cpu(self._watched) - before
        finally:
            for pid in mains:
                os.kill(pid, signal.SIGCONT)  # harmless to one that was never stopped
        self.resumed = time.perf_counter()
        self.paused += self.resumed - quiet

    def steady(self) -> float:
        """The pipeline's windows after the first (which holds the batch's acceptance)
        against the render alone's turns after the first, in documents a second."""
        done = sum(n for _, n in self.windows[1:]) / sum(s for s, _ in self.windows[1:])
        alone = self.alones[1:]
        return done / (sum(sum(c) for _, _, c in alone) / sum(s for s, _, _ in alone))
