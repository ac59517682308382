"""One-time form tokens: every state-changing form of the staff UI (resend, retry, sign out,
the language switch, review decisions) carries a token that can be spent once.

Rendering a form issues a token and keeps it in the session (a bounded set: the newest
:data:`KEPT` of them, so a session's cookie stays small). Submitting the form spends it:
the token must be one this session was given, and no request may have spent it before.
The session is a signed cookie, so two requests sent at once (a double click) both carry
the token; which tokens were spent is therefore kept here, in the process, under a lock,
and the second request finds the token spent and does nothing ("Already done").

The spent set is bounded too (:data:`REMEMBERED`): when it is full the oldest entry is
forgotten, and every token issued before the forgotten one's issue time is refused from
then on, so a forgotten token can never be spent again. A token also expires with the
session (:data:`LIFETIME`). The store is per process: the UI is served by one process
(``correspondence serve``); several processes would need a shared store.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, MutableMapping
from enum import Enum
from typing import Any

FIELD = "form_token"
"""The name of the hidden field that carries the token."""
SESSION_KEY = "form_tokens"
KEPT = 24
REMEMBERED = 100_000
LIFETIME = 8 * 3600


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
        *,
        clock: Callable[[], float] = time.time,
        remembered: int = REMEMBERED,
        lifetime: float = LIFETIME,
    ) -> None:
        self._clock = clock
        self._remembered = remembered
        self._lifetime = lifetime
        self._spent: OrderedDict[str, float] = OrderedDict()
        self._floor = 0.0
        self._lock = threading.Lock()

    def issue(self, session: MutableMapping[str, Any]) -> str:
        """A new token, kept in ``session`` (the oldest of the session's tokens dropped
        once it holds :data:`KEPT`)."""
        token = f"{int(self._clock())}.{secrets.token_urlsafe(16)}"
        kept = [t for t in session.get(SESSION_KEY, []) if isinstance(t, str)]
        session[SESSION_KEY] = [*kept, token][-KEPT:]
        return token

    def spend(self, session: MutableMapping[str, Any], token: str) -> Spend:
        """Spend ``token``: :attr:`Spend.FRESH` once, :attr:`Spend.SPENT` every time after."""
        kept = session.get(SESSION_KEY, [])
        issued = _issued_at(token)
        now = self._clock()
        with self._lock:
            if token in self._spent:
                return Spend.SPENT
            if (
                not isinstance(kept, list)
                or token not in kept
                or issued is None
                or issued < self._floor
                or now - issued > self._lifetime
            ):
                return Spend.UNKNOWN
            self._spent[token] = issued
            while len(self._spent) > self._remembered:
                _, forgotten_issue = self._spent.popitem(last=False)
                self._floor = max(self._floor, forgotten_issue + 1)
        session[SESSION_KEY] = [t for t in kept if t != token]
        return Spend.FRESH


def _issued_at(token: str) -> int | None:
    stamp, dot, rest = token.partition(".")
    if not dot or not stamp.isdigit() or len(stamp) > 12 or not rest:
        return None
    return int(stamp)
