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

from .. import text as rt
from ..model import Block, Finding, Unavailable, isna as _isna
from ..text import integer

#: configural fit below this CFI is poor (invariance.csv's ``configural_poor``; Chen 2007)
POOR_CFI = 0.90


def section(ctx) -> list[Block]:
    blocks: list[Block] = []
    sample = ctx.inp("sample.csv")
    if sample is not None:
        blocks.append(_intro(ctx, sample))
    if ctx.one_wave:
        blocks.append(ctx.one_wave_scope())
    pp = ctx.inp("prepost.csv")
    if pp is None and sample is None:
        raise Unavailable(ctx.missing("prepost.csv", "sample.csv"))
    blocks += _scale_blocks(ctx, pp, sample)
    gap = _gap_findings(ctx)
    if gap:
        blocks.append(Block("h3", ctx.t("summary_gap_head" if ctx.origin_groups else "summary_gap_head_gen")))
        blocks.append(Block("list", items=gap))
    net = _network_findings(ctx)
    blocks.append(Block("h3", ctx.t("summary_network_head" if ctx.umkm else "summary_network_head_gen")))
    if net:
        blocks.append(Block("list", items=net))
    else:
        blocks.append(ctx.missing("network_whole.csv", "network_change.csv")
                      or Block("unavailable", ctx.t("not_available", what="network_whole.csv")))
    if not ctx.one_wave:
        blocks.append(Block("p", ctx.t("summary_caveat" if ctx.umkm else "summary_caveat_gen")))
    return [b for b in blocks if b is not None]


def _intro(ctx, sample: pd.DataFrame) -> Block:
    alls = sample[sample["group"] == "all"]
    parts = [ctx.t("summary_wave_n", wave=ctx.wl(r["wave"]), n=integer(r["n"], ctx.lang)) for _, r in alls.iterrows()]
    if ctx.umkm:
        return Block("p", ctx.t("summary_intro", site=ctx.study.site, waves="; ".join(parts)))
    return Block("p", ctx.t("summary_intro_gen", title=ctx.study.title, site=ctx.study.site, waves="; ".join(parts)))


def _scale_blocks(ctx, pp: pd.DataFrame | None, sample: pd.DataFrame | None) -> list[Block]:
    head = Block("h3", ctx.t("summary_trust_head" if ctx.umkm else "summary_scales_head"))
    if ctx.one_wave:  # no before/after findings (the scope note says why); each scale's baseline level instead
        base = _baseline_findings(ctx)
        return [head, Block("list", items=base)] if base else []
    if ctx.no_scales:
        return [head, Block("note", ctx.t(ctx.message_id("no_scales")))]
    if pp is None or not len(pp):
        return [ctx.missing("prepost.csv")]
    pp = pp[~pp["dimension"].astype(str).str.startswith("network_")]
    posts = [w for w in ctx.waves if w in set(pp["wave_post"].dropna())]
    blocks = [b for post in posts if (b := _pairs_sentence(ctx, sample, post)) is not None]
    findings = [f for post in posts for f in _scale_findings(ctx, pp[pp["wave_post"] == post], len(posts) > 1)]
    blocks += [head, Block("list", items=findings)]
    blocks.append(Block("note", ctx.t("summary_howto", alpha=ctx.n(ctx.alpha, 2), min=ctx.n(ctx.min_effect, 2))))
    return blocks


def _pairs_sentence(ctx, sample: pd.DataFrame | None, post: str) -> Block | None:
    """How many people a comparison of ``post`` with the first wave can pair: the sample table's
    "also in the first wave" (a questionnaire with at least one answer in both)."""
    if sample is None or "in_first" not in sample:
        return None
    r = sample[(sample["group"] == "all") & (sample["wave"].astype(str) == post)]
    if not len(r) or _isna(r["in_first"].iloc[0]):
        return None
    return Block("p", ctx.t("summary_pairs", n=integer(r["in_first"].iloc[0], ctx.lang), pre=ctx.wl(ctx.waves[0]),
                            post=ctx.wl(post), col=ctx.t("c_in_first" if len(ctx.waves) > 2 else "c_retained")))


