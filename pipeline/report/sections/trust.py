"""The trust section (the scales): their distributions and levels, the paired change of each scale
per group (SPSS's paired-samples tables), reliability, items, mixed models and dose-response."""

from __future__ import annotations

import math
import re

import numpy as np
import pandas as pd
from pandas.api.types import union_categoricals

from .. import figures
from .. import text as rt
from ..columns import Column, Fmt
from ..context import Context
from ..forest import change_forest_figure
from ..model import Block, Unavailable, isna
from ..numbering import blank_repeats

PAIR = Column("pair_label", "c_pair")
DIM_GROUP = [Column("dimension", "dimension", Fmt.DIMENSION), Column("group", "group", Fmt.GROUP)]
#: SPSS's Paired Samples Statistics: two rows per pair
PAIRED_STATS_COLUMNS = [
    PAIR, *DIM_GROUP, Column("wave", "wave", Fmt.WAVE), Column("mean", "c_mean", Fmt.N2),
    Column("n", "c_N", Fmt.INT), Column("sd", "c_sd", Fmt.N2), Column("se", "c_se", Fmt.N3)]
#: SPSS's Paired Samples Test, after the pair (and, with three waves or more, the later wave)
PAIRED_TEST_COLUMNS = [
    Column("diff", "c_mean_diff", Fmt.N2, digits="_vd"), Column("sd_diff", "c_sd", Fmt.N2),
    Column("se_diff", "c_se", Fmt.N3), Column("diff_ci_low", "c_ci_low", Fmt.N2, digits="_vd"),
    Column("diff_ci_high", "c_ci_high", Fmt.N2, digits="_vd"), Column("t", "c_t", Fmt.N2),
    Column("dof", "c_df", Fmt.INT), Column("p_val", "c_sig", Fmt.P)]
#: effect sizes, Wilcoxon, Holm, normality and gains of each pair
EFFECT_COLUMNS = [
    PAIR, *DIM_GROUP, Column("n_pairs", "c_n_pairs", Fmt.INT), Column("n_unmatched", "c_n_unmatched", Fmt.INT),
    Column("d_z", "c_dz", Fmt.N2, digits="_zd"), Column(("d_z_ci_low", "d_z_ci_high"), "c_dz_ci", Fmt.CI2),
    Column("W", "c_W", Fmt.N1), Column("p_wilcoxon", "c_p_w", Fmt.P), Column("rank_biserial", "c_rb", Fmt.N2),
    Column("p_holm", "c_p_holm", Fmt.P), Column("shapiro_p", "c_shapiro", Fmt.P), Column("n_gain", "c_n_gain", Fmt.N2),
    Column("pct_change", "c_pct_change", Fmt.PCT)]
#: α and ω per wave and dimension
RELIABILITY_COLUMNS = [
    Column("wave", "wave", Fmt.WAVE), Column("dimension", "dimension", Fmt.DIMENSION), Column("n", "c_n", Fmt.INT),
    Column("k", "c_k", Fmt.INT), Column("alpha", "c_alpha", Fmt.N2),
    Column(("alpha_ci_low", "alpha_ci_high"), "c_alpha_ci", Fmt.CI2), Column("omega", "c_omega", Fmt.N2),
    Column("flag_text", "c_flag")]
#: the mixed models' terms (the estimate with the decimals its CI needs, as the gap sentences print it)
MIXED_COLUMNS = [
    Column("dimension", "dimension", Fmt.DIMENSION), Column("term_text", "c_term"),
    Column("estimate", "c_estimate", Fmt.N2, digits="_ed"), Column("se", "c_se_short", Fmt.N3),
    Column(("ci_low", "ci_high"), "ci95", Fmt.CI2), Column("p_val", "c_p", Fmt.P),
    Column("d_z", "c_mixed_dz", Fmt.N2, digits="_zd"), Column("method", "c_method", Fmt.CODE, code="method")]
#: each dimension's scores per wave and group
DESCRIPTIVE_COLUMNS = [
    Column("dimension", "dimension", Fmt.DIMENSION), Column("wave", "wave", Fmt.WAVE),
    Column("group", "group", Fmt.GROUP), Column("n", "c_n", Fmt.INT), Column("mean", "c_mean", Fmt.N2),
    Column("sd", "c_sd", Fmt.N2)]
