"""The presenter of verification reports: one translatable message per check code, the verdict's order of
precedence, and what it refuses to show (script addresses, remote images, endless parameters)."""

from __future__ import annotations

import re
import string
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from flask import Flask
from flask_babel import force_locale, format_datetime
from hypothesis import given, settings
from hypothesis import strategies as st

from badgehub.presenters.messages import (
    CHECK_MESSAGES,
    FETCH_REASONS,
    STEP_TITLES,
    SUBMISSION_MESSAGES,
    VERDICTS,
    check_message,
    submission_message,
)
from badgehub.presenters.reports import present
from badgehub.verification.report import (
    CHECK_IDS,
    MESSAGES,
    CheckStatus,
    VerificationReport,
    make_check,
    render_message,
)
from badgehub.verification.verdicts import (
    TECHNICAL_WARNINGS,
    VERDICT_CODES,
    verdict_of,
)

P, F, W, S = CheckStatus.PASSED, CheckStatus.FAILED, CheckStatus.WARNING, CheckStatus.SKIPPED


@pytest.fixture(scope="module")
def request_context(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    from badgehub import create_app

    folder = tmp_path_factory.mktemp("verdicts")
    app = create_app({"TESTING": True, "SECRET_KEY": "test", "SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder}/x.db",
                      "INSTANCE_PATH": folder})
    with app.test_request_context("/"), force_locale("en"):
        yield app


def report_with(statuses: dict[str, tuple[CheckStatus, str]], **fields: Any) -> VerificationReport:
    """A report whose checks are passed unless ``statuses`` says otherwise."""
    checks = []
    for check_id in CHECK_IDS:
        status, code = statuses.get(check_id, (P, "parsed_json" if check_id == "parse" else f"{check_id}_ok"))
        checks.append(make_check(check_id, status, code))
    return VerificationReport(checks=checks, **fields)


def _format_names(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


def test_every_check_code_has_a_translatable_message_with_the_same_parameters() -> None:
    assert set(CHECK_MESSAGES) >= set(MESSAGES), sorted(set(MESSAGES) - set(CHECK_MESSAGES))
    for code, template in MESSAGES.items():
        source = CHECK_MESSAGES[code]._args[0]  # the msgid of the lazy string, as extracted for translators
        assert set(re.findall(r"%\((\w+)\)s", source)) == _format_names(template), code


def test_english_messages_say_exactly_what_the_report_says(request_context: Flask) -> None:
    for code, template in MESSAGES.items():
        params = {name: f"<{name}>" for name in _format_names(template)}
        assert check_message(code, params) == render_message(code, params), code


def test_every_step_and_verdict_has_words() -> None:
    assert set(STEP_TITLES) == set(CHECK_IDS)
    assert set(VERDICTS) == {"valid", "valid_with_warnings", "issuer_unconfirmed", "revoked", "suspended", "expired",
                             "not_yet_valid", "not_genuine", "recipient_mismatch", "invalid", "check_later",
                             "unverifiable"}
    assert {text.tone for text in VERDICTS.values()} <= {"ok", "warn", "bad", "neutral"}
    # The rules name a verdict the presenters have words for, and nothing else.
    assert tuple(VERDICTS) == VERDICT_CODES


def test_parameters_are_shortened_and_missing_ones_do_not_fail(request_context: Flask) -> None:
    long = check_message("structure_invalid", {"detail": "x" * 5000})
    assert len(long) < 400 and long.endswith("….")
    assert check_message("issuer_key_mismatch", {"issuer": "did:web:a"}) == (
        "The signing key belongs to …, not to the issuer did:web:a.")
    assert check_message("a_code_from_a_newer_pipeline") == "a_code_from_a_newer_pipeline"


def test_pipeline_dates_and_kinds_are_put_into_words(request_context: Flask) -> None:
    moment = format_datetime(datetime(2026, 1, 5, 10, 30, tzinfo=UTC), "long")
    assert "2026" in moment and "10:30" in moment
    assert check_message("expired", {"date": "2026-01-05 10:30 UTC"}) == f"The credential expired on {moment}."
    assert check_message("type_ok", {"kind": "endorsement"}) == "The document is an endorsement."


def test_submission_messages_explain_fetch_refusals(request_context: Flask) -> None:
    assert set(FETCH_REASONS) >= {"address_not_allowed", "scheme_not_allowed", "timeout", "too_large", "dns_failed"}
    assert "private or local network" in submission_message("url_refused", {"reason": "address_not_allowed"})
    assert "HTTP 503" in submission_message("url_unreachable", {"reason": "http_error", "http_status": 503})
    assert "5 MB" in submission_message("too_large", {"limit": 5 * 1024 * 1024})
    assert submission_message("invalid_json") == MESSAGES["invalid_json"]
    assert set(SUBMISSION_MESSAGES) >= {"empty_input", "too_many_inputs", "unsupported_type", "url_refused"}


@pytest.mark.parametrize(
    ("statuses", "fields", "verdict"),
    [
        ({}, {}, "valid"),
        ({"context": (W, "context_outdated"), "schema": (W, "schema_compacted")}, {}, "valid"),
        ({"proof": (W, "jwt_claims_incomplete")}, {}, "valid"),
        ({"issuer_key": (W, "issuer_key_unconfirmed")}, {}, "issuer_unconfirmed"),
        ({"issuer_key": (W, "issuer_key_unconfirmed"), "status": (W, "status_unreachable")}, {}, "issuer_unconfirmed"),
        ({"issuer_key": (F, "issuer_key_not_listed")}, {}, "not_genuine"),
        ({"proof": (F, "key_not_listed")}, {}, "not_genuine"),
        ({"proof": (F, "key_unreachable")}, {}, "check_later"),
        ({"issuer_key": (F, "issuer_key_unreachable")}, {}, "check_later"),
        ({"issuer_key": (F, "issuer_key_unavailable")}, {}, "unverifiable"),
        ({"status": (W, "status_unreachable")}, {}, "valid_with_warnings"),
        ({"status": (F, "revoked")}, {"revoked": True}, "revoked"),
        ({"status": (F, "suspended")}, {"suspended": True}, "suspended"),
        ({"validity": (F, "expired")}, {"expired": True}, "expired"),
        ({"validity": (F, "not_yet_valid")}, {"not_yet_valid": True}, "not_yet_valid"),
        ({"recipient": (F, "recipient_mismatch")}, {}, "recipient_mismatch"),
        ({"schema": (F, "schema_invalid")}, {}, "invalid"),
        ({"proof": (F, "proof_invalid")}, {}, "not_genuine"),
        ({"context": (F, "undefined_terms"), "proof": (F, "proof_undefined_terms")}, {}, "not_genuine"),
        ({"issuer_key": (F, "issuer_key_mismatch")}, {}, "not_genuine"),
        ({"proof": (F, "key_compromised")}, {}, "not_genuine"),
        ({"proof": (F, "key_unresolved")}, {}, "unverifiable"),
        ({"proof": (F, "proof_missing")}, {}, "unverifiable"),
        ({"proof": (S, "ob2_hosted_unreachable")}, {}, "unverifiable"),
        ({"parse": (F, "invalid_json")}, {}, "unverifiable"),
    ],
)
def test_verdict_of_each_situation(statuses: dict[str, tuple[CheckStatus, str]], fields: dict[str, Any],
                                   verdict: str) -> None:
    assert verdict_of(report_with(statuses, **fields)) == verdict


@pytest.mark.parametrize(
    ("statuses", "fields", "verdict"),
    [
        # A forged credential pointing at a revoked entry is above all not genuine.
        ({"proof": (F, "proof_invalid"), "status": (F, "revoked")}, {"revoked": True}, "not_genuine"),
        # The issuer says it is revoked (an OB 2.0 assertion gone): revoked, even if its copy is unreachable.
        ({"proof": (S, "ob2_hosted_unreachable"), "status": (F, "revoked")}, {"revoked": True}, "revoked"),
        # Dates mean nothing when the signature could not be checked.
        ({"proof": (F, "key_unresolved"), "validity": (F, "expired")}, {"expired": True}, "unverifiable"),
        ({"validity": (F, "expired"), "recipient": (F, "recipient_mismatch")}, {"expired": True}, "expired"),
        ({"recipient": (F, "recipient_mismatch"), "schema": (F, "schema_invalid")}, {}, "recipient_mismatch"),
    ],
)
def test_verdicts_take_precedence_in_order(statuses: dict[str, tuple[CheckStatus, str]], fields: dict[str, Any],
                                           verdict: str) -> None:
    assert verdict_of(report_with(statuses, **fields)) == verdict


CODES = sorted(MESSAGES)


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.sampled_from(CHECK_IDS), st.tuples(st.sampled_from(list(CheckStatus)),
                                                              st.sampled_from(CODES))),
       st.booleans(), st.booleans())
