"""Local resolution of our own issuers (badgehub.keys.resolver) and the compromised-key rule of the pipeline."""

from __future__ import annotations

import base64
import datetime as dt
import json
import uuid
from collections.abc import Mapping
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa
from jwt import api_jws

from badgehub.credentials.data_integrity import sign_data_integrity
from badgehub.credentials.documents import (
    AchievementDefinition,
    Recipient,
    build_credential,
    format_timestamp,
    issuer_profile_document,
)
from badgehub.credentials.vc_jwt import sign_vc_jwt
from badgehub.keys.identity import (
    SigningIdentity,
    installation_jwk_set,
    issuer_profile,
    published_did_document,
    published_jwk_set,
    published_key_jwk,
    signing_identity,
)
from badgehub.keys.models import KeyAlgorithm, KeyState
from badgehub.keys.resolver import OwnIssuerResolver, own_issuer_resolver
from badgehub.keys.service import (
    create_organisation_keys,
    declare_compromised,
    load_private_key,
    public_key_of,
    published_keys,
    rotate_keys,
)
from badgehub.organisations.models import Organisation
from badgehub.verification.pipeline import verify
from badgehub.verification.report import CheckStatus, VerificationReport
from badgehub.verification.resolver import (
    ChainResolver,
    LocalResolver,
    ResolutionError,
    StaticResolver,
)

CONFIG = {"BASE_URL": "https://badges.example.org", "ISSUER_ID_STYLE": "did:web"}
KEY_CONFIG = {"BASE_URL": "https://badges.example.org", "ISSUER_ID_STYLE": "did:key"}
DID = "did:web:badges.example.org:issuers:atelier-velo"
P, F, W = CheckStatus.PASSED, CheckStatus.FAILED, CheckStatus.WARNING


# -------------------------------------------------- helpers shared with the functional and interop tests


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(microsecond=0)


def make_credential(organisation: Organisation, identity: SigningIdentity, valid_from: dt.datetime) -> dict[str, Any]:
    """An unsigned OB 3.0 credential in the organisation's name, as the issuing work will build it."""
    return build_credential(
        credential_id=f"urn:uuid:{uuid.uuid4()}",
        issuer=issuer_profile(organisation, identity.issuer_id),
        achievement=AchievementDefinition(
            id="https://badges.example.org/achievements/a1", name="Réparer son vélo",
            description="Sait démonter, réparer et remonter une roue.", criteria_narrative="Atelier de 3 heures.",
            achievement_type="Badge"),
        recipient=Recipient(email="lea@example.org", salt="s4lt"),
        valid_from=valid_from,
    )


def sign_di(
    credential: Mapping[str, Any], identity: SigningIdentity, kek: bytes, created: dt.datetime
) -> dict[str, Any]:
    """Sign with the organisation's Ed25519 key, as ``identity`` says (the key must still be active)."""
    private_key = load_private_key(identity.ed25519_key, kek)
    assert isinstance(private_key, ed25519.Ed25519PrivateKey)
    return sign_data_integrity(credential, private_key, identity.verification_method_id, format_timestamp(created))


def sign_jwt(credential: Mapping[str, Any], identity: SigningIdentity, kek: bytes) -> str:
    """Sign a VC-JWT as issuing does: the RSA key (RS256) in did:web style, the did:key's own Ed25519 key
    (EdDSA) in did:key style; kid as ``identity`` says."""
    if identity.jwt_signed_by_ed25519:
        return sign_vc_jwt(credential, load_private_key(identity.ed25519_key, kek), identity.jwt_kid, alg="EdDSA")
    private_key = load_private_key(identity.rsa_key, kek)
    assert isinstance(private_key, rsa.RSAPrivateKey)
    return sign_vc_jwt(credential, private_key, identity.jwt_kid)


def outcome(report: VerificationReport, check_id: str) -> tuple[CheckStatus, str]:
    check = report.check(check_id)
    assert check is not None
    return check.status, check.code


def checks(report: VerificationReport) -> list[dict[str, Any]]:
    return [check.to_dict() for check in report.checks]


# ------------------------------------------------------------------------------------------- fixtures


@pytest.fixture
def organisation(make_organisation: Any, kek: bytes) -> Organisation:
    organisation = make_organisation("atelier-velo")
    create_organisation_keys(organisation, kek)
    return organisation


