"""Every sample in every locale is a tagged PDF (PDF/A-3a with PDF/UA-1's identification)
whose structure tree a screen reader can use: read back here with pikepdf (the tree) and
pdfplumber (the text of each marked-content sequence and where it is on the page), and
with poppler's ``pdfinfo`` (docs/accessibility.md)."""

from __future__ import annotations

import io
import itertools
import re
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cache
from typing import Any

import pdfplumber
import pikepdf
import pytest

from correspondence.config import Settings
from correspondence.engine import Engine, RenderedDocument
from correspondence.formatting import JURISDICTION_TZ, SUPPORTED_LOCALES, Formatter
from correspondence.kinds import validate
from tests.conftest import SAMPLES, flat, in_language, load_sample
from tests.factories import sample_with_lines
from tests.signing_pki import pdfua_report

SAMPLE_NAMES = sorted(p.name for p in SAMPLES.glob("*.json"))
CASES = [(name, locale) for name in SAMPLE_NAMES for locale in SUPPORTED_LOCALES]
BLOCKS = {"/P", "/H1", "/H2", "/H3", "/H4", "/H5", "/H6", "/TH", "/TD", "/LBody", "/Lbl"}


@cache
def _engine() -> Engine:
    return Engine(Settings())


@cache
def rendered(name: str, locale: str, draft: bool = False) -> RenderedDocument:
    payload = in_language(load_sample(name), locale.split("-")[0])
    return _engine().render(validate(payload), locale=locale, draft=draft)


@dataclass
class Node:
    """A structure element as read back: its type, attributes and marked content."""

    s: str
    attrs: dict[str, Any]
    alt: str | None
    lang: str | None
    kids: list[Node] = field(default_factory=list)
    content: list[tuple[int, int]] = field(default_factory=list)  # (page, MCID), in order
    id: str | None = None

    def walk(self) -> Iterator[Node]:
        yield self
        for kid in self.kids:
            yield from kid.walk()

    def marked(self) -> Iterator[tuple[int, int]]:
        """This element's marked content and its descendants', in structure order."""
        yield from self.content
        for kid in self.kids:
            yield from kid.marked()


@dataclass
class Tagged:
    pdf: pikepdf.Pdf
    root: Node
    elements: dict[tuple[int, int], Node]  # objgen → node
    text: dict[tuple[int, int], str]  # (page, MCID) → its text
    boxes: dict[tuple[int, int], tuple[float, float, float, float]]  # x0, top, x1, bottom
    artefact_text: list[str]  # per page
    untagged: list[str]  # text drawn neither as tagged content nor as an artefact
    content_mcids: dict[int, set[int]]  # page → MCIDs in its content stream

    def text_of(self, node: Node) -> str:
        return flat("".join(self.text.get(key, "") for key in node.marked()))


def _read_tree(pdf: pikepdf.Pdf) -> tuple[Node, dict[tuple[int, int], Node]]:
    pages = {page.objgen: n for n, page in enumerate(pdf.pages)}
    elements: dict[tuple[int, int], Node] = {}

    def node(obj: pikepdf.Dictionary, page: int | None) -> Node:
        if "/Pg" in obj:
            page = pages[obj.Pg.objgen]
        attrs: dict[str, Any] = {}
        if "/A" in obj:
            for a in obj.A if isinstance(obj.A, pikepdf.Array) else [obj.A]:
                attrs.update({str(k): v for k, v in a.items()})
        made = Node(
            s=str(obj.S),
            attrs=attrs,
            alt=str(obj.Alt) if "/Alt" in obj else None,
            lang=str(obj.Lang) if "/Lang" in obj else None,
            id=str(obj.ID) if "/ID" in obj else None,
        )
        elements[obj.objgen] = made
        kids = obj.get("/K")
        if kids is None:
            return made
        for kid in kids if isinstance(kids, pikepdf.Array) else [kids]:
            if isinstance(kid, int):
                assert page is not None
                made.content.append((page, int(kid)))
            elif kid.get("/Type") == "/MCR":
                made.content.append((pages[kid.Pg.objgen] if "/Pg" in kid else page, int(kid.MCID)))
            elif kid.get("/Type") == "/OBJR":
                continue  # a link annotation
            else:
                made.kids.append(node(kid, page))
        return made

    tree = pdf.Root.StructTreeRoot
    top = tree.K
    document = node(top[0] if isinstance(top, pikepdf.Array) else top, None)
    return document, elements


