"""Staff sessions end server-side (sign-out, a new password, a disabled account: every
session of the account, a replayed cookie included), and sign-in is throttled per account
and per client address: slowed down, then locked."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.api.conftest import fast_settings
from tests.servers import RunningApi, api_server

EMAIL, PASSWORD = "laura@ejemplar-credito.example", "correct horse battery staple"


def server(tmp_path: Path, **overrides: Any) -> Any:
    return api_server(fast_settings(tmp_path, run_worker=False, **overrides))


@pytest.fixture()
def running(tmp_path: Path) -> Iterator[RunningApi]:
    with server(tmp_path) as running:
        running.service.create_staff(email=EMAIL, password=PASSWORD)
        yield running


OPEN: list[httpx.Client] = []


@pytest.fixture(autouse=True)
def close_clients() -> Iterator[None]:
    yield
    while OPEN:
        OPEN.pop().close()


def browser(running: RunningApi) -> httpx.Client:
    client = httpx.Client(base_url=running.base_url, follow_redirects=False, timeout=30)
    OPEN.append(client)
    return client


def csrf(client: httpx.Client, path: str = "/ui/login") -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', client.get(path).text)
    assert found is not None
    return found.group(1)


def sign_in(client: httpx.Client, email: str = EMAIL, password: str = PASSWORD) -> httpx.Response:
    token = csrf(client)
    return client.post("/ui/login", data={"email": email, "password": password, "csrf": token})


def signed_in(client: httpx.Client) -> bool:
    response = client.get("/ui/compose")
    if response.status_code == 200:
        return True
    assert response.status_code == 303 and response.headers["location"] == "/ui/login"
    return False


def test_sign_out_ends_every_session_and_a_replayed_cookie(running: RunningApi) -> None:
    first, second = browser(running), browser(running)
    assert sign_in(first).status_code == 303 and sign_in(second).status_code == 303
    assert signed_in(first) and signed_in(second)
    kept = dict(first.cookies)  # an attacker's copy of the cookie
    page = first.get("/ui/compose").text
    found = re.search(
        r'action="/ui/logout">\s*<input type="hidden" name="form_token" value="([^"]+)"', page
    )
    assert found is not None  # the sign-out form's one-time token
    assert first.post("/ui/logout", data={"form_token": found.group(1)}).status_code == 303
    assert not signed_in(first)
    replay = browser(running)
    replay.cookies.update(kept)
    assert not signed_in(replay)  # the copied cookie no longer works
    assert not signed_in(second)  # nor does the account's other session
    assert sign_in(second).status_code == 303 and signed_in(second)  # signing in again does


def test_a_new_password_or_a_disabled_account_ends_every_session(running: RunningApi) -> None:
    client = browser(running)
    assert sign_in(client).status_code == 303 and signed_in(client)
    running.service.create_staff(email=EMAIL, password="another long passphrase", replace=True)
    assert not signed_in(client)
    assert sign_in(client, password="another long passphrase").status_code == 303
    assert signed_in(client)
    running.service.disable_staff(email=EMAIL)
    assert not signed_in(client)
    assert sign_in(client, password="another long passphrase").status_code == 401


def test_failed_sign_ins_slow_down_then_lock_the_account(tmp_path: Path) -> None:
    settings: dict[str, Any] = {
        "sign_in_slowdown_after": 2,
        "sign_in_delay_seconds": 0.5,
        "sign_in_lock_after": 4,
        "sign_in_lock_seconds": 3.0,
    }
    with server(tmp_path, **settings) as running:
        running.service.create_staff(email=EMAIL, password=PASSWORD)
        client = browser(running)
        assert [sign_in(client, password="wrong guess 1").status_code for _ in range(2)] == [
            401,
            401,
        ]
        slowed = sign_in(client, password="wrong guess 2")
        assert slowed.status_code == 429 and 0 < int(slowed.headers["Retry-After"]) <= 1
        assert sign_in(client).status_code == 429  # even the right password must wait
        time.sleep(0.6)
        assert sign_in(client, password="wrong guess 3").status_code == 401  # failure 3
        assert sign_in(client, password="wrong guess 4").status_code == 429  # now 1 s
        time.sleep(1.1)
        assert sign_in(client, password="wrong guess 5").status_code == 401  # 4: locked
        locked = sign_in(client)
        assert locked.status_code == 429 and "Too many failed sign-ins" in locked.text
        assert int(locked.headers["Retry-After"]) >= 2
        time.sleep(3.1)
        assert sign_in(client).status_code == 303 and signed_in(client)
        assert sign_in(client, password="wrong again").status_code == 401  # counts from 0


def test_failed_sign_ins_from_one_address_lock_it_whatever_the_account(tmp_path: Path) -> None:
    overrides = {"sign_in_address_lock_after": 5, "sign_in_slowdown_after": 10}
    with server(tmp_path, **overrides) as running:
        running.service.create_staff(email=EMAIL, password=PASSWORD)
        client = browser(running)
        codes = [
            sign_in(
                client, email=f"guess{i}@ejemplar-credito.example", password="x" * 12
            ).status_code
            for i in range(5)
        ]
        assert codes == [401] * 5
        assert sign_in(client).status_code == 429  # the address is locked, for any account
