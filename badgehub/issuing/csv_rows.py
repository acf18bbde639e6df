"""Reading a CSV list of participants: bytes or pasted text in, named cells and row problems out.

Pure code (no Flask, no database): :mod:`badgehub.issuing.batches` turns what this returns into a batch and
checks every row with the same rules as a single award.

* **Encodings**, in this order: a byte-order mark (UTF-8, UTF-16 LE/BE: Excel's "Unicode text"); UTF-16
  without a mark when every other byte of the start is NUL; strict UTF-8; else Windows-1252 (what Excel writes
  on Windows in Western Europe), with ISO-8859-1 for the five bytes cp1252 leaves undefined.
* **Separators**: ``,``, ``;`` (Excel in French) or a tab, whichever the header line has most of (outside
  quotes).
* **Header**: the first non-empty line names the columns, in English or French, any case, with or without
  accents, spaces, dashes or underscores (see :data:`ALIASES`). ``prénom`` and ``nom`` in two columns make
  the name. Columns nobody knows are ignored and listed.
* **Refused at once** (:class:`CsvRefused`, with a code): too large, not text (NUL bytes, control
  characters, a spreadsheet or archive), too many rows, a line too long, no header, no e-mail column.
* **Row problems** found here (:class:`RowProblem`, attached to the row and the column): a date that is not
  a date, an unknown area, an address given twice in the file. The award rules themselves (valid e-mail,
  dates not in the future, lengths…) are :func:`badgehub.issuing.service.check_award`'s.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import io
import re
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from dataclasses import field as _field
from typing import Any, Final

from badgehub import fields

MAX_BYTES: Final = 2 * 1024 * 1024
MAX_ROWS: Final = 5000
MAX_LINE: Final = 10_000
# A cell is kept for the preview up to this length (longer ones are refused by the award rules anyway).
MAX_CELL: Final = 5000

FIELDS: Final = ("recipient_email", "recipient_name", "first_name", "last_name", "activity_start",
                 "activity_end", "evidence_url", "narrative", "area", "result")
# What a header may say for each field, written as :func:`header_key` leaves it (lower case, no accent, no
# space, dash, underscore or dot).
ALIASES: Final[dict[str, tuple[str, ...]]] = {
    "recipient_email": ("email", "mail", "courriel", "emailaddress", "adresseemail", "adressemail",
                        "adressecourriel", "adresseelectronique", "recipientemail", "mel"),
    "recipient_name": ("name", "nom", "fullname", "nomcomplet", "prenomnom", "nomprenom", "participant",
                       "recipientname", "recipient", "beneficiaire"),
    "first_name": ("prenom", "firstname", "givenname"),
    "last_name": ("nomdefamille", "lastname", "surname", "familyname"),
    "activity_start": ("date", "activitystart", "start", "startdate", "debut", "datedebut", "datededebut",
                       "activitydate", "dateactivite", "datedelactivite"),
    "activity_end": ("end", "enddate", "activityend", "fin", "datefin", "datedefin"),
    "evidence_url": ("evidence", "evidenceurl", "preuve", "url", "lien", "link", "urldelapreuve"),
    "narrative": ("narrative", "recit", "commentaire", "commentaires", "comment", "comments", "notes"),
    "area": ("area", "zone", "quartier", "commune", "secteur", "territoire"),
    "result": ("result", "resultat", "niveau", "level", "score"),
}
EXPECTED_HEADERS: Final = ("email", "name", "date", "end", "evidence", "narrative", "area", "result")
DELIMITERS: Final = (",", ";", "\t")
_DATE_FORMATS: Final = ("%Y-%m-%d", "%d/%m/%Y", "%d-%m-%Y", "%d.%m.%Y", "%Y/%m/%d", "%d/%m/%y")
# Files that are not CSV but are often picked by mistake: say what they are.
_SIGNATURES: Final = ((b"PK\x03\x04", "spreadsheet"), (b"\xd0\xcf\x11\xe0", "spreadsheet"), (b"%PDF", "pdf"),
                      (b"\x89PNG", "image"), (b"\xff\xd8\xff", "image"), (b"GIF8", "image"))


class CsvRefused(Exception):
    """The whole file is refused; ``code`` says why and ``params`` gives the figures for the message.

    Codes: ``too_large`` (max_bytes), ``empty``, ``not_text`` (kind: binary/spreadsheet/pdf/image),
    ``too_many_rows`` (max_rows), ``line_too_long`` (line, max_line), ``malformed`` (line),
    ``missing_email_column`` (found, expected), ``duplicate_column`` (field, headers).
    """

    def __init__(self, code: str, **params: Any) -> None:
        self.code = code
        self.params = params
        super().__init__(code)


@dataclass(frozen=True)
class RowProblem:
    """One problem of one row: the field it concerns (a :data:`FIELDS` name or ``None``), a code and values."""

    field: str | None
    code: str
    params: dict[str, Any] = _field(default_factory=dict)


@dataclass
class ParsedRow:
    """One data row: its line number in the file (the header is line 1), its cells by field, the typed
    values read from them and its problems."""

    number: int
    cells: dict[str, str]
    activity_start: dt.date | None = None
    activity_end: dt.date | None = None
    area_id: int | None = None
    problems: list[RowProblem] = _field(default_factory=list)

    @property
    def email(self) -> str:
        return self.cells.get("recipient_email", "")

    @property
    def name(self) -> str:
        return self.cells.get("recipient_name", "")


@dataclass
class ParsedFile:
    """What a file held: how it was read, which header went to which field, the ignored headers, the rows."""

    encoding: str
    delimiter: str
    columns: dict[str, str]
    ignored: list[str]
    rows: list[ParsedRow]


@dataclass(frozen=True)
class AreaChoice:
    """An area a row may name, by its code or its name."""

    id: int
    code: str
    name: str


def header_key(text: str) -> str:
    """A header or a name as compared: no accents, lower case, only letters and digits."""
    decomposed = unicodedata.normalize("NFKD", text.strip().lstrip("\ufeff"))
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return re.sub(r"[^0-9a-z]", "", plain.casefold())


_ALIAS_TO_FIELD: Final = {alias: name for name, aliases in ALIASES.items() for alias in aliases}


# ------------------------------------------------------------------------------------------------ decoding


def _looks_binary(data: bytes) -> str | None:
    for signature, kind in _SIGNATURES:
        if data.startswith(signature):
            return kind
    return None


def decode(data: bytes) -> tuple[str, str]:
    """Return ``(text, encoding name)`` for an uploaded file (see the module docstring for the order).

    Raises :class:`CsvRefused` ``not_text`` for something that is clearly not a text file.
    """
    kind = _looks_binary(data)
    if kind is not None:
        raise CsvRefused("not_text", kind=kind)
    if data.startswith(codecs.BOM_UTF8):
        return _strict(data[len(codecs.BOM_UTF8):], "utf-8"), "UTF-8"
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return _strict(data, "utf-16"), "UTF-16"
    head = data[:200]
    if len(head) >= 4 and head[1::2].count(0) == len(head[1::2]) and head[0::2].count(0) == 0:
        return _strict(data, "utf-16-le"), "UTF-16"
    if len(head) >= 4 and head[0::2].count(0) == len(head[0::2]) and head[1::2].count(0) == 0:
        return _strict(data, "utf-16-be"), "UTF-16"
    if b"\x00" in data:
        raise CsvRefused("not_text", kind="binary")
    try:
        return data.decode("utf-8"), "UTF-8"
    except UnicodeDecodeError:
        pass
    # cp1252 leaves 0x81, 0x8D, 0x8F, 0x90 and 0x9D undefined; read those as Latin-1 (control characters,
    # which the text check below then refuses if there are many).
    text = "".join(chunk.decode("cp1252", errors="strict") if not _undefined_in_cp1252(chunk)
                   else chunk.decode("latin-1") for chunk in _split_bytes(data))
    return text, "Windows-1252"


def _undefined_in_cp1252(chunk: bytes) -> bool:
    return any(b in (0x81, 0x8D, 0x8F, 0x90, 0x9D) for b in chunk)


def _split_bytes(data: bytes) -> Iterable[bytes]:
    # One decoding decision per line keeps a stray byte from turning the whole file into Latin-1.
    return data.splitlines(keepends=True) or [data]


def _strict(data: bytes, encoding: str) -> str:
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as exc:
        raise CsvRefused("not_text", kind="binary") from exc


def _check_text(text: str) -> None:
    """Refuse text that is mostly control characters (binary data decoded as Windows-1252 or UTF-8)."""
    if "\x00" in text:
        raise CsvRefused("not_text", kind="binary")
    sample = text[:65536]
    controls = sum(1 for ch in sample if unicodedata.category(ch) in ("Cc", "Cs", "Co") and ch not in "\t\r\n")
    if controls > max(8, len(sample) // 200):
        raise CsvRefused("not_text", kind="binary")


# ------------------------------------------------------------------------------------------------- parsing


def _delimiter(header_line: str) -> str:
    counts = {d: 0 for d in DELIMITERS}
    quoted = False
    for ch in header_line:
        if ch == '"':
            quoted = not quoted
        elif not quoted and ch in counts:
            counts[ch] += 1
    best = max(DELIMITERS, key=lambda d: counts[d])
    return best if counts[best] > 0 else ","


def _map_headers(headers: Sequence[str]) -> tuple[dict[str, int], dict[str, str], list[str]]:
    positions: dict[str, int] = {}
    shown: dict[str, str] = {}
    ignored: list[str] = []
    for index, header in enumerate(headers):
        key = header_key(header)
        name = _ALIAS_TO_FIELD.get(key)
        if name is None:
            if header.strip():
                ignored.append(header.strip()[:100])
            continue
        if name in positions:
            raise CsvRefused("duplicate_column", field=name, headers=[shown[name], header.strip()[:100]])
        positions[name] = index
        shown[name] = header.strip()[:100]
    # "Prénom" beside "Nom": "Nom" is the family name.
    if "first_name" in positions and "recipient_name" in positions and "last_name" not in positions:
        positions["last_name"] = positions.pop("recipient_name")
        shown["last_name"] = shown.pop("recipient_name")
    return positions, shown, ignored


def parse_date(value: str) -> dt.date | None:
    """A day written ``2025-03-31``, ``31/03/2025``, ``31-03-2025``, ``31.03.2025`` or ``31/03/25`` (days come
    first, as in France), or an ISO date-time whose day is kept. ``None`` when it is none of these."""
    text = value.strip()
    for fmt in _DATE_FORMATS:
        try:
            return dt.datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    try:
        return dt.datetime.fromisoformat(text).date()
    except ValueError:
        return None


def _area(value: str, areas: Sequence[AreaChoice]) -> AreaChoice | None:
    key = header_key(value)
    for area in areas:
        if header_key(area.code) == key:
            return area
    for area in areas:
        if header_key(area.name) == key:
            return area
    return None


def _lines(text: str, max_line: int) -> list[str]:
    lines = text.splitlines(keepends=True)
    for number, line in enumerate(lines, start=1):
        if len(line) > max_line:
            raise CsvRefused("line_too_long", line=number, max_line=max_line)
    return lines


def read_csv(source: bytes | str, *, areas: Sequence[AreaChoice] = (), max_bytes: int = MAX_BYTES,
             max_rows: int = MAX_ROWS, max_line: int = MAX_LINE,
             email_key: Callable[[str], str] = fields.email_key) -> ParsedFile:
    """Read an uploaded file (``bytes``) or pasted text (``str``) into a :class:`ParsedFile`.

    ``areas`` are the areas rows may name; ``email_key`` is the rule that says two addresses are the same
    (by default :func:`badgehub.fields.email_key`). Blank lines are skipped. Raises
    :class:`CsvRefused` for a file that cannot be read as a list of participants (see its codes).
    """
    size = len(source.encode("utf-8", errors="replace")) if isinstance(source, str) else len(source)
    if size > max_bytes:
        raise CsvRefused("too_large", max_bytes=max_bytes)
    if isinstance(source, str):
        text, encoding = source.lstrip("\ufeff"), "UTF-8"
    else:
        text, encoding = decode(source)
    _check_text(text)
    lines = _lines(text, max_line)
    start = next((i for i, line in enumerate(lines) if line.strip()), None)
    if start is None:
        raise CsvRefused("empty")
    delimiter = _delimiter(lines[start])
    reader = csv.reader(io.StringIO("".join(lines[start:])), delimiter=delimiter, strict=False)
    try:
        headers = next(reader)
    except csv.Error as exc:
        raise CsvRefused("malformed", line=start + 1) from exc
    positions, shown, ignored = _map_headers(headers)
    if "recipient_email" not in positions:
        found = [h.strip()[:100] for h in headers if h.strip()]
        raise CsvRefused("missing_email_column", found=found, expected=list(EXPECTED_HEADERS))
    rows: list[ParsedRow] = []
    previous_line = reader.line_num
    try:
        for record in reader:
            number = start + previous_line + 1
            previous_line = reader.line_num
            if not any(cell.strip() for cell in record):
                continue
            if len(rows) >= max_rows:
                raise CsvRefused("too_many_rows", max_rows=max_rows)
            rows.append(_row(number, record, positions, areas))
    except csv.Error as exc:
        raise CsvRefused("malformed", line=start + reader.line_num) from exc
    _mark_duplicates(rows, email_key)
    columns = dict(shown)
    return ParsedFile(encoding=encoding, delimiter=delimiter, columns=columns, ignored=ignored, rows=rows)


def _row(number: int, record: Sequence[str], positions: dict[str, int], areas: Sequence[AreaChoice]) -> ParsedRow:
    cells: dict[str, str] = {}
    for name, index in positions.items():
        cells[name] = record[index].strip()[:MAX_CELL] if index < len(record) else ""
    first, last = cells.pop("first_name", ""), cells.pop("last_name", "")
    if first or last:
        cells["recipient_name"] = " ".join(part for part in (first, last) if part)
    row = ParsedRow(number=number, cells=cells)
    for name in ("activity_start", "activity_end"):
        value = cells.get(name, "")
        if value:
            day = parse_date(value)
            if day is None:
                row.problems.append(RowProblem(name, "not_a_date", {"value": value[:40]}))
            setattr(row, name, day)
    area_text = cells.get("area", "")
    if area_text:
        found = _area(area_text, areas)
        if found is None:
            row.problems.append(RowProblem("area", "unknown_area", {"value": area_text[:100]}))
        else:
            row.area_id = found.id
    return row


def _mark_duplicates(rows: list[ParsedRow], email_key: Callable[[str], str]) -> None:
    first_seen: dict[str, int] = {}
    for row in rows:
        key = email_key(row.email)
        if not key:
            continue
        if key in first_seen:
            row.problems.append(RowProblem("recipient_email", "duplicate_in_file", {"row": first_seen[key]}))
        else:
            first_seen[key] = row.number


# ------------------------------------------------------------------------------------------------- export

_FORMULA_START: Final = ("=", "+", "-", "@", "\t", "\r")


def inert(value: object) -> str:
    """A cell as text that no spreadsheet runs as a formula: a leading ``= + - @``, tab or carriage return
    gets a ``'`` in front (OWASP's CSV injection advice)."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def write_csv(header: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    """A CSV document (comma, CRLF, UTF-8 text; the caller adds a BOM for Excel) with every cell made
    :func:`inert`."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([inert(h) for h in header])
    for row in rows:
        writer.writerow([inert(cell) for cell in row])
    return out.getvalue()
