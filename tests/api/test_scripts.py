"""Names in any script a packaged font draws (issue 19, point 8): Chinese, Japanese, Korean,
Greek and Cyrillic names issue like any other; a character no packaged font draws is
refused with 422 naming the field, before a number is reserved."""

from __future__ import annotations

import pytest

from tests.api.conftest import Api
from tests.api.test_documents import unnumbered_es_invoice
from tests.conftest import pdf_text

UNDRAWABLE = {"emoji": "ACME 😀 S.L.", "Linear B": "𐀀𐀁 Comercial S.L."}


@pytest.mark.parametrize("name", sorted(UNDRAWABLE))
def test_an_undrawable_name_is_422_naming_the_field_and_reserves_no_number(
    api: Api, name: str
) -> None:
    bad = unnumbered_es_invoice("BAD")
    bad["policyholder"]["legal_name"] = UNDRAWABLE[name]
    refused = api.post("/v1/documents", bad)
    assert refused.status_code == 422, refused.text
    problems = refused.json()["errors"]
    assert [p["field"] for p in problems] == ["policyholder.legal_name"]
    assert "cannot draw" in problems[0]["message"]
    cjk = unnumbered_es_invoice("CJK")
    cjk["policyholder"]["legal_name"] = "北京贸易有限公司"
    issued = api.post("/v1/documents", cjk)
    assert issued.status_code == 201, issued.text
    assert issued.json()["number"] == "PR-2026-000001"  # nothing was skipped
    assert "北京贸易有限公司" in pdf_text(api.get(issued.json()["links"]["pdf"]).content)
