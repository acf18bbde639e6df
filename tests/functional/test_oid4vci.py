"""OpenID4VCI 1.0, pre-authorized code flow: from the wallet card's offer to a credential bound to the holder.

The wallet is played here by plain HTTP calls and keys made in the test (the independent npm client runs the
same flow in tests/interop). Each refusal the issue lists has its test: a replayed code, a wrong transaction
code, a stale or reused nonce, a proof by another key, an expired access token.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import re
import time
from typing import Any
from urllib.parse import parse_qs, urlsplit

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from flask import current_app
from flask.testing import FlaskClient
from sqlalchemy import select

from badgehub.audit.models import AuditEvent
from badgehub.credentials.did import did_key_from_ed25519
from badgehub.credentials.keys import ed25519_raw_public_key, public_jwk
from badgehub.extensions import db
from badgehub.issuing import service as issuing
from badgehub.oid4vci.models import CredentialOffer, IssuanceNonce
from tests.conftest import sign_in, token_of
from tests.functional.test_wallet import LEA, award, build_wallet_world, no_name_resolution

__all__ = ["no_name_resolution"]

ISSUER = "http://localhost"
LDP = "OpenBadgeCredential_ldp_vc"
JWT = "OpenBadgeCredential_jwt_vc_json"


@pytest.fixture
def world(snapshot: Any) -> dict[str, Any]:
    return snapshot(build_wallet_world)


@pytest.fixture
def badge(setup: Any, world: dict[str, Any]) -> str:
    return award(setup, world, LEA, evidence_url="https://evidence.example/photo", narrative="Fixed three bikes")


def make_offer(client: FlaskClient, outbox: Any, world: dict[str, Any], public_id: str) -> tuple[dict[str, Any], str]:
    """Ask for an offer on Léa's wallet card; return the credential offer object and the e-mailed code."""
    sign_in(client, world["lea"])
    card = f"/wallet/c/{public_id}"
    response = client.post(f"{card}/phone-wallet", data={"csrf_token": token_of(client, card)})
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.headers["Cache-Control"] == "no-store"
    html = response.get_data(as_text=True)
    link = re.search(r'href="(openid-credential-offer://[^"]+)"', html)
    assert link, "the page links to the wallet app"
    offer_uri = parse_qs(urlsplit(link.group(1).replace("&amp;", "&")).query)["credential_offer_uri"][0]
    assert offer_uri.startswith(f"{ISSUER}/oid4vci/offers/")
    fetched = client.get(offer_uri.removeprefix(ISSUER))
    assert fetched.headers["Cache-Control"] == "no-store"
    offer = fetched.get_json()
    message = outbox()[-1]
    assert message["To"] == LEA.lower()
    code = re.search(r"^[ \t]+(\d{6})\s*$", message.get_content(), re.MULTILINE)
    assert code, message.get_content()
    return offer, code.group(1)


def pre_authorized_code(offer: dict[str, Any]) -> str:
    return str(offer["grants"]["urn:ietf:params:oauth:grant-type:pre-authorized_code"]["pre-authorized_code"])


def redeem(client: FlaskClient, code: str, tx_code: str | None) -> Any:
    data = {"grant_type": "urn:ietf:params:oauth:grant-type:pre-authorized_code", "pre-authorized_code": code}
    if tx_code is not None:
        data["tx_code"] = tx_code
    return client.post("/oid4vci/token", data=data)


def access_token(client: FlaskClient, offer: dict[str, Any], tx_code: str) -> str:
    response = redeem(client, pre_authorized_code(offer), tx_code)
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["token_type"] == "Bearer" and body["expires_in"] > 0
    return str(body["access_token"])


def fresh_nonce(client: FlaskClient) -> str:
    response = client.post("/oid4vci/nonce")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    return str(response.get_json()["c_nonce"])


