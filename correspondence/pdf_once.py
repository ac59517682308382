"""Work WeasyPrint and pydyf do twice, done once: two of the shortcuts of
:mod:`correspondence.pdf_fast` (:attr:`~correspondence.pdf_fast.Shortcuts.serialize_once`,
:attr:`~correspondence.pdf_fast.Shortcuts.measure_once`), through their private parts.
Each is a context manager that :mod:`correspondence.pdf` enters around a render when the
renderer takes the shortcut; outside one, the patched functions do what they did. Both
give the same PDF bytes (tests/integration/test_pdf_shortcuts.py).
"""

from __future__ import annotations

import sys
from collections import OrderedDict
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from correspondence import native_libs  # noqa: F401  (first: WeasyPrint's libraries by soname)

# isort: split
import pydyf
from weasyprint.layout import preferred

# --- each PDF object serialized once ------------------------------------------------------
#
# pydyf serializes an object whenever its ``data`` is read, and compresses a stream (zlib
# level 9) each time. ``PDF.write`` reads every object's ``data`` to write the file and,
# when the file has an identifier (PDF/A requires one), reads it all again to hash it: the
# identifier is the md5 of every object's serialization. A renewal pack's 29 streams,
# 620 kB before compression, were compressed twice. Within :func:`serialize_once`, the
# serialization of each numbered (indirect) object is kept for the rest of that
# ``PDF.write``, which changes no object while it writes: the second reading is the first's
# bytes, so the file is the same. (An earlier shortcut got there by rewriting pydyf's
# streams in a finisher; this one rewrites nothing.)

_SERIALIZE_ONCE: ContextVar[bool] = ContextVar("serialize_once", default=False)
_SERIALIZED: ContextVar[dict[int, tuple[object, bytes]] | None] = ContextVar(
    "serialized", default=None
)
_write = pydyf.PDF.write


def _serialized_once(data: property) -> property:
    serialize = data.fget
    assert serialize is not None

    def once(self: pydyf.Object) -> bytes:
        kept = _SERIALIZED.get()
        if kept is None or self.number is None:
            return serialize(self)  # type: ignore[no-any-return]
        if (hit := kept.get(id(self))) is None:
            # The object is kept with its bytes: its id cannot be another's meanwhile.
            hit = kept[id(self)] = (self, serialize(self))
        return hit[1]

    return property(once)


def _write_serializing_once(self: pydyf.PDF, *args: Any, **kwargs: Any) -> None:
    if not _SERIALIZE_ONCE.get():
        return _write(self, *args, **kwargs)  # type: ignore[no-any-return]
    token = _SERIALIZED.set({})
    try:
        return _write(self, *args, **kwargs)  # type: ignore[no-any-return]
    finally:
        _SERIALIZED.reset(token)


@contextmanager
def serialize_once(on: bool) -> Iterator[None]:
    """Within this block, a PDF written in this thread serializes each object once if
    ``on`` (:attr:`Shortcuts.serialize_once`)."""
    token = _SERIALIZE_ONCE.set(on)
    try:
        yield
    finally:
        _SERIALIZE_ONCE.reset(token)


for _kind in (pydyf.Dictionary, pydyf.Stream, pydyf.Array, pydyf.String):
    _kind.data = _serialized_once(_kind.data)
pydyf.PDF.write = _write_serializing_once


# --- text measured once ---------------------------------------------------------------------
#
# To size a table's columns, a float or a shrink-to-fit box, WeasyPrint measures the min-
# and max-content widths of its text (``preferred.inline_line_widths``): the text cut at
# every break opportunity, each piece shaped by Pango in a layout of its own (a tenth of a
# renewal pack's CPU time). The same labels, headings and figures are measured in every
# document. What ``preferred`` reads of a measure (the width of the first piece and where
# the next starts) depends only on the text, the arguments, the renderer's fonts and the
# style properties WeasyPrint's text module reads (:data:`TEXT_PROPERTIES`, every
# ``style[…]`` in ``weasyprint/text``): :func:`measuring` keeps them, per renderer, under
# that key (at most :data:`MEASURES_KEPT`, the least recently used dropped first).

TEXT_PROPERTIES = (
    "direction",
    "font_family",
    "font_feature_settings",
    "font_kerning",
    "font_language_override",
    "font_size",
    "font_stretch",
    "font_style",
    "font_variant_alternates",
    "font_variant_caps",
    "font_variant_east_asian",
    "font_variant_ligatures",
    "font_variant_numeric",
    "font_variant_position",
    "font_variation_settings",
    "font_weight",
    "hyphenate_character",
    "hyphenate_limit_chars",
    "hyphenate_limit_zone",
    "hyphens",
    "lang",
    "letter_spacing",
    "line_height",
    "overflow_wrap",
    "tab_size",
    "text_decoration_line",
    "white_space",
    "word_break",
    "word_spacing",
)
MEASURES_KEPT = 4096
MEASURED_TEXT_KEPT = 200
"""Longer texts are measured every time, not kept: for a minimum width WeasyPrint measures
every tail of a text box, so a long paragraph in a table cell would fill the cache with
hundreds of keys (and their characters) that never come back, pushing out the short
labels that do."""

Measures = OrderedDict[tuple[object, ...], tuple[int | None, float]]
_MEASURES: ContextVar[tuple[Measures, dict[int, tuple[Any, str]]] | None] = ContextVar(
    "measures", default=None
)
_split_first_line = preferred.split_first_line


def _measured_once(
    text: str,
    style: Any,
    context: Any,
    max_width: float | None,
    justification_spacing: float,
    is_line_start: bool = True,
    minimum: bool = False,
) -> tuple[Any, ...]:
    measuring = _MEASURES.get()
    args = (max_width, justification_spacing)
    if measuring is None or len(text) > MEASURED_TEXT_KEPT:
        return _split_first_line(  # type: ignore[no-any-return]
            text, style, context, *args, is_line_start=is_line_start, minimum=minimum
        )
    kept, styles = measuring
    if (known := styles.get(id(style))) is None:  # the style kept with it: its id is its own
        looks = sys.intern(str(tuple(style[name] for name in TEXT_PROPERTIES)))  # one copy
        known = styles[id(style)] = (style, looks)
    key = (text, known[1], *args, is_line_start, minimum)
    if (measure := kept.get(key)) is None:
        _, _, resume_at, width, _, _ = _split_first_line(
            text, style, context, *args, is_line_start=is_line_start, minimum=minimum
        )
        measure = kept[key] = (resume_at, width)
        if len(kept) > MEASURES_KEPT:
            kept.popitem(last=False)
    else:
        kept.move_to_end(key)
    return None, None, measure[0], measure[1], None, None  # all that preferred reads


@contextmanager
def measuring(measures: Measures | None) -> Iterator[None]:
    """Within this block, text measured for its preferred widths in this thread is kept
    in and read from ``measures`` (None: measured every time)."""
    token = _MEASURES.set(None if measures is None else (measures, {}))
    try:
        yield
    finally:
        _MEASURES.reset(token)


preferred.split_first_line = _measured_once
