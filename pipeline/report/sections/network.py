"""The network section."""

from __future__ import annotations

from .. import text as rt
from ..model import Block, Unavailable, isna as _isna
from ..text import integer

ROLES = ["coordinator", "itinerant", "representative", "gatekeeper", "liaison"]
SOCIOGRAM_MAX_SITES = 6  # villages drawn side by side; more: the first six, and a note where the rest is


def section(ctx) -> list[Block]:
    whole = ctx.inp("network_whole.csv")
    if whole is None:
        raise Unavailable(ctx.missing("network_whole.csv"))
    if ctx.no_ties:  # nothing to draw or count: one line, no tables of zeros
        return [Block("note", ctx.no_network_text())]
    seed = int(ctx.study.analysis.seed)
    if ctx.umkm:
        blocks = [Block("p", ctx.t("net_intro"))]
    else:
        ties = ctx.join([ctx.tl(t) for t in ctx.study.tie_types])
        blocks = [Block("p", ctx.t("net_intro_gen", ties=ties, any=ctx.tl("any")))]
    if ctx.one_group:
        blocks.append(Block("note", ctx.t("net_one_group", group=ctx.groups_text())))
    blocks += _sociogram_blocks(ctx, seed)
    if not ctx.one_group:
        blocks += _glance_blocks(ctx)
    blocks += _whole_blocks(ctx, whole)
    if not ctx.one_group:
        blocks += _groups_blocks(ctx) + _mixing_blocks(ctx)
    blocks += _change_blocks(ctx) + _brokerage_blocks(ctx)
    blocks.append(Block("p", ctx.t("exports_written")))
    return blocks + _prepost_blocks(ctx)


def _ordered(ctx, df, by_wave: str | None = "wave"):
    """``df`` in the study's order of tie types (then "any") and of waves."""
    ttypes = [*ctx.study.tie_types, "any"]
    df = df.copy()
    df["_t"] = df["tie_type"].map({t: i for i, t in enumerate(ttypes)}).fillna(99)
    keys = ["_t"]
    if by_wave:
        df["_w"] = df[by_wave].map({w: i for i, w in enumerate(ctx.waves)}).fillna(99)
        keys.append("_w")
    return df.sort_values(keys, kind="stable")


def _whole_blocks(ctx, whole) -> list[Block]:
    """Two tables of the whole network per (village ×) tie type × wave: its structure, and (with two
    groups or more) how the ties fall within and between the groups; every measure defined below."""
    whole = _ordered(ctx, whole)
    multi_site = whole["site"].nunique() > 1 if "site" in whole else False
    keys = ([("site", ctx.t("site"), "text")] if multi_site else []) + [
        (lambda d: d["tie_type"].map(ctx.tl), ctx.t("tie_type"), "text"),
        (lambda d: d["wave"].map(ctx.wl), ctx.t("wave"), "text")]
    cols = keys + [
        ("n_nodes", ctx.t("c_nodes"), "int"), ("n_ties", ctx.t("c_ties"), "int"),
        ("density", ctx.t("c_density"), "n3"), ("reciprocity", ctx.t("c_reciprocity_edge"), "n2"),
        ("reciprocity_dyadic", ctx.t("c_reciprocity_dyad"), "n2"),
        ("transitivity", ctx.t("c_transitivity"), "n2"), ("centralization_in", ctx.t("c_centr_in"), "n2"),
        ("centralization_out", ctx.t("c_centr_out"), "n2"), ("n_components", ctx.t("c_components"), "int"),
        ("largest_component", ctx.t("c_largest"), "int")]
    note = " ".join(ctx.t(k) for k in ("def_nodes", "def_reciprocity", "def_transitivity", "def_centralization",
                                       "def_components"))
    blocks = [Block("h3", ctx.t("t_whole")), ctx.table("network_whole", ctx.t("t_whole"), whole, cols, note=note)]
    if ctx.one_group:
        return blocks
    cols = keys + [
        ("ties_within", ctx.t("c_ties_within"), "int"), ("ties_between", ctx.t("c_ties_between"), "int"),
        ("ei", ctx.t("c_ei"), "n2"), ("ei_expected", ctx.t("c_ei_exp"), "n2"),
        ("ei_rescaled", ctx.t("c_ei_resc"), "n2"), ("ei_p", ctx.t("c_ei_p"), "p"),
        (("assortativity", "assortativity_se"), ctx.t("c_assort"), "pm2"),
        ("yules_q", ctx.t("c_yules_q"), "n2"), ("modularity_group", ctx.t("c_modularity"), "n2"),
        ("leiden_nmi", ctx.t("c_leiden_nmi"), "n2")]
    a = ctx.study.analysis
    note = ctx.t("def_ei_whole", perms=integer(a.permutations, ctx.lang), seed=a.seed) + " " + ctx.t("def_assort")
    return blocks + [Block("h3", ctx.t("t_whole_groups")),
                     ctx.table("network_ei", ctx.t("t_whole_groups"), whole, cols, note=note)]


