"""The PDF sheet shared by certificates and posters: an A4 page with BadgeHub's fonts and boxed text.

Made with **fpdf2** (pure Python, actively maintained, LGPL): it embeds TrueType fonts with full Unicode
(subset to the glyphs used), shapes Arabic and other complex scripts with HarfBuzz (``uharfbuzz``, right to
left included), draws PNG images and simple SVG, writes PDF metadata (title, author, language), and its output
is byte for byte the same for the same input once the creation date is fixed. ReportLab was the other
candidate: heavier, and its Unicode shaping needs its commercial add-on or extra work.

Text never flows onto a second page: every block is given a box, wrapped to its width, and cut with "…"
when it does not fit (:meth:`Sheet.block`). Automatic page breaks are off.
"""

from __future__ import annotations

import datetime as dt
import io
import logging
import warnings
from typing import Final

from fpdf import FPDF, ViewerPreferences
from fpdf.enums import PathPaintRule, XPos, YPos

from badgehub.printing import qr
from badgehub.printing.text import ELLIPSIS, FONT_BOLD, FONT_REGULAR, printable

FONT: Final = "DejaVu"
A4_WIDTH: Final = 210.0
A4_HEIGHT: Final = 297.0
PT_TO_MM: Final = 25.4 / 72


class _Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


# Beyond these, an SVG is replaced rather than drawn: fpdf2 draws element by element in Python, and a badge
# with thousands of shapes would cost seconds of CPU per certificate.
MAX_SVG_BYTES: Final = 256 * 1024
MAX_SVG_ELEMENTS: Final = 3_000


def _svg_fully_supported(data: bytes) -> bool:
    """True when the SVG is small enough and fpdf2 parses it without warning (it logs, or warns, about what
    it cannot draw)."""
    from fpdf.svg import SVGObject

    if len(data) > MAX_SVG_BYTES or data.count(b"<") > MAX_SVG_ELEMENTS:
        return False

    logger = logging.getLogger("fpdf.svg")
    collect = _Collect()
    logger.addHandler(collect)
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            SVGObject(data)
    except Exception:  # malformed or unsupported: not drawable
        return False
    finally:
        logger.removeHandler(collect)
    return not caught and not collect.records