def test_the_verdict_is_valid_exactly_when_the_report_is_verified(
    statuses: dict[str, tuple[CheckStatus, str]], revoked: bool, expired: bool
) -> None:
    report = report_with(statuses, revoked=revoked or None, expired=expired or None)
    # The report's own flags come from failed checks; keep them consistent with the checks.
    if revoked:
        report.checks[CHECK_IDS.index("status")] = make_check("status", F, "revoked")
    if expired:
        report.checks[CHECK_IDS.index("validity")] = make_check("validity", F, "expired")
    verdict = verdict_of(report)
    # Verified (the 1EdTech reading) is one of three verdicts; only the two "valid" ones confirm the issuer.
    assert (verdict in ("valid", "valid_with_warnings", "issuer_unconfirmed")) == report.verified
    assert (verdict in ("valid", "valid_with_warnings")) == (report.verified and report.issuer_confirmed)
    if verdict == "valid":
        assert all(check.code in TECHNICAL_WARNINGS for check in report.warnings)


def _credential(**overrides: Any) -> dict[str, Any]:
    credential: dict[str, Any] = {
        "name": "Atelier numérique",
        "issuer": {"id": "https://issuer.example/1", "type": ["Profile"], "name": "Médiathèque",
                   "url": "https://issuer.example/"},
        "credentialSubject": {"achievement": {
            "name": "Atelier", "description": "Digital workshop", "achievementType": "Badge",
            "criteria": {"narrative": "Attend the three sessions.", "id": "https://issuer.example/criteria"},
            "alignment": [{"targetName": "Digital literacy", "targetUrl": "https://esco.example/skill/1"}],
        }},
        "evidence": [{"name": "Portfolio", "narrative": "Three projects", "id": "https://issuer.example/e/1"}],
        "awardedDate": "2026-03-01T10:00:00Z",
    }
    credential.update(overrides)
    return credential


