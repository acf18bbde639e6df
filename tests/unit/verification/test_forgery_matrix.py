"""The forgery matrix through the verification pipeline, offline: every forgery of ``tests/forgeries.py``,
signed by BadgeHub's signer, gets its verdict, and none reads "Valid". The entry points (CLI, API, /verify,
wallet import) and the JavaScript peer's forgeries are checked in ``tests/functional/test_forgery_matrix.py``
and ``tests/interop/test_forgery_matrix_interop.py``."""

from __future__ import annotations

import pytest

from badgehub.verification.pipeline import verify
from badgehub.verification.report import CheckStatus
from badgehub.verification.resolver import ChainResolver, LocalResolver, StaticResolver
from badgehub.verification.verdicts import verdict_of
from tests.forgeries import VALID_VERDICTS, Case, build_world, forgeries

from .conftest import NOW

WORLD = build_world("issuers.example")
CASES = forgeries(WORLD)


def _resolver(documents: dict[str, object]) -> ChainResolver:
    return ChainResolver(StaticResolver(documents), LocalResolver())


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_each_forgery_gets_its_verdict(case: Case) -> None:
    report = verify(case.data, _resolver(WORLD.documents), NOW)
    checks = [(check.id, check.code) for check in report.checks if check.status is not CheckStatus.PASSED]
    assert verdict_of(report) == case.verdict, checks
    assert report.issuer_confirmed is (case.verdict == "valid"), checks
    if case.verdict not in VALID_VERDICTS:
        assert verdict_of(report) not in VALID_VERDICTS


@pytest.mark.parametrize("case", [case for case in CASES if case.plan.issuer == WORLD.web],
                         ids=lambda case: case.name)
def test_a_did_web_issuer_whose_document_cannot_be_fetched_is_never_valid(case: Case) -> None:
    # Offline, or the issuer's server down: nothing confirms the key, so "could not be checked now",
    # whether the badge is a forgery or genuine.
    report = verify(case.data, _resolver({}), NOW)
    assert verdict_of(report) in ("check_later", "not_genuine"), [c.to_dict() for c in report.checks]
    assert not report.verified
    if case.verdict == "valid":
        assert verdict_of(report) == "check_later"


def test_no_forgery_of_the_matrix_reads_valid() -> None:
    forged = [case for case in CASES if case.verdict != "valid"]
    assert len(forged) >= 20
    assert not [case.name for case in forged if case.verdict in VALID_VERDICTS]


@pytest.mark.parametrize("page", ["<!doctype html><html><body>Welcome</body></html>", {"name": "not keys"}])
def test_an_https_issuer_whose_address_is_a_web_page_leaves_a_fragment_key_unconfirmed(page: object) -> None:
    # The issuer's address answers, but with its home page (or some other JSON): it publishes no key list, so
    # the key written in the badge is read, as the credential's own word only.
    case = next(case for case in CASES if case.name == "https bare di own key in fragment")
    report = verify(case.data, _resolver({**WORLD.documents, WORLD.bare: page}), NOW)
    assert verdict_of(report) == "issuer_unconfirmed" and report.verified and not report.issuer_confirmed
