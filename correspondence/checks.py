"""Reconciling what a payload states with what the service computes.

Kinds compute every derivable figure themselves. Where the payload also states one, the
two must agree to the cent and to the day; otherwise the payload is refused with the
field path and both values. All disagreements are collected before refusing, so the
caller sees every problem at once.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from correspondence.errors import InvalidPayload, Problem

T = TypeVar("T")


class Reconciler:
    """Collects problems while a kind derives its figures, then raises them together."""

    def __init__(self) -> None:
        self.problems: list[Problem] = []

    def same(
        self,
        field: str,
        stated: T | None,
        computed: T,
        *,
        show: Callable[[T], str] = str,
        why: str = "",
    ) -> None:
        """Record a mismatch when ``stated`` is given and differs from ``computed``."""
        if stated is None or stated == computed:
            return
        reason = f" ({why})" if why else ""
        self.problems.append(
            Problem(
                field,
                f"stated {show(stated)} but the service computes {show(computed)}{reason}",
                "mismatch",
            )
        )

    def rule(self, field: str, message: str) -> None:
        """Record a broken business rule at ``field``."""
        self.problems.append(Problem(field, message, "rule"))

    def raise_if_any(self) -> None:
        """Refuse the payload if anything was recorded."""
        if self.problems:
            raise InvalidPayload(self.problems)
