"""WeasyPrint fetches only packaged assets: anything else stops the render."""

from __future__ import annotations

import socket
from datetime import UTC, datetime

import pytest

from correspondence.errors import AssetNotAllowed
from correspondence.pdf import PdfRenderer
from correspondence.templating import ASSET_ORIGIN

STAMP = datetime(2026, 12, 15, tzinfo=UTC)


def page(body: str) -> str:
    return (
        f'<html lang="en"><head><link rel="stylesheet" href="{ASSET_ORIGIN}css/document.css"/>'
        f"</head><body>{body}</body></html>"
    )


@pytest.fixture(scope="module")
def renderer() -> PdfRenderer:
    return PdfRenderer(strict=True)


def test_packaged_assets_render(renderer: PdfRenderer) -> None:
    """The stylesheet and fonts come from the package."""
    result = renderer.render(page("<p>Hola</p>"), stamp=STAMP)
    assert result.data.startswith(b"%PDF-") and result.pages == 1


@pytest.mark.parametrize(
    "markup",
    [
        '<img src="http://127.0.0.1:{port}/x.png"/>',
        '<link rel="stylesheet" href="http://127.0.0.1:{port}/x.css"/>',
        '<div style="background: url(http://127.0.0.1:{port}/bg.png)">x</div>',
        '<a rel="attachment" href="file:///etc/passwd">x</a>',
        '<img src="{origin}../../etc/hostname"/>',
        '<img src="{origin}fonts/missing.png"/>',
        '<object data="http://127.0.0.1:{port}/o"></object>',
    ],
)
def test_everything_else_is_refused_without_a_request(renderer: PdfRenderer, markup: str) -> None:
    """HTTP, file: and unknown asset paths stop the render; no connection is made."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(4)
    server.setblocking(False)
    port = server.getsockname()[1]
    try:
        with pytest.raises(AssetNotAllowed):
            renderer.render(page(markup.format(port=port, origin=ASSET_ORIGIN)), stamp=STAMP)
        with pytest.raises(BlockingIOError):
            server.accept()
    finally:
        server.close()
