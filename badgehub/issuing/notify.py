"""What the recipient gets: the baked image of a credential, and the e-mail telling them about it.

This is the output side of issuing, used by every entry point after its commit (the award form, the CLI, and
later the batch, claims and the API), so it renders the e-mail's template itself: an e-mail is a document
like the baked image, not a page of one of the web areas. It touches no request state.

**Baked images.** The credential JSON as issued (Data Integrity proof inside) is baked into the achievement
version's image: a PNG gets an ``iTXt`` chunk, an SVG an ``<openbadges:credential>`` element. A PNG image
can also be had as SVG (the PNG is wrapped in an SVG ``<image>`` as a ``data:`` URI, then baked); an SVG image
cannot be had as PNG, since that needs a rasteriser BadgeHub does not ship.

**Language.** The e-mail is written in the recipient's language when they have an account that chose one,
else in the default language of the territory where the award happened (its area's), else of the first
territory the organisation belongs to, else the installation's default.
"""

from __future__ import annotations

import base64
import logging
import struct
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final
from xml.sax.saxutils import quoteattr

from flask import current_app, render_template
from flask_babel import force_locale, gettext
from sqlalchemy import select
from sqlalchemy.exc import DBAPIError

from badgehub.accounts.service import get_user_by_email
from badgehub.config import SUPPORTED_LOCALES
from badgehub.credentials.baking import PNG_SIGNATURE, bake_png, bake_svg
from badgehub.db import run_with_retry, writing
from badgehub.extensions import db
from badgehub.issuing.errors import ImageFormatUnavailable
from badgehub.issuing.keep_links import keep_url
from badgehub.issuing.models import IssuedCredential
from badgehub.issuing.service import credential_url
from badgehub.keys.identity import base_url_of
from badgehub.mail import Attachment, Mail
from badgehub.outbox.models import OutboxMessage
from badgehub.outbox.sender import deliver
from badgehub.outbox.service import queue
from badgehub.territory.models import MembershipStatus, Territory, TerritoryMembership

log = logging.getLogger(__name__)

PNG: Final = "image/png"
SVG: Final = "image/svg+xml"
_FORMATS: Final = {"png": PNG, "svg": SVG}


@dataclass(frozen=True)
class BakedImage:
    """A baked badge image: its bytes, media type and file extension (``png`` or ``svg``)."""

    data: bytes
    media_type: str
    extension: str


def natural_format(credential: IssuedCredential) -> str:
    """``svg`` when the achievement version's image is an SVG, else ``png``."""
    return "svg" if credential.achievement_version.image_media_type == SVG else "png"


def _png_size(png: bytes) -> tuple[int, int]:
    # IHDR is the first chunk: signature (8), length (4), type (4), then width and height.
    if not png.startswith(PNG_SIGNATURE) or len(png) < 24 or png[12:16] != b"IHDR":
        raise ImageFormatUnavailable()
    width, height = struct.unpack(">II", png[16:24])
    return width, height


def png_as_svg(png: bytes) -> bytes:
    """An SVG 1.1 document showing ``png`` at its own size (the PNG inlined as a ``data:`` URI)."""
    width, height = _png_size(png)
    href = "data:image/png;base64," + base64.b64encode(png).decode("ascii")
    return (f'<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" version="1.1" '
            f'width="{width}" height="{height}" viewBox="0 0 {width} {height}">'
            f'<image width="{width}" height="{height}" xlink:href={quoteattr(href)}/></svg>').encode()


def baked_image(credential: IssuedCredential, fmt: str | None = None) -> BakedImage:
    """The credential baked into its achievement version's image, as ``png`` or ``svg`` (default: the
    image's own format). Raises :class:`ImageFormatUnavailable` (404) for a PNG of an SVG image, and
    :class:`~badgehub.credentials.baking.BakingError` if the stored image cannot be baked."""
    wanted = fmt or natural_format(credential)
    if wanted not in _FORMATS:
        raise ImageFormatUnavailable()
    version = credential.achievement_version
    image = version.image
    if wanted == "png":
        if version.image_media_type != PNG:
            raise ImageFormatUnavailable()
        return BakedImage(bake_png(image, credential.document_json), PNG, "png")
    svg = image if version.image_media_type == SVG else png_as_svg(image)
    return BakedImage(bake_svg(svg, credential.document_json), SVG, "svg")


