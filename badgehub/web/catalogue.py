"""The public catalogue of a territory's badges: ``/t/<slug>/badges`` ("where can I learn this here?").

A GET form that works without JavaScript; every filter is a query-string argument, so a result page can be
bookmarked and shared. What is listed is decided in ``badgehub.catalogue.search``.
"""

from __future__ import annotations

from dataclasses import replace

from flask import Blueprint, Response, render_template, request
from flask.typing import ResponseReturnValue

from badgehub.catalogue import search as catalogue
from badgehub.extensions import limiter, public_pages_limit
from badgehub.territory import service
from badgehub.territory.slugs import name_sort_key
from badgehub.web.achievement_forms import type_label

bp = Blueprint("catalogue", __name__)


@bp.get("/t/<slug>/badges")
@limiter.limit(public_pages_limit)
def badges(slug: str) -> ResponseReturnValue:
    territory = service.get_territory_by_slug(slug)
    query = catalogue.CatalogueQuery.from_args(request.args)
    facets = catalogue.catalogue_facets(territory)
    # Kinds of achievement in the reader's language, alphabetically (the domain only knows their codes).
    facets = replace(facets, types=sorted(facets.types, key=lambda value: name_sort_key(str(type_label(value)))))
    result = catalogue.search_catalogue(territory, query, facets=facets)
    body = render_template("territories/catalogue.html", territory=territory, facets=facets, result=result,
                           query=result.query)
    return Response(body, mimetype="text/html")
