"""The one row order of the canonical tables.

A measurement must not depend on the order rows arrive in: a KoboToolbox pull lists submissions by
upload, a Google sheet by its rows, ODK Central by its own paging, a hand-made table in whatever order
its author typed. Tidy writes every canonical table in one order (:func:`canonical_tables`), and each
analysis stage puts the canonical tables it reads in that order before computing
(:func:`in_canonical_order`), so one village's answers give the same files and the same numbers, to
the last bit, whatever their platform or row order (``tests/test_row_order.py``).

The files are then written one Parquet row group per village (:mod:`pipeline.partitions`, a stable
grouping by site): ``responses``, which has no ``site`` column, comes out grouped by its respondents'
village and in this order within each village; the other two tables are already in site order.

Kept apart from :mod:`pipeline.schemas` (pandera) so that the analysis stages and their worker
processes import nothing more than pandas for it.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["SORT_KEYS", "in_canonical_order", "canonical_order", "canonical_tables", "rows_of"]

#: the order tidy writes each canonical table in (:func:`in_canonical_order`): its key columns, then the
#: value columns (so rows equal in their keys still have one order)
SORT_KEYS = {
    "respondents": ("site", "wave", "respondent_id"),
    "responses": ("wave", "respondent_id", "item", "value"),
    "ties": ("site", "wave", "tie_type", "ego", "alter", "weight"),
}


def in_canonical_order(name: str, df: pd.DataFrame, waves: list[str] | None = None) -> pd.DataFrame:
    """Canonical table ``name`` in its one order: by the columns of :data:`SORT_KEYS` present in it.

    A measurement must not depend on the order rows arrive in (a KoboToolbox pull lists submissions by
    upload, a Google sheet by its rows, ODK Central by its own paging): tidy writes every canonical table
    in this order, and each analysis stage puts what it reads in it before computing, so a hand-made
    table in another order gives the same results, to the last bit.

    Parameters
    ----------
    name : {"respondents", "responses", "ties"}
    df : pandas.DataFrame
        The table (any columns; those of :data:`SORT_KEYS` it lacks, e.g. a tables study's ``site``,
        are skipped).
    waves : list of str, optional
        The study's waves in order: ``wave`` sorts in this order (waves not listed after them, by
        name); without it by name.

    Returns
    -------
    pandas.DataFrame
        ``df``'s rows (all its columns, dtypes and ``attrs``) sorted by ``site``, ``wave``, then the
        ids and ``item``/``tie_type`` as text, then ``value``/``weight`` as numbers (missing last); a
        stable sort on a fresh ``RangeIndex``.

    Examples
    --------
    >>> t = pd.DataFrame({"respondent_id": ["b", "a", "a"], "wave": ["post", "post", "pre"], "group": "x"})
    >>> in_canonical_order("respondents", t, ["pre", "post"])[["respondent_id", "wave"]].values.tolist()
    [['a', 'pre'], ['a', 'post'], ['b', 'post']]
    """
    if not any(c in df.columns for c in SORT_KEYS[name]) or len(df) < 2:
        return df.reset_index(drop=True)
    out = df.iloc[canonical_order(name, df, waves)].reset_index(drop=True)
    out.attrs = dict(df.attrs)
    return out


def canonical_order(name: str, df: pd.DataFrame, waves: list[str] | None = None) -> np.ndarray:
    """The row positions that put ``df`` in canonical table ``name``'s order (:func:`in_canonical_order`
    is ``df.iloc[canonical_order(...)]``), without copying the table: a writer can take its rows in
    this order a village at a time.

    Returns
    -------
    numpy.ndarray
        A permutation of ``range(len(df))`` (int64): the stable sort by the columns of
        :data:`SORT_KEYS` present in ``df`` (the identity when there are none).

    Examples
    --------
    >>> t = pd.DataFrame({"respondent_id": ["b", "a", "a"], "wave": ["post", "post", "pre"]})
    >>> canonical_order("respondents", t, ["pre", "post"]).tolist()
    [2, 1, 0]
    """
    cols = [c for c in SORT_KEYS[name] if c in df.columns]
    if not cols or len(df) < 2:
        return np.arange(len(df), dtype=np.int64)
    rank = {str(w): i for i, w in enumerate(waves or [])}
    # np.lexsort sorts by its last key first: the columns reversed
    return np.lexsort([_codes(df[c], rank if c == "wave" else None) for c in reversed(cols)]).astype(np.int64, copy=False)


def _codes(col: pd.Series, rank: dict[str, int] | None) -> np.ndarray:
    """Integer sort codes of one column: numbers as numbers (missing last), anything else by its text
    (missing first), ``wave`` in ``rank``'s order first (then by name)."""
    if col.name in ("value", "weight"):
        x = pd.to_numeric(col, errors="coerce").to_numpy(float)
        return np.where(np.isnan(x), np.inf, x)
    codes, found = pd.factorize(col)  # missing: −1, before everything
    merged, names = pd.factorize(pd.Index(found).astype(str))  # 1 and "1": one text, one place
    codes = np.where(codes < 0, -1, merged[np.maximum(codes, 0)] if len(merged) else codes)
    names = pd.Index(names)
    if rank is None:
        place = np.argsort(np.argsort(names.to_numpy(), kind="stable"), kind="stable")
    else:
        order = sorted(range(len(names)), key=lambda i: (rank.get(names[i], len(rank)), names[i]))
        place = np.empty(len(names), dtype=np.int64)
        place[order] = np.arange(len(names))
    return np.where(codes < 0, -1, place[np.maximum(codes, 0)] if len(place) else codes)


def canonical_tables(frames: dict[str, pd.DataFrame], waves: list[str] | None = None) -> dict[str, pd.DataFrame]:
    """``frames`` with each canonical table of :data:`SORT_KEYS` in its order (:func:`in_canonical_order`);
    the other frames (quality, scale map, sample) as they are."""
    return {k: in_canonical_order(k, v, waves) if k in SORT_KEYS and v is not None else v for k, v in frames.items()}


def rows_of(key: pd.DataFrame, look: pd.DataFrame) -> np.ndarray:
    """Row position in ``key`` (``respondent_id``, ``wave``) of each row of ``look``; −1 where absent
    (a repeated key: its last row)."""
    n = len(key)
    rid, _ = pd.factorize(pd.concat([key["respondent_id"], look["respondent_id"]], ignore_index=True))
    wid, waves = pd.factorize(pd.concat([key["wave"], look["wave"]], ignore_index=True))
    width = max(len(waves), 1)
    at = np.full((int(rid.max()) + 1 if len(rid) else 0) * width, -1, dtype=np.int64)
    at[rid[:n] * width + wid[:n]] = np.arange(n)
    return at[rid[n:] * width + wid[n:]]
