"""Metadata as a reader's PDF viewer shows it (issue 19, point 9): a pack keeps its Title,
Author, Subject and language after the page-label update, and a standalone document's
first bookmark is its own title. Read with poppler's ``pdfinfo`` and with pypdf."""

from __future__ import annotations

import io
import subprocess
from pathlib import Path

import pytest
from pypdf import PdfReader

from correspondence.engine import Engine
from tests.conftest import SAMPLES, load_sample


def pdfinfo(data: bytes, tmp_path: Path) -> dict[str, str]:
    path = tmp_path / "document.pdf"
    path.write_bytes(data)
    out = subprocess.run(
        ["pdfinfo", "-enc", "UTF-8", str(path)], check=True, capture_output=True, text=True
    ).stdout
    fields = {}
    for line in out.splitlines():
        key, _, value = line.partition(":")
        fields[key.strip()] = value.strip()
    return fields


@pytest.mark.parametrize("locale", ["es-ES", "es-MX"])
def test_a_pack_keeps_its_metadata_after_the_page_labels(
    engine: Engine, locale: str, tmp_path: Path
) -> None:
    validated = engine.validate(load_sample("01_renewal_pack_es-ES.json"))
    data = engine.render(validated, locale=locale).pdf
    reader = PdfReader(io.BytesIO(data))
    assert reader.page_labels[0].endswith(" 1") and "/PageLabels" in reader.trailer["/Root"]
    info = pdfinfo(data, tmp_path)
    html = engine.html(validated, locale=locale)
    policy = validated.doc.policy.number
    assert policy in info["Title"] and info["Title"] in html
    assert info["Author"] == validated.doc.insurer.legal_name
    assert info["Subject"].startswith(info["Title"].split(" ")[0])
    assert reader.metadata is not None and reader.metadata.title == info["Title"]
    assert reader.trailer["/Root"]["/Lang"] == locale


@pytest.mark.parametrize("name", sorted(p.name for p in SAMPLES.glob("*.json")))
def test_the_first_bookmark_is_the_documents_title(engine: Engine, name: str) -> None:
    data = engine.render(engine.validate(load_sample(name))).pdf
    reader = PdfReader(io.BytesIO(data))
    first = reader.outline[0]
    assert not isinstance(first, list)
    if "/PageLabels" in reader.trailer["/Root"]:  # a pack: its first component
        assert first.title == reader.page_labels[0].rsplit(" ", 1)[0]
    else:
        assert reader.metadata is not None and first.title == reader.metadata.title
    titles = [item.title for item in reader.outline if not isinstance(item, list)]
    assert "Su contacto" not in titles and "Your contact" not in titles
