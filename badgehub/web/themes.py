"""The coordinators' page of a territory's themes: ``/coordinate/<slug>/themes``.

Who may change themes is written in ``badgehub.catalogue.themes`` (coordinators only), never here.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext, ngettext
from flask_login import current_user, login_required

from badgehub.catalogue import themes
from badgehub.catalogue.models import ThemeKind
from badgehub.errors import BadgeHubError
from badgehub.extensions import db
from badgehub.territory import service
from badgehub.territory.models import Territory
from badgehub.web.catalogue_forms import ButtonForm, ThemeForm
from badgehub.web.form_errors import place_errors

bp = Blueprint("themes", __name__)


def _actor() -> Any:
    return current_user._get_current_object()


def _territory_for_coordinator(slug: str) -> Territory:
    territory = service.get_territory_by_slug(slug)
    service.require_coordinator(territory, _actor())
    return territory


def _page(territory: Territory, *, new_form: ThemeForm | None = None, failed: tuple[int, ThemeForm] | None = None,
          status: int = 200, problem: Any = None) -> Response:
    items = themes.themes_of(territory)
    edit_forms = {}
    for theme in items:
        if failed is not None and failed[0] == theme.id:
            edit_forms[theme.id] = failed[1]
        else:
            form = ThemeForm(formdata=None, prefix=ThemeForm.prefix_for(theme.id))
            form.name.data, form.description.data = theme.name, theme.description
            edit_forms[theme.id] = form
    present = {theme.code for theme in items}
    missing = [preset for preset in themes.UNESCO_THEMES if preset.code not in present]
    body = render_template("territories/themes.html", territory=territory, themes=items, edit_forms=edit_forms,
                           new_form=new_form or ThemeForm(formdata=None), button=ButtonForm(formdata=None),
                           missing_presets=missing, problem=problem, local_kind=ThemeKind.LOCAL)
    return Response(body, status=status, mimetype="text/html")


def _back(territory: Territory) -> ResponseReturnValue:
    return redirect(url_for("themes.manage", slug=territory.slug))


@bp.get("/coordinate/<slug>/themes")
@login_required
def manage(slug: str) -> ResponseReturnValue:
    return _page(_territory_for_coordinator(slug))


@bp.post("/coordinate/<slug>/themes/unesco")
@login_required
def add_unesco(slug: str) -> ResponseReturnValue:
    territory = _territory_for_coordinator(slug)
    if ButtonForm().validate_on_submit():
        added = themes.add_unesco_themes(territory, _actor())
        db.session.commit()
        flash(ngettext("%(num)d UNESCO theme added.", "%(num)d UNESCO themes added.", len(added)), "success")
    return _back(territory)


@bp.post("/coordinate/<slug>/themes")
@login_required
def create(slug: str) -> ResponseReturnValue:
    territory = _territory_for_coordinator(slug)
    form = ThemeForm()
    if not form.validate_on_submit():
        return _page(territory, new_form=form, status=400)
    try:
        theme = themes.create_theme(territory, _actor(), form.name.data or "", form.description.data or "")
        db.session.commit()
    except BadgeHubError as error:
        if error.http_status not in (400, 409):
            raise
        db.session.rollback()
        return _page(territory, new_form=form, status=error.http_status, problem=place_errors(form, error))
    flash(gettext("The theme “%(name)s” is added.", name=theme.name), "success")
    return _back(territory)


@bp.post("/coordinate/<slug>/themes/<int:theme_id>")
@login_required
def update(slug: str, theme_id: int) -> ResponseReturnValue:
    territory = _territory_for_coordinator(slug)
    theme = themes.get_theme_in(territory, theme_id)
    form = ThemeForm(prefix=ThemeForm.prefix_for(theme.id))
    if not form.validate_on_submit():
        return _page(territory, failed=(theme.id, form), status=400)
    try:
        themes.update_theme(theme, _actor(), form.name.data or "", form.description.data or "")
        db.session.commit()
    except BadgeHubError as error:
        if error.http_status not in (400, 409):
            raise
        db.session.rollback()
        return _page(territory, failed=(theme_id, form), status=error.http_status, problem=place_errors(form, error))
    flash(gettext("The theme is saved."), "success")
    return _back(territory)


@bp.post("/coordinate/<slug>/themes/<int:theme_id>/move")
@login_required
def move(slug: str, theme_id: int) -> ResponseReturnValue:
    territory = _territory_for_coordinator(slug)
    theme = themes.get_theme_in(territory, theme_id)
    if ButtonForm().validate_on_submit():
        themes.move_theme(theme, _actor(), -1 if request.form.get("direction") == "up" else 1)
        db.session.commit()
    return _back(territory)


@bp.post("/coordinate/<slug>/themes/<int:theme_id>/delete")
@login_required
def delete(slug: str, theme_id: int) -> ResponseReturnValue:
    territory = _territory_for_coordinator(slug)
    theme = themes.get_theme_in(territory, theme_id)
    if ButtonForm().validate_on_submit():
        name = themes.theme_name(theme)
        themes.delete_theme(theme, _actor())
        db.session.commit()
        flash(gettext("The theme “%(name)s” is deleted. Badges no longer carry it.", name=name), "success")
    return _back(territory)
