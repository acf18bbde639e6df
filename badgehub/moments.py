"""How pages write a moment: the reader's language, and always the time zone it is told in.

Flask-Babel's ``datetimeformat`` writes English "short" moments as ``12/7/26, 6:16 AM``: ambiguous (7
December or 12 July?) and without a zone. Pages use this filter under the same name: the date in words
(``Dec 7, 2026`` / ``7 déc. 2026``), the time, and the zone's name (``UTC``, ``CET``). "long" and "full" keep
Babel's own patterns, which name the zone already.
"""

from __future__ import annotations

import datetime as dt

from flask import Flask
from flask_babel import format_date, format_datetime, format_time, get_timezone


def moment(value: dt.datetime | None, format: str = "medium") -> str:
    """``value`` as ``<medium date>, <short time> <zone>`` (or Babel's ``long``/``full`` pattern)."""
    if value is None:
        return ""
    if format in ("long", "full"):
        return str(format_datetime(value, format))
    return f"{format_date(value, 'medium')}, {time_with_zone(value)}"


def time_with_zone(value: dt.datetime) -> str:
    """The time of ``value`` without seconds, and the name of the zone it is told in: ``6:16 AM CET``."""
    zone = get_timezone()
    local = value.astimezone(zone) if value.tzinfo is not None else value
    return f"{format_time(value, 'short')} {local.tzname() or zone}"


def init_app(app: Flask) -> None:
    app.jinja_env.filters["datetimeformat"] = moment
