"""Warm worker processes that render, each supervised by a thread of the parent; they also
check a batch's payloads beside the thread accepting it (:func:`.renderers.spread`).

One per core, from a ``forkserver`` that has imported WeasyPrint, the kinds and the engine.
Each builds one :class:`~correspondence.engine.Engine` when it starts, warms it, freezes it
out of the garbage collector's full collections (:func:`.render_worker.settle`) and keeps
it for ``worker_max_tasks_per_child`` renders (10,000), then is replaced: its resident
memory grew about 0.5 kB a render once warm (bench/README.md, Soak). A worker that dies is
replaced at once.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import pickle
import queue
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from contextlib import suppress
from dataclasses import dataclass
from functools import partial
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from typing import Any, TypeVar

from correspondence import font_folders, metrics, render_worker
from correspondence.config import Settings
from correspondence.engine import Engine, Part, number_ranges, sections
from correspondence.errors import RenderersUnavailable
from correspondence.kinds import KINDS, Validated
from correspondence.renderers import (
    EnginePool,
    Lend,
    Rendered,
    Renderers,
    Slots,
    as_render_error,
    lending,
    spread,
    warm_this_process,
)

# Imported once by the forkserver, so that every worker starts warm. The kinds are
# imported on first use (a cold CLI render needs one), so each is named here.
PRELOAD = [
    "correspondence.engine",
    "correspondence.kinds",
    *(f"correspondence.kinds.{name}" for name in KINDS),
    "correspondence.packs",
    "correspondence.pdf",
    "correspondence.render_worker",
    "correspondence.issuing.checked",  # a batch's items are checked in the workers too
]
START_SECONDS = 120.0  # a worker builds, warms and freezes its engine within this
LOG = logging.getLogger(__name__)
A = TypeVar("A")
T = TypeVar("T")


_SPAWNING = threading.Lock()


class WorkerDied(RenderersUnavailable):
    """The worker process rendering a task stopped before answering (killed, or crashed)."""


@dataclass
class _Task:
    fn: Callable[..., Any]
    args: tuple[Any, ...]
    future: Future[Any]
    render: bool = True  # counted towards worker_max_tasks_per_child (a chunk is not)


class _Worker:
    """One render process and the parent's end of its pipe."""

    def __init__(self, process: BaseProcess, conn: Connection) -> None:
        self.process = process
        self.conn = conn
        self.done = 0

    @property
    def pid(self) -> int:
        return self.process.pid or 0

    def alive(self) -> bool:
        return self.process.is_alive()

    def call(self, task: _Task) -> None:
        """Run ``task`` in this process; :class:`WorkerDied` (its future's too) if it stops."""
        try:
            self.conn.send((task.fn, task.args))
            while not self.conn.poll(0.5):
                if not self.process.is_alive():
                    raise EOFError
            ok, value = self.conn.recv()
        except (EOFError, OSError, BrokenPipeError):
            died = WorkerDied(f"render worker {self.pid} stopped; retry")
            task.future.set_exception(died)
            raise died from None
        self.done += task.render
        (task.future.set_result if ok else task.future.set_exception)(value)

    def stop(self, grace: float) -> None:
        """Ask the process to exit, then make sure it has."""
        with suppress(OSError, ValueError):
            self.conn.send(None)
        self.process.join(grace)
        if self.process.is_alive():
            self.process.kill()
            self.process.join(5)
        self.conn.close()


