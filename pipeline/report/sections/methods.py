"""The methods section, written from what ran: each paragraph describes a stage whose table has rows
(scales, paired tests and the Holm families read from ``prepost.csv``, mixed models, invariance,
networks), and the limitations are those of this study's design — nothing about scale items for a
study without them, nothing about networks for one without ties."""

from __future__ import annotations

import pandas as pd

from ..columns import Column, Fmt
from ..context import Context
from ..model import Block

#: the instrument's scales: dimension, subscale, items, reversed items (then the answer range)
INSTRUMENT_COLUMNS = [
    Column("dimension", "dimension", Fmt.DIMENSION), Column("sub", "c_subscale", Fmt.DIMENSION),
    Column("k", "c_k", Fmt.INT), Column("items", "c_items"), Column("reverse", "c_reverse_items")]


def section(ctx: Context) -> list[Block]:
    """The methods that ran and this design's limitations.

    Reads ``scale_map.parquet``, ``scores.csv``, ``reliability.csv``, ``prepost.csv``,
    ``mixed_models.csv``, ``invariance.csv``, ``respondents.parquet``, ``network_whole.csv``,
    ``did.csv`` and ``collective.csv``. Prints the table ``instrument``.
    """
    words = ctx.words
    blocks = _instrument_blocks(ctx) + _scoring_blocks(ctx) + _tests_blocks(ctx) + _network_blocks(ctx)
    blocks += [Block("h3", words.text("m_limits_head")), Block("list", items=limitations(ctx))]
    blocks.append(Block("p", words.study_text("tables_files")))
    return blocks


def _rows(ctx: Context, name: str) -> pd.DataFrame:
    """The rows of a result table (none when the stage did not run or wrote none)."""
    df = ctx.inputs(name)
    return df if df is not None else pd.DataFrame()


def _instrument_blocks(ctx: Context) -> list[Block]:
    words, shape = ctx.words, ctx.shape
    sm = ctx.inputs("scale_map.parquet")
    if sm is None:
        return [Block("h3", words.text("m_instrument_head")), ctx.missing("scale_map.parquet")]
    if not len(sm):  # no scale items: nothing to describe
        return []
    blocks = [Block("h3", words.text("m_instrument_head"))]
    if shape.umkm:
        lo, hi = shape.scale
        blocks.append(Block("p", words.text("m_instrument", lo=words.number(lo, 0), hi=words.number(hi, 0))))
    else:
        blocks.append(Block("p", words.text("m_instrument_gen", ranges=ctx.ranges_text())))
    rows = []
    for (d, sub), part in sm.groupby(["dimension", "subscale"], sort=False):
        rows.append({"dimension": d, "sub": f"{d}_{sub}", "k": len(part),
                     "items": ", ".join(part["item"]),
                     "reverse": ", ".join(part.loc[part["reverse"].astype(bool), "item"]),
                     "range": f"{words.number(part['min'].min(), 0)}–{words.number(part['max'].max(), 0)}"})
    cols = INSTRUMENT_COLUMNS + [Column("range", "c_likert" if shape.umkm else "c_range")]
    blocks.append(ctx.numbering.table("instrument", words.text("t_instrument"), pd.DataFrame(rows), cols))
    return blocks


def _scoring_blocks(ctx: Context) -> list[Block]:
    """Scoring when there are scores; α and ω when the reliability table has them."""
    words, shape = ctx.words, ctx.shape
    rel = _rows(ctx, "reliability.csv")
    out = []
    if ctx.inputs.any_rows("scores.csv") and not shape.no_scales:  # its first row, not its millions
        out.append(words.text("m_scoring_scores", share=words.share(ctx.study.analysis.min_share, 0)))
    if len(rel) and pd.to_numeric(rel["alpha"], errors="coerce").notna().any():
        out.append(words.text("m_reliability"))
    return [Block("h3", words.text("m_scoring_head")), Block("p", " ".join(out))] if out else []


