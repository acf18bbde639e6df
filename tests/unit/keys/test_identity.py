"""Issuer identifiers and identity documents: badgehub.keys.identity."""

from __future__ import annotations

import datetime as dt
import json
import re
from typing import Any

import pytest

from badgehub.config import ConfigError
from badgehub.credentials.did import did_web_to_url
from badgehub.credentials.documents import issuer_profile_document
from badgehub.credentials.keys import ed25519_public_key_from_multikey, public_key_from_jwk
from badgehub.keys.errors import NoActiveKey
from badgehub.keys.identity import (
    JWK_V1_CONTEXT,
    IssuerIdStyle,
    did_document,
    did_web_of,
    installation_jwk_set,
    issuer_id_of,
    issuer_id_style,
    issuer_profile,
    jwk_set,
    key_jwk,
    published_did_document,
    published_jwk_set,
    revoked_value,
    signing_identity,
)
from badgehub.keys.models import KeyAlgorithm, KeyState
from badgehub.keys.service import (
    create_organisation_keys,
    declare_compromised,
    public_jwk_of,
    published_keys,
    rotate_keys,
)
from badgehub.organisations.models import Organisation

PRIVATE_MEMBERS = {"d", "p", "q", "dp", "dq", "qi", "oth", "k"}
CONFIG = {"BASE_URL": "https://badges.example.org", "ISSUER_ID_STYLE": "did:web"}
KEY_CONFIG = {"BASE_URL": "https://badges.example.org", "ISSUER_ID_STYLE": "did:key"}


def members(document: Any) -> set[str]:
    """Every member name anywhere in a JSON document."""
    found: set[str] = set()
    stack = [document]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            found.update(node)
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    return found


@pytest.fixture
def organisation(make_organisation: Any, kek: bytes) -> Organisation:
    organisation = make_organisation("atelier-velo")
    create_organisation_keys(organisation, kek)
    return organisation


# --------------------------------------------------------------------------------------- identifiers


@pytest.mark.parametrize(("base_url", "did", "document_url"), [
    ("https://badges.example.org", "did:web:badges.example.org:issuers:atelier-velo",
     "https://badges.example.org/issuers/atelier-velo/did.json"),
    ("https://badges.example.org/", "did:web:badges.example.org:issuers:atelier-velo",
     "https://badges.example.org/issuers/atelier-velo/did.json"),
    ("https://Badges.Example.org:8443/hub", "did:web:badges.example.org%3A8443:hub:issuers:atelier-velo",
     "https://badges.example.org:8443/hub/issuers/atelier-velo/did.json"),
    ("http://localhost:5000", "did:web:localhost%3A5000:issuers:atelier-velo",
     "https://localhost:5000/issuers/atelier-velo/did.json"),
])
def test_did_web_is_derived_from_the_base_url_and_resolves_to_the_did_json_route(base_url, did, document_url):
    assert did_web_of(base_url, "atelier-velo") == did
    # The did:web read algorithm lands exactly on the route that serves the document.
    assert did_web_to_url(did) == document_url


def test_a_base_url_that_cannot_make_a_did_web_is_a_configuration_error():
    with pytest.raises(ConfigError):
        did_web_of("https://bad_host.example", "atelier-velo")


@pytest.mark.parametrize(("value", "style"), [
    (None, IssuerIdStyle.DID_WEB), ("", IssuerIdStyle.DID_WEB), ("did:web", IssuerIdStyle.DID_WEB),
    ("DID:KEY", IssuerIdStyle.DID_KEY), (" did:key ", IssuerIdStyle.DID_KEY),
])
def test_issuer_id_style_defaults_to_did_web(value, style):
    assert issuer_id_style({"ISSUER_ID_STYLE": value}) is style


def test_an_unknown_issuer_id_style_names_the_variable():
    with pytest.raises(ConfigError, match="BADGEHUB_ISSUER_ID_STYLE"):
        issuer_id_style({"ISSUER_ID_STYLE": "https"})


def test_the_app_default_style_is_did_web(app):
    assert app.config["ISSUER_ID_STYLE"] == "did:web"
    assert issuer_id_style(app.config) is IssuerIdStyle.DID_WEB


def test_did_web_signing_identity_names_the_active_keys_under_the_did(organisation):
    identity = signing_identity(organisation, CONFIG)
    did = "did:web:badges.example.org:issuers:atelier-velo"
    assert identity.issuer_id == did
    assert identity.ed25519_key.algorithm is KeyAlgorithm.ED25519 and identity.ed25519_key.state is KeyState.ACTIVE
    assert identity.rsa_key.algorithm is KeyAlgorithm.RSA_2048 and identity.rsa_key.state is KeyState.ACTIVE
    assert identity.verification_method_id == f"{did}#{identity.ed25519_key.key_id}"
    assert identity.jwt_kid == f"{did}#{identity.rsa_key.key_id}"


