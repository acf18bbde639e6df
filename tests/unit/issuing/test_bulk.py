"""Many awards at once: signed on the pool of processes, stored once each, whatever happened in between."""

from __future__ import annotations

import json

import pytest
from flask import current_app
from sqlalchemy import func, select

from badgehub.accounts import addresses as wallet_addresses
from badgehub.accounts import holder as holders
from badgehub.accounts.service import create_user
from badgehub.credentials.data_integrity import verify_data_integrity_proof
from badgehub.credentials.did import did_key_from_ed25519
from badgehub.extensions import db
from badgehub.issuing import bulk, parallel, signing
from badgehub.issuing import service as issuing
from badgehub.issuing.models import IssuedCredential
from badgehub.issuing.service import AwardInput


def awards(count: int, prefix: str = "p") -> list[bulk.BulkAward]:
    return [bulk.BulkAward(AwardInput(recipient_email=f"{prefix}{i}@example.net", recipient_name=f"P {i}"),
                           f"key-{prefix}{i}") for i in range(count)]


def count_credentials() -> int:
    return int(db.session.scalar(select(func.count(IssuedCredential.id))) or 0)


def test_a_bulk_is_signed_on_the_pool_and_issued_once_each(world, ctx):
    ctx.config["SIGNING_PROCESSES"] = 2
    signer = signing.signer_for(world.a, ctx.config)
    parallel.shutdown()
    # The organisation's first awards: the first opens its list alone, the others are drawn from it.
    outcomes = bulk.issue_many(world.a, world.repair, awards(10), signer=signer, actor_id=None, source="api",
                               config=current_app.config)
    assert all(isinstance(o, issuing.Issued) and not o.replayed for o in outcomes)
    assert parallel._POOL.get("workers") == 2  # the pool signed them
    credentials = [o.credential for o in outcomes if isinstance(o, issuing.Issued)]
    assert len({c.status_index for c in credentials}) == 10 and count_credentials() == 10
    assert [c.recipient_email for c in credentials] == [f"p{i}@example.net" for i in range(10)]
    for credential in credentials:
        document = json.loads(credential.document_json)
        proof = document.pop("proof")[0]
        verify_data_integrity_proof(document, proof, signer.ed25519.public_key())  # raises when it does not hold
        assert document["credentialStatus"]["statusListIndex"] == str(credential.status_index)
    # The same awards again replay, sign nothing and store nothing.
    again = bulk.issue_many(world.a, world.repair, awards(10), signer=signer, actor_id=None, source="api",
                            config=current_app.config)
    assert all(isinstance(o, issuing.Issued) and o.replayed for o in again) and count_credentials() == 10


def test_an_index_or_key_taken_between_the_plan_and_the_store_is_settled_alone(world, ctx, monkeypatch):
    ctx.config["SIGNING_PROCESSES"] = 2
    signer = signing.signer_for(world.a, ctx.config)
    first = bulk.issue_many(world.a, world.repair, awards(1, "seed"), signer=signer, actor_id=None, source="api",
                            config=current_app.config)
    assert isinstance(first[0], issuing.Issued)  # the list exists now: the plan draws from it
    wanted = awards(6)
    prepared = bulk.plan(world.a, world.repair, wanted, signer=signer, config=current_app.config)
    bulk.sign(prepared, signer, config=current_app.config)
    assert len(prepared.planned) == 6
    stolen = prepared.planned[0]
    # Another issuer, between the plan and the store: one award takes a planned index, one uses a planned key.
    monkeypatch.setattr(issuing, "draw_free_index", lambda _list: stolen.index)
    intruder = issuing.issue_credential(organisation=world.a, achievement=world.repair,
                                        recipient_email="other@example.net", recipient_name="", actor_id=None,
                                        source="api", config=current_app.config)
    monkeypatch.undo()
    raced = issuing.issue_credential(organisation=world.a, achievement=world.repair,
                                     recipient_email="p1@example.net", recipient_name="P 1", actor_id=None,
                                     source="api", idempotency_key="key-p1", config=current_app.config)
    outcomes = bulk.store(prepared, world.a, world.repair, wanted, signer=signer, actor_id=None, source="api",
                          config=current_app.config)
    issued = [o for o in outcomes if isinstance(o, issuing.Issued)]
    assert len(issued) == 6
    assert issued[1].replayed and issued[1].credential.id == raced.id
    assert issued[0].credential.status_index != intruder.status_index  # signed again with an index of its own
    indexes = db.session.scalars(select(IssuedCredential.status_index)).all()
    assert len(indexes) == len(set(indexes)) == count_credentials() == 1 + 1 + 1 + 5


def test_a_row_raced_past_the_checks_fails_alone_and_the_others_are_stored_once(world, ctx, monkeypatch):
    # The rows go in together; when one breaks a unique constraint the checks under the lock did not see (an
    # issuer that took a planned index without the lock), the block is undone and each row tried on its own.
    signer = signing.signer_for(world.a, ctx.config)
    bulk.issue_many(world.a, world.repair, awards(1, "seed"), signer=signer, actor_id=None, source="api",
                    config=current_app.config)
    wanted = awards(5)
    prepared = bulk.plan(world.a, world.repair, wanted, signer=signer, config=current_app.config)
    bulk.sign(prepared, signer, config=current_app.config)
    stolen = prepared.planned[2]
    monkeypatch.setattr(issuing, "draw_free_index", lambda _list: stolen.index)
    intruder = issuing.issue_credential(organisation=world.a, achievement=world.repair,
                                        recipient_email="other@example.net", recipient_name="", actor_id=None,
                                        source="api", config=current_app.config)
    monkeypatch.undo()
    monkeypatch.setattr(bulk, "_taken", lambda _list, _candidates: set())  # the check misses the intruder
    outcomes = bulk.store(prepared, world.a, world.repair, wanted, signer=signer, actor_id=None, source="api",
                          config=current_app.config)
    monkeypatch.undo()
    assert all(isinstance(o, issuing.Issued) and not o.replayed for o in outcomes)
    assert outcomes[2].credential.status_index != intruder.status_index  # settled alone, with an index of its own
    assert [o.credential.public_id for o in outcomes[:2] + outcomes[3:]] == [
        item.public_id for item in prepared.planned if item is not stolen]  # the others as planned
    indexes = db.session.scalars(select(IssuedCredential.status_index)).all()
    assert len(indexes) == len(set(indexes)) == count_credentials() == 1 + 1 + 5


