"""``correspondence keys list | revoke | rotate | limit`` and ``staff list | disable``
(issue 22 §5), run through the real parser against a SQLite registry in a temporary folder."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from correspondence.bootstrap import build_service
from correspondence.cli import EXIT_INVALID, main, parser
from correspondence.config import Settings
from correspondence.errors import Unauthenticated

PASSWORD = "correct horse battery"


@pytest.fixture()
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("CORRESPONDENCE_DATA_DIR", str(tmp_path))
    return tmp_path


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_keys_are_listed_rotated_limited_and_revoked(
    data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, first, _ = run(
        capsys, "keys", "create", "--name", "billing", "--scopes", "documents:read",
        "--rate-limit", "30",
    )  # fmt: skip
    assert code == 0
    first = first.strip()
    key_id = first.split("_")[1]
    code, table, _ = run(capsys, "keys", "list")
    assert code == 0
    header, row = table.splitlines()
    assert header.split() == ["ID", "NAME", "SCOPES", "CREATED", "STATE", "LIMIT/MIN"]
    assert row.split()[:3] == [key_id, "billing", "documents:read"]
    assert row.split()[-2:] == ["active", "30"] and first.split("_", 2)[2] not in table

    code, rotated, note = run(capsys, "keys", "rotate", key_id)
    new = rotated.strip()
    assert code == 0 and new.startswith(f"cor_{key_id}_") and new != first
    assert "new secret" in note
    service = build_service(Settings())
    with pytest.raises(Unauthenticated):
        service.authenticate(first)
    assert service.authenticate(new).name == "billing"

    assert run(capsys, "keys", "limit", key_id, "default")[0] == 0
    code, listed, _ = run(capsys, "keys", "list", "--json")
    (shown,) = json.loads(listed)
    assert shown["rate_limit_per_minute"] is None and shown["rotated_at"].endswith("Z")
    assert set(shown) >= {"id", "name", "scopes", "revoked_at"}
    assert new.split("_", 2)[2] not in listed and "hash" not in listed

    code, out, _ = run(capsys, "keys", "revoke", key_id)
    assert code == 0 and "revoked" in out
    with pytest.raises(Unauthenticated):
        service.authenticate(new)
    assert "revoked" in run(capsys, "keys", "list")[1].splitlines()[1]
    code, _, err = run(capsys, "keys", "rotate", key_id)
    assert code == 1 and "revoked" in err
    assert run(capsys, "keys", "revoke", "0" * 12)[0] == 1
    code, _, err = run(capsys, "keys", "limit", key_id, "0")
    assert code == EXIT_INVALID and err.startswith("rate_limit_per_minute:")
    assert run(capsys, "keys", "limit", key_id, "many")[0] == EXIT_INVALID
    service.close()


def test_staff_are_listed_and_disabled_by_email(
    data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    service = build_service(Settings())
    service.create_staff(email="ana@example.com", password=PASSWORD)
    service.create_staff(email="bo@example.com", password=PASSWORD)
    code, table, _ = run(capsys, "staff", "list")
    assert code == 0 and [line.split()[0] for line in table.splitlines()] == [
        "EMAIL",
        "ana@example.com",
        "bo@example.com",
    ]
    assert "argon2" not in table
    code, out, _ = run(capsys, "staff", "disable", "BO@example.com")
    assert code == 0 and "bo@example.com disabled" in out
    with pytest.raises(Unauthenticated):
        service.sign_in(email="bo@example.com", password=PASSWORD)
    assert run(capsys, "staff", "disable", "--email", "ana@example.com")[0] == 0  # the old form
    code, listed, _ = run(capsys, "staff", "list", "--json")
    assert [s["disabled_at"] is not None for s in json.loads(listed)] == [True, True]
    assert run(capsys, "staff", "disable", "nobody@example.com")[0] == 1
    assert run(capsys, "staff", "disable")[0] == EXIT_INVALID
    service.close()


def test_a_staff_users_language_is_set_at_creation_and_later(
    data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``staff create --language es`` and ``staff language EMAIL en|es`` set the language of
    the staff UI; signing in then carries it, and ``staff list`` shows it. The password
    goes in on the standard input of the installed command, as an operator types it."""
    created = subprocess.run(
        [str(Path(sys.executable).with_name("correspondence")), "staff", "create",
         "--email", "eva@example.com", "--password-stdin", "--language", "es"],
        input=PASSWORD + "\n", capture_output=True, text=True, timeout=120,
        env={**os.environ, "CORRESPONDENCE_DATA_DIR": str(data_dir)},
    )  # fmt: skip
    assert created.returncode == 0 and "created" in created.stdout, created.stderr
    service = build_service(Settings())
    assert service.sign_in(email="eva@example.com", password=PASSWORD).locale == "es"
    code, out, _ = run(capsys, "staff", "language", "EVA@example.com", "en")
    assert code == 0 and "in en" in out
    assert service.sign_in(email="eva@example.com", password=PASSWORD).locale == "en"
    header, row = run(capsys, "staff", "list")[1].splitlines()
    assert header.split()[:3] == ["EMAIL", "CREATED", "LANGUAGE"]
    assert row.split()[0] == "eva@example.com" and "en" in row.split()
    (listed,) = json.loads(run(capsys, "staff", "list", "--json")[1])
    assert listed["locale"] == "en"
    with pytest.raises(SystemExit):
        parser().parse_args(["staff", "language", "eva@example.com", "fr"])
    assert run(capsys, "staff", "language", "nobody@example.com", "es")[0] == 1
    service.close()


def test_the_parser_knows_every_management_command() -> None:
    for argv in (
        ["keys", "list", "--json"],
        ["keys", "revoke", "abc"],
        ["keys", "rotate", "abc"],
        ["keys", "limit", "abc", "10"],
        ["keys", "create", "--name", "n", "--scopes", "admin", "--rate-limit", "5"],
        ["staff", "list"],
        ["staff", "disable", "a@example.com"],
        ["staff", "language", "a@example.com", "es"],
    ):
        assert parser().parse_args(argv).command == argv[0]
