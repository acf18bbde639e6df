"""An independent wallet (``@openid4vc/openid4vci`` from the OpenWallet Foundation, in node) runs the whole
pre-authorized code flow against a running BadgeHub: offer, metadata, token with the e-mailed transaction
code, nonce, key proof, credential. What it receives verifies in the Digital Bazaar stack (ldp_vc) and with
jose (jwt_vc_json), against the DID document and JWK set the server publishes, and names the wallet's DID."""

from __future__ import annotations

import base64
import datetime as dt
import json
import subprocess
from typing import Any
from urllib.request import urlopen

import pytest
from flask import current_app

from badgehub.accounts.models import User
from badgehub.accounts.service import create_user
from badgehub.achievements.service import public_achievement
from badgehub.extensions import db
from badgehub.issuing import service as issuing
from badgehub.oid4vci import service as oid4vci
from badgehub.oid4vci.award_mail import award_mail_offer
from tests.browser.conftest import LiveServer, live_server
from tests.factories import build_world

from .conftest import HERE, JsPeer, run_node
from .test_published_identity import did_resolution, js_verify

pytestmark = pytest.mark.interop

__all__ = ["live_server"]

LEA = "lea@example.net"


def _offer(server: LiveServer) -> tuple[str, str, dict[str, Any], str]:
    """Award a badge to Léa and make her an offer; return (offer link, tx code, original document, org slug)."""
    with server.app.test_request_context():
        ids = build_world().ids()
        lea = create_user(LEA, name="Léa", verified=True)
        achievement = public_achievement(ids["repair"])
        credential = issuing.issue_credential(
            organisation=achievement.organisation, achievement=achievement, recipient_email=LEA,
            recipient_name="Léa", actor_id=None, source="cli", config=current_app.config)
        made = oid4vci.create_offer(db.session.get(User, lea.id), credential, lifetime=dt.timedelta(minutes=5))
        link = oid4vci.offer_uri_link(f"{server.url}/oid4vci/offers/{made.pre_authorized_code}")
        original, slug = json.loads(credential.document_json), credential.organisation.slug
        db.session.commit()
        return link, made.tx_code, original, slug


def _get(url: str) -> Any:
    with urlopen(url, timeout=10) as answer:
        return json.loads(answer.read())


def test_an_independent_wallet_receives_a_badge_bound_to_its_key_that_verifies(
        node: str, live_server: LiveServer, js_peer: JsPeer) -> None:
    link, tx_code, original, slug = _offer(live_server)
    result = run_node(node, "oid4vci_wallet.mjs", {
        "offer": link, "txCode": tx_code,
        "configurations": [oid4vci.LDP_VC, oid4vci.JWT_VC_JSON]})
    assert result["version"] == "V1"
    assert result["offered"] == [oid4vci.LDP_VC, oid4vci.JWT_VC_JSON]
    holder = result["holderDid"]

    document = result["credentials"][oid4vci.LDP_VC]
    assert document["credentialSubject"]["id"] == holder
    assert document["credentialSubject"]["achievement"] == original["credentialSubject"]["achievement"]
    assert document["credentialStatus"] == original["credentialStatus"]
    did_document = _get(f"{live_server.url}/issuers/{slug}/did.json")
    verified = js_verify(document, did_resolution(did_document))
    assert verified["verified"] is True, verified

    token = result["credentials"][oid4vci.JWT_VC_JSON]
    jwks = _get(f"{live_server.url}/issuers/{slug}/jwks.json")["keys"]
    header = json.loads(_b64(token.split(".")[0]))
    key = next(k for k in jwks if header["kid"].endswith(k["kid"]) or k["kid"] == header["kid"])
    checked = js_peer.call("verifyJwt", token=token, jwk=key, alg=header["alg"])
    assert checked["verified"] is True, checked
    assert checked["payload"]["sub"] == holder


def test_the_independent_wallet_is_refused_with_a_wrong_transaction_code(node: str, live_server: LiveServer) -> None:
    link, tx_code, _, _ = _offer(live_server)
    wrong = f"{(int(tx_code) + 1) % 1_000_000:06d}"
    completed = subprocess.run([node, str(HERE / "oid4vci_wallet.mjs")], input=json.dumps({
        "offer": link, "txCode": wrong, "configurations": [oid4vci.LDP_VC]}), capture_output=True, text=True,
        cwd=HERE, timeout=60, check=False)
    assert completed.returncode != 0
    assert "invalid_grant" in completed.stderr


def _b64(segment: str) -> bytes:
    return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))


def test_the_independent_wallet_takes_the_award_emails_offer_by_reference(node: str, live_server: LiveServer) -> None:
    with live_server.app.test_request_context():
        ids = build_world().ids()
        achievement = public_achievement(ids["repair"])
        credential = issuing.issue_credential(
            organisation=achievement.organisation, achievement=achievement, recipient_email=LEA,
            recipient_name="Léa", actor_id=None, source="cli", config=current_app.config)
        db.session.commit()
        link = award_mail_offer(credential, live_server.app.config).link
    assert "credential_offer_uri=" in link
    result = run_node(node, "oid4vci_wallet.mjs", {"offer": link, "txCode": None,
                                                   "configurations": [oid4vci.LDP_VC]})
    assert result["credentials"][oid4vci.LDP_VC]["credentialSubject"]["id"] == result["holderDid"]
