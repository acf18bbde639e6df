"""Open Badges 2.0 (imported legacy badges): hosted and signed verification, revocation, baked images."""

from __future__ import annotations

import copy
import hashlib
import json
import struct
import zlib
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt import api_jws

from badgehub.verification.pipeline import verify
from badgehub.verification.report import CheckStatus, VerificationReport
from badgehub.verification.resolver import ChainResolver, DocumentResolver, FetchError, LocalResolver, StaticResolver

from .conftest import NOW, KeyPair

P, F, W, S = CheckStatus.PASSED, CheckStatus.FAILED, CheckStatus.WARNING, CheckStatus.SKIPPED
OB2 = "https://w3id.org/openbadges/v2"
ORIGIN = "https://ob2.example.org"
ISSUER_URL = f"{ORIGIN}/issuer.json"
BADGE_URL = f"{ORIGIN}/badges/1"
KEY_URL = f"{ORIGIN}/key.json"
LIST_URL = f"{ORIGIN}/revocations.json"
ASSERTION_URL = f"{ORIGIN}/assertions/1"


def _outcome(report: VerificationReport, check_id: str) -> tuple[CheckStatus, str]:
    check = report.check(check_id)
    assert check is not None
    return check.status, check.code


@pytest.fixture
def rsa_key(key_pairs: list[KeyPair]) -> rsa.RSAPrivateKey:
    key: rsa.RSAPrivateKey = key_pairs[0][1]
    return key


@pytest.fixture
def documents(rsa_key: rsa.RSAPrivateKey) -> dict[str, object]:
    pem = rsa_key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    return {
        ISSUER_URL: {
            "@context": OB2,
            "type": "Issuer",
            "id": ISSUER_URL,
            "name": "Old Issuer",
            "url": ORIGIN,
            "publicKey": KEY_URL,
            "revocationList": LIST_URL,
        },
        BADGE_URL: {
            "@context": OB2,
            "type": "BadgeClass",
            "id": BADGE_URL,
            "name": "Legacy badge",
            "description": "An OB 2.0 badge",
            "criteria": {"narrative": "Do it"},
            "image": f"{ORIGIN}/badges/1.png",
            "issuer": ISSUER_URL,
        },
        KEY_URL: {
            "@context": OB2,
            "type": "CryptographicKey",
            "id": KEY_URL,
            "owner": ISSUER_URL,
            "publicKeyPem": pem.decode("ascii"),
        },
        LIST_URL: {"@context": OB2, "type": "RevocationList", "id": LIST_URL, "revokedAssertions": []},
    }


def _assertion(kind: str, **changes: Any) -> dict[str, Any]:
    identity = "sha256$" + hashlib.sha256(b"learner@example.orgdeadsea").hexdigest()
    assertion: dict[str, Any] = {
        "@context": OB2,
        "type": "Assertion",
        "id": ASSERTION_URL,
        "recipient": {"type": "email", "hashed": True, "salt": "deadsea", "identity": identity},
        "badge": BADGE_URL,
        "verification": {"type": "hosted"} if kind == "hosted" else {"type": "signed", "creator": KEY_URL},
        "issuedOn": "2019-05-01T00:00:00Z",
    }
    assertion.update(changes)
    return assertion


def _sign(assertion: dict[str, Any], key: rsa.RSAPrivateKey) -> str:
    return api_jws.PyJWS().encode(json.dumps(assertion).encode(), key, algorithm="RS256")


def _resolver(documents: dict[str, object]) -> ChainResolver:
    return ChainResolver(StaticResolver(documents), LocalResolver())


def test_hosted_assertion_matching_its_published_copy_verifies(documents: dict[str, object]) -> None:
    assertion = _assertion("hosted")
    documents[ASSERTION_URL] = assertion
    report = verify(json.dumps(assertion), _resolver(documents), NOW, "Learner@example.org")
    assert report.verified, [c.to_dict() for c in report.checks]
    assert report.ob_version == "2.0" and _outcome(report, "parse") == (P, "parsed_ob2")
    assert _outcome(report, "proof") == (P, "ob2_hosted_ok")
    assert _outcome(report, "issuer_key") == (P, "issuer_key_ok")
    assert _outcome(report, "recipient") == (P, "recipient_match")
    assert (report.achievement_name, report.issuer_name, report.issuer_id) == ("Legacy badge", "Old Issuer", ISSUER_URL)


