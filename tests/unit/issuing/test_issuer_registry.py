"""The trust registry read from the verifier's side (badgehub.territory.registry): an issuer id found in a credential
names one of our organisations in any of the forms we write, and its standing follows the coordinators' decisions."""

from __future__ import annotations

from flask import Flask

from badgehub.keys.identity import did_key_of, did_web_of
from badgehub.keys.models import KeyAlgorithm
from badgehub.keys.service import active_key, installation_kek, rotate_keys
from badgehub.territory.registry import StandingStatus, find_organisation, issuer_standing
from badgehub.territory.service import decide_membership, memberships_of
from tests.factories import World


def test_our_did_web_profile_url_and_did_keys_name_the_organisation(ctx: Flask, world: World) -> None:
    config = ctx.config
    old_key = active_key(world.a, KeyAlgorithm.ED25519).public_key
    rotate_keys(world.a, installation_kek(config), None)
    new_key = active_key(world.a, KeyAlgorithm.ED25519).public_key
    for issuer_id in (did_web_of(config["BASE_URL"], world.a.slug), "http://localhost/issuers/atelier-velo",
                      "https://localhost/issuers/atelier-velo", did_key_of(new_key), did_key_of(old_key)):
        assert find_organisation(issuer_id, config) is world.a, issuer_id


def test_anything_else_is_not_one_of_ours(ctx: Flask, world: World) -> None:
    for issuer_id in ("did:web:elsewhere.example:issuers:atelier-velo", "https://badges.example.org/issuers/atelier-velo",
                      "http://localhost/issuers/no-such-issuer", "http://localhost/issuers/atelier-velo/did.json",
                      "http://localhost/issuers/atelier-velo?x=1",
                      "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK", "did:key:not-a-key",
                      "", None, 42, "x" * 5000):
        assert find_organisation(issuer_id, ctx.config) is None, issuer_id
    assert issuer_standing("https://badges.example.org/issuers/1", ctx.config).status is StandingStatus.NOT_ON_PLATFORM


def test_the_standing_follows_the_coordinators_decisions(ctx: Flask, world: World) -> None:
    issuer_id = did_web_of(ctx.config["BASE_URL"], world.a.slug)
    approved = issuer_standing(issuer_id, ctx.config)
    assert approved.status is StandingStatus.APPROVED
    assert [(f.territory_slug, f.status) for f in approved.approved] == [("evry", "approved")]
    assert approved.approved[0].since is not None
    membership = memberships_of(world.a)[0]
    decide_membership(membership, "suspend", world.coordinator, "Badges sans preuves")
    suspended = issuer_standing(issuer_id, ctx.config)
    assert suspended.status is StandingStatus.SUSPENDED
    assert suspended.to_dict()["memberships"][0]["status"] == "suspended"
    decide_membership(membership, "remove", world.coordinator, "Association dissoute")
    assert issuer_standing(issuer_id, ctx.config).status is StandingStatus.NOT_MEMBER
