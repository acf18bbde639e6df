"""The ``context`` check: the ``@context`` order and allow-list, then JSON-LD *safe mode*.

For an embedded proof (Data Integrity) an undefined term **fails here** (``undefined_terms``): pyld would
silently drop it from what is signed. Inside a VC-JWT every byte is signed, so there it is only a warning.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Final

from badgehub.credentials.canonical import check_safe_mode
from badgehub.credentials.contexts import VC_V1_CONTEXT, VC_V2_CONTEXT, is_allowed_context
from badgehub.credentials.errors import ContextNotAllowed, CredentialError, UndefinedTermError
from badgehub.verification.report import Check, CheckStatus, make_check
from badgehub.verification.run import Run

OB_CONTEXT_RE: Final = re.compile(r"https://purl\.imsglobal\.org/spec/ob/v3p0/context(-3\.\d\.\d)?\.json")
CURRENT_OB_CONTEXT: Final = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"
JWT_CLAIMS: Final = frozenset({"iss", "sub", "jti", "nbf", "exp", "iat", "aud"})


def check_context(run: Run) -> Check:
    if run.kind == "status_list":
        return _check_plain_context(run)
    credential = run.credential
    context = credential.get("@context")
    if context is None:
        return make_check("context", CheckStatus.FAILED, "context_missing")
    contexts = context if isinstance(context, list) else [context]
    if not contexts:
        return make_check("context", CheckStatus.FAILED, "context_missing")
    first = contexts[0]
    notes: list[str] = []
    if first == VC_V2_CONTEXT:
        run.vc_version = "2.0"
    elif first == VC_V1_CONTEXT:
        run.vc_version = "1.1"
        notes.append("Verifiable Credentials Data Model 1.1")
    else:
        return make_check("context", CheckStatus.FAILED, "context_not_vc")
    if run.parsed.decoded is not None:
        in_vc_claim = isinstance(run.parsed.decoded.payload, Mapping) and "vc" in run.parsed.decoded.payload
        if in_vc_claim != (run.vc_version == "1.1"):
            return make_check("context", CheckStatus.FAILED, "jwt_context_mismatch")
    second = contexts[1] if len(contexts) > 1 else None
    if not (isinstance(second, str) and OB_CONTEXT_RE.fullmatch(second)):
        return make_check("context", CheckStatus.FAILED, "context_ob_missing")
    if second != CURRENT_OB_CONTEXT:
        notes.append(f"Open Badges context {second.rsplit('/', 1)[-1]}")
    for item in contexts:
        if isinstance(item, str) and not is_allowed_context(item):
            return make_check("context", CheckStatus.FAILED, "context_not_allowed", {"detail": item[:200]})
        if not isinstance(item, str | Mapping):
            return make_check("context", CheckStatus.FAILED, "context_missing")
    document = without_jwt_claims(run)
    try:
        run.verifier.pure("safe_mode", (document,), lambda: check_safe_mode(document))
    except UndefinedTermError as exc:
        detail = ", ".join(exc.terms[:5]) + (" …" if len(exc.terms) > 5 else "")
        if run.is_jwt:
            return make_check("context", CheckStatus.WARNING, "undefined_terms_jwt", {"detail": detail}, exc.terms)
        return make_check("context", CheckStatus.FAILED, "undefined_terms", {"detail": detail}, exc.terms)
    except ContextNotAllowed as exc:
        return make_check("context", CheckStatus.FAILED, "context_not_allowed", {"detail": exc.url[:200]})
    except CredentialError as exc:
        return make_check("context", CheckStatus.FAILED, "jsonld_error", {"detail": exc.message[:200]})
    if notes:
        return make_check("context", CheckStatus.WARNING, "context_outdated", {"detail": "; ".join(notes)})
    return make_check("context", CheckStatus.PASSED, "context_ok")


def without_jwt_claims(run: Run) -> dict[str, Any]:
    """The credential as JSON-LD sees it: a VC-JWT's registered claims are not part of the document."""
    if run.is_jwt:
        return {key: value for key, value in run.credential.items() if key not in JWT_CLAIMS}
    return run.credential


def _check_plain_context(run: Run) -> Check:
    """Context check for non-OB credentials (status lists): VC context first, safe mode."""
    context = run.credential.get("@context")
    contexts = context if isinstance(context, list) else [context]
    if not contexts or contexts[0] not in (VC_V2_CONTEXT, VC_V1_CONTEXT):
        return make_check("context", CheckStatus.FAILED, "context_not_vc")
    run.vc_version = "2.0" if contexts[0] == VC_V2_CONTEXT else "1.1"
    try:
        run.verifier.pure("safe_mode", (run.credential,), lambda: check_safe_mode(run.credential))
    except UndefinedTermError as exc:
        return make_check("context", CheckStatus.FAILED, "undefined_terms", {"detail": ", ".join(exc.terms[:5])})
    except CredentialError as exc:
        return make_check("context", CheckStatus.FAILED, "jsonld_error", {"detail": exc.message[:200]})
    return make_check("context", CheckStatus.PASSED, "context_ok")
