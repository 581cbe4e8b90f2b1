"""The report's data files: tables (CSV + one XLSX workbook) and SPSS/Stata data (Word: :mod:`.docx`).

* :func:`write_tables` -- every table of the report as ``tables/<key>.csv`` (numbers unformatted,
  headers in the report language) and ``tables/tables.xlsx`` (one sheet per table, an index sheet).
* :func:`wide_scores`, :func:`with_items` / :func:`write_spss_stata` -- one row per respondent ×
  wave with the scale scores, every scale item (scored, and as answered where reverse-coded), the
  covariates and network indicators, as ``exports/scores.sav`` and ``exports/scores.dta`` with
  variable labels, value labels (group, wave, sex, yes/no) in the report language, SPSS
  measurement levels and formats, ``submitted_at`` as a date-time; and :func:`by_wave` -- the same
  wide, one row per respondent and a column per wave (``scores_wide.sav``/``.dta``).

Every file is written atomically (temporary file + rename). The dates these formats carry inside
(zip entry times, document properties, the SPSS and Stata header stamps) are set to ``when`` --
the time the raw data was written -- instead of the clock, so the same data and code give the same
bytes on every rerun.
"""

from __future__ import annotations

import io
import math
import re
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterable

import numpy as np
import pandas as pd

from ..errors import SinergiError
from ..io import EPOCH, atomic_path, stable_ooxml, write_bytes
from .inputs import category_codes
from .labels import Labels
from .text import num, s

__all__ = ["write_tables", "csv_frame", "sheet_names", "wide_scores", "with_items", "by_wave", "measures_and_formats",
           "write_spss_stata", "pyreadstat_frame", "data_time", "safe_name"]

_MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]


def _day_month(when: datetime) -> str:
    """``"dd Mon"`` with English month names whatever the locale (SPSS and Stata headers)."""
    return f"{when.day:02d} {_MONTHS[when.month - 1]}"


def data_time(manifest: dict | None) -> datetime:
    """When the raw data was written (``written_at`` of the raw manifest, UTC); :data:`EPOCH` if
    the manifest has no readable time."""
    text = str((manifest or {}).get("written_at") or "")
    try:
        when = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return EPOCH
    return when.astimezone(timezone.utc) if when.tzinfo else when.replace(tzinfo=timezone.utc)


def _stamp_sav(path: Path, when: datetime) -> None:
    """Set the creation date and time in an SPSS .sav header (offsets 92 and 101), in place (the
    file is not read whole: 230 MB at 1,000 villages)."""
    with open(path, "r+b") as f:
        if f.read(4) not in (b"$FL2", b"$FL3"):
            raise SinergiError(f"{path}: not an SPSS system file (pyreadstat wrote something else)")
        f.seek(92)
        f.write(f"{_day_month(when)} {when.year % 100:02d}".encode() + when.strftime("%H:%M:%S").encode())


def _stamp_dta(path: Path, when: datetime) -> None:
    """Set the ``<timestamp>`` of a Stata 117+ .dta header ("dd Mon yyyy hh:mm"), in place."""
    with open(path, "r+b") as f:
        head = f.read(400)
        at = head.find(b"<timestamp>")
        if at < 0 or at + 12 > len(head) or head[at + 11] != 17:
            raise SinergiError(f"{path}: no Stata 117+ timestamp in the header (pyreadstat wrote another format)")
        f.seek(at + 12)
        f.write(f"{_day_month(when)} {when.year:04d} {when:%H:%M}".encode())


YES_NO = ["joint_purchasing", "collective_brand", "shared_storage", "emergency_fund"]
MULTI_PREFIXES = ["membership_", "digital_channels_", "trainings_"]



# ---------------------------------------------------------------------------------------------
# tables
# ---------------------------------------------------------------------------------------------

def sheet_names(keys: Iterable[str]) -> list[str]:
    """Unique Excel sheet names (≤ 31 characters, no []:*?/\\) for the table keys."""
    out: list[str] = []
    for k in keys:
        base = re.sub(r"[\[\]:*?/\\]", "_", k)[:31]
        name, i = base, 2
        while name.lower() in {o.lower() for o in out}:
            suffix = f"_{i}"
            name = base[:31 - len(suffix)] + suffix
            i += 1
        out.append(name)
    return out


def table_sheet_names(tables: list[Any], lang: str) -> list[str]:
    """The sheet of each table, named as the report names it: "Tabel 7" ("Table 7" in English),
    so the sheet a reader looks for is the number the report prints; tables without distinct
    numbers keep their keys."""
    numbers = [int(getattr(t, "number", 0) or 0) for t in tables]
    if all(n > 0 for n in numbers) and len(set(numbers)) == len(numbers):
        return sheet_names(f"{s(lang, 'table')} {n}" for n in numbers)
    return sheet_names(t.key for t in tables)


#: XLSX number format per column format of :class:`pipeline.report.Table` (``pct`` values are
#: percentages, stored divided by 100 so that Excel sees a share); ``p`` is :func:`p_format`
NUMBER_FORMATS = {"int": "#,##0", "n1": "#,##0.0", "n2": "#,##0.00", "n3": "#,##0.000", "n4": "#,##0.0000",
                  "n5": "#,##0.00000", "n6": "#,##0.000000", "p": "0.000", "share": "0.0%", "pct": "0.0%"}


def p_format(lang: str) -> str:
    """The number format of a p value: three decimals, and below 0.001 the report's "< 0,001"
    ("< 0.001" in English) instead of a misleading 0,000 — the cell keeps the exact p.

    >>> p_format("id")
    '[<0.001]"< 0,001";0.000'
    """
    return f'[<0.001]"< {num(0.001, lang, 3)}";0.000'


