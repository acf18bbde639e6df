"""The report model: message templates keyed by code, the verified rule, JSON form."""

from __future__ import annotations

import re
from pathlib import Path

from badgehub.verification.report import (
    CHECK_IDS,
    MESSAGES,
    CheckStatus,
    VerificationReport,
    make_check,
    render_message,
)

SOURCES = Path(__file__).resolve().parents[3] / "badgehub" / "verification"


def _report(proof: CheckStatus, other: CheckStatus = CheckStatus.PASSED) -> VerificationReport:
    checks = [make_check(check_id, other, "structure_ok") for check_id in CHECK_IDS]
    checks[CHECK_IDS.index("proof")] = make_check("proof", proof, "proof_ok")
    return VerificationReport(checks=checks)


def test_every_code_used_by_the_pipeline_has_a_message() -> None:
    used: set[str] = set()
    for source in SOURCES.glob("*.py"):
        text = source.read_text(encoding="utf-8")
        used |= set(re.findall(r'make_check\(\s*"[a-z_]+",\s*CheckStatus\.[A-Z]+,\s*"([a-z0-9_]+)"', text))
        used |= set(re.findall(r'\(\d, "([a-z_]+)", ', text))  # proof failure codes chosen by priority
        used |= set(re.findall(r'"(parsed_\w+|proof_\w+|key_\w+)"', text)) & set(MESSAGES)
    assert len(used) > 40
    assert sorted(used - set(MESSAGES)) == []


PARAMS = {
    "detail": "x",
    "date": "d",
    "count": 2,
    "failed": 1,
    "kind": "k",
    "controller": "c",
    "issuer": "i",
    "url": "u",
    "method": "m",
}


def test_messages_are_plain_sentences_without_missing_parameters() -> None:
    for code, template in MESSAGES.items():
        rendered = render_message(code, PARAMS)
        assert "{" not in rendered and "…" not in rendered, code
        assert not rendered[0].islower() and rendered.endswith("."), code
        assert template.strip() == template


def test_missing_parameters_render_as_an_ellipsis() -> None:
    assert render_message("expired") == "The credential expired on …."
    assert render_message("no-such-code") == "no-such-code"


def test_verified_needs_a_passed_or_warned_proof_and_no_failure() -> None:
    assert _report(CheckStatus.PASSED).verified
    assert _report(CheckStatus.WARNING).verified
    assert not _report(CheckStatus.SKIPPED).verified
    assert not _report(CheckStatus.FAILED).verified
    assert _report(CheckStatus.PASSED, CheckStatus.WARNING).verified
    broken = _report(CheckStatus.PASSED)
    broken.checks[CHECK_IDS.index("status")] = make_check("status", CheckStatus.FAILED, "revoked")
    assert not broken.verified and [c.code for c in broken.failed] == ["revoked"]


def test_to_dict_has_the_contract_fields() -> None:
    report = _report(CheckStatus.PASSED)
    report.format, report.ob_version = "json", "3.0"
    data = report.to_dict()
    assert data["verified"] is True
    assert [check["id"] for check in data["checks"]] == list(CHECK_IDS)
    assert set(data["checks"][0]) == {"id", "status", "code", "message"}
    assert data["format"] == "json" and data["ob_version"] == "3.0"
    check = make_check("expired", CheckStatus.FAILED, "expired", {"date": "2026-01-01", "unused": None}, ["d"])
    assert check.to_dict() == {
        "id": "expired",
        "status": "failed",
        "code": "expired",
        "message": "The credential expired on 2026-01-01.",
        "params": {"date": "2026-01-01"},
        "details": ["d"],
    }
