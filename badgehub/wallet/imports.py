"""Badges from elsewhere brought into a learner's wallet: verified, then kept byte for byte with their report.

Services take the session, flush and never commit.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from typing import Final

from sqlalchemy import func, select

from badgehub.accounts.models import User
from badgehub.audit.service import record
from badgehub.db import utcnow
from badgehub.extensions import db
from badgehub.verification.fetch import SafeFetchError
from badgehub.verification.platform import (
    AppLike,
    SubmissionRefused,
    as_url,
    max_submission_bytes,
    platform_fetcher,
    verify_submission,
)
from badgehub.verification.report import CheckStatus, VerificationReport
from badgehub.wallet.errors import AlreadyImported, TooManyImports
from badgehub.wallet.models import ImportedCredential
from badgehub.wallet.service import get_imported
from badgehub.wallet.status import status_cache

MAX_IMPORTS: Final = 200
# The pipeline's reasons for refusing an address (as opposed to failing to reach it).
_REFUSALS: Final = frozenset({"address_not_allowed", "scheme_not_allowed", "port_not_allowed", "invalid_url"})


def _fetch_import(app: AppLike, url: str) -> bytes:
    """The bytes at ``url``, through the platform's safe fetcher; raises SubmissionRefused like /verify."""
    fetcher = platform_fetcher(app)
    try:
        fetcher.check_url(url)
    except SafeFetchError as exc:
        raise SubmissionRefused("url_refused", reason=exc.reason) from None
    try:
        body = fetcher.fetch(url)
    except SafeFetchError as exc:
        if exc.reason in _REFUSALS:
            raise SubmissionRefused("url_refused", reason=exc.reason) from None
        raise SubmissionRefused("url_unreachable", reason=exc.reason, http_status=exc.status) from None
    if not body.strip():
        raise SubmissionRefused("url_unreachable", reason="not_a_badge")
    return body


def _summary(report: VerificationReport) -> str:
    # A coarse word kept with the import (and in the export); pages always show the live verdict.
    if report.revoked:
        return "revoked"
    if report.expired:
        return "expired"
    return "verified" if report.verified else "not_verified"


def import_credential(app: AppLike, user: User, *, kind: str, data: bytes | str,
                      now: dt.datetime | None = None) -> ImportedCredential:
    """Verify a badge from elsewhere and keep it, byte for byte, with its report.

    ``kind`` is ``file`` (uploaded bytes), ``text`` (pasted JSON or JWT; a lone address is followed) or ``url``
    (fetched through the platform's safe fetcher: time-outs, size caps, never a private or local address).
    A badge that can be read is kept whatever its verdict (the wallet shows it); nothing is kept otherwise.

    Raises :class:`~badgehub.verification.platform.SubmissionRefused` (nothing readable, too large, address
    refused or unreachable), AlreadyImported or TooManyImports.
    """
    moment = now or utcnow()
    source_url: str | None = None
    if kind == "text" and isinstance(data, str) and as_url(data) is not None:
        kind, data = "url", str(as_url(data))
    if kind == "url":
        if not isinstance(data, str) or not data.strip():
            raise SubmissionRefused("empty_input")
        source_url = data.strip()
        if len(source_url) > 2048:
            raise SubmissionRefused("url_refused", reason="invalid_url")
        raw = _fetch_import(app, source_url)
        kind, data = "file", raw
    if kind == "text":
        if not isinstance(data, str) or not data.strip():
            raise SubmissionRefused("empty_input")
        text = data.strip()
        if len(text.encode("utf-8", "surrogatepass")) > max_submission_bytes(app.config):
            raise SubmissionRefused("too_large", 413, limit=max_submission_bytes(app.config))
        raw = text.encode("utf-8", "surrogatepass")
        report = verify_submission(app, text, kind="text", now=moment)
    elif kind == "file" and isinstance(data, bytes):
        raw = data
        report = verify_submission(app, raw, kind="file", now=moment)
    else:
        raise SubmissionRefused("empty_input")
    kind_check = report.check("type")
    if kind_check is not None and kind_check.status is CheckStatus.FAILED and kind_check.code == "type_invalid":
        # Readable JSON, but no badge (a key, a random document): nothing to keep in a wallet.
        raise SubmissionRefused("type_invalid")
    digest = hashlib.sha256(raw).hexdigest()
    if db.session.scalar(select(ImportedCredential.id).where(ImportedCredential.user_id == user.id,
                                                             ImportedCredential.sha256 == digest)) is not None:
        raise AlreadyImported()
    count = db.session.scalar(select(func.count()).select_from(ImportedCredential)
                              .where(ImportedCredential.user_id == user.id)) or 0
    if count >= MAX_IMPORTS:
        raise TooManyImports()
    row = ImportedCredential(
        user_id=user.id, raw=raw, sha256=digest, format=report.format or "json", ob_version=report.ob_version,
        source_url=source_url, achievement_name=(report.achievement_name or report.credential_name or "")[:300],
        issuer_name=(report.issuer_name or report.issuer_id or "")[:300], imported_at=moment,
        last_report=report.to_dict(), last_verdict=_summary(report), last_checked_at=moment)
    db.session.add(row)
    db.session.flush()
    status_cache(app).put(("imported", digest), report)
    record("wallet.credential_imported", actor_id=user.id, subject_type="imported_credential", subject_id=row.id,
           details={"format": row.format, "ob_version": row.ob_version, "verdict": row.last_verdict,
                    "from_url": source_url is not None})
    db.session.flush()
    return row


def delete_imported(user: User, imported_id: int) -> None:
    """Remove an imported badge (and from every share). Raises WalletItemNotFound for anyone else's."""
    row = get_imported(user, imported_id)
    db.session.delete(row)
    record("wallet.imported_removed", actor_id=user.id, subject_type="imported_credential", subject_id=imported_id)
    db.session.flush()