class Holder:
    """A wallet's Ed25519 key, named in its proofs by a did:key DID URL."""

    def __init__(self) -> None:
        self.key = ed25519.Ed25519PrivateKey.generate()
        self.did = did_key_from_ed25519(ed25519_raw_public_key(self.key))
        self.kid = f"{self.did}#{self.did.removeprefix('did:key:')}"

    def proof(self, nonce: str, *, aud: str = ISSUER, iat: float | None = None, kid: str | None = None,
              key: Any = None) -> str:
        claims = {"aud": aud, "iat": int(iat if iat is not None else time.time()), "nonce": nonce}
        return jwt.encode(claims, key or self.key, algorithm="EdDSA",
                          headers={"typ": "openid4vci-proof+jwt", "kid": kid or self.kid})


def ask(client: FlaskClient, token: str, proof: str, configuration: str = LDP) -> Any:
    return client.post("/oid4vci/credential", json={"credential_configuration_id": configuration,
                                                    "proofs": {"jwt": [proof]}},
                       headers={"Authorization": f"Bearer {token}"})


@pytest.fixture
def flow(client: FlaskClient, outbox: Any, world: dict[str, Any], badge: str) -> tuple[dict[str, Any], str]:
    return make_offer(client, outbox, world, badge)


def test_metadata_names_the_endpoints_and_both_formats(client: FlaskClient) -> None:
    issuer = client.get("/.well-known/openid-credential-issuer").get_json()
    assert issuer["credential_issuer"] == ISSUER
    assert issuer["credential_endpoint"] == f"{ISSUER}/oid4vci/credential"
    assert issuer["nonce_endpoint"] == f"{ISSUER}/oid4vci/nonce"
    assert {c["format"] for c in issuer["credential_configurations_supported"].values()} == {"ldp_vc", "jwt_vc_json"}
    assert issuer["authorization_servers"] == [f"{ISSUER}/oid4vci"]
    server = client.get("/.well-known/oauth-authorization-server/oid4vci").get_json()
    assert server["issuer"] == f"{ISSUER}/oid4vci" and server["token_endpoint"] == f"{ISSUER}/oid4vci/token"
    assert server["pre-authorized_grant_anonymous_access_supported"] is True


def test_the_wallet_card_offers_a_qr_code_and_mails_the_transaction_code(flow: tuple[dict[str, Any], str]) -> None:
    offer, tx_code = flow
    assert offer["credential_issuer"] == ISSUER
    assert offer["credential_configuration_ids"] == [LDP, JWT]
    grant = offer["grants"]["urn:ietf:params:oauth:grant-type:pre-authorized_code"]
    assert grant["tx_code"]["length"] == 6 and grant["tx_code"]["input_mode"] == "numeric"
    assert "@" not in grant["tx_code"]["description"]  # whoever holds the link learns no address
    assert len(tx_code) == 6


def test_the_whole_flow_gives_an_ldp_vc_bound_to_the_holder_that_verifies(
        client: FlaskClient, flow: tuple[dict[str, Any], str], badge: str, query: Any) -> None:
    offer, tx_code = flow
    token = access_token(client, offer, tx_code)
    holder = Holder()
    response = ask(client, token, holder.proof(fresh_nonce(client)))
    assert response.status_code == 200, response.get_json()
    assert response.headers["Cache-Control"] == "no-store"
    document = response.get_json()["credentials"][0]["credential"]
    original = json.loads(query(lambda: issuing.get_credential(badge).document_json))
    assert document["credentialSubject"]["id"] == holder.did
    assert document["credentialSubject"]["achievement"] == original["credentialSubject"]["achievement"]
    assert document["credentialSubject"]["identifier"] == original["credentialSubject"]["identifier"]
    assert document["credentialStatus"] == original["credentialStatus"]
    assert document["evidence"] == original["evidence"] and document["evidence"]
    assert document["id"] == original["id"]
    assert [proof["cryptosuite"] for proof in document["proof"]] == ["eddsa-rdfc-2022"]
    report = client.post("/api/v1/verify", json={"credential": document}).get_json()
    assert (report["verdict"], report["verified"]) == ("valid", True), report
    events = query(lambda: db.session.scalars(select(AuditEvent.action).where(
        AuditEvent.action.like("credential.%wallet%"))).all())
    assert sorted(events) == ["credential.sent_to_wallet", "credential.wallet_offer_created"]


