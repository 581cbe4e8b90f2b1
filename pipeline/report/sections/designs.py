"""The designs section: measurement invariance, missing network data (roster coverage), comparison
villages (difference-in-differences, baseline balance) and the power of the next program."""

from __future__ import annotations

import pandas as pd

from .. import figures
from .. import text as rt
from ..columns import Column, Fmt
from ..context import Context
from ..model import Block, Finding, isna
from ..numbering import blank_repeats

#: configural fit below this CFI is poor (Chen 2007), as the summary says
POOR_CFI = 0.90
#: the power a design should reach
POWER = 0.8
#: a standardized mean difference above this is an imbalance at baseline
SMD_IMBALANCE = 0.25

PLAN_COLUMNS = [
    Column("test", "plan_c_test", Fmt.CODE, code="plan_t"), Column("respondents_per_village", "plan_c_n", Fmt.INT),
    Column("power", "plan_c_power", Fmt.SHARE), Column("mc_se", "plan_c_se", Fmt.SHARE)]
COVERAGE_COLUMNS = [
    Column("site", "cov_c_site"), Column("wave", "wave", Fmt.WAVE), Column("tie_type", "did_c_tie", Fmt.TIE),
    Column("coverage", "cov_c_cov", Fmt.SHARE), Column("n_nonrespondents", "cov_c_non", Fmt.INT),
    Column("ties_to_nonrespondents", "cov_c_to", Fmt.INT), Column("ei_observed", "cov_c_ei", Fmt.N3),
    Column("ei_low", "cov_c_lo", Fmt.N3), Column("ei_high", "cov_c_hi", Fmt.N3),
    Column("ei_reconstructed", "cov_c_rec", Fmt.N3), Column("assortativity_observed", "cov_c_r", Fmt.N3),
    Column("assortativity_reconstructed", "cov_c_rrec", Fmt.N3), Column("warning_mark", "cov_c_warn")]
INVARIANCE_COLUMNS = [
    Column("dimension", "dimension", Fmt.DIMENSION), Column("compared", "inv_c_groups"),
    Column("level", "inv_c_level", Fmt.CODE, code="inv_l"), Column("n", "c_n", Fmt.INT),
    Column("chisq", "c_chisq", Fmt.N2), Column("df", "c_df", Fmt.INT), Column("cfi", "c_cfi", Fmt.N3, digits="_cd"),
    Column("rmsea", "c_rmsea", Fmt.N3), Column("delta_cfi", "c_delta_cfi", Fmt.N3),
    Column("delta_rmsea", "c_delta_rmsea", Fmt.N3), Column("holds_text", "inv_c_holds")]
DID_COLUMNS = [
    Column("outcome", "dimension"), Column("tie_type", "did_c_tie", Fmt.TIE),
    Column("method", "c_method", Fmt.CODE, code="did_m"), Column("estimate", "c_estimate", Fmt.N3),
    Column("se", "c_se_short", Fmt.N3), Column("ci_text", "ci95", Fmt.RIGHT), Column("p_val", "c_p", Fmt.P),
    Column("n_obs", "c_n", Fmt.INT)]
DID_VILLAGE_COLUMNS = [
    Column("dimension", "did_c_outcome", Fmt.CODE, code="did_v"), Column("tie_type", "did_c_tie", Fmt.TIE),
    Column("estimate", "c_estimate", Fmt.N3), Column("ci_text", "ci95", Fmt.RIGHT), Column("p_val", "c_p", Fmt.P),
    Column("n_clusters", "did_c_villages", Fmt.INT)]
BALANCE_COLUMNS = [
    Column("variable_text", "bal_c_var"), Column("mean_program", "bal_c_prog", Fmt.N2),
    Column("mean_comparison", "bal_c_comp", Fmt.N2), Column("smd", "c_smd", Fmt.N2), Column("p_ri", "bal_c_p", Fmt.P),
    Column("n_program", "c_n_program", Fmt.INT), Column("n_comparison", "c_n_comparison", Fmt.INT)]


def section(ctx: Context) -> list[Block]:
    """The evaluation design: invariance, coverage, comparison villages and the next program's power.

    Reads ``invariance.csv``, ``network_coverage.csv``, ``did.csv``, ``balance.csv`` and
    ``plan.csv``. Prints the tables ``invariance``, ``coverage``, ``did``, ``did_village``,
    ``balance`` and ``plan`` and the figure ``plan_power``, each where the study has it; a note
    says what a part lacks.
    """
    return _invariance_blocks(ctx) + _coverage_blocks(ctx) + _did_blocks(ctx) + _plan_blocks(ctx)


