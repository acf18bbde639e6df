"""Local resolution of this installation's own issuers: keys and identity documents straight from the database.

:class:`OwnIssuerResolver` implements :class:`badgehub.verification.resolver.Resolver` for what BadgeHub
itself publishes, so that the platform verifies its own credentials through the same pipeline as anyone
else's (DESIGN §4) without an HTTP request to itself. It answers:

* our did:web DIDs and DID URLs (``did:web:<host>:issuers:<slug>#<key_id>``), for Data Integrity
  verification methods and VC-JWT ``kid`` values;
* ``did:key`` DIDs whose key is one of our published Ed25519 keys (so that the compromise date applies to
  them too; any other did:key is left to :class:`~badgehub.verification.resolver.LocalResolver`);
* the JWK addresses we publish as ``kid``: ``/issuers/<slug>/keys/<key_id>.json``,
  ``/issuers/<slug>/jwks.json#<key_id>``, ``/.well-known/jwks.json#<key_id>``;
* the documents themselves through :meth:`~OwnIssuerResolver.fetch_document`: the DID document, the JWK
  sets, a key's JWK and the JSON-LD issuer profile, built by :mod:`badgehub.keys.identity` exactly as the
  web views serve them.

Each key comes back with ``controller`` = the DID that publishes it (the issuer id in did:web style, the
did:key itself for a did:key) and ``revoked_at`` = its compromise date, which the pipeline enforces.

Answers mirror what a :class:`~badgehub.verification.resolver.DocumentResolver` would conclude from the
published documents: a key that our document does not list is ``key_not_found`` (final: a
:class:`~badgehub.verification.resolver.ChainResolver` does not go on to look elsewhere), a document of ours
that does not exist is ``not_found`` (final as well: there is nothing to fetch over the network). Anything
else, including other addresses on our own host (status lists, achievements), is ``unsupported``, so the
next resolver of a chain handles it.

It reads the database through the application's session: use it inside an application context.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Final

from sqlalchemy import select

from badgehub.credentials.did import split_did_url
from badgehub.credentials.documents import issuer_profile_document
from badgehub.credentials.errors import CredentialError
from badgehub.errors import BadgeHubError
from badgehub.extensions import db
from badgehub.keys.identity import (
    IssuerIdStyle,
    base_url_of,
    did_web_of,
    installation_jwk_set,
    issuer_id_style,
    issuer_profile,
    local_path,
    organisation_identity,
    published_did_document,
    published_jwk_set,
    published_key_jwk,
)
from badgehub.keys.models import KeyAlgorithm, KeyState, SigningKey
from badgehub.keys.service import public_key_of, published_keys
from badgehub.organisations.models import Organisation
from badgehub.verification.resolver import LocalResolver, ResolutionError, ResolvedKey

_SLUG: Final = r"(?P<slug>[a-z0-9]+(?:-[a-z0-9]+)*)"
_KEY_ID: Final = r"(?P<key_id>key-[a-z2-7]{8})"
_PROFILE_RE: Final = re.compile(rf"/issuers/{_SLUG}")
_DID_DOCUMENT_RE: Final = re.compile(rf"/issuers/{_SLUG}/did\.json")
_JWKS_RE: Final = re.compile(rf"/issuers/{_SLUG}/jwks\.json")
_KEY_JWK_RE: Final = re.compile(rf"/issuers/{_SLUG}/keys/{_KEY_ID}\.json")
_WELL_KNOWN_JWKS: Final = "/.well-known/jwks.json"
_PUBLISHED: Final = (KeyState.ACTIVE, KeyState.RETIRED, KeyState.COMPROMISED)


def _unsupported(what: str) -> ResolutionError:
    return ResolutionError("unsupported", f"not one of this installation's issuers: {what[:200]}")


def _not_found(what: str) -> ResolutionError:
    return ResolutionError("not_found", f"this installation publishes no {what}")


class OwnIssuerResolver:
    """Answers for this installation's issuers from the database (see the module docstring).

    ``config`` is the application configuration (``BASE_URL``, ``ISSUER_ID_STYLE``); it is read once.
    Raises :class:`~badgehub.config.ConfigError` when either is malformed.
    """

    def __init__(self, config: Mapping[str, Any]) -> None:
        self._config = {"BASE_URL": base_url_of(config), "ISSUER_ID_STYLE": issuer_id_style(config).value}
        # "did:web:<host>[%3A<port>][:<base path>]:issuers:" — what every one of our DIDs starts with.
        self._did_prefix = did_web_of(self._config["BASE_URL"], "x")[:-1]
        # One verification asks for the same issuer and keys several times (the proof, the JWT, the issuer
        # step): a resolver lives for one verification, so what it read stays true for its lifetime.
        self._organisations: dict[str, Organisation | None] = {}
        self._keys: dict[int, list[SigningKey]] = {}

    def resolve_verification_method(self, method_id: str) -> ResolvedKey:
        """Key, controller and compromise date of one of our verification methods (a did:web DID URL, or
        the did:key of one of our Ed25519 keys). Raises :class:`ResolutionError`: ``unsupported`` for
        anything else, ``key_not_found`` for an unknown issuer or a key its document does not list."""
        if not isinstance(method_id, str) or not method_id:
            raise _unsupported(repr(method_id))
        if method_id.startswith("did:key:"):
            return self._did_key(method_id)
        try:
            base, fragment = split_did_url(method_id)
        except CredentialError:
            raise _unsupported(method_id) from None
        slug = self._slug_of_did(base)
        if slug is None:
            raise _unsupported(method_id)
        organisation = self.organisation(slug)
        if organisation is None:
            raise ResolutionError("key_not_found", f"{base} is not an issuer of this installation")
        key = self._published_key(organisation, fragment) if fragment else None
        if key is None:
            raise ResolutionError("key_not_found", f"{base} does not list the key {method_id}")
        return self._resolved(key, method_id, base, "did_document")

    def resolve_jwt_key(self, kid: str) -> ResolvedKey:
        """Key behind a VC-JWT ``kid`` of ours: a DID URL (as above), a key's JWK address, or a JWK set
        address with the key id as fragment. Raises :class:`ResolutionError` like
        :meth:`resolve_verification_method`."""
        if not isinstance(kid, str) or not kid:
            raise _unsupported(repr(kid))
        if kid.startswith("did:"):
            return self.resolve_verification_method(kid)
        url, _, fragment = kid.partition("#")
        path = local_path(url, self._config["BASE_URL"])
        if path is None:
            raise _unsupported(kid)
        if match := _KEY_JWK_RE.fullmatch(path):
            organisation = self._require_organisation(match["slug"])
            return self._jwt_key(organisation, match["key_id"], kid, "jwk")
        if match := _JWKS_RE.fullmatch(path):
            organisation = self._require_organisation(match["slug"])
            return self._jwt_key(organisation, fragment, kid, "jwks")
        if path == _WELL_KNOWN_JWKS:
            key = db.session.scalar(select(SigningKey).where(SigningKey.key_id == fragment)) if fragment else None
            if key is None:
                raise ResolutionError("key_not_found", f"the key set at {url} has no key {kid}")
            return self._jwt_key(key.organisation, fragment, kid, "jwks")
        raise _unsupported(kid)

    def fetch_document(self, url: str) -> object:
        """One of our identity documents by address: ``/issuers/<slug>`` (the JSON-LD profile),
        ``…/did.json``, ``…/jwks.json``, ``…/keys/<key_id>.json``, ``/.well-known/jwks.json``. Raises
        :class:`ResolutionError`: ``unsupported`` for any other address, ``not_found`` for an unknown
        issuer or key."""
        path = local_path(url, self._config["BASE_URL"])
        if path is None:
            raise _unsupported(str(url))
        if path == _WELL_KNOWN_JWKS:
            return installation_jwk_set(self._config)
        for pattern in (_PROFILE_RE, _DID_DOCUMENT_RE, _JWKS_RE, _KEY_JWK_RE):
            match = pattern.fullmatch(path)
            if match is None:
                continue
            organisation = self.organisation(match["slug"])
            if organisation is None:
                raise _not_found(f"issuer at {url}")
            if pattern is _DID_DOCUMENT_RE:
                return published_did_document(organisation, self._config)
            if pattern is _JWKS_RE:
                return published_jwk_set(organisation, self._config)
            if pattern is _KEY_JWK_RE:
                key = self._published_key(organisation, match["key_id"])
                if key is None or key.algorithm is not KeyAlgorithm.RSA_2048:
                    raise _not_found(f"key at {url}")
                return published_key_jwk(organisation, key, self._config)
            try:
                issuer_id = organisation_identity(organisation, self._config).issuer_id
            except BadgeHubError as exc:  # did:key style without an active key: no profile to show
                raise ResolutionError("bad_document", f"{url}: {exc.message}") from None
            return issuer_profile_document(issuer_profile(organisation, issuer_id))
        raise _unsupported(url)

    def _slug_of_did(self, did: str) -> str | None:
        if not did.startswith(self._did_prefix):
            return None
        slug = did[len(self._did_prefix):]
        return slug if re.fullmatch(_SLUG, slug) else None

    # What it read is shared with the other readers of the same verification (status lists, the registry).
    def remember(self, organisation: Organisation) -> None:
        """Take ``organisation`` as read: a caller that already holds the issuer of what it verifies saves the
        look-up by slug (the answer would be the same row)."""
        self._organisations[organisation.slug] = organisation

    def organisation(self, slug: str) -> Organisation | None:
        """Our organisation with this slug, or None (read once per resolver)."""
        if slug not in self._organisations:
            self._organisations[slug] = db.session.scalar(select(Organisation).where(Organisation.slug == slug))
        return self._organisations[slug]

    def published_keys(self, organisation: Organisation) -> list[SigningKey]:
        """The organisation's published keys (:func:`badgehub.keys.service.published_keys`, read once)."""
        if organisation.id not in self._keys:
            self._keys[organisation.id] = published_keys(organisation)
        return self._keys[organisation.id]

    def active_key_id(self, organisation: Organisation, algorithm: KeyAlgorithm) -> str | None:
        """The key id of the organisation's active key for ``algorithm``, or None when it has none."""
        return next((key.key_id for key in self.published_keys(organisation)
                     if key.algorithm is algorithm and key.state is KeyState.ACTIVE), None)

    def _published_key(self, organisation: Organisation, key_id: str) -> SigningKey | None:
        return next((key for key in self.published_keys(organisation) if key.key_id == key_id), None)

    def _require_organisation(self, slug: str) -> Organisation:
        organisation = self.organisation(slug)
        if organisation is None:
            raise ResolutionError("key_not_found", f"{slug} is not an issuer of this installation")
        return organisation

    def _jwt_key(self, organisation: Organisation, key_id: str, kid: str, source: str) -> ResolvedKey:
        key = self._published_key(organisation, key_id) if key_id else None
        if key is None or key.algorithm is not KeyAlgorithm.RSA_2048:
            raise ResolutionError("key_not_found", f"this installation publishes no JWT key {kid}")
        controller = None
        if issuer_id_style(self._config) is IssuerIdStyle.DID_WEB:
            controller = did_web_of(self._config["BASE_URL"], organisation.slug)
        return self._resolved(key, kid, controller, source)

    @staticmethod
    def _resolved(key: SigningKey, method_id: str, controller: str | None, source: str) -> ResolvedKey:
        revoked_at = key.compromised_since if key.state is KeyState.COMPROMISED else None
        return ResolvedKey(public_key_of(key), method_id, controller, source, revoked_at)

    def _did_key(self, method_id: str) -> ResolvedKey:
        # LocalResolver checks the did:key syntax and decodes it; the database adds what only we know.
        resolved = LocalResolver().resolve_verification_method(method_id)
        multikey = method_id[len("did:key:"):].partition("#")[0]
        key = db.session.scalar(select(SigningKey).where(
            SigningKey.algorithm == KeyAlgorithm.ED25519, SigningKey.public_key == multikey,
            SigningKey.state.in_(_PUBLISHED)))
        if key is None:
            raise _unsupported(method_id)
        return self._resolved(key, method_id, resolved.controller, "did:key")


def own_issuer_resolver(config: Mapping[str, Any]) -> OwnIssuerResolver:
    """The resolver of this installation's own issuers for an application configuration (``app.config``)."""
    return OwnIssuerResolver(config)
