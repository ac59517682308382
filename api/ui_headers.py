"""Security headers of the staff UI (``/ui``) and the API's documentation pages (``/docs``,
``/redoc``): a Content-Security-Policy that runs no inline script and lets no other site
frame the page, ``Referrer-Policy: no-referrer`` and ``X-Content-Type-Options: nosniff``.

The UI's own pages hold no inline script and no inline style. A page that embeds a draft
preview in a sandboxed ``<iframe srcdoc>`` is the one exception: the frame inherits the
page's policy, and the document's HTML carries a ``<style>`` block and ``style``
attributes (column widths); the policy of that page allows exactly those, by their
sha256 (``'unsafe-hashes'`` for the attributes), and nothing else. The documentation
pages (FastAPI's Swagger UI and ReDoc) start their bundles from an inline script, which
their policy allows by hash; ReDoc writes its styles at run time, so their ``style-src``
allows inline styles.
"""

from __future__ import annotations

import base64
import hashlib
import html
import re
from collections.abc import Iterable

from starlette.types import ASGIApp, Message, Receive, Scope, Send

UI_POLICY = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    "img-src": "'self' data:",
    "font-src": "'self'",
    "frame-src": "'self'",
    "frame-ancestors": "'none'",
    "base-uri": "'none'",
    "form-action": "'self'",
    "object-src": "'none'",
}
DOCS_POLICY = {
    **UI_POLICY,
    "style-src": "'self' 'unsafe-inline'",
    "worker-src": "'self' blob:",
    "form-action": "'none'",
}
ALWAYS = {
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
}
DOCS_PATHS = ("/docs", "/redoc")

_SRCDOC = re.compile(r'\ssrcdoc="([^"]*)"')
_STYLE_BLOCK = re.compile(r"<style[^>]*>(.*?)</style>", re.S | re.I)
_STYLE_ATTRIBUTE = re.compile(r"""\sstyle=(?:"([^"]*)"|'([^']*)')""", re.I)
_SCRIPT_BLOCK = re.compile(r"<script(?![^>]*\ssrc=)[^>]*>(.*?)</script>", re.S | re.I)


def _sha256(text: str) -> str:
    digest = hashlib.sha256(text.encode("utf-8")).digest()
    return f"'sha256-{base64.b64encode(digest).decode('ascii')}'"


def policy(directives: dict[str, str]) -> str:
    """A Content-Security-Policy header value."""
    return "; ".join(f"{name} {value}" for name, value in directives.items())


def _hashes(sources: Iterable[str]) -> str:
    return " ".join(sorted({_sha256(s) for s in sources}))


def preview_styles(page: str) -> tuple[list[str], list[str]]:
    """The ``<style>`` blocks and ``style`` attributes of the previews a page embeds as
    ``srcdoc``."""
    blocks: list[str] = []
    attributes: list[str] = []
    for escaped in _SRCDOC.findall(page):
        inner = html.unescape(escaped)
        blocks += _STYLE_BLOCK.findall(inner)
        attributes += [a or b for a, b in _STYLE_ATTRIBUTE.findall(inner)]
    return blocks, attributes


def ui_policy(page: str | None) -> str:
    """The policy of a UI response; ``page`` is its HTML (if it is HTML)."""
    directives = dict(UI_POLICY)
    if page is not None:
        blocks, attributes = preview_styles(page)
        if blocks or attributes:
            extra = _hashes(blocks + attributes)
            unsafe_hashes = " 'unsafe-hashes'" if attributes else ""
            directives["style-src"] = f"'self'{unsafe_hashes} {extra}"
    return policy(directives)


def docs_policy(page: str) -> str:
    """The policy of a documentation page: its inline scripts allowed by hash."""
    directives = dict(DOCS_POLICY)
    scripts = _SCRIPT_BLOCK.findall(page)
    if scripts:
        directives["script-src"] = f"'self' {_hashes(scripts)}"
    return policy(directives)


class SecurityHeaders:
    """ASGI middleware: the headers above on every ``/ui`` and documentation response.

    An HTML response's body is read whole before its headers go out (its policy depends
    on it); pages are small. Other responses (PDFs, assets) stream as they are, with a
    policy that only forbids framing."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "") if scope["type"] == "http" else ""
        docs = path in DOCS_PATHS or path.startswith("/docs/")
        if not (docs or path == "/ui" or path.startswith("/ui/")):
            await self.app(scope, receive, send)
            return
        start: Message | None = None
        chunks: list[bytes] = []

        async def send_with_headers(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                start = message
                if not _is_html(message):
                    _add_headers(message, policy({"frame-ancestors": "'none'"}))
                    await send(message)
                return
            if start is None or not _is_html(start) or message["type"] != "http.response.body":
                await send(message)
                return
            chunks.append(message.get("body", b""))
            if message.get("more_body", False):
                return
            body = b"".join(chunks)
            text = body.decode("utf-8", "replace")
            _add_headers(start, docs_policy(text) if docs else ui_policy(text))
            await send(start)
            await send({"type": "http.response.body", "body": body, "more_body": False})

        await self.app(scope, receive, send_with_headers)


def _is_html(start: Message) -> bool:
    for name, value in start.get("headers", []):
        if name.lower() == b"content-type":
            return bytes(value).lower().startswith(b"text/html")
    return False


def _add_headers(start: Message, csp: str) -> None:
    headers = [
        (name, value)
        for name, value in start.get("headers", [])
        if name.lower() not in {b"content-security-policy", b"referrer-policy"}
        and name.lower() != b"x-content-type-options"
    ]
    headers.append((b"content-security-policy", csp.encode("ascii")))
    headers += [(k.lower().encode("ascii"), v.encode("ascii")) for k, v in ALWAYS.items()]
    start["headers"] = headers
