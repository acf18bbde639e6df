"""Where each person lands after signing in, and the organisation's dashboard.

People come to BadgeHub to do one thing: staff award badges, learners keep theirs, coordinators answer
organisations. ``/home`` sends each to that page, so "Award" is two clicks from signing in (the dashboard,
then the badge's "Award" button).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from flask import Blueprint, redirect, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user, login_required

from badgehub.achievements import service as achievements
from badgehub.achievements.models import Achievement
from badgehub.claims import service as claims
from badgehub.claims.models import ClaimCampaign
from badgehub.db import utcnow
from badgehub.issuing import batches
from badgehub.issuing import service as issuing
from badgehub.issuing.models import BatchState, IssueBatch, IssuedCredential
from badgehub.organisations import service as organisations
from badgehub.organisations.models import Organisation
from badgehub.territory import service as territory_service

bp = Blueprint("home", __name__)

RECENT_AWARDS = 5
# Batches still waiting for somebody (a draft to confirm) or for the worker.
OPEN_BATCH_STATES = (BatchState.DRAFT, BatchState.QUEUED, BatchState.RUNNING)


def home_endpoint(user: Any) -> tuple[str, dict[str, Any]]:
    """The page ``user`` lands on: their organisation's dashboard (the list when they have several), else the
    territories they coordinate, else their wallet."""
    members = organisations.organisations_of(user)
    if len(members) == 1:
        return "organisations.overview", {"slug": members[0].organisation.slug}
    if members:
        return "organisations.dashboard", {}
    if territory_service.coordinated_territories(user):
        return "territories.coordinate", {}
    return "wallet.index", {}


@bp.get("/home")
@login_required
def index() -> ResponseReturnValue:
    endpoint, values = home_endpoint(current_user)
    return redirect(url_for(endpoint, **values))


@dataclass(frozen=True)
class Figures:
    awarded: int
    awarded_30_days: int
    revoked: int
    badges: int


@dataclass(frozen=True)
class Dashboard:
    """What an organisation's staff see first: their badges (each with its "Award" buttons), the latest
    awards, the lists and claim posters still under way, and a few figures."""

    badges: list[Achievement]
    recent: list[IssuedCredential]
    open_batches: list[IssueBatch]
    open_campaigns: list[tuple[ClaimCampaign, int]]
    figures: Figures


def organisation_dashboard(organisation: Organisation, actor: Any, *, now: dt.datetime | None = None) -> Dashboard:
    """Gather the dashboard of ``organisation`` for ``actor`` (who must be on its staff)."""
    moment = now or utcnow()
    badges = achievements.list_for_organisation(organisation, actor, archived=False)
    recent = issuing.credentials_of(organisation, limit=RECENT_AWARDS)
    month = issuing.credentials_of(organisation, issued_since=moment - dt.timedelta(days=30), limit=1)
    revoked = issuing.credentials_of(organisation, state="revoked", limit=1)
    open_batches = [b for b in batches.batches_of(organisation, limit=20) if b.state in OPEN_BATCH_STATES]
    campaigns = [c for c in claims.campaigns_of(organisation)
                 if claims.campaign_status(c, moment) in (claims.CampaignStatus.OPEN, claims.CampaignStatus.SCHEDULED)]
    waiting = claims.pending_counts(campaigns)
    return Dashboard(
        badges=badges, recent=list(recent.items), open_batches=open_batches,
        open_campaigns=[(c, waiting.get(c.id, 0)) for c in campaigns],
        figures=Figures(awarded=recent.total, awarded_30_days=month.total, revoked=revoked.total,
                        badges=len(badges)))
