"""Uploaded badge images, checked and cleaned: security code, since an upload is served to every visitor.

PNG or SVG only, what OB 3.0 allows for ``Achievement.image`` (OB3-BRIEF §2.6, §4). The type is decided
from the bytes, never from the file name, so a PDF renamed ``.png`` is refused.

* At most :data:`MAX_UPLOAD_BYTES` (2 MB).
* **PNG**: at most :data:`MAX_SIDE` pixels on a side, checked from the header before any pixel is decoded;
  Pillow's own decompression-bomb guard (``MAX_IMAGE_PIXELS``) stays on as a second line, its warning turned
  into a refusal. The pixels are decoded (a truncated file is refused), scaled down to at most
  :data:`STORED_MAX_SIDE` pixels on a side, and **re-encoded** into a new PNG: every ancillary chunk is gone —
  text chunks (a credential baked into the file by someone else), EXIF, ICC profile, animation frames.
* **SVG**: parsed with defusedxml, which refuses a DTD, entity declarations and external references.
  Then an allow-list: only the drawing elements of SVG 1.1 are accepted; ``<script>``, ``<foreignObject>``,
  ``<a>``, animation elements, ``<feImage>`` and HTML elements are refused with a message naming them, as are
  event-handler attributes (``on…``), links that leave the document (``href`` / ``xlink:href`` other than
  ``#id``, except an embedded ``data:image/png|jpeg`` picture in ``<image>``), and CSS (``style``
  attributes and ``<style>``) that imports or points ``url(…)`` outside the document. Elements and
  attributes of editors' own namespaces (Inkscape, Sodipodi, RDF metadata) are dropped silently.
  The result is written back by our own serialiser — no comments, no processing instructions, no
  declarations — and **kept as SVG** (``image/svg+xml``): there is no SVG rasteriser in the Python
  dependencies, OB 3.0 bakes SVG as well as PNG, and the image endpoint serves SVG under a policy that
  forbids scripts and any fetch anyway.

Refusals are :class:`~badgehub.achievements.errors.ImageRejected` with a stable ``reason`` and a message
saying what to do.
"""

from __future__ import annotations

import io
import re
import warnings
from collections.abc import Iterator
from typing import Final
from xml.etree.ElementTree import Element, ParseError
from xml.sax.saxutils import escape

from defusedxml import DefusedXmlException
from defusedxml import ElementTree as SafeET
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from PIL import Image

from badgehub.achievements.errors import ImageRejected
from badgehub.achievements.image_bytes import PNG, SVG, BadgeImage, encode_png

MAX_UPLOAD_BYTES: Final = 2 * 1024 * 1024
MAX_SIDE: Final = 4096
MIN_SIDE: Final = 32
STORED_MAX_SIDE: Final = 1024
MAX_SVG_ELEMENTS: Final = 20_000
MAX_SVG_DEPTH: Final = 64

PNG_SIGNATURE: Final = b"\x89PNG\r\n\x1a\n"
SVG_NS: Final = "http://www.w3.org/2000/svg"
XLINK_NS: Final = "http://www.w3.org/1999/xlink"
XML_NS: Final = "http://www.w3.org/XML/1998/namespace"
XHTML_NS: Final = "http://www.w3.org/1999/xhtml"


