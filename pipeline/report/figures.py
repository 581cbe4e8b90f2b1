"""The report's figures (matplotlib/seaborn, Agg backend), deterministic across reruns.

Each ``*_figure`` function takes tidy frames and returns a :class:`matplotlib.figure.Figure`;
:func:`render` turns it into PNG bytes (150 dpi) and SVG text. Determinism: fixed font (DejaVu
Sans, shipped with matplotlib), ``svg.hashsalt`` fixed, no dates in the metadata, seeded jitter and
seeded network layouts (positions computed once on the union graph of all waves, so the before and
after panels are directly comparable).
"""

from __future__ import annotations

import io
import random
import textwrap
import warnings
from typing import Callable

import matplotlib
import matplotlib.patches
import matplotlib.pyplot as plt
import matplotlib.ticker
import numpy as np
import pandas as pd
from matplotlib.collections import LineCollection
from matplotlib.lines import Line2D

__all__ = ["setup", "render", "close", "group_palette", "dumbbell_figure", "distribution_figure",
           "sociogram_figure", "mixing_figure", "union_layout", "group_layout", "site_positions", "cross_share_figure", "group_ties_figure",
           "decimal_axes", "mean_bars_figure"]

#: Okabe–Ito colour-blind-safe colours, one per group level in study order.
PALETTE = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442"]
BRIDGE = "#B3245C"
DPI = 150
#: the language of the figures' numbers: "id" writes decimal commas (set by :func:`setup`)
_LANG = {"lang": "en"}


def setup(lang: str = "en") -> None:
    """Fixed style for every figure (called by the report before plotting); ``lang`` "id" gives
    the axes decimal commas (3,5) and thousands dots, as the report's text. Selects the Agg
    backend here, not on import (importing this module changes nothing)."""
    matplotlib.use("Agg")
    _LANG["lang"] = lang
    plt.rcdefaults()
    matplotlib.rcParams.update({
        "font.family": "DejaVu Sans",
        "font.size": 9,
        "axes.titlesize": 10,
        "axes.labelsize": 9,
        "svg.hashsalt": "sinergi",
        "svg.fonttype": "path",
        "figure.dpi": 100,
        "axes.spines.top": False,
        "axes.spines.right": False,
        "path.simplify": False,
    })


def render(fig, svg: bool = True) -> tuple[bytes, str]:
    """PNG bytes (150 dpi) and SVG text of ``fig`` (``""`` when ``svg`` is false); closes it."""
    png, text = io.BytesIO(), io.StringIO()
    fig.savefig(png, format="png", dpi=DPI, bbox_inches="tight", metadata={"Software": None})
    if svg:
        fig.savefig(text, format="svg", bbox_inches="tight", metadata={"Date": None, "Creator": None})
    plt.close(fig)
    return png.getvalue(), text.getvalue()


def close(fig) -> None:
    """Close ``fig`` without rendering it."""
    plt.close(fig)


def group_palette(levels: list[str]) -> dict[str, str]:
    """One colour of :data:`PALETTE` per group level, in study order."""
    return {lv: PALETTE[i % len(PALETTE)] for i, lv in enumerate(levels)}


class _DecimalFormatter(matplotlib.ticker.ScalarFormatter):
    """matplotlib's tick labels with the decimal comma and thousands dot of Bahasa Indonesia."""

    def __call__(self, x, pos=None):
        text = super().__call__(x, pos)
        return text.replace(",", "\0").replace(".", ",").replace("\0", ".")


def decimal_axes(ax, which: str = "both") -> None:
    """Write ``ax``'s numeric tick labels in the report language set by :func:`setup` (no-op in English)."""
    if _LANG["lang"] != "id":
        return
    if which in ("x", "both") and isinstance(ax.xaxis.get_major_formatter(), matplotlib.ticker.ScalarFormatter):
        ax.xaxis.set_major_formatter(_DecimalFormatter())
    if which in ("y", "both") and isinstance(ax.yaxis.get_major_formatter(), matplotlib.ticker.ScalarFormatter):
        ax.yaxis.set_major_formatter(_DecimalFormatter())


