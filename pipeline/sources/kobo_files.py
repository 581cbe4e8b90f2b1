"""KoboToolbox exports downloaded from the website → submissions in the API's JSON shape.

For teams without an API token: they download the XLSX or CSV export (Project → Data →
Downloads) and name it in ``study.yaml`` (``source: {kind: kobo_files}``, ``waves[].file``).
:func:`read_export` turns it back into what ``GET /api/v2/assets/{uid}/data/`` returns, so the
rest of the pipeline is the same for both sources.

Every export option of the website is understood (kpi ``kpi/models/import_export_task.py``,
formpack ``reporting/export.py`` and ``schema/fields.py``; checked against real formpack exports
in ``tests/data/kobo_exports/``):

- ``lang``: XML names, or labels in any of the form's translations (headers and choice answers;
  an answer is read as the choice whose *label* it is before the choice whose name it is);
- ``hierarchy_in_labels`` ("Include groups in headers"): ``group/q`` headers, or bare names/labels;
- ``group_sep``: any separator (found from the headers);
- ``multiple_select``: ``summary`` (one space-separated column), ``details`` (one 1/0 column per
  choice) or ``both``;
- "Include fields from all versions": columns of questions the form no longer has are ignored,
  each with a note;
- a custom question selection: fine as long as every question the analysis reads is there
  (``needed``), otherwise the read stops listing the missing ones;
- "Store date and number responses as date and number" (typed XLSX): numbers come back as the
  API's strings; number-like choice names and roster ids (``010`` written as ``10``) are restored
  through the choice list and the roster;
- the HXL tag row under the headers;
- CSV with ``;`` (the default) or ``,`` between cells; XLSX with repeat groups as extra sheets
  (``_index``, ``_parent_table_name``, ``_parent_index``, ``_submission_*`` columns).

A CSV export holds the main sheet only: repeat groups, and with them the ties' contact
frequencies, are not in it. That is read with a note (:data:`CSV_NO_REPEATS`) and the weights
stay unknown.

What an export cannot carry is absent from the result: ``_attachments``, ``_geolocation``,
``formhub/uuid``, validation timestamps, the ``<repeat>_count`` helper fields pyxform adds, and
the time-zone offset of ``start``/``end`` in a typed XLSX. ``meta/instanceID`` is restored from
``_uuid`` (kpi sets ``_uuid`` from it).
"""

from __future__ import annotations

import csv
import io
import os
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, time
from pathlib import Path
from typing import Any, Iterable, Mapping

import pandas as pd
from openpyxl import load_workbook

from ..errors import SinergiError
from ..io import read_text
from ..schemas import quality_row

GROUP_SEP = "/"
NO_ROWS_FIX = "download it again once the wave's submissions are on the server (and with no filter on the data)"
#: quality notes (``issue`` codes of the quality table, see pipeline.schemas.QUALITY_ISSUES)
CSV_NO_REPEATS = "csv_no_weights"
UNKNOWN_COLUMN = "unknown_column"
VALIDATION_LABELS = {
    "validation_status_approved": "Approved",
    "validation_status_not_approved": "Not Approved",
    "validation_status_on_hold": "On Hold",
}
#: copy fields formpack adds for KPI, restored as the API gives them
META_STR = ("_uuid", "_submission_time", "__version__", "_status", "_submitted_by", "meta/rootUuid",
            "meta/instanceID", "meta/deprecatedID", "formhub/uuid", "_xform_id_string")
#: auto fields of the export layout, dropped
AUTO = ("_index", "_parent_table_name", "_parent_index")
SKIP_TYPES = {"note", "end_group", "end_repeat", "begin_group", "begin_repeat"}
GEO_TYPES = {"geopoint"}


@dataclass(frozen=True)
class _Field:
    xpath: str
    name: str
    type: str
    list_name: str | None
    section: str  # xpath of the enclosing repeat, "" for the main sheet
    ancestors: tuple[dict[str, Any], ...]  # group/repeat rows, outermost first
    row: dict[str, Any]


