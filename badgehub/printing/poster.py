"""The poster of a claim campaign: an A4 sheet to pin on the wall of the event, as PDF and as PNG.

Pure: plain values in, bytes out, the same bytes for the same values. The claims area wires it to its pages.

What a participant needs from across the room: the campaign's title, who awards the badge, the badge itself
(image and name), one instruction in large letters ("Scan to receive your badge"), a big QR code to the claim
page, and, for a phone without a camera app, the short address and the short code in letters large enough to
copy. The time window says until when claiming is open.

One layout, two outputs: :func:`poster_pdf` draws it with fpdf2 (vector text, for printing) and
:func:`poster_png` with Pillow at 150 dpi (1240 × 1754 px, to send by message or show on a screen). Both use
the bundled DejaVu Sans; texts are wrapped to their boxes and cut with "…", never spilling off the page.
"""

from __future__ import annotations

import datetime as dt
import functools
import io
from typing import Final, Protocol

from flask_babel import force_locale, gettext
from PIL import Image, ImageDraw, ImageFont

from badgehub.printing.pdf import A4_HEIGHT, A4_WIDTH, PT_TO_MM, Sheet
from badgehub.printing.qr import qr_image
from badgehub.printing.text import ELLIPSIS, FONT_BOLD, FONT_REGULAR, printable

LOCALES: Final = ("en", "fr")
PNG_WIDTH: Final = 1240  # A4 at 150 dpi
PNG_HEIGHT: Final = 1754
MARGIN: Final = 15.0
# A fixed date for the PDF's creation stamp: a poster's bytes depend on its content only.
CREATED: Final = dt.datetime(2020, 1, 1, tzinfo=dt.UTC)

INK: Final = (17, 24, 39)
MUTED: Final = (75, 85, 99)
ACCENT: Final = (29, 78, 216)

Colour = tuple[int, int, int]


class _Canvas(Protocol):
    def text(self, text: str, *, y: float, size: float, bold: bool = False, colour: Colour = INK,
             max_lines: int = 1) -> float: ...

    def picture(self, png: bytes, *, x: float, y: float, size: float) -> bool: ...

    def qr(self, url: str, *, x: float, y: float, size: float) -> None: ...


class _PdfCanvas:
    def __init__(self, sheet: Sheet) -> None:
        self.sheet = sheet

    def text(self, text: str, *, y: float, size: float, bold: bool = False, colour: Colour = INK,
             max_lines: int = 1) -> float:
        self.sheet.pdf.set_y(y)
        return self.sheet.block(text, size=size, bold=bold, colour=colour, max_lines=max_lines,
                                bottom=A4_HEIGHT - MARGIN + 2)

    def picture(self, png: bytes, *, x: float, y: float, size: float) -> bool:
        return self.sheet.image(png, "image/png", x=x, y=y, size=size)

    def qr(self, url: str, *, x: float, y: float, size: float) -> None:
        self.sheet.qr(url, x=x, y=y, size=size)


