"""The pre-authorized code flow of OpenID4VCI 1.0, from the offer to the credential.

1. :func:`create_offer`: the learner asks, from their wallet card, to put a badge in a phone wallet. The offer
   carries a single-use pre-authorized code; a six-digit transaction code goes to the badge's address by
   e-mail, so that someone who photographs the QR code cannot redeem it. The award e-mail carries an offer too
   (:func:`email_offer_code`): its code is signed rather than stored, so that sending the e-mail writes
   nothing, and it needs no transaction code, since it only ever reaches the recipient's own inbox — where the
   transaction code would go as well. It is single use all the same: redeeming it records its digest.
2. :func:`redeem_code`: the wallet trades the code and the transaction code for an access token (once; five
   wrong transaction codes and the offer is dead).
3. :func:`new_nonce`: the wallet takes a ``c_nonce`` (single use, five minutes).
4. :func:`deliver`: the wallet sends a key proof over that nonce; the badge comes back re-signed for the
   holder's DID (:func:`badgehub.issuing.holder_copy.holder_copy`), as ``ldp_vc`` or ``jwt_vc_json``.

Services flush and never commit. Secrets are stored as SHA-256 digests only. Single use is enforced by
conditional UPDATEs, so two wallets racing with one code or one nonce cannot both win, on any database.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final
from urllib.parse import quote

from itsdangerous import BadData, URLSafeTimedSerializer
from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError

from badgehub.accounts.models import User
from badgehub.audit.service import record
from badgehub.extensions import db
from badgehub.issuing.holder_copy import holder_copy
from badgehub.issuing.models import IssuedCredential
from badgehub.oid4vci.errors import (
    CredentialRequestDenied,
    InvalidCredentialRequest,
    InvalidGrant,
    InvalidNonce,
    InvalidProof,
    InvalidRequest,
    InvalidToken,
    NotOfferable,
    UnknownCredentialConfiguration,
)
from badgehub.oid4vci.models import CredentialOffer, IssuanceNonce
from badgehub.oid4vci.proofs import ProofRejected, check_proof

PRE_AUTHORIZED_GRANT: Final = "urn:ietf:params:oauth:grant-type:pre-authorized_code"
OFFER_SCHEME: Final = "openid-credential-offer://"
TX_CODE_LENGTH: Final = 6
MAX_TX_ATTEMPTS: Final = 5
TOKEN_LIFETIME: Final = dt.timedelta(minutes=10)
NONCE_LIFETIME: Final = dt.timedelta(minutes=5)
# The award e-mail's offer: long enough for someone who reads their mail late, short enough to age out.
EMAIL_OFFER_LIFETIME: Final = dt.timedelta(days=60)
EMAIL_OFFER_SALT: Final = "badgehub.oid4vci.award-offer"
# Used and expired nonces are deleted a day after they expire (when new ones are made): they only need to
# outlive the proofs that could still carry them.
NONCE_RETENTION: Final = dt.timedelta(days=1)

LDP_VC: Final = "OpenBadgeCredential_ldp_vc"
JWT_VC_JSON: Final = "OpenBadgeCredential_jwt_vc_json"
CONFIGURATION_FORMATS: Final = {LDP_VC: "ldp_vc", JWT_VC_JSON: "jwt_vc_json"}


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def _tx_digest(code: str, tx_code: str) -> str:
    # Salted by the offer's own code, so one table of six-digit digests does not open every offer.
    return _digest(f"{code}:{tx_code}")


def _now(now: dt.datetime | None) -> dt.datetime:
    return now or dt.datetime.now(dt.UTC)


@dataclass(frozen=True)
class NewOffer:
    """A fresh offer and its two secrets, shown (code) and e-mailed (transaction code) once, never stored."""

    offer: CredentialOffer
    pre_authorized_code: str
    tx_code: str


def create_offer(user: User, credential: IssuedCredential, *, lifetime: dt.timedelta,
                 now: dt.datetime | None = None) -> NewOffer:
    """Make an offer of ``credential`` (already checked to be in ``user``'s wallet) valid for ``lifetime``.

    The user's earlier offers of the same badge that no wallet redeemed are withdrawn: only the last QR
    code shown works. Raises :class:`NotOfferable` for a revoked or expired badge. Flushes.
    """
    moment = _now(now)
    if credential.is_revoked or credential.is_expired(moment):
        raise NotOfferable()
    db.session.execute(
        update(CredentialOffer)
        .where(CredentialOffer.user_id == user.id, CredentialOffer.credential_id == credential.id,
               CredentialOffer.redeemed_at.is_(None), CredentialOffer.expires_at > moment)
        .values(expires_at=moment))
    code = secrets.token_urlsafe(32)
    tx_code = f"{secrets.randbelow(10 ** TX_CODE_LENGTH):0{TX_CODE_LENGTH}d}"
    offer = CredentialOffer(credential_id=credential.id, user_id=user.id, code_hash=_digest(code),
                            tx_code_hash=_tx_digest(code, tx_code), tx_attempts=0, created_at=moment,
                            expires_at=moment + lifetime, delivered=0)
    db.session.add(offer)
    db.session.flush()
    record("credential.wallet_offer_created", actor_id=user.id, organisation_id=credential.organisation_id,
           subject_type="credential", subject_id=credential.id, details={"offer": offer.id})
    return NewOffer(offer, code, tx_code)


def _signer(secret: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret, salt=EMAIL_OFFER_SALT)


def email_offer_code(credential: IssuedCredential, *, secret: str) -> str:
    """A pre-authorized code for the award e-mail: signed with the installation's secret key, good for
    :data:`EMAIL_OFFER_LIFETIME`, single use once redeemed. Writes nothing."""
    return email_offer_code_of(credential.public_id, secret=secret)


def email_offer_code_of(public_id: str, *, secret: str) -> str:
    """:func:`email_offer_code` of the credential whose public id is ``public_id`` (a batch's, before it is
    stored: its e-mail's QR code is drawn with its signature)."""
    return str(_signer(secret).dumps({"c": public_id}))


def credential_offer(issuer_url: str, pre_authorized_code: str, *, tx_description: str | None) -> dict[str, Any]:
    """The credential offer object (OpenID4VCI 1.0 §4.1.1) for both formats of the badge; ``tx_description``
    None makes an offer without a transaction code (the award e-mail's)."""
    grant: dict[str, Any] = {"pre-authorized_code": pre_authorized_code}
    if tx_description is not None:
        grant["tx_code"] = {"input_mode": "numeric", "length": TX_CODE_LENGTH, "description": tx_description}
    return {
        "credential_issuer": issuer_url,
        "credential_configuration_ids": [LDP_VC, JWT_VC_JSON],
        "grants": {PRE_AUTHORIZED_GRANT: grant},
    }


@dataclass(frozen=True)
class AccessToken:
    value: str
    expires_in: int


def email_offer_credential(code: str, secret: str) -> IssuedCredential | None:
    """The credential a signed award e-mail code offers, while the code is valid, unused and the credential not
    revoked; None otherwise. Reads only."""
    try:
        claims = _signer(secret).loads(code, max_age=int(EMAIL_OFFER_LIFETIME.total_seconds()))
    except BadData:
        return None
    credential = db.session.scalar(select(IssuedCredential).where(
        IssuedCredential.public_id == str(claims.get("c") if isinstance(claims, dict) else "")))
    if credential is None or credential.is_revoked:
        return None
    if db.session.scalar(select(CredentialOffer.id).where(CredentialOffer.code_hash == _digest(code))) is not None:
        return None
    return credential


def offered_by_code(code: str, *, secret: str, now: dt.datetime | None = None) -> tuple[IssuedCredential, bool] | None:
    """What an offer's code offers, for ``GET /oid4vci/offers/<code>``: the credential and whether a transaction
    code is needed, while the offer is open (not redeemed, not expired, not revoked); None otherwise. Reads only.
    """
    moment = _now(now)
    offer = db.session.scalar(select(CredentialOffer).where(CredentialOffer.code_hash == _digest(code)))
    if offer is not None:
        if offer.redeemed_at is not None or offer.expires_at <= moment or offer.credential.is_revoked:
            return None
        return offer.credential, offer.tx_code_hash is not None
    credential = email_offer_credential(code, secret)
    return (credential, False) if credential is not None else None


def offer_uri_link(offer_uri: str) -> str:
    """The ``openid-credential-offer://`` link of an offer passed by reference (``credential_offer_uri``)."""
    return f"{OFFER_SCHEME}?credential_offer_uri={quote(offer_uri, safe='')}"


def _email_offer(code: str, secret: str | None, moment: dt.datetime) -> CredentialOffer | None:
    """The offer of a signed award e-mail code, recorded now as redeemed-to-be; None if the code is not one."""
    if secret is None or "." not in code:
        return None
    credential = email_offer_credential(code, secret)
    if credential is None:
        return None
    offer = CredentialOffer(credential_id=credential.id, user_id=None, code_hash=_digest(code), tx_code_hash=None,
                            tx_attempts=0, created_at=moment, expires_at=moment + TOKEN_LIFETIME, delivered=0)
    try:
        with db.session.begin_nested():
            db.session.add(offer)
    except IntegrityError:
        return None  # already redeemed: the digest is taken
    return offer


def redeem_code(code: Any, tx_code: Any, *, secret: str | None = None, now: dt.datetime | None = None) -> AccessToken:
    """Trade a pre-authorized code and its transaction code for an access token (token endpoint).

    ``secret`` (the installation's secret key) lets the signed codes of award e-mails in. Raises
    :class:`InvalidRequest` when the code, or the transaction code an offer needs, is missing;
    :class:`InvalidGrant` for an unknown, expired or already redeemed code or a wrong transaction code
    (counted, flushed: the caller commits even on this error, and the fifth wrong code kills the offer).
    """
    moment = _now(now)
    if not isinstance(code, str) or not code:
        raise InvalidRequest("pre-authorized_code is required")
    offer = db.session.scalar(select(CredentialOffer).where(CredentialOffer.code_hash == _digest(code)))
    if offer is None:
        offer = _email_offer(code, secret, moment)
    if offer is None or offer.redeemed_at is not None or offer.expires_at <= moment:
        raise InvalidGrant("the pre-authorized code is unknown, expired or already used")
    if offer.tx_code_hash is not None:
        if not isinstance(tx_code, str) or not tx_code:
            raise InvalidRequest("tx_code is required for this offer")
        if not hmac.compare_digest(offer.tx_code_hash, _tx_digest(code, tx_code)):
            offer.tx_attempts += 1
            if offer.tx_attempts >= MAX_TX_ATTEMPTS:
                offer.expires_at = moment
            db.session.flush()
            raise InvalidGrant("the transaction code is wrong")
    token = secrets.token_urlsafe(32)
    won = db.session.execute(
        update(CredentialOffer)
        .where(CredentialOffer.id == offer.id, CredentialOffer.redeemed_at.is_(None))
        .values(redeemed_at=moment, token_hash=_digest(token), token_expires_at=moment + TOKEN_LIFETIME)
        .execution_options(synchronize_session=False))
    if won.rowcount != 1:  # type: ignore[attr-defined]
        raise InvalidGrant("the pre-authorized code is unknown, expired or already used")
    return AccessToken(token, int(TOKEN_LIFETIME.total_seconds()))


@dataclass(frozen=True)
class Nonce:
    value: str
    expires_in: int


def new_nonce(*, now: dt.datetime | None = None) -> Nonce:
    """A fresh ``c_nonce`` for one key proof (nonce endpoint). Flushes; forgets nonces long expired."""
    moment = _now(now)
    db.session.execute(delete(IssuanceNonce).where(IssuanceNonce.expires_at < moment - NONCE_RETENTION))
    value = secrets.token_urlsafe(24)
    db.session.add(IssuanceNonce(value_hash=_digest(value), created_at=moment, expires_at=moment + NONCE_LIFETIME))
    db.session.flush()
    return Nonce(value, int(NONCE_LIFETIME.total_seconds()))


def _consume_nonce(value: str, moment: dt.datetime) -> None:
    used = db.session.execute(
        update(IssuanceNonce)
        .where(IssuanceNonce.value_hash == _digest(value), IssuanceNonce.used_at.is_(None),
               IssuanceNonce.expires_at > moment)
        .values(used_at=moment).execution_options(synchronize_session=False))
    if used.rowcount != 1:  # type: ignore[attr-defined]
        raise InvalidNonce("the proof's nonce is unknown, expired or already used: ask the nonce endpoint "
                           "for a new one")


def offer_for_token(token: str | None, *, now: dt.datetime | None = None) -> CredentialOffer:
    """The offer an access token was issued for; raises :class:`InvalidToken` if unknown or expired."""
    moment = _now(now)
    offer = None
    if token:
        offer = db.session.scalar(select(CredentialOffer).where(CredentialOffer.token_hash == _digest(token)))
    if offer is None or offer.token_expires_at is None or offer.token_expires_at <= moment:
        raise InvalidToken("the access token is unknown or expired")
    return offer


def _proof_jwt(body: Mapping[str, Any]) -> Any:
    proofs, proof = body.get("proofs"), body.get("proof")
    if proofs is not None and proof is not None:
        raise InvalidCredentialRequest("send proofs or proof, not both")
    if proofs is not None:
        if not isinstance(proofs, Mapping) or set(proofs) != {"jwt"} or not isinstance(proofs["jwt"], list):
            raise InvalidProof("proofs must be {\"jwt\": [one key proof]}")
        if len(proofs["jwt"]) != 1:
            raise InvalidProof("this issuer makes one credential per request: send exactly one key proof")
        return proofs["jwt"][0]
    if isinstance(proof, Mapping) and proof.get("proof_type") == "jwt":
        return proof.get("jwt")
    raise InvalidProof("a key proof of type jwt is required")


def deliver(token: str | None, body: Any, *, issuer_url: str, config: Mapping[str, Any],
            now: dt.datetime | None = None) -> dict[str, Any]:
    """Answer the credential endpoint: check the token, the request and the key proof, and return the badge
    re-signed for the holder, as ``{"credentials": [{"credential": …}]}``.

    Raises :class:`InvalidToken`, :class:`InvalidRequest` (no JSON body), :class:`InvalidCredentialRequest`,
    :class:`UnknownCredentialConfiguration`, :class:`InvalidProof` (malformed, badly signed, stale, for another
    issuer), :class:`InvalidNonce` (unknown, expired or used nonce) and :class:`CredentialRequestDenied`
    (revoked since the offer). Flushes.
    """
    moment = _now(now)
    offer = offer_for_token(token, now=moment)
    if body is None:
        raise InvalidRequest("the request body must be JSON (application/json)")
    if not isinstance(body, Mapping):
        raise InvalidCredentialRequest("the request body must be a JSON object")
    configuration = body.get("credential_configuration_id")
    if configuration not in CONFIGURATION_FORMATS:
        raise UnknownCredentialConfiguration(
            f"credential_configuration_id must be one of {', '.join(CONFIGURATION_FORMATS)}")
    try:
        proof = check_proof(_proof_jwt(body), audience=issuer_url, now=moment)
    except ProofRejected as exc:
        raise InvalidProof(exc.reason) from None
    _consume_nonce(proof.nonce, moment)
    credential = offer.credential
    if credential.is_revoked:
        raise CredentialRequestDenied("this credential has been revoked")
    copy = holder_copy(credential, proof.holder_did, now=moment, with_jwt=configuration == JWT_VC_JSON,
                       config=config)
    offer.delivered += 1
    record("credential.sent_to_wallet", actor_id=offer.user_id, organisation_id=credential.organisation_id,
           subject_type="credential", subject_id=credential.id,
           details={"offer": offer.id, "format": CONFIGURATION_FORMATS[configuration]})
    db.session.flush()
    delivered: Any = copy.document if configuration == LDP_VC else copy.vc_jwt
    return {"credentials": [{"credential": delivered}]}
