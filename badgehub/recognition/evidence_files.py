"""Files given as evidence of a recognition request, checked and cleaned: security code, since the reviewers of
another organisation open them.

The type is decided from the bytes, never from the name or the browser's word. Accepted:

* **PNG and JPEG** photos and screenshots: decoded within pixel limits (Pillow's decompression-bomb guard on,
  its warning a refusal), turned upright from their EXIF orientation, then **re-encoded** from their pixels
  alone, so nothing of the original file survives: no EXIF (a phone photo's GPS position), no text chunks, no
  bytes appended after the image. At most :data:`STORED_MAX_SIDE` pixels on a side are kept.
* **SVG**: the badge-image sanitiser of :mod:`badgehub.achievements.uploads` (no DTD, no script, no event
  handler, no outside reference…), written back by its own serialiser.
* **PDF**: kept as sent (there is no PDF rewriter in the dependencies), so refused when it carries active
  content (``/JavaScript``, ``/JS``, ``/Launch``, ``/EmbeddedFile``, ``/RichMedia``, ``/XFA``), also inside
  its compressed streams, or when it does not start with ``%PDF-`` and end with ``%%EOF``.

Every file is refused when it is a **polyglot**: a ZIP archive's end record, HTML or script markup, or a PDF
header hiding in another type. Files are served back only to the learner and the reviewing organisation, as
downloads (PDF, SVG) or images, with ``nosniff`` and a sandboxing policy (:mod:`badgehub.web.recognition`).

Refusals are :class:`~badgehub.recognition.errors.EvidenceRejected` with a stable ``reason`` and a message
naming the file and saying what to do. Messages naming the file use gettext, not lazy_gettext: the name comes
from the uploader and lazy strings are not escaped in templates.
"""

from __future__ import annotations

import io
import re
import struct
import unicodedata
import warnings
import zlib
from dataclasses import dataclass
from typing import Final
from urllib.parse import quote

from flask_babel import gettext
from PIL import Image, ImageOps

from badgehub.achievements.errors import ImageRejected
from badgehub.achievements.image_bytes import PNG, SVG, encode_png
from badgehub.achievements.uploads import PNG_SIGNATURE, looks_like_svg, sanitise_svg
from badgehub.recognition.errors import EvidenceRejected

MAX_FILE_BYTES: Final = 5 * 1024 * 1024
MAX_FILES: Final = 8
MAX_PIXELS: Final = 50_000_000
STORED_MAX_SIDE: Final = 2560
MAX_FILENAME: Final = 100
MAX_INFLATED: Final = 64 * 1024 * 1024

JPEG: Final = "image/jpeg"
PDF: Final = "application/pdf"
EXTENSIONS: Final = {PNG: "png", JPEG: "jpg", SVG: "svg", PDF: "pdf"}
# Shown inline by the download routes; the others are attachments.
INLINE_TYPES: Final = frozenset({PNG, JPEG})
# A file of evidence is somebody else's upload: never run, never sniffed, never framed, never cached by others.
SERVING_POLICY: Final = "default-src 'none'; img-src 'self' data:; style-src 'unsafe-inline'; sandbox"

_MARKUP: Final = re.compile(rb"<\s*(script|html|body|iframe|object|embed|\?php)\b", re.IGNORECASE)
_PDF_ACTIVE: Final = re.compile(rb"/(JavaScript|JS|Launch|EmbeddedFile|RichMedia|XFA)(?![A-Za-z0-9])")
_PDF_STREAM: Final = re.compile(rb"stream\r?\n(.*?)endstream", re.DOTALL)
_ZIP_END: Final = b"PK\x05\x06"


@dataclass(frozen=True)
class EvidenceFile:
    """A file ready to store: cleaned bytes, the type decided from them, and a safe name."""

    filename: str
    media_type: str
    data: bytes


def clean_filename(name: str | None, media_type: str) -> str:
    """The uploader's file name made harmless: no folders, no control or separator characters, at most
    :data:`MAX_FILENAME` characters, ending with the extension of the type found in the bytes."""
    base = (name or "").replace("\\", "/").rsplit("/", 1)[-1]
    base = "".join(ch for ch in base if unicodedata.category(ch)[0] not in ("C", "Z") or ch == " ")
    base = re.sub(r"[\"<>:|?*;]", "_", base).strip(" .") or "evidence"
    stem = base.rsplit(".", 1)[0] if "." in base else base
    extension = EXTENSIONS[media_type]
    return f"{stem[:MAX_FILENAME - len(extension) - 1].strip() or 'evidence'}.{extension}"


def _has_zip_end(data: bytes) -> bool:
    """True when a ZIP end-of-central-directory record closes the data (what makes a file also an archive)."""
    start = max(0, len(data) - 65_557)
    position = data.rfind(_ZIP_END, start)
    while position != -1:
        if position + 22 <= len(data):
            comment_length = struct.unpack("<H", data[position + 20:position + 22])[0]
            if position + 22 + comment_length == len(data):
                return True
        position = data.rfind(_ZIP_END, start, position)
    return False


def _check_polyglot(data: bytes, media_type: str, filename: str) -> None:
    hidden_pdf = media_type != PDF and data.find(b"%PDF-", 0, 1024) > 0
    markup = media_type != SVG and _MARKUP.search(data) is not None
    if _has_zip_end(data) or hidden_pdf or markup:
        raise EvidenceRejected("polyglot", gettext(
            "“%(name)s” is also another kind of file (an archive, a web page or a script hidden inside it). "
            "Export it again as a plain image or PDF, or give a link instead.", name=filename))