def test_present_puts_the_credential_into_words(request_context: Flask) -> None:
    report = report_with({"issuer_key": (W, "issuer_key_unconfirmed")}, credential=_credential(),
                         issuer_name="Médiathèque", achievement_name="Atelier", valid_from="2026-03-01T00:00:00Z",
                         format="json", ob_version="3.0")
    view = present(report)
    assert (view.verdict, view.title, view.tone, view.icon) == (
        "issuer_unconfirmed", "Signature intact, but nothing confirms that this issuer made it", "warn", "!")
    assert not view.genuine  # what it says about its issuer is only its word
    assert view.notes == (MESSAGES["issuer_key_unconfirmed"],)
    assert view.issuer is not None and (view.issuer.text, view.issuer.url) == ("Médiathèque", "https://issuer.example/")
    assert (view.criteria, view.criteria_url) == ("Attend the three sessions.", "https://issuer.example/criteria")
    assert [(link.text, link.url) for link in view.alignments] == [("Digital literacy", "https://esco.example/skill/1")]
    assert view.evidence[0].name == "Portfolio" and view.evidence[0].url == "https://issuer.example/e/1"
    assert (view.issued_on, view.valid_from, view.valid_until) == ("March 1, 2026", "March 1, 2026", None)
    assert view.format_label == "Open Badges 3.0, JSON file"
    assert [step.id for step in view.steps] == list(CHECK_IDS)
    issuer_step = view.steps[CHECK_IDS.index("issuer_key")]
    assert (issuer_step.status_label, issuer_step.icon, issuer_step.tone) == ("Warning", "!", "warn")
    data = view.to_dict()
    assert (data["verdict"], data["verified"], data["issuer_confirmed"]) == ("issuer_unconfirmed", True, False)
    assert data["checks"][CHECK_IDS.index("issuer_key")] == {
        "id": "issuer_key", "status": "warning", "code": "issuer_key_unconfirmed",
        "message": MESSAGES["issuer_key_unconfirmed"]}
    assert data["achievement_name"] == "Atelier" and "credential" not in data


@pytest.mark.parametrize("address", ["javascript:alert(1)", "data:text/html,<script>x</script>", "//evil.example/x",
                                     "ftp://files.example/x", "https://" + "a" * 3000])
def test_only_web_addresses_become_links(request_context: Flask, address: str) -> None:
    credential = _credential()
    credential["issuer"]["url"] = address
    credential["issuer"]["id"] = "urn:uuid:1"
    credential["credentialSubject"]["achievement"]["criteria"]["id"] = address
    credential["evidence"][0]["id"] = address
    view = present(report_with({}, credential=credential, issuer_name="X"))
    assert view.issuer is not None and view.issuer.url is None
    assert view.criteria_url is None and view.evidence[0].url is None


def test_only_embedded_images_are_shown(request_context: Flask) -> None:
    embedded = "data:image/png;base64,iVBORw0KGgo="
    for image, shown in [(embedded, embedded), ({"id": embedded, "type": "Image"}, embedded),
                         ("https://tracker.example/pixel.png", None), ("data:text/html;base64,PHNjcmlwdD4=", None)]:
        credential = _credential()
        credential["credentialSubject"]["achievement"]["image"] = image
        assert present(report_with({}, credential=credential)).achievement_image == shown


def test_endorsements_are_summarised(request_context: Flask) -> None:
    endorsement = report_with({"proof": (F, "proof_invalid")}, issuer_name="Région")
    view = present(report_with({}, endorsements=[endorsement, report_with({}, issuer_id="did:key:z6Mk")]))
    assert [(e.name, e.verified, e.verdict_title) for e in view.endorsements] == [
        ("Région", False, "Not genuine"), ("did:key:z6Mk", True, "Valid")]


def test_messages_follow_the_language(request_context: Flask) -> None:
    with force_locale("fr"):
        french = check_message("proof_ok")
        title = present(report_with({})).title
    assert french != MESSAGES["proof_ok"]
    assert title != "Valid"
