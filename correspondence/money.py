"""Decimal money: half-up quantisation to the currency's minor unit, and the Mexican
amount in words (``importe con letra``).

Money never passes through a float. Babel formats with half-even rounding, so every
amount is quantised half-up here before it reaches a formatter.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from functools import cache

from babel.numbers import get_currency_precision, list_currencies


@cache
def known_currencies() -> frozenset[str]:
    """ISO 4217 codes that CLDR knows."""
    return frozenset(list_currencies())


def minor_unit(currency: str) -> Decimal:
    """The smallest amount of ``currency`` as a Decimal exponent (``0.01`` for EUR)."""
    return Decimal(1).scaleb(-get_currency_precision(currency))


def quantize(amount: Decimal, currency: str) -> Decimal:
    """Round ``amount`` half-up to the minor unit of ``currency``."""
    return amount.quantize(minor_unit(currency), rounding=ROUND_HALF_UP)


def apply_rate(base: Decimal, rate: Decimal, currency: str) -> Decimal:
    """``base × rate``, quantised half-up (a tax, a fee, a percentage of a loss)."""
    return quantize(base * rate, currency)


# --- Mexican amount in words -------------------------------------------------------------

_UNITS = (
    "cero",
    "uno",
    "dos",
    "tres",
    "cuatro",
    "cinco",
    "seis",
    "siete",
    "ocho",
    "nueve",
    "diez",
    "once",
    "doce",
    "trece",
    "catorce",
    "quince",
    "dieciséis",
    "diecisiete",
    "dieciocho",
    "diecinueve",
    "veinte",
    "veintiuno",
    "veintidós",
    "veintitrés",
    "veinticuatro",
    "veinticinco",
    "veintiséis",
    "veintisiete",
    "veintiocho",
    "veintinueve",
)
_TENS = ("", "", "", "treinta", "cuarenta", "cincuenta", "sesenta", "setenta", "ochenta", "noventa")
_HUNDREDS = (
    "",
    "ciento",
    "doscientos",
    "trescientos",
    "cuatrocientos",
    "quinientos",
    "seiscientos",
    "setecientos",
    "ochocientos",
    "novecientos",
)


def _below_thousand(n: int, *, apocope: bool) -> str:
    """Words for 0 < n < 1000. ``apocope`` shortens a final 'uno' before a noun."""
    hundreds, rest = divmod(n, 100)
    parts: list[str] = []
    if hundreds:
        parts.append("cien" if n == 100 else _HUNDREDS[hundreds])
    if rest:
        if rest < 30:
            word = _UNITS[rest]
        else:
            tens, unit = divmod(rest, 10)
            word = _TENS[tens] + (f" y {_UNITS[unit]}" if unit else "")
        if apocope and word.endswith("uno"):
            word = word[:-3] + ("ún" if word == "veintiuno" else "un")
        parts.append(word)
    return " ".join(parts)


# The long scale: each step is a million times the one before (millón 10⁶, billón 10¹²,
# trillón 10¹⁸); "mil millones" is 10⁹.
_SCALES = (
    (10**18, "trillón", "trillones"),
    (10**12, "billón", "billones"),
    (10**6, "millón", "millones"),
)
WORDS_LIMIT = 10**24
"""Amounts in words are written below a million trillones (10²⁴): far above any invoice
total, and within what a Decimal quantises at its default precision (28 digits)."""


def _integer_words(n: int) -> str:
    """Cardinal words for a non-negative integer, apocopated before a following noun."""
    if n == 0:
        return "cero"
    if n >= WORDS_LIMIT:
        raise ValueError(f"{n} is too large to write in words (the limit is 10^24)")
    groups: list[str] = []
    for value, one, many in _SCALES:
        count, n = divmod(n, value)
        if count:
            groups.append(f"un {one}" if count == 1 else f"{_thousands(count)} {many}")
    if n:
        groups.append(_thousands(n))
    return " ".join(groups)


def _thousands(n: int) -> str:
    """Words for 0 < n < 1 000 000 (also used as the count of millions)."""
    thousands, units = divmod(n, 1000)
    parts: list[str] = []
    if thousands:
        parts.append("mil" if thousands == 1 else f"{_below_thousand(thousands, apocope=True)} mil")
    if units:
        parts.append(_below_thousand(units, apocope=True))
    return " ".join(parts)


def amount_in_words_mxn(amount: Decimal) -> str:
    """The MX ``importe con letra``: ``(SETENTA Y SEIS MIL SESENTA Y SIETE PESOS 00/100 M.N.)``.

    The integer part is written out with apocope before the noun (``veintiún mil``,
    ``un peso``), ``de`` after an exact number of millions (``un millón de pesos``),
    and the cents as ``NN/100``.
    """
    if amount < 0:
        raise ValueError("amount in words needs a non-negative amount")
    if amount >= WORDS_LIMIT:
        raise ValueError(f"{amount} is too large to write in words (the limit is 10^24)")
    value = quantize(amount, "MXN")
    pesos = int(value)
    cents = int((value - pesos) * 100)
    words = _integer_words(pesos)
    if pesos >= 1_000_000 and pesos % 1_000_000 == 0:
        words += " de"
    noun = "peso" if pesos == 1 else "pesos"
    return f"({words} {noun} {cents:02d}/100 M.N.)".upper()
