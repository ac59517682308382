"""The structure tree's ``/IDTree`` (ISO 32000-1 table 322: required when structure
elements have ids; WeasyPrint gives one to every table header cell, which data cells name
in ``/Headers``, and writes no IDTree itself): a single render carries one
(``pdf_fast``), and a long invoice laid out in sections and joined (``packs``) carries one
merged tree. Read back with pikepdf: each key once, in order, naming a structure element of
the document's own tree whose ``/ID`` is that key; every element with an id in it; every
``/Headers`` entry a key of it."""

from __future__ import annotations

import io
from typing import Any

import pikepdf
import pytest

from correspondence.config import Settings
from correspondence.engine import Engine
from correspondence.kinds import KINDS
from tests.factories import sample_with_lines


def _elements(pdf: pikepdf.Pdf) -> list[Any]:
    """Every structure element reached from the structure tree's root, once each."""
    seen: dict[tuple[int, int], Any] = {}
    pending = list(pdf.Root.StructTreeRoot.K)
    while pending:
        node = pending.pop()
        if not isinstance(node, pikepdf.Dictionary) or node.get("/Type") in ("/MCR", "/OBJR"):
            continue
        if node.objgen in seen:
            continue
        seen[node.objgen] = node
        kids = node.get("/K")
        pending.extend(kids if isinstance(kids, pikepdf.Array) else [kids] if kids else [])
    return list(seen.values())


def _names(tree: Any) -> list[tuple[str, Any]]:
    out = []
    names = tree.get("/Names", [])
    out.extend((str(names[i]), names[i + 1]) for i in range(0, len(names), 2))
    for kid in tree.get("/Kids", []):
        out.extend(_names(kid))
    return out


def id_tree_problems(data: bytes) -> list[str]:
    pdf = pikepdf.open(io.BytesIO(data))
    elements = _elements(pdf)
    with_id = {str(e.ID): e.objgen for e in elements if "/ID" in e}
    problems = []
    if not with_id:
        return ["no element carries an /ID"]
    tree = pdf.Root.StructTreeRoot.get("/IDTree")
    if tree is None:
        return [f"{len(with_id)} elements with /ID and no /IDTree"]
    entries = _names(tree)
    keys = [key for key, _ in entries]
    if keys != sorted(keys) or len(set(keys)) != len(keys):
        problems.append("IDTree keys not in order or not unique")
    reached = {e.objgen for e in elements}
    for key, value in entries:
        if value.objgen not in reached or value.get("/Type") != "/StructElem":
            problems.append(f"{key}: not a structure element of the tree")
        elif str(value.get("/ID")) != key:
            problems.append(f"{key}: names an element whose /ID is {value.get('/ID')}")
    if set(keys) != set(with_id):
        problems.append(f"ids without an entry: {sorted(set(with_id) - set(keys))[:5]}")
    for element in elements:
        attributes = element.get("/A")
        for header in attributes.get("/Headers", []) if attributes is not None else []:
            if str(header) not in with_id:
                problems.append(f"/Headers names {header}, no element's id")
    return problems


@pytest.fixture(scope="module")
def sectioned() -> Engine:
    return Engine(Settings(section_rows=20))


def test_a_single_render_has_an_id_tree_of_its_table_headers(engine: Engine) -> None:
    for kind in ("renewal_pack", "premium_invoice"):
        rendered = engine.render(engine.validate(KINDS[kind].sample()))
        assert id_tree_problems(rendered.pdf) == [], kind


def test_a_long_invoice_joined_from_sections_has_one_merged_id_tree(sectioned: Engine) -> None:
    rendered = sectioned.render(sectioned.validate(sample_with_lines(70)))
    pdf = pikepdf.open(io.BytesIO(rendered.pdf))
    keys = [key for key, _ in _names(pdf.Root.StructTreeRoot.IDTree)]
    assert any(key.startswith("s3-") for key in keys)  # the fourth section's, prefixed
    assert any(not key.startswith("s") for key in keys)  # the first section's, as they were
    assert id_tree_problems(rendered.pdf) == []


def test_the_check_finds_a_missing_or_wrong_id_tree(engine: Engine) -> None:
    data = engine.render(engine.validate(KINDS["premium_invoice"].sample())).pdf
    pdf = pikepdf.open(io.BytesIO(data))
    names = pdf.Root.StructTreeRoot.IDTree.Names
    names[1], names[3] = names[3], names[1]  # two keys naming each other's element
    out = io.BytesIO()
    pdf.save(out)
    assert len(id_tree_problems(out.getvalue())) == 2
    del pdf.Root.StructTreeRoot["/IDTree"]
    out = io.BytesIO()
    pdf.save(out)
    assert id_tree_problems(out.getvalue())[0].endswith("and no /IDTree")