def _scale_findings(ctx, part: pd.DataFrame, name_waves: bool) -> list[Finding]:
    """One sentence per (dimension, group) of :func:`_scale_plan`, for one later wave."""
    fits = _poor_fits(ctx)
    out = []
    for d, g, why in _scale_plan(ctx, part):
        r = part[(part["dimension"] == d) & (part["group"] == g)]
        if not len(r):
            continue
        row = r.iloc[0].to_dict()
        grp = ctx.gphrase(g) if ctx.origin_groups or g == "all" else ctx.t("group_phrase_gen", label=ctx.gl(g))
        v, text = rt.sentence_scale(row, ctx.lang, ctx.dl(d), grp, ctx.dim_range(d), ctx.alpha, ctx.min_effect)
        if why:
            text = ctx.t("summary_subscale_why", dim=ctx.dl(_parent(ctx, d))) + " " + text
        if name_waves:  # three waves or more: name the comparison
            text = f"{ctx.wl(row['wave_pre'])} → {ctx.wl(row['wave_post'])}: {text}"
        if g == "all" and not why:  # once per dimension and comparison: it holds for its group lines too
            text += _fit_caveat(ctx, fits, d, "waves")
        attrs = {"kind": "scale", "dimension": d, "group": g, "wave-pre": str(row["wave_pre"]),
                 "wave-post": str(row["wave_post"]), "verdict": v}
        if rt.negligible(v, row["d_z"], ctx.min_effect):
            attrs["size"] = "negligible"
        if why:
            attrs["why"] = why
        out.append(Finding(text, attrs))
    return out


def _parent(ctx, d: str) -> str:
    """The dimension of ``d`` (``d`` itself, or the dimension of a ``dimension_subscale``)."""
    return next((top for top in ctx.top_dims() if d == top or d.startswith(f"{top}_")), d)


def _scale_plan(ctx, part: pd.DataFrame) -> list[tuple[str, str, str]]:
    """(dimension, group, why) of the summary: every dimension of the scale map, for everyone and
    per group (no per-group lines in a one-group study); the demo's trust in the other group; and a
    subscale that changed significantly where its dimension did not (``why`` = ``subscale``)."""
    groups = ["all"] + ([] if ctx.one_group else ctx.present_levels)
    plan: list[tuple[str, str, str]] = []
    for d in ctx.top_dims():
        for g in groups:
            plan.append((d, g, ""))
            if _sig(ctx, part, d, g):
                continue
            subs = [s for s in ctx.scale_dims() if s.startswith(f"{d}_") and _sig(ctx, part, s, g)]
            plan += [(s, g, "subscale") for s in subs if not (s == "trust_outgroup" and ctx.origin_groups)]
        if d == "trust" and ctx.origin_groups:
            plan += [("trust_outgroup", g, "") for g in ctx.present_levels]
    return plan


def _sig(ctx, part: pd.DataFrame, d: str, g: str) -> bool:
    r = part[(part["dimension"] == d) & (part["group"] == g)]
    if not len(r):
        return False
    r = r.iloc[0]
    return rt.verdict(r["diff"], r["diff_ci_low"], r["diff_ci_high"], r["p_holm"], ctx.alpha) == "sig"


def _poor_fits(ctx) -> dict[tuple[str, str], pd.Series]:
    """(dimension, comparison) → its configural row in ``invariance.csv`` when the fit is poor
    (CFI below 0.90): the scale may not measure the same thing in the two waves or groups."""
    inv = ctx.inp("invariance.csv")
    if inv is None or not len(inv) or "cfi" not in inv:
        return {}
    conf = inv[(inv["level"].astype(str) == "configural") & (pd.to_numeric(inv["cfi"], errors="coerce") < POOR_CFI)]
    return {(str(r["dimension"]), str(r["comparison"])): r for _, r in conf.iterrows()}


def _fit_caveat(ctx, fits: dict, dim: str, comparison: str) -> str:
    r = fits.get((dim, comparison))
    if r is None:
        return ""
    names = str(r.get("groups", "")).split("|")
    label = ctx.wl if comparison == "waves" else ctx.gl
    return " " + ctx.t(f"fit_poor_{comparison}", dim=ctx.dl(dim), a=label(names[0]), b=label(names[-1]),
                       cfi=ctx.n(r["cfi"], rt.cut_digits(r["cfi"], POOR_CFI)), cut=ctx.n(POOR_CFI, 2))


def _baseline_findings(ctx) -> list[Finding]:
    """One wave only: each dimension's mean score overall and per group, on its own range, as the
    scores table (``descriptives.csv``) prints them."""
    desc = ctx.inp("descriptives.csv")
    if desc is None or not len(desc) or ctx.no_scales:
        return []
    w = ctx.data_waves[0]
    desc = desc[(desc["wave"].astype(str) == w) & (desc["kind"] == "scale")]
    out = []
    for d in ctx.top_dims():
        part = desc[desc["dimension"] == d].set_index("group")
        if "all" not in part.index or not part.loc["all", "n"]:
            continue
        lo, hi = ctx.dim_range(d)
        groups = "" if ctx.one_group else "; ".join(
            ctx.t("summary_base_group", group=ctx.gl(g), mean=ctx.n(part.loc[g, "mean"]),
                  n=integer(part.loc[g, "n"], ctx.lang))
            for g in ctx.present_levels if g in part.index and part.loc[g, "n"])
        a = part.loc["all"]
        text = ctx.t("summary_base_dim", dim=ctx.dl(d), wave=ctx.wl(w), mean=ctx.n(a["mean"]), sd=ctx.n(a["sd"]),
                     n=integer(a["n"], ctx.lang), lo=ctx.n(lo, 0), hi=ctx.n(hi, 0))
        out.append(Finding(text + (f" {groups}." if groups else ""),
                           {"kind": "baseline", "dimension": d, "wave": w, "verdict": "descriptive"}))
    return out


