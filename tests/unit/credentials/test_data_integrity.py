"""Data Integrity proofs: the official test vector, every shared example, tampering, legacy suites."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from badgehub.credentials.data_integrity import (
    document_proofs,
    proof_hash_data,
    sign_data_integrity,
    verify_data_integrity_proof,
)
from badgehub.credentials.did import ed25519_from_did_key, split_did_url
from badgehub.credentials.errors import (
    ContextNotAllowed,
    CredentialError,
    InvalidSignature,
    KeyFormatError,
    MalformedProof,
    UndefinedTermError,
    UnsupportedCryptosuite,
)
from badgehub.credentials.keys import (
    ed25519_private_key_from_seed,
    ed25519_public_key_from_multikey,
    ed25519_public_key_from_raw,
    generate_ed25519,
    generate_p256,
)
from badgehub.credentials.multiformats import base58btc_decode, multibase_encode_base58btc

V2 = "https://www.w3.org/ns/credentials/v2"
OB = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"
CREATED = "2026-03-01T12:00:00Z"

VALID_EXAMPLES = [
    "ob3-v2-simple-eddsa-rdfc-2022.json",
    "ob3-v2-testvector-eddsa-rdfc-2022.json",
    "ob3-v2-complete-eddsa-rdfc-2022.json",
    "ob3-v2-didkey-eddsa-rdfc-2022.json",
    "ob3-v2-dual-proof-didkey.json",
    "ob3-v1-simple-ed25519signature2020.json",
    "ob3-v1-1edtech-revocationlist-refresh-didweb.json",
    "ob3-v2-bitstring-revoked.json",
    "bitstring-status-list-credential.json",
    "endorsement-v2-eddsa-rdfc-2022.json",
]


def key_of(verification_method: str) -> Ed25519PublicKey:
    """The examples' keys are offline: did:key, or a Multikey in the URL fragment."""
    base, fragment = split_did_url(verification_method)
    if base.startswith("did:key:"):
        return ed25519_public_key_from_raw(ed25519_from_did_key(verification_method))
    assert fragment is not None
    return ed25519_public_key_from_multikey(fragment)


def _credential() -> dict[str, Any]:
    return {
        "@context": [V2, OB],
        "id": "urn:uuid:2b1f4a8e-0000-4000-8000-000000000002",
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "issuer": {"id": "did:web:issuer.example", "type": ["Profile"], "name": "Issuer"},
        "validFrom": "2026-01-01T00:00:00Z",
        "name": "Badge",
        "credentialSubject": {
            "id": "did:example:learner",
            "type": ["AchievementSubject"],
            "achievement": {
                "id": "https://issuer.example/achievements/1",
                "type": ["Achievement"],
                "name": "Achievement",
                "description": "Line one\nline two",
                "criteria": {"narrative": "Do it."},
            },
        },
    }


@pytest.fixture(scope="module")
def signer() -> tuple[Any, str]:
    key = generate_ed25519()
    return key, "did:web:issuer.example#key-1"


@pytest.fixture
def signed(signer: tuple[Any, str]) -> dict[str, Any]:
    key, vm = signer
    return sign_data_integrity(_credential(), key, vm, CREATED)


def test_test_vector_hashes_signature_and_proof_value_are_reproduced(
    load_example: Callable[[str], Any], testvector: dict[str, Any]
) -> None:
    document = load_example("ob3-v2-testvector-eddsa-rdfc-2022.json")
    unsecured = {k: v for k, v in document.items() if k != "proof"}
    expected = testvector["expected"]
    data = proof_hash_data(unsecured, testvector["proofOptions"])
    assert data[:32].hex() == expected["proofHashHex"]
    assert data[32:].hex() == expected["documentHashHex"]
    key = ed25519_private_key_from_seed(bytes.fromhex(testvector["privateKeySeedHex_first32bytes"]))
    options = testvector["proofOptions"]
    secured = sign_data_integrity(unsecured, key, options["verificationMethod"], options["created"])
    proof = secured["proof"][0]
    assert base58btc_decode(proof["proofValue"][1:]).hex() == expected["signatureHex"]
    assert proof["proofValue"] == expected["proofValue"] == document["proof"]["proofValue"]
    assert {k: v for k, v in proof.items() if k != "proofValue"} == options


@pytest.mark.parametrize("name", VALID_EXAMPLES)
def test_every_signed_example_verifies(name: str, load_example: Callable[[str], Any]) -> None:
    document = load_example(name)
    proofs = document_proofs(document)
    assert proofs
    for proof in proofs:
        verify_data_integrity_proof(document, proof, key_of(proof["verificationMethod"]))


