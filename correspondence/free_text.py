"""Free text in a payload (:class:`Text`, in one or several languages) and the base of
every payload model (:class:`Model`), which refuses text our documents cannot print."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from functools import cache
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    GetCoreSchemaHandler,
    GetJsonSchemaHandler,
    ValidationInfo,
    field_validator,
)
from pydantic_core import core_schema

from correspondence.bounds import LABEL_MAX, TEXT_MAX, _single_line
from correspondence.glyphs import drawable as drawable  # re-exported for the tests
from correspondence.glyphs import undrawable

_UNPRINTABLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")
"""Control characters other than tab and line breaks, lone surrogates and the two
non-characters: nothing a letter can print, and what XML 1.0 does not allow."""


@cache
def fields_of(model: type[BaseModel]) -> tuple[tuple[str, str], ...]:
    """Each field of ``model`` as ``(the name the payload gives it, its attribute)``, in
    order: read once per class (pydantic's ``model_fields`` builds its answer on every
    read), for the walks over a payload's models (rules, language)."""
    return tuple((field.alias or name, name) for name, field in model.model_fields.items())


def _texts(value: Any) -> list[str]:
    if isinstance(value, Text):
        return [value, *value.translations.values()]
    if isinstance(value, str):
        return [value]
    if isinstance(value, list | tuple):
        return [text for item in value for text in _texts(item)]
    if isinstance(value, dict):
        return [text for item in value.items() for text in _texts(item)]
    return []  # numbers, dates, and nested models (checked by their own validator)


# -- free text and its language ---------------------------------------------------------

Language = Literal["es", "en"]
LANGUAGES: tuple[Language, ...] = ("es", "en")
REGIONS = ("es-MX", "es-ES", "en-GB", "en-US")
"""A text may also be given for one region of its language (``{"es": "Gestora de cuenta",
"es-MX": "Ejecutiva de cuenta"}``): a reader in that region reads it instead of the
language's text, which every other reader of the language reads."""

# fmt: off
MONTH_NAMES = (
    "enero", "febrero", "marzo", "abril", "mayo", "junio", "julio", "agosto", "septiembre",
    "setiembre", "octubre", "noviembre", "diciembre",
    "january", "february", "march", "april", "may", "june", "july", "august", "september",
    "october", "november", "december",
    "jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec",
    "ene", "abr", "ago", "dic",
)
# fmt: on
"""The month names (and their short forms) a free text may not write a date with."""


def as_trie(words: Iterable[str]) -> str:
    """A pattern matching exactly ``words``, written as a tree of their common prefixes
    (``a(?:br(?:il)?|go(?:sto)?|…)``): Python's ``re`` tries the branches of a plain
    alternation one by one at each position, and a tree shares the letters they begin
    with (a text's search for a month name 3-4 times faster)."""
    tree: dict[str, Any] = {}
    for word in words:
        node = tree
        for letter in word:
            node = node.setdefault(letter, {})
        node[""] = {}

    def branch(node: dict[str, Any]) -> str:
        alternatives = [re.escape(k) + branch(node[k]) for k in sorted(node) if k]
        if not alternatives:
            return ""
        if "" in node:  # a word ends here, and longer ones go on
            return f"(?:{'|'.join(alternatives)})?"
        return alternatives[0] if len(alternatives) == 1 else f"(?:{'|'.join(alternatives)})"

    return branch(tree)


_MONTHS = as_trie(MONTH_NAMES)
_FIGURES = (
    ("an amount", re.compile(r"[$€£]\s?\d|\d\s?[€£]|\b(?:MXN|EUR|USD|GBP|M\.N\.)\s?\d", re.I)),
    (
        "an amount",
        re.compile(r"\d\s?(?:MXN|EUR|USD|GBP|M\.N\.|pesos|euros|dollars|dólares)\b", re.I),
    ),
    (
        "an amount",
        re.compile(r"\b\d{1,3}(?:[.,]\d{3})+(?:[.,]\d{1,2})?\b|\b\d+[.,]\d{2}\b(?![.,]\d)"),
    ),
    ("a date", re.compile(r"\b\d{1,4}[/.-]\d{1,2}[/.-]\d{2,4}\b")),
    ("a date", re.compile(rf"\b\d{{1,2}}\.?\s+(?:de\s+)?(?:{_MONTHS})\b", re.I)),
    ("a date", re.compile(rf"\b(?:{_MONTHS})\.?\s+(?:de\s+)?\d{{1,4}}\b", re.I)),
)
"""What a free text must not state: a figure the customer reads is a typed field the
service formats in the reader's locale (an amount, a date)."""

_DIGIT = re.compile(r"\d")
"""Every pattern of :data:`_FIGURES` matches a digit (``\\d``, as they write it): a text
with none is passed over in one search rather than six. Most free texts have none."""


def _no_figures(text: str) -> str:
    if _DIGIT.search(text) is None:
        return text
    for what, pattern in _FIGURES:
        found = pattern.search(text)
        if found:
            raise ValueError(
                f"free text must not state {what} ({found.group().strip()!r}): give it as a "
                "typed field, which the service formats in the reader's locale"
            )
    return text


