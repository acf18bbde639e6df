"""Signing in an organisation's name: its active keys, decrypted once per process and kept while they stay
active (:func:`signer_for`)."""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from cachetools import LRUCache
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from badgehub.credentials.documents import IssuerProfile
from badgehub.credentials.keys import PrivateKey
from badgehub.issuing.errors import IssuingFailed
from badgehub.keys.identity import SigningIdentity, issuer_profile, signing_identity
from badgehub.keys.service import installation_kek, load_private_key
from badgehub.organisations.models import Organisation


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
