"""A learner asks for endorsements of a credential by a link, and chooses which to show.

* ``/wallet/c/<id>/endorsements``: the credential's endorsements (show or hide each), its open links, and a
  form for a new link (rate limited per address, ``RATELIMIT_ENDORSEMENT_INVITES``, on top of the service's
  daily cap per person);
* ``/endorse/<token>``: whoever received the link signs in and endorses in their own name (signed by their
  personal issuer; the default for someone with no organisation) or in the name of one of their
  organisations (or of their territory);
* ``/endorsements/mine``: the endorsements a person signed in their own name, each of which they may withdraw.

Every rule is :mod:`badgehub.endorsements.service`'s; views parse, call it, commit.
"""

from __future__ import annotations

from typing import Any, Final

from flask import Blueprint, Response, current_app, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from wtforms import StringField, SubmitField
from wtforms.validators import Length, Optional

from badgehub.endorsements import service as endorsements
from badgehub.endorsements.errors import EndorsementNotFound
from badgehub.endorsements.personal_issuers import MAX_NAME
from badgehub.errors import BadgeHubError
from badgehub.extensions import db, limiter
from badgehub.web.endorsement_views import endorsement_list
from badgehub.web.endorsements import ActionForm, EndorseForm, apply_errors, endorse_form

bp = Blueprint("endorsement_invitations", __name__)

DEFAULT_INVITE_LIMIT: Final = "10 per hour"
OWN_NAME: Final = "@me"  # the choice "in my own name" (no organisation slug has an "@")


def invite_limit() -> str:
    """How many invitation links one address may make (``RATELIMIT_ENDORSEMENT_INVITES``)."""
    return str(current_app.config.get("RATELIMIT_ENDORSEMENT_INVITES") or DEFAULT_INVITE_LIMIT)


class InviteForm(FlaskForm):
    message = StringField(_l("A word for the person you ask (optional)"),
                          validators=[Optional(), Length(max=endorsements.MAX_MESSAGE)])
    submit = SubmitField(_l("Make a link to ask for an endorsement"))


class InvitedEndorseForm(EndorseForm):
    """The endorsement form of an invitation: beside the organisations, "in my own name" with the name shown."""

    display_name = StringField(_l("Your name as shown with the endorsement"),
                               validators=[Optional(), Length(max=MAX_NAME)], render_kw={"autocomplete": "name"})


def _invited_form(excluded: Any) -> tuple[InvitedEndorseForm, list[Any]]:
    _form, choices = endorse_form(excluded)
    form = InvitedEndorseForm()
    form.endorser.choices = [(OWN_NAME, gettext("In my own name")),
                             *((organisation.slug, organisation.name) for organisation in choices)]
    if not form.is_submitted():
        form.endorser.data = choices[0].slug if choices else OWN_NAME  # one's own name when one has no organisation
        form.display_name.data = _actor().name
    return form, choices


def _actor() -> Any:
    return current_user._get_current_object()


def _render(template: str, status: int = 200, **context: Any) -> Response:
    response = Response(render_template(template, **context), status=status, mimetype="text/html")
    response.headers["Cache-Control"] = "no-store"  # shows invitation links, which are secrets
    return response


def _credential(public_id: str) -> Any:
    from badgehub.wallet.service import get_wallet_credential  # lazy: the wallet imports issuing

    return get_wallet_credential(_actor(), public_id)


def _page(public_id: str, *, form: InviteForm | None = None, link: str | None = None, status: int = 200,
          problem: Any = None) -> Response:
    credential = _credential(public_id)
    return _render("endorsements/wallet.html", status, credential=credential,
                   version=credential.achievement_version, endorsements=endorsements.of_credential(credential),
                   shown=endorsement_list(endorsements.public_endorsements(credential=credential)),
                   invitations=endorsements.open_invitations(credential), form=form or InviteForm(formdata=None),
                   action=ActionForm(formdata=None), link=link, problem=problem)


@bp.get("/wallet/c/<public_id>/endorsements")
@login_required
def wallet(public_id: str) -> ResponseReturnValue:
    return _page(public_id)


