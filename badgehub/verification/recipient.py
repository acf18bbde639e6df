"""Matching a known e-mail address against a credential's recipient identifier (OB 3.0 and 2.0)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from badgehub.credentials.documents import identity_hash, parse_identity_hash
from badgehub.fields import email_key


def email_identifiers(subject: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """The e-mail ``IdentityObject``s of an OB 3.0 ``credentialSubject`` (its ``identifier``: one or a list)."""
    identifiers = subject.get("identifier")
    candidates = identifiers if isinstance(identifiers, list) else [identifiers]
    return [item for item in candidates if isinstance(item, Mapping) and item.get("identityType") == "emailAddress"]


def email_matches(identifier: Mapping[str, Any], known: str) -> bool:
    """Whether ``known`` matches an e-mail identifier: an OB 3.0 ``IdentityObject`` or an OB 2.0
    ``recipient`` (both carry ``hashed``, ``salt`` and the hash or plain value, in ``identityHash``
    or ``identity`` respectively).

    Policy: the address is trimmed and lower-cased (:func:`badgehub.fields.email_key`, as BadgeHub hashes it)
    and, for issuers that hash the address as typed, also tried trimmed only. A hashed identifier is
    compared with the IdentityHash of the address followed by the identifier's salt (``sha256`` or
    ``md5``, hex digits in either case); a plain one is compared after normalising both sides.
    """
    value = identifier.get("identityHash", identifier.get("identity"))
    if not isinstance(value, str) or not isinstance(known, str):
        return False
    candidates = list(dict.fromkeys([email_key(known), known.strip()]))
    salt = identifier.get("salt")
    salt_text = salt if isinstance(salt, str) else None
    if identifier.get("hashed") is True:
        parsed = parse_identity_hash(value.strip())
        if parsed is None:
            return False
        alg, digest = parsed
        return any(identity_hash(candidate, salt_text, alg).split("$", 1)[1] == digest for candidate in candidates)
    return email_key(value) in {email_key(candidate) for candidate in candidates}
