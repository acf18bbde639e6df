"""What the Open Badges API reads and writes in a learner's wallet: the same rules as the wallet pages.

The credentials of a learner are those issued here to their verified addresses (as issued, the Data Integrity
JSON) and those they imported (as given: JSON, or a compact JWS). Upserting verifies the badge through the
same pipeline as ``/verify`` and keeps it only when it verifies.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

from badgehub.accounts.models import User
from badgehub.errors import ValidationError
from badgehub.wallet import imports as wallet_imports
from badgehub.wallet import service as wallet
from badgehub.wallet.errors import AlreadyImported
from badgehub.wallet.models import ImportedCredential


@dataclass(frozen=True)
class ApiCredential:
    """One credential of the wallet as the API gives it: a JSON document or a compact JWS, and its date."""

    moment: dt.datetime
    document: dict[str, Any] | None = None
    compact_jws: str | None = None


def _imported(row: ImportedCredential) -> ApiCredential | None:
    text = row.raw.decode("utf-8", "replace").strip()
    if row.format == "json":
        try:
            return ApiCredential(row.imported_at, document=json.loads(text))
        except ValueError:
            return None
    if row.format == "jwt":
        return ApiCredential(row.imported_at, compact_jws=text)
    return None  # baked images are downloads of the wallet, not API documents


def wallet_documents(user: User, *, since: dt.datetime | None = None) -> list[ApiCredential]:
    """Every credential of ``user``'s wallet the API can carry, newest first; ``since`` keeps later ones."""
    items = [ApiCredential(credential.issued_at, document=json.loads(credential.document_json))
             for credential in wallet.wallet_credentials(user)]
    items += [item for row in wallet.imported_of(user) if (item := _imported(row)) is not None]
    if since is not None:
        items = [item for item in items if item.moment >= since]
    return sorted(items, key=lambda item: item.moment, reverse=True)


class NotVerified(ValidationError):
    code = "not_verified"


@dataclass(frozen=True)
class Upserted:
    created: bool
    row: ImportedCredential | None


def upsert(app: Any, user: User, text: str) -> Upserted:
    """Verify ``text`` (a credential as JSON, or a compact JWS) and keep it in ``user``'s wallet.

    Returns ``created=False`` when the wallet already holds these exact bytes. Raises :class:`NotVerified`
    (nothing kept: the caller rolls back) when the badge does not verify, and the wallet's import errors
    (:class:`~badgehub.verification.platform.SubmissionRefused`, ``TooManyImports``). Flushes.
    """
    try:
        row = wallet_imports.import_credential(app, user, kind="text", data=text)
    except AlreadyImported:
        return Upserted(created=False, row=None)
    if not row.last_report.get("verified"):
        raise NotVerified(details={"verdict": row.last_verdict})
    return Upserted(created=True, row=row)
