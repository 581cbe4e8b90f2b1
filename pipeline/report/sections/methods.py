"""The methods section, written from what ran: each paragraph describes a stage whose table has rows
(scales, paired tests and the Holm families read from ``prepost.csv``, mixed models, invariance,
networks), and the limitations are those of this study's design — nothing about scale items for a
study without them, nothing about networks for one without ties."""

from __future__ import annotations

import pandas as pd

from ..model import Block
from ..text import integer, pct


def section(ctx) -> list[Block]:
    blocks = _instrument_blocks(ctx) + _scoring_blocks(ctx) + _tests_blocks(ctx) + _network_blocks(ctx)
    blocks += [Block("h3", ctx.t("m_limits_head")), Block("list", items=limitations(ctx))]
    blocks.append(Block("p", ctx.t(ctx.message_id("tables_files"))))
    return blocks


def _rows(ctx, name: str) -> pd.DataFrame:
    """The rows of a result table (none when the stage did not run or wrote none)."""
    df = ctx.inp(name)
    return df if df is not None else pd.DataFrame()


def _instrument_blocks(ctx) -> list[Block]:
    sm = ctx.inp("scale_map.parquet")
    if sm is None:
        return [Block("h3", ctx.t("m_instrument_head")), ctx.missing("scale_map.parquet")]
    if not len(sm):  # no scale items: nothing to describe
        return []
    blocks = [Block("h3", ctx.t("m_instrument_head"))]
    if ctx.umkm:
        lo, hi = ctx.scale
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
    return blocks


def _scoring_blocks(ctx) -> list[Block]:
    """Scoring when there are scores; α and ω when the reliability table has them."""
    scores, rel = _rows(ctx, "scores.csv"), _rows(ctx, "reliability.csv")
    out = []
    if len(scores) and not ctx.no_scales:
        out.append(ctx.t("m_scoring_scores", share=pct(ctx.study.analysis.min_share, ctx.lang, 0)))
    if len(rel) and pd.to_numeric(rel["alpha"], errors="coerce").notna().any():
        out.append(ctx.t("m_reliability"))
    return [Block("h3", ctx.t("m_scoring_head")), Block("p", " ".join(out))] if out else []


def holm_families(pp: pd.DataFrame) -> list[list[str]]:
    """The outcomes of each Holm family of ``prepost.csv`` (one group × pair of waves), as tested:
    the rows with a Holm-adjusted p, in the table's order."""
    if not len(pp) or "p_holm" not in pp:
        return []
    tested = pp[pd.to_numeric(pp["p_holm"], errors="coerce").notna()]
    return [list(dict.fromkeys(part["dimension"].astype(str)))
            for _, part in tested.groupby(["group", "wave_pre", "wave_post"], sort=False)]


def _model_formula(ctx) -> str:
    resp = ctx.inp("respondents.parquet")
    sites = resp["site"].nunique() if resp is not None and "site" in resp else 1
    if ctx.one_group:
        return ctx.t("m_model_one_group")
    return ctx.t("m_model_sites" if sites > 1 else "m_model_groups")


def _tests_blocks(ctx) -> list[Block]:
    """Paired tests, N-gain, the Holm families, mixed models and invariance — each only if it ran."""
    pp, mm, inv = _rows(ctx, "prepost.csv"), _rows(ctx, "mixed_models.csv"), _rows(ctx, "invariance.csv")
    out = []
    if len(pp) and not ctx.one_wave:
        out.append(ctx.t("m_paired", alpha=ctx.n(ctx.study.analysis.alpha, 2)))
        if pd.to_numeric(pp.get("n_gain"), errors="coerce").notna().any():
            out.append(ctx.t("m_ngain"))
        families = holm_families(pp)
        largest = max(families, key=len) if families else []
        if len(largest) > 1:
            out.append(ctx.t("m_holm", outcomes=ctx.join([ctx.dl(d) for d in largest])))
        elif largest:
            out.append(ctx.t("m_holm_one"))
    fitted = mm[mm["method"].astype(str) != "skipped_too_few"] if len(mm) else mm
    if len(fitted) and not ctx.one_wave:
        out.append(ctx.t("m_mixed", model=_model_formula(ctx)))
        models = fitted.groupby("dimension")["method"].first().astype(str)
        ols = [d for d, m in models.items() if m.startswith("ols")]
        if ols:  # named, not counted: the dimensions are the table's rows
            out.append(ctx.t("m_mixed_ols", dims=ctx.join([ctx.dl(d) for d in ols])))
    if len(inv) and not ctx.no_scales:
        what = set(inv["comparison"].astype(str))
        across = "m_inv_both" if {"groups", "waves"} <= what else ("m_inv_waves" if "waves" in what else "m_inv_groups")
        out.append(ctx.t("m_invariance_ran", across=ctx.t(across), section=ctx.t(ctx.message_id("sec_designs"))))
    return [Block("h3", ctx.t("m_tests_head")), Block("p", " ".join(out))] if out else []


def _network_blocks(ctx) -> list[Block]:
    if ctx.no_ties or ctx.inp("network_whole.csv") is None:
        return []
    a = ctx.study.analysis
    key = "m_network_ran_umkm" if ctx.umkm else "m_network_ran"
    text = ctx.t(key, ties=ctx.join([ctx.tl(t) for t in ctx.study.tie_types]), any=ctx.tl("any"),
                 section=ctx.t(ctx.message_id("sec_network")), perms=integer(a.permutations, ctx.lang),
                 seed=a.seed)
    return [Block("h3", ctx.t("m_network_head")), Block("p", text)]


def limitations(ctx) -> list[str]:
    """The limitations of this study's design: its waves, comparison sites, scales, ties, the
    invariance test (a limitation only when it could not run) and collective-action claims."""
    gen = "umkm" if ctx.umkm else "gen"
    did = _rows(ctx, "did.csv")
    if ctx.one_wave:
        out = [ctx.t("lim_one_wave_gen")]
    else:
        design = ctx.message_id("lim_design_did") if len(did) else (
            "lim_design_umkm" if ctx.umkm else "lim_change_gen")
        out = [ctx.t(design), ctx.t(f"lim_attrition_{gen}")]
    if not ctx.no_scales:
        out.append(ctx.t(f"lim_self_report_{gen}"))
    if not ctx.no_ties:
        out.append(ctx.t(f"lim_network_{gen}"))
    if not ctx.no_scales and not len(_rows(ctx, "invariance.csv")):
        out.append(ctx.t("lim_invariance_untested"))
    coll = _rows(ctx, "collective.csv")
    if len(coll) and coll["wave"].notna().any():
        out.append(ctx.t("lim_collective"))
    return out
