"""The ``tables`` source: a study's CSVs read into the canonical tables.

A ``tables`` study gives its data as the canonical tables themselves (``respondents.csv``,
``responses.csv``, ``ties.csv``, ``scales.csv``: :data:`pipeline.schemas.TABLE_FILES`), from any
tool (ODK, Google Forms, paper typed into Excel); ``make pull`` copies them unchanged into
``data/raw/<id>/tables/``. :func:`read_tables` reads that copy as strictly as the other sources:

- every file through :func:`pipeline.io.read_csv` (encoding, separator, decimal commas, noted);
- a problem stops the run naming the file, its row (the line in the file, header = line 1), the
  column and the value, and where to fix it (the source file, then ``make pull``);
- ids are pseudonymised like roster ids (:mod:`pipeline.pseudonym`); respondents.csv columns that
  look personal are held back (:mod:`pipeline.privacy`);
- self-nominations are dropped, a nomination twice is kept once, a nomination of someone who is no
  respondent is kept (not a node): each a quality row.

:func:`pipeline.tidy.tidy_tables` validates what it returns and adds the sample flow. ``sinergi
tidy`` reads ``responses.csv`` and ``ties.csv`` in blocks instead (:mod:`pipeline.sources.table_blocks`,
with these functions' checks and messages, in their order: the same tables and the same errors,
memory flat in the number of villages); files that need this module's whole-file reading (quotes,
``;`` separators, another encoding) are read here.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Iterable

import numpy as np
import pandas as pd

from .. import schemas
from ..config import Study
from ..errors import SinergiError
from ..io import CsvFile, note, read_csv
from ..privacy import hold_back_columns
from ..pseudonym import check_collisions, pseudonym_width, pseudonymizer, read_key
from ..schemas import OPTIONAL_TABLES, TABLE_COLUMNS, TABLE_FILES, quality_row

#: scales.csv's optional label columns, each in two languages (``<base>_id``, ``<base>_en``) or
#: one text for both (``<base>``): a dimension's and a subscale's name, and the item's statement
SCALE_LABELS = ("dimension_label", "subscale_label", "label")
#: the columns the processed scale map holds the labels in (None where not given)
SCALE_LABEL_COLUMNS = [f"{base}_{lang}" for base in SCALE_LABELS for lang in ("id", "en")]
#: text accepted in scales.csv's reverse column (case-insensitive); anything else is refused
REVERSE_WORDS = {"true": True, "false": False, "1": True, "0": False, "yes": True, "no": False,
                 "ya": True, "tidak": False}
_ID_COLUMNS = ("respondent_id", "wave", "group", "site")


def read_table_csv(path: Path) -> CsvFile:
    """A tables CSV, read by :func:`pipeline.io.read_csv` (index = line number, header = line 1)."""
    if not path.exists():
        needed = [f + ".csv" for f in TABLE_FILES if f not in OPTIONAL_TABLES]
        raise SinergiError(f"{path}: file missing; a tables study needs {', '.join(needed)}")
    return read_csv(path, expect=",".join(TABLE_COLUMNS.get(path.stem, [])))


def _read_ties(study: Study, folder: Path) -> CsvFile:
    """``ties.csv``; a study without networks (no ``tie_types``) may leave it out (no rows, then)."""
    path = folder / "ties.csv"
    if path.exists() or study.tie_types:
        return read_table_csv(path)
    return CsvFile(pd.DataFrame(columns=TABLE_COLUMNS["ties"], dtype=str), path, ",", ".")


def fail(t: CsvFile, mask: Any, column: str | None, why: str) -> SinergiError:
    """The error for the first row of ``t`` where ``mask`` is true: file, row (its line), column."""
    line = int(t.frame.index[np.asarray(mask, dtype=bool)][0])
    where = f"row {line}" + (f", column {column}" if column else "")
    return SinergiError(f"{t.path}: {where}: {why}")


def value_at(t: CsvFile, mask: Any, column: str) -> Any:
    return t.frame.loc[t.frame.index[np.asarray(mask, dtype=bool)][0], column]


def need_columns(t: CsvFile, cols: Iterable[str], filled: Iterable[str] = ()) -> None:
    """Refuse a CSV without the columns ``cols``, or with an empty cell in a column of ``filled``."""
    missing = [c for c in cols if c not in t.frame.columns]
    if missing:
        raise SinergiError(f"{t.path}: missing column(s) {', '.join(missing)} (has {', '.join(t.frame.columns)})")
    for col in filled:
        empty = t.frame[col].isna()
        if empty.any():
            raise fail(t, empty, col, "empty; every row needs a value here")


def numbers_of(t: CsvFile, col: str, *, allow_na: bool) -> pd.Series:
    """Column ``col`` as finite floats; a cell that is not a number (or empty, unless ``allow_na``)
    stops the run naming its row."""
    values, bad = t.numbers(col)
    if not allow_na:
        bad = bad | values.isna()
    if bad.any():
        value = value_at(t, bad, col)
        if pd.isna(value):
            raise fail(t, bad, col, "empty; write a number")
        raise fail(t, bad, col, f"{value!r} is not a number{t.number_hint(value)}")
    return values


def group_column(study: Study, t: CsvFile) -> str:
    """The respondents.csv column that holds the group: ``group``, or ``group.variable`` when the
    study sets it."""
    var = study.group.variable
    if "variable" not in study.group.model_fields_set or var == "group":
        return "group"
    if var not in t.frame.columns:
        raise SinergiError(f"{study.file}: group.variable = {var!r}: {t.path.name} has no column {var!r} "
                           f"(has {', '.join(t.frame.columns)}); name one of its columns, or leave group.variable "
                           "out to use the 'group' column")
    ignored = " (its 'group' column is not used)" if "group" in t.frame.columns else ""
    note(f"{t.path}: groups read from column {var!r} (the study's group.variable){ignored}")
    return var


def _scale_labels(scales: CsvFile, smap: pd.DataFrame) -> pd.DataFrame:
    """``smap`` with the label columns :data:`SCALE_LABEL_COLUMNS` (None where scales.csv gives
    none): ``<base>_<lang>``, else ``<base>`` for both languages. A dimension (or a dimension's
    subscale) has one name: a row naming it differently from an earlier row is refused. Columns
    scales.csv has beyond these are not read (a note names them)."""
    known = {*TABLE_COLUMNS["scales"], *SCALE_LABELS, *SCALE_LABEL_COLUMNS}
    extra = [c for c in smap.columns if c not in known]
    if extra:
        note(f"{scales.path}: column(s) {', '.join(extra)} not read (scales.csv reads "
             f"{', '.join(TABLE_COLUMNS['scales'])} and the labels {', '.join(SCALE_LABEL_COLUMNS)})")
    for base in SCALE_LABELS:
        for lang in ("id", "en"):
            col = f"{base}_{lang}"
            given = col if col in smap.columns else base if base in smap.columns else None
            smap[col] = smap[given].astype(object) if given else None
            smap[col] = smap[col].where(smap[col].notna(), None)
            if base != "label" and given:
                _one_name(scales, smap, col, given, ["dimension"] if base == "dimension_label" else ["dimension", "subscale"])
    return smap


def _one_name(scales: CsvFile, smap: pd.DataFrame, col: str, source: str, keys: list[str]) -> None:
    """Refuse a row that names its dimension (``keys``) other than an earlier row did."""
    named = smap[smap[col].notna()]
    key = named[keys].astype(str).agg("\x00".join, axis=1)
    first = named[col].groupby(key, sort=False).transform("first")
    bad = smap.index.isin(named.index[(named[col] != first).to_numpy()])
    if bad.any():
        i = smap.index[bad][0]
        what = "/".join(str(smap.at[i, k]) for k in keys)
        raise fail(scales, bad, source, f"{smap.at[i, col]!r} names {what} differently from an earlier row "
                                    f"({first[i]!r}); give it one name, or write it on one row only")


def _table_covariates(t: CsvFile, resp: pd.DataFrame, skip: Iterable[str]) -> None:
    """Type each covariate column of respondents.csv in place, by the rules of :mod:`pipeline.schemas`."""
    for col in [c for c in resp.columns if c not in set(skip)]:
        filled = resp[col].notna()
        kind = schemas.covariate_kind(col)
        if kind == "binary":
            words = resp[col].str.lower().map(schemas.BINARY_WORDS)
            bad = filled & words.isna()
            if bad.any():
                raise fail(t, bad, col, f"{value_at(t, bad, col)!r} is not 1 or 0 (ya/tidak, yes/no and true/false "
                                         "are read as 1/0 too)")
            other = sorted(set(resp.loc[filled, col].str.lower()) - {"1", "0"})
            if other:
                note(f"{t.path}: column {col}: read {'/'.join(other)} as 1/0")
            resp[col] = words.astype(float)
        elif kind is not None:
            values = numbers_of(t, col, allow_na=True)
            ok, wanted = schemas.RULES[kind]
            bad = values.notna() & ~ok(values)
            if bad.any():
                raise fail(t, bad, col, f"{value_at(t, bad, col)!r} is not {wanted}")
            resp[col] = values
        else:
            values, bad = t.numbers(col)
            if filled.any() and not (bad & filled).any():
                resp[col] = values
            elif (filled & ~bad).any():
                first = value_at(t, filled & bad, col)
                note(f"{t.path}: column {col} kept as text: {int((filled & ~bad).sum())} value(s) are numbers, "
                     f"{int((filled & bad).sum())} are not (first: row {int(resp.index[filled & bad][0])}, {first!r})")


def _recode(values: pd.Series, lookup: dict, dtype: Any) -> pd.Series:
    """``values.map(lookup)`` (missing where ``lookup`` has no entry), each distinct value looked
    up once and the results spread over the rows by their codes (``dtype``: ``float`` or ``"str"``).

    >>> _recode(pd.Series(["a", "b", "a", None]), {"a": 1.0}, float).tolist()
    [1.0, nan, 1.0, nan]
    """
    codes, uniques = pd.factorize(values)
    if dtype is float:
        table = np.array([lookup.get(u, np.nan) for u in uniques] + [np.nan], dtype=float)  # last: code -1
        out = table[codes]
    else:
        out = pd.array([lookup.get(u) for u in uniques], dtype=dtype).take(codes, allow_fill=True)
    return pd.Series(out, index=values.index, name=values.name)


def _tie_quality(quality: list[dict], rows: pd.DataFrame, pseudo, value: str, issue: str, action: str) -> None:
    """Add a ``quality`` row per tie in ``rows`` (in their order): the codes ``issue`` and ``action``,
    the ego's pseudonym as respondent and the pseudonym in column ``value`` as value."""
    ego = rows["ego"].map(pseudo)
    shown = ego if value == "ego" else rows[value].map(pseudo)
    quality.extend(quality_row(issue, action, wave=w, respondent_id=e, field="ties.csv", value=v)
                   for w, e, v in zip(rows["wave"], ego, shown))