def test_hosted_assertion_differing_from_its_published_copy_fails(documents: dict[str, object]) -> None:
    documents[ASSERTION_URL] = _assertion("hosted")
    report = verify(_assertion("hosted", issuedOn="2018-01-01T00:00:00Z"), _resolver(documents), NOW)
    assert _outcome(report, "proof") == (F, "ob2_hosted_mismatch") and not report.verified


def test_hosted_assertion_that_is_gone_is_revoked(documents: dict[str, object]) -> None:
    def fetch(url: str) -> bytes:
        if url not in documents:
            raise FetchError(url, "Gone", status=410)
        return json.dumps(documents[url]).encode()

    report = verify(_assertion("hosted"), DocumentResolver(fetch), NOW)
    assert _outcome(report, "status") == (F, "revoked") and report.revoked is True and not report.verified


def test_hosted_assertion_marked_revoked_is_revoked(documents: dict[str, object]) -> None:
    documents[ASSERTION_URL] = _assertion("hosted", revoked=True, revocationReason="mistake")
    report = verify(_assertion("hosted", revoked=True, revocationReason="mistake"), _resolver(documents), NOW)
    assert _outcome(report, "status") == (F, "revoked")


def test_hosted_assertion_unreachable_is_not_verified_but_not_declared_false(documents: dict[str, object]) -> None:
    report = verify(_assertion("hosted"), _resolver(documents), NOW)
    assert _outcome(report, "proof") == (S, "ob2_hosted_unreachable")
    assert not report.verified and report.failed == []


def test_hosted_assertion_outside_the_issuer_origin_fails(documents: dict[str, object]) -> None:
    foreign = "https://elsewhere.example/assertions/1"
    assertion = _assertion("hosted", id=foreign)
    documents[foreign] = assertion
    report = verify(assertion, _resolver(documents), NOW)
    assert _outcome(report, "proof") == (P, "ob2_hosted_ok")
    assert _outcome(report, "issuer_key") == (F, "issuer_key_mismatch") and not report.verified


def test_signed_assertion_verifies_with_the_issuer_key(
    documents: dict[str, object], rsa_key: rsa.RSAPrivateKey
) -> None:
    token = _sign(_assertion("signed"), rsa_key)
    report = verify(token, _resolver(documents), NOW)
    assert report.verified, [c.to_dict() for c in report.checks]
    assert _outcome(report, "proof") == (P, "ob2_signed_ok")
    assert _outcome(report, "status") == (P, "status_ok")


def test_signed_assertion_listed_as_revoked_is_revoked(
    documents: dict[str, object], rsa_key: rsa.RSAPrivateKey
) -> None:
    documents[LIST_URL] = {"revokedAssertions": [{"id": ASSERTION_URL, "revocationReason": "fraud"}]}
    report = verify(_sign(_assertion("signed"), rsa_key), _resolver(documents), NOW)
    assert _outcome(report, "status") == (F, "revoked") and not report.verified


def test_signed_assertion_with_unreachable_revocation_list_warns(
    documents: dict[str, object], rsa_key: rsa.RSAPrivateKey
) -> None:
    del documents[LIST_URL]
    report = verify(_sign(_assertion("signed"), rsa_key), _resolver(documents), NOW)
    assert _outcome(report, "status") == (W, "status_unreachable") and report.verified


def test_tampered_signed_assertion_fails(documents: dict[str, object], rsa_key: rsa.RSAPrivateKey) -> None:
    header, _payload, signature = _sign(_assertion("signed"), rsa_key).split(".")
    forged = _sign(_assertion("signed", issuedOn="2010-01-01T00:00:00Z"), rsa_key).split(".")[1]
    report = verify(f"{header}.{forged}.{signature}", _resolver(documents), NOW)
    assert _outcome(report, "proof") == (F, "proof_invalid") and not report.verified