def _count(n: int) -> str:
    """A whole number with the thousands separator of the report language (1.234 / 1,234)."""
    text = f"{int(n):,}"
    return text.replace(",", ".") if _LANG["lang"] == "id" else text


def _pct(x: float) -> str:
    """A share as a whole percentage ("27%")."""
    return f"{100 * x:.0f}%" if np.isfinite(x) else "–"


# ---------------------------------------------------------------------------------------------
# trust and norms
# ---------------------------------------------------------------------------------------------

def dumbbell_figure(prepost: pd.DataFrame, dims: list[str], levels: list[str], *,
                    dim_label: Callable[[str], str], group_label: Callable[[str], str],
                    wave_labels: tuple[str, str], scale: tuple[float, float]):
    """Before → after means per dimension (rows) and group (colour), paired respondents only.

    ``prepost`` holds one wave pair (rows per dimension × group, as ``prepost.csv``).
    """
    pal = group_palette(levels)
    rows = []
    for d in dims:
        for g in levels:
            r = prepost[(prepost["dimension"] == d) & (prepost["group"] == g)]
            if len(r):
                rows.append((d, g, float(r["mean_pre"].iloc[0]), float(r["mean_post"].iloc[0])))
    height = 0.9 + 0.28 * len(rows) + 0.15 * len(dims)
    fig, ax = plt.subplots(figsize=(6.4, height))
    y, yticks, ylabels = 0.0, [], []
    for d in dims:
        block = [r for r in rows if r[0] == d]
        if not block:
            continue
        start = y
        for _, g, a, b in block:
            c = pal[g]
            if np.isfinite(a) and np.isfinite(b):
                ax.annotate("", xy=(b, y), xytext=(a, y),
                            arrowprops=dict(arrowstyle="-|>", color=c, lw=1.4, shrinkA=4, shrinkB=4,
                                            mutation_scale=9))
            ax.plot([a], [y], "o", mfc="white", mec=c, mew=1.5, ms=6, zorder=3)
            ax.plot([b], [y], "o", color=c, ms=6, zorder=3)
            y += 1
        yticks.append((start + y - 1) / 2)
        ylabels.append(dim_label(d))
        y += 0.6
    ax.set_yticks(yticks)
    ax.set_yticklabels(ylabels)
    ax.invert_yaxis()
    ax.set_xlim(scale[0] - 0.05, scale[1] + 0.05)
    decimal_axes(ax, "x")
    ax.grid(axis="x", color="#dddddd", lw=0.6)
    ax.set_axisbelow(True)
    handles = [Line2D([], [], marker="o", color=pal[g], ls="", ms=6, label=group_label(g)) for g in levels]
    handles += [Line2D([], [], marker="o", mfc="white", mec="#444444", ls="", ms=6, label=wave_labels[0]),
                Line2D([], [], marker="o", color="#444444", ls="", ms=6, label=wave_labels[1])]
    ax.legend(handles=handles, loc="upper center", bbox_to_anchor=(0.5, -0.08 if len(rows) > 8 else -0.15),
              ncol=min(4, len(handles)), frameon=False)
    fig.tight_layout()
    return fig


#: above this many scores in a panel the dots are drawn by :func:`_many_dots` (seaborn's stripplot
#: and an SVG path per dot took a minute for the 94,000 respondent-waves of 200 villages)
DOTS_MAX = 3000


def _many_dots(ax, part: pd.DataFrame, waves, levels, wave_label, group_label, pal, seed: int) -> None:
    """The respondents as jittered dots, dodged by group as seaborn's stripplot, one scatter per
    wave × group and rasterized (the SVG holds one bitmap instead of a path per dot)."""
    rng = np.random.default_rng(seed)
    k = max(1, len(levels))
    width = 0.8 / k
    for i, w in enumerate(waves):
        for j, g in enumerate(levels):
            y = part.loc[(part["wave"].astype(str) == str(w)) & (part["group"].astype(str) == str(g)),
                         "score"].to_numpy(float)
            if not y.size:
                continue
            x = i + (j - (k - 1) / 2) * width + rng.uniform(-0.18, 0.18, y.size) * width
            ax.scatter(x, y, s=1.2, color=pal[g], alpha=0.25, linewidths=0, rasterized=True, zorder=1)


