"""Signing in an organisation's name: its active keys, decrypted once per process and kept while they stay
active (:func:`signer_for`), and an award's documents: built (:func:`build_award`), then signed
(:func:`sign_document`), here or on the pool of signing processes (:mod:`badgehub.issuing.parallel`)."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final

from cachetools import LRUCache
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat

from badgehub.credentials.data_integrity import sign_data_integrity
from badgehub.credentials.documents import Evidence, IssuerProfile, Recipient, Result, build_credential, to_json
from badgehub.credentials.errors import CredentialError
from badgehub.credentials.keys import PrivateKey
from badgehub.credentials.vc_jwt import sign_vc_jwt
from badgehub.issuing.errors import IssuingFailed
from badgehub.issuing.parallel import KeyMaterial
from badgehub.keys.identity import SigningIdentity, issuer_profile, signing_identity
from badgehub.keys.service import installation_kek, load_private_key
from badgehub.organisations.models import Organisation

if TYPE_CHECKING:  # the service imports this module
    from badgehub.issuing.service import CleanAward

SALT_BYTES: Final = 16


@dataclass(frozen=True)
class Signer:
    """What signing in one organisation's name needs, private keys decrypted once (a batch reuses it).

    Never log it or keep it beyond the unit of work.
    """

    organisation_id: int
    identity: SigningIdentity
    profile: IssuerProfile
    ed25519: Ed25519PrivateKey = field(repr=False)
    rsa: PrivateKey = field(repr=False)


# Decrypted private keys, per process. Loading an RSA key costs about 40 ms (OpenSSL checks the key), two
# thirds of an award, so the keys of the organisations that issued lately are kept. The process holds the KEK
# anyway, so this keeps nothing an intruder in the process could not decrypt. The cache key is the *active*
# keys' rows as just read from the database (ids, key ids, a hash of the ciphertext) and a hash of the KEK: a
# rotated, retired or compromised key is no longer active, so it is never looked up again.
_KEY_CACHE: LRUCache[tuple[Any, ...], tuple[Ed25519PrivateKey, PrivateKey]] = LRUCache(maxsize=64)
_KEY_CACHE_LOCK = threading.Lock()


def _cache_key(identity: SigningIdentity, kek: bytes) -> tuple[Any, ...]:
    def row(key: Any) -> tuple[Any, ...]:
        return key.id, key.key_id, hashlib.sha256(key.encrypted_private_key).hexdigest()

    return row(identity.ed25519_key), row(identity.rsa_key), hashlib.sha256(kek).hexdigest()


def _private_keys(identity: SigningIdentity, kek: bytes) -> tuple[Ed25519PrivateKey, PrivateKey]:
    cache_key = _cache_key(identity, kek)
    with _KEY_CACHE_LOCK:
        cached = _KEY_CACHE.get(cache_key)
    if cached is not None:
        return cached
    ed25519 = load_private_key(identity.ed25519_key, kek)
    if not isinstance(ed25519, Ed25519PrivateKey):  # pragma: no cover - the key row says Ed25519
        raise IssuingFailed()
    keys = (ed25519, load_private_key(identity.rsa_key, kek))
    with _KEY_CACHE_LOCK:
        _KEY_CACHE[cache_key] = keys
    return keys


def signer_for(organisation: Organisation, config: Mapping[str, Any]) -> Signer:
    """The organisation's active keys (decrypted) with its issuer id, key ids and Profile.

    Raises :class:`~badgehub.keys.errors.NoActiveKey`, :class:`~badgehub.keys.errors.KekMissing` /
    ``InvalidKek`` / ``KeyDecryptionFailed`` from the key service.
    """
    identity = signing_identity(organisation, config)
    ed25519, rsa = _private_keys(identity, installation_kek(config))
    return Signer(organisation.id, identity, issuer_profile(organisation, identity.issuer_id), ed25519, rsa)


def stamp(moment: dt.datetime) -> str:
    """A proof's ``created``: whole seconds, UTC."""
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def build_award(signer: Signer, *, credential_id: str, definition: Any, clean: CleanAward, moment: dt.datetime,
                valid_until: dt.datetime | None, status: Mapping[str, Any]) -> dict[str, Any]:
    """The unsigned credential of one award (a fresh salt for the recipient's hash). Raises
    :class:`IssuingFailed` when the credential engine refuses the document."""
    evidence = []
    if clean.evidence_url is not None or clean.narrative is not None:
        evidence.append(Evidence(id=clean.evidence_url, narrative=clean.narrative))
    evidence.extend(Evidence(id=url, name=name or None) for url, name in clean.more_evidence)
    try:
        return build_credential(
            credential_id=credential_id, issuer=signer.profile, achievement=definition,
            recipient=Recipient(email=clean.recipient_email, salt=secrets.token_hex(SALT_BYTES), did=clean.holder_did),
            valid_from=moment, valid_until=valid_until, awarded_date=moment, evidence=evidence,
            results=[Result(value=clean.result)] if clean.result is not None else [],
            activity_start_date=clean.activity_start, activity_end_date=clean.activity_end,
            credential_status=status)
    except CredentialError as exc:
        raise IssuingFailed(details={"code": exc.code}) from exc


def sign_document(document: Mapping[str, Any], signer: Signer, moment: dt.datetime) -> tuple[str, str]:
    """Sign a built credential with Data Integrity, then as a VC-JWT over the signed JSON; returns both as
    stored. Raises :class:`IssuingFailed` when the credential engine refuses the document."""
    try:
        # own_document: built by build_award, so its RDF is written directly instead of expanded (same bytes).
        signed = sign_data_integrity(document, signer.ed25519, signer.identity.verification_method_id,
                                     stamp(moment), own_document=True)
        return to_json(signed), sign_token(signed, signer)
    except CredentialError as exc:
        raise IssuingFailed(details={"code": exc.code}) from exc


def jwt_signing_key(signer: Signer) -> tuple[PrivateKey, str]:
    """The key and JWS ``alg`` of the signer's VC-JWTs: RS256 in did:web style, EdDSA with the did:key's own key
    in did:key style (:attr:`~badgehub.keys.identity.SigningIdentity.jwt_signed_by_ed25519`)."""
    if signer.identity.jwt_signed_by_ed25519:
        return signer.ed25519, "EdDSA"
    return signer.rsa, signer.identity.rsa_key.algorithm.jws_alg


def sign_token(signed: dict[str, Any], signer: Signer) -> str:
    """The VC-JWT of a signed credential (:func:`jwt_signing_key`). Raises ``CredentialError``."""
    jwt_key, jwt_alg = jwt_signing_key(signer)
    return sign_vc_jwt(signed, jwt_key, signer.identity.jwt_kid, alg=jwt_alg)


def material_of(signer: Signer) -> KeyMaterial:
    """The signer's keys and ids, in a form that can cross to a worker process of the signing pool (the same keys
    and ``alg`` as :func:`sign_document` here)."""

    def der(key: Any) -> bytes:
        return bytes(key.private_bytes(Encoding.DER, PrivateFormat.PKCS8, NoEncryption()))

    jwt_key, jwt_alg = jwt_signing_key(signer)
    return KeyMaterial(ed25519=der(signer.ed25519), jwt_key=der(jwt_key),
                       verification_method=signer.identity.verification_method_id, jwt_kid=signer.identity.jwt_kid,
                       jwt_alg=jwt_alg)
