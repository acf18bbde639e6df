"""Errors of claim campaigns. Each has a stable ``code`` and a message a participant or a staff member can act on.

The messages of the public flow never say whether an address has already claimed: only the e-mail does.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from badgehub.errors import BadgeHubError, Conflict, NotFound


class CampaignNotFound(NotFound):
    code = "campaign_not_found"
    default_message = _l("There is no campaign with this code. Check the code on the poster and try again.")


class CampaignUnavailable(BadgeHubError):
    """The campaign cannot take claims now; the subclasses say why, so the page can say it plainly."""

    code = "campaign_unavailable"
    http_status = 409
    default_message = _l("This campaign does not take claims now.")


class CampaignNotOpen(CampaignUnavailable):
    code = "campaign_not_open"
    default_message = _l("This campaign is not open yet. Come back when it opens.")


class CampaignClosed(CampaignUnavailable):
    code = "campaign_closed"
    default_message = _l("This campaign is closed: the badge can no longer be claimed here.")


class CampaignFull(CampaignUnavailable):
    code = "campaign_full"
    default_message = _l("Every badge of this campaign has been claimed: there are none left.")


class CampaignPaused(CampaignUnavailable):
    code = "campaign_paused"
    default_message = _l("This campaign is paused: its organisation cannot award this badge at the moment.")


class CampaignAlreadyClosed(Conflict):
    code = "campaign_already_closed"
    default_message = _l("This campaign is already closed.")


class InvalidClaimLink(BadgeHubError):
    """A confirmation link that cannot be used. The subclasses say why."""

    code = "invalid_claim_link"
    http_status = 400
    default_message = _l("This link is not valid. Ask for a new one on the campaign page.")


class ClaimLinkExpired(InvalidClaimLink):
    code = "claim_link_expired"
    default_message = _l("This link has expired. Ask for a new one on the campaign page: it only takes a moment.")
