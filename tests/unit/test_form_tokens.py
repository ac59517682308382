"""One-time form tokens (:mod:`api.ui_tokens`) over the registry's record of spent tokens
(:mod:`correspondence.form_tokens`), on a real SQLite database: spent once, whichever
process or thread spends it."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from api.ui_tokens import KEPT, SESSION_KEY, FormTokens, Spend
from correspondence.form_tokens import SpentTokens
from correspondence.registry import migrate, open_database
from correspondence.registry.models import SpentFormToken
from correspondence.registry.store import Registry


class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now

    def utc(self) -> datetime:
        return datetime.fromtimestamp(self.now, UTC)


class Process:
    """What one process serving the UI holds: its own engine on the shared database."""

    def __init__(self, url: str, clock: Clock, lifetime: float = 3600) -> None:
        self.database = open_database(url)
        self.registry = Registry(self.database)
        self.spent = SpentTokens(registry=self.registry, clock=clock.utc)
        self.tokens = FormTokens(self.spent, clock=clock, lifetime=lifetime)

    def records(self) -> int:
        with self.registry.transaction() as tx:
            return int(tx.scalar(select(func.count()).select_from(SpentFormToken)) or 0)


@pytest.fixture()
def url(tmp_path: Path) -> Iterator[str]:
    url = f"sqlite:///{tmp_path / 'registry.db'}"
    engine = open_database(url)
    migrate(engine)
    engine.dispose()
    yield url


@pytest.fixture()
def one(url: str) -> Iterator[Process]:
    process = Process(url, Clock())
    yield process
    process.database.dispose()


def test_a_token_is_spent_once_then_found_spent(one: Process) -> None:
    session: dict[str, Any] = {}
    token = one.tokens.issue(session)
    replayed_cookie = {SESSION_KEY: [token]}  # a copy of the session sent before the answer
    assert one.tokens.spend(session, token) is Spend.FRESH
    assert token not in session[SESSION_KEY]
    assert one.tokens.spend(replayed_cookie, token) is Spend.SPENT
    assert one.tokens.spend(session, token) is Spend.SPENT  # the newer cookie, sent again
    assert one.records() == 1


def test_the_registry_keeps_a_digest_not_the_token(one: Process) -> None:
    session: dict[str, Any] = {}
    token = one.tokens.issue(session)
    one.tokens.spend(session, token)
    with one.registry.transaction() as tx:
        (kept,) = tx.scalars(select(SpentFormToken)).all()
        assert token not in kept.digest and len(kept.digest) == 64


def test_tokens_of_another_session_or_forged_ones_are_unknown(one: Process) -> None:
    mine: dict[str, Any] = {}
    theirs: dict[str, Any] = {}
    token = one.tokens.issue(theirs)
    one.tokens.issue(mine)
    # "²" and "١" are digits to str.isdigit() but not to int(): refused, not a 500
    for forged in (token, "", "1.x", "not a token", "99999999999999.abc", "².x", "١٢.x"):
        assert one.tokens.spend(mine, forged) is Spend.UNKNOWN
    assert one.tokens.spend(theirs, token) is Spend.FRESH
    assert one.records() == 1


def test_a_session_keeps_a_bounded_set_of_tokens(one: Process) -> None:
    session: dict[str, Any] = {}
    issued = [one.tokens.issue(session) for _ in range(KEPT + 10)]
    assert session[SESSION_KEY] == issued[-KEPT:]
    assert one.tokens.spend(session, issued[0]) is Spend.UNKNOWN
    assert one.tokens.spend(session, issued[-1]) is Spend.FRESH


def test_tokens_expire_and_the_record_of_expired_ones_is_dropped(url: str) -> None:
    clock = Clock()
    process = Process(url, clock, lifetime=60)
    session: dict[str, Any] = {}
    old = process.tokens.issue(session)
    clock.now += 61
    assert process.tokens.spend(session, old) is Spend.UNKNOWN
    spent = []
    for _ in range(3):
        spent.append(process.tokens.issue(session))
        assert process.tokens.spend(session, spent[-1]) is Spend.FRESH
        clock.now += 31
    # The third was spent 62 s after the first was issued: the first's record is gone.
    assert process.records() == 2
    replayed = {SESSION_KEY: list(spent)}
    assert [process.tokens.spend(replayed, t) for t in spent] == [
        Spend.UNKNOWN,  # expired (93 s): refused before any lookup, so never spent twice
        Spend.UNKNOWN,  # expired (62 s), its record still kept
        Spend.SPENT,
    ]
    process.database.dispose()


def test_two_processes_spend_a_token_once(url: str) -> None:
    """A double submit whose two requests reach two processes serving the UI."""
    clock = Clock()
    first, second = Process(url, clock), Process(url, clock)
    session: dict[str, Any] = {}
    token = first.tokens.issue(session)
    results = [first.tokens.spend(dict(session), token), second.tokens.spend(dict(session), token)]
    assert results == [Spend.FRESH, Spend.SPENT]
    first.database.dispose()
    second.database.dispose()


def test_a_token_spent_by_many_threads_at_once_is_spent_once(url: str) -> None:
    clock = Clock()
    processes = [Process(url, clock) for _ in range(4)]
    session: dict[str, Any] = {}
    token = processes[0].tokens.issue(session)
    results: list[Spend] = []
    start = threading.Barrier(16)

    def submit(process: Process, copy: dict[str, Any]) -> None:
        start.wait()
        results.append(process.tokens.spend(copy, token))

    threads = [
        threading.Thread(target=submit, args=(processes[i % 4], dict(session))) for i in range(16)
    ]  # each request carries its own copy of the cookie
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(r.value for r in results) == ["fresh"] + ["spent"] * 15
    for process in processes:
        process.database.dispose()
