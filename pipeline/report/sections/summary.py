"""The summary section."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .. import text as rt
from ..model import Block, Finding, Unavailable, isna as _isna
from ..text import integer, pct


def section(ctx) -> list[Block]:
    blocks: list[Block] = []
    sample = ctx.inp("sample.csv")
    if sample is not None:
        alls = sample[sample["group"] == "all"]
        parts = [ctx.t("summary_wave_n", wave=ctx.wl(r["wave"]), n=integer(r["n"], ctx.lang))
                 for _, r in alls.iterrows()]
        if ctx.umkm:
            blocks.append(Block("p", ctx.t("summary_intro", site=ctx.study.site, waves="; ".join(parts))))
        else:
            blocks.append(Block("p", ctx.t("summary_intro_gen", title=ctx.study.title, site=ctx.study.site,
                                            waves="; ".join(parts))))
    if ctx.one_wave:
        blocks.append(ctx.one_wave_scope())
    pp = ctx.inp("prepost.csv")
    if pp is None and sample is None:
        raise Unavailable(ctx.missing("prepost.csv", "sample.csv"))
    head = ctx.t("summary_trust_head" if ctx.umkm else "summary_scales_head")
    if ctx.one_wave:
        # no before/after findings (the scope note says why); each scale's baseline level instead
        base = _baseline_findings(ctx)
        if base:
            blocks.append(Block("h3", head))
            blocks.append(Block("list", items=base))
    elif ctx.no_scales:
        blocks.append(Block("h3", head))
        blocks.append(Block("note", ctx.t(ctx.message_id("no_scales"))))
    elif pp is not None and len(pp):
        pp = pp[~pp["dimension"].astype(str).str.startswith("network_")]
        posts = [w for w in ctx.waves if w in set(pp["wave_post"].dropna())]
        for post in posts:
            allrow = pp[(pp["group"] == "all") & (pp["wave_post"] == post)]
            if len(allrow):
                blocks.append(Block("p", ctx.t("summary_pairs", n=integer(allrow["n_pairs"].max(), ctx.lang),
                                                pre=ctx.wl(allrow["wave_pre"].iloc[0]), post=ctx.wl(post))))
        blocks.append(Block("h3", head))
        findings = []
        for post in posts:
            part = pp[pp["wave_post"] == post]
            for d, g in _scale_plan(ctx):
                r = part[(part["dimension"] == d) & (part["group"] == g)]
                if not len(r):
                    continue
                row = r.iloc[0].to_dict()
                grp = ctx.gphrase(g) if ctx.origin_groups or g == "all" else ctx.t("group_phrase_gen", label=ctx.gl(g))
                v, text = rt.sentence_scale(row, ctx.lang, ctx.dl(d), grp, ctx.dim_range(d), ctx.alpha)
                if len(posts) > 1:  # three waves or more: name the comparison
                    text = f"{ctx.wl(row['wave_pre'])} → {ctx.wl(post)}: {text}"
                findings.append(Finding(text, {"kind": "scale", "dimension": d, "group": g,
                                               "wave-pre": str(row["wave_pre"]), "wave-post": str(row["wave_post"]),
                                               "verdict": v}))
        blocks.append(Block("list", items=findings))
        blocks.append(Block("note", ctx.t("summary_howto", alpha=ctx.n(ctx.alpha, 2))))
    else:
        blocks.append(ctx.missing("prepost.csv"))
    gap = _gap_findings(ctx)
    if gap:
        blocks.append(Block("h3", ctx.t("summary_gap_head")))
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


def _scale_plan(ctx) -> list[tuple[str, str]]:
    """(dimension, group) of the summary: every dimension of the scale map, for everyone and per
    group (no per-group lines in a one-group study); the demo's trust in the other group too."""
    groups = ["all"] + ([] if ctx.one_group else ctx.present_levels)
    plan = []
    for d in ctx.top_dims():
        plan += [(d, g) for g in groups]
        if d == "trust" and ctx.origin_groups:
            plan += [("trust_outgroup", g) for g in ctx.present_levels]
    return plan


