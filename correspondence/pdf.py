"""HTML → PDF with WeasyPrint: the only module that imports it.

* Assets are preloaded from ``correspondence/assets`` and served from memory by
  :class:`AssetFetcher`; any other URL (http, file, a packaged path that does not exist)
  stops the render. ``data:`` URIs for images are decoded locally.
* One packaged font family (Noto Sans) is declared with ``@font-face`` and embedded,
  subset, in every PDF.
* Output is PDF/A-3a and PDF/UA-1 (tagged: docs/accessibility.md) with title, author,
  subject, keywords and language taken from the HTML head, and the validated payload
  attached as JSON (AFRelationship ``Source``).
* Output is deterministic: dates come from the document, never from the clock.
* Rendering uses WeasyPrint's public API, plus the shortcut of :mod:`correspondence.pdf_fast`
  (a trimmed user-agent stylesheet) unless it is turned off; either way the bytes are the
  same.
* A WeasyPrint warning during a render is a defect in our templates; it is returned with
  the result and, in strict mode, raised as :class:`RenderError`.
"""

from __future__ import annotations

import base64
import logging
import weakref
from collections import OrderedDict
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from urllib.parse import unquote_to_bytes

from correspondence import native_libs  # noqa: F401  (first: WeasyPrint's libraries by soname)

# isort: split
from weasyprint import CSS, HTML, Attachment
from weasyprint.pdf.metadata import DocumentMetadata
from weasyprint.text.fonts import FontConfiguration
from weasyprint.urls import FatalURLFetchingError, URLFetcher, URLFetcherResponse

from correspondence import font_folders, pdf_fast, pdf_numbers, pdf_once
from correspondence.errors import AssetNotAllowed, RenderError
from correspondence.pdf_fast import Shortcuts
from correspondence.templating import ASSET_ORIGIN

ASSETS_DIR = Path(__file__).parent / "assets"
PDF_VARIANT = "pdf/a-3a"
"""PDF/A-3 level A: tagged (a structure tree, ``/MarkInfo``, ``/Lang``), with the payload
attached. WeasyPrint writes one variant's identification; :data:`PDF_UA_XMP` adds
PDF/UA-1's to the same metadata (docs/accessibility.md)."""

TAGGED_VARIANTS = frozenset({"pdf/a-1a", "pdf/a-2a", "pdf/a-3a", "pdf/ua-1", "pdf/ua-2"})
"""The variants WeasyPrint always writes tagged, whatever ``pdf_tags`` says."""

PDF_UA_XMP = b"""<rdf:Description rdf:about=""
 xmlns:pdfuaid="http://www.aiim.org/pdfua/ns/id/" pdfuaid:part="1"/>
<rdf:Description rdf:about="" xmlns:pdfaExtension="http://www.aiim.org/pdfa/ns/extension/"
 xmlns:pdfaSchema="http://www.aiim.org/pdfa/ns/schema#"
 xmlns:pdfaProperty="http://www.aiim.org/pdfa/ns/property#">
<pdfaExtension:schemas><rdf:Bag><rdf:li rdf:parseType="Resource">
<pdfaSchema:schema>PDF/UA Universal Accessibility Schema</pdfaSchema:schema>
<pdfaSchema:namespaceURI>http://www.aiim.org/pdfua/ns/id/</pdfaSchema:namespaceURI>
<pdfaSchema:prefix>pdfuaid</pdfaSchema:prefix>
<pdfaSchema:property><rdf:Seq><rdf:li rdf:parseType="Resource">
<pdfaProperty:name>part</pdfaProperty:name>
<pdfaProperty:valueType>Integer</pdfaProperty:valueType>
<pdfaProperty:category>internal</pdfaProperty:category>
<pdfaProperty:description>Part of ISO 14289 followed</pdfaProperty:description>
</rdf:li></rdf:Seq></pdfaSchema:property>
</rdf:li></rdf:Bag></pdfaExtension:schemas>
</rdf:Description>"""
"""XMP descriptions that declare PDF/UA-1 conformance, with the PDF/A extension schema
that PDF/A requires for a property outside its predefined schemas."""


