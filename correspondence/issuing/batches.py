"""Accepting many validated requests at once, inside the caller's transaction (a batch:
all of them or none).

What each item becomes is decided as for one request (:meth:`Acceptor.issue`,
asynchronous), with one difference: with ``"reissue": true``, a document that is still on
its way (queued, being issued, or waiting for review) is the answer, where one request
would make a new version of a queued one and be refused (409) for one in review. So a
batch sent again while its documents are on their way is answered, not doubled, and two
items of one batch asking for the same reissue make one new version. The registry is
asked once for the whole batch rather than once per item: the newest version of every
business reference in one query (per chunk), and every new row inserted in one
statement. An item that repeats a reference of the same batch finds the row the earlier
one became, as it would had each been recorded in turn.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from correspondence.errors import Conflict
from correspondence.issuing.review import hold_row
from correspondence.kinds import validate
from correspondence.registry import documents
from correspondence.registry.models import Document
from correspondence.registry.store import Tx
from correspondence.results import Client
from correspondence.statuses import WAITING, DocumentStatus

if TYPE_CHECKING:
    from correspondence.issuing.accept import Acceptor, Batched

PENDING = (*WAITING, DocumentStatus.IN_REVIEW)
"""A document in one of these states is already on its way: an item for it again (even
with ``"reissue": true``) resolves to it."""


def accept_all(
    acceptor: Acceptor, tx: Tx, items: Sequence[Batched | None], client: Client
) -> tuple[list[str | Conflict | None], list[str]]:
    """Record every checked item as queued (or in review) inside ``tx``; an item already
    issued under its business reference resolves to that document. ``None`` items are
    skipped (refused by the caller). Returns what each item became, and the documents
    queued now (to hand to the broker after the commit)."""
    found = documents.latest_of(tx, (_reference(item) for item in items if item is not None))
    results: list[str | Conflict | None] = []
    taken: list[tuple[Document, Batched]] = []
    added: list[Document] = []
    for item in items:
        if item is None:
            results.append(None)
            continue
        reference = _reference(item)
        latest = found.get(reference)
        if latest is not None and not client.may_read(latest.issued_by):
            kind, ours = reference
            results.append(
                Conflict(f"{kind} {ours} was issued for another client; this key may not read it")
            )
            continue
        if latest is not None and (not item.reissue or latest.status in PENDING):
            results.append(latest.id)  # already there (or taken by this batch)
            continue
        if latest is not None and latest.status == DocumentStatus.FAILED:
            try:
                row = acceptor.take_failed(tx, latest.id)
                validated = validate(item.payload)  # its numbering, read again (valid)
                acceptor.adopt(row, validated, item.payload, DocumentStatus.QUEUED)
            except Conflict as error:
                results.append(error)
                continue
        else:
            row = acceptor.new_row(item, latest, client)
            row.status = DocumentStatus.QUEUED
            row.next_attempt_at = acceptor.due_at(DocumentStatus.QUEUED)
            added.append(row)
        found[reference] = row  # a later item of this batch with it finds this row
        taken.append((row, item))
        results.append(row.id)
    # Room for what this batch adds to the queue: items that resolve to documents already
    # there add nothing (a batch sent again is answered, not refused); corrected failed
    # documents are counted already (flushed as queued before the count).
    acceptor.check_queue_room(len(added), tx)
    # In one order whatever the batch's: two batches sharing references then wait on each
    # other's insert (and the later finds the earlier's rows) rather than deadlock.
    added.sort(key=lambda row: (row.kind, row.business_reference))
    documents.add_all(tx, added)
    queued: list[str] = []
    for row, item in taken:
        acceptor.enqueue(tx, row.id, item.recipients)
        if item.review is None:
            queued.append(row.id)
        else:  # it waits for review: no number, not sent to the issuer
            now = acceptor.clock()
            hold_row(tx, row, because=item.review, client=client, composer=None, now=now)
    return results, queued


def _reference(item: Batched) -> tuple[str, str]:
    return item.fields.kind, item.fields.business_reference
