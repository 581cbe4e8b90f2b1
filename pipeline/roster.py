"""The village roster: checked, and carried from one survey wave to the next.

A roster is the list every platform shows for "pick yourself" and for the name generators:
KoboToolbox and ODK Central read it as the form media / attachment ``roster.csv`` (columns
``name,label``), the Google Forms script writes it into its lists (labels carrying the id, see
:mod:`pipeline.sources.google_form_script`). ``name`` is the stable id the analysis keys on, so:

- an id is never changed and never reused, not even for someone who left;
- the next wave's roster starts from the last one (:func:`next_roster`): the people interviewed
  at baseline first (the ones to find again), then the others still listed, then the people who
  left (kept, so that a nomination of them still resolves, and marked in their label), then the
  newcomers, appended with new ids that continue the sequence (``u141``, ``u142``, …).

Pure functions over pandas frames; reading and writing the CSV is :func:`read_roster_csv` and
:func:`roster_csv_bytes` (the caller writes the bytes atomically).
"""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path
from typing import Iterable

import pandas as pd

from .errors import SinergiError
from .io import decode, read_bytes, read_csv

#: roster columns every platform reads (``status`` is sinergi's own; KoboToolbox and ODK ignore it)
COLUMNS = ["name", "label", "status"]
#: ``status`` values: interviewed at baseline, listed but not (yet) interviewed, left the
#: village or the business (kept so their id still resolves), new in this wave
STATUSES = ("baseline", "listed", "left", "new")
#: what a leaver's label gets appended, per study language
LEFT_MARK = {"id": "(tidak aktif lagi)", "en": "(no longer active)"}
#: a roster id: letters, digits, ``_``, ``.``, ``-`` (a space would split a multiple-choice answer)
ID_RE = re.compile(r"[A-Za-z0-9_.\-]+")
#: the template's example people start their labels with this word (instruments/roster_template.csv)
TEMPLATE_MARK = "Contoh:"


def check_roster(roster: pd.DataFrame, where: str) -> pd.DataFrame:
    """Check a roster table and return it with the columns :data:`COLUMNS` (text).

    The one roster check: the KoboToolbox and ODK Central deploys and the next-wave roster use it.

    Parameters
    ----------
    roster
        Columns ``name`` and ``label`` (and optionally ``status``); the index is the row as the
        user sees it (the file's line), used in messages.
    where
        The file the roster came from, for messages.

    Returns
    -------
    pandas.DataFrame
        ``name`` (the stable id), ``label`` (what enumerators and respondents see), ``status``
        (one of :data:`STATUSES`; ``listed`` where the file has none).

    Raises
    ------
    SinergiError
        A missing column, no rows, an empty or malformed id (a space would split a multiple-choice
        answer), an id twice (two people merged into one), an empty label, an unknown status, or the
        template's example people; naming the file, row and value.

    Examples
    --------
    >>> check_roster(pd.DataFrame({"name": ["u001"], "label": ["Ibu Sari — warung"]}), "r.csv").to_dict("records")
    [{'name': 'u001', 'label': 'Ibu Sari — warung', 'status': 'listed'}]
    """
    if not {"name", "label"} <= set(roster.columns):
        raise SinergiError(f"{where}: a roster needs the columns name,label (header line: "
                           f"{','.join(map(str, roster.columns))}); name = a short id such as u001, label = what "
                           "enumerators see (instruments/roster_template.csv)")
    if roster.empty:
        raise SinergiError(f"{where}: no people: the roster has its header but no rows (one row per person)")
    out = pd.DataFrame({"name": roster["name"], "label": roster["label"],
                        "status": roster["status"] if "status" in roster.columns else "listed"},
                       index=roster.index)
    for row, name, label, status in zip(out.index, out["name"], out["label"], out["status"]):
        _check_row(where, row, name, label, status)
    twice = out["name"].duplicated(keep=False)
    if twice.any():
        name = out.loc[twice, "name"].iloc[0]
        rows = [str(r) for r in out.index[(out["name"] == name).to_numpy()]]
        raise SinergiError(f"{where}: rows {' and '.join(rows)}: name {name!r} is used twice; each person needs "
                           "their own id (two people merged into one?), and an id is never reused")
    return out.reset_index(drop=True)


