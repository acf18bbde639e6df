"""The ``validity`` check: ``validFrom``/``validUntil`` (or the VC 1.1 names) against the moment of
verification; for a VC-JWT, ``nbf`` and ``exp`` bound the validity too."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime

from badgehub.credentials.documents import parse_timestamp
from badgehub.verification.report import Check, CheckStatus, make_check
from badgehub.verification.run import Run, show


def check_validity(run: Run) -> Check:
    start_text, end_text = run.dates()
    start = parse_timestamp(start_text)
    end = parse_timestamp(end_text) if end_text is not None else None
    if start is None or (end_text is not None and end is None):
        return make_check("validity", CheckStatus.FAILED, "validity_unknown")
    decoded = run.parsed.decoded
    if decoded is not None and isinstance(decoded.payload, Mapping):
        # JWT: nbf and exp bound the validity too (a JWT exp "sets validUntil", spec §jwt-verify).
        nbf, exp = decoded.payload.get("nbf"), decoded.payload.get("exp")
        if isinstance(nbf, int | float) and not isinstance(nbf, bool):
            start = max(start, _from_epoch(nbf, start))
        if isinstance(exp, int | float) and not isinstance(exp, bool):
            claimed = _from_epoch(exp, end)
            end = claimed if end is None or claimed < end else end
    now = run.verifier.now
    if now < start:
        run.report.not_yet_valid = True
        run.report.expired = False
        return make_check("validity", CheckStatus.FAILED, "not_yet_valid", {"date": show(start)})
    run.report.not_yet_valid = False
    if end is not None and now >= end:
        run.report.expired = True
        return make_check("validity", CheckStatus.FAILED, "expired", {"date": show(end)})
    run.report.expired = False
    return make_check("validity", CheckStatus.PASSED, "validity_ok")


def _from_epoch(value: float, fallback: datetime | None) -> datetime:
    try:
        return datetime.fromtimestamp(value, UTC)
    except (OverflowError, OSError, ValueError):
        return fallback if fallback is not None else datetime.max.replace(tzinfo=UTC)
