"""API keys, staff accounts, sign-in throttling and sessions."""

from __future__ import annotations

import pytest

from correspondence import access
from correspondence.errors import (
    Conflict,
    InvalidPayload,
    NotFound,
    TooManyAttempts,
    Unauthenticated,
)
from tests.unit.use_cases.conftest import World

PASSWORD = "correct horse battery"


def test_an_api_key_is_shown_once_and_authenticates_with_its_scopes(world: World) -> None:
    token = world.service.create_api_key(name="erp", scopes=("documents:read", "previews"))
    client = world.service.authenticate(token)
    assert client.name == "erp" and client.scopes == {"documents:read", "previews"}
    prefix, secret = token.split("_")[1], token.split("_", 2)[2]
    with world.service.registry.transaction() as tx:
        from correspondence.registry import accounts

        row = accounts.api_key(tx, prefix)
        assert row is not None and secret not in row.secret_hash
    altered = token[:-1] + ("B" if token.endswith("A") else "A")  # one character off
    for bad in (None, "", "Bearer x", "cor_x", altered, f"cor_{'0' * 12}_{secret}"):
        with pytest.raises(Unauthenticated):
            world.service.authenticate(bad)
    with pytest.raises(InvalidPayload):
        world.service.create_api_key(name="x", scopes=("root",))
    with pytest.raises(InvalidPayload):
        world.service.create_api_key(name="x", scopes=())


def test_staff_sign_in_with_the_right_password_only(world: World) -> None:
    staff = world.service.create_staff(email=" Ana@Example.com ", password=PASSWORD)
    assert staff.email == "ana@example.com" and staff.client.reads_all
    assert world.service.sign_in(email="ANA@example.com", password=PASSWORD) == staff
    with pytest.raises(Unauthenticated):
        world.service.sign_in(email="ana@example.com", password="wrong password!")
    with pytest.raises(Unauthenticated):
        world.service.sign_in(email="nobody@example.com", password=PASSWORD)
    with pytest.raises(Conflict):
        world.service.create_staff(email="ana@example.com", password=PASSWORD)
    with pytest.raises(InvalidPayload, match="12 characters"):
        world.service.create_staff(email="bo@example.com", password="short")


def test_a_new_password_or_sign_out_ends_every_session(world: World) -> None:
    staff = world.service.create_staff(email="ana@example.com", password=PASSWORD)
    assert world.service.staff(staff.id, staff.epoch) == staff
    world.service.sign_out(staff)
    assert world.service.staff(staff.id, staff.epoch) is None
    renewed = world.service.create_staff(email="ana@example.com", password=PASSWORD + "!",
                                         replace=True)  # fmt: skip
    assert renewed.epoch == staff.epoch + 2
    assert world.service.sign_in(email="ana@example.com", password=PASSWORD + "!") == renewed
    world.service.disable_staff(email="ana@example.com")
    assert world.service.staff(renewed.id, renewed.epoch) is None
    with pytest.raises(Unauthenticated):
        world.service.sign_in(email="ana@example.com", password=PASSWORD + "!")
    with pytest.raises(NotFound):
        world.service.disable_staff(email="nobody@example.com")
    assert world.service.staff(999) is None


def test_failed_sign_ins_slow_down_then_lock_the_account(world: World) -> None:
    s = world.service.settings
    world.service.create_staff(email="ana@example.com", password=PASSWORD)
    for _ in range(s.sign_in_slowdown_after):
        with pytest.raises(Unauthenticated):
            world.service.sign_in(email="ana@example.com", password="wrong password!", address="a")
    with pytest.raises(TooManyAttempts) as waiting:
        world.service.sign_in(email="ana@example.com", password=PASSWORD, address="a")
    assert waiting.value.retry_after == pytest.approx(s.sign_in_delay_seconds)
    for _ in range(s.sign_in_lock_after - s.sign_in_slowdown_after):
        world.clock.advance(s.sign_in_lock_seconds / 4)
        with pytest.raises((Unauthenticated, TooManyAttempts)):
            world.service.sign_in(email="ana@example.com", password="wrong password!")
    world.clock.advance(s.sign_in_lock_seconds + 1)
    assert world.service.sign_in(email="ana@example.com", password=PASSWORD).email


def test_the_account_locks_after_its_limit(world: World) -> None:
    s = world.service.settings
    world.service.create_staff(email="ana@example.com", password=PASSWORD)
    longest = s.sign_in_delay_seconds * 2 ** (s.sign_in_lock_after - s.sign_in_slowdown_after)
    assert longest < s.sign_in_lock_seconds  # waiting out each delay keeps failures recent
    for _ in range(s.sign_in_lock_after):
        world.clock.advance(longest)
        with pytest.raises(Unauthenticated):
            world.service.sign_in(email="ana@example.com", password="wrong password!")
    world.clock.advance(longest)
    with pytest.raises(TooManyAttempts, match="locked"):
        world.service.sign_in(email="ana@example.com", password=PASSWORD)


def test_the_dummy_hash_is_computed_on_first_use_not_at_import() -> None:
    access.dummy_hash.cache_clear()
    assert access.dummy_hash.cache_info().currsize == 0
    first = access.dummy_hash()
    assert first.startswith("$argon2") and access.dummy_hash() is first