@bp.post("/wallet/c/<public_id>/endorsements/invite")
@login_required
@limiter.limit(invite_limit, scope="endorsement-invite")
def invite(public_id: str) -> ResponseReturnValue:
    credential = _credential(public_id)
    form = InviteForm()
    if not form.validate_on_submit():
        return _page(public_id, form=form, status=400)
    try:
        _invitation, token = endorsements.invite(credential, _actor(), message=form.message.data)
        db.session.commit()
    except BadgeHubError as error:
        db.session.rollback()
        return _page(public_id, form=form, status=error.http_status, problem=error.message)
    link = url_for("endorsement_invitations.endorse", token=token, _external=True)
    return _page(public_id, link=link, status=201)


@bp.post("/wallet/c/<public_id>/endorsements/<endorsement_id>/display")
@login_required
def display(public_id: str, endorsement_id: str) -> ResponseReturnValue:
    credential = _credential(public_id)
    endorsement = endorsements.get_endorsement(endorsement_id)
    if endorsement.issued_credential_id != credential.id or not ActionForm().validate_on_submit():
        raise EndorsementNotFound()
    shown = request.form.get("shown") == "1"
    endorsements.set_display(endorsement, _actor(), shown=shown)
    db.session.commit()
    flash(gettext("The endorsement is shown on the badge's public page.") if shown
          else gettext("The endorsement is no longer shown on the badge's public page."), "success")
    return redirect(url_for("endorsement_invitations.wallet", public_id=public_id))


@bp.post("/wallet/c/<public_id>/endorsements/invitations/<int:invitation_id>/close")
@login_required
def close(public_id: str, invitation_id: int) -> ResponseReturnValue:
    credential = _credential(public_id)
    if not ActionForm().validate_on_submit():
        return _page(public_id, status=400)
    endorsements.close_invitation(credential, invitation_id)
    db.session.commit()
    flash(gettext("The link no longer works."), "success")
    return redirect(url_for("endorsement_invitations.wallet", public_id=public_id))


@bp.route("/endorse/<token>", methods=["GET", "POST"])
@login_required
def endorse(token: str) -> ResponseReturnValue:
    invitation = endorsements.invitation_by_token(token)
    credential = invitation.credential
    form, choices = _invited_form(credential.organisation)
    problem = None
    status = 200
    if form.validate_on_submit():
        try:
            if form.endorser.data == OWN_NAME:
                endorsements.endorse_in_own_name(token, _actor(), display_name=form.display_name.data,
                                                 comment=form.comment.data, evidence_url=form.evidence_url.data,
                                                 config=current_app.config)
            else:
                endorser = next((o for o in choices if o.slug == form.endorser.data), None)
                if endorser is None:
                    raise EndorsementNotFound()
                endorsements.endorse_by_invitation(token, endorser, _actor(), comment=form.comment.data,
                                                   evidence_url=form.evidence_url.data, config=current_app.config)
            db.session.commit()
        except BadgeHubError as error:
            db.session.rollback()
            problem, status = apply_errors(form, error), error.http_status
        else:
            flash(gettext("Thank you: your endorsement is signed. The holder of the badge decides whether to show it."),
                  "success")
            return redirect(url_for("credential_page.page", public_id=credential.public_id))
    elif request.method == "POST":
        status = 400
    return _render("endorsements/invitation.html", status, invitation=invitation, credential=credential,
                   version=credential.achievement_version, form=form, choices=choices, problem=problem,
                   own_name=OWN_NAME)


@bp.get("/endorsements/mine")
@login_required
def mine() -> ResponseReturnValue:
    return _render("endorsements/mine.html", endorsements=endorsements.own_endorsements(_actor()),
                   action=ActionForm(formdata=None))


@bp.post("/endorsements/mine/<endorsement_id>/withdraw")
@login_required
def withdraw_own(endorsement_id: str) -> ResponseReturnValue:
    endorsement = endorsements.own_endorsement(_actor(), endorsement_id)
    if not ActionForm().validate_on_submit():
        raise EndorsementNotFound()
    try:
        endorsements.withdraw(endorsement, _actor(), config=current_app.config)
        db.session.commit()
    except BadgeHubError as error:
        db.session.rollback()
        flash(str(error.message), "error")
    else:
        flash(gettext("Your endorsement is withdrawn: verifiers now see it as revoked."), "success")
    return redirect(url_for("endorsement_invitations.mine"))