def _check_row(where: str, row, name, label, status) -> None:
    """One roster row: an id of :data:`ID_RE`, a label that is not the template's, a known status."""
    if not isinstance(name, str) or not name.strip():
        raise SinergiError(f"{where}: row {row}, column name is empty; every person needs an id (u001)")
    if not ID_RE.fullmatch(name):
        raise SinergiError(f"{where}: row {row}, column name: {name!r} is not a roster id: a short id of letters, "
                           "digits, _ . - and no space (u001): KoboToolbox keeps the people a respondent names "
                           "space-separated")
    if not isinstance(label, str) or not label.strip():
        raise SinergiError(f"{where}: row {row}, column label: empty; write the person's name and business")
    if label.strip().startswith(TEMPLATE_MARK):
        raise SinergiError(f"{where}: row {row}: {label!r} is one of the template's example people; make the "
                           "village's own roster (README, 'Deploying it on KoboToolbox')")
    if status not in STATUSES:
        raise SinergiError(f"{where}: row {row}, column status: {status!r} is not one of {', '.join(STATUSES)}")


def read_roster_csv(path: str | Path) -> pd.DataFrame:
    """A roster CSV a user wrote (``name,label``, optionally ``status``), checked.

    Returns
    -------
    pandas.DataFrame
        As :func:`check_roster`.
    """
    table = read_csv(path, expect="name,label")
    return check_roster(table.frame, str(path))


def roster_upload_bytes(path: str | Path) -> bytes:
    """A roster CSV checked as :func:`read_roster_csv` does, as the bytes to upload to KoboToolbox.

    A UTF-8, comma-separated file is uploaded as it is; any other (``;``, tab, Windows-1252) as
    UTF-8 with commas, what KoboToolbox reads (the columns as the file has them).

    Raises
    ------
    SinergiError
        One line naming the file, the row and the column; nothing is sent.
    """
    path = Path(path)
    data = read_bytes(path, missing="roster file not found", folder="is a folder, not the roster CSV")
    table = read_csv(path, expect="name,label")
    check_roster(table.frame, str(path))
    plain = table.separator == "," and decode(data, str(path))[1] is None
    return data if plain else table.frame.to_csv(index=False, lineterminator="\n").encode("utf-8")


def _id_pattern(ids: Iterable[str], where: str) -> tuple[str, int, int]:
    """``(prefix, width, largest number)`` shared by every id (``u001``… → ``("u", 3, 140)``)."""
    parts = [re.fullmatch(r"(.*?)(\d+)", i) for i in ids]
    prefixes = {m.group(1) for m in parts if m}
    if not parts or not all(parts) or len(prefixes) != 1:
        raise SinergiError(f"{where}: the ids do not follow one pattern (a prefix and a number, like u001), so "
                           "newcomers' ids cannot be continued; give each newcomer an id (column name)")
    width = min(len(m.group(2)) for m in parts)
    return prefixes.pop(), width, max(int(m.group(2)) for m in parts)


def _newcomers(newcomers: pd.DataFrame, used: set[str], where: str) -> pd.DataFrame:
    """Newcomers with ids: their own (checked against every id ever used) or the next in sequence."""
    if newcomers.empty:
        return pd.DataFrame(columns=COLUMNS)
    if "label" not in newcomers.columns:
        raise SinergiError(f"{where}: newcomers need a label column (and optionally name)")
    given = newcomers["name"] if "name" in newcomers.columns else pd.Series([None] * len(newcomers),
                                                                             index=newcomers.index)
    prefix, width, top = _id_pattern(sorted(used), where) if given.isna().any() else ("", 0, 0)
    rows = []
    for row, name, label in zip(newcomers.index, given, newcomers["label"]):
        if name is None or (isinstance(name, float) and pd.isna(name)):
            top += 1
            name = f"{prefix}{top:0{width}d}"
        elif name in used:
            raise SinergiError(f"{where}: row {row}, column name: id {name!r} was already used in an earlier "
                               "roster; ids are never reused (leave the cell empty to get a new one)")
        used.add(name)
        rows.append({"name": name, "label": label, "status": "new"})
    return check_roster(pd.DataFrame(rows, index=newcomers.index), where)


