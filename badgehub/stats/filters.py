"""The observatory's filters: a fixed geography of periods (whole months, quarters, years), a sector, a theme.

Free date windows are not offered: each would be one more figure to subtract from another (issue 14).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

from flask_babel import lazy_gettext as _l

from badgehub.catalogue.themes import themes_of
from badgehub.organisations.models import Sector
from badgehub.stats.errors import InvalidFilters
from badgehub.territory.models import Territory

PERIOD_RE: Final = re.compile(r"(\d{4})(?:-(?:(\d{2})|[Qq]([1-4])))?")


@dataclass(frozen=True)
class Filters:
    """What a visitor selects: a period (whole months ``yyyymm``, both ends included), a sector, a theme.

    Periods are a fixed geography: a whole month, quarter or year (``period``: ``2025-03``, ``2025-Q1``,
    ``2025``), or all the time there is (``period`` empty). Free windows are not offered: each of them would be
    one more figure to subtract from another."""

    start: int | None = None
    end: int | None = None
    sector: str = ""
    theme: str = ""
    period: str = ""

    def args(self) -> dict[str, str]:
        """The filters as URL arguments (empty ones left out)."""
        pairs = {"period": self.period, "sector": self.sector, "theme": self.theme}
        return {key: value for key, value in pairs.items() if value}


def format_month(month: int) -> str:
    """``202403`` → ``"2024-03"``."""
    return f"{month // 100:04d}-{month % 100:02d}"


def period_months(period: str) -> tuple[int, int, str]:
    """The first and last months of a period (``2025``, ``2025-Q2``, ``2025-03``) and its canonical spelling.
    Raises ValueError when it is none of these."""
    match = PERIOD_RE.fullmatch(period.strip())
    if match is None or not 1900 <= int(match.group(1)) <= 2999:
        raise ValueError(period)
    year = int(match.group(1)) * 100
    if match.group(2):
        month = int(match.group(2))
        if not 1 <= month <= 12:
            raise ValueError(period)
        return year + month, year + month, format_month(year + month)
    if match.group(3):
        quarter = int(match.group(3))
        return year + 3 * quarter - 2, year + 3 * quarter, f"{year // 100}-Q{quarter}"
    return year + 1, year + 12, str(year // 100)


def periods_between(first: int, last: int) -> dict[str, list[str]]:
    """The periods on offer for data from month ``first`` to month ``last`` (``yyyymm``), latest first: whole
    years, quarters and months, as ``period`` values."""
    years = list(range(last // 100, first // 100 - 1, -1))
    months = [month for year in years for month in range(year * 100 + 12, year * 100, -1) if first <= month <= last]
    quarters = [f"{month // 100}-Q{(month % 100 + 2) // 3}" for month in months]
    return {"years": [str(year) for year in years], "quarters": list(dict.fromkeys(quarters)),
            "months": [format_month(month) for month in months]}


def parse_filters(args: Mapping[str, Any], territory: Territory) -> Filters:
    """Read the filters from a query string. Raises :class:`InvalidFilters` whose ``details["fields"]`` says
    which one is wrong (``period``, ``sector``, ``theme``)."""
    def text(name: str) -> str:
        value = args.get(name, "")
        return value.strip()[:100] if isinstance(value, str) else ""

    errors: dict[str, Any] = {}
    start = end = None
    period = text("period")
    if text("from") or text("to"):
        errors["period"] = _l("Free periods are not offered: choose a whole month, quarter or year (2025-03, "
                              "2025-Q1 or 2025).")
    elif period:
        try:
            start, end, period = period_months(period)
        except ValueError:
            errors["period"] = _l("Give a month, a quarter or a year: 2025-03, 2025-Q1 or 2025.")
    sector = text("sector")
    if sector and sector not in {s.value for s in Sector}:
        errors["sector"] = _l("Choose one of the values offered.")
    theme = text("theme")
    if theme and theme not in {t.code for t in themes_of(territory)}:
        errors["theme"] = _l("Choose one of the values offered.")
    if errors:
        raise InvalidFilters(details={"fields": errors})
    return Filters(start, end, sector, theme, period if start is not None else "")