#: the slope of each scale's change on the exposure to the program
DOSE_COLUMNS = [
    Column("exposure", "c_exposure", Fmt.CODE, code="exp"), Column("dimension", "dimension", Fmt.DIMENSION),
    Column("n", "c_n", Fmt.INT), Column("slope", "c_slope", Fmt.N3), Column(("ci_low", "ci_high"), "ci95", Fmt.CI3),
    Column("p_val", "c_p", Fmt.P), Column("r", "c_r", Fmt.N2)]
#: the instrument's headline scales, drawn as distributions
HEADLINE = ("trust", "trust_outgroup", "norms")
#: α or ω below this is low
LOW_RELIABILITY = 0.70


def section(ctx: Context) -> list[Block]:
    """The scales: figures of their change and distributions, their scores, the paired tests,
    reliability, items, mixed models and dose-response.

    Reads ``prepost.csv``, ``scores.csv`` (one of the two required), ``descriptives.csv``,
    ``reliability.csv``, ``items.csv``, ``scale_map.parquet``, ``mixed_models.csv`` and
    ``dose_response.csv``. Prints the tables ``descriptives``, ``paired_statistics``,
    ``paired_test``, ``effect_sizes``, ``reliability``, ``items_agree``, ``mixed_models`` and
    ``dose_response`` and the figures ``dumbbell``, ``change_forest`` and ``distributions``. A study without scale
    items gets one line.
    """
    pp = ctx.inputs("prepost.csv")
    if pp is None and not ctx.inputs.has("scores.csv"):
        raise Unavailable(ctx.missing("scores.csv", "prepost.csv"))
    words, shape = ctx.words, ctx.shape
    if shape.no_scales:
        return [Block("note", words.study_text("no_scales"))]
    blocks = [Block("p", words.text("trust_intro") if shape.umkm else
                    words.text("trust_intro_gen", ranges=ctx.ranges_text()))]
    dims = shape.scale_dims()
    if pp is not None:
        pp = pp[pp["kind"] == "scale"]
        dims = shape.order_dims([str(d) for d in pd.unique(pp["dimension"])])
        blocks += _dumbbell_blocks(ctx, pp, dims)
    blocks += _distribution_blocks(ctx) + _descriptive_blocks(ctx)
    if pp is None:
        blocks.append(ctx.missing("prepost.csv"))
    elif shape.one_wave or not len(pp):
        blocks.append(ctx.one_wave_note("ow_paired") if shape.one_wave else Block("note", words.text("no_pairs")))
    else:
        blocks += _paired_tables(ctx, pp, dims)
    return blocks + _reliability_blocks(ctx) + _mixed_blocks(ctx) + _dose_blocks(ctx, dims)


def _dumbbell_blocks(ctx: Context, pp: pd.DataFrame, dims: list[str]) -> list[Block]:
    """Each scale's mean before and after per group, and its change with its CI (a forest plot),
    for the last comparison."""
    last = pp["wave_post"].iloc[-1] if len(pp) else None
    one = pp[pp["wave_post"] == last]
    if not len(one) or ctx.shape.one_wave:
        return []
    words = ctx.words
    fig = lambda: figures.dumbbell_figure(  # noqa: E731 - drawn only when wanted (Numbering.figure)
        one, dims, ctx.shape.levels, dim_label=words.dimension, group_label=words.group,
        wave_labels=(words.wave(one["wave_pre"].iloc[0]), words.wave(last)), scale=ctx.shape.scale)
    forest = lambda: change_forest_figure(  # noqa: E731
        one, dims, ctx.shape.levels, dim_label=words.dimension, group_label=words.group, alpha=ctx.shape.alpha,
        **{k: words.text(f"fig_forest_{k}") for k in ("change_label", "sig_label", "ns_label")})
    return [ctx.numbering.figure("dumbbell", words.text("fig_dumbbell"), fig),
            ctx.numbering.figure("change_forest", words.text("fig_change_forest"), forest)]


def _distribution_blocks(ctx: Context) -> list[Block]:
    """The scores' distributions: the instrument's headline scales, or a study's own dimensions
    (the overall scores, at most four panels)."""
    top, scores = ctx.inputs.memo("distribution scores", lambda: _distribution_scores(ctx))
    if not top:
        return []
    words, shape = ctx.words, ctx.shape
    fig = lambda: figures.distribution_figure(  # noqa: E731 - drawn only when wanted (Numbering.figure)
        scores, top, shape.waves, shape.levels, dim_label=words.dimension, group_label=words.group,
        wave_label=words.wave, scale=shape.scale, seed=int(ctx.study.analysis.seed))
    return [ctx.numbering.figure("distributions", words.text("fig_dist"), fig)]


