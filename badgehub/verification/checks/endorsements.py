"""The ``endorsements`` check: each embedded endorsement runs through the same pipeline (depth-limited).

An endorsement that does not verify is a *warning* on the credential: it is a third party's claim, and the
credential's own signature is unaffected.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from badgehub.credentials.documents import string_values
from badgehub.verification.parse import Parsed, ParseFailure, unreadable
from badgehub.verification.report import Check, CheckStatus, VerificationReport, make_check
from badgehub.verification.run import Run

MAX_ENDORSEMENT_DEPTH: Final = 2
"""Endorsements of endorsements are checked down to this depth."""
MAX_ENDORSEMENTS: Final = 16
"""At most this many endorsements are checked per credential."""


def check_endorsements(run: Run) -> Check:
    if run.kind == "status_list":
        return make_check("endorsements", CheckStatus.SKIPPED, "not_applicable")
    embedded, jwts = collect_endorsements(run.credential)
    total = len(embedded) + len(jwts)
    if total == 0:
        return make_check("endorsements", CheckStatus.SKIPPED, "no_endorsements")
    if run.depth >= MAX_ENDORSEMENT_DEPTH:
        return make_check("endorsements", CheckStatus.WARNING, "endorsements_too_deep")
    reports: list[VerificationReport] = []
    # A cycle is refused, not followed: an endorsement that names the very document it is embedded in, or one
    # already met in this list (the depth bound stops longer chains).
    seen = {run.credential.get("id")}
    for endorsement in embedded[:MAX_ENDORSEMENTS]:
        endorsement_id = endorsement.get("id")
        if isinstance(endorsement_id, str) and endorsement_id in seen:
            reports.append(unreadable("endorsement_cycle", "json"))
            continue
        seen.add(endorsement_id)
        parsed = Parsed("json", endorsement, parse_code="parsed_json")
        reports.append(_endorsement(run, parsed))
    for token in jwts[: max(0, MAX_ENDORSEMENTS - len(embedded))]:
        try:
            jwt_parsed = run.verifier.parse(token)
        except ParseFailure as failure:
            reports.append(unreadable(failure.code, "jwt"))
            continue
        reports.append(_endorsement(run, jwt_parsed))
    run.report.endorsements = reports
    failed = sum(1 for report in reports if not report.verified)
    details = [
        f"{report.credential_id or '?'}: "
        + ("verified" if report.verified else ", ".join(c.code for c in report.failed) or "not verified")
        for report in reports
    ]
    if failed or len(reports) < total:
        return make_check(
            "endorsements",
            CheckStatus.WARNING,
            "endorsements_unverified",
            {"failed": failed + total - len(reports), "count": total},
            details,
        )
    return make_check("endorsements", CheckStatus.PASSED, "endorsements_ok", {"count": total}, details)


def _endorsement(run: Run, parsed: Parsed) -> VerificationReport:
    parse_check = make_check("parse", CheckStatus.PASSED, parsed.parse_code)
    return run.verifier.verify_credential(parsed, parse_check, None, depth=run.depth + 1, expect="endorsement")


def collect_endorsements(credential: Mapping[str, Any]) -> tuple[list[dict[str, Any]], list[str]]:
    """Embedded ``endorsement`` objects and ``endorsementJwt`` strings anywhere in the credential,
    except inside proofs and inside the endorsements themselves (those are checked recursively)."""
    embedded: list[dict[str, Any]] = []
    jwts: list[str] = []
    stack: list[object] = [credential]
    while stack:
        node = stack.pop()
        if isinstance(node, list):
            stack.extend(reversed(node))
            continue
        if not isinstance(node, Mapping):
            continue
        for key, value in node.items():
            if key == "proof":
                continue
            if key == "endorsement":
                items = value if isinstance(value, list) else [value]
                embedded.extend(item for item in items if isinstance(item, dict))
            elif key == "endorsementJwt":
                jwts.extend(string_values(value))
            else:
                stack.append(value)
    return embedded, jwts
