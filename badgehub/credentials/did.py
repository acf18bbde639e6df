"""did:key (Ed25519) and did:web helpers, and DID URL splitting.

did:key: the method-specific id is the Ed25519 Multikey (``did:key:z6Mk…``); its only verification
method is ``did:key:z6Mk…#z6Mk…``.  did:web (https://w3c-ccg.github.io/did-method-web/):
``did:web:example.com`` → ``https://example.com/.well-known/did.json``,
``did:web:example.com%3A8443:issuers:7`` → ``https://example.com:8443/issuers/7/did.json``.
Nothing here touches the network: resolving is the verification resolver's job.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from badgehub.credentials.errors import DidError, KeyFormatError
from badgehub.credentials.multiformats import (
    ed25519_public_key_to_multikey,
    multikey_to_ed25519_public_key,
)

# RFC 1123 host names (labels of letters, digits and hyphens) or an IPv4 address: did:web forbids
# anything that would need more escaping than the port colon.
_HOST_RE = re.compile(
    r"^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$"
)
# A did:web path segment: DID idchars (ALPHA / DIGIT / "." / "-" / "_" / pct-encoded).
_SEGMENT_RE = re.compile(r"^(?:[A-Za-z0-9._-]|%[0-9A-Fa-f]{2})+$")
_DID_RE = re.compile(r"^did:[a-z0-9]+:(?:[A-Za-z0-9._:-]|%[0-9A-Fa-f]{2})*(?:[A-Za-z0-9._-]|%[0-9A-Fa-f]{2})$")


def split_did_url(vm_id: str) -> tuple[str, str | None]:
    """Split a DID URL or URL at its first ``#`` into ``(base, fragment)``; ``fragment`` is ``None``
    when there is no ``#``.

    Raises :class:`DidError` for a non-string or empty value, or an empty base or fragment.
    """
    if not isinstance(vm_id, str) or not vm_id:
        raise DidError("verification method id must be a non-empty string")
    base, sep, fragment = vm_id.partition("#")
    if not base or (sep and not fragment):
        raise DidError(f"malformed DID URL {vm_id!r}")
    return base, (fragment if sep else None)


def did_key_from_ed25519(raw32: bytes) -> str:
    """Return ``did:key:z6Mk…`` for a raw 32-byte Ed25519 public key.

    Raises :class:`KeyFormatError` when the key is not 32 bytes.
    """
    return "did:key:" + ed25519_public_key_to_multikey(raw32)


def ed25519_from_did_key(did: str) -> bytes:
    """Return the raw Ed25519 public key of a ``did:key`` DID or DID URL.

    A fragment, if present, must repeat the method-specific id (``did:key:z6Mk…#z6Mk…``).
    Raises :class:`DidError` for another method, a malformed DID or a mismatching fragment, and
    :class:`KeyFormatError` when the key is not an Ed25519 Multikey.
    """
    base, fragment = split_did_url(did)
    if not base.startswith("did:key:"):
        raise DidError(f"not a did:key DID: {base[:80]!r}")
    msid = base[len("did:key:") :]
    if fragment is not None and fragment != msid:
        raise DidError("did:key fragment must equal the method-specific id")
    try:
        return multikey_to_ed25519_public_key(msid)
    except KeyFormatError as exc:
        raise KeyFormatError(f"did:key: {exc.message}") from None


def did_web_to_url(did: str) -> str:
    """Return the HTTPS URL of the DID document of a ``did:web`` DID (no fragment, no query).

    ``did:web:host`` maps to ``https://host/.well-known/did.json``; extra ``:``-separated segments
    become the path, followed by ``/did.json``; a port is written ``%3A`` in the DID.
    Raises :class:`DidError` for another method or a malformed host, port or path.
    """
    if not isinstance(did, str) or not did.startswith("did:web:"):
        raise DidError("not a did:web DID")
    if "#" in did or "?" in did or "/" in did:
        raise DidError("did:web DID must not carry a path, query or fragment")
    parts = did[len("did:web:") :].split(":")
    host_port = parts[0]
    host, sep, port = host_port.replace("%3a", "%3A").partition("%3A")
    if not _HOST_RE.match(host):
        raise DidError(f"did:web: invalid host {host!r}")
    if sep and (not port.isdigit() or not 0 < int(port) < 65536 or not port.isascii()):
        raise DidError(f"did:web: invalid port {port!r}")
    segments = parts[1:]
    for segment in segments:
        if not _SEGMENT_RE.match(segment):
            raise DidError(f"did:web: invalid path segment {segment!r}")
    authority = f"{host.lower()}:{port}" if sep else host.lower()
    path = "/" + "/".join(segments) if segments else "/.well-known"
    return f"https://{authority}{path}/did.json"


def url_to_did_web(url: str) -> str:
    """Return the ``did:web`` DID whose document lives at ``url``.

    Accepts the document URL itself (``…/did.json``, ``…/.well-known/did.json``) or the base URL
    it belongs to (``https://example.com/issuers/7``).  A port becomes ``%3A``.
    Raises :class:`DidError` for a non-HTTPS URL, a query, fragment, credentials in the URL, or a
    path segment that cannot appear in a DID.
    """
    if not isinstance(url, str):
        raise DidError("URL must be a string")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise DidError(f"invalid URL: {exc}") from None
    if parts.scheme != "https":
        raise DidError("did:web needs an https URL")
    if parts.query or parts.fragment or parts.username is not None or parts.password is not None:
        raise DidError("did:web URL must not carry a query, fragment or credentials")
    host = parts.hostname or ""
    if not _HOST_RE.match(host):
        raise DidError(f"did:web: invalid host {host!r}")
    path = parts.path
    if path.endswith("/did.json"):
        path = path[: -len("/did.json")]
    if path == "/.well-known":
        path = ""
    segments = [s for s in path.split("/") if s]
    if path.rstrip("/") != ("/" + "/".join(segments) if segments else ""):
        raise DidError("did:web: empty path segment")
    for segment in segments:
        if not _SEGMENT_RE.match(segment):
            raise DidError(f"did:web: path segment {segment!r} cannot appear in a DID")
    authority = f"{host.lower()}%3A{port}" if port is not None else host.lower()
    return ":".join(["did:web", authority, *segments])


def is_did(value: str) -> bool:
    """Return True when ``value`` is syntactically a DID (no path, query or fragment)."""
    return isinstance(value, str) and bool(_DID_RE.match(value))
