"""The life cycle of signing keys: creation, look-up, rotation, compromise, and decryption for signing.

Services add to the session and flush; the caller (view, CLI, another service) commits once. Every change
writes an audit event whose details hold key ids, algorithms and dates only, never key material.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import secrets
from collections.abc import Iterable, Mapping
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from badgehub.audit.service import record
from badgehub.credentials.keys import (
    PrivateKey,
    PublicKey,
    ed25519_public_key_from_multikey,
    ed25519_raw_public_key,
    generate_ed25519,
    generate_rsa,
    public_jwk,
    public_key_from_jwk,
)
from badgehub.credentials.multiformats import ed25519_public_key_to_multikey
from badgehub.db import utcnow
from badgehub.errors import ValidationError
from badgehub.extensions import db
from badgehub.keys.crypto import (
    decrypt_private_key,
    encrypt_private_key,
    parse_kek,
    reencrypt_private_key,
    signing_key_aad,
)
from badgehub.keys.errors import (
    InvalidCompromiseDate,
    KeyAlreadyCompromised,
    KeyNotActive,
    KeysAlreadyExist,
    NoActiveKey,
    SigningKeyNotFound,
)
from badgehub.keys.models import KeyAlgorithm, KeyState, SigningKey
from badgehub.organisations.models import Organisation

KEY_ID_PREFIX = "key-"
MAX_REASON_LENGTH = 500


def installation_kek(config: Mapping[str, Any]) -> bytes:
    """Return the 32-byte KEK of an app configuration (``config["KEK"]``, 64 hex characters).

    Raises :class:`~badgehub.keys.errors.KekMissing` ("run badgehub init") when there is none, and
    :class:`~badgehub.keys.errors.InvalidKek` when it is malformed.
    """
    value = config.get("KEK")
    return parse_kek(value if isinstance(value, str) else None)


def new_key_id() -> str:
    """Return a fresh key id ``key-`` + 8 lower-case base32 characters (40 random bits)."""
    return KEY_ID_PREFIX + base64.b32encode(secrets.token_bytes(5)).decode("ascii").lower()


def _unused_key_id() -> str:
    # 40 bits make a collision very unlikely, not impossible; the unique constraint is the last word.
    for _ in range(8):
        candidate = new_key_id()
        if db.session.scalar(select(SigningKey.id).where(SigningKey.key_id == candidate)) is None:
            return candidate
    raise RuntimeError("could not draw an unused signing key id")  # pragma: no cover


def _public_key_text(private_key: PrivateKey) -> str:
    if isinstance(private_key, Ed25519PrivateKey):
        return ed25519_public_key_to_multikey(ed25519_raw_public_key(private_key))
    return json.dumps(public_jwk(private_key), sort_keys=True, separators=(",", ":"))


def _generate(algorithm: KeyAlgorithm) -> PrivateKey:
    return generate_ed25519() if algorithm is KeyAlgorithm.ED25519 else generate_rsa(2048)


def _ensure_id(organisation: Organisation) -> int:
    if organisation.id is None:
        db.session.flush()
    return int(organisation.id)


def _create_key(organisation_id: int, algorithm: KeyAlgorithm, kek: bytes, actor_id: int | None) -> SigningKey:
    private_key = _generate(algorithm)
    key_id = _unused_key_id()
    key = SigningKey(
        organisation_id=organisation_id, key_id=key_id, algorithm=algorithm, state=KeyState.ACTIVE,
        public_key=_public_key_text(private_key),
        encrypted_private_key=encrypt_private_key(
            private_key, kek, signing_key_aad(organisation_id, key_id, algorithm.value)),
        created_at=utcnow(),
    )
    db.session.add(key)
    record("signing_key.created", actor_id=actor_id, organisation_id=organisation_id,
           subject_type="signing_key", subject_id=key_id,
           details={"key_id": key_id, "algorithm": algorithm.value})
    return key


def _active_keys(organisation_id: int, *, lock: bool = False) -> list[SigningKey]:
    query = select(SigningKey).where(SigningKey.organisation_id == organisation_id,
                                     SigningKey.state == KeyState.ACTIVE).order_by(SigningKey.id)
    if lock:
        query = query.with_for_update()
    return list(db.session.scalars(query))


def create_organisation_keys(organisation: Organisation, kek: bytes, *,
                             actor_id: int | None = None) -> list[SigningKey]:
    """Create the organisation's first keys, one active key per algorithm (Ed25519, RSA-2048).

    Meant to be called by the organisation-creation service in the same transaction. Flushes (the
    organisation too, when it has no id yet, since the id is bound into each ciphertext). Raises
    :class:`KeysAlreadyExist` when the organisation already has an active key, and
    :class:`~badgehub.keys.errors.InvalidKek` for a KEK that is not 32 bytes.
    """
    organisation_id = _ensure_id(organisation)
    if _active_keys(organisation_id, lock=True):
        raise KeysAlreadyExist()
    keys = [_create_key(organisation_id, algorithm, kek, actor_id) for algorithm in KeyAlgorithm]
    db.session.flush()
    return keys


def active_key(organisation: Organisation, algorithm: KeyAlgorithm) -> SigningKey:
    """Return the organisation's active key for ``algorithm``; raises :class:`NoActiveKey` if none."""
    key = db.session.scalar(select(SigningKey).where(
        SigningKey.organisation_id == organisation.id, SigningKey.algorithm == algorithm,
        SigningKey.state == KeyState.ACTIVE))
    if key is None:
        raise NoActiveKey(details={"algorithm": algorithm.value})
    return key


