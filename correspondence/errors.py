"""One exception tree for the whole core.

    CorrespondenceError
    ├── InvalidPayload        the request cannot be issued; carries field-level problems
    │                         (shape errors, and stated figures that disagree with ours)
    │   └── IdempotencyMismatch   an Idempotency-Key reused with a different body
    ├── NotFound              no such document (or key, or file)
    ├── Conflict              the request collides with one in progress or a used number
    ├── Unauthenticated       no valid credentials
    ├── TooManyAttempts       too many failed sign-ins: wait ``retry_after`` seconds
    ├── Forbidden             valid credentials without the needed scope
    ├── Unavailable           a dependency (database, archive) cannot be reached now
    │   └── archive.ArchiveUnavailable
    ├── RenderError           our own templates or assets failed: a bug, never the client's
    │   └── AssetNotAllowed   a template asked WeasyPrint for something outside the assets
    └── DocumentFailed        a document was recorded as failed (its number kept); send
                              the corrected payload with "reissue": true

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

    def __reduce__(self) -> tuple[type[InvalidPayload], tuple[tuple[Problem, ...]]]:
        return (type(self), (self.problems,))

    @classmethod
    def unreadable(cls, path: object, error: OSError) -> InvalidPayload:
        """The input file a command was given cannot be read (the command line's exit 2)."""
        return cls([Problem("", f"cannot read {path}: {error.strerror}", "io")])


class IdempotencyMismatch(InvalidPayload):
    """The Idempotency-Key was used before with a different request body."""


class NotFound(CorrespondenceError):
    """The thing asked for does not exist."""


class Conflict(CorrespondenceError):
    """The request collides with another one (in progress, or a number already issued)."""


class Unauthenticated(CorrespondenceError):
    """No credentials, or credentials we do not recognise."""


class Forbidden(CorrespondenceError):
    """The credentials lack the scope the operation needs."""


class Unavailable(CorrespondenceError):
    """A dependency cannot be reached now; retrying later may succeed. ``dependency`` names
    it (the label of the dependency-errors metric): archive, database, renderers,
    timestamp_authority, or the class's own default."""

    dependency = "service"

    def __init__(self, message: str = "", *, dependency: str | None = None) -> None:
        super().__init__(message)
        if dependency is not None:
            self.dependency = dependency


class RenderersUnavailable(Unavailable):
    """No render worker can take the document now (starting, busy or shutting down)."""

    dependency = "renderers"


class RenderError(CorrespondenceError):
    """Rendering failed for a reason inside the service (template, asset or layout)."""


class AssetNotAllowed(RenderError):
    """A template referred to a URL that is not a packaged asset."""


class DocumentFailed(CorrespondenceError):
    """A document could not be rendered and is recorded as ``failed`` with the reason; it
    keeps its number, and the corrected payload sent with ``"reissue": true`` takes its
    place."""

    def __init__(self, document_id: str, reason: str) -> None:
        self.document_id = document_id
        self.reason = reason
        super().__init__(f"document {document_id} failed: {reason}")

    def __reduce__(self) -> tuple[type[DocumentFailed], tuple[str, str]]:
        return (type(self), (self.document_id, self.reason))


class TooManyAttempts(CorrespondenceError):
    """Too many failed sign-ins for an account or an address: try again after
    ``retry_after`` seconds."""

    def __init__(self, message: str, retry_after: float) -> None:
        super().__init__(message)
        self.retry_after = retry_after
