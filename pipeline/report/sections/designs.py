"""The designs section."""

from __future__ import annotations

import pandas as pd

from .. import text as rt
from ..model import Block, Finding, isna as _isna
from ..text import integer, pct


def section(ctx) -> list[Block]:
    return _invariance_blocks(ctx) + _coverage_blocks(ctx) + _did_blocks(ctx) + _plan_blocks(ctx)


def _plan_blocks(ctx) -> list[Block]:
    head = Block("h3", ctx.t("plan_head"))
    pl = ctx.inp("plan.csv")
    if (pl is None or not len(pl)) and not ctx.umkm:
        return []  # `make plan` simulates the demo's village program: not offered to another study
    if pl is None or not len(pl):
        return [head, Block("note", ctx.t("plan_none"))]
    s0 = ctx.study.plan
    r0 = pl.iloc[0]
    blocks = [head, Block("p", ctx.t(
        "plan_intro", vp=integer(r0["villages_program"], ctx.lang), vc=integer(r0["villages_comparison"], ctx.lang),
        es=ctx.n(r0["effect_scale"], 2), et=ctx.n(r0["effect_cross_ties"], 2), sims=integer(r0["sims"], ctx.lang),
        part=pct(s0.participation, ctx.lang), att=pct(s0.attrition, ctx.lang), rr=pct(s0.response_rate, ctx.lang),
        alpha=ctx.n(r0["alpha"], 2)))]
    for test in pd.unique(pl["test"]):
        part = pl[pl["test"] == test]
        ok = part[part["power"] >= 0.8]
        note = part["note"].dropna()
        if len(note) and str(note.iloc[0]):
            key, n = "plan_sent_never", ""
        elif len(ok):
            key, n = "plan_sent_ok", integer(ok["respondents_per_village"].min(), ctx.lang)
        else:
            key, n = "plan_sent_short", integer(part["respondents_per_village"].max(), ctx.lang)
        blocks.append(Block("p", ctx.t(key, test=ctx.t(f"plan_t_{test}"), n=n,
                                        pmax=pct(part["power"].max(), ctx.lang))))
    blocks.append(ctx.table("plan", ctx.t("t_plan"), pl, [
        (lambda d: d["test"].map(lambda v: ctx.t(f"plan_t_{v}")), ctx.t("plan_c_test"), "text"),
        ("respondents_per_village", ctx.t("plan_c_n"), "int"), ("power", ctx.t("plan_c_power"), "share"),
        ("mc_se", ctx.t("plan_c_se"), "share")]))
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.0, 3.6))
    for test in pd.unique(pl["test"]):
        part = pl[pl["test"] == test]
        ax.plot(part["respondents_per_village"], part["power"], marker="o", label=ctx.t(f"plan_t_{test}"))
    ax.axhline(0.8, color="grey", lw=0.8, ls="--")
    ax.set_ylim(-0.02, 1.02)
    ax.set_xlabel(ctx.t("plan_c_n"))
    ax.set_ylabel(ctx.t("plan_c_power"))
    ax.legend(fontsize=7, loc="lower right")
    blocks.append(ctx.figure("plan_power", ctx.t("plan_fig"), fig))
    return blocks


