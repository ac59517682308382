"""Logging: one JSON object per line by default, or a readable console.

Modules log with the standard library (``logging.getLogger(__name__)``) and pass their
fields as ``extra={...}``; this module installs one structlog formatter on the root
logger, so our lines, uvicorn's, Celery's and WeasyPrint's all come out in one format.

Every line carries the context bound for the work in hand (``bind``): the request id and
key name of an HTTP request, the document id of an issue. The id travels with the work:
the API binds it, the issuer and the Celery task re-bind it from what they were given.

Payload content and secrets never reach a log line: any field whose name says it holds
one is replaced by ``"[redacted]"`` before rendering, whoever logged it.
"""

from __future__ import annotations

import logging
import sys
import uuid
from collections.abc import Iterator, MutableMapping
from contextlib import contextmanager
from typing import Any, Literal, TextIO

import structlog

LogFormat = Literal["json", "console"]

REDACTED = "[redacted]"
SECRET_FIELDS = frozenset(
    {
        "authorization",
        "body",
        "cookie",
        "password",
        "payload",
        "secret",
        "secret_key",
        "smtp_password",
        "token",
        "api_key",
        "text",
    }
)
"""Field names whose values are never written: request bodies, payloads and credentials."""

_HANDLER_NAME = "correspondence"
_QUIET = ("fontTools", "weasyprint.progress", "botocore", "boto3", "urllib3", "s3transfer")


def _redact(_logger: Any, _method: str, event: MutableMapping[str, Any]) -> Any:
    for key in list(event):
        if key.lower() in SECRET_FIELDS:
            event[key] = REDACTED
    return event


def _processors() -> list[Any]:
    return [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.stdlib.ExtraAdder(),
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        _redact,
    ]


def configure(
    fmt: LogFormat = "json", level: str = "INFO", stream: TextIO | None = None
) -> logging.Handler:
    """Route every logger through one handler writing ``fmt`` lines to ``stream`` (stderr).

    Called once by each entry point (API, worker, CLI); calling it again replaces the
    handler, so tests may point it at a buffer.
    """
    renderer: Any = (
        structlog.processors.JSONRenderer(sort_keys=False)
        if fmt == "json"
        else structlog.dev.ConsoleRenderer(colors=False)
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=_processors(),
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.format_exc_info,
            renderer,
        ],
    )
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.set_name(_HANDLER_NAME)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    for old in [h for h in root.handlers if h.get_name() == _HANDLER_NAME]:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level.upper())
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access", "celery"):
        named = logging.getLogger(name)
        named.handlers.clear()
        named.propagate = True
    for name in _QUIET:
        logging.getLogger(name).setLevel(logging.WARNING)
    return handler


def new_request_id() -> str:
    """A fresh request id: 32 hex digits."""
    return uuid.uuid4().hex


def clean_request_id(value: str | None) -> str:
    """The caller's ``X-Request-ID`` if it is a plain token of up to 64 characters, else a
    new one: a header never writes arbitrary text into every log line."""
    if value and len(value) <= 64 and all(c.isalnum() or c in "-_.:" for c in value):
        return value
    return new_request_id()


def bind(**fields: Any) -> None:
    """Add fields to every line logged from here on in this context (task or request)."""
    structlog.contextvars.bind_contextvars(**fields)


def context() -> dict[str, Any]:
    """The fields bound in this context."""
    return structlog.contextvars.get_contextvars()


@contextmanager
def bound(**fields: Any) -> Iterator[None]:
    """Bind ``fields`` for a block, restoring what was bound before."""
    tokens = structlog.contextvars.bind_contextvars(**fields)
    try:
        yield
    finally:
        structlog.contextvars.reset_contextvars(**tokens)
