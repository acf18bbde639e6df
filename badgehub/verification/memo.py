"""A memo of the pipeline's pure, expensive checks: done once per exact content, then answered from memory.

Three checks of the pipeline depend on nothing but the bytes they are given, never on the time, the network, the
database or who asks: JSON-LD safe mode (``check_safe_mode``), the official JSON schema (``validate_credential``)
and a Data Integrity signature over a document with a given public key (``verify_data_integrity_proof``: RDF
canonicalisation, hashing, Ed25519). They are also what dominates the cost of verifying a credential. A
:class:`CheckMemo` keeps their outcomes — the value returned, or the :class:`CredentialError` raised — keyed by
a SHA-256 over the exact JSON content (key order included) and, for a signature, the raw public key.

Everything that can change between two verifications of the same document is **not** memoised and is
recomputed every time by the pipeline: resolving the key (so a rotated, retired or compromised key, and its
compromise date, apply at once), the issuer-key check, the status list (revocation), the validity dates, the
recipient, and, on the credential page, the issuer's standing.

Bounded (least recently used entries go first), thread-safe, per process. Pure: no Flask, no database.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Final, TypeVar

from badgehub.credentials.errors import CredentialError

T = TypeVar("T")

DEFAULT_MAX_ENTRIES: Final = 4096


class _Raised:
    __slots__ = ("error",)

    def __init__(self, error: CredentialError) -> None:
        self.error = error


def fingerprint(kind: str, *parts: object) -> str:
    """``kind`` and a SHA-256 over the parts: bytes as they are, anything else as its exact JSON text
    (insertion order kept, so two documents that differ in anything at all never share a fingerprint)."""
    digest = hashlib.sha256(kind.encode("utf-8"))
    for part in parts:
        data = part if isinstance(part, bytes) else json.dumps(part, ensure_ascii=False, default=repr).encode("utf-8")
        digest.update(len(data).to_bytes(8, "big"))
        digest.update(data)
    return f"{kind}:{digest.hexdigest()}"


class CheckMemo:
    """Outcomes of pure checks by fingerprint, at most ``max_entries`` of them (0: remember nothing)."""

    def __init__(self, max_entries: int = DEFAULT_MAX_ENTRIES) -> None:
        self.max_entries = max(0, int(max_entries))
        self._entries: OrderedDict[str, object] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def __len__(self) -> int:
        return len(self._entries)

    def run(self, kind: str, parts: tuple[object, ...], compute: Callable[[], T]) -> T:
        """``compute()``'s value for this content, computed once. A :class:`CredentialError` it raised is
        remembered and raised again (any other exception is not remembered: it may not be about the content)."""
        key = fingerprint(kind, *parts)
        with self._lock:
            found = self._entries.get(key, _MISSING)
            if found is not _MISSING:
                self._entries.move_to_end(key)
                self.hits += 1
        if found is not _MISSING:
            if isinstance(found, _Raised):
                raise found.error.with_traceback(None)
            return found  # type: ignore[return-value]
        self.misses += 1
        try:
            value: object = compute()
        except CredentialError as error:
            self._remember(key, _Raised(error))
            raise
        self._remember(key, value)
        return value  # type: ignore[return-value]

    def _remember(self, key: str, value: object) -> None:
        if self.max_entries == 0:
            return
        with self._lock:
            self._entries[key] = value
            self._entries.move_to_end(key)
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)


_MISSING: Final = object()
