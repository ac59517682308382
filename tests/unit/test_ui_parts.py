"""The staff UI's parts without a browser: the
``ui`` catalogs (:mod:`api.ui_i18n`) and the security policies (:mod:`api.ui_headers`)."""

from __future__ import annotations

import html
import re

import pytest
from babel.messages.pofile import read_po
from hypothesis import given
from hypothesis import strategies as st

from api import ui_headers
from api.ui_documents import AMOUNT, EFFECTIVE, summary
from api.ui_i18n import (
    KIND_NAMES,
    STATUS_NAMES,
    best_language,
    catalog_path,
    extract,
    texts,
    weight,
)
from api.ui_pages import local_path
from correspondence.kinds import KINDS
from correspondence.staff_languages import STAFF_LANGUAGES
from correspondence.statuses import DeliveryStatus, DocumentStatus


def test_the_catalogs_are_up_to_date_and_spanish_is_complete() -> None:
    """Every message of the UI is in both catalogs (``python -m api.ui_i18n`` was run) and
    translated into Spanish, with the same placeholders."""
    extracted = {m.id if isinstance(m.id, str) else m.id[0] for m in extract() if m.id}
    for language in STAFF_LANGUAGES:
        with catalog_path(language).open("rb") as fh:
            catalog = read_po(fh, locale=language)
        ids = {m.id if isinstance(m.id, str) else m.id[0] for m in catalog if m.id}
        assert ids == extracted, (language, extracted ^ ids)
        if language == "es":
            for message in catalog:
                if not message.id:
                    continue
                strings = message.string if isinstance(message.string, tuple) else (message.string,)
                assert all(strings), message.id
                sources = message.id if isinstance(message.id, tuple) else (message.id,)
                for text in strings:
                    assert _placeholders(text) <= _placeholders(" ".join(sources)), message.id
    assert set(KIND_NAMES) == set(KINDS)
    assert {str(s) for s in (*DocumentStatus, *DeliveryStatus)} <= set(STATUS_NAMES)


def _placeholders(text: str) -> set[str]:
    return set(re.findall(r"%\((\w+)\)s", text))


def test_kinds_statuses_dates_and_plurals_in_each_language() -> None:
    english, spanish = texts("en"), texts("es")
    assert english.kind("credit_limit_change_notice") == "Credit limit change notice"
    assert spanish.kind("credit_limit_change_notice") == "Aviso de cambio de límite de crédito"
    assert (english.status("failed"), spanish.status("failed")) == ("Failed", "Fallido")
    message = (
        "Showing %(first)s–%(last)s of %(num)s document",
        "Showing %(first)s–%(last)s of %(num)s documents",
    )
    assert english.ngettext(*message, 109, first=51, last=100) == "Showing 51–100 of 109 documents"
    assert spanish.ngettext(*message, 1, first=1, last=1) == "Mostrando 1–1 de 1 documento"
    assert texts("fr").language == "en"
    assert best_language("es-MX,es;q=0.9,en;q=0.8") == "es"
    assert best_language("fr-FR, en;q=0.5, es;q=0.4") == "en"
    assert best_language("en;q=0, es;q=0.1") == "es"
    assert best_language("") == best_language("de;q=x") == "en"


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("en;q=0.5, es;q=inf", "en"),  # not a qvalue: ignored, never ranked first
        ("en;q=0.5, es;q=nan", "en"),
        ("en;q=0.5, es;q=1e3", "en"),
        ("en;q=0.5, es;q=0.5000", "en"),  # four decimals
        ("en;q=0.5, es;q=1.5", "en"),
        ("en;q=0.5, es;q=-1", "en"),
        ("en;q=0.999, es;q=1.000", "es"),
        ("en;q=0.001, es;q=0", "en"),
        ("es;level=1;Q=0.2, en;q=0.1", "es"),  # q after another parameter, any case
        ("english, es;q=0.9", "es"),  # "english" is no tag of English
        ("EN-gb ; q=0.7 , es-419;q=0.6", "en"),
    ],
)
def test_accept_language_weights_are_qvalues(header: str, expected: str) -> None:
    assert best_language(header) == expected


def test_a_weight_is_read_in_thousandths() -> None:
    assert [weight(p) for p in ("", "q=1", " q = 0.25 ", "level=1;q=0.05", "q=0.")] == [
        1000,
        1000,
        250,
        50,
        0,
    ]
    assert [weight(p) for p in ("q=inf", "q=1.001", "q=", "q=.5")] == [None] * 4


@given(st.text(max_size=80))
def test_only_paths_of_the_ui_are_returned_to(value: str) -> None:
    kept = local_path(value)
    assert kept == value or kept == "/ui/documents"
    assert kept.startswith("/ui/") and "//" not in kept and "\\" not in kept
    assert ":" not in kept


def test_every_kind_with_an_amount_or_date_finds_it_in_its_sample() -> None:
    from datetime import UTC, date, datetime

    from correspondence.results import DocumentInfo

    for kind in KINDS:
        sample = KINDS[kind].sample()
        info = DocumentInfo(
            id="x", kind=kind, locale=sample["document"]["locale"], jurisdiction="ES",
            status=DocumentStatus.ISSUED, number=None, policy_number="P",
            policyholder_name="N", policyholder_tax_id="T", business_reference="R", version=1,
            replaces_id=None, issue_date=date(2026, 1, 1), sha256=None, size=None, pages=None,
            archive_key=None, warnings=(), template_version=None, template_hash=None,
            weasyprint_version=None, pypdf_version=None, created_at=datetime.now(UTC),
            issued_at=None, attempts=0, last_error=None,
        )  # fmt: skip
        found = summary(info, sample)
        assert (found.effective is not None) == (kind in EFFECTIVE), kind
        assert (found.amount is not None) == (kind in AMOUNT), kind


def test_the_ui_policy_allows_only_the_previews_own_styles() -> None:
    assert "style-src 'self';" in ui_headers.ui_policy("<p>no preview</p>")
    preview = '<style>p{color:red}</style><col style="width: 2cm"><p>x</p>'
    page = f'<iframe sandbox="allow-same-origin" srcdoc="{html.escape(preview)}"></iframe>'
    policy = ui_headers.ui_policy(page)
    style = next(d for d in policy.split("; ") if d.startswith("style-src"))
    assert style.count("'sha256-") == 2 and "'unsafe-hashes'" in style
    assert "unsafe-inline" not in policy and "script-src 'self';" in policy
    docs = ui_headers.docs_policy("<script>start()</script><script src='/x.js'></script>")
    script = next(d for d in docs.split("; ") if d.startswith("script-src"))
    assert script.count("'sha256-") == 1 and "frame-ancestors 'none'" in docs