class Text(str):
    """Free text the customer reads. As a string it is the text in the payload's text
    language (``document.text_language``); ``translations`` holds it in every language
    the payload gives when the field is written ``{"es": "…", "en": "…"}``."""

    translations: Mapping[str, str]
    max_length = TEXT_MAX
    """Each language's text is at most this long (the bounds sweep reads it)."""
    schema_description = "free text (docs/language.md)"

    def __new__(cls, value: str, translations: Mapping[str, str] | None = None) -> Text:
        text = super().__new__(cls, value)
        text.translations = dict(translations or {})
        return text

    def available_in(self, language: str, text_language: str) -> bool:
        """Whether this text can be printed in ``language``."""
        return language in self.translations or (
            not self.translations and language == text_language
        )

    def in_language(self, language: str) -> Text:
        """The same text in ``language`` (which :meth:`available_in` said it has)."""
        if not self.translations:
            return self
        return Text(self.translations[language], self.translations)

    def in_locale(self, locale: str) -> Text:
        """The text a reader in ``locale`` reads: the region's own text if the payload
        gives one, else the language's; ``self`` when that is this very text."""
        chosen = self.translations.get(locale) or self.translations.get(locale.split("-")[0])
        if chosen is None or chosen == str(self):
            return self
        return Text(chosen, self.translations)

    @classmethod
    def _validate(cls, value: object, info: ValidationInfo) -> Text:
        language = (info.context or {}).get("text_language")
        if isinstance(value, str):
            return cls(_no_figures(_non_empty(_bounded(value))))
        if not isinstance(value, dict) or not value:
            raise ValueError('must be a text, or the text per language: {"es": "…", "en": "…"}')
        texts: dict[str, str] = {}
        for key, each in value.items():
            if key not in LANGUAGES and key not in REGIONS:
                raise ValueError(
                    f"{key!r} is not a language; use {' or '.join(LANGUAGES)}, "
                    f"or a region ({', '.join(REGIONS)}) beside its language"
                )
            if not isinstance(each, str):
                raise ValueError(f"the {key!r} text must be a string")
            texts[key] = _no_figures(_non_empty(_bounded(each)))
        for key in texts.keys() & set(REGIONS):
            if key[:2] not in texts:
                raise ValueError(
                    f"the {key!r} text is a region's own wording of the {key[:2]!r} text; "
                    f"give the {key[:2]!r} text too"
                )
        if language is None:
            return cls(next(iter(texts.values())), texts)
        if language not in texts:
            raise ValueError(f"has no {language!r} text, the language of the payload's text")
        return cls(texts[language], texts)

    @staticmethod
    def _serialize(value: Text) -> str | dict[str, str]:
        return dict(value.translations) if value.translations else str(value)

    @classmethod
    def __get_pydantic_core_schema__(
        cls, _source: type[Any], _handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        return core_schema.with_info_plain_validator_function(
            cls._validate,
            serialization=core_schema.plain_serializer_function_ser_schema(cls._serialize),
        )

    @classmethod
    def __get_pydantic_json_schema__(
        cls, _schema: core_schema.CoreSchema, _handler: GetJsonSchemaHandler
    ) -> dict[str, Any]:
        text = {"type": "string", "minLength": 1, "maxLength": cls.max_length}
        per_language = {
            "type": "object",
            "properties": {key: text for key in (*LANGUAGES, *REGIONS)},
            "additionalProperties": False,
            "minProperties": 1,
        }
        return {"anyOf": [text, per_language], "description": cls.schema_description}


def _bounded(text: str) -> str:
    if len(text) > TEXT_MAX:
        raise ValueError(f"must be at most {TEXT_MAX} characters, not {len(text)}")
    return text


def _non_empty(text: str) -> str:
    stripped = text.strip()
    if not stripped:
        raise ValueError("must not be empty")
    return stripped


class Model(BaseModel):
    """Base of every payload model: frozen, no unknown fields, no coercion from floats,
    no unprintable characters in its text."""

    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)

    @field_validator("*", mode="after")
    @classmethod
    def _printable(cls, value: Any) -> Any:
        for text in _texts(value):
            found = _UNPRINTABLE.search(text)
            if found:
                code = f"U+{ord(found.group()):04X}"
                raise ValueError(f"contains the unprintable character {code} at {found.start()}")
            missing = undrawable(text)
            if missing:
                codes = ", ".join(f"U+{ord(c):04X}" for c in missing[:5])
                more = f" and {len(missing) - 5} more" if len(missing) > 5 else ""
                raise ValueError(
                    f"contains characters the documents' fonts cannot draw: {codes}{more}"
                )
        return value


class TextLine(Text):
    """A short free text on one line that the customer reads in a language, such as the
    place of issue ("Ciudad de México" / "Mexico City"): a string in the payload's text
    language, or ``{"es": "…", "en": "…"}``."""

    max_length = LABEL_MAX
    schema_description = "free text on one line (docs/language.md)"

    @classmethod
    def _validate(cls, value: object, info: ValidationInfo) -> Text:
        text = super()._validate(value, info)
        for each in [str(text), *text.translations.values()]:
            _single_line(each)
            if len(each) > LABEL_MAX:
                raise ValueError(f"must be at most {LABEL_MAX} characters, not {len(each)}")
        return text
