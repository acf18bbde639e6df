"""Who an organisation is to verifiers: its issuer id, its key ids, and the documents that publish its keys.

**Issuer ids.** The installation setting ``BADGEHUB_ISSUER_ID_STYLE`` decides (:class:`IssuerIdStyle`):

* ``did:web`` (the default): ``did:web:<host>[%3A<port>][:<base path>]:issuers:<slug>``, derived from
  ``BASE_URL``. Its DID document is served at ``<BASE_URL>/issuers/<slug>/did.json``, which is exactly
  where the did:web read algorithm looks for it. Every key is ``<did>#<key_id>``: the Ed25519 key signs
  Data Integrity proofs (``proof.verificationMethod``), the RSA key signs VC-JWTs (header ``kid``).
  Rotating keys changes nothing in the issuer id, and retired keys stay in the document, so credentials
  issued before a rotation keep verifying anywhere.
* ``did:key``: the did:key of the organisation's *active* Ed25519 key, nothing to fetch. Its verification
  method is ``did:key:z6Mk…#z6Mk…``. **A rotation changes the issuer id**: credentials issued before and
  after it name two different issuers, and a relying party that knew the old one cannot tell that the new
  one is the same organisation. That is why did:web is the default. A did:key vouches for its own key and
  no other, so in this style the VC-JWT is signed by that Ed25519 key too (EdDSA, ``kid`` = the verification
  method): a verifier ties both proofs to the issuer with nothing to fetch. The RSA keys stay published (for
  the did:web, which always exists), each JWK at its own address (``<BASE_URL>/issuers/<slug>/keys/
  <key_id>.json``) without an ``iss`` member.

A did:web needs an ``https`` host. With a plain ``http`` BASE_URL (a laptop, the tests) the DID is
still derived from the host and path, so that everything works locally through BadgeHub's own resolver;
nobody else can resolve it, which is what one expects of a development installation.

**Documents** (built here, served by :mod:`badgehub.web.issuers`, answered locally by
:mod:`badgehub.keys.resolver`, so the two can never disagree):

* the DID document: ``@context`` DID v1, Multikey v1 and, when an RSA key is listed, JWK v1;
  ``verificationMethod`` lists every published key (``Multikey`` for Ed25519, ``JsonWebKey`` with a public
  ``publicKeyJwk`` for RSA), each with ``controller`` = the DID; ``assertionMethod`` lists the FULL DID URL
  of every published key (the 1EdTech validator matches full URLs only, OB3-BRIEF §3.2.3);
* JWK sets: the RSA (VC-JWT) keys, each JWK with ``kid`` = exactly the ``kid`` of the tokens it signs
  (:func:`jwt_kid`: the DID URL in did:web style; in did:key style, where tokens are signed by the did:key
  itself, the key's JWK address), so that a JOSE
  library that looks keys up by ``kid`` finds them, ``alg`` RS256, ``use`` sig and, in did:web style,
  ``iss`` = the issuer id (OB3-BRIEF §3.1).

**Compromised keys** stay published, in ``verificationMethod`` *and* in ``assertionMethod``, with a
``revoked`` date-time (security vocabulary ``sec:revoked``, defined for ``Multikey`` by the Multikey
context). They stay authorised because what they signed before the compromise must keep verifying: taking
them out of ``assertionMethod`` would make every foreign verifier reject those honest credentials. The
date is what separates the two. BadgeHub's verifier (locally, and through any fetched document that carries
``revoked``) fails a proof dated at or after it. A foreign verifier can only do as much as it reads:
one that honours ``revoked`` (W3C Controlled Identifiers: proofs at or after the date must not verify)
does the same; one that ignores it (for instance Digital Bazaar's ``DataIntegrityProof`` verifier today)
accepts the signature. Nobody can detect a signature made after the compromise but *dated* before it: the
date is written by whoever holds the key. For credentials that matter, revoking them in the status list
(or re-issuing them with the new key) is the real remedy; the date only limits the damage. JWKs carry the
same ``revoked`` member: RFC 7517 tells implementations to ignore members they do not understand, and
BadgeHub's resolver understands it.
"""

from __future__ import annotations

import datetime as dt
import enum
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final
from urllib.parse import urlsplit

from sqlalchemy import select

from badgehub.config import ConfigError
from badgehub.credentials.contexts import DID_V1_CONTEXT, MULTIKEY_V1_CONTEXT
from badgehub.credentials.did import url_to_did_web
from badgehub.credentials.documents import Address, Image, IssuerProfile, clean_text
from badgehub.credentials.errors import CredentialError
from badgehub.extensions import db
from badgehub.keys.models import KeyAlgorithm, KeyState, SigningKey
from badgehub.keys.service import active_key, published_keys
from badgehub.organisations.models import Organisation

