"""The network section: who is tied to whom, within and between the groups, and how that changed.

Its tables are declared here as column lists (``WHOLE_COLUMNS``, ``EI_COLUMNS``, …); each
``_*_blocks`` function selects and orders the rows of one processed file and prints them.
"""

from __future__ import annotations

import pandas as pd

from ...analysis.network import ROLES, build_graphs
from ...analysis.prepost import NETWORK_DIMENSIONS
from .. import figures, spread
from ..columns import Column, Fmt
from ..context import Context
from ..model import Block, Unavailable

__all__ = ["section", "ROLE_ORDER", "SOCIOGRAM_MAX_SITES"]

#: the brokerage table's rows: the Gould–Fernandez roles as the analysis lists them, then their total
ROLE_ORDER = [*(role for role, _ in ROLES), "total"]
SOCIOGRAM_MAX_SITES = 6  # villages drawn side by side; more: the first six, and a note where the rest is

SITE = Column("site", "site")
TIE_WAVE = [Column("tie_type", "tie_type", Fmt.TIE), Column("wave", "wave", Fmt.WAVE)]
#: the whole network's structure per (village ×) tie type × wave
WHOLE_COLUMNS = [
    Column("n_nodes", "c_nodes", Fmt.INT), Column("n_ties", "c_ties", Fmt.INT),
    Column("density", "c_density", Fmt.N3), Column("reciprocity", "c_reciprocity_edge", Fmt.N2),
    Column("reciprocity_dyadic", "c_reciprocity_dyad", Fmt.N2), Column("transitivity", "c_transitivity", Fmt.N2),
    Column("centralization_in", "c_centr_in", Fmt.N2), Column("centralization_out", "c_centr_out", Fmt.N2),
    Column("n_components", "c_components", Fmt.INT), Column("largest_component", "c_largest", Fmt.INT)]
#: how the whole network's ties fall within and between the groups
EI_COLUMNS = [
    Column("ties_within", "c_ties_within", Fmt.INT), Column("ties_between", "c_ties_between", Fmt.INT),
    Column("ei", "c_ei", Fmt.N2), Column("ei_expected", "c_ei_exp", Fmt.N2),
    Column("ei_rescaled", "c_ei_resc", Fmt.N2), Column("ei_p", "c_ei_p", Fmt.P),
    Column(("assortativity", "assortativity_se"), "c_assort", Fmt.PM2), Column("yules_q", "c_yules_q", Fmt.N2),
    Column("modularity_group", "c_modularity", Fmt.N2), Column("leiden_nmi", "c_leiden_nmi", Fmt.N2)]
#: each group's ties inside and outside it
GROUP_COLUMNS = [
    *TIE_WAVE, Column("group", "group", Fmt.GROUP), Column("n", "c_n", Fmt.INT),
    Column("ties_internal", "c_ties_internal", Fmt.INT), Column("ties_external", "c_ties_external", Fmt.INT),
    Column("ties_external_sent", "c_ties_external_sent", Fmt.INT), Column("ei", "c_ei_both", Fmt.N2),
    Column("ei_sent", "c_ei_sent", Fmt.N2), Column("density_internal", "c_density_internal", Fmt.N3),
    Column("coleman", "c_coleman", Fmt.N2)]
#: the mixing matrix, one row per cell
MIXING_COLUMNS = [Column("wave", "wave", Fmt.WAVE), Column("from_group", "c_from", Fmt.GROUP),
                  Column("to_group", "c_to", Fmt.GROUP), Column("ties", "c_ties", Fmt.INT)]
#: ties kept, formed and ended between two waves among the people in both
CHANGE_COLUMNS = [
    Column("tie_type", "tie_type", Fmt.TIE), Column(("wave_pre", "wave_post"), "wave", Fmt.WAVES),
    Column("n_common", "c_n_common", Fmt.INT),  # the people the summary's change sentence is about
    Column("kept", "c_kept", Fmt.INT), Column("new_within", "c_new_within", Fmt.INT),
    Column("new_between", "c_new_between", Fmt.INT), Column("dropped_within", "c_dropped_within", Fmt.INT),
    Column("dropped_between", "c_dropped_between", Fmt.INT), Column("jaccard", "c_jaccard", Fmt.N2),
    Column("hamming", "c_hamming", Fmt.INT), Column("delta_ei", "c_delta_ei", Fmt.N2),
    Column("delta_ei_p", "c_delta_ei_p", Fmt.P), Column("qap_r", "c_qap_r", Fmt.N2),
    Column("qap_p", "c_qap_p", Fmt.P), Column("rsiena_ok", "c_rsiena", Fmt.YES_NO)]
