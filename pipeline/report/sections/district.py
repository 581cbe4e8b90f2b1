"""The district summary: a study of several villages (sites).

The pooled change of each dimension (the nested mixed model of ``district.csv``) and how much the
villages differ (random-effects τ, Q, I², prediction interval), a figure of every village's change
that keeps its size at 200 villages (:mod:`pipeline.report.forest`), the villages that differ from
the pooled change after Holm's correction over the villages (and the largest deviations, marked as
such), and a table of every village. A study with one site has no district section (``None``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .. import forest, spread
from ..columns import Column, Fmt
from ..context import Context
from ..model import Block, Finding, Unavailable, isna
from ..numbering import blank_repeats

#: villages named in a finding; the rest are in the table
MAX_NAMED = 10
#: rows per dimension of the table of the largest deviations
TOP_DEVIATIONS = 5

POOLED_COLUMNS = [
    Column("dimension", "dimension", Fmt.DIMENSION), Column("n_sites", "c_villages", Fmt.INT),
    Column("n_pairs", "c_n_pairs", Fmt.INT), Column("est", "c_pooled_change", Fmt.N2),
    Column(("lo", "hi"), "ci95", Fmt.CI2), Column("p", "c_p", Fmt.P), Column("re", "c_re_change", Fmt.N2),
    Column(("re_lo", "re_hi"), "c_re_ci", Fmt.CI2), Column("tau", "c_tau", Fmt.N2), Column("i2", "c_i2", Fmt.PCT),
    Column("q_p", "c_q_p", Fmt.P), Column(("pi_lo", "pi_hi"), "c_pi", Fmt.CI2),
    Column("excl", "c_excluding", Fmt.INT), Column("expected", "c_expected_chance", Fmt.N1),
    Column("holm", "c_differ_holm", Fmt.INT)]
DEVIATION_COLUMNS = [
    Column("dimension", "dimension", Fmt.DIMENSION), Column("site", "site"), Column("n_pairs", "c_n_pairs", Fmt.INT),
    Column("diff", "c_village_change", Fmt.N2), Column(("ci_low", "ci_high"), "ci95", Fmt.CI2),
    Column("deviation", "c_deviation", Fmt.N2), Column("p_dev", "c_p_dev", Fmt.P),
    Column("p_dev_holm", "c_p_holm", Fmt.P)]


@dataclass
class _District:
    """One comparison (the first wave against the last) of a district: the pooled rows by model,
    the village rows, the dimensions (``top``: those drawn and worded) and the number of villages."""

    pooled: pd.DataFrame
    sites: pd.DataFrame
    nest: pd.DataFrame
    re: pd.DataFrame
    pre: str
    post: str
    dims: list[str]
    top: list[str]
    k: int


def overall_dims(ctx: Context, dims: list[str]) -> list[str]:
    """The dimensions (not subscales) among ``dims``, in instrument order."""
    sm = ctx.inputs("scale_map.parquet")
    top = [str(d) for d in pd.unique(sm["dimension"])] if sm is not None and len(sm) else \
        [d for d in dims if not any(d.startswith(o + "_") for o in dims if o != d)]
    return [d for d in ctx.shape.order_dims(dims) if d in top]


def section(ctx: Context) -> list[Block] | None:
    """The district: the pooled change, the villages that differ from it, every village.

    Reads ``district.csv`` and ``district_sites.csv`` (both required), ``respondents.parquet``
    (how many villages), ``scale_map.parquet`` and ``network_change.csv``. Prints the tables
    ``district_pooled``, ``district_deviations`` and ``district_villages`` (above
    :data:`~pipeline.report.spread.LIST_MAX` villages ``district_villages_spread`` instead: each
    dimension's change as a distribution over the villages) and the figure ``district_forest``.
    None (no section) for a study of one village.
    """
    if ctx.shape.n_sites < 2:
        return None  # one village: no district section
    if ctx.shape.one_wave:
        return [ctx.one_wave_note("ow_district")]
    pooled, sites = ctx.inputs("district.csv"), ctx.inputs("district_sites.csv")
    if pooled is None or sites is None:
        raise Unavailable(ctx.missing("district.csv", "district_sites.csv"))
    if not len(pooled):
        return [Block("note", ctx.words.text("district_none"))]
    dist = _district(ctx, pooled, sites)
    words = ctx.words
    npairs = dist.sites[dist.sites["dimension"] == (dist.top or dist.dims)[0]]["n_pairs"].sum()
    blocks = [Block("p", words.text("district_intro", k=words.integer(dist.k), n=words.integer(npairs),
                                    pre=words.wave(dist.pre), post=words.wave(dist.post)))]
    blocks += _pooled_blocks(ctx, dist) + _forest_blocks(ctx, dist)
    blocks += [Block("h3", words.text("district_differ_head")),
               Block("list", items=[_differ_finding(ctx, dist, d) for d in dist.top or dist.dims if d in dist.nest.index])]
    return blocks + _deviation_blocks(ctx, dist) + _villages_blocks(ctx, dist)


def _district(ctx: Context, pooled: pd.DataFrame, sites: pd.DataFrame) -> _District:
    """The rows of the last comparison, by model and village."""
    last = pooled["wave_post"].astype(str).iloc[-1]
    pooled = pooled[pooled["wave_post"].astype(str) == last].copy()
    sites = sites[sites["wave_post"].astype(str) == last].copy()
    dims = ctx.shape.order_dims([str(d) for d in pd.unique(pooled["dimension"])])
    return _District(pooled, sites, nest=pooled[pooled["model"] == "nested"].set_index("dimension"),
                     re=pooled[pooled["model"] == "random_effects"].set_index("dimension"),
                     pre=str(pooled["wave_pre"].iloc[0]), post=last, dims=dims, top=overall_dims(ctx, dims),
                     k=int(sites["site"].nunique()))


def _pooled_blocks(ctx: Context, dist: _District) -> list[Block]:
    """The pooled change and the heterogeneity, one row per dimension."""
    rows = []
    for d in dist.dims:
        if d not in dist.nest.index:
            continue
        a = dist.nest.loc[d]
        b = dist.re.loc[d] if d in dist.re.index else pd.Series(dtype=object)
        rows.append({"dimension": d, "n_sites": a["n_sites"], "n_pairs": a["n_pairs"], "est": a["estimate"],
                     "lo": a["ci_low"], "hi": a["ci_high"], "p": a["p_val"], "re": b.get("estimate"),
                     "re_lo": b.get("ci_low"), "re_hi": b.get("ci_high"),
                     "tau": np.sqrt(b["tau2"]) if not isna(b.get("tau2")) else np.nan,
                     "i2": b.get("i2"), "q_p": b.get("q_p"), "pi_lo": b.get("pi_low"), "pi_hi": b.get("pi_high"),
                     "excl": a["n_excluding"], "expected": a["n_expected"], "holm": a["n_differ_holm"]})
    words = ctx.words
    title = words.text("t_district_pooled")
    return [Block("h3", title), ctx.numbering.table("district_pooled", title, pd.DataFrame(rows), POOLED_COLUMNS,
                                                    note=words.text("district_pooled_note",
                                                                    alpha=words.number(ctx.shape.alpha, 2)))]


def _forest_blocks(ctx: Context, dist: _District) -> list[Block]:
    """Every village's change, one panel per dimension."""
    words = ctx.words
    fig_dims = dist.top[:forest.MAX_PANELS] or dist.dims[:forest.MAX_PANELS]
    fig = forest.forest_figure(dist.sites, dist.pooled, fig_dims, dim_label=words.dimension,
                               change_label=words.text("fig_change_axis"), pooled_label=words.text("fig_pooled"),
                               pi_label=words.text("fig_pi"), flag_label=words.text("fig_flag_holm"),
                               alpha=ctx.shape.alpha)
    named = (words.text("fig_forest_named") if dist.k <= forest.MAX_NAMED
             else words.text("fig_forest_unnamed", m=forest.MAX_LABELS))
    caption = words.text("fig_district_forest", k=words.integer(dist.k), named=named)
    return [ctx.numbering.figure("district_forest", caption, fig)]


def _differ_finding(ctx: Context, dist: _District, d: str) -> Finding:
    """A dimension's villages whose CI excludes the pooled change, those that differ after Holm
    (the largest first), and the heterogeneity."""
    words, alpha = ctx.words, ctx.shape.alpha
    a = dist.nest.loc[d]
    s = dist.sites[dist.sites["dimension"] == d]
    with_ci = int(s["p_dev"].notna().sum())
    text = words.text("district_excluding", dim=words.dimension(d), pooled=words.number(a["estimate"], 2),
                      excl=words.integer(a["n_excluding"]), k=words.integer(with_ci),
                      expected=words.number(a["n_expected"], 1), alpha=words.number(alpha, 2))
    differ = s[s["p_dev_holm"] < alpha]
    differ = differ.reindex(differ["t_dev"].abs().sort_values(ascending=False, kind="stable").index)
    if len(differ):
        names = "; ".join(words.text("district_village", site=r["site"], diff=words.number(r["diff"], 2, sign=True),
                                     lo=words.number(r["ci_low"], 2), hi=words.number(r["ci_high"], 2))
                          for _, r in differ.head(MAX_NAMED).iterrows())
        if len(differ) > MAX_NAMED:
            more = "district_more" if spread.listed(ctx) else "district_more_pages"  # the table of villages?
            names += words.text(more, more=words.integer(len(differ) - MAX_NAMED))
        text += " " + words.text("district_differ", m=words.integer(len(differ)), k=words.integer(with_ci),
                                 names=names)
    else:
        text += " " + words.text("district_differ_none", k=words.integer(with_ci))
    if d in dist.re.index and not isna(dist.re.loc[d, "q_p"]):
        b = dist.re.loc[d]
        text += " " + words.text("district_hetero" if b["q_p"] < alpha else "district_homog", q=words.number(b["q"], 1),
                                 df=words.integer(b["q_df"]), p=words.p_equals(b["q_p"]), i2=words.number(b["i2"], 0),
                                 tau=words.number(np.sqrt(b["tau2"]), 2), lo=words.number(b["pi_low"], 2),
                                 hi=words.number(b["pi_high"], 2))
    return Finding(text, {"kind": "district", "dimension": d, "differ": str(len(differ)),
                          "excluding": str(int(a["n_excluding"]))})


def _deviation_blocks(ctx: Context, dist: _District) -> list[Block]:
    """The villages farthest from the pooled change, :data:`TOP_DEVIATIONS` per dimension."""
    dev = []
    for d in dist.top or dist.dims:
        s = dist.sites[(dist.sites["dimension"] == d) & dist.sites["t_dev"].notna()]
        dev.append(s.reindex(s["t_dev"].abs().sort_values(ascending=False, kind="stable").index).head(TOP_DEVIATIONS))
    dev = pd.concat(dev, ignore_index=True) if dev else dist.sites.iloc[:0]
    if not len(dev):
        return []
    words = ctx.words
    note = words.text("district_deviations_note", k=words.integer(dist.k), alpha=words.number(ctx.shape.alpha, 2))
    title = words.text("t_district_deviations", m=TOP_DEVIATIONS)
    return [blank_repeats(ctx.numbering.table("district_deviations", title, dev, DEVIATION_COLUMNS, note=note))]


def _villages_blocks(ctx: Context, dist: _District) -> list[Block]:
    """Every village: its pairs, its change per dimension (at most four) and its E-I change; above
    :data:`~pipeline.report.spread.LIST_MAX` villages the distribution of each dimension's change
    over the villages instead (every village on its page in villages/)."""
    words = ctx.words
    dims = dist.top or dist.dims[:1]
    if not spread.listed(ctx):
        return _spread_blocks(ctx, dist, dims)
    wide = _village_table(ctx, dist.sites, dims, dist.pre, dist.post)
    cols = [Column("site", "site"), Column("n_pairs", "c_n_pairs", Fmt.INT)]
    for d in dims[:forest.MAX_PANELS]:
        cols += [Column(f"diff_{d}", f"{words.dimension(d)}: {words.text('c_change')}", Fmt.N2, verbatim=True),
                 Column((f"lo_{d}", f"hi_{d}"), f"{words.dimension(d)}: {words.text('ci95')}", Fmt.CI2, verbatim=True)]
    if "delta_ei" in wide:
        cols += [Column("delta_ei", "c_delta_ei", Fmt.N2), Column("delta_ei_p", "c_delta_ei_p", Fmt.P)]
    title = words.text("t_district_villages")
    return [Block("h3", title), ctx.numbering.table("district_villages", title, wide, cols,
                                                    note=words.text("district_villages_note"))]


def _spread_blocks(ctx: Context, dist: _District, dims: list[str]) -> list[Block]:
    """The distribution over the villages of each dimension's change (first wave → last)."""
    words = ctx.words
    rows = []
    for d in dims:
        s = spread.spread(dist.sites[dist.sites["dimension"] == d].set_index("site")["diff"])
        if s is not None:
            rows.append({**s, "label": words.text("spread_change", dim=words.dimension(d), pre=words.wave(dist.pre),
                                                  post=words.wave(dist.post))})
    if not rows:
        return []
    title = words.text("t_district_spread", k=words.integer(dist.k))
    return [Block("h3", title), spread.spread_table(ctx, "district_villages_spread", title, rows)]


def _village_table(ctx: Context, sites: pd.DataFrame, dims: list[str], pre: str, post: str) -> pd.DataFrame:
    """One row per village: pairs (of the first dimension), change and CI per dimension, ΔE-I (any)."""
    first = sites[sites["dimension"] == dims[0]][["site", "n_pairs"]]
    out = first.set_index("site")
    for d in dims:
        s = sites[sites["dimension"] == d].set_index("site")
        out[f"diff_{d}"], out[f"lo_{d}"], out[f"hi_{d}"] = s["diff"], s["ci_low"], s["ci_high"]
    ch = ctx.inputs("network_change.csv")
    if ch is not None and len(ch) and "site" in ch:
        tt = "any" if (ch["tie_type"] == "any").any() else str(ch["tie_type"].iloc[0])
        c = ch[(ch["tie_type"] == tt) & (ch["wave_pre"].astype(str) == pre) & (ch["wave_post"].astype(str) == post)]
        c = c.drop_duplicates("site").set_index("site")
        out["delta_ei"], out["delta_ei_p"] = c["delta_ei"], c["delta_ei_p"]
    return out.reset_index().sort_values("site", kind="stable").reset_index(drop=True)
