"""Who may call: API keys (for clients) and staff accounts with passwords (for the UI).

API secrets are 256 random bits, stored as a sha256 (no dictionary to attack). Staff
passwords are stored as argon2 hashes; sign-in failures are throttled per account and per
client address. Each key's requests are rate limited (:mod:`correspondence.rate_limit`),
and keys and staff accounts are listed, revoked, rotated and disabled here (docs/keys.md).
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import re
import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass
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
from correspondence.rate_limit import RateLimited, RateLimiter, rate_limit_problems
from correspondence.registry import accounts
from correspondence.registry.models import ApiKey, SignInThrottle, StaffUser
from correspondence.registry.store import Collision, Registry, Tx
from correspondence.results import Client, Staff
from correspondence.scopes import SCOPES
from correspondence.staff_languages import check_staff_language
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


_CONTROL = re.compile("[\x00-\x1f\x7f]")
NAME_MAX = 100
"""The longest key name (the column's length)."""


@dataclass(frozen=True)
class ApiKeyInfo:
    """What may be shown of an API key: never its secret, nor the secret's hash. ``id`` is
    the key's public prefix, the part after ``cor_`` of the key itself."""

    id: str
    name: str
    scopes: tuple[str, ...]
    created_at: datetime
    revoked_at: datetime | None
    rotated_at: datetime | None
    rate_limit_per_minute: int | None
    """The key's own limit; ``None``: the settings' default."""
    effective_rate_limit_per_minute: int
    """The limit that applies to it now."""


@dataclass(frozen=True)
class StaffInfo:
    """What may be shown of a staff account: never its password hash."""

    id: int
    email: str
    created_at: datetime
    disabled_at: datetime | None
    locked_until: datetime | None
    """Until when sign-in is locked after repeated failures (``None``: not locked)."""
    locale: str = "en"
    """The language of the staff UI for this member."""


class Access:
    """API keys, staff accounts, sign-in and sessions."""

    def __init__(
        self,
        *,
        settings: Settings,
        registry: Registry,
        clock: Callable[[], datetime],
        limiter: RateLimiter | None = None,
    ) -> None:
        self.settings = settings
        self.registry = registry
        self.clock = clock
        self.limiter = limiter or RateLimiter()

    def create_api_key(
        self, *, name: str, scopes: tuple[str, ...], rate_limit_per_minute: int | None = None
    ) -> str:
        """Create a key and return it; only its hash is stored, so it is shown once."""
        return self.new_api_key(
            name=name, scopes=scopes, rate_limit_per_minute=rate_limit_per_minute
        )[1]

    def new_api_key(
        self, *, name: str, scopes: Sequence[str], rate_limit_per_minute: int | None = None
    ) -> tuple[ApiKeyInfo, str]:
        """Create a key: what may be shown of it, and the key itself (shown once)."""
        problems = []
        if not name.strip() or len(name) > NAME_MAX or _CONTROL.search(name):
            problems.append(
                Problem("name", f"give a name of 1 to {NAME_MAX} characters, no control", "name")
            )
        if set(scopes) - set(SCOPES) or not scopes:
            problems.append(Problem("scopes", f"choose from {', '.join(SCOPES)}", "scope"))
        problems += rate_limit_problems(rate_limit_per_minute)
        if problems:
            raise InvalidPayload(problems)
        prefix = secrets.token_hex(6)
        secret = secrets.token_urlsafe(32)
        with self.registry.transaction() as tx:
            row = accounts.add_api_key(
                tx,
                name=name.strip(),
                prefix=prefix,
                secret_hash=hash_secret(secret),
                scopes=" ".join(sorted(set(scopes))),
                rate_limit_per_minute=rate_limit_per_minute,
                now=self.clock(),
            )
            return self._key_info(row), f"cor_{prefix}_{secret}"

    def authenticate(self, token: str | None, *, metered: bool = False) -> Client:
        """The client a bearer token belongs to. ``metered``: the request counts against
        the key's rate limit (:class:`RateLimited` past it), as every API request does
        but health checks and metrics scrapes."""
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
            client = Client(row.id, row.name, frozenset(row.scopes.split()))
            limit = row.rate_limit_per_minute or self.settings.rate_limit_per_minute
        if metered:
            wait = self.limiter.take(client.id, limit)
            if wait > 0:
                raise RateLimited(
                    f"this key may make {limit} requests a minute: retry in {wait:.1f} s", wait
                )
        return client

    # --- key and account management (the CLI and the admin API) -----------------------------

    def api_keys(self) -> list[ApiKeyInfo]:
        """Every API key, oldest first, revoked ones included."""
        with self.registry.transaction() as tx:
            return [self._key_info(row) for row in accounts.api_keys(tx)]

    def api_key(self, key_id: str) -> ApiKeyInfo:
        """One API key, by its id (the prefix)."""
        with self.registry.transaction() as tx:
            return self._key_info(self._key_row(tx, key_id))

    def revoke_api_key(self, key_id: str) -> ApiKeyInfo:
        """Revoke a key: its next request is refused (``401``). Revoking it again changes
        nothing."""
        with self.registry.transaction() as tx:
            row = self._key_row(tx, key_id, lock=True)
            if row.revoked_at is None:
                row.revoked_at = self.clock()
            info, row_id = self._key_info(row), row.id
        self.limiter.forget(row_id)
        return info

    def rotate_api_key(self, key_id: str) -> tuple[ApiKeyInfo, str]:
        """Give a key a new secret (same id, name, scopes and limit): the old secret is
        refused from the next request on. Returns the new key, shown once. A revoked key
        stays revoked (:class:`Conflict`)."""
        secret = secrets.token_urlsafe(32)
        with self.registry.transaction() as tx:
            row = self._key_row(tx, key_id, lock=True)
            if row.revoked_at is not None:
                raise Conflict(f"API key {row.prefix} is revoked; create a new one")
            row.secret_hash = hash_secret(secret)
            row.rotated_at = self.clock()
            return self._key_info(row), f"cor_{row.prefix}_{secret}"

    def set_rate_limit(self, key_id: str, per_minute: int | None) -> ApiKeyInfo:
        """Set a key's own rate limit (``None``: the settings' default again); it applies
        from the key's next request."""
        problems = rate_limit_problems(per_minute)
        if problems:
            raise InvalidPayload(problems)
        with self.registry.transaction() as tx:
            row = self._key_row(tx, key_id, lock=True)
            row.rate_limit_per_minute = per_minute
            return self._key_info(row)

    def staff_accounts(self) -> list[StaffInfo]:
        """Every staff account, oldest first, disabled ones included."""
        with self.registry.transaction() as tx:
            return [self._staff_info(tx, row) for row in accounts.staff_list(tx)]

    def _key_row(self, tx: Tx, key_id: str, *, lock: bool = False) -> ApiKey:
        row = accounts.api_key(tx, key_id, lock=lock) if 0 < len(key_id) <= 16 else None
        if row is None:
            raise NotFound(f"no API key {key_id[:40]!r}")
        return row

    def _key_info(self, row: ApiKey) -> ApiKeyInfo:
        return ApiKeyInfo(
            id=row.prefix,
            name=row.name,
            scopes=tuple(row.scopes.split()),
            created_at=aware(row.created_at),
            revoked_at=aware(row.revoked_at) if row.revoked_at else None,
            rotated_at=aware(row.rotated_at) if row.rotated_at else None,
            rate_limit_per_minute=row.rate_limit_per_minute,
            effective_rate_limit_per_minute=(
                row.rate_limit_per_minute or self.settings.rate_limit_per_minute
            ),
        )

    def _staff_info(self, tx: Tx, row: StaffUser) -> StaffInfo:
        throttle = accounts.throttle(tx, f"email:{row.email}"[:300])
        locked = throttle.locked_until if throttle is not None else None
        return StaffInfo(
            id=row.id,
            email=row.email,
            created_at=aware(row.created_at),
            disabled_at=aware(row.disabled_at) if row.disabled_at else None,
            locked_until=aware(locked) if locked and aware(locked) > self.clock() else None,
            locale=row.locale,
        )

    def create_staff(
        self, *, email: str, password: str, replace: bool = False, locale: str | None = None
    ) -> Staff:
        """Add a member of staff (or, with ``replace``, set an existing one's password: every
        session of that account ends), with the UI in ``locale`` (else English, or as is)."""
        if len(password) < 12:
            raise InvalidPayload([Problem("password", "use at least 12 characters", "weak")])
        if locale is not None:
            check_staff_language(locale)
        normalised = email.strip().lower()
        with self.registry.transaction() as tx:
            existing = accounts.staff_by_email(tx, normalised)
            if existing is not None and replace:
                existing.password_hash = passwords().hash(password)
                existing.session_epoch += 1
                existing.locale = locale or existing.locale
                return _staff(existing)
            try:
                row = accounts.add_staff(
                    tx,
                    email=normalised,
                    password_hash=passwords().hash(password),
                    now=self.clock(),
                    locale=locale or "en",
                )
            except Collision:
                raise Conflict(f"{email} already exists") from None
            return _staff(row)

    def set_staff_locale(self, *, email: str, locale: str) -> StaffInfo:
        """Set the language of the staff UI for a member of staff (``en`` or ``es``)."""
        check_staff_language(locale)
        with self.registry.transaction() as tx:
            row = accounts.staff_by_email(tx, email.strip().lower()[:200])
            if row is None:
                raise NotFound(f"no staff user {email[:200]}")
            row.locale = locale
            return self._staff_info(tx, row)

    def disable_staff(self, *, email: str) -> StaffInfo:
        """Disable an account: it cannot sign in, and every session of it ends (from its
        next request). Disabling it again changes nothing."""
        with self.registry.transaction() as tx:
            row = accounts.staff_by_email(tx, email.strip().lower()[:200])
            if row is None:
                raise NotFound(f"no staff user {email[:200]}")
            if row.disabled_at is None:
                row.disabled_at = self.clock()
            row.session_epoch += 1
            return self._staff_info(tx, row)

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
                return _staff(row)
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
            return _staff(row)


def _staff(row: StaffUser) -> Staff:
    return Staff(row.id, row.email, row.session_epoch, row.locale)
