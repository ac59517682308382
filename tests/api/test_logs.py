"""The service's console: what `correspondence serve` writes, as an operator reads it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

from correspondence.config import Settings
from tests.servers import free_port, settings_environment, wait_for_port


def _serve(tmp_path: Path, log_format: str) -> list[str]:
    port = free_port()
    settings = Settings(data_dir=tmp_path, run_worker=False, render_processes=0)
    env = {**os.environ, **settings_environment(settings), "CORRESPONDENCE_LOG_FORMAT": log_format}
    process = subprocess.Popen(
        [sys.executable, "-m", "correspondence.cli", "serve", "--port", str(port)],
        env=env,
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        text=True,
    )
    try:
        wait_for_port(port, timeout=60)
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=10) as answer:
            assert answer.status == 200
    finally:
        process.terminate()
        _, err = process.communicate(timeout=30)
    return [line for line in err.splitlines() if line.strip()]


def test_serve_writes_one_json_object_per_line_by_default(tmp_path):
    lines = _serve(tmp_path, "json")
    records = [json.loads(line) for line in lines]  # every line parses
    assert records, "the server said nothing"
    assert all({"event", "level", "timestamp", "logger"} <= record.keys() for record in records)
    assert any(record["logger"].startswith("uvicorn") for record in records)


def test_serve_console_format_is_plain_text(tmp_path):
    lines = _serve(tmp_path, "console")
    assert lines
    for line in lines:
        with pytest.raises(json.JSONDecodeError):
            json.loads(line)
    assert any("Uvicorn running" in line or "Application startup" in line for line in lines)
