"""Baking credentials into PNG and SVG images, and extracting them again (OB 3.0 and OB 2.0).

OB 3.0 (OB3-BRIEF §4): a PNG carries the credential in one uncompressed ``iTXt`` chunk with the
keyword ``openbadgecredential``; an SVG carries ``<openbadges:credential>`` (namespace
``https://purl.imsglobal.org/ob/v3p0``) right after the root ``<svg>`` start tag, with the JSON in
CDATA or the compact JWS in the ``verify`` attribute. OB 2.0 used the ``openbadges`` keyword (iTXt, or
a legacy ``tEXt`` chunk holding a URL) and ``<openbadges:assertion>`` in ``http://openbadges.org``.

Images come from strangers, so every reader is bounded: file and payload size caps, chunk lengths
checked against the file, CRCs checked on the chunks that are read or rewritten, compressed text
inflated with a cap, XML parsed with defusedxml (no entity declarations, no external references).
Every refusal is a :class:`BakingError` with a stable ``code``.
"""

from __future__ import annotations

import re
import struct
import zlib
from dataclasses import dataclass
from typing import Final, Literal
from xml.etree.ElementTree import Element, ParseError
from xml.parsers import expat

import defusedxml.ElementTree as SafeET
from defusedxml.common import DefusedXmlException

from badgehub.credentials.errors import CredentialError

PNG_SIGNATURE: Final = b"\x89PNG\r\n\x1a\n"
OB3_PNG_KEYWORD: Final = "openbadgecredential"
OB2_PNG_KEYWORD: Final = "openbadges"
OB3_SVG_NAMESPACE: Final = "https://purl.imsglobal.org/ob/v3p0"
OB2_SVG_NAMESPACE: Final = "http://openbadges.org"
SVG_NAMESPACE: Final = "http://www.w3.org/2000/svg"

MAX_IMAGE_BYTES: Final = 20 * 1024 * 1024
"""Largest PNG or SVG accepted, baked or to bake."""
MAX_PAYLOAD_BYTES: Final = 4 * 1024 * 1024
"""Largest credential text accepted in a chunk or element (after inflation)."""

_JWS_RE = re.compile(r"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+")
_CHUNK_TYPE_RE = re.compile(rb"[A-Za-z]{4}")
_XML_DECL_ENCODING_RE = re.compile(rb"""^(?:\xef\xbb\xbf)?\s*<\?xml[^>]*?encoding\s*=\s*["']([A-Za-z0-9._-]+)["']""")

PayloadKind = Literal["json", "jwt", "url", "unknown"]


class BakingError(CredentialError):
    """An image that cannot be baked or read; ``code`` says why (stable, for reports and tests)."""

    code = "baking_error"

    def __init__(self, code: str, message: str | None = None) -> None:
        super().__init__(message or _MESSAGES.get(code, "The image cannot be processed."), code=code)


_MESSAGES: Final = {
    "too_large": "The image is larger than allowed.",
    "not_png": "The data is not a PNG image.",
    "malformed_png": "The PNG image is damaged or truncated.",
    "bad_crc": "A PNG chunk is damaged (its checksum does not match).",
    "malformed_text_chunk": "The PNG text chunk holding the badge is malformed.",
    "payload_too_large": "The badge data inside the image is larger than allowed.",
    "payload_encoding": "The badge data inside the image is not valid text.",
    "bad_compression": "The compressed badge data inside the image is damaged.",
    "not_svg": "The data is not an SVG image.",
    "malformed_svg": "The SVG image is not well-formed XML.",
    "forbidden_xml": "The SVG image uses XML features that are refused for safety (entities or external references).",
    "unsupported_encoding": "The SVG image is not encoded in UTF-8.",
    "empty_payload": "There is nothing to bake.",
}


@dataclass(frozen=True)
class ExtractedBadge:
    """A credential (or OB 2.0 assertion) found in an image.

    ``payload`` is the text as stored (JSON, compact JWS, or for OB 2.0 possibly a URL);
    ``location`` says where it was found, e.g. ``"iTXt:openbadgecredential"`` or ``"svg:verify"``.
    """

    payload: str
    ob_version: Literal["3.0", "2.0"]
    image_format: Literal["png", "svg"]
    location: str

    @property
    def kind(self) -> PayloadKind:
        """What the payload looks like: ``json``, ``jwt``, ``url`` or ``unknown``."""
        return payload_kind(self.payload)


