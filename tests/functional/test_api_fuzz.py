"""Schemathesis drives the API from its own OpenAPI document: whatever a client sends (valid or not), the answer
is never a server error, its status is documented and its body matches the documented schema.

Deterministic (``derandomize``) and bounded (a few examples per operation) so that it stays a quick test.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, given, settings

from badgehub.api.openapi import PATHS
from tests.functional.api_helpers import build_api_world


@pytest.fixture
def world(snapshot: Any) -> dict[str, Any]:
    return snapshot(build_api_world)


def test_the_api_answers_what_its_document_says_to_generated_requests(app, world):
    # Imported here, not at the top: schemathesis takes 1.5 s to import, and every test process collects this
    # module while only one runs the test (its pytest plugin is off in pyproject.toml for the same reason).
    import schemathesis
    from schemathesis.checks import not_a_server_error
    from schemathesis.specs.openapi.checks import (
        content_type_conformance,
        response_schema_conformance,
        status_code_conformance,
    )

    checks = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    headers = {"Authorization": f"Bearer {world['token_a']}"}
    tried = []
    for result in schema.get_all_operations():
        operation = result.ok()
        if operation.path == "/api/v1/verify":
            continue  # the public verifier has its own tests; its input is files and documents

        @given(case=operation.as_strategy())
        @settings(max_examples=15, derandomize=True, deadline=None, database=None, phases=[Phase.generate],
                  suppress_health_check=list(HealthCheck))
        def run(case: Any) -> None:
            response = case.call(headers=headers)
            case.validate_response(response, checks=checks)

        run()
        tried.append(f"{operation.method.upper()} {operation.path}")
    # Every endpoint that takes a token was exercised (each area's endpoints join the document, not this test).
    expected = {f"{method.upper()} {path}" for path, operations in PATHS.items()
                for method, operation in operations.items() if operation.get("security") != []}
    assert set(tried) == expected, " ; ".join(sorted(expected ^ set(tried)))
