"""Baking into PNG and SVG, extraction of OB 3.0 and OB 2.0 badges, and refusal of hostile images."""

from __future__ import annotations

import io
import json
import struct
import zlib
from pathlib import Path

import defusedxml.ElementTree as SafeET
import pytest
from PIL import Image

from badgehub.credentials.baking import (
    MAX_IMAGE_BYTES,
    MAX_PAYLOAD_BYTES,
    OB3_SVG_NAMESPACE,
    BakingError,
    bake_png,
    bake_svg,
    detect_image_format,
    extract_from_png,
    extract_from_svg,
    payload_kind,
)

JSON_PAYLOAD = json.dumps({"@context": ["https://www.w3.org/ns/credentials/v2"], "id": "urn:uuid:1", "name": "Été"})
JWT_PAYLOAD = "eyJhbGciOiJSUzI1NiJ9.eyJpc3MiOiJodHRwczovL3guZXhhbXBsZSJ9.c2lnbmF0dXJl"
SVG = (
    b'<?xml version="1.0" encoding="UTF-8"?>\n'
    b'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10" data-x="a>b">'
    b'<circle cx="5" cy="5" r="4"/></svg>\n'
)


def _png(width: int = 4, height: int = 3) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), (200, 30, 30)).save(buffer, format="PNG")
    return buffer.getvalue()


def _chunk(chunk_type: bytes, data: bytes, crc: int | None = None) -> bytes:
    value = zlib.crc32(chunk_type + data) & 0xFFFFFFFF if crc is None else crc
    return struct.pack(">I", len(data)) + chunk_type + data + struct.pack(">I", value)


def _chunks(png: bytes) -> list[tuple[bytes, bytes, int]]:
    out, pos = [], 8
    while pos < len(png):
        (length,) = struct.unpack(">I", png[pos : pos + 4])
        chunk_type = png[pos + 4 : pos + 8]
        data = png[pos + 8 : pos + 8 + length]
        (crc,) = struct.unpack(">I", png[pos + 8 + length : pos + 12 + length])
        out.append((chunk_type, data, crc))
        pos += 12 + length
    return out


def _insert_before_iend(png: bytes, chunk: bytes) -> bytes:
    index = png.rindex(b"IEND") - 4
    return png[:index] + chunk + png[index:]


def _itxt(keyword: str, text: bytes, *, compressed: bool = False) -> bytes:
    body = zlib.compress(text) if compressed else text
    flag = b"\x01\x00" if compressed else b"\x00\x00"
    return _chunk(b"iTXt", keyword.encode("latin-1") + b"\x00" + flag + b"\x00\x00" + body)


# ------------------------------------------------------------------------------------------- PNG


def test_png_bake_writes_one_uncompressed_itxt_chunk_before_iend_with_a_valid_crc() -> None:
    baked = bake_png(_png(), JSON_PAYLOAD)
    chunks = _chunks(baked)
    types = [chunk_type for chunk_type, _, _ in chunks]
    assert types[-1] == b"IEND"
    assert types[-2] == b"iTXt"
    chunk_type, data, crc = chunks[-2]
    assert zlib.crc32(chunk_type + data) & 0xFFFFFFFF == crc
    assert data == b"openbadgecredential\x00\x00\x00\x00\x00" + JSON_PAYLOAD.encode("utf-8")
    Image.open(io.BytesIO(baked)).load()  # still a valid image


def test_png_bake_then_extract_returns_the_payload() -> None:
    badge = extract_from_png(bake_png(_png(), JSON_PAYLOAD))
    assert badge is not None
    assert (badge.payload, badge.ob_version, badge.image_format, badge.location) == (
        JSON_PAYLOAD,
        "3.0",
        "png",
        "iTXt:openbadgecredential",
    )
    assert badge.kind == "json"


def test_png_rebake_replaces_the_previous_credential() -> None:
    twice = bake_png(bake_png(_png(), JSON_PAYLOAD), JWT_PAYLOAD)
    assert twice.count(b"openbadgecredential") == 1
    badge = extract_from_png(twice)
    assert badge is not None and badge.payload == JWT_PAYLOAD and badge.kind == "jwt"


def test_png_without_badge_extracts_none() -> None:
    assert extract_from_png(_png()) is None


