"""The document engine: payload → validated kind → HTML → PDF.

One :class:`Engine` per process holds the Jinja environment and the warm PDF renderer.
The locale of a render is the payload's own unless another is asked for; the time zone is
the jurisdiction's. Nothing here reads the clock.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from markupsafe import Markup

from correspondence import __version__
from correspondence.config import Settings
from correspondence.formatting import JURISDICTION_TZ, SUPPORTED_LOCALES
from correspondence.kinds import Validated, validate
from correspondence.models import Envelope
from correspondence.packs import Component, label_components
from correspondence.pdf import ASSETS_DIR, PdfAttachment, PdfRenderer
from correspondence.templating import ASSET_ORIGIN, build_environment, glossary

PAYLOAD_ATTACHMENT = "payload.json"


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


class Engine:
    """Validates payloads and renders them to HTML and PDF."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.env = build_environment(settings.templates_dir)
        self.pdf = PdfRenderer(strict=settings.strict_rendering)
        self.template_hash = fingerprint(settings.templates_dir, ASSETS_DIR)
        self.template_version = f"{__version__}+{self.template_hash[:12]}"
        # Our packaged stylesheet, inlined in HTML previews; never request data.
        stylesheet = (ASSETS_DIR / "css" / "document.css").read_text("utf-8")
        self._stylesheet = Markup(stylesheet)  # noqa: S704

    def validate(self, payload: object) -> Validated:
        """Validate ``payload`` and compute its figures (raises ``InvalidPayload``)."""
        return validate(payload)

    def context(
        self,
        validated: Validated,
        *,
        locale: str | None = None,
        asset_base: str = ASSET_ORIGIN,
        draft: bool = False,
        inline_css: bool = False,
    ) -> dict[str, Any]:
        """The plain data a template receives."""
        doc = validated.doc
        chosen = locale or doc.document.locale
        if chosen not in SUPPORTED_LOCALES:
            raise ValueError(f"unsupported locale {chosen!r}")
        return {
            "doc": doc,
            "fig": validated.figures,
            "g": glossary(self.settings.templates_dir, chosen),
            "locale": chosen,
            "lang": chosen.split("-")[0],
            "tz": JURISDICTION_TZ[doc.document.jurisdiction],
            "asset_base": asset_base,
            "draft": draft,
            "inline_css": self._stylesheet if inline_css else None,
        }

    def html(self, validated: Validated, **options: Any) -> str:
        """The document as HTML, in the payload's locale or ``locale=``."""
        ctx = self.context(validated, **options)
        template = self.env.get_template(f"{ctx['lang']}/{validated.kind.template}")
        return template.render(ctx)

    def render(
        self, validated: Validated, *, locale: str | None = None, draft: bool = False
    ) -> RenderedDocument:
        """The document as a PDF/A-3b with the validated payload attached."""
        chosen = locale or validated.doc.document.locale
        html = self.html(validated, locale=chosen, draft=draft)
        payload = validated.doc.model_dump_json(indent=2, exclude_unset=True, by_alias=True).encode(
            "utf-8"
        )
        rendered = self.pdf.render(
            html,
            attachments=[PdfAttachment(PAYLOAD_ATTACHMENT, payload, "Validated request payload")],
            stamp=issue_moment(validated.doc),
        )
        pdf = rendered.data
        components: tuple[str, ...] = getattr(validated.figures, "components", ())
        if components:  # a pack: name each component in the PDF's page labels
            words = glossary(self.settings.templates_dir, chosen)["pack"]
            pdf = label_components(
                pdf, [Component(words[key], rendered.anchors[f"c-{key}"]) for key in components]
            )
        business: tuple[str, ...] = getattr(validated.figures, "warnings", ())
        return RenderedDocument(
            kind=validated.kind.name,
            locale=chosen,
            pdf=pdf,
            pages=rendered.pages,
            warnings=rendered.warnings + business,
        )
