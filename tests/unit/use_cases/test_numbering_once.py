"""The issuer numbers a queued document on the validated model (``kinds.numbered``): what
it archives is what validating the registry's numbered payload gives, JSON and PDF."""

from __future__ import annotations

import json
from pathlib import Path

from correspondence.kinds import validate
from correspondence.registry import documents
from correspondence.renderers import EnginePool
from tests.unit.use_cases.conftest import build_world, invoice


def test_a_queued_invoice_is_archived_as_its_numbered_payload_validated(
    tmp_path: Path, pool: EnginePool
) -> None:
    world = build_world(tmp_path, pool, broker=True)
    client = world.client()
    accepted = world.service.issue(invoice("NUM-1"), client=client, asynchronous=True).document
    assert accepted.number is None
    assert world.service.issue_accepted(accepted.id).outcome == "issued"
    with world.service.registry.transaction() as tx:
        row = documents.get_one(tx, accepted.id)
        stored, number, key = row.payload, row.number, row.archive_key or ""
    assert number and stored["invoice"]["number"] == number
    again = validate(stored)
    archived_json = world.archive.objects[key.replace(".pdf", ".json")].data
    dumped = again.doc.model_dump_json(indent=2, exclude_unset=True, by_alias=True)
    assert archived_json == dumped.encode("utf-8")
    assert json.loads(archived_json)["invoice"]["number"] == number
    assert world.archive.objects[key].data == pool.render(again).document.pdf
    world.service.close()
    world.service.database.dispose()