def absent_tie_types(study: Study, tie_types: pd.Series) -> None:
    """Refuse a study tie type that no row of ties.csv has (a typo such as ``colab``): it would be
    analysed as an empty network. A ties.csv without rows is a study without ties, not a typo."""
    have = sorted(tie_types.unique())
    absent = [t for t in study.tie_types if t not in have]
    if not have or not absent:
        return
    key = "tie_types" if "tie_types" in study.model_fields_set else \
        f"tie_types (not written, so the default {', '.join(study.tie_types)})"
    raise SinergiError(f"{study.file}: {key}: {absent[0]!r} occurs in no wave of ties.csv (ties.csv has: "
                       f"{', '.join(have)}); check its spelling, or list only the tie types of the data, "
                       f"e.g. `tie_types: [{', '.join(have)}]`")


def read_tables(study: Study, raw_dir: Path) -> dict[str, Any]:
    """The canonical tables of a ``tables`` study, from its CSVs in ``data/raw/<id>/tables/``.

    Returns
    -------
    dict
        ``respondents`` (``respondent_id`` pseudonymised, ``wave``, ``group``, ``site``, the
        covariates typed by :mod:`pipeline.schemas`' rules), ``responses`` (``respondent_id``,
        ``wave``, ``item``, ``value``), ``ties`` (``site``, ``wave``, ``tie_type``, ``ego``,
        ``alter``, ``weight``) as DataFrames not yet validated; ``quality``, the quality rows
        (:func:`pipeline.schemas.quality_row`); ``scale_map`` (validated, with the label columns
        :data:`SCALE_LABEL_COLUMNS`).

    Raises
    ------
    SinergiError
        The first problem, naming the file, row, column and value, and the source file to fix.
    """
    folder = Path(raw_dir) / "tables"
    try:
        return _read(study, Path(raw_dir), folder)
    except SinergiError as exc:
        raise pointed(study, folder, exc) from None


