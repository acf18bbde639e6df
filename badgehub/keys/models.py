"""The signing keys of an organisation: public part in clear, private part encrypted at rest.

Key ids: ``key-`` followed by 8 random lower-case base32 characters (40 bits), unique in the whole
installation. The same short id serves as the DID URL fragment (``did:web:…:issuers:<slug>#key-…``) and
as the JWK ``kid`` for both algorithms, so a JWKS that lists every organisation's keys stays unambiguous.
The Multikey itself was not used as the fragment because RSA keys have no Multikey, and one naming rule
for both algorithms keeps the DID document and the JWKS in step.

At most one *active* key per organisation and algorithm: the service enforces it, and a partial unique
index (``WHERE state = 'active'``, supported by both SQLite ≥ 3.8 and PostgreSQL) makes the database
refuse a second one even if two rotations race.
"""

from __future__ import annotations

import datetime as dt
import enum
from typing import TYPE_CHECKING

from sqlalchemy import ForeignKey, Index, LargeBinary, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from badgehub.db import db, str_enum, utcnow

if TYPE_CHECKING:
    from badgehub.organisations.models import Organisation


class KeyAlgorithm(enum.StrEnum):
    """What a key is and what it signs."""

    ED25519 = "ed25519"  # Data Integrity proofs (eddsa-rdfc-2022), published as a Multikey
    RSA_2048 = "rsa-2048"  # VC-JWT (RS256), published as a JWK

    @property
    def purpose(self) -> str:
        return "data_integrity" if self is KeyAlgorithm.ED25519 else "vc_jwt"

    @property
    def jws_alg(self) -> str:
        """The JOSE ``alg`` this key signs with."""
        return "EdDSA" if self is KeyAlgorithm.ED25519 else "RS256"


class KeyState(enum.StrEnum):
    ACTIVE = "active"  # signs new credentials; published
    RETIRED = "retired"  # no longer signs; still published so earlier credentials keep verifying
    COMPROMISED = "compromised"  # published with its compromise date; nothing signed after it verifies


class SigningKey(db.Model):  # type: ignore[name-defined,misc]
    """One key pair of an organisation. The plaintext private key is never an attribute of this model:
    only :func:`badgehub.keys.service.load_private_key` decrypts it, for signing."""

    __tablename__ = "signing_keys"
    __table_args__ = (
        Index("ix_signing_keys_one_active", "organisation_id", "algorithm", unique=True,
              sqlite_where=text("state = 'active'"), postgresql_where=text("state = 'active'")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"), index=True)
    key_id: Mapped[str] = mapped_column(String(32), unique=True)
    algorithm: Mapped[KeyAlgorithm] = mapped_column(str_enum(KeyAlgorithm, length=16))
    state: Mapped[KeyState] = mapped_column(str_enum(KeyState, length=16), default=KeyState.ACTIVE)
    # Ed25519: the Multikey ``z6Mk…``; RSA: the public JWK as compact JSON with sorted members, no ``kid``.
    public_key: Mapped[str] = mapped_column(Text)
    # See badgehub.keys.crypto: format byte, nonce, AES-256-GCM ciphertext of the PKCS#8 DER, tag.
    encrypted_private_key: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    retired_at: Mapped[dt.datetime | None]
    compromised_since: Mapped[dt.datetime | None]
    compromise_reason: Mapped[str | None] = mapped_column(Text)

    organisation: Mapped[Organisation] = relationship()

    def __repr__(self) -> str:
        # Deliberately nothing from encrypted_private_key, not even its length.
        return (f"<SigningKey {self.key_id} {self.algorithm} {self.state} "
                f"organisation_id={self.organisation_id}>")