def test_jwt_vc_json_names_the_holder_as_subject_and_verifies(client: FlaskClient,
                                                              flow: tuple[dict[str, Any], str]) -> None:
    offer, tx_code = flow
    token = access_token(client, offer, tx_code)
    holder = Holder()
    response = ask(client, token, holder.proof(fresh_nonce(client)), JWT)
    assert response.status_code == 200, response.get_json()
    compact = response.get_json()["credentials"][0]["credential"]
    assert jwt.decode(compact, options={"verify_signature": False})["sub"] == holder.did
    report = client.post("/api/v1/verify", json={"jwt": compact}).get_json()
    assert (report["verdict"], report["verified"]) == ("valid", True), report


def test_a_p256_key_given_as_jwk_gets_a_did_jwk_subject(client: FlaskClient, flow: tuple[dict[str, Any], str]) -> None:
    offer, tx_code = flow
    token = access_token(client, offer, tx_code)
    key = ec.generate_private_key(ec.SECP256R1())
    jwk = public_jwk(key)
    proof = jwt.encode({"aud": ISSUER, "iat": int(time.time()), "nonce": fresh_nonce(client)}, key, algorithm="ES256",
                       headers={"typ": "openid4vci-proof+jwt", "jwk": jwk})
    response = ask(client, token, proof)
    assert response.status_code == 200, response.get_json()
    subject = response.get_json()["credentials"][0]["credential"]["credentialSubject"]["id"]
    assert subject.startswith("did:jwk:")
    encoded = subject.removeprefix("did:jwk:")
    assert json.loads(base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4))) == jwk


def test_a_replayed_pre_authorized_code_is_refused(client: FlaskClient, flow: tuple[dict[str, Any], str]) -> None:
    offer, tx_code = flow
    access_token(client, offer, tx_code)
    again = redeem(client, pre_authorized_code(offer), tx_code)
    assert again.status_code == 400
    assert again.get_json()["error"] == "invalid_grant"


def test_a_wrong_transaction_code_is_refused_and_the_fifth_kills_the_offer(
        client: FlaskClient, flow: tuple[dict[str, Any], str]) -> None:
    offer, tx_code = flow
    wrong = f"{(int(tx_code) + 1) % 1_000_000:06d}"
    missing = redeem(client, pre_authorized_code(offer), None)
    assert (missing.status_code, missing.get_json()["error"]) == (400, "invalid_request")
    for _ in range(5):
        refused = redeem(client, pre_authorized_code(offer), wrong)
        assert (refused.status_code, refused.get_json()["error"]) == (400, "invalid_grant")
        assert refused.get_json()["error_description"]
    assert redeem(client, pre_authorized_code(offer), tx_code).get_json()["error"] == "invalid_grant"


def test_a_new_offer_withdraws_the_one_not_yet_used(client: FlaskClient, outbox: Any, world: dict[str, Any],
                                                   badge: str) -> None:
    first, first_code = make_offer(client, outbox, world, badge)
    second, second_code = make_offer(client, outbox, world, badge)
    assert redeem(client, pre_authorized_code(first), first_code).get_json()["error"] == "invalid_grant"
    assert redeem(client, pre_authorized_code(second), second_code).status_code == 200


def test_an_expired_offer_is_refused(client: FlaskClient, flow: tuple[dict[str, Any], str], setup: Any) -> None:
    offer, tx_code = flow
    past = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)
    setup(lambda: db.session.execute(db.update(CredentialOffer).values(expires_at=past)))
    assert redeem(client, pre_authorized_code(offer), tx_code).get_json()["error"] == "invalid_grant"


