"""web.form_errors.place_errors: one way to put a service's field errors on a form."""

from __future__ import annotations

from wtforms import Form, StringField

from badgehub.errors import ValidationError
from badgehub.web.form_errors import place_errors


class _Form(Form):
    name = StringField()
    criteria_url = StringField()


def test_field_errors_go_next_to_their_fields_under_the_forms_names() -> None:
    form = _Form()
    error = ValidationError(details={"fields": {"name": "Too long.", "url": "Not an address."}})
    assert place_errors(form, error, {"url": "criteria_url"}) is None
    assert form.name.errors == ["Too long."] and form.criteria_url.errors == ["Not an address."]


def test_an_error_no_field_can_show_is_returned() -> None:
    form = _Form()
    assert place_errors(form, ValidationError(details={"fields": {"colour": "Too dark."}})) == "Too dark."
    assert place_errors(form, ValidationError("Nothing to show.")) == "Nothing to show."


def test_an_error_about_one_field_and_older_services_errors() -> None:
    form = _Form()
    assert place_errors(form, ValidationError("Taken.", details={"field": "name"})) is None
    assert form.name.errors == ["Taken."]
    assert place_errors(form, ValidationError(details={"errors": {"criteria_url": "Wrong."}})) is None
    assert form.criteria_url.errors == ["Wrong."]
