"""A territory's framework as a CSV file, out and back in.

**Columns**: ``code, name, description, parent_code, esco_uri, rncp_code, case_item_uri, other_url``, named
on the first line. ``code`` and ``name`` are required; the others may be left out (for an existing competency
a column left out keeps its value; a column present but empty clears it). Names are matched whatever their
case; an unknown or repeated column refuses the file, so that a typo does not silently drop data.

**Export** writes every active competency in tree order (a parent always before what is under it), in UTF-8
with a byte-order mark (so that Excel reads the accents), comma-separated (or semicolon-separated on request,
for Excel set to French), with CRLF line ends. A cell starting with ``=``, ``+``, ``-``, ``@``, a tab or a
carriage return is prefixed with an apostrophe so that a spreadsheet shows it as text instead of running it
as a formula (CSV injection); the import removes that apostrophe again, so export then import changes
nothing.

**Import** accepts UTF-8 with or without a byte-order mark, UTF-16 with one, and otherwise reads the file as
Windows-1252 (Latin-1 for the five bytes Windows-1252 leaves undefined). The separator — comma, semicolon or
tab — is the one that makes the most sense of the first line. Rows are matched to competencies by code:
a known code is updated (and restored if archived), a new one is created. Parents may appear anywhere in
the file, before or after their children. It is **all or nothing**: every bad row is reported with the line
it starts on and what is wrong, and if there is any, nothing is imported. At most 2 MB and 5,000 rows.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from dataclasses import dataclass
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy.exc import IntegrityError

from badgehub.audit.service import record
from badgehub.competencies.errors import ImportRejected, RowProblem
from badgehub.competencies.models import Competency
from badgehub.competencies.service import (
    CODE_PATTERN,
    FIELD_NAMES,
    CompetencyFields,
    apply_fields,
    check_fields,
    competencies_of,
    ensure_framework,
    framework_of,
)
from badgehub.extensions import db
from badgehub.territory.models import Territory
from badgehub.territory.service import require_coordinator

COLUMNS = ("code", "name", "description", "parent_code", "esco_uri", "rncp_code", "case_item_uri", "other_url")
REQUIRED_COLUMNS = ("code", "name")
MAX_IMPORT_BYTES = 2 * 1024 * 1024
MAX_IMPORT_ROWS = 5000
SEPARATORS = (",", ";", "\t")
EXPORT_SEPARATORS = {"comma": ",", "semicolon": ";"}
# What spreadsheets read as the start of a formula (OWASP "CSV injection").
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_BINARY_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


def neutralise(cell: str) -> str:
    """A cell as written in an exported file: prefixed with an apostrophe if a spreadsheet would run it."""
    return "'" + cell if cell.startswith(FORMULA_START) else cell


def _restore(cell: str) -> str:
    return cell[1:] if len(cell) > 1 and cell[0] == "'" and cell[1:].startswith(FORMULA_START) else cell


def export_csv(territory: Territory, actor: Any, *, separator: str = ",") -> bytes:
    """The territory's active competencies as a CSV file (see the module documentation), and an audit event.

    Raises NotCoordinator; ValueError for a separator other than ``,`` and ``;``.
    """
    require_coordinator(territory, actor)
    if separator not in EXPORT_SEPARATORS.values():
        raise ValueError(f"unsupported separator {separator!r}")
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, delimiter=separator, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    competencies = competencies_of(territory)
    for competency in competencies:
        writer.writerow([neutralise(value) for value in (
            competency.code, competency.name, competency.description or "",
            competency.parent.code if competency.parent is not None else "", competency.esco_uri or "",
            competency.rncp_code or "", competency.case_item_uri or "", competency.other_url or "")])
    framework = framework_of(territory)
    record("competency_framework.exported", actor_id=getattr(actor, "id", None), territory_id=territory.id,
           subject_type="competency_framework", subject_id=framework.id if framework is not None else None,
           details={"rows": len(competencies)})
    db.session.flush()
    return codecs.BOM_UTF8 + buffer.getvalue().encode("utf-8")


def _refuse(message: Any) -> ImportRejected:
    return ImportRejected([], message)


def decode_csv(data: bytes) -> str:
    """The text of an uploaded CSV file (see the module documentation for the encodings tried).

    Raises ImportRejected with a message for the whole file: too large, empty, not text (a spreadsheet
    workbook, an image, any binary file).
    """
    if len(data) > MAX_IMPORT_BYTES:
        raise _refuse(_l("The file is larger than %(size)s MB. Split it, or remove what is not competencies.",
                         size=MAX_IMPORT_BYTES // (1024 * 1024)))
    if data.startswith(b"PK\x03\x04") or data.startswith(b"\xd0\xcf\x11\xe0"):
        raise _refuse(_l("This is a spreadsheet workbook, not a CSV file. In your spreadsheet, choose "
                         "\"Save as\" and the CSV format, then import that file."))
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            text = data.decode("utf-16")
        except UnicodeDecodeError:
            raise _refuse(_l("This file is not a CSV text file.")) from None
    elif b"\x00" in data:
        raise _refuse(_l("This file is not a CSV text file."))
    else:
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            try:
                text = data.decode("cp1252")
            except UnicodeDecodeError:
                text = data.decode("latin-1")
    text = text.lstrip("\ufeff")
    if not text.strip():
        raise _refuse(_l("The file is empty."))
    if _BINARY_CONTROL.search(text):
        raise _refuse(_l("This file is not a CSV text file."))
    return text


def _header_cells(first_line: str, separator: str) -> list[str]:
    return [cell.strip().lower() for cell in next(csv.reader([first_line], delimiter=separator), [])]


def detect_separator(first_line: str) -> str:
    """The separator (comma, semicolon or tab) that makes the most known column names of the first line."""
    def score(separator: str) -> tuple[int, int]:
        cells = _header_cells(first_line, separator)
        return sum(cell in COLUMNS for cell in cells), len(cells)

    return max(SEPARATORS, key=score)


@dataclass(frozen=True)
class CsvRow:
    """One data row: the line it starts on and its cells by column name (trimmed, apostrophe guard removed)."""

    line: int
    cells: dict[str, str]


@dataclass(frozen=True)
class CsvFile:
    columns: tuple[str, ...]
    rows: list[CsvRow]
    problems: list[RowProblem]


def parse_csv(text: str) -> CsvFile:
    """Split the file into rows keyed by column; problems of shape are listed, not raised, except for the header.

    Raises ImportRejected when the first line does not name the columns (unknown, repeated or missing
    required ones), when a quote is left open, or when there are more than the maximum number of rows.
    """
    first_line = re.split(r"\r\n|\r|\n", text, maxsplit=1)[0]
    separator = detect_separator(first_line)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=separator, strict=True)
    problems: list[RowProblem] = []
    rows: list[CsvRow] = []
    try:
        header = [cell.strip().lower() for cell in next(reader)]
        while header and not header[-1]:
            header.pop()  # spreadsheets sometimes end lines with empty cells
        header_problems = _check_header(header)
        if header_problems:
            raise ImportRejected(header_problems, _l("The first line must name the columns: %(columns)s.",
                                                     columns=", ".join(COLUMNS)))
        while True:
            start = reader.line_num + 1
            try:
                cells = next(reader)
            except StopIteration:
                break
            if not any(cell.strip() for cell in cells):
                continue
            if len(rows) >= MAX_IMPORT_ROWS:
                raise _refuse(_l("The file has more than %(count)s rows. Split it into several files.",
                                 count=MAX_IMPORT_ROWS))
            if len(cells) > len(header) and any(cell.strip() for cell in cells[len(header):]):
                problems.append(RowProblem(start, None, _l(
                    "This line has %(found)s cells where the first line names %(expected)s columns.",
                    found=len(cells), expected=len(header))))
                continue
            values = {name: _restore(cells[i].strip()) if i < len(cells) else "" for i, name in enumerate(header)}
            rows.append(CsvRow(start, values))
    except csv.Error as exc:
        problems.append(RowProblem(reader.line_num, None, _l(
            "The file cannot be read from this line on (%(reason)s). Check the quotation marks.",
            reason=str(exc))))
        raise ImportRejected(problems) from exc
    return CsvFile(tuple(header), rows, problems)


def _check_header(header: list[str]) -> list[RowProblem]:
    problems: list[RowProblem] = []
    unknown = [name or "(empty)" for name in header if name not in COLUMNS]
    if unknown:
        problems.append(RowProblem(1, None, _l("Unknown columns: %(columns)s.", columns=", ".join(unknown))))
    repeated = sorted({name for name in header if name and header.count(name) > 1})
    if repeated:
        problems.append(RowProblem(1, None, _l("Repeated columns: %(columns)s.", columns=", ".join(repeated))))
    missing = [name for name in REQUIRED_COLUMNS if name not in header]
    if missing:
        problems.append(RowProblem(1, None, _l("Missing columns: %(columns)s.", columns=", ".join(missing))))
    return problems


@dataclass(frozen=True)
class ImportSummary:
    """What an import did, by competency code."""

    created: list[str]
    updated: list[str]
    restored: list[str]
    unchanged: int


def _cycle_codes(parents: dict[str, str | None]) -> dict[str, list[str]]:
    """For each code on a circle of parents, the circle itself (in order)."""
    on_cycle: dict[str, list[str]] = {}
    done: set[str] = set()
    for start in parents:
        path: list[str] = []
        position: dict[str, int] = {}
        current: str | None = start
        while current is not None and current not in done and current not in position:
            position[current] = len(path)
            path.append(current)
            current = parents.get(current)
        if current is not None and current in position:
            circle = path[position[current]:]
            for code in circle:
                on_cycle[code] = circle
        done.update(path)
    return on_cycle


def _row_values(row: CsvRow, columns: tuple[str, ...], existing: Competency | None) -> CompetencyFields:
    """The row's values; a column absent from the file keeps the existing competency's value."""
    def value(name: str) -> str | None:
        if name in columns:
            return row.cells[name]
        if existing is None:
            return None
        if name == "parent_code":
            return existing.parent.code if existing.parent is not None else None
        current: str | None = getattr(existing, name)
        return current

    return CompetencyFields(
        name=value("name") or "", description=value("description") or "", parent_code=value("parent_code"),
        esco_uri=value("esco_uri"), rncp_code=value("rncp_code"), case_item_uri=value("case_item_uri"),
        other_url=value("other_url"))


def import_csv(territory: Territory, actor: Any, data: bytes) -> ImportSummary:
    """Create and update the territory's competencies from a CSV file, all or nothing (module documentation).

    Raises NotCoordinator; ImportRejected with every problem (``problems``: line, column, message) when the
    file or any row is wrong — nothing has been changed then.
    """
    require_coordinator(territory, actor)
    parsed = parse_csv(decode_csv(data))
    problems = list(parsed.problems)
    framework = framework_of(territory)
    existing = {c.code: c for c in framework.competencies} if framework is not None else {}
    existing_folded = {code.casefold(): code for code in existing}
    seen: dict[str, tuple[int, str]] = {}
    accepted: list[tuple[CsvRow, str, CompetencyFields]] = []
    for row in parsed.rows:
        code = row.cells["code"]
        if not code:
            problems.append(RowProblem(row.line, "code", _l("The code is missing.")))
            continue
        if not CODE_PATTERN.fullmatch(code):
            problems.append(RowProblem(row.line, "code", _l(
                "%(code)s is not a valid code: use 1 to 64 letters, digits, dots, hyphens and underscores, "
                "starting with a letter or a digit.", code=code[:80])))
            continue
        if code.casefold() in seen:
            line, first = seen[code.casefold()]
            problems.append(RowProblem(row.line, "code", _l("The code %(code)s is already on line %(line)s.",
                                                            code=first if first == code else code, line=line)))
            continue
        seen[code.casefold()] = (row.line, code)
        known = existing_folded.get(code.casefold())
        if known is not None and known != code:
            problems.append(RowProblem(row.line, "code", _l(
                "The framework already has the code %(existing)s; codes never change, write it the same way.",
                existing=known)))
            continue
        cleaned, field_problems = check_fields(_row_values(row, parsed.columns, existing.get(code)))
        for name, message in field_problems.items():
            problems.append(RowProblem(row.line, name, message))
        if not field_problems:
            accepted.append((row, code, cleaned))

    # Codes of rows refused above count as present: their own problem is reported, not their children's.
    in_file = {code for _, code in seen.values()}
    parents: dict[str, str | None] = {code: (c.parent.code if c.parent is not None else None)
                                      for code, c in existing.items()}
    for row, code, cleaned in accepted:
        parent = cleaned.parent_code
        if parent is None:
            parents[code] = None
            continue
        if parent == code:
            problems.append(RowProblem(row.line, "parent_code", _l("A competency cannot be placed under itself.")))
        elif parent not in in_file and parent not in existing:
            problems.append(RowProblem(row.line, "parent_code", _l(
                "There is no competency with the code %(code)s, in the file or in the framework.", code=parent)))
        elif parent not in in_file and existing[parent].archived_at is not None:
            problems.append(RowProblem(row.line, "parent_code", _l(
                "The competency %(code)s is archived; restore it first, or add it to the file.", code=parent)))
        parents[code] = parent
    circles = _cycle_codes(parents)
    for row, code, _ in accepted:
        circle = circles.get(code, [])
        if len(circle) > 1:  # a competency under itself was reported above
            problems.append(RowProblem(row.line, "parent_code", _l(
                "The parents make a circle: %(circle)s.", circle=" → ".join([*circle, circle[0]]))))
    if problems:
        raise ImportRejected(sorted(problems, key=lambda p: (p.line, p.column or "")))
    return _apply_import(territory, actor, parsed.columns, accepted, len(parsed.rows))


def _apply_import(territory: Territory, actor: Any, columns: tuple[str, ...],
                  accepted: list[tuple[CsvRow, str, CompetencyFields]], row_count: int) -> ImportSummary:
    framework = ensure_framework(territory, actor)
    created: list[str] = []
    updated: list[str] = []
    restored: list[str] = []
    unchanged = 0
    try:
        # A savepoint: if another coordinator adds one of these codes meanwhile, the import is refused whole.
        with db.session.begin_nested():
            by_code = {c.code: c for c in framework.competencies}
            new_codes: set[str] = set()
            for _, code, _ in accepted:
                if code not in by_code:
                    competency = Competency(code=code, name="", description="")
                    framework.competencies.append(competency)
                    by_code[code] = competency
                    new_codes.add(code)
            for _, code, cleaned in accepted:
                competency = by_code[code]
                parent = by_code[cleaned.parent_code] if cleaned.parent_code is not None else None
                present = FIELD_NAMES if code in new_codes else tuple(n for n in FIELD_NAMES if n in columns)
                changed = apply_fields(competency, cleaned, parent, present)
                was_archived = competency.archived_at is not None
                competency.archived_at = None
                if code in new_codes:
                    created.append(code)
                elif was_archived:
                    restored.append(code)
                elif changed:
                    updated.append(code)
                else:
                    unchanged += 1
            db.session.flush()
    except IntegrityError as exc:
        raise _refuse(_l("The framework was changed by someone else during the import. Import the file again."
                         )) from exc
    record("competency_framework.imported", actor_id=actor.id, territory_id=territory.id,
           subject_type="competency_framework", subject_id=framework.id,
           details={"rows": row_count, "created": created, "updated": updated, "restored": restored,
                    "unchanged": unchanged})
    db.session.flush()
    return ImportSummary(created=created, updated=updated, restored=restored, unchanged=unchanged)

