"""tests.servers.settings_environment: the settings a test hands to a process of its own
(`correspondence serve`, a Celery worker) come back the same when that process loads them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from correspondence.config import Settings
from tests.servers import settings_environment

READ_BACK = (
    "import json; from correspondence.config import Settings; s = Settings(); "
    "print(json.dumps({'review_kinds': list(s.review_kinds), "
    "'signing_kinds': list(s.signing_kinds), 'render_processes': s.render_processes}))"
)


@pytest.mark.parametrize(
    "review_kinds",
    [(), ("claim_decision",), ("credit_limit_change_notice:reduction", "claim_decision:declined")],
)
def test_a_process_loads_the_settings_it_was_given(
    tmp_path: Path, review_kinds: tuple[str, ...]
) -> None:
    given = Settings(data_dir=tmp_path, render_processes=0, review_kinds=review_kinds)
    env = {**os.environ, **settings_environment(given)}
    out = subprocess.run(
        [sys.executable, "-c", READ_BACK], env=env, capture_output=True, text=True, check=True
    ).stdout
    loaded = json.loads(out)
    assert loaded == {
        "review_kinds": list(given.review_kinds),
        "signing_kinds": list(given.signing_kinds),
        "render_processes": 0,
    }