def test_png_ob2_itxt_and_legacy_text_chunks_are_extracted_as_ob2() -> None:
    assertion = b'{"@context": "https://w3id.org/openbadges/v2", "type": "Assertion"}'
    badge = extract_from_png(_insert_before_iend(_png(), _itxt("openbadges", assertion)))
    assert badge is not None and badge.ob_version == "2.0" and badge.location == "iTXt:openbadges"
    legacy = _chunk(b"tEXt", b"openbadges\x00https://issuer.example/assertions/1")
    badge = extract_from_png(_insert_before_iend(_png(), legacy))
    assert badge is not None and badge.ob_version == "2.0" and badge.kind == "url"


def test_png_ob3_is_preferred_over_ob2() -> None:
    png = _insert_before_iend(_png(), _itxt("openbadges", b"{}"))
    badge = extract_from_png(bake_png(png, JSON_PAYLOAD))
    assert badge is not None and badge.ob_version == "3.0"


def test_png_compressed_itxt_is_inflated() -> None:
    badge = extract_from_png(_insert_before_iend(_png(), _itxt("openbadgecredential", b'{"a": 1}', compressed=True)))
    assert badge is not None and badge.payload == '{"a": 1}'


def test_png_decompression_bomb_is_refused() -> None:
    bomb = _itxt("openbadgecredential", b" " * (MAX_PAYLOAD_BYTES * 4), compressed=True)
    assert len(bomb) < 100_000
    with pytest.raises(BakingError) as excinfo:
        extract_from_png(_insert_before_iend(_png(), bomb))
    assert excinfo.value.code == "payload_too_large"


def test_png_chunk_longer_than_the_file_is_refused() -> None:
    png = _png()
    lying = png[:8] + struct.pack(">I", 0x7FFFFFF0) + png[12:]
    with pytest.raises(BakingError) as excinfo:
        extract_from_png(lying)
    assert excinfo.value.code == "malformed_png"


def test_png_truncated_file_is_refused() -> None:
    baked = bake_png(_png(), JSON_PAYLOAD)
    with pytest.raises(BakingError) as excinfo:
        extract_from_png(baked[: len(baked) - 30])
    assert excinfo.value.code == "malformed_png"


def test_png_bad_crc_on_the_badge_chunk_is_refused() -> None:
    data = b"openbadgecredential\x00\x00\x00\x00\x00" + JSON_PAYLOAD.encode()
    png = _insert_before_iend(_png(), _chunk(b"iTXt", data, crc=12345))
    with pytest.raises(BakingError) as excinfo:
        extract_from_png(png)
    assert excinfo.value.code == "bad_crc"
    with pytest.raises(BakingError) as excinfo:
        bake_png(png, JSON_PAYLOAD)
    assert excinfo.value.code == "bad_crc"


def test_png_bake_refuses_a_png_without_iend() -> None:
    png = _png()
    with pytest.raises(BakingError) as excinfo:
        bake_png(png[: png.rindex(b"IEND") - 4], JSON_PAYLOAD)
    assert excinfo.value.code == "malformed_png"


@pytest.mark.parametrize("data", [b"", b"GIF89a....", b"\x89PNG\r\n\x1a\n", b"\x89PNG\r\n\x1a\n\x00\x00"])
def test_not_a_png_is_refused(data: bytes) -> None:
    with pytest.raises(BakingError) as excinfo:
        extract_from_png(data)
    assert excinfo.value.code in ("not_png", "malformed_png")


def test_png_oversized_input_and_payload_are_refused() -> None:
    with pytest.raises(BakingError) as excinfo:
        extract_from_png(b"\x89PNG\r\n\x1a\n" + bytes(MAX_IMAGE_BYTES))
    assert excinfo.value.code == "too_large"
    with pytest.raises(BakingError) as excinfo:
        bake_png(_png(), "x" * (MAX_PAYLOAD_BYTES + 1))
    assert excinfo.value.code == "payload_too_large"
    with pytest.raises(BakingError) as excinfo:
        bake_png(_png(), "   ")
    assert excinfo.value.code == "empty_payload"


def test_png_invalid_utf8_payload_is_refused() -> None:
    with pytest.raises(BakingError) as excinfo:
        extract_from_png(_insert_before_iend(_png(), _itxt("openbadgecredential", b"\xff\xfe{")))
    assert excinfo.value.code == "payload_encoding"


