"""Awarding from a list through the browser's eyes: upload or paste, preview, confirm, progress, results, export;
who may do what."""

from __future__ import annotations

import codecs
import csv
import io
import os
import re
from typing import Any

import pytest
from sqlalchemy import func, select

from badgehub.extensions import db
from badgehub.issuing.models import BatchState, IssueBatch, IssuedCredential
from tests.conftest import csrf_token_from, sign_in
from tests.factories import world_ids

LIST = ("Prénom;Nom;Courriel;Début;Quartier\r\n"
        "Léa;Martin;lea@example.net;01/03/2025;centre\r\n"
        "Sam;Durand;sam@example.net;;gare\r\n"
        "Zoé;Faux;pas-une-adresse;;\r\n"
        "Ana;Loin;ana@example.net;;atlantis\r\n")


@pytest.fixture
def world(snapshot: Any) -> dict[str, Any]:
    return snapshot(world_ids)


def new_url(world: dict[str, Any], organisation: str = "a") -> str:
    return f"/organisations/{world[organisation]}/batches/new"


def count(query: Any, model: Any = IssuedCredential) -> int:
    return query(lambda: db.session.scalar(select(func.count(model.id))))


def upload(client, world, data: bytes | None = None, *, pasted: str = "", badge: str = "repair",
           filename: str = "atelier.csv") -> Any:
    token = csrf_token_from(client.get(new_url(world)).get_data(as_text=True))
    form: dict[str, Any] = {"csrf_token": token, "achievement": world[badge], "pasted": pasted, "submit": "1"}
    if data is not None:
        form["upload"] = (io.BytesIO(data), filename)
    return client.post(new_url(world), data=form, content_type="multipart/form-data")


def batch_url(response: Any) -> str:
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    location = response.headers["Location"]
    assert re.fullmatch(r"/organisations/[^/]+/batches/\d+", location), location
    return location


def confirm(client, url: str) -> Any:
    return client.post(url + "/confirm", data={"csrf_token": csrf_token_from(client.get(url).get_data(as_text=True))})


def test_signed_out_visitors_are_sent_to_sign_in(client, world):
    response = client.get(new_url(world))
    assert response.status_code == 302 and response.headers["Location"].startswith("/sign-in")