def pointed(study: Study, folder: Path, exc: SinergiError) -> SinergiError:
    """``exc`` with, when it names a file of ``folder``, the source file to fix and ``make pull``."""
    text = str(exc)
    if not text.startswith(str(folder)):
        return exc
    name = text[len(str(folder)):].lstrip("/").split(":", 1)[0]
    source = study.resolve(study.source.path) / name
    return SinergiError(f"{text}; fix it in {source}, then `make pull`")


def _read(study: Study, raw_dir: Path, folder: Path) -> dict[str, Any]:
    """:func:`read_tables` without the pointer to the source file."""
    pseudo = pseudonymizer(read_key(raw_dir), pseudonym_width(raw_dir))
    files, group_col = _open(study, folder)
    quality: list[dict] = []
    resp = respondents_table(study, files["respondents"], group_col, quality)
    smap = scale_map_table(files["scales"])
    items = _responses(files["responses"], smap, resp, files["scales"].path)
    ties = _ties(study, files["ties"], resp, pseudo, quality)
    resp, items, ties = _pseudonymised(resp, items, ties, pseudo, raw_dir)
    # every check that names a file's row is done: the files' text goes with ``files`` (at 200
    # villages the ids, values and weights as read are ≈ 150 MB) before the tables are validated
    return {"respondents": resp.reset_index(drop=True),
            "responses": items[["respondent_id", "wave", "item", "value"]].reset_index(drop=True),
            "ties": ties[["site", "wave", "tie_type", "ego", "alter", "weight"]].reset_index(drop=True),
            "quality": quality,
            "scale_map": smap[["item", "dimension", "subscale", "reverse", "min", "max", *SCALE_LABEL_COLUMNS]]}


