"""API fixtures: real uvicorn servers over SQLite + filesystem, or PostgreSQL + SeaweedFS."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import create_engine, text

from correspondence.archive.s3 import S3Archive
from correspondence.config import Settings
from correspondence.service import SCOPES
from tests.servers import RunningApi, SeaweedFS, api_server, postgresql, seaweedfs


def fast_settings(data_dir: Path, **overrides: Any) -> Settings:
    """Settings for tests: everything under ``data_dir``, a quick retry loop."""
    base: dict[str, Any] = {
        "data_dir": data_dir,
        "worker_poll_seconds": 0.1,
        "retry_base_seconds": 0.2,
        "retry_max_seconds": 1.0,
    }
    return Settings(**{**base, **overrides})


class Api:
    """An HTTP client of a running API, with keys of each scope at hand."""

    def __init__(self, running: RunningApi) -> None:
        self.running = running
        self.service = running.service
        # No connection is kept alive: many tests never close their client, and a pooled
        # socket collected during a later test fails that test (an unclosed-socket warning).
        self.http = httpx.Client(
            base_url=running.base_url,
            timeout=60,
            limits=httpx.Limits(max_keepalive_connections=0),
        )
        self.key = self.service.create_api_key(name="all", scopes=SCOPES)

    def key_with(self, *scopes: str) -> str:
        return self.service.create_api_key(name="+".join(scopes), scopes=scopes)

    def auth(self, key: str | None = None) -> dict[str, str]:
        return {"Authorization": f"Bearer {key or self.key}"}

    def post(self, path: str, body: Any, key: str | None = None, **headers: str) -> httpx.Response:
        return self.http.post(path, json=body, headers={**self.auth(key), **headers})

    def get(self, path: str, key: str | None = None, **params: Any) -> httpx.Response:
        return self.http.get(path, headers=self.auth(key), params=params)


@pytest.fixture()
def api(tmp_path: Path) -> Iterator[Api]:
    """The embedded defaults: SQLite and a filesystem archive under a temporary folder."""
    with api_server(fast_settings(tmp_path)) as running:
        client = Api(running)
        yield client
        client.http.close()


@pytest.fixture(scope="session")
def seaweed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SeaweedFS]:
    with seaweedfs(tmp_path_factory.mktemp("seaweedfs")) as server:
        yield server


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[str]:
    with postgresql() as url:
        yield url


@pytest.fixture()
def pg_url(pg_cluster: str) -> str:
    """A fresh database on the session's PostgreSQL cluster."""
    name = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(pg_cluster, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return pg_cluster.rsplit("/", 1)[0] + f"/{name}"


def s3_settings(data_dir: Path, seaweed: SeaweedFS, **overrides: Any) -> Settings:
    """Settings for the S3 archive on SeaweedFS, in a bucket of the test's own."""
    settings = fast_settings(
        data_dir,
        archive="s3",
        s3_endpoint_url=seaweed.endpoint,
        s3_bucket=f"t-{uuid.uuid4().hex[:12]}",
        s3_access_key_id="test",
        s3_secret_access_key="test",
        s3_timeout_seconds=1.0,
        **overrides,
    )
    archive = S3Archive(
        bucket=settings.s3_bucket,
        endpoint_url=seaweed.endpoint,
        region="us-east-1",
        access_key_id="test",
        secret_access_key="test",
    )
    archive.ensure_bucket()
    return settings


@pytest.fixture()
def api_pg_s3(tmp_path: Path, pg_url: str, seaweed: SeaweedFS) -> Iterator[Api]:
    """PostgreSQL registry and SeaweedFS archive."""
    with api_server(s3_settings(tmp_path, seaweed, database_url=pg_url)) as running:
        client = Api(running)
        yield client
        client.http.close()


ApiFactory = Callable[[Settings], Api]