# ------------------------------------------------------------------------------------------- SVG


def test_svg_bake_json_puts_cdata_right_after_the_root_start_tag() -> None:
    baked = bake_svg(SVG, JSON_PAYLOAD)
    root_end = SVG.index(b'a>b">') + len(b'a>b">')
    prefix = SVG[: root_end - 1]  # the root start tag without its '>'
    assert baked.startswith(prefix + b' xmlns:openbadges="https://purl.imsglobal.org/ob/v3p0">')
    after_tag = baked[len(prefix) + len(b' xmlns:openbadges="https://purl.imsglobal.org/ob/v3p0">') :]
    expected_element = f"<openbadges:credential><![CDATA[{JSON_PAYLOAD}]]></openbadges:credential>".encode()
    assert after_tag.startswith(expected_element)
    assert after_tag[len(expected_element) :] == SVG[root_end:]  # the rest of the file is untouched
    root = SafeET.fromstring(baked)
    first = next(iter(root))
    assert first.tag == f"{{{OB3_SVG_NAMESPACE}}}credential"


def test_svg_bake_then_extract_json_and_jwt() -> None:
    badge = extract_from_svg(bake_svg(SVG, JSON_PAYLOAD))
    assert badge is not None and badge.payload == JSON_PAYLOAD and badge.location == "svg:text"
    badge = extract_from_svg(bake_svg(SVG, JWT_PAYLOAD))
    assert badge is not None and badge.payload == JWT_PAYLOAD and badge.location == "svg:verify"
    assert b'verify="' + JWT_PAYLOAD.encode() + b'"' in bake_svg(SVG, JWT_PAYLOAD)


def test_svg_rebake_replaces_the_previous_credential() -> None:
    twice = bake_svg(bake_svg(SVG, JSON_PAYLOAD), JWT_PAYLOAD)
    assert twice.count(b"<openbadges:credential") == 1
    assert twice.count(b"xmlns:openbadges") == 1
    badge = extract_from_svg(twice)
    assert badge is not None and badge.payload == JWT_PAYLOAD


def test_svg_cdata_terminator_inside_the_payload_survives() -> None:
    payload = json.dumps({"name": "a]]>b", "x": "]]]]>"})
    badge = extract_from_svg(bake_svg(SVG, payload))
    assert badge is not None and json.loads(badge.payload) == json.loads(payload)


def test_svg_self_closing_root_gets_a_closing_tag() -> None:
    svg = b'<svg xmlns="http://www.w3.org/2000/svg" width="1"/>'
    baked = bake_svg(svg, JSON_PAYLOAD)
    assert baked.endswith(b"</svg>")
    badge = extract_from_svg(baked)
    assert badge is not None and badge.payload == JSON_PAYLOAD


def test_svg_root_binding_the_prefix_to_ob2_gets_a_local_declaration() -> None:
    svg = (
        b'<svg xmlns="http://www.w3.org/2000/svg" xmlns:openbadges="http://openbadges.org">'
        b'<openbadges:assertion verify="https://issuer.example/a/1"/></svg>'
    )
    baked = bake_svg(svg, JSON_PAYLOAD)
    badge = extract_from_svg(baked)
    assert badge is not None and badge.ob_version == "3.0" and badge.payload == JSON_PAYLOAD
    assert b'<openbadges:credential xmlns:openbadges="https://purl.imsglobal.org/ob/v3p0">' in baked


def test_svg_ob2_assertion_is_extracted_as_ob2() -> None:
    svg = (
        b'<svg xmlns="http://www.w3.org/2000/svg" xmlns:openbadges="http://openbadges.org">'
        b'<openbadges:assertion verify="https://issuer.example/a/1"><![CDATA[{"id": 1}]]></openbadges:assertion>'
        b"</svg>"
    )
    badge = extract_from_svg(svg)
    assert badge is not None and badge.ob_version == "2.0" and badge.payload == "https://issuer.example/a/1"


def test_svg_without_badge_extracts_none() -> None:
    assert extract_from_svg(SVG) is None


BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE svg [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
]>
<svg xmlns="http://www.w3.org/2000/svg"><text>&lol3;</text></svg>"""

EXTERNAL_ENTITY = b"""<?xml version="1.0"?>
<!DOCTYPE svg [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<svg xmlns="http://www.w3.org/2000/svg"><text>&xxe;</text></svg>"""


@pytest.mark.parametrize("svg", [BILLION_LAUGHS, EXTERNAL_ENTITY], ids=["billion-laughs", "external-entity"])
def test_svg_entities_are_refused(svg: bytes) -> None:
    for action in (lambda: extract_from_svg(svg), lambda: bake_svg(svg, JSON_PAYLOAD)):
        with pytest.raises(BakingError) as excinfo:
            action()
        assert excinfo.value.code == "forbidden_xml"


@pytest.mark.parametrize(
    ("svg", "code"),
    [
        (b"<svg xmlns='http://www.w3.org/2000/svg'><g></svg>", "malformed_svg"),
        (b"<html><body/></html>", "not_svg"),
        (b"", "malformed_svg"),
        (b"<svg", "malformed_svg"),
    ],
)
def test_svg_malformed_or_foreign_documents_are_refused(svg: bytes, code: str) -> None:
    with pytest.raises(BakingError) as excinfo:
        extract_from_svg(svg)
    assert excinfo.value.code == code


def test_svg_bake_refuses_non_utf8_documents() -> None:
    svg = '<?xml version="1.0" encoding="ISO-8859-1"?><svg xmlns="http://www.w3.org/2000/svg"><text>é</text></svg>'
    with pytest.raises(BakingError) as excinfo:
        bake_svg(svg.encode("latin-1"), JSON_PAYLOAD)
    assert excinfo.value.code == "unsupported_encoding"


def test_svg_scripts_do_not_matter_for_baking() -> None:
    svg = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
    badge = extract_from_svg(bake_svg(svg, JSON_PAYLOAD))
    assert badge is not None and badge.payload == JSON_PAYLOAD


# ---------------------------------------------------------------------------------- shared examples


@pytest.mark.parametrize(
    ("name", "kind", "same_as"),
    [
        ("baked-ob3-v2-json.png", "json", None),
        ("baked-ob3-v2-json.svg", "json", None),
        ("baked-ob3-v2-jwt.png", "jwt", None),
        ("baked-ob3-v2-jwt.svg", "jwt", "ob3-v2-simple-vcjwt-rs256.jwt"),
        ("baked-ob3-v1-jwt.svg", "jwt", "ob3-v1-simple-vcjwt-rs256.jwt"),
    ],
)
def test_every_shared_baked_example_extracts(examples_dir: Path, name: str, kind: str, same_as: str | None) -> None:
    data = (examples_dir / name).read_bytes()
    badge = extract_from_png(data) if name.endswith(".png") else extract_from_svg(data)
    assert badge is not None and badge.ob_version == "3.0" and badge.kind == kind
    if kind == "json":
        assert json.loads(badge.payload)["type"] == ["VerifiableCredential", "OpenBadgeCredential"]
    if same_as is not None:
        assert badge.payload == (examples_dir / same_as).read_text().strip()


def test_shared_examples_can_be_rebaked(examples_dir: Path) -> None:
    png = (examples_dir / "baked-ob3-v2-json.png").read_bytes()
    rebaked = bake_png(png, JWT_PAYLOAD)
    assert rebaked.count(b"openbadgecredential") == 1
    assert extract_from_png(rebaked) is not None
    svg = (examples_dir / "baked-ob3-v2-jwt.svg").read_bytes()
    rebaked_svg = bake_svg(svg, JSON_PAYLOAD)
    badge = extract_from_svg(rebaked_svg)
    assert badge is not None and badge.payload == JSON_PAYLOAD
    assert rebaked_svg.count(b"openbadges:credential") == 2  # one start tag, one end tag


def test_payload_kind_and_format_detection() -> None:
    assert payload_kind(' {"a": 1}') == "json"
    assert payload_kind(JWT_PAYLOAD) == "jwt"
    assert payload_kind("https://issuer.example/a/1") == "url"
    assert payload_kind("hello") == "unknown"
    assert detect_image_format(_png()) == "png"
    assert detect_image_format(SVG) == "svg"
    assert detect_image_format(b"{}") is None