@pytest.fixture
def other(make_organisation: Any, kek: bytes) -> Organisation:
    organisation = make_organisation("autre-asso")
    create_organisation_keys(organisation, kek)
    return organisation


@pytest.fixture
def resolver(ctx: Any) -> OwnIssuerResolver:
    return own_issuer_resolver(CONFIG)


def key_of(organisation: Organisation, algorithm: KeyAlgorithm) -> Any:
    return next(k for k in published_keys(organisation) if k.algorithm is algorithm and k.state is KeyState.ACTIVE)


def resolution_code(call: Any, *args: Any) -> str:
    with pytest.raises(ResolutionError) as raised:
        call(*args)
    return raised.value.code


# ------------------------------------------------------------------------------------ verification methods


def test_our_did_url_resolves_to_the_key_with_the_did_as_controller(resolver, organisation):
    key = key_of(organisation, KeyAlgorithm.ED25519)
    resolved = resolver.resolve_verification_method(f"{DID}#{key.key_id}")
    assert resolved.controller == DID and resolved.source == "did_document" and resolved.confirmed
    assert resolved.public_key == public_key_of(key)
    assert resolved.revoked_at is None


def test_another_organisations_key_is_not_found_under_our_did(resolver, organisation, other):
    foreign = key_of(other, KeyAlgorithm.ED25519)
    assert resolution_code(resolver.resolve_verification_method, f"{DID}#{foreign.key_id}") == "key_not_found"


@pytest.mark.parametrize("method_id", [
    "did:web:badges.example.org:issuers:nobody#key-aaaaaaaa",
    f"{DID}#key-zzzzzzzz",
    DID,
])
def test_unknown_issuers_and_keys_of_ours_are_final_answers(resolver, organisation, method_id):
    assert resolution_code(resolver.resolve_verification_method, method_id) == "key_not_found"


@pytest.mark.parametrize("method_id", [
    "did:web:elsewhere.example:issuers:atelier-velo#key-aaaaaaaa",
    "did:web:badges.example.org#key-aaaaaaaa",
    "did:web:badges.example.org:issuers:atelier-velo:more#key-aaaaaaaa",
    "https://elsewhere.example/issuers/1#key-1",
    "did:example:123#key-1",
    "",
])
def test_anything_not_ours_is_left_to_the_next_resolver(resolver, organisation, method_id):
    assert resolution_code(resolver.resolve_verification_method, method_id) == "unsupported"


def test_did_key_of_our_key_carries_the_compromise_date(resolver, organisation):
    key = key_of(organisation, KeyAlgorithm.ED25519)
    since = now() - dt.timedelta(hours=1)
    declare_compromised(key, since, None, "seed leaked")
    resolved = resolver.resolve_verification_method(f"did:key:{key.public_key}#{key.public_key}")
    assert resolved.source == "did:key" and resolved.controller == f"did:key:{key.public_key}"
    assert resolved.revoked_at == since


def test_a_foreign_did_key_falls_through_to_the_local_resolver(resolver, organisation):
    from badgehub.credentials.did import did_key_from_ed25519
    from badgehub.credentials.keys import ed25519_raw_public_key, generate_ed25519

    did = did_key_from_ed25519(ed25519_raw_public_key(generate_ed25519()))
    assert resolution_code(resolver.resolve_verification_method, did) == "unsupported"
    resolved = ChainResolver(resolver, LocalResolver()).resolve_verification_method(did)
    assert resolved.controller == did and resolved.revoked_at is None


# ------------------------------------------------------------------------------------------- JWT keys


def test_every_published_form_of_a_jwt_kid_names_the_same_key(resolver, organisation):
    key = key_of(organisation, KeyAlgorithm.RSA_2048)
    base = "https://badges.example.org"
    kids = [f"{DID}#{key.key_id}", f"{base}/issuers/atelier-velo/keys/{key.key_id}.json",
            f"{base}/issuers/atelier-velo/jwks.json#{key.key_id}", f"{base}/.well-known/jwks.json#{key.key_id}",
            f"http://badges.example.org/issuers/atelier-velo/keys/{key.key_id}.json"]
    for kid in kids:
        resolved = resolver.resolve_jwt_key(kid)
        assert resolved.public_key.public_numbers() == public_key_of(key).public_numbers(), kid
        assert resolved.controller == DID, kid
        assert resolved.method_id == kid


