"""Schema-driven fuzzing of the whole OpenAPI (Schemathesis) against a real server with the tiny model.

Every operation gets generated requests, valid and invalid, and every response must be no 5xx, a status
code the OpenAPI documents for that operation, and a body that matches the documented schema. Bounded
(a fixed number of examples per operation, derandomized) so it is a reproducible part of the fast suite.
The server is addressed as ``127.0.0.1``, a loopback Host, which a keyless service accepts.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance, status_code_conformance

from narrascope.serve.app import create_app
from narrascope.serve.testing import isolated_settings, running_server

EXAMPLES_PER_OPERATION = 50


@pytest.fixture(scope="module")
def base_url(tiny_model_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    store = tmp_path_factory.mktemp("fuzz-store")
    with running_server(isolated_settings(tiny_model_dir, store, host="127.0.0.1", port=0)) as url:
        yield url


def _openapi() -> dict[str, Any]:
    """The app's OpenAPI, built at collection time: ``create_app`` loads nothing, so no model is needed (the
    lazy fixture loader of Schemathesis relies on a pytest internal that pytest 9 removed)."""
    unused = Path(tempfile.gettempdir()) / "narrascope-fuzz-unused"
    return create_app(isolated_settings(unused, unused)).openapi()


schema = schemathesis.openapi.from_dict(_openapi())
# One test per operation, with the operation in its id: Schemathesis's own parametrize gives every operation
# the same node id, which pytest-xdist collapses into one test (so only one operation would be fuzzed).
OPERATIONS = {op.label: op for op in (result.ok() for result in schema.get_all_operations())}
CHECKS = [not_a_server_error, status_code_conformance, response_schema_conformance]


def test_every_operation_is_fuzzed() -> None:
    paths = {f"{method.upper()} {path}" for path, item in _openapi()["paths"].items() for method in item}
    assert set(OPERATIONS) == paths


@pytest.mark.parametrize("label", sorted(OPERATIONS))
def test_api_survives_schema_driven_fuzzing(label: str, base_url: str) -> None:
    @settings(
        max_examples=EXAMPLES_PER_OPERATION,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(case=OPERATIONS[label].as_strategy())
    def fuzz(case: schemathesis.Case) -> None:
        case.call_and_validate(base_url=base_url, checks=CHECKS)

    fuzz()
