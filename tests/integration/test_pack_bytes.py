"""A renewal pack is the same bytes on every render, whether laid out in this process or
in the warm worker processes (issue 26: whatever makes the pack faster must keep this)."""

from __future__ import annotations

from pathlib import Path

from correspondence.config import Settings
from correspondence.engine import Engine
from correspondence.kinds import KINDS
from correspondence.workers import ProcessRenderers


def test_a_pack_is_the_same_bytes_serially_twice_and_in_the_workers(
    tmp_path: Path, engine: Engine
) -> None:
    validated = engine.validate(KINDS["renewal_pack"].sample())
    serial = engine.render(validated).pdf
    assert engine.render(validated).pdf == serial
    pool = ProcessRenderers(Settings(data_dir=tmp_path, render_wait_seconds=600), size=2)
    try:
        pool.warm()
        in_workers = [pool.render(validated).document.pdf for _ in range(2)]
    finally:
        pool.close()
    assert in_workers == [serial, serial]