def test_did_key_style_jwt_keys_have_no_controller(ctx, organisation):
    key = key_of(organisation, KeyAlgorithm.RSA_2048)
    resolved = own_issuer_resolver(KEY_CONFIG).resolve_jwt_key(
        f"https://badges.example.org/issuers/atelier-velo/keys/{key.key_id}.json")
    assert resolved.controller is None and resolved.source == "jwk"


@pytest.mark.parametrize("kid", [
    "https://badges.example.org/issuers/autre-asso/keys/{key}.json",
    "https://badges.example.org/issuers/atelier-velo/jwks.json",
    "https://badges.example.org/issuers/atelier-velo/jwks.json#key-zzzzzzzz",
    "https://badges.example.org/.well-known/jwks.json#key-zzzzzzzz",
    "https://badges.example.org/issuers/nobody/keys/key-aaaaaaaa.json",
])
def test_jwt_kids_that_we_do_not_publish_are_not_found(resolver, organisation, other, kid):
    # The first one names our RSA key under the other organisation: each slug publishes only its own keys.
    key = key_of(organisation, KeyAlgorithm.RSA_2048)
    assert resolution_code(resolver.resolve_jwt_key, kid.format(key=key.key_id)) == "key_not_found"


def test_an_ed25519_key_is_not_a_jwt_key_of_ours(resolver, organisation):
    key = key_of(organisation, KeyAlgorithm.ED25519)
    kid = f"https://badges.example.org/issuers/atelier-velo/keys/{key.key_id}.json"
    assert resolution_code(resolver.resolve_jwt_key, kid) == "key_not_found"


# ------------------------------------------------------------------------------------------ documents


def test_documents_are_answered_as_published(resolver, organisation, other):
    base = "https://badges.example.org"
    rsa_key = key_of(organisation, KeyAlgorithm.RSA_2048)
    assert resolver.fetch_document(f"{base}/issuers/atelier-velo/did.json") == published_did_document(
        organisation, CONFIG)
    assert resolver.fetch_document(f"{base}/issuers/atelier-velo/jwks.json") == published_jwk_set(organisation, CONFIG)
    assert resolver.fetch_document(f"{base}/issuers/atelier-velo/keys/{rsa_key.key_id}.json") == published_key_jwk(
        organisation, rsa_key, CONFIG)
    assert resolver.fetch_document(f"{base}/.well-known/jwks.json") == installation_jwk_set(CONFIG)
    assert resolver.fetch_document(f"{base}/issuers/atelier-velo") == issuer_profile_document(
        issuer_profile(organisation, DID))


@pytest.mark.parametrize(("url", "code"), [
    ("https://badges.example.org/issuers/nobody/did.json", "not_found"),
    ("https://badges.example.org/issuers/nobody", "not_found"),
    ("https://badges.example.org/issuers/atelier-velo/keys/key-zzzzzzzz.json", "not_found"),
    ("https://badges.example.org/issuers/atelier-velo/status/1", "unsupported"),
    ("https://badges.example.org/issuers/atelier-velo/did.json?x=1", "unsupported"),
    ("https://elsewhere.example/issuers/atelier-velo/did.json", "unsupported"),
    ("ftp://badges.example.org/issuers/atelier-velo/did.json", "unsupported"),
])
def test_documents_we_do_not_have(resolver, organisation, url, code):
    assert resolution_code(resolver.fetch_document, url) == code


def test_a_base_url_with_a_path_prefix_is_respected(ctx, make_organisation, kek):
    organisation = make_organisation("prefixed")
    create_organisation_keys(organisation, kek)
    config = {"BASE_URL": "https://example.org:8443/hub/", "ISSUER_ID_STYLE": "did:web"}
    resolver = own_issuer_resolver(config)
    did = "did:web:example.org%3A8443:hub:issuers:prefixed"
    key = key_of(organisation, KeyAlgorithm.ED25519)
    assert resolver.resolve_verification_method(f"{did}#{key.key_id}").controller == did
    assert resolver.fetch_document("https://example.org:8443/hub/issuers/prefixed/did.json")["id"] == did
    assert resolution_code(resolver.fetch_document, "https://example.org:8443/issuers/prefixed/did.json") == (
        "unsupported")