def _reference(ctx, part: pd.DataFrame) -> tuple[str | None, list[str]]:
    """The mixed model's reference group (the level without a ``group[...]`` term) and the others,
    in the study's order."""
    terms = {str(t)[6:-1] for t in part["term"].dropna().astype(str) if str(t).startswith("group[")}
    others = [g for g in ctx.present_levels if g in terms]
    ref = [g for g in ctx.present_levels if g not in terms]
    return (ref[0] if len(ref) == 1 else None), others


def _gap_findings(ctx) -> list[Finding]:
    """The wave × group interactions of the mixed models, each later wave against the first; none
    in a one-group study (there is no other group to compare with)."""
    mm = ctx.inp("mixed_models.csv")
    if mm is None or not len(mm) or ctx.one_group:
        return []
    waves = [w for w in ctx.waves if w in ctx.data_waves]
    dims = (["trust_outgroup"] if ctx.origin_groups else []) + ctx.top_dims()
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
                text = f"{ctx.wl(waves[0])} → {ctx.wl(w)}: {f.text}" if len(waves) > 2 else f.text
                f.text = text + _fit_caveat(ctx, fits, _parent(ctx, d), "groups")
                out.append(f)
    return out


def _gap_sentence(ctx, d: str, g1: str, g2: str, pre: str, w: str, g0: pd.Series, r: pd.Series) -> Finding:
    """One interaction: the baseline difference, the difference in change (with the decimals its
    CI needs and its d_z), and one verdict."""
    b0, bi = float(g0["estimate"]), float(r["estimate"])
    v = rt.verdict(bi, r["ci_low"], r["ci_high"], r["p_val"], ctx.alpha)
    dz = r.get("d_z", np.nan)
    # a gap at baseline only when its CI excludes 0; it closed when the gap after the change
    # (b0 + bi) is smaller than before, not merely when the signs differ (a change larger than the
    # gap reverses it)
    gap0 = not _isna(g0["ci_low"]) and (float(g0["ci_low"]) > 0 or float(g0["ci_high"]) < 0)
    closing = abs(b0 + bi) < abs(b0) and ((b0 < 0 < bi) or (b0 > 0 > bi))
    if rt.negligible(v, dz, ctx.min_effect):
        vt = ctx.t("gap_negligible", min=ctx.n(ctx.min_effect, rt.dz_digits(dz, ctx.min_effect)))
    elif v == "sig" and not ctx.origin_groups:  # randomized arms or any study's groups: changed differently?
        vt = ctx.t("gap_sig_gen" if gap0 else "gap_diff_sig")
    elif v == "sig":
        vt = ctx.t(("gap_closed_sig" if closing else "gap_widened_sig") if gap0 else "gap_diff_sig")
    elif v == "flat":
        vt = ctx.t("gap_flat")
    else:  # the CI of the difference in change includes 0: no direction is claimed
        vt = ctx.t("gap_closed_unsure" if closing else "gap_widened_unsure")
    k0 = max(3, rt.ci_digits(g0["ci_low"], g0["ci_high"]))
    ki, kc = max(3, rt.ci_digits(r["ci_low"], r["ci_high"])), rt.ci_digits(r["ci_low"], r["ci_high"])
    text = ctx.t(ctx.message_id("gap_sentence"), dim=ctx.dl(d), pre=ctx.wl(pre), g1=ctx.glow(g1), g2=ctx.glow(g2),
                 dir0=ctx.t("gap_higher" if b0 >= 0 else "gap_lower"), abs0=ctx.n(abs(b0), k0),
                 cmp=ctx.t("gap_more" if bi >= 0 else "gap_less"), absint=ctx.n(abs(bi), ki), ci=ctx.t("ci95"),
                 lo=ctx.n(r["ci_low"], kc), to=ctx.t("to"), hi=ctx.n(r["ci_high"], kc),
                 dz=ctx.n(dz, rt.dz_digits(dz, ctx.min_effect)), p=rt.peq(r["p_val"], ctx.lang),
                 method=rt.method_label(r["method"], ctx.lang), verdict=vt)
    attrs = {"kind": "gap", "dimension": d, "group": g2, "wave-post": w, "verdict": v}
    if rt.negligible(v, dz, ctx.min_effect):
        attrs["size"] = "negligible"
    return Finding(text, attrs)


