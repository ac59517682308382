"""The database disappears under a running API: 503 with the envelope, never a 500."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import create_engine, text

from tests.api.conftest import Api, fast_settings
from tests.api.test_documents import unnumbered_es_invoice
from tests.servers import api_server


def test_database_gone_is_503(tmp_path: Path, pg_url: str) -> None:
    """readyz and requests answer 503 with Retry-After when PostgreSQL drops the database."""
    with api_server(fast_settings(tmp_path, database_url=pg_url, run_worker=False)) as running:
        api = Api(running)
        assert api.post("/v1/documents", unnumbered_es_invoice("D-1")).status_code == 201
        cluster, name = pg_url.rsplit("/", 1)
        admin = create_engine(f"{cluster}/postgres", isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
        admin.dispose()
        ready = api.http.get("/readyz")
        assert ready.status_code == 503 and ready.json()["errors"][0]["error"] == "unavailable"
        response = api.post("/v1/documents", unnumbered_es_invoice("D-2"))
        assert response.status_code == 503 and response.headers["Retry-After"]
        api.http.close()