def test_did_web_issuer_id_survives_a_rotation_and_the_new_keys_sign(organisation, kek):
    before = signing_identity(organisation, CONFIG)
    rotate_keys(organisation, kek, None)
    after = signing_identity(organisation, CONFIG)
    assert after.issuer_id == before.issuer_id
    assert after.ed25519_key.key_id != before.ed25519_key.key_id
    assert after.jwt_kid != before.jwt_kid


def test_did_key_signing_identity_is_the_active_ed25519_key(organisation):
    identity = signing_identity(organisation, KEY_CONFIG)
    multikey = identity.ed25519_key.public_key
    assert identity.issuer_id == f"did:key:{multikey}"
    assert identity.verification_method_id == f"did:key:{multikey}#{multikey}"
    # A did:key vouches for its own key only: the VC-JWT is signed by it too (EdDSA).
    assert identity.jwt_kid == identity.verification_method_id and identity.jwt_signed_by_ed25519


def test_did_key_issuer_id_changes_with_a_rotation(organisation, kek):
    before = issuer_id_of(organisation, KEY_CONFIG)
    rotate_keys(organisation, kek, None, algorithms=[KeyAlgorithm.ED25519])
    assert issuer_id_of(organisation, KEY_CONFIG) != before


def test_signing_identity_needs_an_active_key_of_each_algorithm(organisation):
    rsa = next(k for k in published_keys(organisation) if k.algorithm is KeyAlgorithm.RSA_2048)
    declare_compromised(rsa, dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1), None, "laptop stolen")
    with pytest.raises(NoActiveKey):
        signing_identity(organisation, CONFIG)


# ----------------------------------------------------------------------------------------- documents


def test_did_document_lists_every_published_key_with_full_did_urls(organisation, kek):
    rotate_keys(organisation, kek, None)
    document = published_did_document(organisation, CONFIG)
    did = "did:web:badges.example.org:issuers:atelier-velo"
    keys = published_keys(organisation)
    assert len(keys) == 4
    assert document["@context"] == ["https://www.w3.org/ns/did/v1", "https://w3id.org/security/multikey/v1",
                                    JWK_V1_CONTEXT]
    assert document["id"] == did
    assert [m["id"] for m in document["verificationMethod"]] == [f"{did}#{k.key_id}" for k in keys]
    # Full DID URLs, as strings, for active AND retired keys (the 1EdTech validator matches nothing else).
    assert document["assertionMethod"] == [f"{did}#{k.key_id}" for k in keys]
    for method, key in zip(document["verificationMethod"], keys, strict=True):
        assert method["controller"] == did
        if key.algorithm is KeyAlgorithm.ED25519:
            assert method["type"] == "Multikey"
            assert method["publicKeyMultibase"] == key.public_key
            ed25519_public_key_from_multikey(method["publicKeyMultibase"])
        else:
            assert method["type"] == "JsonWebKey"
            assert set(method["publicKeyJwk"]) == {"kty", "n", "e"}
            public_key_from_jwk(method["publicKeyJwk"])
        assert "revoked" not in method


def test_compromised_key_stays_authorised_with_its_revoked_date(organisation):
    key = next(k for k in published_keys(organisation) if k.algorithm is KeyAlgorithm.ED25519)
    since = dt.datetime(2026, 3, 1, 12, 0, 0, 250000, tzinfo=dt.UTC)
    declare_compromised(key, since, None, "seed leaked")
    document = published_did_document(organisation, CONFIG)
    method = next(m for m in document["verificationMethod"] if m["id"].endswith(key.key_id))
    assert method["revoked"] == "2026-03-01T12:00:00.25Z"
    assert method["id"] in document["assertionMethod"]


def test_revoked_value_is_an_exact_utc_date_time_stamp(organisation):
    key = published_keys(organisation)[0]
    assert revoked_value(key) is None
    declare_compromised(key, dt.datetime(2026, 3, 1, 13, 30, tzinfo=dt.timezone(dt.timedelta(hours=1))), None, "x")
    assert revoked_value(key) == "2026-03-01T12:30:00Z"


def test_did_document_without_rsa_keys_needs_no_jwk_context(organisation):
    ed25519_only = [k for k in published_keys(organisation) if k.algorithm is KeyAlgorithm.ED25519]
    assert did_document("did:web:example.org:issuers:x", ed25519_only)["@context"] == [
        "https://www.w3.org/ns/did/v1", "https://w3id.org/security/multikey/v1"]


