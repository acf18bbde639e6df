"""The observatory through HTTP: the public page and its open data (privacy rules applied, the same figures in
every form), the coordinators' page (exact, their territory only), the licence setting."""

from __future__ import annotations

import csv
import html as html_lib
import io
import json
import re
from typing import Any

import pytest
from flask import current_app
from sqlalchemy import select

from badgehub.audit.models import AuditEvent
from badgehub.extensions import db
from badgehub.issuing import service as issuing
from badgehub.stats import queries
from badgehub.stats.exports import DATASETS
from badgehub.territory.models import Area
from tests.conftest import sign_in, token_of
from tests.unit.stats.dataset import MONTH, build_dataset

TRICKY_AREA = "=HYPERLINK(\"http://evil.example\")"


def build_observatory_data() -> dict[str, Any]:
    dataset = build_dataset()
    world = dataset.world
    area = Area(territory_id=world.territory.id, code="piege", name=TRICKY_AREA)
    db.session.add(area)
    db.session.flush()
    issuing.issue_credential(organisation=world.a, achievement=world.workshop, recipient_email="z@example.org",
                             recipient_name="", actor_id=None, source="cli", area_id=area.id, now=MONTH[3],
                             config=current_app.config)
    return dataset.ids()


@pytest.fixture
def data(snapshot: Any) -> dict[str, Any]:
    # Built once per test process (about 2 s); the observatory's in-memory caches start empty for each test.
    queries.clear_cache()
    return snapshot(build_observatory_data)


def page_tables(html: str) -> dict[str, dict[str, str]]:
    """Every table of the page by section id: row label → figure as shown."""
    tables = {}
    for match in re.finditer(r'<section class="obs-section" aria-labelledby="section-([a-z_]+)">(.*?)</section>',
                             html, re.S):
        table = {}
        for row in re.findall(r"<tr>(.*?)</tr>", match.group(2), re.S):
            label = re.search(r'<th scope="row">(.*?)</th>', row, re.S)
            figures = re.findall(r'<td class="num">(?:<abbr[^>]*>)?([^<]*)', row)
            if label and figures and "Total" not in label.group(1):  # the credentials are the last figure
                table[html_lib.unescape(label.group(1).strip())] = html_lib.unescape(figures[-1].strip())
        tables[match.group(1)] = table
    return tables


def shown(value: int | None) -> str:
    return "withheld" if value is None else f"{value:,}".replace(",", "\u202f")


WITHHELD = {"< 5": "withheld", "not published": "withheld"}


def test_public_page_withholds_what_fewer_than_three_organisations_make(client, data):
    response = client.get(f"/t/{data['territory']}/observatory")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    tables = page_tables(html)
    # Every competency and month of the dataset comes from one or two of its three organisations.
    assert tables["competencies"] == {"Réparer": "not published", "Lire": "not published",
                                      "Animer": "not published"}
    assert tables["monthly"]["January 2025"] == "not published"
    assert "cannot remove it" in html  # the page says how the figures are protected
    assert "<svg" in html and "<caption>" in html and 'scope="col"' in html
    assert "style=" not in html  # the CSP forbids inline styles: charts are sized by SVG attributes
    assert "Collège Jean Moulin" not in html and "Atelier Vélo" not in html  # never per-organisation detail
    assert "Gap: few learning opportunities" in html


def test_public_page_never_serves_the_per_organisation_table(client, data):
    assert client.get(f"/t/{data['territory']}/observatory/organisations.csv").status_code == 404
    assert client.get(f"/t/{data['territory']}/observatory/organisations.json").status_code == 404