def _plan_blocks(ctx: Context) -> list[Block]:
    words = ctx.words
    head = Block("h3", words.text("plan_head"))
    pl = ctx.inputs("plan.csv")
    if (pl is None or not len(pl)) and not ctx.shape.umkm:
        return []  # `make plan` simulates the demo's village program: not offered to another study
    if pl is None or not len(pl):
        return [head, Block("note", words.text("plan_none"))]
    s0, r0 = ctx.study.plan, pl.iloc[0]
    blocks = [head, Block("p", words.text(
        "plan_intro", vp=words.integer(r0["villages_program"]), vc=words.integer(r0["villages_comparison"]),
        es=words.number(r0["effect_scale"], 2), et=words.number(r0["effect_cross_ties"], 2),
        sims=words.integer(r0["sims"]), part=words.share(s0.participation), att=words.share(s0.attrition),
        rr=words.share(s0.response_rate), alpha=words.number(r0["alpha"], 2)))]
    blocks += [Block("p", _plan_sentence(ctx, pl[pl["test"] == test])) for test in pd.unique(pl["test"])]
    blocks.append(ctx.numbering.table("plan", words.text("t_plan"), pl, PLAN_COLUMNS))
    blocks.append(ctx.numbering.figure("plan_power", words.text("plan_fig"), _plan_figure(ctx, pl)))
    return blocks


def _plan_sentence(ctx: Context, part: pd.DataFrame) -> str:
    """One test's power: the smallest village size reaching 80 %, else the largest power reached."""
    words = ctx.words
    ok = part[part["power"] >= POWER]
    note = part["note"].dropna()
    if len(note) and str(note.iloc[0]):
        key, n = "plan_sent_never", ""
    elif len(ok):
        key, n = "plan_sent_ok", words.integer(ok["respondents_per_village"].min())
    else:
        key, n = "plan_sent_short", words.integer(part["respondents_per_village"].max())
    test = part["test"].iloc[0]
    return words.text(key, test=words.text(f"plan_t_{test}"), n=n, pmax=words.share(part["power"].max()))


def _plan_figure(ctx: Context, pl: pd.DataFrame):
    """Power against the village size, one line per test, 80 % dashed."""
    fig, ax = figures.plt.subplots(figsize=(6.0, 3.6))
    for test in pd.unique(pl["test"]):
        part = pl[pl["test"] == test]
        ax.plot(part["respondents_per_village"], part["power"], marker="o", label=ctx.words.text(f"plan_t_{test}"))
    ax.axhline(POWER, color="grey", lw=0.8, ls="--")
    ax.set_ylim(-0.02, 1.02)
    ax.set_xlabel(ctx.words.text("plan_c_n"))
    ax.set_ylabel(ctx.words.text("plan_c_power"))
    ax.legend(fontsize=7, loc="lower right")
    return fig


def _coverage_blocks(ctx: Context) -> list[Block]:
    words = ctx.words
    head = Block("h3", words.text("cov_head"))
    cov = ctx.inputs("network_coverage.csv")
    if cov is None:
        return [head, ctx.missing("network_coverage.csv")]
    if ctx.shape.no_ties:
        return [head, Block("note", ctx.no_network_text())]
    if not len(cov):
        return [head, Block("note", words.text("cov_none"))]
    thr = float(cov["min_coverage"].iloc[0])
    blocks = [head, Block("p", words.study_text("cov_intro"))]
    for _, r in cov[cov["tie_type"] == "any"].iterrows():
        key = "cov_warn" if str(r["warning"]) == "True" else "cov_ok"
        if ctx.shape.one_group:  # no E-I to bound: coverage only
            key += "_one_group"
        blocks.append(Block("note" if key == "cov_warn" else "p", words.text(
            key, site=str(r["site"]), wave=words.wave(r["wave"]), cov=words.share(r["coverage"]),
            thr=words.share(thr), n=words.integer(r["n_nonrespondents"]),
            ties=words.integer(r["ties_to_nonrespondents"]), ei=words.number(r["ei_observed"], 2),
            lo=words.number(r["ei_low"], 2), hi=words.number(r["ei_high"], 2),
            rec=words.number(r["ei_reconstructed"], 2))))
    cov["warning_mark"] = cov["warning"].map(lambda v: "⚠" if str(v) == "True" else "")
    blocks.append(ctx.numbering.table("coverage", words.text("t_coverage"), cov, COVERAGE_COLUMNS,
                                      note=words.text("cov_table_note", thr=words.share(thr))))
    return blocks


def _compared(ctx: Context, groups: str, comparison: str) -> list[str]:
    """The two groups or waves an invariance row compares (``groups``: ``a|b``), by their labels."""
    label = ctx.words.group if comparison == "groups" else ctx.words.wave
    return [label(x) for x in str(groups).split("|")]


