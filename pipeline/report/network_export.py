"""Network exports: GraphML / GEXF per graph and RSiena-ready matrices (the I/O edge of the stage).

Layout under ``outdir`` (explained for the user in ``README.md`` there)::

    README.md                                   what each file is and how to open it
    graphs/<site>/<wave>/<tie_type>.graphml     GraphML (Gephi, igraph, networkx, yEd)
    graphs/<site>/<wave>/<tie_type>.gexf        GEXF (Gephi)
    rsiena/<site>/<tie_type>/net_<k>_<wave>.csv adjacency per wave (k = 1, 2, … in wave order)
    rsiena/<site>/<tie_type>/covariates.csv     respondent_id, group, group_code (0, 1, …)
    rsiena/<site>/<tie_type>/presence.csv       respondent_id, one 0/1 column per wave
    rsiena/<site>/<tie_type>/fit_rsiena.R       reads the three and fits a small SAOM

In GraphML and GEXF a node's id is its pseudonym, the same person in every wave and tie type
(never an index), with ``group`` and the node measures of :func:`pipeline.analysis.network.run`
(``network_nodes``); an edge ego → alter carries ``tie_type`` (for ``any``: the types it is,
space-separated) and, where the respondent said how often, ``weight`` (contact frequency 1–4;
for ``any`` the highest); the graph carries ``site``, ``wave``, ``tie_type``. The RSiena
matrices share one actor set per site (everyone who answered in any wave, sorted by pseudonym,
the same row order in every file); rows and columns of actors absent in a wave are ``NA``, and
``fit_rsiena.R`` builds ``sienaCompositionChange`` from ``presence.csv``.

Check ``network_change.rsiena_ok`` (Jaccard > 0.3) before fitting a SAOM.
"""

from __future__ import annotations

import csv
import io
import re
import time
from pathlib import Path
from typing import Any, Sequence

import igraph as ig
import numpy as np
import pandas as pd

from ..io import atomic_path, write_csv, write_text
from ..analysis.network import NODE_COLUMNS
from .graph_files import GraphView, write_gexf, write_graphml
from .text import s

_KEY_COLUMNS = ("respondent_id", "site", "wave", "tie_type", "group")


