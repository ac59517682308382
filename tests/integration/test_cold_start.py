"""Cold start: parsing the command line loads none of the heavy parts (issue 26).

``correspondence --help`` must answer in a fraction of a second, so the CLI module imports
only what parsing needs and each command imports what it uses. Timing is for bench/; here
the behaviour: which modules a fresh interpreter has loaded after importing the CLI and
printing the help.
"""

from __future__ import annotations

import json
import subprocess
import sys

HEAVY = (
    "weasyprint",
    "pypdf",
    "jinja2",
    "pydantic_settings",
    "sqlalchemy",
    "celery",
    "holidays",
    "correspondence.engine",
    "correspondence.config",
    "correspondence.kinds",
)

_PROBE = """
import contextlib, io, json, sys
from correspondence.cli import main
with contextlib.redirect_stdout(io.StringIO()) as out:
    try:
        main(sys.argv[1:])
    except SystemExit as done:
        code = done.code
print(json.dumps({"code": code, "help": out.getvalue(), "modules": sorted(sys.modules)}))
"""


def _help(*argv: str) -> dict[str, object]:
    done = subprocess.run(
        [sys.executable, "-c", _PROBE, *argv], capture_output=True, text=True, check=True
    )
    result: dict[str, object] = json.loads(done.stdout)
    return result


def test_help_loads_no_heavy_module() -> None:
    probe = _help("--help")
    assert probe["code"] == 0
    assert "render" in str(probe["help"])
    modules = probe["modules"]
    assert isinstance(modules, list)
    loaded = [name for name in HEAVY if name in modules]
    assert loaded == []


def test_a_command_help_loads_no_heavy_module_either() -> None:
    probe = _help("render", "--help")
    assert probe["code"] == 0
    assert "--locale" in str(probe["help"])
    modules = probe["modules"]
    assert isinstance(modules, list)
    assert [name for name in HEAVY if name in modules] == []
