"""Migration i20_outbox_bodies: the messages queued before it keep their bytes, moved to a table of their own,
and back again on a downgrade."""

from __future__ import annotations

from flask import current_app
from flask_migrate import downgrade, upgrade
from sqlalchemy import text

from badgehub.extensions import db
from badgehub.mail import Mail
from badgehub.outbox import sender, service


def test_queued_messages_keep_their_bytes_across_the_migration(fresh_database, make_app, tmp_path):
    app = make_app(fresh_database(), tmp_path)
    with app.app_context():
        queued = service.queue(Mail(to="lea@example.net", subject="Bonjour", text="Votre badge."),
                               config=current_app.config)
        raw, queued_id = queued.message, queued.id
        db.session.commit()
        db.session.remove()
        downgrade(revision="i14_learner_years")
        assert db.session.execute(text("SELECT id, message FROM mail_outbox")).tuples().all() == [(queued_id, raw)]
        db.session.remove()
        upgrade()
        assert db.session.execute(text("SELECT outbox_id, raw FROM mail_outbox_bodies")).tuples().all() == [
            (queued_id, raw)]
        assert sender.deliver_pending(config=current_app.config).sent == 1
        # Deleting a message deletes its bytes.
        assert service.erase_personal_data({"lea@example.net"}, config=current_app.config) == 1
        db.session.commit()
        assert db.session.execute(text("SELECT count(*) FROM mail_outbox_bodies")).scalar() == 0
        db.session.remove()
        db.engine.dispose()
