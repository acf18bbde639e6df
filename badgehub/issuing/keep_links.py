"""The "See and keep your badge" link of the award e-mail: signed, bound to the badge and its address.

The token is made while the e-mail is built, after the commit that issued the credential, so it needs no row
of its own: it is the credential's public id and a tag of the recipient's address, signed with the app's
secret and time-stamped (``itsdangerous``). Using it once is recorded by the wallet (:mod:`badgehub.wallet.keep`),
which is what makes it single-use. The address tag makes the link die with the address: after an erasure the
credential no longer carries it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Mapping
from typing import Any, Final

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from badgehub.issuing.models import IssuedCredential
from badgehub.keys.identity import base_url_of

SALT: Final = "badgehub.keep-badge"


class KeepTokenInvalid(Exception):
    """Not a token we signed, or not for this badge and address any more."""


class KeepTokenExpired(Exception):
    """A genuine token older than its lifetime."""


def address_tag(recipient_email_key: str) -> str:
    return hashlib.sha256(recipient_email_key.encode("utf-8")).hexdigest()[:16]


def lifetime(config: Mapping[str, Any]) -> dt.timedelta:
    return dt.timedelta(days=int(config["KEEP_LINK_DAYS"]))


def _serializer(config: Mapping[str, Any]) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(str(config["SECRET_KEY"]), salt=SALT)


def keep_token(credential: IssuedCredential, config: Mapping[str, Any]) -> str:
    """A new signed token for ``credential`` (each call differs by its time stamp)."""
    return str(_serializer(config).dumps([credential.public_id, address_tag(credential.recipient_email_key)]))


def keep_url(credential: IssuedCredential, config: Mapping[str, Any]) -> str:
    return f"{base_url_of(config)}/keep/{keep_token(credential, config)}"


def read_keep_token(token: str, config: Mapping[str, Any]) -> tuple[str, str]:
    """``(public_id, address tag)`` of a token we signed within its lifetime. Raises :class:`KeepTokenExpired`
    or :class:`KeepTokenInvalid`."""
    if not isinstance(token, str) or len(token) > 300:
        raise KeepTokenInvalid()
    try:
        value = _serializer(config).loads(token, max_age=int(lifetime(config).total_seconds()))
    except SignatureExpired as exc:
        raise KeepTokenExpired() from exc
    except BadSignature as exc:
        raise KeepTokenInvalid() from exc
    if not (isinstance(value, list) and len(value) == 2 and all(isinstance(part, str) for part in value)):
        raise KeepTokenInvalid()
    return value[0], value[1]
