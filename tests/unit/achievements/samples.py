"""Canned image files for the achievement tests: one per scenario, honest and hostile.

Imported by the unit and the functional tests (``from tests.unit.achievements.samples import …``).
"""

from __future__ import annotations

import functools
import io
import json
import struct
import zlib

from PIL import Image, PngImagePlugin

from badgehub.credentials.baking import bake_png


def png(size: tuple[int, int] = (64, 64), colour: tuple[int, ...] = (200, 40, 40, 255), mode: str = "RGBA",
        text: dict[str, str] | None = None) -> bytes:
    """A plain PNG; ``text`` adds tEXt chunks (metadata that must not survive an upload)."""
    image = Image.new(mode, size, colour)
    info = PngImagePlugin.PngInfo()
    for key, value in (text or {}).items():
        info.add_text(key, value)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", pnginfo=info)
    return buffer.getvalue()


def baked_png() -> bytes:
    """A PNG carrying someone else's credential in an ``openbadgecredential`` iTXt chunk."""
    credential = {"@context": ["https://www.w3.org/ns/credentials/v2"], "id": "urn:uuid:1",
                  "type": ["VerifiableCredential"]}
    return bake_png(png(), json.dumps(credential))


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


@functools.cache
def bomb_png(side: int = 10_000) -> bytes:
    """A real decompression bomb: ``side``×``side`` grey pixels of zero (100 megapixels by default, more than
    Pillow's own limit), about a hundred kilobytes compressed."""
    rows = (b"\x00" * (side + 1)) * 100  # a filter byte and one byte per pixel, a hundred rows at a time
    compressor = zlib.compressobj(9)
    parts = [compressor.compress(rows) for _ in range(side // 100)]
    parts.append(compressor.flush())
    header = struct.pack(">IIBBBBB", side, side, 8, 0, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", header) + _chunk(b"IDAT", b"".join(parts))
            + _chunk(b"IEND", b""))


def truncated_png() -> bytes:
    """A PNG cut off in the middle of its pixel data."""
    image = Image.effect_noise((256, 256), 64).convert("RGB")
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    data = buffer.getvalue()
    return data[: len(data) // 2]


PDF_RENAMED = (b"%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n"
               b"trailer << /Root 1 0 R >>\n%%EOF\n")

SVG_OK = (b'<?xml version="1.0" encoding="UTF-8"?>\n'
          b'<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" '
          b'xmlns:inkscape="http://www.inkscape.org/namespaces/inkscape" viewBox="0 0 100 100" width="100" '
          b'height="100" inkscape:version="1.2">'
          b'<!-- drawn by hand -->'
          b'<metadata><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"/></metadata>'
          b'<defs><linearGradient id="g"><stop offset="0" stop-color="#fff"/></linearGradient></defs>'
          b'<title>Bike &amp; repair</title>'
          b'<circle cx="50" cy="50" r="40" fill="url(#g)" style="stroke: #123456"/>'
          b'<use xlink:href="#g"/><inkscape:layer/>'
          b'<text x="10" y="90">V\xc3\xa9lo &lt;3</text></svg>')

SVG_SCRIPT = (b'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10">'
              b'<script>alert(document.cookie)</script><rect width="10" height="10"/></svg>')
SVG_ONLOAD = b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><rect width="10" height="10"/></svg>'
SVG_EXTERNAL_ENTITY = (b'<?xml version="1.0"?>\n<!DOCTYPE svg [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>\n'
                       b'<svg xmlns="http://www.w3.org/2000/svg"><text>&xxe;</text></svg>')
SVG_DTD = (b'<?xml version="1.0"?>\n<!DOCTYPE svg PUBLIC "-//W3C//DTD SVG 1.1//EN" '
           b'"http://www.w3.org/Graphics/SVG/1.1/DTD/svg11.dtd">\n'
           b'<svg xmlns="http://www.w3.org/2000/svg"><rect width="10" height="10"/></svg>')
SVG_BILLION_LAUGHS = (b'<?xml version="1.0"?>\n<!DOCTYPE svg [<!ENTITY a "aaaaaaaaaa">'
                      b'<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>\n'
                      b'<svg xmlns="http://www.w3.org/2000/svg"><text>&b;</text></svg>')
SVG_EXTERNAL_IMAGE = (b'<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink">'
                      b'<image xlink:href="https://tracker.example.net/pixel.png" width="10" height="10"/></svg>')
SVG_JAVASCRIPT_LINK = (b'<svg xmlns="http://www.w3.org/2000/svg"><a href="javascript:alert(1)">'
                       b'<rect width="10" height="10"/></a></svg>')
SVG_USE_EXTERNAL = (b'<svg xmlns="http://www.w3.org/2000/svg">'
                    b'<use href="https://evil.example.net/sprite.svg#icon"/></svg>')
SVG_STYLE_URL = (b'<svg xmlns="http://www.w3.org/2000/svg"><style>rect { fill: url(https://evil.example.net/x) }'
                 b'</style><rect width="10" height="10"/></svg>')
SVG_STYLE_IMPORT = (b'<svg xmlns="http://www.w3.org/2000/svg"><style>@import "https://evil.example.net/a.css";'
                    b'</style><rect width="10" height="10"/></svg>')
SVG_FOREIGN_OBJECT = (b'<svg xmlns="http://www.w3.org/2000/svg"><foreignObject width="10" height="10">'
                      b'<div xmlns="http://www.w3.org/1999/xhtml">hi</div></foreignObject></svg>')
SVG_HTML_SCRIPT = (b'<svg xmlns="http://www.w3.org/2000/svg" xmlns:h="http://www.w3.org/1999/xhtml">'
                   b'<h:script>alert(1)</h:script></svg>')
SVG_ANIMATE_HREF = (b'<svg xmlns="http://www.w3.org/2000/svg"><a><set attributeName="href" to="javascript:alert(1)"/>'
                    b'<rect width="10" height="10"/></a></svg>')
SVG_DATA_IMAGE = (b'<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink">'
                  b'<image width="10" height="10" xlink:href="data:image/png;base64,iVBORw0KGgo="/></svg>')
SVG_NO_NAMESPACE = b'<svg viewBox="0 0 10 10"><rect width="10" height="10" fill="red"/></svg>'