def test_every_export_parses_and_says_exactly_what_the_page_shows(client, data):
    args = "?period=2025-Q1&sector=community"
    page = page_tables(client.get(f"/t/{data['territory']}/observatory{args}").get_data(as_text=True))
    for name in DATASETS:
        as_json = client.get(f"/t/{data['territory']}/observatory/{name}.json{args}")
        as_csv = client.get(f"/t/{data['territory']}/observatory/{name}.csv{args}")
        assert as_json.status_code == as_csv.status_code == 200, name
        assert as_csv.mimetype == "text/csv" and as_json.mimetype == "application/json"
        document = json.loads(as_json.get_data(as_text=True))
        assert as_csv.get_data().startswith(b"\xef\xbb\xbf")  # a BOM: French spreadsheets read UTF-8 then
        assert as_csv.headers["Content-Type"] == "text/csv; charset=utf-8"
        rows = list(csv.DictReader(io.StringIO(as_csv.get_data(as_text=True).removeprefix("\ufeff"))))
        assert document["fields"] == list(rows[0].keys()) if rows else True
        assert document["licence"]["name"] == "Licence Ouverte 2.0"
        assert document["period"] == {"period": "2025-Q1", "from": "2025-01", "to": "2025-03"}
        assert document["suppression"]["threshold_learners"] == 5
        assert document["suppression"]["threshold_organisations"] == 3
        assert len(rows) == len(document["rows"])
        for from_csv, from_json in zip(rows, document["rows"], strict=True):
            for key, value in from_json.items():
                expected = "" if value is None else ("true" if value is True else "false" if value is False
                                                     else str(value))
                assert from_csv[key].lstrip("'") == expected, (name, key)
        if name in page:
            assert {row["label"]: shown(row.get("credentials", row.get("count"))) for row in document["rows"]} == {
                label: WITHHELD.get(text, text) for label, text in page[name].items()}, name


def test_csv_cells_cannot_run_as_spreadsheet_formulas(client, data):
    body = client.get(f"/t/{data['territory']}/observatory/areas.csv").get_data(as_text=True).removeprefix("\ufeff")
    labels = [row["label"] for row in csv.DictReader(io.StringIO(body))]
    assert "'" + TRICKY_AREA in labels
    assert not any(label.startswith(("=", "+", "-", "@")) for label in labels)


