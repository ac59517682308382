"""Bulk submission: many payloads accepted at once, issued by the same path as single ones.

Each payload is validated and recorded as a queued document (or refused, with its errors)
when the batch is accepted; the issuer completes the queued ones. A refused item does not
stop the others. Items are idempotent on their business reference ``(kind,
document.our_reference)``: resubmitting a batch finds the documents already there and
issues nothing twice.
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from typing import Any

from correspondence import bounded_json
from correspondence.errors import Conflict, InvalidPayload, NotFound, Problem
from correspondence.issuing.accept import Acceptor, Batched
from correspondence.issuing.checked import Checked, check_each
from correspondence.registry import batches, documents
from correspondence.registry.store import Collision
from correspondence.results import BatchProgress, BatchResult, Client
from correspondence.statuses import BatchItemStatus

__all__ = ["BatchProgress", "BatchResult", "Batches", "parse_ndjson"]

CHECK_CHUNK = 25
"""Payloads a render process checks at a time: about 30 ms of work, so that a render
asked for meanwhile waits no longer than that for a free process."""


def parse_ndjson(body: bytes) -> list[Any]:
    """One JSON value per non-empty line (lines end with LF, optionally CR LF); a line
    that is not UTF-8, not JSON or beyond :mod:`bounded_json`'s bounds becomes a refused
    item, named by its line number."""
    items: list[Any] = []
    for number, line in enumerate(body.split(b"\n"), 1):
        if not line.strip():
            continue
        try:
            items.append(bounded_json.loads(line, subject=f"line {number}"))
        except InvalidPayload as error:
            items.append(_NotJson(error.problems))
    return items


@dataclass(frozen=True)
class _NotJson:
    problems: tuple[Problem, ...]


class Batches:
    """Accepts batches and reports on them."""

    def __init__(self, acceptor: Acceptor) -> None:
        self._acceptor = acceptor
        self._renderers = acceptor.issuer.renderers
        self._registry = acceptor.registry
        self._clock = acceptor.clock
        self._settings = acceptor.settings

    def submit(self, items: Sequence[Any], *, client: Client) -> BatchProgress:
        """Accept every valid item as a queued document; record the others as refused.

        The batch, its items and their documents are recorded in one transaction: a
        process killed while it runs leaves no trace of the batch, never part of it."""
        client.require("documents:write")
        most = self._settings.max_batch_items
        if len(items) > most:
            problem = f"a batch holds at most {most} payloads, not {len(items)}"
            raise InvalidPayload([Problem("", problem, "too_many")])
        if not items:
            raise InvalidPayload([Problem("", "a batch needs at least one payload", "empty")])
        prepared: list[Batched | None] = []
        refusals: list[list[dict[str, str]] | None] = []
        for item in self._check(items):  # validation, outside the transaction
            try:
                if not isinstance(item, Checked):
                    raise InvalidPayload(item)
                ready = self._acceptor.ready(item)
                if ready.recipients is not None:
                    client.require("deliveries:write")  # the whole batch, as for one document
                prepared.append(ready)
                refusals.append(None)
            except InvalidPayload as error:
                prepared.append(None)
                refusals.append([_problem(p) for p in error.problems])
        for attempt in range(3):
            try:
                batch_id, created = self._record(prepared, refusals, client)
                break
            except Collision:  # the same reference issued concurrently: look again
                if attempt == 2:
                    raise Conflict(
                        "documents of this batch were issued concurrently; retry"
                    ) from None
        self._acceptor.dispatch_queued(created)
        return self.progress(batch_id, client=client)

    def _check(self, items: Sequence[Any]) -> list[Checked | tuple[Problem, ...]]:
        """Each item checked (its payload validated), or why it is refused: in chunks of
        :data:`CHECK_CHUNK`, shared between this thread and the render processes that are
        free (a payload costs about 1 ms to validate; 2,000 of them on one core kept the
        render workers waiting for seconds)."""
        found: list[Checked | tuple[Problem, ...] | None] = []
        bodies: list[dict[str, Any]] = []
        for item in items:
            if isinstance(item, _NotJson):
                found.append(item.problems)
            elif not isinstance(item, dict):
                found.append((Problem("", "each item must be a JSON object", "type"),))
            else:
                found.append(None)
                bodies.append(item)
        chunks = [bodies[at : at + CHECK_CHUNK] for at in range(0, len(bodies), CHECK_CHUNK)]
        check = partial(check_each, review_kinds=tuple(self._settings.review_kinds))
        checked = iter([c for chunk in self._renderers.spread(check, chunks) for c in chunk])
        return [next(checked) if result is None else result for result in found]

    def _record(
        self,
        prepared: list[Batched | None],
        refusals: list[list[dict[str, str]] | None],
        client: Client,
    ) -> tuple[str, list[str]]:
        batch_id = str(uuid.uuid4())
        with self._registry.transaction() as tx:
            batches.add(
                tx,
                batch_id=batch_id,
                client_name=client.name,
                client_id=client.id,
                total=len(prepared),
                now=self._clock(),
            )
            results, created = self._acceptor.accept_all(tx, prepared, client=client)
            recorded: list[tuple[str | None, list[dict[str, str]] | None]] = []
            for result, refused in zip(results, refusals, strict=True):
                if isinstance(result, Conflict):
                    conflict = {"error": "conflict", "field": "", "message": str(result)}
                    recorded.append((None, [conflict]))
                else:
                    recorded.append((result, refused))
            batches.add_items(tx, batch_id, recorded)
        return batch_id, created

    def progress(self, batch_id: str, *, client: Client) -> BatchProgress:
        """Counts per status (refused, in_review, queued, issuing, issued, failed,
        rejected) and the rate."""
        client.require("documents:read")
        with self._registry.transaction() as tx:
            batch = batches.get(tx, batch_id)
            if batch is None or not client.may_read(batch.api_key_id):
                raise NotFound(f"no batch {batch_id}")
            rows = batches.statuses(tx, batch_id)
            created = batch.created_at
            total = batch.total
        counts: Counter[str] = Counter()
        last_issue: datetime | None = None
        for status, items, issued_at in rows:
            counts[BatchItemStatus.REFUSED if status is None else BatchItemStatus(status)] += items
            if status == BatchItemStatus.ISSUED and issued_at is not None:
                last_issue = issued_at
        elapsed = (last_issue - created).total_seconds() if last_issue else 0.0
        rate = counts[BatchItemStatus.ISSUED] / elapsed if elapsed > 0 else 0.0
        waiting = sum(
            counts[s]
            for s in (BatchItemStatus.IN_REVIEW, BatchItemStatus.QUEUED, BatchItemStatus.ISSUING)
        )
        done = sum(counts.values()) == total and waiting == 0
        return BatchProgress(
            batch_id, total, {str(k): v for k, v in counts.items()}, created, round(rate, 2), done
        )

    def results(self, batch_id: str, *, client: Client) -> Iterator[BatchResult]:
        """Every item, in submission order."""
        client.require("documents:read")
        with self._registry.transaction() as tx:
            batch = batches.get(tx, batch_id)
            if batch is None or not client.may_read(batch.api_key_id):
                raise NotFound(f"no batch {batch_id}")
            results = [
                BatchResult(
                    item.position,
                    documents.info(doc) if doc is not None else None,
                    tuple(
                        Problem(p["field"], p["message"], p["error"]) for p in (item.refused or ())
                    ),
                )
                for item, doc in batches.items(tx, batch_id)
            ]
        yield from results


def _problem(problem: Problem) -> dict[str, str]:
    return {"error": problem.error, "field": problem.field, "message": problem.message}