def _reencode(data: bytes, kind: str, filename: str) -> bytes:
    problem: EvidenceRejected | None = None
    output = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            with Image.open(io.BytesIO(data), formats=[kind]) as decoded:
                width, height = decoded.size
                if width * height > MAX_PIXELS:
                    problem = _too_many_pixels(filename)
                else:
                    decoded.load()
                    upright = ImageOps.exif_transpose(decoded) or decoded
                    mode = "RGBA" if kind == "PNG" and upright.mode in ("RGBA", "LA", "PA") else "RGB"
                    converted = upright.convert(mode)
                    pixels = Image.new(mode, converted.size)  # a fresh image: no info dict, no EXIF
                    pixels.paste(converted)
                    if max(pixels.size) > STORED_MAX_SIDE:
                        pixels.thumbnail((STORED_MAX_SIDE, STORED_MAX_SIDE), Image.Resampling.LANCZOS)
                    if kind == "PNG":
                        output.write(encode_png(pixels))
                    else:
                        pixels.save(output, format="JPEG", quality=88)
        except (Image.DecompressionBombError, Image.DecompressionBombWarning):
            problem = _too_many_pixels(filename)
        except Exception:  # any decoder failure on untrusted bytes means "unreadable"
            problem = EvidenceRejected("unreadable", gettext(
                "“%(name)s” is damaged or incomplete. Export it again and try again.", name=filename))
    if problem is not None:
        raise problem
    return output.getvalue()


def _too_many_pixels(filename: str) -> EvidenceRejected:
    return EvidenceRejected("too_many_pixels", gettext(
        "“%(name)s” has too many pixels (at most %(megapixels)s megapixels). Resize it and try again.",
        name=filename, megapixels=MAX_PIXELS // 1_000_000))


def _pdf_streams(data: bytes) -> list[bytes]:
    """The inflated content of the PDF's compressed streams, within :data:`MAX_INFLATED` bytes in all."""
    inflated: list[bytes] = []
    budget = MAX_INFLATED
    for match in _PDF_STREAM.finditer(data):
        decompressor = zlib.decompressobj()
        try:
            chunk = decompressor.decompress(match.group(1), budget)
        except zlib.error:
            continue  # not Flate: scanned as it is with the rest of the file
        budget -= len(chunk)
        inflated.append(chunk)
        if budget <= 0 or decompressor.unconsumed_tail:
            raise EvidenceRejected("too_large", gettext("This PDF expands to too much data to be checked."))
    return inflated


def _check_pdf(data: bytes, filename: str) -> None:
    if b"%%EOF" not in data[-2048:]:
        raise EvidenceRejected("unreadable", gettext(
            "“%(name)s” is damaged or incomplete. Export it again and try again.", name=filename))
    if any(_PDF_ACTIVE.search(part) for part in (data, *_pdf_streams(data))):
        raise EvidenceRejected("pdf_active_content", gettext(
            "“%(name)s” contains scripts, attached files or other active content. Print it again as a plain PDF "
            "(“Print to PDF”), or give a link instead.", name=filename))


def read_evidence(name: str | None, data: bytes) -> EvidenceFile:
    """Check one uploaded file and return it cleaned (see the module docstring), or raise
    :class:`EvidenceRejected`."""
    shown = clean_filename(name, PDF)[:-4] or "evidence"
    if not data:
        raise EvidenceRejected("empty", gettext("“%(name)s” is empty.", name=shown))
    if len(data) > MAX_FILE_BYTES:
        raise EvidenceRejected("too_large", gettext(
            "“%(name)s” is larger than %(limit)s MB. Make it smaller, or give a link to it instead.",
            name=shown, limit=MAX_FILE_BYTES // (1024 * 1024)))
    if data.startswith(PNG_SIGNATURE):
        media_type, kind = PNG, "PNG"
    elif data.startswith(b"\xff\xd8\xff"):
        media_type, kind = JPEG, "JPEG"
    elif data.startswith(b"%PDF-"):
        media_type, kind = PDF, "PDF"
    elif looks_like_svg(data):
        media_type, kind = SVG, "SVG"
    else:
        raise EvidenceRejected("unsupported_type", gettext(
            "“%(name)s” is not a PNG, JPEG, SVG or PDF file, whatever its name says. Convert it, or give a link "
            "to it instead.", name=shown))
    _check_polyglot(data, media_type, shown)
    if kind in ("PNG", "JPEG"):
        cleaned = _reencode(data, kind, shown)
    elif kind == "SVG":
        try:
            cleaned = sanitise_svg(data)
        except ImageRejected as exc:
            raise EvidenceRejected(exc.reason, gettext("“%(name)s”: %(problem)s", name=shown,
                                                       problem=exc.message)) from exc
    else:
        _check_pdf(data, shown)
        cleaned = data
    return EvidenceFile(clean_filename(name, media_type), media_type, cleaned)


def serving_headers(media_type: str, filename: str) -> dict[str, str]:
    """The headers every route serving a file of evidence sends: inline only for photos, ``nosniff``, a
    sandboxing policy, private and never stored, readable from our own origin only."""
    disposition = "inline" if media_type in INLINE_TYPES else "attachment"
    plain = "".join(ch for ch in filename if 32 <= ord(ch) < 127 and ch not in '"\\') or "evidence"
    return {
        "Content-Disposition": f"{disposition}; filename=\"{plain}\"; filename*=UTF-8''{quote(filename)}",
        "X-Content-Type-Options": "nosniff",
        "Content-Security-Policy": SERVING_POLICY,
        "Cache-Control": "private, no-store",
        "Cross-Origin-Resource-Policy": "same-origin",
    }
