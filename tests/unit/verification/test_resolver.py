"""Resolvers: did:key and fragment keys locally, did:web / controller documents / JWK sets through a fetcher."""

from __future__ import annotations

import json
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import ed25519

from badgehub.credentials.keys import ed25519_raw_public_key, public_jwk
from badgehub.credentials.multiformats import ed25519_public_key_to_multikey
from badgehub.verification.resolver import (
    ChainResolver,
    DocumentResolver,
    FetchError,
    LocalResolver,
    ResolutionError,
    StaticResolver,
)

from .conftest import Issuer


def _same(key: Any, other: Any) -> bool:
    return bool(public_jwk(key) == public_jwk(other))


def test_local_resolver_reads_did_key_with_and_without_fragment(did_key_issuer: Issuer) -> None:
    for method in (did_key_issuer.vm_id, did_key_issuer.id):
        resolved = LocalResolver().resolve_verification_method(method)
        assert _same(resolved.public_key, did_key_issuer.ed_key.public_key())
        assert resolved.controller == did_key_issuer.id
        assert resolved.source == "did:key" and resolved.confirmed


def test_local_resolver_reads_a_key_in_the_fragment_as_unconfirmed() -> None:
    key = ed25519.Ed25519PrivateKey.generate().public_key()
    multikey = ed25519_public_key_to_multikey(ed25519_raw_public_key(key))
    resolved = LocalResolver().resolve_verification_method(f"https://example.com/issuers/1#{multikey}")
    assert _same(resolved.public_key, key)
    assert resolved.controller == "https://example.com/issuers/1"
    assert not resolved.confirmed


@pytest.mark.parametrize(
    ("method", "code"),
    [
        ("https://example.com/issuers/1#key-1", "unsupported"),
        ("did:web:example.com#key-1", "unsupported"),
        ("did:key:z6MkNOTAKEY", "bad_key"),
        ("https://example.com/issuers/1#z6MkNOTAKEY", "bad_key"),
        ("", "bad_key"),
    ],
)
def test_local_resolver_refuses_what_it_cannot_resolve(method: str, code: str) -> None:
    with pytest.raises(ResolutionError) as excinfo:
        LocalResolver().resolve_verification_method(method)
    assert excinfo.value.code == code
    with pytest.raises(ResolutionError):
        LocalResolver().fetch_document("https://example.com/")


def test_did_web_resolves_through_the_did_document(did_web_issuer: Issuer) -> None:
    resolver = StaticResolver(did_web_issuer.documents)
    resolved = resolver.resolve_verification_method(did_web_issuer.vm_id)
    assert _same(resolved.public_key, did_web_issuer.ed_key.public_key())
    assert resolved.controller == did_web_issuer.id and resolved.source == "did_document"
    jwt_key = resolver.resolve_jwt_key(did_web_issuer.jwt_kid)
    assert _same(jwt_key.public_key, did_web_issuer.rsa_key.public_key())


def _did_document(issuer: Issuer) -> dict[str, Any]:
    document = issuer.documents["https://badges.example.org/issuers/mairie/did.json"]
    assert isinstance(document, dict)
    copied: dict[str, Any] = json.loads(json.dumps(document))
    return copied


def test_did_web_accepts_relative_method_ids(did_web_issuer: Issuer) -> None:
    document = _did_document(did_web_issuer)
    document["verificationMethod"][0]["id"] = "#key-1"
    document["assertionMethod"] = ["#key-1"]
    resolver = StaticResolver({"https://badges.example.org/issuers/mairie/did.json": document})
    assert resolver.resolve_verification_method(did_web_issuer.vm_id).controller == did_web_issuer.id


@pytest.mark.parametrize(
    ("change", "code"),
    [
        (lambda d: d.update(assertionMethod=[]), "not_authorized"),
        (lambda d: d.update(id="did:web:evil.example"), "bad_document"),
        (lambda d: d["verificationMethod"][0].update(controller="did:web:evil.example"), "bad_document"),
        (lambda d: d.update(verificationMethod=[]), "key_not_found"),
        (lambda d: d["verificationMethod"][0].update(publicKeyMultibase="z6MkBROKEN"), "bad_key"),
    ],
)
def test_did_web_documents_that_do_not_vouch_for_the_key_are_refused(
    did_web_issuer: Issuer, change: Any, code: str
) -> None:
    document = _did_document(did_web_issuer)
    change(document)
    resolver = StaticResolver({"https://badges.example.org/issuers/mairie/did.json": document})
    with pytest.raises(ResolutionError) as excinfo:
        resolver.resolve_verification_method(did_web_issuer.vm_id)
    assert excinfo.value.code == code