def _open(study: Study, folder: Path) -> tuple[dict[str, CsvFile], str]:
    """The four CSVs read (keyed by table name), with the columns each needs, rows, and waves of the
    study; and the respondents.csv column that holds the group."""
    files = {name: read_table_csv(folder / f"{name}.csv") for name in ("respondents", "responses", "scales")}
    files["ties"] = _read_ties(study, folder)
    respondents = files["respondents"]
    group_col = group_column(study, respondents)
    need_columns(respondents, ["respondent_id", "wave", group_col], filled=["respondent_id", "wave", group_col])
    need_columns(files["responses"], TABLE_COLUMNS["responses"], filled=["respondent_id", "wave", "item"])
    need_columns(files["ties"], TABLE_COLUMNS["ties"], filled=TABLE_COLUMNS["ties"])
    need_columns(files["scales"], TABLE_COLUMNS["scales"], filled=TABLE_COLUMNS["scales"])
    if respondents.frame.empty:
        raise SinergiError(f"{respondents.path}: no rows; it needs one row per respondent and wave")
    for table in (respondents, files["responses"], files["ties"]):
        bad = ~table.frame["wave"].isin(study.wave_ids)
        if bad.any():
            raise fail(table, bad, "wave", f"{value_at(table, bad, 'wave')!r} is not a wave of the study "
                                            f"({', '.join(study.wave_ids)})")
    return files, group_col


