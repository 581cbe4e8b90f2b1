"""The collective section."""

from __future__ import annotations

import pandas as pd

from .. import text as rt
from ..model import Block, Finding, Unavailable
from ..text import integer


def _claim(ctx, claim) -> str:
    key = f"claim_{claim}"
    return ctx.t(key) if key in rt.STRINGS[ctx.lang] else str(claim)


def _note(ctx, r) -> str:
    """The ``note`` code of a collective.csv row in the report language (its numbers from the row)."""
    def count(x):
        return "–" if pd.isna(x) else integer(x, ctx.lang)

    exposure = str(r.get("exposure", ""))  # named by its label, never by the variable's name
    if f"practice_{exposure}" in rt.STRINGS[ctx.lang]:
        exposure = ctx.t(f"practice_{exposure}")
    return rt.code_label("coll_note", r["note"], ctx.lang, exposure=exposure, n1=count(r.get("n_exposed")),
                         n0=count(r.get("n_unexposed")), claim=_claim(ctx, r["claim"]),
                         missing=str(r.get("missing", "")).replace(",", ", "))


def section(ctx) -> list[Block]:
    coll = ctx.inp("collective.csv")
    if coll is None:
        raise Unavailable(ctx.missing("collective.csv"))
    ok = coll[coll["wave"].notna()]
    resp = ctx.inp("respondents.parquet")
    practices = [c for c in ("joint_purchasing", "collective_brand", "shared_storage", "emergency_fund")
                 if resp is not None and c in resp.columns]
    if not len(ok) and not practices:  # none of the variables: one line, no literature, no empty table
        return [Block("note", ctx.t("coll_none"))]
    blocks = [Block("p", ctx.t("coll_intro"))]
    findings = []
    for _, r in ok.iterrows():
        key = f"claim_{r['claim']}"
        claim = ctx.t(key) if key in rt.STRINGS[ctx.lang] else str(r["claim"])
        v = rt.verdict(r["estimate"], r["ci_low"], r["ci_high"], r["p_val"], ctx.alpha)
        vt = ctx.t("coll_sig") if v == "sig" else ctx.t("coll_unsure")
        findings.append(Finding(ctx.t("coll_sentence", claim=claim, wave=ctx.wl(r["wave"]),
                                       est=ctx.n(r["estimate"], 3), ci=ctx.t("ci95"), lo=ctx.n(r["ci_low"], 3),
                                       to=ctx.t("to"), hi=ctx.n(r["ci_high"], 3),
                                       p=rt.peq(r["p_val"], ctx.lang), n=integer(r["n"], ctx.lang),
                                       verdict=vt),
                                {"kind": "collective", "claim": str(r["claim"]), "wave": str(r["wave"]),
                                 "verdict": v}))
    if findings:
        blocks.append(Block("list", items=findings))
    for _, r in coll[coll["wave"].isna()].iterrows():
        blocks.append(Block("note", _note(ctx, r)))
    ok = ok.assign(note_text=[_note(ctx, r) for _, r in ok.iterrows()])
    blocks.append(ctx.table("collective", ctx.t("t_collective"), ok, [
        (lambda d: d["claim"].map(lambda c: ctx.t(f"claim_{c}") if f"claim_{c}" in rt.STRINGS[ctx.lang] else c),
         ctx.t("c_claim"), "text"),
        (lambda d: d["wave"].map(ctx.wl), ctx.t("wave"), "text"), ("n", "n", "int"),
        ("estimate", ctx.t("c_estimate"), "n3"), (("ci_low", "ci_high"), ctx.t("ci95"), "ci3"),
        ("p_val", ctx.t("c_p"), "p"), ("note_text", ctx.t("c_note"), "text")]))
    resp = ctx.inp("respondents.parquet")
    cols_present = [c for c in ("joint_purchasing", "collective_brand", "shared_storage", "emergency_fund")
                    if resp is not None and c in resp.columns]
    if resp is not None and cols_present:
        rows = []
        for w in ctx.waves:
            for g in ["all", *ctx.levels]:
                part = resp[(resp["wave"] == w) & ((resp["group"] == g) if g != "all" else True)]
                if not len(part):
                    continue
                row = {"wave": w, "group": g, "n": len(part)}
                for c in cols_present:
                    row[c] = pd.to_numeric(part[c], errors="coerce").mean()
                if "digital_channels_n" in part:
                    row["digital"] = (pd.to_numeric(part["digital_channels_n"], errors="coerce") > 0).mean()
                for c in ("revenue", "input_costs"):
                    if c in part:
                        row[c] = pd.to_numeric(part[c], errors="coerce").median()
                rows.append(row)
        tab = pd.DataFrame(rows)
        cols = [(lambda d: d["wave"].map(ctx.wl), ctx.t("wave"), "text"),
                (lambda d: d["group"].map(ctx.gl), ctx.t("group"), "text"), ("n", "n", "int")]
        cols += [(c, ctx.t(f"practice_{c}"), "share") for c in cols_present]
        if "digital" in tab:
            cols.append(("digital", ctx.t("practice_digital"), "share"))
        for c in ("revenue", "input_costs"):
            if c in tab:
                cols.append((c, ctx.t(f"c_{c}"), "int"))
        blocks.append(ctx.table("practices", ctx.t("t_practices"), tab, cols))
    return blocks
