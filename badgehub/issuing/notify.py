"""What the recipient gets: the baked image of a credential, and what the e-mail telling them about it says.

This is the output side of issuing. It decides *what* to send (:func:`award_notice`: the links, the baked
image, the wallet offer, the language) and never renders it: the words and layout are the edge's
(:mod:`badgehub.mails.awards`), which turns an :class:`AwardNotice` into a :class:`~badgehub.mail.Mail`.

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
import datetime as dt
import struct
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final
from xml.sax.saxutils import quoteattr

from sqlalchemy import select

from badgehub.accounts.models import User
from badgehub.config import SUPPORTED_LOCALES
from badgehub.credentials.baking import PNG_SIGNATURE, bake_png, bake_svg
from badgehub.extensions import db
from badgehub.fields import email_key
from badgehub.issuing.errors import ImageFormatUnavailable
from badgehub.issuing.keep_links import keep_url
from badgehub.issuing.models import IssuedCredential
from badgehub.issuing.service import credential_url
from badgehub.keys.identity import base_url_of
from badgehub.mail import Mail
from badgehub.territory.models import MembershipStatus, Territory, TerritoryMembership

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


def recipient_locale(credential: IssuedCredential, config: Mapping[str, Any]) -> str:
    """The language to write to the recipient in (see the module docstring)."""
    return recipient_locales([credential], config)[0]


def recipient_locales(credentials: Sequence[IssuedCredential], config: Mapping[str, Any]) -> list[str]:
    """:func:`recipient_locale` of each credential, with one query for the accounts of all (a batch's chunk),
    each organisation's territory read once."""
    keys = {email_key(credential.recipient_email) for credential in credentials}
    chosen: dict[str, str | None] = {}
    wanted = sorted(key for key in keys if key)
    for start in range(0, len(wanted), 500):
        chosen.update(db.session.execute(select(User.email_key, User.locale)
                                         .where(User.email_key.in_(wanted[start:start + 500]))).tuples().all())
    territories: dict[int, Territory | None] = {}
    return [_locale_of(credential, chosen.get(email_key(credential.recipient_email)), territories, config)
            for credential in credentials]


def _locale_of(credential: IssuedCredential, chosen: str | None, territories: dict[int, Territory | None],
               config: Mapping[str, Any]) -> str:
    """The account's language ``chosen``, else the territory's (``territories``: each organisation's first
    territory, filled as met), else the installation's."""
    if chosen is not None and chosen in SUPPORTED_LOCALES:
        return str(chosen)
    territory: Territory | None = credential.area.territory if credential.area is not None else None
    if territory is None:
        if credential.organisation_id not in territories:
            territories[credential.organisation_id] = db.session.scalar(
                select(Territory).join(TerritoryMembership, TerritoryMembership.territory_id == Territory.id)
                .where(TerritoryMembership.organisation_id == credential.organisation_id,
                       TerritoryMembership.status == MembershipStatus.APPROVED)
                .order_by(Territory.name).limit(1))
        territory = territories[credential.organisation_id]
    if territory is not None and territory.default_locale in SUPPORTED_LOCALES:
        return territory.default_locale
    default = str(config.get("BABEL_DEFAULT_LOCALE") or "en")
    return default if default in SUPPORTED_LOCALES else "en"


@dataclass(frozen=True)
class AwardNotice:
    """What the e-mail announcing a credential to its recipient says, before any wording: who, which badge,
    the links, the baked image to attach, the wallet-app offer (its link and QR code), and the language."""

    to: str
    name: str
    organisation: str
    badge: str
    description: str
    valid_until: dt.datetime | None
    link: str
    json_link: str
    keep_link: str
    image_url: str
    baked: BakedImage
    filename: str
    wallet_offer: str
    wallet_offer_qr: bytes
    wallet_offer_qr_filename: str
    wallet_offer_days: int
    locale: str


AwardMailer = Callable[[AwardNotice], Mail]
"""Turns a notice into the e-mail to send (the edge's :func:`badgehub.mails.awards.award_mail`)."""


def award_notice(credential: IssuedCredential, config: Mapping[str, Any]) -> AwardNotice:
    """What to tell the recipient of ``credential`` (reads only; signs a new keep-link token each call).
    Raises :class:`~badgehub.credentials.baking.BakingError` if the stored image cannot be baked."""
    return award_notices([credential], config)[0]


QrDrawer = Callable[[Sequence[str], int], list[bytes]]
"""Draws the PNG QR codes of some texts at a scale (a batch's: :func:`badgehub.issuing.parallel.qr_pngs`)."""


def award_notices(credentials: Sequence[IssuedCredential], config: Mapping[str, Any], *,
                  draw_qr: QrDrawer | None = None,
                  drawn: Mapping[str, tuple[str, bytes]] | None = None) -> list[AwardNotice]:
    """:func:`award_notice` of each credential, read together (one query for the recipients' accounts), the
    QR codes of the wallet offers drawn by ``draw_qr`` (default: here, one after the other). ``drawn``: offers
    whose link and QR code are made already (a batch's, drawn with its signatures), by public id."""
    # Imported here: the phone-wallet offer is OpenID4VCI's, which itself builds on issuing.
    from badgehub.oid4vci.award_mail import EMAIL_OFFER_DAYS, QR_SCALE, award_mail_link
    from badgehub.printing.qr import qr_png

    locales = recipient_locales(credentials, config)
    offers = [(drawn or {}).get(credential.public_id) for credential in credentials]
    missing = [position for position, offer in enumerate(offers) if offer is None]
    links = [award_mail_link(credentials[position], config) for position in missing]
    codes = draw_qr(links, QR_SCALE) if draw_qr is not None else [qr_png(link, scale=QR_SCALE) for link in links]
    for position, link, code in zip(missing, links, codes, strict=True):
        offers[position] = (link, code)
    notices = []
    for credential, locale, offer in zip(credentials, locales, offers, strict=True):
        assert offer is not None
        link, code = offer
        version = credential.achievement_version
        baked = baked_image(credential)
        notices.append(AwardNotice(
            to=credential.recipient_email, name=credential.recipient_name,
            organisation=credential.organisation.name, badge=version.name, description=version.description,
            valid_until=credential.valid_until, link=credential_url(credential, config),
            json_link=credential_url(credential, config, ".json"), keep_link=keep_url(credential, config),
            image_url=(f"{base_url_of(config)}/achievements/{credential.achievement.public_id}/v/{version.number}"
                       "/image"),
            baked=baked, filename=f"badge-{credential.public_id}.{baked.extension}",
            wallet_offer=link, wallet_offer_qr=code, wallet_offer_qr_filename=f"wallet-app-{credential.public_id}.png",
            wallet_offer_days=EMAIL_OFFER_DAYS, locale=locale))
    return notices


def notice_ref(credential: IssuedCredential) -> str:
    """The outbox ``ref`` of a credential's e-mail sent on its own (not from a batch)."""
    return f"credential:{credential.public_id}"
