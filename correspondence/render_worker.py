"""What runs inside a render worker process (started by ``workers.ProcessRenderers``):
its engine, its loop of tasks, and the tasks themselves."""

from __future__ import annotations

import ctypes
import gc
import os
import pickle
import signal
import threading
from collections import OrderedDict
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import Any

from correspondence import font_folders
from correspondence.config import Settings
from correspondence.engine import Engine, Part
from correspondence.errors import CorrespondenceError, RenderError
from correspondence.kinds import Validated
from correspondence.pdf import RenderedPdf
from correspondence.renderers import Rendered, render_with

_ENGINE: Engine | None = None


def settle(engine: Engine) -> None:
    """Warm ``engine`` and freeze what this process holds: from here on the garbage
    collector leaves the long-lived objects (WeasyPrint, the parsed stylesheet, the
    templates, Babel's data: some 110,000) out of its full collections, which otherwise
    walk them all, a few times a render (measured in bench/history/gc_freeze.py; figures
    in bench/README.md). Collected first, so no garbage is frozen with them."""
    engine.warm()
    gc.collect()
    gc.freeze()


def die_with_parent(lifeline: Connection) -> None:
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
        font_folders.release_all()
        os._exit(1)

    threading.Thread(target=watch, name="lifeline", daemon=True).start()


PR_SET_PDEATHSIG = 1


def portable(error: BaseException) -> BaseException:
    """``error`` as it can cross the pipe: ours as they are, others as a RenderError."""
    if not isinstance(error, CorrespondenceError):
        error = RenderError(f"{type(error).__name__}: {error}"[:2000])
    try:
        pickle.loads(pickle.dumps(error))  # noqa: S301 - our own bytes
    except Exception:
        return RenderError(f"{type(error).__name__}: {error}"[:2000])
    return error


def main(
    conn: Connection,
    lifeline: Connection,
    start: Callable[[Settings, bool], None],
    settings: Settings,
    freeze: bool,
) -> None:
    """A worker's whole life: start its engine, say so, then one task at a time until
    told to stop (``None``) or its parent is gone. Its font folder goes with it: the
    process ends by ``os._exit``, past ``atexit`` and the folder's finalizer."""
    die_with_parent(lifeline)
    try:
        _serve(conn, start, settings, freeze)
    finally:
        font_folders.release_all()


def _serve(
    conn: Connection, start: Callable[[Settings, bool], None], settings: Settings, freeze: bool
) -> None:
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
            answer = (False, portable(error))
        try:
            conn.send(answer)
        except (EOFError, OSError):
            return
        except Exception as error:  # a result that does not pickle
            conn.send((False, portable(error)))


def start(settings: Settings, freeze: bool) -> None:
    global _ENGINE
    _ENGINE = Engine(settings)
    if freeze:
        settle(_ENGINE)


def frozen() -> int:
    return gc.get_freeze_count()


def ping() -> int:
    return os.getpid()


def _engine() -> Engine:
    assert _ENGINE is not None, "the worker was started without its engine"
    return _ENGINE


def render_whole(validated: Validated, locale: str | None, draft: bool) -> Rendered:
    return render_with(_engine(), validated, locale, draft)


@dataclass(frozen=True)
class Shared:
    """A document sent to the workers once per section, as bytes; each worker unpickles it
    once and keeps the last few."""

    key: str
    blob: bytes


_DOCUMENTS: OrderedDict[str, Validated] = OrderedDict()


def _document(shared: Shared) -> Validated:
    if shared.key not in _DOCUMENTS:
        _DOCUMENTS[shared.key] = pickle.loads(shared.blob)  # noqa: S301 - from our own parent
        while len(_DOCUMENTS) > 2:
            _DOCUMENTS.popitem(last=False)
        # A long invoice is some 150,000 objects that live for all its sections: frozen,
        # the collector stops walking them on every render (bench/README.md, "Long
        # invoices"). Collected first, so no garbage is frozen with them.
        gc.collect()
        gc.freeze()
    return _DOCUMENTS[shared.key]


def render_part(shared: Shared, part: Part, locale: str | None, draft: bool) -> RenderedPdf:
    return _engine().render_part(_document(shared), part, locale=locale, draft=draft)


def render_numbers(shared: Shared, pages: int, first: int, last: int, locale: str | None) -> bytes:
    engine = _engine()
    return engine.page_numbers(_document(shared), pages, first=first, last=last, locale=locale)