def respondents_table(study: Study, respondents: CsvFile, group_col: str, quality: list[dict]) -> pd.DataFrame:
    """respondents.csv without the personal columns, with ``group`` and ``site``, covariates typed."""
    resp = hold_back_columns(respondents.frame.copy(), study, respondents.path, quality)
    resp["group"] = resp[group_col]
    bad = ~resp["group"].isin(study.group_values)
    if bad.any():
        raise fail(respondents, bad, group_col, f"{value_at(respondents, bad, group_col)!r} is not a group level "
                                                 f"of the study ({', '.join(study.group_values)})")
    if "site" in resp.columns:
        need_columns(respondents, ["site"], filled=["site"])
    else:
        resp["site"] = study.site
    dup = resp.duplicated(["respondent_id", "wave"], keep=False)
    if dup.any():
        rows = [str(i) for i in resp.index[dup][:4]]
        raise SinergiError(f"{respondents.path}: rows {', '.join(rows)}: the same respondent_id twice in one wave "
                           f"({resp.loc[resp.index[dup][0], 'respondent_id']!r})")
    _table_covariates(respondents, resp, skip=(*_ID_COLUMNS, group_col))
    return resp


def scale_map_table(scales: CsvFile) -> pd.DataFrame:
    """scales.csv as the canonical scale map (validated), with its label columns."""
    smap = _scale_labels(scales, scales.frame.copy(deep=False))
    rev = smap["reverse"].str.lower().map(REVERSE_WORDS)
    if rev.isna().any():
        raise fail(scales, rev.isna(), "reverse", f"{value_at(scales, rev.isna(), 'reverse')!r} is not true/false")
    smap["reverse"] = rev.astype(bool)
    smap["min"] = numbers_of(scales, "min", allow_na=False)
    smap["max"] = numbers_of(scales, "max", allow_na=False)
    dup = smap["item"].duplicated()
    if dup.any():
        raise fail(scales, dup, "item", f"{value_at(scales, dup, 'item')!r} is listed twice; list each item once")
    bad = smap["min"] >= smap["max"]
    if bad.any():
        raise fail(scales, bad, "max", f"{value_at(scales, bad, 'max')!r} is not above min "
                                        f"{value_at(scales, bad, 'min')!r}")
    return schemas.validate("scale_map", smap.reset_index(drop=True), str(scales.path))


def _responses(responses: CsvFile, smap: pd.DataFrame, resp: pd.DataFrame, scales_path: Path) -> pd.DataFrame:
    """responses.csv with numeric values, each within its item's range, of known items and people."""
    items = responses.frame.copy(deep=False)  # copy-on-write: shares the data; the file keeps the text
    items["value"] = numbers_of(responses, "value", allow_na=True)
    known = items["item"].isin(smap["item"])
    if not known.all():
        raise fail(responses, ~known, "item", f"{value_at(responses, ~known, 'item')!r} is not in {scales_path.name}")
    lo = _recode(items["item"], dict(zip(smap["item"], smap["min"])), float)
    hi = _recode(items["item"], dict(zip(smap["item"], smap["max"])), float)
    bad = ~schemas.value_rule(items["value"], lo, hi)
    if bad.any():
        i = items.index[bad][0]
        v, a, b = items.at[i, "value"], lo[i], hi[i]
        why = "is not a whole number (the answers are" if a <= v <= b else "is outside"
        raise fail(responses, bad, None, f"item {items.at[i, 'item']} value {v:g} {why} {a:g}..{b:g}"
                                          + (")" if a <= v <= b else ""))
    dup = items.duplicated(["respondent_id", "wave", "item"])
    if dup.any():
        raise fail(responses, dup, None, "the same respondent_id, wave and item twice")
    orphan = ~pd.MultiIndex.from_frame(items[["respondent_id", "wave"]]).isin(_people(resp))
    if orphan.any():
        i = items.index[np.flatnonzero(orphan)[0]]
        raise fail(responses, orphan, None, f"respondent_id {items.at[i, 'respondent_id']!r} has no row in "
                                             f"respondents.csv for wave {items.at[i, 'wave']!r}")
    return items


def _people(resp: pd.DataFrame) -> pd.MultiIndex:
    """(respondent_id, wave) of every respondents.csv row."""
    return pd.MultiIndex.from_frame(resp[["respondent_id", "wave"]])


