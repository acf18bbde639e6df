"""Outgoing e-mail: building messages, and handing them to SMTP when configured, otherwise writing one ``.eml``
file per message in the outbox folder. Every message goes through the database outbox first
(:mod:`badgehub.outbox`)."""

from __future__ import annotations

import logging
import os
import smtplib
import ssl
import time
import uuid
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import formatdate, make_msgid, parseaddr
from pathlib import Path
from typing import Any

from badgehub import events

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Attachment:
    filename: str
    content: bytes
    maintype: str
    subtype: str


@dataclass(frozen=True)
class Mail:
    to: str
    subject: str
    text: str
    html: str | None = None
    attachments: tuple[Attachment, ...] = field(default_factory=tuple)


class MailError(RuntimeError):
    """The message could not be handed to the mail server or written to the outbox."""


def new_message_id() -> str:
    """A fresh ``Message-ID`` for a message we send (one domain for every way a message is built)."""
    return make_msgid(domain="badgehub.local")


def build_message(mail: Mail, sender: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = mail.to
    message["Subject"] = mail.subject
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = new_message_id()
    message.set_content(mail.text)
    if mail.html:
        message.add_alternative(mail.html, subtype="html")
    for attachment in mail.attachments:
        message.add_attachment(attachment.content, maintype=attachment.maintype, subtype=attachment.subtype,
                               filename=attachment.filename)
    return message


def transmit(raw: bytes, config: Any) -> None:
    """Hand a complete message (as queued in the outbox) to the configured backend; raises :class:`MailError`."""
    from email import policy
    from email.parser import BytesParser

    backend = "smtp" if config["MAIL_BACKEND"] == "smtp" else "file"
    try:
        if backend == "smtp":
            headers = BytesParser(policy=policy.default).parsebytes(raw, headersonly=True)
            _send_smtp(raw, parseaddr(str(headers["From"]))[1], [parseaddr(str(headers["To"]))[1]], config)
        else:
            _write_outbox(raw, Path(config["OUTBOX_DIR"]))
    except MailError:
        events.mail_failed.send(backend=backend)
        raise
    events.mail_sent.send(backend=backend)
    # Log that a message left, never its content: it may hold a sign-in link.
    log.info("mail sent to a recipient")


def _write_outbox(raw: bytes, outbox: Path) -> None:
    try:
        outbox.mkdir(parents=True, exist_ok=True)
        # Nanosecond prefix: names sort in sending order.
        name = f"{time.time_ns()}-{uuid.uuid4().hex}.eml"
        tmp = outbox / f".{name}.tmp"
        tmp.write_bytes(raw)
        os.chmod(tmp, 0o600)
        tmp.replace(outbox / name)
    except OSError as exc:
        raise MailError(f"cannot write to the outbox {outbox}: {exc.strerror}") from exc


def _send_smtp(raw: bytes, sender: str, recipients: list[str], config: Any) -> None:
    # The bytes as queued, untouched: the Message-ID and every header are the ones the outbox kept.
    host, port, security = config["SMTP_HOST"], int(config["SMTP_PORT"]), config["SMTP_SECURITY"]
    try:
        if security == "ssl":
            client: smtplib.SMTP = smtplib.SMTP_SSL(host, port, timeout=20, context=ssl.create_default_context())
        else:
            client = smtplib.SMTP(host, port, timeout=20)
        with client:
            if security == "starttls":
                client.starttls(context=ssl.create_default_context())
            if config.get("SMTP_USERNAME"):
                client.login(config["SMTP_USERNAME"], config.get("SMTP_PASSWORD") or "")
            client.sendmail(sender, recipients, raw)
    except (OSError, smtplib.SMTPException) as exc:
        raise MailError(f"the mail server {host}:{port} refused or failed: {exc}") from exc


def read_outbox(outbox: Path) -> list[EmailMessage]:
    """Return the messages in the outbox, oldest first (for the demo, tests and local development)."""
    from email import policy
    from email.parser import BytesParser

    files = sorted(outbox.glob("*.eml"))
    parser = BytesParser(policy=policy.default)
    return [parser.parsebytes(path.read_bytes()) for path in files]
