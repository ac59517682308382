"""Every use of WeasyPrint's private parts, behind one switch.

``pdf.py`` renders through WeasyPrint's public API (``HTML(string=…)``, ``render``,
``write_pdf``) unless a :class:`Shortcuts` says otherwise; the shortcut here leans on what
WeasyPrint does inside, not on what it documents:

* :attr:`Shortcuts.user_agent` replaces WeasyPrint's user-agent stylesheet (overriding
  ``HTML._ua_stylesheets``) with a copy of its ``html5_ua.css`` less the universal rules
  for pseudo-elements our documents never have: each made WeasyPrint compute a style of
  its own for every element.

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
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from importlib.resources import files

import weasyprint.css
from weasyprint import CSS, HTML
from weasyprint.css.counters import CounterStyle
from weasyprint.urls import URLFetcher


@dataclass(frozen=True)
class Shortcuts:
    """Which shortcuts a renderer takes (all by default; see the module's docstring)."""

    user_agent: bool = True

    @property
    def own_document(self) -> bool:
        """Whether the HTML document is built here (:func:`html_document`), not by
        ``HTML(string=…)``."""
        return self.user_agent


ALL = Shortcuts()
NONE = Shortcuts(user_agent=False)


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