@dataclass(frozen=True)
class _Target:
    kind: str  # "field" | "choice" | "geo" | "ignore" | "unknown"
    field: _Field | None = None
    choice: str | None = None


class _Form:
    """The parts of asset ``content`` an export is read with."""

    def __init__(self, content: Mapping[str, Any]):
        self.translations: list[str | None] = list(content.get("translations") or [None])
        self.choices: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for c in content.get("choices") or []:
            self.choices[c.get("list_name")].append(c)
        self.fields: list[_Field] = []
        self.notes: list[_Field] = []
        self.repeats: dict[str, dict[str, Any]] = {}  # xpath -> {"row", "parent"}
        stack: list[tuple[dict[str, Any], str]] = []  # (row, xpath)
        for row in content.get("survey") or []:
            rtype = str(row.get("type", "")).strip()
            parts = rtype.split()
            base = parts[0] if parts else ""
            if base in ("end_group", "end_repeat"):
                if stack:
                    stack.pop()
                continue
            name = row.get("name") or row.get("$autoname")
            if not name:
                continue
            xpath = "/".join([x for _, x in stack[-1:]] + [name]) if stack else name
            section = next((x for r, x in reversed(stack) if r.get("type") == "begin_repeat"), "")
            if base in ("begin_group", "begin_repeat"):
                if base == "begin_repeat":
                    self.repeats[xpath] = {"row": row, "parent": section, "name": name}
                stack.append(({**row, "type": base}, xpath))
                continue
            list_name = row.get("select_from_list_name") or (parts[1] if len(parts) > 1 and
                                                               base.startswith("select_") and
                                                               not base.endswith("_from_file") else None)
            f = _Field(xpath=xpath, name=name, type=base, list_name=list_name, section=section,
                       ancestors=tuple(r for r, _ in stack), row=row)
            (self.notes if base == "note" else self.fields).append(f)
        self.by_xpath = {f.xpath: f for f in self.fields}
        self._headers: dict[tuple[int | None, bool, str], dict[str, dict[str, list[_Target]]]] = {}

    # -- labels ----------------------------------------------------------------------------
    def label(self, row: Mapping[str, Any], lang: int | None) -> str | None:
        if lang is None:
            return None
        lab = row.get("label")
        if isinstance(lab, list):
            value = lab[lang] if lang < len(lab) else None
        elif isinstance(lab, str):
            value = lab
        else:
            value = None
        return value if value else None

    def header(self, f: _Field, lang: int | None, hier: bool, sep: str = GROUP_SEP) -> str:
        own = self.label(f.row, lang) or f.name
        if not hier:
            return own
        path = [self.label(a, lang) or a.get("name") or a.get("$autoname") for a in f.ancestors]
        return sep.join([*path, own])

    def choice_label(self, c: Mapping[str, Any], lang: int | None) -> str:
        return self.label(c, lang) or str(c.get("name"))

    def headers(self, lang: int | None, hier: bool, sep: str = GROUP_SEP) -> dict[str, dict[str, list[_Target]]]:
        """``{section: {header: [targets in form order]}}`` for one export mode."""
        key = (lang, hier, sep)
        if key in self._headers:
            return self._headers[key]
        out: dict[str, dict[str, list[_Target]]] = defaultdict(lambda: defaultdict(list))
        for f in self.fields:
            h = self.header(f, lang, hier, sep)
            sec = out[f.section]
            sec[h].append(_Target("field", f))
            if f.type == "select_multiple" and f.list_name:
                for c in self.choices.get(f.list_name, []):
                    sec[h + sep + self.choice_label(c, lang)].append(_Target("choice", f, str(c["name"])))
            if f.type in GEO_TYPES:
                own = self.label(f.row, lang) or f.name
                prefix = h[: -len(own)] if hier and h.endswith(own) else ""
                for part in ("latitude", "longitude", "altitude", "precision"):
                    sec[f"{prefix}_{own}_{part}"].append(_Target("geo", f))
        for n in self.notes:
            out[n.section][self.header(n, lang, hier, sep)].append(_Target("ignore"))
        self._headers[key] = out
        return out

    def separators(self, header: Iterable[str]) -> list[str]:
        """Group separators the headers show: what stands between a group's label and a question's
        (or a question's and a choice's), most frequent first; ``/`` always among them."""
        seen: dict[str, int] = defaultdict(int)
        heads = [h for h in header if h and not _is_meta(h)]
        for lang in [None, *range(len(self.translations))]:
            pairs = []
            for f in self.fields + self.notes:
                own = self.label(f.row, lang) or f.name
                if f.ancestors:
                    a = f.ancestors[-1]
                    pairs.append((self.label(a, lang) or a.get("name") or "", own))
                if f.type == "select_multiple" and f.list_name:
                    pairs += [(own, self.choice_label(c, lang)) for c in self.choices.get(f.list_name, [])[:1]]
            for prefix, suffix in pairs:
                for h in heads:
                    end = len(h) - len(suffix)
                    start = h.rfind(prefix, 0, end) if h.endswith(suffix) else -1
                    if start >= 0 and 0 < end - start - len(prefix) <= 5:
                        seen[h[start + len(prefix): end]] += 1
        ranked = sorted(seen, key=lambda m: -seen[m])[:3]
        return ranked + ([GROUP_SEP] if GROUP_SEP not in ranked else [])


