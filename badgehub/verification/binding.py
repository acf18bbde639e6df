"""Key binding: a valid signature counts only when the key that made it is the issuer's.

A signature proves that *some* key signed the credential; the ``issuer`` it names is only a claim until
the key is tied to that issuer. :func:`bind_issuer_key` is the one rule, for every proof format (Data
Integrity ``eddsa-rdfc-2022``, ``eddsa-2022``, ``Ed25519Signature2020``, VC-JWT with ``kid`` or ``jwk``),
given the key the ``proof`` step resolved (:class:`~badgehub.verification.resolver.ResolvedKey`):

* **did:key issuer**: the key must be the DID's own key. A key carried by the token (``jwk`` header), in a
  fragment, under another did:key, or published anywhere else contradicts the issuer
  (``issuer_key_mismatch``): BadgeHub's did:key style signs its tokens with the did:key's own key.
* **did:web issuer**: the key must be listed under ``assertionMethod`` of the issuer's DID document. A
  verification method resolved from that document has been checked so already by the resolver; any other
  key (a ``jwk`` header, a published JWK) is looked up, by its public key, among the document's
  ``assertionMethod`` keys. A document that cannot be fetched gives ``issuer_key_unreachable`` (not
  verified, to be tried again later) or, when no retry can help (an address never fetched, HTTP 404),
  ``issuer_key_unavailable``, never a pass; one that does not list the key gives ``issuer_key_not_listed``
  (not genuine).
* **https issuer**: the key must come from a document the issuer controls (its controller document, a JWK
  set at its origin, or ``/.well-known/jwks.json`` of its host). A key only written in the credential (a URL
  fragment, a ``jwk`` header) is ``issuer_key_unconfirmed``: a *warning*, so the 1EdTech conformance reading
  of ``verified`` is kept, but the plain-words verdict is never "Valid".
* **urn:uuid and other issuers** that cannot publish keys: nothing can confirm the key, so it is always
  ``issuer_key_unconfirmed``.

A key whose controller is stated (by the document it was resolved from) and is another issuer that can
publish keys is ``issuer_key_mismatch``, whatever the issuer's kind.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Final

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from badgehub.credentials.did import did_web_to_url, ed25519_from_did_key
from badgehub.credentials.errors import CredentialError
from badgehub.credentials.keys import PublicKey, public_key_from_jwk
from badgehub.verification.report import Check, CheckStatus, make_check
from badgehub.verification.resolver import ResolutionError, ResolvedKey, assertion_keys, web_origin

FetchDocument = Callable[[str], object]
"""Fetches a document through the verification's resolver; raises :class:`ResolutionError`."""

RETRYABLE_RESOLUTION: Final = frozenset({"fetch_failed"})
"""Resolution errors that say "not now" rather than "no": the source could not be reached."""


def _public_bytes(key: PublicKey) -> bytes:
    return key.public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)


def same_key(first: PublicKey, second: PublicKey) -> bool:
    """Whether two public keys are the same key."""
    return type(first) is type(second) and _public_bytes(first) == _public_bytes(second)


def _ok(detail: str) -> Check:
    return make_check("issuer_key", CheckStatus.PASSED, "issuer_key_ok", {}, [detail])


def _unconfirmed(key: ResolvedKey) -> Check:
    return make_check("issuer_key", CheckStatus.WARNING, "issuer_key_unconfirmed", {}, [key.method_id])


def _mismatch(key: ResolvedKey, issuer: str) -> Check:
    owner = key.controller or key.method_id
    return make_check("issuer_key", CheckStatus.FAILED, "issuer_key_mismatch", {"controller": owner, "issuer": issuer},
                      [f"{key.method_id} ({key.source})"])


