"""The forgery matrix signed by the independent JavaScript peer (Digital Bazaar's eddsa-rdfc-2022 and jose),
in one batch call: BadgeHub gives each of its badges the same verdict as to its own signer's, through the
pipeline, ``POST /api/v1/verify``, ``/verify``, the wallet import and ``badgehub verify``. A forger is not
bound to BadgeHub's signer."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from badgehub.presenters.messages import VERDICTS
from badgehub.verification.pipeline import verify
from badgehub.verification.platform import register_local_resolver
from badgehub.verification.resolver import ChainResolver, LocalResolver, StaticResolver
from badgehub.verification.verdicts import verdict_of
from tests.conftest import sign_in, token_of
from tests.forgeries import VALID_VERDICTS, Case, build_world, peer_calls, peer_forgeries
from tests.functional.test_verify_page import verdict_title
from tests.functional.test_wallet import build_wallet_world

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


def _verdict_titles() -> dict[str, str]:
    return {str(text.title): code for code, text in VERDICTS.items()}


def _as_text(case: Case) -> str:
    return json.dumps(case.data) if isinstance(case.data, dict) else str(case.data)


def test_each_peer_forgery_gets_its_verdict_on_the_verify_page(app: Flask, client: FlaskClient,
                                                               peer_cases: list[Case]) -> None:
    register_local_resolver(app, lambda: StaticResolver(WORLD.documents))
    app.config["RATELIMIT_VERIFY"] = "1000 per minute"
    titles = _verdict_titles()
    token = token_of(client, "/verify")
    wrong = {}
    for case in peer_cases:
        response = client.post("/verify", data={"csrf_token": token, "credential_text": _as_text(case)},
                               content_type="multipart/form-data")
        assert response.status_code == 200
        got = titles[verdict_title(response.get_data(as_text=True))]
        if got != case.verdict:
            wrong[case.name] = got
    assert wrong == {}


def test_each_peer_forgery_gets_its_verdict_from_the_wallet_import(app: Flask, client: FlaskClient, setup: Any,
                                                                   peer_cases: list[Case]) -> None:
    register_local_resolver(app, lambda: StaticResolver(WORLD.documents))
    app.config["RATELIMIT_VERIFY"] = "1000 per minute"
    world = setup(build_wallet_world)
    sign_in(client, world["lea"])
    titles = _verdict_titles()
    wrong = {}
    for case in peer_cases:
        name = "badge.json" if isinstance(case.data, dict) else "badge.jwt"
        data = {"csrf_token": token_of(client, "/wallet/import"),
                "credential_file": (io.BytesIO(_as_text(case).encode()), name)}
        response = client.post("/wallet/import", data=data, content_type="multipart/form-data")
        assert response.status_code == 302, response.get_data(as_text=True)[:2000]
        got = titles[verdict_title(client.get(response.headers["Location"]).get_data(as_text=True))]
        if got != case.verdict:
            wrong[case.name] = got
    assert wrong == {}


def test_each_peer_forgery_gets_its_verdict_from_the_cli(runner: Any, peer_cases: list[Case],
                                                         tmp_path: Path) -> None:
    # Offline, the CLI reads the issuers' documents from files.
    options: list[str] = []
    for number, (url, document) in enumerate(WORLD.documents.items()):
        path = tmp_path / f"document-{number}.json"
        path.write_text(json.dumps(document), encoding="utf-8")
        options += ["--document", f"{url}={path}"]
    expected = {"valid": "valid", "issuer_unconfirmed": "issuer_unconfirmed"}
    wrong = {}
    for case in peer_cases:
        path = tmp_path / "badge"
        path.write_text(_as_text(case), encoding="utf-8")
        result = runner.invoke(args=["verify", str(path), "--json", "--now", NOW.isoformat(), *options])
        report = json.loads(result.output)
        assert result.exit_code == (0 if report["verified"] else 1)
        confirmed = "valid" if report["issuer_confirmed"] else "issuer_unconfirmed"
        got = confirmed if report["verified"] else "not valid"
        if got != expected.get(case.verdict, "not valid"):
            wrong[case.name] = got
    assert wrong == {}
