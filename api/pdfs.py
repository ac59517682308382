"""PDF responses: ETag / If-None-Match (304), HEAD, and one byte Range (206, 416)."""

from __future__ import annotations

import re
from typing import Any

from fastapi import Request, Response

_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")

PDF_SCHEMA = {"type": "string", "format": "binary"}


def pdf_responses(description: str) -> dict[int | str, dict[str, Any]]:
    """The OpenAPI responses of a PDF operation (besides its errors)."""
    pdf = {"application/pdf": {"schema": PDF_SCHEMA}}
    return {
        200: {"description": description, "content": pdf},
        206: {"description": "The byte range asked for with Range", "content": pdf},
        304: {"description": "Not modified: If-None-Match holds the ETag"},
        416: {"description": "The Range is outside the PDF", "content": pdf},
    }


def _matches(header: str, etag: str) -> bool:
    return header.strip() == "*" or etag in [
        t.strip().removeprefix("W/") for t in header.split(",")
    ]


def _range(header: str, size: int) -> tuple[int, int] | bool | None:
    """(first, last) of one satisfiable range; None to send everything; False: 416."""
    found = _RANGE.match(header.strip())
    if not found:
        return None  # several ranges, or another unit: the whole PDF (RFC 9110 allows it)
    first, last = found.groups()
    if not first and not last:
        return None
    if not first:  # the last N bytes
        n = int(last)
        return (max(0, size - n), size - 1) if n > 0 and size else False
    start = int(first)
    if start >= size:
        return False
    end = min(int(last), size - 1) if last else size - 1
    return (start, end) if end >= start else None


def pdf_response(request: Request, data: bytes, etag: str, headers: dict[str, str]) -> Response:
    """``data`` as a PDF answering the request's HEAD, If-None-Match and Range."""
    common = {"ETag": etag, "Accept-Ranges": "bytes", **headers}
    match = request.headers.get("if-none-match")
    if match is not None and _matches(match, etag):
        return Response(status_code=304, headers=common)
    status, body = 200, data
    wanted = request.headers.get("range")
    if_range = request.headers.get("if-range")
    if wanted is not None and (if_range is None or if_range.strip() == etag):
        chosen = _range(wanted, len(data))
        if chosen is False:
            return Response(
                status_code=416,
                headers={**common, "Content-Range": f"bytes */{len(data)}"},
                media_type="application/pdf",
            )
        if isinstance(chosen, tuple):
            first, last = chosen
            status, body = 206, data[first : last + 1]
            common["Content-Range"] = f"bytes {first}-{last}/{len(data)}"
    if request.method == "HEAD":
        common["Content-Length"] = str(len(body))
        body = b""
    return Response(body, status_code=status, media_type="application/pdf", headers=common)
