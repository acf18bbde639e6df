"""An issuer's public identity: its profile page and the documents verifiers fetch (DESIGN §3, contracts).

* ``/issuers/<slug>``: the HTML page, or the OB 3.0 ``Profile`` as JSON-LD when ``Accept`` prefers
  ``application/ld+json`` or ``application/json`` (served as the type asked for; ``Vary: Accept``), or
  the DID document when it prefers ``application/did+ld+json`` or ``application/did+json``;
* ``/issuers/<slug>/did.json``: the did:web DID document (``application/did+ld+json``);
* ``/issuers/<slug>/jwks.json``: the organisation's VC-JWT keys (``application/jwk-set+json``);
* ``/issuers/<slug>/keys/<key_id>.json``: one VC-JWT key's JWK (``application/jwk+json``), the JWT
  ``kid`` in did:key style;
* ``/.well-known/jwks.json``: every organisation's VC-JWT keys, each with the ``iss`` of its issuer
  (did:web style).

The documents are built by :mod:`badgehub.keys.identity` (the same functions answer BadgeHub's own
verifier, see :mod:`badgehub.keys.resolver`). Every machine-readable answer has a strong ``ETag`` (SHA-256
of the body), honours ``If-None-Match`` with 304, may be cached by anyone for five minutes (a rotation or
a compromise shows within that time) and may be read from any origin (``Access-Control-Allow-Origin: *``):
they are public by nature and browser-based verifiers need them. An unknown slug or key is a 404 in JSON
for the machine documents, and in the form the client asked for on the profile address.

The same documents answer BadgeHub's own verifications from the database, never over HTTP to itself
(:func:`badgehub.issuing.resolver.init_app`, called by the app factory).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace
from typing import Any

from flask import Blueprint, Response, current_app, jsonify, render_template, request
from flask.typing import ResponseReturnValue
from flask_babel import format_date, get_locale, gettext
from flask_babel import lazy_gettext as _l

from badgehub.credentials.documents import issuer_profile_document, to_json
from badgehub.endorsements.personal_issuers import is_personal_issuer
from badgehub.endorsements.service import documents_of, public_endorsements
from badgehub.errors import BadgeHubError, NotFound
from badgehub.keys import identity
from badgehub.keys.errors import NoActiveKey
from badgehub.keys.models import KeyAlgorithm, KeyState, SigningKey
from badgehub.keys.service import published_keys
from badgehub.moments import moment
from badgehub.organisations import service
from badgehub.organisations.models import Organisation
from badgehub.web.caching import public_document
from badgehub.web.endorsement_views import endorsement_list

bp = Blueprint("issuers", __name__)


_PUBLIC_ENDPOINTS = frozenset({"issuers.profile", "issuers.did_document", "issuers.jwks", "issuers.key_jwk",
                               "issuers.installation_jwks"})


@bp.after_request
def _allow_cross_origin_preflight(response: Response) -> Response:
    # A browser asks first (OPTIONS) before a cross-origin GET that sends If-None-Match itself.
    if request.method == "OPTIONS" and request.endpoint in _PUBLIC_ENDPOINTS:
        response.headers["Access-Control-Allow-Origin"] = "*"
        response.headers["Access-Control-Allow-Methods"] = "GET, HEAD, OPTIONS"
        response.headers["Access-Control-Allow-Headers"] = "Accept, If-None-Match"
        response.headers["Access-Control-Max-Age"] = "86400"
    return response


_HTML = "text/html"
_JSON_LD = "application/ld+json"
_JSON = "application/json"
_DID_TYPES = ("application/did+ld+json", "application/did+json")

KEY_PURPOSE_LABELS: dict[KeyAlgorithm, Any] = {
    KeyAlgorithm.ED25519: _l("Ed25519 key for embedded signatures (Data Integrity)"),
    KeyAlgorithm.RSA_2048: _l("RSA key for signed tokens (VC-JWT)"),
}
KEY_STATE_LABELS: dict[KeyState, Any] = {
    KeyState.ACTIVE: _l("In use"),
    KeyState.RETIRED: _l("Retired"),
    KeyState.COMPROMISED: _l("Compromised"),
}
KEY_STATE_TONES: dict[KeyState, str] = {KeyState.ACTIVE: "ok", KeyState.RETIRED: "warn", KeyState.COMPROMISED: "bad"}


@dataclass(frozen=True)
class KeyRow:
    """One published key as the profile page shows it: id, what it signs, its state and what that means."""

    key_id: str
    purpose: Any
    state: Any
    tone: str
    note: str


def _key_note(key: SigningKey) -> str:
    if key.state is KeyState.COMPROMISED and key.compromised_since is not None:
        return str(gettext("declared compromised from %(date)s: signatures dated from then on are refused.",
                       date=moment(key.compromised_since)))
    if key.state is KeyState.RETIRED and key.retired_at is not None:
        return str(gettext("retired on %(date)s; the badges it signed before stay valid.",
                       date=format_date(key.retired_at)))
    return str(gettext("in use since %(date)s.", date=format_date(key.created_at)))


def _key_rows(keys: list[SigningKey]) -> list[KeyRow]:
    return [KeyRow(key.key_id, KEY_PURPOSE_LABELS[key.algorithm], KEY_STATE_LABELS[key.state],
                   KEY_STATE_TONES[key.state], _key_note(key)) for key in keys]


def _public(body: str, mimetype: str, *, vary_accept: bool = False) -> Response:
    """A public, cacheable, cross-origin document with a strong ETag, answered 304 when it has not changed."""
    data = body.encode("utf-8")
    response = Response(data, mimetype=mimetype)
    if vary_accept:
        response.headers["Vary"] = "Accept"
    # 304 on a matching If-None-Match (weak comparison, RFC 9110); no Vary: Cookie.
    return public_document(response, etag=hashlib.sha256(data).hexdigest())


def _json_error(error: BadgeHubError, *, vary_accept: bool = False) -> Response:
    """The API's error shape, for clients that asked for a machine document (even as application/ld+json)."""
    response = jsonify({"error": {"code": error.code, "message": str(error.message), "details": error.details}})
    response.status_code = error.http_status
    response.headers["Access-Control-Allow-Origin"] = "*"
    if vary_accept:
        response.headers["Vary"] = "Accept"
    return response


