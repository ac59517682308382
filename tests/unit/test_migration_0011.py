"""Migration 0011 (issue 24): the staff UI's language per member of staff, added to a
registry that already holds staff accounts (which read the UI in English), and taken away
again by its downgrade."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import create_engine, inspect, text

from correspondence.registry import migrate
from correspondence.registry.models import StaffUser
from tests.unit.test_migration_0008 import run


def columns(url: str) -> set[str]:
    engine = create_engine(url)
    try:
        return {c["name"] for c in inspect(engine).get_columns("staff_users")}
    finally:
        engine.dispose()


def test_0011_gives_existing_staff_english_and_its_downgrade_removes_the_column(
    tmp_path: Path,
) -> None:
    url = f"sqlite:///{tmp_path / 'registry.db'}"
    run(url, "upgrade", "0010")
    assert "locale" not in columns(url)
    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO staff_users (email, password_hash, created_at, session_epoch) "
                "VALUES ('ana@example.com', 'x', '2026-01-01', 0)"
            )
        )
    migrate(engine)
    assert set(StaffUser.__table__.columns.keys()) == columns(url)
    with engine.begin() as connection:
        row = connection.execute(text("SELECT email, locale FROM staff_users")).one()
    assert tuple(row) == ("ana@example.com", "en")
    engine.dispose()
    run(url, "downgrade", "0010")
    assert "locale" not in columns(url) and "email" in columns(url)
