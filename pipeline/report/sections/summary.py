"""The summary section.

Every number a sentence here prints is a cell of a table printed in the report (formatted the
same way), and each sentence names the people it is about: the respondents of a wave (the sample
table), the people in both waves of a comparison (its column "also in the first wave"), the pairs
of one scale (the paired tables' n), the whole network of a wave (the network table's nodes).
The rules a sentence applies — α, the 95 % of a CI, the smallest meaningful change, CFI 0.90 —
are stated beside it. ``tests/report/provenance.py`` checks this on the demo and every public study
(``tests/report/test_report.py``, ``tests/report/test_public_studies.py``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .. import spread
from .. import text as rt
from ..context import Context
from ..model import Block, Finding, Unavailable, isna

#: configural fit below this CFI is poor (invariance.csv's ``configural_poor``; Chen 2007)
POOR_CFI = 0.90


def section(ctx: Context) -> list[Block]:
    """The findings in sentences: who answered, each scale's change (or, with one wave, its
    level), the gaps between the groups, the networks, and a caveat.

    Reads ``sample.csv``, ``prepost.csv``, ``descriptives.csv``, ``mixed_models.csv``,
    ``invariance.csv``, ``network_whole.csv`` and ``network_change.csv``. Prints no table: its
    numbers are cells of the other sections' tables. Above :data:`~pipeline.report.spread.LIST_MAX`
    villages the network findings are the villages' distributions (the network section's
    ``network_villages`` table), not one finding per village and wave.
    """
    words, shape = ctx.words, ctx.shape
    blocks: list[Block] = []
    sample = ctx.inputs("sample.csv")
    if sample is not None:
        blocks.append(_intro(ctx, sample))
    if shape.one_wave:
        blocks.append(ctx.one_wave_scope())
    pp = ctx.inputs("prepost.csv")
    if pp is None and sample is None:
        raise Unavailable(ctx.missing("prepost.csv", "sample.csv"))
    blocks += _scale_blocks(ctx, pp, sample)
    gap = _gap_findings(ctx)
    if gap:
        blocks.append(Block("h3", words.text("summary_gap_head" if shape.origin_groups else "summary_gap_head_gen")))
        blocks.append(Block("list", items=gap))
    net = _network_findings(ctx)
    blocks.append(Block("h3", words.text("summary_network_head" if shape.umkm else "summary_network_head_gen")))
    if net:
        blocks.append(Block("list", items=net))
    else:
        blocks.append(ctx.missing("network_whole.csv", "network_change.csv")
                      or Block("unavailable", words.text("not_available", what="network_whole.csv")))
    if not shape.one_wave:
        blocks.append(Block("p", words.text("summary_caveat" if shape.umkm else "summary_caveat_gen")))
    return [b for b in blocks if b is not None]


def _intro(ctx: Context, sample: pd.DataFrame) -> Block:
    words, shape = ctx.words, ctx.shape
    alls = sample[sample["group"] == "all"]
    parts = [words.text("summary_wave_n", wave=words.wave(r["wave"]), n=words.integer(r["n"]))
             for _, r in alls.iterrows()]
    if shape.umkm:
        return Block("p", words.text("summary_intro", site=ctx.study.site, waves="; ".join(parts)))
    return Block("p", words.text("summary_intro_gen", title=ctx.study.title, site=ctx.study.site,
                                 waves="; ".join(parts)))


def _scale_blocks(ctx: Context, pp: pd.DataFrame | None, sample: pd.DataFrame | None) -> list[Block]:
    words, shape = ctx.words, ctx.shape
    head = Block("h3", words.text("summary_trust_head" if shape.umkm else "summary_scales_head"))
    if shape.one_wave:  # no before/after findings (the scope note says why); each scale's baseline level instead
        base = _baseline_findings(ctx)
        return [head, Block("list", items=base)] if base else []
    if shape.no_scales:
        return [head, Block("note", words.study_text("no_scales"))]
    if pp is None or not len(pp):
        return [ctx.missing("prepost.csv")]
    pp = pp[~pp["dimension"].astype(str).str.startswith("network_")]
    posts = [w for w in shape.waves if w in set(pp["wave_post"].dropna())]
    blocks = [b for post in posts if (b := _pairs_sentence(ctx, sample, post)) is not None]
    findings = [f for post in posts for f in _scale_findings(ctx, pp[pp["wave_post"] == post], len(posts) > 1)]
    blocks += [head, Block("list", items=findings)]
    blocks.append(Block("note", words.text("summary_howto", alpha=words.number(shape.alpha, 2),
                                           min=words.number(shape.min_effect, 2))))
    return blocks


def _pairs_sentence(ctx: Context, sample: pd.DataFrame | None, post: str) -> Block | None:
    """How many people a comparison of ``post`` with the first wave can pair: the sample table's
    "also in the first wave" (a questionnaire with at least one answer in both)."""
    words, shape = ctx.words, ctx.shape
    if sample is None or "in_first" not in sample:
        return None
    r = sample[(sample["group"] == "all") & (sample["wave"].astype(str) == post)]
    if not len(r) or isna(r["in_first"].iloc[0]):
        return None
    return Block("p", words.text("summary_pairs", n=words.integer(r["in_first"].iloc[0]),
                                 pre=words.wave(shape.waves[0]), post=words.wave(post),
                                 col=words.text("c_in_first" if len(shape.waves) > 2 else "c_retained")))


def _scale_findings(ctx: Context, part: pd.DataFrame, name_waves: bool) -> list[Finding]:
    """One sentence per (dimension, group) of :func:`_scale_plan`, for one later wave."""
    words, shape = ctx.words, ctx.shape
    fits = _poor_fits(ctx)
    out = []
    for d, g, why in _scale_plan(ctx, part):
        r = part[(part["dimension"] == d) & (part["group"] == g)]
        if not len(r):
            continue
        row = r.iloc[0].to_dict()
        grp = (words.group_phrase(g) if shape.origin_groups or g == "all"
               else words.text("group_phrase_gen", label=words.group(g)))
        v, text = rt.sentence_scale(row, ctx.lang, words.dimension(d), grp, shape.dim_range(d), shape.alpha,
                                    shape.min_effect)
        if why:
            text = words.text("summary_subscale_why", dim=words.dimension(shape.parent(d))) + " " + text
        if name_waves:  # three waves or more: name the comparison
            text = f"{words.wave_span(row['wave_pre'], row['wave_post'])}: {text}"
        if g == "all" and not why:  # once per dimension and comparison: it holds for its group lines too
            text += _fit_caveat(ctx, fits, d, "waves")
        attrs = {"kind": "scale", "dimension": d, "group": g, "wave-pre": str(row["wave_pre"]),
                 "wave-post": str(row["wave_post"]), "verdict": v}
        if rt.negligible(v, row["d_z"], shape.min_effect):
            attrs["size"] = "negligible"
        if why:
            attrs["why"] = why
        out.append(Finding(text, attrs))
    return out


def _scale_plan(ctx: Context, part: pd.DataFrame) -> list[tuple[str, str, str]]:
    """(dimension, group, why) of the summary: every dimension of the scale map, for everyone and
    per group (no per-group lines in a one-group study); the demo's trust in the other group; and a
    subscale that changed significantly where its dimension did not (``why`` = ``subscale``)."""
    shape = ctx.shape
    groups = ["all"] + ([] if shape.one_group else shape.present_levels)
    plan: list[tuple[str, str, str]] = []
    for d in shape.top_dims():
        for g in groups:
            plan.append((d, g, ""))
            if _sig(ctx, part, d, g):
                continue
            subs = [s for s in shape.scale_dims() if s.startswith(f"{d}_") and _sig(ctx, part, s, g)]
            plan += [(s, g, "subscale") for s in subs if not (s == "trust_outgroup" and shape.origin_groups)]
        if d == "trust" and shape.origin_groups:
            plan += [("trust_outgroup", g, "") for g in shape.present_levels]
    return plan


def _sig(ctx: Context, part: pd.DataFrame, d: str, g: str) -> bool:
    shape = ctx.shape
    r = part[(part["dimension"] == d) & (part["group"] == g)]
    if not len(r):
        return False
    r = r.iloc[0]
    return rt.verdict(r["diff"], r["diff_ci_low"], r["diff_ci_high"], r["p_holm"], shape.alpha) == "sig"


def _poor_fits(ctx: Context) -> dict[tuple[str, str], pd.Series]:
    """(dimension, comparison) → its configural row in ``invariance.csv`` when the fit is poor
    (CFI below 0.90): the scale may not measure the same thing in the two waves or groups."""
    inv = ctx.inputs("invariance.csv")
    if inv is None or not len(inv) or "cfi" not in inv:
        return {}
    conf = inv[(inv["level"].astype(str) == "configural") & (pd.to_numeric(inv["cfi"], errors="coerce") < POOR_CFI)]
    return {(str(r["dimension"]), str(r["comparison"])): r for _, r in conf.iterrows()}


def _fit_caveat(ctx: Context, fits: dict, dim: str, comparison: str) -> str:
    words = ctx.words
    r = fits.get((dim, comparison))
    if r is None:
        return ""
    names = str(r.get("groups", "")).split("|")
    label = words.wave if comparison == "waves" else words.group
    return " " + words.text(f"fit_poor_{comparison}", dim=words.dimension(dim), a=label(names[0]),
                            b=label(names[-1]), cfi=words.number(r["cfi"], rt.cut_digits(r["cfi"], POOR_CFI)),
                            cut=words.number(POOR_CFI, 2))


def _baseline_findings(ctx: Context) -> list[Finding]:
    """One wave only: each dimension's mean score overall and per group, on its own range, as the
    scores table (``descriptives.csv``) prints them."""
    words, shape = ctx.words, ctx.shape
    desc = ctx.inputs("descriptives.csv")
    if desc is None or not len(desc) or shape.no_scales:
        return []
    w = shape.data_waves[0]
    desc = desc[(desc["wave"].astype(str) == w) & (desc["kind"] == "scale")]
    out = []
    for d in shape.top_dims():
        part = desc[desc["dimension"] == d].set_index("group")
        if "all" not in part.index or not part.loc["all", "n"]:
            continue
        lo, hi = shape.dim_range(d)
        groups = "" if shape.one_group else "; ".join(
            words.text("summary_base_group", group=words.group(g), mean=words.number(part.loc[g, "mean"]),
                       n=words.integer(part.loc[g, "n"]))
            for g in shape.present_levels if g in part.index and part.loc[g, "n"])
        a = part.loc["all"]
        text = words.text("summary_base_dim", dim=words.dimension(d), wave=words.wave(w), mean=words.number(a["mean"]),
                          sd=words.number(a["sd"]), n=words.integer(a["n"]), lo=words.number(lo, 0),
                          hi=words.number(hi, 0))
        out.append(Finding(text + (f" {groups}." if groups else ""),
                           {"kind": "baseline", "dimension": d, "wave": w, "verdict": "descriptive"}))
    return out


def _reference(ctx: Context, part: pd.DataFrame) -> tuple[str | None, list[str]]:
    """The mixed model's reference group (the level without a ``group[...]`` term) and the others,
    in the study's order."""
    shape = ctx.shape
    terms = {str(t)[6:-1] for t in part["term"].dropna().astype(str) if str(t).startswith("group[")}
    others = [g for g in shape.present_levels if g in terms]
    ref = [g for g in shape.present_levels if g not in terms]
    return (ref[0] if len(ref) == 1 else None), others


