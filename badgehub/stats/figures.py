"""The exact figures of the observatory as plain data: groups (lines), tables, the summary, and the rules of
what counts as formal education and of the privacy thresholds (the numbers; :mod:`badgehub.stats.privacy`
applies them)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Final

from badgehub.organisations.models import OrganisationType
from badgehub.stats.filters import Filters

THRESHOLD: Final = 5  # the privacy threshold (distinct learners), applied by badgehub.stats.privacy
ORGANISATION_THRESHOLD: Final = 3  # fewer contributing organisations: no public figure (business statistics)
FORMAL_TYPES: Final = frozenset({OrganisationType.SCHOOL, OrganisationType.UNIVERSITY,
                                 OrganisationType.TRAINING_CENTRE})
NO_AREA: Final = "none"


def is_formal(org_type: OrganisationType | str) -> bool:
    """True for formal education (schools, universities, training centres); the one place that says so."""
    return OrganisationType(org_type) in FORMAL_TYPES



@dataclass
class Group:
    """One line of a table: a number of credentials, and what is known of its distinct learners."""

    key: str
    label: str
    credentials: int = 0
    learners_low: int = 0  # the largest cell's learners: the group has at least this many
    learners_high: int = 0  # the sum of its cells' learners: it has at most this many
    enough_learners: bool = False  # at least THRESHOLD distinct learners (decided exactly)
    extra: dict[str, Any] = field(default_factory=dict)
    key_sum: int = 0  # the cell key: the sum of its credentials' record keys (modulo KEY_RANGE when used)
    organisations: set[int] = field(default_factory=set)  # the organisations that contribute to it

    def add(self, credentials: int, low: int, high: int, key_sum: int = 0,
            organisations: Iterable[int] = ()) -> None:
        self.credentials += credentials
        self.learners_low = max(self.learners_low, low)
        self.learners_high += high
        self.key_sum += key_sum
        self.organisations.update(organisations)


@dataclass
class Table:
    """One breakdown: a dataset name (stable, the open-data file name) and its groups in display order.

    ``partition``: every credential is in exactly one group (a total means something); otherwise a credential
    counts in each group it belongs to (a badge aligned to two competencies counts for both)."""

    name: str
    groups: list[Group]
    partition: bool
    total: Group | None = None  # the table's own total, when it is not the selection's credentials
    # Zeros withheld like small counts (recognition: every line is listed, so a line that were published only
    # when it is not zero would tell that it is not, and "withheld" would mean "at least one").
    withhold_zero: bool = False


@dataclass
class Summary:
    """The headline figures of a selection (exact), with the cell keys of the counts (sums of the record keys
    of the credentials, of the learners) for the cell-key method."""

    credentials: int
    learners: int
    learners_several_organisations: int
    learners_several_sectors: int
    organisations: int
    keys: dict[str, int] = field(default_factory=dict)


@dataclass
class Figures:
    """Everything the observatory shows for one territory and one selection, exact (privacy comes after)."""

    territory_slug: str
    territory_name: str
    filters: Filters
    months: tuple[int, int] | None  # first and last month with credentials in the selection
    summary: Summary
    tables: dict[str, Table]
    generated_at: dt.datetime | None
    span: tuple[int, int] | None = None  # first and last month with credentials of any member, whatever the filters
