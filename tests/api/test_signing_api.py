"""Signed documents through the service (issue 25): the API archives the signed bytes and
records signer and time; ``GET /v1/verify/{sha256}`` reports the signature; a re-render is
compared with the PDF before signing; a retry that finds its own earlier signature archived
keeps it."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest

from correspondence import signing
from correspondence.config import Settings
from correspondence.errors import RenderError
from correspondence.issuing.artefacts import render_and_archive
from correspondence.kinds import KINDS, validate
from correspondence.renderers import EnginePool
from correspondence.testing import MemoryArchive
from tests.api.conftest import Api, fast_settings
from tests.servers import api_server
from tests.signing_pki import (
    SIGNER_NAME,
    Pki,
    TimestampAuthority,
    make_pki,
    nss_database,
    pdfsig,
    timestamp_authority,
)


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    return make_pki(tmp_path_factory.mktemp("pki"))


@pytest.fixture(scope="module")
def tsa(pki: Pki) -> Iterator[TimestampAuthority]:
    with timestamp_authority(pki) as running:
        yield running


@pytest.fixture()
def signing_api(tmp_path: Path, pki: Pki, tsa: TimestampAuthority) -> Iterator[Api]:
    settings = fast_settings(tmp_path, render_processes=0, **pki.settings(tsa_url=tsa.url))
    with api_server(settings) as running:
        client = Api(running)
        yield client
        client.http.close()


def test_a_signed_kind_is_archived_signed_and_verified(
    signing_api: Api, pki: Pki, tmp_path: Path
) -> None:
    created = signing_api.post("/v1/documents", KINDS["claim_decision"].sample())
    assert created.status_code == 201, created.text
    doc = created.json()
    assert doc["signed_by"] is not None and SIGNER_NAME in doc["signed_by"]
    signed_at = datetime.fromisoformat(doc["signed_at"].replace("Z", "+00:00"))
    pdf = signing_api.get(f"/v1/documents/{doc['id']}/pdf").content
    assert hashlib.sha256(pdf).hexdigest() == doc["sha256"] and len(pdf) == doc["size"]
    target = tmp_path / "archived.pdf"
    target.write_bytes(pdf)
    said = pdfsig(target, nss_database(tmp_path / "nss", pki.ca_file))
    assert "Signature is Valid." in said and "Certificate is Trusted." in said

    verified = signing_api.get(f"/v1/verify/{doc['sha256']}").json()
    assert verified["issued"] and verified["document"]["id"] == doc["id"]
    signature = verified["signature"]
    assert signature["signed"] and signature["valid"] and signature["intact"]
    assert signature["trusted"] and signature["problem"] is None
    assert signature["level"] == "B-T" and signature["timestamped_at"] is not None
    assert signature["signer"] == doc["signed_by"]
    assert datetime.fromisoformat(signature["signed_at"].replace("Z", "+00:00")) == signed_at

    # The registry keeps the render's own hash: a re-render reproduces it byte for byte.
    report = signing_api.service.reissue_check(doc["id"])
    assert report.identical and report.stored_sha256 != doc["sha256"]
    stored = validate(signing_api.service.payload(doc["id"]))
    assert pdf.startswith(signing_api.service.renderers.render(stored).document.pdf)


def test_a_kind_not_signed_is_archived_as_rendered(signing_api: Api) -> None:
    created = signing_api.post("/v1/documents", KINDS["collection_update"].sample())
    assert created.status_code == 201, created.text
    doc = created.json()
    assert doc["signed_by"] is None and doc["signed_at"] is None
    pdf = signing_api.get(f"/v1/documents/{doc['id']}/pdf").content
    assert not signing.check(pdf).signed
    verified = signing_api.get(f"/v1/verify/{doc['sha256']}").json()
    assert verified["issued"] and not verified["signature"]["signed"]
    assert not verified["signature"]["valid"]
    assert signing_api.service.reissue_check(doc["id"]).identical


def test_without_a_key_nothing_is_signed(api: Api) -> None:
    doc = api.post("/v1/documents", KINDS["claim_decision"].sample()).json()
    assert doc["signed_by"] is None
    assert not signing.check(api.get(f"/v1/documents/{doc['id']}/pdf").content).signed
    unknown = api.get(f"/v1/verify/{'0' * 64}").json()
    assert unknown == {"issued": False, "document": None}


def test_a_retry_keeps_its_own_earlier_signature_and_refuses_foreign_bytes(
    pki: Pki,
) -> None:
    """Signing is not deterministic (its time): a retry after a crash between the archive
    write and the commit finds a signature of ours over the same render there, and keeps
    it; bytes that are not that are refused."""
    signer = signing.from_settings(Settings(**pki.settings()))  # type: ignore[arg-type]
    assert signer is not None
    settings = Settings(render_processes=0)
    pool = EnginePool(settings, 1)
    validated = validate(KINDS["premium_invoice"].sample())
    archive = MemoryArchive()
    first = render_and_archive(pool, archive, validated, "doc-1", signer)
    time.sleep(1.1)  # the next signature states another second
    again = render_and_archive(pool, archive, validated, "doc-1", signer)
    assert first.signed is not None and again.signed is not None
    assert again.pdf == first.pdf and again.sha256 == first.sha256
    assert again.signed.signed_at == first.signed.signed_at
    assert again.unsigned_sha256 == first.unsigned_sha256 != first.sha256

    foreign = MemoryArchive()
    foreign.occupied = b"%PDF-1.7 someone else's bytes"
    with pytest.raises(RenderError, match="different bytes"):
        render_and_archive(pool, foreign, validated, "doc-2", signer)