def recipient_locale(credential: IssuedCredential, config: Mapping[str, Any] | None = None) -> str:
    """The language to write to the recipient in (see the module docstring)."""
    settings = config if config is not None else current_app.config
    user = get_user_by_email(credential.recipient_email)
    if user is not None and user.locale in SUPPORTED_LOCALES:
        return str(user.locale)
    territory: Territory | None = credential.area.territory if credential.area is not None else None
    if territory is None:
        territory = db.session.scalar(
            select(Territory).join(TerritoryMembership, TerritoryMembership.territory_id == Territory.id)
            .where(TerritoryMembership.organisation_id == credential.organisation_id,
                   TerritoryMembership.status == MembershipStatus.APPROVED)
            .order_by(Territory.name).limit(1))
    if territory is not None and territory.default_locale in SUPPORTED_LOCALES:
        return territory.default_locale
    default = str(settings.get("BABEL_DEFAULT_LOCALE") or "en")
    return default if default in SUPPORTED_LOCALES else "en"


def recipient_mail(credential: IssuedCredential, *, config: Mapping[str, Any] | None = None) -> Mail:
    """The e-mail announcing ``credential`` to its recipient, with the baked image attached."""
    settings = config if config is not None else current_app.config
    version = credential.achievement_version
    organisation = credential.organisation
    baked = baked_image(credential)
    base_url = base_url_of(settings)
    filename = f"badge-{credential.public_id}.{baked.extension}"
    # Imported here: the phone-wallet offer is OpenID4VCI's, which itself builds on issuing.
    from badgehub.oid4vci.award_mail import EMAIL_OFFER_DAYS, award_mail_offer

    offer = award_mail_offer(credential, settings)
    offer_qr = f"wallet-app-{credential.public_id}.png"
    locale = recipient_locale(credential, settings)
    with force_locale(locale):
        subject = gettext("%(organisation)s awarded you the badge “%(badge)s”", organisation=organisation.name,
                          badge=version.name)
        context = {
            "name": credential.recipient_name, "organisation": organisation.name, "badge": version.name,
            "description": version.description, "valid_until": credential.valid_until,
            "link": credential_url(credential, settings),
            "json_link": credential_url(credential, settings, ".json"),
            # One link for both parts: each call signs a new token.
            "keep_link": keep_url(credential, settings), "email": credential.recipient_email,
            "filename": filename, "site_name": gettext("BadgeHub"), "subject": subject, "lang": locale,
            "image_url": f"{base_url}/achievements/{credential.achievement.public_id}/v/{version.number}/image",
            "wallet_offer": offer.link, "wallet_offer_qr": offer_qr, "wallet_offer_days": EMAIL_OFFER_DAYS,
        }
        text = render_template("email/issuing_awarded.txt", **context)
        html = render_template("email/issuing_awarded.html", **context)
    maintype, _, subtype = baked.media_type.partition("/")
    attachment = Attachment(filename=filename, content=baked.data,
                            maintype=maintype, subtype=subtype)
    offer_attachment = Attachment(filename=offer_qr, content=offer.qr_png, maintype="image", subtype="png")
    return Mail(to=credential.recipient_email, subject=subject, text=text, html=html,
                attachments=(attachment, offer_attachment))


def queue_notification(credential: IssuedCredential, *, config: Mapping[str, Any] | None = None) -> OutboxMessage:
    """Queue the e-mail about ``credential`` in the outbox, in the transaction that issues it (flushes): both are
    committed together or not at all. Deliver it after the commit with :func:`deliver_notification`."""
    settings = config if config is not None else current_app.config
    return queue(recipient_mail(credential, config=settings), config=settings,
                 ref=f"credential:{credential.public_id}")


def deliver_notification(message: OutboxMessage, *, config: Mapping[str, Any] | None = None) -> None:
    """Deliver a queued notification now (commits). Raises :class:`~badgehub.mail.MailError` when the mail
    server refuses (the outbox tries again later). A busy database is not the caller's failure: the message
    stays queued for the background sender, and this returns."""
    settings = config if config is not None else current_app.config
    try:
        deliver(message, config=settings)
    except DBAPIError:
        db.session.rollback()
        log.warning("the e-mail of a credential is queued; the background sender will deliver it")


def notify_recipient(credential: IssuedCredential, *, config: Mapping[str, Any] | None = None) -> None:
    """Queue and send the recipient the e-mail about ``credential`` (call it after the commit that issued it).

    Raises :class:`~badgehub.mail.MailError` when the mail cannot leave; the credential stays issued, and the
    caller decides whether to tell someone (the link can be sent again).
    """
    settings = config if config is not None else current_app.config

    def queued() -> OutboxMessage:
        message = queue_notification(credential, config=settings)
        db.session.commit()
        return message

    with writing():
        message = run_with_retry(queued)
    deliver_notification(message, config=settings)
