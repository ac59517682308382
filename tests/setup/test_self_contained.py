"""The suite reads nothing beside the checkout: the audit hook in tests/conftest.py sees
every open of this process and fails the test that made it."""

from __future__ import annotations

import contextlib

from correspondence.config import PROJECT_ROOT
from tests import conftest


def test_an_open_beside_the_checkout_is_caught() -> None:
    """A real open() of a path next to the repository is recorded by the hook, one inside
    it or elsewhere on the machine is not. (The record is cleared here, so that this test
    does not fail for the open it made on purpose.)"""
    beside = PROJECT_ROOT.parent / "a-sibling-folder" / "no-such-file.json"
    with contextlib.suppress(OSError):
        open(beside, encoding="utf-8").close()
    (PROJECT_ROOT / "pyproject.toml").read_text("utf-8")
    with contextlib.suppress(OSError):
        open("/etc/hostname", encoding="utf-8").close()
    seen, conftest._opened_beside[:] = list(conftest._opened_beside), []
    assert seen == [str(beside)]


def test_the_samples_are_the_projects_own() -> None:
    """Fixtures load from correspondence/kinds/samples, inside the package."""
    assert conftest.SAMPLES.is_relative_to(PROJECT_ROOT / "correspondence")
    assert len(list(conftest.SAMPLES.glob("*.json"))) >= 7
