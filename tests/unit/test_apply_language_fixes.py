"""scripts/apply_language_fixes.py: the native reader's catalog fixes, kept as data and
applied to the .po files by msgid, changing nothing else in them."""

from __future__ import annotations

import importlib.util
import json
import shutil
from pathlib import Path
from types import ModuleType

import pytest
from babel.messages.pofile import read_po

from correspondence.config import Settings
from correspondence.templating import CATALOG_LOCALES, catalog_path

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "apply_language_fixes.py"
FIXES = ROOT / "scripts" / "language_fixes.json"


@pytest.fixture(scope="module")
def script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("apply_language_fixes", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def templates(tmp_path: Path, settings: Settings) -> Path:
    """A copy of the repository's catalogs to apply fixes to."""
    for locale in CATALOG_LOCALES:
        target = catalog_path(tmp_path, locale)
        target.parent.mkdir(parents=True)
        shutil.copyfile(catalog_path(settings.templates_dir, locale), target)
    return tmp_path


def messages(templates: Path, locale: str) -> dict[object, object]:
    with catalog_path(templates, locale).open("rb") as fh:
        return {(m.id, m.context): m.string for m in read_po(fh, locale=locale) if m.id}


def write(tmp_path: Path, fixes: list[dict[str, object]]) -> Path:
    path = tmp_path / "fixes.json"
    path.write_text(json.dumps(fixes, ensure_ascii=False), "utf-8")
    return path


def some_plural(templates: Path, locale: str) -> tuple[str, str]:
    with catalog_path(templates, locale).open("rb") as fh:
        plural = next(m for m in read_po(fh, locale=locale) if m.id and m.pluralizable)
    assert isinstance(plural.id, tuple)
    return plural.id[0], plural.id[1]


def test_a_fix_changes_its_msgstr_and_nothing_else(
    script: ModuleType, templates: Path, tmp_path: Path
) -> None:
    before = {locale: messages(templates, locale) for locale in CATALOG_LOCALES}
    untouched = catalog_path(templates, "en_GB").read_bytes()
    singular, plural = some_plural(templates, "es_ES")
    fixes = [
        {"locale": "es_ES", "msgid": "Taxable amount", "msgstr": "Base imponible (prueba)"},
        {
            "locale": "es_ES",
            "msgid": singular,
            "msgid_plural": plural,
            "msgstr_plural": {"0": "uno (prueba)", "1": "varios (prueba)"},
        },
    ]
    assert script.main(["--fixes", str(write(tmp_path, fixes)), "--templates", str(templates)]) == 0
    after = messages(templates, "es_ES")
    assert after[("Taxable amount", None)] == "Base imponible (prueba)"
    assert after[((singular, plural), None)] == ("uno (prueba)", "varios (prueba)")
    changed = {key for key in after if after[key] != before["es_ES"][key]}
    assert changed == {("Taxable amount", None), ((singular, plural), None)}
    assert catalog_path(templates, "en_GB").read_bytes() == untouched
    for locale in ("es_MX", "en_US"):
        assert messages(templates, locale) == before[locale]


def test_an_unchanged_catalog_is_written_back_byte_for_byte(
    script: ModuleType, templates: Path
) -> None:
    """Read and written as ``python -m correspondence.catalogs`` writes: a no-op diff."""
    for locale in CATALOG_LOCALES:
        path = catalog_path(templates, locale)
        with path.open("rb") as fh:
            assert script.serialise(read_po(fh, locale=locale)) == path.read_bytes()


def test_a_missing_msgid_is_reported_and_fails_unless_allowed(
    script: ModuleType, templates: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    fixes = write(
        tmp_path,
        [
            {"locale": "en_US", "msgid": "No such sentence.", "msgstr": "None."},
            {"locale": "en_US", "msgid": "Taxable amount", "msgstr": "Subtotal (test)"},
        ],
    )
    args = ["--fixes", str(fixes), "--templates", str(templates)]
    assert script.main(args) == 1
    assert "No such sentence." in capsys.readouterr().err
    assert messages(templates, "en_US")[("Taxable amount", None)] == "Subtotal (test)"
    assert script.main([*args, "--allow-missing"]) == 0


def test_check_fails_while_a_fix_is_not_applied(
    script: ModuleType, templates: Path, tmp_path: Path
) -> None:
    fixes = write(tmp_path, [{"locale": "en_US", "msgid": "Taxable amount", "msgstr": "Net"}])
    args = ["--fixes", str(fixes), "--templates", str(templates)]
    assert script.main([*args, "--check"]) == 1
    assert script.main(args) == 0
    assert script.main([*args, "--check"]) == 0


def test_the_repositorys_fixes_are_applied(script: ModuleType, settings: Settings) -> None:
    """After a template change re-extracts the catalogs, run
    ``python scripts/apply_language_fixes.py`` again (and drop fixes whose msgid is gone)."""
    args = ["--fixes", str(FIXES), "--templates", str(settings.templates_dir), "--check"]
    assert script.main(args) == 0