def _gap_findings(ctx: Context) -> list[Finding]:
    """The wave × group interactions of the mixed models, each later wave against the first; none
    in a one-group study (there is no other group to compare with)."""
    words, shape = ctx.words, ctx.shape
    mm = ctx.inputs("mixed_models.csv")
    if mm is None or not len(mm) or shape.one_group:
        return []
    waves = [w for w in shape.waves if w in shape.data_waves]
    dims = (["trust_outgroup"] if shape.origin_groups else []) + shape.top_dims()
    fits = _poor_fits(ctx)
    out = []
    for d in dims:
        part = mm[mm["dimension"] == d]
        g1, others = _reference(ctx, part)
        for g2 in others if g1 is not None else []:
            for w in waves[1:]:
                gi = part[part["term"] == f"group[{g2}]"]
                ii = part[part["term"] == f"wave[{w}]:group[{g2}]"]
                if not len(gi) or not len(ii):
                    continue
                f = _gap_sentence(ctx, d, g1, g2, waves[0], w, gi.iloc[0], ii.iloc[0])
                text = f"{words.wave_span(waves[0], w)}: {f.text}" if len(waves) > 2 else f.text
                f.text = text + _fit_caveat(ctx, fits, shape.parent(d), "groups")
                out.append(f)
    return out