def _invariance_finding(ctx: Context, dim: str, comp: str, part: pd.DataFrame) -> Finding:
    """Whether a dimension measures the same thing in the two groups or waves (configural fit first)."""
    words = ctx.words
    r = part.iloc[0]
    names = _compared(ctx, r["groups"], comp)
    conf = part[part["level"] == "configural"].iloc[0]
    text = words.text(f"inv_v_{r['verdict']}", dim=words.dimension(str(dim)), a=names[0], b=names[-1],
                      cfi=words.number(conf["cfi"], rt.cut_digits(conf["cfi"], POOR_CFI)),
                      n=words.integer(conf["n"]), note=_inv_note(ctx, r))
    return Finding(text, {"kind": "invariance", "dimension": str(dim), "comparison": str(comp),
                          "verdict": str(r["verdict"])})


def _invariance_blocks(ctx: Context) -> list[Block]:
    words = ctx.words
    head = Block("h3", words.text("inv_head"))
    inv = ctx.inputs("invariance.csv")
    if inv is None:
        return [head, ctx.missing("invariance.csv")]
    if not len(inv):
        return [head, Block("note", words.text("inv_none"))]
    blocks = [head, Block("p", words.study_text("inv_intro"))] + _invariance_scope(ctx, inv)
    findings = [_invariance_finding(ctx, dim, comp, part)
                for (dim, comp), part in inv.groupby(["dimension", "comparison"], sort=False)]
    blocks.append(Block("list", items=findings))
    if inv["note"].astype("string").fillna("").str.split(";").map(lambda codes: "heywood" in codes).any():
        blocks.append(Block("note", words.text("inv_heywood")))
    inv = inv.assign(_cd=[rt.cut_digits(x, POOR_CFI) for x in inv["cfi"]],  # the CFI as the summary prints it
                     compared=[" / ".join(_compared(ctx, x, c)) for x, c in zip(inv["groups"], inv["comparison"])],
                     holds_text=[words.text("yes") if str(v) == "True" else words.text("no") for v in inv["holds"]])
    blocks.append(blank_repeats(ctx.numbering.table("invariance", words.text("t_invariance"), inv, INVARIANCE_COLUMNS,
                                                    note=words.text("inv_table_note"))))
    return blocks


def _invariance_scope(ctx: Context, inv: pd.DataFrame) -> list[Block]:
    """A note naming the groups (beyond two) and waves (between the first and the last) that the
    two-sample invariance comparisons leave out."""
    words, shape = ctx.words, ctx.shape
    out = []
    for comp, present, label, key in (("groups", shape.present_levels, words.group, "inv_scope_groups"),
                                      ("waves", shape.data_waves, words.wave, "inv_scope_waves")):
        rows = inv[inv["comparison"] == comp]
        if not len(rows):
            continue
        compared = str(rows["groups"].iloc[0]).split("|")
        left = [v for v in present if v not in compared]
        if left:
            out.append(Block("note", words.text(key, a=label(compared[0]), b=label(compared[-1]),
                                                left=words.join([label(v) for v in left]))))
    return out


def _did_blocks(ctx: Context) -> list[Block]:
    words = ctx.words
    head = Block("h3", words.study_text("did_head"))
    if not ctx.study.arms and not getattr(ctx.study.source, "comparison_villages", 0):
        return [head, Block("note", words.study_text("did_none"))]
    did = ctx.inputs("did.csv")
    if did is None:
        return [head, ctx.missing("did.csv")]
    if not len(did):
        return [head, Block("note", words.study_text("did_none"))]
    blocks = [head] + _did_intro(ctx, did)
    findings = _did_findings(ctx, did)
    if findings:
        blocks.append(Block("list", items=findings))
    rows = did[did["kind"].isin(["scale", "node"])]
    rows = rows.assign(ci_text=_ci_texts(ctx, rows), outcome=[
        words.dimension(x) if kind == "scale" else words.text(f"did_node_{x}")
        for x, kind in zip(rows["dimension"], rows["kind"])])
    blocks.append(blank_repeats(ctx.numbering.table("did", words.text("t_did"), rows, DID_COLUMNS,
                                                    note=words.text("did_table_note"))))
    vil = did[did["kind"] == "village"]
    if len(vil):
        vil = vil.assign(ci_text=_ci_texts(ctx, vil))
        blocks.append(ctx.numbering.table("did_village", words.text("t_did_village"), vil, DID_VILLAGE_COLUMNS,
                                          note=words.text("did_village_note")))
    return blocks + _balance_blocks(ctx)


def _ci_texts(ctx: Context, df: pd.DataFrame) -> list[str]:
    """The 95 % CIs of ``df`` as text with 3 decimals ("" where there is none)."""
    number = ctx.words.number
    return [f"[{number(a, 3)}; {number(b, 3)}]" if not isna(a) else "" for a, b in zip(df["ci_low"], df["ci_high"])]