def _formats(t: Any) -> list[str]:
    """The column formats of a table (``t.formats``), or guessed from the dtypes when not given."""
    fmts = list(getattr(t, "formats", []) or [])
    if len(fmts) == len(t.raw.columns):
        return fmts
    return ["n3" if pd.api.types.is_float_dtype(t.raw[c]) else
            "int" if pd.api.types.is_integer_dtype(t.raw[c]) else "text" for c in t.raw.columns]


def _whole(values: pd.Series) -> pd.Series | None:
    """``values`` as nullable integers (Int64) when every finite value is a whole number, else None."""
    x = pd.to_numeric(values, errors="coerce")
    if x.notna().sum() != values.notna().sum():
        return None  # text in the column
    finite = x.dropna()
    if len(finite) and not (np.isfinite(finite).all() and (finite == np.round(finite)).all()):
        return None
    return x.round().astype("Int64")


#: significant digits of every non-integer number in tables/ (CSV and XLSX): far more than any
#: table prints, and few enough that the last bits of a double — which differ between machines and
#: library builds (SIMD exp/log, BLAS, summation order) — do not show
SIGNIFICANT_DIGITS = 10


def significant(v: Any, digits: int = SIGNIFICANT_DIGITS) -> Any:
    """A float rounded to ``digits`` significant digits (others unchanged).

    >>> significant(115.74006567009523), significant(115.74006567009562), significant(3)
    (115.7400657, 115.7400657, 3)
    """
    if isinstance(v, (float, np.floating)) and np.isfinite(v):
        return float(f"{float(v):.{digits}g}")
    return v


def csv_frame(t: Any) -> pd.DataFrame:
    """The table as written to CSV: counts as integers (``73``, not ``73.0``), other numbers to
    :data:`SIGNIFICANT_DIGITS` significant digits."""
    out = t.raw.copy()
    for col, fmt in zip(t.raw.columns, _formats(t)):
        whole = _whole(out[col]) if fmt == "int" else None
        if whole is not None:
            out[col] = whole
        elif pd.api.types.is_float_dtype(out[col]):
            out[col] = out[col].map(significant)
        elif out[col].dtype == object:
            out[col] = [significant(v) for v in out[col]]
    return out


def write_tables(tables: list[Any], outdir: Path, lang: str, when: datetime = EPOCH) -> list[Path]:
    """CSV per table plus ``tables.xlsx`` (dated ``when``).

    ``tables`` items have ``key``, ``number``, ``title``, ``raw`` and ``formats`` (see
    :class:`pipeline.report.Table`).

    * CSV: UTF-8 *with* a byte-order mark (``utf-8-sig``), so that Excel on Windows, which reads a
      CSV without one in the ANSI code page, shows α, ω, Δ and − correctly; ``,`` between values and
      ``.`` decimals whatever the report language (machine-readable; pandas, R and LibreOffice read
      the BOM). Counts are written as integers; other numbers with :data:`SIGNIFICANT_DIGITS`
      significant digits (the XLSX cells too; its number formats show the report's decimals).
    * XLSX: a first sheet listing the tables (number, title, sheet, CSV), then one sheet per table
      named as the report numbers it ("Tabel 7", :func:`table_sheet_names`); counts ``#,##0``,
      shares and percentages ``0.0%``, estimates with the report's decimals, p values with
      :func:`p_format` ("< 0,001"), a confidence interval as two numeric columns (lower, upper);
      headers wrap between words in columns wide enough for their longest word, in a row tall
      enough for every line; each sheet prints landscape on A4, fitted to one page wide, the
      header row repeated on every page.

    Returns
    -------
    list of Path
        The files written.
    """
    from openpyxl import Workbook

    outdir = Path(outdir)
    written = []
    for t in tables:
        path = outdir / f"{t.key}.csv"
        with atomic_path(path) as tmp:
            csv_frame(t).to_csv(tmp, index=False, encoding="utf-8-sig")
        written.append(path)
    wb = Workbook()
    names = table_sheet_names(tables, lang)
    _index_sheet(wb.active, tables, names, lang)
    for t, name in zip(tables, names):
        _table_sheet(wb.create_sheet(name), t, lang)
    buf = io.BytesIO()
    wb.save(buf)
    write_bytes(outdir / "tables.xlsx", stable_ooxml(buf.getvalue(), when))
    written.append(outdir / "tables.xlsx")
    return written


#: a header's characters are bold: wider than the ``0`` that Excel's column width counts
_BOLD = 1.3
#: points per line of 11-point text in a row (Excel and LibreOffice), and a row's padding
_LINE_PT, _ROW_PAD_PT = 15.0, 3.0


def wrapped_lines(text: str, width: float, factor: float = 1.0) -> int:
    """How many lines ``text`` takes when wrapped between words in a column ``width`` characters
    wide (``factor``: how much wider than a digit a character is).

    >>> wrapped_lines("% perubahan", 10), wrapped_lines("IK 95% d_z bawah", 8)
    (2, 3)
    """
    room = max(1.0, width - 1.0)
    lines, used = 1, 0.0
    for word in str(text).split():
        w = len(word) * factor
        if used and used + 1 + w > room:
            lines, used = lines + 1, w
        else:
            used += (1 if used else 0) + w
    return lines


