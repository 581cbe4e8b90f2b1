"""The data section."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .. import text as rt
from ..model import Block, Unavailable
from ..text import integer, pct


def section(ctx) -> list[Block]:
    sample = ctx.inp("sample.csv")
    if sample is None:
        raise Unavailable(ctx.missing("sample.csv"))
    blocks = [Block("p", ctx.t("data_intro_set"))]
    sample = sample.copy()
    sample["_w"] = sample["wave"].map({w: i for i, w in enumerate(ctx.waves)})
    order = {g: i for i, g in enumerate([*ctx.levels, "all"])}
    sample["_g"] = sample["group"].map(order).fillna(99)
    sample = sample.sort_values(["_w", "_g"])
    blocks.append(_sample_table(ctx, sample))
    alls = sample[sample["group"] == "all"].reset_index(drop=True)
    for i in range(1, len(alls)):
        prev, cur = alls.iloc[i - 1], alls.iloc[i]
        if str(cur["wave"]) not in ctx.data_waves:
            blocks.append(Block("note", ctx.t("empty_waves", waves=ctx.wl(cur["wave"]))))
            continue  # not collected yet: nobody "left"
        share = cur["attrition_share"] if "attrition_share" in cur else np.nan
        blocks.append(Block("p", ctx.t(
            "data_attrition", prev=ctx.wl(prev["wave"]), cur=ctx.wl(cur["wave"]),
            ret=integer(cur["retained"], ctx.lang), att=integer(cur["attrition"], ctx.lang),
            attp=pct(share, ctx.lang), nprev=integer(prev["n"], ctx.lang), new=integer(cur["newcomers"], ctx.lang))))
    q = ctx.inp("quality.csv")
    if ctx.study.source.kind != "tables":
        kind = ctx.study.source.kind
        blocks.append(Block("p", ctx.t("validation_google_forms" if kind == "google_forms" else
                                       f"validation_{'odk_' if kind == 'odk' else ''}{ctx.study.validation}")))
    if q is None:
        blocks.append(ctx.missing("quality.csv"))
    elif not len(q):
        blocks.append(Block("p", ctx.t("quality_none")))
    else:
        blocks.append(Block("p", ctx.t(ctx.message_id("quality_intro"))))
        q = q.assign(action=q["action"].fillna(""), wave=q["wave"].fillna(""))  # "": not of one wave
        counts = q.groupby(["wave", "issue", "action"], sort=False).size().rename("count").reset_index()
        counts["_w"] = counts["wave"].map({w: i for i, w in enumerate(ctx.waves)})
        counts = counts.sort_values(["_w", "count"], ascending=[True, False])
        blocks.append(ctx.table("quality", ctx.t("t_quality"), counts, [
            (lambda d: d["wave"].map(ctx.wl), ctx.t("wave"), "text"),
            (lambda d: d["issue"].map(lambda v: rt.issue_label(v, ctx.lang)), ctx.t("c_issue"), "text"),
            (lambda d: d["action"].map(lambda v: rt.action_label(v, ctx.lang)), ctx.t("c_action"), "text"),
            ("count", ctx.t("c_count"), "int")]))
    resp = ctx.inp("responses.parquet")
    sm = ctx.inp("scale_map.parquet")
    if resp is None or sm is None:
        blocks.append(ctx.missing("responses.parquet", "scale_map.parquet"))
    else:
        m = resp.merge(sm[["item", "dimension"]], on="item", how="inner")
        if len(m):
            g = m.groupby(["wave", "dimension"], sort=False)["value"]
            tab = pd.DataFrame({"expected": g.size(), "missing": g.apply(lambda x: int(x.isna().sum()))})
            tab = tab.reset_index()
            tab["_w"] = tab["wave"].map({w: i for i, w in enumerate(ctx.waves)})
            tab = tab.sort_values(["_w"], kind="stable")
            total = {"wave": "", "dimension": "", "expected": len(m), "missing": int(m["value"].isna().sum())}
            tab = pd.concat([tab, pd.DataFrame([total])], ignore_index=True)  # the sentence's numbers: a row
            tab["share"] = tab["missing"] / tab["expected"]
            blocks.append(Block("p", ctx.t("missing_sentence", pct=pct(tab["share"].iloc[-1], ctx.lang),
                                            n=integer(total["missing"], ctx.lang),
                                            total=integer(total["expected"], ctx.lang))))
            blocks.append(ctx.table("missing", ctx.t("t_missing"), tab, [
                (lambda d: d["wave"].map(lambda w: ctx.wl(w) if w else ctx.t("all")), ctx.t("wave"), "text"),
                (lambda d: d["dimension"].map(lambda x: ctx.dl(x) if x else ""), ctx.t("dimension"), "text"),
                ("expected", ctx.t("c_expected"), "int"), ("missing", ctx.t("c_missing"), "int"),
                ("share", ctx.t("c_missing_pct"), "share")]))
    return blocks


def _sample_table(ctx, sample: pd.DataFrame) -> Block:
    """The sample flow: who is in each wave (a questionnaire with at least one answer), the blank
    questionnaires left out, and who is in the comparisons (``sample.csv``, made by tidy)."""
    cols = [(lambda d: d["wave"].map(ctx.wl), ctx.t("wave"), "text"),
            (lambda d: d["group"].map(ctx.gl), ctx.t("group"), "text"),
            ("n", ctx.t("c_n"), "int")]
    if "blank" in sample and pd.to_numeric(sample["blank"], errors="coerce").fillna(0).any():
        cols.append(("blank", ctx.t("c_blank"), "int"))
    cols += [("retained", ctx.t("c_retained"), "int"), ("attrition", ctx.t("c_attrition"), "int")]
    if "attrition_share" in sample:
        cols.append(("attrition_share", ctx.t("c_attrition_share"), "share"))
    cols.append(("newcomers", ctx.t("c_newcomers"), "int"))
    if "in_first" in sample and len(ctx.waves) > 2:  # two waves: the same as "retained"
        cols.append(("in_first", ctx.t("c_in_first"), "int"))
    cols.append(("in_all_waves", ctx.t("c_in_all"), "int"))
    return ctx.table("sample", ctx.t("t_sample"), sample, cols)
