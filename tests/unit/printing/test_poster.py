"""The claim poster: a QR code that decodes to the claim URL, the short code and instructions, on one A4 page."""

from __future__ import annotations

import io

import pytest
from flask_babel import force_locale, gettext
from PIL import Image

from badgehub.printing.poster import poster_pdf, poster_png
from tests import factories
from tests.unit.printing.pdftools import decode_pdf_qr, decode_png_qr, flat, metadata, page_count, pdf_text

CLAIM_URL = "https://badges.example.org/k/7KD3QX"
POSTER = dict(title="Atelier vélo du 14 mars", organisation_name="Vélo Solidaire d'Évry",
              achievement_name="Réparer une crevaison", achievement_image_png=factories.png((64, 64)),
              claim_url=CLAIM_URL, short_code="7KD3QX", window_text="Open until 14 March 2026, 22:00", locale="en")


def test_poster_pdf_is_one_a4_page_whose_qr_code_decodes_to_the_claim_url():
    pdf = poster_pdf(**POSTER)
    assert page_count(pdf) == 1
    assert decode_pdf_qr(pdf) == [CLAIM_URL]
    text = flat(pdf_text(pdf))
    for expected in ("Atelier vélo du 14 mars", "Vélo Solidaire d'Évry", "Réparer une crevaison",
                     "Scan to receive your badge", CLAIM_URL, "7KD3QX", "Open until 14 March 2026, 22:00"):
        assert expected in text, expected
    assert metadata(pdf)["Title"] == "Atelier vélo du 14 mars"
    assert metadata(pdf)["Author"] == "Vélo Solidaire d'Évry"


def test_poster_png_is_a4_at_150_dpi_and_its_qr_code_decodes_to_the_claim_url():
    png = poster_png(**POSTER)
    image = Image.open(io.BytesIO(png))
    assert image.format == "PNG"
    assert image.size == (1240, 1754)
    assert decode_png_qr(png) == [CLAIM_URL]


def test_poster_speaks_the_locale(ctx):
    pdf = poster_pdf(**{**POSTER, "locale": "fr"})
    with force_locale("fr"):
        assert gettext("Scan to receive your badge") in flat(pdf_text(pdf))
    assert b"/Lang (fr)" in pdf


def test_same_values_give_the_same_bytes():
    assert poster_pdf(**POSTER) == poster_pdf(**POSTER)
    assert poster_png(**POSTER) == poster_png(**POSTER)


@pytest.mark.parametrize("render", [poster_pdf, poster_png])
def test_hostile_values_stay_on_the_page_and_the_code_still_scans(render):
    hostile = {**POSTER, "title": "Atelier " * 200, "organisation_name": "王小明 محمد " * 50,
               "achievement_name": "<b>x</b>\x00\x1b[31m" * 100, "achievement_image_png": b"not a png",
               "window_text": "Z" * 2000}
    data = render(**hostile)
    if render is poster_pdf:
        assert page_count(data) == 1
        assert decode_pdf_qr(data) == [CLAIM_URL]
        assert "…" in pdf_text(data)
    else:
        assert decode_png_qr(data) == [CLAIM_URL]


def test_without_image_or_short_code_the_poster_still_prints():
    pdf = poster_pdf(**{**POSTER, "achievement_image_png": None, "short_code": "", "window_text": ""})
    assert decode_pdf_qr(pdf) == [CLAIM_URL]
    assert "Code" not in pdf_text(pdf)


def test_a_claim_url_too_long_for_a_qr_code_is_a_value_error():
    with pytest.raises(ValueError):
        poster_pdf(**{**POSTER, "claim_url": "https://example.org/" + "x" * 5000})
