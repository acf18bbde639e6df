"""The public profile of an issuer, ``/issuers/<slug>``: who they are and where they stand.

HTML for now; the JSON-LD Profile (content negotiation), DID document and key sets come with issuing.
"""

from __future__ import annotations

from flask import Blueprint, Response, render_template
from flask.typing import ResponseReturnValue
from flask_babel import get_locale

from badgehub.organisations import service
from badgehub.web import labels

bp = Blueprint("issuers", __name__)
bp.add_app_template_filter(labels.label, "label")
bp.add_app_template_filter(labels.tone, "status_tone")


@bp.get("/issuers/<slug>")
def profile(slug: str) -> ResponseReturnValue:
    organisation = service.get_organisation_by_slug(slug)
    standing = service.organisation_standing(organisation)
    locale = get_locale()
    country = organisation.country_code
    country_name = (locale.territories.get(country) if locale is not None else None) or country if country else None
    html = render_template("issuers/profile.html", organisation=organisation, standing=standing,
                           country_name=country_name)
    return Response(html, mimetype="text/html")
