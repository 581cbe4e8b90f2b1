"""The summary section."""

from __future__ import annotations

import numpy as np

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
        blocks.append(Block("p", ctx.t("summary_intro", site=ctx.study.site, waves="; ".join(parts))))
    if ctx.one_wave:
        blocks.append(ctx.one_wave_scope())
    pp = ctx.inp("prepost.csv")
    if pp is None and sample is None:
        raise Unavailable(ctx.missing("prepost.csv", "sample.csv"))
    if ctx.one_wave:
        pass  # the scope note above says why there are no before/after findings
    elif pp is not None and len(pp):
        last = pp["wave_post"].dropna().iloc[-1] if pp["wave_post"].notna().any() else None
        pp = pp[pp["wave_post"] == last]
        allrow = pp[(pp["group"] == "all")]
        if len(allrow):
            blocks.append(Block("p", ctx.t("summary_pairs", n=integer(allrow["n_pairs"].max(), ctx.lang),
                                            pre=ctx.wl(allrow["wave_pre"].iloc[0]),
                                            post=ctx.wl(last))))
        blocks.append(Block("h3", ctx.t("summary_trust_head")))
        findings = []
        plan = []
        for d in ("trust", "norms"):
            plan += [(d, g) for g in ["all", *ctx.levels]]
            if d == "trust":
                plan += [("trust_outgroup", g) for g in ctx.levels]
        for d, g in plan:
            r = pp[(pp["dimension"] == d) & (pp["group"] == g)]
            if not len(r):
                continue
            row = r.iloc[0].to_dict()
            v, text = rt.sentence_scale(row, ctx.lang, ctx.dl(d), ctx.gphrase(g), ctx.scale, ctx.alpha)
            findings.append(Finding(text, {"kind": "scale", "dimension": d, "group": g,
                                           "wave-pre": str(row["wave_pre"]), "wave-post": str(row["wave_post"]),
                                           "verdict": v}))
        if ctx.no_scales:
            blocks.append(Block("note", ctx.t("no_scales")))
        else:
            blocks.append(Block("list", items=findings))
            blocks.append(Block("note", ctx.t("summary_howto", alpha=ctx.n(ctx.alpha, 2))))
    else:
        blocks.append(ctx.missing("prepost.csv"))
    gap = _gap_findings(ctx)
    if gap:
        blocks.append(Block("h3", ctx.t("summary_gap_head")))
        blocks.append(Block("list", items=gap))
    net = _network_findings(ctx)
    blocks.append(Block("h3", ctx.t("summary_network_head")))
    if net:
        blocks.append(Block("list", items=net))
    else:
        blocks.append(ctx.missing("network_whole.csv", "network_change.csv")
                      or Block("unavailable", ctx.t("not_available", what="network_whole.csv")))
    if not ctx.one_wave:
        blocks.append(Block("p", ctx.t("summary_caveat")))
    return [b for b in blocks if b is not None]


def _gap_findings(ctx) -> list[Finding]:
    mm = ctx.inp("mixed_models.csv")
    if mm is None or not len(mm) or len(ctx.levels) < 2:
        return []
    out = []
    waves = ctx.waves
    g1 = sorted(ctx.levels)[0]
    for d in ("trust_outgroup", "trust", "norms"):
        part = mm[mm["dimension"] == d]
        for g2 in sorted(ctx.levels)[1:]:
            for w in waves[1:][-1:]:
                gi = part[part["term"] == f"group[{g2}]"]
                ii = part[part["term"] == f"wave[{w}]:group[{g2}]"]
                if not len(gi) or not len(ii):
                    continue
                b0 = float(gi["estimate"].iloc[0])
                r = ii.iloc[0]
                bi = float(r["estimate"])
                v = rt.verdict(bi, r["ci_low"], r["ci_high"], r["p_val"], ctx.alpha)
                closing = (b0 < 0 < bi) or (b0 > 0 > bi)
                if v in ("sig",):
                    vt = ctx.t("gap_closed_sig" if closing else "gap_widened_sig")
                elif v == "flat":
                    vt = ctx.t("gap_flat")
                else:
                    vt = ctx.t("gap_closed_unsure" if closing else "gap_widened_unsure")
                text = ctx.t("gap_sentence", dim=ctx.dl(d), pre=ctx.wl(waves[0]), g1=ctx.gl(g1).lower(),
                              g2=ctx.gl(g2).lower(), dir0=ctx.t("gap_higher" if b0 >= 0 else "gap_lower"),
                              abs0=ctx.n(abs(b0)), cmp=ctx.t("gap_more" if bi >= 0 else "gap_less"),
                              absint=ctx.n(abs(bi)), ci=ctx.t("ci95"), lo=ctx.n(r["ci_low"]),
                              to=ctx.t("to"), hi=ctx.n(r["ci_high"]), p=rt.peq(r["p_val"], ctx.lang),
                              method=rt.method_label(r["method"], ctx.lang), verdict=vt)
                out.append(Finding(text, {"kind": "gap", "dimension": d, "group": g2, "wave-post": w,
                                          "verdict": v}))
    return out


def _network_findings(ctx) -> list[Finding]:
    out = []
    whole = ctx.inp("network_whole.csv")
    if whole is not None and len(whole):
        part = whole[whole["tie_type"] == "any"]
        if not len(part):
            part = whole[whole["tie_type"] == whole["tie_type"].iloc[0]]
        part = part.assign(_w=part["wave"].map({w: i for i, w in enumerate(ctx.waves)})).sort_values("_w")
        for _, r in part.iterrows():
            total = float(r["n_ties"])
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
            text = ctx.t("sentence_ei", wave=ctx.wl(r["wave"]), tie=ctx.tl(r["tie_type"]),
                          ext=integer(ext, ctx.lang), total=integer(total, ctx.lang),
                          share=pct(share, ctx.lang), ei=ctx.n(r["ei"]), exp=ctx.n(r["ei_expected"]),
                          resc=ctx.n(r["ei_rescaled"]), p=rt.peq(r["ei_p"], ctx.lang), verdict=vt)
            out.append(Finding(rt.capfirst(text), {"kind": "ei", "wave": str(r["wave"]),
                                                   "tie-type": str(r["tie_type"]), "verdict": v}))
    ch = ctx.inp("network_change.csv")
    if ch is not None and len(ch):
        part = ch[ch["tie_type"] == "any"]
        if not len(part):
            part = ch.head(1)
        for _, r in part.iterrows():
            d = r["delta_ei"]
            if _isna(d) or float(d) == 0:
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
                          ei0=ctx.n(r["ei_pre"]), ei1=ctx.n(r["ei_post"]), common=integer(r.get("n_common"), ctx.lang), p=rt.peq(r["delta_ei_p"], ctx.lang),
                          verdict=vt)
            out.append(Finding(text, {"kind": "change", "tie-type": str(r["tie_type"]), "verdict": v}))
    return out
