"""The territory observatory: ``/t/<slug>/observatory`` (public, privacy rules applied), its open data, and
``/coordinate/<slug>/observatory`` (the territory's coordinators: exact figures and per-organisation detail).

Figures come from :func:`badgehub.stats.queries.observatory`, pass through
:func:`badgehub.stats.privacy.publish`, and are rendered or exported from that one published object. A
coordinator of another territory, like anybody else, gets 404 on the coordinators' pages.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass
from typing import Any

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import format_date, gettext
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from wtforms import StringField
from wtforms.validators import Optional as OptionalValue

from badgehub.audit.service import record
from badgehub.catalogue.themes import theme_name, themes_of
from badgehub.errors import NotFound, ValidationError
from badgehub.extensions import db, limiter, public_pages_limit
from badgehub.organisations.models import OrganisationType, Sector
from badgehub.stats import exports, queries, recognition
from badgehub.stats import service as stats
from badgehub.stats.errors import InvalidFilters, UnknownDataset
from badgehub.stats.privacy import (
    MAX_PERTURBATION,
    ORGANISATION_THRESHOLD,
    THRESHOLD,
    Published,
    PublishedCell,
    PublishedTable,
    publish,
)
from badgehub.territory import service as territories
from badgehub.territory.models import Territory
from badgehub.web import labels

bp = Blueprint("observatory", __name__)

CACHE_CONTROL = "public, max-age=300"

SECTIONS: dict[str, Any] = {
    "monthly": _l("Credentials issued per month"),
    "domains": _l("By domain"),
    "competencies": _l("By competency"),
    "themes": _l("By theme"),
    "sectors": _l("By sector of the issuing organisation"),
    "organisation_types": _l("By type of organisation"),
    "learning_settings": _l("Formal education and non-formal learning"),
    "areas": _l("By area"),
    "organisations": _l("By organisation"),
    "endorsements_given_sectors": _l("Endorsements given, by sector"),
    "endorsements_given_types": _l("Endorsements given, by type of organisation"),
    "endorsements_received_sectors": _l("Endorsements received, by sector"),
    "endorsements_received_types": _l("Endorsements received, by type of organisation"),
    "recognition_requests": _l("Recognition requests and their outcomes"),
    "pathway_completions": _l("Pathway completions, by sector of the pathway's owner"),
}
RECOGNITION_ORDER = tuple(recognition.TABLES)
UNITS: dict[str, Any] = {  # the column of figures, and what "< 5" counts, per kind of recognition unit
    recognition.ENDORSEMENT: (_l("Endorsements"), _l("fewer than %(threshold)s endorsements: not published")),
    recognition.REQUEST: (_l("Requests"), _l("fewer than %(threshold)s requests: not published")),
    recognition.COMPLETION: (_l("Completions"), _l("fewer than %(threshold)s learners: not published")),
}
CREDENTIAL_UNITS = (_l("Credentials"), _l("fewer than %(threshold)s learners: not published"))
REQUEST_STATES: dict[str, Any] = {
    "submitted": _l("Waiting for a decision"),
    "more_asked": _l("More evidence asked for"),
    "accepted": _l("Accepted"),
    "declined": _l("Declined"),
    "withdrawn": _l("Withdrawn"),
}
HEADINGS: dict[str, Any] = {
    "monthly": _l("Month"), "domains": _l("Domain"), "competencies": _l("Competency"), "themes": _l("Theme"),
    "sectors": _l("Sector"), "organisation_types": _l("Type of organisation"),
    "learning_settings": _l("Learning setting"), "areas": _l("Area"), "organisations": _l("Organisation"),
    "demand": _l("Competency"),
    "endorsements_given_sectors": _l("Sector of the endorser"),
    "endorsements_given_types": _l("Type of the endorser"),
    "endorsements_received_sectors": _l("Sector of the endorsed organisation"),
    "endorsements_received_types": _l("Type of the endorsed organisation"),
    "recognition_requests": _l("State"), "pathway_completions": _l("Sector of the owner"),
}
SETTING_LABELS: dict[str, Any] = {
    "formal": _l("Formal education (schools, universities, training centres)"),
    "non_formal": _l("Non-formal and informal learning (every other organisation)"),
}


def _actor() -> Any:
    return current_user._get_current_object()


def _month_label(key: str, *, short: bool = False) -> str:
    year, month = key.split("-")
    return str(format_date(dt.date(int(year), int(month), 1), "MMM yyyy" if short else "MMMM yyyy"))


def label_of(dataset: str, cell: PublishedCell) -> str:
    """The translated label of one line of a dataset (the exports' ``label`` column and the page)."""
    if dataset == "monthly":
        return _month_label(cell.key)
    line = recognition.TABLES[dataset][2] if dataset in recognition.TABLES else None  # sector, type or status
    if line is not None and cell.key == recognition.TERRITORY:
        return str(gettext("The territory itself"))
    if line == "status":
        return str(REQUEST_STATES.get(cell.key, cell.key))
    if dataset == "sectors" or line == "sector":
        return str(labels.label(Sector(cell.key)))
    if dataset == "organisation_types" or line == "type":
        return str(labels.label(OrganisationType(cell.key)))
    if dataset == "learning_settings":
        return str(SETTING_LABELS[cell.key])
    if dataset == "areas" and cell.key == queries.NO_AREA:
        return str(gettext("Not specified"))
    return cell.label


@dataclass(frozen=True)
class Row:
    """One line of a chart and its table, ready for the template."""

    label: str
    value: int | None
    text: str  # the figure as read: "1 234", "< 5" or "not published"
    percent: float  # bar length, 0–100, of the table's largest value
    hidden_publicly: bool
    extra: dict[str, Any]
    reason: str = ""  # why the public does not see it: "learners" or "organisations"


@dataclass(frozen=True)
class Section:
    name: str
    title: str
    rows: list[Row]
    total: int | None
    suppressed: int
    summary: str  # the text alternative of the chart
    heading: str  # the header of the table's first column
    unit: str = ""  # the header of the column of figures
    small: str = ""  # what a "< 5" line means, for its abbreviation
    empty: str = ""  # what an empty table says, when it counts something else than credentials

    @property
    def total_text(self) -> str:
        return _figure_text(self.total, "organisations")


def _figure_text(value: int | None, reason: str = "learners") -> str:
    if value is None:
        if reason == "organisations":
            return str(gettext("not published"))
        return str(gettext("< %(threshold)s", threshold=THRESHOLD))
    return f"{value:,}".replace(",", "\u202f")


def _section(name: str, table: PublishedTable) -> Section:
    top = table.maximum
    rows = [Row(label_of(name, cell), cell.value, _figure_text(cell.value, cell.reason),
                round(100 * (cell.value or 0) / top, 1) if top else 0.0, cell.hidden_publicly, cell.extra,
                cell.reason)
            for cell in table.cells]
    largest = max((r for r in rows if r.value is not None), key=lambda r: r.value or 0, default=None)
    unit, small = UNITS[recognition.TABLES[name][0]] if name in recognition.TABLES else CREDENTIAL_UNITS
    if largest is None:
        summary = gettext("No figure can be shown for this selection.")
    elif name in exports.RECOGNITION:
        summary = gettext("Largest: %(label)s, %(value)s.", label=largest.label, value=largest.text)
    else:
        summary = gettext("Largest: %(label)s, %(value)s credentials.", label=largest.label, value=largest.text)
    return Section(name, str(SECTIONS.get(name, name)), rows, table.total, table.suppressed_count, summary,
                   str(HEADINGS.get(name, "")), str(unit), str(small % {"threshold": THRESHOLD}),
                   str(gettext("Nothing in this selection.")) if name in exports.RECOGNITION else "")


def _territory(slug: str) -> Territory:
    return territories.get_territory_by_slug(slug)


def _coordinated(slug: str) -> Territory:
    territory = _territory(slug)
    # Someone who does not coordinate this territory learns nothing of it here, not even that the page exists.
    if not territories.is_coordinator(territory, _actor()):
        raise NotFound()
    return territory


def _published(territory: Territory, *, public: bool) -> tuple[Published | None, dict[str, Any]]:
    try:
        filters = queries.parse_filters(request.args, territory)
    except InvalidFilters as error:
        return None, dict(error.details.get("fields", {}))
    return publish(queries.observatory(territory, filters, detail=not public), public=public), {}


class LicenceForm(FlaskForm):
    licence = StringField(_l("Licence"))
    licence_url = StringField(_l("Address of the licence"), validators=[OptionalValue()])


def _page(territory: Territory, *, public: bool, form: LicenceForm | None = None, status: int = 200) -> Response:
    published, errors = _published(territory, public=public)
    if errors:
        status = 400
    sections = []
    recognised = []
    demand = None
    if published is not None:
        order = ["monthly", "domains", "competencies", "themes", "sectors", "organisation_types",
                 "learning_settings", "areas"] + ([] if public else ["organisations"])
        sections = [_section(name, published.tables[name]) for name in order]
        demand = _section("demand", published.tables["demand"])
        recognised = [_section(name, published.tables[name]) for name in RECOGNITION_ORDER]
    licence = stats.licence_of(territory)
    if form is None and not public:
        form = LicenceForm(formdata=None, data={"licence": licence[0], "licence_url": licence[1]})
    args = published.filters.args() if published is not None else {}
    body = render_template(
        "observatory/page.html", territory=territory, published=published, public=public, errors=errors,
        sections=sections, demand=demand, recognised=recognised, licence=licence, form=form, args=dict(request.args),
        filter_args=args,
        datasets=exports.DATASETS, sectors=list(Sector), themes=[(t.code, theme_name(t)) for t in themes_of(territory)],
        threshold=THRESHOLD, organisation_threshold=ORGANISATION_THRESHOLD, bound=MAX_PERTURBATION,
        period=exports.period_of(published) if published is not None else None,
        month_label=_month_label, periods=_periods(published))
    return Response(body, status=status, mimetype="text/html")


def _periods(published: Published | None) -> list[tuple[str, list[tuple[str, str]]]]:
    """The choices of the period filter, grouped (years, quarters, months), each as (value, label): the periods of
    the territory's data, and the chosen one even when it has none."""
    months = published.span if published is not None else None
    found = queries.periods_between(*months) if months else {"years": [], "quarters": [], "months": []}
    chosen = published.filters.period if published is not None else ""
    if chosen and chosen not in {p for values in found.values() for p in values}:
        kind = "months" if len(chosen) == 7 and "Q" not in chosen else "quarters" if "Q" in chosen else "years"
        found[kind].insert(0, chosen)
    groups = [
        (str(gettext("Years")), [(year, year) for year in found["years"]]),
        (str(gettext("Quarters")), [(q, str(gettext("Q%(quarter)s %(year)s", quarter=q[-1], year=q[:4])))
                                    for q in found["quarters"]]),
        (str(gettext("Months")), [(m, _month_label(m)) for m in found["months"]]),
    ]
    return [(label, choices) for label, choices in groups if choices]


@bp.get("/t/<slug>/observatory")
@limiter.limit(public_pages_limit)
def public_page(slug: str) -> ResponseReturnValue:
    return _page(_territory(slug), public=True)


def _open(body: str, mimetype: str) -> Response:
    """Public, cacheable, cross-origin open data with a strong ETag (304 when unchanged)."""
    data = body.encode("utf-8")
    response = Response(data, mimetype=mimetype)
    response.set_etag(hashlib.sha256(data).hexdigest())
    response.headers["Cache-Control"] = CACHE_CONTROL
    response.headers["Access-Control-Allow-Origin"] = "*"
    response.headers["Access-Control-Expose-Headers"] = "ETag"
    response.vary.add("Accept-Language")
    response.vary.add("Cookie")
    response.make_conditional(request)
    return response


def _published_or_400(territory: Territory, *, public: bool) -> Published:
    published, errors = _published(territory, public=public)
    if published is None:
        raise InvalidFilters(details={"fields": {k: str(v) for k, v in errors.items()}})
    return published


def _dataset(territory: Territory, name: str, fmt: str, *, public: bool) -> Response:
    if name not in exports.DATASETS and (public or name != "organisations"):
        raise UnknownDataset()
    published = _published_or_400(territory, public=public)
    if fmt == "csv":
        response = _open(exports.dataset_csv(published, name, label_of), "text/csv")
        response.headers["Content-Disposition"] = (
            f'attachment; filename="{territory.slug}-{name}{"" if public else "-exact"}.csv"')
        return response
    return _open(exports.dataset_json(published, name, label_of, stats.licence_of(territory)), "application/json")


@bp.get("/t/<slug>/observatory/<name>.csv")
@limiter.limit(public_pages_limit)
def dataset_csv(slug: str, name: str) -> ResponseReturnValue:
    return _dataset(_territory(slug), name, "csv", public=True)


@bp.get("/t/<slug>/observatory/<name>.json")
@limiter.limit(public_pages_limit)
def dataset_json(slug: str, name: str) -> ResponseReturnValue:
    if name in ("datasets", "dictionary"):
        return datasets_index(slug) if name == "datasets" else dictionary_json(slug)
    return _dataset(_territory(slug), name, "json", public=True)


def datasets_index(slug: str) -> Response:
    territory = _territory(slug)
    published = _published_or_400(territory, public=True)
    args = published.filters.args()
    document = {
        **exports.metadata(published, stats.licence_of(territory)),
        "dictionary": url_for("observatory.dictionary", slug=slug, _external=True),
        "datasets": [{"name": d.name, "title": str(d.title),
                      "csv": url_for("observatory.dataset_csv", slug=slug, name=d.name, _external=True, **args),
                      "json": url_for("observatory.dataset_json", slug=slug, name=d.name, _external=True, **args)}
                     for d in exports.DATASETS.values()],
    }
    return _open(_dumps(document), "application/json")


def dictionary_json(slug: str) -> Response:
    territory = _territory(slug)
    published = _published_or_400(territory, public=True)
    return _open(_dumps(exports.dictionary(published, stats.licence_of(territory))), "application/json")


def _dumps(document: Any) -> str:
    import json

    return json.dumps(document, ensure_ascii=False, indent=2)


@bp.get("/t/<slug>/observatory/dictionary")
@limiter.limit(public_pages_limit)
def dictionary(slug: str) -> ResponseReturnValue:
    territory = _territory(slug)
    published = _published_or_400(territory, public=True)
    return render_template("observatory/dictionary.html", territory=territory,
                           dictionary=exports.dictionary(published, stats.licence_of(territory)))


@bp.get("/coordinate/<slug>/observatory")
@login_required
def coordinator_page(slug: str) -> ResponseReturnValue:
    return _page(_coordinated(slug), public=False)


@bp.get("/coordinate/<slug>/observatory/<name>.csv")
@login_required
def coordinator_csv(slug: str, name: str) -> ResponseReturnValue:
    territory = _coordinated(slug)
    response = _dataset(territory, name, "csv", public=False)
    response.headers["Cache-Control"] = "private, no-store"
    response.headers.pop("Access-Control-Allow-Origin", None)
    record("observatory.exported", actor_id=_actor().id, territory_id=territory.id, subject_type="territory",
           subject_id=territory.id, details={"dataset": name, "filters": request.args.to_dict()})
    db.session.commit()
    return response


@bp.post("/coordinate/<slug>/observatory/licence")
@login_required
def licence(slug: str) -> ResponseReturnValue:
    territory = _coordinated(slug)
    form = LicenceForm()
    if not form.validate_on_submit():
        return _page(territory, public=False, form=form, status=400)
    try:
        stats.set_licence(territory, _actor(), form.licence.data or "", form.licence_url.data or "")
    except ValidationError as error:
        db.session.rollback()
        for field, message in error.details.get("fields", {}).items():
            form[field].errors = [*form[field].errors, message]
        return _page(territory, public=False, form=form, status=400)
    db.session.commit()
    flash(gettext("The licence of the open data was saved."), "success")
    return redirect(url_for("observatory.coordinator_page", slug=slug))
