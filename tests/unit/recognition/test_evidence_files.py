"""Evidence files are checked from their bytes and cleaned: photos lose their metadata and whatever was appended,
SVG goes through the badge-image sanitiser, PDF with active content is refused, polyglots are refused."""

from __future__ import annotations

import io
import zipfile

import pytest
from flask import Flask
from PIL import Image

from badgehub.recognition.errors import EvidenceRejected
from badgehub.recognition.evidence_files import (
    JPEG,
    MAX_FILE_BYTES,
    PDF,
    PNG,
    STORED_MAX_SIDE,
    SVG,
    clean_filename,
    read_evidence,
)
from tests.factories import PDF_RENAMED, SVG_OK, SVG_ONLOAD, SVG_SCRIPT, bomb_png, png, truncated_png


def _jpeg_with_gps() -> bytes:
    image = Image.new("RGB", (80, 60), (10, 120, 30))
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # Make
    exif[0x0112] = 6  # Orientation: rotate 90° to show upright
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", exif=exif.tobytes())
    return buffer.getvalue()


def _zip_of(name: str, content: bytes) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(name, content)
    return buffer.getvalue()


def _reason(name: str, data: bytes) -> str:
    with pytest.raises(EvidenceRejected) as caught:
        read_evidence(name, data)
    return caught.value.reason


def test_a_png_is_reencoded_without_its_text_chunks(ctx: Flask) -> None:
    kept = read_evidence("atelier.png", png((64, 64), text={"Comment": "secret-marker"}))
    assert kept.media_type == PNG and kept.filename == "atelier.png"
    assert b"secret-marker" not in kept.data
    assert Image.open(io.BytesIO(kept.data)).size == (64, 64)


def test_a_jpeg_loses_its_exif_and_is_turned_upright(ctx: Flask) -> None:
    kept = read_evidence("photo.JPG", _jpeg_with_gps())
    assert kept.media_type == JPEG and kept.filename == "photo.jpg"
    assert b"PhoneMaker" not in kept.data and b"Exif" not in kept.data
    assert Image.open(io.BytesIO(kept.data)).size == (60, 80)


def test_a_large_photo_is_scaled_down(ctx: Flask) -> None:
    kept = read_evidence("big.png", png((STORED_MAX_SIDE + 400, 100), mode="RGB"))
    assert max(Image.open(io.BytesIO(kept.data)).size) == STORED_MAX_SIDE


def test_the_type_comes_from_the_bytes_not_the_name(ctx: Flask) -> None:
    kept = read_evidence("attestation.png", PDF_RENAMED)
    assert kept.media_type == PDF and kept.filename == "attestation.pdf"
    assert _reason("notes.pdf", b"just some text, not a pdf") == "unsupported_type"
    assert _reason("macro.docx", _zip_of("word/document.xml", b"<w:document/>")) == "unsupported_type"


def test_a_sanitised_svg_is_kept_and_a_scripted_one_refused(ctx: Flask) -> None:
    kept = read_evidence("dessin.svg", SVG_OK)
    assert kept.media_type == SVG and b"<!--" not in kept.data and b"inkscape" not in kept.data
    assert _reason("x.svg", SVG_SCRIPT) == "svg_forbidden_element"
    assert _reason("x.svg", SVG_ONLOAD) == "svg_event_handler"


@pytest.mark.parametrize("active", [b"/JavaScript", b"/JS", b"/Launch", b"/EmbeddedFile"])
def test_a_pdf_with_active_content_is_refused(ctx: Flask, active: bytes) -> None:
    pdf = PDF_RENAMED.replace(b"/Type /Catalog", b"/Type /Catalog /OpenAction << /S " + active + b" >>")
    assert _reason("a.pdf", pdf) == "pdf_active_content"


def test_a_pdf_hiding_javascript_in_a_compressed_stream_is_refused(ctx: Flask) -> None:
    import zlib

    stream = zlib.compress(b"<< /S /JavaScript /JS (app.alert(1)) >>")
    pdf = PDF_RENAMED.replace(b"trailer", b"3 0 obj << /Filter /FlateDecode >> stream\n" + stream
                              + b"endstream endobj\ntrailer")
    assert _reason("a.pdf", pdf) == "pdf_active_content"


def test_a_truncated_pdf_is_refused(ctx: Flask) -> None:
    assert _reason("a.pdf", PDF_RENAMED.replace(b"%%EOF", b"")) == "unreadable"


def test_polyglots_are_refused(ctx: Flask) -> None:
    assert _reason("jar.png", png() + _zip_of("a.class", b"\xca\xfe\xba\xbe")) == "polyglot"
    assert _reason("page.jpg", _jpeg_with_gps() + b"<html><script>alert(1)</script></html>") == "polyglot"
    assert _reason("doc.pdf", PDF_RENAMED.replace(b"trailer", b"<script>alert(1)</script>\ntrailer")) == "polyglot"
    assert _reason("img.png", png()[:40] + b"%PDF-1.4" + png()[40:]) == "polyglot"


def test_oversized_empty_broken_and_bomb_files_are_refused(ctx: Flask) -> None:
    assert _reason("huge.pdf", b"%PDF-1.4\n" + b"0" * MAX_FILE_BYTES) == "too_large"
    assert _reason("empty.png", b"") == "empty"
    assert _reason("broken.png", truncated_png()) == "unreadable"
    assert _reason("bomb.png", bomb_png(20_000)) == "too_many_pixels"


def test_the_refusal_names_the_file_and_says_what_to_do(ctx: Flask) -> None:
    with pytest.raises(EvidenceRejected) as caught:
        read_evidence("../../etc/<b>notes.txt", b"plain text")
    message = str(caught.value.message)
    assert "notes" in message and "PNG, JPEG, SVG or PDF" in message and "/" not in message.split("”")[0]


def test_file_names_are_made_harmless() -> None:
    assert clean_filename("../../etc/passwd", PDF) == "passwd.pdf"
    assert clean_filename("C:\\Users\\me\\photo.jpeg", JPEG) == "photo.jpg"
    assert clean_filename("a\u202eb<c>.png", PNG) == "ab_c_.png"
    assert clean_filename("", SVG) == "evidence.svg"
    assert len(clean_filename("x" * 500 + ".pdf", PDF)) <= 100