def _gap_sentence(ctx: Context, d: str, g1: str, g2: str, pre: str, w: str, g0: pd.Series, r: pd.Series) -> Finding:
    """One interaction: the baseline difference, the difference in change (with the decimals its
    CI needs and its d_z), and one verdict."""
    words, shape = ctx.words, ctx.shape
    b0, bi = float(g0["estimate"]), float(r["estimate"])
    v = rt.verdict(bi, r["ci_low"], r["ci_high"], r["p_val"], shape.alpha)
    dz = r.get("d_z", np.nan)
    # a gap at baseline only when its CI excludes 0; it closed when the gap after the change
    # (b0 + bi) is smaller than before, not merely when the signs differ (a change larger than the
    # gap reverses it)
    gap0 = not isna(g0["ci_low"]) and (float(g0["ci_low"]) > 0 or float(g0["ci_high"]) < 0)
    closing = abs(b0 + bi) < abs(b0) and ((b0 < 0 < bi) or (b0 > 0 > bi))
    if rt.negligible(v, dz, shape.min_effect):
        vt = words.text("gap_negligible", min=words.number(shape.min_effect, rt.dz_digits(dz, shape.min_effect)))
    elif v == "sig" and not shape.origin_groups:  # randomized arms or any study's groups: changed differently?
        vt = words.text("gap_sig_gen" if gap0 else "gap_diff_sig")
    elif v == "sig":
        vt = words.text(("gap_closed_sig" if closing else "gap_widened_sig") if gap0 else "gap_diff_sig")
    elif v == "flat":
        vt = words.text("gap_flat")
    else:  # the CI of the difference in change includes 0: no direction is claimed
        vt = words.text("gap_closed_unsure" if closing else "gap_widened_unsure")
    k0 = max(3, rt.ci_digits(g0["ci_low"], g0["ci_high"]))
    ki, kc = max(3, rt.ci_digits(r["ci_low"], r["ci_high"])), rt.ci_digits(r["ci_low"], r["ci_high"])
    text = words.study_text("gap_sentence", dim=words.dimension(d), pre=words.wave(pre),
                            g1=words.group_in_sentence(g1), g2=words.group_in_sentence(g2),
                            dir0=words.text("gap_higher" if b0 >= 0 else "gap_lower"), abs0=words.number(abs(b0), k0),
                            cmp=words.text("gap_more" if bi >= 0 else "gap_less"), absint=words.number(abs(bi), ki),
                            ci=words.text("ci95"), lo=words.number(r["ci_low"], kc), to=words.text("to"),
                            hi=words.number(r["ci_high"], kc), dz=words.number(dz, rt.dz_digits(dz, shape.min_effect)),
                            p=words.p_equals(r["p_val"]), method=words.code_label("method", r["method"]), verdict=vt)
    attrs = {"kind": "gap", "dimension": d, "group": g2, "wave-post": w, "verdict": v}
    if rt.negligible(v, dz, shape.min_effect):
        attrs["size"] = "negligible"
    return Finding(text, attrs)


