"""Territory pages: the public registry ``/t/<slug>``, and the coordinators' pages ``/coordinate``.

Who may decide is written in ``badgehub.territory.service`` (``require_coordinator``), never here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from sqlalchemy import select

from badgehub.accounts.models import User
from badgehub.audit.models import AuditEvent
from badgehub.catalogue import search as catalogue
from badgehub.catalogue import themes
from badgehub.errors import BadgeHubError, Forbidden
from badgehub.extensions import db
from badgehub.organisations.models import Organisation
from badgehub.territory import service
from badgehub.territory.errors import DecisionNotAllowed
from badgehub.territory.models import Territory, TerritoryMembership
from badgehub.web import labels
from badgehub.web.territory_forms import DecisionForm

bp = Blueprint("territories", __name__)


def _actor() -> Any:
    return current_user._get_current_object()


def _render(template: str, status: int = 200, **context: Any) -> Response:
    return Response(render_template(template, **context), status=status, mimetype="text/html")


@bp.get("/t/<slug>")
def public(slug: str) -> ResponseReturnValue:
    territory = service.get_territory_by_slug(slug)
    return _render("territories/public.html", territory=territory,
                   members_by_sector=service.approved_members_by_sector(territory),
                   badges_offered=catalogue.offered_count(territory), themes=themes.themes_of(territory),
                   can_coordinate=service.is_coordinator(territory, current_user))


@bp.get("/coordinate")
@login_required
def coordinate() -> ResponseReturnValue:
    territories = service.coordinated_territories(_actor())
    if not territories and not _actor().is_admin:
        raise Forbidden(_l("This page is for the coordinators of a learning territory."))
    counts = {t.id: len(service.memberships_for_review(t).pending) for t in territories}
    return _render("territories/coordinate_index.html", territories=territories, pending_counts=counts)


@dataclass(frozen=True)
class HistoryRow:
    """One line of the decision history, ready for the template."""

    occurred_at: Any
    action: str
    organisation: str
    actor: str
    reason: str


def _history(territory: Territory) -> list[HistoryRow]:
    events: list[AuditEvent] = service.decision_history(territory)
    organisation_ids = {e.organisation_id for e in events if e.organisation_id is not None}
    actor_ids = {e.actor_id for e in events if e.actor_id is not None}
    organisations = dict(db.session.execute(
        select(Organisation.id, Organisation.name).where(Organisation.id.in_(organisation_ids))).tuples().all())
    actors = {user.id: user.name or user.email
              for user in db.session.scalars(select(User).where(User.id.in_(actor_ids)))}
    deleted_account, deleted_organisation = gettext("a deleted account"), gettext("a deleted organisation")

    def actor(actor_id: int | None) -> str:
        # No actor: a command run by the platform's operators, not a person using the site.
        return gettext("the platform") if actor_id is None else str(actors.get(actor_id, deleted_account))

    return [HistoryRow(occurred_at=e.occurred_at, action=e.action, actor=actor(e.actor_id),
                       organisation=organisations.get(e.organisation_id or 0, deleted_organisation),
                       reason=str((e.details or {}).get("reason", "")))
            for e in events]


def _coordination_page(territory: Territory, *, failed: tuple[int, DecisionForm] | None = None, status: int = 200,
                       problem: Any = None) -> Response:
    queue = service.memberships_for_review(territory)
    forms: dict[int, DecisionForm] = {}
    for membership in [*queue.pending, *queue.current]:
        if failed is not None and failed[0] == membership.id:
            forms[membership.id] = failed[1]
        else:
            forms[membership.id] = DecisionForm(formdata=None, prefix=DecisionForm.prefix_for(membership.id))
    decisions = {m.id: service.allowed_decisions(m.status) for m in [*queue.pending, *queue.current]}
    search = " ".join(request.args.get("q", "").split())[:100]
    members = [m for m in queue.current if search.casefold() in m.organisation.name.casefold()]
    return _render("territories/coordinate.html", status, territory=territory, queue=queue, decision_forms=forms,
                   members=members, search=search,
                   decisions=decisions, history=_history(territory), problem=problem,
                   reason_required={d.value for d, t in service.TRANSITIONS.items() if t.reason_required})


@bp.get("/coordinate/<slug>")
@login_required
def coordinate_territory(slug: str) -> ResponseReturnValue:
    territory = service.get_territory_by_slug(slug)
    service.require_coordinator(territory, _actor())
    return _coordination_page(territory)


@bp.post("/coordinate/<slug>/memberships/<int:membership_id>")
@login_required
def decide(slug: str, membership_id: int) -> ResponseReturnValue:
    territory = service.get_territory_by_slug(slug)
    service.require_coordinator(territory, _actor())
    membership: TerritoryMembership = service.get_membership_in(territory, membership_id)
    form = DecisionForm(prefix=DecisionForm.prefix_for(membership.id))
    if not form.validate_on_submit():
        return _coordination_page(territory, failed=(membership.id, form), status=400)
    try:
        decided = service.decide_membership(membership, form.decision.data, _actor(), form.reason.data or "")
        db.session.commit()
    except DecisionNotAllowed as error:
        db.session.rollback()
        flash(str(error.message), "error")
        return redirect(url_for("territories.coordinate_territory", slug=territory.slug))
    except BadgeHubError as error:
        if error.http_status != 400:
            raise
        db.session.rollback()
        field = error.details.get("field")
        if field in form:
            form[field].errors = [*form[field].errors, error.message]
        # Also said at the top of a long page, naming the organisation the message is about.
        return _coordination_page(territory, failed=(membership.id, form), status=400, problem=gettext(
            "%(organisation)s: %(message)s", organisation=membership.organisation.name, message=error.message))
    flash(gettext("%(organisation)s: %(decision)s.", organisation=decided.organisation.name,
                  decision=labels.label(decided.status)), "success")
    return redirect(url_for("territories.coordinate_territory", slug=territory.slug))