def payload_kind(payload: str) -> PayloadKind:
    """Classify a baked payload by its shape (JSON object, compact JWS, http(s) URL)."""
    text = payload.strip()
    if text.startswith("{"):
        return "json"
    if _JWS_RE.fullmatch(text):
        return "jwt"
    if text.startswith(("https://", "http://")):
        return "url"
    return "unknown"


def detect_image_format(data: bytes) -> Literal["png", "svg"] | None:
    """Return ``"png"`` or ``"svg"`` from the leading bytes, or None when it is neither."""
    if data.startswith(PNG_SIGNATURE):
        return "png"
    head = data[:4096].lstrip(b"\xef\xbb\xbf").lstrip()
    if head.startswith(b"<") and b"<svg" in data[:65536]:
        return "svg"
    return None


@dataclass(frozen=True)
class _Chunk:
    type: bytes
    data: bytes
    crc: int
    start: int  # offset of the length field
    end: int  # offset after the CRC

    @property
    def crc_ok(self) -> bool:
        return zlib.crc32(self.type + self.data) & 0xFFFFFFFF == self.crc


def _iter_chunks(png: bytes) -> list[_Chunk]:
    if len(png) > MAX_IMAGE_BYTES:
        raise BakingError("too_large")
    if not png.startswith(PNG_SIGNATURE):
        raise BakingError("not_png")
    chunks: list[_Chunk] = []
    pos = len(PNG_SIGNATURE)
    while pos < len(png):
        if pos + 8 > len(png):
            raise BakingError("malformed_png", "The PNG image ends in the middle of a chunk header.")
        (length,) = struct.unpack(">I", png[pos : pos + 4])
        chunk_type = png[pos + 4 : pos + 8]
        if length > 0x7FFFFFFF or pos + 12 + length > len(png):
            raise BakingError("malformed_png", "A PNG chunk claims more data than the file holds.")
        if not _CHUNK_TYPE_RE.fullmatch(chunk_type):
            raise BakingError("malformed_png", "A PNG chunk has an invalid type.")
        data = png[pos + 8 : pos + 8 + length]
        (crc,) = struct.unpack(">I", png[pos + 8 + length : pos + 12 + length])
        chunks.append(_Chunk(chunk_type, data, crc, pos, pos + 12 + length))
        pos += 12 + length
        if chunk_type == b"IEND":
            break
    if not chunks or chunks[0].type != b"IHDR":
        raise BakingError("malformed_png", "The PNG image does not start with an IHDR chunk.")
    return chunks


def _text_keyword(chunk: _Chunk) -> str | None:
    """The keyword of a tEXt/iTXt/zTXt chunk (Latin-1, up to 79 bytes), or None for other chunks."""
    if chunk.type not in (b"tEXt", b"iTXt", b"zTXt"):
        return None
    nul = chunk.data.find(b"\x00", 0, 80)
    if nul <= 0:
        return None
    return chunk.data[:nul].decode("latin-1")


def _decode_text_chunk(chunk: _Chunk) -> str:
    """Return the text of a tEXt / iTXt / zTXt chunk, inflating (with a cap) when compressed."""
    if not chunk.crc_ok:
        raise BakingError("bad_crc")
    data = chunk.data
    nul = data.find(b"\x00")
    rest = data[nul + 1 :]
    if chunk.type == b"tEXt":
        raw = rest
        return _decode_payload(raw, "latin-1")
    if chunk.type == b"zTXt":
        if not rest or rest[0] != 0:
            raise BakingError("malformed_text_chunk", "Unknown compression method in a PNG text chunk.")
        return _decode_payload(_inflate(rest[1:]), "latin-1")
    # iTXt: compression flag, compression method, language tag\0, translated keyword\0, text
    if len(rest) < 2:
        raise BakingError("malformed_text_chunk")
    flag, method = rest[0], rest[1]
    lang_end = rest.find(b"\x00", 2)
    if lang_end < 0:
        raise BakingError("malformed_text_chunk")
    translated_end = rest.find(b"\x00", lang_end + 1)
    if translated_end < 0:
        raise BakingError("malformed_text_chunk")
    text = rest[translated_end + 1 :]
    if flag == 1:
        # The spec forbids compression, but tolerating it costs nothing once inflation is capped.
        if method != 0:
            raise BakingError("malformed_text_chunk", "Unknown compression method in a PNG text chunk.")
        text = _inflate(text)
    elif flag != 0:
        raise BakingError("malformed_text_chunk")
    return _decode_payload(text, "utf-8")