def _ties(study: Study, ties_file: CsvFile, resp: pd.DataFrame, pseudo, quality: list[dict]) -> pd.DataFrame:
    """ties.csv checked (weights, tie types, egos of the wave), without self-nominations and doubles
    (each a quality row), each tie with its ego's site."""
    ties = _tie_weights(ties_file)
    _tie_types(study, ties_file, ties)
    stray = ~pd.MultiIndex.from_arrays([ties["ego"], ties["wave"]]).isin(_people(resp))
    if stray.any():
        i = ties.index[np.flatnonzero(stray)[0]]
        raise fail(ties_file, stray, "ego", f"{ties.at[i, 'ego']!r} has no row in respondents.csv for wave "
                                             f"{ties.at[i, 'wave']!r}; a tie is named by a respondent of that wave")
    selfn = (ties["ego"] == ties["alter"]).to_numpy()
    _tie_quality(quality, ties[selfn], pseudo, "ego", "self_nomination", "dropped")
    ties = ties[~selfn]
    dup = ties.duplicated(["wave", "tie_type", "ego", "alter"]).to_numpy()
    _tie_quality(quality, ties[dup], pseudo, "alter", "duplicate_nomination", "kept_one")
    ties = ties[~dup]
    outside = ~ties["alter"].isin(resp["respondent_id"].unique()).to_numpy()
    _tie_quality(quality, ties[outside], pseudo, "alter", "non_respondent_nomination", "kept_not_node")
    # each tie's site is its ego's in that wave (every ego has exactly one such row: checked above)
    site_of = resp.set_index(["respondent_id", "wave"])["site"]
    return ties.assign(site=site_of.reindex(pd.MultiIndex.from_arrays([ties["ego"], ties["wave"]])).to_numpy())


def _tie_weights(ties_file: CsvFile) -> pd.DataFrame:
    """ties.csv with ``weight`` as numbers (a frequency 1–4, or NaN; NaN when the file has no weights)."""
    ties = ties_file.frame.copy(deep=False)
    if "weight" not in ties:
        ties["weight"] = np.nan
        return ties
    ties["weight"] = numbers_of(ties_file, "weight", allow_na=True)
    bad = ~schemas.value_rule(ties["weight"], schemas.WEIGHT_MIN, schemas.WEIGHT_MAX)
    if bad.any():
        raise fail(ties_file, bad, "weight", f"{value_at(ties_file, bad, 'weight')!r} is not a frequency "
                                              f"{schemas.WEIGHT_MIN:g}..{schemas.WEIGHT_MAX:g} (1 rarely, 2 monthly, "
                                              "3 weekly, 4 almost daily); leave it empty when unknown")
    return ties


def _tie_types(study: Study, ties_file: CsvFile, ties: pd.DataFrame) -> None:
    """Every tie type of ties.csv is one of the study's, and every study tie type occurs."""
    absent_tie_types(study, ties["tie_type"])
    bad_type = ~ties["tie_type"].isin(study.tie_types)
    if bad_type.any() and not study.tie_types:
        found = ", ".join(pd.unique(ties["tie_type"]))
        raise fail(ties_file, bad_type, "tie_type", f"{value_at(ties_file, bad_type, 'tie_type')!r}: the study names "
                                                     f"no tie types; to analyse these ties add "
                                                     f"`tie_types: [{found}]` to {study.file}")
    if bad_type.any():
        raise fail(ties_file, bad_type, "tie_type", f"{value_at(ties_file, bad_type, 'tie_type')!r} is not in the "
                                                     f"study's tie_types ({', '.join(study.tie_types)})")


def _pseudonymised(resp: pd.DataFrame, items: pd.DataFrame, ties: pd.DataFrame, pseudo,
                   raw_dir: Path) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """The three tables with every id replaced by its pseudonym (two ids with one pseudonym stop)."""
    ids = pd.concat([resp["respondent_id"], ties["ego"], ties["alter"]], ignore_index=True).unique()
    mapping = {x: pseudo(x) for x in ids}
    check_collisions(mapping, raw_dir)
    resp["respondent_id"] = _recode(resp["respondent_id"], mapping, "str")
    items["respondent_id"] = _recode(items["respondent_id"], mapping, "str")
    ties["ego"] = _recode(ties["ego"], mapping, "str")
    ties["alter"] = _recode(ties["alter"], mapping, "str")
    return resp, items, ties
