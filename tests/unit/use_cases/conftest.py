"""A service over in-memory ports (correspondence.testing) and a SQLite file: the use
cases run here without any server. One in-process engine pool, warmed once, renders for
every test of the session."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from correspondence.config import Settings
from correspondence.registry import migrate, open_database
from correspondence.renderers import EnginePool
from correspondence.results import Client
from correspondence.scopes import SCOPES
from correspondence.service import Service
from correspondence.testing import ManualClock, MemoryArchive, MemoryMailer
from tests.conftest import es_invoice, load_sample


@pytest.fixture(scope="session")
def pool() -> EnginePool:
    return EnginePool(Settings(render_processes=0), size=1)


@dataclass
class World:
    service: Service
    archive: MemoryArchive
    mailer: MemoryMailer
    clock: ManualClock
    dispatched: list[str]

    def client(self, *scopes: str) -> Client:
        """A client with a real API key holding ``scopes`` (default: every scope)."""
        token = self.service.create_api_key(name="test", scopes=scopes or SCOPES)
        return self.service.authenticate(token)


def build_world(
    tmp_path: Path,
    pool: EnginePool,
    *,
    broker: bool = False,
    database_url: str | None = None,
    archive: MemoryArchive | None = None,
    **overrides: Any,
) -> World:
    settings = Settings(
        data_dir=tmp_path, render_processes=0, render_lease_seconds=30.0, **overrides
    )
    database = open_database(database_url or f"sqlite:///{tmp_path / 'registry.db'}")
    migrate(database)
    archive = archive or MemoryArchive()
    mailer, clock = MemoryMailer(), ManualClock()
    dispatched: list[str] = []
    service = Service(
        settings=settings,
        database=database,
        archive=archive,
        mailer=mailer,
        secret=b"s" * 32,
        clock=clock,
        dispatch=dispatched.append if broker else None,
        render_pool=pool,
    )
    return World(service, archive, mailer, clock, dispatched)


@pytest.fixture()
def world(tmp_path: Path, pool: EnginePool) -> Iterator[World]:
    built = build_world(tmp_path, pool)
    yield built
    built.service.close()
    built.service.database.dispose()


def letter(reference: str = "COL-1") -> dict[str, Any]:
    """A short English letter (quick to render) with its own business reference."""
    payload = copy.deepcopy(load_sample("07b_collection_update_en-GB.json"))
    payload["document"]["our_reference"] = reference
    return payload


def invoice(reference: str = "INV-1") -> dict[str, Any]:
    """A Spanish premium invoice, numbered by the registry unless it states a number."""
    payload = es_invoice()
    del payload["invoice"]["number"]
    payload["document"]["our_reference"] = reference
    return payload