def _inflate(data: bytes) -> bytes:
    inflater = zlib.decompressobj()
    try:
        out = inflater.decompress(data, MAX_PAYLOAD_BYTES + 1)
    except zlib.error as exc:
        raise BakingError("bad_compression") from exc
    if len(out) > MAX_PAYLOAD_BYTES:
        raise BakingError("payload_too_large")
    if not inflater.eof:
        raise BakingError("bad_compression", "The compressed badge data inside the image is truncated.")
    return out


def _decode_payload(raw: bytes, encoding: str) -> str:
    if len(raw) > MAX_PAYLOAD_BYTES:
        raise BakingError("payload_too_large")
    try:
        return raw.decode(encoding)
    except UnicodeDecodeError as exc:
        raise BakingError("payload_encoding") from exc


def extract_from_png(png: bytes) -> ExtractedBadge | None:
    """Return the badge baked into a PNG, or None when the PNG holds none.

    OB 3.0 (first ``iTXt`` ``openbadgecredential``) wins over OB 2.0 (first ``iTXt`` ``openbadges``,
    then a legacy ``tEXt``/``zTXt`` ``openbadges``). Raises :class:`BakingError` for a file that is
    not a PNG, is truncated or oversized, or whose badge chunk is damaged (bad CRC, bad compression,
    inflating beyond the payload cap, invalid UTF-8).
    """
    chunks = _iter_chunks(png)
    ob2_itxt: _Chunk | None = None
    ob2_legacy: _Chunk | None = None
    for chunk in chunks:
        keyword = _text_keyword(chunk)
        if keyword == OB3_PNG_KEYWORD and chunk.type == b"iTXt":
            return ExtractedBadge(_decode_text_chunk(chunk), "3.0", "png", f"iTXt:{OB3_PNG_KEYWORD}")
        if keyword == OB2_PNG_KEYWORD:
            if chunk.type == b"iTXt" and ob2_itxt is None:
                ob2_itxt = chunk
            elif chunk.type != b"iTXt" and ob2_legacy is None:
                ob2_legacy = chunk
    found = ob2_itxt or ob2_legacy
    if found is None:
        return None
    location = f"{found.type.decode('ascii')}:{OB2_PNG_KEYWORD}"
    return ExtractedBadge(_decode_text_chunk(found), "2.0", "png", location)


def bake_png(png: bytes, payload: str) -> bytes:
    """Return the PNG with ``payload`` (credential JSON or compact JWS) in an ``openbadgecredential``
    iTXt chunk, uncompressed, inserted just before ``IEND``.

    Any earlier ``openbadgecredential`` chunk is dropped, so the keyword occurs exactly once
    (re-baking replaces). Every chunk's CRC is checked because the whole file is rewritten. Raises
    :class:`BakingError` for an empty or oversized payload, or a PNG that is malformed, has no
    ``IEND``, or carries a damaged chunk.
    """
    encoded = payload.strip().encode("utf-8")
    if not encoded:
        raise BakingError("empty_payload")
    if len(encoded) > MAX_PAYLOAD_BYTES:
        raise BakingError("payload_too_large")
    chunks = _iter_chunks(png)
    if chunks[-1].type != b"IEND":
        raise BakingError("malformed_png", "The PNG image has no IEND chunk.")
    out = bytearray(PNG_SIGNATURE)
    for chunk in chunks:
        if not chunk.crc_ok:
            raise BakingError("bad_crc")
        if chunk.type == b"iTXt" and _text_keyword(chunk) == OB3_PNG_KEYWORD:
            continue
        if chunk.type == b"IEND":
            data = OB3_PNG_KEYWORD.encode("latin-1") + b"\x00\x00\x00\x00\x00" + encoded
            out += _chunk_bytes(b"iTXt", data)
        out += png[chunk.start : chunk.end]
    return bytes(out)


def _chunk_bytes(chunk_type: bytes, data: bytes) -> bytes:
    crc = zlib.crc32(chunk_type + data) & 0xFFFFFFFF
    return struct.pack(">I", len(data)) + chunk_type + data + struct.pack(">I", crc)


