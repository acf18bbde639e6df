"""Build → sign → (bake → extract) → verify, with real keys, for both proof formats and every verdict."""

from __future__ import annotations

import base64
import copy
import gzip
import json
from collections.abc import Callable
from typing import Any

import pytest

from badgehub.credentials.baking import bake_png, bake_svg
from badgehub.credentials.documents import IssuerProfile, Recipient, build_endorsement_credential, to_json
from badgehub.credentials.status_list import status_list_entry
from badgehub.verification.pipeline import verify
from badgehub.verification.report import CheckStatus, VerificationReport

from .conftest import NOW, Issuer

P, F, W, S = CheckStatus.PASSED, CheckStatus.FAILED, CheckStatus.WARNING, CheckStatus.SKIPPED
LIST_PATH = "/status/1"


def _outcome(report: VerificationReport, check_id: str) -> tuple[CheckStatus, str]:
    check = report.check(check_id)
    assert check is not None
    return check.status, check.code


@pytest.mark.parametrize("kind", ["did_web", "did_key", "https"])
def test_data_integrity_round_trip_verifies(
    kind: str, request: pytest.FixtureRequest, make_credential: Callable[..., dict[str, Any]]
) -> None:
    issuer: Issuer = request.getfixturevalue(f"{kind}_issuer")
    signed = issuer.sign(make_credential(issuer))
    report = verify(signed, issuer.resolver(), NOW)
    assert report.verified, [c.to_dict() for c in report.checks]
    assert _outcome(report, "proof") == (P, "proof_ok")
    assert _outcome(report, "issuer_key") == (P, "issuer_key_ok")
    assert _outcome(report, "schema") == (P, "schema_ok")
    assert report.issuer_id == issuer.id and report.achievement_name == "Atelier numérique"


@pytest.mark.parametrize("kind", ["did_web", "https"])
def test_vc_jwt_round_trip_verifies(
    kind: str, request: pytest.FixtureRequest, make_credential: Callable[..., dict[str, Any]]
) -> None:
    issuer: Issuer = request.getfixturevalue(f"{kind}_issuer")
    token = issuer.sign_jwt(make_credential(issuer))
    report = verify(token, issuer.resolver(), NOW)
    assert report.verified, [c.to_dict() for c in report.checks]
    assert report.format == "jwt"
    assert _outcome(report, "proof") == (P, "proof_ok")
    assert _outcome(report, "issuer_key") == (P, "issuer_key_ok")


def test_vc_jwt_with_a_holder_did_carries_sub_and_verifies(
    did_web_issuer: Issuer, make_credential: Callable[..., dict[str, Any]]
) -> None:
    credential = make_credential(did_web_issuer, recipient=Recipient(did="did:example:holder-1"))
    report = verify(did_web_issuer.sign_jwt(credential), did_web_issuer.resolver(), NOW)
    assert report.verified and _outcome(report, "proof") == (P, "proof_ok")


def test_revoked_credential_is_reported(did_web_issuer: Issuer, make_credential: Callable[..., dict[str, Any]]) -> None:
    url = "https://badges.example.org/issuers/mairie" + LIST_PATH
    did_web_issuer.publish_status_list(url, revoked=(4242,))
    revoked = did_web_issuer.sign(make_credential(did_web_issuer, credential_status=status_list_entry(url, 4242)))
    fine = did_web_issuer.sign(make_credential(did_web_issuer, credential_status=status_list_entry(url, 4243)))
    report = verify(revoked, did_web_issuer.resolver(), NOW)
    assert _outcome(report, "status") == (F, "revoked") and report.revoked is True and not report.verified
    report = verify(fine, did_web_issuer.resolver(), NOW)
    assert _outcome(report, "status") == (P, "status_ok") and report.revoked is False and report.verified


def test_revocation_is_seen_through_a_vc_jwt_too(did_web_issuer: Issuer, make_credential: Callable[..., Any]) -> None:
    url = "https://badges.example.org/issuers/mairie" + LIST_PATH
    did_web_issuer.publish_status_list(url, revoked=(7,))
    token = did_web_issuer.sign_jwt(make_credential(did_web_issuer, credential_status=status_list_entry(url, 7)))
    report = verify(token, did_web_issuer.resolver(), NOW)
    assert _outcome(report, "status") == (F, "revoked") and not report.verified


def test_suspended_credential_is_reported(did_web_issuer: Issuer, make_credential: Callable[..., Any]) -> None:
    url = "https://badges.example.org/issuers/mairie/status/s"
    did_web_issuer.publish_status_list(url, revoked=(11,), purpose="suspension")
    entry = status_list_entry(url, 11, "suspension")
    report = verify(
        did_web_issuer.sign(make_credential(did_web_issuer, credential_status=entry)), did_web_issuer.resolver(), NOW
    )
    assert _outcome(report, "status") == (F, "suspended") and report.suspended is True


