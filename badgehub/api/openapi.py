"""The OpenAPI 3.1 document of ``/api/v1``, written by hand and served at ``/api/v1/openapi.json``.

Written rather than generated so that it says what the API promises (codes, who may call what) and not only
what the code happens to accept. The tests keep it honest: every route of ``/api/v1`` is documented and every
documented path exists, and the answers of a real run validate against the schemas below.
"""

from __future__ import annotations

from typing import Any, Final

VERSION: Final = "1.0.0"
_REF = "#/components/schemas/"
_NULLABLE_STRING: Final = {"type": ["string", "null"]}
_NULLABLE_TIME: Final = {"type": ["string", "null"], "format": "date-time"}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": _REF + name}


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _error(description: str) -> dict[str, Any]:
    return _json(_ref("Error"), description)


_ERRORS: Final = {
    "400": _error("Unreadable body or query parameter (`invalid_json`, `not_an_object`, `invalid_parameter`)."),
    "401": {**_error("No token, or an unknown, revoked (`token_revoked`) or expired (`token_expired`) token."),
            "headers": {"WWW-Authenticate": {"schema": {"type": "string"}}}},
    "403": _error("The token lacks the scope (`insufficient_scope`), or the organisation is suspended "
                  "(`organisation_suspended`)."),
    "404": _error("Unknown, or another organisation's: the same answer."),
    "429": {**_error("Too many requests with this token (`rate_limited`)."),
            "headers": {"Retry-After": {"schema": {"type": "integer"}}}},
}
_BODY_ERRORS: Final = {
    "413": _error("The body is larger than the limit (`too_large`)."),
    "415": _error("The body is not JSON (`unsupported_media_type`)."),
    "422": _error("Well-formed JSON with wrong values (`invalid`): `details.fields` maps each field to its "
                  "message (`details.items` per item for a batch). Unknown fields are refused."),
}


def _errors(*codes: str) -> dict[str, Any]:
    every = {**_ERRORS, **_BODY_ERRORS}
    return {code: every[code] for code in codes}


_PAGE_PARAMETERS: Final = [
    {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 100, "default": 50}},
    {"name": "offset", "in": "query", "schema": {"type": "integer", "minimum": 0, "default": 0}},
]


def _page_of(item: str) -> dict[str, Any]:
    return {
        "type": "object",
        "required": ["items", "total", "limit", "offset", "next"],
        "properties": {
            "items": {"type": "array", "items": _ref(item)},
            "total": {"type": "integer", "minimum": 0},
            "limit": {"type": "integer"},
            "offset": {"type": "integer"},
            "next": {"type": ["string", "null"], "format": "uri", "description": "The next page, if any."},
        },
    }


