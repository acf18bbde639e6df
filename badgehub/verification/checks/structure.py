"""The ``type`` and ``structure`` checks: what the document says it is, and the required fields, enumerations
and IdentityObject form of OB3-BRIEF §2 (or the fields of a status list)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from badgehub.credentials.documents import (
    ACHIEVEMENT_TYPES,
    ALIGNMENT_TARGET_TYPES,
    IDENTIFIER_TYPES,
    RESULT_STATUSES,
    is_enum_value,
    parse_identity_hash,
    parse_timestamp,
    string_values,
)
from badgehub.credentials.status_list import LIST_CREDENTIAL_TYPE, MIN_ENTRIES, StatusListError, decode_status_list
from badgehub.verification.report import Check, CheckStatus, make_check
from badgehub.verification.run import OB_TYPES, Run, issuer_id_of


def check_type(run: Run) -> Check:
    types = set(string_values(run.credential.get("type")))
    is_vc = "VerifiableCredential" in types
    if run.expect == "endorsement":
        if is_vc and "EndorsementCredential" in types:
            return make_check("type", CheckStatus.PASSED, "type_ok", {"kind": "endorsement"})
        return make_check("type", CheckStatus.FAILED, "type_endorsement_expected")
    if is_vc and LIST_CREDENTIAL_TYPE in types:
        return make_check("type", CheckStatus.PASSED, "type_ok", {"kind": "status list"})
    if run.expect == "status_list":
        return make_check("type", CheckStatus.FAILED, "type_invalid")
    if is_vc and types & OB_TYPES:
        return make_check("type", CheckStatus.PASSED, "type_ok", {"kind": "Open Badge credential"})
    if is_vc and "EndorsementCredential" in types:
        return make_check("type", CheckStatus.PASSED, "type_ok", {"kind": "endorsement"})
    return make_check("type", CheckStatus.FAILED, "type_invalid")


def check_structure(run: Run) -> Check:
    if run.kind == "status_list":
        return _status_list_structure(run)
    problems = structure_problems(run.credential, endorsement=run.is_endorsement, vc_version=run.vc_version)
    if problems:
        detail = "; ".join(problems[:3]) + (" …" if len(problems) > 3 else "")
        return make_check("structure", CheckStatus.FAILED, "structure_invalid", {"detail": detail}, problems)
    return make_check("structure", CheckStatus.PASSED, "structure_ok")


def _status_list_structure(run: Run) -> Check:
    problems: list[str] = []
    credential = run.credential
    if not isinstance(credential.get("id"), str):
        problems.append("the status list has no id")
    if issuer_id_of(credential) is None:
        problems.append("the issuer is missing")
    subject = credential.get("credentialSubject")
    if not isinstance(subject, Mapping):
        problems.append("the credential has no single credentialSubject object")
    else:
        if "BitstringStatusList" not in string_values(subject.get("type")):
            problems.append("credentialSubject is not a BitstringStatusList")
        if not string_values(subject.get("statusPurpose")):
            problems.append("statusPurpose is missing")
        encoded = subject.get("encodedList")
        try:
            bits = decode_status_list(encoded if isinstance(encoded, str) else "")
        except StatusListError as exc:
            problems.append(f"encodedList: {exc.message}")
        else:
            if len(bits) * 8 < MIN_ENTRIES:
                problems.append(f"the list has fewer than {MIN_ENTRIES} entries")
                if len(problems) == 1:
                    # Its own code: a list that is merely too short is not a forgery, and the credential
                    # that points at it says so in those words.
                    return make_check("structure", CheckStatus.FAILED, "status_list_too_short", {}, problems)
    if problems:
        detail = "; ".join(problems[:3])
        return make_check("structure", CheckStatus.FAILED, "structure_invalid", {"detail": detail}, problems)
    return make_check("structure", CheckStatus.PASSED, "structure_ok")


def structure_problems(credential: Mapping[str, Any], *, endorsement: bool, vc_version: str | None) -> list[str]:
    """Required fields, enumerations and the IdentityObject form (OB3-BRIEF §2), as readable lines."""
    problems: list[str] = []
    if not isinstance(credential.get("id"), str) or not credential["id"].strip():
        problems.append("the credential has no id")
    issuer = credential.get("issuer")
    if isinstance(issuer, Mapping):
        if not isinstance(issuer.get("id"), str):
            problems.append("the issuer has no id")
        if "Profile" not in string_values(issuer.get("type")):
            problems.append("the issuer is not a Profile")
    elif not isinstance(issuer, str):
        problems.append("the issuer is missing")
    start_name = "issuanceDate" if vc_version == "1.1" else "validFrom"
    end_name = "expirationDate" if vc_version == "1.1" else "validUntil"
    if parse_timestamp(credential.get(start_name)) is None:
        problems.append(f"{start_name} is missing or not a date")
    for name in (end_name, "awardedDate"):
        if name in credential and parse_timestamp(credential.get(name)) is None:
            problems.append(f"{name} is not a date")
    subject = credential.get("credentialSubject")
    if not isinstance(subject, Mapping):
        problems.append("the credential has no single credentialSubject object")
        return problems
    if endorsement:
        if not isinstance(credential.get("name"), str):
            problems.append("an endorsement needs a name")
        if not isinstance(subject.get("id"), str):
            problems.append("the endorsement does not say what it endorses (credentialSubject.id)")
        if "EndorsementSubject" not in string_values(subject.get("type")):
            problems.append("credentialSubject is not an EndorsementSubject")
        return problems
    if "AchievementSubject" not in string_values(subject.get("type")):
        problems.append("credentialSubject is not an AchievementSubject")
    identifiers = subject.get("identifier")
    has_identifier = isinstance(identifiers, list) and len(identifiers) > 0
    if not isinstance(subject.get("id"), str) and not has_identifier:
        problems.append("the recipient is identified neither by an id nor by an identifier")
    if identifiers is not None and not isinstance(identifiers, list):
        problems.append("credentialSubject.identifier must be a list")
    for index, item in enumerate(identifiers if isinstance(identifiers, list) else []):
        problems.extend(_identity_object_problems(item, f"identifier[{index}]"))
    achievement = subject.get("achievement")
    if not isinstance(achievement, Mapping):
        problems.append("the achievement is missing")
    else:
        problems.extend(_achievement_problems(achievement))
    results = subject.get("result")
    for index, result in enumerate(results if isinstance(results, list) else []):
        if isinstance(result, Mapping) and "status" in result and result["status"] not in RESULT_STATUSES:
            problems.append(f"result[{index}].status {result['status']!r} is not an allowed value")
    return problems


def _identity_object_problems(item: object, where: str) -> list[str]:
    if not isinstance(item, Mapping):
        return [f"{where} is not an object"]
    problems = []
    if item.get("type") != "IdentityObject":
        problems.append(f'{where}.type must be "IdentityObject"')
    hashed = item.get("hashed")
    if not isinstance(hashed, bool):
        problems.append(f"{where}.hashed must be true or false")
    value = item.get("identityHash")
    if not isinstance(value, str) or not value:
        problems.append(f"{where}.identityHash is missing")
    elif hashed is True:
        parsed = parse_identity_hash(value)
        if parsed is None or len(parsed[1]) != (64 if parsed[0] == "sha256" else 32):
            problems.append(f"{where}.identityHash is not a sha256$… or md5$… hash")
    if not is_enum_value(item.get("identityType"), IDENTIFIER_TYPES):
        problems.append(f"{where}.identityType {item.get('identityType')!r} is not an allowed value")
    if "salt" in item and not isinstance(item["salt"], str):
        problems.append(f"{where}.salt must be text")
    return problems


def _achievement_problems(achievement: Mapping[str, Any]) -> list[str]:
    problems = []
    for name in ("id", "name", "description"):
        if not isinstance(achievement.get(name), str):
            problems.append(f"achievement.{name} is missing")
    if "Achievement" not in string_values(achievement.get("type")):
        problems.append("the achievement is not of type Achievement")
    if not isinstance(achievement.get("criteria"), Mapping):
        problems.append("achievement.criteria is missing")
    if "achievementType" in achievement and not is_enum_value(achievement["achievementType"], ACHIEVEMENT_TYPES):
        problems.append(f"achievementType {achievement['achievementType']!r} is not an allowed value")
    alignments = achievement.get("alignment")
    for index, alignment in enumerate(alignments if isinstance(alignments, list) else []):
        if not isinstance(alignment, Mapping):
            problems.append(f"alignment[{index}] is not an object")
            continue
        for name in ("targetName", "targetUrl"):
            if not isinstance(alignment.get(name), str):
                problems.append(f"alignment[{index}].{name} is missing")
        if "targetType" in alignment and not is_enum_value(alignment["targetType"], ALIGNMENT_TARGET_TYPES):
            problems.append(f"alignment[{index}].targetType {alignment['targetType']!r} is not an allowed value")
    return problems