def read_upload(data: bytes) -> BadgeImage:
    """Check an uploaded file and return the cleaned image (PNG re-encoded, SVG sanitised).

    Raises ImageRejected (``empty``, ``too_large``, ``not_png_or_svg``, ``too_many_pixels``, ``too_small``,
    ``unreadable``, ``svg_malformed``, ``svg_dtd``, ``svg_forbidden_element``, ``svg_event_handler``,
    ``svg_external_reference``, ``svg_css``, ``svg_too_complex``).
    """
    if not data:
        raise ImageRejected("empty", _l("The file is empty. Choose a PNG or SVG image."))
    if len(data) > MAX_UPLOAD_BYTES:
        raise ImageRejected("too_large", _l("The image is larger than %(limit)s MB. Make it smaller and try again.",
                                            limit=MAX_UPLOAD_BYTES // (1024 * 1024)))
    if data.startswith(PNG_SIGNATURE):
        return BadgeImage(_clean_png(data), PNG, "upload")
    if looks_like_svg(data):
        return BadgeImage(sanitise_svg(data), SVG, "upload")
    raise ImageRejected("not_png_or_svg", _l(
        "This file is not a PNG or SVG image, whatever its name says. Open Badges images must be PNG or SVG."))


def looks_like_svg(data: bytes) -> bool:
    """Whether ``data`` starts like an XML document holding an ``<svg>`` element (to be sanitised as one)."""
    head = data[:4096].lstrip(b"\xef\xbb\xbf").lstrip()
    return head.startswith(b"<") and b"<svg" in data[:65536]


def _too_many_pixels() -> ImageRejected:
    return ImageRejected("too_many_pixels", _l(
        "The image is too large: at most %(side)s × %(side)s pixels. Resize it and try again.", side=MAX_SIDE))


def _clean_png(data: bytes) -> bytes:
    """Decode the PNG within the pixel limits and re-encode its pixels alone into a new PNG."""
    problem: ImageRejected | None = None
    pixels: Image.Image | None = None
    with warnings.catch_warnings():
        # Pillow only warns between MAX_IMAGE_PIXELS and twice that; for us a warning is a refusal.
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            with Image.open(io.BytesIO(data), formats=["PNG"]) as decoded:
                width, height = decoded.size
                if width > MAX_SIDE or height > MAX_SIDE:
                    problem = _too_many_pixels()
                elif width < MIN_SIDE or height < MIN_SIDE:
                    problem = ImageRejected("too_small", _l(
                        "The image is too small: at least %(side)s × %(side)s pixels.", side=MIN_SIDE))
                else:
                    decoded.load()
                    has_alpha = decoded.mode in ("RGBA", "LA", "PA", "RGBa", "La") or "transparency" in decoded.info
                    mode = "RGBA" if has_alpha else "RGB"
                    converted = decoded.convert(mode)
                    # A fresh image carries no info dict: nothing of the original file but its pixels survives.
                    pixels = Image.new(mode, converted.size)
                    pixels.paste(converted)
        except (Image.DecompressionBombError, Image.DecompressionBombWarning):
            problem = _too_many_pixels()
        except Exception:  # any decoder failure on untrusted bytes means "unreadable"
            problem = ImageRejected("unreadable", _l(
                "This PNG file is damaged or incomplete. Export it again and try again."))
    if problem is not None:
        raise problem
    assert pixels is not None
    if max(pixels.size) > STORED_MAX_SIDE:
        pixels.thumbnail((STORED_MAX_SIDE, STORED_MAX_SIDE), Image.Resampling.LANCZOS)
    return encode_png(pixels)


_SVG_ELEMENTS: Final = frozenset({
    "svg", "g", "defs", "title", "desc", "symbol", "use", "path", "rect", "circle", "ellipse", "line",
    "polyline", "polygon", "text", "tspan", "textPath", "linearGradient", "radialGradient", "stop", "clipPath",
    "mask", "pattern", "marker", "filter", "image", "style", "switch",
    "feBlend", "feColorMatrix", "feComponentTransfer", "feComposite", "feConvolveMatrix", "feDiffuseLighting",
    "feDisplacementMap", "feDistantLight", "feDropShadow", "feFlood", "feFuncA", "feFuncB", "feFuncG",
    "feFuncR", "feGaussianBlur", "feMerge", "feMergeNode", "feMorphology", "feOffset", "fePointLight",
    "feSpecularLighting", "feSpotLight", "feTile", "feTurbulence",
})  # fmt: skip
# Silently dropped: editors' metadata, which never draws anything.
_SVG_DROPPED: Final = frozenset({"metadata"})
_KEPT_XML_ATTRIBUTES: Final = frozenset({"space", "lang"})
_URL_RE: Final = re.compile(r"url\(\s*(['\"]?)(.*?)\1\s*\)", re.IGNORECASE | re.DOTALL)
_DATA_IMAGE_RE: Final = re.compile(r"data:image/(png|jpeg);base64,[A-Za-z0-9+/=\s]*", re.IGNORECASE)
_CSS_FORBIDDEN: Final = ("@import", "expression(", "javascript:", "behavior:", "-moz-binding", "\\")
_CSS_COMMENT_RE: Final = re.compile(r"/\*.*?\*/", re.DOTALL)


def _split(name: str) -> tuple[str | None, str]:
    if name.startswith("{"):
        namespace, _, local = name[1:].partition("}")
        return namespace, local
    return None, name


# Messages naming something found in the file use gettext, not lazy_gettext: Flask-Babel's lazy strings
# declare themselves safe HTML (their __html__ does not escape), and an element name comes from the uploader.
def _refuse_element(name: str) -> ImageRejected:
    return ImageRejected("svg_forbidden_element", gettext(
        "This SVG contains <%(element)s>, which is not allowed in a badge image (no scripts, links, animations, "
        "embedded web content or external images). Remove it, or export the image as PNG.", element=name))


def _refuse_reference() -> ImageRejected:
    return ImageRejected("svg_external_reference", _l(
        "This SVG refers to files or addresses outside itself. A badge image must be self-contained: embed "
        "everything, or export the image as PNG."))


def _check_css(text: str) -> None:
    css = _CSS_COMMENT_RE.sub("", text).lower()
    if any(token in css for token in _CSS_FORBIDDEN):
        raise ImageRejected("svg_css", _l(
            "This SVG's styles import other files or use constructs that are not allowed. Simplify the styles, "
            "or export the image as PNG."))
    _check_urls(css)


def _check_urls(value: str) -> None:
    for match in _URL_RE.finditer(value):
        if not match.group(2).strip().startswith("#"):
            raise _refuse_reference()
    if "url(" in value.lower() and not _URL_RE.search(value):
        raise _refuse_reference()


def _check_href(value: str, element: str) -> None:
    target = value.strip()
    if target.startswith("#"):
        return
    if element == "image" and _DATA_IMAGE_RE.fullmatch(target):
        return
    raise _refuse_reference()


def _clean_attributes(element: Element, local: str) -> None:
    kept: dict[str, str] = {}
    for name, value in element.attrib.items():
        namespace, attribute = _split(name)
        if namespace is None:
            if attribute.lower().startswith("on"):
                raise ImageRejected("svg_event_handler", gettext(
                    "This SVG contains event handlers (%(attribute)s), which could run code. Remove them, or "
                    "export the image as PNG.", attribute=attribute))
            if attribute == "href":
                _check_href(value, local)
            elif attribute == "style":
                _check_css(value)
            else:
                _check_urls(value)
            kept[name] = value
        elif namespace == XLINK_NS:
            if attribute == "href":
                _check_href(value, local)
                kept[name] = value
        elif namespace == XML_NS and attribute in _KEPT_XML_ATTRIBUTES:
            kept[name] = value
    element.attrib.clear()
    element.attrib.update(kept)


def _walk(root: Element) -> Iterator[tuple[Element, int]]:
    """Every element with its depth, without recursion (so that a deep document cannot exhaust the stack)."""
    stack = [(root, 1)]
    while stack:
        element, depth = stack.pop()
        yield element, depth
        stack.extend((child, depth + 1) for child in reversed(list(element)))


def sanitise_svg(data: bytes) -> bytes:
    """Return a cleaned copy of an SVG document, or raise ImageRejected (see the module docstring)."""
    try:
        root = SafeET.fromstring(data, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except DefusedXmlException as exc:
        raise ImageRejected("svg_dtd", _l(
            "This SVG declares a DTD or entities, which are not allowed (they can read files or exhaust the "
            "server). Export the image again without a DOCTYPE, or as PNG.")) from exc
    except (ParseError, ValueError, UnicodeError) as exc:
        raise ImageRejected("svg_malformed", _l(
            "This SVG file is not well-formed XML. Export it again and try again.")) from exc
    if _split(root.tag) not in ((SVG_NS, "svg"), (None, "svg")):
        raise ImageRejected("svg_malformed", _l("This file is not an SVG image."))

    count = 0
    for element, depth in _walk(root):
        count += 1
        if count > MAX_SVG_ELEMENTS or depth > MAX_SVG_DEPTH:
            raise ImageRejected("svg_too_complex", _l(
                "This SVG is too complex for a badge image. Simplify it, or export it as PNG."))
        namespace, local = _split(element.tag)
        if namespace is None:
            # A document without the SVG namespace is still SVG to its author; write it with the namespace.
            namespace = SVG_NS
            element.tag = f"{{{SVG_NS}}}{local}"
        if namespace == XHTML_NS:
            raise _refuse_element(local)
        if namespace != SVG_NS:
            continue  # dropped below, with everything inside it
        if local not in _SVG_ELEMENTS and local not in _SVG_DROPPED:
            raise _refuse_element(local)
        for child in list(element):
            child_namespace, child_local = _split(child.tag)
            if child_namespace not in (None, SVG_NS, XHTML_NS) or (
                    child_namespace == SVG_NS and child_local in _SVG_DROPPED):
                element.remove(child)
        _clean_attributes(element, local)
        if local == "style":
            _check_css(element.text or "")
    return _serialise(root)


def _qualified(name: str) -> str:
    namespace, local = _split(name)
    if namespace == XLINK_NS:
        return f"xlink:{local}"
    if namespace == XML_NS:
        return f"xml:{local}"
    return local


def _serialise(root: Element) -> bytes:
    uses_xlink = any(_split(name)[0] == XLINK_NS for element in root.iter() for name in element.attrib)
    parts = ['<?xml version="1.0" encoding="UTF-8"?>\n']
    attribute_escapes = {'"': "&quot;", "\n": "&#10;", "\r": "&#13;", "\t": "&#9;"}

    def write(element: Element, top: bool) -> None:
        tag = _split(element.tag)[1]
        parts.append(f"<{tag}")
        if top:
            parts.append(f' xmlns="{SVG_NS}"')
            if uses_xlink:
                parts.append(f' xmlns:xlink="{XLINK_NS}"')
        for name, value in element.attrib.items():
            parts.append(f' {_qualified(name)}="{escape(value, attribute_escapes)}"')
        children = list(element)
        if not children and not element.text:
            parts.append("/>")
        else:
            parts.append(">")
            parts.append(escape(element.text or ""))
            for child in children:
                write(child, False)
                parts.append(escape(child.tail or ""))
            parts.append(f"</{tag}>")

    # Depth is capped at MAX_SVG_DEPTH by the caller, so this recursion is bounded.
    write(root, True)
    return "".join(parts).encode("utf-8")