class ProcessRenderers:
    """``size`` warm worker processes, each owned by one supervising thread of this
    process; at most ``size`` renders in flight, and ``size`` chunks of a batch's checks.

    Not ``ProcessPoolExecutor``: with ``max_tasks_per_child`` CPython 3.11 sometimes fails
    to replace retired workers (gh-115634). Here each slot's thread starts its worker,
    hands it one task at a time, replaces it after ``worker_max_tasks_per_child`` renders
    or as soon as it dies (its task then fails with :class:`WorkerDied`, a 503), and never
    leaves the slot empty for longer than a start: :meth:`alive` counts the workers ready
    now; ``/readyz`` fails while it is 0. A worker exits when this process dies: it
    watches a pipe only this process holds open, and asks for SIGKILL when its parent
    (the forkserver, which exits with us) goes."""

    def __init__(
        self,
        settings: Settings,
        size: int,
        *,
        freeze: bool = True,
        start: Callable[[Settings, bool], None] | None = None,
    ) -> None:
        self._settings = settings
        self.size = size
        self.slots = Slots(size, settings.render_wait_seconds)
        self._spare = threading.Semaphore(size)  # chunks of work lent to the workers
        self._lock = threading.Lock()
        self._local: Engine | None = None
        self._freeze = freeze  # workers settle() when they start; False for the benchmark
        self._start_worker = start or render_worker.start  # a test may inject one that fails
        self._tasks: queue.Queue[_Task | None] = queue.Queue()
        self._threads: list[threading.Thread] = []
        self._workers: dict[int, _Worker] = {}  # slot -> its worker, while ready
        self._closing = threading.Event()
        self._lifeline: Connection | None = None  # we hold the only write end
        self._lifeline_read: Connection | None = None
        self._warmed = threading.Event()
        self.started = 0  # workers started so far (replacements included)
        self.last_start_error = ""

    # -- the pool's life --------------------------------------------------------------------

    def _ensure_started(self) -> None:
        with self._lock:
            if self._threads or self._closing.is_set():
                return
            self._lifeline_read, self._lifeline = multiprocessing.Pipe(duplex=False)
            for slot in range(self.size):
                thread = threading.Thread(
                    target=self._supervise, args=(slot,), name=f"renderer-{slot}", daemon=True
                )
                self._threads.append(thread)
                thread.start()

    def _spawn(self) -> _Worker:
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload(PRELOAD)
        ours, theirs = context.Pipe()
        process = context.Process(
            target=render_worker.main,
            args=(theirs, self._lifeline_read, self._start_worker, self._settings, self._freeze),
            name="correspondence-renderer",
            daemon=True,
        )
        with _SPAWNING:  # multiprocessing's bookkeeping of children is not thread-safe
            process.start()
        theirs.close()
        worker = _Worker(process, ours)
        with self._lock:
            self.started += 1
        deadline = time.monotonic() + START_SECONDS
        try:
            while not ours.poll(0.2):
                gone = self._closing.is_set() or not process.is_alive()
                if gone and not ours.poll(0):  # one that fails says why, then exits
                    raise EOFError("stopped while starting")
                if time.monotonic() > deadline:
                    raise EOFError(f"not ready after {START_SECONDS:g} s")
            ready = ours.recv()
        except (EOFError, OSError) as error:
            worker.stop(0)
            raise WorkerDied(f"a render worker did not start: {error}") from None
        if ready != "ready":
            worker.stop(0)
            raise WorkerDied(f"a render worker did not start: {ready}")
        return worker

    def _supervise(self, slot: int) -> None:
        """The loop of one slot: keep a worker ready, feed it tasks, replace it."""
        worker: _Worker | None = None
        backoff = 0.1
        while True:
            if worker is not None and (
                not worker.alive() or worker.done >= self._settings.worker_max_tasks_per_child
            ):
                self._retire(slot, worker, "recycled" if worker.alive() else "died")
                worker = None
            if worker is None and not self._closing.is_set():
                worker = self._replacement(slot)
                if worker is not None:
                    backoff = 0.1
            try:
                task = self._tasks.get(timeout=0.5 if worker is not None else backoff)
            except queue.Empty:
                if worker is None:
                    backoff = min(backoff * 2, 5.0)
                continue
            if task is None:  # closing
                if worker is not None:
                    self._retire(slot, worker)
                return
            if not task.future.set_running_or_notify_cancel():
                continue
            if worker is not None and not worker.alive():  # died while idle: replace it now
                self._retire(slot, worker, "died")
                worker = self._replacement(slot)
            if worker is None:
                task.future.set_exception(
                    RenderersUnavailable(f"no render worker could start: {self.last_start_error}")
                )
                continue
            try:
                worker.call(task)
            except WorkerDied as error:
                LOG.error("render worker %d: %s", slot, error)
                self._retire(slot, worker, "died")
                worker = None

    def _replacement(self, slot: int) -> _Worker | None:
        """A new ready worker for ``slot``, or None if it could not start."""
        try:
            worker = self._spawn()
        except Exception as error:  # a start that fails is retried, with backoff
            if not self._closing.is_set():
                self.last_start_error = str(error)
                LOG.error("render worker %d: %s", slot, error)
            return None
        with self._lock:
            self._workers[slot] = worker
        return worker

    def _retire(self, slot: int, worker: _Worker, reason: str | None = None) -> None:
        """Stop ``worker``; with a ``reason`` (died, recycled) it is being replaced."""
        if reason is not None:
            metrics.WORKER_RESTARTS.labels(reason=reason).inc()
            LOG.warning("render_worker.restart", extra={"slot": slot, "reason": reason})
        with self._lock:
            if self._workers.get(slot) is worker:
                del self._workers[slot]
        worker.stop(grace=10)
        if reason == "died":  # killed before its shutdown: its font folder is swept now
            font_folders.tidy()

    def submit(self, fn: Callable[..., T], *args: Any, render: bool = True) -> Future[T]:
        """Run ``fn(*args)`` in whichever worker is free first (``fn`` is pickled by name)."""
        self._ensure_started()
        if self._closing.is_set():
            raise RenderersUnavailable("the renderers are shutting down")
        future: Future[T] = Future()
        self._tasks.put(_Task(fn, args, future, render))
        return future

    def alive(self) -> int:
        """How many workers are ready to render now."""
        with self._lock:
            workers = list(self._workers.values())
        return sum(1 for w in workers if w.alive())

    def pids(self) -> list[int]:
        """The process ids of the ready workers."""
        with self._lock:
            return [w.pid for w in self._workers.values()]

    def check(self) -> None:
        """Raise :class:`Unavailable` while no worker is alive (for ``/readyz``)."""
        self._ensure_started()
        if self.alive() == 0:
            detail = f": {self.last_start_error}" if self.last_start_error else " yet"
            raise RenderersUnavailable(f"no render worker is alive{detail}")

    def warm(self, timeout: float = START_SECONDS) -> None:
        """Start every worker now rather than on the first requests, and wait for them
        (each has rendered a document before it says it is ready); meanwhile warm this
        process's validation. :meth:`warmed` is true once both are done."""
        self._ensure_started()
        warm_this_process()
        deadline = time.monotonic() + timeout
        while self.alive() < self.size and time.monotonic() < deadline:
            if self._closing.is_set():
                return
            time.sleep(0.05)
        if self.alive() == self.size:
            self._warmed.set()

    def warmed(self) -> bool:
        """Whether :meth:`warm` saw every worker ready, every kind validated (``/readyz``)."""
        return self._warmed.is_set()

    def frozen_objects(self) -> list[int]:
        """How many objects a worker froze on start, from ``size`` calls (any worker)."""
        futures = [self.submit(render_worker.frozen) for _ in range(self.size)]
        return [future.result() for future in futures]

    def spread(self, fn: Callable[[A], T], chunks: Sequence[A]) -> list[T]:
        """``fn`` of each chunk, in order, here and in the workers (``size`` out at most)."""
        lend: Lend[A, T] = lending(self._spare, partial(self.submit, render=False))
        return spread(fn, chunks, lend if self.alive() else None)

    def render(
        self, validated: Validated, *, locale: str | None = None, draft: bool = False
    ) -> Rendered:
        """Render in a worker process; the caller's thread waits for the result."""
        with self.slots.hold():
            if len(parts := sections(validated, self._settings.section_rows)) > 1:
                return self._render_sections(validated, parts, locale, draft)
            return self.submit(render_worker.render_whole, validated, locale, draft).result()

    def _render_sections(
        self, validated: Validated, parts: list[Part], locale: str | None, draft: bool
    ) -> Rendered:
        """A long document: its sections laid out side by side in the workers, then its
        page numbers, range by range (engine.number_ranges), also side by side; joined
        here with pypdf."""
        # Pickled once here, unpickled once per worker (not once per section).
        shared = render_worker.Shared(
            uuid.uuid4().hex, pickle.dumps(validated, pickle.HIGHEST_PROTOCOL)
        )
        futures = [self.submit(render_worker.render_part, shared, p, locale, draft) for p in parts]
        rendered = [future.result() for future in futures]
        pages = sum(r.pages for r in rendered)
        numbers = [
            self.submit(render_worker.render_numbers, shared, pages, first, last, locale)
            for first, last in number_ranges(pages)
        ]
        engine = self._assembler()
        with as_render_error():
            document = engine.assemble(
                validated, rendered, [n.result() for n in numbers], locale=locale
            )
        return Rendered(document, engine.template_version, engine.template_hash)

    def _assembler(self) -> Engine:
        """An engine in this process, to join sections (pypdf; no layout)."""
        with self._lock:
            if self._local is None:
                self._local = Engine(self._settings)
            return self._local

    def close(self) -> None:
        """Stop the workers: queued tasks fail with :class:`Unavailable`, running ones
        finish (a worker that does not within a few seconds is killed)."""
        self._closing.set()
        with self._lock:
            threads, self._threads = self._threads, []
        while True:  # fail what nobody will take
            try:
                task = self._tasks.get_nowait()
            except queue.Empty:
                break
            if task is not None and task.future.set_running_or_notify_cancel():
                task.future.set_exception(RenderersUnavailable("the renderers are shutting down"))
        for _ in threads:
            self._tasks.put(None)
        for thread in threads:
            thread.join(timeout=30)
        with self._lock:
            leftover, self._workers = list(self._workers.values()), {}
        for worker in leftover:
            worker.stop(grace=0)
        if self._lifeline is not None:
            self._lifeline.close()
            self._lifeline = None


def build_renderers(settings: Settings) -> Renderers:
    """Worker processes by default; in-process engines when ``render_processes`` is 0."""
    cores = os.cpu_count() or 1
    if settings.render_processes == 0:
        return EnginePool(settings, size=cores)
    return ProcessRenderers(settings, size=settings.render_processes or cores)
