"""Issue 22: an integrator's client, generated from the live /openapi.json with
openapi-python-client (fetched with --url and no credentials, as the generator does), and
used with no hand edits against a real uvicorn server."""

from __future__ import annotations

import hashlib
import importlib
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from correspondence.service import SCOPES
from tests.api.conftest import fast_settings
from tests.api.test_documents import unnumbered_es_invoice
from tests.conftest import load_sample
from tests.servers import RunningApi, api_server

PACKAGE = "correspondence_api_client"
GENERATOR_CONFIG = """\
# Our PDFs are application/pdf; the generator reads bytes for octet-stream only.
content_type_overrides:
  application/pdf: application/octet-stream
"""


class Generated:
    """The generated package's modules, imported by name."""

    def __init__(self, running: RunningApi, key: str) -> None:
        self.running = running
        self.key = key

    def __getattr__(self, name: str) -> ModuleType:
        return importlib.import_module(f"{PACKAGE}.{name}")

    def client(self, key: str | None = None) -> Any:
        return self.__getattr__("client").AuthenticatedClient(
            base_url=self.running.base_url, token=key or self.key, raise_on_unexpected_status=True
        )

    def call(self, operation: str, **kwargs: Any) -> Any:
        """``api.<area>.<operation>.sync_detailed`` with an authenticated client."""
        area, name = operation.split(".")
        module = importlib.import_module(f"{PACKAGE}.api.{area}.{name}")
        with kwargs.pop("client", None) or self.client() as client:  # closes its sockets
            return module.sync_detailed(client=client, **kwargs)

    def model(self, name: str) -> Any:
        return getattr(importlib.import_module(f"{PACKAGE}.models"), name)


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Generated]:
    folder = tmp_path_factory.mktemp("generated")
    (folder / "config.yml").write_text(GENERATOR_CONFIG)
    with api_server(fast_settings(folder / "data")) as running:
        bin_dir = Path(sys.executable).parent
        done = subprocess.run(
            [
                str(bin_dir / "openapi-python-client"),
                "generate",
                "--url",
                f"{running.base_url}/openapi.json",
                "--config",
                str(folder / "config.yml"),
                "--output-path",
                str(folder / PACKAGE),
                "--meta",
                "none",
            ],
            capture_output=True,
            text=True,
            timeout=300,
            env={"PATH": f"{bin_dir}:/usr/bin:/bin"},
            check=False,
        )
        assert done.returncode == 0, done.stdout + done.stderr
        # Every schema and operation became code: nothing was skipped but NDJSON batches.
        said = done.stdout + done.stderr
        skipped = [line for line in said.splitlines() if "WARNING parsing" in line]
        assert skipped == ["WARNING parsing POST /v1/batches within batches."], said
        assert "Unable to process schema" not in said and "Cannot parse" not in said
        sys.path.insert(0, str(folder))
        try:
            yield Generated(running, running.service.create_api_key(name="gen", scopes=SCOPES))
        finally:
            sys.path.remove(str(folder))
            for name in [m for m in sys.modules if m.split(".")[0] == PACKAGE]:
                del sys.modules[name]


def issue(generated: Generated, payload: dict[str, Any], **options: Any) -> Any:
    body = generated.model("PremiumInvoiceRequest").from_dict(payload)
    return generated.call("documents.issue_document", body=body, **options)


def test_issue_an_invoice_and_fetch_its_pdf_bytes(generated: Generated) -> None:
    sample = load_sample("02_premium_invoice_es-MX.json")
    response = issue(generated, sample)
    assert response.status_code == 201
    document = response.parsed
    assert isinstance(document, generated.model("Document"))
    assert document.status == "issued" and document.kind == "premium_invoice"
    assert document.created_at.endswith("Z")
    assert response.headers["location"] == document.links.self_
    pdf = generated.call("documents.get_pdf", document_id=document.id)
    data = pdf.parsed.payload.read()
    assert data.startswith(b"%PDF-") and hashlib.sha256(data).hexdigest() == document.sha256
    again = generated.call("documents.get_document", document_id=document.id).parsed
    assert again.created_at == document.created_at  # one form on POST and GET