def _index_sheet(ws: Any, tables: list[Any], names: list[str], lang: str) -> None:
    """The first sheet: every table's number, title, sheet and CSV file."""
    from openpyxl.styles import Alignment, Font

    ws.title = s(lang, "xlsx_index")
    ws.append([s(lang, "table"), s(lang, "xlsx_title"), s(lang, "xlsx_sheet"), "CSV"])
    for cell in ws[1]:
        cell.font = Font(bold=True)
    for t, name in zip(tables, names):
        ws.append([int(getattr(t, "number", 0) or 0) or None, t.title, name, f"{t.key}.csv"])
    for col, width in zip("ABCD", (8, 80, 12, 32)):
        ws.column_dimensions[col].width = width
    for row in ws.iter_rows(min_row=2):
        row[1].alignment = Alignment(wrap_text=True, vertical="top")
    _print_setup(ws, landscape=False, title_rows="1:1")


def _table_sheet(ws: Any, t: Any, lang: str) -> None:
    """One table: its title, the header row, the rows with number formats, sized columns."""
    from openpyxl.styles import Alignment, Font
    from openpyxl.utils import get_column_letter

    ws.append([t.title])
    ws["A1"].font = Font(bold=True)
    ws.append([str(c) for c in t.raw.columns])
    for cell in ws[2]:
        cell.font = Font(bold=True)
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    fmts = _formats(t)
    for row in t.raw.itertuples(index=False):
        ws.append([_cell(v) / 100 if f == "pct" and isinstance(_cell(v), float) else _cell(v)
                   for v, f in zip(row, fmts)])
    lines = [1]
    for j, (col, fmt) in enumerate(zip(t.raw.columns, fmts), start=1):
        width = _column(ws, j, t.raw.iloc[:, j - 1], fmt, lang)
        ws.column_dimensions[get_column_letter(j)].width = width
        lines.append(wrapped_lines(str(col), width, _BOLD))
    ws.row_dimensions[2].height = _LINE_PT * max(lines) + _ROW_PAD_PT  # wrapped headers: room for every line
    ws.freeze_panes = "B3"
    _print_setup(ws, landscape=True, title_rows="2:2")


def _column(ws: Any, j: int, values: pd.Series, fmt: str, lang: str) -> float:
    """Format column ``j`` (rows 3…) and return its width: a number column as wide as its longest
    formatted value or its header's longest word (bold), a text column as its longest value up to
    50 characters (longer text wraps, its rows made tall enough)."""
    from openpyxl.styles import Alignment

    header = str(ws.cell(row=2, column=j).value or "")
    word = max((len(w) for w in header.split()), default=1) * _BOLD
    number = p_format(lang) if fmt == "p" else NUMBER_FORMATS.get(fmt)
    if number and pd.api.types.is_numeric_dtype(values):
        for r in range(3, ws.max_row + 1):
            ws.cell(row=r, column=j).number_format = number
        longest = max((len(f"{v:,.3f}") for v in pd.to_numeric(values, errors="coerce").dropna().head(500)), default=4)
        return float(min(max(8.0, word + 2.5, longest + 2), 50))
    longest = max([len(str(v)) for v in values.head(200)] + [0])
    width = float(min(max(8.0, word + 2.5, longest * 1.1 + 2), 50))
    if longest > 48:  # long text wraps; the row is made tall enough (LibreOffice does not fit it)
        for r in range(3, ws.max_row + 1):
            cell = ws.cell(row=r, column=j)
            cell.alignment = Alignment(wrap_text=True, vertical="top")
            n = wrapped_lines(str(cell.value or ""), width)
            if n > 1:
                ws.row_dimensions[r].height = max(ws.row_dimensions[r].height or 0, _LINE_PT * n + _ROW_PAD_PT)
    return width


def _print_setup(ws: Any, *, landscape: bool, title_rows: str) -> None:
    """A4, fitted to one page wide (as many pages tall as needed), ``title_rows`` on every page."""
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.orientation = "landscape" if landscape else "portrait"
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.print_title_rows = title_rows
    ws.page_margins.left = ws.page_margins.right = 0.4
    ws.page_margins.top = ws.page_margins.bottom = 0.5


def _cell(v: Any) -> Any:
    if v is None:
        return None
    if isinstance(v, (float, np.floating)):
        return None if not np.isfinite(v) else significant(float(v))
    if isinstance(v, (np.integer,)):
        return int(v)
    if isinstance(v, (np.bool_, bool)):
        return bool(v)
    if pd.isna(v) if not isinstance(v, str) else False:
        return None
    return v if isinstance(v, (int, str)) else str(v)


# ---------------------------------------------------------------------------------------------
# SPSS / Stata
# ---------------------------------------------------------------------------------------------

def safe_name(name: str, limit: int = 32) -> str:
    """``name`` as an SPSS/Stata variable name: letters, digits and ``_``, starting with a letter, at most ``limit``."""
    name = re.sub(r"[^A-Za-z0-9_]", "_", str(name))
    if not re.match(r"[A-Za-z]", name):
        name = "v_" + name
    return name[:limit]


#: the longest variable label: SPSS keeps 256 characters (an item's whole statement), Stata 80
SAV_LABEL_MAX, DTA_LABEL_MAX = 256, 80
_SUFFIX = re.compile(r"((?:\s\([^()]*\)|\s\[[^\[\]]*\])+)$")


