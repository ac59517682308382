"""Email delivery against a real SMTP server (aiosmtpd on 127.0.0.1): message structure in
both languages, an outage that ends in exactly one delivery, a permanent refusal, and the
signed download link for large documents."""

from __future__ import annotations

import email
import hashlib
import time
from collections.abc import Iterator
from email.message import EmailMessage
from email.policy import default
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiosmtpd.controller import Controller

from tests.api.conftest import Api, fast_settings
from tests.conftest import in_language, load_sample
from tests.servers import api_server, free_port


class Recorder:
    """An SMTP handler that keeps what it accepts and refuses addresses starting 'reject'."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: Any
    ) -> str:
        if address.startswith("reject"):
            return "550 5.1.1 mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = email.message_from_bytes(envelope.content, policy=default)
        assert isinstance(message, EmailMessage)
        self.messages.append(message)
        return "250 Message accepted"


class Smtp:
    """A restartable aiosmtpd server on a fixed port."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.recorder = Recorder()
        self.controller: Controller | None = None

    def start(self) -> None:
        self.controller = Controller(self.recorder, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None


@pytest.fixture()
def smtp() -> Iterator[Smtp]:
    server = Smtp(free_port())
    server.start()
    yield server
    server.stop()


def smtp_api(tmp_path: Path, port: int, **overrides: Any) -> Any:
    return api_server(
        fast_settings(
            tmp_path, mail_backend="smtp", smtp_port=port, smtp_timeout_seconds=2.0, **overrides
        )
    )


def wait_for(api: Api, document_id: str, status: str, timeout: float = 20) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        deliveries = api.get(f"/v1/documents/{document_id}/deliveries").json()
        if deliveries and deliveries[-1]["status"] == status:
            return deliveries[-1]
        assert time.monotonic() < deadline, deliveries
        time.sleep(0.1)


def with_delivery(payload: dict[str, Any], *to: str) -> dict[str, Any]:
    return {**payload, "deliver": {"email": {"to": list(to), "cc": ["broker@agency.example"]}}}


def parts(message: EmailMessage) -> tuple[str, str, list[EmailMessage]]:
    body_text = message.get_body(preferencelist=("plain",))
    body_html = message.get_body(preferencelist=("html",))
    assert body_text is not None and body_html is not None
    attachments = list(message.iter_attachments())
    return body_text.get_content(), body_html.get_content(), attachments  # type: ignore[return-value]


def test_spanish_invoice_email_structure(tmp_path: Path, smtp: Smtp) -> None:
    """multipart/alternative text and HTML plus the PDF; From, To, Reply-To, Subject, IDs."""
    with smtp_api(tmp_path, smtp.port) as running:
        api = Api(running)
        doc = api.post(
            "/v1/documents",
            with_delivery(
                load_sample("02_premium_invoice_es-MX.json"), "tesoreria@nopalazul.example"
            ),
        ).json()
        sent = wait_for(api, doc["id"], "sent")
        assert [a["outcome"] for a in sent["attempts"]] == ["sent"]
        (message,) = smtp.recorder.messages
        assert message.get_content_type() == "multipart/mixed"
        assert message["To"] == "tesoreria@nopalazul.example"
        assert message["Cc"] == "broker@agency.example"
        assert "andres.muestra@fictia-credito.example" in message["Reply-To"]
        assert "Lic. Andrés Muestra Robles" in str(message["Reply-To"])
        assert message["Message-ID"] == sent["message_id"] and message["Date"]
        assert "Fictia Seguros de Crédito" in str(message["From"])
        summary = "Factura PRI-2026-001874: $76,067.00\u00a0MXN a pagar a más tardar el " + (
            "31 de enero de 2027"
        )
        assert str(message["Subject"]).replace("\u00a0", " ") == summary.replace("\u00a0", " ")
        text, html, attachments = parts(message)
        assert summary in text and "Responda a este correo" in text
        assert "Lic. Andrés Muestra Robles" in text and '<html lang="es-MX">' in html
        (pdf,) = attachments
        assert pdf.get_content_type() == "application/pdf"
        assert pdf.get_filename() == "factura-PRI-2026-001874.pdf"
        archived = api.get(doc["links"]["pdf"]).content
        assert pdf.get_content() == archived
        api.http.close()


def test_english_email_and_escaping(tmp_path: Path, smtp: Smtp) -> None:
    """English subject and file name; request data is escaped in the HTML part."""
    payload = in_language(load_sample("02_premium_invoice_es-MX.json"), "en")
    payload["document"]["locale"] = "en-GB"
    payload["policyholder"]["contact"]["address_as"]["surname"] = "<b>Lara</b>"
    with smtp_api(tmp_path, smtp.port) as running:
        api = Api(running)
        doc = api.post("/v1/documents", with_delivery(payload, "treasury@nopalazul.example")).json()
        wait_for(api, doc["id"], "sent")
        (message,) = smtp.recorder.messages
        assert str(message["Subject"]).replace("\u00a0", " ") == (
            "Invoice PRI-2026-001874: MXN 76,067.00 due by 31 January 2027"
        )
        text, html, (pdf,) = parts(message)
        assert "Was this document clear?" in text and "Dear Mr <b>Lara</b>," in text
        assert "Dear Mr &lt;b&gt;Lara&lt;/b&gt;," in html
        assert pdf.get_filename() == "invoice-PRI-2026-001874.pdf"
        api.http.close()


def test_server_down_then_up_delivers_exactly_once(tmp_path: Path) -> None:
    """Queued while the server is down, retried with backoff, delivered once when it is back."""
    smtp = Smtp(free_port())
    with smtp_api(tmp_path, smtp.port) as running:
        api = Api(running)
        doc = api.post(
            "/v1/documents",
            with_delivery(
                load_sample("03_credit_limit_change_reduction_es-ES.json"),
                "elena.ficticia@ceramicas-valle.example",
            ),
        ).json()
        deadline = time.monotonic() + 10
        while not (d := api.get(f"/v1/documents/{doc['id']}/deliveries").json()[0])["attempts"]:
            assert time.monotonic() < deadline
            time.sleep(0.1)
        assert d["status"] == "queued" and d["attempts"][0]["outcome"] == "temporary_failure"
        smtp.start()
        try:
            sent = wait_for(api, doc["id"], "sent")
            time.sleep(1.0)  # give a duplicate every chance to appear
            assert len(smtp.recorder.messages) == 1
            outcomes = [a["outcome"] for a in sent["attempts"]]
            assert outcomes[-1] == "sent" and set(outcomes[:-1]) == {"temporary_failure"}
        finally:
            smtp.stop()
        api.http.close()


def test_permanent_refusal_is_recorded_as_failed(tmp_path: Path, smtp: Smtp) -> None:
    """SMTP 550: the delivery fails with the server's reply and is not retried."""
    with smtp_api(tmp_path, smtp.port) as running:
        api = Api(running)
        doc = api.post("/v1/documents", load_sample("02_premium_invoice_es-MX.json")).json()
        created = api.post(
            f"/v1/documents/{doc['id']}/deliveries", {"email": {"to": ["reject@nopalazul.example"]}}
        )
        assert created.status_code == 201
        failed = wait_for(api, doc["id"], "failed")
        assert "550" in failed["last_error"] and "mailbox unavailable" in failed["last_error"]
        assert [a["outcome"] for a in failed["attempts"]] == ["permanent_failure"]
        assert smtp.recorder.messages == []
        api.http.close()


def test_large_document_gets_a_signed_expiring_link(tmp_path: Path, smtp: Smtp) -> None:
    """Above the size limit: no attachment, a link that works without a key, then expires."""
    with smtp_api(
        tmp_path, smtp.port, mail_max_attachment_bytes=1000, download_link_ttl_seconds=3
    ) as running:
        api = Api(running)
        doc = api.post(
            "/v1/documents",
            with_delivery(
                load_sample("01_renewal_pack_es-ES.json"), "elena.ficticia@ceramicas-valle.example"
            ),
        ).json()
        wait_for(api, doc["id"], "sent")
        (message,) = smtp.recorder.messages
        text, _html, attachments = parts(message)
        assert attachments == []
        link = next(word for word in text.split() if "/v1/downloads/" in word)
        path = link.split("127.0.0.1:8000", 1)[1]
        fetched = httpx.get(running.base_url + path)  # no Authorization header
        assert fetched.status_code == 200
        assert hashlib.sha256(fetched.content).hexdigest() == doc["sha256"]
        tampered = httpx.get(running.base_url + path[:-1] + ("0" if path[-1] != "0" else "1"))
        assert tampered.status_code == 403
        time.sleep(3.2)
        expired = httpx.get(running.base_url + path)
        assert expired.status_code == 403 and "expired" in expired.json()["errors"][0]["message"]
        api.http.close()


def test_invalid_address_is_422_naming_it(api: Api) -> None:
    """Every address is validated before anything is issued."""
    body = {
        **load_sample("02_premium_invoice_es-MX.json"),
        "deliver": {"email": {"to": ["ok@nopalazul.example", "not an address"]}},
    }
    response = api.post("/v1/documents", body)
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "deliver.email.to.1"
    assert api.get("/v1/documents").json()["total"] == 0


def test_embedded_outbox_and_idempotent_resend(api: Api) -> None:
    """With no mail server, messages land in the outbox folder; a retried resend sends once."""
    doc = api.post(
        "/v1/documents", load_sample("05_credit_limit_decision_partial_es-MX.json")
    ).json()
    body = {"email": {"to": ["tesoreria@nopalazul.example"]}}
    first = api.post(f"/v1/documents/{doc['id']}/deliveries", body, **{"Idempotency-Key": "r-1"})
    again = api.post(f"/v1/documents/{doc['id']}/deliveries", body, **{"Idempotency-Key": "r-1"})
    assert first.status_code == 201 and again.status_code == 200
    assert first.json()["id"] == again.json()["id"]
    wait_for(api, doc["id"], "sent")
    outbox = api.service.settings.resolved_outbox_dir
    files = list(outbox.glob("*.eml"))
    assert len(files) == 1
    message = email.message_from_bytes(files[0].read_bytes(), policy=default)
    assert "DEC-LIM" not in str(message["Subject"]) and "SL-2026-118734" in str(message["Subject"])
    assert len(api.get(f"/v1/documents/{doc['id']}/deliveries").json()) == 1


def test_retried_issue_request_sends_once(tmp_path: Path, smtp: Smtp) -> None:
    """The same Idempotency-Key replays the request: one document, one delivery, one email."""
    body = with_delivery(
        load_sample("02_premium_invoice_es-MX.json"), "tesoreria@nopalazul.example"
    )
    with smtp_api(tmp_path, smtp.port) as running:
        api = Api(running)
        first = api.post("/v1/documents", body, **{"Idempotency-Key": "issue-and-send-1"})
        again = api.post("/v1/documents", body, **{"Idempotency-Key": "issue-and-send-1"})
        assert first.json()["id"] == again.json()["id"]
        wait_for(api, first.json()["id"], "sent")
        time.sleep(1.0)
        assert len(api.get(f"/v1/documents/{first.json()['id']}/deliveries").json()) == 1
        assert len(smtp.recorder.messages) == 1
        api.http.close()