def test_a_stale_or_reused_nonce_is_refused(client: FlaskClient, flow: tuple[dict[str, Any], str],
                                            setup: Any) -> None:
    offer, tx_code = flow
    token = access_token(client, offer, tx_code)
    holder = Holder()
    nonce = fresh_nonce(client)
    assert ask(client, token, holder.proof(nonce)).status_code == 200
    reused = ask(client, token, holder.proof(nonce))
    assert (reused.status_code, reused.get_json()["error"]) == (400, "invalid_nonce")
    stale = fresh_nonce(client)
    past = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)
    setup(lambda: db.session.execute(db.update(IssuanceNonce).where(IssuanceNonce.used_at.is_(None))
                                     .values(expires_at=past)))
    refused = ask(client, token, holder.proof(stale))
    assert (refused.status_code, refused.get_json()["error"]) == (400, "invalid_nonce")
    never_given = ask(client, token, holder.proof("made-up"))
    assert never_given.get_json()["error"] == "invalid_nonce"


def test_a_bad_key_proof_is_refused(client: FlaskClient, flow: tuple[dict[str, Any], str]) -> None:
    offer, tx_code = flow
    token = access_token(client, offer, tx_code)
    holder = Holder()

    def claims(nonce: str) -> dict[str, Any]:
        return {"aud": ISSUER, "iat": int(time.time()), "nonce": nonce}

    tampered = {
        "other_key": lambda nonce: holder.proof(nonce, key=ed25519.Ed25519PrivateKey.generate()),
        "other_audience": lambda nonce: holder.proof(nonce, aud="https://another-issuer.example"),
        "old": lambda nonce: holder.proof(nonce, iat=time.time() - 3600),
        "wrong_typ": lambda nonce: jwt.encode(claims(nonce), holder.key, algorithm="EdDSA",
                                              headers={"typ": "JWT", "kid": holder.kid}),
        "two_keys": lambda nonce: jwt.encode(claims(nonce), holder.key, algorithm="EdDSA", headers={
            "typ": "openid4vci-proof+jwt", "kid": holder.kid, "jwk": public_jwk(holder.key)}),
        "no_nonce": lambda nonce: jwt.encode({"aud": ISSUER, "iat": int(time.time())}, holder.key,
                                             algorithm="EdDSA",
                                             headers={"typ": "openid4vci-proof+jwt", "kid": holder.kid}),
    }
    for name, make in tampered.items():
        refused = ask(client, token, make(fresh_nonce(client)))
        assert (refused.status_code, refused.get_json()["error"]) == (400, "invalid_proof"), (name, refused.get_json())
        assert refused.get_json()["error_description"], name


def test_an_expired_or_unknown_access_token_is_refused(client: FlaskClient, flow: tuple[dict[str, Any], str],
                                                      setup: Any) -> None:
    offer, tx_code = flow
    token = access_token(client, offer, tx_code)
    past = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)
    setup(lambda: db.session.execute(db.update(CredentialOffer).values(token_expires_at=past)))
    for value in (token, "not-a-token"):
        refused = ask(client, value, Holder().proof(fresh_nonce(client)))
        assert refused.status_code == 401
        assert refused.get_json()["error"] == "invalid_token"
        assert refused.headers["WWW-Authenticate"] == 'Bearer error="invalid_token"'
    assert client.post("/oid4vci/credential", json={}).status_code == 401


def test_a_malformed_credential_request_gets_its_error(client: FlaskClient,
                                                       flow: tuple[dict[str, Any], str]) -> None:
    offer, tx_code = flow
    token = access_token(client, offer, tx_code)
    headers = {"Authorization": f"Bearer {token}"}
    for body, error in [({"credential_configuration_id": "Diploma"}, "unknown_credential_configuration"),
                        ({"credential_configuration_id": LDP}, "invalid_proof"),
                        ({"credential_configuration_id": LDP, "proofs": {"jwt": ["a", "b"]}}, "invalid_proof"),
                        ([1, 2], "invalid_credential_request")]:
        refused = client.post("/oid4vci/credential", json=body, headers=headers)
        assert (refused.status_code, refused.get_json()["error"]) == (400, error), body
    not_json = client.post("/oid4vci/credential", data="x", headers=headers)
    assert (not_json.status_code, not_json.get_json()["error"]) == (400, "invalid_request")


