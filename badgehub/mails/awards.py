"""The award e-mail: an :class:`~badgehub.issuing.notify.AwardNotice` worded in the recipient's language.

:func:`award_mail` renders one; :func:`queue_notification`, :func:`deliver_notification` and
:func:`notify_recipient` put it in the outbox (in the caller's transaction, or in one of their own after the
award's commit) and send it.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

from flask import render_template
from flask_babel import force_locale, gettext
from sqlalchemy import inspect
from sqlalchemy.exc import DBAPIError

from badgehub.db import run_with_retry, writing
from badgehub.extensions import db
from badgehub.issuing import parallel
from badgehub.issuing.models import IssuedCredential
from badgehub.issuing.notify import AwardNotice, award_notice, award_notices, notice_ref
from badgehub.mail import Attachment, Mail
from badgehub.outbox.models import OutboxMessage
from badgehub.outbox.sender import deliver, deliver_many
from badgehub.outbox.service import queue, queue_all

log = logging.getLogger(__name__)


def award_mail(notice: AwardNotice) -> Mail:
    """The e-mail announcing a credential to its recipient, with the baked image and the wallet-app QR code
    attached, in ``notice.locale``."""
    with force_locale(notice.locale):
        subject = gettext("%(organisation)s awarded you the badge “%(badge)s”", organisation=notice.organisation,
                          badge=notice.badge)
        context = {
            "name": notice.name, "organisation": notice.organisation, "badge": notice.badge,
            "description": notice.description, "valid_until": notice.valid_until, "link": notice.link,
            "json_link": notice.json_link, "keep_link": notice.keep_link, "email": notice.to,
            "filename": notice.filename, "site_name": gettext("BadgeHub"), "subject": subject,
            "lang": notice.locale, "image_url": notice.image_url, "wallet_offer": notice.wallet_offer,
            "wallet_offer_qr": notice.wallet_offer_qr_filename, "wallet_offer_days": notice.wallet_offer_days,
        }
        text = render_template("email/issuing_awarded.txt", **context)
        html = render_template("email/issuing_awarded.html", **context)
    maintype, _, subtype = notice.baked.media_type.partition("/")
    attachment = Attachment(filename=notice.filename, content=notice.baked.data, maintype=maintype, subtype=subtype)
    offer_attachment = Attachment(filename=notice.wallet_offer_qr_filename, content=notice.wallet_offer_qr,
                                  maintype="image", subtype="png")
    return Mail(to=notice.to, subject=subject, text=text, html=html, attachments=(attachment, offer_attachment))


def recipient_mail(credential: IssuedCredential, config: Mapping[str, Any]) -> Mail:
    """The e-mail announcing ``credential`` to its recipient."""
    return award_mail(award_notice(credential, config))


def queue_notification(credential: IssuedCredential, config: Mapping[str, Any]) -> OutboxMessage:
    """Queue the e-mail about ``credential`` in the outbox, in the transaction that issues it (flushes): both are
    committed together or not at all. Deliver it after the commit with :func:`deliver_notification`."""
    return queue(recipient_mail(credential, config), config=config, ref=notice_ref(credential))


def queue_notifications(credentials: Sequence[IssuedCredential], config: Mapping[str, Any]) -> list[OutboxMessage]:
    """:func:`queue_notification` for each credential (the API's batch), their notices read together and the QR
    codes of their wallet offers drawn on every core. Flushes."""

    def draw_qr(texts: Sequence[str], scale: int) -> list[bytes]:
        return parallel.qr_pngs(texts, scale, config=config)

    notices = award_notices(credentials, config, draw_qr=draw_qr)
    return queue_all([(award_mail(notice), notice_ref(credential))
                      for credential, notice in zip(credentials, notices, strict=True)], config=config)


def deliver_notifications(messages: Sequence[OutboxMessage], config: Mapping[str, Any]) -> set[int]:
    """Deliver queued notifications now (commits); returns the ids of the messages that left. Those that could
    not leave stay queued for the background sender (a busy database, a mail server refusing)."""
    ids = [int(inspect(message).identity[0]) for message in messages]
    try:
        return deliver_many(ids, config=config).sent_ids
    except DBAPIError:
        db.session.rollback()
        log.warning("the e-mails of credentials are queued; the background sender will deliver them")
        return set()


def deliver_notification(message: OutboxMessage, config: Mapping[str, Any]) -> None:
    """Deliver a queued notification now (commits). Raises :class:`~badgehub.mail.MailError` when the mail
    server refuses (the outbox tries again later). A busy database is not the caller's failure: the message
    stays queued for the background sender, and this returns."""
    try:
        deliver(message, config=config)
    except DBAPIError:
        db.session.rollback()
        log.warning("the e-mail of a credential is queued; the background sender will deliver it")


def notify_recipient(credential: IssuedCredential, config: Mapping[str, Any]) -> None:
    """Send the recipient the e-mail about ``credential`` again (a new message, queued, committed and delivered
    at once). Issuing paths do not call this: they queue with :func:`queue_notification` before their commit.

    Raises :class:`~badgehub.mail.MailError` when the mail cannot leave; the credential stays issued, and the
    caller decides whether to tell someone (the link can be sent again).
    """

    def queued() -> OutboxMessage:
        message = queue_notification(credential, config)
        db.session.commit()
        return message

    with writing():
        message = run_with_retry(queued)
    deliver_notification(message, config)
