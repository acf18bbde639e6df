"""What a batch says to people: why a file was refused, a row's problems in the reader's language, and the
column a problem belongs to."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from flask_babel.speaklater import LazyString

from badgehub.issuing import csv_rows


def refusal_message(error: csv_rows.CsvRefused) -> Any:
    """The sentence that tells a person why their file was refused and what to do."""
    p = error.params
    if error.code == "too_large":
        return _l("The file is larger than %(size)s MB. Split it into smaller files.",
                  size=f"{p['max_bytes'] / (1024 * 1024):g}")
    if error.code == "empty":
        return _l("The file is empty.")
    if error.code == "not_text" and p.get("kind") == "spreadsheet":
        return _l("This is a spreadsheet file, not a CSV file. In your spreadsheet, use “Save as” and choose "
                  "the CSV format, then upload that file.")
    if error.code == "not_text":
        return _l("This file is not a CSV text file. Upload a CSV file, or paste the list.")
    if error.code == "too_many_rows":
        return _l("The file has more than %(max)s participants. Split it into several files.", max=p["max_rows"])
    if error.code == "line_too_long":
        return _l("Line %(line)s is longer than %(max)s characters: this does not look like a list of "
                  "participants.", line=p["line"], max=p["max_line"])
    if error.code == "malformed":
        return _l("Line %(line)s cannot be read as CSV: check its quotation marks.", line=p["line"])
    if error.code == "missing_email_column":
        return _l("No column gives the e-mail addresses. Columns found: %(found)s. Columns understood: "
                  "%(expected)s (only the e-mail is required; French names work too).",
                  found=", ".join(p["found"]) or "—", expected=", ".join(p["expected"]))
    if error.code == "duplicate_column":
        return _l("Two columns give the same information: %(headers)s. Keep one of them.",
                  headers=", ".join(p["headers"]))
    return _l("This file cannot be read as a list of participants.")  # pragma: no cover - every code above


def rule_problem(message: Any) -> dict[str, Any]:
    """An award rule's message, stored so that it can be said again in the reader's language: the sentence
    of the catalogue and its values (a lazy string carries both), not its text in the uploader's language."""
    if isinstance(message, LazyString) and message._args and isinstance(message._args[0], str):
        values = {k: v for k, v in message._kwargs.items() if isinstance(v, (str, int, float))}
        return {"code": "rule", "message_id": message._args[0], "params": values}
    return {"code": "invalid", "message": str(message)}


def problem_text(problem: Mapping[str, Any]) -> str:
    """A row problem as a sentence in the current language (award rules are stored as their catalogue
    sentence, :func:`rule_problem`; rows stored before that keep the text they came with)."""
    code = problem.get("code")
    params = problem.get("params") or {}
    if code == "not_a_date":
        return str(_l("“%(value)s” is not a date: write 2025-03-31 or 31/03/2025.", value=params.get("value", "")))
    if code == "unknown_area":
        return str(_l("“%(value)s” is not an area of your territories.", value=params.get("value", "")))
    if code == "duplicate_in_file":
        return str(_l("This address is already on row %(row)s.", row=params.get("row", "?")))
    if code == "rule" and isinstance(problem.get("message_id"), str):
        return str(gettext(problem["message_id"], **params))
    return str(problem.get("message") or _l("This value is not valid."))


def column_label(name: str | None) -> str:
    """The column a problem belongs to, in words."""
    labels = {
        "recipient_email": _l("E-mail"), "recipient_name": _l("Name"), "activity_start": _l("Date"),
        "activity_end": _l("End date"), "evidence_url": _l("Evidence"), "narrative": _l("Narrative"),
        "area": _l("Area"), "result": _l("Result"),
    }
    return str(labels.get(name or "", _l("Row")))
