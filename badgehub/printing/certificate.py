"""The PDF certificate of an issued credential: one A4 page in the learner's language, with a QR code.

:func:`certificate_pdf` is pure: it takes a :class:`CertificateData` (plain values) and a locale and returns
PDF bytes, the same bytes for the same input (the PDF's creation date is the credential's issue time). Only
:func:`certificate_data` reads the database objects, to build those values from an ``IssuedCredential``.

The page says what a printed badge must say for someone who holds it in their hand: the achievement (name,
image, description, criteria as plain text, competencies with their codes and external references), who
issued it (name and address), to whom, when it was awarded and until when it is valid, and how to check it:
the public address ``/c/<id>`` printed in full and as a QR code, with one sentence saying what to do. A
revoked credential still prints, with the revocation stated at the top: the paper must never look more valid
than the credential.

Library: **fpdf2** — pure Python, maintained, embeds TrueType fonts with full Unicode and shapes complex
scripts with HarfBuzz, small; see :mod:`badgehub.printing.pdf`. Fonts: DejaVu Sans, bundled in ``fonts/``.
Names in scripts the font lacks (CJK) print as □ instead of failing; every text is cut to its box, so the
certificate is always exactly one page.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import json
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final

from babel.dates import format_date
from flask_babel import force_locale, gettext

from badgehub.printing.pdf import A4_HEIGHT, A4_WIDTH, Sheet
from badgehub.printing.text import markdown_to_text, printable, truncate

if TYPE_CHECKING:
    from badgehub.issuing.models import IssuedCredential

# Bumped whenever the drawing changes: part of the ETag, so caches drop certificates drawn the old way.
LAYOUT_VERSION: Final = 3  # 3: QR codes drawn by the qrcode package
LOCALES: Final = ("en", "fr")

INK: Final = (17, 24, 39)
MUTED: Final = (75, 85, 99)
ACCENT: Final = (29, 78, 216)
ALERT: Final = (185, 28, 28)
IMAGE_SIZE: Final = 36.0  # mm, the smallest the badge is printed


@dataclass(frozen=True)
class CompetencyLine:
    """A competency as printed: its code, name and external references (ESCO URI, RNCP code, …)."""

    code: str
    name: str
    references: tuple[str, ...] = ()


@dataclass(frozen=True)
class CertificateData:
    """Everything a certificate prints, as plain values (see :func:`certificate_data`)."""

    public_id: str
    url: str
    achievement_name: str
    issuer_name: str
    recipient_name: str
    awarded: dt.datetime
    issued_at: dt.datetime
    description: str = ""
    criteria: str = ""  # plain text (Markdown already flattened)
    criteria_url: str | None = None
    issuer_url: str | None = None
    valid_until: dt.datetime | None = None
    revoked_at: dt.datetime | None = None
    # The live verification does not confirm the badge (say, its signing key was declared compromised).
    unconfirmed: bool = False
    competencies: tuple[CompetencyLine, ...] = ()
    image: bytes | None = field(default=None, repr=False)
    image_media_type: str = "image/png"
    achievement_type: str = "Badge"

    def fingerprint(self) -> str:
        """A digest of every field (the image by its hash): equal data, equal certificate."""
        values = {name: getattr(self, name) for name in self.__dataclass_fields__ if name != "image"}
        values["image"] = hashlib.sha256(self.image).hexdigest() if self.image else None
        return hashlib.sha256(repr(sorted(values.items())).encode("utf-8")).hexdigest()


def certificate_etag(data: CertificateData, locale: str) -> str:
    """The strong ETag of ``certificate_pdf(data, locale=locale)``, known without drawing it."""
    return hashlib.sha256(f"{LAYOUT_VERSION}:{locale}:{data.fingerprint()}".encode()).hexdigest()[:32]


def certificate_filename(data: CertificateData) -> str:
    """``<achievement>-<id>.pdf`` with the name reduced to ASCII letters, digits and dashes."""
    ascii_name = unicodedata.normalize("NFKD", data.achievement_name).encode("ascii", "ignore").decode()
    slug = "-".join("".join(c if c.isalnum() else " " for c in ascii_name).lower().split())[:60].strip("-")
    return f"{slug or 'badge'}-{data.public_id}.pdf"


def _date(moment: dt.datetime, locale: str) -> str:
    return format_date(moment.date(), format="long", locale=locale)


def _texts(data: CertificateData, locale: str) -> dict[str, str]:
    """Every sentence of the page, translated in ``locale`` (user values quoted only through printable())."""
    with force_locale(locale):
        texts = {
            "kind": gettext("Certificate of achievement"),
            "certifies": gettext("This certifies that"),
            "earned": gettext("has earned"),
            "earned_anonymous": gettext("This badge was awarded:"),
            "issued_by": gettext("Issued by %(issuer)s", issuer=printable(data.issuer_name, limit=300)),
            "criteria": gettext("Criteria"),
            "competencies": gettext("Competencies"),
            "awarded": gettext("Awarded on %(date)s", date=_date(data.awarded, locale)),
            "valid_until": (gettext("Valid until %(date)s", date=_date(data.valid_until, locale))
                            if data.valid_until else gettext("No expiry date")),
            "check_title": gettext("Is it genuine?"),
            "check": gettext("Scan the code or open the address to check it is genuine"),
            "footer": gettext("Open Badges 3.0 credential %(id)s, digitally signed by its issuer.",
                              id=data.public_id),
        }
        if data.revoked_at is not None:
            texts["revoked"] = gettext("This badge was revoked on %(date)s. It is no longer valid.",
                                       date=_date(data.revoked_at, locale))
        elif data.unconfirmed:
            texts["revoked"] = gettext("This badge can no longer be confirmed as genuine. Check it at the address "
                                       "below before relying on it.")
        texts["subject"] = gettext("%(achievement)s, awarded to %(name)s",
                                   achievement=printable(data.achievement_name, limit=200),
                                   name=printable(data.recipient_name, limit=200) or "—")
    return texts


def _competency_text(line: CompetencyLine) -> str:
    parts = [printable(line.code, limit=64), printable(line.name, limit=200)]
    text = " — ".join(p for p in parts if p)
    references = [printable(r, limit=300) for r in line.references if r]
    if references:
        text += f" ({'; '.join(references)})"
    return text


@functools.lru_cache(maxsize=32)
def _fallback_image(name: str) -> bytes | None:
    """A generated badge for an image fpdf2 cannot draw (an SVG with unsupported features)."""
    from badgehub.achievements.images import Design, generate

    try:
        return generate(Design("circle", "#1d4ed8", "#ffffff", "star", name[:60])).data
    except Exception:  # drawing a replacement must never cost the certificate
        return None


def certificate_pdf(data: CertificateData, *, locale: str) -> bytes:
    """Draw the certificate of ``data`` in ``locale`` (``en`` or ``fr``; anything else is English).

    Pure and deterministic. Raises ValueError only if ``data.url`` is too long for a QR code.
    """
    locale = locale if locale in LOCALES else "en"
    texts = _texts(data, locale)
    sheet = Sheet(title=texts["subject"], author=data.issuer_name, subject=texts["kind"], locale=locale,
                  created=data.issued_at)
    pdf = sheet.pdf
    margin = sheet.margin
    footer_top = A4_HEIGHT - 64.0

    # A frame around the page, the usual look of a certificate.
    pdf.set_draw_color(*ACCENT)
    pdf.set_line_width(0.8)
    pdf.rect(9, 9, A4_WIDTH - 18, A4_HEIGHT - 18)
    pdf.set_line_width(0.2)
    pdf.rect(11, 11, A4_WIDTH - 22, A4_HEIGHT - 22)

    bottom = footer_top - 4
    pdf.set_y(margin)
    sheet.block(printable(data.issuer_name, limit=300).upper(), size=10, bold=True, colour=MUTED, bottom=bottom,
                max_lines=2, after=1)
    sheet.block(texts["kind"], size=12, colour=ACCENT, bottom=bottom, after=2)
    top = pdf.get_y()
    # Measure first, then draw: the space a short certificate leaves goes to a larger badge image (up to
    # 60 mm), then above and below the body, so that nothing sits cramped at the top of an empty frame.
    sheet.dry = True
    free = bottom - _body(sheet, data, texts, top=top, bottom=bottom, image_size=IMAGE_SIZE)
    sheet.dry = False
    grow = max(0.0, min(free * 0.5, 60.0 - IMAGE_SIZE))
    _body(sheet, data, texts, top=top + max(0.0, (free - grow) / 3), bottom=bottom, image_size=IMAGE_SIZE + grow)
    _footer(sheet, data, texts, top=footer_top)
    return sheet.output()


def _body(sheet: Sheet, data: CertificateData, texts: Mapping[str, str], *, top: float, bottom: float,
          image_size: float) -> float:
    """Everything between the heading and the verification band, from ``top``; returns where it ends."""
    pdf = sheet.pdf
    pdf.set_y(top)
    if "revoked" in texts:
        sheet.block(texts["revoked"], size=12, bold=True, colour=ALERT, bottom=bottom, max_lines=2, after=2)

    if not sheet.dry:
        x = (A4_WIDTH - image_size) / 2
        drawn = bool(data.image) and sheet.image(data.image or b"", data.image_media_type, x=x, y=pdf.get_y(),
                                                  size=image_size)
        if not drawn:
            fallback = _fallback_image(printable(data.achievement_name, limit=60))
            if fallback:
                sheet.image(fallback, "image/png", x=x, y=pdf.get_y(), size=image_size)
    # The square is kept even if both pictures failed: both passes must agree on the layout.
    pdf.set_y(pdf.get_y() + image_size + 4)

    recipient = printable(data.recipient_name, limit=200)
    if recipient:
        sheet.block(texts["certifies"], size=11, colour=MUTED, bottom=bottom, after=1)
        sheet.block(recipient, size=22, bold=True, bottom=bottom, max_lines=2, after=1)
        sheet.block(texts["earned"], size=11, colour=MUTED, bottom=bottom, after=1)
    else:
        sheet.block(texts["earned_anonymous"], size=11, colour=MUTED, bottom=bottom, after=1)
    sheet.block(printable(data.achievement_name, limit=300), size=18, bold=True, colour=ACCENT, bottom=bottom,
                max_lines=3, after=1)
    sheet.block(texts["issued_by"], size=11, bottom=bottom, max_lines=2)
    if data.issuer_url:
        sheet.block(printable(data.issuer_url, limit=500), size=9, colour=MUTED, bottom=bottom, max_lines=1)
    pdf.set_y(pdf.get_y() + 3)
    sheet.block(f"{texts['awarded']}  ·  {texts['valid_until']}", size=10, bold=True, bottom=bottom, max_lines=2,
                after=4)

    description = printable(data.description, multiline=True)
    sheet.block(description, size=10, bottom=bottom, max_lines=5, align="L", after=3)

    criteria = printable(data.criteria, multiline=True)
    if data.criteria_url:
        criteria = "\n".join(p for p in (criteria, printable(data.criteria_url, limit=500)) if p)
    if criteria and pdf.get_y() + 12 < bottom:
        sheet.block(texts["criteria"], size=10, bold=True, bottom=bottom, align="L", after=0.5)
        sheet.block(criteria, size=9, bottom=bottom, max_lines=8, align="L", after=3)

    if data.competencies and pdf.get_y() + 12 < bottom:
        sheet.block(texts["competencies"], size=10, bold=True, bottom=bottom, align="L", after=0.5)
        shown = data.competencies[:12]
        listed = "\n".join("• " + _competency_text(c) for c in shown)
        if len(data.competencies) > len(shown):
            listed += "\n…"
        sheet.block(listed, size=9, bottom=bottom, max_lines=8, align="L")

    return pdf.get_y()


def _footer(sheet: Sheet, data: CertificateData, texts: Mapping[str, str], *, top: float) -> None:
    """The verification band: the QR code on the left, the address and how to check on the right."""
    pdf = sheet.pdf
    margin = sheet.margin
    pdf.set_draw_color(*MUTED)
    pdf.set_line_width(0.2)
    pdf.line(margin, top, A4_WIDTH - margin, top)
    qr_size = 44.0
    sheet.qr(data.url, x=margin, y=top + 4, size=qr_size)
    left = margin + qr_size + 6
    width = A4_WIDTH - margin - left
    bottom = A4_HEIGHT - 14
    pdf.set_y(top + 6)
    sheet.block(texts["check_title"], size=12, bold=True, bottom=bottom, x=left, width=width, align="L", after=1)
    sheet.block(texts["check"], size=10, bottom=bottom, x=left, width=width, align="L", max_lines=3, after=2)
    sheet.block(printable(data.url, limit=500), size=11, bold=True, colour=ACCENT, bottom=bottom, x=left,
                width=width, align="L", max_lines=3, after=2)
    sheet.block(texts["footer"], size=8, colour=MUTED, bottom=bottom, x=left, width=width, align="L", max_lines=3)


def _document_issuer(document_json: str) -> dict[str, Any]:
    try:
        issuer = json.loads(document_json).get("issuer")
    except (ValueError, AttributeError):
        return {}
    return issuer if isinstance(issuer, dict) else {}


def certificate_data(credential: IssuedCredential, config: Mapping[str, Any]) -> CertificateData:
    """The plain values of ``credential``'s certificate (reads the credential, its version and competencies).

    The issuer's name and address are those written in the signed document, so the paper says what a
    verifier sees even after the organisation renames itself. ``config`` is the app's (``BASE_URL``).
    """
    from badgehub.issuing.service import credential_url
    from badgehub.keys.identity import base_url_of

    version = credential.achievement_version
    organisation = credential.organisation
    issuer = _document_issuer(credential.document_json)
    issuer_name = issuer.get("name") if isinstance(issuer.get("name"), str) else organisation.name
    issuer_url = issuer.get("url") if isinstance(issuer.get("url"), str) else organisation.url
    if not issuer_url:
        issuer_url = f"{base_url_of(config)}/issuers/{organisation.slug}"
    competencies = tuple(
        CompetencyLine(
            code=competency.code, name=competency.name,
            references=tuple(r for r in (
                competency.esco_uri, competency.rncp_code,
                competency.case_item_uri, competency.other_url) if r))
        for competency in version.competencies)
    return CertificateData(
        public_id=credential.public_id,
        url=credential_url(credential, config),
        achievement_name=version.name,
        achievement_type=version.achievement_type,
        issuer_name=str(issuer_name or organisation.name),
        issuer_url=str(issuer_url) if issuer_url else None,
        recipient_name=credential.recipient_name or "",
        description=truncate(version.description or "", 2000),
        criteria=markdown_to_text(version.criteria_md),
        criteria_url=version.criteria_url,
        awarded=credential.awarded_date,
        issued_at=credential.issued_at,
        valid_until=credential.valid_until,
        revoked_at=credential.revoked_at,
        competencies=competencies,
        image=version.image,
        image_media_type=version.image_media_type,
    )
