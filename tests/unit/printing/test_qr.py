"""QR codes decode back to the URL they were made from, in SVG and PNG."""

from __future__ import annotations

import io
import re
import xml.etree.ElementTree as ET

import pytest
import zxingcpp
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


@pytest.mark.parametrize("scale", [1, 3, 8])
def test_the_black_and_white_png_is_the_one_qrcode_draws(scale):
    # qr_png draws black on white in one piece rather than square by square: the same pixels and bytes.
    import qrcode
    import qrcode.constants
    import qrcode.image.pil

    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, box_size=scale, border=4)
    code.add_data(URL)
    code.make(fit=True)
    buffer = io.BytesIO()
    code.make_image(image_factory=qrcode.image.pil.PilImage, fill_color="black", back_color="white").save(
        buffer, format="PNG")
    assert qr_png(URL, scale=scale) == buffer.getvalue()