def published_keys(organisation: Organisation) -> list[SigningKey]:
    """Return every key of the organisation that must be published (active, retired and compromised),
    oldest first. How a compromised key is shown is the DID-document code's decision."""
    return list(db.session.scalars(
        select(SigningKey).where(SigningKey.organisation_id == organisation.id,
                                 SigningKey.state.in_([KeyState.ACTIVE, KeyState.RETIRED, KeyState.COMPROMISED]))
        .order_by(SigningKey.created_at, SigningKey.id)))


def get_key(key_id: str) -> SigningKey:
    """Return the key with this key id (``key-…``); raises :class:`SigningKeyNotFound`."""
    key = db.session.scalar(select(SigningKey).where(SigningKey.key_id == key_id))
    if key is None:
        raise SigningKeyNotFound(details={"key_id": key_id})
    return key


def rotate_keys(organisation: Organisation, kek: bytes, actor_id: int | None, *,
                algorithms: Iterable[KeyAlgorithm] | None = None) -> list[SigningKey]:
    """Give the organisation a new active key for each algorithm (all by default) and retire the old one.

    Retired keys stay published, so credentials they signed keep verifying. An algorithm without an
    active key (never created, or declared compromised) simply gets one. Returns the new keys; flushes.
    """
    organisation_id = _ensure_id(organisation)
    wanted = list(KeyAlgorithm) if algorithms is None else list(dict.fromkeys(algorithms))
    now = utcnow()
    retired: dict[KeyAlgorithm, SigningKey] = {}
    for old in _active_keys(organisation_id, lock=True):
        if old.algorithm in wanted:
            old.state = KeyState.RETIRED
            old.retired_at = now
            retired[old.algorithm] = old
    # Retire before inserting: the partial unique index allows one active key per algorithm at any time.
    db.session.flush()
    new_keys = []
    for algorithm in wanted:
        new = _create_key(organisation_id, algorithm, kek, actor_id)
        new_keys.append(new)
        if algorithm in retired:
            record("signing_key.retired", actor_id=actor_id, organisation_id=organisation_id,
                   subject_type="signing_key", subject_id=retired[algorithm].key_id,
                   details={"key_id": retired[algorithm].key_id, "algorithm": algorithm.value,
                            "replaced_by": new.key_id})
    db.session.flush()
    return new_keys


