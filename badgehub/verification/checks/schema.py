"""The ``schema`` check: the official OB 3.0 JSON schema (:mod:`badgehub.verification.schema`).

A credential that passes only once the allowed JSON-LD compactions are expanded (the spec's own test
vector, whose ``proof`` is an object) gets a *warning*, anything else that does not validate *fails*.
VC DM 1.1 credentials skip this check.
"""

from __future__ import annotations

from badgehub.verification.checks.context import without_jwt_claims
from badgehub.verification.report import Check, CheckStatus, make_check
from badgehub.verification.run import Run
from badgehub.verification.schema import SchemaUnavailable, validate_credential


def check_schema(run: Run) -> Check:
    if run.kind == "status_list":
        return make_check("schema", CheckStatus.SKIPPED, "not_applicable")
    if run.vc_version != "2.0":
        return make_check("schema", CheckStatus.SKIPPED, "schema_not_applicable")
    credential = without_jwt_claims(run)
    try:
        path, endorsement = run.verifier.schema_path, run.is_endorsement
        result = run.verifier.pure(
            "schema", (credential, str(path), endorsement),
            lambda: validate_credential(credential, path=path, endorsement=endorsement))
    except SchemaUnavailable:
        return make_check("schema", CheckStatus.SKIPPED, "schema_unavailable")
    if result.outcome == "ok":
        return make_check("schema", CheckStatus.PASSED, "schema_ok")
    if result.outcome == "compacted":
        return make_check(
            "schema",
            CheckStatus.WARNING,
            "schema_compacted",
            {"detail": "for example a single proof or type not written as a list"},
        )
    detail = "; ".join(result.errors[:2])
    return make_check("schema", CheckStatus.FAILED, "schema_invalid", {"detail": detail}, result.errors)