def test_jwk_set_lists_rsa_keys_with_kid_alg_and_issuer(organisation):
    rsa = next(k for k in published_keys(organisation) if k.algorithm is KeyAlgorithm.RSA_2048)
    document = published_jwk_set(organisation, CONFIG)
    did = "did:web:badges.example.org:issuers:atelier-velo"
    # The kid is the token header's kid (the DID URL), so that a JOSE library matching by kid finds the key.
    assert document == {"keys": [{**public_jwk_of(rsa), "kid": f"{did}#{rsa.key_id}", "alg": "RS256", "use": "sig",
                                  "iss": did}]}
    assert document["keys"][0]["kid"] == signing_identity(organisation, CONFIG).jwt_kid


def test_did_key_style_jwks_name_keys_by_their_jwk_address(organisation):
    (jwk,) = published_jwk_set(organisation, KEY_CONFIG)["keys"]
    assert re.fullmatch(r"https://badges\.example\.org/issuers/atelier-velo/keys/key-[a-z2-7]{8}\.json", jwk["kid"])


def test_did_key_style_jwks_carry_no_issuer(organisation):
    assert all("iss" not in jwk for jwk in published_jwk_set(organisation, KEY_CONFIG)["keys"])


def test_published_jwks_copy_only_public_members_even_from_a_tampered_row(organisation):
    rsa = next(k for k in published_keys(organisation) if k.algorithm is KeyAlgorithm.RSA_2048)
    stored = json.loads(rsa.public_key)
    rsa.public_key = json.dumps({**stored, "d": "secret", "p": "x", "q": "y", "dp": "1", "dq": "2", "qi": "3"})
    jwk = key_jwk(rsa, None)
    assert set(jwk) == {"kty", "n", "e", "kid", "alg", "use"}
    assert members(did_document("did:web:example.org:issuers:x", [rsa])) & PRIVATE_MEMBERS == set()


def test_jwk_set_skips_ed25519_keys(organisation):
    keys = published_keys(organisation)
    assert [jwk["kty"] for jwk in jwk_set((k, None, k.key_id) for k in keys)["keys"]] == ["RSA"]


def test_installation_jwk_set_has_every_organisation_and_no_private_member(make_organisation, kek):
    first, second = make_organisation("first-org"), make_organisation("second-org")
    for organisation in (first, second):
        create_organisation_keys(organisation, kek)
    rotate_keys(second, kek, None, algorithms=[KeyAlgorithm.RSA_2048])
    document = installation_jwk_set(CONFIG)
    by_issuer: dict[str, list[str]] = {}
    for jwk in document["keys"]:
        by_issuer.setdefault(jwk["iss"], []).append(jwk["kid"])
    assert by_issuer == {
        did: [f"{did}#{k.key_id}" for k in published_keys(organisation) if k.algorithm is KeyAlgorithm.RSA_2048]
        for did, organisation in (("did:web:badges.example.org:issuers:first-org", first),
                                  ("did:web:badges.example.org:issuers:second-org", second))
    }
    assert members(document) & PRIVATE_MEMBERS == set()


def test_issuer_profile_is_an_ob3_profile_with_cleaned_text(make_organisation, kek):
    organisation = make_organisation("musee")
    organisation.name = "Musée de la ville"
    organisation.description = "Line one\r\nLine two\x07"
    organisation.url = "https://musee.example.org/"
    organisation.email = "contact@musee.example.org"
    organisation.phone = "+33 1 23 45 67 89"
    organisation.image_url = "https://musee.example.org/logo.png"
    organisation.street_address, organisation.postal_code = "1 rue du Musée", "91000"
    organisation.locality, organisation.region, organisation.country_code = "Évry", "Île-de-France", "FR"
    document = issuer_profile_document(issuer_profile(organisation, "did:web:example.org:issuers:musee"))
    assert document == {
        "@context": ["https://www.w3.org/ns/credentials/v2",
                     "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"],
        "id": "did:web:example.org:issuers:musee",
        "type": ["Profile"],
        "name": "Musée de la ville",
        "url": "https://musee.example.org/",
        "email": "contact@musee.example.org",
        "phone": "+33 1 23 45 67 89",
        "description": "Line one\nLine two",
        "image": {"id": "https://musee.example.org/logo.png", "type": "Image"},
        "address": {"type": ["Address"], "addressCountryCode": "FR", "addressRegion": "Île-de-France",
                    "addressLocality": "Évry", "streetAddress": "1 rue du Musée", "postalCode": "91000"},
    }


def test_issuer_profile_without_address_has_none(make_organisation):
    profile = issuer_profile(make_organisation("bare"), "did:web:example.org:issuers:bare")
    assert profile.address is None and profile.description is None
