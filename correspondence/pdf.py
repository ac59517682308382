"""HTML → PDF with WeasyPrint: the only module that imports it.

* Assets are preloaded from ``correspondence/assets`` and served from memory by
  :class:`AssetFetcher`; any other URL (http, file, a packaged path that does not exist)
  stops the render. ``data:`` URIs for images are decoded locally.
* One packaged font family (Noto Sans) is declared with ``@font-face`` and embedded,
  subset, in every PDF.
* Output is PDF/A-3b with title, author, subject, keywords and language taken from the
  HTML head, and the validated payload attached as JSON (AFRelationship ``Source``).
* Output is deterministic: dates come from the document, never from the clock.
* Markup is parsed by expat, not WeasyPrint's pure-Python HTML5 parser: our templates
  write well-formed XML (:func:`parse_xml`).
* The user-agent stylesheet is WeasyPrint's own less its rules for pseudo-elements our
  documents never have (:func:`user_agent_stylesheet`).
* A WeasyPrint warning during a render is a defect in our templates; it is returned with
  the result and, in strict mode, raised as :class:`RenderError`.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import re
import zlib
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from importlib.resources import files
from pathlib import Path
from urllib.parse import unquote_to_bytes
from xml.etree import ElementTree

import cssselect2
import pydyf
import tinyhtml5
import weasyprint.css
from weasyprint import CSS, HTML, Attachment
from weasyprint.css.counters import CounterStyle
from weasyprint.text.fonts import FontConfiguration
from weasyprint.urls import FatalURLFetchingError, URLFetcher, URLFetcherResponse

from correspondence.errors import AssetNotAllowed, RenderError
from correspondence.templating import ASSET_ORIGIN

ASSETS_DIR = Path(__file__).parent / "assets"
PDF_VARIANT = "pdf/a-3b"
STYLESHEET_URL = ASSET_ORIGIN + "css/document.css"

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
    the footnote and note pseudo-elements.

    Their universal rules made WeasyPrint compute six pseudo-element styles for every
    element; on a 25-line invoice that was about a quarter of the render
    (bench/history/user_agent.py). The PDFs are byte for byte the same (tests). A rule that is not
    found stops the import, so a WeasyPrint upgrade cannot drop this silently.
    """
    text = (files(weasyprint.css) / "html5_ua.css").read_text("utf-8")
    for start, replacement in rules.items():
        rule = re.compile(rf"^{re.escape(start)}[^\n]*\n", re.MULTILINE)
        if len(rule.findall(text)) != 1:
            raise RuntimeError(f"WeasyPrint's user-agent stylesheet has no one {start!r} rule")
        text = rule.sub("", text) if replacement is None else text.replace(start, replacement)
    return text


# Its counter styles are WeasyPrint's own, already registered: parse into a scratch set.
_USER_AGENT = CSS(string=user_agent_stylesheet(), counter_style=CounterStyle())


def parse_xml(markup: str) -> ElementTree.Element:
    """Our documents' markup, parsed by expat: every template writes well-formed XML
    (void elements closed, SVG in its namespace) and request text reaches it escaped,
    with the characters XML forbids refused at validation (``models.Model``).

    WeasyPrint's own parser is tinyhtml5, an HTML5 parser in pure Python: about a
    twentieth of a 25-line invoice's render (bench/history/html_parser.py). The trees it builds
    from our markup lay out to the same PDF bytes (tests)."""
    try:
        return ElementTree.fromstring(markup)  # noqa: S314 — our templates' output, see above
    except ElementTree.ParseError as error:
        raise RenderError(f"the document's markup is not well-formed XML: {error}") from None


def parse_html5(markup: str) -> ElementTree.Element:
    """``markup`` parsed as WeasyPrint parses HTML (for the tests and the benchmark)."""
    root: ElementTree.Element = tinyhtml5.parse(markup, namespace_html_elements=False)
    return root


class _Html(HTML):  # type: ignore[misc]
    """WeasyPrint's HTML document built from a parsed tree, with the user-agent stylesheet
    given. ``HTML.__init__`` parses a string with tinyhtml5; this sets what it sets."""

    def __init__(
        self,
        root: ElementTree.Element,
        *,
        base_url: str,
        url_fetcher: URLFetcher,
        user_agent: Sequence[CSS] | None,
    ) -> None:
        self.base_url = base_url
        self.url_fetcher = url_fetcher
        self.media_type = "print"
        self.wrapper_element = cssselect2.ElementWrapper.from_html_root(root, content_language=None)
        self.etree_element = self.wrapper_element.etree_element
        self._user_agent = user_agent

    def _ua_stylesheets(self, forms: bool = False) -> list[CSS]:
        # No <form> is ever rendered: our templates have none, and request data never
        # becomes markup.
        if self._user_agent is None:
            return list(super()._ua_stylesheets(forms))
        return list(self._user_agent)


