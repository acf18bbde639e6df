"""Helpers of the JSON API tests: a world with tokens, and calls whose answers are checked against the OpenAPI
document (every answer of these tests must be documented, with a body that matches its schema)."""

from __future__ import annotations

import re
from typing import Any

from flask.testing import FlaskClient
from jsonschema import Draft202012Validator
from werkzeug.test import TestResponse

from badgehub.api.openapi import PATHS, SCHEMAS
from badgehub.tokens import service as tokens
from tests.factories import build_world

API = "/api/v1"


def build_api_world() -> dict[str, Any]:
    """build_world's ids, plus tokens: ``token_a`` / ``token_b`` (every scope) and ``read_a`` (read only)."""
    world = build_world()
    ids = world.ids()
    ids["org_a_id"], ids["org_b_id"] = world.a.id, world.b.id
    _row, ids["token_a"] = tokens.create_token(world.a, world.owner_a, name="CRM", scopes=tokens.SCOPES)
    _row, ids["token_b"] = tokens.create_token(world.b, world.owner_b, name="B", scopes=tokens.SCOPES)
    _row, ids["read_a"] = tokens.create_token(world.a, world.owner_a, name="Reader",
                                              scopes=[tokens.ACHIEVEMENTS_READ, tokens.CREDENTIALS_READ])
    return ids


def _operation(method: str, url: str) -> dict[str, Any]:
    path = url.split("?", 1)[0]
    for template, operations in PATHS.items():
        pattern = "^" + re.sub(r"\{[^}]+\}", "[^/]+", template) + "$"
        if re.match(pattern, path) and method.lower() in operations:
            return dict(operations[method.lower()])
    raise AssertionError(f"{method} {path} is not in the OpenAPI document")


def check_documented(method: str, url: str, response: TestResponse) -> None:
    """Fail unless the answer's status is documented for this operation and its JSON body matches the schema."""
    operation = _operation(method, url)
    status = str(response.status_code)
    assert status in operation["responses"], f"{method} {url} answered {status}, which is not documented"
    assert response.mimetype == "application/json", (status, response.mimetype)
    schema = operation["responses"][status]["content"]["application/json"]["schema"]
    validator = Draft202012Validator({**schema, "components": {"schemas": SCHEMAS}})
    errors = sorted(validator.iter_errors(response.get_json()), key=str)
    assert not errors, f"{method} {url} {status}: {errors[0].message} at {list(errors[0].absolute_path)}"


def call(client: FlaskClient, method: str, url: str, token: str | None = None, *, headers: dict[str, str] | None = None,
         **options: Any) -> TestResponse:
    """Call the API (``url`` under /api/v1) with a bearer token and check the answer against the document."""
    sent = dict(headers or {})
    if token is not None:
        sent["Authorization"] = f"Bearer {token}"
    full = url if url.startswith(API) else API + url
    response = client.open(full, method=method, headers=sent, **options)
    check_documented(method, full, response)
    return response


def award(achievement: str, email: str = "lea@example.net", **extra: Any) -> dict[str, Any]:
    return {"achievement": achievement, "recipient": {"email": email, "name": "Léa Martin"}, **extra}
