"""Mail exactly once on every path that issues: the award form, a claim's confirmation, the API batch and the
CLI. Each runs in a child process killed with SIGKILL at one step (just before the commit that issues, just
after it, just after the hand-over to the SMTP server); then the sender's round runs, as after a restart.

Whatever the step, the credential and its e-mail exist together or not at all, and each person gets one e-mail
(two only when the crash fell between the hand-over and its mark, with the same ``Message-ID``).
"""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select

from badgehub.achievements.service import public_achievement
from badgehub.claims import service as claims
from badgehub.db import utcnow
from badgehub.extensions import db
from badgehub.issuing.models import IssuedCredential
from badgehub.outbox import sender
from badgehub.outbox.models import OutboxMessage
from badgehub.tokens import service as tokens
from tests.children import run_python
from tests.conftest import REPO_ROOT, TEST_KEK
from tests.factories import build_world
from tests.functional import test_mail_outbox

pytest.importorskip("aiosmtpd")

# The loopback SMTP server and the app that mails through it, as in the outbox's own tests.
smtp = test_mail_outbox.smtp
smtp_app = test_mail_outbox.smtp_app

# The child: the app from the environment, one step made fatal (SIGKILL, no clean-up of any kind), then one
# path that issues. It prints nothing; the parent reads the database and the SMTP server.
CHILD = """
import json, os, signal, sys
from sqlalchemy import event
from sqlalchemy.orm import Session
from badgehub import create_app
from badgehub.issuing.models import IssuedCredential
from badgehub.outbox import sender
from tests.conftest import csrf_token_from, sign_in

step, path, params = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
real_transmit = sender.transmit

def die():
    os.kill(os.getpid(), signal.SIGKILL)

def transmit(raw, config):
    if step == "before_transmit":
        die()
    real_transmit(raw, config)
    if step == "after_transmit":
        die()

@event.listens_for(Session, "after_flush")
def issuing(session, _context):
    if any(isinstance(obj, IssuedCredential) for obj in session.new):
        session.info["issues"] = True

# Session.commit, not the commit events: those fire for every SAVEPOINT released inside the award too.
real_commit = Session.commit

def commit(session):
    if step == "before_commit" and session.info.get("issues"):
        die()
    real_commit(session)
    if step == "after_commit" and session.info.get("issues"):
        die()

Session.commit = commit
sender.transmit = transmit
app = create_app()
client = app.test_client()
if path == "award_form":
    sign_in(client, params["issuer"])
    url = params["url"]
    html = client.get(url).get_data(as_text=True)
    import re
    key = re.search(r'name="idempotency_key"[^>]*value="([^"]+)"', html) or re.search(
        r'value="([^"]+)"[^>]*name="idempotency_key"', html)
    client.post(url, data={"csrf_token": csrf_token_from(html), "idempotency_key": key.group(1),
                           "recipient_email": params["emails"][0], "recipient_name": "Léa", "submit": "1"})
elif path == "claim":
    url = params["url"]
    html = client.get(url).get_data(as_text=True)
    client.post(url, data={"csrf_token": csrf_token_from(html), "submit": "1"})
elif path == "api_batch":
    items = [{"achievement": params["badge"], "recipient": {"email": email}, "idempotency_key": f"k-{email}"}
             for email in params["emails"]]
    client.post("/api/v1/credentials/batch", json={"items": items},
                headers={"Authorization": "Bearer " + params["token"]})
elif path == "cli":
    result = app.test_cli_runner().invoke(args=["issue", "--achievement", params["badge"], "--email",
                                                params["emails"][0]])
sys.exit(3)  # not killed: the step was never reached
"""

PATHS = ("award_form", "claim", "api_batch", "cli")
STEPS = ("before_commit", "after_commit", "after_transmit")