def bind_issuer_key(
    issuer: str | None,
    key: ResolvedKey,
    fetch: FetchDocument,
    *,
    compromised: Callable[[ResolvedKey], Check | None] = lambda _key: None,
) -> Check:
    """The ``issuer_key`` check of a signature made with ``key`` on a credential naming ``issuer``.

    ``fetch`` reads the issuer's documents (its DID document, its JWK set) through the verification's
    resolver, so our own issuers are answered from the database and everyone else's over the network.
    ``compromised`` applies the compromised-key rule to a key found only in the issuer's document (the
    ``proof`` step applied it to the key it resolved). Returns a passed, warning or failed check; never
    raises.
    """
    if issuer is None:
        return _unconfirmed(key)
    if issuer.startswith("did:key:"):
        return _bind_did_key(issuer, key)
    if issuer.startswith("did:web:"):
        return _bind_did_web(issuer, key, fetch, compromised)
    if key.controller is not None and key.controller != issuer and issuer.startswith(("did:", "https://", "http://")):
        return _mismatch(key, issuer)
    if issuer.startswith(("https://", "http://")):
        return _bind_web_address(issuer, key, fetch)
    # urn:uuid and DID methods that cannot be resolved here: the key may be sound, nothing ties it to them.
    return _unconfirmed(key)


def _bind_did_key(issuer: str, key: ResolvedKey) -> Check:
    try:
        own = ed25519_from_did_key(issuer)
    except CredentialError:
        return _mismatch(key, issuer)
    raw = key.public_key.public_bytes(Encoding.Raw, PublicFormat.Raw) if _is_ed25519(key.public_key) else None
    if raw == own:
        return _ok("the key is the did:key itself")
    return _mismatch(key, issuer)


def _is_ed25519(key: PublicKey) -> bool:
    return isinstance(key, Ed25519PublicKey)


def _bind_did_web(
    issuer: str, key: ResolvedKey, fetch: FetchDocument, compromised: Callable[[ResolvedKey], Check | None]
) -> Check:
    if key.source == "did_document" and key.controller == issuer:
        return _ok("did_document")
    if key.controller is not None and key.controller != issuer:
        return _mismatch(key, issuer)
    try:
        url = did_web_to_url(issuer)
    except CredentialError:
        return _mismatch(key, issuer)
    try:
        document = fetch(url)
    except ResolutionError as exc:
        if exc.code in RETRYABLE_RESOLUTION:
            return make_check("issuer_key", CheckStatus.FAILED, "issuer_key_unreachable", {"detail": exc.message[:200]})
        if exc.code == "fetch_refused":
            return make_check("issuer_key", CheckStatus.FAILED, "issuer_key_unavailable", {"detail": exc.message[:200]})
        return make_check("issuer_key", CheckStatus.FAILED, "issuer_key_not_listed", {"issuer": issuer},
                          [exc.message[:200]])
    if not isinstance(document, Mapping) or document.get("id") != issuer:
        return make_check("issuer_key", CheckStatus.FAILED, "issuer_key_not_listed", {"issuer": issuer},
                          [f"the document at {url} does not describe {issuer}"])
    for listed in assertion_keys(document, issuer):
        if same_key(listed.public_key, key.public_key):
            refusal = compromised(listed)
            return refusal if refusal is not None else _ok(f"listed in the DID document as {listed.method_id}")
    return make_check("issuer_key", CheckStatus.FAILED, "issuer_key_not_listed", {"issuer": issuer},
                      [f"{key.method_id} ({key.source})"])


def _bind_web_address(issuer: str, key: ResolvedKey, fetch: FetchDocument) -> Check:
    if key.controller is not None:
        return _ok(key.source) if key.confirmed else _unconfirmed(key)
    # A JWT key without a controller: look for it in the JWK set the issuer publishes
    # (https://<authority of issuer.id>/.well-known/jwks.json, OB3-BRIEF §3.1 "Key provenance").
    if _in_issuer_jwks(issuer, key, fetch):
        return _ok("issuer JWK set")
    if key.source in ("jwk", "jwks") and web_origin(key.method_id) == web_origin(issuer):
        return _ok("served by the issuer's site")
    return _unconfirmed(key)


def _in_issuer_jwks(issuer: str, key: ResolvedKey, fetch: FetchDocument) -> bool:
    origin = web_origin(issuer)
    if origin is None or not origin.startswith("https://"):
        return False
    try:
        document = fetch(origin + "/.well-known/jwks.json")
    except ResolutionError:
        return False
    keys = document.get("keys") if isinstance(document, Mapping) else None
    for jwk in keys if isinstance(keys, list) else []:
        if not isinstance(jwk, Mapping) or ("iss" in jwk and jwk["iss"] != issuer):
            continue
        try:
            if same_key(public_key_from_jwk(jwk), key.public_key):
                return True
        except CredentialError:
            continue
    return False