#: brokerage roles observed against expected
BROKERAGE_COLUMNS = [
    Column("wave", "wave", Fmt.WAVE), Column("role", "c_role", Fmt.CODE, code="role"),
    Column("observed", "c_observed", Fmt.INT), Column("expected", "c_expected_n", Fmt.N1),
    Column("z", "c_z", Fmt.N2)]
#: individual network indicators: the paired change
NODE_CHANGE_COLUMNS = [
    Column("diff", "c_mean_diff", Fmt.N2), Column(("diff_ci_low", "diff_ci_high"), "ci95", Fmt.CI2),
    Column("d_z", "c_dz", Fmt.N2), Column("p_holm", "c_p_holm", Fmt.P)]


def section(ctx: Context) -> list[Block]:
    """The networks: sociogram, the glance figures, the whole network, groups, mixing, change,
    brokerage and the individual indicators before and after.

    Reads ``network_whole.csv`` (required), ``network_groups.csv``, ``mixing.csv``,
    ``network_change.csv``, ``brokerage.csv``, ``prepost.csv``, ``respondents.parquet`` and
    ``ties.parquet``. Prints the tables ``network_whole``, ``network_ei``, ``network_groups``,
    ``mixing``, ``network_change``, ``brokerage`` and ``network_prepost`` (each only where the
    study has what it shows; above :data:`~pipeline.report.spread.LIST_MAX` villages also
    ``network_villages``, the villages' E-I and its change as distributions over the villages) and the figures ``sociogram_any``, ``cross_share``, ``group_ties``
    and ``mixing``. A study without ties gets one line.
    """
    whole = ctx.inputs("network_whole.csv")
    if whole is None:
        raise Unavailable(ctx.missing("network_whole.csv"))
    if ctx.shape.no_ties:  # nothing to draw or count: one line, no tables of zeros
        return [Block("note", ctx.no_network_text())]
    words, shape = ctx.words, ctx.shape
    if shape.umkm:
        blocks = [Block("p", words.text("net_intro"))]
    else:
        ties = words.join([words.tie(t) for t in ctx.study.tie_types])
        blocks = [Block("p", words.text("net_intro_gen", ties=ties, any=words.tie("any")))]
    if shape.one_group:
        blocks.append(Block("note", words.text("net_one_group", group=ctx.groups_text())))
    blocks += _sociogram_blocks(ctx)
    if not shape.one_group:
        blocks += _glance_blocks(ctx)
    blocks += _whole_blocks(ctx, whole) + _spread_blocks(ctx)
    if not shape.one_group:
        blocks += _groups_blocks(ctx) + _mixing_blocks(ctx)
    blocks += _change_blocks(ctx) + _brokerage_blocks(ctx)
    blocks.append(Block("p", words.text("exports_written")))
    return blocks + _prepost_blocks(ctx)


def _any_ties(df: pd.DataFrame) -> pd.DataFrame:
    """The rows of the union of the tie types (``any``), or every row when there are none."""
    return df[df["tie_type"] == "any"] if (df["tie_type"] == "any").any() else df