def _parse_svg(svg: bytes) -> Element:
    if len(svg) > MAX_IMAGE_BYTES:
        raise BakingError("too_large")
    try:
        root: Element = SafeET.fromstring(svg, forbid_dtd=False, forbid_entities=True, forbid_external=True)
    except DefusedXmlException as exc:
        raise BakingError("forbidden_xml") from exc
    except (ParseError, ValueError, UnicodeError) as exc:
        raise BakingError("malformed_svg") from exc
    if root.tag not in (f"{{{SVG_NAMESPACE}}}svg", "svg"):
        raise BakingError("not_svg")
    return root


def extract_from_svg(svg: bytes) -> ExtractedBadge | None:
    """Return the badge baked into an SVG, or None when the SVG holds none.

    Looks for the first ``<openbadges:credential>`` in the OB 3.0 namespace (its ``verify`` attribute
    if present, otherwise its text, i.e. the CDATA JSON), then the first OB 2.0
    ``<openbadges:assertion>``. Raises :class:`BakingError` for oversized input, XML that is not
    well-formed, declares entities or references external ones, or whose root is not ``<svg>``.
    """
    root = _parse_svg(svg)
    for namespace, local, version in (
        (OB3_SVG_NAMESPACE, "credential", "3.0"),
        (OB2_SVG_NAMESPACE, "assertion", "2.0"),
    ):
        element = next(root.iter(f"{{{namespace}}}{local}"), None)
        if element is None:
            continue
        verify = element.get("verify")
        if verify is not None and verify.strip():
            payload, location = verify.strip(), "svg:verify"
        else:
            payload, location = "".join(element.itertext()).strip(), "svg:text"
        if len(payload.encode("utf-8")) > MAX_PAYLOAD_BYTES:
            raise BakingError("payload_too_large")
        return ExtractedBadge(payload, "3.0" if version == "3.0" else "2.0", "svg", location)
    return None


@dataclass(frozen=True)
class _SvgLayout:
    root_start: int  # offset of '<' of the root start tag
    root_start_end: int  # offset just after the '>' (or '/>') of the root start tag
    root_self_closing: bool
    root_prefix_binding: str | None  # URI bound to the "openbadges" prefix on the root, if any
    credential_spans: list[tuple[int, int]]  # outermost OB 3.0 credential elements, [start, end)


def _svg_layout(svg: bytes) -> _SvgLayout:
    """Byte offsets of the root start tag and of existing OB 3.0 credential elements.

    Runs only after :func:`_parse_svg` accepted the document (so no entity declarations exist); the
    expat parser is still configured to refuse entities and external references.
    """
    parser = expat.ParserCreate(namespace_separator=" ")
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)

    def _refuse(*_args: object) -> None:
        raise BakingError("forbidden_xml")

    def _refuse_external(*_args: object) -> int:
        raise BakingError("forbidden_xml")

    parser.EntityDeclHandler = _refuse
    parser.UnparsedEntityDeclHandler = _refuse
    parser.ExternalEntityRefHandler = _refuse_external

    depth = 0
    root_start = -1
    root_prefix_binding: list[str | None] = [None]
    open_credential: list[int] = []  # start offsets of credential elements being read (outermost first)
    spans: list[tuple[int, int]] = []
    credential_tag = f"{OB3_SVG_NAMESPACE} credential"
    pending_ns: dict[str, str] = {}

    def start_ns(prefix: str | None, uri: str) -> None:
        if depth == 0:
            pending_ns[prefix or ""] = uri

    def start(name: str, _attrs: dict[str, str]) -> None:
        nonlocal depth, root_start
        index = parser.CurrentByteIndex
        if depth == 0:
            root_start = index
            root_prefix_binding[0] = pending_ns.get("openbadges")
        if name == credential_tag:
            open_credential.append(index)
        depth += 1

    def end(name: str) -> None:
        nonlocal depth
        depth -= 1
        if name == credential_tag and open_credential:
            start_index = open_credential.pop()
            if not open_credential:
                spans.append((start_index, _end_of_element(svg, start_index, parser.CurrentByteIndex)))

    parser.StartNamespaceDeclHandler = start_ns
    parser.StartElementHandler = start
    parser.EndElementHandler = end
    try:
        parser.Parse(svg, True)
    except expat.ExpatError as exc:
        raise BakingError("malformed_svg") from exc
    if root_start < 0:
        raise BakingError("not_svg")
    root_end = _end_of_start_tag(svg, root_start)
    return _SvgLayout(
        root_start=root_start,
        root_start_end=root_end,
        root_self_closing=svg[root_end - 2 : root_end] == b"/>",
        root_prefix_binding=root_prefix_binding[0],
        credential_spans=spans,
    )


