"""The CLI's key and account management: ``keys list | revoke | rotate | limit`` and
``staff list | disable | language``. Loaded only when one of them runs (see ``cli.py``).

A listing never shows a secret or a hash; a rotated key is printed once, on standard
output (the note about it goes to standard error, so ``$(…)`` captures the key alone).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from dataclasses import asdict
from datetime import datetime
from typing import Any

from correspondence.access import Access, ApiKeyInfo, StaffInfo
from correspondence.config import Settings
from correspondence.errors import InvalidPayload, Problem


def _access() -> Access:
    from correspondence.bootstrap import build_service

    return build_service(Settings()).access


def _when(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%SZ") if moment else "-"


def _table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
    widths = [max(len(str(c)) for c in column) for column in zip(header, *rows, strict=True)]
    for row in (header, *rows):
        print("  ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())


def _json(items: Sequence[ApiKeyInfo | StaffInfo]) -> None:
    def plain(value: Any) -> Any:
        return value.isoformat().replace("+00:00", "Z") if isinstance(value, datetime) else value

    print(json.dumps([{k: plain(v) for k, v in asdict(i).items()} for i in items], indent=2))


def keys_list(args: argparse.Namespace) -> int:
    keys = _access().api_keys()
    if args.json:
        _json(keys)
        return 0
    _table(
        ("ID", "NAME", "SCOPES", "CREATED", "STATE", "LIMIT/MIN"),
        [
            (
                k.id,
                k.name,
                " ".join(k.scopes),
                _when(k.created_at),
                f"revoked {_when(k.revoked_at)}" if k.revoked_at else "active",
                f"{k.effective_rate_limit_per_minute}"
                + ("" if k.rate_limit_per_minute else " (default)"),
            )
            for k in keys
        ],
    )
    return 0


def keys_revoke(args: argparse.Namespace) -> int:
    info = _access().revoke_api_key(args.id)
    print(f"API key {info.id} ({info.name}) revoked at {_when(info.revoked_at)}")
    return 0


def keys_rotate(args: argparse.Namespace) -> int:
    info, key = _access().rotate_api_key(args.id)
    print(key)
    print(
        f"(key {info.id} ({info.name}) has a new secret; the old one is refused from now on; "
        "shown once, only its hash is stored)",
        file=sys.stderr,
    )
    return 0


def keys_limit(args: argparse.Namespace) -> int:
    value: str = args.per_minute
    if value == "default":
        limit = None
    elif value.isdigit():
        limit = int(value)
    else:
        raise InvalidPayload(
            [Problem("per_minute", "give a number of requests a minute, or 'default'", "type")]
        )
    info = _access().set_rate_limit(args.id, limit)
    source = "its own" if info.rate_limit_per_minute else "the default"
    print(f"API key {info.id}: {info.effective_rate_limit_per_minute} requests a minute ({source})")
    return 0


def staff_list(args: argparse.Namespace) -> int:
    accounts = _access().staff_accounts()
    if args.json:
        _json(accounts)
        return 0
    _table(
        ("EMAIL", "CREATED", "LANGUAGE", "STATE"),
        [
            (
                s.email,
                _when(s.created_at),
                s.locale,
                f"disabled {_when(s.disabled_at)}"
                if s.disabled_at
                else (f"locked until {_when(s.locked_until)}" if s.locked_until else "active"),
            )
            for s in accounts
        ],
    )
    return 0


def staff_disable(args: argparse.Namespace) -> int:
    email = args.email or args.email_option
    if not email:
        raise InvalidPayload([Problem("EMAIL", "name the staff user to disable", "missing")])
    info = _access().disable_staff(email=email)
    print(f"staff user {info.email} disabled; every session of it has ended")
    return 0


def staff_language(args: argparse.Namespace) -> int:
    info = _access().set_staff_locale(email=args.email, locale=args.language)
    print(f"staff user {info.email} now sees the UI in {info.locale}")
    return 0


COMMANDS: dict[str, Callable[[argparse.Namespace], int]] = {
    "keys list": keys_list,
    "keys revoke": keys_revoke,
    "keys rotate": keys_rotate,
    "keys limit": keys_limit,
    "staff list": staff_list,
    "staff disable": staff_disable,
    "staff language": staff_language,
}


def run(args: argparse.Namespace) -> int:
    """Run the command ``args.admin`` names (one of :data:`COMMANDS`; ``cli.py`` declares
    their arguments)."""
    return COMMANDS[args.admin](args)
