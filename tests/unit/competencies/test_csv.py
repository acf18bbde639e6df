"""CSV export and import of a framework: round trip, all-or-nothing with every bad row by line, encodings,
separators, size and garbage, formula injection."""

from __future__ import annotations

import codecs
import csv
import io
import os

import pytest
from sqlalchemy import select

from badgehub.audit.models import AuditEvent
from badgehub.competencies.csv_io import (
    COLUMNS,
    MAX_IMPORT_BYTES,
    MAX_IMPORT_ROWS,
    export_csv,
    import_csv,
)
from badgehub.competencies.errors import ImportRejected
from badgehub.competencies.models import Competency
from badgehub.competencies.service import archive_competency, competencies_of, get_competency
from badgehub.extensions import db
from badgehub.territory.errors import NotCoordinator

HEADER = ",".join(COLUMNS)


def snapshot(territory: object, *, include_archived: bool = False) -> list[tuple[object, ...]]:
    return [(c.code, c.name, c.description, c.parent.code if c.parent else None, c.esco_uri, c.rncp_code,
             c.case_item_uri, c.other_url, c.archived_at is not None)
            for c in competencies_of(territory, include_archived=include_archived)]


def rows_of(data: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))


def problems_of(caught: pytest.ExceptionInfo[ImportRejected]) -> list[tuple[int, str | None, str]]:
    return [(p.line, p.column, str(p.message)) for p in caught.value.problems]


def count() -> int:
    return len(db.session.scalars(select(Competency)).all())


def test_export_is_utf8_with_bom_comma_separated_parents_first(world, add):
    add("B", "Bâtir")
    add("A", "Agir", description="Deux\nlignes", esco_uri="http://data.europa.eu/esco/skill/S1")
    add("A.1", "Sous-compétence", parent_code="A", rncp_code="RNCP123", other_url="https://example.org/a")
    data = export_csv(world.evry, world.coordinator)
    assert data.startswith(codecs.BOM_UTF8)
    assert b"\r\n" in data
    assert rows_of(data) == [
        list(COLUMNS),
        ["A", "Agir", "Deux\nlignes", "", "http://data.europa.eu/esco/skill/S1", "", "", ""],
        ["A.1", "Sous-compétence", "", "A", "", "RNCP123", "", "https://example.org/a"],
        ["B", "Bâtir", "", "", "", "", "", ""],
    ]
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "competency_framework.exported")).one()
    assert event.details == {"rows": 3}


def test_export_with_semicolons_for_french_spreadsheets(world, add):
    add("A", "Agir; ensemble")
    data = export_csv(world.evry, world.coordinator, separator=";").decode("utf-8-sig")
    assert data.splitlines()[0] == ";".join(COLUMNS)
    assert data.splitlines()[1] == 'A;"Agir; ensemble";;;;;;'


@pytest.mark.parametrize("dangerous", ["=HYPERLINK(\"http://evil\")", "+1+1", "-2+3", "@SUM(A1)", "=cmd|' /C calc'!A0"])
def test_export_neutralises_formulas_and_import_restores_them(world, add, dangerous):
    add("A", dangerous, description=dangerous)
    data = export_csv(world.evry, world.coordinator)
    row = rows_of(data)[1]
    assert row[1] == "'" + dangerous and row[2] == "'" + dangerous
    before = snapshot(world.evry)
    archive_competency(get_competency("evry", "A"), world.coordinator)
    import_csv(world.evry, world.coordinator, data)
    assert snapshot(world.evry) == before


def test_export_then_import_elsewhere_gives_the_same_framework(world, add):
    add("CIT", "Citoyenneté", description="Vie de la cité, « guillemets », \"quotes\", virgule, point;virgule")
    add("CIT.1", "Prendre la parole", parent_code="CIT", esco_uri="http://data.europa.eu/esco/skill/S1.2",
        rncp_code="RS5678", case_item_uri="https://case.example.org/1", other_url="https://example.org/?a=1&b=2")
    add("CIT.1.a", "Débattre", description="ligne 1\nligne 2\n\tindentée", parent_code="CIT.1")
    add("NUM", "Numérique")
    data = export_csv(world.evry, world.coordinator)
    summary = import_csv(world.lyon, world.lyon_coordinator, data)
    assert sorted(summary.created) == ["CIT", "CIT.1", "CIT.1.a", "NUM"]
    assert snapshot(world.lyon) == snapshot(world.evry)
    again = import_csv(world.lyon, world.lyon_coordinator, export_csv(world.lyon, world.lyon_coordinator))
    assert (again.created, again.updated, again.restored, again.unchanged) == ([], [], [], 4)


