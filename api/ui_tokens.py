"""One-time form tokens: every state-changing form of the staff UI (resend, retry, sign out,
the language switch, review decisions) carries a token that can be spent once.

Rendering a form issues a token and keeps it in the session (a bounded set: the newest
:data:`KEPT` of them, so a session's cookie stays small). Submitting the form spends it:
the token must be one this session was given, and no request may have spent it before.
The session is a signed cookie, so two requests sent at once (a double click) both carry
the token; which tokens were spent is therefore kept in the registry
(:class:`correspondence.form_tokens.SpentTokens`), where every process serving the UI
finds it, and the second request finds the token spent and does nothing ("Already done").

A token expires with the session (:data:`LIFETIME`); the registry forgets a spent token
once it has expired, since an expired token is refused before it is looked up.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable, MutableMapping
from enum import Enum
from typing import Any, Protocol

FIELD = "form_token"
"""The name of the hidden field that carries the token."""
SESSION_KEY = "form_tokens"
KEPT = 24
LIFETIME = 8 * 3600


class SpentStore(Protocol):
    """Where spent tokens are recorded (the registry's, shared by every process)."""

    def first_spend(self, token: str, issued_at: int, lifetime: float) -> bool:
        """``True`` for the one call that spends ``token``; ``False`` after."""
        ...

    def was_spent(self, token: str) -> bool:
        """Whether ``token`` was spent (and has not yet expired)."""
        ...


class Spend(Enum):
    """What spending a token found."""

    FRESH = "fresh"
    """The token was this session's and unspent: go ahead (it is spent now)."""
    SPENT = "spent"
    """Spent before: the form was already submitted; do nothing."""
    UNKNOWN = "unknown"
    """Not a token of this session (forged, expired or pushed out of the session)."""


class FormTokens:
    """Issues tokens into sessions and spends each once."""

    def __init__(
        self,
        spent: SpentStore,
        *,
        clock: Callable[[], float] = time.time,
        lifetime: float = LIFETIME,
    ) -> None:
        self._spent = spent
        self._clock = clock
        self._lifetime = lifetime

    def issue(self, session: MutableMapping[str, Any]) -> str:
        """A new token, kept in ``session`` (the oldest of the session's tokens dropped
        once it holds :data:`KEPT`)."""
        token = f"{int(self._clock())}.{secrets.token_urlsafe(16)}"
        kept = [t for t in session.get(SESSION_KEY, []) if isinstance(t, str)]
        session[SESSION_KEY] = [*kept, token][-KEPT:]
        return token

    def spend(self, session: MutableMapping[str, Any], token: str) -> Spend:
        """Spend ``token``: :attr:`Spend.FRESH` once, :attr:`Spend.SPENT` every time after
        (from a copy of the session that still names it: a double submit)."""
        kept = session.get(SESSION_KEY, [])
        issued = _issued_at(token)
        if issued is None or self._clock() - issued > self._lifetime:
            return Spend.UNKNOWN
        if not isinstance(kept, list) or token not in kept:
            # the session's newer cookie no longer names it: the form sent again later
            return Spend.SPENT if self._spent.was_spent(token) else Spend.UNKNOWN
        if not self._spent.first_spend(token, issued, self._lifetime):
            return Spend.SPENT
        session[SESSION_KEY] = [t for t in kept if t != token]
        return Spend.FRESH


def _issued_at(token: str) -> int | None:
    stamp, dot, rest = token.partition(".")
    if not dot or not (stamp.isascii() and stamp.isdigit()) or len(stamp) > 12 or not rest:
        return None
    return int(stamp)