def _distribution_scores(ctx: Context) -> tuple[list[str], pd.DataFrame | None]:
    """The dimensions the distributions show and their scores (``dimension``, ``wave``, ``group``,
    ``score``; text as categoricals): ``scores.csv`` read a batch at a time
    (:meth:`Inputs.csv_batches`), only the rows of the dimensions it may show kept."""
    if ctx.shape.umkm:
        wanted = list(HEADLINE)
    else:
        sm = ctx.inputs("scale_map.parquet")
        wanted = [str(d) for d in pd.unique(sm["dimension"])] if sm is not None else []
    have: set = set()
    kept = []
    for part in ctx.inputs.csv_batches("scores.csv", ["dimension", "wave", "group", "score"]):
        have.update(pd.unique(part["dimension"]))  # not a Python loop over the million score rows
        kept.append(part[part["dimension"].isin(wanted)])
    top = [d for d in wanted if d in have]
    top = top if ctx.shape.umkm else top[:4]
    if not top or not kept:
        return top, None
    return top, _stack([p[p["dimension"].isin(top)] for p in kept])


def _stack(parts: list[pd.DataFrame]) -> pd.DataFrame:
    """The batches one under the other, a categorical column staying categorical (the union of
    the batches' categories)."""
    out = {}
    for c in parts[0].columns:
        cols = [p[c] for p in parts]
        if all(isinstance(x.dtype, pd.CategoricalDtype) for x in cols):
            out[c] = pd.Series(union_categoricals([x.array for x in cols]))
        else:
            out[c] = pd.concat(cols, ignore_index=True)
    return pd.DataFrame(out)


def _pair_rows(pp: pd.DataFrame) -> pd.DataFrame:
    """SPSS's Paired Samples Statistics: the first and the later wave of each pair, two rows."""
    rows = []
    for _, r in pp.iterrows():
        for which in ("pre", "post"):
            n, sd = r["n_pairs"], r[f"sd_{which}"]
            rows.append({"pair_label": r["pair_label"], "dimension": r["dimension"], "group": r["group"],
                         "wave": r[f"wave_{which}"], "mean": r[f"mean_{which}"], "n": n, "sd": sd,
                         "se": sd / math.sqrt(n) if n and not isna(sd) else np.nan})
    return pd.DataFrame(rows)


def _paired_tables(ctx: Context, pp: pd.DataFrame, dims: list[str]) -> list[Block]:
    """The paired tests as SPSS prints them (statistics, test, effect sizes), then their formulas."""
    words, shape, numbering = ctx.words, ctx.shape, ctx.numbering
    pp = shape.study_order(pp, "wave_post", "dimension", "group", dimension=dims).reset_index(drop=True)
    # the decimals the summary prints for the row: its change and CI, its d_z beside min_effect
    pp["_vd"] = [rt.ci_digits(lo, hi) for lo, hi in zip(pp["diff_ci_low"], pp["diff_ci_high"])]
    pp["_zd"] = [rt.dz_digits(d, shape.min_effect) for d in pp["d_z"]]
    pp["pair"] = np.arange(1, len(pp) + 1)
    pp["pair_label"] = [f"{words.text('c_pair')} {k}" for k in pp["pair"]]
    blocks = [Block("h3", words.text("t_paired_stats")),
              _spss_pairs(numbering.table("paired_statistics", words.text("t_paired_stats"), _pair_rows(pp),
                                          PAIRED_STATS_COLUMNS))]
    # sd_diff, se_diff: the SD of the differences and the t test's SE, from prepost
    waves = [Column("wave_post", "wave", Fmt.WAVE)] if pp["wave_post"].nunique() > 1 else []
    unmatched = int(pp.loc[pp["group"] == "all", "n_unmatched"].sum())
    blocks += [Block("h3", words.text("t_paired_test")),
               numbering.table("paired_test", words.text("t_paired_test"), pp,
                               [PAIR, *DIM_GROUP, *waves, *PAIRED_TEST_COLUMNS],
                               note=words.text("paired_note", unmatched=words.integer(unmatched))),
               Block("h3", words.text("t_effects")),
               numbering.table("effect_sizes", words.text("t_effects"), pp, EFFECT_COLUMNS)]
    tops = {shape.dim_range(d)[1] for d in shape.top_dims()}
    ngain = (words.text("f_ngain", max=words.number(shape.scale[1], 0)) if len(tops) <= 1 else
             words.text("f_ngain_dims", ranges=ctx.ranges_text()))
    return blocks + [Block("h3", words.text("formulas_head")),
                     Block("list", items=[words.text("f_dz"), words.text("f_wilcoxon"), words.text("f_holm"), ngain,
                                          words.study_text("f_pct")])]