def _content_mcids(pdf: pikepdf.Pdf) -> dict[int, set[int]]:
    found: dict[int, set[int]] = {}
    for n, page in enumerate(pdf.pages):
        found[n] = set()
        for operands, operator in pikepdf.parse_content_stream(page):
            properties = operands[1] if str(operator) == "BDC" else None
            if isinstance(properties, pikepdf.Dictionary) and "/MCID" in properties:
                found[n].add(int(properties.MCID))
    return found


@cache
def tagged(data: bytes) -> Tagged:
    pdf = pikepdf.open(io.BytesIO(data))
    root, elements = _read_tree(pdf)
    text: dict[tuple[int, int], str] = {}
    boxes: dict[tuple[int, int], tuple[float, float, float, float]] = {}
    artefacts: list[str] = []
    untagged: list[str] = []
    with pdfplumber.open(io.BytesIO(data)) as plumbed:
        for n, page in enumerate(plumbed.pages):
            drawn: list[str] = []
            for char in page.chars:
                mcid = char.get("mcid")
                if mcid is not None:
                    key = (n, int(mcid))
                    text[key] = text.get(key, "") + char["text"]
                    x0, top, x1, bottom = boxes.get(
                        key, (char["x0"], char["top"], char["x1"], char["bottom"])
                    )
                    boxes[key] = (
                        min(x0, char["x0"]),
                        min(top, char["top"]),
                        max(x1, char["x1"]),
                        max(bottom, char["bottom"]),
                    )
                elif char.get("tag") == "Artifact":
                    drawn.append(char["text"])
                elif char["text"].strip():
                    untagged.append(char["text"])
            artefacts.append(flat("".join(drawn)))
    return Tagged(pdf, root, elements, text, boxes, artefacts, untagged, _content_mcids(pdf))


def check_structure(doc: Tagged, locale: str) -> None:
    """The points of issue 25 that hold for any tagged document of ours."""
    catalog = doc.pdf.Root
    assert catalog.MarkInfo.Marked is True
    assert str(catalog.Lang) == locale
    assert catalog.ViewerPreferences.DisplayDocTitle is True
    meta = doc.pdf.open_metadata()
    assert (meta["pdfaid:part"], meta["pdfaid:conformance"]) == ("3", "A")
    assert meta["pdfuaid:part"] == "1"

    # One tree: every marked-content sequence on every page belongs to exactly one element,
    # the ParentTree names that element, and nothing in the tree points nowhere.
    owners: dict[tuple[int, int], Node] = {}
    for node in doc.root.walk():
        for key in node.content:
            assert key not in owners, f"MCID {key} claimed twice"
            owners[key] = node
    in_content = {(p, m) for p, mcids in doc.content_mcids.items() for m in mcids}
    assert set(owners) == in_content
    parent_tree = pikepdf.NumberTree(catalog.StructTreeRoot.ParentTree)
    for n, page in enumerate(doc.pdf.pages):
        if not doc.content_mcids[n]:
            continue
        mapped = parent_tree[int(page.StructParents)]
        for mcid in doc.content_mcids[n]:
            assert doc.elements[mapped[mcid].objgen] is owners[(n, mcid)]
    # Text that is not tagged content is an artefact: nothing is drawn outside both.
    assert doc.untagged == []
    # The parent tree holds references only: each page's array is an object of its own
    # (so that signing, which appends the widget's entry, need not rewrite them all).
    nums = doc.pdf.Root.StructTreeRoot.ParentTree.Nums
    assert all(nums[i].is_indirect for i in range(1, len(nums), 2))

    nodes = list(doc.root.walk())
    # Headings in order: the first is H1, and none skips a level on the way down.
    levels = [int(node.s[2]) for node in nodes if re.fullmatch(r"/H[1-6]", node.s)]
    assert levels and levels[0] == 1, levels
    for before, after in itertools.pairwise(levels):
        assert after <= before + 1, levels
    # And none is empty (what the pdfua checker's UA-14-001 cannot run to check here).
    assert all(doc.text_of(node) for node in nodes if re.fullmatch(r"/H[1-6]", node.s))

    # Tables: header cells with a scope, every data cell tied to its headers.
    for table in (node for node in nodes if node.s == "/Table"):
        cells = [node for node in table.walk() if node.s in ("/TH", "/TD")]
        heads = {node.id for node in cells if node.s == "/TH"}
        assert heads, f"a table without header cells: {doc.text_of(table)[:80]}"
        for cell in cells:
            if cell.s == "/TH":
                assert cell.attrs.get("/Scope") in ("/Row", "/Column")
            else:
                headers = {str(h) for h in cell.attrs.get("/Headers", [])}
                assert headers and headers <= heads, doc.text_of(cell)[:80]

    # Lists: an L holds list items (or a nested list); an item holds its body.
    for node in nodes:
        if node.s == "/L":
            assert node.kids and {kid.s for kid in node.kids} <= {"/LI", "/L"}
        if node.s == "/LI":
            assert "/LBody" in {kid.s for kid in node.kids}

    # Figures say what they show.
    for node in nodes:
        if node.s == "/Figure":
            assert node.alt and len(node.alt.strip()) > 10

    # Reading order: pages in order, and on a page no later block sits above an earlier
    # one in the same column (horizontal overlap): structure order is visual order.
    keys = [key for key in doc.root.marked() if doc.text.get(key, "").strip()]
    assert [p for p, _ in keys] == sorted(p for p, _ in keys)
    for page in {p for p, _ in keys}:
        on_page = [doc.boxes[key] for key in keys if key[0] == page]
        for i, earlier in enumerate(on_page):
            for later in on_page[i + 1 :]:
                overlap = min(earlier[2], later[2]) - max(earlier[0], later[0])
                if overlap > 1:
                    assert later[1] >= earlier[1] - 1, (page, earlier, later)