def _organisation_or_json_404(slug: str, *, vary_accept: bool = False) -> Organisation | Response:
    try:
        return service.get_organisation_by_slug(slug)
    except NotFound as error:
        return _json_error(error, vary_accept=vary_accept)


def _negotiated() -> str:
    """text/html unless the client prefers JSON-LD, JSON or a DID document (a browser's ``*/*`` gets the page)."""
    offered = [_HTML, _JSON_LD, _JSON, *_DID_TYPES]
    return request.accept_mimetypes.best_match(offered, default=_HTML) or _HTML


def _person_page(organisation: Organisation) -> Response:
    """A person's issuer (they endorse in their own name): the name they chose and the keys, nothing else."""
    try:
        issuer_id: str | None = identity.issuer_id_of(organisation, current_app.config)
    except NoActiveKey:
        issuer_id = None
    html = render_template("issuers/person.html", organisation=organisation, issuer_id=issuer_id,
                           keys=_key_rows(published_keys(organisation)))
    response = Response(html, mimetype=_HTML)
    response.headers["Vary"] = "Accept"
    return response


@bp.get("/issuers/<slug>")
def profile(slug: str) -> ResponseReturnValue:
    wanted = _negotiated()
    if wanted != _HTML:
        found = _organisation_or_json_404(slug, vary_accept=True)
        if isinstance(found, Response):
            return found
        if wanted in _DID_TYPES:
            # 1EdTech's getting-started guide resolves did:web:host:issuers:<id> to this address without
            # "/did.json" (OB3-BRIEF §3.2.3); a client that asks for a DID document here gets it.
            document = identity.published_did_document(found, current_app.config)
            return _public(to_json(document), wanted, vary_accept=True)
        if not found.name:  # a person's issuer after their account was erased: no profile left to show
            return _json_error(NotFound(), vary_accept=True)
        try:
            profile_id = identity.issuer_id_of(found, current_app.config)
        except NoActiveKey as error:  # did:key style between a compromise and the next rotation
            return _json_error(error, vary_accept=True)
        # Endorsements are embedded as published: shown by the organisation and not withdrawn (issue 17).
        profile_input = replace(identity.issuer_profile(found, profile_id), endorsements=documents_of(
            public_endorsements(organisation=found)))
        document = issuer_profile_document(profile_input)
        return _public(to_json(document), wanted, vary_accept=True)
    organisation = service.get_organisation_by_slug(slug)
    if is_personal_issuer(organisation):
        return _person_page(organisation)
    standing = service.organisation_standing(organisation)
    locale = get_locale()
    country = organisation.country_code
    country_name = (locale.territories.get(country) if locale is not None else None) or country if country else None
    try:
        issuer_id: str | None = identity.issuer_id_of(organisation, current_app.config)
    except NoActiveKey:
        issuer_id = None  # did:key style between a compromise and the next rotation: the page still shows
    style = identity.issuer_id_style(current_app.config)
    html = render_template("issuers/profile.html", organisation=organisation, standing=standing,
                           country_name=country_name, issuer_id=issuer_id,
                           did_key_style=style is identity.IssuerIdStyle.DID_KEY,
                           keys=_key_rows(published_keys(organisation)),
                           endorsements=endorsement_list(public_endorsements(organisation=organisation)))
    response = Response(html, mimetype=_HTML)
    response.headers["Vary"] = "Accept"
    return response


@bp.get("/issuers/<slug>/did.json")
def did_document(slug: str) -> ResponseReturnValue:
    found = _organisation_or_json_404(slug)
    if isinstance(found, Response):
        return found
    document = identity.published_did_document(found, current_app.config)
    return _public(to_json(document), identity.DID_DOCUMENT_MEDIA_TYPE)


@bp.get("/issuers/<slug>/jwks.json")
def jwks(slug: str) -> ResponseReturnValue:
    found = _organisation_or_json_404(slug)
    if isinstance(found, Response):
        return found
    return _public(to_json(identity.published_jwk_set(found, current_app.config)), identity.JWK_SET_MEDIA_TYPE)


@bp.get("/issuers/<slug>/keys/<key_id>.json")
def key_jwk(slug: str, key_id: str) -> ResponseReturnValue:
    found = _organisation_or_json_404(slug)
    if isinstance(found, Response):
        return found
    key = identity.published_key(found, key_id)
    if key is None or key.algorithm is not KeyAlgorithm.RSA_2048:
        return _json_error(NotFound(_l("This issuer publishes no signing key with this id.")))
    return _public(to_json(identity.published_key_jwk(found, key, current_app.config)), identity.JWK_MEDIA_TYPE)


@bp.get("/.well-known/jwks.json")
def installation_jwks() -> ResponseReturnValue:
    return _public(to_json(identity.installation_jwk_set(current_app.config)), identity.JWK_SET_MEDIA_TYPE)

