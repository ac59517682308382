"""API keys, staff accounts and the sign-in throttle."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from correspondence.registry.models import ApiKey, SignInThrottle, StaffUser
from correspondence.registry.store import Tx


def add_api_key(
    tx: Tx, *, name: str, prefix: str, secret_hash: str, scopes: str, now: datetime
) -> None:
    """Record a key (its secret only as a hash)."""
    tx.add(ApiKey(name=name, prefix=prefix, secret_hash=secret_hash, scopes=scopes, created_at=now))


def api_key(tx: Tx, prefix: str) -> ApiKey | None:
    """The key with this public prefix."""
    return tx.scalars(select(ApiKey).where(ApiKey.prefix == prefix)).first()


def staff_by_email(tx: Tx, email: str) -> StaffUser | None:
    """The staff account with this (normalised) email."""
    return tx.scalars(select(StaffUser).where(StaffUser.email == email)).first()


def staff(tx: Tx, staff_id: int) -> StaffUser | None:
    """The staff account with this id."""
    return tx.get(StaffUser, staff_id)


def add_staff(tx: Tx, *, email: str, password_hash: str, now: datetime) -> StaffUser:
    """Insert a staff account now (an existing email raises the uniqueness error)."""
    row = StaffUser(email=email, password_hash=password_hash, created_at=now, session_epoch=0)
    tx.add(row)
    tx.flush()
    return row


def throttle(tx: Tx, key: str, *, lock: bool = False) -> SignInThrottle | None:
    """The failure count of one account or address (locked with ``lock``)."""
    return tx.get(SignInThrottle, key, with_for_update=lock)


def new_throttle(tx: Tx, key: str, now: datetime) -> SignInThrottle:
    """A fresh failure count."""
    row = SignInThrottle(key=key, failures=0, last_failure_at=now)
    tx.add(row)
    return row


def clear_throttle(tx: Tx, key: str) -> None:
    """Forget the failures of ``key`` (after a good sign-in)."""
    row = tx.get(SignInThrottle, key)
    if row is not None:
        tx.delete(row)
