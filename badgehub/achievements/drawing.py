"""Badges drawn for organisations without a designer (:func:`generate`).

A 512×512 PNG drawn with Pillow from a :class:`Design`: a shape, two colours with enough contrast for text
(WCAG ratio ≥ :data:`MIN_CONTRAST`), a pictogram drawn here from primitives, and the badge's name. The same
design gives the same bytes (no time stamp, no randomness, a bundled font: DejaVu Sans Bold, subset to
Latin, in ``fonts/``, with Pillow's own default font as fallback).
"""

from __future__ import annotations

import functools
import math
import re
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from flask_babel import lazy_gettext as _l
from PIL import Image, ImageDraw, ImageFont

from badgehub.achievements.errors import ImageRejected
from badgehub.achievements.image_bytes import PNG, BadgeImage, encode_png

GENERATED_SIZE: Final = 512
MIN_CONTRAST: Final = 4.5
# Bumped whenever the drawing changes, so that stored parameters say which drawing made an image.
GENERATOR_VERSION: Final = 1

FONT_PATH: Final = Path(__file__).resolve().parent / "fonts" / "DejaVuSans-Bold-Latin.ttf"
# The code points kept in the bundled font (see fonts/README.md); anything else is simplified or dropped.
FONT_RANGES: Final = ((0x20, 0x7E), (0xA0, 0x17F), (0x2010, 0x2027), (0x2030, 0x203A), (0x20AC, 0x20AC),
                      (0x2212, 0x2212))
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
    return BadgeImage(encode_png(image), PNG, "generated", checked.params())


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