def test_status_purpose_must_match_the_list(did_web_issuer: Issuer, make_credential: Callable[..., Any]) -> None:
    url = "https://badges.example.org/issuers/mairie/status/s"
    did_web_issuer.publish_status_list(url, purpose="suspension")
    signed = did_web_issuer.sign(make_credential(did_web_issuer, credential_status=status_list_entry(url, 1)))
    assert _outcome(verify(signed, did_web_issuer.resolver(), NOW), "status") == (F, "status_purpose_mismatch")


def test_status_list_signed_by_someone_else_is_flagged(
    did_web_issuer: Issuer, stranger: Issuer, make_credential: Callable[..., Any]
) -> None:
    url = "https://badges.example.org/issuers/mairie" + LIST_PATH
    did_web_issuer.publish_status_list(url, signer=stranger)
    signed = did_web_issuer.sign(make_credential(did_web_issuer, credential_status=status_list_entry(url, 1)))
    report = verify(signed, did_web_issuer.resolver(), NOW)
    assert _outcome(report, "status") == (W, "status_list_foreign")


def test_a_genuine_status_list_that_is_too_short_is_reported_as_too_short(
    did_web_issuer: Issuer, make_credential: Callable[..., Any]
) -> None:
    # 16 KiB of bits is 131,072 entries, the minimum Bitstring Status List requires; 1 KiB is too short. That
    # is the issuer's mistake, not a forgery: the words say "too short", the verdict is not "not genuine".
    from badgehub.credentials.status_list import build_status_list_credential, new_status_list
    from badgehub.verification.verdicts import verdict_of

    url = "https://badges.example.org/issuers/mairie" + LIST_PATH
    short = build_status_list_credential(url, did_web_issuer.id, "revocation", new_status_list(),
                                         "2026-01-01T00:00:00Z")
    # BadgeHub's encoder refuses to write a short list, so this one is encoded by hand, as another issuer might.
    encoded = base64.urlsafe_b64encode(gzip.compress(bytes(1024), mtime=0)).decode("ascii").rstrip("=")
    short["credentialSubject"]["encodedList"] = "u" + encoded
    did_web_issuer.documents[url] = did_web_issuer.sign(short)
    signed = did_web_issuer.sign(make_credential(did_web_issuer, credential_status=status_list_entry(url, 5)))
    report = verify(signed, did_web_issuer.resolver(), NOW)
    assert _outcome(report, "status") == (F, "status_list_too_short")
    assert "131,072" in (report.check("status") or pytest.fail()).message
    assert verdict_of(report) == "invalid" and not report.verified


def test_status_list_whose_signature_is_broken_fails(
    did_web_issuer: Issuer, make_credential: Callable[..., Any]
) -> None:
    url = "https://badges.example.org/issuers/mairie" + LIST_PATH
    published = did_web_issuer.publish_status_list(url, revoked=(3,))
    forged = copy.deepcopy(published)
    forged["validFrom"] = "2026-01-02T00:00:00Z"
    signed = did_web_issuer.sign(make_credential(did_web_issuer, credential_status=status_list_entry(url, 3)))
    report = verify(signed, did_web_issuer.resolver({url: forged}), NOW)
    assert _outcome(report, "status") == (F, "status_list_unverified") and not report.verified


def test_expired_and_not_yet_valid_credentials_fail_validity(
    did_key_issuer: Issuer, make_credential: Callable[..., Any]
) -> None:
    expired = did_key_issuer.sign(
        make_credential(did_key_issuer, valid_from="2025-01-01T00:00:00Z", valid_until="2026-01-01T00:00:00Z")
    )
    future = did_key_issuer.sign(make_credential(did_key_issuer, valid_from="2027-01-01T00:00:00Z"))
    report = verify(expired, did_key_issuer.resolver(), NOW)
    assert _outcome(report, "validity") == (F, "expired") and report.expired is True and not report.verified
    report = verify(future, did_key_issuer.resolver(), NOW)
    assert _outcome(report, "validity") == (F, "not_yet_valid") and report.not_yet_valid and not report.verified


def test_expiry_is_enforced_for_vc_jwt(did_web_issuer: Issuer, make_credential: Callable[..., Any]) -> None:
    credential = make_credential(did_web_issuer, valid_from="2025-01-01T00:00:00Z", valid_until="2026-01-01T00:00:00Z")
    report = verify(did_web_issuer.sign_jwt(credential), did_web_issuer.resolver(), NOW)
    assert _outcome(report, "validity") == (F, "expired")