def _groups_blocks(ctx) -> list[Block]:
    grp = ctx.inp("network_groups.csv")
    if grp is None or not len(grp):
        return []
    grp = grp[grp["tie_type"] == "any"] if (grp["tie_type"] == "any").any() else grp
    grp = ctx.study_order(grp, "tie_type", "wave", "group")
    return [Block("h3", ctx.t("t_groups")), ctx.table("network_groups", ctx.t("t_groups"), grp, [
        (lambda d: d["tie_type"].map(ctx.tl), ctx.t("tie_type"), "text"),
        (lambda d: d["wave"].map(ctx.wl), ctx.t("wave"), "text"),
        (lambda d: d["group"].map(ctx.gl), ctx.t("group"), "text"), ("n", "n", "int"),
        ("ties_internal", ctx.t("c_ties_internal"), "int"), ("ties_external", ctx.t("c_ties_external"), "int"),
        ("ties_external_sent", ctx.t("c_ties_external_sent"), "int"),
        ("ei", ctx.t("c_ei_both"), "n2"), ("ei_sent", ctx.t("c_ei_sent"), "n2"),
        ("density_internal", ctx.t("c_density_internal"), "n3"), ("coleman", ctx.t("c_coleman"), "n2")],
        note=ctx.t("def_groups"))]


def _mixing_blocks(ctx) -> list[Block]:
    from .. import figures as F

    mix = ctx.inp("mixing.csv")
    if mix is None:
        return [ctx.missing("mixing.csv")]
    if not len(mix):
        return []
    part = mix[mix["tie_type"] == "any"] if (mix["tie_type"] == "any").any() else mix
    part = part.groupby(["wave", "from_group", "to_group"], as_index=False)["ties"].sum()
    blocks, panels = [], []
    for w in ctx.waves:
        pw = part[part["wave"] == w]
        if len(pw):
            m = pw.pivot_table(index="from_group", columns="to_group", values="ties", aggfunc="sum")
            panels.append({"title": ctx.wl(w), "matrix": m})
    if panels:
        fig = F.mixing_figure(panels, ctx.levels, group_label=ctx.gl, from_label=ctx.t("c_from"),
                              to_label=ctx.t("c_to"))
        blocks.append(ctx.figure("mixing", ctx.t("fig_mixing"), fig))
    part = ctx.study_order(part, "wave", "from_group", "to_group")
    blocks.append(ctx.table("mixing", ctx.t("t_mixing") + f" ({ctx.tl('any')})", part, [
        (lambda d: d["wave"].map(ctx.wl), ctx.t("wave"), "text"),
        (lambda d: d["from_group"].map(ctx.gl), ctx.t("c_from"), "text"),
        (lambda d: d["to_group"].map(ctx.gl), ctx.t("c_to"), "text"), ("ties", ctx.t("c_ties"), "int")],
        note=ctx.t("def_mixing")))
    return blocks