def _network_findings(ctx: Context) -> list[Finding]:
    shape = ctx.shape
    if shape.no_ties:
        return [Finding(ctx.no_network_text(), {"kind": "no-ties", "verdict": "none"})]
    if not spread.listed(ctx):  # many villages: their distribution (the network section's table), not a list
        return spread.network_findings(ctx, spread.network_rows(ctx))
    out = []
    whole = ctx.inputs("network_whole.csv")
    if whole is not None and len(whole):
        part = whole[whole["tie_type"] == "any"]
        if not len(part):
            part = whole[whole["tie_type"] == whole["tie_type"].iloc[0]]
        part = shape.study_order(part, "wave")
        out += [_ei_finding(ctx, r) for _, r in part.iterrows()]
    ch = ctx.inputs("network_change.csv")
    if ch is not None and len(ch):
        part = ch[ch["tie_type"] == "any"]
        if not len(part):
            part = ch.head(1)
        out += [_change_finding(ctx, r) for _, r in part.iterrows()]
    return out


def _ei_finding(ctx: Context, r: pd.Series) -> Finding:
    """One wave's whole network (everyone who answered in it): its ties between groups and E-I."""
    words, shape = ctx.words, ctx.shape
    attrs = {"kind": "ei", "wave": str(r["wave"]), "tie-type": str(r["tie_type"])}
    nodes = words.integer(r["n_nodes"]) if "n_nodes" in r else "–"
    if shape.one_group:
        text = words.text("sentence_ei_one_group", wave=words.wave(r["wave"]), tie=words.tie(r["tie_type"]),
                          nodes=nodes, total=words.integer(r["n_ties"]), group=ctx.groups_text())
        return Finding(text, {**attrs, "verdict": "untestable"})
    # the ties between groups (E of E-I), shown where E-I is defined (two groups present)
    ext = float(r["ties_between"]) if np.isfinite(r["ei"]) else np.nan
    if isna(r["ei_p"]) or isna(r["ei"]):
        vt, v = words.text("ei_unsure"), "untestable"
    elif float(r["ei_p"]) < shape.alpha:
        v = "sig"
        vt = words.text("ei_more_within_sig" if r["ei"] < r["ei_expected"] else "ei_more_between_sig")
    else:
        vt, v = words.text("ei_unsure"), "unsure"
    text = words.text("sentence_ei" if shape.origin_groups else "sentence_ei_gen", wave=words.wave(r["wave"]),
                      tie=words.tie(r["tie_type"]), nodes=nodes, ext=words.integer(ext),
                      total=words.integer(r["n_ties"]), ei=words.number(r["ei"]), exp=words.number(r["ei_expected"]),
                      resc=words.number(r["ei_rescaled"]), p=words.p_equals(r["ei_p"]), verdict=vt,
                      groups=ctx.groups_text())
    return Finding(rt.capfirst(text), {**attrs, "verdict": v})