def distribution_figure(scores: pd.DataFrame, dims: list[str], waves: list[str], levels: list[str], *,
                        dim_label: Callable[[str], str], group_label: Callable[[str], str],
                        wave_label: Callable[[str], str], scale: tuple[float, float], seed: int):
    """Box plots with the respondents as jittered dots: one panel per dimension, wave on x, group hue."""
    import seaborn as sns

    pal = group_palette(levels)
    data = scores[scores["dimension"].isin(dims) & scores["score"].notna()].copy()
    data["wave_l"] = pd.Categorical(data["wave"].astype(str).map(wave_label),
                                    categories=[wave_label(w) for w in waves])
    data["group_l"] = pd.Categorical(data["group"].astype(str).map(group_label),
                                     categories=[group_label(g) for g in levels])
    hue_pal = {group_label(g): pal[g] for g in levels}
    fig, axes = plt.subplots(1, len(dims), figsize=(3.2 * len(dims), 3.4), sharey=True, squeeze=False)
    for ax, d in zip(axes[0], dims):
        part = data[data["dimension"] == d]
        with warnings.catch_warnings():  # seaborn 0.13.2 passes `vert` that matplotlib 3.11 deprecates
            warnings.filterwarnings("ignore", message="vert: bool", category=DeprecationWarning)
            sns.boxplot(data=part, x="wave_l", y="score", hue="group_l", palette=hue_pal, ax=ax,
                        fliersize=0, width=0.6, boxprops=dict(alpha=0.55), legend=False)
        np.random.seed(seed)
        if len(part) <= DOTS_MAX:
            sns.stripplot(data=part, x="wave_l", y="score", hue="group_l", palette=hue_pal, ax=ax, dodge=True,
                          size=2.6, jitter=0.18, alpha=0.8, legend=False)
        else:  # a district: every respondent still a dot, one scatter per wave × group, drawn as a bitmap
            _many_dots(ax, part, waves, levels, wave_label, group_label, pal, seed)
        ax.set_title(textwrap.fill(dim_label(d), 30))
        ax.set_xlabel("")
        ax.set_ylabel("")
        ax.set_ylim(scale[0] - 0.2, scale[1] + 0.2)
        decimal_axes(ax, "y")
        ax.grid(axis="y", color="#eeeeee", lw=0.6)
        ax.set_axisbelow(True)
    handles = [Line2D([], [], marker="s", color=pal[g], ls="", ms=7, label=group_label(g)) for g in levels]
    fig.legend(handles=handles, loc="lower center", ncol=len(levels), frameon=False, bbox_to_anchor=(0.5, -0.02))
    fig.tight_layout(rect=(0, 0.07, 1, 1))
    return fig


# ---------------------------------------------------------------------------------------------
# network
# ---------------------------------------------------------------------------------------------

#: horizontal distance between the layouts of two sites in a sociogram (a layout spans [-1.2, 1.2])
SITE_WIDTH = 2.7


def union_layout(nodes: list[str], edges: list[tuple[str, str]], seed: int) -> dict[str, tuple[float, float]]:
    """Fruchterman–Reingold positions on the undirected union graph, from a seeded start.

    Isolates are placed on an outer ring so they do not crowd the centre.
    """
    import igraph as ig

    nodes = sorted(set(nodes))
    index = {v: i for i, v in enumerate(nodes)}
    g = ig.Graph(n=len(nodes), edges=sorted({tuple(sorted((index[a], index[b]))) for a, b in edges
                                             if a in index and b in index and a != b}))
    rng = np.random.default_rng(seed)
    start = rng.uniform(-1, 1, size=(len(nodes), 2)).tolist()
    if len(nodes) == 0:
        return {}
    ig.set_random_number_generator(random.Random(seed))  # FR layout draws from igraph's RNG
    try:
        coords = np.array(g.layout_fruchterman_reingold(seed=start, niter=1000).coords, dtype=float)
    finally:
        ig.set_random_number_generator(random)
    deg = np.array(g.degree())
    connected = deg > 0
    if connected.any():
        c = coords[connected]
        lo, hi = c.min(axis=0), c.max(axis=0)
        span = np.where(hi - lo > 0, hi - lo, 1.0)
        coords[connected] = (c - lo) / span * 2 - 1
    iso = np.flatnonzero(~connected)
    for k, i in enumerate(iso):
        angle = 2 * np.pi * k / max(len(iso), 1)
        coords[i] = (1.18 * np.cos(angle), 1.18 * np.sin(angle))
    return {v: (float(coords[index[v], 0]), float(coords[index[v], 1])) for v in nodes}


