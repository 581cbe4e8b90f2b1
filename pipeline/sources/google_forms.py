"""Google Forms responses → submissions in the KoboToolbox API's shape.

A team downloads each wave's responses (*Responses → ⋮ → Download responses (.csv)*, or the linked
Sheet as CSV or XLSX) and names the file in the study. :func:`read_responses` reads it with the
form's contract (``google_form.json``, written with the Apps Script by
:mod:`pipeline.sources.google_form_script`) into the dicts ``GET /api/v2/assets/{uid}/data/``
returns, so tidy reads Google, ODK and KoboToolbox data the same way.

What Google writes, and what is done with it (each checked by a test on a file of that shape in
``tests/data/google_forms/``):

- the first column is the submission time, headed in the Google account's language
  (``Timestamp``, ``Stempel waktu``, …) and written in the spreadsheet's date format:
  ``M/d/yyyy H:mm:ss`` (English), ``d/M/yyyy H:mm:ss`` (Indonesian; ``H.mm.ss`` read too), or
  ``yyyy/MM/dd h:mm:ss AM GMT+7`` (the Forms download); an XLSX has it as a date-time. Day and
  month are read in the order the header's language uses, unless only the other order reads every
  row, or only the other order keeps the rows in time order (Google appends responses in order):
  then that one, with a note. The time is the form's time zone (``GMT+7`` when written, else the
  study's ``source.timezone``) and becomes ``_submission_time`` in UTC, as KoboToolbox gives it;
- the other headers are question titles, grid rows are ``Title [Row]``: each is looked up in the
  contract (several versions may be given: a form regenerated or edited after creation has other
  titles); a header no version explains stops the read, naming its column;
- checkbox answers are one cell joined by ``", "``; labels may contain ``", "`` too, so a cell is
  split only where every piece is a known label (roster labels end with their id in brackets,
  which is what a nomination resolves by); an answer that is no choice's label, or a nomination
  that is no roster member, stops the read naming the row (as the spreadsheet numbers it) and
  column;
- a title that two sections share (the trust items written out per origin) fills one question:
  two answers to it in one row stop the read; a title that means different questions for
  different origins (``cases``) is resolved by the row's answer to the origin question;
- the frequency grid of a name generator gives each named person's ``…_rinci`` repeat row (alter
  and frequency, in the order of the names); a frequency given for someone not named is left out
  and listed (``unnamed``);
- an ``Email Address`` / ``Alamat email`` column (when the form collected addresses) is personal
  data: its values are never read into the submissions, and a quality row says it stayed in raw;
- a respondent who submitted twice gives two submissions: tidy keeps the later one, as for
  KoboToolbox. Two identical rows (same time, same answers) have the same ``meta/instanceID``.

``_id`` is the spreadsheet row number (header = row 1), so a message naming a submission names
the row to look at; ``meta/instanceID`` is a UUID derived from the submission time and answers.
What a Google Form does not record is absent: ``start``, ``end``, ``_submitted_by`` (None),
validation statuses (``{}``: every response counts; a study that counts Approved only cannot use
this source) and the calculations of the XLSForm.
"""

from __future__ import annotations

import csv
import io
import json
import re
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone as dt_timezone
from pathlib import Path
from typing import Any, Iterable
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from openpyxl import load_workbook

from ..errors import SinergiError
from ..io import decode, note, read_bytes
from ..schemas import quality_row
from .google_form_script import FORMAT

#: the first header of a responses file, by the Google account's language → day/month order
TIMESTAMP_HEADERS = {"timestamp": "mdy", "stempel waktu": "dmy", "marca temporal": "dmy",
                     "horodateur": "dmy", "zeitstempel": "dmy", "carimbo de data/hora": "dmy"}
#: the e-mail column Google adds when the form collects addresses
EMAIL_HEADERS = {"email address", "alamat email", "e-mail address", "email"}
#: namespace of the instance UUIDs made from a response's time and answers
NAMESPACE = uuid.UUID("9b0e5c1e-5a8f-4c37-9d3e-2b1f6f0a7c11")

_ID_SUFFIX = re.compile(r"\(([A-Za-z0-9_.\-]+)\)$")
_TS = re.compile(r"(\d{1,4})[/.-](\d{1,2})[/.-](\d{1,4})[ T]+(\d{1,2})[:.](\d{2})(?:[:.](\d{2}))?"
                 r"(?:\s*([AaPp][Mm]))?(?:\s*(?:GMT|UTC)\s*([+-]\d{1,2})(?::?(\d{2}))?)?")