def test_signing_key_owned_by_someone_else_fails(documents: dict[str, object], rsa_key: rsa.RSAPrivateKey) -> None:
    key_document = copy.deepcopy(documents[KEY_URL])
    assert isinstance(key_document, dict)
    key_document["owner"] = "https://impostor.example/issuer"
    documents[KEY_URL] = key_document
    report = verify(_sign(_assertion("signed"), rsa_key), _resolver(documents), NOW)
    assert _outcome(report, "issuer_key") == (F, "issuer_key_mismatch") and not report.verified


def test_signed_assertion_without_its_signature_cannot_be_checked(documents: dict[str, object]) -> None:
    report = verify(_assertion("signed"), _resolver(documents), NOW)
    assert _outcome(report, "proof") == (S, "ob2_signed_form_missing") and not report.verified


def test_expired_ob2_badge_fails_validity(documents: dict[str, object], rsa_key: rsa.RSAPrivateKey) -> None:
    token = _sign(_assertion("signed", expires="2020-01-01T00:00:00Z"), rsa_key)
    report = verify(token, _resolver(documents), NOW)
    assert _outcome(report, "validity") == (F, "expired") and report.expired


def _png_with_text(chunk_type: bytes, keyword: bytes, text: bytes, png: bytes) -> bytes:
    data = keyword + b"\x00" + (b"\x00\x00\x00\x00" if chunk_type == b"iTXt" else b"") + text
    chunk = struct.pack(">I", len(data)) + chunk_type + data + struct.pack(">I", zlib.crc32(chunk_type + data))
    index = png.rindex(b"IEND") - 4
    return png[:index] + chunk + png[index:]


def test_baked_ob2_png_with_a_signed_assertion(
    documents: dict[str, object], rsa_key: rsa.RSAPrivateKey, png_bytes: bytes
) -> None:
    image = _png_with_text(b"iTXt", b"openbadges", _sign(_assertion("signed"), rsa_key).encode(), png_bytes)
    report = verify(image, _resolver(documents), NOW)
    assert report.verified and report.format == "png" and report.ob_version == "2.0"


def test_legacy_png_text_chunk_pointing_at_a_hosted_assertion(documents: dict[str, object], png_bytes: bytes) -> None:
    documents[ASSERTION_URL] = _assertion("hosted")
    image = _png_with_text(b"tEXt", b"openbadges", ASSERTION_URL.encode(), png_bytes)
    report = verify(image, _resolver(documents), NOW)
    assert report.verified and report.format == "png"
    unreachable = verify(image, _resolver({}), NOW)
    assert _outcome(unreachable, "parse") == (F, "baked_url_unreachable")


def test_baked_ob2_svg_with_a_hosted_assertion(documents: dict[str, object]) -> None:
    assertion = _assertion("hosted")
    documents[ASSERTION_URL] = assertion
    svg = (
        '<svg xmlns="http://www.w3.org/2000/svg" xmlns:openbadges="http://openbadges.org">'
        f"<openbadges:assertion><![CDATA[{json.dumps(assertion)}]]></openbadges:assertion></svg>"
    )
    report = verify(svg.encode(), _resolver(documents), NOW)
    assert report.verified and report.format == "svg"


def test_signing_key_not_authorised_by_the_issuer_profile_fails(
    documents: dict[str, object], key_pairs: list[KeyPair]
) -> None:
    # The forger publishes their own key document claiming the issuer as owner: the issuer's profile,
    # read where the issuer publishes it, does not list that key, so the badge is not the issuer's.
    forger_key = key_pairs[1][1]
    forged_key_url = "https://forger.example/key.json"
    pem = forger_key.public_key().public_bytes(serialization.Encoding.PEM,
                                                serialization.PublicFormat.SubjectPublicKeyInfo)
    documents[forged_key_url] = {"@context": OB2, "type": "CryptographicKey", "id": forged_key_url,
                                 "owner": ISSUER_URL, "publicKeyPem": pem.decode("ascii")}
    assertion = _assertion("signed", verification={"type": "signed", "creator": forged_key_url})
    report = verify(_sign(assertion, forger_key), _resolver(documents), NOW)
    assert _outcome(report, "proof") == (P, "ob2_signed_ok")
    assert _outcome(report, "issuer_key") == (F, "issuer_key_not_listed") and not report.verified
