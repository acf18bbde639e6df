"""The e-mails of recognition requests, each in its recipient's language: a new request or an answer (to the
organisation's reviewers), a question or a refusal (to the learner). The award itself is the award e-mail of
:mod:`badgehub.mails.awards`.

:func:`queue_outcome` puts them (and the award e-mail, when a step awarded a badge) in the outbox in the caller's
transaction, so they are committed with the decision or not at all; the caller delivers them after the commit
(:func:`badgehub.mails.awards.deliver_notifications`). Links are built from ``BASE_URL``, never from the request's
Host header.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from flask import render_template, url_for
from flask_babel import force_locale, gettext

from badgehub.mail import Mail
from badgehub.mails.awards import queue_notification
from badgehub.outbox.models import OutboxMessage
from badgehub.outbox.service import queue
from badgehub.recognition.service import Notice, Outcome

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


def queue_outcome(outcome: Outcome, config: Mapping[str, Any]) -> list[OutboxMessage]:
    """Queue the e-mails of a step of :mod:`badgehub.recognition.service` in the caller's transaction (flushes):
    its notices, then the award e-mail of its credential if it issued one. Deliver them after the commit with
    :func:`badgehub.mails.awards.deliver_notifications`: a refusing mail server or a busy database leaves them
    queued for the background sender, and the decision is made either way."""
    queued = queue_notices(outcome.notices, config)
    if outcome.credential is not None:
        queued.append(queue_notification(outcome.credential, config))
    return queued