def _network_findings(ctx) -> list[Finding]:
    if ctx.no_ties:
        return [Finding(ctx.no_network_text(), {"kind": "no-ties", "verdict": "none"})]
    out = []
    whole = ctx.inp("network_whole.csv")
    if whole is not None and len(whole):
        part = whole[whole["tie_type"] == "any"]
        if not len(part):
            part = whole[whole["tie_type"] == whole["tie_type"].iloc[0]]
        part = part.assign(_w=part["wave"].map({w: i for i, w in enumerate(ctx.waves)})).sort_values("_w")
        out += [_ei_finding(ctx, r) for _, r in part.iterrows()]
    ch = ctx.inp("network_change.csv")
    if ch is not None and len(ch):
        part = ch[ch["tie_type"] == "any"]
        if not len(part):
            part = ch.head(1)
        out += [_change_finding(ctx, r) for _, r in part.iterrows()]
    return out


def _ei_finding(ctx, r: pd.Series) -> Finding:
    """One wave's whole network (everyone who answered in it): its ties between groups and E-I."""
    attrs = {"kind": "ei", "wave": str(r["wave"]), "tie-type": str(r["tie_type"])}
    nodes = integer(r["n_nodes"], ctx.lang) if "n_nodes" in r else "–"
    if ctx.one_group:
        text = ctx.t("sentence_ei_one_group", wave=ctx.wl(r["wave"]), tie=ctx.tl(r["tie_type"]), nodes=nodes,
                     total=integer(r["n_ties"], ctx.lang), group=ctx.groups_text())
        return Finding(text, {**attrs, "verdict": "untestable"})
    # the ties between groups (E of E-I), shown where E-I is defined (two groups present)
    ext = float(r["ties_between"]) if np.isfinite(r["ei"]) else np.nan
    if _isna(r["ei_p"]) or _isna(r["ei"]):
        vt, v = ctx.t("ei_unsure"), "untestable"
    elif float(r["ei_p"]) < ctx.alpha:
        v = "sig"
        vt = ctx.t("ei_more_within_sig" if r["ei"] < r["ei_expected"] else "ei_more_between_sig")
    else:
        vt, v = ctx.t("ei_unsure"), "unsure"
    text = ctx.t("sentence_ei" if ctx.origin_groups else "sentence_ei_gen", wave=ctx.wl(r["wave"]),
                 tie=ctx.tl(r["tie_type"]), nodes=nodes, ext=integer(ext, ctx.lang),
                 total=integer(r["n_ties"], ctx.lang), ei=ctx.n(r["ei"]), exp=ctx.n(r["ei_expected"]),
                 resc=ctx.n(r["ei_rescaled"]), p=rt.peq(r["ei_p"], ctx.lang), verdict=vt, groups=ctx.groups_text())
    return Finding(rt.capfirst(text), {**attrs, "verdict": v})


def _change_finding(ctx, r: pd.Series) -> Finding:
    """Ties kept, new and ended between two waves among the people who answered in both, and the
    change of the E-I index of their ties (the network change table)."""
    common = integer(r.get("n_common"), ctx.lang)
    if ctx.one_group:
        text = ctx.t("sentence_change_one_group", pre=ctx.wl(r["wave_pre"]), post=ctx.wl(r["wave_post"]),
                     tie=ctx.tl(r["tie_type"]), common=common, kept=integer(r["kept"], ctx.lang),
                     new=integer(r["new_within"], ctx.lang), dropped=integer(r["dropped_within"], ctx.lang),
                     jaccard=ctx.n(r["jaccard"]))
        return Finding(text, {"kind": "change", "tie-type": str(r["tie_type"]), "verdict": "untestable"})
    d = r["delta_ei"]
    if _isna(d):
        v, vt, direction = "untestable", ctx.t("change_untestable"), "up"
    elif float(d) == 0:
        v, vt, direction = "flat", ctx.t("change_flat"), "up"
    else:
        direction = "up" if d > 0 else "down"
        v = "sig" if (not _isna(r["delta_ei_p"]) and r["delta_ei_p"] < ctx.alpha) else "unsure"
        vt = ctx.t(f"change_{v}_{direction}")
    text = ctx.t("sentence_change", pre=ctx.wl(r["wave_pre"]), post=ctx.wl(r["wave_post"]), tie=ctx.tl(r["tie_type"]),
                 common=common, new_b=integer(r["new_between"], ctx.lang),
                 drop_b=integer(r["dropped_between"], ctx.lang), new_w=integer(r["new_within"], ctx.lang),
                 drop_w=integer(r["dropped_within"], ctx.lang), dir=ctx.t(direction),
                 absd=ctx.n(abs(d) if not _isna(d) else d), p=rt.peq(r["delta_ei_p"], ctx.lang), verdict=vt)
    return Finding(text, {"kind": "change", "tie-type": str(r["tie_type"]), "verdict": v})