def test_import_creates_updates_and_restores_by_code_with_parents_later_in_the_file(world, add):
    add("OLD", "Ancien nom", description="kept", esco_uri="http://data.europa.eu/esco/skill/S5")
    archived = add("GONE", "Archivée")
    archive_competency(archived, world.coordinator)
    data = ("code,name,parent_code\n"
            "CHILD,Enfant,PARENT\n"
            "PARENT,Parent,\n"
            "OLD,Nouveau nom,PARENT\n"
            "GONE,Archivée,\n").encode()
    summary = import_csv(world.evry, world.coordinator, data)
    assert (summary.created, summary.updated, summary.restored, summary.unchanged) == (
        ["CHILD", "PARENT"], ["OLD"], ["GONE"], 0)
    old = get_competency("evry", "OLD")
    # Columns left out of the file keep their values.
    assert (old.name, old.parent.code, old.description, old.esco_uri) == (
        "Nouveau nom", "PARENT", "kept", "http://data.europa.eu/esco/skill/S5")
    assert get_competency("evry", "CHILD").parent.code == "PARENT"
    assert get_competency("evry", "GONE").archived_at is None
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "competency_framework.imported")).one()
    assert event.details == {"rows": 4, "created": ["CHILD", "PARENT"], "updated": ["OLD"], "restored": ["GONE"],
                             "unchanged": 0}


def test_a_present_but_empty_column_clears_the_value(world, add):
    add("A", "A", esco_uri="http://data.europa.eu/esco/skill/S5", other_url="https://example.org")
    import_csv(world.evry, world.coordinator, b"code,name,esco_uri\nA,A,\n")
    competency = get_competency("evry", "A")
    assert (competency.esco_uri, competency.other_url) == (None, "https://example.org")


def test_bad_rows_are_all_reported_by_line_and_nothing_is_imported(world, add):
    add("EXISTING", "Déjà là")
    text = (
        HEADER + "\n"                                                     # line 1
        "OK,Bonne ligne,,,,,,\n"                                           # 2
        ",Sans code,,,,,,\n"                                               # 3
        "OK,Doublon,,,,,,\n"                                               # 4
        "ORPHAN,Parent inconnu,,NOPE,,,,\n"                                # 5
        "C1,Cercle 1,,C2,,,,\n"                                            # 6
        "C2,Cercle 2,,C1,,,,\n"                                            # 7
        "BADESCO,ESCO faux,,,https://example.org/skill,,,\n"               # 8
        "BADRNCP,RNCP faux,,,,RNCP-12,,\n"                                 # 9
        '"MULTI","Sur deux ""lignes""","a\nb",,,,,http://exa mple.org\n'   # 10-11
        "bad code,Code faux,,,,,,\n"                                       # 12
        "SELF,Soi-même,,SELF,,,,\n"                                        # 13
        "NONAME,,,,,,,\n"                                                  # 14
        "existing,Casse différente,,,,,,\n"                                # 15
        "TOO,Trop,,,,,,,extra\n"                                           # 16
    )
    with pytest.raises(ImportRejected) as caught:
        import_csv(world.evry, world.coordinator, text.encode())
    found = problems_of(caught)
    assert [(line, column) for line, column, _ in found] == [
        (3, "code"), (4, "code"), (5, "parent_code"), (6, "parent_code"), (7, "parent_code"), (8, "esco_uri"),
        (9, "rncp_code"), (10, "other_url"), (12, "code"), (13, "parent_code"), (14, "name"), (15, "code"),
        (16, None)]
    messages = dict(((line, column), message) for line, column, message in found)
    assert "missing" in messages[(3, "code")]
    assert "already on line 2" in messages[(4, "code")]
    assert "NOPE" in messages[(5, "parent_code")]
    assert "C1 → C2 → C1" in messages[(6, "parent_code")]
    assert "EXISTING" in messages[(15, "code")]
    assert "9 cells" in messages[(16, None)]
    assert count() == 1
    assert db.session.scalars(select(AuditEvent).where(AuditEvent.action == "competency_framework.imported")).all() \
        == []


@pytest.mark.parametrize(("header", "expected"), [
    ("code,nom,description", "Unknown columns: nom"),
    ("code,name,name", "Repeated columns: name"),
    ("name,description", "Missing columns: code"),
    ("identifiant;libellé", "Unknown columns"),
])
def test_wrong_columns_refuse_the_file(world, header, expected):
    with pytest.raises(ImportRejected) as caught:
        import_csv(world.evry, world.coordinator, (header + "\nA,B,C\n").encode())
    assert "The first line must name the columns" in str(caught.value.message)
    assert any(expected in message and line == 1 for line, _, message in problems_of(caught))
    assert count() == 0


