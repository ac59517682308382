"""Where PDFs are rendered: warm engines in this process, or warm worker processes.

WeasyPrint is CPU-bound and holds the GIL, so threads do not add throughput. The embedded
default is :class:`ProcessRenderers`: one warm worker process per core, started from a
``forkserver`` that has already imported WeasyPrint, the kinds and the engine, and each
supervised by a thread of ours (not ``ProcessPoolExecutor``, whose recycling can leave it
with no worker at all). Each worker builds one :class:`~correspondence.engine.Engine`
(Jinja environment, font configuration, preloaded assets) when it starts, warms it and
freezes it out of the garbage collector's full collections (:func:`settle`), and keeps it
for ``worker_max_tasks_per_child`` renders, then is replaced: WeasyPrint's memory grows a
few MB per hundred documents. A worker that dies is replaced at once.

:class:`EnginePool` renders in the calling thread. It is what a Celery worker child uses
(Celery's prefork pool already gives one process per core) and what HTML previews and
emails use everywhere.

Both bound the work in flight: a caller waits at most ``render_wait_seconds`` for a free
renderer, then gets :class:`Unavailable` (503 with Retry-After), so a burst cannot pile up
unbounded work behind the renderers.
"""

from __future__ import annotations

import ctypes
import gc
import logging
import multiprocessing
import os
import pickle
import queue
import signal
import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from typing import Any, Protocol, TypeVar

from correspondence.config import Settings
from correspondence.engine import Engine, Part, RenderedDocument, number_ranges, sections
from correspondence.errors import CorrespondenceError, RenderError, Unavailable
from correspondence.kinds import Validated
from correspondence.pdf import RenderedPdf

# Imported once by the forkserver, so that every worker starts warm.
PRELOAD = ["correspondence.engine", "correspondence.kinds", "correspondence.pdf"]
START_SECONDS = 120.0  # a worker builds, warms and freezes its engine within this
LOG = logging.getLogger(__name__)
T = TypeVar("T")


@dataclass(frozen=True)
class Rendered:
    """A rendered document and the templates that made it."""

    document: RenderedDocument
    template_version: str
    template_hash: str


class Slots:
    """At most ``size`` renders in flight. A caller waits at most ``wait`` seconds for a
    slot, then gets :class:`Unavailable`. A thread that holds a slot can render without
    taking another (a synchronous request takes its slot before reserving a number)."""

    def __init__(self, size: int, wait: float) -> None:
        self.wait = wait
        self._free = threading.BoundedSemaphore(size)
        self._held = threading.local()

    def acquire(self, timeout: float) -> bool:
        """Take a slot outside :meth:`hold` (tests use it to fill the renderers)."""
        return self._free.acquire(timeout=timeout)

    def release(self) -> None:
        """Give back a slot taken with :meth:`acquire`."""
        self._free.release()

    @contextmanager
    def hold(self) -> Iterator[None]:
        """Hold a slot in this thread (re-entrant)."""
        depth: int = getattr(self._held, "depth", 0)
        if depth == 0 and not self._free.acquire(timeout=self.wait):
            raise Unavailable(f"every renderer is busy (waited {self.wait:g} s)")
        self._held.depth = depth + 1
        try:
            yield
        finally:
            self._held.depth = depth
            if depth == 0:
                self._free.release()


class Renderers(Protocol):
    """Renders validated documents to PDF, at most ``size`` at a time."""

    size: int
    slots: Slots

    def render(
        self, validated: Validated, *, locale: str | None = None, draft: bool = False
    ) -> Rendered:
        """Render ``validated`` (raises ``Unavailable`` when every renderer stays busy)."""
        ...

    def check(self) -> None:
        """Raise ``Unavailable`` while nothing can render (``/readyz``)."""
        ...

    def close(self) -> None:
        """Release the renderers."""
        ...


class EnginePool:
    """At most ``size`` warm engines in this process, leased one per render (WeasyPrint is
    not thread-safe; a ``FontConfiguration`` must not be shared across threads)."""

    def __init__(self, settings: Settings, size: int) -> None:
        self._settings = settings
        self.size = size
        self.slots = Slots(size, settings.render_wait_seconds)
        self._idle: queue.LifoQueue[Engine] = queue.LifoQueue()

    @contextmanager
    def lease(self) -> Iterator[Engine]:
        """Borrow an engine, building one if none is idle and the pool is not full."""
        with self.slots.hold():
            try:
                engine = self._idle.get_nowait()
            except queue.Empty:
                engine = Engine(self._settings)
            try:
                yield engine
            finally:
                self._idle.put(engine)

    def render(
        self, validated: Validated, *, locale: str | None = None, draft: bool = False
    ) -> Rendered:
        """Render in the calling thread with a leased engine."""
        with self.lease() as engine, as_render_error():
            return _render(engine, validated, locale, draft)

    def check(self) -> None:
        """Engines in this process are always there."""

    def close(self) -> None:
        """Nothing to release: the engines go with the process."""


_SPAWNING = threading.Lock()


class WorkerDied(Unavailable):
    """The worker process rendering a task stopped before answering (killed, or crashed)."""