ISSUER_ID_STYLE_SETTING: Final = "ISSUER_ID_STYLE"
"""The Flask configuration key filled by ``BADGEHUB_ISSUER_ID_STYLE``."""

JWK_V1_CONTEXT: Final = "https://w3id.org/security/jwk/v1"
"""The context that defines ``JsonWebKey`` and ``publicKeyJwk`` (W3C Controlled Identifiers v1.0). It is
not among the bundled contexts: nothing in BadgeHub, the JavaScript peer or the 1EdTech validator expands a
DID document as JSON-LD (they read it as JSON), and it is named so that a JSON-LD processor that does can."""

DID_DOCUMENT_MEDIA_TYPE: Final = "application/did+ld+json"
JWK_SET_MEDIA_TYPE: Final = "application/jwk-set+json"
JWK_MEDIA_TYPE: Final = "application/jwk+json"

ISSUERS_PATH: Final = "/issuers/"
_PUBLIC_JWK_MEMBERS: Final = ("kty", "crv", "n", "e", "x", "y")
WELL_KNOWN_JWKS_PATH: Final = "/.well-known/jwks.json"


class IssuerIdStyle(enum.StrEnum):
    """How an organisation's issuer id is written (installation setting ``BADGEHUB_ISSUER_ID_STYLE``)."""

    DID_WEB = "did:web"
    DID_KEY = "did:key"


DEFAULT_ISSUER_ID_STYLE: Final = IssuerIdStyle.DID_WEB


def issuer_id_style(config: Mapping[str, Any]) -> IssuerIdStyle:
    """Return the installation's issuer id style (``ISSUER_ID_STYLE``; did:web when unset).

    Raises :class:`~badgehub.config.ConfigError` for any value other than ``did:web`` or ``did:key``.
    """
    value = config.get(ISSUER_ID_STYLE_SETTING) or DEFAULT_ISSUER_ID_STYLE.value
    try:
        return IssuerIdStyle(str(value).strip().lower())
    except ValueError:
        raise ConfigError(f"BADGEHUB_ISSUER_ID_STYLE must be 'did:web' or 'did:key', not {value!r}") from None


def base_url_of(config: Mapping[str, Any]) -> str:
    """Return the installation's public base URL (``BASE_URL``) without a trailing slash.

    Raises :class:`~badgehub.config.ConfigError` when it is not an absolute http(s) URL without query or
    fragment.
    """
    value = str(config.get("BASE_URL") or "")
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.query or parts.fragment:
        raise ConfigError(f"BADGEHUB_BASE_URL must be an absolute http(s) URL, not {value!r}")
    return value.rstrip("/")


def local_path(url: object, base_url: str) -> str | None:
    """The path of ``url`` below this installation's ``base_url``, or None when it is not one of our addresses.

    This decides what the platform answers from its own database instead of fetching, so it is strict: http or
    https (did:web always resolves to https, even for an http development base URL), exactly the base URL's
    host and port, a path below the base path, and no query and no fragment.
    """
    if not isinstance(url, str) or "#" in url:
        return None
    try:
        parts, base = urlsplit(url), urlsplit(base_url)
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or parts.netloc.lower() != base.netloc.lower() or parts.query:
        return None
    prefix = base.path.rstrip("/")
    return parts.path[len(prefix):] if parts.path.startswith(prefix + "/") else None


def profile_url(base_url: str, slug: str) -> str:
    """``<base>/issuers/<slug>``: the issuer's public page (HTML, or its JSON-LD Profile)."""
    return f"{base_url.rstrip('/')}{ISSUERS_PATH}{slug}"


def did_document_url(base_url: str, slug: str) -> str:
    """``<base>/issuers/<slug>/did.json``: where the organisation's DID document is served."""
    return profile_url(base_url, slug) + "/did.json"


def jwks_url(base_url: str, slug: str) -> str:
    """``<base>/issuers/<slug>/jwks.json``: the organisation's JWK set (its VC-JWT keys)."""
    return profile_url(base_url, slug) + "/jwks.json"


def key_jwk_url(base_url: str, slug: str, key_id: str) -> str:
    """``<base>/issuers/<slug>/keys/<key_id>.json``: one key's public JWK (the VC-JWT ``kid`` in did:key style)."""
    return f"{profile_url(base_url, slug)}/keys/{key_id}.json"


