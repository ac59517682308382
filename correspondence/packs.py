"""Pack assembly with pypdf: the only module that imports it.

A renewal pack is laid out by WeasyPrint as one document (one font embedding, pack-wide
page numbers, a contents list resolved by ``target-counter``), so assembly here is
post-processing: PDF page labels that name each component. The document catalogue, its
PDF/A metadata, outline and attachments are kept as WeasyPrint wrote them.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass

from pypdf import PdfReader, PdfWriter
from pypdf.constants import PageLabelStyle


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
    ordered = sorted(components, key=lambda c: c.first_page)
    total = len(reader.pages)
    for n, component in enumerate(ordered):
        last = ordered[n + 1].first_page - 1 if n + 1 < len(ordered) else total - 1
        writer.set_page_label(
            component.first_page,
            last,
            style=PageLabelStyle.DECIMAL,
            prefix=f"{component.label} ",
            start=1,
        )
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()
