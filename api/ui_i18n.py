"""The staff UI in English and Spanish: one Babel catalog per language,
``api/locale/<lang>/LC_MESSAGES/ui.po`` (domain ``ui``), read and compiled in memory when
first used, as the documents' catalogs are (:func:`correspondence.templating.catalog`), so
a plain clone needs no build step.

Templates write ``{{ _("English text") }}`` (with ``%(name)s`` placeholders given as
keyword arguments) and ``{{ ngettext("one", "many %(num)s", n) }}``; ``_`` is bound to the
signed-in member of staff's language (:func:`texts`). The message ids are English; the
English catalog leaves them untranslated, the Spanish one (neutral Spanish, read in
Mexico and Spain) translates every one of them.

``python -m api.ui_i18n`` extracts the messages of ``api/templates/ui`` and of the UI's
Python modules (``N_("…")`` marks a message kept for later) and merges them into both
catalogs, as ``pybabel extract`` and ``pybabel update`` would; a test checks that the
catalogs are up to date and the Spanish one complete.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from io import BytesIO
from pathlib import Path
from typing import Any

from babel.dates import format_date
from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_currency
from babel.support import Translations

from correspondence.catalogs import merge_into
from correspondence.staff_languages import STAFF_LANGUAGES

API_DIR = Path(__file__).parent
LOCALE_DIR = API_DIR / "locale"
DOMAIN = "ui"
DEFAULT_LANGUAGE = "en"
DATE_LOCALE = {"en": "en_GB", "es": "es"}
"""The CLDR locale dates are written in for each UI language."""


def N_(message: str) -> str:
    """Mark ``message`` for extraction; it is translated where it is shown."""
    return message


KIND_NAMES = {
    "premium_invoice": N_("Premium invoice"),
    "renewal_pack": N_("Renewal pack"),
    "credit_limit_change_notice": N_("Credit limit change notice"),
    "credit_limit_decision": N_("Credit limit decision"),
    "claim_filing_guide": N_("Claim filing guide"),
    "claim_decision": N_("Claim decision"),
    "collection_update": N_("Collection update"),
}
STATUS_NAMES = {
    "new": N_("New"),
    "queued": N_("Queued"),
    "issuing": N_("Issuing"),
    "issued": N_("Issued"),
    "failed": N_("Failed"),
    "in_review": N_("In review"),
    "rejected": N_("Rejected"),
    "sending": N_("Sending"),
    "sent": N_("Sent"),
    "requested": N_("Review requested"),
    "approved": N_("Approved"),
}
"""Document and delivery statuses (``in_review`` and ``rejected``: the review workflow's),
and the review record's actions (``requested``, ``approved``, ``rejected``)."""
LANGUAGE_NAMES = {"en": "English", "es": "Español"}
"""Each language by its own name (the language switch shows them untranslated)."""


def catalog_path(language: str) -> Path:
    """The ``.po`` file of the UI in ``language``."""
    return LOCALE_DIR / language / "LC_MESSAGES" / f"{DOMAIN}.po"


@lru_cache(maxsize=len(STAFF_LANGUAGES))
def translations(language: str) -> Translations:
    """The UI's translations into ``language`` (fuzzy entries ignored)."""
    with catalog_path(language).open("rb") as fh:
        messages = read_po(fh, locale=language, domain=DOMAIN)
    compiled = BytesIO()
    write_mo(compiled, messages, use_fuzzy=False)
    compiled.seek(0)
    return Translations(compiled, domain=DOMAIN)


def language_of(value: object) -> str:
    """``value`` if it is a language of the UI, else the default."""
    return value if isinstance(value, str) and value in STAFF_LANGUAGES else DEFAULT_LANGUAGE


# RFC 9110 §12.4.2: a weight is 0 to 1 with at most three decimals ("0.5", "1.000").
_QVALUE = re.compile(r"(?:0(?:\.[0-9]{0,3})?|1(?:\.0{0,3})?)\Z")


def weight(params: str) -> int | None:
    """The ``q`` of an ``Accept-Language`` element's parameters in thousandths (1,000 when
    it has none), or None when the weight is not a valid qvalue ("inf", "1e3", "0.5000")."""
    for param in params.split(";"):
        name, _, value = param.partition("=")
        if name.strip().lower() == "q":
            value = value.strip()
            if not _QVALUE.match(value):
                return None
            whole, _, decimals = value.partition(".")
            return int(whole) * 1000 + int(decimals.ljust(3, "0"))
    return 1000


def best_language(accept_language: str) -> str:
    """The UI language an anonymous visitor's ``Accept-Language`` prefers (sign-in page).
    Elements are ranked by weight, then by their order; an element whose weight is not a
    valid qvalue is ignored, and a weight of 0 means "not this language"."""
    ranked: list[tuple[int, int, str]] = []
    for index, part in enumerate(accept_language.split(",")[:20]):
        tag, _, params = part.partition(";")
        quality = weight(params)
        language = tag.strip().lower().partition("-")[0]
        if language in STAFF_LANGUAGES and quality:
            ranked.append((-quality, index, language))
    return min(ranked)[2] if ranked else DEFAULT_LANGUAGE


@dataclass(frozen=True)
class Texts:
    """The words of the UI in one language, as the templates call them."""

    language: str

    def gettext(self, message: str, **values: Any) -> str:
        text = translations(self.language).ugettext(message)
        return text % values if values else text

    def ngettext(self, singular: str, plural: str, n: int, **values: Any) -> str:
        text = translations(self.language).ungettext(singular, plural, n)
        return text % {"num": n, **values}

    def kind(self, name: str) -> str:
        """A kind by its name in this language (an unknown kind as stored)."""
        return self.gettext(KIND_NAMES[name]) if name in KIND_NAMES else name

    def status(self, name: str) -> str:
        """A document's or a delivery's status in this language."""
        return self.gettext(STATUS_NAMES[name]) if name in STATUS_NAMES else name

    def day(self, value: date | None) -> str:
        """A date as the staff member reads it (``30 Nov 2026``, ``30 nov 2026``)."""
        if value is None:
            return "—"
        return format_date(value, "medium", locale=DATE_LOCALE[self.language])

    def context(self) -> dict[str, Callable[..., str] | str]:
        """What every UI template sees of the language."""
        return {
            "_": self.gettext,
            "gettext": self.gettext,
            "ngettext": self.ngettext,
            "kind_name": self.kind,
            "status_name": self.status,
            "day": self.day,
            "lang": self.language,
        }


def texts(language: object) -> Texts:
    """The UI's words in ``language`` (the default language if it is not one of the UI's)."""
    return Texts(language_of(language))


def money(amount: object, currency: object, document_locale: str) -> str | None:
    """An amount of a payload (``{"amount": "76067.00", "currency": "MXN"}``) written as
    the document's own locale writes it, or ``None`` if it is not one."""
    if not isinstance(amount, str | int | float) or not isinstance(currency, str):
        return None
    try:
        value = Decimal(str(amount))
    except InvalidOperation:
        return None
    return format_currency(value, currency[:3], locale=document_locale.replace("-", "_"))


_METHODS = [("templates/ui/**.html", "jinja2"), ("ui*.py", "python")]
_OPTIONS = {"templates/ui/**.html": {"trimmed": "true"}}


def extract(directory: Path = API_DIR) -> Catalog:
    """Every message of the UI's templates and Python modules."""
    found = Catalog(locale=None, project="correspondence", fuzzy=False, domain=DOMAIN)
    messages: Iterable[tuple[str, int, Any, list[str], str | None]] = extract_from_dir(
        directory, _METHODS, _OPTIONS
    )
    for filename, lineno, message, _comments, context in messages:
        found.add(message, None, [(filename, lineno)], context=context)
    for title in form_labels():
        found.add(title, None, [("api/kind_schemas.py", 0)])
    return found


def form_labels() -> list[str]:
    """The compose form's labels: every title of every kind's JSON Schema (drawn with
    ``_()`` by the form, so translated like any other message of the UI)."""
    from api.kind_schemas import kind_schema  # the schemas: only when extracting
    from correspondence.kinds import KINDS

    titles: set[str] = set()

    def walk(node: object) -> None:
        if isinstance(node, dict):
            if isinstance(node.get("title"), str):
                titles.add(node["title"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    for kind in sorted(KINDS):
        walk(kind_schema(KINDS[kind]))
    return sorted(titles)


def update(directory: Path = API_DIR) -> None:
    """Merge the extracted messages into each language's ``ui.po``."""
    template = extract(directory)
    for language in STAFF_LANGUAGES:
        merge_into(catalog_path(language), template, language, domain=DOMAIN, sort=True)


if __name__ == "__main__":
    update()
    sys.exit(0)
