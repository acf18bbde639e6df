"""HTML blueprints, one per area, registered by the app factory."""

from __future__ import annotations

import importlib

from flask import Flask

# Each module exposes ``bp``; listed here so that adding an area is one line.
BLUEPRINT_MODULES = (
    "badgehub.web.main",
    "badgehub.web.operations",
    "badgehub.web.home",
    "badgehub.web.auth",
    "badgehub.web.organisations",
    "badgehub.web.territories",
    "badgehub.web.issuers",
    "badgehub.web.achievements",
    "badgehub.web.verify",
    "badgehub.api.verify",
    "badgehub.api.v1",
    "badgehub.api.endorsements",
    "badgehub.api.recognition",
    "badgehub.api.pathways",
    "badgehub.web.api_tokens",
    "badgehub.web.competencies",
    "badgehub.web.credential_page",
    "badgehub.web.themes",
    "badgehub.web.catalogue",
    "badgehub.web.demand",
    "badgehub.web.claims",
    "badgehub.web.certificates",
    "badgehub.web.batches",
    "badgehub.web.observatory",
    "badgehub.web.wallet",
    "badgehub.web.keep",
    "badgehub.web.styleguide",
    "badgehub.web.endorsements",
    "badgehub.web.endorsement_invitations",
    "badgehub.web.credentials",
    "badgehub.web.recognition",
    "badgehub.web.recognition_review",
    "badgehub.web.pathways",
)


def register_web(app: Flask) -> None:
    """Register the blueprints of :data:`BLUEPRINT_MODULES`; they only route (the factory wires the rest)."""
    for name in BLUEPRINT_MODULES:
        app.register_blueprint(importlib.import_module(name).bp)
