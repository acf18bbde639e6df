"""Endpoints for load balancers and operators: ``/healthz`` (alive) and ``/readyz`` (ready to serve).

``/metrics`` is routed by :mod:`badgehub.metrics`. None of these is rate limited, cached, or needs a session.
"""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify
from flask.typing import ResponseReturnValue

from badgehub.extensions import db
from badgehub.health import readiness

bp = Blueprint("operations", __name__)
NO_STORE = {"Cache-Control": "no-store"}


@bp.get("/healthz")
def health() -> ResponseReturnValue:
    """The process answers: nothing else is checked, so a database outage never gets every node restarted."""
    return jsonify({"status": "ok"}), 200, NO_STORE


@bp.get("/readyz")
def ready() -> ResponseReturnValue:
    """The dependencies answer: 503 when the database does not (take the node out), 200 ``degraded`` when only
    Redis does not (the node still serves, with per-process rate limits and jobs run in the process)."""
    status, body = readiness(db.session, current_app.config.get("REDIS_URL"))
    return jsonify(body), status, NO_STORE