def _safe(part: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", str(part)) or "_"


def folder_names(values) -> dict[str, str]:
    """A folder name for each value (site, wave or tie type): spaces and punctuation made ``_``;
    values that would share one (``Desa A``, ``Desa_A``) get ``-1``, ``-2``, … in sorted order,
    as the village pages are named (pipeline/report/villages.py)."""
    out: dict[str, str] = {}
    used: set[str] = set()
    for value in sorted(set(map(str, values))):
        name = base = _safe(value)
        n = len(used)
        while name in used:
            name, n = f"{base}-{n}", n + 1
        used.add(name)
        out[value] = name
    return out


def _with_measures(g: ig.Graph, node_table: pd.DataFrame, parts: dict | None = None) -> ig.Graph:
    """Copy of ``g`` with the node measures of its site × wave × tie type as vertex attributes
    (``parts``: ``node_table`` already split by site, wave and tie type, see :func:`_split`)."""
    g = g.copy()
    key = (str(g["site"]), str(g["wave"]), str(g["tie_type"]))
    if parts is not None:
        sel = parts.get(key, node_table.iloc[:0]).set_index("respondent_id")
    else:
        sel = node_table[(node_table["site"] == g["site"]) & (node_table["wave"] == g["wave"])
                         & (node_table["tie_type"] == g["tie_type"])].set_index("respondent_id")
    for col in NODE_COLUMNS:
        if col in _KEY_COLUMNS or col not in sel.columns:
            continue
        values = sel[col].reindex(g.vs["name"])
        g.vs[col] = [float(v) if pd.notna(v) else float("nan") for v in values]
    return g


def _split(df: pd.DataFrame, keys: list[str]) -> dict[tuple, pd.DataFrame]:
    """``df`` split by ``keys`` (as strings) in one pass: a per-graph filter of the whole table, once
    per graph, was quadratic at 200 villages."""
    if df is None or not len(df):
        return {}
    cols = [df[k].astype(str) for k in keys]
    return {k if isinstance(k, tuple) else (k,): part for k, part in df.groupby(cols, sort=False)}


def _edge_attrs(ties: pd.DataFrame | None) -> dict[tuple[str, str, str], pd.DataFrame]:
    """Every graph's edge attributes at once: ``(site, wave, tie_type) -> frame`` of ``ego``,
    ``alter``, ``label`` (the sorted tie types of the pair, space-separated) and ``weight`` (the
    largest numeric weight, NaN without one); tie type ``any`` joins the tie types of a pair."""
    if ties is None or not len(ties):
        return {}
    t = pd.DataFrame({c: ties[c].astype(str) for c in ("site", "wave", "tie_type", "ego", "alter")})
    t["weight"] = pd.to_numeric(ties["weight"], errors="coerce") if "weight" in ties else np.nan
    keys = ["site", "wave", "tie_type", "ego", "alter"]
    per = t.groupby(keys, sort=False)["weight"].max().reset_index()
    per["label"] = per["tie_type"]
    types = sorted(per["tie_type"].unique())
    bit = {tt: 1 << i for i, tt in enumerate(types)}
    per["_b"] = per["tie_type"].map(bit)
    anyt = per.groupby(["site", "wave", "ego", "alter"], sort=False).agg(_b=("_b", "sum"), weight=("weight", "max"))
    anyt = anyt.reset_index()
    labels = {m: " ".join(tt for tt in types if m & bit[tt]) for m in pd.unique(anyt["_b"])}
    anyt["label"] = anyt["_b"].map(labels)
    anyt["tie_type"] = "any"
    both = pd.concat([per, anyt], ignore_index=True)[["site", "wave", "tie_type", "ego", "alter", "label", "weight"]]
    return _split(both, ["site", "wave", "tie_type"])


def _edges(ties: pd.DataFrame | None, site: str, wave: str, tie_type: str) -> dict[tuple[str, str], dict]:
    """``(ego, alter) -> {"tie_type", "weight"?}`` for one graph, from the canonical ties."""
    if ties is None or not len(ties):
        return {}
    t = ties[(ties["site"].astype(str) == str(site)) & (ties["wave"].astype(str) == str(wave))]
    if tie_type != "any":
        t = t[t["tie_type"].astype(str) == str(tie_type)]
    out: dict[tuple[str, str], dict] = {}
    for (ego, alter), part in t.groupby(["ego", "alter"], sort=False):
        attrs: dict = {"tie_type": " ".join(sorted(set(part["tie_type"].astype(str))))}
        w = pd.to_numeric(part["weight"], errors="coerce").dropna() if "weight" in part else pd.Series([])
        if len(w):
            attrs["weight"] = float(w.max())
        out[(str(ego), str(alter))] = attrs
    return out


#: GEXF/GraphML coordinates: the layout's unit (a group's disc spans about one) in Gephi's pixels
POSITION_SCALE = 400.0
#: colours of the ties in Gephi, as in the report's sociogram: within a group grey, between groups
WITHIN_COLOR, BETWEEN_COLOR = "#9a9a9a", "#B3245C"


def _rgb(color: str) -> dict[str, Any]:
    """``"#0072B2"`` → ``{"r": 0, "g": 114, "b": 178, "a": 1.0}`` (a GEXF ``viz:color``)."""
    h = color.lstrip("#")
    return {"r": int(h[0:2], 16), "g": int(h[2:4], 16), "b": int(h[4:6], 16), "a": 1.0}


def _file_view(gm: ig.Graph, edges: dict, pos: dict[str, tuple[float, float]] | None = None,
               colors: dict[str, str] | None = None) -> GraphView:
    """The graph as GraphML and GEXF hold it, read straight from igraph (no networkx graph).

    Node ids are the pseudonyms; node data are the vertex attributes but ``name`` (no igraph
    bookkeeping such as ``_igraph_index``) and, with ``pos`` (respondent → (x, y), the report's
    layout) and ``colors`` (group → ``#rrggbb``), a ``viz`` dict: the position scaled by
    :data:`POSITION_SCALE` and the group's colour. Edges in networkx's order (by source vertex),
    with their tie types and weights from ``edges`` (:func:`_edge_attrs`), ``between_groups``
    and, with ``colors``, the sociogram's colour (:data:`WITHIN_COLOR`, :data:`BETWEEN_COLOR`).
    """
    names = gm.vs["name"]
    attrs = [a for a in gm.vs.attributes() if a != "name"]
    cols = [gm.vs[a] for a in attrs]
    groups = [str(v) for v in gm.vs["group"]] if "group" in attrs else [""] * len(names)
    nodes = []
    for i, n in enumerate(names):
        data = {a: col[i] for a, col in zip(attrs, cols)}
        viz: dict[str, Any] = {}
        if colors and groups[i] in colors:
            viz["color"] = _rgb(colors[groups[i]])
        if pos and n in pos:
            x, y = pos[n]
            viz["position"] = {"x": round(x * POSITION_SCALE, 3), "y": round(y * POSITION_SCALE, 3), "z": 0.0}
        if viz:
            data["viz"] = viz
        nodes.append((n, data))
    e = edges.get((str(gm["site"]), str(gm["wave"]), str(gm["tie_type"])))
    attrs_of = {} if e is None else {
        (a, b): ({"tie_type": lab} if w != w else {"tie_type": lab, "weight": float(w)})
        for a, b, lab, w in zip(e["ego"], e["alter"], e["label"], e["weight"])}
    eattrs = [a for a in gm.es.attributes()]
    ecols = [gm.es[a] for a in eattrs]
    plain = {"tie_type": gm["tie_type"]}
    out = []
    for k, (a, b) in sorted(enumerate(gm.get_edgelist()), key=lambda x: x[1][0]):
        data = {att: col[k] for att, col in zip(eattrs, ecols)}
        data.update(attrs_of.get((names[a], names[b]), plain))
        data["between_groups"] = groups[a] != groups[b]
        if colors:
            data["viz"] = {"color": _rgb(BETWEEN_COLOR if data["between_groups"] else WITHIN_COLOR)}
        out.append((names[a], names[b], data))
    graph = {key: gm[key] for key in gm.attributes()}
    return GraphView(graph, nodes, out)


def write_exports(graphs: dict[tuple[str, str, str], ig.Graph], node_table: pd.DataFrame,
                  outdir: str | Path, waves: Sequence[str] | None = None,
                  date: str | None = None, ties: pd.DataFrame | None = None,
                  readme: str | None = None, positions: dict[str, dict[str, tuple[float, float]]] | None = None,
                  colors: dict[str, str] | None = None) -> list[Path]:
    """Write GraphML, GEXF and RSiena files for the graphs of :func:`pipeline.analysis.network.build_graphs`.

    Parameters
    ----------
    graphs : dict
        ``(site, wave, tie_type) -> igraph.Graph`` from ``build_graphs``.
    node_table : DataFrame
        ``network_nodes`` from :func:`pipeline.analysis.network.run`; its measures become vertex
        attributes.
    outdir : path
        Folder to write into (created if missing); every file is written atomically.
    waves : sequence of str, optional
        Wave order for the RSiena files; default: order of first appearance in ``graphs``.
    date : str, optional
        ``YYYY-MM-DD`` for the GEXF ``lastmodifieddate`` (default: networkx writes today's date),
        so that reruns on the same data give the same bytes.
    ties : DataFrame, optional
        The canonical ties table: gives the edges their ``tie_type`` and ``weight``.
    readme : str, optional
        The text of ``README.md`` (:func:`readme_text`); default a short generic one.
    positions : dict, optional
        site → {respondent → (x, y)}: the report's layout
        (:func:`pipeline.report.figures.site_positions`), written as GEXF ``viz:position`` and
        GraphML ``x``/``y``, so that Gephi opens each graph as the report draws it.
    colors : dict, optional
        group → ``#rrggbb`` (the report's group colours): GEXF ``viz:color``, GraphML
        ``r``/``g``/``b`` and ``color``; ties between groups coloured as in the sociogram.

    Returns
    -------
    list of Path
        The files written, in writing order.
    """
    outdir = Path(outdir)
    written: list[Path] = []
    parts = _split(node_table, ["site", "wave", "tie_type"])
    edges = _edge_attrs(ties)
    folder = {i: folder_names(k[i] for k in graphs) for i in range(3)}
    for (site, wave, tie_type), g in graphs.items():
        base = outdir / "graphs" / folder[0][site] / folder[1][wave] / folder[2][tie_type]
        nxg = _file_view(_with_measures(g, node_table, parts), edges, (positions or {}).get(site), colors)
        path = base.with_suffix(".graphml")
        write_graphml(nxg, path)
        written.append(path)
        path = base.with_suffix(".gexf")
        write_gexf(nxg, path, date or time.strftime("%Y-%m-%d"))
        written.append(path)
    written += _write_rsiena(graphs, outdir / "rsiena", waves, folder)
    write_text(outdir / "README.md", README if readme is None else readme)
    written.append(outdir / "README.md")
    return written


def _write_rsiena(graphs: dict[tuple[str, str, str], ig.Graph], outdir: Path,
                  waves: Sequence[str] | None, folder: dict[int, dict[str, str]]) -> list[Path]:
    if waves is None:
        waves = list(dict.fromkeys(k[1] for k in graphs))
    written: list[Path] = []
    sites = sorted({k[0] for k in graphs})
    for site in sites:
        present = [w for w in waves if any(k[0] == site and k[1] == w for k in graphs)]
        tie_types = list(dict.fromkeys(k[2] for k in graphs if k[0] == site))
        actors: dict[str, str] = {}
        membership: dict[str, set[str]] = {}
        for w in present:
            g0 = graphs[(site, w, tie_types[0])]
            for name, group in zip(g0.vs["name"], g0.vs["group"]):
                actors.setdefault(name, group)  # group from the first wave the actor is in
                membership.setdefault(w, set()).add(name)
        order = sorted(actors)
        index = {name: i for i, name in enumerate(order)}
        codes = {grp: i for i, grp in enumerate(sorted(set(actors.values())))}
        cov = pd.DataFrame({"respondent_id": order, "group": [actors[a] for a in order],
                            "group_code": [codes[actors[a]] for a in order]})
        pres = pd.DataFrame({"respondent_id": order})
        for w in present:
            pres[w] = [int(a in membership[w]) for a in order]
        for tie_type in tie_types:
            dest = outdir / folder[0][site] / folder[2][tie_type]
            for k, w in enumerate(present, start=1):
                g = graphs[(site, w, tie_type)]
                mat = np.full((len(order), len(order)), np.nan)
                here = np.array([index[n] for n in g.vs["name"]], dtype=np.int64)
                mat[np.ix_(here, here)] = 0.0
                names = g.vs["name"]
                for a, b in g.get_edgelist():
                    mat[index[names[a]], index[names[b]]] = 1.0
                path = dest / f"net_{k}_{folder[1][w]}.csv"
                _write_matrix(path, mat, order)
                written.append(path)
            for name, frame in (("covariates.csv", cov), ("presence.csv", pres)):
                write_csv(dest / name, frame)
                written.append(dest / name)
            write_text(dest / "fit_rsiena.R", RSIENA_SCRIPT)
            written.append(dest / "fit_rsiena.R")
    return written


def _write_matrix(path: Path, mat: np.ndarray, names: list[str]) -> None:
    """``mat`` (1, 0 or NaN) as the CSV ``pandas.DataFrame(mat, columns=names).astype("Int64").to_csv(index=False)``
    writes (NaN as an empty cell), without building the frame: 250 × 250 cells in milliseconds."""
    head = io.StringIO()
    csv.writer(head, lineterminator="\n").writerow(names)
    cells = np.where(np.isnan(mat), "", np.where(mat == 1, "1", "0"))
    body = "".join(",".join(row) + "\n" for row in cells.tolist())
    with atomic_path(path) as tmp:
        Path(tmp).write_text(head.getvalue() + body, encoding="utf-8")


#: ready R script beside each site × tie type's matrices (run it in that folder)
RSIENA_SCRIPT = r"""# sinergi: fit a small stochastic actor-oriented model (RSiena) to this folder's networks.
#   cd <this folder>; Rscript fit_rsiena.R
# Reads net_<k>_<wave>.csv (adjacency per wave; NA = not in that wave), covariates.csv (group)
# and presence.csv (who is in which wave), builds the composition change from presence.csv and
# fits density, reciprocity, transitive triplets, and egoX / altX / sameX on the group.
# Check network_change.csv (rsiena_ok: Jaccard > 0.3) first: with too little stability a SAOM
# does not estimate. On ~140 actors and two waves it converges in a few minutes.
files <- sort(Sys.glob("net_*_*.csv"))
if (length(files) < 2) stop("RSiena needs at least two waves; found ", length(files))
nets <- lapply(files, function(f) as.matrix(read.csv(f, check.names = FALSE)))
n <- nrow(nets[[1]])
for (m in nets) if (!identical(dim(m), c(n, n))) stop("the matrices do not share one actor set")
cov <- read.csv("covariates.csv", check.names = FALSE)
pres <- read.csv("presence.csv", check.names = FALSE)
stopifnot(nrow(cov) == n, nrow(pres) == n, identical(cov$respondent_id, colnames(nets[[1]])))
spells <- lapply(seq_len(n), function(i) {
  p <- which(unlist(pres[i, -1]) == 1)
  c(min(p), max(p))
})
cat(sprintf("read %d waves, %d actors, %d ties in the first wave\n", length(nets), n,
            sum(nets[[1]] == 1, na.rm = TRUE)))
if (!requireNamespace("RSiena", quietly = TRUE)) {
  cat("RSiena is not installed: install.packages('RSiena'), then run this script again\n")
  quit(save = "no", status = 0)
}
library(RSiena)
net <- sienaDependent(array(unlist(nets), dim = c(n, n, length(nets))))
group <- coCovar(cov$group_code)
cc <- sienaCompositionChange(spells)
data <- sienaDataCreate(net, group, cc)
eff <- getEffects(data)
eff <- includeEffects(eff, transTrip)
eff <- includeEffects(eff, egoX, altX, sameX, interaction1 = "group")
alg <- sienaAlgorithmCreate(projname = "sinergi", seed = 20261123)
fit <- siena07(alg, data = data, effects = eff, batch = TRUE, verbose = FALSE)
print(fit)
if (fit$tconv.max > 0.25) cat("not converged (overall maximum convergence ratio > 0.25): run again with prevAns = fit\n")
"""

def readme_text(lang: str, *, title: str, sites: Sequence[str], waves: Sequence[tuple[str, str]],
                tie_types: Sequence[tuple[str, str]], groups: Sequence[tuple[str, str]], weights: bool,
                villages: bool) -> str:
    """``exports/network/README.md`` for this study, in the report language: its own sites, waves,
    tie types (file name = label) and groups (value = label, with the RSiena ``group_code``).

    ``waves``, ``tie_types`` and ``groups`` are (value, label) pairs in the study's order;
    ``villages`` names the sites villages (the sinergi instrument) rather than sites; ``weights``
    says whether the ties carry a contact frequency.

    >>> text = readme_text("en", title="Lazega lawyers", sites=["SG&R"], waves=[("y1988", "1988")],
    ...                    tie_types=[("advice", "advice")], groups=[("boston", "Boston")],
    ...                    weights=False, villages=False)
    >>> "`advice` = advice" in text and "`boston` = Boston" in text and "village" not in text
    True
    """
    def pairs(items):
        return ", ".join(f"`{v}` = {label}" for v, label in items)

    codes = ", ".join(f"{i} = `{v}`" for i, v in enumerate(sorted(v for v, _ in groups)))
    unit = "_umkm" if villages else ""
    return s(lang, "netreadme", title=title, unit=s(lang, f"netreadme_unit{unit}"),
             units=s(lang, f"netreadme_units{unit}"), sites=", ".join(sites), waves=pairs(waves),
             ties=pairs(tie_types), groups=pairs(groups), codes=codes,
             weight=s(lang, "netreadme_weight" if weights else "netreadme_no_weight"))


#: ``exports/network/README.md`` of :func:`write_exports` when it is given none (the tests' graphs)
README = """# Network files

Written by sinergi from the study's ties. Every node id is a respondent's **pseudonym**, the same
person in every wave and tie type. Graphs in `graphs/<site>/<wave>/<tie type>.graphml` and `.gexf`
(and `any`, the union of the tie types); RSiena files with a ready `fit_rsiena.R` in
`rsiena/<site>/<tie type>/`. Folder and file names are the names with spaces and punctuation written
`_`; two names that differ only there (`Desa A`, `Desa_A`) get `Desa_A` and `Desa_A-1`. The study's
report writes this file with its own sites, waves, tie types and groups.
"""