def _change_blocks(ctx) -> list[Block]:
    ch = ctx.inp("network_change.csv")
    blocks = [Block("h3", ctx.t("t_change"))]
    if ch is None:
        return blocks + [ctx.missing("network_change.csv")]
    if ctx.one_wave:
        return blocks + [ctx.one_wave_note("ow_change")]
    if not len(ch):
        return blocks
    cols = [(lambda d: d["tie_type"].map(ctx.tl), ctx.t("tie_type"), "text"),
            (lambda d: [f"{ctx.wl(a)} → {ctx.wl(b)}" for a, b in zip(d["wave_pre"], d["wave_post"])],
             ctx.t("wave"), "text"),
            ("n_common", ctx.t("c_n_common"), "int"),  # the people the summary's change sentence is about
            ("kept", ctx.t("c_kept"), "int"), ("new_within", ctx.t("c_new_within"), "int"),
            ("new_between", ctx.t("c_new_between"), "int"),
            ("dropped_within", ctx.t("c_dropped_within"), "int"),
            ("dropped_between", ctx.t("c_dropped_between"), "int"), ("jaccard", ctx.t("c_jaccard"), "n2"),
            ("hamming", ctx.t("c_hamming"), "int"), ("delta_ei", ctx.t("c_delta_ei"), "n2"),
            ("delta_ei_p", ctx.t("c_delta_ei_p"), "p"), ("qap_r", ctx.t("c_qap_r"), "n2"),
            ("qap_p", ctx.t("c_qap_p"), "p"),
            (lambda d: d["rsiena_ok"].map(lambda v: "" if _isna(v) else
                                          (ctx.t("yes") if str(v).lower() in ("true", "1", "1.0")
                                           else ctx.t("no"))), ctx.t("c_rsiena"), "text")]
    note = ctx.t("def_change", perms=integer(ctx.study.analysis.permutations, ctx.lang))
    return blocks + [ctx.table("network_change", ctx.t("t_change"), _ordered(ctx, ch, None), cols, note=note)]


def _brokerage_blocks(ctx) -> list[Block]:
    br = ctx.inp("brokerage.csv")
    blocks = [] if ctx.one_group else [Block("h3", ctx.t("t_brokerage"))]
    if br is None:
        return blocks + [ctx.missing("brokerage.csv")]
    if not len(br) or ctx.one_group:
        return blocks
    part = br[br["tie_type"] == "any"] if (br["tie_type"] == "any").any() else br
    part = part.copy()
    part["_r"] = part["role"].map({r: i for i, r in enumerate(ROLES + ["total"])}).fillna(99)
    part["_w"] = part["wave"].map({w: i for i, w in enumerate(ctx.waves)}).fillna(99)
    part = part.sort_values(["_w", "_r"])
    note = ctx.t("brokerage_note" if len(ctx.present_levels) == 2 else "brokerage_note_multi")
    return blocks + [ctx.table("brokerage", ctx.t("t_brokerage"), part, [
        (lambda d: d["wave"].map(ctx.wl), ctx.t("wave"), "text"),
        (lambda d: d["role"].map(lambda v: ctx.t(f"role_{v}") if f"role_{v}" in rt.STRINGS[ctx.lang] else v),
         ctx.t("c_role"), "text"),
        ("observed", ctx.t("c_observed"), "int"), ("expected", ctx.t("c_expected_n"), "n1"),
        ("z", ctx.t("c_z"), "n2")], note=f"{note} {ctx.t('def_brokerage')}")]


