"""The one Jinja environment: StrictUndefined, autoescape, explicitly registered filters.

Templates live in ``templates/es`` and ``templates/en`` (the same file names in both) and
a language-neutral skeleton in ``templates/shared``. Regional vocabulary (contratante or
tomador, deducible or franquicia …) comes from one glossary per language,
``templates/{lang}/glossary.toml``: a ``[common]`` table plus one table per region that
overrides it. Templates receive plain validated data and these words; formatting filters
read the locale and time zone from the render context, never from the machine.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Any

from babel import Locale
from jinja2 import Environment, FileSystemLoader, StrictUndefined, pass_context, select_autoescape
from jinja2.runtime import Context

from correspondence import legal
from correspondence.banking import group_iban
from correspondence.columns import invoice_line_widths, label_width
from correspondence.formatting import Formatter, babel_locale, formatter
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


@pass_context
def _date(ctx: Context, value: date) -> str:
    return _fmt(ctx).date_long(value)


@pass_context
def _date_medium(ctx: Context, value: date) -> str:
    return _fmt(ctx).date_medium(value)


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
def _invoice_line_widths(ctx: Context, doc: Any, fig: Any) -> tuple[str, ...] | None:
    return invoice_line_widths(doc, fig, ctx["g"], _fmt(ctx))


_DURATION_WORDS = {
    "es": {
        "days": ("día natural", "días naturales"),
        "business_days": ("día hábil", "días hábiles"),
        "months": ("mes", "meses"),
        "years": ("año", "años"),
    },
    "en": {
        "days": ("calendar day", "calendar days"),
        "business_days": ("business day", "business days"),
        "months": ("month", "months"),
        "years": ("year", "years"),
    },
}


@pass_context
def _duration(ctx: Context, value: legal.Duration) -> str:
    one, many = _DURATION_WORDS[_fmt(ctx).language][value.unit]
    return f"{value.value} {one if value.value == 1 else many}"


@pass_context
def _legal_rule(ctx: Context, doc: Any, key: str) -> legal.LegalRule:
    """The rule ``key`` in force for ``doc``'s jurisdiction on its issue date."""
    return legal.rule(key, doc.document.jurisdiction, doc.document.issue_date)


@pass_context
def _route(ctx: Context, value: legal.Route) -> str:
    return value.name(_fmt(ctx).language)


FILTERS = {
    "money": _money,
    "date": _date,
    "date_medium": _date_medium,
    "date_line": _date_line,
    "datetime": _datetime,
    "time": _time,
    "percent": _percent,
    "number": _number,
    "country": _country,
    "iban": group_iban,
    "duration": _duration,
    "route": _route,
}


def build_environment(templates_dir: Path) -> Environment:
    """The environment every document and email is rendered with."""
    env = Environment(
        loader=FileSystemLoader(templates_dir),
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
    )
    env.filters.update(FILTERS)
    env.globals["invoice_line_widths"] = _invoice_line_widths
    env.globals["label_width"] = label_width
    env.globals["legal_rule"] = _legal_rule
    return env


@lru_cache(maxsize=8)
def _glossary_file(path: Path) -> Mapping[str, Any]:
    with path.open("rb") as fh:
        return tomllib.load(fh)


def glossary(templates_dir: Path, locale: str) -> dict[str, Any]:
    """The words for ``locale``: the language's common table, overridden by its region's."""
    language, region = locale.split("-")
    tables = _glossary_file(templates_dir / language / "glossary.toml")
    if region not in tables:
        raise KeyError(f"glossary for {language} has no [{region}] table")
    return _merge(tables["common"], tables[region])


def _merge(base: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged
