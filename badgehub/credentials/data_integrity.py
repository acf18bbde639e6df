"""Data Integrity proofs: ``DataIntegrityProof`` / ``eddsa-rdfc-2022`` (sign and verify), and the
legacy ``eddsa-2022`` and ``Ed25519Signature2020`` (verify only).

All three use the same construction (W3C Data Integrity EdDSA Cryptosuites v1.0, §3.3):

    proofConfig = proof without proofValue, with the document's @context
    hashData    = SHA-256(RDFC-1.0(proofConfig)) || SHA-256(RDFC-1.0(document without proof))
    proofValue  = "z" + base58btc(Ed25519.sign(hashData))

Both canonicalisations run in JSON-LD safe mode (:mod:`badgehub.credentials.canonical`): a document
or proof with anything its contexts do not define is refused before any signature is made or
checked, so nothing unsigned can ride along with a valid proof.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from typing import Any

from cryptography.exceptions import InvalidSignature as _CryptoInvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from badgehub.credentials.canonical import canonical_forms, canonicalize, canonicalize_quads
from badgehub.credentials.direct_rdf import direct_quads
from badgehub.credentials.errors import InvalidSignature, KeyFormatError, MalformedProof, UnsupportedCryptosuite
from badgehub.credentials.multiformats import base58btc_decode, multibase_encode_base58btc

DATA_INTEGRITY_PROOF = "DataIntegrityProof"
ED25519_SIGNATURE_2020 = "Ed25519Signature2020"
EDDSA_RDFC_2022 = "eddsa-rdfc-2022"
EDDSA_2022 = "eddsa-2022"

#: Cryptosuites we sign with, and (type, cryptosuite) pairs we verify.
SIGNING_CRYPTOSUITES = frozenset({EDDSA_RDFC_2022})
VERIFYING_SUITES = frozenset(
    {(DATA_INTEGRITY_PROOF, EDDSA_RDFC_2022), (DATA_INTEGRITY_PROOF, EDDSA_2022), (ED25519_SIGNATURE_2020, None)}
)

# XML Schema 1.1 dateTimeStamp (a dateTime with a mandatory time zone), as Data Integrity wants.
_DATE_TIME_STAMP = re.compile(
    r"^-?[0-9]{4,}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])T"
    r"(([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\.[0-9]+)?|24:00:00(\.0+)?)"
    r"(Z|[+-]((0[0-9]|1[0-3]):[0-5][0-9]|14:00))$"
)


def is_date_time_stamp(value: object) -> bool:
    """Return True when ``value`` is an XML Schema ``dateTimeStamp`` string (time zone required)."""
    return isinstance(value, str) and bool(_DATE_TIME_STAMP.match(value))


def document_proofs(document: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """Return the embedded proofs of ``document`` as a list (``proof`` may be one object or an
    array; an absent ``proof`` gives ``[]``).  Raises :class:`MalformedProof` when an entry is not
    a JSON object."""
    proof = document.get("proof")
    if proof is None:
        return []
    proofs = proof if isinstance(proof, list) else [proof]
    for item in proofs:
        if not isinstance(item, Mapping):
            raise MalformedProof("every proof must be a JSON object")
    return list(proofs)


def _unsecured(document: Mapping[str, Any]) -> dict[str, Any]:
    if not isinstance(document, Mapping):
        raise MalformedProof("the secured document must be a JSON object")
    if "@context" not in document:
        raise MalformedProof("the secured document has no @context")
    return {key: value for key, value in document.items() if key != "proof"}


def _proof_config(document: Mapping[str, Any], proof_options: Mapping[str, Any]) -> dict[str, Any]:
    config = {key: value for key, value in proof_options.items() if key not in ("proofValue", "@context")}
    own_context = proof_options.get("@context")
    doc_context = document["@context"]
    if own_context is not None:
        # Data Integrity: the proof's @context must be a prefix of the document's.
        own = own_context if isinstance(own_context, list) else [own_context]
        doc = doc_context if isinstance(doc_context, list) else [doc_context]
        if doc[: len(own)] != own:
            raise MalformedProof("the proof's @context does not match the document's @context")
    return {"@context": doc_context, **config}


def _canonical(document: Mapping[str, Any], own_document: bool) -> str:
    if own_document:
        quads = direct_quads(document)
        if quads is not None:
            return canonicalize_quads(quads)
    return canonicalize(document)


def proof_hash_data(
    document: Mapping[str, Any], proof_options: Mapping[str, Any], *, own_document: bool = False
) -> bytes:
    """Return the 64 bytes that are signed: SHA-256 of the canonical proof configuration followed by
    SHA-256 of the canonical document (without ``proof``).

    ``proof_options`` is the proof object (its ``proofValue``, if any, is ignored).  ``own_document``
    (for documents BadgeHub built itself) writes their RDF directly (:mod:`badgehub.credentials.direct_rdf`)
    when it can, and otherwise takes the general path like any document.  Raises the errors of
    :func:`~badgehub.credentials.canonical.canonicalize` and :class:`MalformedProof`.
    """
    unsecured = _unsecured(document)
    config = _proof_config(unsecured, proof_options)
    return (
        hashlib.sha256(_canonical(config, own_document).encode("utf-8")).digest()
        + hashlib.sha256(_canonical(unsecured, own_document).encode("utf-8")).digest()
    )


def sign_data_integrity(
    document: Mapping[str, Any],
    private_key: Ed25519PrivateKey,
    verification_method: str,
    created: str,
    cryptosuite: str = EDDSA_RDFC_2022,
    proof_purpose: str = "assertionMethod",
    *,
    own_document: bool = False,
) -> dict[str, Any]:
    """Sign ``document`` with a ``DataIntegrityProof`` (``eddsa-rdfc-2022``) and return a NEW dict
    whose ``proof`` is an array ending with the new proof (existing proofs are kept: a proof set).

    ``created`` must be an XML Schema dateTimeStamp (e.g. ``2026-01-01T00:00:00Z``); every input
    is taken as given so the output is reproducible byte for byte.  ``own_document=True`` says BadgeHub
    built ``document`` itself (issuing does): its canonical form is then written without JSON-LD
    expansion when it can be, the same bytes either way (see :func:`proof_hash_data`).  Raises
    :class:`UnsupportedCryptosuite` for another cryptosuite, :class:`MalformedProof` for a bad
    ``created`` or verification method, :class:`KeyFormatError` for a non-Ed25519 key, and
    :class:`~badgehub.credentials.errors.UndefinedTermError` (safe mode) /
    :class:`~badgehub.credentials.errors.ContextNotAllowed` when the document cannot be signed.
    """
    if cryptosuite not in SIGNING_CRYPTOSUITES:
        raise UnsupportedCryptosuite(f"cannot sign with cryptosuite {cryptosuite!r}")
    if not isinstance(private_key, Ed25519PrivateKey):
        raise KeyFormatError("eddsa-rdfc-2022 needs an Ed25519 private key")
    if not is_date_time_stamp(created):
        raise MalformedProof(f"created {created!r} is not an XML Schema dateTimeStamp")
    if not isinstance(verification_method, str) or ":" not in verification_method:
        raise MalformedProof("verificationMethod must be an absolute URL or DID URL")
    if not isinstance(proof_purpose, str) or not proof_purpose:
        raise MalformedProof("proofPurpose must be a non-empty string")
    existing = document_proofs(document)
    proof: dict[str, Any] = {
        "type": DATA_INTEGRITY_PROOF,
        "created": created,
        "verificationMethod": verification_method,
        "cryptosuite": cryptosuite,
        "proofPurpose": proof_purpose,
    }
    signature = private_key.sign(proof_hash_data(document, proof, own_document=own_document))
    proof["proofValue"] = multibase_encode_base58btc(signature)
    secured = {key: value for key, value in document.items() if key != "proof"}
    secured["proof"] = [*existing, proof]
    return secured


def _check_proof_shape(proof: Mapping[str, Any], expected_proof_purpose: str | None) -> bytes:
    if not isinstance(proof, Mapping):
        raise MalformedProof("the proof must be a JSON object")
    proof_type = proof.get("type")
    if proof_type == DATA_INTEGRITY_PROOF:
        suite = proof.get("cryptosuite")
        if not isinstance(suite, str) or (proof_type, suite) not in VERIFYING_SUITES:
            raise UnsupportedCryptosuite(f"unsupported DataIntegrityProof cryptosuite {suite!r}")
    elif proof_type == ED25519_SIGNATURE_2020:
        if "cryptosuite" in proof:
            raise MalformedProof("Ed25519Signature2020 proofs carry no cryptosuite")
    else:
        raise UnsupportedCryptosuite(f"unsupported proof type {proof_type!r}")
    if "created" in proof and not is_date_time_stamp(proof["created"]):
        raise MalformedProof("proof 'created' is not an XML Schema dateTimeStamp")
    if not isinstance(proof.get("verificationMethod"), str):
        raise MalformedProof("proof has no verificationMethod")
    purpose = proof.get("proofPurpose")
    if not isinstance(purpose, str):
        raise MalformedProof("proof has no proofPurpose")
    if expected_proof_purpose is not None and purpose != expected_proof_purpose:
        raise MalformedProof(
            f"proofPurpose is {purpose!r}, expected {expected_proof_purpose!r}", code="proof_purpose_mismatch"
        )
    value = proof.get("proofValue")
    if not isinstance(value, str) or not value.startswith("z"):
        raise MalformedProof("proofValue must be a base58btc multibase string ('z…')")
    try:
        signature = base58btc_decode(value[1:])
    except KeyFormatError:
        raise MalformedProof("proofValue is not valid base58btc") from None
    if len(signature) != 64:
        raise MalformedProof("proofValue must decode to a 64-byte Ed25519 signature")
    return signature


def verify_data_integrity_proof(
    document: Mapping[str, Any],
    proof: Mapping[str, Any],
    public_key: Ed25519PublicKey,
    *,
    expected_proof_purpose: str | None = "assertionMethod",
) -> None:
    """Verify one embedded proof of ``document`` (the document may still carry its ``proof``).

    Supports ``DataIntegrityProof`` with ``eddsa-rdfc-2022`` or ``eddsa-2022``, and
    ``Ed25519Signature2020``, over VC DM 1.1 and 2.0 documents.  Returns ``None`` when the
    signature verifies.  Raises :class:`InvalidSignature` when it does not,
    :class:`UnsupportedCryptosuite` for another proof type or suite, :class:`MalformedProof` for a
    structurally bad proof or a ``proofPurpose`` other than ``expected_proof_purpose`` (``None``
    accepts any), :class:`KeyFormatError` for a non-Ed25519 key, and the safe-mode / context errors
    of :func:`~badgehub.credentials.canonical.canonicalize`.
    """
    if not isinstance(public_key, Ed25519PublicKey):
        raise KeyFormatError("this proof needs an Ed25519 public key")
    signature = _check_proof_shape(proof, expected_proof_purpose)
    unsecured = _unsecured(document)
    config = _proof_config(unsecured, proof)
    config_forms = canonical_forms(config)
    document_forms = canonical_forms(unsecured)
    for config_form in config_forms:
        for document_form in document_forms:
            data = (
                hashlib.sha256(config_form.encode("utf-8")).digest()
                + hashlib.sha256(document_form.encode("utf-8")).digest()
            )
            try:
                public_key.verify(signature, data)
            except _CryptoInvalidSignature:
                continue
            return
    raise InvalidSignature("the proof's signature does not verify over this document with this key")
