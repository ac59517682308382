"""The one Jinja environment: StrictUndefined, autoescape, explicitly registered filters,
and Jinja's i18n extension over one Babel message catalog per locale.

Templates live in ``templates/es`` and ``templates/en`` (the same file names in both) and
a language-neutral skeleton in ``templates/shared``. Every sentence is written whole in
its template inside ``{% trans %}`` (plurals with ``{% pluralize %}``, i.e. ``ngettext``):
Spanish templates are written in es-MX and English ones in en-GB. The catalogs
``templates/locale/{es_MX,es_ES,en_GB,en_US}/LC_MESSAGES/messages.po`` hold the whole
sentence as the other region writes it (es-ES, en-US) and the Spanish for the labels of
the shared skeleton, whose message ids are English. Catalogs are read from the ``.po``
files when first used (no compile step; they ship with ``templates/``). Nothing is ever
assembled from swapped words. See ``docs/language.md``.

Formatting filters read the locale and time zone from the render context, never from
the machine.
"""

from __future__ import annotations

import html
from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal
from functools import lru_cache
from io import BytesIO
from pathlib import Path
from typing import Any

from babel import Locale
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations
from jinja2 import (
    BytecodeCache,
    Environment,
    FileSystemBytecodeCache,
    FileSystemLoader,
    StrictUndefined,
    pass_context,
    select_autoescape,
)
from jinja2.runtime import Context
from markupsafe import Markup

from correspondence import legal
from correspondence.banking import group_iban
from correspondence.columns import invoice_line_widths, label_width
from correspondence.formatting import Formatter, babel_locale, formatter
from correspondence.language import spelled_in_locale, without_title
from correspondence.models import Money

ASSET_ORIGIN = "https://assets.correspondence.invalid/"
"""Base URL of packaged assets in rendered HTML. ``.invalid`` never resolves (RFC 2606);
the PDF renderer serves these URLs from memory and refuses every other one."""


def _fmt(ctx: Context) -> Formatter:
    return formatter(ctx["locale"], ctx["tz"], ctx.get("group_four_digits", True))


@pass_context
def _money(ctx: Context, value: Money | Decimal, currency: str | None = None) -> str:
    if isinstance(value, Money):
        return _fmt(ctx).money(value.amount, value.currency)
    if currency is None:
        raise TypeError("money filter on a bare Decimal needs a currency")
    return _fmt(ctx).money(value, currency)


NBSP = "\u00a0"


def _unbroken(ctx: Context, text: str) -> str:
    """``text`` with its spaces made no-break spaces, so that a document never breaks it
    across two lines ("31 de enero / de 2027"); as it is in a plain-text email
    (``templates/*/email/``), which a mail client wraps where it likes and a reader may
    copy from. A no-break space is text, not markup: it stays right in a ``<title>``, an
    attribute or a bookmark, where a ``<span>`` would not."""
    if "/email/" in (ctx.name or ""):
        return text
    return text.replace(" ", NBSP)


@pass_context
def _date(ctx: Context, value: date) -> str:
    return _unbroken(ctx, _fmt(ctx).date_long(value))


@pass_context
def _date_medium(ctx: Context, value: date) -> str:
    # A table's compact date is never broken across lines ("31 / mar 2027").
    return _unbroken(ctx, _fmt(ctx).date_medium(value))


@pass_context
def _date_line(ctx: Context, value: date, place: str) -> str:
    return _fmt(ctx).date_line(place, value)


@pass_context
def _datetime(ctx: Context, value: datetime) -> str:
    return _fmt(ctx).datetime_long(value)


@pass_context
def _time(ctx: Context, value: datetime) -> str:
    return _fmt(ctx).time(value)


@pass_context
def _percent(ctx: Context, value: Decimal) -> str:
    return _fmt(ctx).percent(value)


@pass_context
def _number(ctx: Context, value: Decimal | int) -> str:
    return _fmt(ctx).number(value)


@pass_context
def _country(ctx: Context, code: str) -> str:
    name: str = Locale.parse(babel_locale(ctx["locale"])).territories.get(code, code)
    return name


@pass_context
def _invoice_line_widths(
    ctx: Context, doc: Any, fig: Any, headers: list[str], tax_names: Mapping[str, str]
) -> tuple[str, ...] | None:
    return invoice_line_widths(doc, fig, headers, tax_names, _fmt(ctx))


def _nobreak(value: object) -> Markup:
    """``value`` kept whole on one line (an e-mail address, a phone number, a reference)."""
    return Markup('<span class="nobreak">{}</span>').format(value)


URL_KEPT_WHOLE = 60
"""A web address up to this long is kept on one line (broken at its hyphen it reads as
another address); a longer one may break, rather than run off the page."""


def _url(value: object) -> Markup | str:
    """A web address as the customer types it: whole on one line when it fits."""
    text = str(value)
    return _nobreak(text) if len(text) <= URL_KEPT_WHOLE else text


