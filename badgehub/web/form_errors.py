"""Service errors shown on forms: the one place a :class:`~badgehub.errors.BadgeHubError`'s field errors are
put next to the fields they are about."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from badgehub.errors import BadgeHubError


def place_errors(form: Any, error: BadgeHubError, names: Mapping[str, str] | None = None) -> str | None:
    """Put ``error``'s field errors on ``form``'s fields; return the message no field can show, or None.

    Field errors are ``details["fields"]`` (``details["errors"]`` in older services), and
    ``details["field"]`` names the field of the error's own message. ``names`` maps a service's field
    name to the form's where they differ. Messages become plain strings here: Flask-Babel's lazy strings
    pass through Jinja unescaped (their ``__html__`` returns the text as it is), and a message may quote
    what a person typed.
    """
    fields = dict(error.details.get("fields") or error.details.get("errors") or {})
    if "field" in error.details and error.details["field"] not in fields:
        fields[error.details["field"]] = error.message
    unplaced = None if fields else str(error.message)
    for service_name, message in fields.items():
        name = (names or {}).get(service_name, service_name)
        if name in form:
            form[name].errors = [*form[name].errors, str(message)]
        else:
            unplaced = str(message)
    return unplaced
