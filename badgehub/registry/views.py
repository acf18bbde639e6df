"""``/t/<slug>/registry.json``: the territory's known-issuer registry, public and cacheable."""

from __future__ import annotations

import hashlib
import json

from flask import Blueprint, Response, current_app, request
from flask.typing import ResponseReturnValue

from badgehub.registry.service import known_issuer_registry
from badgehub.territory.service import get_territory_by_slug

bp = Blueprint("known_issuers", __name__)

# Verifiers reload registries at start-up and now and then; a short max-age lets an approval or a suspension
# reach them within minutes, and the ETag makes the reload cheap.
CACHE_CONTROL = "public, max-age=300"


@bp.get("/t/<slug>/registry.json")
def registry(slug: str) -> ResponseReturnValue:
    document = known_issuer_registry(get_territory_by_slug(slug), current_app.config)
    data = json.dumps(document, ensure_ascii=False, indent=2, sort_keys=True).encode("utf-8")
    response = Response(data, mimetype="application/json")
    response.set_etag(hashlib.sha256(data).hexdigest())
    response.headers["Cache-Control"] = CACHE_CONTROL
    # Browser wallets and verifiers (VerifierPlus) read it from other origins.
    response.headers["Access-Control-Allow-Origin"] = "*"
    response.headers["Access-Control-Expose-Headers"] = "ETag"
    response.make_conditional(request)
    return response
