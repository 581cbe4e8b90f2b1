"""KoboToolbox exports downloaded from the website → submissions in the API's JSON shape.

For teams without an API token: they download the XLSX or CSV export (Project → Data →
Downloads) and name it in ``study.yaml`` (``source: {kind: kobo_files}``, ``waves[].file``).
:func:`read_export` turns it back into exactly what ``GET /api/v2/assets/{uid}/data/`` returns,
so the rest of the pipeline is the same for both sources.

Every export option of the website is understood (kpi export_tasks/create.md, formpack
``reporting/export.py`` and ``schema/fields.py``):

- ``lang``: XML names, or labels in any of the form's translations (headers and choice answers);
- ``hierarchy_in_labels`` ("Include groups in headers"): ``group/q`` headers, or bare names/labels;
- ``group_sep``: ``/``;
- ``multiple_select``: ``summary`` (one space-separated column), ``details`` (one 1/0 column per
  choice, ``q/choice``) or ``both``;
- CSV with ``;`` (the default) or ``,`` between cells; XLSX with repeat groups as extra sheets
  (``_index``, ``_parent_table_name``, ``_parent_index``, ``_submission_*`` columns).

What an export cannot carry is absent from the result: ``_attachments``, ``_geolocation``,
``formhub/uuid``, ``meta/instanceID`` (unless exported), validation timestamps, and the
``<repeat>_count`` helper fields pyxform adds.
"""

from __future__ import annotations

import csv
import io
import os
import shutil
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, time
from pathlib import Path
from typing import Any, Iterable, Mapping

from .errors import SinergiError

GROUP_SEP = "/"
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
    kind: str  # "field" | "choice" | "geo" | "ignore"
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

    def header(self, f: _Field, lang: int | None, hier: bool) -> str:
        own = self.label(f.row, lang) or f.name
        if not hier:
            return own
        path = [self.label(a, lang) or a.get("name") or a.get("$autoname") for a in f.ancestors]
        return GROUP_SEP.join([*path, own])

    def choice_label(self, c: Mapping[str, Any], lang: int | None) -> str:
        return self.label(c, lang) or str(c.get("name"))

    def headers(self, lang: int | None, hier: bool) -> dict[str, dict[str, list[_Target]]]:
        """``{section: {header: [targets in form order]}}`` for one export mode."""
        out: dict[str, dict[str, list[_Target]]] = defaultdict(lambda: defaultdict(list))
        for f in self.fields:
            h = self.header(f, lang, hier)
            sec = out[f.section]
            sec[h].append(_Target("field", f))
            if f.type == "select_multiple" and f.list_name:
                for c in self.choices.get(f.list_name, []):
                    sec[h + GROUP_SEP + self.choice_label(c, lang)].append(_Target("choice", f, str(c["name"])))
            if f.type in GEO_TYPES:
                own = self.label(f.row, lang) or f.name
                prefix = h[: -len(own)] if hier and h.endswith(own) else ""
                for part in ("latitude", "longitude", "altitude", "precision"):
                    sec[f"{prefix}_{own}_{part}"].append(_Target("geo", f))
        for n in self.notes:
            out[n.section][self.header(n, lang, hier)].append(_Target("ignore"))
        return out


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
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = raw.decode("cp1252")
    first = text.split("\n", 1)[0]
    candidates = []
    for delim in (";", ",", "\t"):
        rows = list(csv.reader(io.StringIO(text), delimiter=delim))
        header = rows[0] if rows else []
        candidates.append((first.count(delim), len(header), delim, rows))
    # the table is parsed with each delimiter; read_export keeps the parse whose headers the
    # form recognises best (labels may contain commas, so counting delimiters is not enough)
    return [(f"csv{delim!r}", rows[0] if rows else [], rows[1:]) for _, _, delim, rows in
            sorted(candidates, key=lambda c: -c[1])]


def _read_xlsx(path: Path) -> list[tuple[str, list[str], list[list[Any]]]]:
    from openpyxl import load_workbook

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


