"""One exception tree for the whole core.

    CorrespondenceError
    ├── InvalidPayload        the request cannot be issued; carries field-level problems
    │                         (shape errors, and stated figures that disagree with ours)
    ├── UnknownKind           document.type names no kind we produce
    └── RenderError           our own templates or assets failed: a bug, never the client's
        └── AssetNotAllowed   a template asked WeasyPrint for something outside the assets

The API maps these to status codes in one place; nothing below ``api/`` knows HTTP.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a payload, at one field path (dotted, list indexes as numbers)."""

    field: str
    message: str
    error: str = "invalid"

    def __str__(self) -> str:
        return f"{self.field}: {self.message}" if self.field else self.message


class CorrespondenceError(Exception):
    """Base of every error the core raises on purpose."""


class InvalidPayload(CorrespondenceError):
    """The payload cannot be issued as sent; ``problems`` lists every reason."""

    def __init__(self, problems: Iterable[Problem]) -> None:
        self.problems = tuple(problems)
        if not self.problems:
            raise ValueError("InvalidPayload needs at least one problem")
        super().__init__("; ".join(str(p) for p in self.problems))


class UnknownKind(CorrespondenceError):
    """``document.type`` is not a kind this service produces."""

    def __init__(self, kind: object, known: Iterable[str]) -> None:
        self.kind = kind
        self.known = tuple(sorted(known))
        super().__init__(f"unknown document type {kind!r}; expected one of {', '.join(self.known)}")


class RenderError(CorrespondenceError):
    """Rendering failed for a reason inside the service (template, asset or layout)."""


class AssetNotAllowed(RenderError):
    """A template referred to a URL that is not a packaged asset."""