def installation_jwks_url(base_url: str) -> str:
    """``<base>/.well-known/jwks.json``: every organisation's VC-JWT keys."""
    return base_url.rstrip("/") + WELL_KNOWN_JWKS_PATH


def did_web_of(base_url: str, slug: str) -> str:
    """Return the organisation's did:web, ``did:web:<host>[%3A<port>][:<base path>]:issuers:<slug>``.

    The DID is derived from the host, port and path of ``base_url`` whatever its scheme (did:web always
    resolves over https; see the module docstring for http development installations). Raises
    :class:`~badgehub.config.ConfigError` when the base URL or the slug cannot appear in a did:web.
    """
    parts = urlsplit(base_url)
    try:
        return url_to_did_web(f"https://{parts.netloc}{parts.path.rstrip('/')}{ISSUERS_PATH}{slug}")
    except CredentialError as exc:
        raise ConfigError(f"no did:web can be made for {base_url!r} and {slug!r}: {exc.message}") from None


def did_key_of(multikey: str) -> str:
    """``did:key:<multikey>`` for an Ed25519 Multikey ``z6Mk…``."""
    return "did:key:" + multikey


def did_url(did: str, key_id: str) -> str:
    """``<did>#<key_id>``: the id of one verification method of a did:web document."""
    return f"{did}#{key_id}"


def _timestamp(moment: dt.datetime) -> str:
    # An XML Schema dateTimeStamp in UTC, to the microsecond when there is one: the published date must be
    # the very instant BadgeHub's own verifier compares with.
    utc = moment.astimezone(dt.UTC)
    text = utc.strftime("%Y-%m-%dT%H:%M:%S")
    if utc.microsecond:
        text += f".{utc.microsecond:06d}".rstrip("0")
    return text + "Z"


def revoked_value(key: SigningKey) -> str | None:
    """The ``revoked`` date-time published for ``key`` (its compromise date), or None."""
    if key.state is KeyState.COMPROMISED and key.compromised_since is not None:
        return _timestamp(key.compromised_since)
    return None


def _public_jwk_members(key: SigningKey) -> dict[str, Any]:
    # The stored JWK is public by construction; copying only the public members of its key type makes a
    # leak impossible even if a row were tampered with.
    stored = json.loads(key.public_key)
    return {name: stored[name] for name in _PUBLIC_JWK_MEMBERS if name in stored}


def verification_method(did: str, key: SigningKey) -> dict[str, Any]:
    """The verification method of ``key`` in the DID document ``did``.

    Ed25519: ``{"id", "type": "Multikey", "controller", "publicKeyMultibase"}``; RSA: ``{"id", "type":
    "JsonWebKey", "controller", "publicKeyJwk"}`` with the public members only. A compromised key gets
    ``revoked``.
    """
    method: dict[str, Any] = {"id": did_url(did, key.key_id)}
    if key.algorithm is KeyAlgorithm.ED25519:
        method.update({"type": "Multikey", "controller": did, "publicKeyMultibase": key.public_key})
    else:
        method.update({"type": "JsonWebKey", "controller": did, "publicKeyJwk": _public_jwk_members(key)})
    revoked = revoked_value(key)
    if revoked is not None:
        method["revoked"] = revoked
    return method


def did_document(did: str, keys: Sequence[SigningKey]) -> dict[str, Any]:
    """The did:web DID document of ``did`` publishing ``keys`` (see the module docstring for its rules)."""
    methods = [verification_method(did, key) for key in keys]
    contexts = [DID_V1_CONTEXT, MULTIKEY_V1_CONTEXT]
    if any(method["type"] == "JsonWebKey" for method in methods):
        contexts.append(JWK_V1_CONTEXT)
    return {
        "@context": contexts,
        "id": did,
        "verificationMethod": methods,
        "assertionMethod": [method["id"] for method in methods],
    }


def jwt_kid(base_url: str, slug: str, key_id: str, style: IssuerIdStyle) -> str:
    """The ``kid`` of a VC-JWT key: what the token header says, and what every JWK set publishes, so that a
    JOSE library matching by ``kid`` finds the key. did:web style: the DID URL ``<did>#<key_id>``; did:key
    style: the address of the key's own JWK (a did:key cannot describe an RSA key)."""
    if style is IssuerIdStyle.DID_KEY:
        return key_jwk_url(base_url, slug, key_id)
    return did_url(did_web_of(base_url, slug), key_id)


