"""Outbox folder adapter: the embedded default. Each message becomes one ``.eml`` file."""

from __future__ import annotations

import re
from collections.abc import Sequence
from email.message import EmailMessage
from pathlib import Path

from correspondence.files import private_folder, write_atomically
from correspondence.mail import Sent, TemporaryFailure, header_recipients

_SAFE = re.compile(r"[^A-Za-z0-9@._-]")


class OutboxFolderMailer:
    """Writes messages to ``folder`` as RFC 5322 files named after their Message-ID."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def send(self, *, message: EmailMessage, recipients: Sequence[str] | None = None) -> Sent:
        """Write the message (atomically, 0600, in a 0700 folder); the file name comes
        from our own Message-ID, sanitised. Every recipient counts as accepted."""
        name = _SAFE.sub("_", str(message["Message-ID"]).strip("<>")) + ".eml"
        to = tuple(recipients if recipients is not None else header_recipients(message))
        try:
            private_folder(self.folder)
            write_atomically(self.folder / name, message.as_bytes(), replace=True)
        except OSError as error:
            raise TemporaryFailure(f"cannot write to the outbox: {error}") from error
        return Sent(f"written to {self.folder / name}", to)
