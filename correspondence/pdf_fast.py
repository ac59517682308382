"""Every use of WeasyPrint's private parts, behind one switch.

``pdf.py`` renders through WeasyPrint's public API (``HTML(string=…)``, ``render``,
``write_pdf``) unless a :class:`Shortcuts` says otherwise; the shortcuts here lean on what
WeasyPrint does inside, not on what it documents:

* :attr:`Shortcuts.expat` parses our markup with expat (:func:`parse_xml`) and builds the
  HTML document from that tree, skipping ``HTML.__init__`` (which parses with tinyhtml5,
  an HTML5 parser in pure Python). Our templates write well-formed XML, so both trees lay
  out alike.
* :attr:`Shortcuts.user_agent` replaces WeasyPrint's user-agent stylesheet (overriding
  ``HTML._ua_stylesheets``) with a copy of its ``html5_ua.css`` less the universal rules
  for pseudo-elements our documents never have: each made WeasyPrint compute a style of
  its own for every element.

Each gives the same PDF bytes as WeasyPrint's public API (tests/integration/
test_pdf_shortcuts.py); ``bench/shortcuts.py`` measures what each saves. The settings'
``pdf_shortcuts`` (``CORRESPONDENCE_PDF_SHORTCUTS=off``) turns them all off: the escape
hatch when an upgrade of WeasyPrint breaks one. The versions are pinned in
``pyproject.toml``. (A third shortcut, a finisher that compressed each stream of a PDF/A
file once by rewriting pydyf's streams, did not pay for itself and was removed; see
bench/README.md.)

Tests and benchmarks count page layouts from WeasyPrint's progress log, whose text is not
an API either: :func:`page_layouts` is the one place that reads it.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from importlib.resources import files
from xml.etree import ElementTree

import cssselect2
import weasyprint.css
from weasyprint import CSS, HTML
from weasyprint.css.counters import CounterStyle
from weasyprint.urls import URLFetcher

from correspondence.errors import RenderError


@dataclass(frozen=True)
class Shortcuts:
    """Which shortcuts a renderer takes (all by default; see the module's docstring)."""

    expat: bool = True
    user_agent: bool = True

    @property
    def own_document(self) -> bool:
        """Whether the HTML document is built here (:func:`html_document`), not by
        ``HTML(string=…)``."""
        return self.expat or self.user_agent


ALL = Shortcuts()
NONE = Shortcuts(expat=False, user_agent=False)


# --- expat instead of tinyhtml5 -------------------------------------------------------------


def parse_xml(markup: str) -> ElementTree.Element:
    """Our documents' markup, parsed by expat: every template writes well-formed XML
    (void elements closed, SVG in its namespace) and request text reaches it escaped,
    with the characters XML forbids refused at validation (``models.Model``)."""
    try:
        return ElementTree.fromstring(markup)  # noqa: S314 — our templates' output, see above
    except ElementTree.ParseError as error:
        raise RenderError(f"the document's markup is not well-formed XML: {error}") from None


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
    """WeasyPrint's HTML document, built from a tree we parsed or with the user-agent
    stylesheet we give. ``HTML.__init__`` parses a string with tinyhtml5; with a tree,
    this sets what it sets instead."""

    def __init__(
        self,
        markup: str,
        *,
        shortcuts: Shortcuts,
        base_url: str,
        url_fetcher: URLFetcher,
    ) -> None:
        if shortcuts.expat:
            self.base_url = base_url
            self.url_fetcher = url_fetcher
            self.media_type = "print"
            root = parse_xml(markup)
            self.wrapper_element = cssselect2.ElementWrapper.from_html_root(
                root, content_language=None
            )
            self.etree_element = self.wrapper_element.etree_element
        else:
            super().__init__(string=markup, base_url=base_url, url_fetcher=url_fetcher)
        self._user_agent = [trimmed_user_agent()] if shortcuts.user_agent else None

    def _ua_stylesheets(self, forms: bool = False) -> list[CSS]:
        # No <form> is ever rendered: our templates have none, and request data never
        # becomes markup.
        if self._user_agent is None:
            return list(super()._ua_stylesheets(forms))
        return list(self._user_agent)


def html_document(
    markup: str, shortcuts: Shortcuts, *, base_url: str, url_fetcher: URLFetcher
) -> HTML:
    """The document to render, parsed by expat or with the trimmed user-agent stylesheet
    as ``shortcuts`` say (for :attr:`Shortcuts.own_document`)."""
    return _Html(markup, shortcuts=shortcuts, base_url=base_url, url_fetcher=url_fetcher)


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
