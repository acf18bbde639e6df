"""The ``proof`` and ``issuer_key`` checks.

* **proof**: any one valid proof suffices (at most :data:`MAX_PROOFS` are tried); unknown proof types are
  ignored with a note. A key that cannot be found is ``key_unreachable`` when its document could not be
  fetched (not verified, try again later), ``key_not_listed`` when that document does not list it for
  issuing (not genuine).
* **compromised keys**: a key resolved with a ``revoked_at`` date (a published ``revoked`` value, or the
  compromise date of one of BadgeHub's own keys) fails the ``proof`` check for a signature dated at or
  after it (``key_compromised``) or not dated at all (``key_compromised_undated``); the date is the Data
  Integrity ``proof.created``, or the JWT ``iat`` (else ``nbf``). An earlier signature passes with a
  warning (``signed_before_compromise``): the date is written by the signer, so a thief could backdate.
* **issuer_key**: the key must be the issuer's, by the one rule of :mod:`badgehub.verification.binding`.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from functools import partial
from typing import Any, Final

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from badgehub.credentials import vc_jwt
from badgehub.credentials.data_integrity import VERIFYING_SUITES, document_proofs, verify_data_integrity_proof
from badgehub.credentials.documents import parse_timestamp
from badgehub.credentials.errors import CredentialError, UndefinedTermError
from badgehub.credentials.keys import public_key_from_jwk
from badgehub.verification.binding import RETRYABLE_RESOLUTION, bind_issuer_key
from badgehub.verification.report import Check, CheckStatus, make_check
from badgehub.verification.resolver import ResolutionError, ResolvedKey
from badgehub.verification.run import Run, issuer_id_of, show, text_of

MAX_PROOFS: Final = 4
"""At most this many supported proofs are tried per credential."""


def check_proof(run: Run) -> Check:
    if run.is_jwt:
        return _check_jwt_proof(run)
    return _check_embedded_proof(run)


def check_issuer_key(run: Run) -> Check:
    key = run.key
    if not run.proof_ok or key is None:
        return make_check("issuer_key", CheckStatus.SKIPPED, "issuer_key_not_checked")

    def compromised(listed: ResolvedKey) -> Check | None:
        refusal = _compromise_refusal(listed, run.signed_at)
        return None if refusal is None else make_check("issuer_key", CheckStatus.FAILED, *refusal)

    return bind_issuer_key(issuer_id_of(run.credential), key, run.verifier.fetch, compromised=compromised)


def _check_embedded_proof(run: Run) -> Check:
    try:
        proofs = document_proofs(run.credential)
    except CredentialError as exc:
        return make_check("proof", CheckStatus.FAILED, "proof_malformed", {"detail": exc.message[:200]})
    if not proofs:
        return make_check("proof", CheckStatus.FAILED, "proof_missing")
    notes: list[str] = []
    failures: list[tuple[int, str, str]] = []  # (priority, code, detail)
    valid: list[tuple[Mapping[str, Any], ResolvedKey]] = []
    refusals: list[tuple[str, dict[str, str]]] = []  # signatures that verify with a compromised key
    tried = 0
    for proof in proofs:
        proof_type = text_of(proof.get("type"))
        suite = text_of(proof.get("cryptosuite")) if proof_type == "DataIntegrityProof" else None
        if (proof_type, suite) not in VERIFYING_SUITES:
            notes.append(f"ignored a proof of type {proof_type!r}" + (f" ({suite!r})" if suite else ""))
            continue
        if tried >= MAX_PROOFS:
            notes.append("ignored further proofs")
            break
        tried += 1
        method = proof.get("verificationMethod")
        if not isinstance(method, str):
            failures.append((2, "proof_malformed", "a proof has no verification method"))
            continue
        try:
            key = run.verifier.resolver.resolve_verification_method(method)
        except ResolutionError as exc:
            code = _key_failure(exc)
            failures.append((0 if code == "key_not_listed" else 1, code, exc.message[:200]))
            continue
        if not isinstance(key.public_key, Ed25519PublicKey):
            failures.append((1, "key_unresolved", f"{method} is not an Ed25519 key"))
            continue
        try:
            raw_key = key.public_key.public_bytes(Encoding.Raw, PublicFormat.Raw)
            run.verifier.pure("data_integrity", (run.credential, proof, raw_key),
                              partial(verify_data_integrity_proof, run.credential, proof, key.public_key))
        except UndefinedTermError as exc:
            failures.append((0, "proof_undefined_terms", ", ".join(exc.terms[:5])))
            continue
        except CredentialError as exc:
            code = {
                "invalid_signature": "proof_invalid",
                "unsupported_cryptosuite": "proof_unsupported",
                "key_format": "key_unresolved",
            }.get(exc.code, "proof_malformed")
            failures.append((0 if code == "proof_invalid" else 2, code, exc.message[:200]))
            continue
        refusal = _compromise_refusal(key, parse_timestamp(proof.get("created")))
        if refusal is not None:
            failures.append((0, refusal[0], f"{method}: compromised since {refusal[1]['date']}"))
            refusals.append(refusal)
            continue
        valid.append((proof, key))
    if valid:
        issuer = issuer_id_of(run.credential)
        proof, key = next(((p, k) for p, k in valid if k.controller == issuer), valid[0])
        run.key, run.proof_ok = key, True
        run.signed_at = parse_timestamp(proof.get("created"))
        suite_name = proof.get("cryptosuite") or proof.get("type")
        if key.revoked_at is not None:
            return _signed_before_compromise(key.revoked_at, parse_timestamp(proof.get("created")), notes)
        return make_check("proof", CheckStatus.PASSED, "proof_ok", {"method": suite_name}, notes)
    if refusals:
        code, params = refusals[0]
        details = [f for _, _, f in failures] + notes
        return make_check("proof", CheckStatus.FAILED, code, params, details)
    if not failures:
        detail = "; ".join(notes) if notes else "no supported proof"
        return make_check("proof", CheckStatus.FAILED, "proof_unsupported", {"detail": detail}, notes)
    failures.sort(key=lambda item: item[0])
    _, code, detail = failures[0]
    details = [f for _, _, f in failures] + notes
    return make_check("proof", CheckStatus.FAILED, code, {"detail": detail}, details)


def _jwt_key(run: Run, header: Mapping[str, Any]) -> ResolvedKey:
    kid, jwk = header.get("kid"), header.get("jwk")
    problem: ResolutionError | None = None
    if isinstance(kid, str):
        try:
            return run.verifier.resolver.resolve_jwt_key(kid)
        except ResolutionError as exc:
            if jwk is None or exc.code not in ("unsupported", "fetch_failed", "fetch_refused"):
                raise
            problem = exc
    if isinstance(jwk, Mapping):
        try:
            key = public_key_from_jwk(jwk)
        except CredentialError as exc:
            raise ResolutionError("bad_key", f"the key in the token header is not valid: {exc.message}") from None
        method = kid if isinstance(kid, str) else "jwk"
        return ResolvedKey(key, method, None, "jwt_header")
    if problem is not None:
        raise problem
    raise ResolutionError("key_not_found", "the token names no key (neither kid nor jwk)")


def _check_jwt_proof(run: Run) -> Check:
    decoded = run.parsed.decoded
    token = run.parsed.token
    assert decoded is not None and token is not None
    header = decoded.header if isinstance(decoded.header, Mapping) else {}
    try:
        key = _jwt_key(run, header)
    except ResolutionError as exc:
        return make_check("proof", CheckStatus.FAILED, _key_failure(exc), {"detail": exc.message[:200]})
    try:
        vc_jwt.verify_vc_jwt_signature(token, key.public_key)
    except CredentialError as exc:
        code = "proof_invalid" if exc.code == "invalid_signature" else "proof_malformed"
        return make_check("proof", CheckStatus.FAILED, code, {"detail": exc.message[:200]})
    refusal = _compromise_refusal(key, _jwt_signing_time(decoded.payload))
    if refusal is not None:
        return make_check("proof", CheckStatus.FAILED, refusal[0], refusal[1], [key.method_id])
    run.key, run.proof_ok = key, True
    run.signed_at = _jwt_signing_time(decoded.payload)
    errors, warnings = _claim_problems(decoded)
    method = header.get("alg") if isinstance(header.get("alg"), str) else "JWT"
    if errors:
        run.proof_ok = False
        return make_check(
            "proof", CheckStatus.FAILED, "jwt_claims_mismatch", {"detail": "; ".join(errors[:3])}, errors
        )
    if key.revoked_at is not None:
        return _signed_before_compromise(key.revoked_at, _jwt_signing_time(decoded.payload), warnings)
    if warnings:
        return make_check(
            "proof", CheckStatus.WARNING, "jwt_claims_incomplete", {"detail": "; ".join(warnings[:3])}, warnings
        )
    return make_check("proof", CheckStatus.PASSED, "proof_ok", {"method": method})


def _jwt_signing_time(payload: object) -> datetime | None:
    """When a VC-JWT says it was signed: ``iat`` if present, else ``nbf`` (BadgeHub writes ``nbf`` =
    ``validFrom``, the issuing moment); None when neither is a NumericDate."""
    if not isinstance(payload, Mapping):
        return None
    for claim in ("iat", "nbf"):
        value = payload.get(claim)
        if isinstance(value, int | float) and not isinstance(value, bool):
            try:
                return datetime.fromtimestamp(value, UTC)
            except (OverflowError, OSError, ValueError):
                return None
    return None


def _key_failure(error: ResolutionError) -> str:
    """The ``proof`` code of a key that could not be resolved: ``key_unreachable`` when its document could not
    be fetched (not verified now, worth trying again), ``key_not_listed`` when the document that should list
    it does not (for issuing credentials), ``key_unresolved`` otherwise."""
    if error.code in RETRYABLE_RESOLUTION:
        return "key_unreachable"
    if error.code in ("key_not_found", "not_authorized"):
        return "key_not_listed"
    return "key_unresolved"


def _compromise_refusal(key: ResolvedKey, signed_at: datetime | None) -> tuple[str, dict[str, str]] | None:
    """The compromised-key rule: a signature by a key revoked from ``revoked_at`` is refused when it is
    dated at or after that moment, or carries no date (nothing shows it was made before). Its date is the
    Data Integrity ``proof.created``, or the JWT ``iat`` (else ``nbf``). Returns ``(code, params)`` of
    the failure (``date``: the compromise, ``detail``: the signature), or None when the rule does not
    refuse it."""
    if key.revoked_at is None:
        return None
    if signed_at is None:
        return "key_compromised_undated", {"date": show(key.revoked_at)}
    if signed_at >= key.revoked_at:
        return "key_compromised", {"date": show(key.revoked_at), "detail": show(signed_at)}
    return None


def _signed_before_compromise(revoked_at: datetime, signed_at: datetime | None, notes: list[str]) -> Check:
    # A valid signature dated before the compromise: accepted, with a warning, since whoever holds the key
    # could also have dated a new signature in the past.
    # ``detail`` is the signature's date (the report's generic parameter slot), ``date`` the compromise's.
    params = {"date": show(revoked_at), "detail": show(signed_at) if signed_at is not None else None}
    return make_check("proof", CheckStatus.WARNING, "signed_before_compromise", params, notes)


def _claim_problems(decoded: vc_jwt.DecodedJwt) -> tuple[list[str], list[str]]:
    """Errors and warnings of :func:`badgehub.credentials.vc_jwt.check_jwt_claims`; its documented policy
    decides what is only a warning (a missing ``sub`` while the subject has an id)."""
    errors: list[str] = []
    warnings: list[str] = []
    try:
        problems = vc_jwt.check_jwt_claims(decoded)
    except CredentialError as exc:
        return [exc.message], []
    for problem in problems:
        if problem.severity == "warning":
            # Plain words for the page; CE1's stable code stays available in the details.
            warnings.append("no 'sub' claim" if problem.code == "jwt_sub_missing" else problem.message)
        else:
            errors.append(problem.message)
    return errors, warnings