def stata_label(label: str) -> str:
    """A variable label cut to Stata's 80 characters, keeping its trailing "(dibalik)" and
    "[wave]" (:func:`fit_label`).

    >>> stata_label("Di desa ini orang harus selalu waspada, karena orang lain bisa saja memanfaatkan "
    ...             "kita. (dibalik) [Sebelum program]")
    'Di desa ini orang harus selalu waspada, karena… (dibalik) [Sebelum program]'
    """
    if len(label) <= DTA_LABEL_MAX:
        return label
    m = _SUFFIX.search(label)
    suffix = m.group(1) if m and len(m.group(1)) < DTA_LABEL_MAX // 2 else ""
    return fit_label(label[:len(label) - len(suffix)], suffix, DTA_LABEL_MAX)


def fit_label(text: str, suffix: str = "", limit: int = 80) -> str:
    """``text + suffix`` in at most ``limit`` characters (Stata's variable-label length): a longer
    ``text`` is cut at a word boundary and ends in "…", so the ``suffix`` (``(reversed)``, a
    wave) is always kept.

    >>> fit_label("I feel calm and relaxed today", " (reversed)", 30)
    'I feel calm and… (reversed)'
    """
    text = " ".join(str(text).split())
    if len(text) + len(suffix) <= limit:
        return text + suffix
    room = max(1, limit - len(suffix) - 1)
    cut = text[:room + 1]
    cut = cut.rsplit(" ", 1)[0] if " " in cut.strip() else cut[:room]
    return cut[:room].rstrip(" ,;:.") + "…" + suffix


def instrument_codes(inst: Any, lang: str, labels: Labels | None = None
                     ) -> tuple[dict[str, str], dict[str, dict[str, str]]]:
    """From the instrument: the label of each select-multiple choice column (``<var>_<choice>``:
    ``<short label>: <choice label>``) and the choices of each select-one covariate
    (``var`` → ``{choice name: label}``), in the report language."""
    if inst is None:
        return {}, {}
    labels = labels or Labels(inst, lang)
    col_labels: dict[str, str] = {}
    codes: dict[str, dict[str, str]] = {}
    for q in inst.questions:
        var = q.get("var")
        if not var or not q.list_name or q.list_name not in inst.choices:
            continue
        choices = labels.choices(var)
        if q.base_type == "select_multiple":
            base = labels.var(var) or var
            for name, lab in choices.items():
                col_labels[f"{var}_{name}"] = s(lang, "lab_choice", question=base, choice=lab)[:80]
        elif q.base_type == "select_one" and set(choices) != {"ya", "tidak"}:
            codes[var] = choices
    return col_labels, codes


def wide_scores(respondents: pd.DataFrame | None, scores: pd.DataFrame | None, nodes: pd.DataFrame | None,
                study: Any, lang: str, inst: Any = None, labels: Labels | None = None
                ) -> tuple[pd.DataFrame, dict[str, str], dict[str, dict]]:
    """One row per respondent × wave: ids, coded wave/group/sex, covariates, scores, network indicators.

    Select-one covariates of the instrument (sector, …) are coded 1, 2, … with the instrument's
    choice labels as value labels, and select-multiple choice columns get the choice's label.

    Variable labels: a covariate's ``short_label`` in the instrument, the catalogue's ``var_<name>``
    for the columns the pipeline makes; scores ``Skor: <dimension>`` with the dimension's label.

    ``scores`` and ``nodes`` may be their batches in order (:meth:`Inputs.csv_batches`; text
    columns as categoricals) when ``respondents`` is given.

    Returns
    -------
    tuple
        The frame, its variable labels and its value labels (for integer-coded columns); the
        frame's ``attrs["dimensions"]`` names the dimensions of its score columns, in order.
    """
    labels_of = labels or Labels(inst, lang)
    choice_labels, choice_codes = instrument_codes(inst, lang, labels_of)
    df = _respondent_rows(respondents, scores)
    df, labels, order = _with_scores(df, scores, lang, labels_of)
    df = _with_network(df, nodes)
    df, values = _coded(df, study, lang, choice_codes)
    df = _plain_types(df)
    rename = {c: safe_name(c) for c in df.columns}
    df = df.rename(columns=rename)
    for orig, new in rename.items():
        if new not in labels:
            labels[new] = _variable_label(orig, study, lang, inst, labels_of, choice_labels)
    values = {rename.get(k, k): v for k, v in values.items()}
    df = df.sort_values(["respondent_id", "wave"]).reset_index(drop=True)
    df.attrs["dimensions"] = order
    return df, labels, values


def _respondent_rows(respondents: pd.DataFrame | None, scores: pd.DataFrame | None) -> pd.DataFrame:
    """One row per respondent × wave: the respondents' table, else the ids of ``scores``."""
    if respondents is not None and len(respondents):
        df = respondents.copy()
    elif scores is not None and len(scores):
        df = scores[["respondent_id", "wave", "group", "site"]].drop_duplicates(["respondent_id", "wave"])
    else:
        raise SinergiError("exports: no respondents and no scores to export (respondents.parquet and scores.csv "
                           "are empty); run `make tidy` and `make scales`")
    df["respondent_id"] = df["respondent_id"].astype(str)
    df["wave"] = df["wave"].astype(str)
    return df


#: rows of a long table looked up at once (:func:`_with_scores`)
CHUNK_ROWS = 1 << 20


