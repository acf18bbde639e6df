"""outbox.mime.render writes the message the email package writes: read back by the email parser, the same
headers, structure, texts and attachments, for any Unicode in the subject and bodies."""

from __future__ import annotations

import dataclasses
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from badgehub.mail import Attachment, Mail, build_message
from badgehub.outbox import mime

SENDER = "BadgeHub <noreply@badges.example.org>"
PNG = bytes(range(256)) * 40
# Texts as templates make them (no surrogates: they cannot be written in UTF-8 by either path).
TEXT = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=600)
LINES = st.lists(st.one_of(TEXT, st.text(alphabet="abc =.-\t", max_size=200), st.just("x" * 100)), max_size=8)


def _read(raw: bytes) -> EmailMessage:
    message = BytesParser(policy=policy.default).parsebytes(raw)
    assert isinstance(message, EmailMessage)
    return message


def _shape(message: EmailMessage) -> Any:
    """What a reader gets: the headers, then each part's type, file name and decoded content."""
    parts = []
    for part in message.walk():
        if part.is_multipart():
            parts.append(part.get_content_type())
        else:
            content = part.get_content()
            if isinstance(content, str):
                # The email package writes some long-lined texts in quoted-printable, which reads back with CRLF
                # line ends; the same text in base64 reads back as written. A reader sees the same lines.
                content = content.replace("\r\n", "\n")
            parts.append((part.get_content_type(), part.get_filename(), part.get_content_disposition(), content))
    return (str(message["From"]), str(message["To"]), str(message["Subject"]), parts)


def _both(mail: Mail) -> tuple[Any, Any, bytes]:
    message_id, raw = mime.render(mail, SENDER)
    ours = _read(raw)
    assert str(ours["Message-ID"]) == message_id
    assert ours["Date"] is not None and ours["MIME-Version"] == "1.0"
    reference = _read(build_message(mail, SENDER).as_bytes(policy=policy.SMTP))
    return _shape(ours), _shape(reference), raw


@settings(max_examples=200, deadline=None)
@given(subject=TEXT.filter(lambda s: "\0" not in s and s.splitlines() in ([], [s])), text=LINES, html=st.none() | LINES,
       attachments=st.integers(0, 2))
def test_render_reads_back_as_the_email_package_message(subject: str, text: list[str], html: list[str] | None,
                                                          attachments: int) -> None:
    files = (Attachment("badge-AbC123.png", PNG, "image", "png"),
             Attachment("wallet-app-AbC123.png", PNG[:999], "image", "png"))[:attachments]
    mail = Mail(to="lea.martin+badges@example.net", subject=subject, text="\n".join(text),
                html="\r\n".join(html) if html is not None else None, attachments=files)
    ours, reference, raw = _both(mail)
    assert ours == reference
    if not mime._fits(mail, SENDER):
        return
    assert all(len(line) <= 78 for line in raw.split(b"\r\n")), "lines stay within 78 characters"
    assert b"\n" not in raw.replace(b"\r\n", b"")


def test_an_award_mail_in_french_reads_back_the_same() -> None:
    mail = Mail(to="lea@example.net",
                subject="Atelier Vélo vous a décerné le badge «\u00a0Réparer une crevaison\u00a0»",
                text="Bonjour Léa,\n\nVoici votre badge : https://badges.example.org/c/" + "x" * 90 + "\n",
                html="<p>Bonjour Léa,</p>\n<p><a href=\"https://badges.example.org/c/x\">Voir</a></p>",
                attachments=(Attachment("badge-x.png", PNG, "image", "png"),))
    ours, reference, _raw = _both(mail)
    assert ours == reference


def test_what_the_fast_path_does_not_write_goes_through_the_email_package() -> None:
    for mail, sender in ((Mail(to="léa@exemple.fr", subject="Badge", text="Bonjour"), SENDER),
                         (Mail(to="lea@example.net", subject="Badge", text="Bonjour"), "Atelier Vélo <a@example.org>"),
                         (Mail(to="lea@example.net", subject="Badge", text="x",
                               attachments=(Attachment("badge été.png", PNG, "image", "png"),)), SENDER)):
        assert not mime._fits(mail, sender)
        message_id, raw = mime.render(mail, sender)
        assert str(_read(raw)["Message-ID"]) == message_id
        assert _shape(_read(raw))[1:] == _shape(_read(build_message(mail, sender).as_bytes(policy=policy.SMTP)))[1:]


def test_render_writes_every_field_of_a_mail() -> None:
    # A field added to Mail or Attachment reaches the e-mail through build_message only: render must learn it.
    assert {cls.__name__: {f.name for f in dataclasses.fields(cls)} for cls in (Mail, Attachment)} == mime.WRITTEN
