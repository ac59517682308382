"""API keys, staff accounts and the sign-in throttle."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from correspondence.registry.models import ApiKey, SignInThrottle, StaffUser
from correspondence.registry.store import Tx


def add_api_key(
    tx: Tx,
    *,
    name: str,
    prefix: str,
    secret_hash: str,
    scopes: str,
    now: datetime,
    rate_limit_per_minute: int | None = None,
) -> ApiKey:
    """Record a key (its secret only as a hash)."""
    row = ApiKey(
        name=name,
        prefix=prefix,
        secret_hash=secret_hash,
        scopes=scopes,
        created_at=now,
        rate_limit_per_minute=rate_limit_per_minute,
    )
    tx.add(row)
    tx.flush()
    return row


def api_key(tx: Tx, prefix: str, *, lock: bool = False) -> ApiKey | None:
    """The key with this public prefix (locked with ``lock``)."""
    query = select(ApiKey).where(ApiKey.prefix == prefix)
    return tx.scalars(query.with_for_update() if lock else query).first()


def api_keys(tx: Tx) -> list[ApiKey]:
    """Every key, oldest first."""
    return list(tx.scalars(select(ApiKey).order_by(ApiKey.id)))


def staff_list(tx: Tx) -> list[StaffUser]:
    """Every staff account, oldest first."""
    return list(tx.scalars(select(StaffUser).order_by(StaffUser.id)))


def staff_by_email(tx: Tx, email: str) -> StaffUser | None:
    """The staff account with this (normalised) email."""
    return tx.scalars(select(StaffUser).where(StaffUser.email == email)).first()


def staff(tx: Tx, staff_id: int) -> StaffUser | None:
    """The staff account with this id."""
    return tx.get(StaffUser, staff_id)


def add_staff(
    tx: Tx, *, email: str, password_hash: str, now: datetime, locale: str = "en"
) -> StaffUser:
    """Insert a staff account now (an existing email raises the uniqueness error)."""
    row = StaffUser(
        email=email, password_hash=password_hash, created_at=now, session_epoch=0, locale=locale
    )
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