SCHEMAS: Final[dict[str, Any]] = {
    "Error": {
        "type": "object",
        "required": ["error"],
        "properties": {"error": {
            "type": "object",
            "required": ["code", "message", "details"],
            "properties": {
                "code": {"type": "string", "description": "Stable, for programs."},
                "message": {"type": "string", "description": "For people, in the request's language."},
                "details": {"type": "object"},
            },
        }},
    },
    "Achievement": {
        "type": "object",
        "required": ["id", "url", "name", "description", "criteria", "achievement_type", "tags", "language",
                     "valid_for_days", "version", "archived", "created_at"],
        "properties": {
            "id": {"type": "string"},
            "url": {"type": "string", "format": "uri", "description": "Public page and OB Achievement id."},
            "name": {"type": "string"},
            "description": {"type": "string"},
            "criteria": {"type": "string", "description": "Markdown."},
            "achievement_type": {"type": "string"},
            "tags": {"type": "array", "items": {"type": "string"}},
            "language": _NULLABLE_STRING,
            "valid_for_days": {"type": ["integer", "null"]},
            "version": {"type": ["integer", "null"]},
            "archived": {"type": "boolean"},
            "created_at": {"type": "string", "format": "date-time"},
        },
    },
    "AchievementPage": _page_of("Achievement"),
    "Recipient": {
        "type": "object",
        "required": ["email"],
        "additionalProperties": False,
        "properties": {"email": {"type": "string", "format": "email", "maxLength": 254},
                       "name": {"type": "string", "maxLength": 200}},
    },
    "IssueRequest": {
        "type": "object",
        "required": ["achievement", "recipient"],
        "additionalProperties": False,
        "properties": {
            "achievement": {"type": "string", "description": "Id of one of the organisation's achievements."},
            "recipient": _ref("Recipient"),
            "evidence_url": {**_NULLABLE_STRING, "format": "uri", "maxLength": 500},
            "narrative": {**_NULLABLE_STRING, "maxLength": 5000},
            "activity_start": {**_NULLABLE_STRING,
                               "description": "A date (2025-03-01) or a date-time with a time zone."},
            "activity_end": {**_NULLABLE_STRING,
                             "description": "A date (2025-03-01) or a date-time with a time zone."},
            "area": {"type": ["integer", "string", "null"],
                     "description": "Id or code of an area of a territory the organisation belongs to."},
            "result": {**_NULLABLE_STRING, "maxLength": 500},
            "holder_did": {**_NULLABLE_STRING, "description": "The recipient's DID (credentialSubject.id)."},
            "idempotency_key": {**_NULLABLE_STRING, "maxLength": 200,
                                "description": "Or the Idempotency-Key header. Required in a batch."},
            "send_email": {"type": "boolean", "default": True,
                           "description": "E-mail the recipient (links and the baked image)."},
        },
    },
    "BatchRequest": {
        "type": "object",
        "required": ["items"],
        "additionalProperties": False,
        "properties": {"items": {"type": "array", "minItems": 1, "maxItems": 100, "items": {
            "allOf": [_ref("IssueRequest"), {"required": ["idempotency_key"]}]}}},
    },
    "Credential": {
        "type": "object",
        "required": ["id", "url", "json_url", "jwt_url", "status", "achievement", "achievement_version", "recipient",
                     "holder_did", "issued_at", "valid_from", "valid_until", "activity_start", "activity_end",
                     "area", "evidence_url", "narrative", "result", "source", "idempotency_key", "revoked_at",
                     "revocation_reason", "revocation_note"],
        "properties": {
            "id": {"type": "string", "pattern": "^[a-z2-7]{12}$"},
            "url": {"type": "string", "format": "uri", "description": "The public page /c/<id>."},
            "json_url": {"type": "string", "format": "uri", "description": "The signed credential (Data Integrity)."},
            "jwt_url": {"type": "string", "format": "uri", "description": "The VC-JWT."},
            "status": {"enum": ["active", "revoked", "expired"]},
            "achievement": {"type": "string"},
            "achievement_version": {"type": "integer"},
            "recipient": {"type": "object", "required": ["email", "name"],
                          "properties": {"email": {"type": "string"}, "name": {"type": "string"}}},
            "holder_did": _NULLABLE_STRING,
            "issued_at": {"type": "string", "format": "date-time"},
            "valid_from": {"type": "string", "format": "date-time"},
            "valid_until": _NULLABLE_TIME,
            "activity_start": _NULLABLE_TIME,
            "activity_end": _NULLABLE_TIME,
            "area": {"type": ["integer", "null"]},
            "evidence_url": _NULLABLE_STRING,
            "narrative": _NULLABLE_STRING,
            "result": _NULLABLE_STRING,
            "source": {"enum": ["single", "csv", "claim", "api", "request", "pathway", "cli", "demo"]},
            "idempotency_key": _NULLABLE_STRING,
            "revoked_at": _NULLABLE_TIME,
            "revocation_reason": {"enum": ["error", "fraud", "learner_request", "other", None],
                                  "description": "The public reason, shown on the credential's page."},
            "revocation_note": {**_NULLABLE_STRING, "description": "The organisation's own words; never published."},
            "email_sent": {"type": "boolean", "description": "Only in the answer that issued it."},
        },
    },
    "CredentialPage": _page_of("Credential"),
    "Party": {"type": "object", "required": ["slug", "name"],
              "properties": {"slug": {"type": "string"}, "name": {"type": "string"}}},
    "Endorsement": {
        "type": "object",
        "required": ["id", "kind", "endorser", "endorsed", "subject", "achievement", "comment", "evidence_url",
                     "issued_at", "display", "withdrawn_at", "url", "document"],
        "properties": {
            "id": {"type": "string"},
            "kind": {"enum": ["achievement", "profile", "credential"]},
            "endorser": _ref("Party"),
            "endorsed": _ref("Party"),
            "subject": {"type": "string", "description": "The endorsed achievement URL, issuer id or credential id."},
            "achievement": _NULLABLE_STRING,
            "comment": {"type": "string"},
            "evidence_url": _NULLABLE_STRING,
            "issued_at": {"type": "string", "format": "date-time"},
            "display": {"enum": ["shown", "declined", "pending"],
                        "description": "Whether the endorsed party shows it (a learner's credential: pending "
                                       "until the learner chooses)."},
            "withdrawn_at": _NULLABLE_TIME,
            "url": {"type": "string", "format": "uri", "description": "The signed document, as issued."},
            "document": {"type": "object", "description": "The signed OB 3.0 EndorsementCredential."},
        },
    },
    "EndorsementPage": _page_of("Endorsement"),
    "EndorseRequest": {
        "type": "object",
        "required": ["comment"],
        "additionalProperties": False,
        "description": "Give either `achievement` (another organisation's) or `organisation` (a slug).",
        "properties": {"achievement": {"type": "string"}, "organisation": {"type": "string"},
                       "comment": {"type": "string", "maxLength": 2000},
                       "evidence_url": {"type": "string", "format": "uri", "maxLength": 500}},
    },
    "DisplayRequest": {"type": "object", "required": ["shown"], "additionalProperties": False,
                       "properties": {"shown": {"type": "boolean"}}},
    "BatchResult": {
        "type": "object",
        "required": ["items", "created", "replayed"],
        "properties": {"items": {"type": "array", "items": _ref("Credential")},
                       "created": {"type": "integer"}, "replayed": {"type": "integer"}},
    },
    "RevokeRequest": {
        "type": "object",
        "required": ["reason"],
        "additionalProperties": False,
        "properties": {
            "reason": {"enum": ["error", "fraud", "learner_request", "other"],
                       "description": "The public reason, shown on the credential's page."},
            "note": {"type": "string", "maxLength": 500,
                     "description": "The organisation's own words: kept, never published."},
        },
    },
    "VerifyRequest": {
        "type": "object",
        "description": "A credential object itself, or exactly one of credential / jwt / url.",
        "properties": {"credential": {"type": ["object", "string"]}, "jwt": {"type": "string"},
                       "url": {"type": "string", "format": "uri"}, "known_email": {"type": "string"}},
    },
    "VerifyReport": {
        "type": "object",
        "required": ["verified", "issuer_confirmed", "verdict", "verdict_title", "verdict_summary", "notes",
                     "checks"],
        "properties": {
            "verified": {"type": "boolean", "description": "The 1EdTech conformance reading: no check failed."},
            "issuer_confirmed": {"type": "boolean",
                                 "description": "The signing key is the issuer's (listed in its DID document, "
                                                "its own did:key, or published by it). A badge is plainly valid "
                                                "only when both verified and issuer_confirmed are true."},
            "verdict": {"enum": ["valid", "valid_with_warnings", "issuer_unconfirmed", "revoked", "suspended",
                                 "expired", "not_yet_valid", "not_genuine", "recipient_mismatch", "invalid",
                                 "check_later", "unverifiable"]},
            "verdict_title": {"type": "string"},
            "verdict_summary": {"type": "string"},
            "notes": {"type": "array", "items": {"type": "string"}},
            "checks": {"type": "array", "items": {
                "type": "object", "required": ["id", "status", "code", "message"],
                "properties": {"id": {"type": "string"}, "status": {"type": "string"}, "code": {"type": "string"},
                               "message": {"type": "string"}, "details": {"type": "array"}}}},
        },
    },
}


