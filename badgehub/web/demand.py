"""An organisation's skills demand: ``/organisations/<slug>/demand`` (the competencies it looks for).

Who may declare is written in ``badgehub.catalogue.demand``, never here.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext
from flask_login import current_user, login_required

from badgehub.catalogue import demand
from badgehub.errors import ValidationError
from badgehub.extensions import db
from badgehub.organisations import service as organisations
from badgehub.organisations.models import Organisation, OrganisationMember, Role
from badgehub.web.catalogue_forms import ButtonForm, DemandForm

bp = Blueprint("demand", __name__)


def _actor() -> Any:
    return current_user._get_current_object()


def _page(organisation: Organisation, member: OrganisationMember, form: DemandForm | None = None, *,
          status: int = 200, problem: Any = None) -> Response:
    body = render_template("organisations/demand.html", organisation=organisation, member=member,
                           is_owner=member.role == Role.OWNER, can_edit=member.role in organisations.BADGE_ISSUERS,
                           standing=organisations.organisation_standing(organisation),
                           demands=demand.demand_of(organisation), choices=demand.demand_choices(organisation),
                           form=form or DemandForm(formdata=None), button=ButtonForm(formdata=None),
                           problem=problem)
    return Response(body, status=status, mimetype="text/html")


@bp.get("/organisations/<slug>/demand")
@login_required
def index(slug: str) -> ResponseReturnValue:
    organisation, member = organisations.get_organisation_for(slug, _actor(), *organisations.READERS)
    form = DemandForm(formdata=None)
    chosen = request.args.get("competency", "")
    if chosen.isdigit():
        form.competency_id.data = chosen
    return _page(organisation, member, form)


@bp.post("/organisations/<slug>/demand")
@login_required
def declare(slug: str) -> ResponseReturnValue:
    organisation, member = organisations.get_organisation_for(slug, _actor(), *organisations.BADGE_ISSUERS)
    form = DemandForm()
    if not form.validate_on_submit():
        return _page(organisation, member, form, status=400)
    try:
        declared = demand.declare_demand(organisation, form.competency_id.data or "", form.note.data or "", _actor())
        db.session.commit()
    except ValidationError as error:
        db.session.rollback()
        fields = {name: str(message) for name, message in (error.details.get("fields") or {}).items()}
        for name, message in fields.items():
            if name in form:
                form[name].errors = [*form[name].errors, message]
        return _page(organisation, member, form, status=error.http_status,
                     problem=None if fields else str(error.message))
    flash(gettext("Declared: your organisation looks for “%(competency)s”.", competency=declared.competency.name),
          "success")
    return redirect(url_for("demand.index", slug=organisation.slug))


@bp.post("/organisations/<slug>/demand/<int:competency_id>/withdraw")
@login_required
def withdraw(slug: str, competency_id: int) -> ResponseReturnValue:
    organisation, _member = organisations.get_organisation_for(slug, _actor(), *organisations.BADGE_ISSUERS)
    if ButtonForm().validate_on_submit():
        demand.withdraw_demand(organisation, competency_id, _actor())
        db.session.commit()
        flash(gettext("The declaration is withdrawn."), "success")
    return redirect(url_for("demand.index", slug=organisation.slug))
