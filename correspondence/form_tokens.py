"""The staff UI's record of spent one-time form tokens (api/ui_tokens.py), in the
registry, so that every process serving the UI shares it: a form submitted twice, the two
requests reaching two processes, still acts once."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from correspondence.registry import form_tokens
from correspondence.registry.store import Collision, Registry


class SpentTokens:
    """Spends each token once across processes; forgets tokens once they have expired."""

    def __init__(self, *, registry: Registry, clock: Callable[[], datetime]) -> None:
        self.registry = registry
        self.clock = clock

    def first_spend(self, token: str, issued_at: int, lifetime: float) -> bool:
        """``True`` for the one call that spends ``token`` (issued at ``issued_at``, Unix
        seconds), ``False`` for every later one, whichever process makes it. Records of
        tokens older than ``lifetime`` seconds are dropped in the same transaction: such
        a token is refused as expired before it is looked up here. One transaction, so a
        database that fails does so before the token is spent, and the form sent again
        still acts."""
        digest = _digest(token)
        now = self.clock()
        issued = datetime.fromtimestamp(issued_at, UTC)
        try:
            with self.registry.transaction() as tx:
                form_tokens.forget_issued_before(tx, now - timedelta(seconds=lifetime))
                form_tokens.spend(tx, digest, issued_at=issued, now=now)
        except Collision:
            return False
        return True

    def was_spent(self, token: str) -> bool:
        """Whether ``token`` was spent (its record is kept until it expires)."""
        with self.registry.transaction() as tx:
            return form_tokens.is_spent(tx, _digest(token))


def _digest(token: str) -> str:
    """What is kept of a token: its sha256, never the token itself."""
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()