_INT = re.compile(r"[-+]?\d+")
_DEC = re.compile(r"[-+]?(\d+\.\d*|\.\d+|\d+)")


def _norm(text: Any) -> str:
    return " ".join(str(text).split())


@dataclass
class Sheet:
    """A responses table: its file, headers and rows (``(spreadsheet row number, cells)``)."""

    path: Path
    header: list[str]
    rows: list[tuple[int, list[Any]]]


# --------------------------------------------------------------------------------------------
# reading the file (the edge)


def read_sheet(path: str | Path) -> Sheet:
    """A responses file as downloaded: CSV (UTF-8, as Google writes it) or the Sheet as XLSX.

    Row numbers are the spreadsheet's (header = 1), whatever line breaks a cell holds; rows
    with no value are skipped.
    """
    path = Path(path)
    data = read_bytes(path, missing="responses file not found", folder="is a folder, not a responses file")
    if data[:2] == b"PK":
        return _read_xlsx(path, data)
    text, _ = decode(data, str(path))
    try:
        records = list(csv.reader(io.StringIO(text, newline=""), strict=True))
    except csv.Error as exc:
        raise SinergiError(f"{path}: not a readable CSV ({exc}); download it again from Google Forms") from None
    if not records or not any(c.strip() for c in records[0]):
        raise SinergiError(f"{path}: the file is empty; download the responses again")
    rows = [(n, cells) for n, cells in enumerate(records[1:], start=2) if any(c.strip() for c in cells)]
    for n, cells in rows:
        if len(cells) != len(records[0]):
            raise SinergiError(f"{path}: row {n} has {len(cells)} cells, the header {len(records[0])}; was the "
                               "file edited? download it again")
    return Sheet(path, records[0], rows)


def _read_xlsx(path: Path, data: bytes) -> Sheet:
    try:
        wb = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # noqa: BLE001 — a damaged or non-Excel zip: say so in one line
        raise SinergiError(f"{path}: not a readable XLSX ({type(exc).__name__}); download it again") from None
    for ws in wb.worksheets:
        rows = list(ws.iter_rows(values_only=True))
        if rows and rows[0] and _norm(rows[0][0] or "").lower() in TIMESTAMP_HEADERS:
            header = [_norm(c) if c is not None else "" for c in rows[0]]
            body = [(n, list(r) + [None] * (len(header) - len(r)))
                    for n, r in enumerate(rows[1:], start=2)
                    if any(c is not None and str(c).strip() for c in r)]
            return Sheet(path, header, body)
    raise SinergiError(f"{path}: no sheet starts with a Timestamp column (the form's responses sheet); "
                       f"its sheets are {', '.join(wb.sheetnames)}")


def load_contracts(paths: Iterable[str | Path]) -> list[dict[str, Any]]:
    """The contract files (``google_form.json``), each checked to be one."""
    out = []
    for path in paths:
        text, _ = decode(read_bytes(path, missing="contract file not found (make instruments writes it)"), str(path))
        try:
            body = json.loads(text)
        except json.JSONDecodeError as exc:
            raise SinergiError(f"{path}: not valid JSON ({exc.msg} at line {exc.lineno})") from None
        if not isinstance(body, dict) or body.get("format") != FORMAT:
            raise SinergiError(f"{path}: not a sinergi Google Form contract (format {FORMAT})")
        out.append(body)
    return out


def read_responses(path: str | Path, contracts: list[dict[str, Any]], *, timezone: str, needed: Iterable[str] = ()
                   ) -> tuple[list[dict[str, Any]], list[dict[str, str]], list[dict[str, Any]]]:
    """Read a responses file (:func:`read_sheet`) with its contracts (:func:`parse_responses`)."""
    return parse_responses(read_sheet(path), contracts, timezone=timezone, needed=needed)


# --------------------------------------------------------------------------------------------
# the contract versions


