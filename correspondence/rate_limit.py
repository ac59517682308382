"""Each API key's requests per minute: a token bucket per key (:class:`RateLimiter`), the
error a refused request raises, and the bounds of a key's configured limit (docs/keys.md)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from correspondence.errors import Problem, TooManyAttempts

RATE_LIMIT_MAX = 1_000_000
"""The largest rate limit a key may be given (requests a minute)."""


class RateLimited(TooManyAttempts):
    """A key made more requests than its rate limit allows: retry after ``retry_after``."""


class RateLimiter:
    """Per key, a token bucket holding one minute's worth of requests, refilled
    continuously (the generic cell rate algorithm: one "theoretical arrival time" per key).

    With a limit of N a minute, a key may make N requests at once, then one every 60/N
    seconds. The state lives in this process: with several API processes each counts on
    its own, so a key may make up to N a minute in each (docs/keys.md)."""

    WINDOW = 60.0

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._due: dict[int, float] = {}  # key id -> when its bucket is full again
        self._lock = threading.Lock()

    def take(self, key: int, per_minute: int) -> float:
        """Take one request for ``key``: ``0.0`` if allowed, else the seconds to wait
        before the next one is (a refused request takes nothing)."""
        interval = self.WINDOW / per_minute
        with self._lock:
            now = self._clock()
            full_at = max(self._due.get(key, now), now) + interval
            allowed_at = full_at - self.WINDOW
            if allowed_at > now:
                return allowed_at - now
            self._due[key] = full_at
            if len(self._due) > 10_000:  # forget the buckets that are full again
                self._due = {k: due for k, due in self._due.items() if due > now}
            return 0.0

    def forget(self, key: int) -> None:
        """Drop ``key``'s bucket (a revoked key makes no more requests)."""
        with self._lock:
            self._due.pop(key, None)


def rate_limit_problems(per_minute: int | None) -> list[Problem]:
    if per_minute is None or 1 <= per_minute <= RATE_LIMIT_MAX:
        return []
    return [
        Problem(
            "rate_limit_per_minute",
            f"give 1 to {RATE_LIMIT_MAX} requests a minute (or none: the default)",
            "range",
        )
    ]
