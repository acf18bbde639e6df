"""The forgery matrix through every entry point: ``POST /api/v1/verify``, ``/verify``, the wallet import and the
CLI ``badgehub verify``. The foreign issuers' documents (``tests/forgeries.py``) are served by a local HTTPS
server that the app's safe fetcher is allowed to reach; badges naming one of our own issuers are answered from
the database. Not one forgery may read "Valid"."""

from __future__ import annotations

import datetime as dt
import http.server
import io
import ipaddress
import json
import re
import socket
import ssl
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, ClassVar

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from flask import Flask
from flask.testing import FlaskClient
from jwt import api_jws

from badgehub.credentials.data_integrity import sign_data_integrity
from badgehub.credentials.keys import public_jwk
from badgehub.keys.identity import base_url_of, did_web_of
from badgehub.presenters.messages import VERDICTS
from badgehub.verification import fetch as fetch_module
from badgehub.verification.fetch import SafeFetcher
from badgehub.verification.platform import FETCHER_EXTENSION
from tests.conftest import sign_in, token_of
from tests.forgeries import (
    CREATED,
    VALID_VERDICTS,
    Case,
    Plan,
    World,
    build_world,
    credential,
    ed_key,
    forgeries,
    jwt_payload,
    multikey,
    rsa_key,
)
from tests.functional.test_verify_page import verdict_title
from tests.functional.test_wallet import build_wallet_world

HOST_NAME = "issuers.test"
PORTS = range(5100, 5200)


class _Handler(http.server.BaseHTTPRequestHandler):
    documents: ClassVar[dict[str, bytes]] = {}
    requested: ClassVar[list[str]] = []

    def do_GET(self) -> None:
        self.requested.append(self.path)
        body = self.documents.get(self.path)
        self.send_response(200 if body is not None else 404)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body or b"")))
        self.end_headers()
        self.wfile.write(body or b"")

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        return


def _tls(folder: Path) -> tuple[ssl.SSLContext, ssl.SSLContext]:
    """A server context with a self-signed certificate for :data:`HOST_NAME`, and a client trusting only it."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, HOST_NAME)])
    now = dt.datetime.now(dt.UTC)
    certificate = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1)).not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(HOST_NAME)]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    server = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server.load_cert_chain(cert_path, key_path)
    return server, ssl.create_default_context(cafile=str(cert_path))


def _bind() -> http.server.ThreadingHTTPServer:
    for port in PORTS:
        try:
            return http.server.ThreadingHTTPServer(("127.0.0.1", port), _Handler)
        except OSError:
            continue
    raise RuntimeError("no free port in 5100-5199")


class Foreign:
    """The foreign issuers' world, served over HTTPS on 127.0.0.1, and the client TLS context that trusts it."""

    def __init__(self, tmp: Path) -> None:
        server_tls, self.client_tls = _tls(tmp)
        self.server = _bind()
        self.server.socket = server_tls.wrap_socket(self.server.socket, server_side=True)
        self.world: World = build_world(f"{HOST_NAME}:{self.server.server_address[1]}")
        prefix = self.world.origin
        _Handler.documents = {url[len(prefix):]: json.dumps(document).encode()
                              for url, document in self.world.documents.items()}
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(5)


@pytest.fixture(scope="module")
def foreign(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Foreign]:
    served = Foreign(tmp_path_factory.mktemp("foreign"))
    yield served
    served.close()


@pytest.fixture(scope="module")
def cases(foreign: Foreign) -> list[Case]:
    """Every forgery of the matrix, signed once per module with BadgeHub's signer."""
    return forgeries(foreign.world)


@pytest.fixture
def web_app(app: Flask, foreign: Foreign, monkeypatch: pytest.MonkeyPatch) -> Flask:
    """The app, whose fetcher reaches the foreign issuers' server (and nothing else: no other name resolves)."""

    def resolve(host: str, port: int) -> list[Any]:
        if host == HOST_NAME:
            return [ipaddress.ip_address("127.0.0.1")]
        raise socket.gaierror(socket.EAI_NONAME, "no name resolution in tests")

    monkeypatch.setattr(fetch_module, "resolve_addresses", resolve)
    # One client submits the whole matrix: more than a person's budget of verifications.
    app.config["RATELIMIT_VERIFY"] = "1000 per minute"
    app.extensions[FETCHER_EXTENSION] = SafeFetcher(
        allowed_networks=[ipaddress.ip_network("127.0.0.1/32")], ssl_context=foreign.client_tls, timeout=3)
    return app


def _body(case: Case) -> dict[str, Any]:
    return {"credential": case.data} if isinstance(case.data, dict) else {"jwt": case.data}


def _text(case: Case) -> str:
    return json.dumps(case.data) if isinstance(case.data, dict) else case.data


def _check_all(cases: list[Case], verdict_of: Callable[[Case], str]) -> None:
    wrong = {case.name: (got, case.verdict) for case in cases if (got := verdict_of(case)) != case.verdict}
    assert wrong == {}, "got / expected"
    forged = [case for case in cases if case.verdict not in VALID_VERDICTS]
    assert len(forged) >= 20


def test_the_api_gives_each_forgery_its_verdict(web_app: Flask, client: FlaskClient, cases: list[Case]) -> None:
    def verdict(case: Case) -> str:
        response = client.post("/api/v1/verify", json=_body(case))
        assert response.status_code == 200, response.get_data(as_text=True)
        body = response.get_json()
        assert body["issuer_confirmed"] is (body["verdict"] == "valid"), case.name
        assert body["verified"] is (body["verdict"] in ("valid", "issuer_unconfirmed")), case.name
        return str(body["verdict"])

    _check_all(cases, verdict)


