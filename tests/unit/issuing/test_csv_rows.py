"""Reading lists of participants as people really save them: Excel's encodings and separators, French headers,
broken and hostile files, and exports that stay inert in a spreadsheet."""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import io
import os
import time

import pytest

from badgehub.issuing.csv_rows import AreaChoice, CsvRefused, inert, parse_date, read_csv, write_csv

AREAS = [AreaChoice(1, "centre", "Centre-ville"), AreaChoice(2, "gare", "Quartier de la Gare")]
FRENCH = "Prénom;Nom;Courriel;Début;Quartier;Résultat\r\nLéa;Müller;lea@example.net;31/03/2025;centre;Très bien\r\n"


def test_utf8_with_and_without_bom_read_alike():
    text = "email,name\nlea@example.net,Léa Müller\n"
    for data in (text.encode("utf-8"), codecs.BOM_UTF8 + text.encode("utf-8")):
        parsed = read_csv(data)
        assert parsed.encoding == "UTF-8"
        assert [(r.email, r.name) for r in parsed.rows] == [("lea@example.net", "Léa Müller")]


def test_excel_french_cp1252_semicolons():
    parsed = read_csv(FRENCH.encode("cp1252"), areas=AREAS)
    assert (parsed.encoding, parsed.delimiter) == ("Windows-1252", ";")
    row = parsed.rows[0]
    assert (row.email, row.name, row.activity_start, row.area_id, row.cells["result"]) == (
        "lea@example.net", "Léa Müller", dt.date(2025, 3, 31), 1, "Très bien")
    assert row.problems == []


def test_excel_unicode_text_is_utf16_with_tabs():
    text = "E-mail\tNom complet\tDate\r\nzoe@example.net\tZoé Ø\t2025-01-05\r\n"
    for data in (codecs.BOM_UTF16_LE + text.encode("utf-16-le"), text.encode("utf-16-le"),
                 codecs.BOM_UTF16_BE + text.encode("utf-16-be")):
        parsed = read_csv(data)
        assert (parsed.encoding, parsed.delimiter) == ("UTF-16", "\t")
        assert (parsed.rows[0].email, parsed.rows[0].name, parsed.rows[0].activity_start) == (
            "zoe@example.net", "Zoé Ø", dt.date(2025, 1, 5))


def test_latin1_bytes_cp1252_leaves_undefined_are_read():
    data = "mail,name\nx@example.net,Ren\x8fe\n".encode("latin-1")
    parsed = read_csv(data)
    assert parsed.rows[0].name == "Ren\x8fe"


@pytest.mark.parametrize("header", ["email", "E-mail", "Courriel", "MAIL", "adresse e-mail", " Email Address "])
def test_email_header_variants(header):
    parsed = read_csv(f"{header},x\na@example.net,1\n")
    assert parsed.rows[0].email == "a@example.net"
    assert parsed.ignored == ["x"]


@pytest.mark.parametrize(("header", "field"), [
    ("activity_start", "activity_start"), ("start", "activity_start"), ("Date de début", "activity_start"),
    ("fin", "activity_end"), ("evidence_url", "evidence_url"), ("Preuve", "evidence_url"),
    ("Récit", "narrative"), ("commentaire", "narrative"), ("Zone", "area"), ("résultat", "result"),
])
def test_other_header_variants(header, field):
    parsed = read_csv(f"email,{header}\na@example.net,value\n")
    assert parsed.columns[field] == header
    assert parsed.rows[0].cells[field] == "value"


def test_first_and_last_name_columns_make_the_name():
    parsed = read_csv("nom,prénom,email\nDurand,Sam,s@example.net\n,Ana,a@example.net\n")
    assert [r.name for r in parsed.rows] == ["Sam Durand", "Ana"]


def test_missing_email_column_lists_found_and_expected_columns():
    with pytest.raises(CsvRefused) as caught:
        read_csv("name;phone\nLéa;0102\n")
    assert caught.value.code == "missing_email_column"
    assert caught.value.params["found"] == ["name", "phone"]
    assert "email" in caught.value.params["expected"]


