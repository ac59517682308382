"""Joining a document rendered in sections, with pypdf: the only module that imports it.

A renewal pack is laid out by WeasyPrint as one document (one font embedding, pack-wide
page numbers and contents written into its layout, page labels naming each component:
correspondence/pdf_fast.py), and needs nothing here.

A long invoice is laid out in sections (in parallel, in bounded memory) and joined here:
the first section's catalogue (PDF/A metadata, attachment) is kept, the other sections'
pages are appended with their structure trees grafted onto the first's (one tagged
document: docs/accessibility.md), and an overlay of page numbers is drawn over every page
as an artefact.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import cast

from pypdf import PageObject, PdfReader, PdfWriter
from pypdf.generic import (
    ArrayObject,
    ContentStream,
    DictionaryObject,
    IndirectObject,
    NameObject,
    NullObject,
    NumberObject,
    TextStringObject,
)


def join_sections(sections: Sequence[bytes], numbers: Sequence[bytes]) -> bytes:
    """The pages of ``sections`` in order, with the overlay pages of ``numbers`` (in order)
    drawn over them as artefacts.

    Each section is a tagged PDF with a structure tree of its own; the joined document
    keeps one (:func:`_graft_structure`): the first section's, with every later section's
    elements appended to its ``Document`` element, their page and annotation keys in the
    ``ParentTree`` moved past the keys already used, and their element ids (which tie
    table cells to their headers) made unique."""
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(sections[0])))
    for index, section in enumerate(sections[1:], start=1):
        reader = PdfReader(io.BytesIO(section))
        for page in reader.pages:
            writer.add_page(page)
        _graft_structure(writer, reader, prefix=f"s{index}-")
    # A page's content is replaced (marked as an artefact) only on a writer's page.
    overlay = [page for chunk in numbers for page in PdfWriter(clone_from=io.BytesIO(chunk)).pages]
    if len(overlay) != len(writer.pages):
        raise ValueError(f"{len(overlay)} page numbers for {len(writer.pages)} pages")
    for page, number in zip(writer.pages, overlay, strict=True):
        page.merge_page(_as_artefact(number))
        page.compress_content_streams()  # merging leaves the content uncompressed
    writer.compress_identical_objects(remove_duplicates=False, remove_unreferenced=True)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def _as_artefact(page: PageObject) -> PageObject:
    """``page`` (an untagged overlay) with its content marked as one artefact."""
    content = page.get_contents()
    if content is not None:
        stream = ContentStream(content, page.pdf)
        stream.operations.insert(0, ([NameObject("/Artifact")], b"BMC"))
        stream.operations.append(([], b"EMC"))
        page.replace_contents(stream)
    return page


def _graft_structure(writer: PdfWriter, reader: PdfReader, *, prefix: str) -> None:
    """Append the structure tree of ``reader`` (whose pages were just added to ``writer``)
    to ``writer``'s."""
    root = writer.root_object.get("/StructTreeRoot")
    source = reader.root_object.get("/StructTreeRoot")
    if root is None or source is None:
        raise ValueError("joining sections needs every section tagged")
    root, source = root.get_object(), source.get_object()
    document = root["/K"][0].get_object()
    nums = root["/ParentTree"].get_object()["/Nums"]
    offset = max(int(key) for key in nums[::2]) + 1 if nums else 0
    kids = source["/K"][0].get_object()["/K"]
    # Element ids are made unique before cloning (cells name their headers by id).
    _prefix_ids(kids, prefix)
    for kid in kids:
        element = kid.get_object()
        element[NameObject("/P")] = NullObject()  # not the section's Document: set below
        cloned = kid.clone(writer)
        cloned.get_object()[NameObject("/P")] = document.indirect_reference
        document["/K"].append(cloned)
    _merge_id_trees(writer, root, source, prefix)
    source_nums = source["/ParentTree"].get_object()["/Nums"]
    for key, value in zip(source_nums[::2], source_nums[1::2], strict=True):
        nums.append(NumberObject(int(key) + offset))
        nums.append(value.clone(writer))
    first = len(writer.pages) - len(reader.pages)
    for page, original in zip(writer.pages[first:], reader.pages, strict=True):
        if "/StructParents" in original:  # pypdf's add_page leaves it out
            key = cast(int, original["/StructParents"]) + offset
            page[NameObject("/StructParents")] = NumberObject(key)
        annotations = cast(ArrayObject, page.get("/Annots", ArrayObject()))
        for annotation in annotations:
            annotation = annotation.get_object()
            if "/StructParent" in annotation:
                key = cast(int, annotation["/StructParent"]) + offset
                annotation[NameObject("/StructParent")] = NumberObject(key)


def _names(tree: object) -> list[tuple[str, IndirectObject]]:
    """The (key, value) pairs of the name tree ``tree``, every node's."""
    out: list[tuple[str, IndirectObject]] = []
    pending = [cast(DictionaryObject, tree)]
    while pending:
        node = pending.pop()
        names = cast(ArrayObject, node.get("/Names", ArrayObject()))
        out.extend(
            (str(key), cast(IndirectObject, value))
            for key, value in zip(names[::2], names[1::2], strict=True)
        )
        pending.extend(kid.get_object() for kid in cast(ArrayObject, node.get("/Kids", ())))
    return out


def _merge_id_trees(
    writer: PdfWriter, root: DictionaryObject, source: DictionaryObject, prefix: str
) -> None:
    """``root``'s ``/IDTree`` with the entries of ``source``'s added, their keys prefixed
    as :func:`_prefix_ids` prefixes the elements' ids, their values the elements cloned
    into ``writer``: one name tree node, its keys in order and each once."""
    if "/IDTree" not in source:
        return
    entries = dict(_names(root["/IDTree"].get_object())) if "/IDTree" in root else {}
    for key, value in _names(source["/IDTree"].get_object()):
        if prefix + key in entries:
            raise ValueError(f"element id {prefix + key} twice in the joined document")
        entries[prefix + key] = value.clone(writer)
    tree = DictionaryObject(
        {
            NameObject("/Names"): ArrayObject(
                item
                for key in sorted(entries)  # ids are ASCII: the order of their bytes
                for item in (TextStringObject(key), entries[key])
            )
        }
    )
    root[NameObject("/IDTree")] = tree


def _prefix_ids(kids: ArrayObject, prefix: str) -> None:
    """Prefix every element id (``/ID``) and every reference to one (a cell's
    ``/Headers``) under ``kids``."""
    pending = [kid.get_object() for kid in kids if isinstance(kid.get_object(), DictionaryObject)]
    while pending:
        element = pending.pop()
        if "/ID" in element:
            element[NameObject("/ID")] = TextStringObject(prefix + str(element["/ID"]))
        attributes = element.get("/A")
        if isinstance(attributes, DictionaryObject) and "/Headers" in attributes:
            attributes[NameObject("/Headers")] = ArrayObject(
                TextStringObject(prefix + str(h)) for h in cast(ArrayObject, attributes["/Headers"])
            )
        children = element.get("/K")
        for child in children if isinstance(children, ArrayObject) else [children]:
            if child is not None:
                child = child.get_object()
                if isinstance(child, DictionaryObject) and "/S" in child:
                    pending.append(child)
