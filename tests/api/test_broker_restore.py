"""How often a Celery worker looks in Redis for the messages of workers that vanished
holding them: what kombu's Redis transport schedules on a worker's event loop, given the
service's settings."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from kombu.asynchronous import Hub

from correspondence.broker import celery_app
from correspondence.config import Settings
from tests.servers import redis_server


class Recording(Hub):
    """A worker's event loop (never run) that keeps the period of each repeated call."""

    def __init__(self) -> None:
        super().__init__()
        self.periods: dict[str, float] = {}

    def call_repeatedly(self, delay: float, fun: Callable[..., Any], *args: Any, **kw: Any) -> Any:
        self.periods[getattr(fun, "__name__", repr(fun))] = delay
        return super().call_repeatedly(delay, fun, *args, **kw)


@pytest.fixture(scope="module")
def broker() -> Iterator[str]:
    with redis_server() as url:
        yield url


# visibility timeout -> seconds between looks: a sixtieth of it, at most once a second
EXPECTED = {1: 1.0, 6: 1.0, 60: 1.0, 90: 1.5, 3600: 60.0, 86_400: 1_440.0}


@pytest.mark.parametrize(("timeout", "period"), sorted(EXPECTED.items()))
def test_vanished_workers_messages_are_looked_for_every_sixtieth_of_the_timeout(
    broker: str, timeout: int, period: float
) -> None:
    settings = Settings(broker_url=broker, broker_visibility_timeout_seconds=timeout)
    with celery_app(settings).connection_for_read() as connection:
        loop = Recording()
        try:
            connection.transport.register_with_event_loop(connection.connection, loop)
            assert loop.periods["maybe_restore_messages"] == period
            # every look scans: kombu skips looks within the throttle of the last one
            assert connection.transport_options["unacked_restore_throttle"] <= period
        finally:
            loop.close()