def test_the_verify_page_gives_each_forgery_its_verdict(web_app: Flask, client: FlaskClient,
                                                        cases: list[Case]) -> None:
    titles = {str(text.title): code for code, text in VERDICTS.items()}
    token = token_of(client, "/verify")

    def verdict(case: Case) -> str:
        response = client.post("/verify", data={"csrf_token": token, "credential_text": _text(case)},
                               content_type="multipart/form-data")
        assert response.status_code == 200
        return titles[verdict_title(response.get_data(as_text=True))]

    _check_all(cases, verdict)


def test_the_wallet_import_gives_each_forgery_its_verdict(web_app: Flask, client: FlaskClient, setup: Any,
                                                          cases: list[Case]) -> None:
    world = setup(build_wallet_world)
    sign_in(client, world["lea"])
    titles = {str(text.title): code for code, text in VERDICTS.items()}

    def verdict(case: Case) -> str:
        name = "badge.json" if isinstance(case.data, dict) else "badge.jwt"
        data = {"csrf_token": token_of(client, "/wallet/import"),
                "credential_file": (io.BytesIO(_text(case).encode()), name)}
        response = client.post("/wallet/import", data=data, content_type="multipart/form-data")
        assert response.status_code == 302, response.get_data(as_text=True)[:2000]
        return titles[verdict_title(client.get(response.headers["Location"]).get_data(as_text=True))]

    _check_all(cases, verdict)


def test_the_cli_gives_each_forgery_its_verdict_offline(runner: Any, cases: list[Case], foreign: Foreign,
                                                        tmp_path: Path) -> None:
    # Offline, the CLI reads the issuers' documents from files: the same documents the server publishes.
    options: list[str] = []
    for number, (url, document) in enumerate(foreign.world.documents.items()):
        path = tmp_path / f"document-{number}.json"
        path.write_text(json.dumps(document), encoding="utf-8")
        options += ["--document", f"{url}={path}"]

    def verdict(case: Case) -> str:
        path = tmp_path / "badge"
        path.write_text(_text(case), encoding="utf-8")
        result = runner.invoke(args=["verify", str(path), "--json", "--now", "2026-06-01T12:00:00Z", *options])
        report = json.loads(result.output)
        assert result.exit_code == (0 if report["verified"] else 1)
        # The CLI has no plain-words verdict: verified and issuer_confirmed say the same three states.
        if report["verified"]:
            return "valid" if report["issuer_confirmed"] else "issuer_unconfirmed"
        return "not valid"

    expected = {"valid": "valid", "issuer_unconfirmed": "issuer_unconfirmed"}
    wrong = {case.name: got for case in cases if (got := verdict(case)) != expected.get(case.verdict, "not valid")}
    assert wrong == {}


def test_a_did_web_issuer_whose_server_cannot_be_reached_is_could_not_be_checked_now(
        web_app: Flask, client: FlaskClient, foreign: Foreign) -> None:
    # The same genuine badge, under a did:web whose host does not resolve: never valid, retryable.
    world = build_world("unreachable.test")
    document = sign_data_integrity(credential(world.web, 900), ed_key("victim"), f"{world.web}#key-1", CREATED)
    body = client.post("/api/v1/verify", json={"credential": document}).get_json()
    assert (body["verdict"], body["verified"], body["issuer_confirmed"]) == ("check_later", False, False)
    assert body["verdict_title"] == "Could not be checked now"


def _our_plans(did: str, foreign_world: World) -> list[Plan]:
    attacker = multikey("attacker")
    return [
        Plan("our did:web di own key in fragment", did, "di", "attacker", "not_genuine", method=f"{did}#{attacker}"),
        Plan("our did:web jwt own key in jwk header", did, "jwt", "attacker", "not_genuine", embed=True),
        Plan("our did:web di other issuer's real key", did, "di", "other", "not_genuine",
             method=f"{foreign_world.other}#key-1"),
    ]


def test_forgeries_in_the_name_of_our_own_issuers_are_not_genuine(web_app: Flask, client: FlaskClient,
                                                                  setup: Any, foreign: Foreign) -> None:
    world = setup(build_wallet_world)
    did = did_web_of(base_url_of(web_app.config), world["a"])
    for number, plan in enumerate(_our_plans(did, foreign.world), start=800):
        document = credential(did, number)
        if plan.proof == "di":
            assert plan.method is not None
            data: Any = sign_data_integrity(document, ed_key(plan.key), plan.method, CREATED)
            body = client.post("/api/v1/verify", json={"credential": data}).get_json()
        else:
            key = rsa_key(plan.key)
            payload = json.dumps(jwt_payload(document)).encode()
            token = api_jws.PyJWS().encode(payload, key, algorithm="RS256",
                                           headers={"typ": None, "jwk": public_jwk(key.public_key())})
            body = client.post("/api/v1/verify", json={"jwt": token}).get_json()
        assert (plan.name, body["verdict"], body["issuer_confirmed"]) == (plan.name, plan.verdict, False), [
            (check["id"], check["code"]) for check in body["checks"] if check["status"] != "passed"]
    assert re.fullmatch(r"did:web:.+:issuers:.+", did)


def test_a_foreign_did_document_is_fetched_once_per_cache_lifetime(web_app: Flask, client: FlaskClient,
                                                                   cases: list[Case], foreign: Foreign) -> None:
    genuine = next(case for case in cases if case.name == "did:web di genuine")
    path = "/issuers/victim/did.json"
    before = _Handler.requested.count(path)
    for _ in range(3):
        assert client.post("/api/v1/verify", json=_body(genuine)).get_json()["verdict"] == "valid"
    assert _Handler.requested.count(path) - before == 1