def _with_scores(df: pd.DataFrame, scores: pd.DataFrame | Iterable[pd.DataFrame] | None, lang: str,
                 labels_of: Labels) -> tuple[pd.DataFrame, dict[str, str], list[str]]:
    """``df`` with a column per dimension's score (in the order the dimensions first appear in
    ``scores``; a respondent × wave's first score that is not missing), those columns' variable
    labels, and the dimensions in that order. ``scores`` is a frame or its batches in order
    (:meth:`Inputs.csv_batches`; text columns may be categoricals): looked up by codes, never
    turned wide as a table of its own."""
    labels: dict[str, str] = {}
    if scores is None:
        return df, labels, []
    rows = RowKeys(df["respondent_id"], df["wave"])
    order: list[str] = []
    wide = np.full((0, rows.n), np.nan)
    for batch in [scores] if isinstance(scores, pd.DataFrame) else scores:
        for lo in range(0, len(batch), CHUNK_ROWS):  # a million rows at a time: the lookups' arrays stay small
            part = batch.iloc[lo:lo + CHUNK_ROWS]
            new = [d for d in _in_order(part["dimension"]) if d not in order]
            if new:  # a dimension first seen: its column
                order += new
                wide = np.vstack([wide, np.full((len(new), rows.n), np.nan)])
            fill_first(wide, category_codes(part["dimension"], pd.Index(order, dtype=object)),
                       rows.find(part["respondent_id"], part["wave"]), part["score"].to_numpy("float64"))
    df = _joined(df, dict(zip(order, rows.spread(wide))))
    for d in order:
        labels[safe_name(d)] = s(lang, "lab_score", dim=labels_of.dim(d))[:80]
    return df, labels, order


def _in_order(values: pd.Series) -> list[str]:
    """The distinct values (as text, missing left out) in the order they first appear."""
    if isinstance(values.dtype, pd.CategoricalDtype):
        codes = values.cat.codes.to_numpy()
        cats = values.cat.categories
        return [str(cats[c]) for c in pd.unique(codes[codes >= 0])]
    return [str(v) for v in pd.unique(values.dropna())]


def _joined(df: pd.DataFrame, cols: dict[str, np.ndarray]) -> pd.DataFrame:
    """``df`` with ``cols`` added after its columns (a column ``df`` already has gets ``_x``/``_y``
    as a merge names them)."""
    if not cols:
        return df
    clash = [c for c in cols if c in df.columns]
    df = df.rename(columns={c: f"{c}_x" for c in clash})
    cols = {(f"{c}_y" if c in clash else c): v for c, v in cols.items()}
    return pd.concat([df, pd.DataFrame(cols, index=df.index)], axis=1)


class RowKeys:
    """The distinct (respondent_id, wave) keys of a frame's rows, to look rows of another table up by.

    Parameters
    ----------
    ids, waves : pandas.Series
        The frame's ``respondent_id`` and ``wave`` (compared as text).

    Attributes
    ----------
    n : int
        The number of distinct keys; :meth:`find` gives a key's number, :meth:`spread` puts one
        value per key on the frame's rows (a repeated key: each of its rows gets it, as a merge does).
    """

    def __init__(self, ids: pd.Series, waves: pd.Series):
        self.ids = pd.Index(pd.unique(ids.dropna().astype(str)), dtype=object)
        self.waves = pd.Index(pd.unique(waves.dropna().astype(str)), dtype=object)
        rid, wid = category_codes(ids, self.ids), category_codes(waves, self.waves)
        ok = (rid >= 0) & (wid >= 0)
        self.key = np.full(len(rid), -1, dtype=np.int64)  # a row without an id or wave: no key
        self.key[ok], uniques = pd.factorize(rid[ok] * len(self.waves) + wid[ok])
        self.n = len(uniques)
        self._at = np.full(len(self.ids) * len(self.waves), -1, dtype=np.int64)
        self._at[uniques] = np.arange(self.n)

    def find(self, ids: pd.Series, waves: pd.Series) -> np.ndarray:
        """The key number of each row (``ids``, ``waves``); −1 where the frame has no such row."""
        rid, wid = category_codes(ids, self.ids), category_codes(waves, self.waves)
        ok = (rid >= 0) & (wid >= 0)
        out = np.full(len(rid), -1, dtype=np.int64)
        out[ok] = self._at[rid[ok] * len(self.waves) + wid[ok]]
        return out

    def spread(self, values: np.ndarray, fill: Any = np.nan) -> np.ndarray:
        """``values`` (… × :attr:`n`, one per key) on the frame's rows (… × rows); ``fill`` on a row
        without a key."""
        pad = np.full((*values.shape[:-1], 1), fill, dtype=values.dtype)
        return np.concatenate([values, pad], axis=-1)[..., self.key]  # key −1: the pad


def fill_first(out: np.ndarray, column: np.ndarray, row: np.ndarray, value: np.ndarray,
               skip_missing: bool = True) -> None:
    """Put each (column, row)'s first value into ``out`` (columns × rows) where it is still NaN, in place.

    The first in the order of ``value`` (a pivot's ``first``: with ``skip_missing`` its first value
    that is not NaN, else its first value); entries with a column or row of −1 are left out. Called
    on the batches of a table in order, it gives what one call on the whole table gives.

    >>> out = np.full((1, 2), np.nan)
    >>> fill_first(out, np.array([0, 0, 0, -1]), np.array([1, 1, 0, 0]), np.array([np.nan, 2.0, 3.0, 4.0]))
    >>> out.tolist()
    [[3.0, 2.0]]
    """
    ok = (column >= 0) & (row >= 0)
    if skip_missing:
        ok &= ~np.isnan(value)
    flat = column[ok].astype(np.int64) * out.shape[1] + row[ok]
    first_flat, first = np.unique(flat, return_index=True)
    target = out.reshape(-1)
    free = np.isnan(target[first_flat])
    target[first_flat[free]] = value[ok][first[free]]


