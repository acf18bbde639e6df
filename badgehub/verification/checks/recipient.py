"""The ``recipient`` check: does the credential name the e-mail address the verifier was given (as the
subject's ``mailto:`` id, or a plain or hashed identifier)?"""

from __future__ import annotations

from collections.abc import Mapping

from badgehub.fields import email_key
from badgehub.verification.recipient import email_identifiers, email_matches
from badgehub.verification.report import Check, CheckStatus, make_check
from badgehub.verification.run import Run


def check_recipient(run: Run) -> Check:
    if run.kind != "ob":
        return make_check("recipient", CheckStatus.SKIPPED, "not_applicable")
    known = run.known_recipient
    if known is None or not known.strip():
        return make_check("recipient", CheckStatus.SKIPPED, "recipient_not_requested")
    subject = run.credential.get("credentialSubject")
    if not isinstance(subject, Mapping):
        return make_check("recipient", CheckStatus.WARNING, "recipient_unknown_form")
    if subject.get("id") in (known.strip(), f"mailto:{email_key(known)}"):
        return make_check("recipient", CheckStatus.PASSED, "recipient_match")
    emails = email_identifiers(subject)
    if not emails:
        return make_check("recipient", CheckStatus.WARNING, "recipient_unknown_form")
    if any(email_matches(identifier, known) for identifier in emails):
        return make_check("recipient", CheckStatus.PASSED, "recipient_match")
    return make_check("recipient", CheckStatus.FAILED, "recipient_mismatch")
