"""The OpenAPI document of /api/v1 is valid OpenAPI 3.1, served, and describes exactly the routes that exist."""

from __future__ import annotations

import re

from jsonschema import Draft202012Validator
from openapi_spec_validator import validate

from badgehub.api.openapi import PATHS, SCHEMAS


def flask_routes(app) -> set[tuple[str, str]]:
    routes = set()
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/api/v1/"):
            path = re.sub(r"<(?:[^:>]+:)?([^>]+)>", r"{\1}", rule.rule).replace("{public_id}", "{id}")
            routes |= {(path, method.lower()) for method in rule.methods - {"HEAD", "OPTIONS"}}
    return routes


def test_every_route_is_documented_and_every_documented_route_exists(app):
    documented = {(path, method) for path, operations in PATHS.items() for method in operations}
    assert flask_routes(app) == documented


def test_the_served_document_is_valid_openapi_3_1(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200 and response.mimetype == "application/json"
    document = response.get_json()
    assert document["openapi"] == "3.1.0" and document["servers"] == [{"url": "http://localhost"}]
    assert document["components"]["securitySchemes"]["bearer"] == {
        "type": "http", "scheme": "bearer", "description": "An API token: bh_xxxxxxxx_…"}
    validate(document)


def test_every_schema_is_valid_json_schema_and_every_reference_resolves():
    for schema in SCHEMAS.values():
        Draft202012Validator.check_schema(schema)
    text = repr(PATHS) + repr(SCHEMAS)
    for name in re.findall(r"#/components/schemas/(\w+)", text):
        assert name in SCHEMAS, name


def test_every_token_endpoint_documents_its_scope_and_the_error_answers():
    for path, operations in PATHS.items():
        for method, operation in operations.items():
            if operation.get("security") == []:
                continue
            assert operation["x-scope"] in operation["description"], (path, method)
            assert {"401", "403", "429"} <= set(operation["responses"]), (path, method)
            if "requestBody" in operation:
                assert {"413", "415", "422"} <= set(operation["responses"]), (path, method)