def test_a_pool_of_another_size_replaces_the_old_one_which_stops():
    registry: dict = {}
    first = parallel._pool(2, registry)
    assert parallel._pool(2, registry) is first
    second = parallel._pool(3, registry)
    assert second is not first and registry["workers"] == 3
    with pytest.raises(RuntimeError, match="after shutdown"):  # stopped, not left running with its processes
        first.submit(int)
    second.shutdown(wait=True)


def test_awards_of_several_badges_come_back_in_the_order_given(world, ctx):
    mixed = [(world.repair if i % 2 == 0 else world.workshop, item) for i, item in enumerate(awards(5, "m"))]
    outcomes = bulk.issue_each(world.a, mixed, signer=signing.signer_for(world.a, ctx.config), actor_id=None,
                               source="api", config=ctx.config)
    assert [(o.credential.recipient_email, o.credential.achievement_id) for o in outcomes] == [
        (f"m{i}@example.net", achievement.id) for i, (achievement, _item) in enumerate(mixed)]
    assert count_credentials() == 5


def test_a_small_bulk_signs_here_and_starts_the_pool_for_the_next(world, ctx, monkeypatch):
    # A pool not running yet costs seconds to start: a batch under SIGNING_POOL_FROM does not wait for it.
    ctx.config.update(SIGNING_PROCESSES=2, SIGNING_POOL_FROM=50)
    signer = signing.signer_for(world.a, ctx.config)
    parallel.shutdown()
    signed_here: list[int] = []
    sign_many = parallel.sign_many
    monkeypatch.setattr(parallel, "sign_many", lambda material, created, documents: signed_here.append(
        len(documents)) or sign_many(material, created, documents))
    outcomes = bulk.issue_many(world.a, world.repair, awards(10), signer=signer, actor_id=None, source="api",
                               config=current_app.config)
    assert all(isinstance(o, issuing.Issued) and not o.replayed for o in outcomes) and count_credentials() == 10
    # In this process, a few at a time while the pool starts (the first award opened the list alone).
    assert sum(signed_here) == 9 and max(signed_here) <= 4
    assert parallel._POOL.get("workers") == 2  # started in the background, for the next batch
    for future in parallel._POOL["started"]:
        future.result(timeout=60)
    monkeypatch.undo()  # the pool's processes pickle sign_many itself
    waited: list[int] = []
    monkeypatch.setattr(parallel, "_sign_here_until_ready", lambda material, created, documents, *_rest: waited.append(
        len(documents)) or ([], []))
    outcomes = bulk.issue_many(world.a, world.repair, awards(6, prefix="q"), signer=signer, actor_id=None,
                               source="api", config=current_app.config)
    assert all(isinstance(o, issuing.Issued) and not o.replayed for o in outcomes) and count_credentials() == 16
    assert waited == []  # the pool is ready: all six signed there, none here
    parallel.shutdown()
    parallel.warm_up(ctx.config, documents=49)
    assert "pool" not in parallel._POOL  # 49 rows left do not start the signing processes
    parallel.warm_up(ctx.config, documents=50)
    assert parallel._POOL.get("workers") == 2
    assert "pool" not in parallel._QR_POOL  # a batch job's QR codes are drawn with its signatures


def test_a_bulk_names_the_holder_did_each_recipient_set_for_a_verified_address(world, ctx):
    did = did_key_from_ed25519(bytes(range(32)))
    ana = create_user("ana@example.org", verified=True)
    link = wallet_addresses.add_address(ana, "ana@work.example.org")
    wallet_addresses.confirm_address(ana, link.token)
    holders.set_holder_did(ana, did)
    bob = create_user("bob@example.org", verified=False)  # never proved his address: his DID is not used
    holders.set_holder_did(bob, did_key_from_ed25519(bytes(range(1, 33))))
    addresses = ["ANA@example.org", "ana@work.example.org", "bob@example.org", "stranger@example.org"]
    wanted = [bulk.BulkAward(AwardInput(recipient_email=address, recipient_name="P"), f"did-{n}")
              for n, address in enumerate(addresses)]
    wanted.append(bulk.BulkAward(AwardInput(recipient_email="ana@example.org", recipient_name="P",
                                            holder_did="did:example:given"), "did-given"))
    signer = signing.signer_for(world.a, ctx.config)
    outcomes = bulk.issue_many(world.a, world.repair, wanted, signer=signer, actor_id=None, source="api",
                               config=current_app.config)
    subjects = [json.loads(o.credential.document_json)["credentialSubject"].get("id") for o in outcomes
                if isinstance(o, issuing.Issued)]
    assert subjects == [did, did, None, None, "did:example:given"]
    assert holders.holder_did_for_address("Ana@Work.example.org") == did
    assert holders.holder_did_for_address("bob@example.org") is None
