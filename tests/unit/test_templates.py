"""Template sets and glossaries: es and en have the same files, regions the same words."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
from jinja2 import StrictUndefined

from correspondence.config import Settings
from correspondence.kinds import KINDS
from correspondence.templating import _glossary_file, build_environment, glossary


def keys(table: Mapping[str, Any], prefix: str = "") -> set[str]:
    found = set()
    for key, value in table.items():
        found.add(prefix + key)
        if isinstance(value, Mapping):
            found |= keys(value, f"{prefix}{key}.")
    return found


def test_languages_have_the_same_template_files(settings: Settings) -> None:
    """Every template exists in templates/es and templates/en under the same name."""
    es = {
        p.relative_to(settings.templates_dir / "es")
        for p in (settings.templates_dir / "es").rglob("*")
        if p.is_file()
    }
    en = {
        p.relative_to(settings.templates_dir / "en")
        for p in (settings.templates_dir / "en").rglob("*")
        if p.is_file()
    }
    assert es == en
    for kind in KINDS.values():
        assert Path(kind.template) in es


@pytest.mark.parametrize(("language", "regions"), [("es", ("MX", "ES")), ("en", ("GB", "US"))])
def test_regions_define_the_same_words(
    settings: Settings, language: str, regions: tuple[str, str]
) -> None:
    """Each region overrides the same keys, so no locale lacks a word."""
    tables = _glossary_file(settings.templates_dir / language / "glossary.toml")
    assert keys(tables[regions[0]]) == keys(tables[regions[1]])


def test_languages_define_the_same_words(settings: Settings) -> None:
    """Spanish and English glossaries merge to the same set of keys."""
    assert keys(glossary(settings.templates_dir, "es-MX")) == keys(
        glossary(settings.templates_dir, "en-GB")
    )


def test_regional_vocabulary(settings: Settings) -> None:
    """contratante in Mexico, tomador in Spain; instalment in Britain, installment in the US."""
    assert glossary(settings.templates_dir, "es-MX")["policyholder"] == "contratante"
    assert glossary(settings.templates_dir, "es-ES")["policyholder"] == "tomador"
    assert glossary(settings.templates_dir, "en-GB")["instalment"] == "instalment"
    assert glossary(settings.templates_dir, "en-US")["instalment"] == "installment"


def test_environment_is_strict_and_escapes(settings: Settings) -> None:
    """Autoescape on, undefined names fail loudly."""
    env = build_environment(settings.templates_dir)
    assert env.undefined is StrictUndefined
    assert env.from_string("{{ x }}").render(x="<b>") == "&lt;b&gt;"