def test_semicolons_and_windows_1252_are_understood(world):
    text = "code;name;description\r\nECO.1;Réduire ses déchets;Trier, composter – « zéro déchet »\r\n"
    summary = import_csv(world.evry, world.coordinator, text.encode("cp1252"))
    assert summary.created == ["ECO.1"]
    competency = get_competency("evry", "ECO.1")
    assert (competency.name, competency.description) == ("Réduire ses déchets",
                                                         "Trier, composter – « zéro déchet »")


@pytest.mark.parametrize("encode", [
    lambda t: t.encode("utf-8"), lambda t: codecs.BOM_UTF8 + t.encode("utf-8"), lambda t: t.encode("latin-1"),
    lambda t: t.encode("utf-16"), lambda t: t.replace(",", "\t").encode("utf-8")])
def test_encodings_and_separators(world, encode):
    import_csv(world.evry, world.coordinator, encode("code,name\nÉ1,Écologie\n".replace("É1", "E1")))
    assert get_competency("evry", "E1").name == "Écologie"


@pytest.mark.parametrize(("data", "expected"), [
    (b"", "The file is empty."),
    (b"\r\n \r\n", "The file is empty."),
    (os.urandom(4096), "not a CSV text file"),
    (b"PK\x03\x04" + b"\x00" * 100, "spreadsheet workbook"),
    (b"\xd0\xcf\x11\xe0" + b"\x00" * 100, "spreadsheet workbook"),
    (b"\x89PNG\r\n\x1a\n" + b"\x01" * 50, "not a CSV text file"),
    (b"A" * (MAX_IMPORT_BYTES + 1), "larger than 2 MB"),
    (os.urandom(10_000_000), "larger than 2 MB"),
])
def test_garbage_gets_a_clear_error(world, data, expected):
    with pytest.raises(ImportRejected) as caught:
        import_csv(world.evry, world.coordinator, data)
    assert expected in str(caught.value.message)
    assert count() == 0


def test_printable_garbage_is_refused_by_its_header(world):
    garbage = bytes(range(0x20, 0x7f)) * 1000
    with pytest.raises(ImportRejected) as caught:
        import_csv(world.evry, world.coordinator, garbage)
    assert "The first line must name the columns" in str(caught.value.message)


def test_an_unclosed_quote_is_reported(world):
    with pytest.raises(ImportRejected) as caught:
        import_csv(world.evry, world.coordinator, b'code,name\nA,"open\nB,b\n')
    assert problems_of(caught)[0][0] in (2, 3)
    assert "quotation marks" in problems_of(caught)[0][2]


def test_too_many_rows_are_refused(world):
    text = "code,name\n" + "".join(f"C{i},N\n" for i in range(MAX_IMPORT_ROWS + 1))
    with pytest.raises(ImportRejected) as caught:
        import_csv(world.evry, world.coordinator, text.encode())
    assert "more than 5000 rows" in str(caught.value.message)
    assert count() == 0


def test_the_largest_accepted_file_imports(world):
    text = "code,name\n" + "".join(f"C{i},Compétence {i}\n" for i in range(MAX_IMPORT_ROWS))
    assert len(import_csv(world.evry, world.coordinator, text.encode()).created) == MAX_IMPORT_ROWS


def test_a_parent_archived_and_absent_from_the_file_is_refused(world, add):
    archive_competency(add("OLD"), world.coordinator)
    with pytest.raises(ImportRejected) as caught:
        import_csv(world.evry, world.coordinator, b"code,name,parent_code\nNEW,New,OLD\n")
    assert [(line, column) for line, column, _ in problems_of(caught)] == [(2, "parent_code")]


def test_a_circle_through_an_existing_competency_is_refused(world, add):
    add("A")
    add("B", parent_code="A")
    with pytest.raises(ImportRejected) as caught:
        import_csv(world.evry, world.coordinator, b"code,name,parent_code\nA,A,B\n")
    assert "A → B → A" in problems_of(caught)[0][2]


@pytest.mark.parametrize("who", ["stranger", "lyon_coordinator"])
def test_only_coordinators_import_and_export(world, who):
    with pytest.raises(NotCoordinator):
        import_csv(world.evry, getattr(world, who), b"code,name\nA,A\n")
    with pytest.raises(NotCoordinator):
        export_csv(world.evry, getattr(world, who))
    assert count() == 0
