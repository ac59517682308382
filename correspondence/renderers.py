"""Where PDFs are rendered: warm engines in this process, or warm worker processes.

WeasyPrint is CPU-bound and holds the GIL, so threads do not add throughput. The embedded
default is :class:`ProcessRenderers`: one warm worker process per core, started from a
``forkserver`` that has already imported WeasyPrint, the kinds and the engine. Each worker
builds one :class:`~correspondence.engine.Engine` (Jinja environment, font configuration,
preloaded assets) when it starts, warms it and freezes it out of the garbage collector's
full collections (:func:`settle`), and keeps it for ``max_tasks_per_child`` renders, then
is replaced: WeasyPrint's memory grows a few MB per hundred documents.

:class:`EnginePool` renders in the calling thread. It is what a Celery worker child uses
(Celery's prefork pool already gives one process per core) and what HTML previews and
emails use everywhere.

Both bound the work in flight: a caller waits at most ``render_wait_seconds`` for a free
renderer, then gets :class:`Unavailable` (503 with Retry-After), so a burst cannot pile up
unbounded work behind the renderers.
"""

from __future__ import annotations

import gc
import multiprocessing
import os
import pickle
import queue
import threading
import uuid
from collections import OrderedDict
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Protocol

from correspondence.config import Settings
from correspondence.engine import Engine, Part, RenderedDocument, number_ranges, sections
from correspondence.errors import Unavailable
from correspondence.kinds import Validated
from correspondence.pdf import RenderedPdf

# Imported once by the forkserver, so that every worker starts warm.
PRELOAD = ["correspondence.engine", "correspondence.kinds", "correspondence.pdf"]


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
        with self.lease() as engine:
            return _render(engine, validated, locale, draft)

    def close(self) -> None:
        """Nothing to release: the engines go with the process."""


class ProcessRenderers:
    """``size`` warm worker processes; at most ``size`` renders in flight, never a backlog."""

    def __init__(self, settings: Settings, size: int, *, freeze: bool = True) -> None:
        self._settings = settings
        self.size = size
        self.slots = Slots(size, settings.render_wait_seconds)
        self._lock = threading.Lock()
        self._executor: ProcessPoolExecutor | None = None
        self._local: Engine | None = None
        self._freeze = freeze  # workers settle() when they start; False for the benchmark

    def _pool(self) -> ProcessPoolExecutor:
        with self._lock:
            if self._executor is None:
                context = multiprocessing.get_context("forkserver")
                context.set_forkserver_preload(PRELOAD)
                self._executor = ProcessPoolExecutor(
                    max_workers=self.size,
                    mp_context=context,
                    initializer=_start_worker,
                    initargs=(self._settings, self._freeze),
                    max_tasks_per_child=self._settings.worker_max_tasks_per_child,
                )
            return self._executor

    def warm(self) -> None:
        """Start every worker now rather than on the first requests."""
        pool = self._pool()
        for future in [pool.submit(_ping) for _ in range(self.size)]:
            future.result()

    def frozen_objects(self) -> list[int]:
        """What :func:`gc.get_freeze_count` says in ``size`` calls to the workers (each
        taken by whichever worker is free): how many objects a worker froze on start."""
        pool = self._pool()
        return [future.result() for future in [pool.submit(_frozen) for _ in range(self.size)]]

    def render(
        self, validated: Validated, *, locale: str | None = None, draft: bool = False
    ) -> Rendered:
        """Render in a worker process; the caller's thread waits for the result."""
        with self.slots.hold():
            pool = self._pool()
            try:
                if len(parts := sections(validated, self._settings.section_rows)) > 1:
                    return self._render_sections(pool, validated, parts, locale, draft)
                return pool.submit(_render_in_worker, validated, locale, draft).result()
            except BrokenProcessPool:
                self._discard(pool)
                raise Unavailable("a render worker stopped; retry") from None

    def _render_sections(
        self,
        pool: ProcessPoolExecutor,
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
        futures = [pool.submit(_part_in_worker, shared, p, locale, draft) for p in parts]
        rendered = [future.result() for future in futures]
        pages = sum(r.pages for r in rendered)
        numbers = [
            pool.submit(_numbers_in_worker, shared, pages, first, last, locale)
            for first, last in number_ranges(pages)
        ]
        engine = self._assembler()
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

    def _discard(self, pool: ProcessPoolExecutor) -> None:
        with self._lock:
            if self._executor is pool:
                self._executor = None
        pool.shutdown(wait=False, cancel_futures=True)

    def close(self) -> None:
        """Stop the workers."""
        with self._lock:
            pool, self._executor = self._executor, None
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)


def build_renderers(settings: Settings) -> Renderers:
    """Worker processes by default; in-process engines when ``render_processes`` is 0."""
    cores = os.cpu_count() or 1
    if settings.render_processes == 0:
        return EnginePool(settings, size=cores)
    return ProcessRenderers(settings, size=settings.render_processes or cores)


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