def _whole_blocks(ctx: Context, whole: pd.DataFrame) -> list[Block]:
    """Two tables of the whole network per (village ×) tie type × wave: its structure, and (with two
    groups or more) how the ties fall within and between the groups; every measure defined below."""
    words, numbering = ctx.words, ctx.numbering
    whole = ctx.shape.study_order(whole, "tie_type", "wave")
    keys = ([SITE] if "site" in whole and whole["site"].nunique() > 1 else []) + TIE_WAVE
    note = " ".join(words.text(k) for k in ("def_nodes", "def_reciprocity", "def_transitivity",
                                            "def_centralization", "def_components"))
    title = words.text("t_whole")
    blocks = [Block("h3", title), numbering.table("network_whole", title, whole, keys + WHOLE_COLUMNS, note=note)]
    if ctx.shape.one_group:
        return blocks
    a = ctx.study.analysis
    note = words.text("def_ei_whole", perms=words.integer(a.permutations), seed=a.seed) + " " + words.text("def_assort")
    title = words.text("t_whole_groups")
    return blocks + [Block("h3", title), numbering.table("network_ei", title, whole, keys + EI_COLUMNS, note=note)]


def _spread_blocks(ctx: Context) -> list[Block]:
    """Above :data:`~pipeline.report.spread.LIST_MAX` villages: the villages' E-I per wave and its
    change, as a distribution over the villages (the summary's network findings quote it)."""
    if spread.listed(ctx):
        return []
    rows = spread.network_rows(ctx)
    if not rows:
        return []
    title = ctx.words.text("t_network_spread", k=ctx.words.integer(ctx.shape.n_sites))
    return [Block("h3", title), spread.spread_table(ctx, "network_villages", title, rows)]


def _groups_blocks(ctx: Context) -> list[Block]:
    grp = ctx.inputs("network_groups.csv")
    if grp is None or not len(grp):
        return []
    grp = ctx.shape.study_order(_any_ties(grp), "tie_type", "wave", "group")
    title = ctx.words.text("t_groups")
    return [Block("h3", title), ctx.numbering.table("network_groups", title, grp, GROUP_COLUMNS,
                                                    note=ctx.words.text("def_groups"))]


def _mixing_blocks(ctx: Context) -> list[Block]:
    mix = ctx.inputs("mixing.csv")
    if mix is None:
        return [ctx.missing("mixing.csv")]
    if not len(mix):
        return []
    words = ctx.words
    part = _any_ties(mix).groupby(["wave", "from_group", "to_group"], as_index=False)["ties"].sum()
    blocks, panels = [], []
    for w in ctx.shape.waves:
        pw = part[part["wave"] == w]
        if len(pw):
            m = pw.pivot_table(index="from_group", columns="to_group", values="ties", aggfunc="sum")
            panels.append({"title": words.wave(w), "matrix": m})
    if panels:
        fig = lambda: figures.mixing_figure(  # noqa: E731 - drawn only when wanted (Numbering.figure)
            panels, ctx.shape.levels, group_label=words.group, from_label=words.text("c_from"),
            to_label=words.text("c_to"))
        blocks.append(ctx.numbering.figure("mixing", words.text("fig_mixing"), fig))
    part = ctx.shape.study_order(part, "wave", "from_group", "to_group")
    title = words.text("t_mixing") + f" ({words.tie('any')})"
    blocks.append(ctx.numbering.table("mixing", title, part, MIXING_COLUMNS, note=words.text("def_mixing")))
    return blocks


def _change_blocks(ctx: Context) -> list[Block]:
    ch = ctx.inputs("network_change.csv")
    words = ctx.words
    blocks = [Block("h3", words.text("t_change"))]
    if ch is None:
        return blocks + [ctx.missing("network_change.csv")]
    if ctx.shape.one_wave:
        return blocks + [ctx.one_wave_note("ow_change")]
    if not len(ch):
        return blocks
    note = words.text("def_change", perms=words.integer(ctx.study.analysis.permutations))
    ch = ctx.shape.study_order(ch, "tie_type")
    return blocks + [ctx.numbering.table("network_change", words.text("t_change"), ch, CHANGE_COLUMNS, note=note)]


def _brokerage_blocks(ctx: Context) -> list[Block]:
    br = ctx.inputs("brokerage.csv")
    words, shape = ctx.words, ctx.shape
    blocks = [] if shape.one_group else [Block("h3", words.text("t_brokerage"))]
    if br is None:
        return blocks + [ctx.missing("brokerage.csv")]
    if not len(br) or shape.one_group:
        return blocks
    part = shape.study_order(_any_ties(br), "wave", "role", role=ROLE_ORDER)
    note = words.text("brokerage_note" if len(shape.present_levels) == 2 else "brokerage_note_multi")
    return blocks + [ctx.numbering.table("brokerage", words.text("t_brokerage"), part, BROKERAGE_COLUMNS,
                                         note=f"{note} {words.text('def_brokerage')}")]


