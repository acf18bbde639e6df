"""The app is wired in one place: the factory calls each part's ``init_app``; blueprints only route."""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any

from flask import Flask

from badgehub import create_app
from badgehub.issuing.resolver import StatusListResolver
from badgehub.keys.resolver import OwnIssuerResolver
from badgehub.verification.platform import LOCAL_RESOLVER_EXTENSION
from badgehub.web import BLUEPRINT_MODULES


def _app_wide(app: Flask) -> dict[str, Any]:
    return {
        "before_request": list(app.before_request_funcs.get(None, [])),
        "after_request": list(app.after_request_funcs.get(None, [])),
        "teardown": list(app.teardown_request_funcs.get(None, [])),
        "context_processors": list(app.template_context_processors.get(None, [])),
        "error_handlers": dict(app.error_handler_spec.get(None, {})),
        "url_processors": [*app.url_value_preprocessors.get(None, []), *app.url_default_functions.get(None, [])],
        "filters": sorted(app.jinja_env.filters),
        "globals": sorted(app.jinja_env.globals),
        "extensions": sorted(app.extensions),
    }


def test_registering_the_blueprints_changes_nothing_app_wide() -> None:
    # What a blueprint may add app-wide (hooks, filters, context processors, extensions) is wiring; it belongs
    # to an init_app the factory calls, not to whichever blueprint happens to be registered first.
    bare = Flask("bare")
    before = _app_wide(bare)
    for name in BLUEPRINT_MODULES:
        bare.register_blueprint(importlib.import_module(name).bp)
    assert _app_wide(bare) == before
    assert len(list(bare.url_map.iter_rules())) > 100


def test_the_factory_wires_the_local_resolver_and_the_filters(tmp_path: Path) -> None:
    app = create_app({"TESTING": True, "SECRET_KEY": "x", "SQLALCHEMY_DATABASE_URI": "sqlite://",
                      "INSTANCE_PATH": tmp_path})
    local = app.extensions[LOCAL_RESOLVER_EXTENSION]()
    assert [type(resolver) for resolver in local._resolvers] == [OwnIssuerResolver, StatusListResolver]
    assert {"label", "status_tone", "theme_name", "theme_description", "markdown", "achievement_type_label",
            "language_name"} <= set(app.jinja_env.filters)
