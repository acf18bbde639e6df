"""What the recipient receives: the e-mail (language, links, attachment) and the baked images."""

from __future__ import annotations

import datetime as dt
from email.message import EmailMessage
from pathlib import Path

import pytest
from babel.dates import format_date

from badgehub.accounts.service import change_locale, create_user
from badgehub.credentials.baking import extract_from_png, extract_from_svg
from badgehub.issuing.errors import ImageFormatUnavailable
from badgehub.issuing.notify import baked_image, natural_format, recipient_locale
from badgehub.mail import MailError, read_outbox
from badgehub.mails.awards import notify_recipient
from badgehub.verification.pipeline import verify
from tests.conftest import links_in


def sent(ctx) -> list[EmailMessage]:
    return read_outbox(Path(ctx.config["OUTBOX_DIR"]))


def attachments(message: EmailMessage) -> list[tuple[str, str, bytes]]:
    return [(part.get_filename(), part.get_content_type(), part.get_content()) for part in message.iter_attachments()]


def test_the_recipient_gets_the_link_and_the_baked_badge(issue, ctx):
    credential = issue()
    notify_recipient(credential, ctx.config)
    [message] = sent(ctx)
    assert message["To"] == "lea@example.net"
    # The territory (Évry) speaks French by default.
    assert "Réparer une crevaison" in message["Subject"] and "awarded you" not in message["Subject"]
    links = links_in(message)
    assert f"http://localhost/c/{credential.public_id}" in links
    assert f"http://localhost/c/{credential.public_id}.json" in links
    assert any(link.startswith("http://localhost/keep/") for link in links)
    [(filename, media_type, data), wallet_app_qr] = attachments(message)
    assert (filename, media_type) == (f"badge-{credential.public_id}.png", "image/png")
    assert wallet_app_qr[:2] == (f"wallet-app-{credential.public_id}.png", "image/png")
    assert extract_from_png(data).payload == credential.document_json


def test_an_svg_badge_is_sent_baked_as_svg(issue, world, ctx, resolver):
    credential = issue(world.reading, actor_id=world.owner_b.id)
    notify_recipient(credential, ctx.config)
    [(filename, media_type, data), _wallet_app_qr] = attachments(sent(ctx)[0])
    assert (filename, media_type) == (f"badge-{credential.public_id}.svg", "image/svg+xml")
    assert extract_from_svg(data if isinstance(data, bytes) else data.encode()).payload == credential.document_json
    assert verify(data if isinstance(data, bytes) else data.encode(), resolver, dt.datetime.now(dt.UTC)).verified


def test_an_svg_badge_cannot_be_had_as_png(issue, world):
    credential = issue(world.reading, actor_id=world.owner_b.id)
    assert natural_format(credential) == "svg"
    with pytest.raises(ImageFormatUnavailable):
        baked_image(credential, "png")
    with pytest.raises(ImageFormatUnavailable):
        baked_image(credential, "gif")


def test_the_mail_speaks_the_recipients_language_when_they_chose_one(issue, ctx):
    user = create_user("lea@example.net", name="Léa", verified=True)
    change_locale(user, "en")
    credential = issue(email="LEA@example.net")
    assert recipient_locale(credential, ctx.config) == "en"
    notify_recipient(credential, ctx.config)
    message = sent(ctx)[0]
    assert message["Subject"] == "Atelier Vélo awarded you the badge “Réparer une crevaison”"
    body = message.get_body(preferencelist=("plain",)).get_content()
    assert body.startswith("Hello Léa Martin,")


def test_without_a_territory_the_installation_language_is_used(issue, world, ctx):
    from badgehub.territory.service import decide_membership, memberships_of

    decide_membership(memberships_of(world.a)[0], "remove", world.coordinator, "Départ")
    credential = issue()
    assert recipient_locale(credential, ctx.config) == ctx.config["BABEL_DEFAULT_LOCALE"]


def test_the_mail_says_until_when_a_badge_is_valid(issue, world, ctx):
    credential = issue(world.workshop)
    notify_recipient(credential, ctx.config)
    body = sent(ctx)[0].get_body(preferencelist=("plain",)).get_content()
    assert format_date(credential.valid_until, "long", locale="fr") in body


def test_a_mail_failure_is_raised_to_the_caller_and_the_credential_stays(issue, ctx):
    credential = issue()
    ctx.config["OUTBOX_DIR"] = Path("/proc/no-outbox-here")
    with pytest.raises(MailError):
        notify_recipient(credential, ctx.config)
    assert credential.id is not None
