"""The award e-mail: an :class:`~badgehub.issuing.notify.AwardNotice` worded in the recipient's language.

:func:`award_mail` renders one; :func:`queue_notification`, :func:`deliver_notification` and
:func:`notify_recipient` put it in the outbox (in the caller's transaction, or in one of their own after the
award's commit) and send it.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

from flask import current_app
from flask_babel import force_locale, gettext
from sqlalchemy import inspect
from sqlalchemy.exc import DBAPIError

from badgehub.achievements.models import Achievement
from badgehub.db import reading, run_with_retry, writing
from badgehub.errors import BadgeHubError
from badgehub.extensions import db
from badgehub.issuing import bulk, parallel
from badgehub.issuing.models import CredentialSource, IssuedCredential
from badgehub.issuing.notify import AwardNotice, award_notice, award_notices, notice_ref
from badgehub.issuing.service import AwardInput, Issued, issue_or_replay, signer_for
from badgehub.mail import Attachment, Mail
from badgehub.organisations.models import Organisation
from badgehub.outbox.models import OutboxMessage
from badgehub.outbox.sender import deliver, deliver_many
from badgehub.outbox.service import WrittenMail, queue, queue_all, queue_written, written

log = logging.getLogger(__name__)


def _render(name: str, context: Mapping[str, Any]) -> str:
    # The e-mail's templates read only their own context: not render_template, which also ran the web pages'
    # context processors (menu, languages, path; a query for a signed-in issuer) for each of the two parts.
    return current_app.jinja_env.get_template(name).render(context)


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
        text = _render("email/issuing_awarded.txt", context)
        html = _render("email/issuing_awarded.html", context)
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


def _end_without_expiring() -> None:
    # Commit what the request did before the award, keeping what it loaded (the token, organisation and
    # achievement): the plan reads them as the request did a moment ago, and the read's rollback expires them
    # before store checks them again under the lock.
    session = db.session()
    expiring = session.expire_on_commit
    session.expire_on_commit = False
    try:
        session.commit()
    finally:
        session.expire_on_commit = expiring


def issue_one(organisation: Organisation, achievement: Achievement, award: AwardInput, *,
              idempotency_key: str | None, actor_id: int | None, source: CredentialSource | str, send_email: bool,
              config: Mapping[str, Any]) -> tuple[Issued, OutboxMessage | None]:
    """Issue one award (the award form's, the API's) and queue its e-mail when ``send_email``, committed
    together; returns the outcome and the message to deliver with :func:`deliver_notification` (None for a
    replay, or without e-mail). Commits what the request did before too.

    The award is planned, signed and its e-mail written in a read (:func:`bulk.plan`, :func:`bulk.sign`), then
    stored with its e-mail in a short write transaction (:func:`bulk.store`: the idempotency key and the status
    index checked again under the list's lock, so a duplicate racing it is replayed, never issued twice). On
    SQLite the write lock is held for the inserts and counts, not for the signatures and the e-mail; on
    PostgreSQL, the same for the list's row lock. Raises what :func:`~badgehub.issuing.service.issue_or_replay`
    raises; nothing of the award is committed then.
    """
    _end_without_expiring()  # the request's reads so far (and a token's last use)
    item = bulk.BulkAward(award, idempotency_key)
    prepared: bulk.Plan | None = None
    draft: IssuedCredential | None = None
    mail: WrittenMail | None = None
    try:
        with reading():
            signer = signer_for(organisation, config)
            prepared = bulk.plan(organisation, achievement, [item], signer=signer, config=config)
            bulk.sign(prepared, signer, config=config)
            draft = bulk.planned_credential(prepared, organisation, achievement, source=source, actor_id=actor_id)
            mail = written(recipient_mail(draft, config), config=config) if send_email and draft else None
            db.session.rollback()  # nothing was written
    except BadgeHubError:
        # No usable key, say: the award goes the way it always went, where a replay needs no key.
        db.session.rollback()
        prepared, draft, mail = None, None, None

    def store() -> tuple[Issued, OutboxMessage | None]:
        if prepared is None:
            outcome: Issued | BadgeHubError = issue_or_replay(
                organisation=organisation, achievement=achievement, recipient_email=award.recipient_email,
                recipient_name=award.recipient_name, actor_id=actor_id, source=source,
                evidence_url=award.evidence_url, narrative=award.narrative, activity_start=award.activity_start,
                activity_end=award.activity_end, area_id=award.area_id, result=award.result,
                idempotency_key=idempotency_key, holder_did=award.holder_did, config=config)
        else:
            outcome = bulk.store(prepared, organisation, achievement, [item], signer=signer, actor_id=actor_id,
                                 source=source, config=config)[0]
        if isinstance(outcome, BadgeHubError):
            raise outcome
        message = None
        if send_email and not outcome.replayed:
            ref = notice_ref(outcome.credential)
            if mail is not None and draft is not None and ref == notice_ref(draft):
                message = queue_written([(mail, ref)])[0]
            else:  # issued otherwise than planned (its index taken meanwhile, say): written here
                message = queue_notification(outcome.credential, config)
        db.session.commit()
        return outcome, message

    with writing():
        return run_with_retry(store)


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
