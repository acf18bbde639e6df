"""Organisation pages for their staff: dashboard, creation, profile, staff and invitations, territories.

Views parse, call one service, commit, then flash and redirect or render. Who may do what is decided in
``badgehub.organisations.service`` (and ``badgehub.territory.service``), never here.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import Blueprint, Response, current_app, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import force_locale, get_locale, gettext
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required

from badgehub.errors import BadgeHubError, NotFound, ValidationError
from badgehub.extensions import db, limiter
from badgehub.mail import Mail, MailError
from badgehub.organisations import service
from badgehub.organisations import staff as staffing
from badgehub.organisations.errors import AlreadyMember, InvalidInvitation, SlugTaken
from badgehub.organisations.models import Invitation, Organisation, OrganisationMember, Role
from badgehub.outbox.sender import send_now
from badgehub.recognition import queries as recognition_queries
from badgehub.territory import service as territory_service
from badgehub.territory.errors import MembershipExists
from badgehub.web import labels
from badgehub.web.form_errors import place_errors
from badgehub.web.home import organisation_dashboard
from badgehub.web.organisation_forms import (
    ConfirmForm,
    InviteForm,
    MembershipRequestForm,
    OrganisationEditForm,
    OrganisationForm,
    RoleForm,
)

log = logging.getLogger(__name__)

INVITATIONS_PER_HOUR = "30 per hour"

bp = Blueprint("organisations", __name__)


def _actor() -> Any:
    return current_user._get_current_object()


def _render(template: str, status: int = 200, **context: Any) -> Response:
    return Response(render_template(template, **context), status=status, mimetype="text/html")


def _absolute_url(endpoint: str, **values: Any) -> str:
    # From BASE_URL: the Host header is chosen by the client, and a link in an e-mail must not be.
    return str(current_app.config["BASE_URL"]).rstrip("/") + url_for(endpoint, **values)


@bp.get("/organisations")
@login_required
def dashboard() -> ResponseReturnValue:
    rows = [(member, service.organisation_standing(member.organisation))
            for member in service.organisations_of(_actor())]
    return _render("organisations/dashboard.html", rows=rows, verified=_actor().is_verified)


@bp.route("/organisations/new", methods=["GET", "POST"])
@login_required
def new() -> ResponseReturnValue:
    form = OrganisationForm()
    status, problem = 200, None
    if form.validate_on_submit():
        try:
            organisation = service.create_organisation(_actor(), form.profile_fields(), config=current_app.config)
            db.session.commit()
        except ValidationError as error:
            db.session.rollback()
            status, problem = error.http_status, place_errors(form, error)
        else:
            flash(gettext("%(name)s is created. You are its owner.", name=organisation.name), "success")
            return redirect(url_for("organisations.overview", slug=organisation.slug))
    elif form.is_submitted():
        status = 400
    return _render("organisations/new.html", status, form=form, problem=problem, verified=_actor().is_verified)


@bp.get("/organisations/<slug>")
@login_required
def overview(slug: str) -> ResponseReturnValue:
    organisation, member = service.get_organisation_for(slug, _actor(), *service.READERS)
    return _render("organisations/overview.html", organisation=organisation, member=member,
                   dashboard=organisation_dashboard(organisation, _actor()),
                   can_issue=member.role in service.BADGE_ISSUERS,
                   standing=service.organisation_standing(organisation),
                   staff_count=len(service.members_of(organisation)),
                   requests_waiting=recognition_queries.waiting_count(organisation),
                   is_owner=member.role == Role.OWNER)


@bp.route("/organisations/<slug>/profile", methods=["GET", "POST"])
@login_required
def profile(slug: str) -> ResponseReturnValue:
    organisation, _member = service.get_organisation_for(slug, _actor(), *service.PROFILE_EDITORS)
    standing = service.organisation_standing(organisation)
    form = OrganisationEditForm()
    status, problem = 200, None
    if request.method == "POST":
        service.require_good_standing(organisation)
        if form.validate_on_submit():
            try:
                service.update_profile(organisation, _actor(), form.profile_fields(), slug=form.slug.data or "")
                db.session.commit()
            except (ValidationError, SlugTaken) as error:
                db.session.rollback()
                status, problem = error.http_status, place_errors(form, error)
            else:
                flash(gettext("The profile is saved."), "success")
                return redirect(url_for("organisations.overview", slug=organisation.slug))
        else:
            status = 400
    else:
        form.fill(service.profile_fields_of(organisation), organisation.slug)
    return _render("organisations/profile.html", status, organisation=organisation, form=form, problem=problem,
                   standing=standing, slug_frozen=service.slug_is_frozen(organisation))


def _staff_page(organisation: Organisation, member: OrganisationMember, *, invite_form: InviteForm | None = None,
                status: int = 200, problem: Any = None) -> Response:
    is_owner = member.role in service.STAFF_MANAGERS
    members = service.members_of(organisation)
    role_forms = {}
    for staff in members:
        role_form = RoleForm(formdata=None, prefix=f"r{staff.id}")
        role_form.role.data = staff.role.value
        role_forms[staff.id] = role_form
    return _render("organisations/staff.html", status, organisation=organisation, member=member, members=members,
                   is_owner=is_owner, role_forms=role_forms, confirm_form=ConfirmForm(formdata=None),
                   invitations=service.pending_invitations(organisation) if is_owner else [],
                   invite_form=invite_form or InviteForm(formdata=None),
                   standing=service.organisation_standing(organisation), problem=problem,
                   role_descriptions=[(role, labels.ROLE_DESCRIPTIONS[role])
                                      for role in reversed(staffing.staff_roles())])


@bp.get("/organisations/<slug>/staff")
@login_required
def staff(slug: str) -> ResponseReturnValue:
    organisation, member = service.get_organisation_for(slug, _actor(), *service.READERS)
    return _staff_page(organisation, member)


def _send_invitation(organisation: Organisation, invitation: Invitation, token: str) -> None:
    inviter = _actor()
    with force_locale(str(get_locale() or "en")):
        subject = gettext("Join %(organisation)s on %(site)s", organisation=organisation.name, site=gettext("BadgeHub"))
        text = render_template("email/org_invitation.txt", organisation=organisation,
                               inviter=inviter.name or inviter.email, role=labels.label(invitation.role),
                               link=_absolute_url("organisations.invitation", token=token),
                               expires_at=invitation.expires_at)
    send_now(Mail(to=invitation.email, subject=subject, text=text), config=current_app.config)


def _inviter_key() -> str:
    return f"inviter:{getattr(current_user, 'id', 'anonymous')}"


@bp.post("/organisations/<slug>/staff")
@login_required
# Each invitation sends an e-mail written partly by the inviter (the organisation's name): a cap per person
# keeps an account from turning the platform into a mail cannon.
@limiter.limit(INVITATIONS_PER_HOUR, key_func=_inviter_key, methods=["POST"])
def invite(slug: str) -> ResponseReturnValue:
    organisation, member = service.get_organisation_for(slug, _actor(), *service.STAFF_MANAGERS)
    service.require_good_standing(organisation)
    form = InviteForm()
    if not form.validate_on_submit():
        return _staff_page(organisation, member, invite_form=form, status=400)
    try:
        invitation, token = staffing.invite_member(organisation, _actor(), form.email.data or "", form.role.data)
    except (ValidationError, AlreadyMember) as error:
        db.session.rollback()
        problem = place_errors(form, error)
        return _staff_page(organisation, member, invite_form=form, status=error.http_status, problem=problem)
    try:
        _send_invitation(organisation, invitation, token)
    except MailError:
        # No e-mail, no invitation: a link nobody received must not stay valid.
        db.session.rollback()
        log.exception("could not send an invitation e-mail")
        return _staff_page(organisation, member, invite_form=form, status=503, problem=_l(
            "We could not send the e-mail just now. Nothing was saved; please try again in a few minutes."))
    db.session.commit()
    flash(gettext("Invitation sent to %(address)s. The link works for 7 days.", address=invitation.email), "success")
    return redirect(url_for("organisations.staff", slug=organisation.slug))


@bp.post("/organisations/<slug>/staff/<int:member_id>/role")
@login_required
def change_role(slug: str, member_id: int) -> ResponseReturnValue:
    organisation, member = service.get_organisation_for(slug, _actor(), *service.STAFF_MANAGERS)
    form = RoleForm(prefix=f"r{member_id}")
    if not form.validate_on_submit():
        return _staff_page(organisation, member, status=400,
                           problem=_l("Choose one of the roles offered."))
    try:
        changed = staffing.change_role(organisation, _actor(), member_id, form.role.data)
        db.session.commit()
    except BadgeHubError as error:
        if error.http_status not in (400, 409):
            raise
        db.session.rollback()
        return _staff_page(organisation, member, status=error.http_status, problem=error.message)
    flash(gettext("%(name)s is now %(role)s.", name=changed.user.name or changed.user.email,
                  role=labels.label(changed.role)), "success")
    return redirect(url_for("organisations.staff", slug=organisation.slug))


@bp.post("/organisations/<slug>/staff/<int:member_id>/remove")
@login_required
def remove_member(slug: str, member_id: int) -> ResponseReturnValue:
    organisation, member = service.get_organisation_for(slug, _actor(), *service.READERS)
    leaving_self = member.id == member_id
    try:
        staffing.remove_member(organisation, _actor(), member_id)
        db.session.commit()
    except BadgeHubError as error:
        if error.http_status != 409:
            raise
        db.session.rollback()
        return _staff_page(organisation, member, status=error.http_status, problem=error.message)
    if leaving_self:
        flash(gettext("You have left %(name)s.", name=organisation.name), "success")
        return redirect(url_for("organisations.dashboard"))
    flash(gettext("The staff member is removed."), "success")
    return redirect(url_for("organisations.staff", slug=organisation.slug))


@bp.post("/organisations/<slug>/invitations/<int:invitation_id>/revoke")
@login_required
def revoke_invitation(slug: str, invitation_id: int) -> ResponseReturnValue:
    organisation, _member = service.get_organisation_for(slug, _actor(), *service.STAFF_MANAGERS)
    staffing.revoke_invitation(organisation, _actor(), invitation_id)
    db.session.commit()
    flash(gettext("The invitation is withdrawn: its link no longer works."), "success")
    return redirect(url_for("organisations.staff", slug=organisation.slug))


@bp.route("/invitations/<token>", methods=["GET", "POST"])
def invitation(token: str) -> ResponseReturnValue:
    # Accepting needs a POST: mail scanners open links, and opening must not accept.
    try:
        found = staffing.find_invitation(token)
    except InvalidInvitation as error:
        return _no_store(_render("organisations/invitation_invalid.html", error.http_status, message=error.message))
    user = _actor() if current_user.is_authenticated else None
    form = ConfirmForm()
    if request.method == "POST":
        if user is None:
            return redirect(url_for("auth.sign_in", next=request.path))
        if form.validate_on_submit():
            member = staffing.accept_invitation(token, user)
            db.session.commit()
            flash(gettext("Welcome to %(name)s.", name=member.organisation.name), "success")
            return redirect(url_for("organisations.overview", slug=member.organisation.slug))
    return _no_store(_render(
        "organisations/invitation.html", invitation=found, organisation=found.organisation, form=form, user=user,
        role_description=labels.ROLE_DESCRIPTIONS[found.role],
        is_for_user=user is not None and staffing.invitation_is_for(found, user),
        sign_in_url=url_for("auth.sign_in", next=request.path),
        register_url=url_for("auth.register", next=request.path)))


def _no_store(response: Response) -> Response:
    # The page is reached through a secret link: neither the browser nor a proxy should keep it.
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


def _territories_page(organisation: Organisation, member: OrganisationMember, *,
                      form: MembershipRequestForm | None = None, status: int = 200, problem: Any = None) -> Response:
    request_form = form or MembershipRequestForm(formdata=None)
    open_territories = territory_service.territories_open_to(organisation)
    request_form.offer(open_territories)
    return _render("organisations/territories.html", status, organisation=organisation, member=member,
                   memberships=territory_service.memberships_of(organisation), form=request_form,
                   open_territories=open_territories, standing=service.organisation_standing(organisation),
                   can_request=member.role in service.TERRITORY_MANAGERS, problem=problem)


@bp.get("/organisations/<slug>/territories")
@login_required
def territories(slug: str) -> ResponseReturnValue:
    organisation, member = service.get_organisation_for(slug, _actor(), *service.READERS)
    return _territories_page(organisation, member)


@bp.post("/organisations/<slug>/territories")
@login_required
def request_membership(slug: str) -> ResponseReturnValue:
    organisation, member = service.get_organisation_for(slug, _actor(), *service.TERRITORY_MANAGERS)
    service.require_good_standing(organisation)
    form = MembershipRequestForm()
    form.offer(territory_service.territories_open_to(organisation))
    territory = None
    if form.validate_on_submit() and form.territory.data:
        try:
            territory = territory_service.get_territory_by_slug(form.territory.data)
        except NotFound:
            territory = None
    if territory is None:
        form.territory.errors = [*form.territory.errors, _l("Choose a territory.")]
        return _territories_page(organisation, member, form=form, status=400)
    try:
        territory_service.request_membership(organisation, territory, _actor(), form.message.data or "")
        db.session.commit()
    except (ValidationError, MembershipExists) as error:
        db.session.rollback()
        return _territories_page(organisation, member, form=form, status=error.http_status,
                                 problem=place_errors(form, error))
    flash(gettext("Your request to join %(territory)s is sent. Its coordinators will answer it.",
                  territory=territory.name), "success")
    return redirect(url_for("organisations.territories", slug=organisation.slug))