def test_open_data_is_cacheable_and_open_to_every_origin(client, data):
    url = f"/t/{data['territory']}/observatory/monthly.json"
    first = client.get(url)
    assert first.headers["Access-Control-Allow-Origin"] == "*"
    assert first.headers["ETag"] and "max-age" in first.headers["Cache-Control"]
    again = client.get(url, headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304


def test_index_and_dictionary_describe_every_dataset(client, data):
    index = client.get(f"/t/{data['territory']}/observatory/datasets.json").get_json()
    assert [d["name"] for d in index["datasets"]] == list(DATASETS)
    assert all(d["csv"].endswith(".csv") and d["json"].endswith(".json") for d in index["datasets"])
    dictionary = client.get(f"/t/{data['territory']}/observatory/dictionary.json").get_json()
    assert dictionary["licence"]["name"] == "Licence Ouverte 2.0"
    assert dictionary["generated_at"] and dictionary["suppression"]["max_perturbation"] == 2
    assert dictionary["suppression"]["method"] == "cell-key" and "Giessing" in dictionary["definitions"]["method"]
    table = dictionary["perturbation_table"]
    for count in {row["count"] for row in table}:  # each row of the published table is unbiased and complete
        rows = [row for row in table if row["count"] == count]
        assert abs(sum(r["probability"] * r["perturbation"] for r in rows)) < 1e-5
        assert sum(r["cell_keys"][1] - r["cell_keys"][0] + 1 for r in rows) == dictionary["suppression"]["key_range"]
    assert {"code", "credentials", "suppressed", "gap"} <= set(dictionary["fields"])
    assert "school" in dictionary["definitions"]["formal_education"]
    page = client.get(f"/t/{data['territory']}/observatory/dictionary")
    assert page.status_code == 200 and "Licence Ouverte 2.0" in page.get_data(as_text=True)


@pytest.mark.parametrize("args", ["?period=2025-13", "?period=2025-Q9", "?from=2025-01&to=2025-03", "?to=2025-01",
                                  "?sector=moon", "?theme=%3Cscript%3E"])
def test_malformed_filters_get_a_clear_400(client, data, args):
    response = client.get(f"/t/{data['territory']}/observatory{args}")
    assert response.status_code == 400
    assert "Please correct the filters marked below." in response.get_data(as_text=True)
    assert client.get(f"/t/{data['territory']}/observatory/monthly.csv{args}").status_code == 400


def test_unknown_territory_or_dataset_is_404(client, data):
    assert client.get("/t/nowhere/observatory").status_code == 404
    assert client.get(f"/t/{data['territory']}/observatory/secrets.csv").status_code == 404


def test_the_territory_page_links_to_its_observatory(client, data):
    html = client.get(f"/t/{data['territory']}").get_data(as_text=True)
    assert f'href="/t/{data["territory"]}/observatory"' in html


def test_coordinators_see_exact_figures_and_organisations(client, data):
    sign_in(client, data["coordinator"])
    response = client.get(f"/coordinate/{data['territory']}/observatory")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    tables = page_tables(html)
    assert tables["competencies"] == {"Réparer": "8", "Lire": "7", "Animer": "4"}
    assert tables["organisations"] == {"Atelier Vélo": "12", "Bibliothèque": "7", "Collège Jean Moulin": "5"}
    assert "hidden (fewer than 3 organisations)" in html
    exact = client.get(f"/coordinate/{data['territory']}/observatory/organisations.csv")
    assert exact.status_code == 200 and "Collège Jean Moulin" in exact.get_data(as_text=True)
    assert exact.headers["Cache-Control"] == "private, no-store"
    assert "Access-Control-Allow-Origin" not in exact.headers
    with client.application.app_context():
        assert db.session.scalar(select(AuditEvent.id).where(AuditEvent.action == "observatory.exported"))


def test_a_coordinator_of_another_territory_sees_nothing_of_this_one(client, data):
    sign_in(client, data["other_coordinator"])
    assert client.get(f"/coordinate/{data['territory']}/observatory").status_code == 404
    assert client.get(f"/coordinate/{data['territory']}/observatory/organisations.csv").status_code == 404
    assert client.get(f"/coordinate/{data['territory']}/observatory/monthly.csv").status_code == 404
    own = client.get(f"/coordinate/{data['other']}/observatory")
    assert own.status_code == 200 and "Atelier Vélo" not in own.get_data(as_text=True)
    for user in ("owner_a", "issuer_a"):  # organisation staff are not coordinators either
        sign_in(client, data[user])
        assert client.get(f"/coordinate/{data['territory']}/observatory").status_code == 404


def test_signed_out_visitors_are_sent_to_sign_in(client, data):
    response = client.get(f"/coordinate/{data['territory']}/observatory")
    assert response.status_code == 302 and "/sign-in" in response.headers["Location"]


def test_coordinators_set_the_licence_of_their_open_data(client, data):
    sign_in(client, data["coordinator"])
    url = f"/coordinate/{data['territory']}/observatory"
    token = token_of(client, url)
    bad = client.post(f"{url}/licence", data={"csrf_token": token, "licence": "CC BY 4.0", "licence_url": "ftp://x"})
    assert bad.status_code == 400 and "https://" in bad.get_data(as_text=True)
    done = client.post(f"{url}/licence", data={"csrf_token": token, "licence": "CC BY 4.0",
                                                "licence_url": "https://creativecommons.org/licenses/by/4.0/"})
    assert done.status_code == 302
    document = client.get(f"/t/{data['territory']}/observatory/summary.json").get_json()
    assert document["licence"] == {"name": "CC BY 4.0", "url": "https://creativecommons.org/licenses/by/4.0/"}
    sign_in(client, data["other_coordinator"])
    assert client.post(f"{url}/licence", data={"csrf_token": token, "licence": "Mine"}).status_code == 404


def test_asking_again_gives_the_same_figures_in_every_form(client, data):
    # The averaging attack through the public surface: the same figure, asked again from a fresh process (caches
    # cleared), by the page, the JSON and the CSV, always carries the same noise.
    base = f"/t/{data['territory']}/observatory"
    seen: dict[str, set[Any]] = {"json": set(), "csv": set(), "page": set()}
    for _ in range(3):
        queries.clear_cache()
        seen["json"].add(client.get(f"{base}/summary.json?period=2025").get_data())
        queries.clear_cache()
        seen["csv"].add(client.get(f"{base}/summary.csv").get_data())
        queries.clear_cache()
        html = client.get(f"{base}?period=2025").get_data(as_text=True)
        seen["page"].add(re.search(r'<dl class="obs-kpis".*?</dl>', html, re.S).group(0))
    assert all(len(bodies) == 1 for bodies in seen.values()), {k: len(v) for k, v in seen.items()}
    # All the time there is and the year 2025 are the same credentials here: the same figure, the same noise.
    year = json.loads(next(iter(seen["json"])))["rows"]
    everything = client.get(f"{base}/summary.json").get_json()["rows"]
    assert year[0] == everything[0] and year[0]["indicator"] == "credentials" and year[0]["value"] is not None


def test_the_period_filter_offers_the_years_quarters_and_months_of_the_data(client, data):
    html = client.get(f"/t/{data['territory']}/observatory?period=2025-Q1").get_data(as_text=True)
    options = re.findall(r'<option value="(20[0-9-Q]+)" ?(selected)?>', html)
    assert [value for value, _ in options] == ["2025", "2025-Q1", "2025-03", "2025-02", "2025-01"]
    assert [value for value, chosen in options if chosen] == ["2025-Q1"]
    # A valid period without data is offered too, chosen, rather than silently dropped.
    html = client.get(f"/t/{data['territory']}/observatory?period=2019").get_data(as_text=True)
    assert '<option value="2019" selected>' in html


def test_figures_are_written_in_the_reader_s_language_83_percent_with_its_space(client, data):
    # Issue 16: the share of non-formal learning read "83%" in French too, where a space goes before the sign.
    sign_in(client, data["coordinator"])
    url = f"/coordinate/{data['territory']}/observatory"
    for locale, percent in (("en", r"^\d+%$"), ("fr", "^\\d+[\u00a0\u202f]%$")):
        client.post("/language", data={"locale": locale, "next": url, "csrf_token": token_of(client, url)})
        html = client.get(url).get_data(as_text=True)
        kpis = re.search(r'<dl class="obs-kpis".*?</dl>', html, re.S)
        assert kpis is not None
        figures = [html_lib.unescape(value).strip() for value in re.findall(r"<dd>(.*?)</dd>", kpis.group(0), re.S)]
        assert [figure for figure in figures if re.match(percent, figure)], (locale, figures)


@pytest.fixture
def recognised(snapshot: Any) -> dict[str, Any]:
    queries.clear_cache()
    return snapshot(build_recognised)


def build_recognised() -> dict[str, Any]:
    from tests.unit.stats.generated import build_generated
    from tests.unit.stats.recognition_generated import send_recognition

    generated = build_generated()
    send_recognition(generated)
    return {"territory": generated.territory.slug}


def test_recognition_shows_on_the_page_and_in_the_open_data_alike(client, recognised):
    from badgehub.stats.exports import RECOGNITION

    territory = recognised["territory"]
    for args in ("", "?period=2025", "?period=2025-Q2&sector=community"):
        html = client.get(f"/t/{territory}/observatory{args}").get_data(as_text=True)
        page = page_tables(html)
        assert "Recognition" in html
        for name in RECOGNITION:
            document = client.get(f"/t/{territory}/observatory/{name}.json{args}").get_json()
            body = client.get(f"/t/{territory}/observatory/{name}.csv{args}").get_data(as_text=True)
            rows = list(csv.DictReader(io.StringIO(body.removeprefix("\ufeff"))))
            assert document["fields"] == ["code", "label", "count", "suppressed"] == list(rows[0].keys()), name
            assert [row["count"] for row in rows] == ["" if r["count"] is None else str(r["count"])
                                                       for r in document["rows"]]
            assert {row["label"]: shown(row["count"]) for row in document["rows"]} == {
                label: WITHHELD.get(text, text) for label, text in page[name].items()}, (name, args)
    everything = client.get(f"/t/{territory}/observatory/endorsements_given_sectors.json").get_json()
    assert {"code": "territory", "label": "The territory itself", "count": None, "suppressed": True} in (
        everything["rows"])  # one contributor: never published
    assert any(row["count"] for row in everything["rows"])
    french = client.get(f"/t/{territory}/observatory", headers={"Accept-Language": "fr"}).get_data(as_text=True)
    assert "Reconnaissance" in french and "Le territoire lui-même" in french and "Recommandations reçues" in french
    dictionary = client.get(f"/t/{territory}/observatory/dictionary.json").get_json()
    assert "recognition" in dictionary["definitions"]
    assert {d["name"] for d in dictionary["datasets"]} >= RECOGNITION
