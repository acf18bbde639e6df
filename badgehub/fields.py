"""The one rule for each kind of field people type: a line, a block, a web address, an e-mail address and its key.

Every service, form and CSV reader uses these, so that the web form, the API, the CLI and a batch file agree:

* **line** (a title): runs of white space become one space; control characters are refused.
* **person's name**: a line that also refuses the invisible marks that reorder text (bidi controls), which
  could make a name shown to others read as something else.
* **tidy line** (a result, a note, a message that arrives by API or file and is kept, not refused): a line
  whose control characters are dropped instead of refused; a **tidy block** is the same for free text.
* **block** (a description): line breaks become LF; control characters other than tab and LF are refused.
* **web address**: ``http`` or ``https``, a host name with a dot, a valid port, no white space, at most
  :data:`MAX_URL` characters. Nothing is silently repaired: ``https://exa mple.org`` is refused.
* **e-mail address**: the syntax of ``email_validator`` (no DNS look-up), trimmed, at most
  :data:`MAX_EMAIL` characters.
* **e-mail key**: what makes two addresses the same person: trimmed and lower-cased.

Functions raise :class:`FieldError`, whose ``message`` is translated; :func:`check` records it against a
field name. The module imports neither Flask nor the database (the pure ``credentials`` package uses
:func:`email_key`); messages are made lazily, when a rule refuses something.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from typing import Any, Final, TypeVar
from urllib.parse import urlsplit

MAX_URL: Final = 500
"""Longest web address accepted."""
MAX_EMAIL: Final = 254
"""Longest e-mail address accepted (RFC 5321's path limit)."""

T = TypeVar("T")


def _l(text: str, **params: Any) -> Any:
    from flask_babel import lazy_gettext  # imported late: this module stays usable without Flask

    return lazy_gettext(text, **params)


class FieldError(ValueError):
    """A value refused by a field rule; ``message`` says why, in words for the person who typed it."""

    def __init__(self, message: Any) -> None:
        super().__init__(str(message))
        self.message = message


def _refused_characters(text: str, allowed: str = "") -> bool:
    return any(unicodedata.category(ch) in ("Cc", "Cs") and ch not in allowed for ch in text)


def _present(text: str, required: bool) -> bool:
    if not text and required:
        raise FieldError(_l("This field is required."))
    return bool(text)


def line(value: str | None, limit: int, *, required: bool = False) -> str:
    """One line of text with its white space collapsed; ``""`` when empty and not ``required``.
    Raises :class:`FieldError` when required and empty, for control characters, or beyond ``limit``."""
    text = " ".join((value or "").split())
    if not _present(text, required):
        return text
    if _refused_characters(text):
        raise FieldError(_l("Remove the invisible control characters from this field."))
    if len(text) > limit:
        raise FieldError(_l("Use at most %(limit)s characters.", limit=limit))
    return text


BIDI_CONTROLS: Final = frozenset("\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
"""The characters that change the direction of the text around them, refused in people's names."""


def person_name(value: str | None, limit: int, *, required: bool = False) -> str:
    """A :func:`line` naming a person (or a list they share): also refuses :data:`BIDI_CONTROLS`.
    Raises :class:`FieldError` like :func:`line`."""
    text = line(value, limit, required=required)
    if any(ch in BIDI_CONTROLS for ch in text):
        raise FieldError(_l("Remove the invisible control characters from this field."))
    return text


def tidy_line(value: str | None) -> str:
    """One line with control characters (and surrogates) dropped, then white space collapsed; refuses nothing
    (the caller checks the length): for text kept as sent rather than sent back to be fixed."""
    kept = "".join(ch for ch in (value or "") if not _refused_characters(ch))
    return " ".join(kept.split())


def tidy_block(value: str | None) -> str:
    """Free text with CR LF and CR made LF, control characters other than tab and LF dropped, and surrounding
    white space removed; refuses nothing (the caller checks the length), like :func:`tidy_line`."""
    text = (value or "").replace("\r\n", "\n").replace("\r", "\n")
    return "".join(ch for ch in text if not _refused_characters(ch, "\t\n")).strip()


def block(value: str | None, limit: int, *, required: bool = False) -> str:
    """Free text over several lines: CR LF and CR become LF, surrounding white space goes.
    Raises :class:`FieldError` when required and empty, for control characters other than tab and
    line feed, or beyond ``limit``."""
    text = (value or "").replace("\r\n", "\n").replace("\r", "\n").strip()
    if not _present(text, required):
        return text
    if _refused_characters(text, "\t\n"):
        raise FieldError(_l("Remove the invisible control characters from this field."))
    if len(text) > limit:
        raise FieldError(_l("Use at most %(limit)s characters.", limit=limit))
    return text


def web_address(value: str | None, *, required: bool = False) -> str | None:
    """An absolute ``http(s)`` address, trimmed; None when empty and not ``required``.
    Raises :class:`FieldError` for anything else (see the module's rule)."""
    text = (value or "").strip()
    if not _present(text, required):
        return None
    if len(text) > MAX_URL:
        raise FieldError(_l("Use at most %(limit)s characters.", limit=MAX_URL))
    parts = urlsplit(text)
    try:
        hostname = parts.hostname
        parts.port  # noqa: B018 (parsing the port raises on a malformed one)
    except ValueError:
        hostname = None
    if (parts.scheme not in ("http", "https") or not hostname or "." not in hostname.strip(".")
            or any(ch.isspace() for ch in text) or _refused_characters(text)):
        raise FieldError(_l("Give a full web address starting with https:// (or http://)."))
    return text


def email_address(value: str | None) -> str:
    """An e-mail address checked for syntax (no DNS look-up) and returned trimmed, in the normal form of
    ``email_validator``. Raises :class:`FieldError` for anything that is not one."""
    from email_validator import EmailNotValidError, validate_email

    candidate = (value or "").strip()
    if not candidate or len(candidate) > MAX_EMAIL:
        raise FieldError(_l("This does not look like an e-mail address."))
    try:
        return validate_email(candidate, check_deliverability=False).normalized
    except EmailNotValidError as exc:
        raise FieldError(_l("This does not look like an e-mail address.")) from exc


def email_key(email: str) -> str:
    """What makes two e-mail addresses the same person: surrounding spaces removed, the whole address
    lower-cased. Accounts, claims, wallets, batches and recipient hashes all compare by this key.

    Lower-casing the local part is not RFC 5321 strictness, but no mail provider our users meet treats
    ``Ana@x.org`` and ``ana@x.org`` as two people, and two accounts for one person is the worse failure.
    """
    return email.strip().lower()


def check(errors: dict[str, Any], field: str, rule: Callable[..., T], *args: Any, **kwargs: Any) -> T | None:
    """``rule(*args, **kwargs)``, or None with the refusal's message recorded as ``errors[field]``:
    services collect every wrong field at once, so a form can show them all."""
    try:
        return rule(*args, **kwargs)
    except FieldError as exc:
        errors[field] = exc.message
        return None
