"""Badge images, the one way in: an upload checked and cleaned (:mod:`~badgehub.achievements.uploads`,
security code) or a badge drawn from a design (:mod:`~badgehub.achievements.drawing`), both giving a
:class:`~badgehub.achievements.image_bytes.BadgeImage`. Pure code over bytes (no database, no request)."""

from __future__ import annotations

from badgehub.achievements.drawing import (
    GENERATED_SIZE,
    GENERATOR_VERSION,
    MIN_CONTRAST,
    PICTOGRAMS,
    SHAPES,
    Design,
    check_design,
    contrast_ratio,
    generate,
)
from badgehub.achievements.image_bytes import MEDIA_TYPES, PNG, SVG, BadgeImage
from badgehub.achievements.uploads import (
    MAX_SIDE,
    MAX_SVG_DEPTH,
    MAX_SVG_ELEMENTS,
    MAX_UPLOAD_BYTES,
    MIN_SIDE,
    STORED_MAX_SIDE,
    read_upload,
    sanitise_svg,
)

__all__ = [
    "GENERATED_SIZE", "GENERATOR_VERSION", "MAX_SIDE", "MAX_SVG_DEPTH", "MAX_SVG_ELEMENTS", "MAX_UPLOAD_BYTES",
    "MEDIA_TYPES", "MIN_CONTRAST", "MIN_SIDE", "PICTOGRAMS", "PNG", "SHAPES", "STORED_MAX_SIDE", "SVG",
    "BadgeImage", "Design", "check_design", "contrast_ratio", "generate", "read_upload", "sanitise_svg",
]