@pytest.mark.parametrize(
    ("known", "expected"),
    [
        ("learner@example.org", (P, "recipient_match")),
        ("  LEARNER@example.ORG ", (P, "recipient_match")),
        ("someone.else@example.org", (F, "recipient_mismatch")),
    ],
)
def test_recipient_email_is_checked_against_the_salted_hash(
    did_key_issuer: Issuer, make_credential: Callable[..., Any], known: str, expected: tuple[CheckStatus, str]
) -> None:
    signed = did_key_issuer.sign(make_credential(did_key_issuer))
    report = verify(signed, did_key_issuer.resolver(), NOW, known)
    assert _outcome(report, "recipient") == expected
    assert report.verified is (expected[0] is P)


def test_recipient_identified_only_by_did_cannot_be_checked_by_email(
    did_key_issuer: Issuer, make_credential: Callable[..., Any]
) -> None:
    signed = did_key_issuer.sign(make_credential(did_key_issuer, recipient=Recipient(did="did:example:holder")))
    report = verify(signed, did_key_issuer.resolver(), NOW, "learner@example.org")
    assert _outcome(report, "recipient") == (W, "recipient_unknown_form") and report.verified


def test_key_controlled_by_someone_else_than_the_issuer_fails(
    did_web_issuer: Issuer, stranger: Issuer, make_credential: Callable[..., Any]
) -> None:
    # Signed with a valid did:key, but the credential claims the did:web issuer.
    signed = stranger.sign(make_credential(did_web_issuer))
    report = verify(signed, did_web_issuer.resolver(), NOW)
    assert _outcome(report, "proof") == (P, "proof_ok")
    assert _outcome(report, "issuer_key") == (F, "issuer_key_mismatch")
    assert not report.verified


def test_key_missing_from_the_issuer_did_document_fails(
    did_web_issuer: Issuer, stranger: Issuer, make_credential: Callable[..., Any]
) -> None:
    signed = did_web_issuer.sign(make_credential(did_web_issuer), vm_id=f"{did_web_issuer.id}#key-9")
    report = verify(signed, did_web_issuer.resolver(), NOW)
    assert _outcome(report, "proof") == (F, "key_not_listed") and not report.verified


def test_unknown_key_under_a_published_method_id_fails(
    did_web_issuer: Issuer, stranger: Issuer, make_credential: Callable[..., Any]
) -> None:
    # The DID document publishes key-1; an impostor signs with another key under the same id.
    signed = did_web_issuer.sign(make_credential(did_web_issuer), key=stranger.ed_key)
    report = verify(signed, did_web_issuer.resolver(), NOW)
    assert _outcome(report, "proof") == (F, "proof_invalid") and not report.verified


def test_key_not_allowed_for_assertions_fails(did_web_issuer: Issuer, make_credential: Callable[..., Any]) -> None:
    url = "https://badges.example.org/issuers/mairie/did.json"
    document = copy.deepcopy(did_web_issuer.documents[url])
    assert isinstance(document, dict)
    document["assertionMethod"] = [did_web_issuer.jwt_kid]
    signed = did_web_issuer.sign(make_credential(did_web_issuer))
    report = verify(signed, did_web_issuer.resolver({url: document}), NOW)
    assert _outcome(report, "proof") == (F, "key_not_listed")


def test_a_published_key_list_cannot_be_bypassed_with_a_fragment_key(
    https_issuer: Issuer, stranger: Issuer, make_credential: Callable[..., Any]
) -> None:
    # The impostor names its own key in the fragment of the issuer's URL; the issuer's controller
    # document is reachable and does not list it, so the self-asserted key is not used.
    from badgehub.credentials.keys import ed25519_raw_public_key
    from badgehub.credentials.multiformats import ed25519_public_key_to_multikey

    multikey = ed25519_public_key_to_multikey(ed25519_raw_public_key(stranger.ed_key.public_key()))
    signed = stranger.sign(make_credential(https_issuer), vm_id=f"{https_issuer.id}#{multikey}")
    report = verify(signed, https_issuer.resolver(), NOW)
    assert _outcome(report, "proof") == (F, "key_not_listed") and not report.verified
    # Offline (the issuer's document unreachable), the same key is only self-asserted: a warning.
    from badgehub.verification.resolver import offline_resolver

    report = verify(signed, offline_resolver(), NOW)
    assert _outcome(report, "issuer_key") == (W, "issuer_key_unconfirmed")