def test_https_controller_document_and_jwks(https_issuer: Issuer) -> None:
    resolver = StaticResolver(https_issuer.documents)
    resolved = resolver.resolve_verification_method(https_issuer.vm_id)
    assert resolved.controller == https_issuer.id and resolved.source == "controller_document"
    jwt_key = resolver.resolve_jwt_key(https_issuer.jwt_kid)
    assert jwt_key.source == "jwks" and _same(jwt_key.public_key, https_issuer.rsa_key.public_key())


def test_a_kid_url_serving_a_single_jwk(https_issuer: Issuer) -> None:
    url = "https://academy.example.net/keys/rsa-1.json"
    jwk = dict(public_jwk(https_issuer.rsa_key), iss=https_issuer.id)
    resolved = StaticResolver({url: jwk}).resolve_jwt_key(url)
    assert resolved.source == "jwk" and resolved.controller == https_issuer.id


def test_a_jwk_with_private_members_is_refused(https_issuer: Issuer) -> None:
    url = "https://academy.example.net/keys/rsa-1.json"
    jwk = dict(public_jwk(https_issuer.rsa_key), d="c2VjcmV0")
    with pytest.raises(ResolutionError) as excinfo:
        StaticResolver({url: jwk}).resolve_jwt_key(url)
    assert excinfo.value.code == "bad_key"


def test_document_resolver_maps_fetch_failures() -> None:
    def fetch(url: str) -> bytes:
        if url.endswith("/gone"):
            raise FetchError(url, "gone", status=410)
        if url.endswith("/down"):
            raise TimeoutError("slow")
        if url.endswith("/big"):
            return b"{" + b" " * 100 + b"}"
        if url.endswith("/jwt"):
            return b"aaa.bbb.ccc\n"
        if url.endswith("/binary"):
            return b"\xff\xfe"
        return b"not json"

    resolver = DocumentResolver(fetch, max_bytes=64)
    cases = {
        "gone": "gone",
        "down": "fetch_failed",
        "big": "bad_document",
        "binary": "bad_document",
        "x": "bad_document",
    }
    for path, code in cases.items():
        with pytest.raises(ResolutionError) as excinfo:
            resolver.fetch_document(f"https://example.org/{path}")
        assert excinfo.value.code == code, path
    assert resolver.fetch_document("https://example.org/jwt") == "aaa.bbb.ccc"
    with pytest.raises(ResolutionError) as excinfo:
        resolver.fetch_document("file:///etc/passwd")
    assert excinfo.value.code == "unsupported"


def test_static_resolver_serves_dicts_text_and_bytes() -> None:
    resolver = StaticResolver(
        {"https://a.example/1": {"a": 1}, "https://a.example/2": "x.y.z", "https://a.example/3": b"[1]"}
    )
    assert resolver.fetch_document("https://a.example/1") == {"a": 1}
    assert resolver.fetch_document("https://a.example/2") == "x.y.z"
    assert resolver.fetch_document("https://a.example/3") == [1]
    with pytest.raises(ResolutionError) as excinfo:
        resolver.fetch_document("https://a.example/4")
    assert excinfo.value.code == "fetch_failed"


def test_chain_falls_through_only_when_a_source_is_unreachable(https_issuer: Issuer) -> None:
    multikey = ed25519_public_key_to_multikey(ed25519_raw_public_key(https_issuer.ed_key.public_key()))
    method = f"{https_issuer.id}#{multikey}"
    offline = ChainResolver(StaticResolver({}), LocalResolver())
    assert offline.resolve_verification_method(method).source == "url_fragment"
    online = ChainResolver(StaticResolver(https_issuer.documents), LocalResolver())
    with pytest.raises(ResolutionError) as excinfo:
        online.resolve_verification_method(method)  # the issuer's document answers "not mine"
    assert excinfo.value.code == "key_not_found"


def test_chain_reports_the_most_useful_error() -> None:
    chain = ChainResolver(LocalResolver(), StaticResolver({}))
    with pytest.raises(ResolutionError) as excinfo:
        chain.fetch_document("https://example.org/list")
    assert excinfo.value.code == "fetch_failed"
    with pytest.raises(ResolutionError) as excinfo:
        ChainResolver().resolve_jwt_key("urn:x")
    assert excinfo.value.code == "unsupported"
