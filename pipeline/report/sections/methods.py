"""The methods section."""

from __future__ import annotations

import pandas as pd

from .. import text as rt
from ..model import Block
from ..text import integer, pct


def section(ctx) -> list[Block]:
    a = ctx.study.analysis
    blocks = [Block("h3", ctx.t("m_instrument_head"))]
    sm = ctx.inp("scale_map.parquet")
    lo, hi = ctx.scale
    if sm is None:
        blocks.append(ctx.missing("scale_map.parquet"))
    elif not len(sm):
        blocks.append(Block("note", ctx.t(ctx.message_id("no_scales"))))
    else:
        if ctx.umkm:
            blocks.append(Block("p", ctx.t("m_instrument", lo=ctx.n(lo, 0), hi=ctx.n(hi, 0))))
        else:
            blocks.append(Block("p", ctx.t("m_instrument_gen", ranges=ctx.ranges_text())))
        rows = []
        for (d, sub), part in sm.groupby(["dimension", "subscale"], sort=False):
            rows.append({"dimension": d, "sub": f"{d}_{sub}", "k": len(part),
                         "items": ", ".join(part["item"]),
                         "reverse": ", ".join(part.loc[part["reverse"].astype(bool), "item"]),
                         "range": f"{ctx.n(part['min'].min(), 0)}–{ctx.n(part['max'].max(), 0)}"})
        blocks.append(ctx.table("instrument", ctx.t("t_instrument"), pd.DataFrame(rows), [
            (lambda d: d["dimension"].map(ctx.dl), ctx.t("dimension"), "text"),
            (lambda d: d["sub"].map(ctx.dl), ctx.t("c_subscale"), "text"), ("k", ctx.t("c_k"), "int"),
            ("items", ctx.t("c_items"), "text"), ("reverse", ctx.t("c_reverse_items"), "text"),
            ("range", "Likert" if ctx.umkm else ctx.t("c_range"), "text")]))
    blocks.append(Block("h3", ctx.t("m_scoring_head")))
    blocks.append(Block("p", ctx.t("m_scoring", share=pct(a.min_share, ctx.lang, 0))))
    blocks.append(Block("h3", ctx.t("m_tests_head")))
    if ctx.umkm:
        blocks.append(Block("p", ctx.t("m_tests", alpha=ctx.n(a.alpha, 2))))
    else:
        model = ctx.t("m_model_one_group" if ctx.one_group else "m_model_groups")
        blocks.append(Block("p", ctx.t("m_tests_gen", alpha=ctx.n(a.alpha, 2), model=model,
                                       dims=ctx.join([ctx.dl(d) for d in ctx.top_dims()]))))
    blocks.append(Block("h3", ctx.t("m_network_head")))
    if ctx.no_ties:
        blocks.append(Block("note", ctx.no_network_text()))
    else:
        blocks.append(Block("p", ctx.t(ctx.message_id("m_network"),
                                       ties=", ".join(ctx.tl(t) for t in ctx.study.tie_types),
                                       perms=integer(a.permutations, ctx.lang), seed=a.seed)))
    blocks.append(Block("h3", ctx.t("m_limits_head")))
    blocks.append(Block("list", items=_limits(ctx)))
    blocks.append(Block("p", ctx.t(ctx.message_id("tables_files"))))
    return blocks


def _limits(ctx) -> list[str]:
    """The limitations that apply to this study: the demo's list for an instrument study; for
    another study only what its design has (waves, scales, ties)."""
    if ctx.umkm:
        return list(rt.STRINGS[ctx.lang]["m_limits"])
    out = [ctx.t("lim_one_wave_gen")] if ctx.one_wave else [ctx.t("lim_change_gen"), ctx.t("lim_attrition_gen")]
    if not ctx.no_scales:
        out.append(ctx.t("lim_self_report_gen"))
    if not ctx.no_ties:
        out.append(ctx.t("lim_network_gen"))
    return out