def next_roster(previous: pd.DataFrame, *, baseline: Iterable[str] = (), leavers: Iterable[str] = (),
                newcomers: pd.DataFrame | None = None, used_ids: Iterable[str] = (),
                language: str = "id", where: str = "roster") -> pd.DataFrame:
    """The next wave's roster from the last one.

    Parameters
    ----------
    previous
        The last wave's roster (:func:`check_roster` columns).
    baseline
        Ids interviewed at baseline (first wave): listed first, so they are found again.
    leavers
        Ids who left the village or the business: kept (a nomination of them still resolves,
        their id is never reused), their label marked with :data:`LEFT_MARK`, listed after
        everyone active. Someone already marked ``left`` stays so.
    newcomers
        New people: a ``label`` column and optionally ``name`` (their id); an empty id gets the
        next in the roster's sequence.
    used_ids
        Every id any earlier roster had (a newcomer may not take one).
    language
        The study's language (``id`` or ``en``), for the leavers' mark.
    where
        Names the input in messages.

    Returns
    -------
    pandas.DataFrame
        ``name``, ``label``, ``status`` (:data:`STATUSES`): active baseline respondents, other
        active people, leavers, newcomers; each group in the previous roster's order.

    Raises
    ------
    SinergiError
        A leaver or baseline id not on the previous roster, a reused id, ids without a pattern
        to continue.

    Examples
    --------
    >>> prev = pd.DataFrame({"name": ["u001", "u002", "u003"], "label": ["A", "B", "C"]})
    >>> new = pd.DataFrame({"label": ["D"]})
    >>> next_roster(prev, baseline=["u002"], leavers=["u003"], newcomers=new, language="en")["label"].tolist()
    ['B', 'A', 'C (no longer active)', 'D']
    """
    prev = check_roster(previous, where)
    ids = set(prev["name"])
    baseline, leavers = list(baseline), list(leavers)
    for what, given in (("baseline respondent", baseline), ("leaver", leavers)):
        stray = [i for i in given if i not in ids]
        if stray:
            raise SinergiError(f"{where}: {what} id {stray[0]!r} is not on the previous roster")
    mark = LEFT_MARK.get(language, LEFT_MARK["en"])
    left = prev["name"].isin(leavers) | (prev["status"] == "left")
    out = prev.copy()
    out.loc[left & (out["status"] != "left"), "label"] = out["label"] + " " + mark
    out.loc[left, "status"] = "left"
    active = ~left
    out.loc[active, "status"] = ["baseline" if n in set(baseline) else "listed" for n in out.loc[active, "name"]]
    order = out["status"].map({"baseline": 0, "listed": 1, "left": 2, "new": 1})
    out = out.assign(_o=order).sort_values("_o", kind="stable").drop(columns="_o")
    used = ids | set(used_ids)
    fresh = _newcomers(newcomers if newcomers is not None else pd.DataFrame(columns=["label"]), used, where)
    return pd.concat([out, fresh], ignore_index=True)[COLUMNS]


def roster_csv_bytes(roster: pd.DataFrame) -> bytes:
    """The roster as the CSV every platform takes: UTF-8, ``,``, columns :data:`COLUMNS`.

    >>> roster_csv_bytes(pd.DataFrame({"name": ["u001"], "label": ["Sari, warung"], "status": ["new"]}))
    b'name,label,status\\nu001,"Sari, warung",new\\n'
    """
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(COLUMNS)
    for row in roster[COLUMNS].itertuples(index=False):
        writer.writerow(list(row))
    return buf.getvalue().encode("utf-8")