def group_layout(nodes: list[str], edges: list[tuple[str, str]], group: dict[str, str], levels: list[str],
                 seed: int) -> dict[str, tuple[float, float]]:
    """Positions that show the groups: each group laid out on its own and the groups set apart.

    Each group's members get :func:`union_layout` positions from the ties *within* the group only
    (members with no tie inside their group on the group's outer ring), scaled into a disc whose
    area is proportional to the group's size; the discs sit side by side in study order (two
    groups: left and right; more: around a circle). Ties between the groups then run between the
    discs, where a reader sees them, instead of inside one ball of every node. One group (or
    none known) is :func:`union_layout` itself.

    Parameters
    ----------
    nodes : list of str
        The respondents to place (pseudonyms).
    edges : list of (str, str)
        The ties of every wave and tie type (ego, alter); direction and repeats do not matter.
    group : dict
        Respondent → group level; a node without one is placed as a group of its own.
    levels : list of str
        The study's group levels in order (the order of the discs).
    seed : int
        Seeds every group's layout (:func:`union_layout`): the same input gives the same positions.

    Returns
    -------
    dict
        Respondent → (x, y), within about [-1.3, 1.3] × [-1.3, 1.3].

    Examples
    --------
    >>> pos = group_layout(["a", "b", "c", "d"], [("a", "b"), ("c", "d"), ("b", "c")],
    ...                    {"a": "x", "b": "x", "c": "y", "d": "y"}, ["x", "y"], seed=1)
    >>> max(pos["a"][0], pos["b"][0]) < min(pos["c"][0], pos["d"][0])
    True
    """
    nodes = sorted(set(nodes))
    of = {v: str(group.get(v, "")) for v in nodes}
    order = [g for g in levels if g in set(of.values())]
    order += sorted(set(of.values()) - set(order))
    if len(order) <= 1:
        return union_layout(nodes, edges, seed)
    k = len(order)
    size = {g: sum(1 for v in nodes if of[v] == g) for g in order}
    if k == 2:
        centres, r_max = [(-0.72, 0.0), (0.72, 0.0)], 0.5
    else:  # around a circle, the first group on the left
        angles = [np.pi - 2 * np.pi * i / k for i in range(k)]
        centres = [(0.8 * np.cos(a), 0.8 * np.sin(a)) for a in angles]
        r_max = min(0.5, 0.8 * np.sin(np.pi / k) * 0.8)
    big = max(size.values())
    pos: dict[str, tuple[float, float]] = {}
    for g, (cx, cy) in zip(order, centres):
        members = [v for v in nodes if of[v] == g]
        inner = union_layout(members, [(a, b) for a, b in edges if of.get(a) == g and of.get(b) == g], seed)
        r = r_max * np.sqrt(size[g] / big) / 1.18  # union_layout spans a disc of radius 1.18
        pos.update({v: (float(cx + r * x), float(cy + r * y)) for v, (x, y) in inner.items()})
    return pos