def declare_pdf_ua(metadata: DocumentMetadata) -> None:
    """Have ``metadata`` write :data:`PDF_UA_XMP` into its one ``rdf:RDF`` element, beside
    WeasyPrint's PDF/A identification (XMP allows one ``rdf:RDF`` per packet, so
    ``xmp_metadata``, which appends a packet's worth after it, will not do)."""
    generate = metadata.generate_rdf_metadata

    def with_pdf_ua(variant: str, version: int, conformance: str | None) -> bytes:
        rdf: bytes = generate(variant, version, conformance)
        end = rdf.rindex(b"</rdf:RDF>")
        return rdf[:end] + PDF_UA_XMP + rdf[end:]

    metadata.generate_rdf_metadata = with_pdf_ua


STYLESHEET_URL = ASSET_ORIGIN + "css/document.css"

_MIME = {
    ".css": "text/css",
    ".ttf": "font/ttf",
    ".otf": "font/otf",
    ".svg": "image/svg+xml",
    ".png": "image/png",
}


def load_assets(root: Path = ASSETS_DIR) -> dict[str, tuple[bytes, str]]:
    """Every file under ``root``, keyed by its URL under :data:`ASSET_ORIGIN`."""
    assets: dict[str, tuple[bytes, str]] = {}
    for path in sorted(root.rglob("*")):
        if path.is_file() and path.suffix in _MIME:
            url = ASSET_ORIGIN + path.relative_to(root).as_posix()
            assets[url] = (path.read_bytes(), _MIME[path.suffix])
    return assets


class FontConfig(FontConfiguration):  # type: ignore[misc]
    """WeasyPrint's font configuration with its ``@font-face`` folder in
    :mod:`correspondence.font_folders`: removed when this configuration goes or the process
    exits normally, and swept by the next process to start if this one was killed (where
    WeasyPrint's own ``mkdtemp()`` folder, removed only by ``__del__``, stays forever)."""

    _folder: Path | None

    def add_font_face(self, rule_descriptors: Mapping[str, object], url_fetcher: object) -> None:
        if self._folder is None:
            folder = font_folders.claim()
            self._folder = folder
            weakref.finalize(self, font_folders.release, folder)
        super().add_font_face(rule_descriptors, url_fetcher)

    def __del__(self) -> None:
        """Nothing: the finalizer removes the folder, and only in the process that made it."""


class AssetFetcher(URLFetcher):  # type: ignore[misc]
    """Serves packaged assets and ``data:`` images from memory; refuses everything else."""

    def __init__(self, assets: Mapping[str, tuple[bytes, str]]) -> None:
        super().__init__(allowed_protocols=("https", "data"), fail_on_errors=True)
        self._assets = dict(assets)
        self.refused: list[str] = []

    def fetch(self, url: str, headers: Mapping[str, str] | None = None) -> URLFetcherResponse:
        """Return the packaged asset at ``url`` or stop the render."""
        if url in self._assets:
            body, mime = self._assets[url]
            return URLFetcherResponse(url, body, {"Content-Type": mime})
        if url.startswith("data:image/"):
            return self._data_image(url)
        self.refused.append(url)
        raise FatalURLFetchingError(f"not a packaged asset: {url[:200]}")

    def _data_image(self, url: str) -> URLFetcherResponse:
        header, _, payload = url[len("data:") :].partition(",")
        mime, _, encoding = header.partition(";")
        if mime not in ("image/png", "image/svg+xml"):
            self.refused.append(url[:64])
            raise FatalURLFetchingError(f"data URI of type {mime!r} is not allowed")
        body = base64.b64decode(payload) if encoding == "base64" else unquote_to_bytes(payload)
        return URLFetcherResponse(url, body, {"Content-Type": mime})


@dataclass(frozen=True)
class PdfAttachment:
    """A file embedded in the PDF (PDF/A-3 associated file)."""

    name: str
    data: bytes
    description: str
    relationship: str = "Source"


@dataclass(frozen=True)
class RenderedPdf:
    """A rendered PDF with what we learnt while rendering it."""

    data: bytes
    pages: int
    warnings: tuple[str, ...]
    anchors: dict[str, int]
    """The 0-based page on which each element id first appears."""


class _Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


@contextmanager
def _weasyprint_warnings() -> Iterator[list[str]]:
    logger = logging.getLogger("weasyprint")
    handler = _Collect()
    logger.addHandler(handler)
    try:
        yield handler.messages
    finally:
        logger.removeHandler(handler)