def _with_network(df: pd.DataFrame, nodes: pd.DataFrame | Iterable[pd.DataFrame] | None) -> pd.DataFrame:
    """``df`` with each respondent's degree, bridging and E-I (any tie) as ``net_*`` columns: its first
    row of ``nodes`` for the union of the tie types. ``nodes`` is a frame or its batches in order
    (text columns may be categoricals)."""
    if nodes is None:
        return df
    rows = RowKeys(df["respondent_id"], df["wave"])
    done = np.zeros(rows.n, dtype=bool)
    out: dict[str, np.ndarray] = {}
    for part in [nodes] if isinstance(nodes, pd.DataFrame) else nodes:
        if not len(part) or "tie_type" not in part:
            continue
        cols = [c for c in ("degree", "bridging", "ei") if c in part.columns]
        for c in cols:
            out.setdefault(f"net_{c}", np.full(rows.n, np.nan))
        at = rows.find(part["respondent_id"], part["wave"])
        at[~(part["tie_type"] == "any").to_numpy(dtype=bool)] = -1
        hit = np.flatnonzero(at >= 0)
        keys, pos = np.unique(at[hit], return_index=True)  # each key's first row of the batch
        new = ~done[keys]
        keys, pos = keys[new], hit[pos[new]]
        for c in cols:
            out[f"net_{c}"][keys] = pd.to_numeric(part[c], errors="coerce").to_numpy("float64")[pos]
        done[keys] = True
    return _joined(df, {c: rows.spread(v) for c, v in out.items()})


def _coded(df: pd.DataFrame, study: Any, lang: str, choice_codes: dict[str, dict]
           ) -> tuple[pd.DataFrame, dict[str, dict]]:
    """Wave, group, select-one covariates and yes/no columns coded 1, 2, … (or 0/1), with their
    value labels."""
    values: dict[str, dict] = {}
    waves, levels = list(study.wave_ids), list(study.group_values)
    df["wave"] = df["wave"].map({w: i + 1 for i, w in enumerate(waves)}).astype("float64")
    values["wave"] = {float(i + 1): study.wave_label(w, lang) for i, w in enumerate(waves)}
    allg = levels + [g for g in pd.unique(df["group"].astype(str)) if g not in levels]
    df["group"] = df["group"].astype(str).map({g: i + 1 for i, g in enumerate(allg)}).astype("float64")
    values["group"] = {float(i + 1): study.group_label(g, lang) for i, g in enumerate(allg)}
    for var, choices in choice_codes.items():
        if var in df and var not in ("group", "wave") and not pd.api.types.is_numeric_dtype(df[var]):
            codes = {name: float(i) for i, name in enumerate(choices, start=1)}
            if not set(df[var].dropna().astype(str)) - set(codes):
                df[var] = df[var].map(codes).astype("float64")
                values[var] = {codes[n]: lab for n, lab in choices.items()}
    yn = {0.0: s(lang, "no"), 1.0: s(lang, "yes")}
    for c in df.columns:
        if c in YES_NO or (any(c.startswith(p) for p in MULTI_PREFIXES) and not c.endswith("_n")):
            if pd.api.types.is_numeric_dtype(df[c]):
                df[c] = df[c].astype("float64")
                values[c] = yn
    return df, values


def _plain_types(df: pd.DataFrame) -> pd.DataFrame:
    """Numbers (and booleans) as float64, everything else as text ("" for missing)."""
    for c in df.columns:
        if pd.api.types.is_bool_dtype(df[c]) or pd.api.types.is_numeric_dtype(df[c]):
            df[c] = df[c].astype("float64")
        else:
            df[c] = df[c].astype(object).where(df[c].notna(), "").astype(str)
    return df


def _variable_label(orig: str, study: Any, lang: str, inst: Any, labels_of: Labels,
                    choice_labels: dict[str, str]) -> str:
    """The variable label of the column ``orig`` (see :func:`wide_scores`)."""
    if orig in choice_labels:
        return choice_labels[orig]
    if orig == "group":
        q = inst.by_var(study.group.variable) if inst is not None else None
        var = labels_of.var(study.group.variable) if q is not None else None
        return s(lang, "lab_group", variable=var.lower()) if var else s(lang, "lab_group_plain")
    if orig == study.group.variable and labels_of.var(orig):
        return s(lang, "lab_group_answer", label=labels_of.var(orig))[:80]
    if labels_of.var(orig):
        return labels_of.var(orig)[:80]
    for p in MULTI_PREFIXES:
        if orig.startswith(p):
            base = labels_of.var(p.rstrip("_")) or p.rstrip("_")
            return s(lang, "lab_choice", question=base, choice=orig[len(p):])[:80]
    return orig


def item_choices(inst: Any, item: str, lang: str) -> dict[float, str]:
    """The answer labels of a scale item from the instrument: ``{1.0: "Sangat tidak setuju", …,
    5.0: "Sangat setuju"}`` in ``lang`` (the other language where a label lacks it); {} without an
    instrument, for an item it does not ask, or a choice list whose names are not numbers."""
    q = next((q for q in getattr(inst, "questions", []) if q.name == item), None) if inst is not None else None
    if q is None or not q.list_name or q.list_name not in inst.choices:
        return {}
    out: dict[float, str] = {}
    for c in inst.choices[q.list_name]:
        try:
            code = float(c["name"])
        except (TypeError, ValueError):
            return {}
        lab = c.get("label") or {}
        text = (lab.get(lang) or next((v for v in lab.values() if v), None)) if isinstance(lab, dict) else lab
        out[code] = " ".join(str(text or c["name"]).split())[:120]
    return out