def _operation(summary: str, scope: str | None, responses: dict[str, Any], **extra: Any) -> dict[str, Any]:
    operation: dict[str, Any] = {"summary": summary, "responses": responses, **extra}
    if scope is None:
        operation["security"] = []
    else:
        operation["description"] = f"Needs the scope `{scope}`. " + operation.get("description", "")
        operation["x-scope"] = scope
    return operation


def _id_parameter(description: str) -> list[dict[str, Any]]:
    return [{"name": "id", "in": "path", "required": True, "description": description, "schema": {"type": "string"}}]


def _body(name: str) -> dict[str, Any]:
    return {"required": True, "content": {"application/json": {"schema": _ref(name)}}}


PATHS: Final[dict[str, Any]] = {
    "/api/v1/achievements": {"get": _operation(
        "List the organisation's achievements", "achievements:read",
        {"200": _json(_ref("AchievementPage"), "A page of achievements."), **_errors("400", "401", "403", "429")},
        operationId="listAchievements",
        parameters=[*_PAGE_PARAMETERS, {"name": "archived", "in": "query",
                                        "schema": {"enum": ["true", "false"], "default": "false"}}])},
    "/api/v1/achievements/{id}": {"get": _operation(
        "One achievement", "achievements:read",
        {"200": _json(_ref("Achievement"), "The achievement."), **_errors("401", "403", "404", "429")},
        operationId="getAchievement", parameters=_id_parameter("The achievement's id."))},
    "/api/v1/credentials": {
        "get": _operation(
            "List the credentials issued, newest first", "credentials:read",
            {"200": _json(_ref("CredentialPage"), "A page of credentials."),
             **_errors("400", "401", "403", "404", "429")},
            operationId="listCredentials",
            parameters=[*_PAGE_PARAMETERS,
                        {"name": "achievement", "in": "query", "schema": {"type": "string"},
                         "description": "Only this achievement's (404 if it is not the organisation's)."},
                        {"name": "state", "in": "query", "schema": {"enum": ["active", "revoked", "expired"]}},
                        {"name": "q", "in": "query", "schema": {"type": "string", "maxLength": 200},
                         "description": "Part of the recipient's e-mail address or name, any case."},
                        {"name": "issued_since", "in": "query", "schema": {"type": "string"},
                         "description": "Issued at or after: a date (midnight UTC) or a date-time with a time "
                                        "zone (2025-03-01T18:00:00Z)."},
                        {"name": "updated_since", "in": "query", "schema": {"type": "string"},
                         "description": "Issued or revoked at or after (to synchronise): same format."}]),
        "post": _operation(
            "Issue one credential", "credentials:issue",
            {"201": {**_json(_ref("Credential"), "Issued; the recipient is e-mailed unless send_email is false."),
                     "headers": {"Location": {"schema": {"type": "string"}}}},
             "200": _json(_ref("Credential"), "A replay: this idempotency key already issued this credential."),
             "409": _error("The idempotency key was used for another award (`idempotency_conflict`)."),
             **_errors("400", "401", "403", "413", "415", "422", "429")},
            operationId="issueCredential", requestBody=_body("IssueRequest"),
            parameters=[{"name": "Idempotency-Key", "in": "header", "schema": {"type": "string", "maxLength": 200},
                         "description": "Retrying with the same key returns the same credential."}])},
    "/api/v1/credentials/batch": {"post": _operation(
        "Issue several credentials at once, all or nothing", "credentials:issue",
        {"201": _json(_ref("BatchResult"), "Issued (replays included, in request order)."),
         "200": _json(_ref("BatchResult"), "Every item was a replay."),
         "409": _error("An idempotency key was used for another award (`idempotency_conflict`); nothing issued."),
         **_errors("400", "401", "403", "413", "415", "422", "429")},
        operationId="issueCredentials", requestBody=_body("BatchRequest"),
        description="Every item is checked first: if any is invalid, the answer is 422 with "
                    "`details.items` (by index) and nothing is issued.")},
    "/api/v1/credentials/{id}": {"get": _operation(
        "One credential", "credentials:read",
        {"200": _json(_ref("Credential"), "The credential."), **_errors("401", "403", "404", "429")},
        operationId="getCredential", parameters=_id_parameter("The credential's id (as in /c/<id>)."))},
    "/api/v1/credentials/{id}/revoke": {"post": _operation(
        "Revoke a credential for good", "credentials:revoke",
        {"200": _json(_ref("Credential"), "Revoked: the status list is updated and signed again."),
         "409": _error("Already revoked (`already_revoked`)."),
         **_errors("400", "401", "403", "404", "413", "415", "422", "429")},
        operationId="revokeCredential", requestBody=_body("RevokeRequest"),
        parameters=_id_parameter("The credential's id."))},
    "/api/v1/endorsements": {
        "get": _operation(
            "List the endorsements the organisation gave or received, newest first", "endorsements:read",
            {"200": _json(_ref("EndorsementPage"), "A page of endorsements."),
             **_errors("400", "401", "403", "429")},
            operationId="listEndorsements",
            parameters=[*_PAGE_PARAMETERS, {"name": "direction", "in": "query",
                                            "schema": {"enum": ["given", "received"], "default": "given"}}]),
        "post": _operation(
            "Endorse another organisation's achievement, or another organisation", "endorsements:write",
            {"201": {**_json(_ref("Endorsement"), "Signed and published."),
                     "headers": {"Location": {"schema": {"type": "string"}}}},
             "409": _error("The organisation's own (`self_endorsement`), or already endorsed (`already_endorsed`)."),
             **_errors("400", "401", "403", "413", "415", "422", "429")},
            operationId="endorse", requestBody=_body("EndorseRequest"))},
    "/api/v1/endorsements/{id}": {"get": _operation(
        "One endorsement the organisation gave or received", "endorsements:read",
        {"200": _json(_ref("Endorsement"), "The endorsement."), **_errors("401", "403", "404", "429")},
        operationId="getEndorsement", parameters=_id_parameter("The endorsement's id."))},
    "/api/v1/endorsements/{id}/withdraw": {"post": _operation(
        "Withdraw an endorsement the organisation gave, for good", "endorsements:write",
        {"200": _json(_ref("Endorsement"), "Withdrawn: its status bit is set and the list signed again."),
         "409": _error("Already withdrawn (`already_withdrawn`)."),
         **_errors("400", "401", "403", "404", "413", "415", "422", "429")},
        operationId="withdrawEndorsement", parameters=_id_parameter("The endorsement's id."))},
    "/api/v1/endorsements/{id}/display": {"post": _operation(
        "Show or decline an endorsement the organisation received", "endorsements:write",
        {"200": _json(_ref("Endorsement"), "Done."), **_errors("400", "401", "403", "404", "413", "415", "422", "429")},
        operationId="displayEndorsement", requestBody=_body("DisplayRequest"),
        parameters=_id_parameter("The endorsement's id."))},
    "/api/v1/verify": {"post": _operation(
        "Verify a credential (public, no token)", None,
        {"200": _json(_ref("VerifyReport"), "The report, whatever the verdict."),
         "400": _error("Unreadable input."), "413": _error("Too large."),
         "415": _error("Unsupported type."), "429": _error("Too many requests from this address.")},
        operationId="verifyCredential",
        requestBody={"required": True, "content": {
            "application/json": {"schema": _ref("VerifyRequest")},
            "text/plain": {"schema": {"type": "string", "description": "A compact VC-JWT."}},
            "image/png": {"schema": {"type": "string", "contentMediaType": "image/png"}},
            "image/svg+xml": {"schema": {"type": "string"}},
            "multipart/form-data": {"schema": {"type": "object", "properties": {
                "file": {"type": "string", "contentMediaType": "application/octet-stream"},
                "known_email": {"type": "string"}}}}}})},
    "/api/v1/openapi.json": {"get": _operation(
        "This document", None, {"200": {"description": "OpenAPI 3.1.",
                                         "content": {"application/json": {"schema": {"type": "object"}}}}},
        operationId="openapi")},
}