class PdfRenderer:
    """Renders HTML to tagged PDF/A-3a. One per process: it keeps the font configuration, the
    parsed document stylesheet and the fetcher warm. Not thread-safe (WeasyPrint is
    CPU-bound anyway).

    ``shortcuts`` are those of :mod:`correspondence.pdf_fast` it takes: all (``True``, the
    default), none (``False``: WeasyPrint's public API only), or a ``Shortcuts``."""

    def __init__(
        self,
        *,
        strict: bool = True,
        assets: Mapping[str, tuple[bytes, str]] | None = None,
        shortcuts: Shortcuts | bool = True,
    ) -> None:
        self.strict = strict
        if isinstance(shortcuts, bool):
            shortcuts = pdf_fast.ALL if shortcuts else pdf_fast.NONE
        self.shortcuts = shortcuts
        if shortcuts.user_agent:
            pdf_fast.trimmed_user_agent()  # parsed now: a rule missing upstream fails here
        self.fetcher = AssetFetcher(assets if assets is not None else load_assets())
        self.font_config = FontConfig()
        self._measures: pdf_once.Measures = OrderedDict()  # text measured with these fonts
        # The document stylesheet, parsed once per renderer, its @font-face fonts loaded
        # once: every render applies this copy rather than fetching and parsing a <link>.
        self.stylesheet = CSS(
            url=STYLESHEET_URL, url_fetcher=self.fetcher, font_config=self.font_config
        )

    def render(
        self,
        html: str,
        *,
        attachments: Sequence[PdfAttachment] = (),
        stamp: datetime,
        variant: str | None = PDF_VARIANT,
        tagged: bool = True,
        numbered: bool = False,
        labels: Mapping[str, str] | None = None,
    ) -> RenderedPdf:
        """Render ``html`` (whose assets live under :data:`ASSET_ORIGIN`).

        ``stamp`` dates the attachments, so the same input gives the same bytes. A render
        without ``variant`` (a section of a long document, the page-number overlay) is
        tagged when ``tagged`` says so; a tagged variant always is. ``numbered``: the page
        numbers and contents are laid out with placeholders, filled in from the layout
        (:func:`pdf_numbers.fill_numbers`, which may raise ``NumbersDoNotFit``). ``labels``
        names the parts of the document, by the element id each starts at, in the PDF's
        page labels.
        """
        tags = tagged or variant in TAGGED_VARIANTS
        files = [
            Attachment(
                string=a.data,
                name=a.name,
                description=a.description,
                created=stamp,
                modified=stamp,
                relationship=a.relationship,
            )
            for a in attachments
        ]
        # WeasyPrint's image cache lives for one render: our only images are generated per
        # document (an invoice's QR code, a data: URI), never hit again; kept, they would
        # grow a worker by a few kB per invoice. The packaged assets hold no image.
        images: dict[str, object] = {}
        with _weasyprint_warnings() as warnings:
            try:
                source = self._html(html)
                measures = self._measures if self.shortcuts.measure_once else None
                with (
                    pdf_numbers.running_once(self.shortcuts.running_once),
                    pdf_once.measuring(measures),
                ):
                    document = source.render(
                        stylesheets=[self.stylesheet], font_config=self.font_config, cache=images
                    )
                if numbered:
                    pdf_numbers.fill_numbers(document, source)
                if variant in TAGGED_VARIANTS and variant.startswith("pdf/a-"):
                    declare_pdf_ua(document.metadata)  # PDF/A level A, and PDF/UA-1
                finish = pdf_fast.tagging(document, source) if tags else nullcontext()
                with finish, pdf_once.serialize_once(self.shortcuts.serialize_once):
                    data = document.write_pdf(
                        pdf_variant=variant,
                        pdf_tags=tags,
                        attachments=files,
                        cache=images,
                        finisher=pdf_numbers.page_labels(labels) if labels else None,
                    )
            except FatalURLFetchingError as error:
                raise AssetNotAllowed(str(error)) from None
        if self.strict and warnings:
            raise RenderError("WeasyPrint warned: " + " | ".join(warnings))
        assert isinstance(data, bytes)
        anchors = pdf_numbers.anchor_pages(document)
        return RenderedPdf(data, len(document.pages), tuple(warnings), anchors)

    def _html(self, markup: str) -> HTML:
        if self.shortcuts.own_document:
            return pdf_fast.html_document(markup, base_url=ASSET_ORIGIN, url_fetcher=self.fetcher)
        return HTML(string=markup, base_url=ASSET_ORIGIN, url_fetcher=self.fetcher)
