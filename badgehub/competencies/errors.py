"""Errors of the competency domain, each with a stable code."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask_babel import lazy_gettext as _l

from badgehub.errors import Conflict, ValidationError


class CompetencyExists(Conflict):
    code = "competency_exists"
    default_message = _l("A competency with this code already exists in the framework.")


class CompetencyHasChildren(Conflict):
    code = "competency_has_children"
    default_message = _l("Archive the competencies under this one first.")


class ParentArchived(Conflict):
    code = "parent_archived"
    default_message = _l("The competency above this one is archived; restore it first.")


@dataclass(frozen=True)
class RowProblem:
    """One thing wrong in an imported CSV file: the line it starts on (0 for the whole file), the column, why."""

    line: int
    column: str | None
    message: Any


class ImportRejected(ValidationError):
    """The CSV file was refused as a whole; ``problems`` lists every bad row by line. Nothing was imported."""

    code = "import_rejected"
    default_message = _l("The file was not imported: nothing has changed. Correct the lines below and try again.")

    def __init__(self, problems: list[RowProblem], message: Any | None = None) -> None:
        super().__init__(message, details={"problems": [
            {"line": p.line, "column": p.column, "message": str(p.message)} for p in problems]})
        self.problems = problems
