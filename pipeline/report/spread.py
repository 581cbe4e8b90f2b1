"""A district of many villages: distributions over the villages instead of a list of every village.

Up to :data:`LIST_MAX` villages the report lists every village where it has something per village
(the district section's table of every village's change, the summary's network findings per
village and wave): a list of a dozen is read. Above it those lists would grow with the study (a
1,000-village district printed 3,000 network findings, none naming its village), so the district
summary shows instead, for each measure, its distribution over the villages — how many villages,
the lowest (named), the quartiles, the median and the highest (named) — in one table whose size
does not depend on the number of villages, and says where every village is: its page
``villages/<village>.html`` (:mod:`pipeline.report.villages`) and the complete CSVs in
``villages/``.

The quantiles are numpy's default (linear interpolation between the ordered values: R's
``quantile(type = 7)``), stated in the table's note; the finding sentences quote the table's cells.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .columns import Column, Fmt
from .context import Context
from .model import Block, Finding

__all__ = ["LIST_MAX", "listed", "spread", "SPREAD_COLUMNS", "spread_table", "network_rows", "network_findings"]

#: up to this many villages the report lists every village; above it, their distribution
LIST_MAX = 12

#: the columns of a distribution table (one row per measure; ``label`` composed by the caller)
SPREAD_COLUMNS = [
    Column("label", "c_spread_measure"), Column("n", "c_villages", Fmt.INT),
    Column("min", "c_spread_min", Fmt.N2), Column("min_site", "c_spread_min_site"),
    Column("q1", "c_spread_q1", Fmt.N2), Column("median", "c_spread_median", Fmt.N2),
    Column("q3", "c_spread_q3", Fmt.N2), Column("max", "c_spread_max", Fmt.N2),
    Column("max_site", "c_spread_max_site")]


def listed(ctx: Context) -> bool:
    """Whether the report lists every village (a study of at most :data:`LIST_MAX` villages)."""
    return ctx.shape.n_sites <= LIST_MAX


def spread(values: pd.Series) -> dict | None:
    """The distribution over villages of one measure.

    Parameters
    ----------
    values : pandas.Series
        One value per village, indexed by the village's name; missing values are left out.

    Returns
    -------
    dict or None
        ``n`` (villages with a value), ``min`` and ``min_site`` (the lowest value and its village;
        of equal values the first village in name order), ``q1``, ``median``, ``q3`` (numpy's
        linear quantiles, R's type 7), ``max`` and ``max_site``; None when no village has a value.

    Examples
    --------
    >>> s = spread(pd.Series([0.1, 0.5, 0.3, float("nan")], index=["b", "c", "a", "d"]))
    >>> s["n"], s["min_site"], s["median"], s["max_site"]
    (3, 'b', 0.3, 'c')
    """
    v = pd.to_numeric(values, errors="coerce").dropna()
    if not len(v):
        return None
    v = v.sort_index(kind="stable")
    arr = v.to_numpy(float)
    q1, med, q3 = np.quantile(arr, [0.25, 0.5, 0.75])
    lo, hi = int(np.argmin(arr)), int(np.argmax(arr))
    return {"n": int(arr.size), "min": float(arr[lo]), "min_site": str(v.index[lo]), "q1": float(q1),
            "median": float(med), "q3": float(q3), "max": float(arr[hi]), "max_site": str(v.index[hi])}


def spread_table(ctx: Context, key: str, title: str, rows: list[dict]) -> Block:
    """The numbered table of ``rows`` (each a :func:`spread` with its ``label``), with the note
    stating the quantiles' rule and where every village is."""
    note = ctx.words.text("spread_note", k=ctx.words.integer(ctx.shape.n_sites))
    return ctx.numbering.table(key, title, pd.DataFrame(rows), SPREAD_COLUMNS, note=note)


def _tie(df: pd.DataFrame) -> str:
    """The union of the tie types (``any``) when the table has it, else its first tie type."""
    return "any" if (df["tie_type"] == "any").any() else str(df["tie_type"].iloc[0])


def network_rows(ctx: Context) -> list[dict]:
    """The villages' whole-network E-I per wave and its change between waves (the union of the tie
    types): one :func:`spread` row each, with ``kind`` (``ei`` / ``change``), the wave(s) and label."""
    words, shape = ctx.words, ctx.shape
    rows = []
    whole = ctx.inputs("network_whole.csv")
    if whole is not None and len(whole) and "site" in whole and "ei" in whole:
        tie = _tie(whole)
        part = whole[whole["tie_type"] == tie]
        for w in shape.waves:
            s = spread(part[part["wave"].astype(str) == str(w)].set_index("site")["ei"])
            if s is not None:
                rows.append({**s, "kind": "ei", "tie": tie, "wave": w,
                             "label": words.text("spread_ei", tie=words.tie(tie), wave=words.wave(w))})
    ch = ctx.inputs("network_change.csv")
    if ch is not None and len(ch) and "site" in ch and "delta_ei" in ch:
        tie = _tie(ch)
        part = ch[ch["tie_type"] == tie]
        for (pre, post), pair in part.groupby(["wave_pre", "wave_post"], sort=False):
            s = spread(pair.drop_duplicates("site").set_index("site")["delta_ei"])
            if s is not None:
                rows.append({**s, "kind": "change", "tie": tie, "pre": pre, "post": post,
                             "label": words.text("spread_delta_ei", tie=words.tie(tie), pre=words.wave(pre),
                                                 post=words.wave(post))})
    return rows


def network_findings(ctx: Context, rows: list[dict]) -> list[Finding]:
    """One finding per row of :func:`network_rows`: its median, quartiles and the two extreme
    villages, every number a cell of the network distribution table."""
    words = ctx.words
    out = []
    for r in rows:
        nums = dict(k=words.integer(r["n"]), med=words.number(r["median"]), q1=words.number(r["q1"]),
                    q3=words.number(r["q3"]), min=words.number(r["min"]), min_site=r["min_site"],
                    max=words.number(r["max"]), max_site=r["max_site"], tie=words.tie(r["tie"]))
        if r["kind"] == "ei":
            text = words.text("spread_ei_sentence", wave=words.wave(r["wave"]), **nums)
            attrs = {"kind": "ei-villages", "wave": str(r["wave"]), "tie-type": str(r["tie"])}
        else:
            text = words.text("spread_change_sentence", pre=words.wave(r["pre"]), post=words.wave(r["post"]), **nums)
            attrs = {"kind": "change-villages", "tie-type": str(r["tie"])}
        out.append(Finding(text, {**attrs, "verdict": "spread"}))
    return out
