"""Open data: the published figures of a page as CSV and JSON datasets, and their data dictionary.

Exports are built from :class:`~badgehub.stats.privacy.Published`, the very object the public page renders,
so a file can never say more than the page. Stable names (the URLs are
``/t/<territory>/observatory/<dataset>.csv|.json``); labels come from the caller (translated in the web layer).
CSV cells that a spreadsheet would run as a formula (starting with ``= + - @``, a tab or a carriage return) are
prefixed with an apostrophe; CSV files start with a UTF-8 byte order mark, without which a spreadsheet set up
for French reads them in the wrong encoding.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final

from flask_babel import lazy_gettext as _l

from badgehub.stats import ptable
from badgehub.stats.errors import UnknownDataset
from badgehub.stats.figures import FORMAL_TYPES
from badgehub.stats.filters import format_month
from badgehub.stats.privacy import ORGANISATION_THRESHOLD, THRESHOLD, Published, PublishedCell
from badgehub.stats.recognition import TABLES as RECOGNITION_TABLES

Labeler = Callable[[str, PublishedCell], str]


@dataclass(frozen=True)
class Dataset:
    name: str
    title: Any
    description: Any
    code_meaning: Any


FIELD_DEFINITIONS: Final[dict[str, Any]] = {
    "code": _l("Stable code of the line (month YYYY-MM, competency or theme code, sector, area code…)."),
    "label": _l("Name of the line, in the language of the request."),
    "credentials": _l("Credentials issued (not revoked), with the noise of the cell-key method (at most 2 more or "
                      "2 fewer, the same every time); empty when suppressed."),
    "suppressed": _l("true when the line counts fewer than 5 distinct learners, or fewer than 3 organisations "
                     "contribute to it, and its figure is withheld."),
    "organisations": _l("Member organisations that declare they look for this competency."),
    "gap": _l("true when organisations look for this competency and fewer than 5 learners were recognised for it "
              "in the period, or fewer than 3 organisations recognised any."),
    "count": _l("Endorsements, recognition requests or pathway completions (see the dataset), with the noise of "
                "the cell-key method (at most 2 more or 2 fewer, the same every time); empty when suppressed."),
    "indicator": _l("Name of the headline figure."),
    "value": _l("The figure (with the noise of the cell-key method, or empty when suppressed)."),
}

DATASETS: Final[dict[str, Dataset]] = {d.name: d for d in (
    Dataset("summary", _l("Headline figures"),
            _l("Credentials, distinct learners, learners recognised by two organisations or more and by two "
               "sectors or more, active organisations, share of non-formal and informal learning (percent)."),
            _l("indicator")),
    Dataset("monthly", _l("Credentials issued per month"), _l("Every month of the period, empty ones included."),
            _l("month (YYYY-MM, UTC)")),
    Dataset("competencies", _l("Credentials by competency"),
            _l("A credential counts for each competency of the territory's framework its badge is aligned to."),
            _l("competency code")),
    Dataset("domains", _l("Credentials by domain"),
            _l("Domains are the top-level competencies of the framework; a credential counts once per domain."),
            _l("domain code")),
    Dataset("themes", _l("Credentials by theme"),
            _l("A credential counts for each theme its badge is tagged with."), _l("theme code")),
    Dataset("sectors", _l("Credentials by sector of the issuing organisation"), "", _l("sector")),
    Dataset("organisation_types", _l("Credentials by type of issuing organisation"), "", _l("organisation type")),
    Dataset("learning_settings", _l("Formal education and non-formal or informal learning"),
            _l("formal: issued by schools, universities and training centres; non_formal: by every other type "
               "of organisation."), _l("formal or non_formal")),
    Dataset("areas", _l("Credentials by area"),
            _l("The area recorded on the credential, else the area of the issuing organisation; none: neither "
               "is an area of the territory."), _l("area code, or none")),
    Dataset("demand", _l("Skills demand against supply"),
            _l("Per competency that member organisations look for: how many declare it, and the credentials "
               "issued for it in the period."), _l("competency code")),
    Dataset("endorsements_given_sectors", _l("Endorsements given, by sector of the endorsing organisation"),
            _l("Endorsements (of a badge, of an organisation, of a learner's credential) made by member "
               "organisations in the period; territory: made by the territory itself."),
            _l("sector, or territory")),
    Dataset("endorsements_given_types", _l("Endorsements given, by type of the endorsing organisation"),
            _l("The same endorsements, by type of the organisation that made them."),
            _l("organisation type, or territory")),
    Dataset("endorsements_received_sectors", _l("Endorsements received, by sector of the endorsed organisation"),
            _l("Endorsements of member organisations, of their badges and of the credentials they issued, made in "
               "the period (by anyone)."), _l("sector")),
    Dataset("endorsements_received_types", _l("Endorsements received, by type of the endorsed organisation"),
            _l("The same endorsements, by type of the organisation endorsed."), _l("organisation type")),
    Dataset("recognition_requests", _l("Recognition requests and their outcomes"),
            _l("Requests to member organisations to recognise learning, submitted in the period, by their state "
               "now: submitted (waiting), more_asked (more evidence asked for), accepted, declined, withdrawn (by "
               "the learner)."),
            _l("state")),
    Dataset("pathway_completions", _l("Pathway completions, by sector of the pathway's owner"),
            _l("Learners who completed a pathway in the period (a completion per learner and pathway); "
               "territory: pathways of the territory itself. Suppressed under 5 distinct learners."),
            _l("sector, or territory")),
)}
RECOGNITION: Final = frozenset(RECOGNITION_TABLES)

TABLE_FIELDS: Final = ["code", "label", "credentials", "suppressed"]
RECOGNITION_FIELDS: Final = ["code", "label", "count", "suppressed"]
DEMAND_FIELDS: Final = ["code", "label", "organisations", "credentials", "suppressed", "gap"]
SUMMARY_FIELDS: Final = ["indicator", "value", "suppressed"]
SUMMARY_INDICATORS: Final = ("credentials", "learners", "learners_several_organisations",
                             "learners_several_sectors", "organisations", "non_formal_percent")


def fields_of(name: str) -> list[str]:
    if name == "summary":
        return SUMMARY_FIELDS
    if name in RECOGNITION:
        return RECOGNITION_FIELDS
    return DEMAND_FIELDS if name == "demand" else TABLE_FIELDS


def rows_of(published: Published, name: str, labeler: Labeler) -> list[dict[str, Any]]:
    """The lines of dataset ``name`` as dicts (values: str, int, bool or None). Raises UnknownDataset."""
    if name not in DATASETS and name not in published.tables:
        raise UnknownDataset()
    if name == "summary":
        summary = published.summary
        return [{"indicator": indicator, "value": getattr(summary, indicator),
                 "suppressed": getattr(summary, indicator) is None} for indicator in SUMMARY_INDICATORS]
    rows = []
    for cell in published.tables[name].cells:
        row: dict[str, Any] = {"code": cell.key, "label": labeler(name, cell), "credentials": cell.value,
                               "count": cell.value, "suppressed": cell.suppressed}
        if name == "demand":
            row["organisations"] = cell.extra.get("organisations", 0)
            row["gap"] = bool(cell.extra.get("gap"))
        rows.append({key: row[key] for key in fields_of(name)})
    return rows


def period_of(published: Published) -> dict[str, str | None]:
    """The period the figures cover: the chosen month, quarter or year (``period``) and its first and last
    months, else (all the time there is) the first and last months with credentials."""
    start = published.filters.start or (published.months[0] if published.months else None)
    end = published.filters.end or (published.months[1] if published.months else None)
    return {"period": published.filters.period or None, "from": format_month(start) if start else None,
            "to": format_month(end) if end else None}


def suppression_rule() -> str:
    return str(_l("A figure counting fewer than %(threshold)s distinct learners, or to which fewer than "
                  "%(organisations)s organisations contribute, is withheld (shown as \"< %(threshold)s\", empty in "
                  "files). Every other count carries the noise of the cell-key method: at most %(bound)s more or "
                  "%(bound)s fewer than the true count, unbiased, and always the same for the same figure, so "
                  "asking again or averaging does not remove it. Totals are figures of their own, with their own "
                  "noise: they generally differ from the sum of the lines shown.", threshold=THRESHOLD,
                  organisations=ORGANISATION_THRESHOLD, bound=ptable.MAX_PERTURBATION))


def method() -> str:
    return str(_l(
        "Cell-key method, as used by the Australian Bureau of Statistics (TableBuilder) and the UK Office for "
        "National Statistics (census tables): every credential, every learner and every organisation gets a "
        "random record key when it is first counted; a figure's cell key is the sum of the record keys of what it "
        "counts, modulo %(range)s; the noise is read in the perturbation table below, whose probabilities for each "
        "true count are the maximum-entropy distribution with mean 0 and variance %(variance)s on -%(bound)s … "
        "+%(bound)s (Giessing 2016), the cell key choosing the slot. Periods are whole months, quarters and "
        "years only.",
        range=ptable.KEY_RANGE, variance=ptable.VARIANCE, bound=ptable.MAX_PERTURBATION))


def perturbation_table() -> list[dict[str, Any]]:
    """The published perturbation table: per true count (the last row is for that count and more), each
    perturbation with its probability and the cell keys that select it."""
    rows = []
    for row in ptable.table():
        lower = 0
        for value, probability, upper in zip(row.perturbations, row.probabilities, row.upper_keys, strict=True):
            if upper > lower:
                rows.append({"count": row.count, "count_or_more": row.count == ptable.MAX_PERTURBATION,
                             "perturbation": value, "probability": round(probability, 6),
                             "cell_keys": [lower, upper - 1]})
            lower = upper
    return rows


def disclosure_control() -> dict[str, Any]:
    """What every JSON file says about the protection of its figures."""
    return {"method": "cell-key", "threshold_learners": THRESHOLD, "threshold_organisations": ORGANISATION_THRESHOLD,
            "max_perturbation": ptable.MAX_PERTURBATION, "variance": ptable.VARIANCE, "key_range": ptable.KEY_RANGE,
            "rule": suppression_rule()}


def metadata(published: Published, licence: tuple[str, str]) -> dict[str, Any]:
    """What every JSON file says about its figures."""
    return {
        "territory": {"slug": published.territory_slug, "name": published.territory_name},
        "period": period_of(published),
        "filters": published.filters.args(),
        "generated_at": published.generated_at.isoformat().replace("+00:00", "Z")
        if published.generated_at else None,
        "licence": {"name": licence[0], "url": licence[1]},
        "suppression": disclosure_control(),
    }


def dataset_json(published: Published, name: str, labeler: Labeler, licence: tuple[str, str]) -> str:
    rows = rows_of(published, name, labeler)
    document = {"dataset": name, "title": str(DATASETS[name].title), **metadata(published, licence),
                "fields": fields_of(name), "rows": rows}
    return json.dumps(document, ensure_ascii=False, indent=2)


_DANGEROUS: Final = ("=", "+", "-", "@", "\t", "\r")


def _safe(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    text = str(value)
    return f"'{text}" if text.startswith(_DANGEROUS) else text


def rows_csv(rows: list[dict[str, Any]], fields: list[str]) -> str:
    """CSV text (RFC 4180, CRLF, starting with a byte order mark) of ``rows`` with a header line, every cell
    formula-safe."""
    buffer = io.StringIO()
    buffer.write("\ufeff")
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(fields)
    for row in rows:
        writer.writerow([_safe(row[key]) for key in fields])
    return buffer.getvalue()


def dataset_csv(published: Published, name: str, labeler: Labeler) -> str:
    return rows_csv(rows_of(published, name, labeler), fields_of(name))


def dictionary(published: Published, licence: tuple[str, str]) -> dict[str, Any]:
    """The data dictionary: datasets, fields, definitions, period, suppression rule, licence."""
    return {
        **metadata(published, licence),
        "definitions": {
            "counted_credentials": str(_l(
                "Credentials not revoked, issued by organisations that are approved members of the territory "
                "now (whenever they were issued); expired credentials count. Months are those of issue, in UTC.")),
            "learner": str(_l("A distinct recipient e-mail address (trimmed, lower-cased).")),
            "formal_education": str(_l("Organisations of type: %(types)s. Every other type is non-formal or "
                                       "informal learning.", types=", ".join(sorted(t.value for t in FORMAL_TYPES)))),
            "area": str(_l("The area recorded on the credential, else the issuing organisation's area.")),
            "pathways": str(_l("Learners holding credentials of two organisations or more (or of two sectors or "
                               "more) in the selection.")),
            "organisations_that_issued": str(_l(
                "Organisations with at least one counted credential in the selection. Published like every "
                "count: withheld when the selection's credentials are, else with the noise of the cell-key "
                "method (the organisations' own record keys).")),
            "recognition": str(_l(
                "Endorsements made, recognition requests (in their state now) and pathway completions, counted when "
                "they happen, by month, for the territory's approved members (now) and the territory itself. Each "
                "gets a random record key like a credential; a line is withheld when it counts fewer than "
                "%(threshold)s endorsements or requests (for completions: distinct learners) or when fewer than "
                "%(organisations)s organisations contribute (the territory itself counts as one), and otherwise "
                "carries the noise of the cell-key method. The sector filter narrows the organisations described; "
                "the theme filter does not apply to these datasets.", threshold=THRESHOLD,
                organisations=ORGANISATION_THRESHOLD)),
            "method": method(),
            "never_published": str(_l(
                "Never published: any figure of one organisation or one badge, names or addresses of people, "
                "figures for free date windows, and any figure with fewer than %(threshold)s learners or fewer "
                "than %(organisations)s contributing organisations. Coordinators of the territory see the exact "
                "figures of their own territory.", threshold=THRESHOLD, organisations=ORGANISATION_THRESHOLD)),
        },
        "perturbation_table": perturbation_table(),
        "fields": {name: str(text) for name, text in FIELD_DEFINITIONS.items()},
        "datasets": [{"name": d.name, "title": str(d.title), "description": str(d.description),
                      "code": str(d.code_meaning), "fields": fields_of(d.name)} for d in DATASETS.values()],
    }