# ------------------------------------------------------------------ whole credentials through the pipeline


def test_own_credentials_verify_through_the_local_resolver(resolver, organisation, kek):
    identity = signing_identity(organisation, CONFIG)
    credential = make_credential(organisation, identity, now() - dt.timedelta(minutes=5))
    signed = sign_di(credential, identity, kek, now() - dt.timedelta(minutes=5))
    token = sign_jwt(credential, identity, kek)
    for document in (signed, token):
        report = verify(document, resolver, now())
        assert report.verified, checks(report)
        assert outcome(report, "proof") == (P, "proof_ok")
        assert outcome(report, "issuer_key") == (P, "issuer_key_ok")


def test_did_key_style_credentials_and_jwts_verify_with_the_did_keys_own_key(ctx, organisation, kek):
    identity = signing_identity(organisation, KEY_CONFIG)
    resolver = ChainResolver(own_issuer_resolver(KEY_CONFIG), LocalResolver())
    credential = make_credential(organisation, identity, now() - dt.timedelta(minutes=5))
    report = verify(sign_di(credential, identity, kek, now() - dt.timedelta(minutes=5)), resolver, now())
    assert report.verified and outcome(report, "issuer_key") == (P, "issuer_key_ok"), checks(report)
    # Even without BadgeHub's records, a did:key needs nothing but the credential.
    report = verify(sign_di(credential, identity, kek, now()), LocalResolver(), now())
    assert report.verified, checks(report)
    report = verify(sign_jwt(credential, identity, kek), resolver, now())
    assert report.verified and outcome(report, "issuer_key") == (P, "issuer_key_ok"), checks(report)
    # The organisation's RSA key, published at its JWK address, is not the did:key: a token it signs is refused.
    rsa_key = load_private_key(identity.rsa_key, kek)
    kid = f"https://badges.example.org/issuers/atelier-velo/keys/{identity.rsa_key.key_id}.json"
    report = verify(sign_vc_jwt(credential, rsa_key, kid), resolver, now())
    assert not report.verified and outcome(report, "issuer_key") == (F, "issuer_key_mismatch"), checks(report)


def test_rotation_keeps_old_credentials_valid_and_signs_new_ones_with_the_new_key(resolver, organisation, kek):
    old = signing_identity(organisation, CONFIG)
    issued = now() - dt.timedelta(minutes=10)
    old_credential = make_credential(organisation, old, issued)
    old_di, old_jwt = sign_di(old_credential, old, kek, issued), sign_jwt(old_credential, old, kek)
    rotate_keys(organisation, kek, None)
    new = signing_identity(organisation, CONFIG)
    assert {new.ed25519_key.key_id, new.rsa_key.key_id}.isdisjoint({old.ed25519_key.key_id, old.rsa_key.key_id})
    new_credential = make_credential(organisation, new, now())
    new_di = sign_di(new_credential, new, kek, now())
    assert new_di["proof"][0]["verificationMethod"] == f"{DID}#{new.ed25519_key.key_id}"
    for document in (old_di, old_jwt, new_di, sign_jwt(new_credential, new, kek)):
        report = verify(document, resolver, now())
        assert report.verified and outcome(report, "proof") == (P, "proof_ok"), checks(report)


@pytest.fixture
def compromise(organisation: Organisation, kek: bytes) -> Any:
    """Credentials signed an hour before and half an hour after the moment the keys are then declared
    compromised (a thief signing with the stolen key), and that moment."""
    identity = signing_identity(organisation, CONFIG)
    since = now() - dt.timedelta(hours=1)
    before, after = since - dt.timedelta(hours=1), since + dt.timedelta(minutes=30)
    early, late = make_credential(organisation, identity, before), make_credential(organisation, identity, after)
    signed = {
        "di_before": sign_di(early, identity, kek, before), "di_after": sign_di(late, identity, kek, after),
        "di_at": sign_di(early, identity, kek, since),
        "jwt_before": sign_jwt(early, identity, kek), "jwt_after": sign_jwt(late, identity, kek),
    }
    for key in (identity.ed25519_key, identity.rsa_key):
        declare_compromised(key, since, None, "laptop stolen")
    return signed, since


