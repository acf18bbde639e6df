"""API tokens of an organisation: ``/organisations/<slug>/api-tokens``.

Every staff member sees the list (name, beginning of the token, permissions, dates); owners create tokens
(the token is shown once, on the page that answers the creation, never again) and revoke them. The rules
live in :mod:`badgehub.tokens.service`.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import Blueprint, Response, flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from wtforms import DateField, SelectMultipleField, StringField, SubmitField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from badgehub.db import utcnow
from badgehub.errors import ValidationError
from badgehub.extensions import db
from badgehub.organisations import service as organisations
from badgehub.organisations.models import Organisation, OrganisationMember, Role
from badgehub.tokens import service as tokens

bp = Blueprint("api_tokens", __name__)


class TokenForm(FlaskForm):
    """A new token: a name to recognise it, its permissions, an optional last day."""

    name = StringField(_l("Name (what the token is for)"),
                       validators=[InputRequired(_l("Give the token a name.")),
                                   Length(max=tokens.MAX_NAME, message=_l("At most %(max)d characters."))],
                       render_kw={"autocomplete": "off"})
    scopes = SelectMultipleField(_l("Permissions"),
                                 choices=[SelectChoice(s, tokens.SCOPE_LABELS[s]) for s in tokens.SCOPES],
                                 validators=[InputRequired(_l("Choose at least one of the permissions offered."))],
                                 widget=ListWidget(prefix_label=False), option_widget=CheckboxInput())
    expires_on = DateField(_l("Valid until (optional)"), validators=[Optional()])
    submit = SubmitField(_l("Create the token"))


class RevokeTokenForm(FlaskForm):
    submit = SubmitField(_l("Revoke"))


def _actor() -> Any:
    return current_user._get_current_object()


def _render(template: str, status: int = 200, **context: Any) -> Response:
    response = Response(render_template(template, **context), status=status, mimetype="text/html")
    # The creation page shows a secret: no cache, not even the browser's history cache.
    response.headers["Cache-Control"] = "no-store"
    return response


def _list_page(organisation: Organisation, member: OrganisationMember, form: TokenForm | None = None, *,
               status: int = 200, problem: Any = None) -> Response:
    return _render("api_tokens/index.html", status, organisation=organisation, member=member,
                   is_owner=member.role == Role.OWNER, tokens=tokens.tokens_of(organisation),
                   form=form or TokenForm(formdata=None), revoke_form=RevokeTokenForm(formdata=None),
                   problem=problem, now=utcnow(), scope_labels=tokens.SCOPE_LABELS,
                   standing=organisations.organisation_standing(organisation))


@bp.get("/organisations/<slug>/api-tokens")
@login_required
def index(slug: str) -> ResponseReturnValue:
    organisation, member = organisations.get_organisation_for(slug, _actor(), *organisations.READERS)
    return _list_page(organisation, member)


@bp.post("/organisations/<slug>/api-tokens")
@login_required
def create(slug: str) -> ResponseReturnValue:
    organisation, member = organisations.get_organisation_for(slug, _actor(), *organisations.STAFF_MANAGERS)
    form = TokenForm()
    if not form.validate_on_submit():
        return _list_page(organisation, member, form, status=400)
    expires_at = None
    if form.expires_on.data is not None:
        day = form.expires_on.data
        # Valid through the whole day chosen, wherever the person is: the day ends last at UTC-12.
        expires_at = dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC) + dt.timedelta(days=1, hours=12)
    try:
        row, token = tokens.create_token(organisation, _actor(), name=form.name.data or "",
                                         scopes=form.scopes.data or [], expires_at=expires_at)
        db.session.commit()
    except ValidationError as error:
        db.session.rollback()
        fields = dict(error.details.get("fields") or {})
        for name, message in fields.items():
            target = "expires_on" if name == "expires_at" else name
            if target in form:
                form[target].errors = [*form[target].errors, message]
        return _list_page(organisation, member, form, status=400, problem=None if fields else error.message)
    return _render("api_tokens/created.html", 201, organisation=organisation, member=member, row=row, token=token,
                   is_owner=True, scope_labels=tokens.SCOPE_LABELS)


@bp.post("/organisations/<slug>/api-tokens/<int:token_id>/revoke")
@login_required
def revoke(slug: str, token_id: int) -> ResponseReturnValue:
    organisation, member = organisations.get_organisation_for(slug, _actor(), *organisations.STAFF_MANAGERS)
    form = RevokeTokenForm()
    if not form.validate_on_submit():
        return _list_page(organisation, member, status=400,
                          problem=gettext("This form has expired. Please try again."))
    row = tokens.revoke_token(organisation, _actor(), token_id)
    db.session.commit()
    flash(gettext("The token “%(name)s” is revoked: programs using it are now refused.", name=row.name), "success")
    return redirect(url_for("api_tokens.index", slug=organisation.slug))