def _prepost_blocks(ctx: Context) -> list[Block]:
    """Individual network indicators before and after (degree, bridging ties, individual E-I)."""
    pp = ctx.inputs("prepost.csv")
    if pp is None or ctx.shape.one_wave:
        return []
    net = pp[pp["kind"] == "network"]
    if ctx.shape.one_group:  # cross-group ties and individual E-I do not exist with one group
        net = net[net["dimension"] == "network_degree"]
    if not len(net):
        return []
    words = ctx.words
    net = ctx.shape.study_order(net, "wave_post", "dimension", "group",
                                dimension=list(NETWORK_DIMENSIONS)).reset_index(drop=True)
    posts = list(dict.fromkeys(net["wave_post"]))
    cols = [Column("dimension", "dimension", Fmt.DIMENSION), Column("group", "group", Fmt.GROUP)]
    if len(posts) > 1:  # three waves or more: each later wave against the first, named per row
        cols += [Column(("wave_pre", "wave_post"), "wave", Fmt.WAVES), Column("n_pairs", "c_n_pairs", Fmt.INT),
                 Column("mean_pre", "c_mean_pre", Fmt.N2), Column("mean_post", "c_mean_post", Fmt.N2)]
    else:
        mean = words.text("c_mean")
        cols += [Column("n_pairs", "c_n_pairs", Fmt.INT),
                 Column("mean_pre", f"{mean} – {words.wave(net['wave_pre'].iloc[0])}", Fmt.N2, verbatim=True),
                 Column("mean_post", f"{mean} – {words.wave(posts[0])}", Fmt.N2, verbatim=True)]
    title = words.text("t_net_prepost")
    return [Block("h3", title), ctx.numbering.table("network_prepost", title, net, cols + NODE_CHANGE_COLUMNS,
                                                    note=words.text("def_node_indicators"))]


def _glance_blocks(ctx: Context) -> list[Block]:
    """Figures a village facilitator reads at a glance: the share of ties that cross groups per
    wave and tie type, and a diagram of the ties within and between groups."""
    mix, grp = ctx.inputs("mixing.csv"), ctx.inputs("network_groups.csv")
    if mix is None or not len(mix):
        return []
    words, shape = ctx.words, ctx.shape
    ttypes = [t for t in shape.tie_types if t in set(mix["tie_type"])]
    waves = [w for w in shape.waves if w in set(mix["wave"])]
    blocks = []
    whole = ctx.inputs("network_whole.csv")
    if whole is not None and len(whole):
        fig = lambda: figures.cross_share_figure(  # noqa: E731 - drawn only when wanted
            figures.cross_shares(whole), waves, ttypes, wave_label=words.wave, tie_label=words.tie,
            title=words.text("fig_cross_title"))
        caption = (words.text("fig_cross_share") if shape.origin_groups else
                   words.text("fig_cross_share_gen", groups=ctx.groups_text()))
        blocks.append(ctx.numbering.figure("cross_share", caption, fig))
    if grp is not None and len(grp):
        draw = lambda: figures.group_ties_figure(  # noqa: E731 - drawn only when wanted
            mix, grp, waves, ttypes, shape.levels, wave_label=words.wave, tie_label=words.tie,
            group_label=words.group, within_label=words.text("fig_within_word"))
        blocks.append(ctx.numbering.figure("group_ties", words.text("fig_group_ties"), draw))
    return blocks


