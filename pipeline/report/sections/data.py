"""The data section: who answered in each wave (the sample flow), what the quality checks did, and
how many answers are missing."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..columns import Column, Fmt
from ..context import Context
from ..model import Block, Unavailable

#: what the quality checks did, counted per wave
QUALITY_COLUMNS = [
    Column("wave", "wave", Fmt.WAVE), Column("issue", "c_issue", Fmt.CODE, code="issue"),
    Column("action", "c_action", Fmt.CODE, code="action"), Column("count", "c_count", Fmt.INT)]
#: the answers missing per wave and dimension (and over all, the last row)
MISSING_COLUMNS = [
    Column("wave_text", "wave"), Column("dimension_text", "dimension"), Column("expected", "c_expected", Fmt.INT),
    Column("missing", "c_missing", Fmt.INT), Column("share", "c_missing_pct", Fmt.SHARE)]


def section(ctx: Context) -> list[Block]:
    """The data: the sample flow and attrition, the quality checks, the missing answers.

    Reads ``sample.csv`` (required), ``quality.csv``, ``responses.parquet`` and
    ``scale_map.parquet``. Prints the tables ``sample``, ``quality`` and ``missing``.
    """
    sample = ctx.inputs("sample.csv")
    if sample is None:
        raise Unavailable(ctx.missing("sample.csv"))
    words = ctx.words
    sample = ctx.shape.study_order(sample, "wave", "group", group=[*ctx.shape.levels, "all"])
    blocks = [Block("p", words.text("data_intro_set")), _sample_table(ctx, sample)]
    blocks += _attrition_blocks(ctx, sample)
    if ctx.study.source.kind != "tables":
        kind = ctx.study.source.kind
        blocks.append(Block("p", words.text("validation_google_forms" if kind == "google_forms" else
                                            f"validation_{'odk_' if kind == 'odk' else ''}{ctx.study.validation}")))
    return blocks + _quality_blocks(ctx) + _missing_blocks(ctx)


def _sample_table(ctx: Context, sample: pd.DataFrame) -> Block:
    """The sample flow: who is in each wave (a questionnaire with at least one answer), the blank
    questionnaires left out, and who is in the comparisons (``sample.csv``, made by tidy)."""
    cols = [Column("wave", "wave", Fmt.WAVE), Column("group", "group", Fmt.GROUP), Column("n", "c_n", Fmt.INT)]
    if "blank" in sample and pd.to_numeric(sample["blank"], errors="coerce").fillna(0).any():
        cols.append(Column("blank", "c_blank", Fmt.INT))
    cols += [Column("retained", "c_retained", Fmt.INT), Column("attrition", "c_attrition", Fmt.INT)]
    if "attrition_share" in sample:
        cols.append(Column("attrition_share", "c_attrition_share", Fmt.SHARE))
    cols.append(Column("newcomers", "c_newcomers", Fmt.INT))
    if "in_first" in sample and len(ctx.shape.waves) > 2:  # two waves: the same as "retained"
        cols.append(Column("in_first", "c_in_first", Fmt.INT))
    cols.append(Column("in_all_waves", "c_in_all", Fmt.INT))
    return ctx.numbering.table("sample", ctx.words.text("t_sample"), sample, cols)


def _attrition_blocks(ctx: Context, sample: pd.DataFrame) -> list[Block]:
    """One sentence per later wave: who stayed, left and joined (a wave not collected yet is named)."""
    words = ctx.words
    blocks = []
    alls = sample[sample["group"] == "all"].reset_index(drop=True)
    for i in range(1, len(alls)):
        prev, cur = alls.iloc[i - 1], alls.iloc[i]
        if str(cur["wave"]) not in ctx.shape.data_waves:
            blocks.append(Block("note", words.text("empty_waves", waves=words.wave(cur["wave"]))))
            continue  # not collected yet: nobody "left"
        share = cur["attrition_share"] if "attrition_share" in cur else np.nan
        blocks.append(Block("p", words.text(
            "data_attrition", prev=words.wave(prev["wave"]), cur=words.wave(cur["wave"]),
            ret=words.integer(cur["retained"]), att=words.integer(cur["attrition"]), attp=words.share(share),
            nprev=words.integer(prev["n"]), new=words.integer(cur["newcomers"]))))
    return blocks


def _quality_blocks(ctx: Context) -> list[Block]:
    """What the quality checks found and did, counted per wave (most frequent first)."""
    q = ctx.inputs("quality.csv")
    words = ctx.words
    if q is None:
        return [ctx.missing("quality.csv")]
    if not len(q):
        return [Block("p", words.text("quality_none"))]
    q = q.assign(action=q["action"].fillna(""), wave=q["wave"].fillna(""))  # "": not of one wave
    counts = q.groupby(["wave", "issue", "action"], sort=False).size().rename("count").reset_index()
    counts = ctx.shape.study_order(counts.sort_values("count", ascending=False, kind="stable"), "wave")
    return [Block("p", words.study_text("quality_intro")),
            ctx.numbering.table("quality", words.text("t_quality"), counts, QUALITY_COLUMNS)]


def _missing_blocks(ctx: Context) -> list[Block]:
    """The share of scale answers missing, in a sentence and per wave and dimension."""
    resp, sm = ctx.inputs("responses.parquet"), ctx.inputs("scale_map.parquet")
    if resp is None or sm is None:
        return [ctx.missing("responses.parquet", "scale_map.parquet")]
    m = resp.merge(sm[["item", "dimension"]], on="item", how="inner")
    if not len(m):
        return []
    words = ctx.words
    g = m.groupby(["wave", "dimension"], sort=False)["value"]
    tab = pd.DataFrame({"expected": g.size(), "missing": g.apply(lambda x: int(x.isna().sum()))}).reset_index()
    tab = ctx.shape.study_order(tab, "wave", "dimension")  # not the order the answers' rows come in
    total = {"wave": "", "dimension": "", "expected": len(m), "missing": int(m["value"].isna().sum())}
    tab = pd.concat([tab, pd.DataFrame([total])], ignore_index=True)  # the sentence's numbers: a row
    tab["share"] = tab["missing"] / tab["expected"]
    tab["wave_text"] = [words.wave(w) if w else words.text("all") for w in tab["wave"]]
    tab["dimension_text"] = [words.dimension(x) if x else "" for x in tab["dimension"]]
    sentence = words.text("missing_sentence", pct=words.share(tab["share"].iloc[-1]),
                          n=words.integer(total["missing"]), total=words.integer(total["expected"]))
    return [Block("p", sentence), ctx.numbering.table("missing", words.text("t_missing"), tab, MISSING_COLUMNS)]