def test_bad_proof_value_example_fails(load_example: Callable[[str], Any]) -> None:
    document = load_example("NEG-ob3-v2-bad-proofvalue.json")
    (proof,) = document_proofs(document)
    with pytest.raises((InvalidSignature, MalformedProof)):
        verify_data_integrity_proof(document, proof, key_of(proof["verificationMethod"]))


def test_injected_undefined_terms_example_fails_in_safe_mode(load_example: Callable[[str], Any]) -> None:
    document = load_example("NEG-ob3-v2-injected-undefined-terms.json")
    (proof,) = document_proofs(document)
    with pytest.raises(UndefinedTermError) as info:
        verify_data_integrity_proof(document, proof, key_of(proof["verificationMethod"]))
    assert info.value.code == "undefined_term"


def test_signing_returns_a_new_document_with_a_proof_array(signer: tuple[Any, str]) -> None:
    key, vm = signer
    document = _credential()
    before = copy.deepcopy(document)
    secured = sign_data_integrity(document, key, vm, CREATED)
    assert document == before
    assert isinstance(secured["proof"], list) and len(secured["proof"]) == 1
    proof = secured["proof"][0]
    assert proof["type"] == "DataIntegrityProof"
    assert proof["cryptosuite"] == "eddsa-rdfc-2022"
    assert proof["proofPurpose"] == "assertionMethod"
    assert (proof["created"], proof["verificationMethod"]) == (CREATED, vm)
    verify_data_integrity_proof(secured, proof, key.public_key())


def test_signing_is_deterministic(signer: tuple[Any, str]) -> None:
    key, vm = signer
    assert sign_data_integrity(_credential(), key, vm, CREATED) == sign_data_integrity(_credential(), key, vm, CREATED)


def test_a_second_signature_makes_a_proof_set_and_both_verify(signer: tuple[Any, str], signed: dict[str, Any]) -> None:
    other = generate_ed25519()
    twice = sign_data_integrity(signed, other, "did:web:issuer.example#key-2", CREATED)
    first, second = twice["proof"]
    verify_data_integrity_proof(twice, first, signer[0].public_key())
    verify_data_integrity_proof(twice, second, other.public_key())


def _set(document: dict[str, Any], path: tuple[Any, ...], value: Any) -> None:
    target = document
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = value


@pytest.mark.parametrize(
    ("path", "value"),
    [
        (("id",), "urn:uuid:2b1f4a8e-0000-4000-8000-000000000003"),
        (("type",), ["VerifiableCredential", "EndorsementCredential"]),
        (("issuer", "id"), "did:web:attacker.example"),
        (("issuer", "name"), "Issuer!"),
        (("validFrom",), "2026-01-01T00:00:01Z"),
        (("name",), "Badge "),
        (("credentialSubject", "id"), "did:example:someone-else"),
        (("credentialSubject", "achievement", "name"), "Achievement2"),
        (("credentialSubject", "achievement", "description"), "Line one\r\nline two"),
        (("credentialSubject", "achievement", "criteria", "narrative"), "Do it!"),
        (("validUntil",), "2030-01-01T00:00:00Z"),
    ],
)
def test_tampering_any_field_is_caught(
    signed: dict[str, Any], signer: tuple[Any, str], path: tuple[Any, ...], value: Any
) -> None:
    tampered = copy.deepcopy(signed)
    _set(tampered, path, value)
    with pytest.raises(InvalidSignature) as info:
        verify_data_integrity_proof(tampered, tampered["proof"][0], signer[0].public_key())
    assert info.value.code == "invalid_signature"


def test_removing_a_field_is_caught(signed: dict[str, Any], signer: tuple[Any, str]) -> None:
    tampered = copy.deepcopy(signed)
    del tampered["name"]
    with pytest.raises(InvalidSignature):
        verify_data_integrity_proof(tampered, tampered["proof"][0], signer[0].public_key())


