"""The mailer port: send one email message.

Adapters: :class:`correspondence.mail.smtp.SmtpMailer` (any SMTP server, STARTTLS or SSL,
with or without auth) and :class:`correspondence.mail.outbox.OutboxFolderMailer`, the
embedded default, which writes ``.eml`` files to a folder so that ``make run`` works with no
mail server. Failures are either temporary (retry later) or permanent (record and stop).
"""

from __future__ import annotations

from email.message import EmailMessage
from typing import Protocol

from correspondence.errors import CorrespondenceError


class MailError(CorrespondenceError):
    """Base of sending failures; ``reply`` is what the server said, if anything."""

    def __init__(self, message: str, reply: str = "") -> None:
        super().__init__(message)
        self.reply = reply


class TemporaryFailure(MailError):
    """Connection refused, a timeout or an SMTP 4xx: try again later."""


class PermanentFailure(MailError):
    """An SMTP 5xx: the message will never be accepted as it is."""


class Mailer(Protocol):
    """Sends messages."""

    def send(self, *, message: EmailMessage) -> str:
        """Send ``message``; return the server's acceptance reply."""
