"""The verification pipeline: any Open Badge in, a :class:`VerificationReport` out, never an exception.

``verify(data, resolver, now)`` reads the input (:mod:`~badgehub.verification.parse`), then runs the checks
of :data:`~badgehub.verification.report.CHECK_IDS` in order (OB3-BRIEF §3.4, with the 1EdTech validator's
practical order), one module of :mod:`badgehub.verification.checks` per concern, each documenting its
decisions. OB 2.0 assertions go to :mod:`~badgehub.verification.ob2`. A check that meets data it cannot
handle fails with ``check_error``; it never raises to the caller.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

from badgehub.credentials.documents import string_values
from badgehub.verification import ob2
from badgehub.verification.checks.context import check_context
from badgehub.verification.checks.endorsements import check_endorsements
from badgehub.verification.checks.proof import check_issuer_key, check_proof
from badgehub.verification.checks.recipient import check_recipient
from badgehub.verification.checks.schema import check_schema
from badgehub.verification.checks.status import check_status
from badgehub.verification.checks.structure import check_structure, check_type
from badgehub.verification.checks.validity import check_validity
from badgehub.verification.memo import CheckMemo
from badgehub.verification.parse import MAX_INPUT_BYTES, Parsed, ParseFailure, guess_format, parse_input, unreadable
from badgehub.verification.report import Check, CheckStatus, VerificationReport, make_check
from badgehub.verification.resolver import ResolutionError, Resolver
from badgehub.verification.run import OB_TYPES, Run, issuer_id_of, text_of

__all__ = ["MAX_INPUT_BYTES", "verify"]

T = TypeVar("T")

STEPS: tuple[tuple[str, Callable[[Run], Check]], ...] = (
    ("context", check_context),
    ("type", check_type),
    ("structure", check_structure),
    ("schema", check_schema),
    ("proof", check_proof),
    ("issuer_key", check_issuer_key),
    ("status", check_status),
    ("validity", check_validity),
    ("recipient", check_recipient),
    ("endorsements", check_endorsements),
)
"""The checks after ``parse``, in report order."""


def verify(
    data: str | bytes | Mapping[str, Any],
    resolver: Resolver,
    now: datetime,
    known_recipient: str | None = None,
    *,
    schema_path: Path | None = None,
    memo: CheckMemo | None = None,
) -> VerificationReport:
    """Verify an Open Badge (OB 3.0 or 2.0) and return the report; never raises for bad input.

    ``data`` is a credential dict, JSON text or bytes, a compact JWT, or a baked PNG/SVG. ``resolver``
    answers key and document look-ups (see :mod:`badgehub.verification.resolver`); ``now`` is the
    instant the validity dates are compared with (naive means UTC). ``known_recipient`` is an e-mail
    address to check against the recipient identifiers. ``schema_path`` replaces the bundled official
    JSON schema. ``memo`` remembers the pure, expensive checks of exact contents (safe mode, schema,
    signatures; see :mod:`badgehub.verification.memo`): everything else is recomputed on every call.
    """
    moment = now if now.tzinfo is not None else now.replace(tzinfo=UTC)
    verifier = _Verifier(resolver, moment, schema_path, memo)
    try:
        return verifier.verify_input(data, known_recipient)
    except RecursionError:
        return unreadable("invalid_json", None)
    except Exception as exc:  # the last line of defence: bad input must never escape as an exception
        return unreadable("check_error", None, {"detail": type(exc).__name__})


class _Verifier:
    """One call of :func:`verify`: its resolver, moment and memo, and the documents fetched so far."""

    def __init__(self, resolver: Resolver, now: datetime, schema_path: Path | None,
                 memo: CheckMemo | None = None) -> None:
        self.resolver = resolver
        self.now = now
        self.schema_path = schema_path
        self.memo = memo
        self._documents: dict[str, object | ResolutionError] = {}

    def pure(self, kind: str, parts: tuple[object, ...], compute: Callable[[], T]) -> T:
        """Run a check that depends on ``parts`` only, through the memo when there is one."""
        return compute() if self.memo is None else self.memo.run(kind, parts, compute)

    def fetch(self, url: str) -> object:
        """Fetch through the resolver once per run (status lists are shared by endorsements)."""
        cached = self._documents.get(url)
        if cached is None:
            try:
                cached = self.resolver.fetch_document(url)
            except ResolutionError as exc:
                cached = exc
            self._documents[url] = cached
        if isinstance(cached, ResolutionError):
            raise cached
        return cached

    def parse(self, data: object) -> Parsed:
        return parse_input(data, self.fetch)

    def verify_input(self, data: object, known_recipient: str | None) -> VerificationReport:
        try:
            parsed = self.parse(data)
        except ParseFailure as failure:
            return unreadable(failure.code, guess_format(data), failure.params)
        parse_check = make_check("parse", CheckStatus.PASSED, parsed.parse_code)
        if parsed.ob_version == "2.0":
            return ob2.verify_ob2(parsed, parse_check, self, known_recipient)
        return self.verify_credential(parsed, parse_check, known_recipient, depth=0, expect=None)

    def verify_credential(
        self, parsed: Parsed, parse_check: Check, known_recipient: str | None, *, depth: int, expect: str | None
    ) -> VerificationReport:
        """Run every check on an OB 3.0 credential, endorsement (``expect``) or status list."""
        run = Run(self, parsed, known_recipient, depth, expect)
        run.report = VerificationReport(checks=[parse_check], format=parsed.format, ob_version="3.0")
        run.report.credential = run.credential
        _summarise(run)
        for check_id, step in STEPS:
            try:
                check = step(run)
            except RecursionError:
                check = make_check(check_id, CheckStatus.FAILED, "structure_invalid", {"detail": "nested too deeply"})
            except Exception as exc:  # a defect met by unexpected data fails this check, not the caller
                check = make_check(check_id, CheckStatus.FAILED, "check_error", {"detail": type(exc).__name__})
            run.report.checks.append(check)
        run.report.vc_version = run.vc_version
        return run.report


def _summarise(run: Run) -> None:
    """What the report says about the credential before any check: ids, names, dates."""
    credential = run.credential
    report = run.report
    report.credential_id = text_of(credential.get("id"))
    report.credential_name = text_of(credential.get("name"))
    types = string_values(credential.get("type"))
    report.credential_type = next(
        (t for t in types if t in (*OB_TYPES, "EndorsementCredential")), types[-1] if types else None
    )
    report.issuer_id = issuer_id_of(credential)
    issuer = credential.get("issuer")
    if isinstance(issuer, Mapping):
        report.issuer_name = text_of(issuer.get("name"))
    subject = credential.get("credentialSubject")
    if isinstance(subject, Mapping):
        achievement = subject.get("achievement")
        if isinstance(achievement, Mapping):
            report.achievement_id = text_of(achievement.get("id"))
            report.achievement_name = text_of(achievement.get("name"))
    report.valid_from, report.valid_until = run.dates()
