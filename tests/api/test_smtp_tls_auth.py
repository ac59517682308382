"""The SMTP adapter's STARTTLS and AUTH against a real aiosmtpd server with a throwaway
certificate, trusted through the CA-file setting."""

from __future__ import annotations

import ssl
import subprocess
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from correspondence.mail import PermanentFailure
from correspondence.mail.smtp import SmtpMailer
from tests.api.test_email import Recorder
from tests.servers import free_port

USER, PASSWORD = "relay-user", "relay password 123"


def _authenticate(
    server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any
) -> AuthResult:
    ok = isinstance(auth_data, LoginPassword) and (auth_data.login, auth_data.password) == (
        USER.encode(),
        PASSWORD.encode(),
    )
    return AuthResult(success=ok, handled=False)


@pytest.fixture()
def tls_server(tmp_path: Path) -> Iterator[tuple[int, Path, Recorder]]:
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
            "-keyout",
            str(key),
            "-out",
            str(cert),
        ],
        check=True,
        capture_output=True,
    )
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    recorder, port = Recorder(), free_port()
    controller = Controller(
        recorder,
        hostname="127.0.0.1",
        port=port,
        tls_context=context,
        require_starttls=True,
        authenticator=_authenticate,
        auth_require_tls=True,
    )
    controller.start()
    yield port, cert, recorder
    controller.stop()


def message() -> EmailMessage:
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = "a@example.com", "b@example.com", "TLS test"
    msg["Message-ID"] = "<tls-test@example.com>"
    msg.set_content("hello")
    return msg


def test_starttls_and_auth(tls_server: tuple[int, Path, Recorder]) -> None:
    """STARTTLS with the trusted CA, then AUTH: the message is accepted."""
    port, cert, recorder = tls_server
    mailer = SmtpMailer(
        host="127.0.0.1",
        port=port,
        security="starttls",
        username=USER,
        password=PASSWORD,
        ca_file=cert,
    )
    mailer.send(message=message())
    assert [m["Subject"] for m in recorder.messages] == ["TLS test"]


def test_wrong_password_is_permanent(tls_server: tuple[int, Path, Recorder]) -> None:
    """535 authentication failed is a permanent failure with the server's reply."""
    port, cert, recorder = tls_server
    mailer = SmtpMailer(
        host="127.0.0.1",
        port=port,
        security="starttls",
        username=USER,
        password="wrong",
        ca_file=cert,
    )
    with pytest.raises(PermanentFailure) as caught:
        mailer.send(message=message())
    assert "535" in caught.value.reply
    assert recorder.messages == []


def test_untrusted_certificate_is_refused(tls_server: tuple[int, Path, Recorder]) -> None:
    """Without the CA, the self-signed certificate is not trusted: nothing is sent."""
    port, _cert, recorder = tls_server
    from correspondence.mail import TemporaryFailure

    mailer = SmtpMailer(
        host="127.0.0.1", port=port, security="starttls", username=USER, password=PASSWORD
    )
    with pytest.raises(TemporaryFailure):
        mailer.send(message=message())
    assert recorder.messages == []