def key_jwk(key: SigningKey, issuer_id: str | None, kid: str | None = None) -> dict[str, Any]:
    """The public JWK of a VC-JWT key as published: ``kid`` (see :func:`jwt_kid`; the bare key id when not
    given), ``alg``, ``use`` sig, ``iss`` when given, ``revoked`` when compromised. Never a private member:
    it is rebuilt from the stored public key."""
    jwk: dict[str, Any] = _public_jwk_members(key)
    jwk.update({"kid": kid or key.key_id, "alg": key.algorithm.jws_alg, "use": "sig"})
    if issuer_id is not None:
        jwk["iss"] = issuer_id
    revoked = revoked_value(key)
    if revoked is not None:
        jwk["revoked"] = revoked
    return jwk


def jwk_set(entries: Iterable[tuple[SigningKey, str | None, str]]) -> dict[str, Any]:
    """``{"keys": [...]}`` for ``(key, issuer id or None, kid)`` entries; only VC-JWT (RSA) keys are listed."""
    return {"keys": [key_jwk(key, issuer, kid) for key, issuer, kid in entries
                     if key.algorithm is KeyAlgorithm.RSA_2048]}


def issuer_profile(organisation: Organisation, issuer_id: str) -> IssuerProfile:
    """The organisation's OB 3.0 ``Profile`` input, with ``issuer_id`` as its id (embed it in credentials
    with :func:`~badgehub.credentials.documents.profile_object`, publish it with
    :func:`~badgehub.credentials.documents.issuer_profile_document`).

    Free text goes through :func:`~badgehub.credentials.documents.clean_text` (a description typed in a
    browser holds CR LF, which the document builders refuse).
    """

    def text(value: str | None) -> str | None:
        cleaned = clean_text(value).strip() if value else ""
        return cleaned or None

    has_address = any((organisation.street_address, organisation.postal_code, organisation.locality,
                       organisation.region, organisation.country_code))
    address = Address(
        country_code=organisation.country_code or None, region=text(organisation.region),
        locality=text(organisation.locality), street_address=text(organisation.street_address),
        postal_code=text(organisation.postal_code),
    ) if has_address else None
    return IssuerProfile(
        id=issuer_id,
        name=clean_text(organisation.name).strip(),
        url=organisation.url or None,
        email=organisation.email or None,
        phone=text(organisation.phone),
        description=text(organisation.description),
        image=Image(id=organisation.image_url) if organisation.image_url else None,
        address=address,
    )


@dataclass(frozen=True)
class SigningIdentity:
    """What signing a credential in an organisation's name needs.

    ``issuer_id`` goes into ``issuer.id`` (and the JWT ``iss``); ``verification_method_id`` into the Data
    Integrity ``proof.verificationMethod``, signed with ``ed25519_key``; ``jwt_kid`` into the VC-JWT header,
    signed with ``rsa_key`` in did:web style and with ``ed25519_key`` (EdDSA) in did:key style
    (:attr:`jwt_signed_by_ed25519`). Decrypt the keys with :func:`badgehub.keys.service.load_private_key`.
    """

    issuer_id: str
    verification_method_id: str
    jwt_kid: str
    ed25519_key: SigningKey
    rsa_key: SigningKey

    @property
    def jwt_signed_by_ed25519(self) -> bool:
        """True in did:key style: a did:key vouches for its own key only, so its tokens are signed by it."""
        return self.issuer_id.startswith("did:key:")


@dataclass(frozen=True)
class OrganisationIdentity:
    """An organisation's identity in the installation's style: what its public documents are built from."""

    organisation: Organisation
    style: IssuerIdStyle
    base_url: str
    did: str
    issuer_id: str

    @property
    def jwk_issuer(self) -> str | None:
        """The ``iss`` member of its JWKs: the issuer id in did:web style, none in did:key style."""
        return self.issuer_id if self.style is IssuerIdStyle.DID_WEB else None


def organisation_identity(organisation: Organisation, config: Mapping[str, Any]) -> OrganisationIdentity:
    """Return the organisation's identity under the installation's configuration.

    Raises :class:`~badgehub.config.ConfigError` for a bad style or base URL, and
    :class:`~badgehub.keys.errors.NoActiveKey` in did:key style when it has no active Ed25519 key.
    """
    style = issuer_id_style(config)
    base_url = base_url_of(config)
    did = did_web_of(base_url, organisation.slug)
    if style is IssuerIdStyle.DID_KEY:
        issuer_id = did_key_of(active_key(organisation, KeyAlgorithm.ED25519).public_key)
    else:
        issuer_id = did
    return OrganisationIdentity(organisation, style, base_url, did, issuer_id)