# --------------------------------------------------------------------------------------------
# cells


def _cell(value: Any) -> str | None:
    """An export cell as the API's string (``4`` → ``"4"``, never ``"4.0"``); empty → ``None``."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if value != value:  # NaN
            return None
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, (date, time)):
        return value.isoformat()
    text = str(value)
    return text if text.strip() else None


def _number_text(text: str) -> str | None:
    """``text`` as a typed XLSX writes it back (formpack ``try_get_number``): ``"010"`` → ``"10"``;
    ``None`` when it is not a number."""
    try:
        return str(int(text))
    except ValueError:
        pass
    try:
        return _cell(float(text))
    except ValueError:
        return None


def _by_number(value: str, names: Iterable[str]) -> str | None:
    """The one name that a typed export turned into ``value`` (``10`` for ``010``), if any."""
    hits = [n for n in names if n != value and _number_text(n) == value]
    return hits[0] if len(hits) == 1 else None


def _segment(text: str, options: list[tuple[str, str]]) -> list[str] | None:
    """Split a space-joined list of labels (which may contain spaces) into choice names."""
    opts = sorted(options, key=lambda o: -len(o[0]))
    memo: dict[int, list[str] | None] = {}

    def go(pos: int) -> list[str] | None:
        if pos == len(text):
            return []
        if pos in memo:
            return memo[pos]
        memo[pos] = None
        for label, name in opts:
            end = pos + len(label)
            if label and text.startswith(label, pos) and (end == len(text) or text[end] == " "):
                rest = go(end + 1 if end < len(text) else end)
                if rest is not None:
                    memo[pos] = [name, *rest]
                    break
        return memo[pos]

    return go(0)


# --------------------------------------------------------------------------------------------
# reading tables


def _read_csv(path: Path) -> list[tuple[str, list[str], list[list[Any]]]]:
    text = read_text(path)  # the one reader of user files: BOM, UTF-16, Windows-1252 (noted), control characters
    first = text.split("\n", 1)[0]
    candidates = []
    for delim in (";", ",", "\t"):
        rows = list(csv.reader(io.StringIO(text), delimiter=delim))
        header = rows[0] if rows else []
        candidates.append((first.count(delim), len(header), delim, rows))
    # the table is parsed with each delimiter; read_export keeps the parse whose headers the
    # form recognises best (labels may contain commas, so counting delimiters is not enough)
    return [(path.name, rows[0] if rows else [], rows[1:]) for _, _, delim, rows in
            sorted(candidates, key=lambda c: -c[1])]


def _read_xlsx(path: Path) -> list[tuple[str, list[str], list[list[Any]]]]:
    try:
        wb = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # noqa: BLE001 - openpyxl raises many kinds
        raise SinergiError(f"{path}: not a readable XLSX file ({type(exc).__name__}: {exc})") from None
    sheets = []
    try:
        for ws in wb.worksheets:
            rows = [list(r) for r in ws.iter_rows(values_only=True)]
            while rows and all(v is None for v in rows[-1]):
                rows.pop()
            if not rows:
                continue
            header = [("" if h is None else str(h)) for h in rows[0]]
            while header and header[-1] == "":
                header.pop()
            sheets.append((ws.title, header, [r[: len(header)] for r in rows[1:]]))
    finally:
        wb.close()
    return sheets


def _is_meta(h: str) -> bool:
    return h.startswith("_") or h in META_STR


def _drop_tag_row(rows: list[list[Any]]) -> None:
    """Remove the HXL tag row formpack writes under the headers (every filled cell a ``#tag``)."""
    if rows:
        filled = [c for c in rows[0] if _cell(c) is not None]
        if filled and all(isinstance(c, str) and c.startswith("#") for c in filled):
            rows.pop(0)


#: an export layout: (label language index, or None for XML names; groups in headers; group separator)
Mode = tuple[int | None, bool, str]


def _resolve(form: _Form, header: list[str], mode: Mode, section: str) -> list[_Target | str]:
    """Column → target (kind ``"unknown"`` for a column of no question of the form), or the
    column's name for a meta column or one without a header."""
    sec_map = form.headers(*mode).get(section, {})
    used: dict[str, int] = defaultdict(int)
    out: list[_Target | str] = []
    for h in header:
        if h in sec_map and used[h] < len(sec_map[h]):
            # the k-th column of a header is the k-th question with it; one more (a question of an
            # older form version with the same label, which formpack puts after it) is unknown
            out.append(sec_map[h][used[h]])
            used[h] += 1
        elif h in sec_map:
            out.append(_Target("unknown"))
        elif _is_meta(h) or h == "":
            out.append(h)
        else:
            out.append(_Target("unknown"))
    return out


def _matched(title: str, header: list[str], targets: list[_Target | str]) -> tuple[list[tuple[str, str]], set[str]]:
    """A sheet's unknown columns as ``(sheet, header)`` and the xpaths it has a column for."""
    unknown = [(title, h) for h, t in zip(header, targets) if isinstance(t, _Target) and t.kind == "unknown"]
    return unknown, {t.field.xpath for t in targets if isinstance(t, _Target) and t.field is not None}


def _score(form: _Form, header: list[str], section: str, mode: Mode) -> int:
    sec_map = form.headers(*mode).get(section, {})
    return sum(1 for h in header if h in sec_map)


def _modes(form: _Form, headers: Iterable[str]) -> list[Mode]:
    langs: list[int | None] = [None, *range(len(form.translations))]
    return [(lang, hier, sep) for lang in langs for hier in (True, False) for sep in form.separators(headers)]


def _best_mode(form: _Form, path: Path, sheets: list[tuple[str, list[str], list[list[Any]]]]) -> Mode:
    """The layout whose headers match the most columns over every sheet."""
    main_header = sheets[0][1]
    modes = _modes(form, [h for _, header, _ in sheets for h in header])
    totals = []
    for m in modes:
        total = _score(form, main_header, "", m)
        for title, header, _ in sheets[1:]:
            sec = _sheet_section(form, title, header, m)
            if sec is not None:
                total += _score(form, header, sec, m)
        totals.append(total)
    best = max(range(len(modes)), key=lambda i: (totals[i], -i))
    if totals[best] == 0:
        raise SinergiError(f"{path}: no column matches a question of the form (is this the export of "
                           "another project?)")
    return modes[best]


def _sheet_section(form: _Form, title: str, header: list[str], mode: Mode) -> str | None:
    for xpath, info in form.repeats.items():
        if info["name"][:31] == title:
            return xpath
    best, best_score = None, 0
    for xpath in form.repeats:
        s = _score(form, header, xpath, mode)
        if s > best_score:
            best, best_score = xpath, s
    return best


class _Reader:
    def __init__(self, form: _Form, path: Path, lang: int | None,
                 roster_names: Mapping[str, str] | Iterable[str] | None):
        self.form, self.path, self.lang = form, path, lang
        self.roster_label_to_name: dict[str, str] = {}
        self.roster_names: set[str] = set()
        if isinstance(roster_names, Mapping):
            self.roster_names = {str(k) for k in roster_names}
            self.roster_label_to_name = {str(v): str(k) for k, v in roster_names.items()}
        elif roster_names is not None:
            self.roster_names = {str(n) for n in roster_names}

    def _choice_name(self, f: _Field, value: str) -> str:
        """A ``select_one`` cell → the choice name: the choice whose label it is (label exports),
        else whose name it is, else whose number-like name a typed export wrote as a number."""
        choices = self.form.choices.get(f.list_name or "", [])
        names = [str(c["name"]) for c in choices]
        if self.lang is not None:
            for c in choices:
                if self.form.label(c, self.lang) == value:
                    return str(c["name"])
        if value in names or not f.list_name:
            return value
        restored = _by_number(value, names)
        if restored is not None:
            return restored
        if self.lang is None:
            return value  # tidy names the submission and the allowed choices
        raise SinergiError(f"{self.path}: answer {value!r} to '{f.xpath}' is neither a choice name nor a "
                           f"label of list '{f.list_name}'")

    def _multi_names(self, f: _Field, value: str) -> str:
        if self.lang is None or not f.list_name:
            return value
        choices = self.form.choices.get(f.list_name, [])
        labels = [(self.form.choice_label(c, self.lang), str(c["name"])) for c in choices]
        names = _segment(value, labels)  # labels first: a label may equal another choice's name
        if names is None:
            names = _segment(value, labels + [(name, name) for _, name in labels])
        if names is None:
            raise SinergiError(f"{self.path}: answer {value!r} to '{f.xpath}' does not split into choices "
                               f"of list '{f.list_name}'")
        return " ".join(names)

    def _roster(self, value: str, multiple: bool) -> str:
        if not self.roster_names:
            return value
        if not multiple:
            if value in self.roster_names:
                return value
            if value in self.roster_label_to_name:
                return self.roster_label_to_name[value]
            return _by_number(value, self.roster_names) or value
        if not self.roster_label_to_name:
            return value
        opts = [(lab, name) for lab, name in self.roster_label_to_name.items()]
        opts += [(n, n) for n in self.roster_names]
        names = _segment(value, opts)
        return " ".join(names) if names is not None else value

    def row(self, targets: list[_Target | str], cells: list[Any], *, main: bool) -> dict[str, Any]:
        out: dict[str, Any] = {}
        details: dict[str, dict[str, str | None]] = defaultdict(dict)
        summary: dict[str, str] = {}
        fields: dict[str, _Field] = {}
        for t, raw in zip(targets, cells):
            value = _cell(raw)
            if isinstance(t, str):
                if main:
                    self._meta(out, t, value)
                continue
            if t.kind in ("ignore", "geo", "unknown") or t.field is None:
                continue
            f = t.field
            if t.kind == "choice":
                details[f.xpath][t.choice or ""] = value
                fields[f.xpath] = f
                continue
            if value is None:
                continue
            if f.type == "select_multiple":
                summary[f.xpath] = value
                fields[f.xpath] = f
            elif f.type == "select_one":
                out[f.xpath] = self._choice_name(f, value)
            elif f.type in ("select_one_from_file", "select_multiple_from_file"):
                out[f.xpath] = self._roster(value, f.type == "select_multiple_from_file")
            elif f.type in ("date", "today") and isinstance(raw, datetime) and raw.time() == time():
                out[f.xpath] = raw.date().isoformat()  # a typed XLSX date
            else:
                out[f.xpath] = value
        for xpath, f in fields.items():
            if xpath in details and any(v not in (None, "0") for v in details[xpath].values()):
                order = [str(c["name"]) for c in self.form.choices.get(f.list_name or "", [])]
                chosen = [n for n in order if details[xpath].get(n) not in (None, "0", "")]
                out[xpath] = " ".join(chosen)
            elif xpath in summary:
                out[xpath] = self._multi_names(f, summary[xpath])
        # keep the form's order (the API's is the submission XML's, which follows the form)
        order = {f.xpath: i for i, f in enumerate(self.form.fields)}
        answers = sorted((k for k in out if k in order), key=order.__getitem__)
        return {**{k: v for k, v in out.items() if k not in order}, **{k: out[k] for k in answers}}

    def _meta(self, out: dict[str, Any], h: str, value: str | None) -> None:
        if h in AUTO or h == "":
            return
        if h == "_id":
            if value is None:
                raise SinergiError(f"{self.path}: a row has no _id")
            try:
                out["_id"] = int(float(value))
            except ValueError:
                raise SinergiError(f"{self.path}: _id {value!r} is not a number") from None
        elif h == "_validation_status":
            if value is None:
                out[h] = {}
            elif value in VALIDATION_LABELS:
                out[h] = {"uid": value, "label": VALIDATION_LABELS[value]}
            else:
                uid = next((u for u, lab in VALIDATION_LABELS.items() if lab == value), None)
                out[h] = {"uid": uid, "label": value} if uid else {"label": value}
        elif h == "_submission_time":
            if value is not None:
                out[h] = value[:19] if "T" in value and len(value) >= 19 else value
        elif h in ("_tags", "_notes"):
            if value is None:
                out[h] = []
            else:
                out[h] = [v.strip() for v in value.split(",") if v.strip()] if h == "_tags" else [value]
        elif value is not None:
            out[h] = value


def _note(issue: str, field: str, value: str, action: str) -> dict[str, str]:
    return quality_row(issue, action, field=field, value=value)


def read_export(path: str | os.PathLike, content: Mapping[str, Any],
                roster_names: Mapping[str, str] | Iterable[str] | None = None, *,
                needed: Iterable[str] = (), notes: list[dict[str, str]] | None = None) -> list[dict[str, Any]]:
    """Read a KoboToolbox XLSX/CSV export back into API-shaped submissions.

    Parameters
    ----------
    path
        The export as downloaded (``.xlsx`` or ``.csv``).
    content
        The form's asset ``content`` (``survey`` rows, ``choices``, ``translations``), e.g.
        :func:`pipeline.instrument.asset_content`.
    roster_names
        Optional roster, ``{name: label}`` (or just the names): roster *labels* found in
        ``select_*_from_file`` answers are mapped back to names, and number-like ids a typed
        XLSX wrote as numbers (``10`` for ``010``) are restored.
    needed
        The xpaths the analysis reads (see :meth:`pipeline.instrument.Instrument.needed_xpaths`). Each must have
        a column, or a sheet for the ones inside a repeat group (XLSX; a CSV has no repeats, see
        ``notes``). ``()`` checks nothing.
    notes
        If a list, what was read with a caveat is appended to it as quality rows
        (:func:`pipeline.schemas.quality_row`, without ``wave``): each ignored column (:data:`UNKNOWN_COLUMN`,
        e.g. a question of an older form version; ``field`` its header, ``value`` its sheet or
        CSV file) and, for a CSV, the missing repeat groups (:data:`CSV_NO_REPEATS`; ``field``
        their xpaths, ``value`` the file).

    Returns
    -------
    list of dict
        One dict per submission, sorted by ``_id``, keyed by full xpath like the API: answers as
        strings (choice names, ``select_multiple`` space-separated), unanswered questions absent,
        repeats as lists of dicts with full-path keys, meta fields restored (``_id`` int,
        ``_uuid``, ``meta/instanceID``, ``_submission_time``, ``__version__``,
        ``_validation_status`` dict, …).

    Raises
    ------
    SinergiError
        On an unreadable or empty file (headers but no rows included), a needed question without
        a column, an answer that is not a choice of its list, or a missing ``_id``.
    """
    path = Path(path)
    if not path.exists():
        raise SinergiError(f"{path}: export file not found")
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        sheets = _read_xlsx(path)
    elif suffix in (".csv", ".txt"):
        sheets = _read_csv(path)
    else:
        raise SinergiError(f"{path}: export must be .xlsx or .csv (download it from Data → Downloads)")
    if not sheets:
        raise SinergiError(f"{path}: the export is empty (no sheet has headers); {NO_ROWS_FIX}")
    form = _Form(content)
    is_csv = suffix in (".csv", ".txt")

    if is_csv:  # one parse per delimiter: keep the best understood
        scored = []
        for name, header, rows in sheets:
            best = max(_modes(form, header), key=lambda m: _score(form, header, "", m))
            meta = sum(1 for h in header if _is_meta(h))
            scored.append((_score(form, header, "", best) + meta, name, header, rows))
        scored.sort(key=lambda s: -s[0])
        _, name, header, rows = scored[0]
        sheets = [(name, header, rows)]
    for _, _, rows in sheets:
        _drop_tag_row(rows)

    main_title, main_header, main_rows = sheets[0]
    mode = _best_mode(form, path, sheets)
    reader = _Reader(form, path, mode[0], roster_names)

    if "_id" not in main_header:
        raise SinergiError(f"{path}: no _id column in sheet {main_title!r}; download the export again "
                           "with the default settings (it always includes _id)")
    if not any(any(_cell(c) is not None for c in cells) for cells in main_rows):
        raise SinergiError(f"{path}: the export has column headers but no submissions; {NO_ROWS_FIX}")
    targets = _resolve(form, main_header, mode, "")
    unknown, columns = _matched(main_title, main_header, targets)
    idx_col = main_header.index("_index") if "_index" in main_header else None
    by_index: dict[tuple[str, Any], dict[str, Any]] = {}
    subs: list[dict[str, Any]] = []
    for i, cells in enumerate(main_rows):
        cells = list(cells) + [None] * (len(main_header) - len(cells))
        if all(_cell(c) is None for c in cells):
            continue
        sub = reader.row(targets, cells, main=True)
        if "meta/instanceID" not in sub and sub.get("_uuid"):
            sub["meta/instanceID"] = f"uuid:{sub['_uuid']}"
        subs.append(sub)
        key = _cell(cells[idx_col]) if idx_col is not None else str(i + 1)
        by_index[("", key)] = sub

    # repeat sheets, parents before children
    pending = []
    for title, header, rows in sheets[1:]:
        sec = _sheet_section(form, title, header, mode)
        if sec is None:
            raise SinergiError(f"{path}: sheet {title!r} matches no repeat group of the form")
        pending.append((sec.count("/") + _depth(form, sec), title, header, rows, sec))
    sheet_of = {}
    for _, title, header, rows, sec in sorted(pending, key=lambda p: p[0]):
        for col in ("_parent_index",):
            if col not in header:
                raise SinergiError(f"{path}: sheet {title!r} has no {col} column")
        ctargets = _resolve(form, header, mode, sec)
        more, found = _matched(title, header, ctargets)
        unknown, columns = unknown + more, columns | found
        sheet_of[sec] = title
        pi = header.index("_parent_index")
        ci = header.index("_index") if "_index" in header else None
        parent_sec = form.repeats[sec]["parent"]
        for j, cells in enumerate(rows):
            cells = list(cells) + [None] * (len(header) - len(cells))
            if all(_cell(c) is None for c in cells):
                continue
            parent = by_index.get((parent_sec, _cell(cells[pi])))
            if parent is None:
                raise SinergiError(f"{path}: sheet {title!r} row {j + 2}: _parent_index "
                                   f"{_cell(cells[pi])!r} matches no row of its parent sheet")
            entry = reader.row(ctargets, cells, main=False)
            parent.setdefault(sec, []).append(entry)
            by_index[(sec, _cell(cells[ci]) if ci is not None else f"{j + 1}")] = entry

    _check_needed(form, path, list(needed), columns, sheet_of, subs, unknown, is_csv)
    if notes is not None:
        notes.extend(_note(UNKNOWN_COLUMN, h, title, "ignored") for title, h in unknown)
        if is_csv and form.repeats:
            notes.append(_note(CSV_NO_REPEATS, ", ".join(form.repeats), path.name, "weights_unknown"))
    subs.sort(key=lambda s: s["_id"])
    return subs


def _check_needed(form: _Form, path: Path, needed: list[str], columns: set[str], sheet_of: dict[str, str],
                  subs: list[dict[str, Any]], unknown: list[tuple[str, str]], is_csv: bool) -> None:
    """Stop when a question the analysis reads has no column (a custom question selection, a
    column deleted by hand, or the export of another form)."""
    missing = []
    for xpath in needed:
        f = form.by_xpath.get(xpath)
        if f is None or xpath in columns:
            continue
        if f.section:  # inside a repeat group: absent from a CSV by design; a sheet only when filled
            if is_csv:
                continue
            if f.section not in sheet_of and not any(sub.get(_source_of(form, f.section)) for sub in subs):
                continue
        missing.append(xpath)
    if missing:
        hint = ""
        if unknown:
            shown = ", ".join(repr(h) for _, h in unknown[:3])
            more = ", …" if len(unknown) > 3 else ""
            hint = f"; it has {len(unknown)} column(s) of no question of the form ({shown}{more})"
        raise SinergiError(f"{path}: the export lacks question(s) the analysis needs: {', '.join(missing)}{hint}. "
                           "Download it again with all questions selected (Data → Downloads, untick "
                           "\"Select questions to be exported\"), from this project's form")


def _source_of(form: _Form, repeat: str) -> str | None:
    """The main-sheet question a repeat group is counted from (``repeat_count: count-selected(${q})``)."""
    rc = str(form.repeats[repeat]["row"].get("repeat_count") or "")
    name = rc.split("${", 1)[1].split("}", 1)[0] if "${" in rc else None
    return next((f.xpath for f in form.fields if f.name == name), None)


def _depth(form: _Form, sec: str) -> int:
    d = 0
    while sec:
        sec = form.repeats[sec]["parent"]
        d += 1
    return d


# --------------------------------------------------------------------------------------------
# pull


def roster_map(paths: Iterable[Path]) -> dict[str, str]:
    """``{name: label}`` over roster CSV files (later files win); unreadable files are skipped
    (the roster only helps reading labels and typed ids; tidy checks it)."""
    out: dict[str, str] = {}
    for path in paths:
        try:
            df = pd.read_csv(path, dtype=str, keep_default_na=False, sep=None, engine="python",
                             encoding="utf-8-sig")
        except Exception:  # noqa: BLE001
            continue
        if "name" in df.columns:
            labels = df["label"] if "label" in df.columns else df["name"]
            out.update(zip(df["name"].str.strip(), labels))
    return out