class _Contracts:
    """Every version of the form's contract merged: titles, labels and roster ids."""

    def __init__(self, contracts: list[dict[str, Any]], where: str):
        if not contracts:
            raise SinergiError(f"{where}: no Google Form contract given (google_form.json of the form)")
        self.where = where
        self.columns: dict[str, dict[str, Any]] = {}
        self.people: dict[str, str] = {}  # label shown → id
        self.ids: set[str] = set()
        self.versions = [(c.get("version", "?"), {_norm(t) for t in c.get("columns", {})}) for c in contracts]
        for c in contracts:
            for title, entry in c.get("columns", {}).items():
                old = self.columns.setdefault(_norm(title), entry)
                if old != entry and (old["xpath"], old["kind"]) != (entry["xpath"], entry["kind"]):
                    raise SinergiError(f"{where}: the contract versions disagree on {title!r} ({old['xpath']} and "
                                       f"{entry['xpath']}); give each version of the form its own file")
                if old is not entry:  # the same question: every version's labels are read
                    old.setdefault("choices", {}).update(entry.get("choices", {}))
            for pid, label in c.get("roster", {}).items():
                if self.people.setdefault(_norm(label), pid) != pid:
                    raise SinergiError(f"{where}: roster label {label!r} means {self.people[_norm(label)]} in one "
                                       f"contract version and {pid} in another")
                self.ids.add(pid)
        self.grids = {t: e for t, e in self.columns.items() if e["kind"] == "grid"}

    def person(self, text: str) -> str | None:
        """The roster id a label shown stands for: the label itself, or its ``(id)`` ending."""
        text = _norm(text)
        if text in self.people:
            return self.people[text]
        m = _ID_SUFFIX.search(text)
        return m.group(1) if m and m.group(1) in self.ids else None

    def resolve(self, header: str) -> tuple[dict[str, Any], str | None] | None:
        """``(entry, grid row id)`` of a header; None when no version explains it."""
        h = _norm(header)
        if h in self.columns and self.columns[h]["kind"] != "grid":
            return self.columns[h], None
        for title, entry in self.grids.items():
            if h.startswith(title + " [") and h.endswith("]"):
                pid = self.person(h[len(title) + 2:-1])
                if pid is not None:
                    return entry, pid
        return None

    def version(self, titles: set[str]) -> str:
        """The newest version whose titles explain every column (else the newest)."""
        fitting = [v for v, known in self.versions if titles <= known]
        return (fitting or [v for v, _ in self.versions])[-1]


# --------------------------------------------------------------------------------------------
# timestamps


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise SinergiError(f"source.timezone = {name!r} is not a time zone name (e.g. Asia/Jakarta, "
                           "Asia/Makassar, Asia/Jayapura)") from None


def _stamp(value: Any, order: str) -> tuple[datetime, tuple[int, int] | None] | None:
    """A timestamp cell as ``(local time, UTC offset (h, m) or None)``; None when it does not read."""
    if isinstance(value, datetime):
        return value.replace(tzinfo=None), None
    m = _TS.fullmatch(_norm(value))
    if not m:
        return None
    a, b, c, hh, mi, ss, ampm, oh, om = m.groups()
    if len(a) == 4:
        y, mo, d = int(a), int(b), int(c)
    elif len(c) == 4:
        y, (mo, d) = int(c), ((int(a), int(b)) if order == "mdy" else (int(b), int(a)))
    else:
        return None
    hour = int(hh)
    if ampm:
        if not 1 <= hour <= 12:
            return None
        hour = hour % 12 + (12 if ampm.lower() == "pm" else 0)
    try:
        local = datetime(y, mo, d, hour, int(mi), int(ss or 0))
    except ValueError:
        return None
    offset = (int(oh), int(om or 0) * (1 if int(oh) >= 0 else -1)) if oh else None
    return local, offset