def _baseline_findings(ctx) -> list[Finding]:
    """One wave only: each dimension's mean score overall and per group, on its own range."""
    sc = ctx.inp("scores.csv")
    if sc is None or not len(sc) or ctx.no_scales:
        return []
    w = ctx.data_waves[0]
    sc = sc[sc["wave"].astype(str) == w]
    sc = sc.assign(score=pd.to_numeric(sc["score"], errors="coerce")).dropna(subset=["score"])
    out = []
    for d in ctx.top_dims():
        part = sc[sc["dimension"] == d]
        if not len(part):
            continue
        lo, hi = ctx.dim_range(d)
        groups = "" if ctx.one_group else "; ".join(
            ctx.t("summary_base_group", group=ctx.gl(g), mean=ctx.n(part.loc[part["group"] == g, "score"].mean()),
                  n=integer(int((part["group"] == g).sum()), ctx.lang))
            for g in ctx.present_levels if (part["group"] == g).any())
        text = ctx.t("summary_base_dim", dim=ctx.dl(d), wave=ctx.wl(w), mean=ctx.n(part["score"].mean()),
                     sd=ctx.n(part["score"].std(ddof=1)), n=integer(len(part), ctx.lang),
                     lo=ctx.n(lo, 0), hi=ctx.n(hi, 0))
        out.append(Finding(text + (f" {groups}." if groups else ""),
                           {"kind": "baseline", "dimension": d, "wave": w, "verdict": "descriptive"}))
    return out


