# mypy: disable-error-code="no-untyped-call"
# (pyHanko's reader is not annotated.)
"""pyHanko's PDF reader, made cheap on the large tagged PDFs the engine writes.

A tagged PDF has an object per structure element: a 500-line invoice has some 8,800
objects, nearly all in object streams, listed in one cross-reference stream. pyHanko
reads that stream entry by entry through a generator, a frozen dataclass per entry and a
PDF-object lookup per byte field (some 60 ms for the invoice), and it finds an object
in an object stream by parsing the stream's header from the start at every lookup (the
last page, found by walking every page, costs a header parse per page). Signing needs
neither: it reads the catalog, the last page, the form and the structure tree's root.

:func:`install` replaces, once per process, the one method of pyHanko's
``XRefBuilder`` that reads a cross-reference *stream* with :func:`_read_xref_stream`
(pyHanko builds its ``XRefBuilder`` in a module function: there is no other way in). It
reads in bulk only for this module's :class:`Reader` and hands every other reader to
pyHanko's own method, so pyHanko's validator, in the same process, reads as pyHanko does.
For a :class:`Reader` it fills the same ``XRefSectionData`` (every map and set, the same
values: the tests compare both on our PDFs, signed and unsigned) from the decoded stream,
each column gathered with extended slices and read by the ``array`` module. It keeps
pyHanko's own code for anything it does not handle in the same way (strict mode, an entry
field wider than 8 bytes, an odd ``/Index``, a short stream). :class:`Reader` also splits
each object stream's header once, and reads an object where the header says it starts.

Only :mod:`correspondence.signing` uses this module (and ``bench/signing.py``, to time
pyHanko's own reader against it).
"""

from __future__ import annotations

import array
import functools
import io
import itertools
import sys
from typing import Any

from pyhanko.pdf_utils import generic, misc
from pyhanko.pdf_utils import xref as _xref
from pyhanko.pdf_utils.decode_limits import DecodePurpose
from pyhanko.pdf_utils.reader import PdfFileReader

_PYHANKO_READ_XREF_STREAM = _xref.XRefBuilder._read_xref_stream
_TYPECODES = {1: "B", 2: "H", 4: "I", 8: "Q"}


def install() -> None:
    """Have pyHanko read cross-reference streams with :func:`_read_xref_stream`."""
    _xref.XRefBuilder._read_xref_stream = _read_xref_stream  # type: ignore[method-assign]


def _column(data: bytes, row: int, at: int, width: int, rows: int) -> list[int]:
    """Field ``at``..``at + width`` (big-endian, ``width`` ≤ 8 bytes) of each of ``rows``
    rows ``row`` bytes long: the bytes moved into a zero-filled array of 1-, 2-, 4- or
    8-byte numbers, read by the ``array`` module (no Python code per row)."""
    size = next(size for size in (1, 2, 4, 8) if size >= width)
    wide = bytearray(rows * size)
    for byte in range(width):
        wide[size - width + byte :: size] = data[at + byte : rows * row : row]
    numbers = array.array(_TYPECODES[size], bytes(wide))
    if size > 1 and sys.byteorder == "little":
        numbers.byteswap()
    return numbers.tolist()


@functools.lru_cache(maxsize=1 << 16)
def _in_stream(stream: int, index: int) -> _xref.ObjStreamRef:
    """pyHanko's (frozen, so shareable) marker of an object in an object stream; kept for
    at most 65,536 positions, as each document size numbers its object stream anew."""
    return _xref.ObjStreamRef(stream, index)


