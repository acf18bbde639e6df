"""Skills demand: organisations declare the competencies they look for (the data side of "demand against supply").

Rules (written here and nowhere else):

* **Staff who issue declare.** Owners and issuers of an organisation in good standing declare and withdraw its
  demand (``BADGE_ISSUERS``); any staff member reads it.
* **The territory's words.** An organisation declares competencies of the frameworks of the territories where
  it is an approved or pending member, and only ones that are not archived.
* **Counted for approved members.** :func:`demand_by_competency` counts the organisations that are approved
  members of the territory now: a suspended or departed organisation's demand no longer speaks for it.
* Every declaration and withdrawal is an audit event.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from badgehub.audit.service import record
from badgehub.catalogue.models import CompetencyDemand
from badgehub.competencies.models import Competency, CompetencyFramework
from badgehub.competencies.service import code_sort_key, competencies_of
from badgehub.errors import NotFound, ValidationError
from badgehub.extensions import db
from badgehub.organisations.models import Organisation
from badgehub.organisations.service import BADGE_ISSUERS, require_good_standing, require_member
from badgehub.territory.models import MembershipStatus, Territory, TerritoryMembership
from badgehub.territory.slugs import name_sort_key

NOTE_LIMIT: Final = 500
MAX_DEMANDS: Final = 200
DECLARING_STATUSES: Final = (MembershipStatus.APPROVED, MembershipStatus.PENDING)


def demand_territories(organisation: Organisation) -> list[Territory]:
    """The territories whose frameworks the organisation may declare demand in (approved or pending), by name."""
    return list(db.session.scalars(
        select(Territory).join(TerritoryMembership, TerritoryMembership.territory_id == Territory.id)
        .where(TerritoryMembership.organisation_id == organisation.id,
               TerritoryMembership.status.in_(DECLARING_STATUSES))
        .order_by(Territory.name)))


def demand_choices(organisation: Organisation) -> list[tuple[Territory, list[Competency]]]:
    """The competencies the organisation may declare, by territory (territories without a framework left out)."""
    choices = [(territory, competencies_of(territory)) for territory in demand_territories(organisation)]
    return [(territory, competencies) for territory, competencies in choices if competencies]


def _clean_note(note: str) -> str:
    text = " ".join((note or "").split())
    if any(ord(char) < 32 or ord(char) == 127 for char in text):  # pragma: no cover - split() removed them
        raise ValidationError(_l("Remove the invisible control characters from this field."))
    if len(text) > NOTE_LIMIT:
        message = _l("Use at most %(limit)s characters.", limit=NOTE_LIMIT)
        raise ValidationError(message, details={"fields": {"note": message}})
    return text


def declare_demand(organisation: Organisation, competency_id: int | str, note: str, actor: Any) -> CompetencyDemand:
    """Declare (or update the note of) the organisation's demand for a competency; return the declaration.

    Raises NotFound / Forbidden (see ``require_member``), OrganisationSuspended, ValidationError with
    ``details["fields"]`` (``competency_id``: not a competency of its territories' frameworks, or archived;
    ``note``: too long) or when the organisation already declares too many.
    """
    require_member(organisation, actor, *BADGE_ISSUERS)
    require_good_standing(organisation)
    try:
        wanted = int(competency_id)
    except (TypeError, ValueError):
        wanted = -1
    offered = {c.id for _, competencies in demand_choices(organisation) for c in competencies}
    if wanted not in offered:
        message = _l("Choose a competency of your territories' frameworks.")
        raise ValidationError(message, details={"fields": {"competency_id": message}})
    text = _clean_note(note)
    demand = db.session.scalar(select(CompetencyDemand).where(
        CompetencyDemand.organisation_id == organisation.id, CompetencyDemand.competency_id == wanted))
    if demand is None:
        count = db.session.scalar(select(func.count()).select_from(CompetencyDemand).where(
            CompetencyDemand.organisation_id == organisation.id)) or 0
        if count >= MAX_DEMANDS:
            raise ValidationError(_l("An organisation can declare at most %(limit)s competencies.", limit=MAX_DEMANDS))
        demand = CompetencyDemand(organisation_id=organisation.id, competency_id=wanted, note=text)
        action = "organisation.demand_declared"
        try:
            # Two staff declaring the same competency at the same moment: the later one updates the note.
            with db.session.begin_nested():
                db.session.add(demand)
                db.session.flush()
        except IntegrityError:
            demand = db.session.scalars(select(CompetencyDemand).where(
                CompetencyDemand.organisation_id == organisation.id,
                CompetencyDemand.competency_id == wanted)).one()
            demand.note, action = text, "organisation.demand_updated"
    else:
        demand.note = text
        action = "organisation.demand_updated"
    db.session.flush()
    record(action, actor_id=getattr(actor, "id", None), organisation_id=organisation.id,
           subject_type="competency", subject_id=wanted)
    return demand


def withdraw_demand(organisation: Organisation, competency_id: int, actor: Any) -> None:
    """Withdraw the organisation's demand for a competency. Raises NotFound (also when it declared none),
    Forbidden, OrganisationSuspended."""
    require_member(organisation, actor, *BADGE_ISSUERS)
    require_good_standing(organisation)
    demand = db.session.scalar(select(CompetencyDemand).where(
        CompetencyDemand.organisation_id == organisation.id, CompetencyDemand.competency_id == competency_id))
    if demand is None:
        raise NotFound()
    db.session.delete(demand)
    db.session.flush()
    record("organisation.demand_withdrawn", actor_id=getattr(actor, "id", None), organisation_id=organisation.id,
           subject_type="competency", subject_id=competency_id)


def demand_of(organisation: Organisation) -> list[CompetencyDemand]:
    """The organisation's declarations with their competencies, by territory name then competency code."""
    demands = db.session.scalars(
        select(CompetencyDemand).where(CompetencyDemand.organisation_id == organisation.id)
        .options(selectinload(CompetencyDemand.competency).selectinload(Competency.framework)
                 .selectinload(CompetencyFramework.territory))).all()
    return sorted(demands, key=lambda d: (name_sort_key(d.competency.framework.territory.name),
                                          code_sort_key(d.competency.code)))


@dataclass(frozen=True)
class DemandCount:
    """How many approved member organisations look for one competency."""

    competency: Competency
    organisations: int


def demand_by_competency(territory: Territory) -> list[DemandCount]:
    """Per competency of the territory's framework that someone looks for: how many of its approved member
    organisations declared it. Most wanted first, then by code; competencies nobody declared are left out."""
    rows = db.session.execute(
        select(CompetencyDemand.competency_id, func.count(func.distinct(CompetencyDemand.organisation_id)))
        .join(Competency, Competency.id == CompetencyDemand.competency_id)
        .join(CompetencyFramework, CompetencyFramework.id == Competency.framework_id)
        .join(TerritoryMembership, (TerritoryMembership.organisation_id == CompetencyDemand.organisation_id)
              & (TerritoryMembership.territory_id == territory.id))
        .where(CompetencyFramework.territory_id == territory.id,
               TerritoryMembership.status == MembershipStatus.APPROVED)
        .group_by(CompetencyDemand.competency_id)).tuples().all()
    if not rows:
        return []
    competencies = {c.id: c for c in db.session.scalars(
        select(Competency).where(Competency.id.in_([competency_id for competency_id, _ in rows])))}
    counts = [DemandCount(competencies[competency_id], count) for competency_id, count in rows]
    return sorted(counts, key=lambda item: (-item.organisations, code_sort_key(item.competency.code)))
