"""Skills demand: who declares, which competencies, and how the territory counts it."""

from __future__ import annotations

import pytest

from badgehub.catalogue.demand import declare_demand, demand_by_competency, demand_choices, demand_of, withdraw_demand
from badgehub.competencies.service import archive_competency
from badgehub.errors import Forbidden, NotFound, ValidationError
from badgehub.organisations.errors import OrganisationSuspended
from badgehub.territory.service import decide_membership


def counts(cw):
    return {item.competency.code: item.organisations for item in demand_by_competency(cw.territory)}


def test_owners_and_issuers_declare_demand_viewers_and_outsiders_do_not(cw):
    competency = cw.competencies["TEC.2"]
    with pytest.raises(Forbidden):
        declare_demand(cw.base.a, competency.id, "", cw.base.viewer_a)
    with pytest.raises(NotFound):
        declare_demand(cw.base.a, competency.id, "", cw.base.owner_b)
    with pytest.raises(NotFound):
        declare_demand(cw.base.a, competency.id, "", cw.base.coordinator)
    declared = declare_demand(cw.base.a, competency.id, "  Des menuisiers  ", cw.base.issuer_a)
    assert declared.note == "Des menuisiers"
    assert [d.competency.code for d in demand_of(cw.base.a)] == ["TEC.2"]


def test_only_competencies_of_the_organisation_s_territories_and_not_archived(cw):
    with pytest.raises(ValidationError) as raised:
        declare_demand(cw.base.a, cw.nantes_competency.id, "", cw.base.owner_a)
    assert "competency_id" in raised.value.details["fields"]
    for bad in ("abc", "", 10**9):
        with pytest.raises(ValidationError):
            declare_demand(cw.base.a, bad, "", cw.base.owner_a)
    archive_competency(cw.competencies["TEC.1.A"], cw.base.coordinator)
    with pytest.raises(ValidationError):
        declare_demand(cw.base.a, cw.competencies["TEC.1.A"].id, "", cw.base.owner_a)
    offered = {c.code for _, competencies in demand_choices(cw.base.a) for c in competencies}
    assert "MER" not in offered and "TEC.2" in offered


def test_a_note_is_at_most_500_characters(cw):
    with pytest.raises(ValidationError) as raised:
        declare_demand(cw.base.a, cw.competencies["TEC.2"].id, "x" * 501, cw.base.owner_a)
    assert "note" in raised.value.details["fields"]


def test_declaring_again_updates_the_note_and_withdrawing_removes_it(cw):
    competency = cw.competencies["NUM.1"]
    declare_demand(cw.base.b, competency.id, "Accueil", cw.base.owner_b)
    again = declare_demand(cw.base.b, competency.id, "Accueil du public", cw.base.owner_b)
    assert [d.note for d in demand_of(cw.base.b)] == ["Accueil du public"] and again.note == "Accueil du public"
    withdraw_demand(cw.base.b, competency.id, cw.base.owner_b)
    assert demand_of(cw.base.b) == []
    with pytest.raises(NotFound):
        withdraw_demand(cw.base.b, competency.id, cw.base.owner_b)


def test_suspended_organisations_neither_declare_nor_count(cw):
    with pytest.raises(OrganisationSuspended):
        declare_demand(cw.c, cw.competencies["TEC.2"].id, "", cw.owner_c)
    declare_demand(cw.base.a, cw.competencies["TEC.2"].id, "", cw.base.owner_a)
    declare_demand(cw.base.b, cw.competencies["TEC.2"].id, "", cw.base.owner_b)
    declare_demand(cw.base.b, cw.competencies["NUM.1"].id, "", cw.base.owner_b)
    assert counts(cw) == {"TEC.2": 2, "NUM.1": 1}
    assert [item.competency.code for item in demand_by_competency(cw.territory)] == ["TEC.2", "NUM.1"]
    membership = next(m for m in cw.base.b.memberships if m.territory_id == cw.territory.id)
    decide_membership(membership, "suspend", cw.base.coordinator, "Contrôle")
    assert counts(cw) == {"TEC.2": 1}
    assert demand_by_competency(cw.base.other_territory) == []


def test_pending_members_may_declare_but_are_not_counted_yet(cw):
    declare_demand(cw.d, cw.competencies["TEC.2"].id, "", cw.owner_d)
    assert counts(cw) == {}
