"""Golden page text: one document of each kind in each language, reviewed like code.

Run with UPDATE_GOLDEN=1 to rewrite the snapshots, then read the diff before committing.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from correspondence.engine import Engine
from correspondence.kinds import SAMPLES_DIR
from tests.conftest import pdf_pages_text

GOLDEN = Path(__file__).parent.parent / "golden"

CASES = [
    ("premium_invoice", "02_premium_invoice_es-MX.json", "es-MX"),
    ("premium_invoice", "02_premium_invoice_es-MX.json", "es-ES"),
    ("credit_limit_change_notice", "03_credit_limit_change_reduction_es-ES.json", "es-ES"),
    ("credit_limit_change_notice", "03b_credit_limit_withdrawal_exceptional_en-GB.json", "en-GB"),
    ("credit_limit_decision", "05_credit_limit_decision_partial_es-MX.json", "es-MX"),
    ("credit_limit_decision", "05_credit_limit_decision_partial_es-MX.json", "es-ES"),
    ("claim_filing_guide", "04_claim_filing_guide_en-GB.json", "en-GB"),
    ("claim_filing_guide", "04_claim_filing_guide_en-GB.json", "en-US"),
    ("claim_decision", "06_claim_decision_partial_es-ES.json", "es-ES"),
    ("claim_decision", "06_claim_decision_partial_es-ES.json", "es-MX"),
    ("collection_update", "07_collection_update_es-MX.json", "es-MX"),
    ("collection_update", "07b_collection_update_en-GB.json", "en-GB"),
]
"""Each sample in its own locale and in the other region of its language: a payload's
free text is in one language, so it renders only in that language's locales."""


def sample(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((SAMPLES_DIR / name).read_text("utf-8"))
    return loaded


@pytest.mark.parametrize(("kind", "name", "locale"), CASES)
def test_golden_page_text(engine: Engine, kind: str, name: str, locale: str) -> None:
    """The page text matches the reviewed snapshot."""
    payload = sample(name)
    assert payload["document"]["type"] == kind
    pages = pdf_pages_text(engine.render(engine.validate(payload), locale=locale).pdf)
    text = "".join(f"--- page {i} ---\n{page}\n" for i, page in enumerate(pages, 1))
    path = GOLDEN / f"{kind}.{locale}.txt"
    if os.environ.get("UPDATE_GOLDEN") == "1":
        path.write_text(text, "utf-8")
    assert path.read_text("utf-8") == text


@pytest.mark.parametrize("locale", ["es-ES", "es-MX"])
def test_golden_cover_letter(engine: Engine, locale: str) -> None:
    """The renewal pack's cover letter (its pages only) matches the reviewed snapshot."""
    import io

    from pypdf import PdfReader

    rendered = engine.render(engine.validate(sample("01_renewal_pack_es-ES.json")), locale=locale)
    reader = PdfReader(io.BytesIO(rendered.pdf))
    first_label = reader.page_labels[0].rsplit(" ", 1)[0]
    pages = [
        page
        for page, label in zip(pdf_pages_text(rendered.pdf), reader.page_labels, strict=True)
        if label.startswith(first_label)
    ]
    text = "".join(f"--- page {i} ---\n{page}\n" for i, page in enumerate(pages, 1))
    path = GOLDEN / f"renewal_pack.cover_letter.{locale}.txt"
    if os.environ.get("UPDATE_GOLDEN") == "1":
        path.write_text(text, "utf-8")
    assert path.read_text("utf-8") == text