def _end_of_start_tag(svg: bytes, start: int) -> int:
    """Offset just after the '>' closing the start tag at ``start`` (quoted values may hold '>')."""
    quote: int | None = None
    for pos in range(start + 1, len(svg)):
        char = svg[pos]
        if quote is not None:
            if char == quote:
                quote = None
        elif char in (0x22, 0x27):  # " or '
            quote = char
        elif char == 0x3E:  # >
            return pos + 1
    raise BakingError("malformed_svg")


def _end_of_element(svg: bytes, start: int, end_event: int) -> int:
    """Offset just after an element whose start tag is at ``start`` and end event at ``end_event``."""
    start_tag_end = _end_of_start_tag(svg, start)
    if end_event <= start or (svg[start_tag_end - 2 : start_tag_end] == b"/>" and end_event < start_tag_end):
        return start_tag_end  # an empty-element tag: expat reports the end at the start tag
    close = svg.find(b">", end_event)
    if close < 0:
        raise BakingError("malformed_svg")
    return close + 1


def _check_svg_encoding(svg: bytes) -> None:
    declared = _XML_DECL_ENCODING_RE.match(svg)
    if declared and declared.group(1).lower() not in (b"utf-8", b"utf8", b"us-ascii", b"ascii"):
        raise BakingError("unsupported_encoding")
    try:
        svg.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BakingError("unsupported_encoding") from exc


def bake_svg(svg: bytes, payload: str) -> bytes:
    """Return the SVG with ``<openbadges:credential>`` inserted right after the root start tag.

    A compact JWS goes into the ``verify`` attribute; anything else (the credential JSON) into the
    element body as CDATA. The ``openbadges`` prefix is declared on the root (or, if the root already
    binds it to another namespace such as OB 2.0's, on the element itself). Existing OB 3.0 credential
    elements are removed, so there is exactly one. The rest of the file is kept byte for byte. Raises
    :class:`BakingError` for an empty or oversized payload and for SVG that is oversized, not UTF-8,
    not well-formed, uses entities or external references, or whose root is not ``<svg>``.
    """
    text = payload.strip()
    if not text:
        raise BakingError("empty_payload")
    if len(text.encode("utf-8")) > MAX_PAYLOAD_BYTES:
        raise BakingError("payload_too_large")
    _parse_svg(svg)
    _check_svg_encoding(svg)
    layout = _svg_layout(svg)

    declaration = f' xmlns:openbadges="{OB3_SVG_NAMESPACE}"'
    root_declares = layout.root_prefix_binding is None
    element_ns = "" if root_declares or layout.root_prefix_binding == OB3_SVG_NAMESPACE else declaration
    if payload_kind(text) == "jwt":
        element = f'<openbadges:credential{element_ns} verify="{text}"></openbadges:credential>'
    else:
        cdata = text.replace("]]>", "]]]]><![CDATA[>")
        element = f"<openbadges:credential{element_ns}><![CDATA[{cdata}]]></openbadges:credential>"

    body = svg
    for start, end in reversed(layout.credential_spans):
        body = body[:start] + body[end:]
    tag_end = layout.root_start_end
    start_tag = body[layout.root_start : tag_end]
    if layout.root_self_closing:
        start_tag = start_tag[:-2].rstrip() + b">"
    if root_declares:
        start_tag = start_tag[:-1].rstrip() + declaration.encode("ascii") + b">"
    closing = b"</" + _root_qname(start_tag) + b">" if layout.root_self_closing else b""
    return body[: layout.root_start] + start_tag + element.encode("utf-8") + closing + body[tag_end:]


def _root_qname(start_tag: bytes) -> bytes:
    match = re.match(rb"<([^\s/>]+)", start_tag)
    if match is None:
        raise BakingError("malformed_svg")
    return match.group(1)
