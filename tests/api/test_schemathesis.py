"""Issue 22: schemathesis against a live server, every operation of /openapi.json, a
bounded number of examples each, valid and invalid: no 5xx, and every response as the
spec declares it (status, content type, body schema)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from correspondence.service import SCOPES
from tests.api.conftest import fast_settings
from tests.servers import RunningApi, api_server

EXAMPLES = 6
"""Examples per operation and mode: the run stays well under two minutes on two cores."""

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[RunningApi, str]]:
    with api_server(fast_settings(Path(tmp_path_factory.mktemp("schemathesis")))) as running:
        deadline = time.monotonic() + 300
        while httpx.get(f"{running.base_url}/readyz").status_code != 200:  # renderers warm
            assert time.monotonic() < deadline, "the server never became ready"
            time.sleep(0.2)
        yield running, running.service.create_api_key(name="schemathesis", scopes=SCOPES)


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_every_operation_keeps_its_contract(
    live: tuple[RunningApi, str], mode: GenerationMode
) -> None:
    running, key = live
    spec = schemathesis.openapi.from_url(f"{running.base_url}/openapi.json")
    operations = [result.ok() for result in spec.get_all_operations()]
    declared = {
        (method.upper(), path) for path, item in spec.raw_schema["paths"].items() for method in item
    }
    assert {(op.method.upper(), op.path) for op in operations} == declared
    failures: dict[str, str] = {}
    unfit: list[str] = []
    cases = 0
    started = time.monotonic()
    with requests.Session() as session:
        for operation in operations:

            @given(case=operation.as_strategy(generation_mode=mode))
            @settings(
                max_examples=EXAMPLES,
                deadline=None,
                derandomize=True,
                database=None,
                phases=[Phase.explicit, Phase.generate],
                suppress_health_check=list(HealthCheck),
            )
            def run(case: schemathesis.Case) -> None:
                nonlocal cases
                cases += 1
                case.call_and_validate(
                    base_url=running.base_url,
                    session=session,
                    headers={"Authorization": f"Bearer {key}"},
                    checks=CHECKS,
                )

            began = time.monotonic()
            try:
                run()
            except Unsatisfiable:  # nothing to make invalid (no parameter, or a free string)
                assert mode is GenerationMode.NEGATIVE, operation.label
                unfit.append(operation.label)
            except Exception as error:  # every operation runs; all failures are reported
                failures[operation.label] = str(error)[:3000]
            print(f"  {operation.label}: {time.monotonic() - began:.1f} s")
    print(
        f"schemathesis {mode.value}: {cases} cases over {len(operations) - len(unfit)} "
        f"operations in {time.monotonic() - started:.1f} s (none invalid: {', '.join(unfit)})"
    )
    assert not failures, "\n\n".join(f"{label}:\n{text}" for label, text in failures.items())
