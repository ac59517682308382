"""One language per document (docs/language.md).

A payload's free text (:class:`~correspondence.free_text.Text`) is written in
``document.text_language`` (by default the language of ``document.locale``), or per field
in several languages (``{"es": "…", "en": "…"}``). A document renders in a locale only if
every free text it prints exists in that locale's language; otherwise the request is
refused naming each field that lacks it. Labels, headings and fixed phrases come from the
templates and their catalogs, never from the payload.
"""

from __future__ import annotations

import dataclasses
import re
from datetime import date
from decimal import Decimal
from typing import Any

from jinja2 import pass_context
from jinja2.runtime import Context
from pydantic import BaseModel

from correspondence.errors import InvalidPayload, Problem
from correspondence.free_text import Text, fields_of
from correspondence.kinds import Validated


def language_of(locale: str) -> str:
    """``es-MX`` → ``es``."""
    return locale.split("-")[0]


_TITLE = re.compile(
    r"(?:(?:Lic|Licda|Ing|Arq|Mtro|Mtra|Dr|Dra|Sr|Sra|Srta|Prof|Profa|Mr|Mrs|Ms)\.?"
    r"|C\.\s?P\.|D\.ª|Dña\.)\s+(?=\S)"
)


def without_title(name: str) -> str:
    """A person's name as running text refers to them: ``Andrés Muestra Robles`` for
    ``Lic. Andrés Muestra Robles``. A Spanish sentence that names someone by their title
    needs the article the title's gender asks for ("comuníquese con el Lic. …, con la
    Mtra. …"), which the payload does not give (``Lic.`` is both); so sentences print the
    name alone, and the title stays where the name stands by itself (signatures, contact
    lines)."""
    rest = name
    while (found := _TITLE.match(rest)) and found.end() < len(rest):
        rest = rest[found.end() :]
    return rest


_SMALL = {
    # "un", not "uno", before the (masculine) units spelled here: mes, año, día
    "es": (
        *("cero", "un", "dos", "tres", "cuatro", "cinco"),
        *("seis", "siete", "ocho", "nueve", "diez"),
    ),
    "en": ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten"),
}


def spelled(value: int, locale: str) -> str:
    """A count from one to ten in words, as running text writes it ("un plazo máximo de
    dos meses", "within two months"); larger counts (30 días hábiles) stay in figures.
    Babel has no spell-out, and ten words per language are enough."""
    words = _SMALL[language_of(locale)]
    return words[value] if 1 <= value < len(words) else str(value)


@pass_context
def spelled_in_locale(ctx: Context, value: int) -> str:
    """The ``spelled`` filter: :func:`spelled` in the template's locale."""
    return spelled(value, str(ctx["locale"]))


def _children(node: Any) -> list[tuple[str, Any]]:
    if isinstance(node, BaseModel):
        return [(key, getattr(node, name)) for key, name in fields_of(type(node))]
    if dataclasses.is_dataclass(node) and not isinstance(node, type):
        return [(f.name, getattr(node, f.name)) for f in dataclasses.fields(node)]
    if isinstance(node, list | tuple):
        return [(str(i), item) for i, item in enumerate(node)]
    if isinstance(node, dict):
        return [(str(key), item) for key, item in node.items()]
    return []


_PLAIN = (str, int, float, Decimal, date, type(None))
"""Values that hold no free text (a :class:`Text` is a ``str``, so it is looked at first):
most of a payload's values, passed over without a path built for each."""


def untranslated(
    node: Any, language: str, text_language: str, path: tuple[str, ...] = ()
) -> list[str]:
    """Paths of the free texts under ``node`` that have no ``language`` version."""
    found: list[str] = []
    _untranslated(node, language, text_language, path, found)
    return found


def _untranslated(
    node: Any, language: str, text_language: str, path: tuple[str, ...], found: list[str]
) -> None:
    if isinstance(node, Text):
        if not node.available_in(language, text_language):
            found.append(".".join(path))
        return
    for key, child in _children(node):
        if isinstance(child, Text) or not isinstance(child, _PLAIN):
            _untranslated(child, language, text_language, (*path, key), found)


def localized(node: Any, locale: str) -> Any:
    """``node`` with every free text as a reader in ``locale`` reads it (the region's own
    text, else the language's); the same object when nothing changes."""
    if isinstance(node, Text):
        return node.in_locale(locale)
    if isinstance(node, str):
        return node
    if isinstance(node, BaseModel):
        changes = {}
        for _, name in fields_of(type(node)):
            value = getattr(node, name)
            new = localized(value, locale)
            if new is not value:
                changes[name] = new
        return node.model_copy(update=changes) if changes else node
    if dataclasses.is_dataclass(node) and not isinstance(node, type):
        changed = {}
        for f in dataclasses.fields(node):
            value = getattr(node, f.name)
            new = localized(value, locale)
            if new is not value:
                changed[f.name] = new
        return dataclasses.replace(node, **changed) if changed else node
    if isinstance(node, list | tuple):
        items = [localized(item, locale) for item in node]
        if all(a is b for a, b in zip(items, node, strict=True)):
            return node
        return type(node)(items)
    if isinstance(node, dict):
        entries = {key: localized(item, locale) for key, item in node.items()}
        if all(entries[key] is node[key] for key in node):
            return node
        return entries
    return node


def require_language(validated: Validated, locale: str) -> None:
    """Refuse rendering ``validated`` in ``locale`` if a free text lacks its language."""
    language = language_of(locale)
    text_language = validated.doc.document.language_of_text
    missing = untranslated(validated.doc, language, text_language)
    if missing:
        raise InvalidPayload(
            Problem(
                path,
                f"free text in {text_language!r} only; to render in {locale} give it as "
                f'{{"{text_language}": "…", "{language}": "…"}}',
                "untranslated",
            )
            for path in missing
        )


def in_locale(validated: Validated, locale: str) -> Validated:
    """``validated`` with its free text (payload and figures) as a reader in ``locale``
    reads it: in its language, in its region's own words where the payload gives them;
    refused (:class:`InvalidPayload`, 422) naming every field that lacks the language."""
    require_language(validated, locale)
    doc, figures = localized(validated.doc, locale), localized(validated.figures, locale)
    if doc is validated.doc and figures is validated.figures:
        return validated  # every Text already reads so
    return Validated(validated.kind, doc, figures)