def _prepost_blocks(ctx) -> list[Block]:
    """Individual network indicators before and after (degree, bridging ties, individual E-I)."""
    pp = ctx.inp("prepost.csv")
    if pp is None or ctx.one_wave:
        return []
    net = pp[pp["kind"] == "network"]
    if ctx.one_group:  # cross-group ties and individual E-I do not exist with one group
        net = net[net["dimension"] == "network_degree"]
    if not len(net):
        return []
    from ...analysis.prepost import NETWORK_DIMENSIONS

    net = ctx.pp_sorted(net, list(NETWORK_DIMENSIONS))
    posts = list(dict.fromkeys(net["wave_post"]))
    cols = [(lambda d: d["dimension"].map(ctx.dl), ctx.t("dimension"), "text"),
            (lambda d: d["group"].map(ctx.gl), ctx.t("group"), "text")]
    if len(posts) > 1:  # three waves or more: each later wave against the first, named per row
        cols += [(lambda d: [f"{ctx.wl(a)} → {ctx.wl(b)}" for a, b in zip(d["wave_pre"], d["wave_post"])],
                  ctx.t("wave"), "text"), ("n_pairs", ctx.t("c_n_pairs"), "int"),
                 ("mean_pre", ctx.t("c_mean_pre"), "n2"), ("mean_post", ctx.t("c_mean_post"), "n2")]
    else:
        cols += [("n_pairs", ctx.t("c_n_pairs"), "int"),
                 ("mean_pre", f"{ctx.t('c_mean')} – {ctx.wl(net['wave_pre'].iloc[0])}", "n2"),
                 ("mean_post", f"{ctx.t('c_mean')} – {ctx.wl(posts[0])}", "n2")]
    cols += [("diff", ctx.t("c_mean_diff"), "n2"), (("diff_ci_low", "diff_ci_high"), ctx.t("ci95"), "ci2"),
             ("d_z", ctx.t("c_dz"), "n2"), ("p_holm", ctx.t("c_p_holm"), "p")]
    return [Block("h3", ctx.t("t_net_prepost")),
            ctx.table("network_prepost", ctx.t("t_net_prepost"), net, cols, note=ctx.t("def_node_indicators"))]


def _glance_blocks(ctx) -> list[Block]:
    """Figures a village facilitator reads at a glance: the share of ties that cross groups per
    wave and tie type, and a diagram of the ties within and between groups."""
    from .. import figures as F

    mix, grp = ctx.inp("mixing.csv"), ctx.inp("network_groups.csv")
    if mix is None or not len(mix):
        return []
    ttypes = [t for t in [*ctx.study.tie_types, "any"] if t in set(mix["tie_type"])]
    waves = [w for w in ctx.waves if w in set(mix["wave"])]
    tl = ctx.tl
    blocks = []
    whole = ctx.inp("network_whole.csv")
    if whole is not None and len(whole):
        fig = F.cross_share_figure(F.cross_shares(whole), waves, ttypes, wave_label=ctx.wl, tie_label=tl,
                                   title=ctx.t("fig_cross_title"))
        caption = (ctx.t("fig_cross_share") if ctx.origin_groups else
                   ctx.t("fig_cross_share_gen", groups=ctx.groups_text()))
        blocks.append(ctx.figure("cross_share", caption, fig))
    if grp is not None and len(grp):
        fig = F.group_ties_figure(mix, grp, waves, ttypes, ctx.levels, wave_label=ctx.wl, tie_label=tl,
                                  group_label=ctx.gl, within_label=ctx.t("fig_within_word"))
        blocks.append(ctx.figure("group_ties", ctx.t("fig_group_ties"), fig))
    return blocks


