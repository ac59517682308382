"""Key and account management (issue 22 §5), and the per-key rate limit at the use-case
level: listed without secrets, revoked and rotated from the next request on."""

from __future__ import annotations

import time
from dataclasses import asdict

import pytest

from correspondence.errors import Conflict, InvalidPayload, NotFound, Unauthenticated
from correspondence.rate_limit import RateLimited
from correspondence.registry import accounts
from tests.unit.use_cases.conftest import World

PASSWORD = "correct horse battery"


def stored_hashes(world: World) -> list[str]:
    with world.service.registry.transaction() as tx:
        return [row.secret_hash for row in accounts.api_keys(tx)] + [
            row.password_hash for row in accounts.staff_list(tx)
        ]


def test_a_listing_shows_every_key_without_its_secret_or_hash(world: World) -> None:
    access = world.service.access
    first = world.service.create_api_key(name="erp", scopes=("documents:read",))
    info, second = access.new_api_key(
        name=" billing ", scopes=("documents:write", "admin"), rate_limit_per_minute=30
    )
    listed = access.api_keys()
    assert [k.id for k in listed] == [first.split("_")[1], info.id]
    assert second.startswith(f"cor_{info.id}_")
    assert listed[1] == info
    assert (info.name, info.scopes) == ("billing", ("admin", "documents:write"))
    assert (info.rate_limit_per_minute, info.effective_rate_limit_per_minute) == (30, 30)
    assert listed[0].rate_limit_per_minute is None
    assert listed[0].effective_rate_limit_per_minute == world.service.settings.rate_limit_per_minute
    shown = repr([asdict(k) for k in listed])
    for secret in (first.split("_", 2)[2], second.split("_", 2)[2], *stored_hashes(world)):
        assert secret not in shown


@pytest.mark.parametrize(
    ("name", "scopes", "limit", "field"),
    [
        ("", ("admin",), None, "name"),
        ("   ", ("admin",), None, "name"),
        ("x" * 101, ("admin",), None, "name"),
        ("nul\x00", ("admin",), None, "name"),
        ("ok", ("root",), None, "scopes"),
        ("ok", (), None, "scopes"),
        ("ok", ("admin",), 0, "rate_limit_per_minute"),
        ("ok", ("admin",), 1_000_001, "rate_limit_per_minute"),
    ],
)
def test_a_key_is_refused_naming_the_field(
    world: World, name: str, scopes: tuple[str, ...], limit: int | None, field: str
) -> None:
    with pytest.raises(InvalidPayload) as refused:
        world.service.access.new_api_key(name=name, scopes=scopes, rate_limit_per_minute=limit)
    assert [p.field for p in refused.value.problems] == [field]
    assert world.service.access.api_keys() == []


def test_revocation_and_rotation_take_effect_on_the_next_request(world: World) -> None:
    access = world.service.access
    info, old = access.new_api_key(name="erp", scopes=("documents:read",))
    assert access.authenticate(old).name == "erp"
    rotated, new = access.rotate_api_key(info.id)
    assert rotated.id == info.id and new != old and rotated.rotated_at == world.clock()
    with pytest.raises(Unauthenticated):
        access.authenticate(old)
    assert access.authenticate(new).scopes == {"documents:read"}
    world.clock.advance(60)
    revoked = access.revoke_api_key(info.id)
    assert revoked.revoked_at == world.clock()
    with pytest.raises(Unauthenticated):
        access.authenticate(new)
    world.clock.advance(60)
    assert access.revoke_api_key(info.id).revoked_at == revoked.revoked_at  # unchanged
    with pytest.raises(Conflict, match="revoked"):
        access.rotate_api_key(info.id)
    for unknown in ("0" * 12, "", "x" * 300):
        for operation in (access.revoke_api_key, access.rotate_api_key, access.api_key):
            with pytest.raises(NotFound):
                operation(unknown)


def test_a_keys_own_limit_is_counted_when_metered(world: World) -> None:
    access = world.service.access
    info, key = access.new_api_key(name="erp", scopes=("documents:read",), rate_limit_per_minute=3)
    for _ in range(3):
        access.authenticate(key, metered=True)
    with pytest.raises(RateLimited) as limited:
        access.authenticate(key, metered=True)
    assert 0 < limited.value.retry_after <= 20.0 and "3 requests a minute" in str(limited.value)
    access.authenticate(key)  # unmetered (metrics): still allowed
    assert access.set_rate_limit(info.id, None).effective_rate_limit_per_minute == (
        world.service.settings.rate_limit_per_minute
    )
    time.sleep(60 / world.service.settings.rate_limit_per_minute)  # refilled at the new rate
    access.authenticate(key, metered=True)
    with pytest.raises(InvalidPayload):
        access.set_rate_limit(info.id, 0)
    with pytest.raises(NotFound):
        access.set_rate_limit("0" * 12, 5)


def test_staff_are_listed_without_hashes_and_disabled_once(world: World) -> None:
    access = world.service.access
    world.service.create_staff(email="Ana@Example.com", password=PASSWORD)
    world.service.create_staff(email="bo@example.com", password=PASSWORD)
    listed = access.staff_accounts()
    assert [(s.email, s.disabled_at) for s in listed] == [
        ("ana@example.com", None),
        ("bo@example.com", None),
    ]
    shown = repr([asdict(s) for s in listed])
    assert not any(h in shown for h in stored_hashes(world)) and "argon2" not in shown
    session = world.service.sign_in(email="bo@example.com", password=PASSWORD)
    disabled = access.disable_staff(email=" BO@example.com ")
    assert disabled.disabled_at == world.clock()
    assert world.service.staff(session.id, session.epoch) is None  # its session has ended
    with pytest.raises(Unauthenticated):
        world.service.sign_in(email="bo@example.com", password=PASSWORD)
    world.clock.advance(60)
    assert access.disable_staff(email="bo@example.com").disabled_at == disabled.disabled_at
    with pytest.raises(NotFound):
        access.disable_staff(email="nobody@example.com")
    assert [s.disabled_at is None for s in access.staff_accounts()] == [True, False]


def test_a_locked_account_is_listed_as_locked(world: World) -> None:
    world.service.create_staff(email="ana@example.com", password=PASSWORD)
    settings = world.service.settings
    for _ in range(settings.sign_in_lock_after):
        with pytest.raises(Unauthenticated):
            world.service.sign_in(email="ana@example.com", password="wrong password!")
        world.clock.advance(100)  # past each slow-down (at most 64 s before the tenth)
    (ana,) = world.service.access.staff_accounts()
    assert ana.locked_until is not None and ana.locked_until > world.clock()
    world.clock.advance(settings.sign_in_lock_seconds)
    assert world.service.access.staff_accounts()[0].locked_until is None
