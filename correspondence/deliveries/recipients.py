"""Who a delivery goes to, checked, and the delivery recorded in the caller's transaction
(nothing is sent there: the sender loop sends it once its document is issued)."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import datetime

from email_validator import EmailNotValidError, validate_email

from correspondence.errors import InvalidPayload, Problem
from correspondence.registry import deliveries
from correspondence.registry.models import Delivery
from correspondence.registry.store import Tx
from correspondence.results import Recipients
from correspondence.statuses import DeliveryStatus


def enqueue(
    tx: Tx,
    document_id: str,
    recipients: Recipients,
    *,
    mail_from: str,
    now: datetime,
    key: str | None = None,
) -> Delivery:
    """Record a delivery; its Message-ID is derived from its id, so that a message ever
    sent twice (a crash between the server's acceptance and our commit) is recognisable
    as the same one by the receiving side."""
    domain = mail_from.rpartition("@")[2] or "correspondence.invalid"
    delivery_id = str(uuid.uuid4())
    row = Delivery(
        id=delivery_id,
        document_id=document_id,
        recipients={"to": list(recipients.to), "cc": list(recipients.cc)},
        status=DeliveryStatus.QUEUED,
        attempts=0,
        next_attempt_at=now,
        message_id=f"<{delivery_id}@{domain}>",
        idempotency_key=key,
        created_at=now,
    )
    deliveries.add(tx, row)
    return row


def parse_recipients(block: object, at: str = "deliver", *, limit: int = 50) -> Recipients:
    """``{"email": {"to": [...], "cc": [...]}}`` with every address checked, and at most
    ``limit`` of them in all.

    Field paths start with ``at`` (``deliver.email.to.1``), or with ``email`` when empty."""
    at = f"{at}." if at else ""
    problems: list[Problem] = []
    email = block.get("email") if isinstance(block, Mapping) else None
    if not isinstance(email, Mapping):
        raise InvalidPayload([Problem(f"{at}email", 'give {"to": [...], "cc": [...]}', "type")])
    lists: dict[str, tuple[str, ...]] = {}
    for name in ("to", "cc"):
        values = email.get(name, [])
        if not isinstance(values, list) or any(not isinstance(v, str) for v in values):
            problems.append(Problem(f"{at}email.{name}", "must be a list of addresses", "type"))
            continue
        if len(values) > limit:
            problems.append(
                Problem(f"{at}email.{name}", f"at most {limit} recipients per delivery", "too_many")
            )
            continue
        good = []
        for i, value in enumerate(values):
            try:
                good.append(validate_email(value, check_deliverability=False).normalized)
            except EmailNotValidError as error:
                problems.append(
                    Problem(
                        f"{at}email.{name}.{i}",
                        f"{value!r} is not an email address: {error}",
                        "email",
                    )
                )
        lists[name] = tuple(good)
    if not problems and len(lists.get("to", ())) + len(lists.get("cc", ())) > limit:
        problems.append(
            Problem(
                f"{at}email", f"at most {limit} recipients (To and Cc) per delivery", "too_many"
            )
        )
    if not problems and not lists.get("to"):
        problems.append(Problem(f"{at}email.to", "give at least one recipient", "missing"))
    extra = set(email) - {"to", "cc"}
    if extra:
        problems.append(
            Problem(f"{at}email", f"unknown fields: {', '.join(sorted(extra))}", "extra")
        )
    if problems:
        raise InvalidPayload(problems)
    return Recipients(lists["to"], lists.get("cc", ()))
