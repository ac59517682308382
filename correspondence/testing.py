"""In-memory stand-ins for the service's ports, for tests and for trying the use cases
without servers: an archive, a mailer and a clock that a test drives by hand.

They keep the contracts of the real adapters (the archive is write-once; the mailer
answers per recipient) and add switches to make them fail the way the real ones can.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage

from correspondence.archive import ArchiveConflict, ArchiveNotFound, ArchiveUnavailable
from correspondence.mail import Sent, header_recipients


@dataclass
class StoredObject:
    """One archived object."""

    data: bytes
    content_type: str
    metadata: dict[str, str]


class MemoryArchive:
    """A write-once archive in a dict. Set ``down`` to make every call fail as an
    unreachable archive does; set ``occupied`` to bytes to find every new key already
    holding them (another writer got there first)."""

    def __init__(self) -> None:
        self.objects: dict[str, StoredObject] = {}
        self.down = False
        self.occupied: bytes | None = None
        self._lock = threading.Lock()

    def _reachable(self) -> None:
        if self.down:
            raise ArchiveUnavailable("archive: the in-memory archive is switched off")

    def put(self, *, key: str, data: bytes, content_type: str, metadata: Mapping[str, str]) -> None:
        """Store ``data`` under ``key`` unless something is already there."""
        self._reachable()
        with self._lock:
            if self.occupied is not None and key not in self.objects:
                self.objects[key] = StoredObject(self.occupied, content_type, {})
            if key in self.objects:
                raise ArchiveConflict(f"{key} exists")
            self.objects[key] = StoredObject(bytes(data), content_type, dict(metadata))

    def get(self, *, key: str) -> bytes:
        """The bytes stored under ``key``."""
        self._reachable()
        try:
            return self.objects[key].data
        except KeyError:
            raise ArchiveNotFound(key) from None

    def exists(self, *, key: str) -> bool:
        """Whether an object is stored under ``key``."""
        self._reachable()
        return key in self.objects

    def check(self) -> None:
        """Raise :class:`ArchiveUnavailable` while ``down``."""
        self._reachable()


@dataclass
class MemoryMailer:
    """Keeps every message it is given. ``refuse`` maps an address to an SMTP reply:
    ``4xx`` refuses it for now, ``5xx`` for good; ``fail`` makes the whole next sends
    fail (a ``TemporaryFailure`` or ``PermanentFailure`` from :mod:`correspondence.mail`)."""

    sent: list[tuple[EmailMessage, tuple[str, ...]]] = field(default_factory=list)
    refuse: dict[str, str] = field(default_factory=dict)
    fail: Exception | None = None

    def send(self, *, message: EmailMessage, recipients: Sequence[str] | None = None) -> Sent:
        """Accept ``message`` for every recipient not in ``refuse``."""
        if self.fail is not None:
            raise self.fail
        targets = tuple(recipients if recipients is not None else header_recipients(message))
        temporary = {a: r for a, r in self.refuse.items() if a in targets and r.startswith("4")}
        permanent = {a: r for a, r in self.refuse.items() if a in targets and r.startswith("5")}
        accepted = tuple(a for a in targets if a not in self.refuse)
        if accepted:
            self.sent.append((message, accepted))
        return Sent("250 OK", accepted, temporary, permanent)


class ManualClock:
    """A clock that stands still until told to move (UTC)."""

    def __init__(self, start: datetime | None = None) -> None:
        self.now = start or datetime(2026, 3, 2, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> datetime:
        """Move on by ``seconds``; return the new time."""
        self.now += timedelta(seconds=seconds)
        return self.now