def site_positions(graphs: dict, waves: list[str], levels: list[str], seed: int,
                   sites: list[str] | None = None) -> dict[str, dict[str, tuple[float, float]]]:
    """Each site's :func:`group_layout` from its ``any`` graphs: the sociogram's positions.

    The nodes are everyone in a wave's ``any`` graph of the site, the ties those of every wave,
    each respondent in the group of the first wave (in ``waves`` order) they answered — what the
    network section draws, so that the interactive view and the Gephi files show the report's
    picture.

    Parameters
    ----------
    graphs : dict
        ``(site, wave, tie_type) -> igraph.Graph`` (:func:`pipeline.analysis.network.build_graphs`).
    waves : list of str
        The study's waves in order.
    levels : list of str
        The group levels in study order.
    seed : int
        The layout seed (``analysis.seed``).
    sites : list of str, optional
        Only these sites (default: every site of ``graphs``).

    Returns
    -------
    dict
        site → {respondent → (x, y)}.
    """
    rank = {w: i for i, w in enumerate(waves)}
    keys = sorted((k for k in graphs if k[2] == "any" and (sites is None or k[0] in sites)),
                  key=lambda k: (k[0], rank.get(k[1], len(rank))))
    members: dict[str, set[str]] = {}
    edges: dict[str, set[tuple[str, str]]] = {}
    group: dict[str, str] = {}
    for key in keys:
        site, g = key[0], graphs[key]
        names = g.vs["name"]
        members.setdefault(site, set()).update(names)
        edges.setdefault(site, set()).update((names[a], names[b]) for a, b in g.get_edgelist())
        for v, grp in zip(names, g.vs["group"]):
            group.setdefault(v, str(grp))
    return {site: group_layout(sorted(members[site]), sorted(edges[site]), group, levels, seed)
            for site in sorted(members)}


def _bounds(pos: dict[str, tuple[float, float]], labelled: bool) -> tuple[float, float, float, float]:
    """(x0, x1, y0, y1) of the positions with a margin for the dots (and the site names below)."""
    if not pos:
        return -1.3, 1.3, -1.3, 1.3
    xy = np.array(list(pos.values()), dtype=float)
    (x0, y0), (x1, y1) = xy.min(axis=0) - 0.12, xy.max(axis=0) + 0.12
    return float(x0), float(x1), float(y0) - (0.18 if labelled else 0.0), float(y1)


def _sociogram_panel(ax, panel: dict, pos: dict, nodes: list[str], xy: np.ndarray, group: dict[str, str],
                     pal: dict[str, str], show_labels: bool) -> None:
    """One wave: within-group ties grey, cross-group ties in :data:`BRIDGE`, nodes by group (faded
    when the person did not answer in that wave)."""
    within, between = [], []
    for a, b in panel["edges"]:
        if a in pos and b in pos:
            (between if group.get(a) != group.get(b) else within).append([pos[a], pos[b]])
    ax.add_collection(LineCollection(within, colors="#9a9a9a", linewidths=0.5, alpha=0.5, zorder=1))
    ax.add_collection(LineCollection(between, colors=BRIDGE, linewidths=0.7, alpha=0.45, zorder=2))
    present = panel["present"]
    colors = np.array([pal.get(group.get(v, ""), "#777777") for v in nodes], dtype=object)
    here = np.array([v in present for v in nodes], dtype=bool)
    if (~here).any():
        ax.scatter(xy[~here, 0], xy[~here, 1], s=30, c=list(colors[~here]), alpha=0.25,
                   edgecolors="#777777", linewidths=0.6, zorder=3)
    if here.any():
        ax.scatter(xy[here, 0], xy[here, 1], s=36, c=list(colors[here]), edgecolors="white", linewidths=0.6,
                   zorder=4)
    if show_labels:
        for v, (x, y) in zip(nodes, xy):
            ax.annotate(v, (x, y), fontsize=5, xytext=(3, 3), textcoords="offset points", color="#333333")


