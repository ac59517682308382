"""scripts/audit.sh fails when the advisory database cannot be reached, instead of
reporting "no known vulnerabilities" for packages it never looked up."""

from __future__ import annotations

import os
import subprocess

import pytest

from correspondence.config import PROJECT_ROOT
from tests.servers import free_port


@pytest.mark.parametrize("service", ["pypi", "osv"])
def test_an_unreachable_advisory_database_fails_the_audit(service: str) -> None:
    nowhere = f"http://127.0.0.1:{free_port()}"  # a proxy that refuses every connection
    env = {
        **os.environ,
        "AUDIT_SERVICE": service,
        "HTTPS_PROXY": nowhere,
        "HTTP_PROXY": nowhere,
        "https_proxy": nowhere,
        "http_proxy": nowhere,
        "NO_PROXY": "",
        "no_proxy": "",
    }
    done = subprocess.run(
        [str(PROJECT_ROOT / "scripts" / "audit.sh")],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 2, done.stdout + done.stderr
    assert f"the advisory database ({service}) could not be reached" in done.stderr
    assert "no known vulnerabilities" not in done.stdout
