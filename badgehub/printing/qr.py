"""QR codes for printed and shown links: credential pages, share links, claim posters.

Pure code (no Flask, no database): a URL in, image bytes out. Made with segno (pure Python, maintained,
standard-conforming; already used elsewhere in BadgeHub).

Every code uses error correction level **M** (15 % of the symbol may be damaged or covered: a folded poster,
a coffee stain) and the standard **quiet zone of 4 modules**, which phone scanners need to find the symbol.
Micro QR codes are never produced: many phone cameras do not read them. The same URL always gives the same
bytes, so pages and PDFs that embed a code stay deterministic.

Raises ValueError when the text does not fit in a QR code (more than about 2,300 bytes at level M).
"""

from __future__ import annotations

import io
from typing import Final
from xml.sax.saxutils import escape

import segno
from PIL import Image

ERROR_LEVEL: Final = "m"
QUIET_ZONE: Final = 4


def make(url: str) -> segno.QRCode:
    """The QR code symbol of ``url`` (level M, never a Micro QR code). Raises ValueError if it is too long."""
    try:
        return segno.make(url, error=ERROR_LEVEL, micro=False, boost_error=False)
    except segno.DataOverflowError as exc:
        raise ValueError("The text is too long for a QR code.") from exc


def modules(url: str) -> int:
    """Side of the symbol in modules, quiet zone included (to size a printed code)."""
    return int(make(url).symbol_size(scale=1, border=QUIET_ZONE)[0])


def qr_svg(url: str, *, scale: int = 4, title: str | None = None, dark: str = "#000", light: str = "#fff") -> bytes:
    """An SVG QR code of ``url``: ``scale`` px per module, with a ``<title>`` for screen readers.

    ``title`` defaults to the URL itself (what a sighted user would get by scanning); pass a translated
    sentence when the page around it does not say what the code is for. The root element has ``role="img"``
    and is labelled by its title. No XML declaration, so it can be inlined in HTML.
    """
    buffer = io.BytesIO()
    make(url).save(
        buffer, kind="svg", scale=scale, border=QUIET_ZONE, dark=dark, light=light, xmldecl=False,
        svgns=True, nl=False, title=None, svgclass="qr", lineclass=None,
    )
    svg = buffer.getvalue().decode("utf-8")
    text = title if title is not None else url
    label = escape(text)
    attribute = escape(text, {'"': "&quot;"})
    head, sep, rest = svg.partition(">")
    # role="img" + aria-label: read as one image with a name everywhere (some readers ignore a bare <title>).
    return f'{head} role="img" aria-label="{attribute}"{sep}<title>{label}</title>{rest}'.encode()


def qr_png(url: str, *, scale: int = 8, dark: str = "#000", light: str = "#fff") -> bytes:
    """A PNG QR code of ``url``: ``scale`` px per module (8 px gives a ~300 px image for a short URL)."""
    buffer = io.BytesIO()
    make(url).save(buffer, kind="png", scale=scale, border=QUIET_ZONE, dark=dark, light=light)
    return buffer.getvalue()


def qr_image(url: str, *, scale: int = 8) -> Image.Image:
    """The QR code as a Pillow image in mode ``L`` (for drawing on posters and PDFs)."""
    return Image.open(io.BytesIO(qr_png(url, scale=scale))).convert("L")
