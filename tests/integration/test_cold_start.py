"""Cold start: the command line loads only what a command needs (issue 26).

``correspondence --help`` must answer in a fraction of a second and a cold ``render`` must
cost little more than WeasyPrint's own start, so the CLI imports only what parsing needs
and each command imports what it uses. Timing is for ``bench/cold.py``; here the
behaviour: which modules a fresh interpreter has loaded after running a command.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from correspondence.engine import Engine
from correspondence.kinds import KINDS
from tests.conftest import SAMPLES

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
        code = main(sys.argv[1:])
    except SystemExit as done:
        code = done.code
print(json.dumps({"code": code, "out": out.getvalue(), "modules": sorted(sys.modules)}))
"""


def _run(*argv: str) -> tuple[object, str, list[str]]:
    """Exit code, standard output and loaded modules of ``correspondence *argv``, run in a
    fresh interpreter."""
    done = subprocess.run(
        [sys.executable, "-c", _PROBE, *argv], capture_output=True, text=True, check=True
    )
    probe = json.loads(done.stdout)
    return probe["code"], probe["out"], probe["modules"]


def test_help_loads_no_heavy_module() -> None:
    code, out, modules = _run("--help")
    assert code == 0
    assert "render" in out
    assert [name for name in HEAVY if name in modules] == []


def test_a_command_help_loads_no_heavy_module_either() -> None:
    code, out, modules = _run("render", "--help")
    assert code == 0
    assert "--locale" in out
    assert [name for name in HEAVY if name in modules] == []


def test_rendering_one_letter_loads_only_what_a_letter_needs(
    tmp_path: Path, engine: Engine
) -> None:
    """One kind's models, one country's holidays, no pypdf (which only packs and long
    invoices need), nothing of the registry or the broker."""
    out = tmp_path / "letter.pdf"
    payload = SAMPLES / KINDS["credit_limit_decision"].sample_file
    code, _, modules = _run("render", str(payload), "-o", str(out))
    assert code == 0
    # The same bytes as a warm engine with every shortcut (the CLI's one render skips the
    # trimmed user-agent stylesheet)
    assert (
        out.read_bytes()
        == engine.render(engine.validate(KINDS["credit_limit_decision"].sample())).pdf
    )
    assert "correspondence.kinds.credit_limit_decision" in modules
    assert "weasyprint" in modules
    unwanted = (
        "pypdf",
        "holidays.countries",
        "correspondence.kinds.premium_invoice",
        "correspondence.kinds.renewal_pack",
        "correspondence.registry",
        "sqlalchemy",
        "celery",
    )
    assert [name for name in unwanted if name in modules] == []


_LIBRARIES = """
import ctypes.util, json, sys
spawned = []
sys.addaudithook(lambda event, args: event == "subprocess.Popen" and spawned.append(args[0]))
search = ctypes.util.find_library
import {module}
maps = {{line.split()[-1] for line in open("/proc/self/maps")}}
print(json.dumps({{
    "spawned": len(spawned),
    "restored": ctypes.util.find_library is search,
    "libraries": sorted(m for m in maps if "/libgobject" in m or "/libpango" in m
                        or "/libharfbuzz" in m or "/libfontconfig" in m),
}}))
"""


def _libraries(module: str) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, "-c", _LIBRARIES.format(module=module)],
        capture_output=True,
        text=True,
        check=True,
    )
    loaded: dict[str, Any] = json.loads(done.stdout)
    return loaded


def test_weasyprint_opens_its_libraries_by_soname_without_a_search() -> None:
    """Through :mod:`correspondence.native_libs`, WeasyPrint opens the very files its own
    library search ends on, with no subprocess; on its own it runs dozens
    (``ldconfig``, ``gcc``, ``ld``) to get there."""
    ours, plain = _libraries("correspondence.pdf"), _libraries("weasyprint")
    assert ours["spawned"] == 0
    assert plain["spawned"] > 0
    assert ours["libraries"] == plain["libraries"]
    assert len(ours["libraries"]) == 6  # gobject, pango, pangoft2, harfbuzz(-subset), fontconfig
    assert ours["restored"] and plain["restored"]


_STARTED = """
import gc, json, time
from correspondence import cli
collections = []
gc.callbacks.append(lambda phase, info: phase == "stop" and collections.append(info))
engine = cli._engine("render")
print(json.dumps({
    "collections": len(collections),
    "enabled": gc.isenabled(),
    "frozen": gc.get_freeze_count(),
    "shortcuts": [engine.pdf.shortcuts.user_agent, engine.pdf.shortcuts.serialize_once,
                  engine.pdf.shortcuts.measure_once, engine.pdf.shortcuts.running_once],
}))
"""


def test_a_cold_render_builds_its_engine_without_collecting() -> None:
    """The start allocates, it makes no garbage: the collector is paused while the engine is
    imported and built, what was built is frozen, and the collector is back for the
    document."""
    done = subprocess.run(
        [sys.executable, "-c", _STARTED], capture_output=True, text=True, check=True
    )
    started = json.loads(done.stdout)
    assert started["collections"] == 0
    assert started["enabled"] is True
    assert started["frozen"] > 50_000
    # One document: every shortcut but the trimmed user-agent stylesheet
    assert started["shortcuts"] == [False, True, True, True]