def _resolve(form: _Form, path: Path, sheet: str, header: list[str], mode: tuple[int | None, bool],
             section: str) -> list[_Target | str]:
    """Column → target (or a meta column name)."""
    maps = form.headers(*mode)
    sec_map = maps.get(section, {})
    used: dict[str, int] = defaultdict(int)
    out: list[_Target | str] = []
    for h in header:
        if h in sec_map:
            cands = sec_map[h]
            k = used[h]
            used[h] += 1
            out.append(cands[min(k, len(cands) - 1)])
        elif _is_meta(h) or h == "":
            out.append(h)
        else:
            raise SinergiError(f"{path}: column {h!r} (sheet {sheet!r}) matches no question of the form "
                               "(is this the export of another project, or of an older form version?)")
    return out


def _score(form: _Form, header: list[str], section: str, mode: tuple[int | None, bool]) -> int:
    sec_map = form.headers(*mode).get(section, {})
    return sum(1 for h in header if h in sec_map)


def _modes(form: _Form) -> list[tuple[int | None, bool]]:
    langs: list[int | None] = [None, *range(len(form.translations))]
    return [(lang, hier) for lang in langs for hier in (True, False)]


def _sheet_section(form: _Form, title: str, header: list[str],
                   mode: tuple[int | None, bool]) -> str | None:
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
        if self.lang is None or not f.list_name:
            return value
        names = {str(c["name"]) for c in self.form.choices.get(f.list_name, [])}
        if value in names:
            return value
        for c in self.form.choices.get(f.list_name, []):
            if self.form.choice_label(c, self.lang) == value:
                return str(c["name"])
        raise SinergiError(f"{self.path}: answer {value!r} to '{f.xpath}' is neither a choice name nor a "
                           f"label of list '{f.list_name}'")

    def _multi_names(self, f: _Field, value: str) -> str:
        if self.lang is None or not f.list_name:
            return value
        opts = [(self.form.choice_label(c, self.lang), str(c["name"]))
                for c in self.form.choices.get(f.list_name, [])]
        opts += [(name, name) for _, name in list(opts)]
        names = _segment(value, opts)
        if names is None:
            raise SinergiError(f"{self.path}: answer {value!r} to '{f.xpath}' does not split into choices "
                               f"of list '{f.list_name}'")
        return " ".join(names)

    def _roster(self, value: str, multiple: bool) -> str:
        if not self.roster_label_to_name:
            return value
        if not multiple:
            return value if value in self.roster_names else self.roster_label_to_name.get(value, value)
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
            if t.kind in ("ignore", "geo") or t.field is None:
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


def read_export(path: str | os.PathLike, content: Mapping[str, Any],
                roster_names: Mapping[str, str] | Iterable[str] | None = None) -> list[dict[str, Any]]:
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
        ``select_*_from_file`` answers are mapped back to names.

    Returns
    -------
    list of dict
        One dict per submission, sorted by ``_id``, keyed by full xpath like the API: answers as
        strings (choice names, ``select_multiple`` space-separated), unanswered questions absent,
        repeats as lists of dicts with full-path keys, meta fields restored (``_id`` int,
        ``_uuid``, ``_submission_time``, ``__version__``, ``_validation_status`` dict, …).

    Raises
    ------
    SinergiError
        On an unreadable file, a header that matches no question, an answer that is not a
        choice of its list, or a missing ``_id``.
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
        raise SinergiError(f"{path}: the export is empty")
    form = _Form(content)

    if suffix in (".csv", ".txt"):  # one parse per delimiter: keep the best understood
        scored = []
        for name, header, rows in sheets:
            best = max(_modes(form), key=lambda m: _score(form, header, "", m))
            meta = sum(1 for h in header if _is_meta(h))
            scored.append((_score(form, header, "", best) + meta, name, header, rows))
        scored.sort(key=lambda s: -s[0])
        _, name, header, rows = scored[0]
        sheets = [(name, header, rows)]
        if rows and all(isinstance(c, str) and (c == "" or c.startswith("#")) for c in rows[0]) \
                and any(rows[0]):
            rows.pop(0)  # an HXL tag row

    main_title, main_header, main_rows = sheets[0]
    # the export mode: the (language, hierarchy) whose headers match the most columns overall
    modes = _modes(form)
    totals = []
    for m in modes:
        total = _score(form, main_header, "", m)
        for title, header, _ in sheets[1:]:
            sec = _sheet_section(form, title, header, m)
            if sec is not None:
                total += _score(form, header, sec, m)
        totals.append(total)
    mode = modes[max(range(len(modes)), key=lambda i: (totals[i], -i))]
    reader = _Reader(form, path, mode[0], roster_names)

    if "_id" not in main_header:
        raise SinergiError(f"{path}: no _id column in sheet {main_title!r}; download the export again "
                           "with the default settings (it always includes _id)")
    targets = _resolve(form, path, main_title, main_header, mode, "")
    idx_col = main_header.index("_index") if "_index" in main_header else None
    by_index: dict[tuple[str, Any], dict[str, Any]] = {}
    subs: list[dict[str, Any]] = []
    for i, cells in enumerate(main_rows):
        cells = list(cells) + [None] * (len(main_header) - len(cells))
        if all(_cell(c) is None for c in cells):
            continue
        sub = reader.row(targets, cells, main=True)
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
    for _, title, header, rows, sec in sorted(pending, key=lambda p: p[0]):
        for col in ("_parent_index",):
            if col not in header:
                raise SinergiError(f"{path}: sheet {title!r} has no {col} column")
        ctargets = _resolve(form, path, title, header, mode, sec)
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
    subs.sort(key=lambda s: s["_id"])
    return subs