_STREAM_START = b">>\nstream\n"
_STREAM_END = b"\nendstream"


def compress_streams_once(document: object, pdf: pydyf.PDF) -> None:
    """A ``write_pdf`` finisher: compress each stream now, once, and store the result.

    pydyf compresses a stream every time it serializes it, and for the file identifier
    PDF/A requires it serializes every object a second time to hash the file: every
    stream was compressed twice, at zlib level 9 (about 4 ms of a 25-line invoice's
    37 ms write). Compressed here with the same settings, the PDF is byte for byte the
    same (tests)."""
    for stream in pdf.objects:
        if not isinstance(stream, pydyf.Stream) or not stream.compress:
            continue
        plain = pydyf.Stream(stream.stream).data  # << /Length n >> stream … endstream
        raw = plain[plain.index(_STREAM_START) + len(_STREAM_START) : -len(_STREAM_END)]
        packer = zlib.compressobj(level=9)
        stream.stream = [packer.compress(raw) + packer.flush()]
        stream.compress = False
        stream.extra["Filter"] = "/FlateDecode"


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
    """Renders HTML to PDF/A-3b. One per process: it keeps the font configuration, the
    image cache and the fetcher warm. Not thread-safe (WeasyPrint is CPU-bound anyway).

    ``trimmed_user_agent=False`` lays out with WeasyPrint's own user-agent stylesheet,
    ``parse=parse_html5`` parses as WeasyPrint does and ``compress_once=False`` lets
    pydyf compress as it does (for the tests and the benchmarks that compare them)."""

    def __init__(
        self,
        *,
        strict: bool = True,
        assets: Mapping[str, tuple[bytes, str]] | None = None,
        trimmed_user_agent: bool = True,
        parse: Callable[[str], ElementTree.Element] = parse_xml,
        compress_once: bool = True,
    ) -> None:
        self.strict = strict
        self._compress_once = compress_once
        self._user_agent = [_USER_AGENT] if trimmed_user_agent else None
        self._parse = parse
        self.fetcher = AssetFetcher(assets if assets is not None else load_assets())
        self._font_config = FontConfiguration()
        self._cache: dict[str, object] = {}
        # The document stylesheet, parsed once per renderer, its @font-face fonts loaded
        # once: every render applies this copy rather than fetching and parsing a <link>.
        self._stylesheet = CSS(
            url=STYLESHEET_URL, url_fetcher=self.fetcher, font_config=self._font_config
        )

    def render(
        self,
        html: str,
        *,
        attachments: Sequence[PdfAttachment] = (),
        stamp: datetime,
        variant: str | None = PDF_VARIANT,
    ) -> RenderedPdf:
        """Render ``html`` (whose assets live under :data:`ASSET_ORIGIN`).

        ``stamp`` dates the attachments, so the same input gives the same bytes.
        """
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
        with _weasyprint_warnings() as warnings:
            try:
                document = _Html(
                    self._parse(html),
                    base_url=ASSET_ORIGIN,
                    url_fetcher=self.fetcher,
                    user_agent=self._user_agent,
                ).render(
                    stylesheets=[self._stylesheet], font_config=self._font_config, cache=self._cache
                )
                # A PDF/A variant writes a file identifier, for which pydyf serializes
                # every object twice: compress the streams once, before.
                once = variant is not None and self._compress_once
                data = document.write_pdf(
                    pdf_variant=variant,
                    attachments=files,
                    cache=self._cache,
                    finisher=compress_streams_once if once else None,
                )
            except FatalURLFetchingError as error:
                raise AssetNotAllowed(str(error)) from None
            finally:
                self._forget_inline_images()
        if self.strict and warnings:
            raise RenderError("WeasyPrint warned: " + " | ".join(warnings))
        assert isinstance(data, bytes)
        anchors: dict[str, int] = {}
        for index, page in enumerate(document.pages):
            for name in page.anchors:
                anchors.setdefault(name, index)
        return RenderedPdf(data, len(document.pages), tuple(warnings), anchors)

    @property
    def cached_images(self) -> int:
        """How many entries the image cache holds (packaged images only, between renders)."""
        return len(self._cache)

    def _forget_inline_images(self) -> None:
        """Drop what WeasyPrint cached for ``data:`` images during the last render.

        Those are generated per document (an invoice's QR code), so keeping them would
        grow a worker by a few kB per invoice and never be hit again. WeasyPrint keys an
        image by its URL and the image's data by the URL's MD5 (the test of this method
        fails if that changes).
        """
        for url in [key for key in self._cache if key.startswith("data:")]:
            image_id = hashlib.md5(url.encode(), usedforsecurity=False).hexdigest()
            for key in [k for k in self._cache if k == url or k.startswith(image_id + "-")]:
                del self._cache[key]
