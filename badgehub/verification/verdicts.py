"""Which verdict a verification report earns: one code, decided by rules that know nothing of pages.

:func:`verdict_of` reads a :class:`~badgehub.verification.report.VerificationReport` and names its verdict (one
of :data:`VERDICT_CODES`); the words for each are the presenters' (:mod:`badgehub.presenters.messages`).

**The verdict** is decided in this order, first match wins:

1. ``not_genuine``: the signature does not match, unsigned terms were slipped in, the signed token
   contradicts its content, an OB 2.0 copy differs from the issuer's, or the key belongs to someone
   else than the issuer or is not listed by it. Nothing else the credential says can be believed, so
   this comes first.
2. ``revoked`` / ``suspended``: the issuer's own list says so (also an OB 2.0 assertion gone, 410).
3. ``check_later`` ("could not be checked now"): the issuer's keys could not be fetched; not valid, but
   nothing is known against the badge either.
4. ``unverifiable`` ("could not be checked"): the signature could not be checked (no proof, unknown
   method, key not found, file unreadable).
5. ``expired`` / ``not_yet_valid``.
6. ``recipient_mismatch``: genuine, but not issued to the e-mail address given.
7. ``invalid``: genuine signature, but another check failed (structure, schema, vocabulary…).
8. ``issuer_unconfirmed`` (amber): the signature is intact, but nothing ties its key to the issuer (a key
   only written in the credential of an ``https`` or ``urn:uuid`` issuer). ``report.verified`` is true
   (the 1EdTech conformance reading), ``report.issuer_confirmed`` false: never shown as plain "Valid".
9. ``valid_with_warnings``: verified, with a warning that matters to a reader (revocation list
   unreachable, endorsements not verified…).
10. ``valid``: verified. Purely technical warnings (an older edition of the vocabulary, the JSON
    written in a shorter allowed form, a JWT that does not repeat a claim) are shown in the steps but
    do not change the verdict: they say nothing about whether the badge can be trusted.

So ``valid``, ``valid_with_warnings`` and ``issuer_unconfirmed`` are given exactly when ``report.verified``
is true, and the first two only when the issuer is confirmed too.
"""

from __future__ import annotations

from typing import Final

from badgehub.verification.report import CheckStatus, VerificationReport

NOT_GENUINE_CODES: Final = frozenset(
    {
        "proof_invalid",
        "proof_undefined_terms",
        "undefined_terms",
        "jwt_claims_mismatch",
        "ob2_hosted_mismatch",
        "issuer_key_mismatch",
        "issuer_key_not_listed",
        "key_not_listed",
        "key_compromised",
        "key_compromised_undated",
    }
)
"""Failed codes that mean the credential was altered or signed by someone else than its issuer."""

RETRY_CODES: Final = frozenset({"key_unreachable", "issuer_key_unreachable"})
"""Failed codes that mean "not now": the issuer's keys could not be fetched; nothing is known against the badge."""

UNCHECKABLE_CODES: Final = frozenset({"issuer_key_unavailable"})
"""Failed codes after a sound signature that still leave the badge "could not be checked": whose key it is
cannot be found out."""

TECHNICAL_WARNINGS: Final = frozenset({"context_outdated", "schema_compacted", "jwt_claims_incomplete"})
"""Warnings that say nothing about trust: shown in the steps, but the verdict stays ``valid``."""

VERDICT_CODES: Final = ("valid", "valid_with_warnings", "revoked", "suspended", "expired", "not_yet_valid",
                        "not_genuine", "recipient_mismatch", "invalid", "issuer_unconfirmed", "check_later",
                        "unverifiable")
UNCONFIRMED_VERDICTS: Final = frozenset({"not_genuine", "unverifiable", "check_later", "issuer_unconfirmed"})
"""Verdicts under which the issuer, name and dates are only what the badge claims."""


def verdict_of(report: VerificationReport) -> str:
    """The verdict code of ``report`` (one of :data:`VERDICT_CODES`; see the module docstring for the order)."""
    failed = {check.code for check in report.failed}
    parse = report.check("parse")
    if parse is None or parse.status is CheckStatus.FAILED:
        return "unverifiable"
    if failed & NOT_GENUINE_CODES:
        return "not_genuine"
    if report.revoked:
        return "revoked"
    if report.suspended:
        return "suspended"
    if failed & RETRY_CODES:
        return "check_later"
    proof = report.check("proof")
    if proof is None or proof.status not in (CheckStatus.PASSED, CheckStatus.WARNING) or failed & UNCHECKABLE_CODES:
        return "unverifiable"
    if report.expired:
        return "expired"
    if report.not_yet_valid:
        return "not_yet_valid"
    if "recipient_mismatch" in failed:
        return "recipient_mismatch"
    if failed:
        return "invalid"
    if not report.issuer_confirmed:
        return "issuer_unconfirmed"
    if any(check.code not in TECHNICAL_WARNINGS for check in report.warnings):
        return "valid_with_warnings"
    return "valid"
