"""Which commits wake this process's issuer loop (``Registry.work_waiting``): those of a
transaction that left it work (a webhook event, an email whose words are written), marked
where that work is written (``store.leave_work``); a document queued with no broker. A
commit that leaves nothing the loop can do yet (an email of a document not issued, a
document handed to a broker), and a marked transaction that rolls back, wake nothing."""

from __future__ import annotations

from pathlib import Path

import pytest

from correspondence.registry.store import leave_work
from correspondence.renderers import EnginePool
from tests.servers import free_port
from tests.unit.use_cases.conftest import World, build_world, letter

TO = {"email": {"to": ["ana@example.com"]}}


@pytest.fixture()
def world(tmp_path: Path, pool: EnginePool) -> World:
    return build_world(tmp_path, pool, webhook_allowed_hosts=["127.0.0.1"])


def test_a_marked_transaction_wakes_the_loop_once_committed_and_never_if_rolled_back(
    world: World,
) -> None:
    registry, waiting = world.service.registry, world.service.registry.work_waiting
    assert world.service.issuer.work_waiting is waiting  # the loop waits on this one
    with registry.transaction() as tx:
        leave_work(tx)
        assert not waiting.is_set()  # not before the commit
    assert waiting.is_set()
    waiting.clear()
    with pytest.raises(RuntimeError), registry.transaction() as tx:
        leave_work(tx)
        raise RuntimeError("rolled back")
    assert not waiting.is_set()
    with registry.transaction():
        pass
    assert not waiting.is_set()  # the mark went with its transaction


def test_an_issue_that_leaves_no_email_and_no_event_wakes_nothing(world: World) -> None:
    client = world.client()
    waiting = world.service.registry.work_waiting
    waiting.clear()
    world.service.issue(letter("W-1"), client=client)
    assert not waiting.is_set()


def test_an_issue_with_its_email_wakes_the_loop(world: World) -> None:
    client = world.client()
    waiting = world.service.registry.work_waiting
    waiting.clear()
    world.service.issue({**letter("W-2"), "deliver": TO}, client=client)
    assert waiting.is_set()
    waiting.clear()
    assert world.service.work_once() == 1  # the email it woke the loop for
    assert not waiting.is_set()  # sending it left nothing more


def test_a_delivery_asked_later_and_a_webhook_event_each_wake_the_loop(world: World) -> None:
    client = world.client()
    waiting = world.service.registry.work_waiting
    doc = world.service.issue(letter("W-3"), client=client).document
    waiting.clear()
    world.service.deliver(doc.id, TO, client=client)
    assert waiting.is_set()
    world.service.webhooks.register({"url": f"http://127.0.0.1:{free_port()}/hook"}, client=client)
    waiting.clear()
    world.service.issue(letter("W-4"), client=client)
    assert waiting.is_set()  # its document.issued event


def test_a_document_queued_with_no_broker_wakes_the_loop(world: World) -> None:
    client = world.client()
    waiting = world.service.registry.work_waiting
    waiting.clear()
    world.service.issue(letter("W-5"), client=client, asynchronous=True)
    assert waiting.is_set()


def test_an_email_of_a_document_not_yet_issued_wakes_nothing_until_it_is(
    tmp_path: Path, pool: EnginePool
) -> None:
    world = build_world(tmp_path, pool, broker=True)
    client = world.client()
    waiting = world.service.registry.work_waiting
    waiting.clear()
    doc = world.service.issue({**letter("W-6"), "deliver": TO}, client=client,
                              asynchronous=True).document  # fmt: skip
    assert world.dispatched == [doc.id]  # the broker's, not this loop's
    world.service.deliver(doc.id, TO, client=client)  # a second email, asked later
    assert not waiting.is_set()
    assert world.service.issuer.issue_accepted(doc.id).outcome == "issued"  # as a worker
    assert waiting.is_set()  # both emails' words are written: the sender's turn
