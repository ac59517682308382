"""Where PDFs are rendered, and how many at once.

WeasyPrint is CPU-bound and holds the GIL, so threads do not add throughput. The embedded
default is :class:`~correspondence.workers.ProcessRenderers`: warm worker processes, one
per core (``workers.py``; what runs inside them is ``render_worker.py``).

:class:`EnginePool` renders in the calling thread. It is what a Celery worker child uses
(Celery's prefork pool already gives one process per core) and what HTML previews and
emails use everywhere.

Both bound the work in flight: a caller waits at most ``render_wait_seconds`` for a free
renderer, then gets :class:`Unavailable` (503 with Retry-After), so a burst cannot pile up
unbounded work behind the renderers.

Other CPU work can be shared with them in chunks (:meth:`Renderers.spread`: a batch's
payloads are checked so). :class:`EnginePool` does it all in the calling thread; the
worker processes take at most one chunk each, counted for every caller together, so a
render waits behind one chunk (about 30 ms) at most.
"""

from __future__ import annotations

import gc
import queue
import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, wait
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Protocol, TypeVar, cast

from correspondence.config import Settings
from correspondence.engine import Engine, RenderedDocument
from correspondence.errors import (
    CorrespondenceError,
    RenderError,
    RenderersUnavailable,
)
from correspondence.kinds import KINDS, Validated, validate

A = TypeVar("A")
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
            raise RenderersUnavailable(f"every renderer is busy (waited {self.wait:g} s)")
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

    def spread(self, fn: Callable[[A], T], chunks: Sequence[A]) -> list[T]:
        """``fn`` of each chunk, in order: in the calling thread, and where the renderers
        are processes, in those that are free as well (:func:`spread`)."""
        ...

    def close(self) -> None:
        """Release the renderers."""
        ...


def warm_this_process() -> None:
    """Warm the process that validates requests before handing them to the renderers, and
    set aside what it has built.

    Every kind's sample is validated once: the first validation of a kind imports the kind
    (its models), reads the fonts' character maps (which characters free text may use) and
    loads the region tables, some 1.5 s in all, that the first request after ``/readyz``
    would otherwise wait for (bench/first_request.py).

    Then what the process holds (FastAPI, pydantic, SQLAlchemy, the kinds: some 210,000
    objects in the API) is collected once and frozen, as a render worker freezes its own
    (``render_worker.settle``): a full collection walked them all, 130-150 ms with the
    process's requests waiting on it, which set the API's 99th percentile under load
    (bench/api_load.py)."""
    for kind in KINDS.values():
        validate(kind.sample())
    gc.collect()
    gc.freeze()


class EnginePool:
    """At most ``size`` warm engines in this process, leased one per render (WeasyPrint is
    not thread-safe; a ``FontConfiguration`` must not be shared across threads)."""

    def __init__(self, settings: Settings, size: int) -> None:
        self._settings = settings
        self.size = size
        self.slots = Slots(size, settings.render_wait_seconds)
        self._idle: queue.LifoQueue[Engine] = queue.LifoQueue()
        self._warmed = threading.Event()

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
            return render_with(engine, validated, locale, draft)

    def warm(self) -> None:
        """Build and warm every engine now, and this process's validation, rather than on
        the first requests (the API calls it on start)."""
        engines: list[Engine] = []
        while len(engines) < self.size:
            try:
                engine = self._idle.get_nowait()
            except queue.Empty:
                engine = Engine(self._settings)
            engine.warm()
            engines.append(engine)
        for engine in engines:
            self._idle.put(engine)
        warm_this_process()
        self._warmed.set()

    def warmed(self) -> bool:
        """Whether :meth:`warm` has finished (``/readyz`` waits for it)."""
        return self._warmed.is_set()

    def check(self) -> None:
        """Engines in this process are always there."""

    def spread(self, fn: Callable[[A], T], chunks: Sequence[A]) -> list[T]:
        """``fn`` of each chunk, in turn, in the calling thread."""
        return [fn(chunk) for chunk in chunks]

    def close(self) -> None:
        """Nothing to release: the engines go with the process."""


Lend = Callable[[Callable[[A], T], A], "Future[T] | None"]
"""Hands ``fn(chunk)`` to a worker process and returns its future, or ``None`` when no
worker may take one now."""


def spread(fn: Callable[[A], T], chunks: Sequence[A], lend: Lend[A, T] | None) -> list[T]:
    """``fn`` of each chunk, in order, shared between the calling thread and the worker
    processes ``lend`` hands chunks to (``None``: none, all of it here).

    The workers take chunks from the front, as many as ``lend`` allows; this thread takes
    them from the back, and once it has none left, takes back those no worker has started
    rather than wait for them (behind a render, or a worker starting). A chunk whose
    worker fails (it died, or the pool is closing) is done again here, where an error of
    ``fn`` itself is raised as it would be had all of it run here; chunks still out then
    are cancelled."""
    done: list[T | None] = [None] * len(chunks)
    front, back = 0, len(chunks)
    out: dict[int, Future[T]] = {}
    try:
        while front < back or out:
            while front < back and lend is not None:
                if (future := lend(fn, chunks[front])) is None:
                    break
                out[front] = future
                front += 1
            if front < back:
                back -= 1
                done[back] = fn(chunks[back])
            else:
                for index in sorted(out, reverse=True):  # not started: done here instead
                    if out[index].cancel():
                        del out[index]
                        done[index] = fn(chunks[index])
                wait(out.values(), return_when=FIRST_COMPLETED)
            for index, future in [(i, f) for i, f in out.items() if f.done()]:
                del out[index]
                try:
                    done[index] = future.result()
                except Exception:
                    done[index] = fn(chunks[index])
    finally:
        for future in out.values():
            future.cancel()
    return cast(list[T], done)


def lending(spare: threading.Semaphore, submit: Callable[..., Future[T]]) -> Lend[A, T]:
    """A :data:`Lend` over ``submit`` that keeps at most as many chunks out as ``spare``
    counts (shared by every caller, so that a render waits behind one chunk at most),
    and lends none if ``submit`` refuses (the pool is closing)."""

    def lend(fn: Callable[[A], T], chunk: A) -> Future[T] | None:
        if not spare.acquire(blocking=False):
            return None
        try:
            future = submit(fn, chunk)
        except RenderersUnavailable:
            spare.release()
            return None
        future.add_done_callback(lambda _: spare.release())
        return future

    return lend


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


def render_with(engine: Engine, validated: Validated, locale: str | None, draft: bool) -> Rendered:
    document = engine.render(validated, locale=locale, draft=draft)
    return Rendered(document, engine.template_version, engine.template_hash)