def _times(sheet: Sheet, default: str, tz: ZoneInfo) -> tuple[list[str], str | None]:
    """Every row's submission time in UTC (``YYYY-MM-DDTHH:MM:SS``), and a note when the day/month
    order was taken from the data rather than the header's language."""
    cells = [cells[0] for _, cells in sheet.rows]
    other = "dmy" if default == "mdy" else "mdy"
    parsed = {o: [_stamp(c, o) for c in cells] for o in (default, other)}
    readable = [o for o in (default, other) if all(p is not None for p in parsed[o])]
    if not readable:
        n, cells0 = next((r, c[0]) for (r, c), p in zip(sheet.rows, parsed[default]) if p is None)
        raise SinergiError(f"{sheet.path}: row {n}, {_where(sheet, 0)}: {cells0!r} is not a date and time "
                           "as Google writes it (e.g. 31/12/2026 14:05:09); was the column edited?")
    def ordered(o: str) -> bool:
        times = [p[0] for p in parsed[o]]
        return all(x <= y for x, y in zip(times, times[1:]))
    pick = readable[0]
    if len(readable) == 2 and not ordered(default) and ordered(other):
        pick = other
    note = None if pick == default else (f"{sheet.path}: dates read as {'day/month' if pick == 'dmy' else 'month/day'}"
                                         f"/year (only that reading keeps every row a date in time order)")
    out = []
    for local, offset in parsed[pick]:
        zone = dt_timezone(timedelta(hours=offset[0], minutes=offset[1])) if offset else tz
        out.append(local.replace(tzinfo=zone).astimezone(dt_timezone.utc).strftime("%Y-%m-%dT%H:%M:%S"))
    return out, note


# --------------------------------------------------------------------------------------------
# cells


class _RowError(Exception):
    """A cell that does not read: what is wrong (the caller adds the row and column)."""


def _split(cell: str, resolve, what: str = "one of the question's answers", longest: bool = True) -> list[str]:
    """Split a checkbox cell (labels joined by ``", "``) where every piece is known: ``resolve``
    gives a piece's value or None; the longest (or, ``longest=False``, the shortest) known piece
    is taken first. Raises :class:`_RowError` naming the first piece no split can read.

    >>> by_id = lambda p: p[-3:-1] if p.endswith(")") else None
    >>> _split("Sari, warung (u1), Budi (u2)", by_id, longest=False)
    ['u1', 'u2']
    >>> _split("Sari, warung (u1), Budi (u2)", by_id)  # the longest piece ends with (u2) too
    ['u2']
    """
    n = len(cell)
    ends = [k for k in range(n) if cell.startswith(", ", k)] + [n]
    memo: dict[int, list[str] | None] = {n: []}
    stuck = [0]  # the furthest place a split reached but could not go on from

    def go(i: int) -> list[str] | None:
        if i not in memo:
            memo[i] = None
            stuck[0] = max(stuck[0], i)
            for j in sorted((k for k in ends if k > i), reverse=longest):
                value = resolve(cell[i:j])
                rest = go(j + 2 if j < n else n) if value is not None else None
                if rest is not None:
                    memo[i] = [value, *rest]
                    break
        return memo[i]

    out = go(0)
    if out is None:
        piece = cell[stuck[0]:].split(", ")[0]
        raise _RowError(f"{piece!r} is not {what}")
    return out


def _number(value: Any, kind: str) -> str:
    if isinstance(value, bool):
        raise _RowError(f"{value!r} is not a number")
    if isinstance(value, (int, float)):
        if kind == "integer" and not float(value).is_integer():
            raise _RowError(f"{value!r} is not a whole number")
        return str(int(value)) if float(value).is_integer() else repr(float(value))
    text = _norm(value)
    if _INT.fullmatch(text):
        return str(int(text))
    if _DEC.fullmatch(text) and kind == "decimal":
        return text
    why = "is not a whole number" if _DEC.fullmatch(text) else "is not a number (write digits only, no Rp, dots or spaces)"
    raise _RowError(f"{text!r} {why}")


def _answer(entry: dict[str, Any], value: Any, book: _Contracts) -> str:
    """One cell as the API's string for the question ``entry``."""
    kind = entry["kind"]
    if kind in ("integer", "decimal"):
        return _number(value, kind)
    text = _norm(value)
    if kind == "text":
        return str(value).strip()
    if kind == "select_one":
        if text not in entry["choices"]:
            raise _RowError(f"{text!r} is not one of the question's answers ({', '.join(entry['choices'])})")
        return entry["choices"][text]
    if kind == "roster_one":
        pid = book.person(text)
        if pid is None:
            raise _RowError(f"{text!r} is no one on the roster")
        return pid
    if kind == "select_multiple":
        return " ".join(_split(text, lambda piece: entry["choices"].get(piece)))
    if kind == "roster_multiple":  # labels as the contract has them; else by their (id) ending
        try:
            return " ".join(_split(text, book.people.get))
        except _RowError:
            return " ".join(_split(text, book.person, "anyone on the roster", longest=False))
    raise _RowError(f"question kind {kind!r} is not known to this reader")


# --------------------------------------------------------------------------------------------
# the table → submissions