def _coverage_blocks(ctx) -> list[Block]:
    head = Block("h3", ctx.t("cov_head"))
    cov = ctx.inp("network_coverage.csv")
    if cov is None:
        return [head, ctx.missing("network_coverage.csv")]
    if ctx.no_ties:
        return [head, Block("note", ctx.no_network_text())]
    if not len(cov):
        return [head, Block("note", ctx.t("cov_none"))]
    thr = float(cov["min_coverage"].iloc[0])
    blocks = [head, Block("p", ctx.t(ctx.message_id("cov_intro")))]
    any_rows = cov[cov["tie_type"] == "any"]
    for _, r in any_rows.iterrows():
        key = "cov_warn" if str(r["warning"]) == "True" else "cov_ok"
        if ctx.one_group:  # no E-I to bound: coverage only
            key += "_one_group"
        blocks.append(Block("note" if key == "cov_warn" else "p", ctx.t(
            key, site=str(r["site"]), wave=ctx.wl(r["wave"]), cov=pct(r["coverage"], ctx.lang),
            thr=pct(thr, ctx.lang), n=integer(r["n_nonrespondents"], ctx.lang),
            ties=integer(r["ties_to_nonrespondents"], ctx.lang), ei=ctx.n(r["ei_observed"], 2),
            lo=ctx.n(r["ei_low"], 2), hi=ctx.n(r["ei_high"], 2), rec=ctx.n(r["ei_reconstructed"], 2))))
    blocks.append(ctx.table("coverage", ctx.t("t_coverage"), cov, [
        ("site", ctx.t(ctx.message_id("cov_c_site")), "text"), (lambda d: d["wave"].map(ctx.wl), ctx.t("wave"), "text"),
        (lambda d: d["tie_type"].map(lambda v: ctx.tl(str(v))), ctx.t("did_c_tie"), "text"),
        ("coverage", ctx.t("cov_c_cov"), "share"), ("n_nonrespondents", ctx.t("cov_c_non"), "int"),
        ("ties_to_nonrespondents", ctx.t("cov_c_to"), "int"),
        ("ei_observed", ctx.t("cov_c_ei"), "n3"), ("ei_low", ctx.t("cov_c_lo"), "n3"),
        ("ei_high", ctx.t("cov_c_hi"), "n3"), ("ei_reconstructed", ctx.t("cov_c_rec"), "n3"),
        ("assortativity_observed", ctx.t("cov_c_r"), "n3"),
        ("assortativity_reconstructed", ctx.t("cov_c_rrec"), "n3"),
        (lambda d: d["warning"].map(lambda v: "⚠" if str(v) == "True" else ""), ctx.t("cov_c_warn"), "text")],
        note=ctx.t("cov_table_note", thr=pct(thr, ctx.lang))))
    return blocks


def _invariance_blocks(ctx) -> list[Block]:
    head = Block("h3", ctx.t("inv_head"))
    inv = ctx.inp("invariance.csv")
    if inv is None:
        return [head, ctx.missing("invariance.csv")]
    if not len(inv):
        return [head, Block("note", ctx.t("inv_none"))]
    blocks = [head, Block("p", ctx.t(ctx.message_id("inv_intro")))]
    blocks += _invariance_scope(ctx, inv)
    findings = []
    for (dim, comp), part in inv.groupby(["dimension", "comparison"], sort=False):
        r = part.iloc[0]
        groups = str(r["groups"]).split("|")
        names = ([ctx.gl(g) for g in groups] if comp == "groups" else [ctx.wl(w) for w in groups])
        conf = part[part["level"] == "configural"].iloc[0]
        findings.append(Finding(ctx.t(f"inv_v_{r['verdict']}", dim=ctx.dl(str(dim)), a=names[0],
                                       b=names[-1], cfi=ctx.n(conf["cfi"], rt.cut_digits(conf["cfi"], 0.90)),
                                       n=integer(conf["n"], ctx.lang),
                                       note=_inv_note(ctx, r)),
                                {"kind": "invariance", "dimension": str(dim), "comparison": str(comp),
                                 "verdict": str(r["verdict"])}))
    blocks.append(Block("list", items=findings))
    if inv["note"].fillna("").str.split(";").map(lambda codes: "heywood" in codes).any():
        blocks.append(Block("note", ctx.t("inv_heywood")))
    inv = inv.assign(_cd=[rt.cut_digits(x, 0.90) for x in inv["cfi"]])  # the CFI as the summary prints it
    blocks.append(ctx.blank_repeats(ctx.table("invariance", ctx.t("t_invariance"), inv, [
        (lambda d: d["dimension"].map(ctx.dl), ctx.t("dimension"), "text"),
        (lambda d: [(" / ".join(ctx.gl(g) for g in str(x).split("|")) if c == "groups"
                     else " / ".join(ctx.wl(w) for w in str(x).split("|"))) for x, c in zip(d["groups"], d["comparison"])],
         ctx.t("inv_c_groups"), "text"),
        (lambda d: d["level"].map(lambda v: ctx.t(f"inv_l_{v}")), ctx.t("inv_c_level"), "text"),
        ("n", "n", "int"), ("chisq", "χ²", "n2"), ("df", "df", "int"), ("cfi", "CFI", ("n", "_cd")),
        ("rmsea", "RMSEA", "n3"), ("delta_cfi", "ΔCFI", "n3"), ("delta_rmsea", "ΔRMSEA", "n3"),
        (lambda d: d["holds"].map(lambda v: ctx.t("yes") if str(v) == "True" else ctx.t("no")),
         ctx.t("inv_c_holds"), "text")], note=ctx.t("inv_table_note"))))
    return blocks


