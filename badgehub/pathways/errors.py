"""Errors of pathways, with stable codes."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from badgehub.errors import Conflict, NotFound


class PathwayNotFound(NotFound):
    code = "pathway_not_found"
    default_message = _l("There is no such pathway, or it is not yours to see.")


class PathwayNotEditable(Conflict):
    code = "pathway_archived"
    default_message = _l("This pathway is archived: it can no longer be changed.")