@pytest.mark.parametrize(("name", "locale"), CASES)
def test_every_sample_in_every_locale_is_tagged(name: str, locale: str) -> None:
    doc = rendered(name, locale)
    tags = tagged(doc.pdf)
    check_structure(tags, locale)
    # Running footers and page numbers are artefacts, and are not read as content.
    page_word = {"es": "Página", "en": "Page"}[locale[:2]]
    for n, artefact in enumerate(tags.artefact_text, start=1):
        assert f"{page_word} {n} " in artefact
    content = " ".join(tags.text_of(node) for node in tags.root.kids)
    assert f"{page_word} 1 " not in content.replace(f"{page_word} 1 of", "")
    # The company's legal names are Spanish: spoken as Spanish in an English document.
    langs = {node.lang for node in tags.root.walk()} - {None}
    assert langs == ({"es"} if locale.startswith("en") else set())


@pytest.mark.parametrize("locale", SUPPORTED_LOCALES)
def test_the_insurers_name_carries_its_language(locale: str) -> None:
    payload = load_sample("05_credit_limit_decision_partial_es-MX.json")
    doc = tagged(rendered("05_credit_limit_decision_partial_es-MX.json", locale).pdf)
    name = payload["insurer"].get("trade_name") or payload["insurer"]["legal_name"]
    spanish = [doc.text_of(node) for node in doc.root.walk() if node.lang == "es"]
    if locale.startswith("en"):
        assert flat(name) in spanish
    else:
        assert spanish == []


@pytest.mark.parametrize("locale", SUPPORTED_LOCALES)
def test_the_timeline_says_its_dates_in_words(locale: str) -> None:
    name = "04_claim_filing_guide_en-GB.json"
    payload = in_language(load_sample(name), locale.split("-")[0])
    validated = validate(payload)
    doc = tagged(rendered(name, locale).pdf)
    figures = [node for node in doc.root.walk() if node.s == "/Figure"]
    assert len(figures) == 1
    alt = figures[0].alt
    assert alt is not None
    fmt = Formatter(locale, JURISDICTION_TZ[validated.doc.document.jurisdiction])
    points = validated.figures.example.timeline  # type: ignore[attr-defined]
    assert points
    for point in points:
        assert fmt.date_long(point.date) in flat(alt)


@pytest.mark.parametrize("locale", ["es-MX", "en-US"])
def test_the_qr_code_says_what_it_is(locale: str) -> None:
    doc = tagged(rendered("02_premium_invoice_es-MX.json", locale).pdf)
    alts = [node.alt for node in doc.root.walk() if node.s == "/Figure"]
    assert alts == [
        {"es": "Código QR de verificación del SAT", "en": "SAT verification QR code"}[locale[:2]]
    ]