def _depth(form: _Form, sec: str) -> int:
    d = 0
    while sec:
        sec = form.repeats[sec]["parent"]
        d += 1
    return d


# --------------------------------------------------------------------------------------------
# pull


def _roster_map(path: Path) -> dict[str, str] | None:
    try:
        import pandas as pd

        df = pd.read_csv(path, dtype=str, keep_default_na=False, sep=None, engine="python")
    except Exception:  # noqa: BLE001 - the roster is optional help for reading labels
        return None
    if "name" not in df.columns:
        return None
    labels = df["label"] if "label" in df.columns else df["name"]
    return dict(zip(df["name"], labels))


def pull_files(study: Any, raw_dir: str | os.PathLike) -> dict[str, dict[str, Any]]:
    """Copy each wave's export (and roster) into ``raw_dir`` for a ``kind: kobo_files`` study.

    Writes ``<wave>/export/<file>`` (the export, unchanged), ``<wave>/asset.json`` (a minimal asset:
    ``{"uid": null, "name": study title, "content": the instrument's asset content}``) and
    ``<wave>/media/roster.csv`` when the wave names a roster. Each export is read once with
    :func:`read_export`, so a file that cannot be understood fails here, at pull time.

    Returns
    -------
    dict
        ``{wave_id: manifest entry}`` as :func:`pipeline.kobo.pull_kobo` returns them
        (``asset_uid`` and ``server`` are ``None``).
    """
    from .config import instrument_path
    from .instrument import asset_content, load_instrument
    from .io import write_bytes, write_json
    from .kobo import _now, wave_manifest

    raw_dir = Path(raw_dir)
    content = asset_content(load_instrument(instrument_path(study)))
    out: dict[str, dict[str, Any]] = {}
    for wave in study.waves:
        if wave.file is None:
            raise SinergiError(f"wave {wave.id}: no export file in the study file (waves[].file)")
        src = study.resolve(wave.file)
        wdir = raw_dir / wave.id
        roster = study.resolve(wave.roster) if wave.roster else None
        try:
            subs = read_export(src, content, _roster_map(roster) if roster else None)
        except SinergiError as exc:
            raise SinergiError(f"wave {wave.id}: {exc}") from None
        export_dir = wdir / "export"
        if export_dir.exists():  # one export per wave: a replaced file must not linger
            for old in export_dir.iterdir():
                if old.is_file() and old.name != src.name:
                    old.unlink()
        write_bytes(export_dir / src.name, src.read_bytes())
        write_json(wdir / "asset.json", {"uid": None, "name": study.title, "content": content})
        if roster is not None:
            write_bytes(wdir / "media" / "roster.csv", roster.read_bytes())
        elif (wdir / "media" / "roster.csv").exists():
            shutil.rmtree(wdir / "media")
        out[wave.id] = wave_manifest(raw_dir, wave.id, asset_uid=None, server=None,
                                     submissions=subs, pulled_at=_now())
    return out