@dataclass
class _Task:
    fn: Callable[..., Any]
    args: tuple[Any, ...]
    future: Future[Any]


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
        """Run ``task`` in this process and settle its future; raise :class:`WorkerDied`
        if the process stops first (its future then carries the same error)."""
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
        self.done += 1
        if ok:
            task.future.set_result(value)
        else:
            task.future.set_exception(value)

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
    process; at most ``size`` renders in flight, never a backlog.

    We do not use ``ProcessPoolExecutor``: with ``max_tasks_per_child`` CPython 3.11
    sometimes fails to replace retired workers (gh-115634) and the pool ends with none.
    Here each slot's thread starts its worker, hands it one task at a time, replaces it
    after ``worker_max_tasks_per_child`` renders or as soon as it dies (the task it was
    running then fails with :class:`WorkerDied`, a 503), and never leaves the slot empty
    for longer than a start takes: :meth:`alive` counts the workers ready now, and
    ``/readyz`` fails while it is 0. Workers exit when this process dies: each watches a
    pipe only this process holds open, and asks the kernel for SIGKILL when its parent
    (the forkserver, which itself exits with us) goes."""

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
        self._lock = threading.Lock()
        self._local: Engine | None = None
        self._freeze = freeze  # workers settle() when they start; False for the benchmark
        self._start_worker = start or _start_worker  # a test may inject one that fails
        self._tasks: queue.Queue[_Task | None] = queue.Queue()
        self._threads: list[threading.Thread] = []
        self._workers: dict[int, _Worker] = {}  # slot -> its worker, while ready
        self._closing = threading.Event()
        self._lifeline: Connection | None = None  # we hold the only write end
        self._lifeline_read: Connection | None = None
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
            target=_worker_main,
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
                if self._closing.is_set() or not process.is_alive():
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
                self._retire(slot, worker)
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
                self._retire(slot, worker)
                worker = self._replacement(slot)
            if worker is None:
                task.future.set_exception(
                    Unavailable(f"no render worker could start: {self.last_start_error}")
                )
                continue
            try:
                worker.call(task)
            except WorkerDied as error:
                LOG.error("render worker %d: %s", slot, error)
                self._retire(slot, worker)
                worker = None

    def _replacement(self, slot: int) -> _Worker | None:
        """A new ready worker for ``slot``, or None if it could not start."""
        try:
            worker = self._spawn()
        except Exception as error:  # a start that fails is retried, with backoff
            self.last_start_error = str(error)
            LOG.error("render worker %d: %s", slot, error)
            return None
        with self._lock:
            self._workers[slot] = worker
        return worker

    def _retire(self, slot: int, worker: _Worker) -> None:
        with self._lock:
            if self._workers.get(slot) is worker:
                del self._workers[slot]
        worker.stop(grace=10)

    def submit(self, fn: Callable[..., T], *args: Any) -> Future[T]:
        """Run ``fn(*args)`` in whichever worker is free first (``fn`` is pickled by name)."""
        self._ensure_started()
        if self._closing.is_set():
            raise Unavailable("the renderers are shutting down")
        future: Future[T] = Future()
        self._tasks.put(_Task(fn, args, future))
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
            raise Unavailable(f"no render worker is alive{detail}")

    def warm(self, timeout: float = START_SECONDS) -> None:
        """Start every worker now rather than on the first requests, and wait for them."""
        self._ensure_started()
        deadline = time.monotonic() + timeout
        while self.alive() < self.size and time.monotonic() < deadline:
            if self._closing.is_set():
                return
            time.sleep(0.05)

    def frozen_objects(self) -> list[int]:
        """What :func:`gc.get_freeze_count` says in ``size`` calls to the workers (each
        taken by whichever worker is free): how many objects a worker froze on start."""
        return [future.result() for future in [self.submit(_frozen) for _ in range(self.size)]]

    def render(
        self, validated: Validated, *, locale: str | None = None, draft: bool = False
    ) -> Rendered:
        """Render in a worker process; the caller's thread waits for the result."""
        with self.slots.hold():
            if len(parts := sections(validated, self._settings.section_rows)) > 1:
                return self._render_sections(validated, parts, locale, draft)
            return self.submit(_render_in_worker, validated, locale, draft).result()

    def _render_sections(
        self,
        validated: Validated,
        parts: list[Part],
        locale: str | None,
        draft: bool,
    ) -> Rendered:
        """A long document: its sections laid out side by side in the workers, then its
        page numbers, range by range (engine.number_ranges), also side by side; joined
        here with pypdf."""
        # Pickled once here, unpickled once per worker (not once per section).
        shared = _Shared(uuid.uuid4().hex, pickle.dumps(validated, pickle.HIGHEST_PROTOCOL))
        futures = [self.submit(_part_in_worker, shared, p, locale, draft) for p in parts]
        rendered = [future.result() for future in futures]
        pages = sum(r.pages for r in rendered)
        numbers = [
            self.submit(_numbers_in_worker, shared, pages, first, last, locale)
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
                task.future.set_exception(Unavailable("the renderers are shutting down"))
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


@contextmanager
def as_render_error() -> Iterator[None]:
    """Any failure that is not one of ours (a template's ``TypeError``, WeasyPrint's or
    pypdf's own exceptions) becomes a :class:`RenderError` naming it: the render failed
    for a reason in what it was given, and retrying the same payload will not help."""
    try:
        yield
    except CorrespondenceError:
        raise
    except Exception as error:
        raise RenderError(f"{type(error).__name__}: {error}"[:2000]) from error


def _render(engine: Engine, validated: Validated, locale: str | None, draft: bool) -> Rendered:
    document = engine.render(validated, locale=locale, draft=draft)
    return Rendered(document, engine.template_version, engine.template_hash)


# --- inside a worker process --------------------------------------------------------------

_ENGINE: Engine | None = None


def settle(engine: Engine) -> None:
    """Warm ``engine`` and freeze what this process holds: from here on the garbage
    collector leaves the long-lived objects (WeasyPrint, the parsed stylesheet, the
    templates, Babel's data: some 110,000) out of its full collections, which otherwise
    walk them all, a few times a render: 3–6 % of the mean render time and 10–40 % of
    the 95th percentile (bench/history/gc_freeze.py). Collected first, so no garbage is frozen
    with them."""
    engine.warm()
    gc.collect()
    gc.freeze()


def _die_with_parent(lifeline: Connection) -> None:
    """Exit when the process that owns the pool dies, however it dies: the kernel sends
    SIGKILL when our parent (the forkserver, which exits when its owner does) goes, and a
    thread waits on a pipe whose only write end the owner holds, so its end of file
    means the owner is gone."""
    with suppress(OSError, AttributeError):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)

    def watch() -> None:
        with suppress(EOFError, OSError):
            lifeline.recv_bytes()  # nothing is ever sent: this returns at end of file
        os._exit(1)

    threading.Thread(target=watch, name="lifeline", daemon=True).start()


