"""Spent one-time form tokens of the staff UI (by digest): spent once, from any process."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete

from correspondence.registry.models import SpentFormToken
from correspondence.registry.store import Tx


def spend(tx: Tx, digest: str, *, issued_at: datetime, now: datetime) -> None:
    """Record the token as spent; :data:`~correspondence.registry.store.Collision` when it
    was spent before (by this process or another)."""
    tx.add(SpentFormToken(digest=digest, issued_at=issued_at, spent_at=now))
    tx.flush()


def forget_issued_before(tx: Tx, cutoff: datetime) -> int:
    """Drop the records of tokens issued before ``cutoff`` (expired: refused anyway)."""
    done = tx.execute(delete(SpentFormToken).where(SpentFormToken.issued_at < cutoff))
    return int(getattr(done, "rowcount", 0) or 0)


def is_spent(tx: Tx, digest: str) -> bool:
    """Whether the token with this digest was spent."""
    return tx.get(SpentFormToken, digest) is not None