class Sheet:
    """One A4 portrait page (millimetres) ready to draw on; :meth:`output` gives the PDF bytes."""

    def __init__(self, *, title: str, author: str, subject: str, locale: str, created: dt.datetime,
                 margin: float = 18.0) -> None:
        pdf = FPDF(orientation="P", unit="mm", format="A4")
        pdf.add_font(FONT, "", str(FONT_REGULAR))
        pdf.add_font(FONT, "B", str(FONT_BOLD))
        # HarfBuzz shaping: Arabic letters joined and right to left, Indic clusters, Vietnamese stacking.
        pdf.set_text_shaping(True)
        pdf.set_auto_page_break(False)
        pdf.set_margins(margin, margin, margin)
        pdf.c_margin = 0
        created_utc = created if created.tzinfo else created.replace(tzinfo=dt.UTC)
        pdf.set_creation_date(created_utc.astimezone(dt.UTC))
        pdf.set_title(printable(title, limit=300))
        pdf.set_author(printable(author, limit=300))
        pdf.set_subject(printable(subject, limit=300))
        pdf.set_creator("BadgeHub")
        pdf.set_lang(locale)
        pdf.set_display_mode("fullpage")
        # Viewers and screen readers announce the document by its title rather than its file name (PDF/UA).
        pdf.viewer_preferences = ViewerPreferences(display_doc_title=True)
        pdf.add_page()
        self.pdf = pdf
        self.margin = margin
        self.width = A4_WIDTH - 2 * margin
        # When dry, block() measures and moves the cursor but draws nothing (a first pass to centre content).
        self.dry = False

    def font(self, size: float, *, bold: bool = False, colour: tuple[int, int, int] = (17, 24, 39)) -> None:
        self.pdf.set_font(FONT, "B" if bold else "", size)
        self.pdf.set_text_color(*colour)

    def lines(self, text: str, width: float, max_lines: int) -> list[str]:
        """``text`` (already printable) wrapped to ``width`` in the current font, at most ``max_lines`` lines.

        A text that needs more lines is cut: the last line kept ends with "…" and still fits the width.
        """
        if max_lines <= 0 or not text:
            return []
        wrapped: list[str] = []
        for paragraph in text.split("\n"):
            if not paragraph.strip():
                continue
            found = self.pdf.multi_cell(width, 5, paragraph, dry_run=True, output="LINES")
            assert isinstance(found, list)
            wrapped.extend(str(line) for line in found)
            if len(wrapped) > max_lines:
                break
        if len(wrapped) <= max_lines:
            return wrapped
        kept = wrapped[:max_lines]
        last = kept[-1].rstrip()
        while last and self.pdf.get_string_width(last + ELLIPSIS) > width:
            last = last[:-1].rstrip()
        kept[-1] = last + ELLIPSIS
        return kept

    def block(self, text: str, *, size: float, bold: bool = False, max_lines: int = 1, bottom: float,
              align: str = "C", colour: tuple[int, int, int] = (17, 24, 39), x: float | None = None,
              width: float | None = None, leading: float = 1.25, after: float = 0.0) -> float:
        """Write ``text`` from the current y, wrapped and cut so that it ends above ``bottom``.

        Returns the height used (0 when nothing fitted or the text is empty); the cursor moves below it.
        """
        self.font(size, bold=bold, colour=colour)
        left = self.margin if x is None else x
        box = self.width if width is None else width
        line_height = size * PT_TO_MM * leading
        room = int((bottom - self.pdf.get_y()) // line_height)
        chosen = self.lines(text, box, min(max_lines, room))
        top = self.pdf.get_y()
        if self.dry:
            self.pdf.set_y(top + line_height * len(chosen))
        for line in [] if self.dry else chosen:
            self.pdf.set_x(left)
            self.pdf.cell(box, line_height, line, align=align, new_x=XPos.LEFT, new_y=YPos.NEXT)
        if chosen:
            self.pdf.set_y(self.pdf.get_y() + after)
        return self.pdf.get_y() - top

    def image(self, data: bytes, media_type: str, *, x: float, y: float, size: float) -> bool:
        """Draw a PNG or SVG image in a ``size`` mm square (aspect kept); False when it cannot be drawn.

        An SVG that fpdf2 draws only in part (it warns about elements it does not support) counts as not
        drawable, so the caller can print a replacement rather than half a badge.
        """
        if media_type == "image/svg+xml" and not _svg_fully_supported(data):
            return False
        try:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                self.pdf.image(io.BytesIO(data), x=x, y=y, w=size, h=size, keep_aspect_ratio=True)
            return not caught
        except Exception:  # a file the library cannot read is a missing picture, never a failed certificate
            return False

    def qr(self, url: str, *, x: float, y: float, size: float) -> None:
        """Draw the QR code of ``url`` as vector squares in a ``size`` mm square (quiet zone included).

        Vector modules stay sharp at any print size, where a scaled bitmap may be smoothed by the viewer or
        the printer into grey edges that phones misread. Raises ValueError when ``url`` is too long.
        """
        rows = qr.matrix(url)
        module = size / len(rows)
        pdf = self.pdf
        pdf.set_fill_color(255, 255, 255)
        pdf.rect(x, y, size, size, style="F")
        # One path made of one rectangle per horizontal run of dark modules, filled once: separate fills
        # would leave hairline seams between rows once anti-aliased, and seams are what scanners trip on.
        with pdf.new_path(paint_rule=PathPaintRule.FILL_NONZERO) as path:
            path.style.fill_color = "#000000"
            path.style.stroke_color = None
            for index, row in enumerate(rows):
                start: int | None = None
                for column, dark in enumerate([*row, False]):
                    if dark and start is None:
                        start = column
                    elif not dark and start is not None:
                        path.rectangle(x + start * module, y + index * module, (column - start) * module, module)
                        start = None

    def output(self) -> bytes:
        return bytes(self.pdf.output())