def sociogram_figure(panels: list[dict], pos: dict[str, tuple[float, float]], group: dict[str, str],
                     levels: list[str], *, group_label: Callable[[str], str], bridge_label: str,
                     absent_label: str, show_labels: bool = False,
                     site_labels: list[tuple[str, float]] | None = None):
    """Sociograms of the waves with shared positions (:func:`group_layout`, or :func:`union_layout`).

    ``panels``: ``[{"title": str, "edges": [(ego, alter), …], "present": set of respondent ids}]``.
    Within-group ties grey, cross-group ties in :data:`BRIDGE`; nodes coloured by group, faded
    when the person did not answer in that wave. The axes fit the positions; a layout much wider
    than tall (groups side by side) puts the waves one above the other, else side by side. With
    several sites, ``site_labels`` lists ``(site name, x offset)`` (site ``k``'s positions shifted
    right by ``k *`` :data:`SITE_WIDTH`) and each name is written under its site.
    """
    pal = group_palette(levels)
    x0, x1, y0, y1 = _bounds(pos, bool(site_labels))
    aspect = (x1 - x0) / max(y1 - y0, 1e-9)
    n = len(panels)
    stacked = aspect >= 1.6 and n > 1
    if stacked:
        width = min(9.0, max(6.4, 3.4 * aspect))
        fig, axes = plt.subplots(n, 1, figsize=(width, n * (width / aspect + 0.4) + 0.35), squeeze=False)
        axes = axes[:, 0]
    else:
        height = 4.9
        fig, axes = plt.subplots(1, n, figsize=(max(4.6, (height - 0.5) * aspect) * n, height), squeeze=False)
        axes = axes[0]
    nodes = sorted(pos)
    xy = np.array([pos[v] for v in nodes]) if nodes else np.zeros((0, 2))
    for ax, panel in zip(axes, panels):
        _sociogram_panel(ax, panel, pos, nodes, xy, group, pal, show_labels)
        for name, x in site_labels or []:
            ax.text(x, y0 + 0.02, name, ha="center", va="bottom", fontsize=9, color="#333333")
        ax.set_title(panel["title"])
        ax.set_xlim(x0, x1)
        ax.set_ylim(y0, y1)
        ax.set_aspect("equal")
        ax.axis("off")
    handles = [Line2D([], [], marker="o", color=pal[g], ls="", ms=7, label=group_label(g)) for g in levels]
    handles += [Line2D([], [], color=BRIDGE, lw=1.6, label=bridge_label),
                Line2D([], [], marker="o", color="#777777", alpha=0.3, ls="", ms=7, label=absent_label)]
    fig.legend(handles=handles, loc="lower center", ncol=len(handles), frameon=False, bbox_to_anchor=(0.5, 0.0))
    fig.tight_layout(rect=(0, 0.35 / fig.get_size_inches()[1], 1, 1))
    return fig


def mixing_figure(panels: list[dict], levels: list[str], *, group_label: Callable[[str], str],
                  from_label: str, to_label: str):
    """Heatmaps of tie counts (group × group) with row percentages, one per wave.

    ``panels``: ``[{"title": str, "matrix": DataFrame indexed/columned by group level}]``.
    """
    import seaborn as sns

    n = len(panels)
    fig, axes = plt.subplots(1, n, figsize=(3.3 * n + 0.6, 3.1), squeeze=False)
    vmax = max([float(p["matrix"].to_numpy().max()) for p in panels] + [1.0])
    for ax, p in zip(axes[0], panels):
        m = p["matrix"].reindex(index=levels, columns=levels).fillna(0)
        rows = m.sum(axis=1).replace(0, np.nan)
        share = m.div(rows, axis=0)
        annot = np.array([[f"{int(m.iloc[i, j])}\n({share.iloc[i, j] * 100:.0f}%)" if np.isfinite(share.iloc[i, j])
                           else f"{int(m.iloc[i, j])}" for j in range(len(levels))] for i in range(len(levels))])
        labels = [group_label(g) for g in levels]
        sns.heatmap(m.to_numpy(float), annot=annot, fmt="", cmap="Blues", vmin=0, vmax=vmax, cbar=False, ax=ax,
                    xticklabels=labels, yticklabels=labels, linewidths=1, linecolor="white",
                    annot_kws={"fontsize": 9})
        ax.set_title(p["title"])
        ax.set_xlabel(to_label)
        ax.set_ylabel(from_label)
        ax.tick_params(axis="y", rotation=0)
    fig.tight_layout()
    return fig


# ---------------------------------------------------------------------------------------------
# figures a village facilitator reads at a glance
# ---------------------------------------------------------------------------------------------

def cross_shares(network_whole: pd.DataFrame) -> pd.DataFrame:
    """Ties between groups and in all, per wave × tie type (summed over sites), from
    ``network_whole.csv`` (its ``ties_between`` and ``n_ties``).

    Returns
    -------
    DataFrame
        ``wave``, ``tie_type``, ``between`` (ties whose two ends are in different groups),
        ``total`` and ``share`` = between / total.

    Examples
    --------
    >>> w = pd.DataFrame({"site": ["a", "b"], "wave": "pre", "tie_type": "any", "ties_between": [1, 3],
    ...                   "n_ties": [4, 4]})
    >>> cross_shares(w).to_dict("records")
    [{'wave': 'pre', 'tie_type': 'any', 'between': 4, 'total': 8, 'share': 0.5}]
    """
    out = network_whole.groupby(["wave", "tie_type"], sort=False).agg(between=("ties_between", "sum"),
                                                                      total=("n_ties", "sum"))
    out = out.reset_index()
    out["share"] = out["between"] / out["total"].where(out["total"] > 0)
    return out


