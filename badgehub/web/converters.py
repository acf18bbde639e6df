"""URL converters shared by every blueprint, installed by the app factory before any route is added."""

from __future__ import annotations

from werkzeug.routing import IntegerConverter

# Ids are 32-bit on PostgreSQL (``integer``) and 64-bit on SQLite; nothing we number goes past this.
# Without a bound, a 20-digit number in a URL reaches the database driver and fails there with a 500.
MAX_URL_INT = 2**31 - 1


class BoundedIntegerConverter(IntegerConverter):
    """``<int:...>`` that answers 404 for a number no row can have, instead of passing it to the database."""

    def __init__(self, url_map: object, *args: object, **kwargs: object) -> None:
        kwargs.setdefault("max", MAX_URL_INT)
        super().__init__(url_map, *args, **kwargs)  # type: ignore[arg-type]