def _graph_edges(ctx: Context, sites: list[str] | None = None) -> tuple[dict, dict, dict]:
    """(edges per wave, present ids per wave, group per id) for the union ("any") graph; only the
    villages ``sites`` when given (a district: the graphs of the villages drawn, not of all 200)."""
    resp = ctx.inputs("respondents.parquet")
    if resp is None or not ctx.inputs.has("ties.parquet"):
        return {}, {}, {}
    if sites is not None and "site" in resp:
        resp = resp[resp["site"].astype(str).isin(sites)]
        ties = ctx.inputs.site_rows("ties.parquet", sites)  # those villages' row groups, not every tie
    else:
        ties = ctx.inputs("ties.parquet")
    group: dict[str, str] = {}
    for respondent, g in zip(*(ctx.shape.study_order(resp, "wave")[c] for c in ("respondent_id", "group"))):
        group.setdefault(str(respondent), str(g))
    edges, present = {}, {}
    for (site, wave, tt), g in build_graphs(resp, ties, list(ctx.study.tie_types)).items():
        if tt != "any":
            continue
        names = g.vs["name"]
        edges.setdefault(wave, []).extend((names[a], names[b]) for a, b in g.get_edgelist())
        present.setdefault(wave, set()).update(names)
    return edges, present, group


def _sociogram_blocks(ctx: Context) -> list[Block]:
    """The sociogram of the union of the tie types, one panel per wave (a district: at most
    :data:`SOCIOGRAM_MAX_SITES` villages side by side, and a note naming them)."""
    words, shape = ctx.words, ctx.shape
    resp = ctx.inputs("respondents.parquet")
    all_sites = shape.sites
    first = all_sites[:SOCIOGRAM_MAX_SITES] if len(all_sites) > SOCIOGRAM_MAX_SITES else None
    edges, present, group = _graph_edges(ctx, first)
    if not edges and not present:
        return [ctx.missing("respondents.parquet", "ties.parquet")]
    nodes = sorted(set().union(*present.values()) if present else set())
    union = sorted({e for es in edges.values() for e in es})
    site_of = dict(zip(resp["respondent_id"].astype(str).tolist(), resp["site"].astype(str).tolist())) \
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
        subset_note = [Block("note", words.text("sociogram_subset", n=words.integer(n_all), k=len(sites),
                                                names=", ".join(sites)))]
    panels = [{"title": words.wave(w), "edges": edges.get(w, []), "present": present.get(w, set())}
              for w in shape.waves if w in present]

    def fig():  # the layout and the drawing only when the figure is wanted (Numbering.figure)
        pos, site_labels = _layout(ctx, sites, nodes, union, site_of, group)
        return figures.sociogram_figure(panels, pos, group, shape.levels, group_label=words.group,
                                        bridge_label=words.text("soc_bridge"), absent_label=words.text("soc_absent"),
                                        show_labels=bool(ctx.study.privacy.show_names), site_labels=site_labels)

    seed = int(ctx.study.analysis.seed)
    groups = "" if shape.one_group else "_groups"  # the groups drawn apart (figures.group_layout)
    caption = (words.text(f"fig_sociogram_one{groups}", tie=words.tie("any"), wave=words.wave(shape.data_waves[0]),
                          seed=seed)
               if shape.one_wave else words.text(f"fig_sociogram{groups}", tie=words.tie("any"), seed=seed))
    return [ctx.numbering.figure("sociogram_any", caption, fig)] + subset_note


def _layout(ctx: Context, sites: list[str], nodes: list[str], union: list[tuple[str, str]],
            site_of: dict[str, str], group: dict[str, str]) -> tuple[dict, list[tuple[str, float]]]:
    """Node positions (seeded) that show the groups (:func:`~pipeline.report.figures.group_layout`);
    several villages one beside the other, each laid out on its own, with their names and offsets."""
    seed, levels = int(ctx.study.analysis.seed), ctx.shape.levels
    if len(sites) <= 1:
        return figures.group_layout(nodes, union, group, levels, seed), []
    pos, site_labels = {}, []
    for k, site in enumerate(sites):
        members = [v for v in nodes if site_of.get(v, "") == site]
        inner = figures.group_layout(members, [e for e in union if site_of.get(e[0], "") == site], group, levels,
                                     seed)
        pos.update({v: (x + figures.SITE_WIDTH * k, y) for v, (x, y) in inner.items()})
        site_labels.append((site, figures.SITE_WIDTH * k))
    return pos, site_labels