def test_jwt_signed_with_a_key_the_issuer_does_not_publish_fails(
    https_issuer: Issuer, did_web_issuer: Issuer, make_credential: Callable[..., Any]
) -> None:
    from badgehub.credentials.vc_jwt import sign_vc_jwt

    token = sign_vc_jwt(make_credential(https_issuer), did_web_issuer.rsa_key, https_issuer.jwt_kid, "RS256")
    report = verify(token, https_issuer.resolver(), NOW)
    assert _outcome(report, "proof") == (F, "proof_invalid")


def test_jwt_kid_unknown_to_the_issuer_key_set_fails(https_issuer: Issuer, make_credential: Callable[..., Any]) -> None:
    token = https_issuer.sign_jwt(
        make_credential(https_issuer), kid="https://academy.example.net/.well-known/jwks.json#x"
    )
    report = verify(token, https_issuer.resolver(), NOW)
    assert _outcome(report, "proof") == (F, "key_not_listed")


def test_endorsements_are_verified_recursively(
    did_web_issuer: Issuer, stranger: Issuer, make_credential: Callable[..., Any]
) -> None:
    endorsement = stranger.sign(
        build_endorsement_credential(
            credential_id="urn:uuid:e0000000-0000-4000-8000-000000000001",
            issuer=IssuerProfile(id=stranger.id, name="Territory"),
            subject_id=did_web_issuer.id,
            name="Trusted member",
            valid_from="2026-01-01T00:00:00Z",
        )
    )
    profile = IssuerProfile(id=did_web_issuer.id, name="Médiathèque", endorsements=(endorsement,))
    signed = did_web_issuer.sign(make_credential(did_web_issuer, issuer=profile))
    report = verify(signed, did_web_issuer.resolver(), NOW)
    assert report.verified
    assert _outcome(report, "endorsements") == (P, "endorsements_ok")
    assert [e.verified for e in report.endorsements] == [True]
    assert report.endorsements[0].credential_type == "EndorsementCredential"

    broken = copy.deepcopy(endorsement)
    broken["name"] = "Changed after signing"
    profile = IssuerProfile(id=did_web_issuer.id, name="Médiathèque", endorsements=(broken,))
    report = verify(
        did_web_issuer.sign(make_credential(did_web_issuer, issuer=profile)), did_web_issuer.resolver(), NOW
    )
    assert report.verified  # a bad endorsement is a third party's problem: a warning
    assert _outcome(report, "endorsements") == (W, "endorsements_unverified")
    assert _outcome(report.endorsements[0], "proof") == (F, "proof_invalid")


def test_an_endorsement_verified_on_its_own(stranger: Issuer, did_web_issuer: Issuer) -> None:
    endorsement = stranger.sign(
        build_endorsement_credential(
            credential_id="urn:uuid:e0000000-0000-4000-8000-000000000002",
            issuer=IssuerProfile(id=stranger.id, name="Territory"),
            subject_id=did_web_issuer.id,
            name="Trusted member",
            valid_from="2026-01-01T00:00:00Z",
            include_credential_schema=True,
        )
    )
    report = verify(endorsement, stranger.resolver(), NOW)
    assert report.verified and report.credential_type == "EndorsementCredential"
    assert _outcome(report, "schema") == (P, "schema_ok")


@pytest.mark.parametrize("container", ["png", "svg"])
@pytest.mark.parametrize("proof", ["json", "jwt"])
def test_bake_extract_verify_round_trip(
    container: str,
    proof: str,
    did_web_issuer: Issuer,
    make_credential: Callable[..., Any],
    png_bytes: bytes,
    svg_bytes: bytes,
) -> None:
    credential = make_credential(did_web_issuer)
    payload = to_json(did_web_issuer.sign(credential)) if proof == "json" else did_web_issuer.sign_jwt(credential)
    image = bake_png(png_bytes, payload) if container == "png" else bake_svg(svg_bytes, payload)
    report = verify(image, did_web_issuer.resolver(), NOW, "learner@example.org")
    assert report.verified, [c.to_dict() for c in report.checks]
    assert report.format == container
    assert _outcome(report, "parse") == (P, f"parsed_{container}")
    assert _outcome(report, "recipient") == (P, "recipient_match")


def test_every_field_of_a_signed_credential_is_protected(
    did_key_issuer: Issuer, make_credential: Callable[..., Any]
) -> None:
    url = "https://badges.example.org/status/1"
    did_key_issuer.publish_status_list(url)
    signed = did_key_issuer.sign(make_credential(did_key_issuer, credential_status=status_list_entry(url, 5)))
    resolver = did_key_issuer.resolver()
    assert verify(signed, resolver, NOW).verified
    paths = list(_leaf_paths({k: v for k, v in signed.items() if k != "proof"}))
    assert len(paths) > 20
    for path in paths:
        tampered = copy.deepcopy(signed)
        _change(tampered, path)
        report = verify(tampered, resolver, NOW)
        assert not report.verified, path
        failed = {check.id for check in report.failed}
        assert failed & {"proof", "context", "type"}, (path, failed)