# Recognition requests (issue 17): one block, so that other areas' additions merge cleanly around it.
_REQUEST_STATUSES: Final = ["submitted", "more_asked", "accepted", "declined", "withdrawn"]
SCHEMAS.update({
    "RecognitionEvidence": {
        "type": "object",
        "required": ["id", "kind", "url", "added_at"],
        "properties": {
            "id": {"type": "string"},
            "kind": {"enum": ["link", "file"]},
            "url": {"type": "string", "format": "uri",
                    "description": "The learner's link, or where to download the file (with this API's token)."},
            "filename": {"type": "string"},
            "media_type": {"enum": ["image/png", "image/jpeg", "image/svg+xml", "application/pdf"]},
            "size": {"type": "integer"},
            "sha256": {"type": "string", "description": "Of the file as stored (cleaned), also written into the "
                                                        "credential's evidence when accepted."},
            "added_at": {"type": "string", "format": "date-time"},
        },
    },
    "RecognitionRequest": {
        "type": "object",
        "required": ["id", "status", "self_declared", "title", "description", "achievement", "learner",
                     "created_at", "updated_at", "decided_at", "credential", "evidence", "events"],
        "properties": {
            "id": {"type": "string"},
            "status": {"enum": _REQUEST_STATUSES},
            "self_declared": {"type": "boolean",
                              "description": "Asked for a self-declared badge: accepted at once, not assessed."},
            "title": {"type": "string"},
            "description": {"type": "string"},
            "achievement": {**_NULLABLE_STRING,
                            "description": "The badge asked for (or awarded); null for a described learning "
                                           "not yet accepted."},
            "learner": {"type": "object", "required": ["name", "email"],
                        "properties": {"name": {"type": "string"}, "email": {"type": "string"}}},
            "created_at": {"type": "string", "format": "date-time"},
            "updated_at": {"type": "string", "format": "date-time"},
            "decided_at": _NULLABLE_TIME,
            "credential": {**_NULLABLE_STRING, "description": "The credential awarded, once accepted."},
            "evidence": {"type": "array", "items": _ref("RecognitionEvidence")},
            "events": {"type": "array", "items": {
                "type": "object", "required": ["kind", "text", "at"],
                "properties": {"kind": {"enum": ["submitted", "more_asked", "answered", "accepted", "declined",
                                                 "withdrawn"]},
                               "text": {"type": "string"}, "at": {"type": "string", "format": "date-time"}}}},
        },
    },
    "RecognitionRequestPage": _page_of("RecognitionRequest"),
    "DecisionRequest": {
        "type": "object",
        "required": ["decision"],
        "additionalProperties": False,
        "description": "`accept` awards the badge asked for (give `achievement`, one of the organisation's, for a "
                       "described learning); `ask` and `decline` need a `message`, e-mailed to the learner.",
        "properties": {"decision": {"enum": ["accept", "ask", "decline"]},
                       "message": {"type": "string", "maxLength": 2000},
                       "achievement": {"type": "string"}},
    },
})
PATHS.update({
    "/api/v1/requests": {"get": _operation(
        "List the recognition requests made to the organisation", "requests:read",
        {"200": _json(_ref("RecognitionRequestPage"), "A page of requests."),
         **_errors("400", "401", "403", "429")},
        operationId="listRecognitionRequests",
        description="Open ones (the default) oldest first, decided ones newest first. Learners cannot make "
                    "requests through this API: its tokens belong to organisations, and the learners' OAuth "
                    "grants carry only the OB 3.0 API scopes; they ask from the pages.",
        parameters=[*_PAGE_PARAMETERS, {"name": "status", "in": "query",
                                        "schema": {"enum": ["open", *_REQUEST_STATUSES], "default": "open"}}])},
    "/api/v1/requests/{id}": {"get": _operation(
        "One recognition request, with its evidence and conversation", "requests:read",
        {"200": _json(_ref("RecognitionRequest"), "The request."), **_errors("401", "403", "404", "429")},
        operationId="getRecognitionRequest", parameters=_id_parameter("The request's id."))},
    "/api/v1/requests/{id}/evidence/{evidence_id}": {"get": _operation(
        "A file given as evidence, as stored (cleaned)", "requests:read",
        {"200": {"description": "The file, with its own media type; never cached.",
                 "content": {media: {"schema": {"type": "string", "format": "binary"}}
                             for media in ("image/png", "image/jpeg", "image/svg+xml", "application/pdf")}},
         **_errors("401", "403", "404", "429")},
        operationId="getRecognitionEvidence",
        parameters=[*_id_parameter("The request's id."),
                    {"name": "evidence_id", "in": "path", "required": True, "schema": {"type": "string"}}])},
    "/api/v1/requests/{id}/decision": {"post": _operation(
        "Accept (award), ask for more, or decline a request", "requests:decide",
        {"200": _json(_ref("RecognitionRequest"), "Decided; the learner is e-mailed in their language."),
         **_errors("400", "401", "403", "404", "413", "415", "422", "429"),
         "409": _error("The request is no longer open, or more was already asked (`request_wrong_status`).")},
        operationId="decideRecognitionRequest", requestBody=_body("DecisionRequest"),
        parameters=_id_parameter("The request's id."))},
})


