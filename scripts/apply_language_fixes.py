#!/usr/bin/env python3
"""Apply the native reader's catalog fixes (``scripts/language_fixes.json``) to the ``.po`` files.

Each fix is ``{"locale": "es_ES", "msgid": "...", "msgstr": "..."}``; a plural message gives
``"msgid_plural"`` and ``"msgstr_plural": {"0": "...", "1": "..."}``, and a message with a
context gives ``"context"``. A fix is found by its msgid (and context); only its msgstr
changes, and every other entry of the file is written back as
``python -m correspondence.catalogs`` writes it (``width=0``, no locations, unsorted).

Usage::

    python scripts/apply_language_fixes.py [--fixes FILE] [--templates DIR] [--allow-missing]
                                           [--check]

It prints every fix whose msgid is not in its catalog and exits with status 1 if there is
any, unless ``--allow-missing``. ``--check`` changes nothing and exits with status 1 if any
fix is not applied yet. Runs with the standard library and Babel only.
"""

from __future__ import annotations

import argparse
import json
import sys
from io import BytesIO
from pathlib import Path
from typing import Any

from babel.messages.catalog import Catalog, Message
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parent.parent
LOCALES = ("es_MX", "es_ES", "en_GB", "en_US")


def po_path(templates: Path, locale: str) -> Path:
    return templates / "locale" / locale / "LC_MESSAGES" / "messages.po"


def load_fixes(path: Path) -> list[dict[str, Any]]:
    fixes = json.loads(path.read_text("utf-8"))
    if not isinstance(fixes, list):
        raise SystemExit(f"{path}: expected a list of fixes")
    for number, fix in enumerate(fixes):
        where = f"{path} fix {number} ({fix.get('msgid', '')[:60]!r})"
        if fix.get("locale") not in LOCALES:
            raise SystemExit(f"{where}: locale must be one of {', '.join(LOCALES)}")
        if not isinstance(fix.get("msgid"), str) or not fix["msgid"]:
            raise SystemExit(f"{where}: msgid is missing")
        if ("msgstr" in fix) == ("msgstr_plural" in fix):
            raise SystemExit(f"{where}: give either msgstr or msgstr_plural")
        if ("msgstr_plural" in fix) != ("msgid_plural" in fix):
            raise SystemExit(f"{where}: msgstr_plural goes with msgid_plural")
    return fixes


def key_of(fix: dict[str, Any]) -> str | tuple[str, str]:
    if "msgid_plural" in fix:
        return (fix["msgid"], fix["msgid_plural"])
    return str(fix["msgid"])


def new_string(fix: dict[str, Any], catalog: Catalog) -> str | tuple[str, ...]:
    if "msgstr" in fix:
        return str(fix["msgstr"])
    forms = fix["msgstr_plural"]
    count = catalog.num_plurals
    missing = [str(n) for n in range(count) if str(n) not in forms]
    if missing:
        raise SystemExit(f"{fix['locale']} {fix['msgid'][:60]!r}: plural forms {missing} missing")
    return tuple(str(forms[str(n)]) for n in range(count))


def find(catalog: Catalog, fix: dict[str, Any]) -> Message | None:
    message = catalog.get(fix["msgid"], context=fix.get("context"))
    if message is None:
        return None
    plural = "msgid_plural" in fix
    if plural != message.pluralizable:
        return None
    if plural and isinstance(message.id, tuple) and message.id[1] != fix["msgid_plural"]:
        return None
    return message


def serialise(catalog: Catalog) -> bytes:
    out = BytesIO()
    # as correspondence.catalogs.update writes the files
    write_po(out, catalog, width=0, omit_header=False, sort_output=False, no_location=True)
    return out.getvalue()


def apply(fixes: list[dict[str, Any]], templates: Path, *, write: bool) -> tuple[int, list[str]]:
    """Apply ``fixes``; return how many msgstrs changed and the fixes not found."""
    changed = 0
    missing: list[str] = []
    for locale in LOCALES:
        mine = [f for f in fixes if f["locale"] == locale]
        if not mine:
            continue
        path = po_path(templates, locale)
        original = path.read_bytes()
        catalog = read_po(BytesIO(original), locale=locale)
        for fix in mine:
            message = find(catalog, fix)
            if message is None:
                context = f" [context {fix['context']!r}]" if fix.get("context") else ""
                missing.append(f"{locale}: msgid not found{context}: {fix['msgid']!r}")
                continue
            string = new_string(fix, catalog)
            if message.string != string:
                message.string = string
                message.flags.discard("fuzzy")
                changed += 1
        if write:
            written = serialise(catalog)
            if written != original:
                path.write_bytes(written)
    return changed, missing


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--fixes", type=Path, default=ROOT / "scripts" / "language_fixes.json")
    parser.add_argument("--templates", type=Path, default=ROOT / "templates")
    parser.add_argument("--allow-missing", action="store_true")
    parser.add_argument("--check", action="store_true", help="change nothing; fail if not applied")
    args = parser.parse_args(argv)
    fixes = load_fixes(args.fixes)
    changed, missing = apply(fixes, args.templates, write=not args.check)
    for line in missing:
        print(line, file=sys.stderr)
    verb = "to change" if args.check else "changed"
    print(f"{len(fixes)} fixes, {changed} msgstrs {verb}, {len(missing)} not found")
    if missing and not args.allow_missing:
        return 1
    if args.check and changed:
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
