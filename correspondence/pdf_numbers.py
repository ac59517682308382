"""Page numbers without a second layout: WeasyPrint's private parts, as in ``pdf_fast``.

* :func:`running_once` (:attr:`pdf_fast.Shortcuts.running_once`): a page that places a
  running element is not laid out again for it;
* :func:`fill_numbers`: a document's page count and its contents' page numbers are laid
  out as placeholders and written into the laid-out text;
* :func:`page_labels`: the PDF's page labels name the parts of a document.

A renewal pack's 6 pages took 12 page layouts; with these, 6 (tests/integration/
test_renewal_pack.py counts them from WeasyPrint's progress log, bench/README.md).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from correspondence import native_libs  # noqa: F401  (first: WeasyPrint's libraries by soname)

# isort: split
import pydyf
from weasyprint import HTML
from weasyprint.formatting_structure import boxes
from weasyprint.layout import page as layout_page
from weasyprint.text.line_break import line_size

# --- running elements laid out once ----------------------------------------------------------
#
# WeasyPrint lays a page out a second time whenever its first layout places a running
# element (``position: running()``) and an earlier page has placed one of the same name
# (``make_page`` finds no running elements recorded for the page yet, and takes that for a
# change). The second layout is the same: running elements are only drawn in the page
# margins, made after every page is laid out. It matters for notes (``float: note``),
# which take room on the page; our documents have none. A renewal pack, each component of
# which places its own running footer, had every page on which one starts laid out
# twice. :attr:`pdf_fast.Shortcuts.running_once` records an empty list of running elements for the
# page before ``make_page`` looks, so that only a real change lays a page out again.

_RUNNING_ONCE: ContextVar[bool] = ContextVar("running_once", default=False)
_make_page = layout_page.make_page


def _make_page_running_once(context: Any, root_box: Any, page_type: Any, *args: Any) -> Any:
    if _RUNNING_ONCE.get():
        page_number = args[1]
        for pages in context.running_elements.values():
            pages.setdefault(page_number, [])
    return _make_page(context, root_box, page_type, *args)


layout_page.make_page = _make_page_running_once


@contextmanager
def running_once(on: bool) -> Iterator[None]:
    """Within this block, renders in this thread take :attr:`pdf_fast.Shortcuts.running_once` if
    ``on``."""
    token = _RUNNING_ONCE.set(on)
    try:
        yield
    finally:
        _RUNNING_ONCE.reset(token)


# --- page numbers written into the laid-out pages --------------------------------------------
#
# A footer that says "page N of M" with ``counter(pages)``, and a contents list that gives
# each entry's page with ``target-counter()``, make WeasyPrint lay pages out again once the
# total and the targets are known: a renewal pack's 6 pages took 12 page layouts. Laid out
# instead with a placeholder as text (``data-pages`` on a page number, ``data-to-page`` on a
# contents entry), every page is laid out once; :func:`fill_numbers` then reads the page
# count and each target's page from that layout and writes them over the placeholders of
# the laid-out text, before anything is drawn. Digits are all one width in our fonts, so a
# number written over a placeholder of as many digits takes exactly its room; when one
# would not (more digits, a different width), :class:`NumbersDoNotFit` says which numbers
# to lay out instead, as text, and the caller renders again with them.


@dataclass(frozen=True)
class PageNumbers:
    """The numbers a document's page numbers and contents list are laid out with: the page
    count and the 1-based page of each element id the contents list points at. Unknown
    numbers are placeholders of ``digits`` zeros, filled in after the layout."""

    pages: int | None = None
    targets: Mapping[str, int] | None = None
    digits: int = 1

    def total(self) -> str:
        """The page count, or its placeholder."""
        return "0" * self.digits if self.pages is None else str(self.pages)

    def page_of(self, target: str) -> str:
        """The page of element ``target``, or its placeholder (while it is unknown)."""
        if self.targets is None or target not in self.targets:
            return "0" * self.digits
        return str(self.targets[target])


class NumbersDoNotFit(Exception):
    """The numbers read from a layout do not fit the placeholders it was laid out with."""

    def __init__(self, numbers: PageNumbers) -> None:
        super().__init__(f"lay out again with {numbers}")
        self.numbers = numbers


def anchor_pages(document: Any) -> dict[str, int]:
    """The 0-based page of ``document`` on which each element id first appears."""
    pages: dict[str, int] = {}
    for index, page in enumerate(document.pages):
        for name in page.anchors:
            pages.setdefault(name, index)
    return pages


def _width(layout: Any, style: Any, text: str) -> float:
    layout.reactivate(style)
    layout.set_text(text, justify=True)
    line, _ = layout.get_first_line()
    width: float = line_size(line, style)[0]
    layout.deactivate()
    return width


def _numbered_text(box: Any) -> Iterator[Any]:
    """The text boxes of ``::after`` content under ``box`` (where numbers are written)."""
    pending = [box]
    while pending:
        box = pending.pop()
        if isinstance(box, boxes.TextBox) and box.element_tag.endswith("::after"):
            yield box
        pending.extend(getattr(box, "children", ()))


def _number_for(element: Any, found: PageNumbers) -> tuple[str, str] | None:
    """The placeholder ``element`` was laid out with and the number to write over it, if
    it holds one (``found.targets`` is known)."""
    if (placeholder := element.get("data-pages")) is not None:
        return placeholder, found.total()
    if (placeholder := element.get("data-to-page")) is not None:
        return placeholder, found.page_of(element.get("href", "")[1:])
    return None


def fill_numbers(document: Any, html: HTML) -> PageNumbers:
    """Write the page count over the ``data-pages`` placeholder of the page numbers of
    ``document`` (rendered from ``html``) and the page of each contents entry's target
    (``href="#id"``) over its ``data-to-page`` placeholder; the numbers written. Raises
    :class:`NumbersDoNotFit`, writing nothing, if one would not take exactly its
    placeholder's room, or if a placeholder whose number differs was not found in the
    laid-out text."""
    targets = {name: index + 1 for name, index in anchor_pages(document).items()}
    found = PageNumbers(len(document.pages), targets)
    writes: list[tuple[Any, str]] = []
    written: set[int] = set()  # the elements whose number is written
    fits = True
    for page in document.pages:
        for box in _numbered_text(page._page_box):
            if (numbers := _number_for(box.element, found)) is None:
                continue
            placeholder, number = numbers
            layout = box.pango_layout
            if number == placeholder or not box.text.endswith(placeholder):
                continue  # nothing to write, or not the line of text that ends with it
            if layout.text != box.text:
                fits = False
                continue
            text = box.text[: -len(placeholder)] + number
            width = _width(layout, box.style, box.text)
            fits = fits and _width(layout, box.style, text) == width
            writes.append((box, text))
            written.add(id(box.element))
    for element in html.etree_element.iter():
        numbers = _number_for(element, found)
        if numbers is not None and numbers[0] != numbers[1] and id(element) not in written:
            fits = False  # a number to change, and its text not found
    if not fits:
        digits = max(len(str(n)) for n in (found.pages, *targets.values()))
        raise NumbersDoNotFit(PageNumbers(found.pages, targets, digits))
    for box, text in writes:
        box.text = box.pango_layout.text = text
    return found


def page_label_ranges(starts: Sequence[tuple[str, int]], total: int) -> list[tuple[int, str, int]]:
    """The page labels of a document of ``total`` pages whose parts (``starts``: label,
    0-based first page) flow on from one page to the next, as (first page of a range,
    prefix, first number). The first part that starts on a page names it; one that starts
    lower on a page already named names the pages after, counting from 2, if it runs on
    to them."""
    ordered = sorted(starts, key=lambda s: s[1])
    first_pages = {page for _, page in ordered}
    named: dict[int, tuple[str, int]] = {}  # first page of a range -> label, first number
    for label, page in ordered:
        if page not in named:
            named[page] = (label, 1)
        elif page + 1 < total and page + 1 not in first_pages:
            named[page + 1] = (label, 2)
    return [(page, f"{label} ", number) for page, (label, number) in sorted(named.items())]


def page_labels(labels: Mapping[str, str]) -> Any:
    """A ``write_pdf`` finisher that gives each part of the document, from the page of the
    element id it starts at (a key of ``labels``), the page labels ``{label} 1``,
    ``{label} 2`` …"""

    def finish(document: Any, pdf: Any) -> None:
        first = anchor_pages(document)
        starts = [(label, first[name]) for name, label in labels.items()]
        nums = pydyf.Array()
        for page, prefix, number in page_label_ranges(starts, len(document.pages)):
            label = pydyf.Dictionary({"S": "/D", "P": pydyf.String(prefix), "St": number})
            nums.extend([page, label])
        pdf.catalog["PageLabels"] = pydyf.Dictionary({"Nums": nums})

    return finish