# Pathways (issue 17): one block, so that other areas' additions merge cleanly around it.
_GROUP: Final = {"type": "object", "required": ["achievements"], "additionalProperties": False, "properties": {
    "title": {"type": "string", "maxLength": 200}, "ordered": {"type": "boolean", "default": False},
    "min_count": {"type": ["integer", "null"], "minimum": 1, "description": "Default: every step of the group."},
    "achievements": {"type": "array", "items": {"type": "string"}, "minItems": 1, "maxItems": 20}}}
_QUALIFICATION: Final = {"type": "object", "additionalProperties": False, "properties": {
    "uri": {"type": "string", "format": "uri", "description": "An RNCP / ESCO reference address."},
    "name": {"type": "string", "maxLength": 200}}}
SCHEMAS.update({
    "PathwayRequest": {"type": "object", "required": ["name", "groups"], "additionalProperties": False,
                       "description": "Needs `achievement` (one of the organisation's, awarded on completion) "
                                      "or `qualification.uri`, or both.",
                       "properties": {"name": {"type": "string", "maxLength": 200}, "description": {"type": "string"},
                                      "in_language": {"type": "string", "default": "fr"},
                                      "achievement": _NULLABLE_STRING, "qualification": _QUALIFICATION,
                                      "job_profile": {"type": "string"},
                                      "groups": {"type": "array", "items": _GROUP, "minItems": 1, "maxItems": 10}}},
    "Pathway": {"type": "object",
                "required": ["id", "status", "name", "description", "in_language", "owner", "territory",
                             "achievement", "qualification", "job_profile", "groups", "url", "created_at",
                             "updated_at", "published_at"],
                "properties": {"id": {"type": "string"}, "status": {"enum": ["draft", "published", "archived"]},
                               "name": {"type": "string"}, "description": {"type": "string"},
                               "in_language": {"type": "string"},
                               "owner": {"type": "object", "properties": {"slug": {"type": "string"},
                                                                          "name": {"type": "string"}}},
                               "territory": {**_NULLABLE_STRING, "description": "Set when a territory owns it."},
                               "achievement": _NULLABLE_STRING,
                               "qualification": {"oneOf": [_QUALIFICATION, {"type": "null"}]},
                               "job_profile": {"type": "string"}, "groups": {"type": "array", "items": _GROUP},
                               "url": {"type": "string", "format": "uri"},
                               "created_at": {"type": "string", "format": "date-time"},
                               "updated_at": {"type": "string", "format": "date-time"},
                               "published_at": _NULLABLE_TIME,
                               "completions": {"type": "integer", "description": "The organisation's own only."}}},
    "PathwayPage": _page_of("Pathway"),
    "PathwayStatusRequest": {"type": "object", "required": ["status"], "additionalProperties": False,
                             "properties": {"status": {"enum": ["published", "archived"]}}},
})
_PATHWAY_ID: Final = _id_parameter("The pathway's id.")
_PATHWAY_BODY_ERRORS: Final = _errors("400", "401", "403", "404", "413", "415", "422", "429")
PATHS.update({
    "/api/v1/pathways": {
        "get": _operation("List the organisation's pathways, drafts included", "pathways:read",
                          {"200": _json(_ref("PathwayPage"), "A page of pathways."), **_errors("400", "401", "403",
                                                                                              "429")},
                          operationId="listPathways", parameters=_PAGE_PARAMETERS,
                          description="A holder's progress is not served to organisations' tokens: it would tell "
                                      "one organisation which badges of others a person holds."),
        "post": _operation("Define a pathway (a draft)", "pathways:write",
                           {"201": _json(_ref("Pathway"), "Created."), **_PATHWAY_BODY_ERRORS},
                           operationId="createPathway", requestBody=_body("PathwayRequest"))},
    "/api/v1/pathways/{id}": {
        "get": _operation("One pathway: the organisation's own, or another's once published", "pathways:read",
                          {"200": _json(_ref("Pathway"), "The pathway."), **_errors("401", "403", "404", "429")},
                          operationId="getPathway", parameters=_PATHWAY_ID,
                          description="Another organisation's draft or archived pathway is 404 (`pathway_not_found`)."),
        "put": _operation("Replace the definition of one of the organisation's pathways", "pathways:write",
                          {"200": _json(_ref("Pathway"), "Saved."), **_PATHWAY_BODY_ERRORS,
                           "409": _error("Archived (`pathway_archived`).")},
                          operationId="replacePathway", requestBody=_body("PathwayRequest"), parameters=_PATHWAY_ID)},
    "/api/v1/pathways/{id}/status": {"post": _operation(
        "Publish or archive one of the organisation's pathways", "pathways:write",
        {"200": _json(_ref("Pathway"), "Done: a published pathway awards its badge on completion."),
         **_PATHWAY_BODY_ERRORS, "409": _error("Archived (`pathway_archived`).")},
        operationId="setPathwayStatus", requestBody=_body("PathwayStatusRequest"), parameters=_PATHWAY_ID)},
})


def openapi_document(server_url: str) -> dict[str, Any]:
    """The document, with ``server_url`` (the origin the request came to) as its server."""
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "BadgeHub API",
            "version": VERSION,
            "description": "Issue, read, list and revoke Open Badges 3.0 credentials of one organisation. "
                           "Tokens are made by the organisation's owners on its page API tokens; send "
                           "`Authorization: Bearer <token>`. Errors are always "
                           "`{\"error\": {\"code\", \"message\", \"details\"}}`.",
        },
        "servers": [{"url": server_url}],
        "security": [{"bearer": []}],
        "paths": PATHS,
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer",
                                           "description": "An API token: bh_xxxxxxxx_…"}},
            "schemas": SCHEMAS,
        },
    }