@pytest.mark.parametrize(
    ("member", "value", "error"),
    [
        ("proofValue", None, MalformedProof),
        ("created", "2026-03-01T12:00:01Z", InvalidSignature),
        ("created", "yesterday", MalformedProof),
        ("verificationMethod", "did:web:issuer.example#key-2", InvalidSignature),
        ("cryptosuite", "eddsa-2022", InvalidSignature),
        ("cryptosuite", "ecdsa-rdfc-2019", UnsupportedCryptosuite),
        ("type", "Ed25519Signature2018", UnsupportedCryptosuite),
        ("proofPurpose", "authentication", MalformedProof),
    ],
)
def test_tampering_the_proof_is_caught(
    signed: dict[str, Any], signer: tuple[Any, str], member: str, value: Any, error: type[CredentialError]
) -> None:
    proof = dict(signed["proof"][0])
    if member == "proofValue":
        signature = bytearray(base58btc_decode(proof["proofValue"][1:]))
        signature[10] ^= 1
        proof["proofValue"] = multibase_encode_base58btc(bytes(signature))
        error = InvalidSignature
    else:
        proof[member] = value
    with pytest.raises(error):
        verify_data_integrity_proof(signed, proof, signer[0].public_key())


def test_proof_purpose_check_can_be_relaxed_but_the_signature_still_covers_it(
    signed: dict[str, Any], signer: tuple[Any, str]
) -> None:
    proof = {**signed["proof"][0], "proofPurpose": "authentication"}
    with pytest.raises(InvalidSignature):
        verify_data_integrity_proof(signed, proof, signer[0].public_key(), expected_proof_purpose=None)


@pytest.mark.parametrize("proof_value", ["", "z", "abc", "z0OIl", "z" + "1" * 10, "u" + "A" * 86])
def test_malformed_proof_values_are_refused(signed: dict[str, Any], signer: tuple[Any, str], proof_value: str) -> None:
    proof = {**signed["proof"][0], "proofValue": proof_value}
    with pytest.raises(MalformedProof) as info:
        verify_data_integrity_proof(signed, proof, signer[0].public_key())
    assert info.value.code == "malformed_proof"


def test_another_key_is_caught(signed: dict[str, Any]) -> None:
    with pytest.raises(InvalidSignature):
        verify_data_integrity_proof(signed, signed["proof"][0], generate_ed25519().public_key())


def test_non_ed25519_keys_are_refused(signed: dict[str, Any]) -> None:
    with pytest.raises(KeyFormatError):
        verify_data_integrity_proof(signed, signed["proof"][0], generate_p256().public_key())  # type: ignore[arg-type]
    with pytest.raises(KeyFormatError):
        sign_data_integrity(_credential(), generate_p256(), "did:web:x#1", CREATED)  # type: ignore[arg-type]


def test_an_unsigned_undefined_term_added_after_signing_is_caught(
    signed: dict[str, Any], signer: tuple[Any, str]
) -> None:
    tampered = {**signed, "bonusPoints": 1000}
    with pytest.raises(UndefinedTermError):
        verify_data_integrity_proof(tampered, tampered["proof"][0], signer[0].public_key())


def test_signing_refuses_undefined_terms(signer: tuple[Any, str]) -> None:
    document = _credential()
    document["credentialSubject"]["nickname"] = "unsigned"
    with pytest.raises(UndefinedTermError) as info:
        sign_data_integrity(document, signer[0], signer[1], CREATED)
    assert info.value.terms == ["term 'nickname'"]


def test_signing_refuses_unknown_contexts(signer: tuple[Any, str]) -> None:
    document = _credential()
    document["@context"] = [V2, "https://example.com/made-up-context"]
    with pytest.raises(ContextNotAllowed):
        sign_data_integrity(document, signer[0], signer[1], CREATED)


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"cryptosuite": "eddsa-2022"}, UnsupportedCryptosuite),
        ({"created": "2026-03-01T12:00:00"}, MalformedProof),
        ({"created": "2026-13-01T12:00:00Z"}, MalformedProof),
        ({"verification_method": "key-1"}, MalformedProof),
        ({"proof_purpose": ""}, MalformedProof),
    ],
)
def test_signing_refuses_bad_proof_options(
    signer: tuple[Any, str], kwargs: dict[str, Any], error: type[CredentialError]
) -> None:
    arguments: dict[str, Any] = {"verification_method": signer[1], "created": CREATED, **kwargs}
    with pytest.raises(error):
        sign_data_integrity(_credential(), signer[0], **arguments)


def test_vc_11_credentials_with_the_data_integrity_context_can_be_signed_and_verified(signer: tuple[Any, str]) -> None:
    document = _credential()
    document["@context"] = [
        "https://www.w3.org/2018/credentials/v1",
        "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.1.json",
        "https://w3id.org/security/data-integrity/v1",
    ]
    document["issuanceDate"] = document.pop("validFrom")
    secured = sign_data_integrity(document, signer[0], signer[1], CREATED)
    verify_data_integrity_proof(secured, secured["proof"][0], signer[0].public_key())


