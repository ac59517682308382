"""Buyers' names in Chinese, Japanese, Korean, Greek and Cyrillic render in the packaged fonts
(issue 19, point 8), embedded as subsets; no document embeds a font that is not packaged."""

from __future__ import annotations

import copy
import io
from typing import Any

import pytest
from pypdf import PdfReader

from correspondence.engine import Engine
from correspondence.glyphs import FAMILIES
from tests.conftest import SAMPLES, load_sample, pdf_text

NAMES = {
    "Chinese": ("北京贸易有限公司", "Doc-CJK"),
    "Japanese": ("株式会社アクメ", "Doc-CJK"),
    "Korean": ("삼성물산 주식회사", "Doc-CJK"),
    "Cyrillic": ("ООО «Торговый дом Жуков»", "Doc-Sans"),
    "Greek": ("Αθηναϊκή Εμπορική Α.Ε.", "Doc-Sans"),
}
PACKAGED = ("Doc-Sans", "Doc-CJK")  # WeasyPrint names an embedded font by its family


def embedded_fonts(data: bytes) -> set[str]:
    """The base names of the fonts embedded in ``data``, without their subset tags."""
    names = set()
    for page in PdfReader(io.BytesIO(data)).pages:
        fonts: Any = page["/Resources"].get_object().get("/Font", {})
        for ref in fonts.values():
            base = str(ref.get_object()["/BaseFont"]).lstrip("/")
            names.add(base.split("+", 1)[-1])
    return names


def with_buyer(name: str) -> dict[str, Any]:
    payload = copy.deepcopy(load_sample("05_credit_limit_decision_partial_es-MX.json"))
    payload["request"]["buyer"]["legal_name"] = name
    return payload


@pytest.mark.parametrize("script", sorted(NAMES))
def test_a_buyer_name_renders_in_the_packaged_fonts(engine: Engine, script: str) -> None:
    name, font = NAMES[script]
    data = engine.render(engine.validate(with_buyer(name))).pdf
    assert name.replace("«", "« ").split()[0].strip("«") in pdf_text(data)
    fonts = embedded_fonts(data)
    assert any(f.startswith(font) for f in fonts), fonts
    assert all(f.startswith(PACKAGED) for f in fonts), fonts


@pytest.mark.parametrize("sample", sorted(p.name for p in SAMPLES.glob("*.json")))
def test_every_sample_embeds_only_packaged_fonts(engine: Engine, sample: str) -> None:
    data = engine.render(engine.validate(load_sample(sample))).pdf
    fonts = embedded_fonts(data)
    assert fonts and all(f.startswith(PACKAGED) for f in fonts), fonts


def test_the_packaged_families_are_the_stylesheets() -> None:
    from correspondence.pdf import ASSETS_DIR

    css = (ASSETS_DIR / "css" / "document.css").read_text("utf-8")
    for family, faces in FAMILIES.items():
        for face in faces:
            assert f'font-family: "{family}"; src: url("../fonts/{face}")' in css
