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

from badgehub.printing.qr_draw import Symbol, draw, symbol

QUIET_ZONE: Final = 4
SVG_UNIT: Final = 10
"""qrcode draws an SVG module of this box size as one unit of its viewBox (it calls the unit a millimetre);
the width and height we set then make each module ``scale`` CSS pixels."""


def _new_code(url: str, box_size: int = 1) -> qrcode.QRCode:
    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, box_size=box_size,
                         border=QUIET_ZONE)
    code.add_data(url)
    return code


def _too_long() -> ValueError:
    # Past version 40, qrcode says "Invalid version (was 41 …)" rather than DataOverflowError.
    return ValueError("The text is too long for a QR code.")


def _code(url: str, box_size: int = 1) -> qrcode.QRCode:
    code = _new_code(url, box_size)
    try:
        draw(code)  # what code.make(fit=True) draws, about three times sooner
    except (qrcode.exceptions.DataOverflowError, ValueError) as exc:
        raise _too_long() from exc
    return code


def _symbol(url: str) -> Symbol:
    try:
        return symbol(_new_code(url))
    except (qrcode.exceptions.DataOverflowError, ValueError) as exc:
        raise _too_long() from exc


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
    if (dark, light) == ("black", "white"):
        image = _black_on_white(_symbol(url), scale)
    else:
        image = _code(url, scale).make_image(image_factory=qrcode.image.pil.PilImage, fill_color=dark,
                                             back_color=light)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def _black_on_white(drawn: Symbol, scale: int) -> Image.Image:
    """The image qrcode's ``PilImage`` draws for ``drawn`` (mode "1", ``scale`` pixels per module, the quiet zone
    light), made in one piece rather than one square per dark module: each row of modules written as the bits
    of a mode "1" image (1 is light), then the image scaled up."""
    side = drawn.n + 2 * QUIET_ZONE
    padding = "0" * (-side % 8)
    light = int("1" * side + padding, 2).to_bytes((side + len(padding)) // 8)
    edge = "1" * QUIET_ZONE
    full = (1 << drawn.n) - 1
    rows = [light] * QUIET_ZONE
    for r in range(drawn.n):
        # format() writes module n-1 first: reversed, module 0 comes first, as in the image.
        line = edge + format(drawn.row(r) ^ full, f"0{drawn.n}b")[::-1] + edge + padding
        rows.append(int(line, 2).to_bytes(len(line) // 8))
    rows += [light] * QUIET_ZONE
    image = Image.frombytes("1", (side, side), b"".join(rows))
    return image.resize((side * scale, side * scale), Image.Resampling.NEAREST) if scale != 1 else image


def qr_image(url: str, *, scale: int = 8) -> Image.Image:
    """The QR code as a Pillow image in mode ``L`` (for drawing on posters and PDFs)."""
    return Image.open(io.BytesIO(qr_png(url, scale=scale))).convert("L")