def _compromise_verdicts(documents: dict[str, Any], resolver: Any) -> dict[str, tuple[bool, CheckStatus, str]]:
    verdicts = {}
    for name, document in documents.items():
        report = verify(document, resolver, now())
        verdicts[name] = (report.verified, *outcome(report, "proof"))
    return verdicts


EXPECTED_AFTER_COMPROMISE = {
    "di_before": (True, W, "signed_before_compromise"),
    "jwt_before": (True, W, "signed_before_compromise"),
    "di_after": (False, F, "key_compromised"),
    "di_at": (False, F, "key_compromised"),
    "jwt_after": (False, F, "key_compromised"),
}


def test_a_compromised_key_refuses_signatures_dated_from_its_compromise_locally(resolver, compromise):
    documents, _since = compromise
    assert _compromise_verdicts(documents, resolver) == EXPECTED_AFTER_COMPROMISE


def test_the_published_revoked_date_gives_the_same_verdicts_to_any_badgehub_verifier(
        resolver, organisation, compromise):
    documents, _since = compromise
    offline = StaticResolver({"https://badges.example.org/issuers/atelier-velo/did.json":
                              published_did_document(organisation, CONFIG)})
    assert _compromise_verdicts(documents, offline) == EXPECTED_AFTER_COMPROMISE


def test_the_compromise_message_names_both_dates(resolver, compromise):
    documents, since = compromise
    check = verify(documents["di_after"], resolver, now()).check("proof")
    assert check is not None and check.code == "key_compromised"
    assert since.strftime("%Y-%m-%d %H:%M UTC") in check.message
    assert (since + dt.timedelta(minutes=30)).strftime("%Y-%m-%d %H:%M UTC") in check.message


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def test_an_undated_jwt_signed_with_a_compromised_key_is_refused(resolver, organisation, kek):
    identity = signing_identity(organisation, CONFIG)
    credential = make_credential(organisation, identity, now() - dt.timedelta(hours=3))
    private_key = load_private_key(identity.rsa_key, kek)
    # A token with neither iat nor nbf: nothing shows it was signed before the compromise.
    payload = json.dumps({**credential, "iss": identity.issuer_id, "jti": credential["id"]}).encode()
    token = api_jws.PyJWS().encode(payload, private_key, algorithm="RS256", headers={"kid": identity.jwt_kid})
    declare_compromised(identity.rsa_key, now() - dt.timedelta(hours=1), None, "laptop stolen")
    report = verify(token, resolver, now())
    assert not report.verified
    assert outcome(report, "proof") == (F, "key_compromised_undated")


def test_a_published_revoked_value_that_is_not_a_date_is_refused(organisation):
    document = published_did_document(organisation, CONFIG)
    document["verificationMethod"][0]["revoked"] = "soon"
    offline = StaticResolver({"https://badges.example.org/issuers/atelier-velo/did.json": document})
    with pytest.raises(ResolutionError) as raised:
        offline.resolve_verification_method(document["verificationMethod"][0]["id"])
    assert raised.value.code == "bad_key"


def test_a_jwk_revoked_member_is_honoured(organisation, compromise):
    _documents, since = compromise
    rsa_key = key_of_state(organisation, KeyAlgorithm.RSA_2048)
    kid = f"https://badges.example.org/issuers/atelier-velo/keys/{rsa_key.key_id}.json"
    offline = StaticResolver({kid: published_key_jwk(organisation, rsa_key, CONFIG)})
    assert offline.resolve_jwt_key(kid).revoked_at == since


def key_of_state(organisation: Organisation, algorithm: KeyAlgorithm) -> Any:
    return next(k for k in published_keys(organisation) if k.algorithm is algorithm)


def test_timestamps_are_compared_to_the_instant(organisation):
    key = key_of(organisation, KeyAlgorithm.ED25519)
    declare_compromised(key, dt.datetime(2026, 3, 1, 12, 0, 0, 500000, tzinfo=dt.UTC), None, "x")
    document = published_did_document(organisation, CONFIG)
    offline = StaticResolver({"https://badges.example.org/issuers/atelier-velo/did.json": document})
    resolved = offline.resolve_verification_method(f"{DID}#{key.key_id}")
    assert resolved.revoked_at == dt.datetime(2026, 3, 1, 12, 0, 0, 500000, tzinfo=dt.UTC)
