"""QR codes for printed and shown links: credential pages, share links, claim posters.

Pure code (no Flask, no database): a URL in, image bytes out. Made with ``qrcode`` (the package the product
brief names): PNG through Pillow, SVG through its one-path SVG image.

Every code uses error correction level **M** (15 % of the symbol may be damaged or covered: a folded poster,
a coffee stain) and the standard **quiet zone of 4 modules**, which phone scanners need to find the symbol.
Micro QR codes are never produced: many phone cameras do not read them. The same URL always gives the same
bytes, so pages and PDFs that embed a code stay deterministic.

Raises ValueError when the text does not fit in a QR code (more than about 2,300 bytes at level M).
"""

from __future__ import annotations

import io
from typing import Final
from xml.sax.saxutils import escape, quoteattr

import qrcode
import qrcode.constants
import qrcode.exceptions
import qrcode.image.pil
import qrcode.image.svg
from PIL import Image

from badgehub.printing.qr_draw import draw

QUIET_ZONE: Final = 4
SVG_UNIT: Final = 10
"""qrcode draws an SVG module of this box size as one unit of its viewBox (it calls the unit a millimetre);
the width and height we set then make each module ``scale`` CSS pixels."""


def _code(url: str, box_size: int = 1) -> qrcode.QRCode:
    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, box_size=box_size,
                         border=QUIET_ZONE)
    code.add_data(url)
    try:
        draw(code)  # what code.make(fit=True) draws, about three times sooner
    except (qrcode.exceptions.DataOverflowError, ValueError) as exc:
        # Past version 40, qrcode says "Invalid version (was 41 …)" rather than DataOverflowError.
        raise ValueError("The text is too long for a QR code.") from exc
    return code


def matrix(url: str) -> list[list[bool]]:
    """The modules of ``url``'s code, row by row, quiet zone included (True is dark). Raises ValueError if it
    is too long."""
    return [[bool(dark) for dark in row] for row in _code(url).get_matrix()]


def modules(url: str) -> int:
    """Side of the symbol in modules, quiet zone included (to size a printed code)."""
    return len(matrix(url))


def qr_svg(url: str, *, scale: int = 4, title: str | None = None, dark: str = "#000", light: str = "#fff") -> bytes:
    """An SVG QR code of ``url``: ``scale`` px per module, with a ``<title>`` for screen readers.

    ``title`` defaults to the URL itself (what a sighted user would get by scanning); pass a translated
    sentence when the page around it does not say what the code is for. The root element has ``role="img"``
    and is labelled by its title. No XML declaration, so it can be inlined in HTML.
    """
    code = _code(url, SVG_UNIT)
    side = len(code.get_matrix())
    path = code.make_image(image_factory=qrcode.image.svg.SvgPathImage).path.get("d")  # "M4,4H5V5H4z…" in modules
    text = title if title is not None else url
    label = escape(text)
    attribute = escape(text, {'"': "&quot;"})
    # role="img" + aria-label: read as one image with a name everywhere (some readers ignore a bare <title>).
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{side * scale}" height="{side * scale}" '
            f'viewBox="0 0 {side} {side}" class="qr" role="img" aria-label="{attribute}"><title>{label}</title>'
            f'<rect width="100%" height="100%" fill={quoteattr(light)}/>'
            f'<path d="{path}" fill={quoteattr(dark)}/></svg>').encode()


def qr_png(url: str, *, scale: int = 8, dark: str = "black", light: str = "white") -> bytes:
    """A PNG QR code of ``url``: ``scale`` px per module (8 px gives a ~300 px image for a short URL)."""
    code = _code(url, scale)
    if (dark, light) == ("black", "white"):
        # The image qrcode's PilImage draws (mode "1", one square per dark module), made in one piece: a
        # one-pixel-per-module image scaled up (a few per cent of the time of drawing 1,500 squares).
        rows = code.get_matrix()
        side = len(rows)
        packed = b"".join(bytes(0 if module else 255 for module in row) for row in rows)
        image = Image.frombytes("L", (side, side), packed).convert("1", dither=Image.Dither.NONE)
        if scale != 1:
            image = image.resize((side * scale, side * scale), Image.Resampling.NEAREST)
    else:
        image = code.make_image(image_factory=qrcode.image.pil.PilImage, fill_color=dark, back_color=light)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def qr_image(url: str, *, scale: int = 8) -> Image.Image:
    """The QR code as a Pillow image in mode ``L`` (for drawing on posters and PDFs)."""
    return Image.open(io.BytesIO(qr_png(url, scale=scale))).convert("L")
