"""The bundled contexts and the static allow-list document loader."""

from __future__ import annotations

import hashlib
import json
import re
from importlib import resources
from pathlib import Path
from typing import Any

import pytest

from badgehub.credentials.canonical import canonicalize
from badgehub.credentials.contexts import CONTEXT_FILES, CONTEXTS, document_loader, is_allowed_context
from badgehub.credentials.errors import ContextNotAllowed, CredentialError

REQUIRED_URLS = [
    "https://www.w3.org/ns/credentials/v2",
    "https://www.w3.org/2018/credentials/v1",
    "https://purl.imsglobal.org/spec/ob/v3p0/context.json",
    "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.1.json",
    "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.2.json",
    "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json",
    "https://purl.imsglobal.org/spec/ob/v3p0/extensions.json",
    "https://w3id.org/security/data-integrity/v1",
    "https://w3id.org/security/data-integrity/v2",
    "https://w3id.org/security/suites/ed25519-2020/v1",
    "https://w3id.org/security/multikey/v1",
    "https://www.w3.org/ns/did/v1",
    "https://w3id.org/openbadges/v2",
]

CONTEXT_DIR = resources.files("badgehub.credentials") / "contexts"


def _provenance_rows() -> list[tuple[str, str, str]]:
    text = (CONTEXT_DIR / "PROVENANCE.md").read_text(encoding="utf-8")
    rows = []
    for line in text.splitlines():
        match = re.match(r"^\| `(https?://[^`]+)`[^|]*\| `([^`]+)` \|.*\| `([0-9a-f]{64})` \|", line)
        if match:
            rows.append((match.group(1), match.group(2), match.group(3)))
    return rows


@pytest.mark.parametrize("url", REQUIRED_URLS)
def test_loader_serves_every_required_context(url: str) -> None:
    remote = document_loader(url)
    assert remote["documentUrl"] == url
    assert remote["contextUrl"] is None
    assert "@context" in remote["document"]
    assert is_allowed_context(url)


def test_provenance_lists_every_bundled_file_with_its_sha256() -> None:
    rows = _provenance_rows()
    assert {url: name for url, name, _ in rows} == dict(CONTEXT_FILES)
    for _, name, sha in rows:
        data = (CONTEXT_DIR / name).read_bytes()
        assert hashlib.sha256(data).hexdigest() == sha, name


def test_every_file_in_the_contexts_folder_is_served() -> None:
    files = {p.name for p in CONTEXT_DIR.iterdir() if p.name.endswith((".json", ".jsonld"))}
    assert files == set(CONTEXT_FILES.values())


def test_served_ob_303_is_the_live_capture_byte_equal_to_the_validator_copy(shared_contexts_dir: Path) -> None:
    ours = (CONTEXT_DIR / CONTEXT_FILES["https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"]).read_bytes()
    assert ours == (shared_contexts_dir / "ob-v3p0-context-3.0.3.json").read_bytes()
    assert hashlib.sha256(ours).hexdigest().startswith("3d34f4d4")
    terms = CONTEXTS["https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"]["@context"]
    assert "jti" in terms and "endorsementJwt" in terms


@pytest.mark.parametrize(
    ("url", "shared_name"),
    [
        ("https://www.w3.org/ns/credentials/v2", "credentials-v2.jsonld"),
        ("https://www.w3.org/2018/credentials/v1", "credentials-v1.jsonld"),
        ("https://purl.imsglobal.org/spec/ob/v3p0/context.json", "ob-v3p0-context-3.0.0.json"),
        ("https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.1.json", "ob-v3p0-context-3.0.1.json"),
        ("https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.2.json", "ob-v3p0-context-3.0.2.json"),
        ("https://purl.imsglobal.org/spec/ob/v3p0/extensions.json", "ob-v3p0-extensions.json"),
        ("https://w3id.org/security/data-integrity/v1", "security-data-integrity-v1.jsonld"),
        ("https://w3id.org/security/suites/ed25519-2020/v1", "security-suites-ed25519-2020-v1.jsonld"),
    ],
)
def test_bundled_context_has_the_same_json_as_the_pinned_reference(
    url: str, shared_name: str, shared_contexts_dir: Path
) -> None:
    assert dict(CONTEXTS[url]) == json.loads((shared_contexts_dir / shared_name).read_text(encoding="utf-8"))


@pytest.mark.parametrize(
    "url",
    [
        "https://example.com/context.json",
        "https://www.w3.org/ns/credentials/v2/",
        "http://www.w3.org/ns/credentials/v2",
        "https://WWW.W3.ORG/ns/credentials/v2",
        "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.4.json",
        "file:///etc/passwd",
        "",
    ],
)
def test_loader_refuses_urls_outside_the_allow_list(url: str, no_network: list[str]) -> None:
    with pytest.raises(ContextNotAllowed) as info:
        document_loader(url)
    assert info.value.code == "context_not_allowed"
    assert info.value.url == url
    assert isinstance(info.value, CredentialError)
    assert no_network == []


def test_canonicalising_a_document_with_an_unknown_context_never_opens_a_socket(no_network: list[str]) -> None:
    document: dict[str, Any] = {
        "@context": ["https://www.w3.org/ns/credentials/v2", "https://evil.example/ctx.jsonld"],
        "type": ["VerifiableCredential"],
    }
    with pytest.raises(ContextNotAllowed) as info:
        canonicalize(document)
    assert info.value.url == "https://evil.example/ctx.jsonld"
    assert no_network == []


def test_canonicalising_with_bundled_contexts_never_opens_a_socket(no_network: list[str]) -> None:
    document = {
        "@context": [
            "https://www.w3.org/ns/credentials/v2",
            "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json",
        ],
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "issuer": {"id": "https://example.org/issuer", "type": ["Profile"]},
        "validFrom": "2026-01-01T00:00:00Z",
        "credentialSubject": {"type": ["AchievementSubject"]},
    }
    assert canonicalize(document)
    assert no_network == []


def test_loader_hands_out_private_copies() -> None:
    url = "https://www.w3.org/ns/credentials/v2"
    first = document_loader(url)["document"]
    first["@context"]["VerifiableCredential"] = "urn:tampered"
    assert document_loader(url)["document"]["@context"]["VerifiableCredential"] != "urn:tampered"


def test_contexts_mapping_is_read_from_package_data() -> None:
    assert len(CONTEXTS) == len(CONTEXT_FILES)
    assert set(CONTEXTS) == set(CONTEXT_FILES)
    assert "https://example.com/x" not in CONTEXTS
