"""The data section: who answered in each wave (the sample flow), what the quality checks did, and
how many answers are missing."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..columns import Column, Fmt
from ..context import Context
from ..inputs import category_codes
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
    sm = ctx.inputs("scale_map.parquet")
    if not ctx.inputs.has("responses.parquet") or sm is None:
        return [ctx.missing("responses.parquet", "scale_map.parquet")]
    counts = ctx.inputs.memo("missing answers", lambda: missing_answers(
        ctx.inputs.batches("responses.parquet", ["wave", "item", "value"]), sm))
    if counts is None:
        return []
    tab, total = counts
    words = ctx.words
    tab = ctx.shape.study_order(tab, "wave", "dimension")  # not the order the answers' rows come in
    tab = pd.concat([tab, pd.DataFrame([total])], ignore_index=True)  # the sentence's numbers: a row
    tab["share"] = tab["missing"] / tab["expected"]
    tab["wave_text"] = [words.wave(w) if w else words.text("all") for w in tab["wave"]]
    tab["dimension_text"] = [words.dimension(x) if x else "" for x in tab["dimension"]]
    sentence = words.text("missing_sentence", pct=words.share(tab["share"].iloc[-1]),
                          n=words.integer(total["missing"]), total=words.integer(total["expected"]))
    return [Block("p", sentence), ctx.numbering.table("missing", words.text("t_missing"), tab, MISSING_COLUMNS)]


def missing_answers(batches, scale_map: pd.DataFrame) -> tuple[pd.DataFrame, dict] | None:
    """The scale answers expected and missing per wave and dimension, from the answers in batches.

    Parameters
    ----------
    batches : iterable of DataFrame
        ``responses`` (``wave``, ``item``, ``value``) in order, a batch at a time
        (:meth:`Inputs.batches`; text columns may be categoricals).
    scale_map : DataFrame
        ``item``, ``dimension``: an answer counts for each dimension its item has in the map.

    Returns
    -------
    (DataFrame, dict) or None
        ``wave``, ``dimension``, ``expected`` (answers), ``missing`` (of them NaN), one row per
        wave × dimension in the order they first appear in the answers (those with a wave and a
        dimension); and the totals over every answer of a mapped item (``wave`` and ``dimension``
        "", ``expected``, ``missing``). None without any answer of a mapped item.
    """
    sm = scale_map[["item", "dimension"]].reset_index(drop=True)
    items = pd.Index(pd.unique(sm["item"].dropna().astype(str)), dtype=object)
    mult = np.bincount(np.maximum(category_codes(sm["item"], items), 0)[sm["item"].notna().to_numpy()],
                       minlength=len(items))  # scale-map rows per item
    waves: dict[str, int] = {}
    stats: dict[int, list[int]] = {}  # wave × item key → [first answer, answers, missing]
    seen, expected, missing = 0, 0, 0
    for part in batches:
        item = category_codes(part["item"], items)
        nan = np.isnan(pd.to_numeric(part["value"], errors="coerce").to_numpy("float64"))
        mapped = item >= 0
        expected += int(mult[item[mapped]].sum())
        missing += int(mult[item[mapped & nan]].sum())
        wave = part["wave"] if isinstance(part["wave"].dtype, pd.CategoricalDtype) else part["wave"].astype("category")
        names = [str(c) for c in wave.cat.categories]
        wcode = np.array([waves.setdefault(n, len(waves)) for n in names] + [-1], dtype=np.int64)
        w = wcode[wave.cat.codes.to_numpy()]  # code −1 (missing wave): the appended −1
        ok = mapped & (w >= 0)
        key = w[ok] * len(items) + item[ok]
        keys, first, inverse = np.unique(key, return_index=True, return_inverse=True)
        size = np.bincount(inverse, minlength=len(keys))
        miss = np.bincount(inverse, weights=nan[ok], minlength=len(keys)).astype(np.int64)
        at = np.flatnonzero(ok)
        for k, f, n, m in zip(keys.tolist(), at[first].tolist(), size.tolist(), miss.tolist()):
            if k in stats:
                stats[k][1] += n
                stats[k][2] += m
            else:
                stats[k] = [seen + f, n, m]
        seen += len(part)
    if not expected:
        return None
    wave_names = list(waves)
    pairs = pd.DataFrame([(f, wave_names[k // len(items)], items[k % len(items)], n, m)
                          for k, (f, n, m) in stats.items()], columns=["first", "wave", "item", "expected", "missing"])
    rows = pairs.merge(sm.assign(at=np.arange(len(sm)), item=sm["item"].astype(str)), on="item", how="inner")
    rows = rows.sort_values(["first", "at"], kind="stable")  # the order of the answers' rows (then the map's)
    tab = rows.groupby(["wave", "dimension"], sort=False)[["expected", "missing"]].sum().reset_index()
    return tab, {"wave": "", "dimension": "", "expected": expected, "missing": missing}
