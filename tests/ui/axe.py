"""axe-core (the copy ``axe-playwright-python`` ships) on a page state of the staff UI.

Every test that reaches a new page state calls :func:`assert_accessible`; a serious or
critical violation fails the test, and its report names the rule and the elements.
"""

from __future__ import annotations

from typing import Any

from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page

FAILING_IMPACTS = frozenset({"serious", "critical"})
_AXE = Axe()


def violations(page: Page) -> list[dict[str, Any]]:
    """The serious and critical violations axe-core finds on ``page`` as it is now."""
    results = _AXE.run(page)
    found: list[dict[str, Any]] = results.response["violations"]
    return [v for v in found if v.get("impact") in FAILING_IMPACTS]


def assert_accessible(page: Page, state: str) -> None:
    """Fail with axe-core's findings if ``page`` (described as ``state``) has a serious or
    critical violation."""
    found = violations(page)
    report = "\n".join(
        f"{v['id']} ({v['impact']}): {v['help']} at "
        + ", ".join(str(node["target"]) for node in v["nodes"])
        for v in found
    )
    assert not found, f"axe-core on {state}:\n{report}"
