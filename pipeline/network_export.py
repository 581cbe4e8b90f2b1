"""Network exports: GraphML / GEXF per graph and RSiena-ready matrices (the I/O edge of the stage).

Layout under ``outdir``::

    graphs/<site>/<wave>/<tie_type>.graphml     igraph GraphML
    graphs/<site>/<wave>/<tie_type>.gexf        GEXF (Gephi), via network.to_networkx
    rsiena/<site>/<tie_type>/net_<k>_<wave>.csv adjacency per wave (k = 1, 2, … in wave order)
    rsiena/<site>/<tie_type>/covariates.csv     respondent_id, group, group_code (0, 1, …)
    rsiena/<site>/<tie_type>/presence.csv       respondent_id, one 0/1 column per wave

Vertices carry only pseudonyms (``name``), ``group`` and the node measures of
:func:`pipeline.network.run` (``network_nodes``). The RSiena matrices share one actor set per site
(everyone who answered in any wave, sorted by pseudonym, the same row order in every file);
rows and columns of actors absent in a wave are ``NA`` — RSiena treats them as missing, and with
joiners/leavers a composition change object should be made from ``presence.csv``::

    nets <- lapply(sort(Sys.glob("net_*.csv")),
                   function(f) as.matrix(read.csv(f, check.names = FALSE)))
    friendship <- sienaDependent(array(unlist(nets), dim = c(dim(nets[[1]]), length(nets))))
    cov <- read.csv("covariates.csv"); group <- coCovar(cov$group_code)
    pres <- read.csv("presence.csv", check.names = FALSE)
    cc <- sienaCompositionChange(lapply(seq_len(nrow(pres)), function(i) {
      p <- which(unlist(pres[i, -1]) == 1); c(min(p), max(p)) }))

Check ``network_change.rsiena_ok`` (Jaccard > 0.3) before fitting a SAOM.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Sequence

import igraph as ig
import networkx as nx
import numpy as np
import pandas as pd

from .errors import SinergiError
from .io import atomic_path, write_csv
from .network import NODE_COLUMNS, to_networkx

_KEY_COLUMNS = ("respondent_id", "site", "wave", "tie_type", "group")


def _safe(part: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", str(part)) or "_"


def _with_measures(g: ig.Graph, node_table: pd.DataFrame) -> ig.Graph:
    """Copy of ``g`` with the node measures of its site × wave × tie type as vertex attributes."""
    g = g.copy()
    sel = node_table[(node_table["site"] == g["site"]) & (node_table["wave"] == g["wave"])
                     & (node_table["tie_type"] == g["tie_type"])].set_index("respondent_id")
    for col in NODE_COLUMNS:
        if col in _KEY_COLUMNS or col not in sel.columns:
            continue
        values = sel[col].reindex(g.vs["name"])
        g.vs[col] = [float(v) if pd.notna(v) else float("nan") for v in values]
    return g


def write_exports(graphs: dict[tuple[str, str, str], ig.Graph], node_table: pd.DataFrame,
                  outdir: str | Path, waves: Sequence[str] | None = None,
                  date: str | None = None) -> list[Path]:
    """Write GraphML, GEXF and RSiena files for the graphs of :func:`pipeline.network.build_graphs`.

    Parameters
    ----------
    graphs : dict
        ``(site, wave, tie_type) -> igraph.Graph`` from ``build_graphs``.
    node_table : DataFrame
        ``network_nodes`` from :func:`pipeline.network.run`; its measures become vertex
        attributes.
    outdir : path
        Folder to write into (created if missing); every file is written atomically.
    waves : sequence of str, optional
        Wave order for the RSiena files; default: order of first appearance in ``graphs``.
    date : str, optional
        ``YYYY-MM-DD`` for the GEXF ``lastmodifieddate`` (default: networkx writes today's date),
        so that reruns on the same data give the same bytes.

    Returns
    -------
    list of Path
        The files written, in writing order.
    """
    outdir = Path(outdir)
    written: list[Path] = []
    used: dict[Path, tuple[str, str, str]] = {}
    for (site, wave, tie_type), g in graphs.items():
        base = outdir / "graphs" / _safe(site) / _safe(wave) / _safe(tie_type)
        if base in used:  # e.g. sites "Desa A" and "Desa_A": one file would overwrite the other
            raise SinergiError(f"network exports: {used[base]} and {(site, wave, tie_type)} would both be written "
                               f"to {base.relative_to(outdir)}.*; give the sites (or waves, tie types) names that "
                               "differ in letters or digits, not only in spaces or punctuation")
        used[base] = (site, wave, tie_type)
        gm = _with_measures(g, node_table)
        path = base.with_suffix(".graphml")
        with atomic_path(path) as tmp:
            gm.write_graphml(str(tmp))
        written.append(path)
        path = base.with_suffix(".gexf")
        nxg = to_networkx(gm)
        for _, data in nxg.nodes(data=True):
            data.pop("_nx_name", None)
        with atomic_path(path) as tmp:
            nx.write_gexf(nxg, tmp)
            if date:
                text = tmp.read_text(encoding="utf-8")
                tmp.write_text(re.sub(r'lastmodifieddate="[^"]*"', f'lastmodifieddate="{date}"',
                                      text, count=1), encoding="utf-8")
        written.append(path)
    written += _write_rsiena(graphs, outdir / "rsiena", waves)
    return written


def _write_rsiena(graphs: dict[tuple[str, str, str], ig.Graph], outdir: Path,
                  waves: Sequence[str] | None) -> list[Path]:
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
            folder = outdir / _safe(site) / _safe(tie_type)
            for k, w in enumerate(present, start=1):
                g = graphs[(site, w, tie_type)]
                mat = np.full((len(order), len(order)), np.nan)
                here = np.array([index[n] for n in g.vs["name"]], dtype=np.int64)
                mat[np.ix_(here, here)] = 0.0
                names = g.vs["name"]
                for a, b in g.get_edgelist():
                    mat[index[names[a]], index[names[b]]] = 1.0
                frame = pd.DataFrame(mat, columns=order).astype("Int64")
                path = folder / f"net_{k}_{_safe(w)}.csv"
                write_csv(path, frame)
                written.append(path)
            for name, frame in (("covariates.csv", cov), ("presence.csv", pres)):
                write_csv(folder / name, frame)
                written.append(folder / name)
    return written
