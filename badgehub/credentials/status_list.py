"""W3C Bitstring Status List v1.0: the list itself, the entry and the (unsigned) list credential.

The bitstring is plain ``bytes``; index 0 is the left-most (most significant) bit of byte 0
(OB3-BRIEF §5.2). ``encodedList`` is multibase base64url without padding (prefix ``u``) of the
GZIP-compressed bitstring, which holds at least :data:`MIN_ENTRIES` entries.

Everything here is pure: the caller passes ids, timestamps and the random source, and signs the list
credential with the proof functions of :mod:`badgehub.credentials.data_integrity`.
"""

from __future__ import annotations

import base64
import binascii
import gzip
import secrets
import zlib
from collections.abc import Container
from datetime import datetime
from typing import Any, Final, Protocol

from badgehub.credentials.contexts import VC_V2_CONTEXT
from badgehub.credentials.documents import format_timestamp
from badgehub.credentials.errors import CredentialError

MIN_ENTRIES: Final = 131_072
"""Minimum number of entries of a bitstring (16 KiB), [BSL] "minimumNumberOfEntries"."""

MAX_DECODED_BYTES: Final = 16 * 1024 * 1024
"""Refuse to inflate a remote list beyond 16 MiB (128 Mi entries): a gzip bomb guard."""

STATUS_PURPOSES: Final = frozenset({"revocation", "suspension", "refresh", "message"})
ENTRY_TYPE: Final = "BitstringStatusListEntry"
LIST_CREDENTIAL_TYPE: Final = "BitstringStatusListCredential"
LIST_TYPE: Final = "BitstringStatusList"

_GZIP_MAGIC_B64 = "H4sI"  # base64 of the gzip magic bytes 1f 8b 08


class StatusListError(CredentialError):
    """A status list or entry that cannot be built or read; ``code`` says why."""

    code = "status_list_error"

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message, code=code)


class IndexRandom(Protocol):
    """The part of :class:`random.Random` / :class:`secrets.SystemRandom` used to pick indexes."""

    def randrange(self, start: int, /) -> int: ...