def test_list_with_filters_and_paging(generated: Generated) -> None:
    policy = "GEN-LIST-001"
    for i in range(3):
        payload = unnumbered_es_invoice(f"GEN-LIST-{i}")
        payload["policy"]["number"] = policy
        assert issue(generated, payload).status_code == 201
    first = generated.call("documents.list_documents", policy_number=policy, limit=2).parsed
    assert first.total == 3 and len(first.items) == 2 and first.links.next_
    rest = generated.call(
        "documents.list_documents", policy_number=policy, limit=2, offset=2
    ).parsed
    assert len(rest.items) == 1
    assert {d.business_reference for d in [*first.items, *rest.items]} == {
        f"GEN-LIST-{i}" for i in range(3)
    }
    Kind = generated.model("ListDocumentsKindType0")
    other = generated.call(
        "documents.list_documents", policy_number=policy, kind=Kind("claim_decision")
    ).parsed
    assert other.total == 0


def test_issue_asynchronously_and_poll(generated: Generated) -> None:
    response = issue(generated, unnumbered_es_invoice("GEN-ASYNC-1"), prefer="respond-async")
    assert response.status_code == 202
    assert int(response.headers["retry-after"]) >= 1
    document = response.parsed
    assert document.status in ("queued", "issuing", "issued")
    deadline = time.monotonic() + 60
    while document.status != "issued":
        assert time.monotonic() < deadline, document.status
        time.sleep(0.2)
        document = generated.call("documents.get_document", document_id=document.id).parsed
    assert document.sha256 and document.issued_at and document.issued_at.endswith("Z")


def test_request_a_delivery_and_list_deliveries(generated: Generated) -> None:
    document = issue(generated, unnumbered_es_invoice("GEN-DELIVER-1")).parsed
    Request, Recipients = generated.model("DeliveryRequest"), generated.model("Recipients")
    body = Request(email=Recipients(to=["tesoreria@example.com"], cc=[]))
    created = generated.call("deliveries.deliver", document_id=document.id, body=body)
    assert created.status_code == 201
    delivery = created.parsed
    assert created.headers["location"] == f"/v1/documents/{document.id}/deliveries/{delivery.id}"
    assert delivery.to == ["tesoreria@example.com"] and delivery.created_at.endswith("Z")
    listed = generated.call("deliveries.deliveries", document_id=document.id).parsed
    assert [d.id for d in listed] == [delivery.id]
    one = generated.call("deliveries.delivery", document_id=document.id, delivery_id=delivery.id)
    assert one.parsed.id == delivery.id


def test_read_a_typed_422_error(generated: Generated) -> None:
    payload = unnumbered_es_invoice("GEN-422-1")
    payload["totals"]["total"]["amount"] = "1.00"  # not what the lines add up to
    response = issue(generated, payload)
    assert response.status_code == 422
    refused = response.parsed
    assert isinstance(refused, generated.model("Errors"))
    assert "totals.total.amount" in [e.field for e in refused.errors]
    paging = generated.call("documents.list_documents", limit=0)
    assert paging.status_code == 422 and paging.parsed.errors[0].field == "limit"


def test_read_a_typed_401_and_409(generated: Generated) -> None:
    response = generated.call("documents.list_documents", client=generated.client("cor_bad_key"))
    assert response.status_code == 401
    assert "not valid" in response.parsed.errors[0].message
    payload = unnumbered_es_invoice("GEN-409-1")
    first = issue(generated, payload).parsed
    payload["document"]["issue_place"] = "Sevilla"
    changed = issue(generated, payload)
    assert changed.status_code == 409
    message = changed.parsed.errors[0].message
    assert first.id in message and "document.issue_place" in message and "reissue" in message
