"""Template sets and catalogs: es and en have the same files, each locale its catalog."""

from __future__ import annotations

from pathlib import Path

import pytest
from babel.messages.pofile import read_po
from jinja2 import StrictUndefined

from correspondence.catalogs import LANGUAGE_OF, extract, shared_ids
from correspondence.config import Settings
from correspondence.kinds import KINDS
from correspondence.templating import CATALOG_LOCALES, build_environment, catalog, catalog_path


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


@pytest.mark.parametrize("locale", CATALOG_LOCALES)
def test_catalogs_hold_exactly_the_templates_messages(settings: Settings, locale: str) -> None:
    """Each .po file has every message its language's templates use, and no other:
    ``python -m correspondence.catalogs`` was run after the last template change."""
    with catalog_path(settings.templates_dir, locale).open("rb") as fh:
        messages = read_po(fh, locale=locale)
    extracted = extract(settings.templates_dir, LANGUAGE_OF[locale])
    assert {(m.id, m.context) for m in messages if m.id} == {
        (m.id, m.context) for m in extracted if m.id
    }
    assert not [m.id for m in messages if m.id and m.fuzzy]


@pytest.mark.parametrize("locale", ["es_MX", "es_ES"])
def test_spanish_catalogs_translate_every_label_of_the_shared_skeleton(
    settings: Settings, locale: str
) -> None:
    """The shared templates' message ids are English: each Spanish catalog translates all."""
    with catalog_path(settings.templates_dir, locale).open("rb") as fh:
        messages = read_po(fh, locale=locale)
    shared = shared_ids(settings.templates_dir)
    missing = [
        m.id
        for m in messages
        if m.id and (m.id if isinstance(m.id, str) else m.id[0]) in shared
        if not (m.string if isinstance(m.string, str) else all(m.string))
    ]
    assert not missing


def test_regional_wording_comes_from_each_regions_catalog(settings: Settings) -> None:
    """Whole phrases per region: carátula in Mexico, condiciones particulares in Spain;
    instalment in Britain, installment in the United States."""
    es_mx, es_es = (
        catalog(settings.templates_dir, "es-MX"),
        catalog(settings.templates_dir, "es-ES"),
    )
    assert es_mx.gettext("Policy schedule") == "Carátula de la póliza"
    assert es_es.gettext("Policy schedule") == "Condiciones particulares"
    sentence = "Pague la parcialidad 1 (%(amount)s, impuestos incluidos)"
    assert es_mx.gettext(sentence) == sentence
    assert es_es.gettext(sentence) == "Pague la fracción 1 (%(amount)s, impuestos incluidos)"
    en_gb, en_us = (
        catalog(settings.templates_dir, "en-GB"),
        catalog(settings.templates_dir, "en-US"),
    )
    pay = "Pay instalment 1 (%(amount)s including tax)"
    assert en_gb.gettext(pay) == pay
    assert en_us.gettext(pay) == "Pay installment 1 (%(amount)s including tax)"
    assert es_es.ngettext("%(count)s mes", "%(count)s meses", 1) == "%(count)s mes"
    assert es_es.ngettext("%(count)s mes", "%(count)s meses", 4) == "%(count)s meses"


def test_environment_is_strict_and_escapes(settings: Settings) -> None:
    """Autoescape on, undefined names fail loudly."""
    env = build_environment(settings.templates_dir)
    assert env.undefined is StrictUndefined
    assert env.from_string("{{ x }}").render(x="<b>") == "&lt;b&gt;"