def with_items(df: pd.DataFrame, labels: dict[str, str], responses: pd.DataFrame | Iterable[pd.DataFrame] | None,
               scale_map: pd.DataFrame | None, study: Any, lang: str, names: Labels | None = None,
               values: dict[str, dict] | None = None) -> tuple[pd.DataFrame, list[str]]:
    """Add each scale item's answer to the long frame of :func:`wide_scores`.

    ``<item>`` is scored as the scales are (a reverse-coded item turned, ``min + max − x``) and,
    for reverse-coded items, ``<item>_raw`` is the answer as given — so RELIABILITY in SPSS/PSPP
    runs on exactly the items the scores are means of. ``labels`` gains their variable labels: the
    item's statement (:meth:`Labels.statement`, "(reversed)" / "(answer as given)" added for a
    reverse-coded item), else ``<item>: <dimension>``. ``values`` (when given) gains their value
    labels, the instrument's answer labels (:func:`item_choices`: 1 = Sangat tidak setuju … 5 =
    Sangat setuju); a reverse-coded item's scored column labels each code with the answer it was
    turned from (5 = Sangat tidak setuju), ``<item>_raw`` as answered.

    ``responses`` (``respondent_id``, ``wave``, ``item``, ``value``) is a frame or its batches in
    order (:meth:`Inputs.batches`, text columns may be categoricals): each batch's answers are put
    into one preallocated column per item (a respondent × wave's first answer that is not
    missing), so no long table of the whole study is built. The items are those of the scale map
    that appear in ``responses``.

    Returns
    -------
    (DataFrame, list of str)
        The frame with the item columns, and the item column names (scored and raw).
    """
    if responses is None or scale_map is None or not len(scale_map):
        return df, []
    names = names or Labels(None, lang, scale_map)
    sm = scale_map.drop_duplicates("item").set_index("item")
    known = pd.Index([str(i) for i in sm.index], dtype=object)
    rows = RowKeys(df["respondent_id"], df["wave"].map({float(i): w for i, w in enumerate(study.wave_ids, start=1)}))
    answers_of = np.full((len(known), rows.n), np.nan)
    seen = np.zeros(len(known), dtype=bool)
    n = 0
    for part in [responses] if isinstance(responses, pd.DataFrame) else responses:
        n += len(part)
        item = category_codes(part["item"], known)
        seen[item[item >= 0]] = True
        fill_first(answers_of, item, rows.find(part["respondent_id"], part["wave"]),
                   pd.to_numeric(part["value"], errors="coerce").to_numpy("float64"))
    if not n:
        return df, []
    answers = rows.spread(answers_of)
    cols: dict[str, np.ndarray] = {}
    for k, item in enumerate(sm.index):
        if not seen[k]:
            continue
        x = answers[k]
        rev = bool(sm.loc[item, "reverse"])
        name = safe_name(item)
        cols[name] = (float(sm.loc[item, "min"]) + float(sm.loc[item, "max"]) - x) if rev else x
        dim = names.dim(str(sm.loc[item, "dimension"]))
        text = names.statement(item)
        choices = item_choices(names.inst, str(item), lang) if values is not None else {}
        if choices:  # the scored column: each code named by the answer it comes from
            lo, hi = float(sm.loc[item, "min"]), float(sm.loc[item, "max"])
            values[name] = {(lo + hi - c) if rev else c: lab for c, lab in sorted(choices.items())}
            values[name] = dict(sorted(values[name].items()))
        if text:  # the statement as asked (a reverse-coded item says it was turned)
            labels[name] = fit_label(text, s(lang, "lab_statement_reversed") if rev else "", SAV_LABEL_MAX)
        else:
            labels[name] = s(lang, "lab_item_reversed" if rev else "lab_item", item=item, dim=dim)[:80]
        if rev:
            raw = safe_name(f"{item}_raw")
            cols[raw] = x
            if choices:
                values[raw] = dict(sorted(choices.items()))
            labels[raw] = (fit_label(text, s(lang, "lab_statement_raw"), SAV_LABEL_MAX) if text
                           else s(lang, "lab_item_raw", item=item)[:80])
    return _joined(df, cols), list(cols)


def measures_and_formats(df: pd.DataFrame, values: dict[str, dict], items: Iterable[str],
                         scores: Iterable[str]) -> tuple[dict[str, str], dict[str, str]]:
    """SPSS measurement levels and print formats: coded categories nominal, Likert items ordinal,
    scores and amounts scale; whole-number columns without decimals (age F3.0), scores F8.2."""
    items, scores = set(items), set(scores)
    measure: dict[str, str] = {}
    fmt: dict[str, str] = {}
    for c in df.columns:
        col = df[c]
        if c in items:  # a Likert item (with its answer labels or not) is ordinal
            measure[c], fmt[c] = "ordinal", "F2.0"
        elif c in values:
            measure[c] = "nominal"
            fmt[c] = "F2.0" if len(values[c]) < 100 else "F8.0"
        elif pd.api.types.is_datetime64_any_dtype(col):
            measure[c], fmt[c] = "scale", "DATETIME20"
        elif pd.api.types.is_numeric_dtype(col):
            measure[c] = "scale"
            x = col.dropna()
            whole = bool(len(x)) and bool(np.all(np.isfinite(x))) and bool(np.all(x == np.round(x)))
            if c in scores or not whole:
                fmt[c] = "F8.2"
            else:
                width = max(1, len(str(int(np.abs(x).max())))) + int((x < 0).any())
                fmt[c] = f"F{max(width, 3)}.0"
        else:
            measure[c] = "nominal"
    return measure, fmt


