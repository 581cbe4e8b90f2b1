"""The trust section."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from .. import text as rt
from ..model import Block, Unavailable, isna as _isna
from ..text import integer


def section(ctx) -> list[Block]:
    pp = ctx.inp("prepost.csv")
    scores = ctx.inp("scores.csv")
    if pp is None and scores is None:
        raise Unavailable(ctx.missing("scores.csv", "prepost.csv"))
    from .. import figures as F

    if ctx.no_scales:
        return [Block("note", ctx.t(ctx.message_id("no_scales")))]
    blocks = [Block("p", ctx.t("trust_intro") if ctx.umkm else ctx.t("trust_intro_gen", ranges=ctx.ranges_text()))]
    dims = ctx.scale_dims()
    if pp is not None:
        pp = pp[pp["kind"] == "scale"]
        dims = ctx.order_dims([str(d) for d in pd.unique(pp["dimension"])])
        last = pp["wave_post"].iloc[-1] if len(pp) else None
        one = pp[pp["wave_post"] == last]
        if len(one) and not ctx.one_wave:
            fig = F.dumbbell_figure(one, dims, ctx.levels, dim_label=ctx.dl, group_label=ctx.gl,
                                    wave_labels=(ctx.wl(one["wave_pre"].iloc[0]), ctx.wl(last)),
                                    scale=ctx.scale)
            blocks.append(ctx.figure("dumbbell", ctx.t("fig_dumbbell"), fig))
            from ..forest import change_forest_figure

            fig = change_forest_figure(one, dims, ctx.levels, dim_label=ctx.dl, group_label=ctx.gl, alpha=ctx.alpha,
                                       **{k: ctx.t(f"fig_forest_{k}") for k in ("change_label", "sig_label", "ns_label")})
            blocks.append(ctx.figure("change_forest", ctx.t("fig_change_forest"), fig))
    if scores is not None and len(scores):
        have = set(scores["dimension"])
        if ctx.umkm:  # the instrument's headline scales
            top = [d for d in ("trust", "trust_outgroup", "norms") if d in have]
        else:  # a study's own dimensions (the overall scores, at most four panels)
            sm = ctx.inp("scale_map.parquet")
            overall = list(pd.unique(sm["dimension"])) if sm is not None else []
            top = [str(d) for d in overall if str(d) in have][:4]
        if top:
            fig = F.distribution_figure(scores, top, ctx.waves, ctx.levels, dim_label=ctx.dl,
                                        group_label=ctx.gl, wave_label=ctx.wl, scale=ctx.scale,
                                        seed=int(ctx.study.analysis.seed))
            blocks.append(ctx.figure("distributions", ctx.t("fig_dist"), fig))
    blocks += _descriptive_blocks(ctx)
    if pp is None:
        blocks.append(ctx.missing("prepost.csv"))
    elif ctx.one_wave or not len(pp):
        blocks.append(ctx.one_wave_note("ow_paired") if ctx.one_wave else Block("note", ctx.t("no_pairs")))
    else:
        blocks += _paired_tables(ctx, pp, dims)
    blocks += _reliability_blocks(ctx)
    blocks += _mixed_blocks(ctx, dims)
    blocks += _dose_blocks(ctx, dims)
    return blocks


def _paired_tables(ctx, pp: pd.DataFrame, dims: list[str]) -> list[Block]:
    pp = ctx.pp_sorted(pp, dims)
    # the decimals the summary prints for the row: its change and CI, its d_z beside min_effect
    pp["_vd"] = [rt.ci_digits(lo, hi) for lo, hi in zip(pp["diff_ci_low"], pp["diff_ci_high"])]
    pp["_zd"] = [rt.dz_digits(d, ctx.min_effect) for d in pp["d_z"]]
    multi = pp["wave_post"].nunique() > 1
    pp["pair"] = np.arange(1, len(pp) + 1)
    pp["pair_label"] = [f"{ctx.t('c_pair')} {k}" for k in pp["pair"]]
    # Paired Samples Statistics: two rows per pair
    rows = []
    for _, r in pp.iterrows():
        for which in ("pre", "post"):
            n = r["n_pairs"]
            sd = r[f"sd_{which}"]
            rows.append({"pair_label": r["pair_label"], "dimension": r["dimension"], "group": r["group"],
                         "wave": r[f"wave_{which}"], "mean": r[f"mean_{which}"], "n": n, "sd": sd,
                         "se": sd / math.sqrt(n) if n and not _isna(sd) else np.nan})
    st = pd.DataFrame(rows)
    blocks = [Block("h3", ctx.t("t_paired_stats"))]
    blocks.append(_spss_pairs(ctx.table("paired_statistics", ctx.t("t_paired_stats"), st, [
        ("pair_label", ctx.t("c_pair"), "text"),
        (lambda d: d["dimension"].map(ctx.dl), ctx.t("dimension"), "text"),
        (lambda d: d["group"].map(ctx.gl), ctx.t("group"), "text"),
        (lambda d: d["wave"].map(ctx.wl), ctx.t("wave"), "text"),
        ("mean", ctx.t("c_mean"), "n2"), ("n", "N", "int"), ("sd", ctx.t("c_sd"), "n2"),
        ("se", ctx.t("c_se"), "n3")])))
    # Paired Samples Test (sd_diff, se_diff: the SD of the differences and the t test's SE, from prepost)
    cols = [("pair_label", ctx.t("c_pair"), "text"),
            (lambda d: d["dimension"].map(ctx.dl), ctx.t("dimension"), "text"),
            (lambda d: d["group"].map(ctx.gl), ctx.t("group"), "text")]
    if multi:
        cols.append((lambda d: d["wave_post"].map(ctx.wl), ctx.t("wave"), "text"))
    cols += [("diff", ctx.t("c_mean_diff"), ("n", "_vd")), ("sd_diff", ctx.t("c_sd"), "n2"),
             ("se_diff", ctx.t("c_se"), "n3"), ("diff_ci_low", ctx.t("c_ci_low"), ("n", "_vd")),
             ("diff_ci_high", ctx.t("c_ci_high"), ("n", "_vd")), ("t", ctx.t("c_t"), "n2"),
             ("dof", ctx.t("c_df"), "int"), ("p_val", ctx.t("c_sig"), "p")]
    unmatched = int(pp.loc[pp["group"] == "all", "n_unmatched"].sum())
    blocks.append(Block("h3", ctx.t("t_paired_test")))
    blocks.append(ctx.table("paired_test", ctx.t("t_paired_test"), pp, cols,
                             note=ctx.t("paired_note", unmatched=integer(unmatched, ctx.lang))))
    cols = [("pair_label", ctx.t("c_pair"), "text"),
            (lambda d: d["dimension"].map(ctx.dl), ctx.t("dimension"), "text"),
            (lambda d: d["group"].map(ctx.gl), ctx.t("group"), "text"),
            ("n_pairs", ctx.t("c_n_pairs"), "int"), ("n_unmatched", ctx.t("c_n_unmatched"), "int"),
            ("d_z", ctx.t("c_dz"), ("n", "_zd")), (("d_z_ci_low", "d_z_ci_high"), ctx.t("c_dz_ci"), "ci2"),
            ("W", ctx.t("c_W"), "n1"), ("p_wilcoxon", ctx.t("c_p_w"), "p"),
            ("rank_biserial", ctx.t("c_rb"), "n2"), ("p_holm", ctx.t("c_p_holm"), "p"),
            ("shapiro_p", ctx.t("c_shapiro"), "p"), ("n_gain", ctx.t("c_n_gain"), "n2"),
            ("pct_change", ctx.t("c_pct_change"), "pct")]
    blocks.append(Block("h3", ctx.t("t_effects")))
    blocks.append(ctx.table("effect_sizes", ctx.t("t_effects"), pp, cols))
    blocks.append(Block("h3", ctx.t("formulas_head")))
    tops = {ctx.dim_range(d)[1] for d in ctx.top_dims()}
    ngain = (ctx.t("f_ngain", max=ctx.n(ctx.scale[1], 0)) if len(tops) <= 1 else
             ctx.t("f_ngain_dims", ranges=ctx.ranges_text()))
    blocks.append(Block("list", items=[ctx.t("f_dz"), ctx.t("f_wilcoxon"), ctx.t("f_holm"), ngain,
                                       ctx.t(ctx.message_id("f_pct"))]))
    return blocks


def _spss_pairs(block: Block) -> Block:
    """SPSS layout: the pair, dimension and group are shown once per pair (on its first row)."""
    d = block.table.display
    d.iloc[1::2, :3] = ""
    return block


def _reliability_blocks(ctx) -> list[Block]:
    rel = ctx.inp("reliability.csv")
    if rel is None:
        return [Block("h3", ctx.t("t_reliability")), ctx.missing("reliability.csv")]
    dims = ctx.order_dims([str(d) for d in pd.unique(rel["dimension"])])
    rel["_d"] = rel["dimension"].map({d: i for i, d in enumerate(dims)})
    rel["_w"] = rel["wave"].map({w: i for i, w in enumerate(ctx.waves)})
    rel = rel.sort_values(["_w", "_d"])

    def flag(r):
        if not _isna(r.get("k")) and int(r["k"]) < 2:  # α and ω need two items or more
            return ctx.t("rel_one_item")
        low = any((not _isna(r[c])) and float(r[c]) < 0.70 for c in ("alpha", "omega"))
        text = ctx.t("rel_low") if low or str(r.get("flag", "")) == "low" else ctx.t("rel_ok")
        return text + "; " + ctx.t("rel_heywood") if str(r.get("heywood", "")) == "True" else text
    rel["flag_text"] = [flag(r) for _, r in rel.iterrows()]
    return [Block("h3", ctx.t("t_reliability")),
            ctx.table("reliability", ctx.t("t_reliability"), rel, [
                (lambda d: d["wave"].map(ctx.wl), ctx.t("wave"), "text"),
                (lambda d: d["dimension"].map(ctx.dl), ctx.t("dimension"), "text"),
                ("n", "n", "int"), ("k", ctx.t("c_k"), "int"), ("alpha", ctx.t("c_alpha"), "n2"),
                (("alpha_ci_low", "alpha_ci_high"), ctx.t("c_alpha_ci"), "ci2"), ("omega", ctx.t("c_omega"), "n2"),
                ("flag_text", ctx.t("c_flag"), "text")], note=ctx.t("rel_note"))] + _item_blocks(ctx)


def _item_text(ctx, items) -> dict[str, str]:
    """Each item's statement (the study's scale map, else its instrument; :meth:`Labels.statement`)."""
    return ctx.labels.statements(items)


def _item_blocks(ctx) -> list[Block]:
    items = ctx.inp("items.csv")
    if items is None:
        return [Block("h3", ctx.t("t_items")), ctx.missing("items.csv")]
    sm = ctx.inp("scale_map.parquet")
    rev = dict(zip(sm["item"], sm["reverse"])) if sm is not None else {}
    sub = ({r["item"]: f"{r['dimension']}_{r['subscale']}" for _, r in sm.iterrows()} if sm is not None else {})
    items = items[items["dimension"].isin(ctx.top_dims())]
    texts = _item_text(ctx, pd.unique(items["item"]))
    wide = items.pivot_table(index="item", columns="wave", values=["mean", "pct_agree"], aggfunc="first")
    order = list(pd.unique(items["item"]))
    wide = wide.reindex(order).reset_index()
    cols = [("item", ctx.t("item"), "text"),
            (lambda d: d["item"].map(lambda i: ctx.dl(sub.get(i, ""))), ctx.t("dimension"), "text"),
            (lambda d: d["item"].map(lambda i: texts.get(i, "")), ctx.t("c_item_text"), "text"),
            (lambda d: d["item"].map(lambda i: ctx.t("yes") if bool(rev.get(i, False)) else ""),
             ctx.t("c_reverse"), "text")]
    flat = pd.DataFrame({"item": wide["item"]})
    for w in ctx.waves:
        if ("mean", w) in wide.columns:
            flat[f"mean_{w}"] = wide[("mean", w)].to_numpy()
            flat[f"agree_{w}"] = wide[("pct_agree", w)].to_numpy()
            cols.append((f"mean_{w}", f"{ctx.t('c_mean')} – {ctx.wl(w)}", "n2"))
            cols.append((f"agree_{w}", f"{ctx.t('c_pct_agree')} – {ctx.wl(w)}", "share"))
    if not texts:
        cols.pop(2)
    if ctx.umkm:
        title, note = ctx.t("t_items"), ctx.t("items_note")
    else:
        title = ctx.t("t_items_gen")
        note = ctx.t("items_note_gen", ranges=ctx.ranges_text())
        cols = [(c, h.replace(ctx.t("c_pct_agree"), ctx.t("c_pct_top2")), f) for c, h, f in cols]
    return [Block("h3", title), ctx.table("items_agree", title, flat, cols, note=note)]


def _term_label(ctx, term: str) -> str:
    g1 = ctx.glow(ctx.reference)
    if term == "intercept":
        return ctx.t("term_intercept", g1=g1, w1=ctx.wl(ctx.waves[0]))
    if term.startswith("var_"):
        key = f"term_{term}"
        return ctx.t(key) if key in rt.STRINGS[ctx.lang] else term
    import re

    m = re.fullmatch(r"wave\[(.+)\]:group\[(.+)\]", term)
    if m:
        return ctx.t("term_inter", w=ctx.wl(m.group(1)), g=ctx.glow(m.group(2)))
    m = re.fullmatch(r"wave\[(.+)\]", term)
    if m:
        return ctx.t("term_wave", w=ctx.wl(m.group(1)), g1=g1)
    m = re.fullmatch(r"group\[(.+)\]", term)
    if m:
        return ctx.t("term_group", g=ctx.glow(m.group(1)), g1=g1)
    return term


def _mixed_blocks(ctx, dims: list[str]) -> list[Block]:
    mm = ctx.inp("mixed_models.csv")
    title = ctx.t("t_mixed_one_group" if ctx.one_group else "t_mixed")
    head = Block("h3", title)
    if mm is None:
        return [head, ctx.missing("mixed_models.csv")]
    if ctx.one_wave:
        return [head, ctx.one_wave_note("ow_mixed")]
    mm = mm[mm["kind"] == "scale"].copy()
    order = ctx.order_dims([str(d) for d in pd.unique(mm["dimension"])])
    mm["_d"] = mm["dimension"].map({d: i for i, d in enumerate(order)})
    mm = mm.sort_values("_d", kind="stable")
    lv = ctx.model_levels  # the reference group first
    if ctx.one_group:
        intro = ctx.t("mixed_intro_one_group", group=ctx.groups_text())
    elif ctx.origin_groups:
        intro = ctx.t("mixed_intro", g1=ctx.glow(lv[0]), g2=ctx.glow(lv[-1]))
    else:
        intro = ctx.t("mixed_intro_gen", g1=ctx.glow(lv[0]), others=ctx.join([ctx.glow(g) for g in lv[1:]]))
    blocks = [head, Block("p", intro)]
    fallback = [d for d, part in mm.groupby("dimension", sort=False)
                if part["method"].astype(str).str.startswith("ols").any()]
    if fallback:
        blocks.append(Block("note", ctx.t("mixed_fallback", dims=", ".join(ctx.dl(d) for d in fallback))))
    # an estimate with at least the decimals of its CI (the gap sentences print the same)
    mm["_ed"] = [max(3, rt.ci_digits(lo, hi)) for lo, hi in zip(mm["ci_low"], mm["ci_high"])]
    if "d_z" not in mm:
        mm["d_z"] = np.nan
    mm["_zd"] = [rt.dz_digits(d, ctx.min_effect) for d in mm["d_z"]]
    blocks.append(ctx.blank_repeats(ctx.table("mixed_models", title, mm, [
        (lambda d: d["dimension"].map(ctx.dl), ctx.t("dimension"), "text"),
        (lambda d: d["term"].map(lambda v: "" if _isna(v) else _term_label(ctx, str(v))), ctx.t("c_term"), "text"),
        ("estimate", ctx.t("c_estimate"), ("n", "_ed")), ("se", ctx.t("c_se_short"), "n3"),
        (("ci_low", "ci_high"), ctx.t("ci95"), "ci2"), ("p_val", ctx.t("c_p"), "p"),
        ("d_z", ctx.t("c_mixed_dz"), ("n", "_zd")),
        (lambda d: d["method"].map(lambda v: rt.method_label(v, ctx.lang)), ctx.t("c_method"), "text")],
        note=ctx.t("mixed_dz_note"))))
    return blocks


def _descriptive_blocks(ctx) -> list[Block]:
    """Each dimension's scores per wave and group (everyone with a score; ``descriptives.csv``):
    the numbers the summary gives for a study with one wave so far."""
    desc = ctx.inp("descriptives.csv")
    if desc is None or not len(desc):
        return []
    desc = desc[(desc["kind"] == "scale") & desc["dimension"].isin(ctx.top_dims())].copy()
    if ctx.one_group:
        desc = desc[desc["group"] == "all"]
    if not len(desc):
        return []
    desc["_d"] = desc["dimension"].map({d: i for i, d in enumerate(ctx.top_dims())})
    desc["_w"] = desc["wave"].map({w: i for i, w in enumerate(ctx.waves)})
    desc["_g"] = desc["group"].map({g: i for i, g in enumerate(["all", *ctx.levels])}).fillna(99)
    desc = desc[desc["wave"].isin(ctx.data_waves)].sort_values(["_d", "_w", "_g"])
    title = ctx.t("t_descriptives")
    return [Block("h3", title), ctx.blank_repeats(ctx.table("descriptives", title, desc, [
        (lambda d: d["dimension"].map(ctx.dl), ctx.t("dimension"), "text"),
        (lambda d: d["wave"].map(ctx.wl), ctx.t("wave"), "text"),
        (lambda d: d["group"].map(ctx.gl), ctx.t("group"), "text"),
        ("n", "n", "int"), ("mean", ctx.t("c_mean"), "n2"), ("sd", ctx.t("c_sd"), "n2")],
        note=ctx.t("descriptives_note")))]


def _dose_blocks(ctx, dims: list[str]) -> list[Block]:
    dose = ctx.inp("dose_response.csv")
    head = Block("h3", ctx.t("t_dose"))
    if dose is None:
        return [head, ctx.missing("dose_response.csv")]
    if not len(dose) or ctx.one_wave:
        return []
    dose = dose[(dose["kind"] == "scale")
                & dose["dimension"].isin([d for d in dims if "_" not in d] + ["trust_outgroup"])].copy()
    order = ctx.order_dims([str(d) for d in pd.unique(dose["dimension"])])
    dose["_d"] = dose["dimension"].map({d: i for i, d in enumerate(order)})
    dose = dose.sort_values(["exposure", "_d"], kind="stable")
    return [head, ctx.table("dose_response", ctx.t("t_dose"), dose, [
        (lambda d: d["exposure"].map(lambda e: ctx.t(f"exp_{e}") if f"exp_{e}" in rt.STRINGS[ctx.lang] else e),
         ctx.t("c_exposure"), "text"),
        (lambda d: d["dimension"].map(ctx.dl), ctx.t("dimension"), "text"),
        ("n", "n", "int"), ("slope", ctx.t("c_slope"), "n3"), (("ci_low", "ci_high"), ctx.t("ci95"), "ci3"),
        ("p_val", ctx.t("c_p"), "p"), ("r", ctx.t("c_r"), "n2")], note=ctx.t("dose_note"))]