def _col(k: int) -> str:
    """The spreadsheet letter of column ``k`` (0-based): 0 → A, 26 → AA."""
    out = ""
    k += 1
    while k:
        k, r = divmod(k - 1, 26)
        out = chr(65 + r) + out
    return out


def _where(sheet: Sheet, k: int) -> str:
    return f"column {_col(k)} ({sheet.header[k]!r})"


def _layout(sheet: Sheet, book: _Contracts) -> list[tuple[str, dict[str, Any] | None, str | None]]:
    """What each column is: ``("time", None, None)``, ``("email", None, None)`` or
    ``("question", entry, grid row id or None)``; a header no contract version explains stops."""
    first = _norm(sheet.header[0]).lower() if sheet.header else ""
    if first not in TIMESTAMP_HEADERS:
        raise SinergiError(f"{sheet.path}: the first column is {sheet.header[0] if sheet.header else ''!r}, not the "
                           "Timestamp (Stempel waktu) of a Google Forms responses file; download the responses "
                           "again (Responses → Download responses (.csv), or the linked Sheet as CSV or XLSX)")
    out: list[tuple[str, dict[str, Any] | None, str | None]] = [("time", None, None)]
    for k, header in enumerate(sheet.header[1:], start=1):
        if _norm(header).lower() in EMAIL_HEADERS:
            out.append(("email", None, None))
            continue
        found = book.resolve(header)
        if found is None:
            raise SinergiError(f"{sheet.path}: {_where(sheet, k)}: no version of the form's contract explains this "
                               "column; if the form was edited after it was made, regenerate the script and add its "
                               "google_form.json to the wave's contracts (never rename questions in the form)")
        out.append(("question", found[0], found[1]))
    return out


def _check_needed(sheet: Sheet, layout: list, needed: Iterable[str]) -> None:
    covered: set[str] = set()
    for kind, entry, _ in layout:
        if entry is not None:
            covered.add(entry["xpath"])
            covered.update((entry.get("cases") or {}).get("xpaths", {}).values())
            covered.update(entry[k] for k in ("alter", "weight") if k in entry)
    missing = [x for x in dict.fromkeys(needed) if x not in covered]
    if missing:
        raise SinergiError(f"{sheet.path}: no column for {len(missing)} question(s) the analysis needs "
                           f"({', '.join(missing[:6])}{', …' if len(missing) > 6 else ''}); was a question deleted "
                           "from the form? download the responses of the form the script made")


class _Row:
    """One response being read: its answers by xpath and its frequency-grid cells."""

    def __init__(self, sheet: Sheet, n: int):
        self.sheet, self.n = sheet, n
        self.answers: dict[str, tuple[str, int]] = {}
        self.grids: dict[str, dict[str, str]] = {}

    def fail(self, k: int, why: str) -> SinergiError:
        return SinergiError(f"{self.sheet.path}: row {self.n}, {_where(self.sheet, k)}: {why}")

    def put(self, xpath: str, value: str, k: int) -> None:
        if xpath in self.answers:
            other = self.answers[xpath][1]
            raise SinergiError(f"{self.sheet.path}: row {self.n}: {_where(self.sheet, other)} and "
                               f"{_where(self.sheet, k)} both answer {xpath}; only one of them can be answered")
        self.answers[xpath] = (value, k)


def _read_row(sheet: Sheet, layout: list, book: _Contracts, n: int, cells: list[Any]) -> _Row:
    row = _Row(sheet, n)
    later = []
    for k, (kind, entry, pid) in enumerate(layout):
        cell = cells[k]
        if kind != "question" or cell is None or not str(cell).strip():
            continue
        try:
            if pid is not None:
                label = _norm(cell)
                if label not in entry["choices"]:
                    raise _RowError(f"{label!r} is not one of the grid's answers ({', '.join(entry['choices'])})")
                row.grids.setdefault(entry["xpath"], {})[pid] = entry["choices"][label]
            elif entry.get("cases"):
                later.append((k, entry, cell))
            else:
                row.put(entry["xpath"], _answer(entry, cell, book), k)
        except _RowError as exc:
            raise row.fail(k, str(exc)) from None
    for k, entry, cell in later:  # which question a shared title is depends on another answer
        question = entry["cases"]["question"]
        which = row.answers.get(question, (None,))[0]
        xpath = entry["cases"]["xpaths"].get(which)
        if xpath is None:
            raise row.fail(k, f"answered, but the answer to {question} ({which!r}) does not say which question "
                              "this is")
        try:
            row.put(xpath, _answer(entry, cell, book), k)
        except _RowError as exc:
            raise row.fail(k, str(exc)) from None
    return row


