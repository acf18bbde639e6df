"""Badge images: uploads checked and cleaned, and badges drawn for organisations without a designer.

Pure code over bytes (no database, no request). Two ways to get an image:

**Upload** (:func:`read_upload`): PNG or SVG only, what OB 3.0 allows for ``Achievement.image`` (OB3-BRIEF
§2.6, §4). The type is decided from the bytes, never from the file name, so a PDF renamed ``.png`` is refused.

* At most :data:`MAX_UPLOAD_BYTES` (2 MB).
* **PNG**: at most :data:`MAX_SIDE` pixels on a side, checked from the header before any pixel is decoded;
  Pillow's own decompression-bomb guard (``MAX_IMAGE_PIXELS``) stays on as a second line, its warning turned
  into a refusal. The pixels are decoded (a truncated file is refused), scaled down to at most
  :data:`STORED_MAX_SIDE` pixels on a side, and **re-encoded** into a new PNG: every ancillary chunk is gone —
  text chunks (a credential baked into the file by someone else), EXIF, ICC profile, animation frames.
* **SVG**: parsed with defusedxml, which refuses a DTD, entity declarations and external references.
  Then an allow-list: only the drawing elements of SVG 1.1 are accepted; ``<script>``, ``<foreignObject>``,
  ``<a>``, animation elements, ``<feImage>`` and HTML elements are refused with a message naming them, as are
  event-handler attributes (``on…``), links that leave the document (``href`` / ``xlink:href`` other than
  ``#id``, except an embedded ``data:image/png|jpeg`` picture in ``<image>``), and CSS (``style``
  attributes and ``<style>``) that imports or points ``url(…)`` outside the document. Elements and
  attributes of editors' own namespaces (Inkscape, Sodipodi, RDF metadata) are dropped silently.
  The result is written back by our own serialiser — no comments, no processing instructions, no
  declarations — and **kept as SVG** (``image/svg+xml``): there is no SVG rasteriser in the Python
  dependencies, OB 3.0 bakes SVG as well as PNG, and the image endpoint serves SVG under a policy that
  forbids scripts and any fetch anyway.

**Generated** (:func:`generate`): a 512×512 PNG drawn with Pillow from a :class:`Design` — a shape, two
colours with enough contrast for text (WCAG ratio ≥ :data:`MIN_CONTRAST`), a pictogram drawn here from
primitives, and the badge's name. The same design gives the same bytes (no time stamp, no randomness, a
bundled font: DejaVu Sans Bold, subset to Latin, in ``fonts/``, with Pillow's own default font as fallback).

Refusals are :class:`~badgehub.achievements.errors.ImageRejected` with a stable ``reason`` and a message
saying what to do.
"""

from __future__ import annotations

import functools
import hashlib
import io
import math
import re
import unicodedata
import warnings
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final
from xml.etree.ElementTree import Element, ParseError
from xml.sax.saxutils import escape

from defusedxml import DefusedXmlException
from defusedxml import ElementTree as SafeET
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from PIL import Image, ImageDraw, ImageFont

from badgehub.achievements.errors import ImageRejected

PNG: Final = "image/png"
SVG: Final = "image/svg+xml"
MEDIA_TYPES: Final = frozenset({PNG, SVG})

MAX_UPLOAD_BYTES: Final = 2 * 1024 * 1024
MAX_SIDE: Final = 4096
MIN_SIDE: Final = 32
STORED_MAX_SIDE: Final = 1024
MAX_SVG_ELEMENTS: Final = 20_000
MAX_SVG_DEPTH: Final = 64

GENERATED_SIZE: Final = 512
MIN_CONTRAST: Final = 4.5
# Bumped whenever the drawing changes, so that stored parameters say which drawing made an image.
GENERATOR_VERSION: Final = 1

PNG_SIGNATURE: Final = b"\x89PNG\r\n\x1a\n"
SVG_NS: Final = "http://www.w3.org/2000/svg"
XLINK_NS: Final = "http://www.w3.org/1999/xlink"
XML_NS: Final = "http://www.w3.org/XML/1998/namespace"
XHTML_NS: Final = "http://www.w3.org/1999/xhtml"