def _gap_findings(ctx) -> list[Finding]:
    """The wave × group interactions of the mixed models, each later wave against the first; none
    in a one-group study (there is no other group to compare with)."""
    mm = ctx.inp("mixed_models.csv")
    if mm is None or not len(mm) or ctx.one_group:
        return []
    out = []
    waves = [w for w in ctx.waves if w in ctx.data_waves]
    levels = ctx.model_levels  # the reference group first, as the models code it
    g1 = levels[0]
    dims = (["trust_outgroup"] if ctx.origin_groups else []) + ctx.top_dims()
    for d in dims:
        part = mm[mm["dimension"] == d]
        for g2 in levels[1:]:
            for w in waves[1:]:
                gi = part[part["term"] == f"group[{g2}]"]
                ii = part[part["term"] == f"wave[{w}]:group[{g2}]"]
                if not len(gi) or not len(ii):
                    continue
                b0 = float(gi["estimate"].iloc[0])
                r = ii.iloc[0]
                bi = float(r["estimate"])
                v = rt.verdict(bi, r["ci_low"], r["ci_high"], r["p_val"], ctx.alpha)
                g0 = gi.iloc[0]
                # a gap at baseline only when its CI excludes 0; it closed when the gap after the
                # change (b0 + bi) is smaller than before, not merely when the signs differ (a
                # change larger than the gap reverses it)
                gap0 = not _isna(g0["ci_low"]) and (float(g0["ci_low"]) > 0 or float(g0["ci_high"]) < 0)
                closing = abs(b0 + bi) < abs(b0) and ((b0 < 0 < bi) or (b0 > 0 > bi))
                if v in ("sig",):
                    vt = ctx.t(("gap_closed_sig" if closing else "gap_widened_sig") if gap0 else "gap_diff_sig")
                elif v == "flat":
                    vt = ctx.t("gap_flat")
                else:  # the CI of the difference in change includes 0: no direction is claimed
                    vt = ctx.t("gap_closed_unsure" if closing else "gap_widened_unsure")
                text = ctx.t(ctx.message_id("gap_sentence"), dim=ctx.dl(d), pre=ctx.wl(waves[0]), g1=ctx.glow(g1),
                             g2=ctx.glow(g2), dir0=ctx.t("gap_higher" if b0 >= 0 else "gap_lower"),
                             abs0=ctx.n(abs(b0)), cmp=ctx.t("gap_more" if bi >= 0 else "gap_less"),
                             absint=ctx.n(abs(bi)), ci=ctx.t("ci95"), lo=ctx.n(r["ci_low"]),
                             to=ctx.t("to"), hi=ctx.n(r["ci_high"]), p=rt.peq(r["p_val"], ctx.lang),
                             method=rt.method_label(r["method"], ctx.lang), verdict=vt)
                if len(waves) > 2:
                    text = f"{ctx.wl(waves[0])} → {ctx.wl(w)}: {text}"
                out.append(Finding(text, {"kind": "gap", "dimension": d, "group": g2, "wave-post": w,
                                          "verdict": v}))
    return out


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
        for _, r in part.iterrows():
            total = float(r["n_ties"])
            if ctx.one_group:
                text = ctx.t("sentence_ei_one_group", wave=ctx.wl(r["wave"]), tie=ctx.tl(r["tie_type"]),
                             total=integer(total, ctx.lang), group=ctx.groups_text())
                out.append(Finding(text, {"kind": "ei", "wave": str(r["wave"]), "tie-type": str(r["tie_type"]),
                                          "verdict": "untestable"}))
                continue
            # the ties between groups (E of E-I), shown where E-I is defined (two groups present)
            ext = float(r["ties_between"]) if np.isfinite(r["ei"]) else np.nan
            if _isna(r["ei_p"]) or _isna(r["ei"]):
                vt, v = ctx.t("ei_unsure"), "untestable"
            elif float(r["ei_p"]) < ctx.alpha:
                v = "sig"
                vt = ctx.t("ei_more_within_sig" if r["ei"] < r["ei_expected"] else "ei_more_between_sig")
            else:
                vt, v = ctx.t("ei_unsure"), "unsure"
            share = ext / total if total else np.nan
            text = ctx.t("sentence_ei" if ctx.origin_groups else "sentence_ei_gen", wave=ctx.wl(r["wave"]),
                         tie=ctx.tl(r["tie_type"]), ext=integer(ext, ctx.lang),
                         total=integer(total, ctx.lang), share=pct(share, ctx.lang), ei=ctx.n(r["ei"]),
                         exp=ctx.n(r["ei_expected"]), resc=ctx.n(r["ei_rescaled"]), p=rt.peq(r["ei_p"], ctx.lang),
                         verdict=vt, groups=ctx.groups_text())
            out.append(Finding(rt.capfirst(text), {"kind": "ei", "wave": str(r["wave"]),
                                                   "tie-type": str(r["tie_type"]), "verdict": v}))
    ch = ctx.inp("network_change.csv")
    if ch is not None and len(ch):
        part = ch[ch["tie_type"] == "any"]
        if not len(part):
            part = ch.head(1)
        for _, r in part.iterrows():
            if ctx.one_group:
                text = ctx.t("sentence_change_one_group", pre=ctx.wl(r["wave_pre"]), post=ctx.wl(r["wave_post"]),
                             tie=ctx.tl(r["tie_type"]), kept=integer(r["kept"], ctx.lang),
                             new=integer(r["new_within"], ctx.lang), dropped=integer(r["dropped_within"], ctx.lang),
                             jaccard=ctx.n(r["jaccard"]))
                out.append(Finding(text, {"kind": "change", "tie-type": str(r["tie_type"]), "verdict": "untestable"}))
                continue
            d = r["delta_ei"]
            if _isna(d):
                v, vt, direction = "untestable", ctx.t("change_untestable"), "up"
            elif float(d) == 0:
                v, vt, direction = "flat", ctx.t("change_flat"), "up"
            else:
                direction = "up" if d > 0 else "down"
                v = "sig" if (not _isna(r["delta_ei_p"]) and r["delta_ei_p"] < ctx.alpha) else "unsure"
                vt = ctx.t(f"change_{v}_{direction}")
            text = ctx.t("sentence_change", pre=ctx.wl(r["wave_pre"]), post=ctx.wl(r["wave_post"]),
                         tie=ctx.tl(r["tie_type"]), new_b=integer(r["new_between"], ctx.lang),
                         drop_b=integer(r["dropped_between"], ctx.lang),
                         new_w=integer(r["new_within"], ctx.lang), drop_w=integer(r["dropped_within"], ctx.lang),
                         dir=ctx.t(direction), absd=ctx.n(abs(d) if not _isna(d) else d),
                         ei0=ctx.n(r["ei_pre"]), ei1=ctx.n(r["ei_post"]), common=integer(r.get("n_common"), ctx.lang),
                         p=rt.peq(r["delta_ei_p"], ctx.lang), verdict=vt)
            out.append(Finding(text, {"kind": "change", "tie-type": str(r["tie_type"]), "verdict": v}))
    return out
