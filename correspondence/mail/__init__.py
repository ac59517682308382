"""The mailer port: send one email message.

Adapters: :class:`correspondence.mail.smtp.SmtpMailer` (any SMTP server, STARTTLS or SSL,
with or without auth) and :class:`correspondence.mail.outbox.OutboxFolderMailer`, the
embedded default, which writes ``.eml`` files to a folder so that ``make run`` works with no
mail server. Failures are either temporary (retry later) or permanent (record and stop).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import getaddresses
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


@dataclass(frozen=True)
class Sent:
    """What the server did with each recipient of one message: ``accepted`` have it;
    ``temporary`` refusals (4xx) may be tried again, ``permanent`` ones (5xx) never."""

    reply: str
    accepted: tuple[str, ...]
    temporary: Mapping[str, str] = field(default_factory=dict)
    permanent: Mapping[str, str] = field(default_factory=dict)


class Mailer(Protocol):
    """Sends messages."""

    def send(self, *, message: EmailMessage, recipients: Sequence[str] | None = None) -> Sent:
        """Send ``message`` to ``recipients`` (default: its To and Cc headers) and say
        what became of each. A failure of the whole message raises ``MailError``."""


def header_recipients(message: EmailMessage) -> list[str]:
    """The addresses of a message's To and Cc headers."""
    fields = [str(message[name]) for name in ("To", "Cc") if message[name]]
    return [address for _, address in getaddresses(fields) if address]
