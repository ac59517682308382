"""Check digits of the bank account identifiers printed on invoices (IBAN, Mexican CLABE).

IBANs go through ``python-stdnum``: the country's length and format from the IBAN
registry, mod-97, and the national check digits where stdnum knows them (the two control
digits of a Spanish CCC among them). stdnum has no CLABE module, so the CLABE check
(weights 3, 7, 1; mod 10) is ours.
"""

from __future__ import annotations

import re

from stdnum import iban as _iban
from stdnum.exceptions import ValidationError

_IBAN = re.compile(r"^[A-Z]{2}\d{2}[A-Z0-9]{10,30}$")
_CLABE = re.compile(r"^\d{18}$")


def compact(value: str) -> str:
    """Remove spaces and upper-case an account identifier."""
    return value.replace(" ", "").upper()


def iban_problem(value: str) -> str | None:
    """Why ``value`` is not a valid IBAN, or None if it is."""
    iban = compact(value)
    if not _IBAN.match(iban):
        return "is not an IBAN (country code, two check digits, then the account)"
    country = iban[:2]
    try:  # the country's length and format, whatever the check digits say
        _iban.validate(country + _iban.calc_check_digits(iban) + iban[4:], check_country=False)
    except ValidationError:
        return f"does not have the length and format of a {country} IBAN"
    if iban[2:4] != _iban.calc_check_digits(iban):
        return "has wrong IBAN check digits"
    try:
        _iban.validate(iban, check_country=True)
    except ValidationError:
        return f"has wrong {country} national account check digits"
    return None


def clabe_problem(value: str) -> str | None:
    """Why ``value`` is not a valid CLABE, or None if it is (weights 3, 7, 1; mod 10)."""
    clabe = compact(value)
    if not _CLABE.match(clabe):
        return "is not a CLABE (18 digits)"
    weights = (3, 7, 1) * 6
    total = sum((int(d) * w) % 10 for d, w in zip(clabe[:17], weights, strict=False))
    if (10 - total % 10) % 10 != int(clabe[17]):
        return "has a wrong CLABE check digit"
    return None


def group_iban(value: str) -> str:
    """``ES7899990001410123456789`` → ``ES78 9999 0001 4101 2345 6789``."""
    iban = compact(value)
    return " ".join(iban[i : i + 4] for i in range(0, len(iban), 4))
