"""Pack assembly with pypdf: the only module that imports it.

A renewal pack is laid out by WeasyPrint as one document (one font embedding, pack-wide
page numbers, a contents list resolved by ``target-counter``), so assembly here is
post-processing: PDF page labels that name each component. The document catalogue, its
PDF/A metadata, outline and attachments are kept as WeasyPrint wrote them.

A long invoice is laid out in sections (in parallel, in bounded memory) and joined here:
the first section's catalogue (PDF/A metadata, attachment) is kept, the other sections'
pages are appended, and an overlay of page numbers is drawn over every page.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass

from pypdf import PdfReader, PdfWriter
from pypdf.constants import PageLabelStyle
from pypdf.generic import DictionaryObject


@dataclass(frozen=True)
class Component:
    """A component of a pack: its label and its first page (0-based)."""

    label: str
    first_page: int


def label_components(pdf: bytes, components: Sequence[Component]) -> bytes:
    """Give each component's pages the label ``{label} 1``, ``{label} 2`` …"""
    reader = PdfReader(io.BytesIO(pdf))
    # An incremental update appends the page labels after WeasyPrint's bytes, which stay
    # untouched: no re-encoding, object streams kept, PDF/A metadata as written.
    writer = PdfWriter(reader, incremental=True)
    # Components flow on from one page to the next. The first component that starts on a
    # page names it; one that starts lower on a page already named names the pages after,
    # counting from 2, if it runs on to them.
    total = len(reader.pages)
    ordered = sorted(components, key=lambda c: c.first_page)
    starts = {c.first_page for c in ordered}
    named: dict[int, tuple[int, Component]] = {}  # first page → first number, component
    for component in ordered:
        page = component.first_page
        if page not in named:
            named[page] = (1, component)
        elif page + 1 < total and page + 1 not in starts:
            named[page + 1] = (2, component)
    firsts = sorted(named)
    for n, page in enumerate(firsts):
        number, component = named[page]
        last = firsts[n + 1] - 1 if n + 1 < len(firsts) else total - 1
        writer.set_page_label(
            page, last, style=PageLabelStyle.DECIMAL, prefix=f"{component.label} ", start=number
        )
    _keep_info(writer, reader)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def _keep_info(writer: PdfWriter, reader: PdfReader) -> None:
    """Have the update's trailer name the document information (Title, Author, Subject…).

    pypdf's incremental update writes ``/Info`` into its cross-reference stream only when
    the dictionary changed, and readers such as poppler's ``pdfinfo`` do not look for it
    in the previous trailer: the pack showed no Title, Author or Subject. A copy of the
    dictionary, as a new object, is written and named (the original stays, unnamed)."""
    info = reader.trailer.get("/Info")
    if info is not None:
        writer._info_obj = writer._add_object(DictionaryObject(info.get_object()))


def join_sections(sections: Sequence[bytes], numbers: Sequence[bytes]) -> bytes:
    """The pages of ``sections`` in order, with the overlay pages of ``numbers`` (in order)
    drawn over them."""
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(sections[0])))
    for section in sections[1:]:
        for page in PdfReader(io.BytesIO(section)).pages:
            writer.add_page(page)
    overlay = [page for chunk in numbers for page in PdfReader(io.BytesIO(chunk)).pages]
    if len(overlay) != len(writer.pages):
        raise ValueError(f"{len(overlay)} page numbers for {len(writer.pages)} pages")
    for page, number in zip(writer.pages, overlay, strict=True):
        page.merge_page(number)
        page.compress_content_streams()  # merging leaves the content uncompressed
    writer.compress_identical_objects(remove_duplicates=True, remove_unreferenced=True)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()