def by_wave(df: pd.DataFrame, labels: dict[str, str], values: dict[str, dict], study: Any,
            lang: str, keep: list[str]) -> tuple[pd.DataFrame, dict[str, str], dict[str, dict]]:
    """The long frame turned wide: one row per respondent, each wave's ``keep`` columns (scores,
    items, network indicators) as ``<variable>_<wave>`` — what SPSS's paired T-TEST needs.

    ``group`` and ``site`` are the respondent's in the first wave they answered; the covariates
    stay in the long file.

    Returns
    -------
    (DataFrame, dict, dict)
        ``respondent_id``, ``group``, ``site``, then ``<column>_<wave>`` for every kept column and
        wave (``attrs["source"]`` maps each to its long column); its variable labels
        (``… [<wave label>]``) and value labels.
    """
    waves = list(study.wave_ids)
    keep = [c for c in keep if c in df.columns]
    first = df[["respondent_id", "group", "site", "wave"]].sort_values("wave").drop_duplicates("respondent_id")
    first = first[["respondent_id", "group", "site"]]  # (only the columns it needs sorted: not a copy of the frame)
    out = first.set_index("respondent_id")
    wlab: dict[str, str] = {}
    source: dict[str, str] = {}
    for i, w in enumerate(waves, start=1):
        part = df.loc[df["wave"] == float(i), ["respondent_id", *keep]].set_index("respondent_id")
        part.columns = [f"{c}_{safe_name(w, 12)}"[:32] for c in keep]
        for c, new in zip(keep, part.columns):
            wlab[new] = fit_label(labels.get(c, c), f" [{study.wave_label(w, lang)}]", SAV_LABEL_MAX)
            source[new] = c
        out = out.join(part, how="left")
    out = out.reset_index().sort_values("respondent_id").reset_index(drop=True)
    labs = {c: labels.get(c, c) for c in ("respondent_id", "group", "site")} | wlab
    vals = {k: v for k, v in values.items() if k in out.columns}
    vals |= {new: values[old] for new, old in source.items() if old in values}  # an item's answer labels
    out.attrs["source"] = source  # wide column -> the long column it comes from
    return out, labs, vals


def pyreadstat_frame(df: pd.DataFrame) -> Any:
    """``df`` as a polars frame, missing numbers (NaN, NaT) as nulls, for pyreadstat to write.

    pyreadstat writes a file cell by cell; for a pandas frame it calls ``pd.isna`` on every cell
    of a column that has a missing value (≈ 20 million calls for the four score files of 200
    villages: 2/3 of their time), for a polars frame it tests ``is None``. The files are the same
    byte for byte (tests/report/test_exports_fast.py): the same column types, labels and values.
    """
    import polars as pl

    return pl.from_pandas(df, nan_to_null=True)


#: the Stata version whose .dta format is written: 14 gives format 118, which Stata 14 and every
#: later Stata opens (Unicode, 80-character variable labels, 32,000-character value labels); 15
#: would give format 119, which Stata 14 — still common on campus licences — refuses. 118 holds
#: up to 32,767 variables, far more than the exports have.
STATA_VERSION = 14


def write_spss_stata(df: pd.DataFrame, labels: dict[str, str], values: dict[str, dict], outdir: Path,
                     when: datetime = EPOCH, *, stem: str = "scores", measures: dict[str, str] | None = None,
                     formats: dict[str, str] | None = None, compress: bool = False) -> list[Path]:
    """``<stem>.sav`` and ``<stem>.dta`` with variable and value labels (pyreadstat), dated ``when``;
    the .sav also with SPSS measurement levels and print formats and labels of up to 256
    characters (an item's whole statement); the .dta in format 118 (:data:`STATA_VERSION`: Stata
    14 and later) with labels cut to Stata's 80 (:func:`stata_label`). With ``compress`` the .sav
    is bytecode-compressed (what SPSS itself writes by default; every SPSS, PSPP, R haven and
    pyreadstat read it): ≈ 2.7× smaller for these tables at the same cost. Stata's format has no
    compression.

    The frame is handed to pyreadstat as a polars frame (:func:`pyreadstat_frame`): the same
    bytes, a third of the time."""
    import pyreadstat

    outdir = Path(outdir)
    col_labels = [labels.get(c, c)[:SAV_LABEL_MAX] for c in df.columns]
    df = pyreadstat_frame(df)
    out = []
    sav = outdir / f"{stem}.sav"
    with atomic_path(sav) as tmp:
        tmp_sav = tmp.with_suffix(".sav")
        pyreadstat.write_sav(df, str(tmp_sav), column_labels=col_labels, variable_value_labels=values,
                             variable_measure=measures or None, variable_format=formats or None,
                             row_compress=compress)
        _stamp_sav(tmp_sav, when)
        tmp_sav.replace(tmp)
    out.append(sav)
    dta = outdir / f"{stem}.dta"
    dvalues = {k: {int(code): lab for code, lab in v.items()} for k, v in values.items()}
    with atomic_path(dta) as tmp:
        tmp_dta = tmp.with_suffix(".dta")
        pyreadstat.write_dta(df, str(tmp_dta), column_labels=[stata_label(x) for x in col_labels],
                             variable_value_labels=dvalues,
                             version=STATA_VERSION)
        _stamp_dta(tmp_dta, when)
        tmp_dta.replace(tmp)
    out.append(dta)
    return out
