"""Badge images: what uploads are accepted and how they are cleaned; how generated badges are drawn."""

from __future__ import annotations

import io
from xml.etree import ElementTree

import pytest
from PIL import Image

from badgehub.achievements import images
from badgehub.achievements.errors import ImageRejected
from badgehub.credentials.baking import bake_png, extract_from_png, extract_from_svg
from tests import factories


def rejection(data: bytes) -> ImageRejected:
    with pytest.raises(ImageRejected) as caught:
        images.read_upload(data)
    return caught.value


def decoded(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


def test_png_upload_is_reencoded_with_its_pixels_and_nothing_else():
    original = factories.png((80, 60), (10, 120, 200, 255), text={"Author": "someone", "Comment": "secret notes"})
    cleaned = images.read_upload(original)
    assert (cleaned.media_type, cleaned.source) == ("image/png", "upload")
    image = decoded(cleaned.data)
    assert image.size == (80, 60)
    assert image.getpixel((5, 5))[:3] == (10, 120, 200)
    assert image.text == {}
    assert b"secret notes" not in cleaned.data


def test_a_credential_baked_into_an_uploaded_png_disappears():
    baked = factories.baked_png()
    assert extract_from_png(baked) is not None
    cleaned = images.read_upload(baked)
    assert extract_from_png(cleaned.data) is None
    assert b"openbadgecredential" not in cleaned.data


def test_transparency_survives_the_reencoding():
    cleaned = images.read_upload(factories.png((64, 64), (0, 0, 0, 0)))
    assert decoded(cleaned.data).mode == "RGBA"
    assert decoded(cleaned.data).getpixel((1, 1))[3] == 0


def test_large_png_is_scaled_down_for_storage():
    cleaned = images.read_upload(factories.png((3000, 1500), (1, 2, 3), mode="RGB"))
    assert decoded(cleaned.data).size == (images.STORED_MAX_SIDE, images.STORED_MAX_SIDE // 2)


@pytest.mark.parametrize("side", [10_000, 5_000])
def test_decompression_bomb_is_refused_before_its_pixels_are_decoded(side):
    # 10 000² is beyond Pillow's own guard; 5 000² is within it but beyond ours.
    error = rejection(factories.bomb_png(side))
    assert error.reason == "too_many_pixels"
    assert "4096 × 4096" in str(error.message)


def test_truncated_png_is_refused_as_damaged():
    error = rejection(factories.truncated_png())
    assert error.reason == "unreadable"
    assert "damaged or incomplete" in str(error.message)


def test_pdf_renamed_png_is_refused_whatever_its_name():
    error = rejection(factories.PDF_RENAMED)
    assert error.reason == "not_png_or_svg"
    assert "not a PNG or SVG image" in str(error.message)


def test_file_over_two_megabytes_is_refused_before_being_read():
    error = rejection(factories.png()[:8] + b"\x00" * (images.MAX_UPLOAD_BYTES + 1))
    assert error.reason == "too_large"
    assert "2 MB" in str(error.message)


def test_empty_file_is_refused():
    assert rejection(b"").reason == "empty"


def test_tiny_png_is_refused():
    assert rejection(factories.png((8, 8))).reason == "too_small"


@pytest.mark.parametrize(("svg", "reason", "words"), [
    (factories.SVG_SCRIPT, "svg_forbidden_element", "<script>"),
    (factories.SVG_HTML_SCRIPT, "svg_forbidden_element", "<script>"),
    (factories.SVG_FOREIGN_OBJECT, "svg_forbidden_element", "<foreignObject>"),
    (factories.SVG_JAVASCRIPT_LINK, "svg_forbidden_element", "<a>"),
    (factories.SVG_ANIMATE_HREF, "svg_forbidden_element", "not allowed"),
    (factories.SVG_ONLOAD, "svg_event_handler", "onload"),
    (factories.SVG_EXTERNAL_ENTITY, "svg_dtd", "DTD or entities"),
    (factories.SVG_DTD, "svg_dtd", "DTD or entities"),
    (factories.SVG_BILLION_LAUGHS, "svg_dtd", "DTD or entities"),
    (factories.SVG_EXTERNAL_IMAGE, "svg_external_reference", "outside itself"),
    (factories.SVG_USE_EXTERNAL, "svg_external_reference", "outside itself"),
    (factories.SVG_STYLE_URL, "svg_external_reference", "outside itself"),
    (factories.SVG_STYLE_IMPORT, "svg_css", "import other files"),
    (b"<svg xmlns='http://www.w3.org/2000/svg'><rect", "svg_malformed", "not well-formed"),
])
def test_hostile_svg_is_refused_with_a_clear_message(svg, reason, words):
    error = rejection(svg)
    assert error.reason == reason
    assert words in str(error.message)


def test_set_element_is_refused_even_outside_a_link():
    svg = (b'<svg xmlns="http://www.w3.org/2000/svg"><rect width="1" height="1">'
           b'<set attributeName="fill" to="red"/></rect></svg>')
    assert rejection(svg).reason == "svg_forbidden_element"


def test_style_attribute_pointing_outside_is_refused():
    svg = b'<svg xmlns="http://www.w3.org/2000/svg"><rect style="fill:url(\'http://x.example/a\')"/></svg>'
    assert rejection(svg).reason == "svg_external_reference"


def test_deeply_nested_svg_is_refused_as_too_complex():
    depth = images.MAX_SVG_DEPTH + 5
    svg = b'<svg xmlns="http://www.w3.org/2000/svg">' + b"<g>" * depth + b"</g>" * depth + b"</svg>"
    assert rejection(svg).reason == "svg_too_complex"


def test_clean_svg_keeps_its_drawing_and_loses_editor_metadata_and_comments():
    cleaned = images.read_upload(factories.SVG_OK)
    assert cleaned.media_type == "image/svg+xml"
    text = cleaned.data.decode("utf-8")
    assert "inkscape" not in text and "metadata" not in text and "drawn by hand" not in text
    root = ElementTree.fromstring(cleaned.data)
    svg = "{http://www.w3.org/2000/svg}"
    assert root.tag == f"{svg}svg"
    assert root.find(f"{svg}circle").get("fill") == "url(#g)"
    assert root.find(f"{svg}use").get("{http://www.w3.org/1999/xlink}href") == "#g"
    assert root.find(f"{svg}text").text == "Vélo <3"
    assert root.find(f"{svg}title").text == "Bike & repair"


def test_embedded_png_picture_is_allowed_in_svg():
    root = ElementTree.fromstring(images.read_upload(factories.SVG_DATA_IMAGE).data)
    image = root.find("{http://www.w3.org/2000/svg}image")
    assert image.get("{http://www.w3.org/1999/xlink}href").startswith("data:image/png;base64,")


def test_svg_without_namespace_is_given_the_svg_namespace():
    root = ElementTree.fromstring(images.read_upload(factories.SVG_NO_NAMESPACE).data)
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    assert root.find("{http://www.w3.org/2000/svg}rect").get("fill") == "red"


def test_cleaned_svg_can_be_baked_and_read_back():
    from badgehub.credentials.baking import bake_svg

    cleaned = images.read_upload(factories.SVG_OK)
    baked = bake_svg(cleaned.data, '{"id": "urn:uuid:1"}')
    assert extract_from_svg(baked).payload == '{"id": "urn:uuid:1"}'


def test_reencoded_png_can_be_baked_and_read_back():
    cleaned = images.read_upload(factories.png())
    assert extract_from_png(bake_png(cleaned.data, '{"id": "urn:uuid:2"}')).payload == '{"id": "urn:uuid:2"}'


DESIGN = images.Design(shape="shield", background="#14532D", foreground="#fef9c3", pictogram="leaf",
                       text="Mécanicien·ne bénévole")


def test_generated_image_is_a_512_pixel_png_with_transparent_corners():
    made = images.generate(DESIGN)
    assert (made.media_type, made.source) == ("image/png", "generated")
    image = decoded(made.data)
    assert (image.format, image.size, image.mode) == ("PNG", (512, 512), "RGBA")
    assert image.getpixel((2, 510))[3] == 0
    assert image.getpixel((100, 100))[:3] == (0x14, 0x53, 0x2D)


def test_generated_image_is_the_same_for_the_same_design_and_differs_otherwise():
    first, second = images.generate(DESIGN), images.generate(DESIGN)
    assert first.data == second.data
    assert first.sha256 == second.sha256
    renamed = images.generate(images.Design(**{**DESIGN.__dict__, "text": "Réparer une crevaison"}))
    assert renamed.data != first.data


def test_generated_image_params_record_the_design_with_colours_in_lower_case():
    made = images.generate(DESIGN)
    assert made.params == {"shape": "shield", "background": "#14532d", "foreground": "#fef9c3",
                           "pictogram": "leaf", "text": "Mécanicien·ne bénévole", "version": images.GENERATOR_VERSION}
    assert images.generate(images.Design.from_params(made.params)).data == made.data


@pytest.mark.parametrize(("shape", "pictogram"), [
    (images.SHAPES[index % len(images.SHAPES)], pictogram) for index, pictogram in enumerate(images.PICTOGRAMS)])
def test_every_shape_and_pictogram_is_drawn(shape, pictogram):
    image = decoded(images.generate(images.Design(shape, "#1d4ed8", "#ffffff", pictogram, "Lire")).data)
    colours = {colour for _, colour in image.getcolors(512 * 512)}
    assert (255, 255, 255, 255) in colours and (0x1D, 0x4E, 0xD8, 255) in colours


def test_text_outside_the_font_is_simplified_not_drawn_as_boxes():
    with_unknown = images.generate(images.Design("circle", "#1d4ed8", "#ffffff", "star", "Lire ⚡ ǒ"))
    plain = images.generate(images.Design("circle", "#1d4ed8", "#ffffff", "star", "Lire o"))
    assert with_unknown.data == plain.data


def test_a_very_long_name_still_fits():
    image = decoded(images.generate(images.Design("hexagon", "#7c2d12", "#ffffff", "hand", "Très " * 80)).data)
    assert image.size == (512, 512)


@pytest.mark.parametrize(("change", "field", "reason"), [
    ({"shape": "triangle"}, "shape", "invalid_shape"),
    ({"pictogram": "skull"}, "pictogram", "invalid_pictogram"),
    ({"background": "blue"}, "background", "invalid_colour"),
    ({"foreground": "#fff"}, "foreground", "invalid_colour"),
    ({"background": "#777777", "foreground": "#888888"}, "foreground", "low_contrast"),
    ({"background": "#ffff00", "foreground": "#ffffff"}, "foreground", "low_contrast"),
])
def test_bad_design_is_refused_on_the_field_that_is_wrong(change, field, reason):
    with pytest.raises(ImageRejected) as caught:
        images.generate(images.Design(**{**DESIGN.__dict__, **change}))
    assert (caught.value.reason, caught.value.details["field"]) == (reason, field)


def test_contrast_ratio_follows_wcag():
    assert images.contrast_ratio("#000000", "#ffffff") == pytest.approx(21)
    assert images.contrast_ratio("#ffffff", "#ffffff") == pytest.approx(1)
    assert images.contrast_ratio("#1d4ed8", "#ffffff") > images.MIN_CONTRAST
