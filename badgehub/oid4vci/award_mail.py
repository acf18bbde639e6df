"""The award e-mail's block "add it to your wallet app": the offer link and its QR code, written nowhere."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from badgehub.issuing.models import IssuedCredential
from badgehub.keys.identity import base_url_of
from badgehub.oid4vci.service import EMAIL_OFFER_LIFETIME, credential_offer, email_offer_code, offer_link
from badgehub.printing.qr import qr_png

EMAIL_OFFER_DAYS = EMAIL_OFFER_LIFETIME.days


@dataclass(frozen=True)
class MailOffer:
    link: str
    qr_png: bytes


def award_mail_offer(credential: IssuedCredential, config: Mapping[str, Any]) -> MailOffer:
    """The ``openid-credential-offer://`` link of ``credential`` for its award e-mail, and the QR code of it."""
    code = email_offer_code(credential, secret=str(config["SECRET_KEY"]))
    link = offer_link(credential_offer(base_url_of(config), code, tx_description=None))
    return MailOffer(link, qr_png(link, scale=6))
