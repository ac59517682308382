"""The message catalogs: which sentences each language's templates hold, and the ``.po``
files that give them per locale (docs/language.md).

``python -m correspondence.catalogs`` extracts the messages of ``templates/shared`` and
``templates/{es,en}`` and merges them into ``templates/locale/*/LC_MESSAGES/messages.po``
(new messages untranslated, vanished ones dropped), as ``pybabel extract`` and
``pybabel update`` would. The tests check that every catalog is complete.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po, write_po

from correspondence.config import Settings
from correspondence.templating import CATALOG_LOCALES, catalog_path

LANGUAGE_OF = {"es_MX": "es", "es_ES": "es", "en_GB": "en", "en_US": "en"}
SOURCE_LOCALE = {"es": "es_MX", "en": "en_GB"}
"""The locale each language's templates are written in: its catalog translates only the
shared skeleton's (English) labels; the other region's catalog gives whole sentences."""

_METHODS = [("**.html", "jinja2"), ("**.txt", "jinja2")]
_OPTIONS = {
    "**.html": {"extensions": "jinja2.ext.i18n", "trimmed": "true"},
    "**.txt": {"extensions": "jinja2.ext.i18n", "trimmed": "true"},
}

Key = str | tuple[str, ...]


def _messages(directory: Path) -> Iterator[tuple[Key, str | None, str]]:
    for filename, _lineno, message, _comments, context in extract_from_dir(
        directory, _METHODS, _OPTIONS
    ):
        yield message, context, filename


def extract(templates_dir: Path, language: str) -> Catalog:
    """Every message of ``templates/shared`` and ``templates/{language}``."""
    found = Catalog(locale=None, project="correspondence", fuzzy=False)
    for folder in ("shared", language):
        for message, context, filename in _messages(templates_dir / folder):
            found.add(message, None, [(f"{folder}/{filename}", 0)], context=context)
    return found


def shared_ids(templates_dir: Path) -> set[str]:
    """Message ids of the shared skeleton (English, translated by every Spanish catalog)."""
    return {
        m if isinstance(m, str) else m[0] for m, _context, _f in _messages(templates_dir / "shared")
    }


def update(templates_dir: Path) -> None:
    """Merge the extracted messages into each locale's ``.po`` file."""
    for locale in CATALOG_LOCALES:
        template = extract(templates_dir, LANGUAGE_OF[locale])
        merge_into(catalog_path(templates_dir, locale), template, locale)


def merge_into(
    path: Path, template: Catalog, locale: str, *, domain: str | None = None, sort: bool = False
) -> None:
    """Merge the extracted messages ``template`` into the ``.po`` file at ``path`` (made if
    missing): new messages added untranslated, gone ones dropped, no fuzzy guesses."""
    if path.exists():
        with path.open("rb") as fh:
            existing = read_po(fh, locale=locale, domain=domain)
    else:
        existing = Catalog(locale=locale, project="correspondence", fuzzy=False, domain=domain)
    existing.update(template, no_fuzzy_matching=True)
    existing.obsolete.clear()
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as fh:
        write_po(fh, existing, width=0, omit_header=False, sort_output=sort, no_location=True)


if __name__ == "__main__":
    update(Settings().templates_dir)
    sys.exit(0)
