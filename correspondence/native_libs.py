"""WeasyPrint's native libraries, opened by the name the dynamic loader knows, with no
library search.

WeasyPrint (70) opens each of its seven native libraries by trying names for every
platform in turn: ``libgobject-2.0-0``, ``gobject-2.0-0``, ``gobject-2.0``, and only
then the Linux soname ``libgobject-2.0.so.0``. cffi hands each name it cannot open to
:func:`ctypes.util.find_library`, which on Linux runs ``ldconfig -p``, then ``gcc``, then
``ld`` in subprocesses to look for it: 22 searches and 54 subprocesses, a third of
a second of every cold start (a CLI render, a render worker started or replaced), all to
fail before the soname that the loader opens at once.

Importing this module imports WeasyPrint with ``find_library`` answering "not found"
without searching, so each library is opened by the first of WeasyPrint's names that the
loader opens: the same files its own search ends on (a test compares the mapped files).
The standard function is put back before this import returns. On a system where some
library opens only through the search, WeasyPrint is imported again the ordinary way.
The modules that import WeasyPrint import this one first.
"""

from __future__ import annotations

import contextlib
import ctypes.util
import io
import sys
from collections.abc import Iterator


def _not_searched(name: str) -> None:
    """``find_library``'s answer for a library it was not asked to search for."""
    return None


@contextlib.contextmanager
def no_library_search() -> Iterator[None]:
    """``ctypes.util.find_library`` finds nothing, without a subprocess, for the block."""
    search = ctypes.util.find_library
    ctypes.util.find_library = _not_searched
    try:
        yield
    finally:
        ctypes.util.find_library = search


def import_weasyprint() -> None:
    """Import WeasyPrint (its native libraries opened by soname) unless it already is."""
    if "weasyprint.text.ffi" in sys.modules:
        return
    try:
        # WeasyPrint prints its installation help to stdout before a failed load.
        with no_library_search(), contextlib.redirect_stdout(io.StringIO()):
            import weasyprint.text.ffi
    except OSError:
        for name in [n for n in sys.modules if n == "weasyprint" or n.startswith("weasyprint.")]:
            del sys.modules[name]
        import weasyprint.text.ffi  # noqa: F401


import_weasyprint()