def _spss_pairs(block: Block) -> Block:
    """SPSS layout: the pair, dimension and group are shown once per pair (on its first row)."""
    d = block.table.display
    d.iloc[1::2, :3] = ""
    return block


def _reliability_flag(ctx: Context, r: pd.Series) -> str:
    """One item only (no α or ω), low (below 0.70) or fine; and a Heywood case."""
    words = ctx.words
    if not isna(r.get("k")) and int(r["k"]) < 2:  # α and ω need two items or more
        return words.text("rel_one_item")
    low = any((not isna(r[c])) and float(r[c]) < LOW_RELIABILITY for c in ("alpha", "omega"))
    text = words.text("rel_low") if low or str(r.get("flag", "")) == "low" else words.text("rel_ok")
    return text + "; " + words.text("rel_heywood") if str(r.get("heywood", "")) == "True" else text


def _reliability_blocks(ctx: Context) -> list[Block]:
    rel = ctx.inputs("reliability.csv")
    words = ctx.words
    if rel is None:
        return [Block("h3", words.text("t_reliability")), ctx.missing("reliability.csv")]
    rel = ctx.shape.study_order(rel, "wave", "dimension")
    rel["flag_text"] = [_reliability_flag(ctx, r) for _, r in rel.iterrows()]
    return [Block("h3", words.text("t_reliability")),
            ctx.numbering.table("reliability", words.text("t_reliability"), rel, RELIABILITY_COLUMNS,
                                note=words.text("rel_note"))] + _item_blocks(ctx)


def _item_frame(ctx: Context, items: pd.DataFrame) -> tuple[pd.DataFrame, list[Column]]:
    """One row per item (its dimension, statement, reverse flag) with its mean and agreement per
    wave; the columns to print them."""
    words, shape = ctx.words, ctx.shape
    sm = ctx.inputs("scale_map.parquet")
    rev = dict(zip(sm["item"], sm["reverse"])) if sm is not None else {}
    sub = ({r["item"]: f"{r['dimension']}_{r['subscale']}" for _, r in sm.iterrows()} if sm is not None else {})
    texts = ctx.labels.statements(pd.unique(items["item"]))
    wide = items.pivot_table(index="item", columns="wave", values=["mean", "pct_agree"], aggfunc="first")
    wide = wide.reindex(list(pd.unique(items["item"]))).reset_index()
    flat = pd.DataFrame({"item": wide["item"]})
    cols = [Column("item", "item"),
            Column(lambda d: d["item"].map(lambda i: words.dimension(sub.get(i, ""))), "dimension"),
            Column(lambda d: d["item"].map(lambda i: texts.get(i, "")), "c_item_text"),
            Column(lambda d: d["item"].map(lambda i: words.text("yes") if bool(rev.get(i, False)) else ""),
                   "c_reverse")]
    agree = words.text("c_pct_agree" if shape.umkm else "c_pct_top2")
    for w in shape.waves:
        if ("mean", w) in wide.columns:
            flat[f"mean_{w}"] = wide[("mean", w)].to_numpy()
            flat[f"agree_{w}"] = wide[("pct_agree", w)].to_numpy()
            cols += [Column(f"mean_{w}", f"{words.text('c_mean')} – {words.wave(w)}", Fmt.N2, verbatim=True),
                     Column(f"agree_{w}", f"{agree} – {words.wave(w)}", Fmt.SHARE, verbatim=True)]
    if not texts:
        cols.pop(2)
    return flat, cols


def _item_blocks(ctx: Context) -> list[Block]:
    items = ctx.inputs("items.csv")
    words = ctx.words
    if items is None:
        return [Block("h3", words.text("t_items")), ctx.missing("items.csv")]
    flat, cols = _item_frame(ctx, items[items["dimension"].isin(ctx.shape.top_dims())])
    if ctx.shape.umkm:
        title, note = words.text("t_items"), words.text("items_note")
    else:
        title, note = words.text("t_items_gen"), words.text("items_note_gen", ranges=ctx.ranges_text())
    return [Block("h3", title), ctx.numbering.table("items_agree", title, flat, cols, note=note)]