PR_SET_PDEATHSIG = 1


def _portable(error: BaseException) -> BaseException:
    """``error`` as it can cross the pipe: ours as they are, others as a RenderError."""
    if not isinstance(error, CorrespondenceError):
        error = RenderError(f"{type(error).__name__}: {error}"[:2000])
    try:
        pickle.loads(pickle.dumps(error))  # noqa: S301 - our own bytes
    except Exception:
        return RenderError(f"{type(error).__name__}: {error}"[:2000])
    return error


def _worker_main(
    conn: Connection,
    lifeline: Connection,
    start: Callable[[Settings, bool], None],
    settings: Settings,
    freeze: bool,
) -> None:
    """A worker's whole life: start its engine, say so, then one task at a time until
    told to stop (``None``) or its parent is gone."""
    _die_with_parent(lifeline)
    try:
        start(settings, freeze)
    except Exception as error:
        conn.send(f"{type(error).__name__}: {error}")
        return
    conn.send("ready")
    while True:
        try:
            message = conn.recv()
        except (EOFError, OSError):
            return
        if message is None:
            return
        fn, args = message
        try:
            answer: tuple[bool, Any] = (True, fn(*args))
        except Exception as error:
            answer = (False, _portable(error))
        try:
            conn.send(answer)
        except (EOFError, OSError):
            return
        except Exception as error:  # a result that does not pickle
            conn.send((False, _portable(error)))


def _start_worker(settings: Settings, freeze: bool) -> None:
    global _ENGINE
    _ENGINE = Engine(settings)
    if freeze:
        settle(_ENGINE)


def _frozen() -> int:
    return gc.get_freeze_count()


def _ping() -> int:
    return os.getpid()


def _engine() -> Engine:
    assert _ENGINE is not None, "the worker was started without its engine"
    return _ENGINE


def _render_in_worker(validated: Validated, locale: str | None, draft: bool) -> Rendered:
    return _render(_engine(), validated, locale, draft)


@dataclass(frozen=True)
class _Shared:
    """A document sent to the workers once per section, as bytes; each worker unpickles it
    once and keeps the last few."""

    key: str
    blob: bytes


_DOCUMENTS: OrderedDict[str, Validated] = OrderedDict()


def _document(shared: _Shared) -> Validated:
    if shared.key not in _DOCUMENTS:
        _DOCUMENTS[shared.key] = pickle.loads(shared.blob)  # noqa: S301 - from our own parent
        while len(_DOCUMENTS) > 2:
            _DOCUMENTS.popitem(last=False)
        # A long invoice is some 150,000 objects that live for all its sections: frozen,
        # the collector stops walking them on every render (a 250-row section: 1.2-1.5 s
        # → 1.08-1.11 s). Collected first, so no garbage is frozen with them.
        gc.collect()
        gc.freeze()
    return _DOCUMENTS[shared.key]


def _part_in_worker(shared: _Shared, part: Part, locale: str | None, draft: bool) -> RenderedPdf:
    return _engine().render_part(_document(shared), part, locale=locale, draft=draft)


def _numbers_in_worker(
    shared: _Shared, pages: int, first: int, last: int, locale: str | None
) -> bytes:
    engine = _engine()
    return engine.page_numbers(_document(shared), pages, first=first, last=last, locale=locale)
