"""How often a worker looks for the messages of vanished workers: often enough that a
message is redelivered soon after its visibility timeout, rarely enough that the looks
cost nothing next to the work."""

from __future__ import annotations

import pytest

from correspondence.broker import RESTORE_LOOKS_PER_TIMEOUT, celery_app
from correspondence.config import Settings


@pytest.mark.parametrize("timeout", [1, 6, 60, 61, 3600, 86_400])
def test_a_vanished_workers_message_is_looked_for_within_a_sixtieth_of_its_timeout(
    timeout: int,
) -> None:
    settings = Settings(
        broker_url="redis://127.0.0.1:9/0", broker_visibility_timeout_seconds=timeout
    )
    options = celery_app(settings).conf.broker_transport_options
    interval = options["unacked_restore_interval"]
    assert options["visibility_timeout"] == timeout
    assert interval >= 1  # never more than once a second
    # redelivered at most a sixtieth of the timeout (or a second) after it is due
    assert interval <= max(1, timeout / RESTORE_LOOKS_PER_TIMEOUT)
    if timeout >= RESTORE_LOOKS_PER_TIMEOUT:  # and no more often than that
        assert interval * RESTORE_LOOKS_PER_TIMEOUT == pytest.approx(timeout)