def issuer_id_of(organisation: Organisation, config: Mapping[str, Any]) -> str:
    """The organisation's current issuer id (see :func:`organisation_identity` for what it raises)."""
    return organisation_identity(organisation, config).issuer_id


def signing_identity(organisation: Organisation, config: Mapping[str, Any]) -> SigningIdentity:
    """Return the issuer id, verification method id and JWT ``kid`` for signing with the active keys.

    did:web style: ``(<did>, <did>#<ed25519 key id>, <did>#<rsa key id>)``. did:key style:
    ``(did:key:z6Mk…, did:key:z6Mk…#z6Mk…, did:key:z6Mk…#z6Mk…)``: the token is signed with the did:key's own
    Ed25519 key (EdDSA), the only key a verifier can tie to a did:key issuer.
    Raises :class:`~badgehub.keys.errors.NoActiveKey` when the organisation lacks an active key of either
    algorithm (rotate first), and :class:`~badgehub.config.ConfigError` for a bad configuration.
    """
    identity = organisation_identity(organisation, config)
    ed25519_key = active_key(organisation, KeyAlgorithm.ED25519)
    rsa_key = active_key(organisation, KeyAlgorithm.RSA_2048)
    kid = jwt_kid(identity.base_url, organisation.slug, rsa_key.key_id, identity.style)
    if identity.style is IssuerIdStyle.DID_KEY:
        did = did_key_of(ed25519_key.public_key)
        method = f"{did}#{ed25519_key.public_key}"
        return SigningIdentity(did, method, method, ed25519_key, rsa_key)
    return SigningIdentity(identity.did, did_url(identity.did, ed25519_key.key_id), kid, ed25519_key, rsa_key)


def published_did_document(organisation: Organisation, config: Mapping[str, Any]) -> dict[str, Any]:
    """The DID document served at ``/issuers/<slug>/did.json`` (in either style: the did:web always exists).

    Raises :class:`~badgehub.config.ConfigError` for a bad base URL.
    """
    return did_document(did_web_of(base_url_of(config), organisation.slug), published_keys(organisation))


def published_jwk_set(organisation: Organisation, config: Mapping[str, Any]) -> dict[str, Any]:
    """The JWK set served at ``/issuers/<slug>/jwks.json``: the organisation's VC-JWT keys only."""
    jwk_issuer, base_url, style = _jwk_issuer(organisation, config), base_url_of(config), issuer_id_style(config)
    return jwk_set((key, jwk_issuer, jwt_kid(base_url, organisation.slug, key.key_id, style))
                   for key in published_keys(organisation))


def published_key_jwk(organisation: Organisation, key: SigningKey, config: Mapping[str, Any]) -> dict[str, Any]:
    """The JWK served at ``/issuers/<slug>/keys/<key_id>.json`` for one of the organisation's VC-JWT keys."""
    kid = jwt_kid(base_url_of(config), organisation.slug, key.key_id, issuer_id_style(config))
    return key_jwk(key, _jwk_issuer(organisation, config), kid)


def _jwk_issuer(organisation: Organisation, config: Mapping[str, Any]) -> str | None:
    if issuer_id_style(config) is IssuerIdStyle.DID_KEY:
        return None
    return did_web_of(base_url_of(config), organisation.slug)


def installation_jwk_set(config: Mapping[str, Any]) -> dict[str, Any]:
    """The JWK set served at ``/.well-known/jwks.json``: every organisation's published VC-JWT keys, oldest
    first, each with the ``iss`` of its organisation (did:web style)."""
    style = issuer_id_style(config)
    base_url = base_url_of(config)
    rows = db.session.execute(
        select(SigningKey, Organisation.slug)
        .join(Organisation, Organisation.id == SigningKey.organisation_id)
        .where(SigningKey.algorithm == KeyAlgorithm.RSA_2048,
               SigningKey.state.in_([KeyState.ACTIVE, KeyState.RETIRED, KeyState.COMPROMISED]))
        .order_by(SigningKey.created_at, SigningKey.id)).all()
    return jwk_set((key, did_web_of(base_url, slug) if style is IssuerIdStyle.DID_WEB else None,
                    jwt_kid(base_url, slug, key.key_id, style))
                   for key, slug in rows)


def published_key(organisation: Organisation, key_id: str) -> SigningKey | None:
    """The organisation's published key with this key id, or None (another organisation's key is None too)."""
    return next((key for key in published_keys(organisation) if key.key_id == key_id), None)