def new_status_list(size: int = MIN_ENTRIES) -> bytes:
    """Return an all-zero bitstring of ``size`` entries.

    Raises :class:`StatusListError` (``status_list_too_short`` / ``status_list_size``) when ``size``
    is below :data:`MIN_ENTRIES` or not a multiple of 8.
    """
    _check_size(size)
    return bytes(size // 8)


def encode_status_list(bits: bytes) -> str:
    """Encode a bitstring as ``encodedList``: ``"u"`` + base64url(gzip(bits)) without padding.

    The gzip header carries no timestamp, so equal lists encode to equal strings.
    Raises :class:`StatusListError` (``status_list_too_short``) for fewer than
    :data:`MIN_ENTRIES` entries.
    """
    _check_size(len(bits) * 8)
    compressed = gzip.compress(bytes(bits), compresslevel=9, mtime=0)
    return "u" + base64.urlsafe_b64encode(compressed).decode("ascii").rstrip("=")


def decode_status_list(encoded: str, *, max_bytes: int = MAX_DECODED_BYTES) -> bytes:
    """Decode an ``encodedList`` back to the bitstring.

    Accepts the multibase ``u`` prefix (Bitstring Status List) and, leniently, the unprefixed
    base64url of StatusList2021 lists. The inflated size is capped at ``max_bytes``. Raises
    :class:`StatusListError` with code ``status_list_encoding`` (bad multibase/base64),
    ``status_list_gzip`` (not gzip), ``status_list_too_large`` (beyond the cap).
    The minimum length is *not* checked here: verifiers report it separately (STATUS_LIST_LENGTH_ERROR).
    """
    if not isinstance(encoded, str) or not encoded:
        raise StatusListError("status_list_encoding", "The encoded status list is empty or not a string.")
    if encoded.startswith("u"):
        body = encoded[1:]
    elif encoded.startswith(_GZIP_MAGIC_B64):
        body = encoded
    else:
        raise StatusListError("status_list_encoding", "The encoded status list does not use multibase base64url ('u').")
    try:
        compressed = base64.b64decode(body + "=" * (-len(body) % 4), altchars=b"-_", validate=True)
    except (binascii.Error, ValueError) as exc:
        raise StatusListError("status_list_encoding", "The encoded status list is not base64url.") from exc
    return _gunzip_capped(compressed, max_bytes)


def _gunzip_capped(data: bytes, max_bytes: int) -> bytes:
    inflater = zlib.decompressobj(wbits=31)  # 31: gzip header and trailer
    try:
        out = inflater.decompress(data, max_bytes + 1)
    except zlib.error as exc:
        raise StatusListError("status_list_gzip", "The status list is not valid GZIP data.") from exc
    if len(out) > max_bytes:
        raise StatusListError("status_list_too_large", "The status list is larger than allowed.")
    if not inflater.eof:
        raise StatusListError("status_list_gzip", "The status list GZIP data is truncated.")
    return out


def get_bit(bits: bytes, index: int) -> bool:
    """Return the bit at ``index`` (MSB-first). Raises :class:`StatusListError` (``status_list_range``)."""
    _check_index(bits, index)
    return bool((bits[index // 8] >> (7 - index % 8)) & 1)


def set_bit(bits: bytes, index: int, value: bool = True) -> bytes:
    """Return a copy of ``bits`` with the bit at ``index`` set to ``value`` (MSB-first).

    Raises :class:`StatusListError` (``status_list_range``) when the index is outside the list.
    """
    _check_index(bits, index)
    out = bytearray(bits)
    mask = 1 << (7 - index % 8)
    if value:
        out[index // 8] |= mask
    else:
        out[index // 8] &= ~mask & 0xFF
    return bytes(out)


def get_status(bits: bytes, index: int, status_size: int = 1) -> int:
    """Return the status value stored at entry ``index`` of ``status_size`` bits (big-endian).

    With ``status_size == 1`` this is :func:`get_bit` as an int. Raises :class:`StatusListError`
    (``status_list_range``) when the entry does not fit in the list.
    """
    if status_size < 1:
        raise StatusListError("status_list_range", "The status size must be at least 1.")
    start = index * status_size
    value = 0
    for offset in range(status_size):
        value = (value << 1) | int(get_bit(bits, start + offset))
    return value


def parse_status_list_index(value: object) -> int:
    """Read ``statusListIndex``: a base-10 string as W3C requires, or (leniently) a JSON integer.

    Raises :class:`StatusListError` (``status_index_invalid``) for anything else, negatives included.
    """
    if isinstance(value, bool):
        raise StatusListError("status_index_invalid", "The status list index is not a number.")
    if isinstance(value, int):
        index = value
    elif isinstance(value, str) and value.isascii() and value.isdigit() and len(value) <= 12:
        index = int(value)
    else:
        raise StatusListError("status_index_invalid", "The status list index is not a whole number.")
    if index < 0:
        raise StatusListError("status_index_invalid", "The status list index is negative.")
    return index


def status_list_entry(
    list_url: str, index: int, purpose: str = "revocation", *, entry_id: str | None = None
) -> dict[str, Any]:
    """Build a ``BitstringStatusListEntry`` for ``credentialStatus`` (index written as a string).

    ``entry_id`` defaults to ``<list_url>#<index>`` (an entry id must not equal the list URL).
    Raises :class:`StatusListError` for an unknown purpose, a negative index or an id equal to the URL.
    """
    _check_purpose(purpose)
    if isinstance(index, bool) or not isinstance(index, int) or index < 0:
        raise StatusListError("status_index_invalid", "The status list index must be a whole number ≥ 0.")
    identifier = entry_id if entry_id is not None else f"{list_url}#{index}"
    if identifier == list_url:
        raise StatusListError("status_entry_id", "A status entry id must not be the status list URL.")
    return {
        "id": identifier,
        "type": ENTRY_TYPE,
        "statusPurpose": purpose,
        "statusListIndex": str(index),
        "statusListCredential": list_url,
    }


def build_status_list_credential(
    list_url: str,
    issuer_id: str,
    purpose: str,
    bits: bytes,
    valid_from: datetime | str,
    credential_id: str | None = None,
    *,
    valid_until: datetime | str | None = None,
    ttl_ms: int | None = None,
) -> dict[str, Any]:
    """Build the unsigned ``BitstringStatusListCredential`` published at ``list_url``.

    ``credential_id`` defaults to ``list_url``; the subject id is ``<list_url>#list``. Timestamps are
    RFC 3339 strings or timezone-aware datetimes (written in UTC with a ``Z``). Raises
    :class:`StatusListError` for an unknown purpose or a short list, and
    :class:`~badgehub.credentials.documents.DocumentError` for a timestamp without a time zone.
    """
    _check_purpose(purpose)
    subject: dict[str, Any] = {
        "id": f"{list_url}#list",
        "type": LIST_TYPE,
        "statusPurpose": purpose,
        "encodedList": encode_status_list(bits),
    }
    if ttl_ms is not None:
        subject["ttl"] = ttl_ms
    credential: dict[str, Any] = {
        "@context": [VC_V2_CONTEXT],
        "id": credential_id if credential_id is not None else list_url,
        "type": ["VerifiableCredential", LIST_CREDENTIAL_TYPE],
        "issuer": issuer_id,
        "validFrom": format_timestamp(valid_from, "validFrom"),
    }
    if valid_until is not None:
        credential["validUntil"] = format_timestamp(valid_until, "validUntil")
    credential["credentialSubject"] = subject
    return credential


def random_free_index(
    taken: Container[int], size: int = MIN_ENTRIES, rng: IndexRandom | None = None, *, attempts: int = 64
) -> int:
    """Pick a random index in ``[0, size)`` that is not in ``taken``.

    W3C recommends random assignment so that an index reveals nothing about issuing order. After
    ``attempts`` random draws hit taken indexes (a nearly full list), the free indexes are scanned
    from a random starting point. ``rng`` defaults to :class:`secrets.SystemRandom`; tests inject
    :class:`random.Random`. Raises :class:`StatusListError` (``status_list_full``) when none is free.
    """
    generator: IndexRandom = rng if rng is not None else secrets.SystemRandom()
    if size < 1:
        raise StatusListError("status_list_full", "The status list has no entries.")
    for _ in range(attempts):
        candidate = generator.randrange(size)
        if candidate not in taken:
            return candidate
    start = generator.randrange(size)
    for offset in range(size):
        candidate = (start + offset) % size
        if candidate not in taken:
            return candidate
    raise StatusListError("status_list_full", "Every index of the status list is taken.")


def _check_size(size: int) -> None:
    if size < MIN_ENTRIES:
        raise StatusListError(
            "status_list_too_short", f"A status list needs at least {MIN_ENTRIES} entries, got {size}."
        )
    if size % 8:
        raise StatusListError("status_list_size", "A status list size must be a multiple of 8.")


def _check_index(bits: bytes, index: int) -> None:
    if isinstance(index, bool) or not isinstance(index, int) or not 0 <= index < len(bits) * 8:
        raise StatusListError("status_list_range", f"Index {index!r} is outside the status list.")


def _check_purpose(purpose: str) -> None:
    if purpose not in STATUS_PURPOSES:
        raise StatusListError("status_purpose_invalid", f"Unknown status purpose {purpose!r}.")
