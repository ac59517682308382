"""Outbox folder adapter: the embedded default. Each message becomes one ``.eml`` file."""

from __future__ import annotations

import re
from email.message import EmailMessage
from pathlib import Path

from correspondence.mail import TemporaryFailure

_SAFE = re.compile(r"[^A-Za-z0-9@._-]")


class OutboxFolderMailer:
    """Writes messages to ``folder`` as RFC 5322 files named after their Message-ID."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def send(self, *, message: EmailMessage) -> str:
        """Write the message; the file name comes from our own Message-ID, sanitised."""
        name = _SAFE.sub("_", str(message["Message-ID"]).strip("<>")) + ".eml"
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            (self.folder / name).write_bytes(message.as_bytes())
        except OSError as error:
            raise TemporaryFailure(f"cannot write to the outbox: {error}") from error
        return f"written to {self.folder / name}"