def _leaf_paths(node: Any, prefix: tuple[Any, ...] = ()) -> Any:
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _leaf_paths(value, (*prefix, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _leaf_paths(value, (*prefix, index))
    else:
        yield prefix


def _change(document: Any, path: tuple[Any, ...]) -> None:
    parent = document
    for step in path[:-1]:
        parent = parent[step]
    value = parent[path[-1]]
    if isinstance(value, bool):
        parent[path[-1]] = not value
    elif isinstance(value, int | float):
        parent[path[-1]] = value + 1
    else:
        parent[path[-1]] = f"{value}x" if not str(value).endswith("Z") else str(value).replace(":00Z", ":01Z")


def test_a_tampered_jwt_payload_fails(did_web_issuer: Issuer, make_credential: Callable[..., Any]) -> None:
    import base64

    token = did_web_issuer.sign_jwt(make_credential(did_web_issuer))
    header, payload, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["name"] = "Forged"
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).decode().rstrip("=")
    report = verify(f"{header}.{forged}.{signature}", did_web_issuer.resolver(), NOW)
    assert _outcome(report, "proof") == (F, "proof_invalid") and not report.verified


def test_eddsa_vc_jwt_with_a_did_key_kid_verifies_offline(
    did_key_issuer: Issuer, make_credential: Callable[..., Any]
) -> None:
    from badgehub.credentials.vc_jwt import sign_vc_jwt

    token = sign_vc_jwt(make_credential(did_key_issuer), did_key_issuer.ed_key, did_key_issuer.vm_id, "EdDSA")
    report = verify(token, did_key_issuer.resolver(), NOW)
    assert report.verified and _outcome(report, "issuer_key") == (P, "issuer_key_ok")


def test_endorsements_stop_at_the_depth_limit(
    did_web_issuer: Issuer, stranger: Issuer, make_credential: Callable[..., Any]
) -> None:
    def endorse(number: int, profile: IssuerProfile) -> dict[str, Any]:
        signed: dict[str, Any] = stranger.sign(
            build_endorsement_credential(
                credential_id=f"urn:uuid:e0000000-0000-4000-8000-00000000001{number}",
                issuer=profile,
                subject_id=did_web_issuer.id,
                name=f"Endorsement {number}",
                valid_from="2026-01-01T00:00:00Z",
            )
        )
        return signed

    third = endorse(3, IssuerProfile(id=stranger.id, name="Territory"))
    second = endorse(2, IssuerProfile(id=stranger.id, name="Territory", endorsements=(third,)))
    first = endorse(1, IssuerProfile(id=stranger.id, name="Territory", endorsements=(second,)))
    profile = IssuerProfile(id=did_web_issuer.id, name="Médiathèque", endorsements=(first,))
    report = verify(
        did_web_issuer.sign(make_credential(did_web_issuer, issuer=profile)), did_web_issuer.resolver(), NOW
    )
    assert report.verified
    level_1 = report.endorsements[0]
    level_2 = level_1.endorsements[0]
    assert level_1.verified and level_2.verified
    assert _outcome(level_2, "endorsements") == (W, "endorsements_too_deep")
    assert level_2.endorsements == []


def test_endorsement_jwts_inside_a_vc_jwt_are_verified(
    did_web_issuer: Issuer, stranger: Issuer, make_credential: Callable[..., Any]
) -> None:
    endorsement = build_endorsement_credential(
        credential_id="urn:uuid:e0000000-0000-4000-8000-000000000021",
        issuer=IssuerProfile(id=stranger.id, name="Territory"),
        subject_id=did_web_issuer.id,
        name="Trusted member",
        valid_from="2026-01-01T00:00:00Z",
    )
    from badgehub.credentials.vc_jwt import sign_vc_jwt

    token = sign_vc_jwt(endorsement, stranger.ed_key, stranger.vm_id, "EdDSA")
    credential = make_credential(did_web_issuer)
    credential["endorsementJwt"] = [token, "not.a.jwt"]
    report = verify(did_web_issuer.sign_jwt(credential), did_web_issuer.resolver(), NOW)
    assert report.verified
    assert _outcome(report, "endorsements") == (W, "endorsements_unverified")
    assert [e.verified for e in report.endorsements] == [True, False]
    assert report.endorsements[0].format == "jwt"