def cross_share_figure(shares: pd.DataFrame, waves: list[str], tie_types: list[str], *,
                       wave_label: Callable[[str], str], tie_label: Callable[[str], str], title: str):
    """Bars: the share of ties that cross groups, one group of bars per tie type, one bar per wave.

    ``shares`` as :func:`cross_shares`. Each bar is labelled with its percentage (the counts are
    in the whole-network table).

    Returns
    -------
    matplotlib.figure.Figure
    """
    colors = ["#9bb7cc", BRIDGE, "#5b6670", "#E69F00"]
    fig, ax = plt.subplots(figsize=(6.4, 2.9))
    width = 0.8 / max(1, len(waves))
    top = 0.0
    for k, w in enumerate(waves):
        vals = []
        for t in tie_types:
            r = shares[(shares["wave"] == w) & (shares["tie_type"] == t)]
            vals.append(float(r["share"].iloc[0]) if len(r) else np.nan)
        x = np.arange(len(tie_types)) + (k - (len(waves) - 1) / 2) * width
        bars = ax.bar(x, np.nan_to_num(vals), width * 0.92, color=colors[k % len(colors)], label=wave_label(w))
        for b, v in zip(bars, vals):
            ax.text(b.get_x() + b.get_width() / 2, b.get_height() + 0.01, _pct(v), ha="center", va="bottom",
                    fontsize=8)
        top = max([top] + [v for v in vals if np.isfinite(v)])
    ax.set_xticks(np.arange(len(tie_types)))
    ax.set_xticklabels([textwrap.fill(tie_label(t), 16) for t in tie_types])
    ax.set_ylim(0, min(1.0, top + 0.12) if top > 0 else 1.0)
    ax.yaxis.set_major_formatter(matplotlib.ticker.PercentFormatter(1.0, decimals=0))
    ax.set_title(title, loc="left")
    ax.legend(frameon=False, ncol=len(waves), loc="upper center", bbox_to_anchor=(0.5, -0.2))
    ax.grid(axis="y", color="#eeeeee", lw=0.6)
    ax.set_axisbelow(True)
    fig.tight_layout()
    return fig