def declare_compromised(key: SigningKey, since: dt.datetime, actor_id: int | None, reason: str) -> None:
    """Mark ``key`` compromised from ``since``: credentials it signed at or after that moment stop verifying.

    The key stays published (with its date). An active key is not replaced here, because that needs the
    KEK: call :func:`rotate_keys` for its algorithm in the same transaction. Declaring an already
    compromised key again may only move the date earlier. Raises :class:`InvalidCompromiseDate` for a
    naive or future ``since``, :class:`~badgehub.errors.ValidationError` for an empty or over-long
    reason, and :class:`KeyAlreadyCompromised` when the key is already compromised from that date or before.
    """
    if since.tzinfo is None or since.utcoffset() is None:
        raise InvalidCompromiseDate()
    if since > utcnow():
        raise InvalidCompromiseDate()
    reason = reason.strip()
    if not reason or len(reason) > MAX_REASON_LENGTH:
        raise ValidationError(_l("Give the reason in 1 to 500 characters."), details={"field": "reason"})
    if key.state is KeyState.COMPROMISED and key.compromised_since is not None and key.compromised_since <= since:
        raise KeyAlreadyCompromised(details={"key_id": key.key_id})
    previous = key.state
    key.state = KeyState.COMPROMISED
    key.compromised_since = since.astimezone(dt.UTC)
    key.compromise_reason = reason
    record("signing_key.compromised", actor_id=actor_id, organisation_id=key.organisation_id,
           subject_type="signing_key", subject_id=key.key_id,
           details={"key_id": key.key_id, "algorithm": key.algorithm.value, "previous_state": previous.value,
                    "since": key.compromised_since.isoformat(), "reason": reason})
    db.session.flush()


def accepts_signature_made_at(key: SigningKey, signed_at: dt.datetime) -> bool:
    """Whether a signature by ``key`` dated ``signed_at`` may still verify: False exactly when the key is
    compromised and ``signed_at`` is at or after its compromise date."""
    if key.state is KeyState.COMPROMISED and key.compromised_since is not None:
        return signed_at < key.compromised_since
    return True


def change_kek(old_kek: bytes, new_kek: bytes, *, actor_id: int | None = None) -> int:
    """Encrypt every stored private key (active, retired and compromised alike) under ``new_kek`` instead of
    ``old_kek``, rows locked, in the caller's transaction (flushed, not committed: all keys or none). Returns
    how many keys were re-encrypted. Raises :class:`~badgehub.keys.errors.KeyDecryptionFailed` when
    ``old_kek`` is not the KEK the keys were encrypted with, and ``ValidationError`` when both are the same."""
    if old_kek == new_kek:
        raise ValidationError(_l("The new key-encryption key is the current one."))
    keys = list(db.session.scalars(select(SigningKey).order_by(SigningKey.id).with_for_update()))
    for key in keys:
        key.encrypted_private_key = reencrypt_private_key(
            key.encrypted_private_key, old_kek, new_kek,
            signing_key_aad(key.organisation_id, key.key_id, key.algorithm.value))
    record("signing_keys.kek_changed", actor_id=actor_id, subject_type="installation", subject_id=None,
           details={"keys": len(keys)})
    db.session.flush()
    return len(keys)


def load_private_key(key: SigningKey, kek: bytes) -> PrivateKey:
    """Decrypt and return the private key of an *active* key, for signing (never store or show it).

    Raises :class:`KeyNotActive` for a retired or compromised key, and
    :class:`~badgehub.keys.errors.KeyDecryptionFailed` when the KEK is wrong or the stored blob was
    altered or belongs to another key row.
    """
    if key.state is not KeyState.ACTIVE:
        raise KeyNotActive(details={"key_id": key.key_id, "state": key.state.value})
    return decrypt_private_key(key.encrypted_private_key, kek,
                               signing_key_aad(key.organisation_id, key.key_id, key.algorithm.value))


def public_key_of(key: SigningKey) -> PublicKey:
    """Return the public key object of ``key`` (Ed25519 from its Multikey, RSA from its JWK)."""
    if key.algorithm is KeyAlgorithm.ED25519:
        return ed25519_public_key_from_multikey(key.public_key)
    return public_key_from_jwk(json.loads(key.public_key))


def public_jwk_of(key: SigningKey) -> dict[str, str]:
    """Return the public JWK of ``key`` with ``kid`` set to its key id (OKP for Ed25519, RSA for RSA)."""
    return public_jwk(public_key_of(key), kid=key.key_id)