def _submission(row: _Row, book: _Contracts, when: str, version: str,
                unnamed: list[dict[str, Any]]) -> dict[str, Any]:
    """The API-shaped submission of a row (see the module docstring)."""
    sub: dict[str, Any] = {xpath: value for xpath, (value, _) in row.answers.items()}
    for entry in book.grids.values():
        named = str(sub.get(entry["field"], "")).split()
        freq = row.grids.get(entry["xpath"], {})
        reps = [{entry["alter"]: pid, **({entry["weight"]: freq[pid]} if pid in freq else {})} for pid in named]
        if reps:
            sub[entry["xpath"]] = reps
        extra = [pid for pid in freq if pid not in named]
        if extra:
            unnamed.append({"submission_id": row.n, "field": entry["xpath"], "count": len(extra)})
    key = json.dumps([when, sub], sort_keys=True, ensure_ascii=False)
    uid = str(uuid.uuid5(NAMESPACE, key))
    return {"_id": row.n, "_uuid": uid, "_submission_time": when, "_validation_status": {},
            "_submitted_by": None, "__version__": version, "meta/instanceID": f"uuid:{uid}",
            "meta/rootUuid": f"uuid:{uid}", **sub}


def parse_responses(sheet: Sheet, contracts: list[dict[str, Any]], *, timezone: str, needed: Iterable[str] = ()
                    ) -> tuple[list[dict[str, Any]], list[dict[str, str]], list[dict[str, Any]]]:
    """Submissions in the KoboToolbox API's shape from a Google Forms responses table.

    Parameters
    ----------
    sheet
        The table (:func:`read_sheet`).
    contracts
        Every version of the form's contract (``google_form.json``), oldest first.
    timezone
        The form's time zone (IANA name, e.g. ``Asia/Jakarta``): the study's ``source.timezone``.
    needed
        Xpaths the analysis reads (tidy's ``needed_xpaths``): a file without a column for one stops.

    Returns
    -------
    submissions : list of dict
        One per row, in row order: ``_id`` (the spreadsheet row), ``_uuid``, ``meta/instanceID``,
        ``meta/rootUuid``, ``_submission_time`` (UTC), ``_validation_status`` (``{}``),
        ``_submitted_by`` (None), ``__version__`` (the contract version), and the answers by
        xpath as the API's strings; each name generator's repeat as a list of
        ``{alter xpath: id, weight xpath: frequency}`` in the order of the names.
    quality : list of dict
        Quality rows (:func:`pipeline.schemas.quality_row`, without the wave): an e-mail column
        held back (``column_personal`` / ``kept_raw_only``).
    unnamed : list of dict
        Frequencies given in a grid for people the row did not name, left out:
        ``submission_id`` (the row), ``field`` (the repeat's xpath), ``count``.

    Raises
    ------
    SinergiError
        One line naming the file, row, column and value (see the module docstring).
    """
    book = _Contracts(contracts, str(sheet.path))
    layout = _layout(sheet, book)
    _check_needed(sheet, layout, needed)
    if not sheet.rows:
        raise SinergiError(f"{sheet.path}: no responses yet; download the file again once the wave's answers are in")
    times, order_note = _times(sheet, TIMESTAMP_HEADERS[_norm(sheet.header[0]).lower()], _zone(timezone))
    if order_note:
        note(order_note)
    version = book.version({_norm(h) for (kind, e, pid), h in zip(layout, sheet.header)
                            if kind == "question" and pid is None}
                           | {t for t, e in book.grids.items() if any(x is e for _, x, _ in layout)})
    quality = [quality_row("column_personal", "kept_raw_only", field=f"{sheet.path.name}: {sheet.header[k]}",
                           value="it holds e-mail addresses")
               for k, (kind, _, _) in enumerate(layout) if kind == "email"]
    unnamed: list[dict[str, Any]] = []
    subs = [_submission(_read_row(sheet, layout, book, n, cells), book, when, version, unnamed)
            for (n, cells), when in zip(sheet.rows, times)]
    return subs, quality, unnamed
