"""Territories and their registry of member organisations."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from sqlalchemy import select

from badgehub.audit.service import record
from badgehub.errors import Conflict, ValidationError
from badgehub.extensions import db
from badgehub.territory.models import Area, Territory

if TYPE_CHECKING:
    from badgehub.accounts.models import User

SLUG_PATTERN = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")


def validate_slug(slug: str) -> str:
    """Return ``slug`` if it is lower-case letters, digits and single hyphens (2–64 chars); else raise."""
    from flask_babel import lazy_gettext as _l

    value = slug.strip()
    if not (2 <= len(value) <= 64) or not SLUG_PATTERN.match(value):
        raise ValidationError(_l("Use 2 to 64 lower-case letters, digits and hyphens."), details={"field": "slug"})
    return value


def create_territory(*, name: str, slug: str, description: str = "", charter: str = "",
                     default_locale: str = "fr", areas: list[tuple[str, str]] | None = None,
                     actor_id: int | None = None) -> Territory:
    """Create a territory with its areas ``[(code, name), …]``; raises Conflict on a taken slug."""
    from flask_babel import lazy_gettext as _l

    slug = validate_slug(slug)
    if db.session.scalar(select(Territory.id).where(Territory.slug == slug)) is not None:
        raise Conflict(_l("A territory with this address already exists."), details={"field": "slug"})
    territory = Territory(name=name.strip(), slug=slug, description=description, charter=charter,
                          default_locale=default_locale)
    territory.areas = [Area(code=code, name=area_name) for code, area_name in (areas or [])]
    db.session.add(territory)
    db.session.flush()
    record("territory.created", actor_id=actor_id, territory_id=territory.id, subject_type="territory",
           subject_id=territory.id)
    return territory


def get_territory_by_slug(slug: str) -> Territory:
    """Return the territory with this slug; raises NotFound."""
    from badgehub.errors import NotFound

    territory = db.session.scalar(select(Territory).where(Territory.slug == slug))
    if territory is None:
        raise NotFound()
    return territory


def add_coordinator(*, territory_slug: str, user: User, actor_id: int | None) -> None:
    """Make ``user`` a coordinator of the territory (idempotent); raises NotFound for an unknown slug."""
    from badgehub.territory.models import TerritoryCoordinator

    territory = get_territory_by_slug(territory_slug)
    exists = db.session.scalar(select(TerritoryCoordinator.id).where(
        TerritoryCoordinator.territory_id == territory.id, TerritoryCoordinator.user_id == user.id))
    if exists is None:
        db.session.add(TerritoryCoordinator(territory_id=territory.id, user_id=user.id))
        record("territory.coordinator_added", actor_id=actor_id, territory_id=territory.id,
               subject_type="user", subject_id=user.id)
        db.session.flush()
