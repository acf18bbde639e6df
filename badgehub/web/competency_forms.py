"""Forms of the competency pages. They parse; the rules live in badgehub.competencies.service."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import SelectField, StringField, SubmitField, TextAreaField, URLField
from wtforms.fields.choices import SelectChoice

from badgehub.competencies.service import CompetencyFields, TreeNode

# Indentation of the parent choices, so that the tree shows inside a <select>.
_INDENT = "\u2003"


class CompetencyForm(FlaskForm):
    """A competency's fields. ``code`` is only on the creation form: a code never changes."""

    code = StringField(_l("Code"))
    name = StringField(_l("Name"))
    description = TextAreaField(_l("Description"))
    # The parent is checked by the service (same framework, not archived, no circle), with a message that says
    # why, rather than against the offered list.
    parent_code = SelectField(_l("Under"), validate_choice=False)
    esco_uri = URLField(_l("ESCO skill URI"))
    rncp_code = StringField(_l("RNCP or RS code"))
    case_item_uri = URLField(_l("CASE item URI"))
    other_url = URLField(_l("Other reference (web address)"))
    submit = SubmitField(_l("Save"))

    def offer_parents(self, nodes: list[TreeNode]) -> None:
        self.parent_code.choices = [SelectChoice("", _l("Nothing: this is a domain")), *(
            SelectChoice(node.competency.code, f"{_INDENT * node.depth}{node.competency.code} — "
                                               f"{node.competency.name}") for node in nodes)]

    def fill(self, values: CompetencyFields) -> None:
        """Show a competency's current values (on GET)."""
        for name, value in values.__dict__.items():
            self[name].data = value or ""

    def competency_fields(self) -> CompetencyFields:
        """The typed values for the service, which checks them."""
        return CompetencyFields(
            name=self.name.data or "", description=self.description.data or "",
            parent_code=self.parent_code.data or None, esco_uri=self.esco_uri.data or None,
            rncp_code=self.rncp_code.data or None, case_item_uri=self.case_item_uri.data or None,
            other_url=self.other_url.data or None)


class FrameworkForm(FlaskForm):
    name = StringField(_l("Name of the framework"))
    description = TextAreaField(_l("Description"))
    submit = SubmitField(_l("Save"))


class ImportForm(FlaskForm):
    # The file is checked by the service (size, encoding, columns, rows), with a report by line.
    file = FileField(_l("CSV file"))
    submit = SubmitField(_l("Import"))


class ConfirmForm(FlaskForm):
    """A button that only needs the CSRF token (archive, restore)."""