def _term_label(ctx: Context, term: str) -> str:
    """A mixed model's term in words (the reference group and first wave named)."""
    words = ctx.words
    g1 = words.group_in_sentence(ctx.shape.reference)
    if term == "intercept":
        return words.text("term_intercept", g1=g1, w1=words.wave(ctx.shape.waves[0]))
    if term.startswith("var_"):
        return words.code_label("term", term)
    m = re.fullmatch(r"wave\[(.+)\]:group\[(.+)\]", term)
    if m:
        return words.text("term_inter", w=words.wave(m.group(1)), g=words.group_in_sentence(m.group(2)))
    m = re.fullmatch(r"wave\[(.+)\]", term)
    if m:
        return words.text("term_wave", w=words.wave(m.group(1)), g1=g1)
    m = re.fullmatch(r"group\[(.+)\]", term)
    if m:
        return words.text("term_group", g=words.group_in_sentence(m.group(1)), g1=g1)
    return term


def _mixed_intro(ctx: Context) -> str:
    """What the mixed models compare: the reference group against the others (or one group's change)."""
    words, shape = ctx.words, ctx.shape
    lv = shape.model_levels  # the reference group first
    if shape.one_group:
        return words.text("mixed_intro_one_group", group=ctx.groups_text())
    if shape.origin_groups:
        return words.text("mixed_intro", g1=words.group_in_sentence(lv[0]), g2=words.group_in_sentence(lv[-1]))
    return words.text("mixed_intro_gen", g1=words.group_in_sentence(lv[0]),
                      others=words.join([words.group_in_sentence(g) for g in lv[1:]]))


def _mixed_blocks(ctx: Context) -> list[Block]:
    mm = ctx.inputs("mixed_models.csv")
    words, shape = ctx.words, ctx.shape
    title = words.text("t_mixed_one_group" if shape.one_group else "t_mixed")
    head = Block("h3", title)
    if mm is None:
        return [head, ctx.missing("mixed_models.csv")]
    if shape.one_wave:
        return [head, ctx.one_wave_note("ow_mixed")]
    mm = shape.study_order(mm[mm["kind"] == "scale"], "dimension")
    blocks = [head, Block("p", _mixed_intro(ctx))]
    fallback = [d for d, part in mm.groupby("dimension", sort=False)
                if part["method"].astype(str).str.startswith("ols").any()]
    if fallback:
        blocks.append(Block("note", words.text("mixed_fallback", dims=", ".join(words.dimension(d) for d in fallback))))
    # an estimate with at least the decimals of its CI (the gap sentences print the same)
    mm["_ed"] = [max(3, rt.ci_digits(lo, hi)) for lo, hi in zip(mm["ci_low"], mm["ci_high"])]
    if "d_z" not in mm:
        mm["d_z"] = np.nan
    mm["_zd"] = [rt.dz_digits(d, shape.min_effect) for d in mm["d_z"]]
    mm["term_text"] = mm["term"].map(lambda v: "" if isna(v) else _term_label(ctx, str(v)))
    blocks.append(blank_repeats(ctx.numbering.table("mixed_models", title, mm, MIXED_COLUMNS,
                                                    note=words.text("mixed_dz_note"))))
    return blocks


def _descriptive_blocks(ctx: Context) -> list[Block]:
    """Each dimension's scores per wave and group (everyone with a score; ``descriptives.csv``):
    the numbers the summary gives for a study with one wave so far."""
    desc = ctx.inputs("descriptives.csv")
    if desc is None or not len(desc):
        return []
    shape = ctx.shape
    desc = desc[(desc["kind"] == "scale") & desc["dimension"].isin(shape.top_dims())]
    if shape.one_group:
        desc = desc[desc["group"] == "all"]
    if not len(desc):
        return []
    desc = shape.study_order(desc[desc["wave"].isin(shape.data_waves)], "dimension", "wave", "group",
                             dimension=shape.top_dims())
    title = ctx.words.text("t_descriptives")
    return [Block("h3", title), blank_repeats(ctx.numbering.table("descriptives", title, desc, DESCRIPTIVE_COLUMNS,
                                                                  note=ctx.words.text("descriptives_note")))]


def _dose_blocks(ctx: Context, dims: list[str]) -> list[Block]:
    dose = ctx.inputs("dose_response.csv")
    words = ctx.words
    head = Block("h3", words.text("t_dose"))
    if dose is None:
        return [head, ctx.missing("dose_response.csv")]
    if not len(dose) or ctx.shape.one_wave:
        return []
    dose = dose[(dose["kind"] == "scale") & dose["dimension"].isin([d for d in dims if "_" not in d] + ["trust_outgroup"])]
    dose = ctx.shape.study_order(dose, "exposure", "dimension")
    return [head, ctx.numbering.table("dose_response", words.text("t_dose"), dose, DOSE_COLUMNS,
                                      note=words.text("dose_note"))]
