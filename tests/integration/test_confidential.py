"""Issue 19 point 7: only what the customer may see is embedded. Each kind declares its
internal fields (``Kind.internal``); the PDF's ``payload.json`` leaves them out, on every
sample and on the variants where a rating is not shareable."""

from __future__ import annotations

import copy
import io
import json
from typing import Any

import pytest
from pypdf import PdfReader

from correspondence.engine import PAYLOAD_ATTACHMENT, Engine
from correspondence.kinds import KINDS, SAMPLES_DIR, customer_payload
from tests.conftest import flat, load_sample, pdf_text


def _unshared(name: str, *paths: str) -> dict[str, Any]:
    payload = copy.deepcopy(load_sample(name))
    for path in paths:
        node = payload
        for part in path.split("."):
            node = node[part]
        node["shareable"] = False
    return payload


def _cases() -> dict[str, dict[str, Any]]:
    cases = {f.name: load_sample(f.name) for f in sorted(SAMPLES_DIR.glob("*.json"))}
    decision = "05_credit_limit_decision_partial_es-MX.json"
    unshared = _unshared(decision, "buyer_rating")
    unshared["request"]["buyer"]["rating"] = copy.deepcopy(unshared["buyer_rating"])
    cases["decision, rating not shareable"] = unshared
    cases["change notice, rating not shareable"] = _unshared(
        "03_credit_limit_change_reduction_es-ES.json", "buyer.rating"
    )
    return cases


def _has(tree: Any, path: str) -> bool:
    for part in path.split("."):
        if not isinstance(tree, dict) or part not in tree:
            return False
        tree = tree[part]
    return True


@pytest.mark.parametrize("case", sorted(_cases()))
def test_no_internal_field_is_embedded(engine: Engine, case: str) -> None:
    """The attachment holds the payload less the kind's internal fields, and nothing else
    is lost: every other field the request set is there."""
    payload = _cases()[case]
    validated = engine.validate(payload)
    internal = validated.kind.internal(validated.doc)
    pdf = engine.render(validated).pdf
    embedded = json.loads(PdfReader(io.BytesIO(pdf)).attachments[PAYLOAD_ATTACHMENT][0])
    for path in internal:
        assert _has(payload, path)  # the request had it…
        assert not _has(embedded, path)  # …the customer's PDF does not
    for key in payload:
        assert key in embedded or key in internal
    if "rating not shareable" in case:
        assert internal  # and the letter's text leaves the rating out as well
        rating = payload.get("buyer_rating") or payload["buyer"]["rating"]
        assert f"({rating['label']})" not in flat(pdf_text(pdf))


def test_the_decision_declares_its_sla_and_unshared_ratings_internal() -> None:
    """What each kind declares: the SLA always; a rating only when it is not shareable."""
    kind = KINDS["credit_limit_decision"]
    shared = kind.model.model_validate(load_sample("05_credit_limit_decision_partial_es-MX.json"))
    assert kind.internal(shared) == ("sla",)
    unshared = _cases()["decision, rating not shareable"]
    doc = kind.model.model_validate(unshared)
    assert set(kind.internal(doc)) == {"sla", "buyer_rating", "request.buyer.rating"}


def test_a_kind_without_internal_fields_embeds_the_model_unchanged(engine: Engine) -> None:
    """No internal field: the attachment is the model's own JSON, byte for byte."""
    validated = engine.validate(load_sample("02_premium_invoice_es-MX.json"))
    expected = validated.doc.model_dump_json(indent=2, exclude_unset=True, by_alias=True)
    assert customer_payload(validated) == expected.encode("utf-8")


@pytest.mark.parametrize(
    ("name", "path"),
    [
        ("01_renewal_pack_es-ES.json", "premium_invoice.payment.iban"),
        ("06_claim_decision_partial_es-ES.json", "payment.iban"),
    ],
)
def test_the_customers_own_account_is_embedded_masked_as_printed(
    engine: Engine, name: str, path: str
) -> None:
    """A customer's account number (debited, refunded, paid an indemnity) is printed
    masked; the attachment carries it masked the same way, never in full."""
    from correspondence.kinds.common import mask_account

    payload = load_sample(name)
    node: Any = payload
    for part in path.split("."):
        node = node[part]
    full = str(node)
    pdf = engine.render(engine.validate(payload)).pdf
    raw = PdfReader(io.BytesIO(pdf)).attachments[PAYLOAD_ATTACHMENT][0].decode("utf-8")
    assert full not in raw.replace(" ", "")
    embedded: Any = json.loads(raw)
    for part in path.split("."):
        embedded = embedded[part]
    assert embedded == mask_account(full)
    assert mask_account(full) in flat(pdf_text(pdf))
