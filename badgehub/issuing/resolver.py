"""Local answers for this installation's status lists, so that our own credentials verify without HTTP.

:class:`StatusListResolver` implements :class:`badgehub.verification.resolver.Resolver` for one kind of
address only, ``<BASE_URL>/issuers/<slug>/status/<number>`` (http or https, like every address of ours, since
did:web always resolves to https): it answers with the signed list credential exactly as the endpoint serves
it (:func:`badgehub.issuing.status_lists.served_status_list`: the copy stored by the last change), from the
database. A list of ours that does not
exist is ``not_found`` (final: there is nothing to fetch elsewhere). Anything else is ``unsupported``, so the
next resolver of a chain answers.

:func:`platform_local_resolver` chains it after the resolver of our own issuers' keys and identity documents
(:class:`badgehub.keys.resolver.OwnIssuerResolver`): with both, a credential issued here verifies entirely
offline (proof, issuer key, status). :func:`init_app`, called by the app factory, registers it as the app's
local resolver (:func:`badgehub.verification.platform.register_local_resolver`): every verification the platform
runs (/verify, the API, the credential page, the wallet) answers for our own issuers from the database, never
over HTTP to itself (DESIGN §4).

It reads the database through the application's session and never writes (lists are signed when they change,
and by the scheduled refresh): use it inside an application context. Given the
:class:`~badgehub.keys.resolver.OwnIssuerResolver` of the same verification, it asks it for the organisation and
its keys instead of reading them again; given lists the caller already holds (the credential page holds
its credential's), it serves them without reading them again either.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from typing import Any, Final

from sqlalchemy import select

from badgehub.errors import BadgeHubError
from badgehub.extensions import db
from badgehub.issuing.models import StatusList
from badgehub.issuing.status_lists import get_status_list, served_status_list
from badgehub.keys.identity import base_url_of, local_path
from badgehub.keys.resolver import OwnIssuerResolver, own_issuer_resolver
from badgehub.keys.service import published_keys
from badgehub.organisations.models import Organisation
from badgehub.verification.platform import AppLike, register_local_resolver
from badgehub.verification.resolver import ChainResolver, ResolutionError, ResolvedKey, Resolver

_STATUS_RE: Final = re.compile(r"/issuers/(?P<slug>[a-z0-9]+(?:-[a-z0-9]+)*)/status/(?P<number>[1-9][0-9]{0,8})")


def _unsupported(what: str) -> ResolutionError:
    return ResolutionError("unsupported", f"not a status list of this installation: {what[:200]}")


class StatusListResolver:
    """Answers for this installation's status lists from the database (see the module docstring)."""

    def __init__(self, config: Mapping[str, Any], *, issuers: OwnIssuerResolver | None = None,
                 held: Iterable[StatusList] = ()) -> None:
        self._config = config
        self._base_url = base_url_of(config)
        self._issuers = issuers
        self._held = {(status_list.organisation_id, status_list.number): status_list for status_list in held}

    def resolve_verification_method(self, method_id: str) -> ResolvedKey:
        """Never: keys are :class:`~badgehub.keys.resolver.OwnIssuerResolver`'s. Raises ``unsupported``."""
        raise _unsupported(str(method_id))

    def resolve_jwt_key(self, kid: str) -> ResolvedKey:
        """Never: keys are :class:`~badgehub.keys.resolver.OwnIssuerResolver`'s. Raises ``unsupported``."""
        raise _unsupported(str(kid))

    def fetch_document(self, url: str) -> object:
        """The signed list credential at ``url`` as parsed JSON. Raises :class:`ResolutionError`:
        ``unsupported`` for any other address, ``not_found`` for an unknown issuer or list, ``bad_document``
        when the list cannot be signed (the organisation has no active key)."""
        path = local_path(url, self._base_url)
        match = _STATUS_RE.fullmatch(path) if path is not None else None
        if match is None:
            raise _unsupported(str(url))
        organisation = self._organisation(match["slug"])
        status_list = self._status_list(organisation, int(match["number"])) if organisation is not None else None
        if organisation is None or status_list is None:
            raise ResolutionError("not_found", f"this installation publishes no status list at {url}")
        keys = (self._issuers.published_keys(organisation) if self._issuers is not None
                else published_keys(organisation))
        try:
            signed = served_status_list(status_list, keys, config=self._config)
        except BadgeHubError as exc:
            raise ResolutionError("bad_document", f"{url}: {exc.message}") from None
        document: object = json.loads(signed.text)
        return document

    def _organisation(self, slug: str) -> Organisation | None:
        if self._issuers is not None:
            return self._issuers.organisation(slug)
        found: Organisation | None = db.session.scalar(select(Organisation).where(Organisation.slug == slug))
        return found

    def _status_list(self, organisation: Organisation, number: int) -> StatusList | None:
        return self._held.get((organisation.id, number)) or get_status_list(organisation, number)


def platform_local_resolver(config: Mapping[str, Any], *, issuers: Resolver | None = None,
                            held: Iterable[StatusList] = ()) -> ChainResolver:
    """Our own issuers' keys and documents (``issuers``, by default
    :func:`~badgehub.keys.resolver.own_issuer_resolver`), then our status lists (``held``: lists the caller
    already read): everything a credential issued here needs, answered from the database."""
    own = issuers if issuers is not None else own_issuer_resolver(config)
    shared = own if isinstance(own, OwnIssuerResolver) else None
    return ChainResolver(own, StatusListResolver(config, issuers=shared, held=held))


def init_app(app: AppLike) -> None:
    """Make :func:`platform_local_resolver` (our issuers, then our status lists) the first resolver of every
    verification ``app`` runs."""
    config = app.config
    register_local_resolver(app, lambda: platform_local_resolver(config))
