"""QR codes decode back to the URL they were made from, in SVG and PNG."""

from __future__ import annotations

import io
import re
import xml.etree.ElementTree as ET

import pytest
import zxingcpp
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from badgehub.printing.qr import modules, qr_image, qr_png, qr_svg

URL = "https://badges.example.org/c/AbCdEfGhIjKl"


def decode(image: Image.Image) -> list[str]:
    return [result.text for result in zxingcpp.read_barcodes(image)]


def test_png_decodes_back_to_the_url():
    assert decode(Image.open(io.BytesIO(qr_png(URL)))) == [URL]


def test_png_has_level_m_and_a_quiet_zone_of_four_modules():
    image = Image.open(io.BytesIO(qr_png(URL, scale=1))).convert("L")
    assert image.size == (modules(URL), modules(URL))
    # The four outer rings of modules are light: the quiet zone scanners need.
    for i in range(4):
        assert all(image.getpixel((x, i)) == 255 for x in range(image.width))
        assert all(image.getpixel((i, y)) == 255 for y in range(image.height))
    assert image.getpixel((4, 4)) == 0
    result = zxingcpp.read_barcodes(Image.open(io.BytesIO(qr_png(URL))))[0]
    assert result.ec_level == "M"


def test_svg_decodes_back_to_the_url_once_rasterised():
    svg = qr_svg(URL, scale=1)
    root = ET.fromstring(svg)
    size = int(root.get("width"))
    assert root.get("viewBox") == f"0 0 {size} {size}"
    # Rasterise the path of dark squares ("Mx,yHx1Vy1Hxz", one per module) by hand: no SVG renderer needed.
    image = Image.new("L", (size, size), 255)
    path = root.find("{http://www.w3.org/2000/svg}path")
    squares = re.findall(r"M(\d+),(\d+)H(\d+)V(\d+)H\d+z", path.get("d"))
    assert squares
    for x0, y0, x1, y1 in squares:
        for x in range(int(x0), int(x1)):
            for y in range(int(y0), int(y1)):
                image.putpixel((x, y), 0)
    assert decode(image.resize((size * 8, size * 8), Image.Resampling.NEAREST)) == [URL]


def test_svg_is_labelled_for_screen_readers_and_escapes_the_title():
    svg = qr_svg(URL, title='Scan "me" <now> & then')
    root = ET.fromstring(svg)
    assert root.get("role") == "img"
    assert root.get("aria-label") == 'Scan "me" <now> & then'
    assert root.find("{http://www.w3.org/2000/svg}title").text == 'Scan "me" <now> & then'
    assert not svg.startswith(b"<?xml")


def test_svg_title_defaults_to_the_url():
    root = ET.fromstring(qr_svg(URL))
    assert root.find("{http://www.w3.org/2000/svg}title").text == URL


def test_same_url_gives_the_same_bytes():
    assert qr_png(URL) == qr_png(URL)
    assert qr_svg(URL) == qr_svg(URL)


def test_scale_sets_pixels_per_module():
    small = Image.open(io.BytesIO(qr_png(URL, scale=2)))
    large = Image.open(io.BytesIO(qr_png(URL, scale=10)))
    assert large.width == 5 * small.width


def test_qr_image_is_a_greyscale_pillow_image_that_decodes():
    image = qr_image(URL)
    assert image.mode == "L"
    assert decode(image) == [URL]


def test_text_too_long_for_a_qr_code_is_a_value_error():
    with pytest.raises(ValueError, match="too long"):
        qr_png("https://example.org/" + "x" * 5000)


def _qrcode_png(text: str, scale: int) -> bytes:
    import qrcode
    import qrcode.constants
    import qrcode.image.pil

    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, box_size=scale, border=4)
    code.add_data(text)
    code.make(fit=True)
    buffer = io.BytesIO()
    code.make_image(image_factory=qrcode.image.pil.PilImage).save(buffer, format="PNG")
    return buffer.getvalue()


@settings(max_examples=40, deadline=None)
@given(text=st.one_of(st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126), min_size=1, max_size=600),
                      st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=0x2FF), min_size=1,
                              max_size=300)),
       scale=st.integers(min_value=1, max_value=7))
def test_any_text_gives_qrcodes_png_and_decodes_back(text: str, scale: int) -> None:
    # The mask is put on with an XOR and the format and version information OR'ed in (one placement of the data
    # instead of qrcode's two): every version from 1 to past 7 (where the version information appears).
    png = qr_png(text, scale=scale)
    assert png == _qrcode_png(text, scale)
    if text.isascii():  # (a decoder guesses the character set of other bytes)
        assert decode(Image.open(io.BytesIO(png)).convert("L")) == [text]


@pytest.mark.parametrize("scale", [1, 3, 8])
def test_the_black_and_white_png_is_the_one_qrcode_draws(scale):
    # qr_png draws black on white in one piece rather than square by square: the same pixels and bytes.
    assert qr_png(URL, scale=scale) == _qrcode_png(URL, scale)


def test_the_award_mails_offer_link_decodes_back() -> None:
    link = ("openid-credential-offer://?credential_offer_uri=https%3A%2F%2Fbadges.example.org%2Foid4vci%2Foffers"
            "%2FeyJjIjoiQWJDZEVmR2hJaktsTW5PcCJ9.Z1XYZw.dGhpcyBpcyBub3QgYSByZWFsIHNpZ25hdHVyZQ")
    png = qr_png(link, scale=6)
    assert png == _qrcode_png(link, 6)
    assert decode(Image.open(io.BytesIO(png))) == [link]