def test_the_draft_watermark_is_an_artefact() -> None:
    name = "05_credit_limit_decision_partial_es-MX.json"
    doc = tagged(rendered(name, "es-MX", draft=True).pdf)
    check_structure(doc, "es-MX")
    assert all("BORRADOR" in page for page in doc.artefact_text)
    assert "BORRADOR" not in doc.text_of(doc.root)


def test_the_letter_subject_is_the_first_heading() -> None:
    doc = tagged(rendered("05_credit_limit_decision_partial_es-MX.json", "es-MX").pdf)
    first = next(node for node in doc.root.walk() if node.s.startswith("/H"))
    assert first.s == "/H1" and doc.text_of(first).startswith("Asunto:")


def test_a_long_invoice_joined_from_sections_keeps_one_structure_tree() -> None:
    engine = Engine(Settings(section_rows=20))
    rendered_long = engine.render(validate(sample_with_lines(70)))
    assert rendered_long.pages >= 5
    doc = tagged(rendered_long.pdf)
    check_structure(doc, "es-MX")
    rows = [
        node
        for node in doc.root.walk()
        if node.s == "/TR" and any(kid.s == "/TD" for kid in node.kids)
    ]
    text = [doc.text_of(row) for row in rows]
    positions = [n for n, t in enumerate(text) if "comprador" in t]
    assert len(positions) == 70  # every line, once, in order
    numbers = [int(m) for t in text for m in re.findall(r"comprador ?(\d{5})", t)]
    assert numbers == list(range(1, 71))
    for n, artefact in enumerate(doc.artefact_text, start=1):
        assert f"Página {n} de {rendered_long.pages}" in artefact


@pytest.mark.parametrize(("name", "locale"), CASES)
def test_pdfinfo_says_tagged(name: str, locale: str, tmp_path: Any) -> None:
    path = tmp_path / "doc.pdf"
    path.write_bytes(rendered(name, locale).pdf)
    info = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True, check=True)
    assert re.search(r"^Tagged:\s+yes$", info.stdout, re.MULTILINE)


@pytest.mark.parametrize(("name", "locale"), CASES)
def test_the_pdfua_checker_finds_nothing(name: str, locale: str, tmp_path: Any) -> None:
    """An independent check: the ``pdfua`` package (pikepdf, no JVM) runs the PDF/UA-1
    rules it implements (12 rules, 16 of the 106 machine-checkable ones that veraPDF's
    profile enumerates: structure tree, MarkInfo, untagged content, languages, figures'
    alternative text, table headers, empty headings, title, identification, annotations'
    descriptions) and finds nothing; no rule is skipped or fails to run."""
    path = tmp_path / "doc.pdf"
    path.write_bytes(rendered(name, locale).pdf)
    report = pdfua_report(path)
    assert report == [], (name, locale)


SPANISH_LAWS = ("Ley 37/1992, art. 20.Uno.16.º", "Ley 13/1996, art. 12")
AMOUNT_IN_WORDS = "Amount in words (in Spanish, as on the CFDI): "


def test_spanish_terms_in_english_texts_carry_their_language() -> None:
    """In every English render: the Spanish laws an invoice cites, and the amount in words
    (Spanish, as on the CFDI), are elements with ``/Lang es``, word for word; the English
    around them is not."""
    seen: set[str] = set()
    for name, locale in CASES:
        if not locale.startswith("en"):
            continue
        doc = tagged(rendered(name, locale).pdf)
        spanish = [doc.text_of(node) for node in doc.root.walk() if node.lang == "es"]
        for paragraph in (node for node in doc.root.walk() if node.s == "/P"):
            text = doc.text_of(paragraph)
            inside = [doc.text_of(n) for n in paragraph.walk() if n.lang == "es"]
            if text.startswith(AMOUNT_IN_WORDS):
                assert flat("".join(inside)) == text.removeprefix(AMOUNT_IN_WORDS), text
                seen.add(AMOUNT_IN_WORDS)
            for law in SPANISH_LAWS:
                if law in text:
                    assert law in inside and law in spanish, (name, locale, text)
                    assert not any("Insurance" in t for t in inside)
                    seen.add(law)
    assert seen == {AMOUNT_IN_WORDS, *SPANISH_LAWS}
