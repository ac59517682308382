"""``/readyz`` names each dependency and its state; ``503`` until every render worker has
started, and while the SMTP server is down; ``/healthz`` stays trivial."""

from __future__ import annotations

import socket
import time
from pathlib import Path
from typing import Any

import httpx
from aiosmtpd.controller import Controller
from aiosmtpd.handlers import Sink

from correspondence import render_worker
from correspondence.bootstrap import build_service
from correspondence.broker import CHECK_TIMEOUT_SECONDS
from correspondence.config import Settings
from correspondence.workers import ProcessRenderers
from tests.api.conftest import fast_settings
from tests.servers import api_server, free_port, redis_server


def slow_start(settings: Settings, freeze: bool) -> None:
    """A worker start that waits for the test's go-ahead (a file), then starts as usual."""
    while not (settings.data_dir / "go").exists():
        time.sleep(0.05)
    render_worker.start(settings, freeze)


def _ready(base_url: str, timeout: float = 60) -> httpx.Response:
    deadline = time.monotonic() + timeout
    while (answer := httpx.get(f"{base_url}/readyz")).status_code != 200:
        assert time.monotonic() < deadline, answer.text
        time.sleep(0.1)
    return answer


def test_not_ready_until_every_render_worker_has_started(tmp_path: Path) -> None:
    settings = fast_settings(tmp_path, run_worker=False)
    pool = ProcessRenderers(settings, size=2, start=slow_start)
    with api_server(settings, service=build_service(settings, renderers=pool)) as running:
        assert httpx.get(f"{running.base_url}/healthz").json() == {"status": "ok"}
        waiting = httpx.get(f"{running.base_url}/readyz")
        assert waiting.status_code == 503 and waiting.headers["Retry-After"]
        body: dict[str, Any] = waiting.json()
        assert list(body) == ["errors"], "the error envelope"
        assert [e["field"] for e in body["errors"]] == ["renderers"], "only the one not ready"
        assert body["errors"][0]["error"] == "unavailable"
        assert body["errors"][0]["message"].startswith("renderers: ")
        (tmp_path / "go").touch()
        ready = _ready(running.base_url).json()
        assert ready == {
            "status": "ready",
            "checks": {"database": "ok", "archive": "ok", "renderers": "ok"},
        }
        assert pool.alive() == 2


def test_the_smtp_server_is_checked_and_named_when_down(tmp_path: Path) -> None:
    port = free_port()
    settings = fast_settings(
        tmp_path, run_worker=False, mail_backend="smtp", smtp_port=port, smtp_timeout_seconds=2
    )
    with api_server(settings) as running:
        down = httpx.get(f"{running.base_url}/readyz", timeout=30)
        assert down.status_code == 503
        assert "mail" in {e["field"] for e in down.json()["errors"]}
        (mail,) = [e for e in down.json()["errors"] if e["field"] == "mail"]
        assert str(port) in mail["message"]
        controller = Controller(Sink(), hostname="127.0.0.1", port=port)
        controller.start()
        try:
            ready = _ready(running.base_url).json()
            assert ready["checks"]["mail"] == "ok"
            assert set(ready["checks"]) == {"database", "archive", "renderers", "mail"}
        finally:
            controller.stop()


def test_the_broker_is_checked_and_named_when_down(tmp_path: Path) -> None:
    with redis_server() as broker_url:
        settings = fast_settings(tmp_path, run_worker=False, broker_url=broker_url)
        with api_server(settings) as running:
            ready = _ready(running.base_url).json()
            assert ready["checks"]["broker"] == "ok"
            assert set(ready["checks"]) == {"database", "archive", "renderers", "broker"}
    port = broker_url.rsplit(":", 1)[1].split("/")[0]
    with api_server(settings) as running:  # the same settings, the broker now stopped
        down = httpx.get(f"{running.base_url}/readyz", timeout=30)
        assert down.status_code == 503
        (broker,) = [e for e in down.json()["errors"] if e["field"] == "broker"]
        assert broker["message"].startswith("broker: ") and port in broker["message"]


def test_a_silent_broker_fails_the_check_within_its_timeout(tmp_path: Path) -> None:
    """A broker that takes the connection and never answers: `/readyz` says so in
    seconds rather than waiting for ever (no socket timeout is kombu's default)."""
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)  # connections complete in the backlog; nothing ever answers
        port = silent.getsockname()[1]
        settings = fast_settings(
            tmp_path, run_worker=False, broker_url=f"redis://127.0.0.1:{port}/0"
        )
        with api_server(settings) as running:
            started = time.monotonic()
            down = httpx.get(f"{running.base_url}/readyz", timeout=60)
            waited = time.monotonic() - started
    assert down.status_code == 503
    (broker,) = [e for e in down.json()["errors"] if e["field"] == "broker"]
    assert "timeout" in broker["message"].lower(), broker
    assert waited < 4 * CHECK_TIMEOUT_SECONDS, waited
