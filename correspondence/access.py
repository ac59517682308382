"""Who may call: API keys (for clients) and staff accounts with passwords (for the UI).

API secrets are 256 random bits, stored as a sha256 (no dictionary to attack). Staff
passwords are stored as argon2 hashes; sign-in failures are throttled per account and per
client address.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import secrets
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerifyMismatchError

from correspondence.config import Settings
from correspondence.errors import (
    Conflict,
    InvalidPayload,
    NotFound,
    Problem,
    TooManyAttempts,
    Unauthenticated,
)
from correspondence.registry import accounts
from correspondence.registry.models import SignInThrottle
from correspondence.registry.store import Collision, Registry
from correspondence.results import Client, Staff
from correspondence.scopes import SCOPES
from correspondence.times import aware


@functools.cache
def passwords() -> PasswordHasher:
    """The argon2 hasher of staff passwords."""
    return PasswordHasher()


@functools.cache
def dummy_hash() -> str:
    """Verified against when the email is unknown, so that both cases take the same time;
    computed on the first sign-in, not at import (an argon2 hash costs time and memory)."""
    return passwords().hash("not a password of anyone")


def hash_secret(secret: str) -> str:
    """The stored form of an API key's secret."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


class Access:
    """API keys, staff accounts, sign-in and sessions."""

    def __init__(
        self, *, settings: Settings, registry: Registry, clock: Callable[[], datetime]
    ) -> None:
        self.settings = settings
        self.registry = registry
        self.clock = clock

    def create_api_key(self, *, name: str, scopes: tuple[str, ...]) -> str:
        """Create a key and return it; only its hash is stored, so it is shown once."""
        unknown = set(scopes) - set(SCOPES)
        if unknown or not scopes:
            raise InvalidPayload([Problem("scopes", f"choose from {', '.join(SCOPES)}", "scope")])
        prefix = secrets.token_hex(6)
        secret = secrets.token_urlsafe(32)
        with self.registry.transaction() as tx:
            accounts.add_api_key(
                tx,
                name=name,
                prefix=prefix,
                secret_hash=hash_secret(secret),
                scopes=" ".join(sorted(set(scopes))),
                now=self.clock(),
            )
        return f"cor_{prefix}_{secret}"

    def authenticate(self, token: str | None) -> Client:
        """The client a bearer token belongs to."""
        if not token or not token.startswith("cor_") or token.count("_") < 2:
            raise Unauthenticated("send Authorization: Bearer <API key>")
        _, prefix, secret = token.split("_", 2)
        with self.registry.transaction() as tx:
            row = accounts.api_key(tx, prefix)
            if (
                row is None
                or row.revoked_at is not None
                or not hmac.compare_digest(row.secret_hash, hash_secret(secret))
            ):
                raise Unauthenticated("unknown or revoked API key")
            return Client(row.id, row.name, frozenset(row.scopes.split()))

    def create_staff(self, *, email: str, password: str, replace: bool = False) -> Staff:
        """Add a member of staff (or, with ``replace``, set an existing one's password:
        every session of that account ends)."""
        if len(password) < 12:
            raise InvalidPayload([Problem("password", "use at least 12 characters", "weak")])
        normalised = email.strip().lower()
        with self.registry.transaction() as tx:
            existing = accounts.staff_by_email(tx, normalised)
            if existing is not None and replace:
                existing.password_hash = passwords().hash(password)
                existing.session_epoch += 1
                return Staff(existing.id, existing.email, existing.session_epoch)
            try:
                row = accounts.add_staff(
                    tx,
                    email=normalised,
                    password_hash=passwords().hash(password),
                    now=self.clock(),
                )
            except Collision:
                raise Conflict(f"{email} already exists") from None
            return Staff(row.id, row.email, row.session_epoch)

    def disable_staff(self, *, email: str) -> None:
        """Disable an account: it cannot sign in, and every session of it ends."""
        with self.registry.transaction() as tx:
            row = accounts.staff_by_email(tx, email.strip().lower())
            if row is None:
                raise NotFound(f"no staff user {email}")
            row.disabled_at = self.clock()
            row.session_epoch += 1

    def sign_in(self, *, email: str, password: str, address: str | None = None) -> Staff:
        """The member of staff with these credentials, or :class:`Unauthenticated`.

        Failures are counted per account and per client address: past a few, each new
        try must wait longer (:class:`TooManyAttempts`, with the wait), and past more the
        account or the address is locked for a while, right password or not."""
        email = email.strip().lower()
        keys = [f"email:{email}"[:300]] + ([f"addr:{address}"[:300]] if address else [])
        self._throttle(keys)
        with self.registry.transaction() as tx:
            row = accounts.staff_by_email(tx, email)
            stored = row.password_hash if row else dummy_hash()
            try:
                passwords().verify(stored, password)
                ok = row is not None and row.disabled_at is None
            except (VerifyMismatchError, InvalidHashError):
                ok = False
            if ok:
                assert row is not None
                accounts.clear_throttle(tx, keys[0])
                return Staff(row.id, row.email, row.session_epoch)
        self._count_failure(keys)
        raise Unauthenticated("wrong email or password")

    def _throttle(self, keys: Sequence[str]) -> None:
        s, now = self.settings, self.clock()
        with self.registry.transaction() as tx:
            for key in keys:
                row = accounts.throttle(tx, key)
                if row is None:
                    continue
                if row.locked_until is not None and aware(row.locked_until) > now:
                    wait = (aware(row.locked_until) - now).total_seconds()
                    raise TooManyAttempts(
                        f"too many failed sign-ins: locked for {wait:.0f} s", wait
                    )
                failures = self._recent_failures(row, now)
                if failures >= s.sign_in_slowdown_after:
                    delay = min(
                        s.sign_in_delay_seconds * 2 ** (failures - s.sign_in_slowdown_after),
                        s.sign_in_lock_seconds,
                    )
                    wait = delay - (now - aware(row.last_failure_at)).total_seconds()
                    if wait > 0:
                        raise TooManyAttempts(f"too many failed sign-ins: wait {wait:.1f} s", wait)

    def _recent_failures(self, row: SignInThrottle, now: datetime) -> int:
        window = timedelta(seconds=self.settings.sign_in_lock_seconds)
        return row.failures if aware(row.last_failure_at) > now - window else 0

    def _count_failure(self, keys: Sequence[str]) -> None:
        s, now = self.settings, self.clock()
        for attempt in range(3):
            try:
                with self.registry.transaction() as tx:
                    for key in keys:
                        row = accounts.throttle(tx, key, lock=True)
                        if row is None:
                            row = accounts.new_throttle(tx, key, now)
                        row.failures = self._recent_failures(row, now) + 1
                        row.last_failure_at = now
                        limit = (
                            s.sign_in_lock_after
                            if key.startswith("email:")
                            else s.sign_in_address_lock_after
                        )
                        if row.failures >= limit:
                            row.locked_until = now + timedelta(seconds=s.sign_in_lock_seconds)
                            row.failures = 0
                return
            except Collision:  # a concurrent first failure of the same key
                if attempt == 2:
                    raise

    def sign_out(self, staff: Staff) -> None:
        """End every session of ``staff``'s account (this one and any other)."""
        with self.registry.transaction() as tx:
            row = accounts.staff(tx, staff.id)
            if row is not None and row.session_epoch == staff.epoch:
                row.session_epoch += 1

    def staff(self, staff_id: int, epoch: int = 0) -> Staff | None:
        """The member of staff a session names, if that session is still valid: the
        account exists, is not disabled, and has not ended its sessions since."""
        with self.registry.transaction() as tx:
            row = accounts.staff(tx, staff_id)
            if row is None or row.disabled_at is not None or row.session_epoch != epoch:
                return None
            return Staff(row.id, row.email, row.session_epoch)
