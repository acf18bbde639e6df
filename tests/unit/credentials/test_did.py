"""did:key (Ed25519), did:web ↔ URL, and DID URL splitting."""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from badgehub.credentials.did import (
    did_key_from_ed25519,
    did_web_to_url,
    ed25519_from_did_key,
    is_did,
    split_did_url,
    url_to_did_web,
)
from badgehub.credentials.errors import CredentialError, DidError, KeyFormatError

TEST_PUBLIC = bytes.fromhex("4bdeafde2ea8beefadd8c699b5c7e0704cf51154d52e17b20b71337ca04cc5a5")
TEST_DID = "did:key:z6MkjZRZv3aez3r18pB1RBFJR1kwUVJ5jHt92JmQwXbd5hwi"


def test_did_key_of_the_test_vector_key() -> None:
    assert did_key_from_ed25519(TEST_PUBLIC) == TEST_DID
    assert ed25519_from_did_key(TEST_DID) == TEST_PUBLIC


def test_did_key_verification_method_with_its_own_fragment_resolves() -> None:
    assert ed25519_from_did_key(TEST_DID + "#" + TEST_DID.split(":")[2]) == TEST_PUBLIC


@pytest.mark.parametrize(
    ("value", "error"),
    [
        (TEST_DID + "#key-1", DidError),
        ("did:web:example.com", DidError),
        ("did:key:zDnaerDaTF5BXEavCrfRZEk316dpbLsfPDZ3WJ5hRTPFU2169", KeyFormatError),
        ("did:key:", KeyFormatError),
        ("did:key:z6Mk", KeyFormatError),
        ("", DidError),
        ("#frag", DidError),
        (TEST_DID + "#", DidError),
    ],
)
def test_did_key_parsing_refuses_malformed_values(value: str, error: type[CredentialError]) -> None:
    with pytest.raises(error):
        ed25519_from_did_key(value)


@pytest.mark.parametrize(
    ("did", "url"),
    [
        ("did:web:example.com", "https://example.com/.well-known/did.json"),
        ("did:web:example.com:issuers:123", "https://example.com/issuers/123/did.json"),
        ("did:web:example.com%3A8443", "https://example.com:8443/.well-known/did.json"),
        ("did:web:localhost%3A5000:org:a-b_c.d", "https://localhost:5000/org/a-b_c.d/did.json"),
        ("did:web:w3c-ccg.github.io:user:alice", "https://w3c-ccg.github.io/user/alice/did.json"),
    ],
)
def test_did_web_maps_to_its_document_url_and_back(did: str, url: str) -> None:
    assert did_web_to_url(did) == url
    assert url_to_did_web(url) == did


@pytest.mark.parametrize(
    ("url", "did"),
    [
        ("https://example.com", "did:web:example.com"),
        ("https://example.com/", "did:web:example.com"),
        ("https://Example.COM/issuers/7", "did:web:example.com:issuers:7"),
        ("https://example.com:8443/issuers/7/", "did:web:example.com%3A8443:issuers:7"),
    ],
)
def test_url_to_did_web_accepts_base_urls(url: str, did: str) -> None:
    assert url_to_did_web(url) == did


@pytest.mark.parametrize(
    "did",
    [
        "did:web:",
        "did:web:exa mple.com",
        "did:web:example.com%3Aabc",
        "did:web:example.com%3A70000",
        "did:web:example.com#key-1",
        "did:web:example.com/path",
        "did:web:example.com::x",
        "did:web:-bad.example",
        "did:key:z6Mk",
        "did:web:example.com:a%zz",
    ],
)
def test_did_web_refuses_malformed_dids(did: str) -> None:
    with pytest.raises(DidError) as info:
        did_web_to_url(did)
    assert info.value.code == "did_invalid"


@pytest.mark.parametrize(
    "url",
    [
        "http://example.com/issuers/1",
        "https://example.com/a?b=1",
        "https://example.com/a#b",
        "https://user:pw@example.com/",
        "https://example.com/a:b",
        "https://example.com//a",
        "https://[::1]/",
        "ftp://example.com",
        "https://example.com:99999/",
    ],
)
def test_url_to_did_web_refuses_urls_without_a_did_web_form(url: str) -> None:
    with pytest.raises(DidError):
        url_to_did_web(url)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("https://example.com/issuers/1#key-1", ("https://example.com/issuers/1", "key-1")),
        (TEST_DID + "#z6Mk", (TEST_DID, "z6Mk")),
        (TEST_DID, (TEST_DID, None)),
        ("did:web:example.com#a#b", ("did:web:example.com", "a#b")),
    ],
)
def test_split_did_url(value: str, expected: tuple[str, str | None]) -> None:
    assert split_did_url(value) == expected


def test_is_did() -> None:
    assert is_did(TEST_DID)
    assert is_did("did:web:example.com%3A8443:a")
    assert not is_did("https://example.com")
    assert not is_did(TEST_DID + "#x")
    assert not is_did("did:web:")


@settings(max_examples=300)
@given(
    st.one_of(
        st.text(max_size=80),
        st.text(max_size=60).map(lambda s: "did:web:" + s),
        st.text(max_size=60).map(lambda s: "did:key:" + s),
    )
)
def test_did_parsers_raise_only_credential_errors(value: str) -> None:
    for parse in (split_did_url, ed25519_from_did_key, did_web_to_url, url_to_did_web):
        with contextlib.suppress(CredentialError):
            parse(value)


@given(st.integers(min_value=0, max_value=len(TEST_DID) - 1))
def test_truncated_did_keys_are_refused(cut: int) -> None:
    with pytest.raises(CredentialError):
        ed25519_from_did_key(TEST_DID[:cut])