def _read_xref_stream(self: Any, declared_startxref: int) -> Any:
    """``XRefBuilder._read_xref_stream``: the same section, read in bulk, for a
    :class:`Reader`; any other reader in the process (pyHanko's validator, for one) keeps
    pyHanko's own code, so that what checks our signatures does not read with ours."""
    if not isinstance(self.handler, Reader):
        return _PYHANKO_READ_XREF_STREAM(self, declared_startxref)
    stream = self.stream
    start_location = stream.tell()
    ref, xref_stream = self._read_xref_stream_object()
    widths = tuple(int(width) for width in xref_stream.get("/W", ()))
    index = [int(n) for n in xref_stream.get("/Index", [0, xref_stream.get("/Size")])]
    rows = sum(index[1::2])
    plain = not self.strict and len(widths) == 3 and widths[1] > 0 and max(widths) <= 8
    plain = plain and len(index) % 2 == 0
    data = b""
    if plain:
        data = xref_stream.read_data(
            DecodePurpose.XREF_STREAM, expected_size=rows * (sum(widths) + 1)
        )
    if not plain or len(data) < rows * sum(widths):
        stream.seek(start_location)
        return _PYHANKO_READ_XREF_STREAM(self, declared_startxref)
    row = sum(widths)
    kinds = _column(data, row, 0, widths[0], rows) if widths[0] else [1] * rows
    first = _column(data, row, widths[0], widths[1], rows)
    second = _column(data, row, row - widths[2], widths[2], rows) if widths[2] else [0] * rows
    subsections = zip(index[::2], index[1::2], strict=True)
    numbers = list(itertools.chain.from_iterable(range(n, n + size) for n, size in subsections))
    packed = [kind == 2 for kind in kinds]  # ISO 32000-1 table 18: in an object stream
    if numbers and numbers[0] == 0:
        packed[0] = False  # object 0 is the head of the free list: pyHanko skips it
    section = _xref.XRefSectionData()
    in_streams = list(itertools.compress(first, packed))
    section.xrefs_in_objstm.update(
        zip(
            itertools.compress(numbers, packed),
            map(_in_stream, in_streams, itertools.compress(second, packed)),
            strict=True,
        )
    )
    section.obj_streams_used.update(in_streams)
    explicit = section.explicit_refs_in_revision
    explicit.update(zip(itertools.compress(numbers, packed), itertools.repeat(0)))
    for i in [i for i, kind in enumerate(kinds) if kind != 2]:
        number, offset, generation = numbers[i], first[i], second[i]
        if number == 0 or kinds[i] not in (0, 1) or generation > 0xFFFF:
            continue
        if kinds[i] == 1:
            section.standard_xrefs[number] = (generation, offset)
            explicit.add((number, generation))
        else:
            section.freed[number] = generation
            explicit.add((number, generation - 1))
    meta = _xref.XRefSectionMetaInfo(
        xref_section_type=_xref.XRefSectionType.STREAM,
        size=int(xref_stream.raw_get("/Size")),
        declared_startxref=declared_startxref,
        start_location=start_location,
        end_location=stream.tell(),
        stream_ref=ref,
    )
    self.sections.append(_xref.XRefSection(meta, section))
    self.trailer.add_trailer_revision(xref_stream)
    return _xref._prev(xref_stream)


class Reader(PdfFileReader):
    """pyHanko's reader, finding an object in an object stream through an index of the
    stream's header made on first use (pyHanko parses the header at every lookup)."""

    def __init__(self, stream: Any, strict: bool = False) -> None:
        install()
        super().__init__(stream, strict=strict)
        self._object_streams: dict[int, tuple[bytes, int, list[bytes]] | None] = {}

    def _header(self, number: int) -> tuple[bytes, int, list[bytes]] | None:
        """Object stream ``number``'s decoded data, where its objects start, and its
        header's numbers (object number, offset, ...), or ``None`` if the header is not
        plain pairs of numbers. Read once; converted only where looked up."""
        if number not in self._object_streams:
            found = None
            stream = generic.Reference(number, 0, self).get_object()
            if isinstance(stream, generic.StreamObject) and stream.get("/Type") == "/ObjStm":
                data = stream.read_data(DecodePurpose.OBJECT_STREAM)
                first, count = int(stream["/First"]), int(stream["/N"])
                numbers = data[:first].split()
                if len(numbers) == 2 * count and all(map(bytes.isdigit, numbers)):
                    found = (data, first, numbers)
            self._object_streams[number] = found
        return self._object_streams[number]

    def _get_object_from_stream(self, idnum: int, stmnum: int, idx: int) -> Any:
        header = None if self.strict else self._header(stmnum)
        if header is None or not 0 <= idx < len(header[2]) // 2:
            return super()._get_object_from_stream(idnum, stmnum, idx)
        decoded, first, numbers = header
        if int(numbers[2 * idx]) != idnum:
            return super()._get_object_from_stream(idnum, stmnum, idx)
        data = io.BytesIO(decoded)
        data.seek(first + int(numbers[2 * idx + 1]))
        try:
            return generic.read_object(data, generic.Reference(idnum, 0, self))
        except (misc.PdfStreamError, misc.PdfReadError):
            return super()._get_object_from_stream(idnum, stmnum, idx)