@functools.cache
def _font(bold: bool, pixels: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(str(FONT_BOLD if bold else FONT_REGULAR), pixels)


class _PngCanvas:
    """The same layout in pixels: millimetres are multiplied by ``scale`` (px per mm)."""

    def __init__(self) -> None:
        self.image = Image.new("RGB", (PNG_WIDTH, PNG_HEIGHT), (255, 255, 255))
        self.draw = ImageDraw.Draw(self.image)
        self.scale = PNG_WIDTH / A4_WIDTH

    def _px(self, mm: float) -> int:
        return round(mm * self.scale)

    def _wrap(self, text: str, font: ImageFont.FreeTypeFont, width: float, max_lines: int) -> list[str]:
        lines: list[str] = []
        for paragraph in text.split("\n"):
            current = ""
            for word in paragraph.split(" "):
                candidate = f"{current} {word}" if current else word
                if font.getlength(candidate) <= width:
                    current = candidate
                    continue
                if current:
                    lines.append(current)
                # A word wider than the box is broken between characters.
                current = ""
                for char in word:
                    if font.getlength(current + char) > width and current:
                        lines.append(current)
                        current = ""
                    current += char
            if current:
                lines.append(current)
            if len(lines) > max_lines:
                break
        if len(lines) <= max_lines:
            return lines
        kept = lines[:max_lines]
        last = kept[-1].rstrip()
        while last and font.getlength(last + ELLIPSIS) > width:
            last = last[:-1].rstrip()
        kept[-1] = last + ELLIPSIS
        return kept

    def text(self, text: str, *, y: float, size: float, bold: bool = False, colour: Colour = INK,
             max_lines: int = 1) -> float:
        if not text:
            return 0.0
        line_height = size * PT_TO_MM * 1.25
        room = int((A4_HEIGHT - MARGIN + 2 - y) // line_height)
        font = _font(bold, max(6, self._px(size * PT_TO_MM)))
        width = self._px(A4_WIDTH - 2 * MARGIN)
        lines = self._wrap(text, font, width, min(max_lines, room))
        for index, line in enumerate(lines):
            centre_y = self._px(y + line_height * (index + 0.5))
            self.draw.text((PNG_WIDTH / 2, centre_y), line, font=font, fill=colour, anchor="mm")
        return line_height * len(lines)

    def picture(self, png: bytes, *, x: float, y: float, size: float) -> bool:
        try:
            with Image.open(io.BytesIO(png)) as source:
                source.load()
                picture = source.convert("RGBA")
        except Exception:  # an unreadable image leaves its square empty rather than failing the poster
            return False
        box = self._px(size)
        ratio = box / max(picture.size)
        picture = picture.resize((max(1, round(picture.width * ratio)), max(1, round(picture.height * ratio))),
                                 Image.Resampling.LANCZOS)
        left = self._px(x) + (box - picture.width) // 2
        top = self._px(y) + (box - picture.height) // 2
        self.image.paste(picture, (left, top), picture)
        return True

    def qr(self, url: str, *, x: float, y: float, size: float) -> None:
        code = qr_image(url, scale=1)
        # Whole pixels per module (nearest neighbour): blurred module edges are what phones misread.
        per_module = max(1, self._px(size) // code.width)
        code = code.resize((code.width * per_module, code.height * per_module), Image.Resampling.NEAREST)
        offset = (self._px(size) - code.width) // 2
        self.image.paste(code, (self._px(x) + offset, self._px(y) + offset))

    def output(self) -> bytes:
        buffer = io.BytesIO()
        self.image.save(buffer, format="PNG", optimize=True, dpi=(150, 150))
        return buffer.getvalue()


def _texts(locale: str, *, short_code: str) -> dict[str, str]:
    with force_locale(locale):
        return {
            "scan": gettext("Scan to receive your badge"),
            "or_open": gettext("No camera? Open this address:"),
            "code": gettext("Code"),
            "steps": gettext("Scan, give your e-mail address, then confirm from the e-mail you receive: "
                             "your badge is on its way."),
            "subject": gettext("Claim poster"),
        }


def _draw(canvas: _Canvas, *, title: str, organisation_name: str, achievement_name: str,
          achievement_image_png: bytes | None, claim_url: str, short_code: str, window_text: str,
          locale: str) -> None:
    """The poster's layout, in millimetres from the top of an A4 page, for either canvas."""
    locale = locale if locale in LOCALES else "en"
    code = printable(short_code, limit=32)
    texts = _texts(locale, short_code=code)
    organisation = printable(organisation_name, limit=200)
    y = MARGIN
    y += canvas.text(organisation, y=y, size=13, bold=True, colour=MUTED, max_lines=1) + 2
    y += canvas.text(printable(title, limit=300), y=y, size=26, bold=True, max_lines=2) + 3
    image_size = 38.0
    if achievement_image_png and canvas.picture(achievement_image_png, x=(A4_WIDTH - image_size) / 2, y=y,
                                                size=image_size):
        y += image_size + 2
    y += canvas.text(printable(achievement_name, limit=300), y=y, size=16, bold=True, colour=ACCENT,
                     max_lines=2) + 5
    y += canvas.text(texts["scan"], y=y, size=26, bold=True, max_lines=2) + 2
    qr_size = 105.0
    canvas.qr(claim_url, x=(A4_WIDTH - qr_size) / 2, y=y, size=qr_size)
    y += qr_size + 3
    y += canvas.text(texts["or_open"], y=y, size=13, colour=MUTED, max_lines=1) + 1
    y += canvas.text(printable(claim_url, limit=500), y=y, size=18, bold=True, colour=ACCENT, max_lines=2) + 3
    if code:
        y += canvas.text(texts["code"], y=y, size=13, colour=MUTED, max_lines=1)
        y += canvas.text(code, y=y, size=40, bold=True, max_lines=1) + 3
    window = printable(window_text, limit=300)
    if window:
        y += canvas.text(window, y=y, size=14, bold=True, max_lines=2) + 3
    canvas.text(texts["steps"], y=y, size=11, colour=MUTED, max_lines=3)


def poster_pdf(*, title: str, organisation_name: str, achievement_name: str, achievement_image_png: bytes | None,
               claim_url: str, short_code: str, window_text: str, locale: str) -> bytes:
    """The A4 portrait poster as PDF (vector text; the QR code at 92 mm). Raises ValueError when
    ``claim_url`` does not fit in a QR code."""
    locale = locale if locale in LOCALES else "en"
    texts = _texts(locale, short_code=short_code)
    sheet = Sheet(title=printable(title, limit=300) or texts["subject"], author=organisation_name,
                  subject=texts["subject"], locale=locale, created=CREATED, margin=MARGIN)
    _draw(_PdfCanvas(sheet), title=title, organisation_name=organisation_name, achievement_name=achievement_name,
          achievement_image_png=achievement_image_png, claim_url=claim_url, short_code=short_code,
          window_text=window_text, locale=locale)
    return sheet.output()


def poster_png(*, title: str, organisation_name: str, achievement_name: str, achievement_image_png: bytes | None,
               claim_url: str, short_code: str, window_text: str, locale: str) -> bytes:
    """The same poster as a 1240 × 1754 PNG (A4 at 150 dpi). Raises ValueError like :func:`poster_pdf`."""
    canvas = _PngCanvas()
    _draw(canvas, title=title, organisation_name=organisation_name, achievement_name=achievement_name,
          achievement_image_png=achievement_image_png, claim_url=claim_url, short_code=short_code,
          window_text=window_text, locale=locale)
    return canvas.output()
