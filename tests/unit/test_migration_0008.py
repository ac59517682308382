"""Migration 0008 (issue 22): the API keys' ``rotated_at`` and ``rate_limit_per_minute``
columns, added to a registry that already holds keys (which keep working, on the default
limit), and taken away again by its downgrade."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from sqlalchemy import create_engine, inspect, text

from correspondence.registry import alembic_config, migrate
from correspondence.registry.models import ApiKey


def columns(url: str) -> set[str]:
    engine = create_engine(url)
    try:
        return {c["name"] for c in inspect(engine).get_columns("api_keys")}
    finally:
        engine.dispose()


def run(url: str, action: str, revision: str) -> None:
    engine = create_engine(url)
    config = alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        getattr(command, action)(config, revision)
    engine.dispose()


def test_0008_adds_the_columns_to_existing_keys_and_its_downgrade_removes_them(
    tmp_path: Path,
) -> None:
    url = f"sqlite:///{tmp_path / 'registry.db'}"
    run(url, "upgrade", "0007")
    assert "rate_limit_per_minute" not in columns(url)
    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO api_keys (name, prefix, secret_hash, scopes, created_at) "
                "VALUES ('old', 'abcdef012345', :hash, 'documents:read', '2026-01-01')"
            ),
            {"hash": "0" * 64},
        )
    migrate(engine)
    assert {"rotated_at", "rate_limit_per_minute"} <= columns(url)
    assert set(ApiKey.__table__.columns.keys()) == columns(url)
    with engine.begin() as connection:
        row = connection.execute(
            text("SELECT name, rotated_at, rate_limit_per_minute FROM api_keys")
        ).one()
    assert tuple(row) == ("old", None, None)  # an existing key: never rotated, the default
    engine.dispose()
    run(url, "downgrade", "0007")
    assert not {"rotated_at", "rate_limit_per_minute"} & columns(url)
    assert "prefix" in columns(url)
