"""Forms of the organisation pages. They parse and offer choices; the rules live in organisations.service."""

from __future__ import annotations

from typing import Any

from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, SelectField, StringField, SubmitField, TelField, TextAreaField, URLField
from wtforms.fields.choices import SelectChoice

from badgehub.organisations.models import OrganisationType, Role, Sector
from badgehub.organisations.service import ProfileFields, areas_by_territory, country_codes
from badgehub.organisations.staff import staff_roles
from badgehub.territory.models import Territory
from badgehub.territory.slugs import name_sort_key
from badgehub.web import labels

# A placeholder first option, so that nobody is placed in a sector or a country by accident.
_CHOOSE = SelectChoice("", _l("Choose…"))
_NONE = SelectChoice("", _l("None"))


def country_choices() -> list[SelectChoice]:
    """Every country, named in the page's language, alphabetically."""
    locale = get_locale()
    names = locale.territories if locale is not None else {}
    pairs = [(code, str(names.get(code, code))) for code in country_codes()]
    return [_NONE, *(SelectChoice(code, name) for code, name in sorted(pairs, key=lambda pair: name_sort_key(pair[1])))]


def area_choices() -> list[SelectChoice]:
    """The areas of every territory, grouped by territory (``<optgroup>``)."""
    return [_NONE, *(SelectChoice(str(area.id), area.name, optgroup=territory)
                     for territory, areas in areas_by_territory() for area in areas)]


class OrganisationForm(FlaskForm):
    """The public profile: the OB 3.0 ``Profile`` of the organisation."""

    name = StringField(_l("Name"))
    type = SelectField(_l("Kind of organisation"), choices=[_CHOOSE, *labels.choices(OrganisationType)])
    sector = SelectField(_l("Sector"), choices=[_CHOOSE, *labels.choices(Sector)])
    description = TextAreaField(_l("Description"))
    url = URLField(_l("Website"))
    email = EmailField(_l("Contact e-mail address"))
    phone = TelField(_l("Phone number"))
    image_url = URLField(_l("Logo: web address of an image"))
    street_address = StringField(_l("Street address"))
    postal_code = StringField(_l("Postal code"))
    locality = StringField(_l("Town or city"))
    region = StringField(_l("Region"))
    country_code = SelectField(_l("Country"))
    area_id = SelectField(_l("Area of a learning territory"))
    submit = SubmitField(_l("Create the organisation"))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Built per request: the country names follow the page's language, the areas follow the database.
        self.country_code.choices = country_choices()
        self.area_id.choices = area_choices()

    def profile_fields(self) -> ProfileFields:
        """The typed values for the service, which validates them."""
        area = self.area_id.data or ""
        return ProfileFields(
            name=self.name.data or "", type=self.type.data or "", sector=self.sector.data or "",
            description=self.description.data or "", url=self.url.data or "", email=self.email.data or "",
            phone=self.phone.data or "", image_url=self.image_url.data or "",
            street_address=self.street_address.data or "", postal_code=self.postal_code.data or "",
            locality=self.locality.data or "", region=self.region.data or "",
            country_code=self.country_code.data or "", area_id=int(area) if area.isdigit() else None)


class OrganisationEditForm(OrganisationForm):
    slug = StringField(_l("Public address"))
    submit = SubmitField(_l("Save the profile"))

    def fill(self, fields: ProfileFields, slug: str) -> None:
        """Show the current profile (on GET)."""
        for name, value in fields.__dict__.items():
            self[name].data = "" if value is None else str(value)
        self.slug.data = slug


def role_choices() -> list[SelectChoice]:
    return labels.choices(Role, staff_roles())


class InviteForm(FlaskForm):
    email = EmailField(_l("E-mail address"))
    role = SelectField(_l("Role"), choices=role_choices, default=Role.ISSUER.value)
    submit = SubmitField(_l("Send the invitation"))


class RoleForm(FlaskForm):
    role = SelectField(_l("Role"), choices=role_choices)
    submit = SubmitField(_l("Change the role"))


class ConfirmForm(FlaskForm):
    """A button that only needs the CSRF token (remove, withdraw, accept)."""


class MembershipRequestForm(FlaskForm):
    # The choice is checked by the service (with a message that says why), not against the offered list.
    territory = SelectField(_l("Territory"), validate_choice=False)
    message = TextAreaField(_l("Message to the coordinators"))
    submit = SubmitField(_l("Ask to join"))

    def offer(self, territories: list[Territory]) -> None:
        self.territory.choices = [_CHOOSE, *(SelectChoice(t.slug, t.name) for t in territories)]