def _as_text(value: str) -> str:
    """HTML from a macro of an HTML template as plain text (entities decoded): for the
    plain-text email, which prints the letters' salutation."""
    return html.unescape(str(value))


@pass_context
def _legal_rule(ctx: Context, doc: Any, key: str) -> legal.LegalRule:
    """The rule ``key`` in force for ``doc``'s jurisdiction on its issue date."""
    return legal.rule(key, doc.document.jurisdiction, doc.document.issue_date)


@pass_context
def _route(ctx: Context, value: legal.Route) -> str:
    return value.name(_fmt(ctx).locale)


FILTERS = {
    "money": _money,
    "date": _date,
    "date_medium": _date_medium,
    "nobreak": _nobreak,
    "url": _url,
    "date_line": _date_line,
    "datetime": _datetime,
    "time": _time,
    "percent": _percent,
    "number": _number,
    "country": _country,
    "iban": group_iban,
    "route": _route,
    "as_text": _as_text,
    "person": without_title,
    "spelled": spelled_in_locale,
}


CATALOG_LOCALES = ("es_MX", "es_ES", "en_GB", "en_US")


def catalog_path(templates_dir: Path, locale: str) -> Path:
    """The ``.po`` file of ``locale`` (``es-MX`` or ``es_MX``)."""
    name = babel_locale(locale)
    return templates_dir / "locale" / name / "LC_MESSAGES" / "messages.po"


@lru_cache(maxsize=8)
def catalog(templates_dir: Path, locale: str) -> Translations:
    """The translations of ``locale``, read from its ``.po`` file (fuzzy entries ignored)."""
    path = catalog_path(templates_dir, locale)
    with path.open("rb") as fh:
        messages = read_po(fh, locale=babel_locale(locale))
    compiled = BytesIO()
    write_mo(compiled, messages, use_fuzzy=False)
    compiled.seek(0)
    return Translations(compiled)


def compiled_templates() -> BytecodeCache | None:
    """Where compiled templates are kept between processes: Jinja's own cache, a folder
    of this user's in the temporary directory (mode 0700, checked). A template is reused
    only while its source is byte for byte the same (Jinja compares a checksum of it), so
    an edited template is compiled again. A cold ``correspondence render`` or a new
    render worker then skips compiling its templates (about 40 ms for a letter and its
    includes on a quiet machine, bench/cold.py). ``None`` (compile every time) where no
    such folder can be made."""
    try:
        return FileSystemBytecodeCache()
    except (OSError, RuntimeError):
        return None


def build_environment(templates_dir: Path) -> Environment:
    """The environment every document and email is rendered with."""
    env = Environment(
        loader=FileSystemLoader(templates_dir),
        bytecode_cache=compiled_templates(),
        # HTML and anything unknown is escaped; only plain-text email parts (.txt) are not.
        autoescape=select_autoescape(
            enabled_extensions=("html", "xml"),
            disabled_extensions=("txt",),
            default=True,
            default_for_string=True,
        ),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        auto_reload=False,
        extensions=["jinja2.ext.i18n"],
    )
    # A sentence may span lines in its template: whitespace inside {% trans %} collapses.
    env.policies["ext.i18n.trimmed"] = True
    env.filters.update(FILTERS)
    env.globals["invoice_line_widths"] = _invoice_line_widths
    env.globals["label_width"] = label_width
    env.globals["legal_rule"] = _legal_rule

    def translations(ctx: Context) -> Translations:
        return catalog(templates_dir, ctx["locale"])

    @pass_context
    def gettext(ctx: Context, message: str) -> str:
        return translations(ctx).gettext(message)

    @pass_context
    def ngettext(ctx: Context, singular: str, plural: str, n: int) -> str:
        return translations(ctx).ngettext(singular, plural, n)

    @pass_context
    def pgettext(ctx: Context, context: str, message: str) -> str:
        return str(translations(ctx).pgettext(context, message))

    @pass_context
    def npgettext(ctx: Context, context: str, singular: str, plural: str, n: int) -> str:
        return str(translations(ctx).npgettext(context, singular, plural, n))

    env.install_gettext_callables(  # type: ignore[attr-defined]
        gettext, ngettext, newstyle=True, pgettext=pgettext, npgettext=npgettext
    )
    return env


WORDS_TEMPLATE = "shared/words.txt"
"""Names the engine also needs outside a template (pack components in the PDF's page
labels, attachment file names), written once, in the catalogs' words."""


def words(env: Environment, locale: str, jurisdiction: str | None = None) -> Any:
    """``shared/words.txt`` as a module in ``locale``: ``.pack[key]``, ``.filename[kind]``
    (a premium invoice is named by the policy's ``jurisdiction``)."""
    return env.get_template(WORDS_TEMPLATE).make_module(
        {"locale": locale, "jurisdiction": jurisdiction}
    )
