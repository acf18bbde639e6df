"""The bundled JSON-LD context documents and the static, allow-list document loader.

Every context a credential may name is shipped as package data in ``contexts/`` (provenance,
package versions and sha256 in ``contexts/PROVENANCE.md``).  The loader serves exactly those URLs
and refuses everything else with :class:`~badgehub.credentials.errors.ContextNotAllowed`: nothing is
ever fetched, so verification cannot be turned into an SSRF probe and a context host cannot change
what a signature covers.
"""

from __future__ import annotations

import copy
import json
import threading
from collections.abc import Iterator, Mapping
from importlib import resources
from typing import Any

from badgehub.credentials.errors import ContextNotAllowed

#: URL → file name inside ``badgehub/credentials/contexts/``.  Exact string match only: no
#: normalisation, no redirects, no trailing-slash variants (a context URL is an identifier).
CONTEXT_FILES: Mapping[str, str] = {
    "https://www.w3.org/ns/credentials/v2": "credentials-v2.jsonld",
    "https://www.w3.org/2018/credentials/v1": "credentials-v1.jsonld",
    "https://purl.imsglobal.org/spec/ob/v3p0/context.json": "ob-v3p0-context-3.0.0.json",
    "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.1.json": "ob-v3p0-context-3.0.1.json",
    "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.2.json": "ob-v3p0-context-3.0.2.json",
    "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json": "ob-v3p0-context-3.0.3.json",
    "https://purl.imsglobal.org/spec/ob/v3p0/extensions.json": "ob-v3p0-extensions.json",
    "https://w3id.org/security/data-integrity/v1": "data-integrity-v1.jsonld",
    "https://w3id.org/security/data-integrity/v2": "data-integrity-v2.jsonld",
    "https://w3id.org/security/suites/ed25519-2020/v1": "ed25519-signature-2020-v1.jsonld",
    "https://w3id.org/security/multikey/v1": "multikey-v1.jsonld",
    "https://www.w3.org/ns/did/v1": "did-v1.jsonld",
    "https://www.w3.org/ns/credentials/status/v1": "vc-bitstring-status-list-v1.jsonld",
    "https://w3id.org/openbadges/v2": "openbadges-v2.json",
}

#: The context URLs BadgeHub itself emits, in order, for an OB 3.0 (VC DM 2.0) credential.
VC_V2_CONTEXT = "https://www.w3.org/ns/credentials/v2"
VC_V1_CONTEXT = "https://www.w3.org/2018/credentials/v1"
OB_V3_CONTEXT = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"
OB_V3_EXTENSIONS_CONTEXT = "https://purl.imsglobal.org/spec/ob/v3p0/extensions.json"
DATA_INTEGRITY_V2_CONTEXT = "https://w3id.org/security/data-integrity/v2"
ED25519_2020_CONTEXT = "https://w3id.org/security/suites/ed25519-2020/v1"
MULTIKEY_V1_CONTEXT = "https://w3id.org/security/multikey/v1"
DID_V1_CONTEXT = "https://www.w3.org/ns/did/v1"


class _LazyContexts(Mapping[str, Mapping[str, Any]]):
    """URL → parsed context document, read from package data on first access (thread-safe)."""

    def __init__(self, files: Mapping[str, str]) -> None:
        self._files = files
        self._docs: dict[str, Mapping[str, Any]] | None = None
        self._lock = threading.Lock()

    def _load(self) -> dict[str, Mapping[str, Any]]:
        docs = self._docs
        if docs is None:
            with self._lock:
                if self._docs is None:
                    base = resources.files("badgehub.credentials") / "contexts"
                    self._docs = {
                        url: json.loads((base / name).read_text(encoding="utf-8")) for url, name in self._files.items()
                    }
                docs = self._docs
        return docs

    def __getitem__(self, url: str) -> Mapping[str, Any]:
        return self._load()[url]

    def __iter__(self) -> Iterator[str]:
        return iter(self._files)

    def __len__(self) -> int:
        return len(self._files)

    def __contains__(self, url: object) -> bool:
        return url in self._files


#: URL → parsed context document (loaded once, lazily).  Treat the documents as read-only.
CONTEXTS: Mapping[str, Mapping[str, Any]] = _LazyContexts(CONTEXT_FILES)


def is_allowed_context(url: str) -> bool:
    """Return True when ``url`` is one of the bundled context URLs."""
    return url in CONTEXT_FILES


def document_loader(url: str, options: dict[str, Any] | None = None) -> dict[str, Any]:
    """pyld-compatible document loader serving only the bundled contexts.

    Returns ``{"contextUrl": None, "documentUrl": url, "document": <a private deep copy>, "tag":
    "static"}`` (a copy, because pyld rewrites nested ``@context`` lists in place; ``tag`` lets pyld
    keep the processed context instead of resolving it again on every document).  ``options`` is accepted for pyld's
    calling convention and ignored.  Raises :class:`ContextNotAllowed` for any URL not in the
    allow-list; it never opens a socket.
    """
    if not isinstance(url, str) or url not in CONTEXT_FILES:
        raise ContextNotAllowed(str(url))
    return {
        "contextUrl": None,
        "documentUrl": url,
        "document": copy.deepcopy(dict(CONTEXTS[url])),
        "tag": "static",
    }
