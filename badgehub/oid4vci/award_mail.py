"""The award e-mail's block "add it to your wallet app": the offer link and its QR code, written nowhere."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from badgehub.issuing.models import IssuedCredential
from badgehub.keys.identity import base_url_of
from badgehub.oid4vci.metadata import OFFERS_PATH
from badgehub.oid4vci.service import EMAIL_OFFER_LIFETIME, email_offer_code_of, offer_uri_link
from badgehub.printing.qr import qr_png

EMAIL_OFFER_DAYS = EMAIL_OFFER_LIFETIME.days


@dataclass(frozen=True)
class MailOffer:
    link: str
    qr_png: bytes


QR_SCALE = 6


def award_mail_link(credential: IssuedCredential, config: Mapping[str, Any]) -> str:
    """The ``openid-credential-offer://`` link of ``credential`` for its award e-mail (a new code each call)."""
    return award_mail_link_of(credential.public_id, config)


def award_mail_link_of(public_id: str, config: Mapping[str, Any]) -> str:
    """:func:`award_mail_link` of the credential whose public id is ``public_id`` (one planned, not stored yet)."""
    code = email_offer_code_of(public_id, secret=str(config["SECRET_KEY"]))
    return offer_uri_link(f"{base_url_of(config)}{OFFERS_PATH}/{code}")


def award_mail_offer(credential: IssuedCredential, config: Mapping[str, Any]) -> MailOffer:
    """The ``openid-credential-offer://`` link of ``credential`` for its award e-mail, and the QR code of it
    (``qr_png(link, scale=QR_SCALE)``, which a batch draws on every core).

    The offer goes by reference (``credential_offer_uri``): the link is less than half as long as the offer
    itself, so the QR code is coarser (easier to scan from a screen) and quicker to draw — it is drawn for
    every e-mail of a batch.
    """
    link = award_mail_link(credential, config)
    return MailOffer(link, qr_png(link, scale=QR_SCALE))
