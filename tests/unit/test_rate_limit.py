"""The per-key rate limiter (issue 22 §6): a token bucket holding a minute's worth of
requests, refilled continuously, driven here by a clock the test moves."""

from __future__ import annotations

import math

from hypothesis import given, settings
from hypothesis import strategies as st

from correspondence.rate_limit import RateLimiter


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_minutes_worth_at_once_then_one_per_interval() -> None:
    clock = Clock()
    limiter = RateLimiter(clock)
    results = [limiter.take(1, 5) for _ in range(7)]
    assert results[:5] == [0.0] * 5
    assert results[5] == results[6] == 12.0  # 60 s / 5: a refused request takes nothing
    clock.now += 11.9
    assert math.isclose(limiter.take(1, 5), 0.1)
    clock.now += 0.1
    assert limiter.take(1, 5) == 0.0  # one more after 12 s …
    assert math.isclose(limiter.take(1, 5), 12.0)  # … and only one


def test_each_key_has_its_own_bucket_and_a_revoked_one_is_forgotten() -> None:
    limiter = RateLimiter(Clock())
    assert [limiter.take(1, 2) for _ in range(3)] == [0.0, 0.0, 30.0]
    assert limiter.take(2, 2) == 0.0
    limiter.forget(1)
    assert limiter.take(1, 2) == 0.0


def test_a_new_limit_applies_from_the_next_request() -> None:
    clock = Clock()
    limiter = RateLimiter(clock)
    assert [limiter.take(1, 1) for _ in range(2)] == [0.0, 60.0]
    assert math.isclose(limiter.take(1, 6000), 0.01)  # the empty bucket refills at 100/s
    clock.now += 0.01
    assert limiter.take(1, 6000) == 0.0


def test_an_idle_key_gets_back_a_full_bucket_not_more() -> None:
    clock = Clock()
    limiter = RateLimiter(clock)
    assert limiter.take(1, 3) == 0.0
    clock.now += 3600
    assert [limiter.take(1, 3) == 0.0 for _ in range(4)] == [True, True, True, False]


@settings(max_examples=200, deadline=None)
@given(
    per_minute=st.integers(min_value=1, max_value=600),
    gaps=st.lists(st.floats(min_value=0, max_value=5, allow_nan=False), min_size=1, max_size=120),
)
def test_never_more_than_a_bucket_plus_the_refill(per_minute: int, gaps: list[float]) -> None:
    """Over any stretch of requests, those allowed are at most the bucket (one minute's
    worth) plus what refills in that time; and a refused request is told a positive wait
    after which it is allowed."""
    clock = Clock()
    limiter = RateLimiter(clock)
    allowed: list[float] = []
    for gap in gaps:
        clock.now += gap
        wait = limiter.take(7, per_minute)
        if wait == 0.0:
            allowed.append(clock.now)
        else:
            assert 0 < wait <= 60.0 / per_minute + 1e-9
    for i, start in enumerate(allowed):
        for j in range(i, len(allowed)):
            elapsed = allowed[j] - start
            assert j - i + 1 <= per_minute + math.floor(elapsed * per_minute / 60.0 + 1e-6)
    clock.now += 60.0 / per_minute
    assert limiter.take(7, per_minute) == 0.0
