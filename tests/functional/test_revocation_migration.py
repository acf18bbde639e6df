"""Migration i16_revocation: the reasons typed before it become private notes, the public reason "other"."""

from __future__ import annotations

from flask import current_app
from flask_migrate import downgrade, upgrade
from sqlalchemy import text

from badgehub.extensions import db
from badgehub.issuing import service as issuing
from tests.factories import build_world


def test_reasons_typed_before_become_private_notes(fresh_database, make_app, tmp_path):
    app = make_app(fresh_database(), tmp_path)
    with app.app_context():
        with app.test_request_context():
            world = build_world()
            credential = issuing.issue_credential(
                organisation=world.a, achievement=world.repair, recipient_email="lea@example.net",
                recipient_name="Léa", actor_id=None, source="cli", config=current_app.config)
            issuing.revoke_credential(credential, reason="error", note="x", actor_id=None, config=current_app.config)
            kept = issuing.issue_credential(organisation=world.a, achievement=world.repair,
                                            recipient_email="sam@example.net", recipient_name="Sam", actor_id=None,
                                            source="cli", config=current_app.config)
            revoked_id, kept_id = credential.id, kept.id
            db.session.commit()
        db.session.remove()
        downgrade(revision="i16_keep_links")
        # Before: the issuer's words in the one published column.
        db.session.execute(text("UPDATE issued_credentials SET revocation_reason = 'Donné à Léa par erreur' "
                                "WHERE id = :id"), {"id": revoked_id})
        db.session.commit()
        db.session.remove()
        upgrade()
        rows = dict(db.session.execute(text(
            "SELECT id, revocation_reason || '|' || COALESCE(revocation_note, '') FROM issued_credentials "
            "WHERE revocation_reason IS NOT NULL")).tuples().all())
        assert rows == {revoked_id: "other|Donné à Léa par erreur"}
        assert kept_id not in rows
        db.session.remove()
        db.engine.dispose()
