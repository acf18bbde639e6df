"""Read back what the printing module made: PDF text, metadata and QR codes (pypdfium2 + zxing-cpp).

Imported by the unit and functional tests (``from tests.unit.printing.pdftools import …``).
"""

from __future__ import annotations

import io

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c
import zxingcpp
from PIL import Image


def open_pdf(data: bytes) -> pdfium.PdfDocument:
    assert data.startswith(b"%PDF-"), data[:20]
    return pdfium.PdfDocument(data)


def page_count(data: bytes) -> int:
    return len(open_pdf(data))


def pdf_text(data: bytes) -> str:
    """The text of every page, as a PDF reader extracts it (line breaks between laid-out lines)."""
    document = open_pdf(data)
    return "\n".join(document[i].get_textpage().get_text_range() for i in range(len(document)))


def flat(text: str) -> str:
    """Whitespace collapsed, so that a name wrapped over two lines still matches."""
    return " ".join(text.split())


def image_objects(data: bytes, page: int = 0) -> int:
    """How many raster images the page draws."""
    return sum(1 for obj in open_pdf(data)[page].get_objects() if obj.type == pdfium_c.FPDF_PAGEOBJ_IMAGE)


def metadata(data: bytes) -> dict[str, str]:
    return dict(open_pdf(data).get_metadata_dict())


def render(data: bytes, page: int = 0, *, scale: float = 2.0) -> Image.Image:
    """The page as an image (2 = 144 dpi)."""
    return open_pdf(data)[page].render(scale=scale).to_pil()


def decode_qr(image: Image.Image) -> list[str]:
    return [result.text for result in zxingcpp.read_barcodes(image, formats=zxingcpp.BarcodeFormat.QRCode)]


def decode_pdf_qr(data: bytes) -> list[str]:
    return decode_qr(render(data))


def decode_png_qr(data: bytes) -> list[str]:
    return decode_qr(Image.open(io.BytesIO(data)))
