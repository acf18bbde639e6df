"""The PDF certificate: one A4 page that says what was earned, by whom, from whom, when, and how to check it."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest
from flask_babel import force_locale, gettext

from badgehub.printing.certificate import (
    CertificateData,
    CompetencyLine,
    certificate_etag,
    certificate_filename,
    certificate_pdf,
)
from badgehub.printing.text import markdown_to_text
from tests import factories
from tests.unit.printing.pdftools import (
    decode_pdf_qr,
    decode_qr,
    flat,
    image_objects,
    metadata,
    page_count,
    pdf_text,
    render,
)

URL = "https://badges.example.org/c/AbCdEfGhIjKl"
BADGE_PNG = factories.png((64, 64), (30, 90, 200, 255))
BADGE_SVG = (b'<svg xmlns="http://www.w3.org/2000/svg" width="64" height="64" viewBox="0 0 64 64">'
             b'<circle cx="32" cy="32" r="30" fill="#1d4ed8"/></svg>')

DATA = CertificateData(
    public_id="AbCdEfGhIjKl", url=URL, achievement_name="Réparer une crevaison",
    issuer_name="Vélo Solidaire d'Évry", issuer_url="https://velo.example.org", recipient_name="Zoë Ćwikła",
    awarded=dt.datetime(2026, 3, 14, 10, 0), issued_at=dt.datetime(2026, 3, 14, 10, 0, 5),
    valid_until=dt.datetime(2027, 3, 14, 10, 0), description="Sait réparer une chambre à air crevée.",
    criteria=markdown_to_text("- démonter la roue\n- trouver le trou\n- poser une rustine"),
    competencies=(CompetencyLine("MEC-2", "Réparer un vélo", ("http://data.europa.eu/esco/skill/abc", "RNCP 1234")),),
    image=BADGE_PNG)


def test_certificate_is_one_pdf_page_with_achievement_issuer_recipient_and_dates_in_english():
    pdf = certificate_pdf(DATA, locale="en")
    assert page_count(pdf) == 1
    text = flat(pdf_text(pdf))
    for expected in ("Réparer une crevaison", "Vélo Solidaire d'Évry", "https://velo.example.org", "Zoë Ćwikła",
                     "Sait réparer une chambre à air crevée.", "• démonter la roue", "• poser une rustine",
                     "MEC-2 — Réparer un vélo", "http://data.europa.eu/esco/skill/abc", "RNCP 1234",
                     "Awarded on March 14, 2026", "Valid until March 14, 2027", URL,
                     "Scan the code or open the address to check it is genuine"):
        assert expected in text, expected


def test_certificate_in_french_has_french_dates_and_the_french_catalogue_sentences(ctx):
    pdf = certificate_pdf(DATA, locale="fr")
    text = flat(pdf_text(pdf))
    assert "14 mars 2026" in text
    assert "14 mars 2027" in text
    assert "March" not in text
    with force_locale("fr"):
        for sentence in (gettext("Scan the code or open the address to check it is genuine"),
                         gettext("Awarded on %(date)s", date="14 mars 2026"),
                         gettext("Valid until %(date)s", date="14 mars 2027")):
            assert sentence in text


def test_pdf_metadata_names_the_achievement_issuer_and_language():
    pdf = certificate_pdf(DATA, locale="fr")
    info = metadata(pdf)
    assert "Réparer une crevaison" in info["Title"]
    assert "Zoë Ćwikła" in info["Title"]
    assert info["Author"] == "Vélo Solidaire d'Évry"
    assert info["CreationDate"] == "D:20260314100005Z"
    assert b"/Lang (fr)" in pdf
    assert b"/DisplayDocTitle true" in pdf


@pytest.mark.parametrize("scale", [1.5, 2, 4])
def test_certificate_qr_code_decodes_back_to_the_credential_url(scale):
    image = render(certificate_pdf(DATA, locale="en"), scale=scale)
    assert decode_qr(image) == [URL]


def test_same_data_gives_the_same_bytes_and_etag():
    assert certificate_pdf(DATA, locale="en") == certificate_pdf(DATA, locale="en")
    assert certificate_etag(DATA, "en") == certificate_etag(DATA, "en")
    assert certificate_etag(DATA, "en") != certificate_etag(DATA, "fr")
    assert certificate_etag(DATA, "en") != certificate_etag(dataclasses.replace(DATA, recipient_name="X"), "en")
    assert certificate_etag(DATA, "en") != certificate_etag(dataclasses.replace(DATA, image=b"other"), "en")


@pytest.mark.parametrize("name", ["Nguyễn Thị Minh Khai", "محمد بن عبد الله", "王小明", "Ἀριστοτέλης", "Юлия 😀",
                                  "e\u0301lodie\u200b\x00\x07 \u202etxet"])
def test_unicode_names_print_without_failing(name):
    pdf = certificate_pdf(dataclasses.replace(DATA, recipient_name=name), locale="en")
    assert page_count(pdf) == 1
    assert decode_pdf_qr(pdf) == [URL]


def test_names_the_fonts_cover_are_printed_as_written():
    pdf = certificate_pdf(dataclasses.replace(DATA, recipient_name="Nguyễn Thị Minh Khai"), locale="en")
    assert "Nguyễn Thị Minh Khai" in flat(pdf_text(pdf))
    # Decomposed accents are composed first: the font has "é", not always "e" + combining acute.
    pdf = certificate_pdf(dataclasses.replace(DATA, recipient_name="E\u0301lodie"), locale="en")
    assert "Élodie" in flat(pdf_text(pdf))


def test_characters_no_bundled_font_has_become_visible_boxes():
    pdf = certificate_pdf(dataclasses.replace(DATA, recipient_name="Li 王小明"), locale="en")
    assert "Li □□□" in flat(pdf_text(pdf))


def test_very_long_texts_are_cut_to_stay_on_one_page():
    word = "Pneumatique"
    hostile = dataclasses.replace(
        DATA, recipient_name="Zoë " * 80, achievement_name="Réparation " * 60, issuer_name="Association " * 40,
        description="Une très longue description. " * 300, criteria="- étape\n" * 400,
        competencies=tuple(CompetencyLine(f"C{i}", word * 5) for i in range(40)),
        issuer_url="https://example.org/" + "a" * 400)
    pdf = certificate_pdf(hostile, locale="fr")
    assert page_count(pdf) == 1
    text = pdf_text(pdf)
    assert "…" in text
    assert decode_pdf_qr(pdf) == [URL]
    # The footer is still there, below everything else.
    assert URL in flat(text)


def test_a_word_longer_than_the_page_is_broken_not_overflowing():
    pdf = certificate_pdf(dataclasses.replace(DATA, recipient_name="A" * 300), locale="en")
    assert page_count(pdf) == 1
    assert decode_pdf_qr(pdf) == [URL]


def test_markdown_with_html_prints_as_plain_text():
    criteria = markdown_to_text("# Étapes\n\n<script>alert('x')</script>\n\n1. **Lire** [la notice](https://ex.org)"
                                "\n2. `réparer`\n\n<img src=x onerror=alert(1)>")
    assert "<" not in criteria and "alert(1)" not in criteria
    assert "1. Lire la notice (https://ex.org)" in criteria
    assert "2. réparer" in criteria
    pdf = certificate_pdf(dataclasses.replace(DATA, criteria=criteria), locale="en")
    assert "1. Lire la notice (https://ex.org)" in flat(pdf_text(pdf))


def test_revoked_credential_says_so_at_the_top():
    pdf = certificate_pdf(dataclasses.replace(DATA, revoked_at=dt.datetime(2026, 5, 1, 9, 0)), locale="en")
    assert "This badge was revoked on May 1, 2026. It is no longer valid." in flat(pdf_text(pdf))


def test_no_expiry_and_no_recipient_name_are_worded_plainly():
    pdf = certificate_pdf(dataclasses.replace(DATA, valid_until=None, recipient_name=""), locale="en")
    text = flat(pdf_text(pdf))
    assert "No expiry date" in text
    assert "This certifies that" not in text
    assert "This badge was awarded:" in text


def test_svg_image_is_drawn_and_a_missing_or_unreadable_image_is_replaced_by_a_generated_one():
    png = certificate_pdf(DATA, locale="en")
    svg = certificate_pdf(dataclasses.replace(DATA, image=BADGE_SVG, image_media_type="image/svg+xml"), locale="en")
    missing = certificate_pdf(dataclasses.replace(DATA, image=None), locale="en")
    broken = certificate_pdf(dataclasses.replace(DATA, image=b"not an image"), locale="en")
    unsupported = certificate_pdf(dataclasses.replace(DATA, image=BADGE_SVG.replace(
        b"<circle", b'<filter id="f"><feGaussianBlur stdDeviation="2"/></filter><circle filter="url(#f)"'),
        image_media_type="image/svg+xml"), locale="en")
    # The QR code is vector: the one raster image is the badge (PNG or generated); an SVG badge is vector too.
    assert image_objects(png) == 1
    assert image_objects(svg) == 0
    for pdf in (missing, broken, unsupported):
        assert image_objects(pdf) == 1
        assert page_count(pdf) == 1


def test_unknown_locale_falls_back_to_english():
    assert "Awarded on March 14, 2026" in flat(pdf_text(certificate_pdf(DATA, locale="de")))


def test_filename_is_the_ascii_achievement_name_and_id():
    assert certificate_filename(DATA) == "reparer-une-crevaison-AbCdEfGhIjKl.pdf"
    assert certificate_filename(dataclasses.replace(DATA, achievement_name="王小明")) == "badge-AbCdEfGhIjKl.pdf"


def test_an_svg_too_complex_to_draw_quickly_is_replaced():
    shapes = b"".join(b'<circle cx="%d" cy="32" r="1"/>' % (i % 64) for i in range(5000))
    heavy = BADGE_SVG.replace(b"</svg>", shapes + b"</svg>")
    pdf = certificate_pdf(dataclasses.replace(DATA, image=heavy, image_media_type="image/svg+xml"), locale="en")
    assert image_objects(pdf) == 1  # the generated badge, not 5,000 vector circles


def test_bidi_overrides_are_removed_and_joiners_kept():
    from badgehub.printing.text import printable

    assert printable("abc\u202edef\u202c") == "abcdef"
    assert printable("می\u200cخواهم") == "می\u200cخواهم"
