"""The collective section: the collective-action claims tested on the follow-up (``collective.csv``)
and the shares of the collective practices per wave and group (``respondents.parquet``)."""

from __future__ import annotations

import pandas as pd

from .. import text as rt
from ..columns import Column, Fmt
from ..context import Context
from ..model import Block, Finding, Unavailable

#: the instrument's collective practices (yes/no questions), in the order the table shows them
PRACTICES = ("joint_purchasing", "collective_brand", "shared_storage", "emergency_fund")
#: business outcomes shown by their median
OUTCOMES = ("revenue", "input_costs")
#: each claim's test
CLAIM_COLUMNS = [
    Column("claim", "c_claim", Fmt.CODE, code="claim"), Column("wave", "wave", Fmt.WAVE), Column("n", "c_n", Fmt.INT),
    Column("estimate", "c_estimate", Fmt.N3), Column(("ci_low", "ci_high"), "ci95", Fmt.CI3),
    Column("p_val", "c_p", Fmt.P), Column("note_text", "c_note")]


def section(ctx: Context) -> list[Block]:
    """Collective action and business outcomes.

    Reads ``collective.csv`` (required) and ``respondents.parquet``. Prints the tables
    ``collective`` and ``practices``; a study with none of the instrument's practices gets one
    line.
    """
    coll = ctx.inputs("collective.csv")
    if coll is None:
        raise Unavailable(ctx.missing("collective.csv"))
    words = ctx.words
    ok = coll[coll["wave"].notna()]
    resp = ctx.inputs("respondents.parquet")
    practices = [c for c in PRACTICES if resp is not None and c in resp.columns]
    if not len(ok) and not practices:  # none of the variables: one line, no literature, no empty table
        return [Block("note", words.text("coll_none"))]
    blocks = [Block("p", words.text("coll_intro"))]
    findings = [_finding(ctx, r) for _, r in ok.iterrows()]
    if findings:
        blocks.append(Block("list", items=findings))
    for _, r in coll[coll["wave"].isna()].iterrows():
        blocks.append(Block("note", _note(ctx, r)))
    ok = ok.assign(note_text=[_note(ctx, r) for _, r in ok.iterrows()])
    blocks.append(ctx.numbering.table("collective", words.text("t_collective"), ok, CLAIM_COLUMNS))
    if practices:
        table, cols = _practices(ctx, resp, practices)
        blocks.append(ctx.numbering.table("practices", words.text("t_practices"), table, cols))
    return blocks


def _finding(ctx: Context, r: pd.Series) -> Finding:
    """One claim tested: its estimate, CI, p and verdict."""
    words = ctx.words
    v = rt.verdict(r["estimate"], r["ci_low"], r["ci_high"], r["p_val"], ctx.shape.alpha)
    text = words.text("coll_sentence", claim=words.code_label("claim", r["claim"]), wave=words.wave(r["wave"]),
                      est=words.number(r["estimate"], 3), ci=words.text("ci95"), lo=words.number(r["ci_low"], 3),
                      to=words.text("to"), hi=words.number(r["ci_high"], 3), p=words.p_equals(r["p_val"]),
                      n=words.integer(r["n"]), verdict=words.text("coll_sig" if v == "sig" else "coll_unsure"))
    return Finding(text, {"kind": "collective", "claim": str(r["claim"]), "wave": str(r["wave"]), "verdict": v})


def _note(ctx: Context, r: pd.Series) -> str:
    """The ``note`` code of a collective.csv row in the report language (its numbers from the row)."""
    words = ctx.words

    def count(x):
        return "–" if pd.isna(x) else words.integer(x)

    exposure = str(r.get("exposure", ""))  # named by its label, never by the variable's name
    if words.has(f"practice_{exposure}"):
        exposure = words.text(f"practice_{exposure}")
    return words.code_label("coll_note", r["note"], exposure=exposure, n1=count(r.get("n_exposed")),
                            n0=count(r.get("n_unexposed")), claim=words.code_label("claim", r["claim"]),
                            missing=str(r.get("missing", "")).replace(",", ", "))


def _practices(ctx: Context, resp: pd.DataFrame, practices: list[str]) -> tuple[pd.DataFrame, list[Column]]:
    """Per wave and group (everyone first): the share doing each practice, the share selling
    through a digital channel, and the median outcomes; the columns to print them."""
    rows = []
    for w in ctx.shape.waves:
        for g in ["all", *ctx.shape.levels]:
            part = resp[(resp["wave"] == w) & ((resp["group"] == g) if g != "all" else True)]
            if not len(part):
                continue
            row = {"wave": w, "group": g, "n": len(part)}
            for c in practices:
                row[c] = pd.to_numeric(part[c], errors="coerce").mean()
            if "digital_channels_n" in part:
                row["digital"] = (pd.to_numeric(part["digital_channels_n"], errors="coerce") > 0).mean()
            for c in OUTCOMES:
                if c in part:
                    row[c] = pd.to_numeric(part[c], errors="coerce").median()
            rows.append(row)
    table = pd.DataFrame(rows)
    cols = [Column("wave", "wave", Fmt.WAVE), Column("group", "group", Fmt.GROUP), Column("n", "c_n", Fmt.INT)]
    cols += [Column(c, f"practice_{c}", Fmt.SHARE) for c in practices]
    if "digital" in table:
        cols.append(Column("digital", "practice_digital", Fmt.SHARE))
    cols += [Column(c, f"c_{c}", Fmt.INT) for c in OUTCOMES if c in table]
    return table, cols
