"""Presenting a verification report to people: one verdict in plain words, then every step explained.

:func:`present` turns a :class:`~badgehub.verification.report.VerificationReport` into a :class:`ReportView` that
templates render (``templates/macros/verdict.html``) and the API serialises (:meth:`ReportView.to_dict`): /verify,
the credential page, the wallet, certificates and ``POST /api/v1/verify`` all show the same thing. The verdict
itself is :func:`badgehub.verification.verdicts.verdict_of`'s; its words are :mod:`badgehub.presenters.messages`'.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final
from urllib.parse import urlsplit

from flask_babel import format_date, gettext

from badgehub.credentials.documents import parse_timestamp
from badgehub.credentials.values import SELF_DECLARED_TYPE
from badgehub.presenters.messages import (
    FORMAT_LABELS,
    STATUS_ICONS,
    STATUS_LABELS,
    STATUS_TONES,
    STEP_TITLES,
    VERDICTS,
    check_message,
    shorten,
)
from badgehub.verification.report import CheckStatus, VerificationReport
from badgehub.verification.verdicts import TECHNICAL_WARNINGS, UNCONFIRMED_VERDICTS, verdict_of


@dataclass(frozen=True)
class StepView:
    """One check as shown to people: its title, status label and icon, the explanation, and details."""

    id: str
    status: str
    code: str
    title: str
    status_label: str
    icon: str
    tone: str
    message: str
    details: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"id": self.id, "status": self.status, "code": self.code, "message": self.message}
        if self.details:
            data["details"] = list(self.details)
        return data


@dataclass(frozen=True)
class Link:
    text: str
    url: str | None  # only http(s) addresses become links


@dataclass(frozen=True)
class EvidenceView:
    name: str | None
    description: str | None
    url: str | None


@dataclass(frozen=True)
class EndorsementView:
    name: str
    verified: bool
    verdict_title: str
    tone: str


@dataclass(frozen=True)
class ReportView:
    """Everything a page needs to show a verification result, already decided and translated."""

    verdict: str
    title: str
    summary: str
    tone: str
    icon: str
    verified: bool
    steps: tuple[StepView, ...]
    notes: tuple[str, ...]
    credential_name: str | None = None
    issuer: Link | None = None
    issuer_description: str | None = None
    achievement_name: str | None = None
    achievement_description: str | None = None
    achievement_type: str | None = None
    achievement_image: str | None = None  # a data: URI (our CSP allows nothing else from a credential)
    criteria: str | None = None
    criteria_url: str | None = None
    alignments: tuple[Link, ...] = ()
    evidence: tuple[EvidenceView, ...] = ()
    issued_on: str | None = None
    valid_from: str | None = None
    valid_until: str | None = None
    format_label: str | None = None
    endorsements: tuple[EndorsementView, ...] = field(default_factory=tuple)
    report: VerificationReport | None = field(default=None, compare=False, repr=False)

    @property
    def genuine(self) -> bool:
        """Whether the signature was confirmed, so that what the badge says about itself can be believed."""
        return self.verdict not in UNCONFIRMED_VERDICTS

    @property
    def self_declared(self) -> bool:
        """Whether the badge says it was declared by its holder and recorded without assessment (its achievement
        type is BadgeHub's ``ext:SelfDeclared``)."""
        return self.achievement_type == SELF_DECLARED_TYPE

    @property
    def has_description(self) -> bool:
        return bool(self.achievement_name or self.achievement_description or self.criteria or self.criteria_url)

    def to_dict(self) -> dict[str, Any]:
        """The JSON of the API: the report's own fields, the checks with translated messages, the verdict."""
        data: dict[str, Any] = self.report.to_dict() if self.report is not None else {"verified": self.verified}
        data["verified"] = self.verified
        data["issuer_confirmed"] = self.report.issuer_confirmed if self.report is not None else False
        data["verdict"] = self.verdict
        data["verdict_title"] = self.title
        data["verdict_summary"] = self.summary
        data["self_declared"] = self.self_declared
        data["notes"] = list(self.notes)
        data["checks"] = [step.to_dict() for step in self.steps]
        return data


def shown_text(value: object, limit: int = 2000) -> str | None:
    """A text from a document, trimmed and cut at ``limit`` characters; None when it is not a non-empty text."""
    if not isinstance(value, str):
        return None
    stripped = value.strip()
    return shorten(stripped, limit) if stripped else None


def safe_web_url(value: object) -> str | None:
    """``value`` when it is an absolute http(s) address (never ``javascript:`` or ``data:``), else None."""
    if not isinstance(value, str) or len(value) > 2000:
        return None
    try:
        parts = urlsplit(value.strip())
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return None
    return value.strip()


_IMAGE_DATA = re.compile(r"data:image/(png|jpeg|gif|webp|svg\+xml);base64,[A-Za-z0-9+/=\s]+")
MAX_IMAGE_CHARS: Final = 512 * 1024


def _data_image(value: object) -> str | None:
    """An embedded image (``data:`` URI), the only kind shown: a remote image would tell its owner
    who looks at the badge, and the page's CSP allows images from our own origin or ``data:`` only."""
    if isinstance(value, Mapping):
        value = value.get("id")
    if isinstance(value, str) and len(value) <= MAX_IMAGE_CHARS and _IMAGE_DATA.fullmatch(value):
        return value
    return None


def _show_date(value: str | None) -> str | None:
    moment = parse_timestamp(value)
    if moment is None:
        return shown_text(value, 64)
    return str(format_date(moment, "long"))


def _steps(report: VerificationReport) -> tuple[StepView, ...]:
    steps = []
    for check in report.checks:
        steps.append(
            StepView(
                id=check.id,
                status=check.status.value,
                code=check.code,
                title=str(STEP_TITLES.get(check.id, check.id)),
                status_label=str(STATUS_LABELS[check.status]),
                icon=STATUS_ICONS[check.status],
                tone=STATUS_TONES[check.status],
                message=check_message(check.code, check.params),
                details=tuple(shorten(detail, 500) for detail in check.details[:10]),
            )
        )
    return tuple(steps)


def _ob3_parts(credential: Mapping[str, Any]) -> dict[str, Any]:
    parts: dict[str, Any] = {}
    subject = credential.get("credentialSubject")
    achievement = subject.get("achievement") if isinstance(subject, Mapping) else None
    issuer = credential.get("issuer")
    if isinstance(issuer, Mapping):
        parts["issuer_url"] = safe_web_url(issuer.get("url")) or safe_web_url(issuer.get("id"))
        parts["issuer_description"] = shown_text(issuer.get("description"), 2000)
    elif isinstance(issuer, str):
        parts["issuer_url"] = safe_web_url(issuer)
    if isinstance(achievement, Mapping):
        parts["achievement_description"] = shown_text(achievement.get("description"), 5000)
        parts["achievement_type"] = shown_text(achievement.get("achievementType"), 100)
        parts["achievement_image"] = _data_image(achievement.get("image"))
        criteria = achievement.get("criteria")
        if isinstance(criteria, Mapping):
            parts["criteria"] = shown_text(criteria.get("narrative"), 10000)
            parts["criteria_url"] = safe_web_url(criteria.get("id"))
        alignments = achievement.get("alignment")
        links = []
        for alignment in alignments if isinstance(alignments, list) else []:
            target = shown_text(alignment.get("targetName"), 300) if isinstance(alignment, Mapping) else None
            if target:
                links.append(Link(target, safe_web_url(alignment.get("targetUrl"))))
        parts["alignments"] = tuple(links[:30])
    evidence = credential.get("evidence")
    items = []
    for item in evidence if isinstance(evidence, list) else []:
        if not isinstance(item, Mapping):
            continue
        view = EvidenceView(
            shown_text(item.get("name"), 300),
            shown_text(item.get("narrative"), 5000) or shown_text(item.get("description"), 5000),
            safe_web_url(item.get("id")),
        )
        if view.name or view.description or view.url:
            items.append(view)
    parts["evidence"] = tuple(items[:20])
    parts["issued_on"] = _show_date(shown_text(credential.get("awardedDate"), 64))
    return parts


def _ob2_parts(assertion: Mapping[str, Any]) -> dict[str, Any]:
    parts: dict[str, Any] = {}
    badge = assertion.get("badge")
    if isinstance(badge, Mapping):
        parts["achievement_description"] = shown_text(badge.get("description"), 5000)
        parts["achievement_image"] = _data_image(badge.get("image"))
        criteria = badge.get("criteria")
        if isinstance(criteria, Mapping):
            parts["criteria"] = shown_text(criteria.get("narrative"), 10000)
            parts["criteria_url"] = safe_web_url(criteria.get("id"))
        else:
            parts["criteria_url"] = safe_web_url(criteria)
        issuer = badge.get("issuer")
        if isinstance(issuer, Mapping):
            parts["issuer_url"] = safe_web_url(issuer.get("url")) or safe_web_url(issuer.get("id"))
            parts["issuer_description"] = shown_text(issuer.get("description"), 2000)
    evidence = assertion.get("evidence")
    items = [evidence] if isinstance(evidence, Mapping | str) else evidence if isinstance(evidence, list) else []
    views = []
    for item in items:
        if isinstance(item, str):
            views.append(EvidenceView(None, None, safe_web_url(item)))
        elif isinstance(item, Mapping):
            views.append(EvidenceView(shown_text(item.get("name"), 300), shown_text(item.get("narrative"), 5000),
                                      safe_web_url(item.get("id"))))
    parts["evidence"] = tuple(view for view in views[:20] if view.name or view.description or view.url)
    return parts


def _format_label(report: VerificationReport) -> str | None:
    if report.format is None:
        return None
    carrier = str(FORMAT_LABELS.get(report.format, report.format))
    if report.ob_version:
        return str(gettext("Open Badges %(version)s, %(carrier)s", version=report.ob_version, carrier=carrier))
    return carrier


def present(report: VerificationReport, *, endorsement_depth: int = 1) -> ReportView:
    """The view-model of ``report``, in the current request's language (needs an app context).

    ``endorsement_depth`` limits how deep endorsements are summarised (their own reports are full).
    """
    code = verdict_of(report)
    text = VERDICTS[code]
    credential = report.credential or {}
    parts = _ob2_parts(credential) if report.ob_version == "2.0" else _ob3_parts(credential)
    notes = tuple(
        check_message(check.code, check.params)
        for check in report.checks
        if (check.status is CheckStatus.WARNING and check.code not in TECHNICAL_WARNINGS)
        or (check.status is CheckStatus.FAILED and code not in ("valid", "valid_with_warnings"))
    )
    issuer_name = shown_text(report.issuer_name, 300) or shown_text(report.issuer_id, 300)
    endorsements = []
    if endorsement_depth > 0:
        for endorsement in report.endorsements:
            sub_code = verdict_of(endorsement)
            name = (shown_text(endorsement.issuer_name, 300) or shown_text(endorsement.credential_name, 300)
                    or shown_text(endorsement.issuer_id, 300) or gettext("Unknown endorser"))
            endorsements.append(EndorsementView(name, endorsement.verified, str(VERDICTS[sub_code].title),
                                                VERDICTS[sub_code].tone))
    return ReportView(
        verdict=code,
        title=str(text.title),
        summary=str(text.summary),
        tone=text.tone,
        icon=text.icon,
        verified=report.verified,
        steps=_steps(report),
        notes=notes,
        credential_name=shown_text(report.credential_name, 300),
        issuer=Link(issuer_name, parts.get("issuer_url")) if issuer_name else None,
        issuer_description=parts.get("issuer_description"),
        achievement_name=shown_text(report.achievement_name, 300),
        achievement_description=parts.get("achievement_description"),
        achievement_type=parts.get("achievement_type"),
        achievement_image=parts.get("achievement_image"),
        criteria=parts.get("criteria"),
        criteria_url=parts.get("criteria_url"),
        alignments=parts.get("alignments", ()),
        evidence=parts.get("evidence", ()),
        issued_on=parts.get("issued_on"),
        valid_from=_show_date(report.valid_from),
        valid_until=_show_date(report.valid_until),
        format_label=_format_label(report),
        endorsements=tuple(endorsements),
        report=report,
    )
