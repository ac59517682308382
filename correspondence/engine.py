"""The document engine: payload → validated kind → HTML → PDF.

One :class:`Engine` per process holds the Jinja environment and the warm PDF renderer.
The locale of a render is the payload's own unless another is asked for; the time zone is
the jurisdiction's. Nothing here reads the clock.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, time
from functools import cached_property
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from markupsafe import Markup

from correspondence import __version__
from correspondence.config import Settings
from correspondence.errors import RenderError
from correspondence.formatting import JURISDICTION_TZ, SUPPORTED_LOCALES
from correspondence.kinds import KINDS, Lined, Packed, Validated, Warned, customer_payload, validate
from correspondence.language import in_locale
from correspondence.models import Envelope
from correspondence.pdf import ASSETS_DIR, PDF_VARIANT, PdfAttachment, PdfRenderer, RenderedPdf
from correspondence.pdf_fast import Shortcuts
from correspondence.pdf_numbers import NumbersDoNotFit, PageNumbers
from correspondence.templating import ASSET_ORIGIN, build_environment, words

PAYLOAD_ATTACHMENT = "payload.json"
NUMBERING_ATTEMPTS = 3
"""Layouts of a pack at most: the first with placeholders, then with the numbers read."""


@dataclass(frozen=True)
class Part:
    """Which part of a document one render holds. A long invoice (more than two sections
    of lines) is rendered in sections, each from a fresh page: the first carries the
    header and the first rows, the last the remaining rows and everything after the table.
    Sections can be laid out in parallel; memory is bounded by a section, not the
    document. Page numbers across the whole document come from one overlay."""

    first: bool = True
    last: bool = True
    start: int = 0
    stop: int | None = None

    @property
    def whole(self) -> bool:
        """Whether this render is the whole document."""
        return self.first and self.last


WHOLE = Part()
NUMBERED_PAGES = 64
"""Pages per range of the page-number overlay (ranges render in parallel)."""


def number_ranges(pages: int) -> list[tuple[int, int]]:
    """The page ranges (1-based, inclusive) the page-number overlay is rendered in: the
    same whichever path renders them, so that both give the same bytes."""
    return [
        (first, min(pages, first + NUMBERED_PAGES - 1))
        for first in range(1, pages + 1, NUMBERED_PAGES)
    ]


def sections(validated: Validated, rows: int) -> list[Part]:
    """The parts ``validated`` is rendered in: :data:`WHOLE` unless it is a long invoice."""
    doc = validated.doc
    if validated.kind.name != "premium_invoice" or not isinstance(doc, Lined):
        return [WHOLE]
    lines = doc.lines
    if len(lines) <= 2 * rows:
        return [WHOLE]
    starts = list(range(0, len(lines), rows))
    return [
        Part(first=i == 0, last=i == len(starts) - 1, start=start, stop=start + rows)
        for i, start in enumerate(starts)
    ]


def locales_of(validated: Validated) -> tuple[str, ...]:
    """The supported locales ``validated`` can render in: those of a language every free
    text it prints is written in (docs/language.md)."""
    from correspondence.language import language_of, untranslated

    doc = validated.doc
    return tuple(
        locale
        for locale in SUPPORTED_LOCALES
        if not untranslated(doc, language_of(locale), doc.document.language_of_text)
    )


@dataclass(frozen=True)
class RenderedDocument:
    """A rendered PDF and what it is."""

    kind: str
    locale: str
    pdf: bytes
    pages: int
    warnings: tuple[str, ...]


def issue_moment(doc: Envelope) -> datetime:
    """Midnight of the issue date in the jurisdiction's zone: the PDF's dates."""
    tz = ZoneInfo(JURISDICTION_TZ[doc.document.jurisdiction])
    return datetime.combine(doc.document.issue_date, time(0), tzinfo=tz)


def fingerprint(*roots: Path) -> str:
    """sha256 over every file under ``roots`` (relative path and bytes), in a stable order."""
    digest = hashlib.sha256()
    for root in roots:
        for path in sorted(p for p in root.rglob("*") if p.is_file()):
            digest.update(path.relative_to(root).as_posix().encode())
            digest.update(b"\0")
            digest.update(path.read_bytes())
            digest.update(b"\0")
    return digest.hexdigest()


def document_context(validated: Validated, locale: str | None = None) -> dict[str, Any]:
    """The payload and its figures with their free text in the locale's language (refused,
    naming the fields, if it has none), and the locale and time zone to format them in:
    what every document and email template receives."""
    chosen = locale or validated.doc.document.locale
    if chosen not in SUPPORTED_LOCALES:
        raise ValueError(f"unsupported locale {chosen!r}")
    localized = in_locale(validated, chosen)
    doc = localized.doc
    return {
        "doc": doc,
        "fig": localized.figures,
        "locale": chosen,
        "lang": chosen.split("-")[0],
        "tz": JURISDICTION_TZ[doc.document.jurisdiction],
        "group_four_digits": validated.kind.group_four_digits,
    }


class Engine:
    """Validates payloads and renders them to HTML and PDF."""

    def __init__(
        self,
        settings: Settings,
        *,
        placeholder_digits: int = 1,
        shortcuts: Shortcuts | None = None,
    ) -> None:
        """``placeholder_digits``: the width, in digits, of the placeholders a pack's page
        numbers are first laid out with (pdf_numbers.fill_numbers); a number wider than its
        placeholder makes the pack laid out again with the numbers as text. ``shortcuts``:
        which of the renderer's shortcuts to take, where the settings' all-or-none will not
        do (the same bytes either way)."""
        self.settings = settings
        self.placeholders = PageNumbers(digits=placeholder_digits)
        self.env = build_environment(settings.templates_dir)
        chosen = settings.pdf_shortcuts if shortcuts is None else shortcuts
        self.pdf = PdfRenderer(strict=settings.strict_rendering, shortcuts=chosen)
        # Our packaged stylesheet, inlined in HTML previews; never request data.
        stylesheet = (ASSETS_DIR / "css" / "document.css").read_text("utf-8")
        self._stylesheet = Markup(stylesheet)  # noqa: S704

    @cached_property
    def template_hash(self) -> str:
        """sha256 of the templates and assets this engine renders with (computed on first
        use: a one-off ``correspondence render`` never needs it)."""
        return fingerprint(self.settings.templates_dir, ASSETS_DIR)

    @cached_property
    def template_version(self) -> str:
        """The package version and the first 12 digits of :attr:`template_hash`."""
        return f"{__version__}+{self.template_hash[:12]}"

    def validate(self, payload: object) -> Validated:
        """Validate ``payload`` and compute its figures (raises ``InvalidPayload``)."""
        return validate(payload)

    def warm(self) -> None:
        """Load now what renders would load on first use: every kind's template in every
        locale with the Babel data its formatting needs, and WeasyPrint's fonts and caches
        (one letter rendered). A worker then freezes it all (``render_worker.settle``)."""
        samples = {name: self.validate(kind.sample()) for name, kind in KINDS.items()}
        for validated in samples.values():
            for locale in locales_of(validated):
                self.html(validated, locale=locale, link_css=False)
        self.render(samples["credit_limit_decision"])
        _ = self.template_hash  # computed now, before the worker freezes its objects

    def context(
        self,
        validated: Validated,
        *,
        locale: str | None = None,
        asset_base: str = ASSET_ORIGIN,
        draft: bool = False,
        inline_css: bool = False,
        link_css: bool = True,
        part: Part = WHOLE,
        numbers: PageNumbers | None = None,
    ) -> dict[str, Any]:
        """The plain data a template receives: the payload and its figures with their free
        text in the locale's language (refused, naming the fields, if it has none). A pack's
        page numbers are ``numbers``, by default this engine's placeholders."""
        return {
            "numbers": self.placeholders if numbers is None else numbers,
            **document_context(validated, locale),
            "asset_base": asset_base,
            "draft": draft,
            "inline_css": self._stylesheet if inline_css else None,
            "link_css": link_css,
            "part": part,
        }

    def html(self, validated: Validated, **options: Any) -> str:
        """The document as HTML, in the payload's locale or ``locale=``."""
        ctx = self.context(validated, **options)
        template = self.env.get_template(f"{ctx['lang']}/{validated.kind.template}")
        return template.render(ctx)

    def render(
        self, validated: Validated, *, locale: str | None = None, draft: bool = False
    ) -> RenderedDocument:
        """The document as a tagged PDF/A-3a (PDF/UA-1) with the validated payload attached."""
        parts = sections(validated, self.settings.section_rows)
        if len(parts) > 1:  # one after the other here; ProcessRenderers runs them in parallel
            rendered = [self.render_part(validated, p, locale=locale, draft=draft) for p in parts]
            pages = sum(r.pages for r in rendered)
            numbers = [
                self.page_numbers(validated, pages, first=first, last=last, locale=locale)
                for first, last in number_ranges(pages)
            ]
            return self.assemble(validated, rendered, numbers, locale=locale)
        whole = self.render_part(validated, WHOLE, locale=locale, draft=draft)
        return self.finish(validated, whole, locale=locale)

    def render_part(
        self,
        validated: Validated,
        part: Part,
        *,
        locale: str | None = None,
        draft: bool = False,
    ) -> RenderedPdf:
        """One part of the document; the first (or only) one carries the payload.

        A pack is laid out once, its page numbers and contents with placeholders that are
        filled in from that layout (pdf_numbers.fill_numbers); should a number not fit its
        placeholder, it is laid out again with the numbers read, as text, until they are
        those of its layout. Its components name their pages in the PDF's page labels."""
        chosen = locale or validated.doc.document.locale
        attachments = []
        if part.first:
            payload = customer_payload(validated)  # no internal field (issue 19)
            attachments = [PdfAttachment(PAYLOAD_ATTACHMENT, payload, "Validated request payload")]
        figures = validated.figures
        components = figures.components if isinstance(figures, Packed) else ()
        labels = None
        if components:
            names = words(self.env, chosen, validated.doc.document.jurisdiction).pack
            labels = {f"c-{key}": names[key] for key in components}
        numbers = self.placeholders
        for _ in range(NUMBERING_ATTEMPTS):
            html = self.html(
                validated, locale=chosen, draft=draft, part=part, link_css=False, numbers=numbers
            )
            try:
                return self.pdf.render(
                    html,
                    attachments=attachments,
                    stamp=issue_moment(validated.doc),
                    variant=PDF_VARIANT if part.first else None,
                    numbered=bool(components),
                    labels=labels,
                )
            except NumbersDoNotFit as misfit:
                numbers = misfit.numbers
        raise RenderError(f"the pack's page numbers did not settle in {NUMBERING_ATTEMPTS} layouts")

    def page_numbers(
        self,
        validated: Validated,
        pages: int,
        *,
        first: int = 1,
        last: int | None = None,
        locale: str | None = None,
    ) -> bytes:
        """Pages ``first`` to ``last`` (default: all) of the page-number overlay of a
        document of ``pages`` pages rendered in sections."""
        last = pages if last is None else last
        ctx = self.context(validated, locale=locale, link_css=False)
        html = self.env.get_template("shared/page_numbers.html").render(
            {**ctx, "pages": pages, "first": first, "last": last}
        )
        overlay = self.pdf.render(
            html, stamp=issue_moment(validated.doc), variant=None, tagged=False
        )
        if overlay.pages != last - first + 1:
            raise RenderError(f"the page-number overlay has {overlay.pages} pages, not {pages}")
        return overlay.data

    def assemble(
        self,
        validated: Validated,
        parts: list[RenderedPdf],
        numbers: list[bytes],
        *,
        locale: str | None = None,
    ) -> RenderedDocument:
        """The sections of a long document as one PDF, numbered across all its pages."""
        from correspondence.packs import join_sections  # pypdf: loaded when first needed

        pdf = join_sections([p.data for p in parts], numbers)
        whole = RenderedPdf(
            pdf,
            sum(p.pages for p in parts),
            tuple(w for p in parts for w in p.warnings),
            parts[0].anchors,
        )
        return self.finish(validated, whole, locale=locale)

    def finish(
        self, validated: Validated, rendered: RenderedPdf, *, locale: str | None = None
    ) -> RenderedDocument:
        """Add the business warnings."""
        chosen = locale or validated.doc.document.locale
        figures = validated.figures
        business = figures.warnings if isinstance(figures, Warned) else ()
        return RenderedDocument(
            kind=validated.kind.name,
            locale=chosen,
            pdf=rendered.data,
            pages=rendered.pages,
            warnings=rendered.warnings + business,
        )
