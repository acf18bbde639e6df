"""Errors of the observatory, each with a stable code."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from badgehub.errors import NotFound, ValidationError


class InvalidFilters(ValidationError):
    code = "invalid_filters"
    default_message = _l("Some of the filters are not valid.")


class UnknownDataset(NotFound):
    code = "unknown_dataset"
    default_message = _l("There is no such dataset.")