def test_excel_french_file_preview_then_confirm_awards_valid_rows(client, world, query, outbox):
    sign_in(client, world["issuer_a"])
    page = client.get(new_url(world) + f"?achievement={world['repair']}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and 'name="csrf_token"' in html and 'enctype="multipart/form-data"' in html
    url = batch_url(upload(client, world, LIST.encode("cp1252")))
    preview = client.get(url).get_data(as_text=True)
    assert "Windows-1252" in preview
    assert "Léa Martin" in preview and "Problem: not awarded" in preview
    assert "“atlantis” is not an area of your territories." in preview
    assert "Award the badge to 2 people" in preview
    assert count(query) == 0
    response = confirm(client, url)
    assert response.status_code == 302 and response.headers["Location"] == url
    page = client.get(url).get_data(as_text=True)
    assert "2 badges were awarded" in page
    # Each row links to the badge in the organisation's own pages (issue 16: a bare "/c/…" address was shown).
    public_ids = re.findall(rf'href="/organisations/{world["a"]}/credentials/([a-z2-7]{{12}})">see the badge<', page)
    assert len(public_ids) == 2
    assert count(query) == 2
    assert sorted(m["To"] for m in outbox()) == ["lea@example.net", "sam@example.net"]
    # Confirming again (a double click) awards nothing more.
    client.post(url + "/confirm", data={"csrf_token": csrf_token_from(page)})
    assert count(query) == 2


def test_the_same_file_uploaded_twice_awards_once(client, world, query):
    sign_in(client, world["issuer_a"])
    confirm(client, batch_url(upload(client, world, LIST.encode("utf-8"))))
    second = batch_url(upload(client, world, codecs.BOM_UTF8 + LIST.encode("utf-8")))
    preview = client.get(second).get_data(as_text=True)
    assert "Already awarded before" in preview and "No row can be awarded" in preview
    assert count(query) == 2


def test_pasted_tab_separated_list_is_read(client, world, query):
    sign_in(client, world["owner_a"])
    url = batch_url(upload(client, world, pasted="email\tname\nmia@example.net\tMia\n"))
    confirm(client, url)
    assert count(query) == 1


def test_wrong_columns_say_which_columns_were_found(client, world, query):
    sign_in(client, world["issuer_a"])
    response = upload(client, world, b"phone,name\n0102,Lea\n")
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "No column gives the e-mail addresses. Columns found: phone, name." in html
    assert count(query, IssueBatch) == 0


def test_ten_megabytes_of_garbage_get_a_clear_400(client, world, query):
    sign_in(client, world["issuer_a"])
    response = upload(client, world, os.urandom(10_000_000), filename="junk.csv")
    assert response.status_code == 400
    assert "The file is larger than 2 MB" in response.get_data(as_text=True)
    response = upload(client, world, b"PK\x03\x04" + os.urandom(5000), filename="list.xlsx")
    assert response.status_code == 400 and "spreadsheet file, not a CSV file" in response.get_data(as_text=True)
    assert count(query, IssueBatch) == 0


def test_nothing_chosen_is_a_clear_400(client, world):
    sign_in(client, world["issuer_a"])
    response = upload(client, world)
    assert response.status_code == 400
    assert "Choose a CSV file, or paste the list of participants." in response.get_data(as_text=True)


def test_export_neutralises_formulas(client, world):
    sign_in(client, world["issuer_a"])
    url = batch_url(upload(client, world, pasted='email,name\nx@example.net,"=cmd|\' /C calc\'!A0"\n'
                                                  "y@example.net,+33 6 00\n"))
    confirm(client, url)
    response = client.get(url + "/results.csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"  # the charset once, not twice
    assert response.get_data().startswith(b"\xef\xbb\xbf")
    assert "attachment" in response.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    assert rows[0] == ["row", "email", "name", "state", "credential", "problems"]
    names = [row[2] for row in rows[1:]]
    assert names == ["'=cmd|' /C calc'!A0", "'+33 6 00"]
    assert all(row[4].startswith("http://localhost/c/") for row in rows[1:])


def test_progress_endpoint_and_template(client, world):
    sign_in(client, world["viewer_a"])
    response = client.get(f"/organisations/{world['a']}/batches/template.csv")
    assert response.status_code == 200
    assert response.get_data(as_text=True).lstrip("\ufeff").startswith("email,name,date")
    sign_in(client, world["issuer_a"])
    url = batch_url(upload(client, world, pasted="email\nq@example.net\n"))
    data = client.get(url + "/progress.json").get_json()
    assert (data["state"], data["rows"], data["over"]) == ("draft", 1, False)


def test_large_batches_go_to_the_queue_and_the_page_follows_them(client, app, world, query):
    app.config.update(BATCH_INLINE_ROWS=2, JOB_BACKEND="sync", BATCH_CHUNK_ROWS=2)
    sign_in(client, world["issuer_a"])
    url = batch_url(upload(client, world, pasted="email\n" + "".join(f"p{i}@example.net\n" for i in range(5))))
    confirm(client, url)
    assert count(query) == 5
    assert client.get(url + "/progress.json").get_json()["state"] == "done"


def test_running_batch_page_polls_without_inline_script(client, world, setup):
    sign_in(client, world["issuer_a"])
    url = batch_url(upload(client, world, pasted="email\nq@example.net\n"))
    batch_id = int(url.rsplit("/", 1)[1])

    def queue() -> None:
        db.session.get(IssueBatch, batch_id).state = BatchState.QUEUED

    setup(queue)
    html = client.get(url).get_data(as_text=True)
    assert '<script src="/static/js/batch-progress.js" defer></script>' in html
    assert "<script>" not in html
    assert client.get("/static/js/batch-progress.js").status_code == 200


def test_viewers_read_but_cannot_upload_or_confirm(client, world, query):
    sign_in(client, world["issuer_a"])
    url = batch_url(upload(client, world, pasted="email\nq@example.net\n"))
    token = csrf_token_from(client.get(url).get_data(as_text=True))
    sign_in(client, world["viewer_a"])
    assert client.get(f"/organisations/{world['a']}/batches").status_code == 200
    page = client.get(url)
    assert page.status_code == 200 and "/confirm" not in page.get_data(as_text=True)
    assert client.get(new_url(world)).status_code == 403
    assert client.post(url + "/confirm", data={"csrf_token": token}).status_code == 403
    assert count(query) == 0


def test_other_organisations_get_404(client, world, query):
    sign_in(client, world["issuer_a"])
    url = batch_url(upload(client, world, pasted="email\nq@example.net\n"))
    token = csrf_token_from(client.get(url).get_data(as_text=True))
    sign_in(client, world["owner_b"])
    batch_id = url.rsplit("/", 1)[1]
    for path in (url, url + "/progress.json", url + "/results.csv", new_url(world),
                 f"/organisations/{world['b']}/batches/{batch_id}",
                 f"/organisations/{world['b']}/batches/{batch_id}/results.csv"):
        assert client.get(path).status_code == 404, path
    assert client.post(f"/organisations/{world['b']}/batches/{batch_id}/confirm",
                       data={"csrf_token": token}).status_code == 404
    # B's own upload form does not offer A's badge.
    response = upload_as_b(client, world)
    assert response.status_code == 400
    assert count(query) == 0


def upload_as_b(client, world) -> Any:
    url = new_url(world, "b")
    token = csrf_token_from(client.get(url).get_data(as_text=True))
    return client.post(url, data={"csrf_token": token, "achievement": world["repair"], "pasted": "email\nq@x.net\n"})


def test_forms_need_their_csrf_token(client, app, world, query):
    app.config["WTF_CSRF_ENABLED"] = True
    sign_in(client, world["issuer_a"])
    response = client.post(new_url(world), data={"achievement": world["repair"], "pasted": "email\nq@example.net\n"})
    assert response.status_code == 400
    assert count(query, IssueBatch) == 0


def test_list_page_names_the_files_without_their_folders(client, world):
    sign_in(client, world["issuer_a"])
    batch_url(upload(client, world, b"email\nq@example.net\n", filename="/home/Users/lea/atelier du 3 mars.csv"))
    html = client.get(f"/organisations/{world['a']}/batches").get_data(as_text=True)
    assert "atelier du 3 mars.csv" in html and "Users" not in html
    assert 'aria-current="page"' in html and "Lists (CSV)" in html


def test_a_list_stopped_by_an_archived_badge_says_why_in_words(client, world, setup):
    # Issue 16: the page showed the error code ("achievement_archived") in brackets.
    from badgehub.issuing import batches

    sign_in(client, world["issuer_a"])
    url = batch_url(upload(client, world, LIST.encode("utf-8")))
    setup(lambda: batches.finish(db.session.scalars(select(IssueBatch)).one(), error_code="achievement_archived"))
    page = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", client.get(url).get_data(as_text=True)))
    assert "Awarding stopped before the end: the badge was archived." in page
    assert "achievement_archived" not in page
