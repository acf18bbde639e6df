"""The bytes of a message as the outbox keeps them, written directly for the common case.

Python's ``email`` package builds a message as objects (every header parsed into a structured value, every
part a message), then generates it: about 5 ms for an award e-mail (text, HTML, the baked badge and a QR code),
a fifth of a CSV row once the signatures run on the pool. :func:`render` writes the same message straight to
bytes when it is the usual kind: ASCII addresses and file names, any Unicode in the subject and bodies. The
structure is the one :func:`badgehub.mail.build_message` makes (``multipart/mixed`` around a
``multipart/alternative`` of the text and the HTML, then the attachments; or fewer levels when there is less),
each text in 7-bit when it is plain short-lined ASCII and in base64 UTF-8 otherwise, each attachment in base64,
the subject in UTF-8 encoded words when it is not plain ASCII. Anything else (a display name or an address with
non-ASCII characters, a subject with a line break) goes through the ``email`` package as before.

tests/unit/outbox/test_mime.py reads what both write with the ``email`` parser and compares every header, part,
text and attachment.
"""

from __future__ import annotations

import base64
import re
import secrets
from email import policy
from email.utils import formatdate
from typing import Final

from badgehub.mail import Mail, build_message, new_message_id

MAX_LINE: Final = 78
_PLAIN_HEADER: Final = re.compile(r"[\x20-\x7e]*")
_ADDRESS: Final = r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9.-]+"
_TO: Final = re.compile(_ADDRESS)
_FROM: Final = re.compile(rf"{_ADDRESS}|[A-Za-z0-9_-]+(?: [A-Za-z0-9_-]+)* <{_ADDRESS}>")
_SAFE_NAME: Final = re.compile(r"[A-Za-z0-9._-]+")
# Base64 characters per encoded word: "Subject: " and "=?utf-8?b?...?=" stay within a 78-character line.
_WORD: Final = 56
_MEDIA: Final = re.compile(r"[a-z0-9][a-z0-9.+-]*")
# What render writes of a Mail and of an Attachment: a field added there (a Reply-To, an inline image) is a
# field build_message writes and this module would drop; tests/unit/outbox/test_mime.py fails until it is here.
WRITTEN: Final = {"Mail": {"to", "subject", "text", "html", "attachments"},
                  "Attachment": {"filename", "content", "maintype", "subtype"}}


def render(mail: Mail, sender: str) -> tuple[str, bytes]:
    """The ``Message-ID`` and the RFC 5322 bytes (CRLF line ends) of ``mail`` sent from ``sender``."""
    if not _fits(mail, sender):
        message = build_message(mail, sender)
        return str(message["Message-ID"]), message.as_bytes(policy=policy.SMTP)
    message_id = new_message_id()
    headers = [f"From: {sender}", f"To: {mail.to}", _subject(mail.subject),
               f"Date: {formatdate(localtime=False)}", f"Message-ID: {message_id}", "MIME-Version: 1.0"]
    texts = [_text_part(mail.text, "plain")]
    if mail.html:
        texts.append(_text_part(mail.html, "html"))
    body = texts[0] if len(texts) == 1 else _multipart("alternative", texts)
    if mail.attachments:
        attachments = [_attachment(a.content, f"{a.maintype}/{a.subtype}", a.filename) for a in mail.attachments]
        body = _multipart("mixed", [body, *attachments])
    return message_id, "\r\n".join(headers).encode("ascii") + b"\r\n" + body


def _fits(mail: Mail, sender: str) -> bool:
    """Whether :func:`render` writes ``mail`` itself (else the ``email`` package does)."""
    addresses = bool(_FROM.fullmatch(sender)) and bool(_TO.fullmatch(mail.to))
    short = all(len(value) < MAX_LINE - 10 for value in (sender, mail.to))
    files = all(len(a.filename) < 60 and _SAFE_NAME.fullmatch(a.filename) and _MEDIA.fullmatch(a.maintype)
                and _MEDIA.fullmatch(a.subtype) for a in mail.attachments)
    # A subject with a line break of any kind is refused by the email package; one that starts with a space
    # loses it there (the reader gets it stripped): both are left to it, to behave as before.
    subject = mail.subject
    plain_subject = "\0" not in subject and subject.splitlines() in ([], [subject]) and not subject[:1].isspace()
    return addresses and short and files and plain_subject


def _subject(subject: str) -> str:
    line = f"Subject: {subject}"
    if _PLAIN_HEADER.fullmatch(subject) and len(line) <= MAX_LINE and "=?" not in subject \
            and subject == subject.strip() and "  " not in subject:
        return line
    # Encoded words on lines of at most 78 characters, never splitting a character's bytes, one per folded line.
    words, chunk = [], b""
    for character in subject:
        encoded = character.encode("utf-8")
        if len(base64.b64encode(chunk + encoded)) > _WORD:
            words.append(chunk)
            chunk = b""
        chunk += encoded
    words.append(chunk)
    return "Subject: " + "\r\n ".join(f"=?utf-8?b?{base64.b64encode(word).decode('ascii')}?=" for word in words)


def _text_part(text: str, subtype: str) -> bytes:
    # As the email package does: the text's lines (split on CR, LF or CRLF), each ended by a line break; 7-bit
    # when that is plain ASCII in short lines, else base64 of the UTF-8 (what it writes for most French texts).
    lines = text.encode("utf-8").splitlines()
    if all(len(line) <= MAX_LINE and line.isascii() for line in lines):
        encoding, body = "7bit", b"\r\n".join(lines) + b"\r\n"
    else:
        encoding = "base64"
        body = base64.encodebytes(b"\n".join(lines) + b"\n").replace(b"\n", b"\r\n")
    return (f'Content-Type: text/{subtype}; charset="utf-8"\r\nContent-Transfer-Encoding: {encoding}\r\n\r\n'
            .encode("ascii") + body)


def _attachment(content: bytes, media_type: str, filename: str) -> bytes:
    return (f'Content-Type: {media_type}\r\nContent-Transfer-Encoding: base64\r\n'
            f'Content-Disposition: attachment; filename="{filename}"\r\n\r\n'.encode("ascii")
            + base64.encodebytes(content).replace(b"\n", b"\r\n"))


def _multipart(subtype: str, parts: list[bytes]) -> bytes:
    boundary = "=_" + secrets.token_hex(12)
    marker = boundary.encode("ascii")
    while any(marker in part for part in parts):  # pragma: no cover - 96 random bits
        boundary = "=_" + secrets.token_hex(12)
        marker = boundary.encode("ascii")
    head = f'Content-Type: multipart/{subtype}; boundary="{boundary}"\r\n\r\n'.encode("ascii")
    inner = b"".join(b"--" + marker + b"\r\n" + part + b"\r\n" for part in parts)
    return head + inner + b"--" + marker + b"--\r\n"