def test_the_token_endpoint_wants_the_pre_authorized_grant(client: FlaskClient) -> None:
    assert client.post("/oid4vci/token", data={}).get_json()["error"] == "invalid_request"
    password = client.post("/oid4vci/token", data={"grant_type": "password"})
    assert password.get_json()["error"] == "unsupported_grant_type"
    unknown = redeem(client, "no-such-code", "123456")
    assert (unknown.status_code, unknown.get_json()["error"]) == (400, "invalid_grant")


def test_a_revoked_badge_is_not_offered_nor_delivered(client: FlaskClient, outbox: Any, world: dict[str, Any],
                                                      badge: str, flow: tuple[dict[str, Any], str],
                                                      setup: Any) -> None:
    offer, tx_code = flow
    token = access_token(client, offer, tx_code)
    setup(lambda: issuing.revoke_credential(issuing.get_credential(badge), reason="error", actor_id=None,
                                            config=current_app.config))
    denied = ask(client, token, Holder().proof(fresh_nonce(client)))
    assert (denied.status_code, denied.get_json()["error"]) == (400, "credential_request_denied")
    sign_in(client, world["lea"])
    card = client.get(f"/wallet/c/{badge}").get_data(as_text=True)
    assert "phone-wallet" not in card
    refused = client.post(f"/wallet/c/{badge}/phone-wallet", data={"csrf_token": token_of(client, "/wallet")})
    assert refused.status_code == 409


def test_someone_elses_badge_cannot_be_offered(client: FlaskClient, world: dict[str, Any], badge: str) -> None:
    sign_in(client, world["bob"])
    response = client.post(f"/wallet/c/{badge}/phone-wallet", data={"csrf_token": token_of(client, "/wallet")})
    assert response.status_code == 404


def test_the_award_email_carries_an_offer_that_works_once_without_a_transaction_code(
        client: FlaskClient, setup: Any, world: dict[str, Any], outbox: Any) -> None:
    from flask import current_app

    from badgehub.mails.awards import notify_recipient

    public_id = award(setup, world, LEA)
    setup(lambda: notify_recipient(issuing.get_credential(public_id), current_app.config))
    message = outbox()[-1]
    link = re.search(r"^(openid-credential-offer://\S+)\s*$", message.get_body(("plain",)).get_content(), re.MULTILINE)
    assert link, "the e-mail gives the offer link"
    assert [part.get_filename() for part in message.iter_attachments()][-1] == f"wallet-app-{public_id}.png"
    offer_uri = parse_qs(urlsplit(link.group(1)).query)["credential_offer_uri"][0]
    assert offer_uri.startswith(f"{ISSUER}/oid4vci/offers/")
    offer = client.get(offer_uri.removeprefix(ISSUER)).get_json()
    assert "tx_code" not in offer["grants"]["urn:ietf:params:oauth:grant-type:pre-authorized_code"]
    token = access_token(client, offer, "")
    holder = Holder()
    response = ask(client, token, holder.proof(fresh_nonce(client)))
    assert response.get_json()["credentials"][0]["credential"]["credentialSubject"]["id"] == holder.did
    again = redeem(client, pre_authorized_code(offer), None)
    assert (again.status_code, again.get_json()["error"]) == (400, "invalid_grant")
    assert client.get(offer_uri.removeprefix(ISSUER)).status_code == 404  # used: the link says so
    forged = redeem(client, pre_authorized_code(offer)[:-2] + "xx", None)
    assert forged.get_json()["error"] == "invalid_grant", (forged.status_code, forged.get_data(as_text=True))


def test_a_signing_failure_is_an_oauth_shaped_error_not_a_page(app: Any, client: FlaskClient,
                                                               flow: tuple[dict[str, Any], str]) -> None:
    offer, tx_code = flow
    token = access_token(client, offer, tx_code)
    app.config["KEK"] = None  # the installation lost its key-encryption key: nothing can be signed
    failed = ask(client, token, Holder().proof(fresh_nonce(client)))
    assert failed.status_code >= 500 and failed.mimetype == "application/json"
    assert failed.get_json()["error"] == "server_error" and failed.get_json()["error_description"]
