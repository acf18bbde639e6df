"""Every value a page can show has a translatable label, and forms offer them in a stable order."""

from __future__ import annotations

import pytest

from badgehub.organisations.models import OrganisationType, Role, Sector
from badgehub.territory.models import MembershipStatus
from badgehub.territory.service import MEMBERSHIP_ACTIONS, Decision
from badgehub.web import labels


@pytest.mark.parametrize("enum_cls", [Sector, OrganisationType, Role, MembershipStatus, Decision])
def test_every_enum_value_has_a_label(ctx, enum_cls):
    for member in enum_cls:
        text = str(labels.label(member))
        assert text and text != member.value


def test_every_membership_action_has_a_label_and_every_status_a_tone(ctx):
    assert {str(labels.label(action)) for action in MEMBERSHIP_ACTIONS}.isdisjoint(MEMBERSHIP_ACTIONS)
    assert {labels.tone(status) for status in MembershipStatus} <= {"ok", "warn", "bad"}


def test_choices_follow_declaration_order_or_the_given_one(ctx):
    assert [choice.value for choice in labels.choices(Sector)] == [s.value for s in Sector]
    assert [choice.value for choice in labels.choices(Role, [Role.VIEWER, Role.OWNER])] == ["viewer", "owner"]
