"""Every shared example gets the verdict of shared/ob3-examples/README.md, offline.

Decisions that the README leaves open are pinned here:
* the VC-JWT examples have no ``sub``: CE1's policy makes that a warning, so they verify;
* ob3-v2-didkey: the signature is valid and the key's controller, a did:key, is not the issuer; but the
  issuer is a ``urn:uuid:…`` that can publish no key, so the key is self-asserted: ``issuer_key`` warns
  (an issuer DID or web address controlled by someone else still fails, see test_roundtrip);
* keys taken from the verification method's URL fragment are self-asserted: ``issuer_key`` warns;
* the 1EdTech revocation list and the complete example's status are unreachable offline: a warning.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest

from badgehub.credentials.status_list import encode_status_list, new_status_list
from badgehub.verification.pipeline import verify
from badgehub.verification.report import CHECK_IDS, CheckStatus, VerificationReport
from badgehub.verification.resolver import offline_resolver

from .conftest import BITSTRING_URL, NOW

P, F, W, S = CheckStatus.PASSED, CheckStatus.FAILED, CheckStatus.WARNING, CheckStatus.SKIPPED

# file → (verified, format, {check id: (status, code)})
EXPECTED: dict[str, tuple[bool, str, dict[str, tuple[CheckStatus, str]]]] = {
    "ob3-v2-simple-eddsa-rdfc-2022.json": (
        True,
        "json",
        {"proof": (P, "proof_ok"), "issuer_key": (W, "issuer_key_unconfirmed"), "schema": (P, "schema_ok")},
    ),
    "ob3-v2-testvector-eddsa-rdfc-2022.json": (
        True,
        "json",
        {"proof": (P, "proof_ok"), "schema": (W, "schema_compacted")},
    ),
    "ob3-v2-complete-eddsa-rdfc-2022.json": (
        True,
        "json",
        {
            "proof": (P, "proof_ok"),
            "schema": (P, "schema_ok"),
            "status": (W, "status_unreachable"),
            "validity": (P, "validity_ok"),
            "endorsements": (W, "endorsements_unverified"),
        },
    ),
    "ob3-v2-didkey-eddsa-rdfc-2022.json": (
        True,
        "json",
        {"proof": (P, "proof_ok"), "issuer_key": (W, "issuer_key_unconfirmed")},
    ),
    "ob3-v2-dual-proof-didkey.json": (True, "json", {"proof": (P, "proof_ok"), "issuer_key": (P, "issuer_key_ok")}),
    "ob3-v2-simple-vcjwt-rs256.jwt": (
        True,
        "jwt",
        {"proof": (W, "jwt_claims_incomplete"), "issuer_key": (W, "issuer_key_unconfirmed")},
    ),
    "ob3-v1-simple-vcjwt-rs256.jwt": (
        True,
        "jwt",
        {
            "context": (W, "context_outdated"),
            "proof": (W, "jwt_claims_incomplete"),
            "schema": (S, "schema_not_applicable"),
        },
    ),
    "ob3-v1-simple-ed25519signature2020.json": (
        True,
        "json",
        {"context": (W, "context_outdated"), "proof": (P, "proof_ok")},
    ),
    # Its verification method carries the key in the fragment of a did:web DID URL: a DID's key comes only
    # from its document, which cannot be fetched offline, so it cannot be checked now (the signature
    # itself is sound, as the README says, but nothing ties that key to the did:web).
    "ob3-v1-1edtech-revocationlist-refresh-didweb.json": (
        False,
        "json",
        {"proof": (F, "key_unreachable"), "status": (W, "status_unreachable"), "validity": (P, "validity_ok")},
    ),
    "ob3-v2-bitstring-revoked.json": (False, "json", {"proof": (P, "proof_ok"), "status": (F, "revoked")}),
    "bitstring-status-list-credential.json": (
        True,
        "json",
        {"type": (P, "type_ok"), "proof": (P, "proof_ok"), "structure": (P, "structure_ok")},
    ),
    "endorsement-v2-eddsa-rdfc-2022.json": (True, "json", {"type": (P, "type_ok"), "proof": (P, "proof_ok")}),
    "baked-ob3-v2-json.png": (True, "png", {"parse": (P, "parsed_png"), "proof": (P, "proof_ok")}),
    "baked-ob3-v2-json.svg": (True, "svg", {"parse": (P, "parsed_svg"), "proof": (P, "proof_ok")}),
    "baked-ob3-v2-jwt.png": (True, "png", {"parse": (P, "parsed_png"), "proof": (W, "jwt_claims_incomplete")}),
    "baked-ob3-v2-jwt.svg": (True, "svg", {"parse": (P, "parsed_svg"), "proof": (W, "jwt_claims_incomplete")}),
    "baked-ob3-v1-jwt.svg": (True, "svg", {"parse": (P, "parsed_svg"), "proof": (W, "jwt_claims_incomplete")}),
    "NEG-ob3-v2-bad-proofvalue.json": (False, "json", {"context": (P, "context_ok"), "proof": (F, "proof_invalid")}),
    "NEG-ob3-v2-injected-undefined-terms.json": (
        False,
        "json",
        {"context": (F, "undefined_terms"), "proof": (F, "proof_undefined_terms")},
    ),
}


def _verify_example(name: str, read: Callable[[str], bytes], documents: dict[str, object]) -> VerificationReport:
    return verify(read(name), offline_resolver(documents), NOW)


def test_every_credential_file_in_the_examples_folder_has_an_expected_verdict(examples_dir: Any) -> None:
    files = {
        path.name
        for path in examples_dir.iterdir()
        if path.suffix in (".json", ".jwt", ".png", ".svg") and path.name != "ob3-v2-testvector-key.json"
    }
    assert files == set(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_example_gets_the_readme_verdict(
    name: str, example_bytes: Callable[[str], bytes], example_documents: dict[str, object]
) -> None:
    verified, fmt, checks = EXPECTED[name]
    report = _verify_example(name, example_bytes, example_documents)
    assert [check.id for check in report.checks] == list(CHECK_IDS)
    assert report.format == fmt
    for check_id, (status, code) in checks.items():
        check = report.check(check_id)
        assert check is not None
        assert (check.id, check.status, check.code) == (check_id, status, code), check.message
    assert report.verified is verified, [c.to_dict() for c in report.failed]


def test_revoked_example_sets_the_summary_flags(
    example_bytes: Callable[[str], bytes], example_documents: dict[str, object]
) -> None:
    report = _verify_example("ob3-v2-bitstring-revoked.json", example_bytes, example_documents)
    assert report.revoked is True and report.expired is False
    assert report.issuer_id == "https://1edtech.edu/issuers/565049"
    assert report.achievement_name == "Achievement 1"
    assert report.valid_from == "2023-05-23T01:10:41Z"
    assert report.ob_version == "3.0" and report.vc_version == "2.0"


def test_revoked_example_with_its_list_unreachable_is_only_a_warning(example_bytes: Callable[[str], bytes]) -> None:
    report = verify(example_bytes("ob3-v2-bitstring-revoked.json"), offline_resolver(), NOW)
    status = report.check("status")
    assert status is not None and (status.status, status.code) == (W, "status_unreachable")
    assert report.verified and report.revoked is None


def test_a_tampered_status_list_is_not_trusted(
    example_bytes: Callable[[str], bytes], example_json: Callable[[str], Any]
) -> None:
    status_list = example_json("bitstring-status-list-credential.json")
    status_list["credentialSubject"]["encodedList"] = encode_status_list(new_status_list())  # bit 23 cleared
    report = verify(example_bytes("ob3-v2-bitstring-revoked.json"), offline_resolver({BITSTRING_URL: status_list}), NOW)
    status = report.check("status")
    assert status is not None and (status.status, status.code) == (F, "status_list_unverified")
    assert not report.verified


def test_complete_example_reports_each_endorsement(
    example_bytes: Callable[[str], bytes], example_documents: dict[str, object]
) -> None:
    report = _verify_example("ob3-v2-complete-eddsa-rdfc-2022.json", example_bytes, example_documents)
    assert len(report.endorsements) == 5
    for endorsement in report.endorsements:
        assert endorsement.credential_type == "EndorsementCredential"
        assert not endorsement.verified
        codes = {check.id: check.code for check in endorsement.checks}
        # No extensions.json in their @context, a typo'd cryptosuite, and validUntil 2020.
        assert codes["context"] == "undefined_terms"
        assert codes["proof"] == "proof_unsupported"
        assert codes["validity"] == "expired"


def test_complete_example_recipient_check_uses_the_plain_identifiers(
    example_bytes: Callable[[str], bytes], example_documents: dict[str, object]
) -> None:
    data = example_bytes("ob3-v2-complete-eddsa-rdfc-2022.json")
    match = verify(data, offline_resolver(example_documents), NOW, " Student@1EdTech.edu ")
    other = verify(data, offline_resolver(example_documents), NOW, "someone@else.org")
    assert (match.check("recipient") or pytest.fail()).code == "recipient_match"
    assert (other.check("recipient") or pytest.fail()).code == "recipient_mismatch"
    assert match.verified and not other.verified


def test_json_given_as_text_bytes_or_dict_gets_the_same_report(
    example_bytes: Callable[[str], bytes], example_json: Callable[[str], Any]
) -> None:
    name = "ob3-v2-simple-eddsa-rdfc-2022.json"
    reports = [
        verify(example_bytes(name), offline_resolver(), NOW),
        verify(example_bytes(name).decode("utf-8"), offline_resolver(), NOW),
        verify(example_json(name), offline_resolver(), NOW),
    ]
    assert len({str([c.to_dict() for c in r.checks]) for r in reports}) == 1


def test_validity_follows_the_clock(example_bytes: Callable[[str], bytes]) -> None:
    data = example_bytes("endorsement-v2-eddsa-rdfc-2022.json")  # valid 2010-01-01 … 2030-01-01
    before = verify(data, offline_resolver(), datetime(2009, 12, 31, tzinfo=UTC))
    after = verify(data, offline_resolver(), datetime(2030, 1, 1, tzinfo=UTC))
    assert (before.check("validity") or pytest.fail()).code == "not_yet_valid" and before.not_yet_valid
    assert (after.check("validity") or pytest.fail()).code == "expired" and after.expired
    assert not before.verified and not after.verified


REVOCATION_LIST_URL = (
    "https://dc.1edtech.org/wellspring2022/wellspring-portal/api/revocations/da1e96e9-afcc-4eed-b9a2-2ddf7353214c"
)
V1_REVOCABLE = "ob3-v1-1edtech-revocationlist-refresh-didweb.json"
V1_REVOCABLE_ID = (
    "https://dc.1edtech.org/wellspring2022/wellspring-portal/credential/54418d3f-ec01-4652-800a-861c890a51a1"
)


@pytest.mark.parametrize(
    ("revocation_list", "expected"),
    [
        ({"revokedCredential": [{"id": V1_REVOCABLE_ID}]}, (F, "revoked")),
        ({"revokedCredentials": [{"id": V1_REVOCABLE_ID, "revoked": True, "revocationReason": "x"}]}, (F, "revoked")),
        ({"revokedCredentials": [V1_REVOCABLE_ID]}, (F, "revoked")),
        ({"revokedCredential": [{"id": V1_REVOCABLE_ID, "revoked": False}]}, (P, "status_ok")),
        ({"revokedCredential": [{"id": "urn:uuid:someone-else"}]}, (P, "status_ok")),
        ({"revokedCredential": []}, (P, "status_ok")),
        ([], (W, "status_list_invalid")),
    ],
)
def test_1edtech_revocation_list_accepts_both_property_names(
    revocation_list: object, expected: tuple[CheckStatus, str], example_bytes: Callable[[str], bytes]
) -> None:
    report = verify(example_bytes(V1_REVOCABLE), offline_resolver({REVOCATION_LIST_URL: revocation_list}), NOW)
    status = report.check("status")
    assert status is not None and (status.status, status.code) == expected
    assert report.revoked is (True if expected[1] == "revoked" else False if expected[0] is P else None)


def test_vc_1_1_dates_are_read_from_issuance_date(example_bytes: Callable[[str], bytes]) -> None:
    data = example_bytes("ob3-v1-simple-ed25519signature2020.json")  # issuanceDate 2010-01-01
    report = verify(data, offline_resolver(), datetime(2009, 6, 1, tzinfo=UTC))
    assert (report.check("validity") or pytest.fail()).code == "not_yet_valid"
    assert report.valid_from == "2010-01-01T00:00:00Z" and report.vc_version == "1.1"


def test_a_credential_url_is_fetched_through_the_resolver(example_json: Callable[[str], Any]) -> None:
    url = "https://example.com/credentials/3527"
    documents = {url: example_json("ob3-v2-simple-eddsa-rdfc-2022.json")}
    assert verify(f"  {url}\n", offline_resolver(documents), NOW).verified
    missing = verify(url, offline_resolver(), NOW)
    assert (missing.check("parse") or pytest.fail()).code == "url_unreachable"


def test_schema_path_replaces_the_bundled_schema(example_bytes: Callable[[str], bytes], tmp_path: Any) -> None:
    data = example_bytes("ob3-v2-simple-eddsa-rdfc-2022.json")
    strict = tmp_path / "strict.json"
    strict.write_text('{"$schema": "https://json-schema.org/draft/2019-09/schema", "required": ["nothere"]}')
    report = verify(data, offline_resolver(), NOW, schema_path=strict)
    assert (report.check("schema") or pytest.fail()).code == "schema_invalid" and not report.verified
    missing = verify(data, offline_resolver(), NOW, schema_path=tmp_path / "absent.json")
    assert (missing.check("schema") or pytest.fail()).code == "schema_unavailable" and missing.verified
