"""The ``status`` check: Bitstring Status List entries (the list is itself verified through the whole
pipeline) and 1EdTech revocation lists.

An unreachable list is a *warning* (``status_unreachable``); a list that is present but not genuine, too
short, or of another purpose *fails*.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from badgehub.credentials.documents import parse_timestamp, string_values
from badgehub.credentials.status_list import (
    MIN_ENTRIES,
    StatusListError,
    decode_status_list,
    get_status,
    parse_status_list_index,
)
from badgehub.verification.parse import ParseFailure, unreadable
from badgehub.verification.report import Check, CheckStatus, VerificationReport, make_check
from badgehub.verification.resolver import ResolutionError
from badgehub.verification.run import Run, issuer_id_of


def check_status(run: Run) -> Check:
    if run.kind == "status_list":
        return make_check("status", CheckStatus.SKIPPED, "not_applicable")
    status = run.credential.get("credentialStatus")
    if status is None:
        run.report.revoked = False
        return make_check("status", CheckStatus.SKIPPED, "status_none")
    entries = status if isinstance(status, list) else [status]
    checks = [_status_entry(run, entry) for entry in entries[:4]]
    for wanted in (CheckStatus.FAILED, CheckStatus.WARNING):
        found = next((check for check in checks if check.status is wanted), None)
        if found is not None:
            return found
    if run.report.revoked is None:
        run.report.revoked = False
    return checks[0] if checks else make_check("status", CheckStatus.SKIPPED, "status_none")


def _status_entry(run: Run, entry: object) -> Check:
    if not isinstance(entry, Mapping):
        return make_check("status", CheckStatus.FAILED, "status_entry_invalid")
    kinds = string_values(entry.get("type"))
    if "BitstringStatusListEntry" in kinds:
        return _bitstring(run, entry)
    if "1EdTechRevocationList" in kinds:
        return _revocation_list(run, entry)
    return make_check("status", CheckStatus.WARNING, "status_type_unknown", {"detail": ", ".join(kinds) or "?"})


def _bitstring(run: Run, entry: Mapping[str, Any]) -> Check:
    purpose = entry.get("statusPurpose")
    url = entry.get("statusListCredential")
    if not isinstance(purpose, str) or not isinstance(url, str):
        return make_check("status", CheckStatus.FAILED, "status_entry_invalid")
    try:
        index = parse_status_list_index(entry.get("statusListIndex"))
    except StatusListError:
        return make_check("status", CheckStatus.FAILED, "status_index_invalid")
    size_value = entry.get("statusSize", 1)
    status_size = size_value if isinstance(size_value, int) and not isinstance(size_value, bool) else 0
    if not 1 <= status_size <= 8:
        return make_check("status", CheckStatus.FAILED, "status_entry_invalid")
    try:
        document = run.verifier.fetch(url)
    except ResolutionError as exc:
        return make_check("status", CheckStatus.WARNING, "status_unreachable", {"detail": exc.message[:200]})
    list_report = _verify_status_list(run, document)
    if {check.code for check in list_report.failed} == {"status_list_too_short"}:
        return make_check("status", CheckStatus.FAILED, "status_list_too_short")
    if not list_report.verified:
        problems = [f"{c.id}: {c.message}" for c in list_report.failed] or ["its signature could not be checked"]
        return make_check("status", CheckStatus.FAILED, "status_list_unverified", {"detail": problems[0]}, problems)
    list_credential = list_report.credential or {}
    subject = list_credential.get("credentialSubject")
    if not isinstance(subject, Mapping) or not isinstance(subject.get("encodedList"), str):
        return make_check(
            "status", CheckStatus.FAILED, "status_list_invalid", {"detail": "it holds no encoded list"}
        )
    if purpose not in string_values(subject.get("statusPurpose")):
        return make_check("status", CheckStatus.FAILED, "status_purpose_mismatch")
    try:
        bits = decode_status_list(subject["encodedList"])
    except StatusListError as exc:
        return make_check("status", CheckStatus.FAILED, "status_list_invalid", {"detail": exc.message[:200]})
    if len(bits) * 8 // status_size < MIN_ENTRIES:
        return make_check("status", CheckStatus.FAILED, "status_list_too_short")
    try:
        value = get_status(bits, index, status_size)
    except StatusListError:
        return make_check("status", CheckStatus.FAILED, "status_index_invalid")
    if value and purpose == "revocation":
        run.report.revoked = True
        return make_check("status", CheckStatus.FAILED, "revoked")
    if value and purpose == "suspension":
        run.report.suspended = True
        return make_check("status", CheckStatus.FAILED, "suspended")
    if purpose == "revocation":
        run.report.revoked = False
    if purpose == "suspension":
        run.report.suspended = False
    if issuer_id_of(list_credential) != issuer_id_of(run.credential):
        return make_check("status", CheckStatus.WARNING, "status_list_foreign")
    list_until = parse_timestamp(list_credential.get("validUntil"))
    if list_until is not None and list_until < run.verifier.now:
        return make_check("status", CheckStatus.WARNING, "status_list_expired")
    return make_check("status", CheckStatus.PASSED, "status_ok")


def _verify_status_list(run: Run, document: object) -> VerificationReport:
    """Run the whole pipeline on a status list credential (its proof, key and dates must hold)."""
    try:
        parsed = run.verifier.parse(document if isinstance(document, str | dict) else b"")
    except ParseFailure as failure:
        return unreadable(failure.code, None)
    parse_check = make_check("parse", CheckStatus.PASSED, parsed.parse_code)
    return run.verifier.verify_credential(parsed, parse_check, None, depth=run.depth + 1, expect="status_list")


def _revocation_list(run: Run, entry: Mapping[str, Any]) -> Check:
    url = entry.get("id")
    if not isinstance(url, str):
        return make_check("status", CheckStatus.FAILED, "status_entry_invalid")
    try:
        document = run.verifier.fetch(url)
    except ResolutionError as exc:
        return make_check("status", CheckStatus.WARNING, "status_unreachable", {"detail": exc.message[:200]})
    if not isinstance(document, Mapping):
        return make_check(
            "status", CheckStatus.WARNING, "status_list_invalid", {"detail": "the list is not a JSON object"}
        )
    # VCRL-10: the draft says revokedCredentials, 1EdTech's validator reads revokedCredential.
    items: list[object] = []
    for name in ("revokedCredential", "revokedCredentials"):
        value = document.get(name)
        if isinstance(value, list):
            items.extend(value)
    credential_id = run.credential.get("id")
    for item in items:
        item_id = item if isinstance(item, str) else item.get("id") if isinstance(item, Mapping) else None
        if item_id is None or item_id != credential_id:
            continue
        if isinstance(item, Mapping) and item.get("revoked") is False:
            continue
        run.report.revoked = True
        reason = item.get("revocationReason") if isinstance(item, Mapping) else None
        return make_check("status", CheckStatus.FAILED, "revoked", {}, [reason] if isinstance(reason, str) else [])
    run.report.revoked = False
    return make_check("status", CheckStatus.PASSED, "status_ok")