def _prepare(app: Flask, path: str) -> dict[str, Any]:
    """Build the world and what the path needs (committed); return the child's parameters."""
    with app.test_request_context():
        world = build_world()
        ids = world.ids()
        params: dict[str, Any] = {"badge": ids["repair"], "emails": ["lea@example.net"]}
        if path == "award_form":
            params.update(issuer=ids["issuer_a"], url=f"/organisations/{ids['a']}/achievements/{ids['repair']}/award")
        elif path == "claim":
            now = utcnow()
            campaign = claims.create_campaign(world.a, world.owner_a, claims.CampaignFields(
                achievement_public_id=ids["repair"], title="Atelier", opens_at=now - dt.timedelta(hours=1),
                closes_at=now + dt.timedelta(hours=3), max_claims=None), now=now)
            asked = claims.request_claim(campaign, "lea@example.net", "Léa")
            params["url"] = f"/claim/{campaign.short_code}/confirm/{asked.token}"
        elif path == "api_batch":
            _row, params["token"] = tokens.create_token(world.a, world.owner_a, name="CRM", scopes=tokens.SCOPES)
            params["emails"] = ["lea@example.net", "sam@example.net", "ada@example.net"]
        assert public_achievement(ids["repair"]) is not None
        db.session.commit()
    return params


def _run_child(app: Flask, tmp_path: Path, step: str, path: str, params: dict[str, Any]) -> int:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BADGEHUB_")}
    env.update(BADGEHUB_DATABASE_URL=app.config["SQLALCHEMY_DATABASE_URI"], BADGEHUB_SECRET_KEY="test",
               BADGEHUB_KEK=TEST_KEK, BADGEHUB_INSTANCE_PATH=str(tmp_path), BADGEHUB_BASE_URL="http://localhost",
               BADGEHUB_SMTP_HOST="127.0.0.1", BADGEHUB_SMTP_PORT=str(app.config["SMTP_PORT"]),
               BADGEHUB_MAIL_BACKEND="smtp", BADGEHUB_SMTP_SECURITY="none", BADGEHUB_LOG_LEVEL="ERROR",
               BADGEHUB_RATELIMIT_STORAGE_URI="memory://")
    returncode, output = run_python(CHILD, [step, path, json.dumps(params)], env, REPO_ROOT, timeout=180)
    assert returncode == -9, (returncode, output[-3000:])
    return returncode


@pytest.mark.parametrize("step", STEPS)
@pytest.mark.parametrize("path", PATHS)
def test_every_issuing_path_mails_each_person_exactly_once(smtp_app, smtp, tmp_path, path, step):
    collector, _port = smtp
    app = smtp_app
    params = _prepare(app, path)
    expected = sorted(params["emails"])
    _run_child(app, tmp_path, step, path, params)
    with app.app_context():
        issued = sorted(db.session.scalars(select(IssuedCredential.recipient_email)))
        queued = db.session.scalar(select(func.count()).select_from(OutboxMessage)
                                   .where(OutboxMessage.ref.startswith("credential:")))
    if step == "before_commit":
        # Nothing of the award was committed: neither the credential nor its e-mail.
        assert issued == [] and queued == 0 and collector.received == []
        return
    # The credentials and their e-mails were committed together.
    assert issued == expected and queued == len(expected)
    before = list(collector.received)
    assert len(before) == (1 if step == "after_transmit" else 0)
    test_mail_outbox._expire_claims(app)
    with app.app_context():
        sender.deliver_pending(config=app.config)
        assert sender.deliver_pending(config=app.config).sent == 0  # a restart sends only what is unsent
    recipients = sorted(rcpt for rcpts, _mid in collector.received for rcpt in rcpts)
    message_ids = [mid for _rcpts, mid in collector.received]
    assert sorted(set(recipients)) == expected
    assert len(set(message_ids)) == len(expected)
    # Only the message handed over at the very moment of the crash leaves twice, with its Message-ID.
    assert len(message_ids) == len(expected) + len(before)
    if before:
        assert message_ids.count(before[0][1]) == 2