def _change_finding(ctx: Context, r: pd.Series) -> Finding:
    """Ties kept, new and ended between two waves among the people who answered in both, and the
    change of the E-I index of their ties (the network change table)."""
    words, shape = ctx.words, ctx.shape
    common = words.integer(r.get("n_common"))
    if shape.one_group:
        text = words.text("sentence_change_one_group", pre=words.wave(r["wave_pre"]), post=words.wave(r["wave_post"]),
                          tie=words.tie(r["tie_type"]), common=common, kept=words.integer(r["kept"]),
                          new=words.integer(r["new_within"]), dropped=words.integer(r["dropped_within"]),
                          jaccard=words.number(r["jaccard"]))
        return Finding(text, {"kind": "change", "tie-type": str(r["tie_type"]), "verdict": "untestable"})
    d = r["delta_ei"]
    if isna(d):
        v, vt, direction = "untestable", words.text("change_untestable"), "up"
    elif float(d) == 0:
        v, vt, direction = "flat", words.text("change_flat"), "up"
    else:
        direction = "up" if d > 0 else "down"
        v = "sig" if (not isna(r["delta_ei_p"]) and r["delta_ei_p"] < shape.alpha) else "unsure"
        vt = words.text(f"change_{v}_{direction}")
    text = words.text("sentence_change", pre=words.wave(r["wave_pre"]), post=words.wave(r["wave_post"]),
                      tie=words.tie(r["tie_type"]), common=common, new_b=words.integer(r["new_between"]),
                      drop_b=words.integer(r["dropped_between"]), new_w=words.integer(r["new_within"]),
                      drop_w=words.integer(r["dropped_within"]), dir=words.text(direction),
                      absd=words.number(abs(d) if not isna(d) else d), p=words.p_equals(r["delta_ei_p"]), verdict=vt)
    return Finding(text, {"kind": "change", "tie-type": str(r["tie_type"]), "verdict": v})