def holm_families(pp: pd.DataFrame) -> list[list[str]]:
    """The outcomes of each Holm family of ``prepost.csv`` (one group × pair of waves), as tested:
    the rows with a Holm-adjusted p, in the table's order."""
    if not len(pp) or "p_holm" not in pp:
        return []
    tested = pp[pd.to_numeric(pp["p_holm"], errors="coerce").notna()]
    return [list(dict.fromkeys(part["dimension"].astype(str)))
            for _, part in tested.groupby(["group", "wave_pre", "wave_post"], sort=False)]


def _model_formula(ctx: Context) -> str:
    words, shape = ctx.words, ctx.shape
    if shape.one_group:
        return words.text("m_model_one_group")
    return words.text("m_model_sites" if shape.n_sites > 1 else "m_model_groups")


def _tests_blocks(ctx: Context) -> list[Block]:
    """Paired tests, N-gain, the Holm families, mixed models and invariance — each only if it ran."""
    words, shape = ctx.words, ctx.shape
    pp, mm, inv = _rows(ctx, "prepost.csv"), _rows(ctx, "mixed_models.csv"), _rows(ctx, "invariance.csv")
    out = []
    if len(pp) and not shape.one_wave:
        out.append(words.text("m_paired", alpha=words.number(ctx.study.analysis.alpha, 2)))
        if pd.to_numeric(pp.get("n_gain"), errors="coerce").notna().any():
            out.append(words.text("m_ngain"))
        families = holm_families(pp)
        largest = max(families, key=len) if families else []
        if len(largest) > 1:
            out.append(words.text("m_holm", outcomes=words.join([words.dimension(d) for d in largest])))
        elif largest:
            out.append(words.text("m_holm_one"))
    fitted = mm[mm["method"].astype(str) != "skipped_too_few"] if len(mm) else mm
    if len(fitted) and not shape.one_wave:
        out.append(words.text("m_mixed", model=_model_formula(ctx)))
        models = fitted.groupby("dimension")["method"].first().astype(str)
        ols = [d for d, m in models.items() if m.startswith("ols")]
        if ols:  # named, not counted: the dimensions are the table's rows
            out.append(words.text("m_mixed_ols", dims=words.join([words.dimension(d) for d in ols])))
    if len(inv) and not shape.no_scales:
        what = set(inv["comparison"].astype(str))
        across = "m_inv_both" if {"groups", "waves"} <= what else ("m_inv_waves" if "waves" in what else "m_inv_groups")
        out.append(words.text("m_invariance_ran", across=words.text(across),
                              section=words.study_text("sec_designs")))
    return [Block("h3", words.text("m_tests_head")), Block("p", " ".join(out))] if out else []


def _network_blocks(ctx: Context) -> list[Block]:
    words, shape = ctx.words, ctx.shape
    if shape.no_ties or ctx.inputs("network_whole.csv") is None:
        return []
    a = ctx.study.analysis
    key = "m_network_ran_umkm" if shape.umkm else "m_network_ran"
    text = words.text(key, ties=words.join([words.tie(t) for t in ctx.study.tie_types]), any=words.tie("any"),
                      section=words.study_text("sec_network"), perms=words.integer(a.permutations), seed=a.seed)
    return [Block("h3", words.text("m_network_head")), Block("p", text)]


def limitations(ctx: Context) -> list[str]:
    """The limitations of this study's design: its waves, comparison sites, scales, ties, the
    invariance test (a limitation only when it could not run) and collective-action claims."""
    words, shape = ctx.words, ctx.shape
    gen = "umkm" if shape.umkm else "gen"
    did = _rows(ctx, "did.csv")
    if shape.one_wave:
        out = [words.text("lim_one_wave_gen")]
    else:
        design = words.study_message("lim_design_did") if len(did) else (
            "lim_design_umkm" if shape.umkm else "lim_change_gen")
        out = [words.text(design), words.text(f"lim_attrition_{gen}")]
    if not shape.no_scales:
        out.append(words.text(f"lim_self_report_{gen}"))
    if not shape.no_ties:
        out.append(words.text(f"lim_network_{gen}"))
    if not shape.no_scales and not len(_rows(ctx, "invariance.csv")):
        out.append(words.text("lim_invariance_untested"))
    coll = _rows(ctx, "collective.csv")
    if len(coll) and coll["wave"].notna().any():
        out.append(words.text("lim_collective"))
    return out