def _graph_edges(ctx, sites: list[str] | None = None) -> tuple[dict, dict, dict]:
    """(edges per wave, present ids per wave, group per id) for the union ("any") graph; only the
    villages ``sites`` when given (a district: the graphs of the villages drawn, not of all 200)."""
    resp = ctx.inp("respondents.parquet")
    ties = ctx.inp("ties.parquet")
    if resp is None or ties is None:
        return {}, {}, {}
    if sites is not None and "site" in resp:
        resp = resp[resp["site"].astype(str).isin(sites)]
        ties = ties[ties["site"].astype(str).isin(sites)] if "site" in ties else ties
    group: dict[str, str] = {}
    for _, r in resp.sort_values("wave", key=lambda s_: s_.map({w: i for i, w in enumerate(ctx.waves)})
                                 ).iterrows():
        group.setdefault(str(r["respondent_id"]), str(r["group"]))
    from ...analysis.network import build_graphs

    edges, present = {}, {}
    for (site, wave, tt), g in build_graphs(resp, ties, list(ctx.study.tie_types)).items():
        if tt != "any":
            continue
        names = g.vs["name"]
        edges.setdefault(wave, []).extend((names[a], names[b]) for a, b in g.get_edgelist())
        present.setdefault(wave, set()).update(names)
    return edges, present, group


def _sociogram_blocks(ctx, seed: int) -> list[Block]:
    from .. import figures as F

    resp = ctx.inp("respondents.parquet")
    all_sites = sorted(resp["site"].dropna().astype(str).unique()) if resp is not None and "site" in resp else []
    first = all_sites[:SOCIOGRAM_MAX_SITES] if len(all_sites) > SOCIOGRAM_MAX_SITES else None
    edges, present, group = _graph_edges(ctx, first)
    if not edges and not present:
        return [ctx.missing("respondents.parquet", "ties.parquet")]
    nodes = sorted(set().union(*present.values()) if present else set())
    union = sorted({e for es in edges.values() for e in es})
    site_of = dict(zip(resp["respondent_id"].astype(str), resp["site"].astype(str))) \
        if resp is not None and "site" in resp else {}
    sites = sorted({site_of.get(v, "") for v in nodes})
    subset_note = []
    if first is not None or len(sites) > SOCIOGRAM_MAX_SITES:  # a district: a readable figure
        n_all, sites = max(len(all_sites), len(sites)), sites[:SOCIOGRAM_MAX_SITES]
        keep = set(sites)
        nodes = [v for v in nodes if site_of.get(v, "") in keep]
        union = [e for e in union if site_of.get(e[0], "") in keep]
        edges = {w: [e for e in es if site_of.get(e[0], "") in keep] for w, es in edges.items()}
        present = {w: {v for v in ps if site_of.get(v, "") in keep} for w, ps in present.items()}
        subset_note = [Block("note", ctx.t("sociogram_subset", n=integer(n_all, ctx.lang), k=len(sites),
                                            names=", ".join(sites)))]
    if len(sites) > 1:  # one village beside the other, each laid out on its own
        pos, site_labels = {}, []
        for k, site in enumerate(sites):
            members = [v for v in nodes if site_of.get(v, "") == site]
            inner = F.group_layout(members, [e for e in union if site_of.get(e[0], "") == site], group,
                                   ctx.levels, seed)
            pos.update({v: (x + F.SITE_WIDTH * k, y) for v, (x, y) in inner.items()})
            site_labels.append((site, F.SITE_WIDTH * k))
    else:
        pos, site_labels = F.group_layout(nodes, union, group, ctx.levels, seed), []
    panels = [{"title": ctx.wl(w), "edges": edges.get(w, []), "present": present.get(w, set())}
              for w in ctx.waves if w in present]
    fig = F.sociogram_figure(panels, pos, group, ctx.levels, group_label=ctx.gl, bridge_label=ctx.t("soc_bridge"),
                             absent_label=ctx.t("soc_absent"), show_labels=bool(ctx.study.privacy.show_names),
                             site_labels=site_labels)
    groups = "" if ctx.one_group else "_groups"  # the groups drawn apart (figures.group_layout)
    caption = (ctx.t(f"fig_sociogram_one{groups}", tie=ctx.tl("any"), wave=ctx.wl(ctx.data_waves[0]),
                      seed=seed)
               if ctx.one_wave else ctx.t(f"fig_sociogram{groups}", tie=ctx.tl("any"), seed=seed))
    return [ctx.figure("sociogram_any", caption, fig)] + subset_note
