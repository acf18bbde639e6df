"""The service description document of ``/ims/ob/v3p0/discovery``: OpenAPI 3.0 with the OAuth 2.0 scheme.

OB 3.0 §6.4 (service discovery): a platform reads it to find the authorization, token, refresh and dynamic
registration URLs (``x-imssf-registrationUrl``) and the scopes, before registering.
"""

from __future__ import annotations

from typing import Any

from badgehub.oauth.server import CREDENTIAL_READ, CREDENTIAL_UPSERT, PROFILE_READ, PROFILE_UPDATE

API_PATH = "/ims/ob/v3p0"


def _error(description: str) -> dict[str, Any]:
    return {"description": description,
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Imsx_StatusInfo"}}}}


def _errors(*codes: str) -> dict[str, Any]:
    text = {"400": "Bad request", "401": "Unauthorized", "403": "Forbidden", "404": "Not found",
            "405": "Method not allowed", "500": "Internal server error"}
    return {code: _error(text[code]) for code in codes}


def service_description(base_url: str, *, name: str, privacy_url: str) -> dict[str, Any]:
    """The OpenAPI document for an installation at ``base_url``."""
    def secured(scope: str) -> list[dict[str, list[str]]]:
        return [{"OAuth2ACG": [scope]}]

    object_schema = {"type": "object", "additionalProperties": True}
    headers = {
        "X-Total-Count": {"description": "How many credentials the wallet holds in all",
                          "schema": {"type": "integer"}},
        "Link": {"description": "RFC 8288 links to the first, previous, next and last pages",
                 "schema": {"type": "string"}},
    }
    return {
        "openapi": "3.0.1",
        "info": {"title": f"{name}: Open Badges API", "version": "3.0",
                 "description": "The 1EdTech Open Badges 3.0 API of this installation (service provider role).",
                 "termsOfService": privacy_url, "x-imssf-privacyPolicyUrl": privacy_url},
        "servers": [{"url": base_url + API_PATH}],
        "tags": [{"name": "OpenBadgeCredentials"}, {"name": "Profile"}, {"name": "Discovery"}],
        "paths": {
            "/credentials": {
                "get": {"operationId": "getCredentials", "tags": ["OpenBadgeCredentials"],
                        "summary": "The credentials of the learner's wallet, newest first",
                        "parameters": [
                            {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1,
                                                                        "maximum": 100}},
                            {"name": "offset", "in": "query", "schema": {"type": "integer", "minimum": 0}},
                            {"name": "since", "in": "query", "schema": {"type": "string", "format": "date-time"}}],
                        "security": secured(CREDENTIAL_READ),
                        "responses": {"200": {
                            "description": "A page of credentials", "headers": headers,
                            "content": {"application/json": {"schema": {
                                "$ref": "#/components/schemas/GetOpenBadgeCredentialsResponse"}}}},
                            **_errors("400", "401", "403", "500")}},
                "post": {"operationId": "upsertCredential", "tags": ["OpenBadgeCredentials"],
                         "summary": "Verify a credential and keep it in the learner's wallet",
                         "security": secured(CREDENTIAL_UPSERT),
                         "requestBody": {"required": True, "content": {
                             "application/json": {"schema": object_schema},
                             "application/ld+json": {"schema": object_schema},
                             "text/plain": {"schema": {"type": "string"}}}},
                         "responses": {
                             "200": {"description": "Already in the wallet",
                                     "content": {"application/json": {"schema": object_schema},
                                                 "text/plain": {"schema": {"type": "string"}}}},
                             "201": {"description": "Added to the wallet",
                                     "content": {"application/json": {"schema": object_schema},
                                                 "text/plain": {"schema": {"type": "string"}}}},
                             **_errors("400", "401", "403", "500")}},
            },
            "/profile": {
                "get": {"operationId": "getProfile", "tags": ["Profile"], "security": secured(PROFILE_READ),
                        "responses": {"200": {"description": "The learner's profile",
                                              "content": {"application/json": {"schema": object_schema}}},
                                      **_errors("401", "403", "500")}},
                "put": {"operationId": "putProfile", "tags": ["Profile"], "security": secured(PROFILE_UPDATE),
                        "requestBody": {"required": True,
                                        "content": {"application/json": {"schema": object_schema}}},
                        "responses": {"200": {"description": "The updated profile",
                                              "content": {"application/json": {"schema": object_schema}}},
                                      **_errors("400", "401", "403", "500")}},
            },
            "/discovery": {
                "get": {"operationId": "getServiceDescription", "tags": ["Discovery"], "security": [],
                        "responses": {"200": {"description": "This document",
                                              "content": {"application/json": {"schema": object_schema}}},
                                      **_errors("500")}},
            },
        },
        "components": {
            "securitySchemes": {"OAuth2ACG": {
                "type": "oauth2", "description": "OAuth 2.0 authorization code grant with PKCE (S256)",
                "x-imssf-registrationUrl": base_url + "/oauth/register",
                "flows": {"authorizationCode": {
                    "authorizationUrl": base_url + "/oauth/authorize", "tokenUrl": base_url + "/oauth/token",
                    "refreshUrl": base_url + "/oauth/token",
                    "scopes": {CREDENTIAL_READ: "Read the credentials of the wallet",
                               CREDENTIAL_UPSERT: "Add credentials to the wallet",
                               PROFILE_READ: "Read the learner's profile",
                               PROFILE_UPDATE: "Change the learner's profile"}}}}},
            "schemas": {
                "GetOpenBadgeCredentialsResponse": {"type": "object", "properties": {
                    "credential": {"type": "array", "items": object_schema},
                    "compactJwsString": {"type": "array", "items": {
                        "type": "string", "pattern": "^[a-zA-Z0-9_-]+\\.[a-zA-Z0-9_-]*\\.[a-zA-Z0-9_-]+$"}}}},
                "Imsx_StatusInfo": {"type": "object", "required": ["imsx_codeMajor", "imsx_severity"], "properties": {
                    "imsx_codeMajor": {"type": "string", "enum": ["failure", "processing", "success", "unsupported"]},
                    "imsx_severity": {"type": "string", "enum": ["error", "status", "warning"]},
                    "imsx_description": {"type": "string"},
                    "imsx_codeMinor": {"type": "object", "properties": {"imsx_codeMinorField": {
                        "type": "array", "items": {"type": "object", "properties": {
                            "imsx_codeMinorFieldName": {"type": "string"},
                            "imsx_codeMinorFieldValue": {"type": "string"}}}}}}}},
            },
        },
    }
