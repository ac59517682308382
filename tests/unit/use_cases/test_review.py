"""Review before issue (issue 24, point 1): held unnumbered, approved by another member of
staff and then issued, or rejected with a reason; every action recorded."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

import pytest
from pydantic import ValidationError

from correspondence.config import Settings
from correspondence.errors import Conflict, Forbidden, InvalidPayload
from correspondence.registry import documents, events, reviews
from correspondence.registry.models import WebhookEvent
from correspondence.renderers import EnginePool
from correspondence.results import DocumentInfo, DocumentQuery, Staff
from correspondence.statuses import DeliveryStatus, DocumentStatus
from tests.api.conftest import pg_cluster, pg_url  # noqa: F401 (fixtures: PostgreSQL)
from tests.conftest import load_sample
from tests.unit.use_cases.conftest import World, build_world, invoice, letter

PASSWORD = "correct horse battery"


def staff(world: World, name: str) -> Staff:
    return world.service.create_staff(email=f"{name}@insurer.example", password=PASSWORD)


def reviewed(payload: dict[str, object]) -> dict[str, object]:
    return {**payload, "review": {"required": True}}


def test_a_document_asking_for_review_waits_unnumbered_and_unarchived(world: World) -> None:
    client = world.client()
    body = {**reviewed(invoice("INV-R1")), "deliver": {"email": {"to": ["ap@buyer.example"]}}}
    doc = world.service.issue(body, client=client).document
    assert doc.status == DocumentStatus.IN_REVIEW
    assert doc.number is None and doc.archive_key is None and doc.sha256 is None
    assert doc.review is not None and doc.review.state == "pending"
    assert doc.review.because == "request"
    assert doc.review.requested_by == f"api_key:{client.id}:test"
    world.clock.advance(60)
    world.service.work_once()
    assert world.service.get(doc.id, client=client).status == DocumentStatus.IN_REVIEW
    assert world.archive.objects == {} and world.mailer.sent == []
    assert [a.action for a in world.service.review_actions(doc.id, staff=staff(world, "a"))] == [
        "requested"
    ]


def test_approval_numbers_archives_and_emails_it(world: World) -> None:
    client, reviewer = world.client(), staff(world, "b")
    body = {**reviewed(invoice("INV-R2")), "deliver": {"email": {"to": ["ap@buyer.example"]}}}
    doc = world.service.issue(body, client=client).document
    approved = world.service.approve(doc.id, staff=reviewer)
    assert approved.status == DocumentStatus.QUEUED and approved.number is None
    world.service.work_once()
    world.service.work_once()
    issued = world.service.get(doc.id, client=client)
    assert issued.status == DocumentStatus.ISSUED and issued.number is not None
    assert issued.archive_key in world.archive.objects
    assert issued.review is not None and issued.review.state == "approved"
    assert issued.review.decided_by == "staff:b@insurer.example"
    (delivery,) = world.service.deliveries(doc.id, client=client)
    assert delivery.status == DeliveryStatus.SENT and len(world.mailer.sent) == 1
    actions = world.service.review_actions(doc.id, staff=reviewer)
    assert [(a.action, a.actor) for a in actions] == [
        ("requested", f"api_key:{client.id}:test"),
        ("approved", "staff:b@insurer.example"),
    ]
    assert actions[0].payload_sha256 == actions[1].payload_sha256


def test_the_composer_may_not_approve_but_another_may(world: World) -> None:
    composer, other = staff(world, "composer"), staff(world, "other")
    doc = world.service.submit_for_review(letter("COL-R3"), staff=composer).document
    assert doc.review is not None and doc.review.requested_by == "staff:composer@insurer.example"
    with pytest.raises(Forbidden, match="another member of staff must approve it"):
        world.service.approve(doc.id, staff=composer)
    assert world.service.get(doc.id, client=composer.client).status == DocumentStatus.IN_REVIEW
    world.service.approve(doc.id, staff=other)
    world.service.work_once()
    assert world.service.get(doc.id, client=other.client).status == DocumentStatus.ISSUED


def test_rejection_needs_a_reason_and_ends_the_document(tmp_path: Path, pool: EnginePool) -> None:
    world = build_world(tmp_path, pool, webhook_allowed_hosts=["127.0.0.1"])
    client, reviewer = world.client(), staff(world, "b")
    world.service.webhooks.register({"url": "http://127.0.0.1:9/hook"}, client=client)
    body = {**reviewed(letter("COL-R4")), "deliver": {"email": {"to": ["ap@buyer.example"]}}}
    doc = world.service.issue(body, client=client).document
    with pytest.raises(InvalidPayload) as refused:
        world.service.reject(doc.id, staff=reviewer, reason="   ")
    assert refused.value.problems[0].field == "reason"
    rejected = world.service.reject(doc.id, staff=reviewer, reason="Wrong buyer address")
    assert rejected.status == DocumentStatus.REJECTED and rejected.number is None
    assert rejected.review is not None and rejected.review.reason == "Wrong buyer address"
    assert rejected.last_error == "rejected in review: Wrong buyer address"
    with world.service.registry.transaction() as tx:
        stored = [
            (e.type, e.body["data"]) for e in tx.query(WebhookEvent).order_by(WebhookEvent.seq)
        ]
    assert stored == [
        ("document.review_requested", {"document_id": doc.id, "status": "in_review"}),
        (
            "document.rejected",
            {"document_id": doc.id, "status": "rejected", "reason": "Wrong buyer address"},
        ),
    ]
    with pytest.raises(Conflict, match=r"already rejected by staff:b@insurer\.example"):
        world.service.approve(doc.id, staff=reviewer)
    world.service.outbox.send_due()
    (delivery,) = world.service.deliveries(doc.id, client=client)
    assert delivery.status == DeliveryStatus.FAILED and "rejected in review" in (
        delivery.last_error or ""
    )
    assert world.mailer.sent == [] and world.archive.objects == {}
    world.service.close()


def test_the_composer_may_withdraw_their_own_document(world: World) -> None:
    composer = staff(world, "composer")
    doc = world.service.submit_for_review(letter("COL-R5"), staff=composer).document
    done = world.service.reject(doc.id, staff=composer, reason="Sent by mistake")
    assert done.status == DocumentStatus.REJECTED


def test_a_new_version_waits_until_the_one_in_review_is_decided(world: World) -> None:
    client = world.client()
    first = world.service.issue(reviewed(letter("COL-R6")), client=client).document
    again = world.service.issue(reviewed(letter("COL-R6")), client=client)
    assert not again.created and again.document.id == first.id
    with pytest.raises(Conflict, match="waits for review"):
        world.service.issue({**letter("COL-R6"), "reissue": True}, client=client)


@pytest.mark.parametrize(
    ("entries", "sample", "because"),
    [
        ("credit_limit_change_notice:reduction", "03_credit_limit_change_reduction_es-ES.json",
         "settings:credit_limit_change_notice:reduction"),
        ("credit_limit_change_notice:withdrawal,claim_decision",
         "03b_credit_limit_withdrawal_exceptional_en-GB.json",
         "settings:credit_limit_change_notice:withdrawal"),
        ("claim_decision", "06_claim_decision_partial_es-ES.json", "settings:claim_decision"),
        ("claim_decision:partially_paid", "06_claim_decision_partial_es-ES.json",
         "settings:claim_decision:partially_paid"),
    ],
)  # fmt: skip
def test_settings_require_review_per_kind_and_type(
    tmp_path: Path, pool: EnginePool, entries: str, sample: str, because: str
) -> None:
    world = build_world(tmp_path, pool, review_kinds=entries)
    client = world.client()
    # the request cannot opt out of the review the settings require
    body = {**load_sample(sample), "review": {"required": False}}
    doc = world.service.issue(body, client=client, asynchronous=True).document
    assert doc.status == DocumentStatus.IN_REVIEW
    assert doc.review is not None and doc.review.because == because
    world.service.close()


def test_settings_leave_other_types_alone(tmp_path: Path, pool: EnginePool) -> None:
    world = build_world(tmp_path, pool, review_kinds="credit_limit_change_notice:withdrawal")
    sample = load_sample("03_credit_limit_change_reduction_es-ES.json")
    doc = world.service.issue(sample, client=world.client(), asynchronous=True).document
    assert doc.status == DocumentStatus.QUEUED and doc.review is None
    world.service.close()


def test_review_settings_read_from_the_environment_and_checked(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(
        "CORRESPONDENCE_REVIEW_KINDS", "claim_decision, credit_limit_change_notice:reduction"
    )
    assert Settings().review_kinds == ("claim_decision", "credit_limit_change_notice:reduction")
    monkeypatch.setenv("CORRESPONDENCE_REVIEW_KINDS", "credit_limit_change_notice:cut")
    with pytest.raises(ValidationError, match="credit_limit_change_notice:cut"):
        Settings()
    monkeypatch.delenv("CORRESPONDENCE_REVIEW_KINDS")
    assert Settings().review_kinds == ()


@pytest.mark.parametrize("option", [True, {"required": "yes"}, {"required": True, "by": 1}])
def test_a_malformed_review_option_is_refused(world: World, option: object) -> None:
    with pytest.raises(InvalidPayload) as refused:
        world.service.issue({**letter(), "review": option}, client=world.client())
    assert refused.value.problems[0].field == "review"


def test_a_batch_item_may_wait_for_review(world: World) -> None:
    client, reviewer = world.client(), staff(world, "b")
    batch = world.service.batches.submit(
        [reviewed(letter("COL-B1")), letter("COL-B2")], client=client
    )
    world.service.work_once()
    progress = world.service.batches.progress(batch.id, client=client)
    assert progress.counts == {"in_review": 1, "issued": 1} and not progress.done
    (pending,) = world.service.review_queue(staff=reviewer).items
    world.service.approve(pending.id, staff=reviewer)
    world.service.work_once()
    progress = world.service.batches.progress(batch.id, client=client)
    assert progress.counts == {"issued": 2} and progress.done


def race(decide: Callable[[Staff], DocumentInfo], reviewers: list[Staff]) -> list[object]:
    """Both reviewers decide at the same moment; what each got."""
    start = threading.Barrier(len(reviewers))
    results: list[object] = [None] * len(reviewers)

    def one(index: int) -> None:
        start.wait()
        try:
            results[index] = decide(reviewers[index])
        except Exception as error:  # the loser's answer is what we check
            results[index] = error

    threads = [threading.Thread(target=one, args=(i,)) for i in range(len(reviewers))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def check_one_wins(world: World) -> None:
    """Two members of staff approve one document at once: one wins, the other is told,
    and the document is numbered, archived and emailed once."""
    client = world.client()
    reviewers = [staff(world, "a"), staff(world, "b")]
    for attempt in range(3):
        body = {
            **reviewed(invoice(f"INV-RACE-{attempt}")),
            "deliver": {"email": {"to": ["ap@buyer.example"]}},
        }
        doc = world.service.issue(body, client=client).document
        results = race(lambda who, d=doc: world.service.approve(d.id, staff=who), reviewers)
        won = [r for r in results if isinstance(r, DocumentInfo)]
        lost = [r for r in results if isinstance(r, Conflict)]
        assert len(won) == 1 and len(lost) == 1, results
        assert "was already approved by staff:" in str(lost[0])
        world.service.work_once()
        world.service.work_once()
        issued = world.service.get(doc.id, client=client)
        assert issued.status == DocumentStatus.ISSUED
        actions = world.service.review_actions(doc.id, staff=reviewers[0])
        assert [a.action for a in actions] == ["requested", "approved"]
    keys = [k for k in world.archive.objects if k.endswith(".pdf")]
    assert len(keys) == 3 and len(world.mailer.sent) == 3
    listed = world.service.list(DocumentQuery(), client=client).items
    assert len({d.number for d in listed if d.number}) == 3
    with world.service.registry.transaction() as tx:
        assert events.outstanding(tx) == 0


def test_two_reviewers_approving_at_once_issue_it_once_sqlite(world: World) -> None:
    check_one_wins(world)


def test_two_reviewers_approving_at_once_issue_it_once_postgresql(
    tmp_path: Path,
    pool: EnginePool,
    pg_url: str,  # noqa: F811 (the fixture)
) -> None:
    world = build_world(tmp_path, pool, database_url=pg_url)
    try:
        check_one_wins(world)
    finally:
        world.service.close()
        world.service.database.dispose()


@pytest.mark.parametrize("database", ["sqlite", "postgresql"])
def test_approve_and_reject_at_once_one_wins(
    tmp_path: Path, pool: EnginePool, database: str, request: pytest.FixtureRequest
) -> None:
    url = request.getfixturevalue("pg_url") if database == "postgresql" else None
    world = build_world(tmp_path, pool, database_url=url)
    try:
        client, reviewers = world.client(), [staff(world, "a"), staff(world, "b")]
        doc = world.service.issue(reviewed(letter("COL-RACE")), client=client).document

        def decide(who: Staff) -> DocumentInfo:
            if who is reviewers[0]:
                return world.service.approve(doc.id, staff=who)
            return world.service.reject(doc.id, staff=who, reason="not this one")

        results = race(decide, reviewers)
        (won,) = [r for r in results if isinstance(r, DocumentInfo)]
        assert len([r for r in results if isinstance(r, Conflict)]) == 1
        actions = world.service.review_actions(doc.id, staff=reviewers[0])
        assert [a.action for a in actions] == ["requested", won.review.state if won.review else ""]
        world.service.work_once()
        final = world.service.get(doc.id, client=client).status
        expected = DocumentStatus.ISSUED if won.status == "queued" else DocumentStatus.REJECTED
        assert final == expected
    finally:
        world.service.close()
        world.service.database.dispose()


@pytest.mark.parametrize("database", ["sqlite", "postgresql"])
def test_a_decision_on_a_document_decided_since_it_was_read_changes_nothing(
    tmp_path: Path, pool: EnginePool, database: str, request: pytest.FixtureRequest
) -> None:
    """The guard itself, interleaved by hand: B reads the document in review, A approves
    it and commits, then B's conditional UPDATE finds no row in review."""
    url = request.getfixturevalue("pg_url") if database == "postgresql" else None
    world = build_world(tmp_path, pool, database_url=url)
    try:
        client, a = world.client(), staff(world, "a")
        doc = world.service.issue(reviewed(letter("COL-GUARD")), client=client).document
        registry = world.service.registry
        with registry.transaction() as late:
            assert documents.get_one(late, doc.id).status == DocumentStatus.IN_REVIEW
            world.service.approve(doc.id, staff=a)  # commits in its own transaction
            now = world.clock()
            assert not reviews.decide(
                late, doc.id, approve=False, actor="staff:b", staff_id=-1, now=now,
                reason="late", due=None,
            )  # fmt: skip
        after = world.service.get(doc.id, client=client)
        assert after.status == DocumentStatus.QUEUED and after.review is not None
        assert after.review.decided_by == "staff:a@insurer.example" and after.review.reason is None
        actions = world.service.review_actions(doc.id, staff=a)
        assert [x.action for x in actions] == ["requested", "approved"]
    finally:
        world.service.close()
        world.service.database.dispose()


def test_with_a_broker_approval_hands_the_document_to_it(tmp_path: Path, pool: EnginePool) -> None:
    """On Celery, an approved document is sent to the broker as any accepted one, and the
    task's own code path (``issue_accepted``) issues it; nothing is sent while in review."""
    world = build_world(tmp_path, pool, broker=True)
    client, reviewer = world.client(), staff(world, "b")
    doc = world.service.issue(reviewed(letter("COL-CEL")), client=client).document
    world.clock.advance(3600)
    world.service.work_once()
    assert world.dispatched == []
    world.service.approve(doc.id, staff=reviewer)
    assert world.dispatched == [doc.id]
    world.service.work_once()  # within the lease: the issuer does not send it again
    assert world.dispatched == [doc.id]
    assert world.service.issue_accepted(doc.id).outcome == "issued"
    assert world.service.get(doc.id, client=client).status == DocumentStatus.ISSUED
    world.service.close()
