"""The words of a verification: a message per check code, the verdicts' titles and summaries, step titles, and
why a submission could not be checked at all, each in the current language (needs an app context).

Every check code of :data:`~badgehub.verification.report.MESSAGES` has a translatable message here
(:data:`CHECK_MESSAGES`) with the same parameters written ``%(name)s``. Parameters come from the credential, so
they are shortened and always rendered as text (templates escape them).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final

from flask_babel import format_datetime
from flask_babel import lazy_gettext as _l

from badgehub.verification.report import CheckStatus

CHECK_MESSAGES: Final[Mapping[str, Any]] = {
    # parse
    "parsed_json": _l("The file was read as a credential in JSON format."),
    "parsed_jwt": _l("The file was read as a credential in signed-token (JWT) format."),
    "parsed_png": _l("A credential was found inside the PNG image."),
    "parsed_svg": _l("A credential was found inside the SVG image."),
    "parsed_ob2": _l("The file was read as an Open Badges 2.0 badge."),
    "empty_input": _l("Nothing was given to check."),
    "input_too_large": _l("The file is too large to be checked."),
    "not_utf8": _l("The file is not readable text and not a badge image."),
    "unknown_format": _l("This is not a format that can hold a badge (JSON, JWT, PNG or SVG)."),
    "invalid_json": _l("The file looks like JSON but is damaged, so it cannot be read."),
    "not_an_object": _l("The file does not contain a credential."),
    "invalid_jwt": _l("The signed token (JWT) is damaged and cannot be read."),
    "image_unreadable": _l("The image is damaged or unsafe, so no badge could be read from it (%(detail)s)."),
    "image_without_badge": _l("The image does not contain a badge."),
    "baked_url_unreachable": _l("The image points to a badge on the web (%(url)s), which could not be fetched."),
    "url_unreachable": _l("No badge could be fetched from this address (%(url)s)."),
    # context
    "context_ok": _l("The credential declares the expected Open Badges 3.0 vocabulary."),
    "context_ob2": _l("The badge declares the Open Badges 2.0 vocabulary."),
    "context_missing": _l("The credential does not declare its vocabulary (@context), so its meaning is unclear."),
    "context_not_vc": _l("The credential does not start with the Verifiable Credentials vocabulary."),
    "context_ob_missing": _l("The credential does not declare the Open Badges vocabulary."),
    "context_outdated": _l("The credential uses an older edition of the standard (%(detail)s). It can still be "
                           "checked."),
    "context_not_allowed": _l("The credential uses a vocabulary that is not known here (%(detail)s), so it cannot "
                              "be trusted."),
    "undefined_terms": _l("The credential contains information that its declared vocabulary does not define "
                          "(%(detail)s). Such information is not protected by the signature, so the credential is "
                          "refused."),
    "undefined_terms_jwt": _l("The credential contains information that its declared vocabulary does not define "
                              "(%(detail)s). The signed token still protects it."),
    "jwt_context_mismatch": _l("The signed token stores the credential in a way that does not match its version."),
    "jsonld_error": _l("The credential's vocabulary could not be processed (%(detail)s)."),
    # type
    "type_ok": _l("The document is an %(kind)s."),
    "type_invalid": _l("The document is not an Open Badge credential."),
    "type_endorsement_expected": _l("An endorsement was expected here, but this document is not an endorsement."),
    # structure
    "structure_ok": _l("All required information is present."),
    "structure_invalid": _l("Required information is missing or wrong: %(detail)s."),
    # schema
    "schema_ok": _l("The credential follows the official Open Badges 3.0 data format."),
    "schema_compacted": _l("The credential follows the official data format, written in a shorter form that is "
                           "also allowed (%(detail)s)."),
    "schema_invalid": _l("The credential does not follow the official Open Badges 3.0 data format: %(detail)s."),
    "schema_unavailable": _l("The official data format description is not available, so this check was not "
                             "made."),
    "schema_not_applicable": _l("This check applies to Open Badges 3.0 credentials in the current format only."),
    # proof
    "proof_ok": _l("The digital signature is valid: the credential has not been changed since it was issued."),
    "proof_missing": _l("The credential has no digital signature."),
    "proof_invalid": _l("The digital signature does not match: the credential was changed after it was issued, "
                        "or was not signed by this key."),
    "proof_unsupported": _l("The credential is signed with a method that cannot be checked here (%(detail)s)."),
    "proof_malformed": _l("The digital signature is damaged (%(detail)s)."),
    "key_unresolved": _l("The key needed to check the signature could not be found (%(detail)s)."),
    "key_unreachable": _l("The key needed to check the signature could not be fetched now (%(detail)s). Nothing "
                          "is known against this badge yet: try again later."),
    "key_not_listed": _l("The signing key is not one the issuer publishes for issuing credentials (%(detail)s), "
                         "so the signature was not made by the issuer."),
    "key_compromised": _l("The key that made this signature was declared compromised on %(date)s, and the "
                          "signature is dated %(detail)s, at or after that moment, so it cannot be trusted."),
    "key_compromised_undated": _l("The key that made this signature was declared compromised on %(date)s, and "
                                  "the signature carries no date that shows it was made before, so it cannot be "
                                  "trusted."),
    "signed_before_compromise": _l("The digital signature is valid and dated %(detail)s, before its key was "
                                   "declared compromised on %(date)s. It is accepted, but whoever took the key "
                                   "could also date a signature in the past: the issuer's revocation list is what "
                                   "can still withdraw it."),
    "jwt_claims_mismatch": _l("The signed token does not agree with the credential inside it: %(detail)s."),
    "jwt_claims_incomplete": _l("The digital signature is valid, but the signed token leaves out information it "
                                "should repeat (%(detail)s). The credential inside it is fully protected by the "
                                "signature."),
    "proof_undefined_terms": _l("The digital signature cannot be trusted because the credential contains "
                                "information outside its declared vocabulary (%(detail)s)."),
    "ob2_hosted_ok": _l("The badge matches the copy published by its issuer."),
    "ob2_hosted_mismatch": _l("The badge differs from the copy published by its issuer."),
    "ob2_hosted_unreachable": _l("The issuer's published copy of this badge could not be fetched (%(detail)s)."),
    "ob2_signed_ok": _l("The badge's digital signature is valid."),
    "ob2_key_unavailable": _l("The issuer's key for this badge could not be fetched (%(detail)s)."),
    "ob2_verification_unknown": _l("The badge does not say how it can be checked."),
    "ob2_signed_form_missing": _l("This badge is signed, but its signed form was not given, so the signature "
                                  "could not be checked."),
    # issuer_key
    "issuer_key_ok": _l("The signing key belongs to the issuer."),
    "issuer_key_mismatch": _l("The signing key belongs to %(controller)s, not to the issuer %(issuer)s."),
    "issuer_key_unconfirmed": _l("Nothing confirms that the issuer made this signature: the signing key is only "
                                 "written in the credential itself, or the issuer publishes no list of its keys."),
    "issuer_key_unreachable": _l("The issuer's list of keys could not be fetched now (%(detail)s), so it is not "
                                 "known yet whether the issuer made this signature: try again later."),
    "issuer_key_unavailable": _l("The issuer's list of keys cannot be fetched (%(detail)s), so nothing confirms "
                                 "that the issuer made this signature."),
    "issuer_key_not_listed": _l("The issuer %(issuer)s does not list the signing key among the keys it issues "
                                "credentials with, so the signature was not made by the issuer."),
    "issuer_key_not_checked": _l("The signature could not be confirmed, so the signing key was not checked."),
    # status
    "status_ok": _l("The issuer has not revoked this credential."),
    "status_none": _l("The credential has no revocation information."),
    "revoked": _l("The issuer has revoked this credential."),
    "suspended": _l("The issuer has suspended this credential."),
    "status_unreachable": _l("The issuer's revocation list could not be fetched (%(detail)s), so it is not known "
                             "whether the credential was revoked."),
    "status_list_invalid": _l("The issuer's revocation list could not be used: %(detail)s."),
    "status_list_unverified": _l("The issuer's revocation list is not genuine: %(detail)s."),
    "status_list_too_short": _l("The issuer's revocation list is too short to be valid: it must hold at least "
                                "131,072 entries."),
    "status_index_invalid": _l("The credential's position in the revocation list is invalid."),
    "status_purpose_mismatch": _l("The revocation list does not serve the purpose the credential names."),
    "status_type_unknown": _l("The credential uses a kind of revocation information that cannot be checked here "
                              "(%(detail)s)."),
    "status_list_foreign": _l("The revocation list was published by someone else than the issuer."),
    "status_list_expired": _l("The issuer's revocation list is out of date."),
    "status_entry_invalid": _l("The credential's revocation information is incomplete."),
    # validity
    "validity_ok": _l("The credential is within its validity period."),
    "not_yet_valid": _l("The credential is not valid yet: it becomes valid on %(date)s."),
    "expired": _l("The credential expired on %(date)s."),
    "validity_unknown": _l("The credential's dates could not be read."),
    # recipient
    "recipient_not_requested": _l("No e-mail address was given, so the recipient was not checked."),
    "recipient_match": _l("The credential was issued to the given e-mail address."),
    "recipient_mismatch": _l("The credential was not issued to the given e-mail address."),
    "recipient_unknown_form": _l("The credential does not name its recipient by e-mail address, so the address "
                                 "could not be checked."),
    # endorsements
    "no_endorsements": _l("The credential carries no endorsements."),
    "endorsements_ok": _l("All %(count)s endorsement(s) are valid."),
    "endorsements_unverified": _l("%(failed)s of %(count)s endorsement(s) could not be verified."),
    "endorsements_too_deep": _l("Endorsements are nested too deeply; the deepest ones were not checked."),
    "endorsement_cycle": _l("This endorsement repeats the document it is in, or another endorsement: it was refused."),
    # generic
    "check_error": _l("This check could not be completed because the badge contains unexpected data (%(detail)s)."),
    "not_run": _l("This check was not made because the credential could not be read."),
    "not_applicable": _l("This check does not apply to this kind of badge."),
}

# The pipeline's ``kind`` parameter of ``type_ok``, in words.
KIND_LABELS: Final[Mapping[str, Any]] = {
    "Open Badge credential": _l("Open Badge credential"),
    "endorsement": _l("endorsement"),
    "status list": _l("status list"),
}

STEP_TITLES: Final[Mapping[str, Any]] = {
    "parse": _l("Reading the badge"),
    "context": _l("Vocabulary"),
    "type": _l("Kind of document"),
    "structure": _l("Required information"),
    "schema": _l("Official data format"),
    "proof": _l("Digital signature"),
    "issuer_key": _l("Issuer's key"),
    "status": _l("Revocation"),
    "validity": _l("Validity dates"),
    "recipient": _l("Recipient"),
    "endorsements": _l("Endorsements"),
}

STATUS_LABELS: Final[Mapping[CheckStatus, Any]] = {
    CheckStatus.PASSED: _l("Passed"),
    CheckStatus.FAILED: _l("Failed"),
    CheckStatus.WARNING: _l("Warning"),
    CheckStatus.SKIPPED: _l("Not checked"),
}
# The text always says the status too: the icon and the colour only repeat it.
STATUS_ICONS: Final[Mapping[CheckStatus, str]] = {
    CheckStatus.PASSED: "✓",
    CheckStatus.FAILED: "✗",
    CheckStatus.WARNING: "!",
    CheckStatus.SKIPPED: "–",
}
STATUS_TONES: Final[Mapping[CheckStatus, str]] = {
    CheckStatus.PASSED: "ok",
    CheckStatus.FAILED: "bad",
    CheckStatus.WARNING: "warn",
    CheckStatus.SKIPPED: "neutral",
}

FORMAT_LABELS: Final[Mapping[str, Any]] = {
    "json": _l("JSON file"),
    "jwt": _l("signed token (JWT)"),
    "png": _l("PNG image"),
    "svg": _l("SVG image"),
}


@dataclass(frozen=True)
class VerdictText:
    title: Any
    summary: Any
    tone: str  # ok / warn / bad / neutral: the CSS class verdict-<tone>
    icon: str


VERDICTS: Final[Mapping[str, VerdictText]] = {
    "valid": VerdictText(
        _l("Valid"),
        _l("This badge is genuine: its digital signature is valid and every check passed."),
        "ok",
        "✓",
    ),
    "valid_with_warnings": VerdictText(
        _l("Valid, with points to note"),
        _l("This badge is genuine: its digital signature is valid. Some things could not be confirmed; they are "
           "listed below."),
        "warn",
        "✓",
    ),
    "revoked": VerdictText(
        _l("Revoked"),
        _l("The issuer has withdrawn this badge. It is no longer valid."),
        "bad",
        "✗",
    ),
    "suspended": VerdictText(
        _l("Suspended"),
        _l("The issuer has suspended this badge. It is not valid while it is suspended."),
        "bad",
        "✗",
    ),
    "expired": VerdictText(
        _l("Expired"),
        _l("This badge was issued for a limited time, which is over. It is no longer valid."),
        "bad",
        "✗",
    ),
    "not_yet_valid": VerdictText(
        _l("Not yet valid"),
        _l("This badge only becomes valid at a later date."),
        "warn",
        "!",
    ),
    "not_genuine": VerdictText(
        _l("Not genuine"),
        _l("This badge was changed after it was issued, or was not signed by its issuer. Do not rely on it."),
        "bad",
        "✗",
    ),
    "recipient_mismatch": VerdictText(
        _l("Not issued to this person"),
        _l("This badge is genuine, but it was not issued to the e-mail address you gave."),
        "bad",
        "✗",
    ),
    "invalid": VerdictText(
        _l("Not valid"),
        _l("This badge does not meet the Open Badges rules, so it cannot be accepted. The failed steps below say "
           "why."),
        "bad",
        "✗",
    ),
    "issuer_unconfirmed": VerdictText(
        _l("Signature intact, but nothing confirms that this issuer made it"),
        _l("The badge has not been changed since it was signed, but the key that signed it is only written in the "
           "badge itself: anyone could have made it in this issuer's name. Ask the issuer before relying on it."),
        "warn",
        "!",
    ),
    "check_later": VerdictText(
        _l("Could not be checked now"),
        _l("The issuer's keys could not be reached, so this badge cannot be confirmed at the moment. It is not "
           "valid until it is confirmed: try again later."),
        "neutral",
        "?",
    ),
    "unverifiable": VerdictText(
        _l("Could not be checked"),
        _l("This badge could not be fully checked, so it cannot be trusted yet. The steps below say why."),
        "neutral",
        "?",
    ),
}


MAX_PARAM_LENGTH: Final = 300
_PIPELINE_DATE = re.compile(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2} UTC")


class _Params(dict[str, str]):
    """Parameters for ``%``-formatting: a missing one shows as an ellipsis instead of failing."""

    def __missing__(self, key: str) -> str:
        return "…"


def shorten(value: object, limit: int = MAX_PARAM_LENGTH) -> str:
    text = str(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _param_text(name: str, value: object) -> str:
    if name in ("date", "detail") and isinstance(value, str) and _PIPELINE_DATE.fullmatch(value):
        moment = datetime.strptime(value, "%Y-%m-%d %H:%M UTC").replace(tzinfo=UTC)
        return str(format_datetime(moment, "long"))
    if name == "kind" and isinstance(value, str) and value in KIND_LABELS:
        return str(KIND_LABELS[value])
    return shorten(value)


def check_message(code: str, params: Mapping[str, Any] | None = None) -> str:
    """The message of check ``code`` in the current language, filled with ``params`` (shortened, as text).

    An unknown code (a newer pipeline) falls back to the code itself rather than failing.
    """
    template = CHECK_MESSAGES.get(code)
    if template is None:
        return code
    values = _Params({name: _param_text(name, value) for name, value in (params or {}).items() if value is not None})
    text = str(template)
    try:
        return text % values
    except (ValueError, TypeError):  # a translation with a stray "%": show it unfilled rather than fail
        return text


SUBMISSION_MESSAGES: Final[Mapping[str, Any]] = {
    "empty_input": _l("Give a badge to check: upload its file, paste its text, or give its address."),
    "too_many_inputs": _l("Give one badge at a time: a file, a text or an address, not several."),
    "too_large": _l("This is too large to be a badge: at most %(megabytes)s MB can be checked."),
    "unsupported_type": _l("This file cannot hold a badge. Upload a JSON, JWT, PNG or SVG file."),
    "unsupported_media_type": _l("Send the badge as JSON, as a JWT in text/plain, as a PNG or SVG image, or as "
                                 "a multipart form."),
    "invalid_email": _l("This is not an e-mail address. Leave the field empty to skip this check."),
    "url_refused": _l("This address cannot be checked: %(reason)s"),
    "url_unreachable": _l("No badge could be fetched from this address: %(reason)s"),
}

FETCH_REASONS: Final[Mapping[str, Any]] = {
    "address_not_allowed": _l("it leads to a private or local network, which is never contacted."),
    "scheme_not_allowed": _l("only secure addresses (starting with https://) are fetched."),
    "port_not_allowed": _l("it uses a port that is not allowed."),
    "invalid_url": _l("it is not a valid web address."),
    "dns_failed": _l("this site could not be found."),
    "connect_failed": _l("the site could not be reached."),
    "tls_failed": _l("the site's secure connection could not be verified."),
    "timeout": _l("the site took too long to answer."),
    "too_large": _l("the document it returned is too large."),
    "too_many_redirects": _l("the site sends visitors on to other addresses too many times."),
    "http_error": _l("the site answered with an error (HTTP %(http_status)s)."),
    "protocol_error": _l("the site sent a broken answer."),
    "not_a_badge": _l("what it returned is not a badge."),
}


def submission_message(code: str, params: Mapping[str, Any] | None = None) -> str:
    """Why a submission could not be checked, in the current language: a code of
    :data:`SUBMISSION_MESSAGES`, or a ``parse`` code of the pipeline (see :data:`CHECK_MESSAGES`)."""
    values = dict(params or {})
    if code in SUBMISSION_MESSAGES:
        template = str(SUBMISSION_MESSAGES[code])
        reason_code = values.get("reason")
        reason = FETCH_REASONS.get(reason_code, FETCH_REASONS["connect_failed"]) if reason_code else ""
        filled = _Params(
            {
                "reason": str(reason) % _Params({"http_status": shorten(values.get("http_status") or "?")}),
                "megabytes": str(max(1, int(values.get("limit") or 0) // (1024 * 1024))),
            }
        )
        try:
            return template % filled
        except (ValueError, TypeError):
            return template
    return check_message(code, values)
