"""Every use of WeasyPrint's private parts, behind one switch.

``pdf.py`` renders through WeasyPrint's public API (``HTML(string=…)``, ``render``,
``write_pdf``) unless a :class:`Shortcuts` says otherwise; the shortcut here leans on what
WeasyPrint does inside, not on what it documents:

* :attr:`Shortcuts.user_agent` replaces WeasyPrint's user-agent stylesheet (overriding
  ``HTML._ua_stylesheets``) with a copy of its ``html5_ua.css`` less the universal rules
  for pseudo-elements our documents never have: each made WeasyPrint compute a style of
  its own for every element.
* :attr:`Shortcuts.running_once` keeps WeasyPrint from laying a page out again because it
  places a running element (:func:`correspondence.pdf_numbers.running_once`).
* :attr:`Shortcuts.serialize_once` has pydyf serialize (and compress) each PDF object
  once per file written, not twice (:func:`correspondence.pdf_once.serialize_once`).
* :attr:`Shortcuts.measure_once` keeps the min- and max-content widths of text measured
  in one render for the next renders of the same renderer
  (:func:`correspondence.pdf_once.measuring`).

It gives the same PDF bytes as WeasyPrint's public API (tests/integration/
test_pdf_shortcuts.py); ``bench/shortcuts.py`` measures what it saves. The settings'
``pdf_shortcuts`` (``CORRESPONDENCE_PDF_SHORTCUTS=off``) turns it off: the escape hatch
when an upgrade of WeasyPrint breaks it. The versions are pinned in ``pyproject.toml``.
Two other shortcuts, markup parsed by expat (skipping ``HTML.__init__``) and a finisher
that compressed each stream of a PDF/A file once (rewriting pydyf's streams), did not
clearly pay for themselves when measured again and were removed (bench/README.md).

Tests and benchmarks count page layouts from WeasyPrint's progress log, whose text is not
an API either: :func:`page_layouts` is the one place that reads it.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from functools import cache
from importlib.resources import files
from typing import Any

from correspondence import native_libs  # noqa: F401  (first: WeasyPrint's libraries by soname)

# isort: split
import pydyf
import weasyprint.css
import weasyprint.pdf
from weasyprint import CSS, HTML
from weasyprint.css.counters import CounterStyle
from weasyprint.formatting_structure import boxes
from weasyprint.layout.absolute import AbsolutePlaceholder
from weasyprint.pdf import stream as pdf_stream
from weasyprint.pdf import tags as pdf_tags
from weasyprint.urls import URLFetcher


@dataclass(frozen=True)
class Shortcuts:
    """Which shortcuts a renderer takes (all by default; see the module's docstring)."""

    user_agent: bool = True
    running_once: bool = True
    serialize_once: bool = True
    measure_once: bool = True

    @property
    def own_document(self) -> bool:
        """Whether the HTML document is built here (:func:`html_document`), not by
        ``HTML(string=…)``."""
        return self.user_agent


ALL = Shortcuts()
NONE = Shortcuts(user_agent=False, running_once=False, serialize_once=False, measure_once=False)


# --- the trimmed user-agent stylesheet ------------------------------------------------------

# WeasyPrint's user-agent rules that give every element six pseudo-elements, each with a
# computed style of its own: list markers, footnotes and notes. Our documents have markers
# on list items only, and no footnotes or notes.
_UNIVERSAL_PSEUDO = {
    "::marker {": ":is(li, summary)::marker {",
    "::footnote-call {": None,
    "::footnote-marker {": None,
    "::note-call {": None,
    "::note-marker {": None,
    "::note-callback {": None,
}


def user_agent_stylesheet(rules: Mapping[str, str | None] = _UNIVERSAL_PSEUDO) -> str:
    """WeasyPrint's user-agent stylesheet with markers on list items only, and without
    the footnote and note pseudo-elements. A rule that is not found raises, so a
    WeasyPrint upgrade cannot drop this silently."""
    text = (files(weasyprint.css) / "html5_ua.css").read_text("utf-8")
    for start, replacement in rules.items():
        rule = re.compile(rf"^{re.escape(start)}[^\n]*\n", re.MULTILINE)
        if len(rule.findall(text)) != 1:
            raise RuntimeError(f"WeasyPrint's user-agent stylesheet has no one {start!r} rule")
        text = rule.sub("", text) if replacement is None else text.replace(start, replacement)
    return text


@cache
def trimmed_user_agent() -> CSS:
    """:func:`user_agent_stylesheet`, parsed once per process (on first use)."""
    # Its counter styles are WeasyPrint's own, already registered: parse into a scratch set.
    return CSS(string=user_agent_stylesheet(), counter_style=CounterStyle())


class _Html(HTML):  # type: ignore[misc]
    """WeasyPrint's HTML document, parsed by ``HTML.__init__``, with the user-agent
    stylesheet we give."""

    def __init__(self, markup: str, *, base_url: str, url_fetcher: URLFetcher) -> None:
        super().__init__(string=markup, base_url=base_url, url_fetcher=url_fetcher)
        self._user_agent = [trimmed_user_agent()]

    def _ua_stylesheets(self, forms: bool = False) -> list[CSS]:
        # No <form> is ever rendered: our templates have none, and request data never
        # becomes markup.
        return list(self._user_agent)


def html_document(markup: str, *, base_url: str, url_fetcher: URLFetcher) -> HTML:
    """The document to render with the trimmed user-agent stylesheet (for
    :attr:`Shortcuts.own_document`)."""
    return _Html(markup, base_url=base_url, url_fetcher=url_fetcher)


# --- WeasyPrint's progress log --------------------------------------------------------------

PROGRESS_LOGGER = "weasyprint.progress"
_PAGE_LAYOUT = "Step 5 - Creating layout - Page %d"


def page_layouts(records: Sequence[logging.LogRecord]) -> list[int]:
    """The pages WeasyPrint laid out, in order, from its progress log (captured at INFO on
    :data:`PROGRESS_LOGGER`); a page laid out again appears again."""
    return [
        int(r.args[0])  # type: ignore[call-overload]
        for r in records
        if r.msg == _PAGE_LAYOUT and isinstance(r.args, tuple)
    ]


# --- tagging (PDF/UA) -----------------------------------------------------------------------
#
# WeasyPrint 70 writes a structure tree for tagged variants (``pdf/a-3a``, ``pdf/ua-*``),
# but it leaves five things for us to finish, all in its private parts:
#
# * text in margin boxes (our running footer, page numbers) is marked as ``/Span`` content
#   with an MCID whose structure element is not in the tree; and an element the reader must
#   skip (``aria-hidden="true"``: the draft watermark) or that shows nothing
#   (``visibility: hidden``) is tagged like any other;
# * a ``lang`` attribute below the root is not written as the element's ``/Lang``;
# * a ``<th>``'s ``scope`` decides which cells it heads, but no ``/Scope`` is written;
# * a block that reads as a heading (``role="heading" aria-level="N"``: a letter's subject)
#   is tagged by its HTML tag, and so is a heading whose role is taken away
#   (``role="none"``: the label of the contact panel);
# * the parent tree holds each page's MCID-to-element array inline, so that it is one
#   object as large as the document's marked content (13,000 references in a 500-line
#   invoice), which whoever appends to it must read and write whole: the signature's
#   widget (correspondence/signature_field.py). Each page's array is its own object.
#
# :func:`tagging` wraps ``Stream.marked`` (content becomes ``/Artifact`` marked content)
# and ``tags._build_box_tree`` (no structure for artefacts; ``/Lang``, ``/Scope`` and
# heading levels added), and ``add_tags`` (the page arrays), for the documents it is
# given. Unlike the shortcut above this is not optional: without it a tagged PDF is not a
# valid PDF/UA document. Tests read every
# point back with pikepdf (tests/integration/test_tagging.py); docs/accessibility.md.

_ARTEFACTS: ContextVar[frozenset[int] | None] = ContextVar("artefacts", default=None)
_HEADING_TAGS = {f"{n}" for n in range(1, 7)}
_HEADINGS = {f"/H{n}" for n in range(1, 7)}


def _hidden_elements(root: Any) -> set[int]:
    """The ids of every element in a subtree marked ``aria-hidden="true"``."""
    hidden: set[int] = set()
    for element in root.iter():
        if element.get("aria-hidden") == "true":
            hidden.update(id(e) for e in element.iter())
    return hidden


def _shows_nothing(box: Any) -> bool:
    """Whether ``box`` is hidden (``visibility``) and shows no descendant either."""
    if box.style["visibility"] == "visible":
        return False
    return all(_shows_nothing(child) for child in getattr(box, "children", ()))


def _artefact_boxes(pages: Sequence[Any], root: Any) -> frozenset[int]:
    """The ids of the boxes drawn as artefacts: everything in a margin box (running
    footers, page numbers), every box of an ``aria-hidden`` element, and every box that
    shows nothing (``visibility: hidden``: a pack's hidden section title, kept for its
    bookmark, would be an empty heading)."""
    hidden = _hidden_elements(root)
    found: set[int] = set()

    def walk(box: Any, inside: bool) -> None:
        if isinstance(box, AbsolutePlaceholder):
            box = box._box
        inside = inside or isinstance(box, boxes.MarginBox)
        inside = inside or (box.element is not None and id(box.element) in hidden)
        inside = inside or _shows_nothing(box)
        if inside:
            found.add(id(box))
        for child in getattr(box, "children", ()):
            walk(child, inside)

    for page in pages:
        walk(page._page_box, False)
    return frozenset(found)


@contextmanager
def tagging(document: Any, html: HTML) -> Iterator[None]:
    """Within this block, :meth:`Document.write_pdf` of ``document`` (rendered from
    ``html``) writes artefacts, ``/Lang``, ``/Scope`` and heading levels as described
    above."""
    token = _ARTEFACTS.set(_artefact_boxes(document.pages, html.etree_element))
    try:
        yield
    finally:
        _ARTEFACTS.reset(token)


_marked = pdf_stream.Stream.marked
_build_box_tree = pdf_tags._build_box_tree
_add_tags = weasyprint.pdf.add_tags


def _tags_with_page_arrays(pdf: Any, *args: Any) -> None:
    _add_tags(pdf, *args)
    if _ARTEFACTS.get() is None:
        return
    root = pdf.objects[int(pdf.catalog["StructTreeRoot"].split()[0])]
    nums = pdf.objects[int(root["ParentTree"].split()[0])]["Nums"]
    for i in range(1, len(nums), 2):
        if isinstance(nums[i], pydyf.Array):
            pdf.add_object(nums[i])
            nums[i] = nums[i].reference
    _add_id_tree(pdf, root)


def _add_id_tree(pdf: Any, root: Any) -> None:
    """The structure tree's ``/IDTree`` (ISO 32000-1 table 322: required when elements
    have ids, as WeasyPrint gives table header cells, and not written by it): one name
    tree node, its keys in byte order."""
    named = [
        (obj["ID"], obj)
        for obj in pdf.objects
        if isinstance(obj, pydyf.Dictionary) and obj.get("Type") == "/StructElem" and "ID" in obj
    ]
    if named:
        named.sort(key=lambda pair: str(pair[0].string))
        names = pydyf.Array(item for key, obj in named for item in (key, obj.reference))
        tree = pydyf.Dictionary({"Names": names})
        pdf.add_object(tree)
        root["IDTree"] = tree.reference


def _marked_or_artefact(self: Any, box: Any, tag: str) -> Any:
    artefacts = _ARTEFACTS.get()
    if artefacts is not None and id(box) in artefacts:
        return self.artifact()
    return _marked(self, box, tag)


def _box_tree(box: Any, parent: Any, *args: Any) -> Iterator[Any]:
    artefacts = _ARTEFACTS.get()
    if artefacts is None:
        yield from _build_box_tree(box, parent, *args)
        return
    own = box._box if isinstance(box, AbsolutePlaceholder) else box
    if id(own) in artefacts:
        return  # drawn as an artefact: no structure, no MCID
    element = own.element
    tag = None if element is None else own.element_tag
    for struct in _build_box_tree(box, parent, *args):
        if tag is not None and tag not in ("html", "body") and not isinstance(own, boxes.PageBox):
            _finish_element(struct, element)
            if struct["S"] == "/LI":
                _wrap_list_body(struct, args[0])
        yield struct


def _wrap_list_body(item: Any, pdf: Any) -> None:
    """Put what follows a list item's label (``Lbl``) in one ``LBody``: WeasyPrint adds
    an item's block children (a heading, paragraphs) to the ``LI`` itself."""
    kids = [pdf.objects[int(ref.split()[0])] for ref in item["K"] if isinstance(ref, bytes)]
    if len(kids) != len(item["K"]) or any(kid["S"] == "/LBody" for kid in kids):
        return
    body_kids = [kid for kid in kids if kid["S"] != "/Lbl"]
    if not body_kids:
        return
    body = pydyf.Dictionary(
        {
            "Type": "/StructElem",
            "S": "/LBody",
            "K": pydyf.Array([kid.reference for kid in body_kids]),
            "P": item.reference,
        }
    )
    if "Pg" in item:
        body["Pg"] = item["Pg"]
    pdf.add_object(body)
    for kid in body_kids:
        kid["P"] = body.reference
    item["K"] = pydyf.Array(
        [kid.reference for kid in kids if kid["S"] == "/Lbl"] + [body.reference]
    )


def _finish_element(struct: Any, element: Any) -> None:
    kind = struct["S"]
    if kind == "/TH":
        scope = "/Row" if element.get("scope") == "row" else "/Column"
        struct["A"]["Scope"] = scope
    role = element.get("role")
    if kind not in ("/NonStruct", "/Span"):
        if role == "heading" and element.get("aria-level") in _HEADING_TAGS:
            struct["S"] = f"/H{element.get('aria-level')}"
        elif role == "none" and kind in _HEADINGS:
            struct["S"] = "/P"
    lang = element.get("lang")
    if lang and "Lang" not in struct and kind != "/NonStruct":
        struct["Lang"] = pydyf.String(lang)


pdf_stream.Stream.marked = _marked_or_artefact
pdf_tags._build_box_tree = _box_tree
weasyprint.pdf.add_tags = _tags_with_page_arrays