def _did_intro(ctx: Context, did: pd.DataFrame) -> list[Block]:
    """How many villages, how many of them with the program, and the smallest p the
    randomization inference can give (with a warning when it cannot reach alpha)."""
    words = ctx.words
    ri = did[did["method"] == "did_ri"]
    g, gp = int(did.iloc[0]["n_clusters"]), int(did.iloc[0]["n_program_clusters"])
    k = int(ri["n_assignments"].max()) if len(ri) else 0
    blocks = [Block("p", words.text("did_intro", g=words.integer(g), gp=words.integer(gp), gc=words.integer(g - gp),
                                    k=words.integer(k), pmin=words.number(1 / k if k else float("nan"), 3),
                                    seed=str(ctx.study.analysis.seed)))]
    if k and 1 / k > ctx.shape.alpha:
        blocks.append(Block("note", words.text("did_too_few", g=words.integer(g), pmin=words.number(1 / k, 3),
                                               alpha=words.number(ctx.shape.alpha, 2))))
    return blocks


def _did_findings(ctx: Context, did: pd.DataFrame) -> list[Finding]:
    """One sentence per dimension and per network indicator of the any-tie network: the
    randomization-inference estimate, and the mixed model's beside it."""
    words, alpha = ctx.words, ctx.shape.alpha
    findings = []
    ri = did[did["method"] == "did_ri"]
    for _, r in ri[ri["kind"].isin(["scale", "node"])].iterrows():
        dim = str(r["dimension"])
        if (r["kind"] == "scale" and "_" in dim) or (r["kind"] == "node" and str(r["tie_type"]) != "any"):
            continue  # sentences for dimensions and the any-tie network indicators only
        mixed = did[(did["method"] == "did_mixed") & (did["dimension"] == r["dimension"])
                    & (did["tie_type"].fillna("") == ("" if isna(r["tie_type"]) else r["tie_type"]))]
        m = mixed.iloc[0] if len(mixed) else None
        if r["p_min"] > alpha:
            key = "did_sent_descr"
        elif r["p_val"] < alpha and (r["ci_low"] > 0 or r["ci_high"] < 0):
            key = "did_sent_sig_up" if r["estimate"] > 0 else "did_sent_sig_down"
        else:
            key = "did_sent_unsure"
        what = words.dimension(dim) if r["kind"] == "scale" else words.text(f"did_node_{dim}")
        findings.append(Finding(words.text(
            key, what=what, est=words.number(r["estimate"], 2, sign=True), lo=words.number(r["ci_low"], 2),
            hi=words.number(r["ci_high"], 2), p=words.p_equals(r["p_val"]),
            mest=words.number(m["estimate"], 2, sign=True) if m is not None else "–",
            mlo=words.number(m["ci_low"], 2) if m is not None else "–",
            mhi=words.number(m["ci_high"], 2) if m is not None else "–"),
            {"kind": "did", "dimension": dim, "verdict": key}))
    return findings


def _balance_blocks(ctx: Context) -> list[Block]:
    """The program and comparison villages at baseline: means, SMD and the randomization p."""
    bal = ctx.inputs("balance.csv")
    if bal is None or not len(bal):
        return []
    words = ctx.words
    n_imb = int((bal["smd"].abs() > SMD_IMBALANCE).sum())
    text = words.text("bal_intro", wave=words.wave(ctx.shape.waves[0])) + " " + (
        words.text("bal_ok") if n_imb == 0 else words.text("bal_bad", n=words.integer(n_imb)))
    bal["variable_text"] = bal["variable"].map(lambda v: _bal_label(ctx, v))
    return [Block("p", text), ctx.numbering.table("balance", words.text("t_balance"), bal, BALANCE_COLUMNS)]


def _bal_label(ctx: Context, v: str) -> str:
    """A balance variable: a group's share, the degree, a catalogue name, else a dimension."""
    words, v = ctx.words, str(v)
    if v.startswith("share_"):
        return words.text("bal_share", g=words.group(v[len("share_"):]))
    if v == "degree_any":
        return words.text("did_node_degree")
    return words.text(f"bal_{v}") if words.has(f"bal_{v}") else words.dimension(v)


def _inv_note(ctx: Context, r: pd.Series) -> str:
    """An invariance.csv ``note`` (codes joined by ``;``) in the report language."""
    if isna(r["note"]) or not str(r["note"]):
        return ""
    words = ctx.words
    kw = {k: words.integer(r[k]) if k in r and not isna(r[k]) else "–" for k in ("n_min", "n_needed")}
    return "; ".join(words.code_label("inv_note", c, items=words.integer(r["n_items"]), **kw)
                     for c in str(r["note"]).split(";"))