def group_ties_figure(mixing: pd.DataFrame, sizes: pd.DataFrame, waves: list[str], tie_types: list[str],
                      levels: list[str], *, wave_label: Callable[[str], str], tie_label: Callable[[str], str],
                      group_label: Callable[[str], str], within_label: str):
    """A diagram of ties within and between groups: one panel per tie type (rows) and wave (columns).

    Each group is a circle (area ∝ its respondents in that wave, from ``sizes`` = ``network_groups.csv``)
    holding the number of ties inside it; an arrow from one group to another, as thick as the
    number of ties, carries that number. The same scale of thickness across all panels.

    Returns
    -------
    matplotlib.figure.Figure
    """
    pal = group_palette(levels)
    k = len(levels)
    angles = [np.pi - 2 * np.pi * i / k for i in range(k)] if k > 2 else [np.pi, 0.0]
    at = {g: (np.cos(a), np.sin(a) * (0 if k == 2 else 1)) for g, a in zip(levels, angles)}
    m = mixing.groupby(["wave", "tie_type", "from_group", "to_group"], as_index=False)["ties"].sum()
    vmax = max(1.0, float(m.loc[m["from_group"] != m["to_group"], "ties"].max())
               if (m["from_group"] != m["to_group"]).any() else 1.0)
    nmax = max(1.0, float(pd.to_numeric(sizes["n"], errors="coerce").max())) if len(sizes) else 1.0
    rows, cols = len(tie_types), len(waves)
    fig, axes = plt.subplots(rows, cols, figsize=(3.2 * cols, 1.5 * rows + 0.4), squeeze=False)
    for i, t in enumerate(tie_types):
        for j, w in enumerate(waves):
            ax = axes[i][j]
            part = m[(m["wave"] == w) & (m["tie_type"] == t)]
            sz = sizes[(sizes["wave"] == w) & (sizes["tie_type"] == t)]
            ties = {(str(a), str(b)): int(v) for a, b, v in zip(part["from_group"], part["to_group"], part["ties"])}
            for a in levels:
                for b in levels:
                    if a == b or not ties.get((a, b)):
                        continue
                    (x0, y0), (x1, y1) = at[a], at[b]
                    off = -0.18 * np.sign(x1 - x0) if k == 2 else 0.0  # the two directions apart
                    ax.annotate("", xy=(x1 * 0.55, y1 * 0.55 + off), xytext=(x0 * 0.55, y0 * 0.55 + off),
                                arrowprops=dict(arrowstyle="-|>", color=BRIDGE, alpha=0.8, mutation_scale=10,
                                                lw=0.6 + 5.0 * ties[(a, b)] / vmax, shrinkA=0, shrinkB=0))
                    ax.text((x0 + x1) / 2 * 0.55, (y0 + y1) / 2 * 0.55 + off * 1.9, _count(ties[(a, b)]),
                            ha="center", va="center", fontsize=8, color=BRIDGE)
            for g in levels:
                n = sz.loc[sz["group"] == g, "n"]
                n = float(n.iloc[0]) if len(n) else 0.0
                r = 0.18 + 0.22 * np.sqrt(n / nmax)
                x, y = at[g]
                ax.add_patch(matplotlib.patches.Circle((x, y), r, color=pal[g], alpha=0.85, zorder=3))
                inside = ties.get((g, g), 0)
                ax.text(x, y + 0.05, _count(inside),
                        ha="center", va="center", fontsize=9, color="white", fontweight="bold", zorder=4)
                ax.text(x, y - 0.13, within_label, ha="center", va="center", fontsize=6, color="white", zorder=4)
                if i == 0:
                    ax.text(x, y + r + 0.08, group_label(g), ha="center", va="bottom", fontsize=8)
            ax.set_xlim(-1.5, 1.5)
            ax.set_ylim(-0.75 if k == 2 else -1.5, 0.95 if k == 2 else 1.5)
            ax.set_aspect("equal")
            ax.axis("off")
            if i == 0:
                ax.set_title(wave_label(w), pad=14)
            if j == 0:
                ax.text(-1.5, 0.0, textwrap.fill(tie_label(t), 14), ha="right", va="center", fontsize=8)
    fig.tight_layout()
    return fig


def mean_bars_figure(values: list[tuple[str, float]], *, scale: tuple[float, float], color: str = "#0072B2",
                     highlight_last: bool = True, percent: bool = False):
    """Two or three bars of a mean score on its scale, labelled with the value (the handout's
    pictures); ``percent``: the values are shares, labelled "27%"."""
    fig, ax = plt.subplots(figsize=(2.9, 1.9))
    labels = [textwrap.fill(lab, 14) for lab, _ in values]
    vals = [v for _, v in values]
    colors = ["#9bb7cc"] * (len(vals) - 1) + [color] if highlight_last else [color] * len(vals)
    bars = ax.bar(range(len(vals)), [v - scale[0] for v in vals], bottom=scale[0], color=colors, width=0.6)
    for b, v in zip(bars, vals):
        text = _pct(v) if percent else f"{v:.1f}"
        if _LANG["lang"] == "id" and not percent:
            text = text.replace(".", ",")
        ax.text(b.get_x() + b.get_width() / 2, v + 0.05, text, ha="center", va="bottom", fontsize=10,
                fontweight="bold")
    ax.set_xticks(range(len(vals)))
    ax.set_xticklabels(labels)
    ax.set_ylim(scale[0], scale[1] + (scale[1] - scale[0]) * 0.1)
    ax.set_yticks([])
    ax.spines["left"].set_visible(False)
    ax.tick_params(axis="y", length=0, labelsize=7, colors="#5b6670")
    fig.tight_layout()
    return fig