def _invariance_scope(ctx, inv) -> list[Block]:
    """A note naming the groups (beyond two) and waves (between the first and the last) that the
    two-sample invariance comparisons leave out."""
    out = []
    for comp, present, label, key in (("groups", ctx.present_levels, ctx.gl, "inv_scope_groups"),
                                      ("waves", ctx.data_waves, ctx.wl, "inv_scope_waves")):
        rows = inv[inv["comparison"] == comp]
        if not len(rows):
            continue
        compared = str(rows["groups"].iloc[0]).split("|")
        left = [v for v in present if v not in compared]
        if left:
            out.append(Block("note", ctx.t(key, a=label(compared[0]), b=label(compared[-1]),
                                           left=ctx.join([label(v) for v in left]))))
    return out


def _did_blocks(ctx) -> list[Block]:
    head = Block("h3", ctx.t(ctx.message_id("did_head")))
    if not ctx.study.arms and not getattr(ctx.study.source, "comparison_villages", 0):
        return [head, Block("note", ctx.t(ctx.message_id("did_none")))]
    did = ctx.inp("did.csv")
    if did is None:
        return [head, ctx.missing("did.csv")]
    if not len(did):
        return [head, Block("note", ctx.t(ctx.message_id("did_none")))]
    ri = did[did["method"] == "did_ri"]
    any_row = did.iloc[0]
    g, gp = int(any_row["n_clusters"]), int(any_row["n_program_clusters"])
    k = int(ri["n_assignments"].max()) if len(ri) else 0
    blocks = [head, Block("p", ctx.t("did_intro", g=integer(g, ctx.lang), gp=integer(gp, ctx.lang),
                                      gc=integer(g - gp, ctx.lang), k=integer(k, ctx.lang),
                                      pmin=ctx.n(1 / k if k else float("nan"), 3),
                                      seed=str(ctx.study.analysis.seed)))]
    if k and 1 / k > ctx.alpha:
        blocks.append(Block("note", ctx.t("did_too_few", g=integer(g, ctx.lang), pmin=ctx.n(1 / k, 3),
                                           alpha=ctx.n(ctx.alpha, 2))))
    findings = []
    for _, r in ri[ri["kind"].isin(["scale", "node"])].iterrows():
        dim = str(r["dimension"])
        if r["kind"] == "scale" and "_" in dim:
            continue  # sentences for dimensions and the any-tie network indicators only
        if r["kind"] == "node" and str(r["tie_type"]) != "any":
            continue
        mixed = did[(did["method"] == "did_mixed") & (did["dimension"] == r["dimension"])
                    & (did["tie_type"].fillna("") == ("" if _isna(r["tie_type"]) else r["tie_type"]))]
        m = mixed.iloc[0] if len(mixed) else None
        what = ctx.dl(dim) if r["kind"] == "scale" else ctx.t(f"did_node_{dim}")
        if r["p_min"] > ctx.alpha:
            key = "did_sent_descr"
        elif r["p_val"] < ctx.alpha and (r["ci_low"] > 0 or r["ci_high"] < 0):
            key = "did_sent_sig_up" if r["estimate"] > 0 else "did_sent_sig_down"
        else:
            key = "did_sent_unsure"
        findings.append(Finding(ctx.t(key, what=what, est=ctx.n(r["estimate"], 2, sign=True),
                                       lo=ctx.n(r["ci_low"], 2), hi=ctx.n(r["ci_high"], 2),
                                       p=rt.peq(r["p_val"], ctx.lang),
                                       mest=ctx.n(m["estimate"], 2, sign=True) if m is not None else "–",
                                       mlo=ctx.n(m["ci_low"], 2) if m is not None else "–",
                                       mhi=ctx.n(m["ci_high"], 2) if m is not None else "–"),
                                {"kind": "did", "dimension": dim, "verdict": key}))
    if findings:
        blocks.append(Block("list", items=findings))
    ci = lambda d: [f"[{ctx.n(a, 3)}; {ctx.n(b, 3)}]" if not _isna(a) else ""  # noqa: E731
                    for a, b in zip(d["ci_low"], d["ci_high"])]
    resp = did[did["kind"].isin(["scale", "node"])]
    blocks.append(ctx.blank_repeats(ctx.table("did", ctx.t("t_did"), resp, [
        (lambda d: [ctx.dl(x) if kd == "scale" else ctx.t(f"did_node_{x}") for x, kd in zip(d["dimension"], d["kind"])],
         ctx.t("dimension"), "text"),
        (lambda d: d["tie_type"].map(lambda v: "" if _isna(v) else ctx.tl(str(v))),
         ctx.t("did_c_tie"), "text"),
        (lambda d: d["method"].map(lambda v: ctx.t(f"did_m_{v}")), ctx.t("c_method"), "text"),
        ("estimate", ctx.t("c_estimate"), "n3"), ("se", ctx.t("c_se_short"), "n3"),
        (ci, ctx.t("ci95"), lambda v: v), ("p_val", ctx.t("c_p"), "p"),
        ("n_obs", "n", "int")], note=ctx.t("did_table_note"))))
    vil = did[did["kind"] == "village"]
    if len(vil):
        blocks.append(ctx.table("did_village", ctx.t("t_did_village"), vil, [
            (lambda d: d["dimension"].map(lambda v: ctx.t(f"did_v_{v}")), ctx.t("did_c_outcome"), "text"),
            (lambda d: d["tie_type"].map(lambda v: ctx.tl(str(v))), ctx.t("did_c_tie"), "text"),
            ("estimate", ctx.t("c_estimate"), "n3"), (ci, ctx.t("ci95"), lambda v: v),
            ("p_val", ctx.t("c_p"), "p"), ("n_clusters", ctx.t("did_c_villages"), "int")],
            note=ctx.t("did_village_note")))
    bal = ctx.inp("balance.csv")
    if bal is not None and len(bal):
        n_imb = int((bal["smd"].abs() > 0.25).sum())
        blocks.append(Block("p", ctx.t("bal_intro", wave=ctx.wl(ctx.waves[0]))
                            + " " + (ctx.t("bal_ok") if n_imb == 0 else ctx.t("bal_bad", n=integer(n_imb, ctx.lang)))))
        blocks.append(ctx.table("balance", ctx.t("t_balance"), bal, [
            (lambda d: d["variable"].map(lambda v: _bal_label(ctx, v)), ctx.t("bal_c_var"), "text"),
            ("mean_program", ctx.t("bal_c_prog"), "n2"), ("mean_comparison", ctx.t("bal_c_comp"), "n2"),
            ("smd", "SMD", "n2"), ("p_ri", ctx.t("bal_c_p"), "p"),
            ("n_program", "n₁", "int"), ("n_comparison", "n₀", "int")]))
    return blocks


def _bal_label(ctx, v: str) -> str:
    v = str(v)
    if v.startswith("share_"):
        return ctx.t("bal_share", g=ctx.gl(v[len("share_"):]))
    if v == "degree_any":
        return ctx.t("did_node_degree")
    key = f"bal_{v}"
    return ctx.t(key) if key in rt.STRINGS[ctx.lang] else ctx.dl(v)


def _inv_note(ctx, r) -> str:
    """An invariance.csv ``note`` (codes joined by ``;``) in the report language."""
    if _isna(r["note"]) or not str(r["note"]):
        return ""
    kw = {k: integer(r[k], ctx.lang) if k in r and not _isna(r[k]) else "–" for k in ("n_min", "n_needed")}
    return "; ".join(rt.code_label("inv_note", c, ctx.lang, items=integer(r["n_items"], ctx.lang), **kw)
                     for c in str(r["note"]).split(";"))
