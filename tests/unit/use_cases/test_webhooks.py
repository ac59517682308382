"""The webhook dispatcher over a manual clock: the retry schedule (exponential, with
jitter), giving up after 72 hours, order per document, and who hears of what. The calls
go to a port on 127.0.0.1 where nothing listens (connection refused, at once)."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from correspondence import webhooks
from correspondence.errors import InvalidPayload
from correspondence.registry.models import WebhookEvent
from correspondence.renderers import EnginePool
from tests.servers import free_port
from tests.unit.use_cases.conftest import World, build_world, letter

SECRET = "unit-test-secret-0123456789abcdef"


@pytest.fixture()
def world(tmp_path: Path, pool: EnginePool) -> World:
    return build_world(tmp_path, pool, webhook_allowed_hosts=["127.0.0.1"])


def rows(world: World) -> list[WebhookEvent]:
    with world.service.registry.transaction() as tx:
        return list(tx.scalars(select(WebhookEvent).order_by(WebhookEvent.seq)).all())


def test_an_unreachable_endpoint_is_retried_with_growing_jittered_delays_then_given_up(
    world: World,
) -> None:
    client = world.client("documents:write", "documents:read")
    url = f"http://127.0.0.1:{free_port()}/hook"
    world.service.webhooks.register({"url": url, "secret": SECRET}, client=client)
    world.service.issue(letter("WH-1"), client=client)
    (event,) = rows(world)
    assert event.type == "document.issued" and event.status == "pending"
    started = world.clock()
    delays = []
    while rows(world)[0].status == "pending":
        assert world.service.webhooks.send_due() == 1
        (event,) = rows(world)
        if event.status != "pending":
            break
        assert event.last_error and "unreachable" in event.last_error
        waited = event.next_attempt_at.replace(tzinfo=None) - world.clock().replace(tzinfo=None)
        delays.append(waited.total_seconds())
        assert world.service.webhooks.send_due() == 0, "not due before its time"
        world.clock.advance(delays[-1])
    (event,) = rows(world)
    assert event.status == "expired"
    age = (world.clock() - started).total_seconds()
    assert webhooks.MAX_AGE_SECONDS <= age < webhooks.MAX_AGE_SECONDS + webhooks.MAX_DELAY_SECONDS
    for attempt, delay in enumerate(delays, start=1):
        ceiling = min(webhooks.MAX_DELAY_SECONDS, webhooks.BASE_DELAY_SECONDS * 2 ** (attempt - 1))
        assert ceiling / 2 <= delay <= ceiling
    assert len(set(delays)) == len(delays), "jittered: no two delays alike"
    assert event.attempts == len(delays) + 1 > 70
    print(f"{event.attempts} tries over {age / 3600:.1f} h before giving up")


def test_a_later_event_of_a_document_waits_for_the_earlier_one(world: World) -> None:
    client = world.client("documents:write", "documents:read", "deliveries:write")
    url = f"http://127.0.0.1:{free_port()}/hook"
    world.service.webhooks.register({"url": url, "secret": SECRET}, client=client)
    first = world.service.issue(letter("WH-2"), client=client).document.id
    world.service.deliver(first, {"email": {"to": ["a@example.com"]}}, client=client)
    world.service.outbox.send_due()
    second = world.service.issue(letter("WH-3"), client=client).document.id
    assert [(r.type, r.document_id) for r in rows(world)] == [
        ("document.issued", first),
        ("delivery.sent", first),
        ("document.issued", second),
    ]
    assert world.service.webhooks.send_due() == 2  # the two documents' first events
    assert [r.attempts for r in rows(world)] == [1, 0, 1]


def test_only_the_key_that_asked_hears_and_a_deleted_endpoint_hears_no_more(
    world: World,
) -> None:
    mine = world.client("documents:write", "documents:read")
    theirs = world.client("documents:write", "documents:read")
    everything = world.client("documents:read:all")
    url = f"http://127.0.0.1:{free_port()}/hook"
    for client in (mine, everything):
        world.service.webhooks.register({"url": url}, client=client)
    world.service.issue(letter("WH-4"), client=theirs)
    assert len(rows(world)) == 1  # the key that reads every document only
    (endpoint,) = world.service.webhooks.endpoints(client=everything)
    world.service.webhooks.delete(endpoint.id, client=everything)
    assert [r.status for r in rows(world)] == ["cancelled"]
    world.service.issue(letter("WH-5"), client=theirs)
    assert len(rows(world)) == 1


def test_a_generated_secret_is_returned_once_and_a_bad_one_refused(world: World) -> None:
    client = world.client("documents:read")
    made = world.service.webhooks.register({"url": "http://127.0.0.1:9/x"}, client=client)
    assert made.secret.startswith("whsec_") and len(made.secret) > 40
    with pytest.raises(InvalidPayload) as refused:
        world.service.webhooks.register(
            {"url": "https://127.0.0.1/x", "secret": "short", "extra": 1}, client=client
        )
    assert {p.field for p in refused.value.problems} == {"secret", "extra"}
