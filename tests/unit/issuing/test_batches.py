"""CSV batches through the service and the job: the preview's problems come from the award rules, every valid
row is issued exactly once whatever happens (the same file twice, a double confirmation, a crash, a resume),
and a failure in the middle leaves nothing half-issued."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from flask import current_app
from sqlalchemy import func, select

from badgehub.errors import ValidationError
from badgehub.extensions import db
from badgehub.issuing import batches
from badgehub.issuing.models import BatchRow, BatchState, CredentialSource, IssueBatch, IssuedCredential, RowState
from badgehub.jobs import tasks
from badgehub.organisations.errors import OrganisationSuspended
from badgehub.territory.service import decide_membership, memberships_of

LIST = ("courriel;nom;date;quartier;preuve\n"
        "lea@example.net;Léa Martin;2025-03-01;centre;https://velo.example.org/lea\n"
        "sam@example.net;Sam Durand;01/03/2025;Gare;\n"
        "not-an-address;Nobody;;;\n"
        "zoe@example.net;Zoé;2999-01-01;;\n"
        "ana@example.net;Ana;;atlantis;\n"
        "LEA@example.net;Léa again;;;\n"
        "max@example.net;Max;;port;\n"
        "eve@example.net;Eve;;;ftp://nope\n")


def credentials(batch_id: int | None = None) -> int:
    query = select(func.count(IssuedCredential.id))
    if batch_id is not None:
        query = query.where(IssuedCredential.batch_id == batch_id)
    return int(db.session.scalar(query) or 0)


def draft(world, text: str = LIST, achievement=None, **options):
    chosen = achievement or world.repair
    options.setdefault("config", current_app.config)
    return batches.create_draft(world.a if chosen.organisation_id == world.a.id else world.b, chosen, text,
                                filename="atelier.csv", actor_id=world.issuer_a.id, **options)


def problems_by_row(batch: IssueBatch) -> dict[int, set[tuple[str | None, str]]]:
    rows, _total = batches.rows_of(batch)
    return {row.number: {(p["field"], p["code"]) for p in row.problems} for row in rows if row.problems}


def test_preview_shows_each_rows_problems_with_its_column(world):
    batch = draft(world)
    assert (batch.state, batch.total_rows, batch.valid_rows, batch.invalid_count) == (BatchState.DRAFT, 8, 2, 6)
    assert problems_by_row(batch) == {
        4: {("recipient_email", "rule")},
        5: {("activity_start", "rule")},  # in the future: check_award's rule
        6: {("area", "unknown_area")},
        7: {("recipient_email", "duplicate_in_file")},
        8: {("area", "unknown_area")},  # an area of a territory the organisation is not in
        9: {("evidence_url", "rule")},
    }
    rows, _ = batches.rows_of(batch, show="problems")
    texts = {row.number: [batches.problem_text(p) for p in row.problems] for row in rows}
    assert texts[7] == ["This address is already on row 2."]
    assert texts[5] == ["This date is in the future."]
    assert credentials() == 0


def test_confirmed_batch_issues_each_valid_row_once_with_its_values(world, outbox):
    batch = draft(world)
    batches.confirm(batch, actor_id=world.owner_a.id)
    assert tasks.run_batch(batch.id) == "done"
    assert (batch.issued_count, batch.duplicate_count, batch.invalid_count, batch.failed_count) == (2, 0, 6, 0)
    lea = db.session.scalar(select(IssuedCredential).where(IssuedCredential.recipient_email == "lea@example.net"))
    assert (lea.source, lea.batch_id, lea.area_id, lea.evidence_url, lea.activity_start.date(),
            lea.created_by_id) == (CredentialSource.CSV, batch.id, world.area("centre").id,
                                   "https://velo.example.org/lea", dt.date(2025, 3, 1), world.owner_a.id)
    assert sorted(m["To"] for m in outbox()) == ["lea@example.net", "sam@example.net"]
    assert credentials(batch.id) == 2


def test_the_same_file_twice_issues_nothing_new_and_the_preview_says_so(world, outbox):
    first = draft(world)
    batches.confirm(first, actor_id=world.issuer_a.id)
    tasks.run_batch(first.id)
    second = draft(world)
    assert (second.valid_rows, second.duplicate_count) == (0, 2)
    previous, _ = batches.rows_of(second, show="previous")
    assert {row.recipient_email for row in previous} == {"lea@example.net", "sam@example.net"}
    assert all(row.credential is not None and row.credential.batch_id == first.id for row in previous)
    batches.confirm(second, actor_id=world.issuer_a.id)
    assert tasks.run_batch(second.id) == "done"
    assert credentials() == 2
    assert len(outbox()) == 2


def test_confirming_twice_changes_nothing(world):
    batch = draft(world)
    batches.confirm(batch, actor_id=world.issuer_a.id)
    tasks.run_batch(batch.id)
    again = batches.confirm(batch, actor_id=world.issuer_a.id)
    assert again.state is BatchState.DONE
    assert tasks.run_batch(batch.id) is None
    assert credentials() == 2


def many(count: int, start: int = 0) -> str:
    return "email,name\n" + "".join(f"p{i}@example.net,P {i}\n" for i in range(start, start + count))


def test_resume_after_a_stop_between_chunks_has_no_gap_and_no_duplicate(world, app, outbox):
    app.config["BATCH_CHUNK_ROWS"] = 4
    batch = draft(world, many(10))
    batches.confirm(batch, actor_id=world.issuer_a.id)
    # The worker stops after its first chunk (a killed process): the batch is left running.
    assert tasks.run_batch(batch.id, max_chunks=1) == "running"
    assert credentials(batch.id) == 4 and len(outbox()) == 4
    assert batches.unfinished_batch_ids() == [batch.id]
    assert tasks.resume_batches() == [batch.id]
    assert batch.state is BatchState.DONE
    assert credentials(batch.id) == 10
    issued = db.session.scalars(select(IssuedCredential.recipient_email).where(IssuedCredential.batch_id == batch.id))
    assert sorted(issued) == sorted(f"p{i}@example.net" for i in range(10))
    assert sorted(m["To"] for m in outbox()) == sorted(f"p{i}@example.net" for i in range(10))


def test_a_chunk_lost_before_its_commit_is_issued_again_once(world):
    batch = draft(world, many(6))
    batches.confirm(batch, actor_id=world.issuer_a.id)
    batches.start_running(batch)
    db.session.commit()
    from badgehub.issuing.service import signer_for
    from badgehub.mails.awards import award_mail

    handled = batches.issue_pending_rows(batch, signer=signer_for(world.a, current_app.config), mailer=award_mail,
                                         config=current_app.config, limit=3)
    assert len(handled) == 3 and credentials(batch.id) == 3
    db.session.rollback()  # the process died before the chunk's commit: nothing of it remains
    assert credentials(batch.id) == 0
    assert batches.pending_count(batch) == 6
    assert tasks.run_batch(batch.id) == "done"
    assert credentials(batch.id) == 6


def test_the_next_chunk_is_planned_on_other_rows_and_indexes_while_one_waits_to_be_stored(world):
    # What the job does while the pool signs: chunk 2 is planned (and signed) before chunk 1 is stored.
    from badgehub.issuing import bulk
    from badgehub.issuing.service import signer_for
    from badgehub.mails.awards import award_mail

    batch = draft(world, many(7))
    batches.confirm(batch, actor_id=world.issuer_a.id)
    batches.start_running(batch)
    db.session.commit()
    signer, config = signer_for(world.a, current_app.config), current_app.config
    first = batches.plan_pending_rows(batch, signer=signer, config=config, limit=4)
    second = batches.plan_pending_rows(batch, signer=signer, config=config, limit=4, after=first)
    assert len(first.row_ids) == 4 and len(second.row_ids) == 3 and not set(first.row_ids) & set(second.row_ids)
    assert first.indexes[0] == second.indexes[0] and not first.indexes[1] & second.indexes[1]
    finish_second = bulk.start_signing(second.plan, signer, config=config)
    bulk.sign(first.plan, signer, config=config)
    batches.store_pending_rows(batch, first, signer=signer, mailer=award_mail, config=config)
    db.session.commit()
    finish_second()
    batches.store_pending_rows(batch, second, signer=signer, mailer=award_mail, config=config)
    db.session.commit()
    assert credentials(batch.id) == 7 and batches.pending_count(batch) == 0
    # Planned ahead but never stored (the process died after chunk 1): a later run issues its rows, once.
    again = draft(world, many(5, start=100))
    batches.confirm(again, actor_id=world.issuer_a.id)
    batches.start_running(again)
    db.session.commit()
    head = batches.plan_pending_rows(again, signer=signer, config=config, limit=3)
    batches.plan_pending_rows(again, signer=signer, config=config, limit=3, after=head)
    bulk.sign(head.plan, signer, config=config)
    batches.store_pending_rows(again, head, signer=signer, mailer=award_mail, config=config)
    db.session.commit()
    assert tasks.run_batch(again.id) == "done"
    issued = db.session.scalars(select(IssuedCredential.recipient_email).where(IssuedCredential.batch_id == again.id))
    assert sorted(issued) == sorted(f"p{i}@example.net" for i in range(100, 105))


def test_a_credential_committed_before_its_row_is_replayed_not_doubled(world):
    # Crash window: the credential exists (say another worker issued it) but the row is still pending.
    batch = draft(world, many(3))
    batches.confirm(batch, actor_id=world.issuer_a.id)
    row = db.session.scalar(select(BatchRow).where(BatchRow.batch_id == batch.id, BatchRow.number == 2))
    from badgehub.issuing.service import issue_credential

    issue_credential(organisation=world.a, achievement=world.repair, recipient_email=row.recipient_email,
                     recipient_name=row.recipient_name, actor_id=None, source="csv",
                     idempotency_key=row.idempotency_key, batch_id=batch.id, config=current_app.config)
    assert tasks.run_batch(batch.id) == "done"
    assert credentials(batch.id) == 3
    assert batch.issued_count == 3


def test_a_row_refused_in_the_middle_leaves_no_half_issued_credential(world):
    batch = draft(world, "email,area\na@example.net,\nb@example.net,gare\nc@example.net,\n")
    batches.confirm(batch, actor_id=world.issuer_a.id)
    # Between the preview and the run, the organisation leaves the territory of the area "gare".
    membership = next(m for m in memberships_of(world.a) if m.territory_id == world.territory.id)
    decide_membership(membership, "remove", world.coordinator, reason="moved away")
    assert tasks.run_batch(batch.id) == "done"
    states = dict(db.session.execute(select(BatchRow.number, BatchRow.state)
                                     .where(BatchRow.batch_id == batch.id)).tuples().all())
    assert states == {2: RowState.ISSUED, 3: RowState.SKIPPED_INVALID, 4: RowState.ISSUED}
    assert credentials(batch.id) == 2
    assert db.session.scalar(select(func.count(IssuedCredential.id)).where(
        IssuedCredential.recipient_email == "b@example.net")) == 0


def test_a_suspension_stops_the_batch_and_retry_finishes_it(world):
    batch = draft(world, many(3))
    batches.confirm(batch, actor_id=world.issuer_a.id)
    membership = next(m for m in memberships_of(world.a) if m.territory_id == world.territory.id)
    decide_membership(membership, "suspend", world.coordinator, reason="audit")
    assert tasks.run_batch(batch.id) == "failed"
    assert (batch.error_code, credentials(batch.id)) == ("organisation_suspended", 0)
    with pytest.raises(OrganisationSuspended):
        batches.retry_failed(batch, actor_id=world.issuer_a.id)
    decide_membership(membership, "reinstate", world.coordinator)
    batches.retry_failed(batch, actor_id=world.issuer_a.id)
    assert batch.state is BatchState.QUEUED
    assert tasks.run_batch(batch.id) == "done"
    assert credentials(batch.id) == 3


def test_suspended_organisation_cannot_even_upload(world):
    membership = next(m for m in memberships_of(world.a) if m.territory_id == world.territory.id)
    decide_membership(membership, "suspend", world.coordinator, reason="audit")
    with pytest.raises(OrganisationSuspended):
        draft(world)


def test_another_organisations_achievement_is_not_found(world):
    with pytest.raises(Exception) as caught:
        batches.create_draft(world.a, world.reading, LIST, actor_id=world.owner_a.id, config=current_app.config)
    assert getattr(caught.value, "http_status", None) == 404


def test_unreadable_file_is_refused_with_its_reason(world):
    with pytest.raises(batches.CsvFileRefused) as caught:
        draft(world, "name;phone\nLéa;0102\n")
    assert isinstance(caught.value, ValidationError)
    assert caught.value.details["csv"] == "missing_email_column"
    assert "Columns found: name, phone" in str(caught.value.message)
    assert db.session.scalar(select(func.count(IssueBatch.id))) == 0


def test_a_cancelled_draft_cannot_be_confirmed(world):
    batch = draft(world)
    batches.cancel(batch, actor_id=world.issuer_a.id)
    with pytest.raises(batches.BatchNotDraft):
        batches.confirm(batch, actor_id=world.issuer_a.id)


def test_export_keeps_formulas_inert(world):
    batch = draft(world, 'email,name\nx@example.net,"=HYPERLINK(""http://evil.example"",""click"")"\n'
                         "y@example.net,@SUM(A1)\n")
    batches.confirm(batch, actor_id=world.issuer_a.id)
    tasks.run_batch(batch.id)
    text = batches.export_csv(batch, credential_url=lambda c: f"https://x/c/{c.public_id}")
    assert "'=HYPERLINK" in text and "'@SUM(A1)" in text
    assert "\n=" not in text and ",=" not in text and ",@" not in text


def test_erasure_blanks_addresses_and_names_of_batch_rows(world):
    batch = draft(world)
    assert batches.erase_personal_data({"lea@example.net", "not-an-address"}) == 3
    rows, _ = batches.rows_of(batch)
    for row in rows:
        if row.number in (2, 4, 7):
            assert (row.recipient_email, row.recipient_name, row.raw.get("recipient_email"),
                    row.raw.get("recipient_name")) == ("", "", "", "")
    assert any(row.recipient_email == "sam@example.net" for row in rows)
    assert batches.erase_personal_data(set()) == 0


def test_row_problems_are_stored_as_sentences_of_the_catalogue_and_read_in_the_reader_s_language(world):
    from flask_babel import force_locale

    text = "email,name,evidence_url\nlea@example.net,Léa,ftp://velo.example.org/photo\n"
    with force_locale("en"):
        batch = batches.create_draft(world.a, world.repair, text, actor_id=world.owner_a.id, config=current_app.config)
    rows, _total = batches.rows_of(batch)
    [problem] = rows[0].problems
    assert problem["code"] == "rule" and "message" not in problem  # no sentence frozen in English
    with force_locale("fr"):
        assert batches.problem_text(problem).startswith("Indiquez une adresse web complète")
    with force_locale("en"):
        assert batches.problem_text(problem).startswith("Give a full web address starting with https://")


def _verification_methods(batch_id: int) -> list[str]:
    documents = db.session.scalars(select(IssuedCredential.document_json).where(IssuedCredential.batch_id == batch_id)
                                   .order_by(IssuedCredential.id))
    return [proof["verificationMethod"] for document in documents for proof in json.loads(document)["proof"]]


def _after_the_first_chunk(monkeypatch, change) -> None:
    """Run ``change`` (in the chunk's transaction) once the job has stored its first chunk: what another
    person does while the batch runs, after the job has planned and signed its next chunk."""
    store = batches.store_pending_rows
    done = []

    def store_then_change(*args, **kwargs):
        rows = store(*args, **kwargs)
        if not done:
            done.append(change())
        return rows

    monkeypatch.setattr(batches, "store_pending_rows", store_then_change)


def test_keys_rotated_while_a_batch_runs_sign_the_rest_of_it(world, app, monkeypatch):
    from badgehub.keys.models import KeyAlgorithm
    from badgehub.keys.service import active_key, installation_kek, rotate_keys

    app.config["BATCH_CHUNK_ROWS"] = 3
    batch = draft(world, many(8))
    batches.confirm(batch, actor_id=world.issuer_a.id)
    old = active_key(world.a, KeyAlgorithm.ED25519).key_id
    _after_the_first_chunk(monkeypatch, lambda: rotate_keys(world.a, installation_kek(app.config), None))
    assert tasks.run_batch(batch.id) == "done"
    new = active_key(world.a, KeyAlgorithm.ED25519).key_id
    methods = _verification_methods(batch.id)
    assert len(methods) == 8 and batches.pending_count(batch) == 0
    assert [m.rsplit("#", 1)[1] for m in methods] == [old] * 3 + [new] * 5


def test_the_last_key_compromised_while_a_batch_runs_stops_it_and_retry_finishes_it(world, app, monkeypatch):
    from badgehub.keys.models import KeyAlgorithm
    from badgehub.keys.service import active_key, declare_compromised, installation_kek, rotate_keys

    app.config["BATCH_CHUNK_ROWS"] = 3
    batch = draft(world, many(8))
    batches.confirm(batch, actor_id=world.issuer_a.id)
    key = active_key(world.a, KeyAlgorithm.ED25519)
    _after_the_first_chunk(monkeypatch, lambda: declare_compromised(key, dt.datetime.now(dt.UTC), None, "leaked"))
    assert tasks.run_batch(batch.id) == "failed"
    assert batch.error_code == "no_active_signing_key"  # worded on the batch page (web/labels.FAILURE_LABELS)
    assert credentials(batch.id) == 3 and batches.pending_count(batch) == 5
    monkeypatch.undo()
    rotate_keys(world.a, installation_kek(app.config), None, algorithms=[KeyAlgorithm.ED25519])
    batches.retry_failed(batch, actor_id=world.issuer_a.id)
    assert tasks.run_batch(batch.id) == "done"
    issued = db.session.scalars(select(IssuedCredential.recipient_email).where(IssuedCredential.batch_id == batch.id))
    assert sorted(issued) == sorted(f"p{i}@example.net" for i in range(8))


def _offer_of(message) -> tuple[str, list[str], str]:
    """The wallet offer link an award e-mail gives, what its QR code attachment decodes to, and its file name."""
    import io
    import re

    import zxingcpp
    from PIL import Image

    link = re.search(r"^(openid-credential-offer://\S+)\s*$", message.get_body(("plain",)).get_content(), re.MULTILINE)
    assert link, "the e-mail gives the offer link"
    [qr] = [part for part in message.iter_attachments() if part.get_filename().startswith("wallet-app-")]
    decoded = [result.text for result in zxingcpp.read_barcodes(Image.open(io.BytesIO(qr.get_content())))]
    return link.group(1), decoded, qr.get_filename()


def test_each_rows_email_carries_the_qr_code_drawn_with_its_signature(world, outbox):
    from urllib.parse import parse_qs, urlsplit

    from badgehub.issuing import parallel
    from badgehub.oid4vci.service import email_offer_credential

    parallel.shutdown()  # the registries cleared: whatever starts below is this batch's
    batch = draft(world, many(5))
    batches.confirm(batch, actor_id=world.issuer_a.id)
    db.session.commit()
    assert tasks.run_batch(batch.id) == "done"
    # The codes came with the signatures, from the signing processes: no QR process was started.
    assert parallel._POOL.get("pool") is not None and "pool" not in parallel._QR_POOL
    mailed = set()
    for message in outbox():
        link, decoded, filename = _offer_of(message)
        assert decoded == [link]
        code = parse_qs(urlsplit(link).query)["credential_offer_uri"][0].rsplit("/", 1)[1]
        credential = email_offer_credential(code, str(current_app.config["SECRET_KEY"]))
        assert credential is not None and credential.batch_id == batch.id
        assert filename == f"wallet-app-{credential.public_id}.png" and message["To"] == credential.recipient_email
        mailed.add(credential.public_id)
    assert len(mailed) == 5


def test_a_chunk_planned_again_draws_its_rows_qr_codes_when_it_stores_them(world, outbox):
    from badgehub.issuing import bulk
    from badgehub.issuing.service import signer_for
    from badgehub.mails.awards import award_mail

    batch = draft(world, many(4))
    batches.confirm(batch, actor_id=world.issuer_a.id)
    batches.start_running(batch)
    db.session.commit()
    signer, config = signer_for(world.a, current_app.config), current_app.config
    chunk = batches.plan_pending_rows(batch, signer=signer, config=config, limit=4)
    codes = bulk.QrCodes(lambda public_id: f"https://example.org/{public_id}", 6)
    bulk.start_signing(chunk.plan, signer, config=config, codes=codes)()
    drawn = chunk.plan.drawn_codes()
    assert sorted(drawn) == sorted(item.public_id for item in chunk.plan.planned)
    assert all(text == f"https://example.org/{public_id}" for public_id, (text, _png) in drawn.items())
    # Another run took the first row meanwhile: the rows differ from the plan's, which is dropped with its codes.
    first = db.session.scalar(select(BatchRow).where(BatchRow.batch_id == batch.id).order_by(BatchRow.number).limit(1))
    first.state = RowState.SKIPPED_INVALID
    db.session.flush()
    batches.store_pending_rows(batch, chunk, signer=signer, mailer=award_mail, config=config)
    db.session.commit()
    from badgehub.outbox.sender import deliver_pending

    deliver_pending(config=config)
    messages = outbox()
    assert len(messages) == 3
    for message in messages:
        link, decoded, _filename = _offer_of(message)
        assert link.startswith("openid-credential-offer://") and decoded == [link]
