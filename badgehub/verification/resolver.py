"""Resolving keys and documents for verification, without ever touching the network directly.

A :class:`Resolver` answers three questions:

* :meth:`~Resolver.resolve_verification_method`: the public key and controller of a Data Integrity
  ``verificationMethod`` (did:key, did:web, an HTTPS controller document, or a key in the fragment);
* :meth:`~Resolver.resolve_jwt_key`: the public key behind a VC-JWT ``kid`` (a JWK, a JWKS, a DID URL);
* :meth:`~Resolver.fetch_document`: any JSON document (or JWT text) by URL: status lists,
  revocation lists, OB 2.0 hosted assertions and issuer profiles, JWK sets.

Implementations:

* :class:`LocalResolver`: no I/O at all. ``did:key`` keys, and keys written in the fragment of the
  verification method id (``https://example.com/issuers/1#z6Mk…``), whose controller is taken to be
  the part before ``#`` as the 1EdTech validator does. Such a key is *self-asserted*: it is marked
  ``confirmed = False`` and the pipeline reports it as a warning.
* :class:`DocumentResolver`: everything that needs a document, through an injected
  ``fetch(url) -> bytes`` callable (the web layer supplies one with time-outs, size limits and a
  refusal of private addresses). did:web uses :func:`badgehub.credentials.did.did_web_to_url`.
* :class:`StaticResolver`: a :class:`DocumentResolver` over a ``{url: document}`` mapping, for tests
  and offline use (``badgehub verify --document URL=PATH``).
* :class:`ChainResolver`: asks several resolvers in turn.

JSON-LD contexts are never fetched through a resolver: they come from the bundled allow-list.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final, Protocol
from urllib.parse import urlsplit

from cryptography.hazmat.primitives.asymmetric import ed25519

from badgehub.credentials.did import did_web_to_url, ed25519_from_did_key, split_did_url
from badgehub.credentials.documents import parse_timestamp
from badgehub.credentials.errors import CredentialError
from badgehub.credentials.keys import (
    PublicKey,
    ed25519_public_key_from_multikey,
    ed25519_public_key_from_raw,
    public_key_from_jwk,
)
from badgehub.credentials.multiformats import base58btc_decode

MAX_DOCUMENT_BYTES: Final = 2 * 1024 * 1024
"""Largest document a :class:`DocumentResolver` accepts from its fetcher."""

UNCONFIRMED_SOURCES: Final = frozenset({"url_fragment", "jwt_header"})
"""Key sources that nobody but the credential itself vouches for."""

# Resolution errors after which a ChainResolver asks the next resolver: the question was not for
# this resolver, or its source could not be reached. Any other error is an answer ("this document
# does not list that key") and stops the chain, so a published key list cannot be bypassed by
# falling back to a self-asserted key.
# ``no_key_document`` falls through too: a web page where a controller document was expected publishes no key,
# so the next resolver may read one from the credential, as unconfirmed. For a DID nothing comes after its
# document (a fragment never supplies a DID's key), so a DID's chain still ends with the refusal.
_FALL_THROUGH: Final = frozenset({"unsupported", "fetch_failed", "fetch_refused", "no_key_document"})
# Reasons of a fetcher (badgehub.verification.fetch.SafeFetchError) that no retry will change.
_REFUSED_FETCHES: Final = frozenset({"address_not_allowed", "scheme_not_allowed", "port_not_allowed", "invalid_url"})

Fetch = Callable[[str], bytes]


class ResolutionError(CredentialError):
    """A key or document that could not be resolved. Codes: ``unsupported`` (not for this
    resolver), ``fetch_failed`` (unreachable now: worth trying again), ``fetch_refused`` (an address that is
    never fetched, or HTTP 404), ``gone`` (HTTP 410), ``bad_document``, ``key_not_found``,
    ``not_authorized`` (not listed for ``assertionMethod``), ``no_key_document`` (what an http(s) verification
    method's address returned is no controller document), ``bad_key``, ``not_found`` (a resolver that
    answers from its own records knows the document does not exist; nothing to look for elsewhere)."""

    code = "resolution_error"

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message, code=code)


class FetchError(Exception):
    """What a fetcher raises when a URL cannot be fetched; ``status`` is the HTTP status if any.

    A fetcher may raise any exception; this one lets it pass the status (410 Gone revokes an
    OB 2.0 hosted assertion).
    """

    def __init__(self, url: str, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.url = url
        self.status = status


@dataclass(frozen=True)
class ResolvedKey:
    """A public key, the id it was resolved from, its controller (if known) and where it came from.

    ``source`` is one of ``did:key``, ``url_fragment``, ``did_document``, ``controller_document``,
    ``jwk``, ``jwks`` (a resolver's answers) or ``jwt_header`` (a ``jwk`` in a JWT header).

    ``revoked_at`` is the moment from which the key must no longer be trusted (a ``revoked`` date-time
    published with it, or the compromise date BadgeHub holds for its own keys): the pipeline fails a proof
    dated at or after it, or not dated at all, and accepts an earlier one with a warning.
    """

    public_key: PublicKey
    method_id: str
    controller: str | None
    source: str
    revoked_at: datetime | None = None

    @property
    def confirmed(self) -> bool:
        """False when the key is only asserted by the credential itself (URL fragment, JWT header)."""
        return self.source not in UNCONFIRMED_SOURCES


class Resolver(Protocol):
    """What the verification pipeline needs from the outside world."""

    def resolve_verification_method(self, method_id: str) -> ResolvedKey:
        """Key and controller of a Data Integrity verification method; raises :class:`ResolutionError`."""
        ...

    def resolve_jwt_key(self, kid: str) -> ResolvedKey:
        """Key behind a VC-JWT ``kid``; raises :class:`ResolutionError`."""
        ...

    def fetch_document(self, url: str) -> object:
        """Parsed JSON (dict or list), or the text when it is not JSON (a JWT); raises
        :class:`ResolutionError`."""
        ...


def _unsupported(what: str) -> ResolutionError:
    return ResolutionError("unsupported", f"cannot resolve {what}")


class LocalResolver:
    """Resolves what needs no document: ``did:key`` and multibase Ed25519 keys in URL fragments."""

    def resolve_verification_method(self, method_id: str) -> ResolvedKey:
        """``did:key:z6Mk…[#z6Mk…]`` (controller: the DID) or ``<url>#z6Mk…`` for a URL or URN that is not
        a DID (controller: ``<url>``, unconfirmed). Raises :class:`ResolutionError` (``unsupported`` /
        ``bad_key``)."""
        if not isinstance(method_id, str) or not method_id:
            raise ResolutionError("bad_key", "the verification method id is empty")
        if method_id.startswith("did:key:"):
            return self._did_key(method_id)
        base, _, fragment = method_id.partition("#")
        # A DID names its keys in its own document: a key written in the fragment of a DID URL
        # (``did:web:example.org#z6Mk…``) is nobody's word but the forger's, so it is never read.
        if base and not base.startswith("did:") and fragment.startswith("z6Mk"):
            try:
                key = ed25519_public_key_from_multikey(fragment)
            except CredentialError as exc:
                raise ResolutionError("bad_key", f"the key in {method_id!r} is not valid: {exc.message}") from None
            return ResolvedKey(key, method_id, base, "url_fragment")
        raise _unsupported(method_id)

    def resolve_jwt_key(self, kid: str) -> ResolvedKey:
        """A ``did:key`` kid (EdDSA). Raises :class:`ResolutionError` (``unsupported`` / ``bad_key``)."""
        if isinstance(kid, str) and kid.startswith("did:key:"):
            return self._did_key(kid)
        raise _unsupported(f"JWT key {kid!r}")

    def fetch_document(self, url: str) -> object:
        """Never fetches. Raises :class:`ResolutionError` (``unsupported``)."""
        raise _unsupported(url)

    @staticmethod
    def _did_key(method_id: str) -> ResolvedKey:
        try:
            raw = ed25519_from_did_key(method_id)
            key = ed25519_public_key_from_raw(raw)
        except CredentialError as exc:
            raise ResolutionError("bad_key", f"invalid did:key: {exc.message}") from None
        return ResolvedKey(key, method_id, method_id.partition("#")[0], "did:key")


def _key_from_method(method: Mapping[str, Any]) -> PublicKey:
    """The public key of a verification method object (Multikey, Ed25519VerificationKey2020/2018,
    JsonWebKey2020 / JsonWebKey)."""
    try:
        if isinstance(method.get("publicKeyMultibase"), str):
            return ed25519_public_key_from_multikey(method["publicKeyMultibase"])
        if isinstance(method.get("publicKeyJwk"), Mapping):
            return public_key_from_jwk(method["publicKeyJwk"])
        if isinstance(method.get("publicKeyBase58"), str):
            return ed25519.Ed25519PublicKey.from_public_bytes(base58btc_decode(method["publicKeyBase58"]))
    except (CredentialError, ValueError) as exc:
        raise ResolutionError("bad_key", f"the published key is not valid: {exc}") from None
    raise ResolutionError("bad_key", "the verification method carries no supported public key")


def _revoked_at(entry: Mapping[str, Any], method_id: str) -> datetime | None:
    """The ``revoked`` date-time of a published verification method or JWK (security vocabulary
    ``sec:revoked``; BadgeHub also writes it into JWKs). A value that is not a date-time is refused rather
    than ignored: a key its owner tried to mark revoked must not pass as a sound one."""
    if "revoked" not in entry:
        return None
    moment = parse_timestamp(entry["revoked"])
    if moment is None:
        raise ResolutionError("bad_key", f"the key {method_id} carries a 'revoked' value that is not a date-time")
    return moment


def _same_id(candidate: object, method_id: str, document_id: str | None) -> bool:
    """Whether ``candidate`` (an id as written in a document, possibly relative) names ``method_id``."""
    if not isinstance(candidate, str):
        return False
    if candidate == method_id:
        return True
    return candidate.startswith("#") and document_id is not None and document_id + candidate == method_id


def assertion_keys(document: Mapping[str, Any], controller: str) -> list[ResolvedKey]:
    """The keys a DID or controller document authorises for ``assertionMethod`` (referenced by full or
    relative id, or embedded), each with ``controller`` and its ``revoked`` date. Methods controlled by
    someone else, or whose key cannot be read, are left out."""
    methods = document.get("verificationMethod", [])
    methods = methods if isinstance(methods, list) else [methods]
    assertion = document.get("assertionMethod")
    assertion_list = assertion if isinstance(assertion, list) else ([] if assertion is None else [assertion])
    found: list[ResolvedKey] = []
    for item in assertion_list:
        method: Mapping[str, Any] | None
        if isinstance(item, Mapping):
            method = item
        else:
            method = next((m for m in methods if isinstance(m, Mapping) and isinstance(item, str)
                           and (m.get("id") == item or _same_id(m.get("id"), item, controller)
                                or _same_id(item, str(m.get("id")), controller))), None)
        if method is None or not isinstance(method.get("id"), str):
            continue
        if method.get("controller", controller) != controller:
            continue
        method_id = method["id"] if not method["id"].startswith("#") else controller + method["id"]
        try:
            found.append(ResolvedKey(_key_from_method(method), method_id, controller, "did_document",
                                     _revoked_at(method, method_id)))
        except ResolutionError:
            continue
    return found


class DocumentResolver:
    """Resolves keys and documents through an injected ``fetch(url) -> bytes``.

    ``fetch`` should raise :class:`FetchError` (with the HTTP status when there is one) or any
    exception on failure; every failure becomes a :class:`ResolutionError`. Documents larger than
    ``max_bytes`` are refused.
    """

    def __init__(self, fetch: Fetch, *, max_bytes: int = MAX_DOCUMENT_BYTES) -> None:
        self._fetch = fetch
        self._max_bytes = max_bytes

    def fetch_document(self, url: str) -> object:
        """Fetch ``url`` (http or https) and return parsed JSON or the text. Raises
        :class:`ResolutionError`: ``unsupported`` (another scheme), ``gone`` (410), ``fetch_failed``,
        ``bad_document`` (too large, not UTF-8, neither JSON nor a compact JWS)."""
        if not isinstance(url, str) or urlsplit(url).scheme not in ("http", "https"):
            raise _unsupported(repr(url))
        try:
            body = self._fetch(url)
        except FetchError as exc:
            if exc.status == 410:
                raise ResolutionError("gone", f"{url} is gone (HTTP 410)") from None
            if exc.status == 404 or getattr(exc, "reason", None) in _REFUSED_FETCHES:
                # Not a passing outage: the address is never fetched, or the document does not exist.
                raise ResolutionError("fetch_refused", f"{url} could not be fetched: {exc}") from None
            raise ResolutionError("fetch_failed", f"{url} could not be fetched: {exc}") from None
        except Exception as exc:  # a fetcher's failure of any kind means "unreachable"
            raise ResolutionError("fetch_failed", f"{url} could not be fetched: {type(exc).__name__}") from None
        if not isinstance(body, bytes | bytearray) or len(body) > self._max_bytes:
            raise ResolutionError("bad_document", f"{url} returned a document that is too large or not bytes")
        try:
            text = bytes(body).decode("utf-8-sig").strip()
        except UnicodeDecodeError:
            raise ResolutionError("bad_document", f"{url} did not return UTF-8 text") from None
        try:
            parsed: object = json.loads(text)
        except (ValueError, RecursionError):
            if text.count(".") == 2 and " " not in text:
                return text
            raise ResolutionError("bad_document", f"{url} did not return JSON") from None
        return parsed

    def _fetch_object(self, url: str) -> Mapping[str, Any]:
        document = self.fetch_document(url)
        if not isinstance(document, Mapping):
            raise ResolutionError("bad_document", f"{url} did not return a JSON object")
        return document

    def resolve_verification_method(self, method_id: str) -> ResolvedKey:
        """Resolve a did:web DID URL or an http(s) controller document URL.

        DID documents must list the method in ``verificationMethod`` (by full or relative id) and
        reference it from ``assertionMethod``; a controller document that has ``assertionMethod``
        must reference it too. The document's ``id`` must be the DID / URL it was fetched for, and
        the method's ``controller`` that id. Raises :class:`ResolutionError`.
        """
        try:
            base, _fragment = split_did_url(method_id)
        except CredentialError as exc:
            raise ResolutionError("bad_key", exc.message) from None
        if base.startswith("did:web:"):
            try:
                url = did_web_to_url(base)
            except CredentialError as exc:
                raise ResolutionError("bad_key", exc.message) from None
            return self._from_controller_document(method_id, base, self._fetch_object(url), is_did=True)
        if urlsplit(base).scheme in ("http", "https"):
            try:
                return self._from_controller_document(method_id, base, self._fetch_object(base), is_did=False)
            except ResolutionError as exc:
                if exc.code == "bad_document":  # an issuer's home page, say: it publishes no key at all
                    raise ResolutionError("no_key_document", exc.message) from None
                raise
        raise _unsupported(method_id)

    def _from_controller_document(
        self, method_id: str, base: str, document: Mapping[str, Any], *, is_did: bool
    ) -> ResolvedKey:
        document_id = document.get("id")
        if is_did and document_id != base:
            raise ResolutionError("bad_document", f"the DID document at {base} does not describe {base}")
        if document_id is not None and document_id != base:
            raise ResolutionError("bad_document", f"the document fetched for {base} describes {document_id!r}")
        source = "did_document" if is_did else "controller_document"
        # The document is itself the verification method (1EdTech validator, HTTP case).
        if (
            not is_did
            and _same_id(document_id, method_id, None)
            and ("publicKeyMultibase" in document or "publicKeyJwk" in document)
        ):
            controller = document.get("controller")
            return ResolvedKey(
                _key_from_method(document),
                method_id,
                controller if isinstance(controller, str) else None,
                source,
                _revoked_at(document, method_id),
            )
        if not is_did and "verificationMethod" not in document and "assertionMethod" not in document:
            # An issuer Profile or any other JSON: a document, but no list of keys to hold the key against.
            raise ResolutionError("bad_document", f"the document at {base} publishes no keys")
        methods = document.get("verificationMethod", [])
        methods = methods if isinstance(methods, list) else [methods]
        assertion = document.get("assertionMethod")
        assertion_list = assertion if isinstance(assertion, list) else ([] if assertion is None else [assertion])
        # Embedded verification methods in assertionMethod count as listed.
        candidates = [m for m in (*methods, *assertion_list) if isinstance(m, Mapping)]
        method = next((m for m in candidates if _same_id(m.get("id"), method_id, base)), None)
        if method is None:
            raise ResolutionError("key_not_found", f"{base} does not list the key {method_id}")
        if is_did or assertion is not None:
            listed = any(
                _same_id(item.get("id") if isinstance(item, Mapping) else item, method_id, base)
                for item in assertion_list
            )
            if not listed:
                raise ResolutionError("not_authorized", f"{base} does not allow {method_id} to issue credentials")
        controller = method.get("controller", base)
        if not isinstance(controller, str):
            raise ResolutionError("bad_document", "the verification method's controller is not a string")
        if controller != base:
            raise ResolutionError(
                "bad_document", f"the key {method_id} is controlled by {controller}, not by the document {base}"
            )
        return ResolvedKey(_key_from_method(method), method_id, controller, source, _revoked_at(method, method_id))

    def resolve_jwt_key(self, kid: str) -> ResolvedKey:
        """Resolve a ``kid``: a did:web DID URL (``publicKeyJwk`` / Multikey of the listed method), or an
        http(s) URL returning a JWK, a JWK set (matched by ``kid`` or its fragment) or a controller
        document. The controller is the DID, the document id, or the JWK's ``iss`` member. Raises
        :class:`ResolutionError`."""
        if not isinstance(kid, str) or not kid:
            raise ResolutionError("bad_key", "the JWT kid is empty")
        if kid.startswith("did:web:"):
            return self.resolve_verification_method(kid)
        if urlsplit(kid).scheme not in ("http", "https"):
            raise _unsupported(f"JWT key {kid!r}")
        base, _, fragment = kid.partition("#")
        document = self._fetch_object(base)
        if "kty" in document:
            return _jwk_key(document, kid, "jwk")
        keys = document.get("keys")
        if isinstance(keys, list):
            for jwk in keys:
                if isinstance(jwk, Mapping) and _kid_names(jwk.get("kid"), kid, fragment):
                    return _jwk_key(jwk, kid, "jwks")
            raise ResolutionError("key_not_found", f"the key set at {base} has no key {kid}")
        return self._from_controller_document(kid, base, document, is_did=False)


def _kid_names(published: object, kid: str, fragment: str) -> bool:
    """Whether a JWK set member's ``kid`` is the key a token names: the same ``kid``, or, for a ``kid`` that
    is the set's address with a fragment, a ``kid`` equal to the fragment or ending with ``#<fragment>`` (a
    set may publish full DID URLs, which is what a JOSE library matching by ``kid`` needs)."""
    if not isinstance(published, str) or not published:
        return False
    if published == kid:
        return True
    return bool(fragment) and (published == fragment or published.endswith("#" + fragment))


def _jwk_key(jwk: Mapping[str, Any], kid: str, source: str) -> ResolvedKey:
    try:
        key = public_key_from_jwk(jwk)
    except CredentialError as exc:
        raise ResolutionError("bad_key", f"the published key {kid} is not valid: {exc.message}") from None
    issuer = jwk.get("iss")
    return ResolvedKey(key, kid, issuer if isinstance(issuer, str) else None, source, _revoked_at(jwk, kid))


class StaticResolver(DocumentResolver):
    """A :class:`DocumentResolver` answering from a ``{url: document}`` mapping (no network).

    A document is a dict or list (served as JSON), a ``str`` or ``bytes`` (served as is). Unknown
    URLs fail like an unreachable server (``fetch_failed``), so a :class:`ChainResolver` moves on.
    """

    def __init__(self, documents: Mapping[str, object], *, max_bytes: int = MAX_DOCUMENT_BYTES) -> None:
        self._documents = dict(documents)
        super().__init__(self._serve, max_bytes=max_bytes)

    def _serve(self, url: str) -> bytes:
        if url not in self._documents:
            # Not a 404: a document that was not supplied may well exist; offline, it is only out of reach.
            raise FetchError(url, "not among the offline documents")
        document = self._documents[url]
        if isinstance(document, bytes):
            return document
        if isinstance(document, str):
            return document.encode("utf-8")
        return json.dumps(document).encode("utf-8")


class ChainResolver:
    """Asks each resolver in turn. It moves on only when a resolver does not handle the question
    (``unsupported``) or cannot reach its source (``fetch_failed``); any other answer, success or
    refusal, is final."""

    def __init__(self, *resolvers: Resolver) -> None:
        self._resolvers: Sequence[Resolver] = resolvers

    def _ask(self, ask: Callable[[Resolver], Any], what: str) -> Any:
        first: ResolutionError | None = None
        for resolver in self._resolvers:
            try:
                return ask(resolver)
            except ResolutionError as exc:
                if exc.code not in _FALL_THROUGH:
                    raise
                if first is None or (first.code == "unsupported" and exc.code != "unsupported"):
                    first = exc
        raise first if first is not None else _unsupported(what)

    def resolve_verification_method(self, method_id: str) -> ResolvedKey:
        """The first resolver's answer (see the class docstring). Raises :class:`ResolutionError`."""
        key: ResolvedKey = self._ask(lambda r: r.resolve_verification_method(method_id), method_id)
        return key

    def resolve_jwt_key(self, kid: str) -> ResolvedKey:
        """The first resolver's answer (see the class docstring). Raises :class:`ResolutionError`."""
        key: ResolvedKey = self._ask(lambda r: r.resolve_jwt_key(kid), kid)
        return key

    def fetch_document(self, url: str) -> object:
        """The first resolver's answer (see the class docstring). Raises :class:`ResolutionError`."""
        document: object = self._ask(lambda r: r.fetch_document(url), url)
        return document


def offline_resolver(documents: Mapping[str, object] | None = None) -> ChainResolver:
    """The resolver for offline checks: the given documents first, then :class:`LocalResolver`.

    The documents come first so that a key the credential writes in a fragment is read only when the
    controller's document is not there to be asked (see :func:`badgehub.verification.platform.build_resolver`).
    """
    return ChainResolver(StaticResolver(documents or {}), LocalResolver())


def web_origin(url: object) -> str | None:
    """``scheme://host[:port]`` of an http(s) address, lower-cased; None for anything else (not a string, another
    scheme, no host, unparseable). Two addresses are under one owner's control when their origins are equal."""
    if not isinstance(url, str):
        return None
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return None
    return f"{parts.scheme}://{parts.netloc}".lower()