def test_proof_context_must_prefix_the_document_context(signed: dict[str, Any], signer: tuple[Any, str]) -> None:
    proof = {**signed["proof"][0], "@context": [V2]}
    verify_data_integrity_proof(signed, proof, signer[0].public_key())
    with pytest.raises(MalformedProof):
        verify_data_integrity_proof(signed, {**proof, "@context": [OB]}, signer[0].public_key())


def test_legacy_proofs_verify_and_tampering_them_is_caught(load_example: Callable[[str], Any]) -> None:
    document = load_example("ob3-v2-dual-proof-didkey.json")
    legacy = next(p for p in document_proofs(document) if p["type"] == "Ed25519Signature2020")
    key = key_of(legacy["verificationMethod"])
    verify_data_integrity_proof(document, legacy, key)
    tampered = copy.deepcopy(document)
    tampered["name"] = tampered.get("name", "") + "!"
    with pytest.raises(InvalidSignature):
        verify_data_integrity_proof(tampered, legacy, key)
    with pytest.raises(MalformedProof):
        verify_data_integrity_proof(document, {**legacy, "cryptosuite": "eddsa-rdfc-2022"}, key)


def test_document_proofs_normalises_object_and_array() -> None:
    assert document_proofs({}) == []
    assert document_proofs({"proof": {"type": "X"}}) == [{"type": "X"}]
    assert document_proofs({"proof": [{"type": "X"}, {"type": "Y"}]}) == [{"type": "X"}, {"type": "Y"}]
    with pytest.raises(MalformedProof):
        document_proofs({"proof": ["nope"]})


def test_document_without_context_is_malformed(signer: tuple[Any, str]) -> None:
    document = _credential()
    del document["@context"]
    with pytest.raises(MalformedProof):
        sign_data_integrity(document, signer[0], signer[1], CREATED)


def test_openbadgecredential_and_achievementcredential_are_the_same_rdf_type(
    signed: dict[str, Any], signer: tuple[Any, str]
) -> None:
    # The OB context defines OpenBadgeCredential as an alias: the signature covers meaning, not spelling.
    renamed = {**signed, "type": ["VerifiableCredential", "AchievementCredential"]}
    verify_data_integrity_proof(renamed, renamed["proof"][0], signer[0].public_key())


def test_eddsa_2022_the_former_name_of_the_suite_is_verified(signer: tuple[Any, str]) -> None:
    key, vm = signer
    document = _credential()
    proof = {
        "type": "DataIntegrityProof",
        "cryptosuite": "eddsa-2022",
        "created": CREATED,
        "verificationMethod": vm,
        "proofPurpose": "assertionMethod",
    }
    proof["proofValue"] = multibase_encode_base58btc(key.sign(proof_hash_data(document, proof)))
    secured = {**document, "proof": proof}
    verify_data_integrity_proof(secured, proof, key.public_key())
    with pytest.raises(InvalidSignature):
        verify_data_integrity_proof(secured, {**proof, "cryptosuite": "eddsa-rdfc-2022"}, key.public_key())


_json_leaf = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=12),
    st.sampled_from(["@id", "@type", "_:b0", "urn:x", "https://example.com/", "\ud800", "AchievementCredential"]),
)
_json_values = st.recursive(
    _json_leaf,
    lambda children: st.one_of(
        st.lists(children, max_size=3),
        st.dictionaries(
            st.one_of(
                st.text(max_size=8),
                st.sampled_from(
                    ["@context", "@id", "@type", "@value", "@list", "@graph", "@reverse", "@base", "id", "type"]
                ),
            ),
            children,
            max_size=3,
        ),
    ),
    max_leaves=8,
)


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    paths = [prefix]
    if isinstance(value, dict):
        for key, item in value.items():
            paths += _paths(item, (*prefix, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            paths += _paths(item, (*prefix, index))
    return paths


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_random_replacements_raise_only_credential_errors_and_never_verify(
    load_example: Callable[[str], Any], data: st.DataObject
) -> None:
    original = load_example("ob3-v2-simple-eddsa-rdfc-2022.json")
    path = data.draw(st.sampled_from(_paths(original)[1:]))
    value = data.draw(_json_values)
    document = copy.deepcopy(original)
    _set(document, path, value)
    if document == original or (path == ("type", 1) and value == "AchievementCredential"):
        return  # unchanged, or the OB context's alias of OpenBadgeCredential: the same RDF
    try:
        proofs = document_proofs(document)
        for proof in proofs:
            verify_data_integrity_proof(document, proof, key_of(original["proof"][0]["verificationMethod"]))
    except CredentialError:
        return
    assert not proofs, f"{path} = {value!r} still verifies"
