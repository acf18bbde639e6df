"""The e-mails of recognition requests, each in its recipient's language: a new request or an answer (to the
organisation's reviewers), a question or a refusal (to the learner). The award itself is the award e-mail of
:mod:`badgehub.mails.awards`.

:func:`queue_outcome` puts them (and the award e-mail, when a step awarded a badge) in the outbox in the caller's
transaction, so they are committed with the decision or not at all; :func:`deliver_queued` sends them after the
commit. Links are built from ``BASE_URL``, never
from the request's Host header.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from flask import render_template, url_for
from flask_babel import force_locale, gettext
from sqlalchemy.exc import DBAPIError

from badgehub.extensions import db
from badgehub.mail import Mail, MailError
from badgehub.mails.awards import deliver_notification, queue_notification
from badgehub.outbox.models import OutboxMessage
from badgehub.outbox.sender import deliver
from badgehub.outbox.service import queue
from badgehub.recognition.service import Notice, Outcome

log = logging.getLogger(__name__)

_TO_REVIEWERS = ("new", "answered")


def _link(notice: Notice, config: Mapping[str, Any]) -> str:
    if notice.kind in _TO_REVIEWERS:
        path = url_for("recognition_review.review", slug=notice.organisation_slug, public_id=notice.request_id)
    else:
        path = url_for("recognition.detail", public_id=notice.request_id)
    return str(config["BASE_URL"]).rstrip("/") + path


def notice_mail(notice: Notice, config: Mapping[str, Any]) -> Mail:
    """The e-mail of one :class:`~badgehub.recognition.service.Notice`, in ``notice.locale``."""
    with force_locale(notice.locale):
        subjects = {
            "new": gettext("New recognition request: %(title)s", title=notice.title),
            "answered": gettext("A learner answered about “%(title)s”", title=notice.title),
            "more_asked": gettext("%(organisation)s asks for more about your request “%(title)s”",
                                  organisation=notice.organisation, title=notice.title),
            "declined": gettext("%(organisation)s answered your request “%(title)s”",
                                organisation=notice.organisation, title=notice.title),
        }
        text = render_template(f"email/recognition_{notice.kind}.txt", notice=notice, link=_link(notice, config),
                               site_name=gettext("BadgeHub"))
        return Mail(to=notice.to, subject=subjects[notice.kind], text=text)


def queue_notices(notices: Sequence[Notice], config: Mapping[str, Any]) -> list[OutboxMessage]:
    """Queue the e-mails of ``notices`` in the outbox, in the caller's transaction (flushes)."""
    return [queue(notice_mail(notice, config), config=config, ref=f"recognition:{notice.request_id}")
            for notice in notices]


def deliver_notices(messages: Sequence[OutboxMessage], config: Mapping[str, Any]) -> None:
    """Send queued messages now (after the commit). A refusing mail server or a busy database leaves them queued
    for the background sender, which tries again: the decision is made either way."""
    for message in messages:
        try:
            deliver(message, config=config)
        except MailError:
            log.warning("a recognition e-mail is queued; the background sender will try again")
        except DBAPIError:
            db.session.rollback()
            log.warning("a recognition e-mail is queued; the background sender will deliver it")


@dataclass(frozen=True)
class Queued:
    """The messages one step queued: its notices, and the award e-mail when it awarded a badge."""

    notices: list[OutboxMessage]
    award: OutboxMessage | None


def queue_outcome(outcome: Outcome, config: Mapping[str, Any]) -> Queued:
    """Queue the e-mails of a step of :mod:`badgehub.recognition.service` in the caller's transaction (flushes):
    its notices, and the award e-mail of its credential if it issued one."""
    award = queue_notification(outcome.credential, config) if outcome.credential is not None else None
    return Queued(queue_notices(outcome.notices, config), award)


def deliver_queued(queued: Queued, config: Mapping[str, Any]) -> None:
    """Send what :func:`queue_outcome` queued, after the commit; what cannot leave now stays queued."""
    deliver_notices(queued.notices, config)
    if queued.award is not None:
        try:
            deliver_notification(queued.award, config)
        except MailError:
            log.warning("the award e-mail of a recognition request is queued; the background sender will retry")
