"""The district summary: a study of several villages (sites).

The pooled change of each dimension (the nested mixed model of ``district.csv``) and how much the
villages differ (random-effects τ, Q, I², prediction interval), a figure of every village's change
that keeps its size at 200 villages (:mod:`pipeline.report.forest`), the villages that differ from
the pooled change after Holm's correction over the villages (and the largest deviations, marked as
such), and a table of every village. A study with one site has no district section (``None``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..model import Block, Finding, Unavailable, isna
from ..text import integer, peq

#: villages named in a finding; the rest are in the table
MAX_NAMED = 10
#: rows per dimension of the table of the largest deviations
TOP_DEVIATIONS = 5


def n_sites(ctx) -> int:
    resp = ctx.inp("respondents.parquet")
    if resp is None or "site" not in resp:
        return 1
    return int(resp["site"].dropna().nunique())


def overall_dims(ctx, dims: list[str]) -> list[str]:
    """The dimensions (not subscales) among ``dims``, in instrument order."""
    sm = ctx.inp("scale_map.parquet")
    top = [str(d) for d in pd.unique(sm["dimension"])] if sm is not None and len(sm) else \
        [d for d in dims if not any(d.startswith(o + "_") for o in dims if o != d)]
    return [d for d in ctx.order_dims(dims) if d in top]


def section(ctx) -> list[Block] | None:
    if n_sites(ctx) < 2:
        return None  # one village: no district section
    if ctx.one_wave:
        return [ctx.one_wave_note("ow_district")]
    pooled, sites = ctx.inp("district.csv"), ctx.inp("district_sites.csv")
    if pooled is None or sites is None:
        raise Unavailable(ctx.missing("district.csv", "district_sites.csv"))
    if not len(pooled):
        return [Block("note", ctx.t("district_none"))]
    last = pooled["wave_post"].astype(str).iloc[-1]
    pooled = pooled[pooled["wave_post"].astype(str) == last].copy()
    sites = sites[sites["wave_post"].astype(str) == last].copy()
    pre = str(pooled["wave_pre"].iloc[0])
    dims = ctx.order_dims([str(d) for d in pd.unique(pooled["dimension"])])
    top = overall_dims(ctx, dims)
    nest = pooled[pooled["model"] == "nested"].set_index("dimension")
    re = pooled[pooled["model"] == "random_effects"].set_index("dimension")
    k = int(sites["site"].nunique())
    npairs = sites[sites["dimension"] == (top or dims)[0]]["n_pairs"].sum()
    blocks = [Block("p", ctx.t("district_intro", k=integer(k, ctx.lang), n=integer(npairs, ctx.lang),
                                pre=ctx.wl(pre), post=ctx.wl(last)))]

    # -- the pooled change and the heterogeneity, one row per dimension ----------------------
    rows = []
    for d in dims:
        if d not in nest.index:
            continue
        a = nest.loc[d]
        b = re.loc[d] if d in re.index else pd.Series(dtype=object)
        rows.append({"dimension": d, "n_sites": a["n_sites"], "n_pairs": a["n_pairs"], "est": a["estimate"],
                     "lo": a["ci_low"], "hi": a["ci_high"], "p": a["p_val"], "re": b.get("estimate"),
                     "re_lo": b.get("ci_low"), "re_hi": b.get("ci_high"),
                     "tau": np.sqrt(b["tau2"]) if not isna(b.get("tau2")) else np.nan,
                     "i2": b.get("i2"), "q_p": b.get("q_p"), "pi_lo": b.get("pi_low"), "pi_hi": b.get("pi_high"),
                     "excl": a["n_excluding"], "expected": a["n_expected"], "holm": a["n_differ_holm"]})
    tab = pd.DataFrame(rows)
    blocks.append(Block("h3", ctx.t("t_district_pooled")))
    blocks.append(ctx.table("district_pooled", ctx.t("t_district_pooled"), tab, [
        (lambda x: x["dimension"].map(ctx.dl), ctx.t("dimension"), "text"),
        ("n_sites", ctx.t("c_villages"), "int"), ("n_pairs", ctx.t("c_n_pairs"), "int"),
        ("est", ctx.t("c_pooled_change"), "n2"), (("lo", "hi"), ctx.t("ci95"), "ci2"), ("p", "p", "p"),
        ("re", ctx.t("c_re_change"), "n2"), (("re_lo", "re_hi"), ctx.t("c_re_ci"), "ci2"),
        ("tau", "τ", "n2"), ("i2", "I²", "pct"), ("q_p", ctx.t("c_q_p"), "p"),
        (("pi_lo", "pi_hi"), ctx.t("c_pi"), "ci2"),
        ("excl", ctx.t("c_excluding"), "int"), ("expected", ctx.t("c_expected_chance"), "n1"),
        ("holm", ctx.t("c_differ_holm"), "int")], note=ctx.t("district_pooled_note", alpha=ctx.n(ctx.alpha, 2))))

    # -- every village's change, one panel per dimension --------------------------------------
    from .. import forest

    fig_dims = top[:forest.MAX_PANELS] or dims[:forest.MAX_PANELS]
    fig = forest.forest_figure(sites, pooled, fig_dims, dim_label=ctx.dl, change_label=ctx.t("fig_change_axis"),
                               pooled_label=ctx.t("fig_pooled"), pi_label=ctx.t("fig_pi"),
                               flag_label=ctx.t("fig_flag_holm"), alpha=ctx.alpha)
    named = ctx.t("fig_forest_named") if k <= forest.MAX_NAMED else ctx.t("fig_forest_unnamed",
                                                                           m=forest.MAX_LABELS)
    blocks.append(ctx.figure("district_forest", ctx.t("fig_district_forest", k=integer(k, ctx.lang),
                                                         named=named), fig))

    # -- the villages that differ --------------------------------------------------------------
    blocks.append(Block("h3", ctx.t("district_differ_head")))
    findings = []
    for d in top or dims:
        if d not in nest.index:
            continue
        a = nest.loc[d]
        s = sites[sites["dimension"] == d]
        with_ci = int(s["p_dev"].notna().sum())
        text = ctx.t("district_excluding", dim=ctx.dl(d), pooled=ctx.n(a["estimate"], 2),
                     excl=integer(a["n_excluding"], ctx.lang), k=integer(with_ci, ctx.lang),
                     expected=ctx.n(a["n_expected"], 1), alpha=ctx.n(ctx.alpha, 2))
        differ = s[s["p_dev_holm"] < ctx.alpha]
        differ = differ.reindex(differ["t_dev"].abs().sort_values(ascending=False, kind="stable").index)
        if len(differ):
            names = "; ".join(ctx.t("district_village", site=r["site"], diff=ctx.n(r["diff"], 2, sign=True),
                                    lo=ctx.n(r["ci_low"], 2), hi=ctx.n(r["ci_high"], 2))
                              for _, r in differ.head(MAX_NAMED).iterrows())
            more = len(differ) - MAX_NAMED
            if more > 0:
                names += ctx.t("district_more", more=integer(more, ctx.lang))
            text += " " + ctx.t("district_differ", m=integer(len(differ), ctx.lang), k=integer(with_ci, ctx.lang),
                                names=names)
        else:
            text += " " + ctx.t("district_differ_none", k=integer(with_ci, ctx.lang))
        if d in re.index and not isna(re.loc[d, "q_p"]):
            b = re.loc[d]
            key = "district_hetero" if b["q_p"] < ctx.alpha else "district_homog"
            text += " " + ctx.t(key, q=ctx.n(b["q"], 1), df=integer(b["q_df"], ctx.lang), p=peq(b["q_p"], ctx.lang),
                                i2=ctx.n(b["i2"], 0), tau=ctx.n(np.sqrt(b["tau2"]), 2),
                                lo=ctx.n(b["pi_low"], 2), hi=ctx.n(b["pi_high"], 2))
        findings.append(Finding(text, {"kind": "district", "dimension": d, "differ": str(len(differ)),
                                       "excluding": str(int(a["n_excluding"]))}))
    blocks.append(Block("list", items=findings))
    dev = []
    for d in top or dims:
        s = sites[(sites["dimension"] == d) & sites["t_dev"].notna()]
        s = s.reindex(s["t_dev"].abs().sort_values(ascending=False, kind="stable").index).head(TOP_DEVIATIONS)
        dev.append(s)
    dev = pd.concat(dev, ignore_index=True) if dev else sites.iloc[:0]
    if len(dev):
        blocks.append(ctx.blank_repeats(ctx.table("district_deviations", ctx.t("t_district_deviations",
                                                                                  m=TOP_DEVIATIONS), dev, [
            (lambda x: x["dimension"].map(ctx.dl), ctx.t("dimension"), "text"), ("site", ctx.t("site"), "text"),
            ("n_pairs", ctx.t("c_n_pairs"), "int"), ("diff", ctx.t("c_village_change"), "n2"),
            (("ci_low", "ci_high"), ctx.t("ci95"), "ci2"), ("deviation", ctx.t("c_deviation"), "n2"),
            ("p_dev", ctx.t("c_p_dev"), "p"), ("p_dev_holm", ctx.t("c_p_holm"), "p")],
            note=ctx.t("district_deviations_note", k=integer(k, ctx.lang), alpha=ctx.n(ctx.alpha, 2)))))

    # -- every village: n, change per dimension, E-I change -----------------------------------
    wide = _village_table(ctx, sites, top or dims[:1], pre, last)
    cols = [("site", ctx.t("site"), "text"), ("n_pairs", ctx.t("c_n_pairs"), "int")]
    for d in (top or dims[:1])[:forest.MAX_PANELS]:
        cols += [(f"diff_{d}", f"{ctx.dl(d)}: {ctx.t('c_change')}", "n2"),
                 ((f"lo_{d}", f"hi_{d}"), f"{ctx.dl(d)}: {ctx.t('ci95')}", "ci2")]
    if "delta_ei" in wide:
        cols += [("delta_ei", ctx.t("c_delta_ei"), "n2"), ("delta_ei_p", ctx.t("c_delta_ei_p"), "p")]
    blocks.append(Block("h3", ctx.t("t_district_villages")))
    blocks.append(ctx.table("district_villages", ctx.t("t_district_villages"), wide, cols,
                            note=ctx.t("district_villages_note")))
    return blocks


def _village_table(ctx, sites: pd.DataFrame, dims: list[str], pre: str, post: str) -> pd.DataFrame:
    """One row per village: pairs (of the first dimension), change and CI per dimension, ΔE-I (any)."""
    first = sites[sites["dimension"] == dims[0]][["site", "n_pairs"]]
    out = first.set_index("site")
    for d in dims:
        s = sites[sites["dimension"] == d].set_index("site")
        out[f"diff_{d}"], out[f"lo_{d}"], out[f"hi_{d}"] = s["diff"], s["ci_low"], s["ci_high"]
    ch = ctx.inp("network_change.csv")
    if ch is not None and len(ch) and "site" in ch:
        tt = "any" if (ch["tie_type"] == "any").any() else str(ch["tie_type"].iloc[0])
        c = ch[(ch["tie_type"] == tt) & (ch["wave_pre"].astype(str) == pre) & (ch["wave_post"].astype(str) == post)]
        c = c.drop_duplicates("site").set_index("site")
        out["delta_ei"], out["delta_ei_p"] = c["delta_ei"], c["delta_ei_p"]
    return out.reset_index().sort_values("site", kind="stable").reset_index(drop=True)
