"""Slugs: the short names in public addresses (``/t/<slug>``, ``/issuers/<slug>``), and the accent-blind
comparison of names that slugs and alphabetical lists share.

The rule is written once here and used for territories and organisations alike. It lives in the territory
package only because that is where it was first needed; it imports nothing from the domains, so any
package may use it without creating an import cycle.
"""

from __future__ import annotations

import re
import unicodedata

from flask_babel import lazy_gettext as _l

from badgehub.errors import ValidationError

SLUG_PATTERN = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
SLUG_MIN_LENGTH = 2
SLUG_MAX_LENGTH = 64
# Latin letters that Unicode does not decompose into a base letter and an accent.
_LIGATURES = str.maketrans({"œ": "oe", "æ": "ae", "ß": "ss", "ø": "o", "đ": "d", "ł": "l", "þ": "th", "ı": "i"})


def validate_slug(slug: str) -> str:
    """Return ``slug`` if it is lower-case letters, digits and single hyphens (2–64 chars); else raise.

    Raises :class:`~badgehub.errors.ValidationError` with ``details={"field": "slug"}``.
    """
    value = slug.strip()
    if not (SLUG_MIN_LENGTH <= len(value) <= SLUG_MAX_LENGTH) or not SLUG_PATTERN.match(value):
        raise ValidationError(_l("Use 2 to 64 lower-case letters, digits and hyphens."), details={"field": "slug"})
    return value


def slugify(text: str, *, max_length: int = 48, fallback: str = "organisation") -> str:
    """Derive a valid slug from a free-text name: accents dropped, anything else becomes a single hyphen.

    ``"Bibliothèque Albert-Camus"`` gives ``"bibliotheque-albert-camus"``, ``"Cœur d’Essonne"`` gives
    ``"coeur-d-essonne"``. Names with no usable letter (``"!!!"``, or a name in a script with no Latin
    transliteration) give ``fallback``. The result is cut at ``max_length`` on a hyphen when possible,
    leaving room for a ``-2`` suffix that makes it unique.
    """
    decomposed = unicodedata.normalize("NFKD", text.lower().translate(_LIGATURES))
    letters = "".join(char for char in decomposed if not unicodedata.combining(char))
    slug = re.sub(r"[^a-z0-9]+", "-", letters).strip("-")
    if len(slug) > max_length:
        cut = slug[:max_length]
        slug = cut.rsplit("-", 1)[0] if "-" in cut else cut
    if len(slug) < SLUG_MIN_LENGTH:
        return fallback
    return slug


def name_sort_key(text: str) -> str:
    """A key that sorts names alphabetically whatever their case and accents ("Médiathèque" before
    "Menuiserie", "Évry" among the e's). Not a full collation, but right for French and English names."""
    decomposed = unicodedata.normalize("NFKD", text.casefold().translate(_LIGATURES))
    return "".join(char for char in decomposed if not unicodedata.combining(char))