FONT_PATH: Final = Path(__file__).resolve().parent / "fonts" / "DejaVuSans-Bold-Latin.ttf"
# The code points kept in the bundled font (see fonts/README.md); anything else is simplified or dropped.
FONT_RANGES: Final = ((0x20, 0x7E), (0xA0, 0x17F), (0x2010, 0x2027), (0x2030, 0x203A), (0x20AC, 0x20AC),
                      (0x2212, 0x2212))


@dataclass(frozen=True)
class BadgeImage:
    """Image bytes ready to store: ``media_type`` is ``image/png`` or ``image/svg+xml``.

    ``source`` is ``upload`` or ``generated``; ``params`` holds the design of a generated image.
    """

    data: bytes
    media_type: str
    source: str
    params: Mapping[str, Any] | None = field(default=None)

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()


def read_upload(data: bytes) -> BadgeImage:
    """Check an uploaded file and return the cleaned image (PNG re-encoded, SVG sanitised).

    Raises ImageRejected (``empty``, ``too_large``, ``not_png_or_svg``, ``too_many_pixels``, ``too_small``,
    ``unreadable``, ``svg_malformed``, ``svg_dtd``, ``svg_forbidden_element``, ``svg_event_handler``,
    ``svg_external_reference``, ``svg_css``, ``svg_too_complex``).
    """
    if not data:
        raise ImageRejected("empty", _l("The file is empty. Choose a PNG or SVG image."))
    if len(data) > MAX_UPLOAD_BYTES:
        raise ImageRejected("too_large", _l("The image is larger than %(limit)s MB. Make it smaller and try again.",
                                            limit=MAX_UPLOAD_BYTES // (1024 * 1024)))
    if data.startswith(PNG_SIGNATURE):
        return BadgeImage(_clean_png(data), PNG, "upload")
    if _looks_like_svg(data):
        return BadgeImage(sanitise_svg(data), SVG, "upload")
    raise ImageRejected("not_png_or_svg", _l(
        "This file is not a PNG or SVG image, whatever its name says. Open Badges images must be PNG or SVG."))


def _looks_like_svg(data: bytes) -> bool:
    head = data[:4096].lstrip(b"\xef\xbb\xbf").lstrip()
    return head.startswith(b"<") and b"<svg" in data[:65536]


# --------------------------------------------------------------------------------------------------- PNG


def _too_many_pixels() -> ImageRejected:
    return ImageRejected("too_many_pixels", _l(
        "The image is too large: at most %(side)s × %(side)s pixels. Resize it and try again.", side=MAX_SIDE))


def _clean_png(data: bytes) -> bytes:
    """Decode the PNG within the pixel limits and re-encode its pixels alone into a new PNG."""
    problem: ImageRejected | None = None
    pixels: Image.Image | None = None
    with warnings.catch_warnings():
        # Pillow only warns between MAX_IMAGE_PIXELS and twice that; for us a warning is a refusal.
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            with Image.open(io.BytesIO(data), formats=["PNG"]) as decoded:
                width, height = decoded.size
                if width > MAX_SIDE or height > MAX_SIDE:
                    problem = _too_many_pixels()
                elif width < MIN_SIDE or height < MIN_SIDE:
                    problem = ImageRejected("too_small", _l(
                        "The image is too small: at least %(side)s × %(side)s pixels.", side=MIN_SIDE))
                else:
                    decoded.load()
                    has_alpha = decoded.mode in ("RGBA", "LA", "PA", "RGBa", "La") or "transparency" in decoded.info
                    mode = "RGBA" if has_alpha else "RGB"
                    converted = decoded.convert(mode)
                    # A fresh image carries no info dict: nothing of the original file but its pixels survives.
                    pixels = Image.new(mode, converted.size)
                    pixels.paste(converted)
        except (Image.DecompressionBombError, Image.DecompressionBombWarning):
            problem = _too_many_pixels()
        except Exception:  # any decoder failure on untrusted bytes means "unreadable"
            problem = ImageRejected("unreadable", _l(
                "This PNG file is damaged or incomplete. Export it again and try again."))
    if problem is not None:
        raise problem
    assert pixels is not None
    if max(pixels.size) > STORED_MAX_SIDE:
        pixels.thumbnail((STORED_MAX_SIDE, STORED_MAX_SIDE), Image.Resampling.LANCZOS)
    return _encode_png(pixels)


def _encode_png(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", compress_level=9)
    return buffer.getvalue()


# --------------------------------------------------------------------------------------------------- SVG

_SVG_ELEMENTS: Final = frozenset({
    "svg", "g", "defs", "title", "desc", "symbol", "use", "path", "rect", "circle", "ellipse", "line",
    "polyline", "polygon", "text", "tspan", "textPath", "linearGradient", "radialGradient", "stop", "clipPath",
    "mask", "pattern", "marker", "filter", "image", "style", "switch",
    "feBlend", "feColorMatrix", "feComponentTransfer", "feComposite", "feConvolveMatrix", "feDiffuseLighting",
    "feDisplacementMap", "feDistantLight", "feDropShadow", "feFlood", "feFuncA", "feFuncB", "feFuncG",
    "feFuncR", "feGaussianBlur", "feMerge", "feMergeNode", "feMorphology", "feOffset", "fePointLight",
    "feSpecularLighting", "feSpotLight", "feTile", "feTurbulence",
})  # fmt: skip
# Silently dropped: editors' metadata, which never draws anything.
_SVG_DROPPED: Final = frozenset({"metadata"})
_KEPT_XML_ATTRIBUTES: Final = frozenset({"space", "lang"})
_URL_RE: Final = re.compile(r"url\(\s*(['\"]?)(.*?)\1\s*\)", re.IGNORECASE | re.DOTALL)
_DATA_IMAGE_RE: Final = re.compile(r"data:image/(png|jpeg);base64,[A-Za-z0-9+/=\s]*", re.IGNORECASE)
_CSS_FORBIDDEN: Final = ("@import", "expression(", "javascript:", "behavior:", "-moz-binding", "\\")
_CSS_COMMENT_RE: Final = re.compile(r"/\*.*?\*/", re.DOTALL)


def _split(name: str) -> tuple[str | None, str]:
    if name.startswith("{"):
        namespace, _, local = name[1:].partition("}")
        return namespace, local
    return None, name


# Messages naming something found in the file use gettext, not lazy_gettext: Flask-Babel's lazy strings
# declare themselves safe HTML (their __html__ does not escape), and an element name comes from the uploader.
def _refuse_element(name: str) -> ImageRejected:
    return ImageRejected("svg_forbidden_element", gettext(
        "This SVG contains <%(element)s>, which is not allowed in a badge image (no scripts, links, animations, "
        "embedded web content or external images). Remove it, or export the image as PNG.", element=name))


def _refuse_reference() -> ImageRejected:
    return ImageRejected("svg_external_reference", _l(
        "This SVG refers to files or addresses outside itself. A badge image must be self-contained: embed "
        "everything, or export the image as PNG."))


def _check_css(text: str) -> None:
    css = _CSS_COMMENT_RE.sub("", text).lower()
    if any(token in css for token in _CSS_FORBIDDEN):
        raise ImageRejected("svg_css", _l(
            "This SVG's styles import other files or use constructs that are not allowed. Simplify the styles, "
            "or export the image as PNG."))
    _check_urls(css)


def _check_urls(value: str) -> None:
    for match in _URL_RE.finditer(value):
        if not match.group(2).strip().startswith("#"):
            raise _refuse_reference()
    if "url(" in value.lower() and not _URL_RE.search(value):
        raise _refuse_reference()


def _check_href(value: str, element: str) -> None:
    target = value.strip()
    if target.startswith("#"):
        return
    if element == "image" and _DATA_IMAGE_RE.fullmatch(target):
        return
    raise _refuse_reference()


def _clean_attributes(element: Element, local: str) -> None:
    kept: dict[str, str] = {}
    for name, value in element.attrib.items():
        namespace, attribute = _split(name)
        if namespace is None:
            if attribute.lower().startswith("on"):
                raise ImageRejected("svg_event_handler", gettext(
                    "This SVG contains event handlers (%(attribute)s), which could run code. Remove them, or "
                    "export the image as PNG.", attribute=attribute))
            if attribute == "href":
                _check_href(value, local)
            elif attribute == "style":
                _check_css(value)
            else:
                _check_urls(value)
            kept[name] = value
        elif namespace == XLINK_NS:
            if attribute == "href":
                _check_href(value, local)
                kept[name] = value
        elif namespace == XML_NS and attribute in _KEPT_XML_ATTRIBUTES:
            kept[name] = value
    element.attrib.clear()
    element.attrib.update(kept)


def _walk(root: Element) -> Iterator[tuple[Element, int]]:
    """Every element with its depth, without recursion (so that a deep document cannot exhaust the stack)."""
    stack = [(root, 1)]
    while stack:
        element, depth = stack.pop()
        yield element, depth
        stack.extend((child, depth + 1) for child in reversed(list(element)))


def sanitise_svg(data: bytes) -> bytes:
    """Return a cleaned copy of an SVG document, or raise ImageRejected (see the module docstring)."""
    try:
        root = SafeET.fromstring(data, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except DefusedXmlException as exc:
        raise ImageRejected("svg_dtd", _l(
            "This SVG declares a DTD or entities, which are not allowed (they can read files or exhaust the "
            "server). Export the image again without a DOCTYPE, or as PNG.")) from exc
    except (ParseError, ValueError, UnicodeError) as exc:
        raise ImageRejected("svg_malformed", _l(
            "This SVG file is not well-formed XML. Export it again and try again.")) from exc
    if _split(root.tag) not in ((SVG_NS, "svg"), (None, "svg")):
        raise ImageRejected("svg_malformed", _l("This file is not an SVG image."))

    count = 0
    for element, depth in _walk(root):
        count += 1
        if count > MAX_SVG_ELEMENTS or depth > MAX_SVG_DEPTH:
            raise ImageRejected("svg_too_complex", _l(
                "This SVG is too complex for a badge image. Simplify it, or export it as PNG."))
        namespace, local = _split(element.tag)
        if namespace is None:
            # A document without the SVG namespace is still SVG to its author; write it with the namespace.
            namespace = SVG_NS
            element.tag = f"{{{SVG_NS}}}{local}"
        if namespace == XHTML_NS:
            raise _refuse_element(local)
        if namespace != SVG_NS:
            continue  # dropped below, with everything inside it
        if local not in _SVG_ELEMENTS and local not in _SVG_DROPPED:
            raise _refuse_element(local)
        for child in list(element):
            child_namespace, child_local = _split(child.tag)
            if child_namespace not in (None, SVG_NS, XHTML_NS) or (
                    child_namespace == SVG_NS and child_local in _SVG_DROPPED):
                element.remove(child)
        _clean_attributes(element, local)
        if local == "style":
            _check_css(element.text or "")
    return _serialise(root)


def _qualified(name: str) -> str:
    namespace, local = _split(name)
    if namespace == XLINK_NS:
        return f"xlink:{local}"
    if namespace == XML_NS:
        return f"xml:{local}"
    return local


def _serialise(root: Element) -> bytes:
    uses_xlink = any(_split(name)[0] == XLINK_NS for element in root.iter() for name in element.attrib)
    parts = ['<?xml version="1.0" encoding="UTF-8"?>\n']
    attribute_escapes = {'"': "&quot;", "\n": "&#10;", "\r": "&#13;", "\t": "&#9;"}

    def write(element: Element, top: bool) -> None:
        tag = _split(element.tag)[1]
        parts.append(f"<{tag}")
        if top:
            parts.append(f' xmlns="{SVG_NS}"')
            if uses_xlink:
                parts.append(f' xmlns:xlink="{XLINK_NS}"')
        for name, value in element.attrib.items():
            parts.append(f' {_qualified(name)}="{escape(value, attribute_escapes)}"')
        children = list(element)
        if not children and not element.text:
            parts.append("/>")
        else:
            parts.append(">")
            parts.append(escape(element.text or ""))
            for child in children:
                write(child, False)
                parts.append(escape(child.tail or ""))
            parts.append(f"</{tag}>")

    # Depth is capped at MAX_SVG_DEPTH by the caller, so this recursion is bounded.
    write(root, True)
    return "".join(parts).encode("utf-8")


# ---------------------------------------------------------------------------------------------- generated

SHAPES: Final = ("circle", "shield", "hexagon", "rounded_square")
PICTOGRAMS: Final = ("star", "book", "leaf", "gear", "heart", "speech", "hand", "laptop")
_HEX_RE: Final = re.compile(r"#[0-9a-fA-F]{6}")
_SCALE: Final = 4  # drawn four times larger, then reduced: smooth edges from primitives that have none


@dataclass(frozen=True)
class Design:
    """What a generated badge looks like. Colours are ``#rrggbb``; ``text`` is written on the badge."""

    shape: str
    background: str
    foreground: str
    pictogram: str
    text: str

    def params(self) -> dict[str, Any]:
        """The design as stored with the image (``version`` says which drawing code made it)."""
        return {"shape": self.shape, "background": self.background, "foreground": self.foreground,
                "pictogram": self.pictogram, "text": self.text, "version": GENERATOR_VERSION}

    @classmethod
    def from_params(cls, params: Mapping[str, Any], *, text: str | None = None) -> Design:
        """The design stored with an image, optionally with another text (the badge was renamed)."""
        return cls(shape=str(params.get("shape", "")), background=str(params.get("background", "")),
                   foreground=str(params.get("foreground", "")), pictogram=str(params.get("pictogram", "")),
                   text=str(params.get("text", "")) if text is None else text)


def _rgb(value: str) -> tuple[int, int, int]:
    return int(value[1:3], 16), int(value[3:5], 16), int(value[5:7], 16)


def contrast_ratio(first: str, second: str) -> float:
    """The WCAG 2 contrast ratio of two ``#rrggbb`` colours (1 to 21)."""

    def luminance(colour: str) -> float:
        channels = [c / 255 for c in _rgb(colour)]
        linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
        return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]

    light, dark = sorted((luminance(first), luminance(second)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def check_design(design: Design) -> Design:
    """Return the design with colours in lower case, or raise ImageRejected naming the wrong field.

    Reasons: ``invalid_shape``, ``invalid_pictogram``, ``invalid_colour``, ``low_contrast``.
    """
    if design.shape not in SHAPES:
        raise ImageRejected("invalid_shape", _l("Choose one of the shapes offered."), field="shape")
    if design.pictogram not in PICTOGRAMS:
        raise ImageRejected("invalid_pictogram", _l("Choose one of the pictograms offered."), field="pictogram")
    for name in ("background", "foreground"):
        if not _HEX_RE.fullmatch(getattr(design, name) or ""):
            raise ImageRejected("invalid_colour", _l("Give a colour as # followed by six hexadecimal digits, "
                                                     "e.g. #1d4ed8."), field=name)
    background, foreground = design.background.lower(), design.foreground.lower()
    ratio = contrast_ratio(background, foreground)
    if ratio < MIN_CONTRAST:
        raise ImageRejected("low_contrast", _l(
            "These two colours are too close to read the text (contrast %(ratio)s:1, at least %(minimum)s:1 is "
            "needed). Choose a darker or a lighter colour.", ratio=f"{ratio:.1f}", minimum=MIN_CONTRAST),
            field="foreground")
    return Design(design.shape, background, foreground, design.pictogram, design.text)


def generate(design: Design) -> BadgeImage:
    """Draw the badge: a 512×512 PNG with a transparent corner area; the same design gives the same bytes.

    Raises ImageRejected as :func:`check_design` does.
    """
    checked = check_design(design)
    size = GENERATED_SIZE * _SCALE
    canvas = Image.new("RGBA", (size, size), (0, 0, 0, 0))
    draw = ImageDraw.Draw(canvas)
    background, foreground = _rgb(checked.background), _rgb(checked.foreground)
    _SHAPE_DRAWERS[checked.shape](draw, background, foreground)
    box = (171 * _SCALE, 92 * _SCALE, 341 * _SCALE, 262 * _SCALE)
    _PICTOGRAM_DRAWERS[checked.pictogram](draw, _Box(*box), foreground, background)
    top, bottom, width = _TEXT_BOXES[checked.shape]
    _draw_text(draw, _printable(checked.text), foreground, top=top, bottom=bottom, width=width)
    image = canvas.resize((GENERATED_SIZE, GENERATED_SIZE), Image.Resampling.LANCZOS)
    return BadgeImage(_encode_png(image), PNG, "generated", checked.params())


def _s(value: float) -> float:
    return value * _SCALE


def _hexagon(radius: float) -> list[tuple[float, float]]:
    centre = _s(256)
    return [(centre + _s(radius) * math.cos(math.radians(-90 + 60 * k)),
             centre + _s(radius) * math.sin(math.radians(-90 + 60 * k))) for k in range(6)]


def _shield(inset: float) -> list[tuple[float, float]]:
    left, right, top, shoulder, tip = 40 + inset, 472 - inset, 24 + inset, 290, 496 - inset * 1.4
    points = [(left, top), (right, top), (right, shoulder)]
    # The lower edges are quadratic curves down to the tip.
    for side_start, control in (((right, shoulder), (right, 430)), ((256, tip), (left, 430))):
        end = (256, tip) if side_start[0] == right else (left, shoulder)
        for step in range(1, 21):
            t = step / 20
            x = (1 - t) ** 2 * side_start[0] + 2 * (1 - t) * t * control[0] + t * t * end[0]
            y = (1 - t) ** 2 * side_start[1] + 2 * (1 - t) * t * control[1] + t * t * end[1]
            points.append((x, y))
    return [(_s(x), _s(y)) for x, y in points]


Colour = tuple[int, int, int]


def _draw_circle(draw: ImageDraw.ImageDraw, background: Colour, foreground: Colour) -> None:
    draw.ellipse((_s(16), _s(16), _s(496), _s(496)), fill=background)
    draw.ellipse((_s(34), _s(34), _s(478), _s(478)), outline=foreground, width=int(_s(8)))


def _draw_rounded_square(draw: ImageDraw.ImageDraw, background: Colour, foreground: Colour) -> None:
    draw.rounded_rectangle((_s(20), _s(20), _s(492), _s(492)), radius=_s(84), fill=background)
    draw.rounded_rectangle((_s(38), _s(38), _s(474), _s(474)), radius=_s(68), outline=foreground,
                           width=int(_s(8)))


def _draw_hexagon(draw: ImageDraw.ImageDraw, background: Colour, foreground: Colour) -> None:
    draw.polygon(_hexagon(248), fill=background)
    draw.polygon(_hexagon(226), outline=foreground, width=int(_s(8)))


def _draw_shield(draw: ImageDraw.ImageDraw, background: Colour, foreground: Colour) -> None:
    draw.polygon(_shield(0), fill=background)
    draw.polygon(_shield(18), outline=foreground, width=int(_s(8)))


# Where the name goes in each shape (top, bottom, width, in 512-pixel units): inside the inner outline down to
# where the shape narrows (the lower sides of the hexagon and the shield, the curve of the circle).
_TEXT_BOXES: Final[dict[str, tuple[float, float, float]]] = {
    "circle": (282, 415, 320), "rounded_square": (282, 430, 360), "hexagon": (280, 398, 256),
    "shield": (282, 405, 280),
}

_SHAPE_DRAWERS: Final[dict[str, Callable[[ImageDraw.ImageDraw, Colour, Colour], None]]] = {
    "circle": _draw_circle, "shield": _draw_shield, "hexagon": _draw_hexagon,
    "rounded_square": _draw_rounded_square,
}


@dataclass(frozen=True)
class _Box:
    """The pictogram's square; ``at(x, y)`` maps unit coordinates (0–1) into it."""

    left: float
    top: float
    right: float
    bottom: float

    def at(self, x: float, y: float) -> tuple[float, float]:
        return self.left + x * (self.right - self.left), self.top + y * (self.bottom - self.top)

    def rect(self, x0: float, y0: float, x1: float, y1: float) -> tuple[float, float, float, float]:
        return (*self.at(x0, y0), *self.at(x1, y1))

    def length(self, value: float) -> float:
        return value * (self.right - self.left)


def _star(draw: ImageDraw.ImageDraw, box: _Box, ink: Colour, paper: Colour) -> None:
    points = []
    for k in range(10):
        radius = 0.5 if k % 2 == 0 else 0.2
        angle = math.radians(-90 + 36 * k)
        points.append(box.at(0.5 + radius * math.cos(angle), 0.53 + radius * math.sin(angle)))
    draw.polygon(points, fill=ink)


def _heart(draw: ImageDraw.ImageDraw, box: _Box, ink: Colour, paper: Colour) -> None:
    draw.ellipse(box.rect(0.06, 0.12, 0.54, 0.6), fill=ink)
    draw.ellipse(box.rect(0.46, 0.12, 0.94, 0.6), fill=ink)
    draw.polygon([box.at(0.09, 0.46), box.at(0.91, 0.46), box.at(0.5, 0.92)], fill=ink)
    draw.polygon([box.at(0.1, 0.44), box.at(0.9, 0.44), box.at(0.5, 0.6)], fill=ink)


def _book(draw: ImageDraw.ImageDraw, box: _Box, ink: Colour, paper: Colour) -> None:
    draw.polygon([box.at(0.02, 0.16), box.at(0.47, 0.24), box.at(0.47, 0.9), box.at(0.02, 0.82)], fill=ink)
    draw.polygon([box.at(0.98, 0.16), box.at(0.53, 0.24), box.at(0.53, 0.9), box.at(0.98, 0.82)], fill=ink)
    width = int(box.length(0.035))
    for row in (0.38, 0.52, 0.66):
        draw.line([box.at(0.1, row - 0.02), box.at(0.39, row + 0.03)], fill=paper, width=width)
        draw.line([box.at(0.9, row - 0.02), box.at(0.61, row + 0.03)], fill=paper, width=width)


def _leaf(draw: ImageDraw.ImageDraw, box: _Box, ink: Colour, paper: Colour) -> None:
    start, end = (0.16, 0.84), (0.88, 0.12)
    dx, dy = end[0] - start[0], end[1] - start[1]
    length = math.hypot(dx, dy)
    normal = (-dy / length, dx / length)
    upper, lower = [], []
    for step in range(41):
        t = step / 40
        bulge = 0.24 * math.sin(math.pi * t) * (1 - 0.25 * t)
        x, y = start[0] + dx * t, start[1] + dy * t
        upper.append(box.at(x + normal[0] * bulge, y + normal[1] * bulge))
        lower.append(box.at(x - normal[0] * bulge, y - normal[1] * bulge))
    draw.polygon(upper + lower[::-1], fill=ink)
    draw.line([box.at(0.2, 0.8), box.at(0.78, 0.22)], fill=paper, width=int(box.length(0.04)))
    draw.line([box.at(0.04, 0.96), box.at(0.2, 0.8)], fill=ink, width=int(box.length(0.06)))


def _gear(draw: ImageDraw.ImageDraw, box: _Box, ink: Colour, paper: Colour) -> None:
    centre = (0.5, 0.5)
    for k in range(8):
        angle = math.radians(22.5 * 2 * k)
        corners = []
        for along, across in ((0.26, -0.08), (0.47, -0.07), (0.47, 0.07), (0.26, 0.08)):
            x = centre[0] + along * math.cos(angle) - across * math.sin(angle)
            y = centre[1] + along * math.sin(angle) + across * math.cos(angle)
            corners.append(box.at(x, y))
        draw.polygon(corners, fill=ink)
    draw.ellipse(box.rect(0.17, 0.17, 0.83, 0.83), fill=ink)
    draw.ellipse(box.rect(0.37, 0.37, 0.63, 0.63), fill=paper)


def _speech(draw: ImageDraw.ImageDraw, box: _Box, ink: Colour, paper: Colour) -> None:
    draw.rounded_rectangle(box.rect(0.02, 0.1, 0.98, 0.7), radius=box.length(0.16), fill=ink)
    draw.polygon([box.at(0.22, 0.62), box.at(0.48, 0.62), box.at(0.16, 0.92)], fill=ink)
    for x in (0.3, 0.5, 0.7):
        draw.ellipse(box.rect(x - 0.065, 0.335, x + 0.065, 0.465), fill=paper)


def _hand(draw: ImageDraw.ImageDraw, box: _Box, ink: Colour, paper: Colour) -> None:
    radius = box.length(0.055)
    for left, top in ((0.22, 0.16), (0.35, 0.06), (0.48, 0.04), (0.61, 0.12)):
        draw.rounded_rectangle(box.rect(left, top, left + 0.115, 0.62), radius=radius, fill=ink)
    draw.rounded_rectangle(box.rect(0.22, 0.42, 0.725, 0.98), radius=box.length(0.14), fill=ink)
    thumb = [box.at(0.64, 0.68), box.at(0.86, 0.36), box.at(0.95, 0.43), box.at(0.74, 0.8)]
    draw.polygon(thumb, fill=ink)
    draw.ellipse(box.rect(0.855, 0.33, 0.965, 0.44), fill=ink)


def _laptop(draw: ImageDraw.ImageDraw, box: _Box, ink: Colour, paper: Colour) -> None:
    draw.rounded_rectangle(box.rect(0.12, 0.14, 0.88, 0.68), radius=box.length(0.05), fill=ink)
    draw.rectangle(box.rect(0.19, 0.21, 0.81, 0.61), fill=paper)
    draw.polygon([box.at(0.04, 0.72), box.at(0.96, 0.72), box.at(1.0, 0.84), box.at(0.0, 0.84)], fill=ink)
    draw.rectangle(box.rect(0.42, 0.74, 0.58, 0.77), fill=paper)


_PICTOGRAM_DRAWERS: Final[dict[str, Callable[[ImageDraw.ImageDraw, _Box, Colour, Colour], None]]] = {
    "star": _star, "book": _book, "leaf": _leaf, "gear": _gear, "heart": _heart, "speech": _speech,
    "hand": _hand, "laptop": _laptop,
}


def _covered(char: str) -> bool:
    code = ord(char)
    return any(low <= code <= high for low, high in FONT_RANGES)


def _printable(text: str) -> str:
    """The text with every character the font can draw: others are simplified (ő → o) or dropped."""
    out = []
    for char in " ".join(text.split()):
        if _covered(char):
            out.append(char)
        else:
            out.extend(c for c in unicodedata.normalize("NFKD", char) if _covered(c))
    return " ".join("".join(out).split())


@functools.lru_cache(maxsize=32)
def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    # BASIC layout: the same glyph positions whether or not Pillow was built with libraqm.
    try:
        return ImageFont.truetype(str(FONT_PATH), size, layout_engine=ImageFont.Layout.BASIC)
    except OSError:
        return ImageFont.load_default(size=size)


def _text_width(font: ImageFont.FreeTypeFont | ImageFont.ImageFont, text: str) -> float:
    return float(font.getlength(text))


def _words(text: str) -> list[str]:
    """The text's words, with French spaced punctuation kept on the line of its word (« mot », a : b)."""
    words: list[str] = []
    for token in text.split(" "):
        if words and token in (":", ";", "!", "?", "»", "–", "—"):
            words[-1] = f"{words[-1]}\u00a0{token}"
        elif words and words[-1] == "«":
            words[-1] = f"«\u00a0{token}"
        else:
            words.append(token)
    return words


def _wrap(text: str, font: ImageFont.FreeTypeFont | ImageFont.ImageFont, width: float, *,
          cut_words: bool) -> list[str] | None:
    """Greedy word wrap. A word wider than the line is cut when ``cut_words``; otherwise the answer is None."""
    lines: list[str] = []
    current = ""
    for word in _words(text):
        candidate = f"{current} {word}" if current else word
        if _text_width(font, candidate) <= width:
            current = candidate
            continue
        if current:
            lines.append(current)
        if _text_width(font, word) <= width:
            current = word
            continue
        if not cut_words:
            return None
        current = ""
        for char in word:
            if _text_width(font, current + char) <= width:
                current += char
            else:
                lines.append(current)
                current = char
    if current:
        lines.append(current)
    return lines


def _layout(text: str, width: float, height: float) -> tuple[int, list[str]]:
    """The largest font size (46 down to 20 px) at which the text fits in at most three lines, without cutting
    a word if any size allows it; at the smallest size, words are cut and a fourth line becomes an ellipsis."""
    for cut_words in (False, True):
        for size in range(46, 19, -2):
            lines = _wrap(text, _font(size * _SCALE), _s(width), cut_words=cut_words)
            if lines is not None and len(lines) <= 3 and len(lines) * size * 1.2 <= height:
                return size, lines
    size = 20
    font = _font(size * _SCALE)
    lines = _wrap(text, font, _s(width), cut_words=True) or []
    last = lines[2]
    while last and _text_width(font, last + "…") > _s(width):
        last = last[:-1]
    return size, [*lines[:2], last.rstrip() + "…"]


def _draw_text(draw: ImageDraw.ImageDraw, text: str, ink: Colour, *, top: float, bottom: float,
               width: float) -> None:
    if not text:
        return
    size, lines = _layout(text, width, bottom - top)
    font = _font(size * _SCALE)
    line_height = size * 1.2
    first = top + (bottom - top - line_height * len(lines)) / 2
    for index, line in enumerate(lines):
        centre_y = first + line_height * (index + 0.5)
        draw.text((_s(256), _s(centre_y)), line, font=font, fill=ink, anchor="mm")
