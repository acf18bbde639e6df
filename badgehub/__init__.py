"""BadgeHub: Open Badges 3.0 for learning territories."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from flask import Flask, Response, current_app, g, has_request_context, request, session
from flask_babel.speaklater import LazyString

from badgehub import config as config_module
from badgehub.config import SUPPORTED_LOCALES, ConfigError, bundled


def create_app(test_config: Mapping[str, Any] | None = None) -> Flask:
    """Build a BadgeHub application. No side effects: no migration, no key generation, no network.

    Configuration comes from the defaults, then ``BADGEHUB_*`` variables, then ``test_config``.
    Raises :class:`~badgehub.config.ConfigError` when no secret key can be found (run ``badgehub init``).
    """
    overrides = dict(test_config or {})
    environ = config_module.effective_environment(os.environ)
    instance_path = Path(overrides.get("INSTANCE_PATH") or config_module.instance_path_from(environ))
    settings = config_module.defaults(instance_path)
    settings.update(config_module.read_environment(environ))
    settings.update(overrides)
    config_module.finish(settings)
    if not settings.get("SECRET_KEY"):
        raise ConfigError("No secret key. Run `badgehub init` once (it writes secret_key in the data folder), "
                          "or set BADGEHUB_SECRET_KEY.")

    from badgehub.resilience import BadgeHubFlask

    app = BadgeHubFlask(__name__, instance_path=str(instance_path), template_folder=str(bundled("templates")),
                        static_folder="static")
    app.config.update(settings)
    from badgehub.web.converters import BoundedIntegerConverter

    app.url_map.converters["int"] = BoundedIntegerConverter
    from badgehub import jobs, logs, metrics, resilience
    from badgehub.issuing import resolver
    from badgehub.web import context

    logs.init_app(app)
    metrics.init_app(app)
    from badgehub.stats import subscribers as stats_subscribers

    stats_subscribers.init_app(app)  # the observatory counts what issuing announces
    from badgehub.pathways import subscribers as pathway_subscribers

    pathway_subscribers.init_app(app)  # awards move learners along pathways, and complete them
    resilience.init_app(app)
    _init_extensions(app)
    resolver.init_app(app)  # every verification answers for our own issuers and status lists from the database
    jobs.init_app(app)  # the sweeper and, without Redis, the in-process worker, from the first request on
    context.init_app(app)  # template context and filters, once for every page
    _register_blueprints(app)  # blueprints only route

    from badgehub.errors import register_error_handlers
    register_error_handlers(app)

    from badgehub.commands import register_commands
    register_commands(app)

    app.after_request(_security_headers)
    proxies = int(app.config["TRUSTED_PROXIES"])
    if proxies > 0:
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies)  # type: ignore[method-assign]
    return app


def _select_locale() -> str | None:
    if not has_request_context():
        return None  # CLI and background work: the default locale, or an explicit force_locale()
    chosen = session.get("locale")
    if chosen in SUPPORTED_LOCALES:
        return str(chosen)
    user = getattr(g, "_login_user", None)
    if user is not None and getattr(user, "locale", None) in SUPPORTED_LOCALES:
        return str(user.locale)
    return request.accept_languages.best_match(SUPPORTED_LOCALES)


def _init_extensions(app: Flask) -> None:
    import badgehub.models  # noqa: F401  (every table on the metadata)
    from badgehub.extensions import babel, csrf, db, limiter, login_manager, migrate

    db.init_app(app)
    migrate.init_app(app, db, directory=str(bundled("migrations")), compare_type=True,
                     render_as_batch=True)
    csrf.init_app(app)
    babel.init_app(app, locale_selector=_select_locale)
    from badgehub import elision

    elision.init_app(app, babel)
    from badgehub import moments

    moments.init_app(app)
    limiter.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "auth.sign_in"
    login_manager.session_protection = "basic"
    from badgehub.web import sessions as web_sessions

    web_sessions.init_app(app)

    from badgehub.web import caching
    caching.init_app(app)  # public documents carry no Vary: Cookie and no cookie

    from flask_babel import lazy_gettext as _l
    login_manager.login_message = _l("Please sign in to see this page.")
    login_manager.login_message_category = "info"
    # A lazy translated string says it is HTML (it has __html__), so Jinja would print it unescaped, with
    # whatever it was formatted with: a column name from an uploaded file, a code someone typed. Every {{ }}
    # turns it into plain text first, which Jinja then escapes like any other; |safe still means safe.
    app.jinja_env.finalize = _lazy_strings_as_text


def _lazy_strings_as_text(value: Any) -> Any:
    return str(value) if isinstance(value, LazyString) else value


def _register_blueprints(app: Flask) -> None:
    from badgehub.web import register_web

    register_web(app)

    # Issue 18, badges that travel: the DCC known-issuer registry, OpenID4VCI and the 1EdTech OB 3.0 API.
    from badgehub.extensions import csrf
    from badgehub.oauth.server import init_oauth
    from badgehub.oauth.views import bp as oauth_bp
    from badgehub.oauth.views import pages as oauth_pages_bp
    from badgehub.ob_api.views import bp as ob_api_bp
    from badgehub.oid4vci.views import bp as oid4vci_bp
    from badgehub.oid4vci.views import pages as phone_wallet_bp
    from badgehub.registry.views import bp as known_issuers_bp

    app.register_blueprint(known_issuers_bp)
    csrf.exempt(oid4vci_bp)  # wallets post without cookies: the pre-authorized code and the token are the proof
    app.register_blueprint(oid4vci_bp)
    app.register_blueprint(phone_wallet_bp)
    init_oauth(app)
    csrf.exempt(oauth_bp)  # client authentication, codes and tokens are the proof; no cookie is read
    csrf.exempt(ob_api_bp)  # bearer tokens only
    app.register_blueprint(oauth_bp)
    app.register_blueprint(oauth_pages_bp)
    app.register_blueprint(ob_api_bp)


def _security_headers(response: Response) -> Response:
    # Every asset is served from our own origin: the policy says so, and blocks framing.
    response.headers.setdefault(
        "Content-Security-Policy",
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
        "object-src 'none'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'",
    )
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    response.headers.setdefault("X-Frame-Options", "DENY")
    if current_app.config["PREFERRED_URL_SCHEME"] == "https":
        # Only when the public address is https: on a plain-http demo the header would be ignored at best.
        response.headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
    return response
