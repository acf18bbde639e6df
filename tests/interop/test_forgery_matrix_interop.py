"""The forgery matrix signed by the independent JavaScript peer (Digital Bazaar's eddsa-rdfc-2022 and jose),
in one batch call: BadgeHub gives each of its badges the same verdict as to its own signer's, through the
pipeline and through ``POST /api/v1/verify``. A forger is not bound to BadgeHub's signer."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from flask import Flask
from flask.testing import FlaskClient

from badgehub.verification.pipeline import verify
from badgehub.verification.platform import register_local_resolver
from badgehub.verification.resolver import ChainResolver, LocalResolver, StaticResolver
from badgehub.web.verdicts import verdict_of
from tests.forgeries import VALID_VERDICTS, Case, build_world, peer_calls, peer_forgeries

from .conftest import JsPeer

# No name resolves, and a connection anywhere but to loopback fails the test (tests/conftest.py).
pytestmark = [pytest.mark.interop, pytest.mark.usefixtures("offline")]

WORLD = build_world("issuers.example")
NOW = datetime(2026, 6, 1, 12, tzinfo=UTC)


@pytest.fixture(scope="module")
def peer_cases(js_peer: JsPeer) -> list[Case]:
    return peer_forgeries(WORLD, js_peer.call("batch", calls=peer_calls(WORLD)))


def test_the_peer_signs_what_it_is_asked_to(peer_cases: list[Case]) -> None:
    # The genuine controls verify: the peer's signatures are sound, so a refused forgery is refused for its key.
    controls = [case for case in peer_cases if case.verdict == "valid"]
    assert len(controls) >= 4
    for case in controls:
        assert verify(case.data, ChainResolver(StaticResolver(WORLD.documents), LocalResolver()), NOW).verified


def test_each_peer_forgery_gets_its_verdict(peer_cases: list[Case]) -> None:
    resolver = ChainResolver(StaticResolver(WORLD.documents), LocalResolver())
    wrong = {}
    for case in peer_cases:
        report = verify(case.data, resolver, NOW)
        if verdict_of(report) != case.verdict:
            wrong[case.name] = (verdict_of(report), [(c.id, c.code) for c in report.failed + report.warnings])
    assert wrong == {}
    assert not [case.name for case in peer_cases if case.verdict != "valid" and case.verdict in VALID_VERDICTS]


def test_each_peer_forgery_gets_its_verdict_from_the_api(app: Flask, client: FlaskClient,
                                                         peer_cases: list[Case]) -> None:
    # The foreign documents answer first, as the web would; no name resolves (the documents are offline).
    register_local_resolver(app, lambda: StaticResolver(WORLD.documents))
    app.config["RATELIMIT_VERIFY"] = "1000 per minute"
    wrong = {}
    for case in peer_cases:
        body = {"credential": case.data} if isinstance(case.data, dict) else {"jwt": case.data}
        answer = client.post("/api/v1/verify", json=body).get_json()
        if answer["verdict"] != case.verdict or answer["issuer_confirmed"] is not (case.verdict == "valid"):
            wrong[case.name] = (answer["verdict"], answer["issuer_confirmed"])
    assert wrong == {}