def test_two_columns_for_the_same_field_are_refused():
    with pytest.raises(CsvRefused) as caught:
        read_csv("email,courriel\na@example.net,b@example.net\n")
    assert caught.value.code == "duplicate_column"


def test_row_problems_carry_row_number_and_column():
    parsed = read_csv("email,date,area\n\na@example.net,32/13/2025,centre\nb@example.net,2025-02-01,atlantis\n"
                      "A@example.net ,,Quartier de la gare\n", areas=AREAS)
    problems = {(r.number, p.field, p.code) for r in parsed.rows for p in r.problems}
    # Line 1 is the header, line 2 blank (skipped, but counted in line numbers).
    assert problems == {(3, "activity_start", "not_a_date"), (4, "area", "unknown_area"),
                        (5, "recipient_email", "duplicate_in_file")}
    assert parsed.rows[2].area_id == 2  # matched by name, any case, without accents
    assert parsed.rows[2].problems[0].params == {"row": 3}


def test_quoted_multiline_cells_keep_line_numbers_of_their_record():
    parsed = read_csv('email,narrative\na@example.net,"two\nlines"\nb@example.net,x\n')
    assert [r.number for r in parsed.rows] == [2, 4]
    assert parsed.rows[0].cells["narrative"] == "two\nlines"


@pytest.mark.parametrize("value", ["2025-03-31", "31/03/2025", "31-03-2025", "31.03.2025", "31/03/25",
                                   "2025-03-31T10:00:00"])
def test_dates_in_usual_spellings(value):
    assert parse_date(value) == dt.date(2025, 3, 31)


def test_ten_megabytes_of_garbage_are_refused_quickly():
    junk = os.urandom(10 * 1024 * 1024)
    start = time.perf_counter()
    with pytest.raises(CsvRefused) as caught:
        read_csv(junk)
    assert caught.value.code == "too_large"
    assert time.perf_counter() - start < 1
    # Under the size cap, binary data is still not a list.
    with pytest.raises(CsvRefused) as caught:
        read_csv(junk[:100_000].replace(b"\x00", b"\x01"), max_bytes=10 * 1024 * 1024)
    assert caught.value.code == "not_text"


def test_spreadsheet_files_are_named_as_such():
    with pytest.raises(CsvRefused) as caught:
        read_csv(b"PK\x03\x04" + b"\x00" * 100)
    assert (caught.value.code, caught.value.params) == ("not_text", {"kind": "spreadsheet"})


def test_row_cap_and_line_length_cap():
    many = "email\n" + "".join(f"p{i}@example.net\n" for i in range(5001))
    with pytest.raises(CsvRefused) as caught:
        read_csv(many)
    assert caught.value.code == "too_many_rows"
    assert len(read_csv(many, max_rows=6000).rows) == 5001
    with pytest.raises(CsvRefused) as caught:
        read_csv("email\n" + "a" * 20_000 + "\n")
    assert (caught.value.code, caught.value.params["line"]) == ("line_too_long", 2)


def test_empty_file_is_refused():
    for data in (b"", b"\n\n  \n", "\ufeff"):
        with pytest.raises(CsvRefused) as caught:
            read_csv(data)
        assert caught.value.code == "empty"


@pytest.mark.parametrize("value", ["=HYPERLINK(\"http://evil\")", "+1+2", "-2+3", "@SUM(A1)", "\tx", "\rx"])
def test_formula_cells_are_made_inert(value):
    assert inert(value) == "'" + value
    exported = write_csv(["name"], [[value]])
    assert next(iter(csv.reader(io.StringIO(exported[exported.index("\n") + 1:])))) == ["'" + value]


def test_ordinary_cells_are_left_alone():
    assert inert("Léa") == "Léa"
    assert inert(12) == "12"
    assert inert(None) == ""
