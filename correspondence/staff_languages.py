"""The languages of the staff UI, in a module of their own: the command line offers them
as choices before it imports anything heavy (``correspondence --help``)."""

from __future__ import annotations

from correspondence.errors import InvalidPayload, Problem

STAFF_LANGUAGES = ("en", "es")
"""The languages of the staff UI (neutral Spanish, read in Mexico and Spain)."""


def check_staff_language(locale: str) -> None:
    """Refuse a language the staff UI does not speak."""
    if locale not in STAFF_LANGUAGES:
        message = f"the staff UI speaks {' or '.join(STAFF_LANGUAGES)}, not {locale[:20]!r}"
        raise InvalidPayload([Problem("locale", message, "unsupported")])
