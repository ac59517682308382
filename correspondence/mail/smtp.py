"""SMTP adapter (smtplib): host, port, STARTTLS or SSL, and optional auth."""

from __future__ import annotations

import smtplib
import ssl
from collections.abc import Sequence
from email.message import EmailMessage
from pathlib import Path
from typing import Literal

from correspondence.mail import PermanentFailure, Sent, TemporaryFailure, header_recipients


class SmtpMailer:
    """Sends each message over a fresh SMTP connection."""

    def __init__(
        self,
        *,
        host: str,
        port: int,
        security: Literal["none", "starttls", "ssl"] = "none",
        username: str | None = None,
        password: str | None = None,
        timeout: float = 10.0,
        ca_file: Path | None = None,
    ) -> None:
        self.host, self.port, self.security = host, port, security
        self.username, self.password, self.timeout = username, password, timeout
        self.ca_file = ca_file

    def _tls(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=str(self.ca_file) if self.ca_file else None)

    def _connect(self) -> smtplib.SMTP:
        if self.security == "ssl":
            return smtplib.SMTP_SSL(self.host, self.port, timeout=self.timeout, context=self._tls())
        client = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
        if self.security == "starttls":
            client.starttls(context=self._tls())
        return client

    def check(self) -> None:
        """Connect and ``NOOP`` (for ``/readyz``); raise ``TemporaryFailure`` if it fails."""
        try:
            with self._connect() as client:
                code, _reply = client.noop()
        except (OSError, smtplib.SMTPException) as error:
            raise TemporaryFailure(f"SMTP {self.host}:{self.port}: {error}") from error
        if code != 250:
            raise TemporaryFailure(f"SMTP {self.host}:{self.port}: NOOP answered {code}")

    def send(self, *, message: EmailMessage, recipients: Sequence[str] | None = None) -> Sent:
        """Send to ``recipients`` (the envelope; the headers stay as they are). A 4xx or
        5xx for some recipients only is reported per recipient; for the whole message
        (or every recipient), 4xx and network errors raise ``TemporaryFailure``, 5xx
        ``PermanentFailure``."""
        to = list(recipients) if recipients is not None else header_recipients(message)
        try:
            with self._connect() as client:
                if self.username:
                    client.login(self.username, self.password or "")
                refused = client.send_message(message, to_addrs=to)
        except smtplib.SMTPRecipientsRefused as error:
            refused = error.recipients  # every recipient refused: say which, and how
            if not refused:
                raise TemporaryFailure("every recipient was refused") from error
        except smtplib.SMTPResponseException as error:
            raise _failure(error.smtp_code, error.smtp_error) from error
        except (TimeoutError, OSError, smtplib.SMTPException) as error:
            raise TemporaryFailure(f"cannot reach {self.host}:{self.port}: {error}") from error
        temporary: dict[str, str] = {}
        permanent: dict[str, str] = {}
        for address, (code, reply) in refused.items():
            failure = _failure(code, reply)
            (temporary if isinstance(failure, TemporaryFailure) else permanent)[address] = (
                failure.reply
            )
        accepted = tuple(a for a in to if a not in refused)
        return Sent("250 accepted" if accepted else "", accepted, temporary, permanent)


def _failure(code: int, reply: bytes | str) -> TemporaryFailure | PermanentFailure:
    text = reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)
    detail = f"{code} {text}"
    if 400 <= code < 500:
        return TemporaryFailure(f"SMTP {detail}", detail)
    return PermanentFailure(f"SMTP {detail}", detail)
