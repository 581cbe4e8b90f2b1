"""Network stage: local/migrant tie structure per site × wave × tie type, and its change.

One graph per site × wave × tie type (plus ``"any"``, the union of all tie types): a directed
igraph graph of nominations ego → alter in which every respondent of that site × wave is a vertex
(isolates count) with vertex attributes ``name`` (pseudonym) and ``group``. igraph is the
computing core; the group measures are computed from numpy edge arrays taken from the igraph graph
and checked against igraph / networkx / R in ``tests/analysis/test_network.py``. networkx is used only to
write GEXF, through :func:`to_networkx`, the single conversion point.

Directed or undirected — which graph each measure uses
------------------------------------------------------
=====================================  ===================================================
measure                                graph
=====================================  ===================================================
density, reciprocity, E-I (whole,      directed nominations, each nomination one tie
group), degree centralization,
mixing, assortativity,                 (UCINET's convention for directed data); tie weights
odds ratio / Yule's Q, Coleman,        are ignored everywhere (UCINET E-I, netseg and
modularity of the group partition,     networkx attribute assortativity ignore them too)
brokerage, betweenness
Freeman segregation, transitivity,     union ("collapse") undirected graph: a pair is tied
Leiden communities, node bonding /     if either nominated the other; Freeman's index is
bridging / degree / node E-I           defined for undirected graphs only (netseg ``freeman``)
constraint                             igraph's Burt constraint on the directed graph, which
                                       symmetrises p_ij over a_ij + a_ji (equals networkx)
components                             weak components of the directed graph
=====================================  ===================================================

Ties naming somebody who is not a respondent of that site × wave are dropped and counted in
``dropped_nonrespondent``; self-nominations and duplicate nominations are dropped.

Permutation tests are vectorised with numpy (no Python loop per permutation). Every p-value is
``(1 + #{null statistic at least as extreme}) / (1 + permutations)`` (never 0; Phipson & Smyth
2010), two-sided.

How permutations are drawn: the tie types of one site × wave (and ``"any"``) have the same
vertices and group labels, so their E-I tests share one block of ``permutations`` label
arrangements (:func:`ei_permutation_tests`, seeded from ``seed``, ``"ei"``, site and wave); the
ΔE-I and QAP tests of a site's wave pair share one block of actor swaps and one of actor
permutations (:func:`delta_ei_tests`, :func:`qap_correlations`, seeded from ``seed``,
``"change"``, site and the two waves). Each test is a valid Monte Carlo permutation test with
the same null as when run alone (the tie types' p-values are dependent, as tests on the same
people are anyway); Leiden is seeded from the graph key as before (its stream advanced past the
draws the graph's own E-I test made when each graph drew its own), so its communities did not
change. So which other sites are in the
run, and on which worker a site runs, never changes a number. (Before issue 24 every graph drew
its own permutations: the same nulls, other random streams, ≈ 2× the CPU.)

Cost at village scale (250 respondents, three tie types + ``"any"``, two waves, 5,000
permutations; one process, 10 villages of the 200-village benchmark study, at load ≈ 14): ≈ 0.19 s
of CPU per site (0.29 s before branch ``netspeed`` at the same load, 0.55 s with a block per
graph), of it ≈ 0.05 s QAP (0.015 s of it drawing the permutations: ``rng.permuted`` on 8-byte
items, an actors × permutations block whose rows are gathered contiguously, one bit per tie type in
a byte per cell, summed per class of cells eight permutations a 64-bit word), ≈ 0.012 s E-I per
wave (each edge of the tie types' union once, on 0/1 bytes summed eight lanes a word; half of it
drawing the label arrangements), ≈ 0.006 s ΔE-I (one product for a wave pair's tie types),
≈ 0.03 s Leiden (mostly igraph calling Python's ``random`` for every draw: its stream is what keeps
the communities unchanged), ≈ 0.026 s betweenness, ≈ 0.014 s building the graphs; the per-site
work is done on numpy keys (``ego · n + alter``) with no Python set or pandas frame per graph.

References
----------
Krackhardt, D. & Stern, R. N. (1988) Informal networks and organizational crises. *Social
Psychology Quarterly* 51(2):123-140.
Newman, M. E. J. (2003) Mixing patterns in networks. *Phys. Rev. E* 67:026126.
Bojanowski, M. & Corten, R. (2014) Measuring segregation in social networks. *Social Networks*
39:14-32 (R package netseg: ``orwg``, ``freeman``, ``coleman``).
Gould, R. V. & Fernandez, R. M. (1989) Structures of mediation. *Sociological Methodology*
19:89-126 (R package sna: ``brokerage``).
Burt, R. S. (1992) *Structural Holes*. Harvard University Press.
Freeman, L. C. (1979) Centrality in social networks: conceptual clarification. *Social Networks*
1(3):215-239 (degree centralization).
Snijders, T. A. B., van de Bunt, G. G. & Steglich, C. E. G. (2010) Introduction to stochastic
actor-based models for network dynamics. *Social Networks* 32:44-60 (Jaccard > 0.3).
Krackhardt, D. (1988) Predicting with networks: nonparametric multiple regression analysis of
dyadic data. *Social Networks* 10:359-381 (QAP).
"""

from __future__ import annotations

import itertools
import random
import threading
import zlib
from dataclasses import dataclass
from typing import Iterable, Iterator, Sequence

import igraph as ig
import numpy as np
import pandas as pd
import pyarrow as pa
from scipy import sparse
from threadpoolctl import threadpool_limits

from ..errors import SinergiError
from ..io import FrameParts
from ..parallel import map_sites
from ..order import in_canonical_order
from ..partitions import map_partitions

ANY = "any"
"""Name of the union-of-all-tie-types graph."""

ROLES = (("coordinator", "w_I"), ("itinerant", "w_O"), ("representative", "b_IO"),
         ("gatekeeper", "b_OI"), ("liaison", "b_O"))
"""Gould–Fernandez roles: (our name, sna::brokerage column)."""

WHOLE_COLUMNS = [
    "site", "wave", "tie_type", "n_nodes", "n_ties", "ties_between", "ties_within",
    "dropped_nonrespondent", "density", "reciprocity", "reciprocity_dyadic", "transitivity",
    "centralization_in", "centralization_out", "n_components", "largest_component", "ei",
    "ei_expected", "ei_rescaled", "ei_p", "assortativity",
    "assortativity_se", "odds_ratio", "yules_q", "freeman", "modularity_group", "leiden_n",
    "leiden_nmi", "note"]
GROUP_COLUMNS = ["site", "wave", "tie_type", "group", "n", "ties_internal", "ties_external", "ei",
                 "ties_external_sent", "ei_sent", "density_internal", "coleman"]
MIXING_COLUMNS = ["site", "wave", "tie_type", "from_group", "to_group", "ties"]
NODE_COLUMNS = ["respondent_id", "site", "wave", "tie_type", "group", "out_degree", "in_degree",
                "degree", "bonding", "bridging", "ei", "betweenness", "constraint"] + \
    [r for r, _ in ROLES]
BROKERAGE_COLUMNS = ["site", "wave", "tie_type", "role", "sna_role", "observed", "expected", "sd",
                     "z"]
CHANGE_COLUMNS = [
    "site", "tie_type", "wave_pre", "wave_post", "n_common", "jaccard", "hamming", "kept", "new",
    "dropped", "new_within", "new_between", "dropped_within", "dropped_between", "ei_pre",
    "ei_post", "delta_ei", "delta_ei_p", "qap_r", "qap_p", "rsiena_ok", "note"]

_CHUNK_CELLS = 4_000_000  # permutation work arrays are chunked to about this many cells
_QAP_CHUNK_CELLS = 640_000  # QAP gathers a byte per cell and permutation, blocks of about this many
_ROW_BLOCK = 64  # E-I label arrangements draw the uniforms of this many vertices at a time
_SWAR_ROWS = 255  # E-I sums this many 0/1 bytes per lane of a 64-bit word before unpacking
_DENSE_LOOKUP_MAX = 1500  # QAP looks ties up in a dense n × n int64 matrix (18 MB) up to this n
_BITSET_MAX = 20000  # brokerage looks ties up in a bit-packed n × n matrix up to this n
_IGRAPH_RNG_LOCK = threading.Lock()


# --------------------------------------------------------------------------------------------
# graphs
# --------------------------------------------------------------------------------------------

def analysed_tie_types(tie_types: Sequence[str], ties: pd.DataFrame | int) -> list[str]:
    """The tie types a study's networks are built for: ``tie_types``, or none when the ties table
    has no rows at all (a study without networks: no graphs, no network rows, no empty files).
    ``ties`` is the ties table or its number of rows (a partitioned file's footer says it).

    >>> analysed_tie_types(["info"], pd.DataFrame(columns=["tie_type"]))
    []
    >>> analysed_tie_types(["info"], 3)
    ['info']
    """
    rows = ties if isinstance(ties, (int, np.integer)) else len(ties)
    return [str(t) for t in tie_types] if rows else []


def _check_tie_types(tie_types: Sequence[str]) -> list[str]:
    tie_types = [str(t) for t in tie_types]
    if ANY in tie_types:
        raise SinergiError(f'tie type "{ANY}" is reserved for the union of all tie types; '
                           "rename it in the ties table")
    if len(set(tie_types)) != len(tie_types):
        raise SinergiError(f"tie types listed twice: {tie_types}")
    return tie_types


def build_graphs(respondents: pd.DataFrame, ties: pd.DataFrame,
                 tie_types: Sequence[str]) -> dict[tuple[str, str, str], ig.Graph]:
    """Build one directed igraph graph per site × wave × tie type, plus ``"any"``.

    Parameters
    ----------
    respondents : DataFrame
        Canonical respondents table (``respondent_id``, ``wave``, ``group``, ``site``).
    ties : DataFrame
        Canonical ties table (``site``, ``wave``, ``tie_type``, ``ego``, ``alter``, ``weight``).
        Rows whose ``tie_type`` is not in ``tie_types`` are ignored.
    tie_types : sequence of str
        Tie types to build; ``"any"`` (their union) is added. Must not contain ``"any"``.

    Returns
    -------
    dict
        ``(site, wave, tie_type) -> igraph.Graph``. Vertices are the respondents of that
        site × wave sorted by ``respondent_id`` (attributes ``name``, ``group``); edges are the
        distinct nominations between them (weights ignored). Graph attributes ``site``,
        ``wave``, ``tie_type`` and ``dropped_nonrespondent`` (distinct nominations naming someone
        who is not a respondent of that site × wave).

    Examples
    --------
    >>> r = pd.DataFrame({"respondent_id": ["a", "b", "c"], "wave": "w1",
    ...                   "group": ["lokal", "lokal", "pendatang"], "site": "s"})
    >>> t = pd.DataFrame({"site": "s", "wave": "w1", "tie_type": "info",
    ...                   "ego": ["a", "a"], "alter": ["b", "z"], "weight": np.nan})
    >>> g = build_graphs(r, t, ["info"])[("s", "w1", "info")]
    >>> g.vcount(), g.ecount(), g["dropped_nonrespondent"]
    (3, 1, 1)
    """
    tie_types = _check_tie_types(tie_types)
    if not tie_types:  # a study without networks
        return {}
    # plain numpy arrays of Python str: hashing and sorting them is several times cheaper than
    # pandas' Arrow-backed strings, for the few hundred rows of a village
    resp = {c: _text(respondents[c]) for c in ("respondent_id", "wave", "group", "site")}
    tt = {c: _text(ties[c]) for c in ("site", "wave", "tie_type", "ego", "alter")}
    keep = np.isin(tt["tie_type"], np.asarray(tie_types, dtype=object)) & (tt["ego"] != tt["alter"])
    tt = {c: v[keep] for c, v in tt.items()}
    tgroups = _row_groups(tt["site"], tt["wave"])
    graphs: dict[tuple[str, str, str], ig.Graph] = {}
    people_groups = _row_groups(resp["site"], resp["wave"])
    for site, wave in sorted(people_groups):
        rows = people_groups[(site, wave)]
        ids = resp["respondent_id"][rows]
        order = np.argsort(ids, kind="stable")
        names = ids[order].tolist()
        n = len(names)
        group_of = resp["group"][rows][order]
        groups = group_of.tolist()
        uniques, labels = np.unique(group_of, return_inverse=True)  # sorted, as _group_codes
        codes = (labels.astype(np.int64).ravel(), [str(x) for x in uniques])
        sub = tgroups.get((site, wave), np.zeros(0, dtype=np.intp))
        sub_ego, sub_alter, types = tt["ego"][sub], tt["alter"][sub], tt["tie_type"][sub]
        # vectorised: vertex index of every ego / alter (-1 = not a respondent here), each
        # nomination as one int64 key ego * n + alter; sorted distinct keys = sorted edges
        where = pd.Index(names, dtype=object)
        if where.is_unique:
            ego, alter = where.get_indexer(sub_ego), where.get_indexer(sub_alter)
        else:  # a repeated id: its last row's vertex, as a dict would have it
            index = {name: i for i, name in enumerate(names)}
            ego, alter = (np.array([index.get(x, -1) for x in c], dtype=np.int64) for c in (sub_ego, sub_alter))
        ok = (ego >= 0) & (alter >= 0)
        key = ego.astype(np.int64) * n + alter
        # nominations naming a non-respondent (few): distinct (ego, alter) pairs per tie type
        bad = ~ok
        bad_pairs: dict[str, set] = {t: set() for t in tie_types}
        for t, e, a in zip(types[bad], sub_ego[bad], sub_alter[bad]):
            bad_pairs[t].add((e, a))
        for tie_type in tie_types + [ANY]:
            if tie_type == ANY:
                keys = np.unique(key[ok])
                dropped = len(set().union(*bad_pairs.values()))
            else:
                keys = np.unique(key[ok & (types == tie_type)])
                dropped = len(bad_pairs[tie_type])
            src, dst = keys // n if n else keys, keys % n if n else keys
            g = ig.Graph(n=n, edges=list(zip(src.tolist(), dst.tolist())), directed=True)
            g.vs["name"] = names
            g.vs["group"] = groups
            g._sinergi_arrays = _Arrays(n, src, dst, *codes)
            g["site"], g["wave"], g["tie_type"] = site, wave, tie_type
            g["dropped_nonrespondent"] = dropped
            graphs[(site, wave, tie_type)] = g
    return graphs


def _text(column: pd.Series) -> np.ndarray:
    """A column as a numpy array of Python ``str`` (``astype(str)``: a missing value is ``"nan"``)."""
    if isinstance(column.dtype, pd.StringDtype) and not column.hasnans:
        return column.to_numpy(dtype=object)
    return np.asarray(column.astype(str).to_list(), dtype=object)


def _row_groups(site: np.ndarray, wave: np.ndarray) -> dict[tuple[str, str], np.ndarray]:
    """Row positions per (site, wave), each in the rows' order (as ``groupby(["site", "wave"])``)."""
    s_codes, s_names = pd.factorize(site)
    w_codes, w_names = pd.factorize(wave)
    codes = s_codes.astype(np.int64) * max(len(w_names), 1) + w_codes
    order = np.argsort(codes, kind="stable")
    order = order[(s_codes[order] >= 0) & (w_codes[order] >= 0)]  # a missing site or wave: no group
    pairs, starts = np.unique(codes[order], return_index=True)
    bounds = np.append(starts, len(order))
    return {(str(s_names[c // len(w_names)]), str(w_names[c % len(w_names)])): order[bounds[i]:bounds[i + 1]]
            for i, c in enumerate(pairs)}


def to_networkx(g: ig.Graph):
    """Convert an igraph graph to a networkx graph: the single igraph → networkx conversion point.

    Vertex attributes (``name``, ``group`` and any node measures) and graph attributes are
    carried over; networkx node keys are the pseudonyms in ``name``.
    """
    nxg = g.to_networkx(vertex_attr_hashable="name")
    for key in g.attributes():
        nxg.graph[key] = g[key]
    return nxg


@dataclass(frozen=True)
class _Arrays:
    """numpy view of a graph: edge arrays, integer group codes and group names."""

    n: int
    src: np.ndarray
    dst: np.ndarray
    labels: np.ndarray  # int codes into `groups`
    groups: list[str]  # sorted group names present among the vertices

    @property
    def sizes(self) -> np.ndarray:
        return np.bincount(self.labels, minlength=len(self.groups)).astype(float)


def _group_codes(groups: Sequence) -> tuple[np.ndarray, list[str]]:
    labels, names = pd.factorize(pd.Series(list(groups), dtype=object).astype(str), sort=True)
    return labels.astype(np.int64), [str(x) for x in names]


def _arrays(g: ig.Graph) -> _Arrays:
    """numpy view of ``g``: kept from :func:`build_graphs` (graphs are never edited after it),
    else taken from igraph (a copy or subgraph has no kept view)."""
    kept = getattr(g, "_sinergi_arrays", None)
    if kept is not None and kept.n == g.vcount() and len(kept.src) == g.ecount():
        return kept
    m = g.ecount()
    flat = np.fromiter(itertools.chain.from_iterable(g.get_edgelist()), dtype=np.int64,
                       count=2 * m)
    return _Arrays(g.vcount(), flat[0::2].copy(), flat[1::2].copy(), *_group_codes(g.vs["group"]))


def _union_edges(src: np.ndarray, dst: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Distinct unordered pairs (lo, hi) of the directed edges (union / "collapse")."""
    if len(src) == 0:
        return src, dst
    lo, hi = np.minimum(src, dst), np.maximum(src, dst)
    n = int(hi.max()) + 1
    keys = np.unique(lo.astype(np.int64) * n + hi)  # sorted by (lo, hi), as the rows of the pairs
    return keys // n, keys % n


def _key_rng(seed: int, *key: str) -> np.random.Generator:
    """Generator seeded from ``seed`` and a stable hash of the graph key."""
    h = zlib.crc32("\x1f".join(key).encode("utf-8"))
    return np.random.default_rng([int(seed), h])


# --------------------------------------------------------------------------------------------
# group-level measures on mixing matrices (pure numpy; tested against netseg / igraph / R)
# --------------------------------------------------------------------------------------------

def mixing_matrix(src: np.ndarray, dst: np.ndarray, labels: np.ndarray, k: int) -> np.ndarray:
    """Mixing matrix ``M[g, h]`` = ties from group ``g`` to group ``h``.

    Parameters
    ----------
    src, dst : array of int
        Directed edges (for an undirected graph pass both directions to get Newman's
        symmetric matrix).
    labels : array of int
        Group code per vertex, ``0 .. k-1``.
    k : int
        Number of groups.

    Examples
    --------
    >>> mixing_matrix(np.array([0, 1, 2]), np.array([1, 2, 0]), np.array([0, 0, 1]), 2)
    array([[1., 1.],
           [1., 0.]])
    """
    m = np.zeros((k, k))
    np.add.at(m, (labels[src], labels[dst]), 1.0)
    return m


def pair_counts(sizes: np.ndarray) -> tuple[float, float]:
    """Numbers of possible within- and between-group ordered pairs ``(P_int, P_ext)``.

    ``P_int = Σ n_g (n_g − 1)``, ``P_ext = N (N − 1) − P_int``. For undirected graphs both halve,
    which leaves every ratio used here unchanged.
    """
    sizes = np.asarray(sizes, dtype=float)
    n = sizes.sum()
    p_int = float(np.sum(sizes * (sizes - 1)))
    return p_int, float(n * (n - 1) - p_int)


def ei(external, internal):
    """Krackhardt–Stern E-I index ``(E − I) / (E + I)``; NaN where ``E + I = 0``.

    The one definition of E-I in sinergi (netseg ``ei``: the mixing matrix gives ``E`` and ``I``,
    this gives the index). ``external`` and ``internal`` are tie counts between and within groups:
    scalars (a float is returned) or arrays of the same shape (an array, element by element).

    Examples
    --------
    WhiteKinship (netseg ``ei(WhiteKinship, "gender")`` = −0.1818182): 9 ties between, 13 within:

    >>> round(ei(9, 13), 7)
    -0.1818182
    >>> ei(3, 0), ei(0, 0)
    (1.0, nan)
    >>> ei(np.array([1, 0, 2]), np.array([1, 0, 0]))
    array([ 0., nan,  1.])
    """
    e = np.asarray(external, dtype=float)
    i = np.asarray(internal, dtype=float)
    total = e + i
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.where(total != 0, (e - i) / np.where(total != 0, total, 1.0), np.nan)
    return float(out) if out.ndim == 0 else out


def ei_parts(mix: np.ndarray) -> tuple[int, int]:
    """``(E, I)``: ties between groups (off the diagonal) and within groups (on it) of a mixing matrix.

    >>> ei_parts(np.array([[40, 2], [5, 41]]))
    (7, 81)
    """
    internal = float(np.trace(mix))
    return int(round(float(np.sum(mix)) - internal)), int(round(internal))


def ei_index(mix: np.ndarray) -> float:
    """:func:`ei` of a mixing matrix (``E`` off the diagonal, ``I`` on it); NaN without ties.

    Examples
    --------
    Classroom (netseg vignette, ``ei(Classroom, "gender")`` = −0.8409091):

    >>> round(ei_index(np.array([[40, 2], [5, 41]])), 7)
    -0.8409091
    """
    internal = float(np.trace(mix))
    return ei(float(np.sum(mix)) - internal, internal)


def ei_expected(sizes: np.ndarray) -> float:
    """E-I expected under random mixing: ``ei(P_ext, P_int) = (P_ext − P_int) / (P_ext + P_int)``.

    The value a graph with ties placed at random (or group labels shuffled) has on average; it
    is negative when groups are unequal, so a negative E-I alone is not homophily.

    Examples
    --------
    30 locals and 10 migrants (undirected pairs 480 within, 300 between):

    >>> round(ei_expected(np.array([30, 10])), 4)
    -0.2308
    """
    p_int, p_ext = pair_counts(sizes)
    return ei(p_ext, p_int)


def ei_rescaled(mix: np.ndarray, sizes: np.ndarray) -> float:
    """Density-rescaled E-I ``ei(d_ext, d_int) = (d_ext − d_int) / (d_ext + d_int)``, 0 under random mixing.

    ``d_ext = E / P_ext`` and ``d_int = I / P_int`` are the between- and within-group densities
    (egor ``EI(..., rescale = TRUE)``). NaN without ties or when a kind of pair cannot exist.
    """
    p_int, p_ext = pair_counts(sizes)
    external, internal = ei_parts(mix)
    if p_int == 0 or p_ext == 0:
        return float("nan")
    return ei(external / p_ext, internal / p_int)


def degree_centralization(degrees: np.ndarray) -> float:
    """Freeman's degree centralization of one direction of a directed graph without loops.

    ``sum(max(d) − d_i) / (n − 1)²``: the sum of the differences from the most central vertex,
    divided by its largest possible value (a star: one vertex receives, or sends, a tie from, or
    to, every other vertex). Equals igraph ``centr_degree(g, mode="in" | "out",
    loops=FALSE)$centralization`` and ``sna::centralization(g, degree, cmode="indegree" |
    "outdegree")``; NaN with fewer than two vertices. Freeman (1979).

    >>> float(degree_centralization(np.array([3, 0, 0, 0])))  # a star: every tie to one vertex
    1.0
    >>> float(degree_centralization(np.array([1, 1, 1])))     # a cycle: no vertex stands out
    0.0
    """
    n = len(degrees)
    if n < 2:
        return np.nan
    d = np.asarray(degrees, dtype=float)
    return float(np.sum(d.max() - d) / (n - 1) ** 2)


def _label_arrangements(rng: np.random.Generator, sizes: np.ndarray, count: int) -> np.ndarray:
    """``(n, count)`` int8 matrix: each column a uniform random arrangement of the group labels.

    Sequential selection sampling: vertex ``t`` gets group ``g`` with probability
    ``remaining_g / (n − t)``, which draws every arrangement of the label multiset with equal
    probability (the same distribution as shuffling the labels). One vectorised step per
    vertex over all ``count`` columns; rows are written contiguously (cache-friendly), unlike a
    per-row shuffle.
    """
    sizes = np.asarray(sizes, dtype=np.int64)
    n, k = int(sizes.sum()), len(sizes)
    out = np.empty((n, count), dtype=np.int8)
    if k == 2:
        left0 = np.full(count, float(sizes[0]))
        flags = out.view(bool)
        # the uniforms of _ROW_BLOCK vertices per call: rng.random fills its array in order, so
        # this draws the numbers one call per vertex would (vertex t's scaled by n − t, exactly)
        for start in range(0, n, _ROW_BLOCK):
            u = rng.random((min(n, start + _ROW_BLOCK) - start, count))
            u *= (n - np.arange(start, start + len(u), dtype=float))[:, None]
            for t, row in enumerate(u, start):
                lab = np.greater_equal(row, left0, out=flags[t])
                left0 -= ~lab
        return out
    remaining = np.tile(sizes.astype(float), (count, 1))
    rows = np.arange(count)
    for t in range(n):
        u = rng.random(count) * (n - t)
        lab = np.count_nonzero(u[:, None] >= np.cumsum(remaining, axis=1), axis=1)
        out[t] = lab
        remaining[rows, lab] -= 1
    return out


def _chunks(total: int, per_item: int, cells: int = _CHUNK_CELLS) -> Iterable[int]:
    size = max(1, min(total, cells // max(per_item, 1)))
    done = 0
    while done < total:
        step = min(size, total - done)
        yield step
        done += step


def ei_permutation_test(src: np.ndarray, dst: np.ndarray, labels: np.ndarray,
                        permutations: int, rng: np.random.Generator) -> float:
    """Two-sided label-permutation p-value of the whole-network E-I index of one graph.

    :func:`ei_permutation_tests` with one graph (the same draws, the same p-value).
    """
    return ei_permutation_tests([(src, dst)], labels, permutations, rng)[0]


def ei_permutation_tests(graphs: Sequence[tuple[np.ndarray, np.ndarray]], labels: np.ndarray,
                         permutations: int, rng: np.random.Generator) -> list[float]:
    """Two-sided label-permutation p-values of the whole-network E-I index of graphs on the same
    vertices and labels (the tie types of one site × wave), on one shared block of permutations.

    Each graph is held fixed and the group labels are shuffled across all vertices (isolates
    included; UCINET's E-I test). Under that null the mean of E-I is exactly
    :func:`ei_expected`, so the test is two-sided around it:
    ``p = (1 + #{|EI* − EI_exp| ≥ |EI − EI_exp|}) / (1 + permutations)``.

    How permutations are drawn: one block of ``permutations`` uniform label arrangements
    (:func:`_label_arrangements`, drawn from ``rng`` in chunks) is evaluated on every graph of
    ``graphs``, so each graph's test is a valid Monte Carlo permutation test with the same null
    as one run alone; the graphs' p-values share their random arrangements (they are dependent,
    as tests on the same people are anyway). The first graph gets the draws it would get alone.

    Vectorised, no Python loop per permutation, and exact (integer counts): the graphs' edges
    are taken as one union split into classes (the graphs an edge belongs to, with its
    multiplicity in each), so an edge held by several graphs (every tie type's edges are also
    ``"any"``'s) is evaluated once. Per class, the between-group ties of every arrangement are
    counted on bytes: the arrangements of a vertex are one row of 0/1 (or group-code) bytes, an
    edge's row is the XOR (two groups) or ``!=`` of its endpoints' rows, and the rows are summed
    as 64-bit words, eight byte lanes at a time (at most :data:`_SWAR_ROWS` rows per sum, so a
    lane never carries). A graph's count is the sum of its classes'.

    Returns
    -------
    list of float
        One p-value per graph; NaN for a graph without ties, or with fewer than two groups.
    """
    n = len(labels)
    k = int(labels.max(initial=-1)) + 1
    out = [float("nan")] * len(graphs)
    if k < 2 or permutations <= 0:
        return out
    sizes = np.bincount(labels, minlength=k)
    if np.count_nonzero(sizes) < 2:
        return out
    expected = ei_expected(sizes)
    tests = []  # (index, m, threshold)
    keys = []  # per test: its distinct edge keys and their multiplicities
    for i, (src, dst) in enumerate(graphs):
        src, dst = np.asarray(src, dtype=np.int64), np.asarray(dst, dtype=np.int64)
        m = len(src)
        if m == 0:
            continue
        observed = (m - 2.0 * np.count_nonzero(labels[src] == labels[dst])) / m
        tests.append((i, m, abs(observed - expected) - 1e-12))
        keys.append(np.unique(src * n + dst, return_counts=True))
    if not tests:
        return out
    union = np.unique(np.concatenate([u for u, _ in keys]))
    member = np.zeros((len(union), len(tests)), dtype=np.int64)  # multiplicity of each edge per test
    for t, (u, c) in enumerate(keys):
        member[np.searchsorted(union, u), t] = c
    classes, cls = np.unique(member, axis=0, return_inverse=True)
    order = np.argsort(cls.ravel(), kind="stable")
    starts = np.searchsorted(cls.ravel()[order], np.arange(len(classes) + 1))
    usrc, udst = union[order] // n, union[order] % n
    m_all = np.array([m for _, m, _ in tests], dtype=float)
    hits = np.zeros(len(tests), dtype=np.int64)
    for count in _chunks(permutations, n, cells=4 * _CHUNK_CELLS):
        arrangement = _label_arrangements(rng, sizes, count)  # (n, count) int8
        if count % 8:  # whole 64-bit words per row (the padding lanes are ignored)
            arrangement = np.pad(arrangement, ((0, 0), (0, 8 - count % 8)))
        words = arrangement.view(np.uint64)
        between = np.zeros((len(classes), count), dtype=np.int64)
        for c in range(len(classes)):
            for lo in range(starts[c], starts[c + 1], _SWAR_ROWS):
                hi = min(lo + _SWAR_ROWS, starts[c + 1])
                if k == 2:  # labels 0/1: XOR is 1 exactly between groups
                    differ = words[usrc[lo:hi]] ^ words[udst[lo:hi]]
                else:
                    differ = (arrangement[usrc[lo:hi]] != arrangement[udst[lo:hi]]).view(np.uint64)
                between[c] += np.add.reduce(differ, axis=0).view(np.uint8)[:count]
        internal = m_all[:, None] - classes.T.astype(float) @ between  # exact: integers below 2**53
        ei_null = (m_all[:, None] - 2.0 * internal) / m_all[:, None]
        hits += np.count_nonzero(np.abs(ei_null - expected) >= np.array([t[2] for t in tests])[:, None], axis=1)
    for (i, _, _), h in zip(tests, hits):
        out[i] = (int(h) + 1) / (permutations + 1)
    return out


def assortativity(mix: np.ndarray) -> float:
    """Newman's nominal assortativity ``r = (Σ e_gg − Σ a_g b_g) / (1 − Σ a_g b_g)``.

    ``e = M / ΣM``, ``a`` row sums, ``b`` column sums (Newman 2003, eq. 2). On a directed mixing
    matrix this equals igraph ``assortativity_nominal(directed=True)`` and networkx
    ``attribute_assortativity_coefficient`` on a DiGraph; netseg ``assort`` instead symmetrises a
    directed matrix first (netseg#23), which differs slightly. NaN without ties or when
    ``Σ a_g b_g = 1`` (all ties inside one group).
    """
    total = float(np.sum(mix))
    if total == 0:
        return float("nan")
    e = mix / total
    s = float(np.sum(e.sum(axis=1) * e.sum(axis=0)))
    if abs(s - 1.0) <= 1e-08 + 1e-05 * 1.0:  # np.isclose(s, 1.0), without its array overhead
        return float("nan")
    return (float(np.trace(e)) - s) / (1.0 - s)


def assortativity_jackknife_se(mix: np.ndarray) -> float:
    """Newman's (2003) jackknife standard error of :func:`assortativity`.

    ``σ_r² = Σ_i (r_i − r)²`` over the ties ``i``, with ``r_i`` the coefficient with tie ``i``
    removed (Newman's formula, without the ``(m−1)/m`` factor of the textbook jackknife).
    ``r_i`` depends only on the group pair of tie ``i``, so the sum runs over the ``k²`` cells
    weighted by their counts — exact, no loop over ties. NaN with fewer than two ties.
    """
    total = float(np.sum(mix))
    r = assortativity(mix)
    if total < 2 or np.isnan(r):
        return float("nan")
    var = 0.0
    for g, h in zip(*np.nonzero(mix)):
        m2 = mix.astype(float).copy()
        m2[g, h] -= 1
        r_i = assortativity(m2)
        if np.isnan(r_i):
            return float("nan")
        var += mix[g, h] * (r_i - r) ** 2
    return float(np.sqrt(var))


def odds_ratio_within(mix: np.ndarray, sizes: np.ndarray) -> tuple[float, float]:
    """Odds ratio of a tie for within- vs between-group dyads, and Yule's Q.

    netseg ``orwg`` (Moody 2001): with ``a`` within-group ties, ``b`` between-group ties,
    ``c = P_int − a`` and ``d = P_ext − b`` the unconnected within / between dyads (ordered
    pairs for directed graphs), ``OR = a d / (b c)`` and ``Q = (OR − 1) / (OR + 1)``.
    ``OR = inf`` (``Q = 1``) when no between-group tie exists but within-group ones do;
    NaN when undefined (0/0).

    Examples
    --------
    Classroom (netseg README, ``orwg(Classroom, "gender")`` = 16.58071):

    >>> round(odds_ratio_within(np.array([[40, 2], [5, 41]]), np.array([13, 13]))[0], 5)
    16.58071
    """
    p_int, p_ext = pair_counts(sizes)
    a = float(np.trace(mix))
    b = float(np.sum(mix)) - a
    c, d = p_int - a, p_ext - b
    num, den = a * d, b * c
    if den == 0:
        if num == 0:
            return float("nan"), float("nan")
        return float("inf"), 1.0
    ratio = num / den
    return ratio, (num - den) / (num + den)


def freeman_segregation(n_cross: float, n_edges: float, sizes: np.ndarray) -> float:
    """Freeman's segregation index for an undirected graph, generalised to k groups, untruncated.

    ``S = (E[C] − C) / E[C]`` with ``C`` the observed between-group edges and
    ``E[C] = m (N² − Σ n_g²) / (N (N − 1))`` (netseg ``freeman``, Bojanowski & Corten 2014).
    NaN without edges or with one group.

    Examples
    --------
    White's kinship data (netseg ``freeman(WhiteKinship, "gender")`` = 0.2636364):
    22 edges, 9 between genders, 5 women and 5 men.

    >>> round(freeman_segregation(9, 22, np.array([5, 5])), 7)
    0.2636364
    """
    sizes = np.asarray(sizes, dtype=float)
    n = sizes.sum()
    if n_edges == 0 or n < 2:
        return float("nan")
    expected = n_edges * (n * n - np.sum(sizes ** 2)) / (n * (n - 1))
    if expected == 0:
        return float("nan")
    return float((expected - n_cross) / expected)


def coleman_index(mix: np.ndarray, sizes: np.ndarray) -> np.ndarray:
    """Coleman's homophily index per group (netseg ``coleman``; directed).

    ``D_g`` ties sent by ``g``, ``W_g = M_gg``, ``E_g = D_g (n_g − 1) / (N − 1)``;
    ``(W − E)/(D − E)`` if ``W > E`` else ``(W − E)/E``. NaN for a group that sends no tie.
    """
    sizes = np.asarray(sizes, dtype=float)
    sent = mix.sum(axis=1).astype(float)
    within = np.diag(mix).astype(float)
    n = sizes.sum()
    with np.errstate(divide="ignore", invalid="ignore"):
        expected = sent * (sizes - 1) / (n - 1) if n > 1 else np.full_like(sent, np.nan)
        high = (within - expected) / (sent - expected)
        low = (within - expected) / expected
        out = np.where(within > expected, high, low)
    out[sent == 0] = np.nan
    return out


# --------------------------------------------------------------------------------------------
# brokerage (Gould & Fernandez; sna::brokerage)
# --------------------------------------------------------------------------------------------

def _has_tie(keys: np.ndarray, n: int, a: np.ndarray, c: np.ndarray) -> np.ndarray:
    """Vectorised ``a[i] → c[i]`` is a tie, given the sorted edge keys ``src * n + dst``.

    Up to ``_BITSET_MAX`` vertices through a bit-packed adjacency matrix (n²/8 bytes), beyond
    that by binary search in the keys.
    """
    if len(keys) == 0:
        return np.zeros(len(a), dtype=bool)
    if n <= _BITSET_MAX:
        width = (n + 7) // 8
        src, dst = keys // n, keys % n
        byte = src * width + (dst >> 3)  # non-decreasing, because the keys are sorted
        first = np.flatnonzero(np.r_[True, byte[1:] != byte[:-1]])
        bits = np.zeros(n * width, dtype=np.uint8)
        bits[byte[first]] = np.bitwise_or.reduceat(np.left_shift(1, dst & 7).astype(np.uint8), first)
        return ((bits[a * width + (c >> 3)] >> (c & 7).astype(np.uint8)) & 1).astype(bool)
    ac = a * n + c
    hit = np.minimum(np.searchsorted(keys, ac), len(keys) - 1)
    return keys[hit] == ac


def brokerage_counts(src: np.ndarray, dst: np.ndarray, labels: np.ndarray, n: int) -> np.ndarray:
    """Gould–Fernandez brokerage counts per vertex, as ``sna::brokerage(g, cl)$raw.nli``.

    ``v`` brokers the ordered pair ``(a, c)`` when ``a → v → c``, ``a ≠ c`` and there is no tie
    ``a → c``. Columns (sna names): coordinator ``w_I`` (A→A→A), itinerant ``w_O`` (A→B→A),
    representative ``b_IO`` (A→A→B: broker in the source's group), gatekeeper ``b_OI``
    (A→B→B: broker in the target's group), liaison ``b_O`` (A→B→C; always 0 with two groups).

    Vectorised: every two-path ``a → v → c`` is enumerated at once with numpy (repeat/offset
    arithmetic over the in- and out-lists of each broker, ``Σ_v in(v)·out(v)`` rows), the
    closed ones are looked up in a bit-packed adjacency matrix (binary search in the sorted edge
    keys above ``_BITSET_MAX`` vertices), each row's role is read from a table indexed by the
    three group codes, and the roles are counted with one ``bincount``.

    Returns
    -------
    ndarray of shape (n, 5)

    Examples
    --------
    a → b → c with a, b lokal and c pendatang: b is a representative.

    >>> brokerage_counts(np.array([0, 1]), np.array([1, 2]), np.array([0, 0, 1]), 3)[1]
    array([0, 0, 1, 0, 0])
    """
    out = np.zeros((n, 5), dtype=np.int64)
    if len(src) == 0 or n == 0:
        return out
    src, dst = np.asarray(src, dtype=np.int64), np.asarray(dst, dtype=np.int64)
    keys = src * n + dst
    if len(keys) > 1 and not np.all(keys[1:] > keys[:-1]):
        keys = np.unique(keys)  # distinct edges, sorted (build_graphs already gives this)
    src, dst = keys // n, keys % n
    m = len(keys)
    outdeg = np.bincount(src, minlength=n)
    out_ptr = np.concatenate([[0], np.cumsum(outdeg)])  # keys are sorted by src already
    # in-edges a → v grouped by broker v, stable in a (large graphs: counting sort CSR → CSC)
    if m < 2_000:
        by_dst = np.argsort(dst, kind="stable")
    else:
        by_dst = sparse.csr_matrix((np.arange(1, m + 1), dst, out_ptr), shape=(n, n)).tocsc().data - 1
    in_src, in_v = src[by_dst], dst[by_dst]
    block = outdeg[in_v]  # each in-edge pairs with every out-edge of its broker
    total = int(block.sum())
    if total == 0:
        return out
    starts = np.cumsum(block) - block
    pos = np.arange(total) - np.repeat(starts - out_ptr[in_v], block)
    a = np.repeat(in_src, block)
    v = np.repeat(in_v, block)
    c = dst[pos]
    k = int(labels.max()) + 1 if len(labels) else 1
    # role of (group of a, group of v, group of c); 5 = not brokered (a = c, or a → c exists)
    ga, gv, gc = np.indices((k, k, k)).reshape(3, -1)
    table = np.full(k ** 3, 4, dtype=np.int64)  # liaison unless one of the four below
    table[(ga == gc) & (ga != gv)] = 1
    table[(ga == gv) & (gc != gv)] = 2
    table[(gc == gv) & (ga != gv)] = 3
    table[(ga == gv) & (gv == gc)] = 0
    role = table[(labels[a] * k + labels[v]) * k + labels[c]]
    role[(a == c) | _has_tie(keys, n, a, c)] = 5
    counts = np.bincount(v * 6 + role, minlength=n * 6)
    return counts.reshape(n, 6)[:, :5].copy()


def brokerage_expected(n_nodes: int, n_ties: int, sizes: np.ndarray
                       ) -> tuple[np.ndarray, np.ndarray]:
    """Network-level expected brokerage counts and standard deviations (sna ``exp.gli``, ``sd.gli``).

    Under a Bernoulli digraph with density ``d = m / (N (N − 1))`` (Gould & Fernandez 1989), a
    direct port of ``sna::brokerage``'s global formulas. Order: ``w_I, w_O, b_IO, b_OI, b_O, t``.
    """
    n = np.asarray(sizes, dtype=float)
    big_n = float(n_nodes)
    d = n_ties / (big_n * (big_n - 1)) if big_n > 1 else float("nan")
    q = d ** 2 * (1 - d)
    c3 = d ** 3 * (1 - d) ** 3
    c4 = d ** 4 * (1 - d) ** 2
    c5 = d ** 5 * (1 - d)
    e = np.zeros(6)
    v = np.zeros(6)
    e[0] = q * np.sum(n * (n - 1) * (n - 2))
    v[0] = e[0] * (1 - q) + np.sum(n * (n - 1) * (n - 2) * (
        (4 * n - 10) * c3 - 4 * (n - 3) * c4 + (n - 3) * c5))
    e[1] = q * np.sum(n * (big_n - n) * (n - 1))
    x, y = np.meshgrid(n, n, indexing="ij")
    v[1] = e[1] * (1 - q) + (
        np.sum(x * y * (x - 1) * ((2 * x + 2 * y - 6) * c3 + (big_n - x - 1) * c5))
        - np.sum(n * n * (n - 1) * ((4 * n - 6) * c3 + (big_n - n - 1) * c5)))
    e[2] = q * np.sum(n * (big_n - n) * (n - 1))
    v[2] = e[2] * (1 - q) + np.sum(n * (big_n - n) * (n - 1) * (
        (big_n - 3) * c3 + (n - 2) * c5))
    e[3], v[3] = e[2], v[2]
    e[4] = q * (np.sum(x * y * (big_n - x - y)) - np.sum(n * n * (big_n - 2 * n)))
    v[4] = e[4] * (1 - q)
    k = len(n)
    for i in range(k):
        for j in range(k):
            for l in range(k):  # noqa: E741
                if i != j and j != l and i != l:
                    v[4] += n[i] * n[j] * n[l] * (
                        (4 * (big_n - n[j]) - 2 * (n[i] + n[l] + 1)) * c3
                        - (4 * (big_n - n[l]) - 2 * (n[i] + n[j] + 1)) * c4
                        + (big_n - (n[i] + n[l] + 1)) * c5)
    e[5] = q * big_n * (big_n - 1) * (big_n - 2)
    v[5] = e[5] * (1 - q) + big_n * (big_n - 1) * (big_n - 2) * (
        (4 * big_n - 10) * c3 - 4 * (big_n - 3) * c4 + (big_n - 3) * c5)
    return e, np.sqrt(v)


# --------------------------------------------------------------------------------------------
# per-graph tables
# --------------------------------------------------------------------------------------------

def _leiden(g_und: ig.Graph, seed_rng: np.random.Generator) -> ig.VertexClustering:
    """Leiden (modularity objective) with igraph's RNG seeded for this call only."""
    rng = random.Random(int(seed_rng.integers(2**31 - 1)))
    with _IGRAPH_RNG_LOCK:  # igraph's RNG is process-global: one seeded run at a time (threads)
        ig.set_random_number_generator(rng)
        try:
            return g_und.community_leiden(objective_function="modularity", resolution=1.0,
                                          beta=0.01, n_iterations=-1)
        finally:
            ig.set_random_number_generator(random)


def _whole(g: ig.Graph, arr: _Arrays, mix: np.ndarray, ei_p: float,
           leiden_rng: np.random.Generator) -> dict:
    """The graph's ``network_whole`` row; ``ei_p`` from :func:`ei_permutation_tests` (run for
    the tie types of its site × wave together), Leiden seeded from ``leiden_rng``."""
    n, m = arr.n, len(arr.src)
    k_present = int(np.count_nonzero(arr.sizes))
    notes: list[str] = []
    between, within = ei_parts(mix)
    row = {"site": g["site"], "wave": g["wave"], "tie_type": g["tie_type"], "n_nodes": n,
           "n_ties": m, "ties_between": between, "ties_within": within,
           "dropped_nonrespondent": int(g["dropped_nonrespondent"])}
    row["density"] = m / (n * (n - 1)) if n > 1 else np.nan
    row["reciprocity"] = g.reciprocity(ignore_loops=True, mode="default") if m else np.nan
    row["reciprocity_dyadic"] = g.reciprocity(ignore_loops=True, mode="ratio") if m else np.nan
    row["centralization_in"] = degree_centralization(np.bincount(arr.dst, minlength=n))
    row["centralization_out"] = degree_centralization(np.bincount(arr.src, minlength=n))
    lo, hi = _union_edges(arr.src, arr.dst)
    und = ig.Graph(n=n, edges=np.column_stack([lo, hi]) if len(lo) else [], directed=False)
    row["transitivity"] = und.transitivity_undirected(mode="nan") if len(lo) else np.nan
    comps = g.connected_components(mode="weak")
    row["n_components"] = len(comps)
    row["largest_component"] = max(comps.sizes()) if n else 0
    nan_keys = ["ei", "ei_expected", "ei_rescaled", "ei_p", "assortativity", "assortativity_se",
                "odds_ratio", "yules_q", "freeman", "modularity_group", "leiden_n", "leiden_nmi"]
    row.update({key: np.nan for key in nan_keys})
    if n == 0:
        row["note"] = "no respondents"
        return row
    if k_present < 2:
        notes.append(f"only one group ({arr.groups[0]}) among the {n} respondents: E-I, "
                     "assortativity, odds ratio, Freeman, modularity and NMI are undefined")
    if m == 0:
        notes.append("no ties (nobody nominated another respondent): tie-based measures "
                     "are undefined")
    if k_present >= 2:
        row["ei_expected"] = ei_expected(arr.sizes)
    if m and k_present >= 2:
        row["ei"] = ei_index(mix)
        row["ei_rescaled"] = ei_rescaled(mix, arr.sizes)
        row["ei_p"] = ei_p
        row["assortativity"] = assortativity(mix)
        if np.isnan(row["assortativity"]):
            notes.append("assortativity undefined: all ties sent and received inside one group")
        row["assortativity_se"] = assortativity_jackknife_se(mix)
        row["odds_ratio"], row["yules_q"] = odds_ratio_within(mix, arr.sizes)
        if np.isnan(row["odds_ratio"]):
            notes.append("odds ratio undefined (0/0)")
        cross = int(np.count_nonzero(arr.labels[lo] != arr.labels[hi]))
        row["freeman"] = freeman_segregation(cross, len(lo), arr.sizes)
        e = mix / mix.sum()
        row["modularity_group"] = float(np.trace(e) - np.sum(e.sum(axis=1) * e.sum(axis=0)))
    if m:
        active = np.unique(np.concatenate([lo, hi]))
        sub = und.induced_subgraph(active.tolist())
        part = _leiden(sub, leiden_rng)
        row["leiden_n"] = len(part)
        grp = arr.labels[active]
        if len(np.unique(grp)) >= 2:
            row["leiden_nmi"] = ig.compare_communities(part.membership, grp.tolist(),
                                                       method="nmi")
        elif k_present >= 2:
            notes.append("leiden_nmi undefined: tied respondents all in one group")
    row["note"] = "; ".join(notes) if notes else ""
    return row


def _groups(g: ig.Graph, arr: _Arrays, mix: np.ndarray) -> list[dict]:
    sizes = arr.sizes
    col = coleman_index(mix, sizes)
    rows = []
    for i, name in enumerate(arr.groups):
        internal = float(mix[i, i])
        sent = float(mix[i, :].sum() - mix[i, i])
        external = float(sent + mix[:, i].sum() - mix[i, i])
        pairs = sizes[i] * (sizes[i] - 1)
        rows.append({
            "site": g["site"], "wave": g["wave"], "tie_type": g["tie_type"], "group": name,
            "n": int(sizes[i]), "ties_internal": int(internal), "ties_external": int(external),
            "ei": ei(external, internal), "ties_external_sent": int(sent), "ei_sent": ei(sent, internal),
            "density_internal": internal / pairs if pairs else np.nan,
            "coleman": float(col[i])})
    return rows


def _mixing(g: ig.Graph, arr: _Arrays, mix: np.ndarray) -> list[dict]:
    return [{"site": g["site"], "wave": g["wave"], "tie_type": g["tie_type"], "from_group": a,
             "to_group": b, "ties": int(mix[i, j])}
            for i, a in enumerate(arr.groups) for j, b in enumerate(arr.groups)]


def _nodes(g: ig.Graph, arr: _Arrays) -> dict:
    """Node measures of one graph as columns (``NODE_COLUMNS``); :func:`_node_frame` joins
    the graphs of a site into one frame (one frame per graph cost more than the measures)."""
    n = arr.n
    lo, hi = _union_edges(arr.src, arr.dst)
    same = arr.labels[lo] == arr.labels[hi]
    bonding = np.bincount(lo[same], minlength=n) + np.bincount(hi[same], minlength=n)
    bridging = np.bincount(lo[~same], minlength=n) + np.bincount(hi[~same], minlength=n)
    degree = bonding + bridging
    node_ei = ei(bridging, bonding)
    brok = brokerage_counts(arr.src, arr.dst, arr.labels, n)
    cols = {
        "respondent_id": g.vs["name"], "site": [g["site"]] * n, "wave": [g["wave"]] * n,
        "tie_type": [g["tie_type"]] * n, "group": g.vs["group"],
        "out_degree": np.bincount(arr.src, minlength=n),
        "in_degree": np.bincount(arr.dst, minlength=n),
        "degree": degree, "bonding": bonding, "bridging": bridging, "ei": node_ei,
        "betweenness": np.asarray(g.betweenness(directed=True) if n else [], dtype=float),
        "constraint": np.asarray(g.constraint() if n else [], dtype=float),
    }
    for j, (role, _) in enumerate(ROLES):
        cols[role] = brok[:, j].astype(np.int64)
    return cols


def _node_frame(parts: list[dict]) -> pd.DataFrame:
    """One frame of node measures from :func:`_nodes` columns of several graphs, in order."""
    cols = {}
    for c in NODE_COLUMNS:
        if c in ("respondent_id", "site", "wave", "tie_type", "group"):
            cols[c] = [x for p in parts for x in p[c]]
        else:
            cols[c] = np.concatenate([p[c] for p in parts]) if parts else np.zeros(0)
    return pd.DataFrame(cols, columns=NODE_COLUMNS)


def _brokerage(g: ig.Graph, arr: _Arrays, node_cols: dict) -> list[dict]:
    observed = np.array([np.sum(node_cols[r], dtype=float) for r, _ in ROLES])
    observed = np.append(observed, observed.sum())
    sizes = arr.sizes[arr.sizes > 0]
    expected, sd = brokerage_expected(arr.n, len(arr.src), sizes) if arr.n > 2 else \
        (np.full(6, np.nan), np.full(6, np.nan))
    with np.errstate(divide="ignore", invalid="ignore"):
        z = (observed - expected) / sd
    names = list(ROLES) + [("total", "t")]
    return [{"site": g["site"], "wave": g["wave"], "tie_type": g["tie_type"], "role": role,
             "sna_role": sna, "observed": int(observed[i]), "expected": float(expected[i]),
             "sd": float(sd[i]), "z": float(z[i])} for i, (role, sna) in enumerate(names)]


# --------------------------------------------------------------------------------------------
# change between waves
# --------------------------------------------------------------------------------------------

def tie_change(pre: set[tuple[str, str]], post: set[tuple[str, str]],
               group: dict[str, str]) -> dict:
    """Kept / new / dropped nominations between two waves over a common actor set.

    Parameters
    ----------
    pre, post : set of (ego, alter)
        Directed nominations among the common actors in each wave.
    group : dict
        Group of every common actor (the pre-wave group).

    Returns
    -------
    dict
        ``kept`` (N11), ``new`` (N01), ``dropped`` (N10), ``new_within``, ``new_between``,
        ``dropped_within``, ``dropped_between``, ``jaccard = N11 / (N11 + N01 + N10)`` (NaN if no
        tie in either wave) and ``hamming = N01 + N10``.

    Examples
    --------
    >>> grp = {"a": "L", "b": "L", "c": "P"}
    >>> out = tie_change({("a", "b"), ("a", "c")}, {("a", "b"), ("b", "c")}, grp)
    >>> out["kept"], out["new_between"], out["dropped_between"], out["jaccard"]
    (1, 1, 1, 0.3333333333333333)
    """
    kept, new, dropped = pre & post, post - pre, pre - post

    def within(s):
        return sum(group[a] == group[b] for a, b in s)

    union = len(kept) + len(new) + len(dropped)
    return {"kept": len(kept), "new": len(new), "dropped": len(dropped),
            "new_within": within(new), "new_between": len(new) - within(new),
            "dropped_within": within(dropped), "dropped_between": len(dropped) - within(dropped),
            "jaccard": len(kept) / union if union else float("nan"),
            "hamming": len(new) + len(dropped)}


def delta_ei_test(e_pre: np.ndarray, i_pre: np.ndarray, e_post: np.ndarray, i_post: np.ndarray,
                  permutations: int, rng: np.random.Generator) -> tuple[float, float]:
    """Change in E-I between waves and its paired wave-swap permutation p-value.

    :func:`delta_ei_tests` with one set of counts (the same draws, the same result).
    """
    return delta_ei_tests([(e_pre, i_pre, e_post, i_post)], permutations, rng)[0]


def delta_ei_tests(counts: Sequence[tuple], permutations: int, rng: np.random.Generator
                   ) -> list[tuple[float, float]]:
    """Changes in E-I between waves and their paired wave-swap permutation p-values, for several
    tie types of the same common actors, on one shared block of swaps.

    Each common actor's outgoing nominations (``e_*`` between-group, ``i_*`` within-group, to
    other common actors) are one paired unit. Under H0 "no change" the two waves of an actor
    are exchangeable, so each permutation swaps pre and post for a random half of the actors
    (a sign-flip test on actors) and recomputes ``ΔEI = EI_post − EI_pre`` from the summed
    counts; the null is symmetric around 0. Two-sided:
    ``p = (1 + #{|ΔEI*| ≥ |ΔEI|}) / (1 + permutations)``. Vectorised over a
    ``(permutations, n)`` 0/1 swap matrix, drawn from ``rng`` in chunks and used by every entry
    of ``counts`` (each a valid permutation test alone; the first gets the draws it would get
    alone).

    Parameters
    ----------
    counts : sequence of (e_pre, i_pre, e_post, i_post)
        Per-actor counts, every array of the same length (the common actors).

    Returns
    -------
    list of (delta_ei, p)
        One per entry; NaN when either wave has no tie among the common actors.
    """
    items = [tuple(np.asarray(x, dtype=float) for x in c) for c in counts]
    out: list[tuple[float, float]] = []
    tests = []  # (index, obs, Σ pre / post, differences, hits)
    for j, (e_pre, i_pre, e_post, i_post) in enumerate(items):
        obs = ei(e_post.sum(), i_post.sum()) - ei(e_pre.sum(), i_pre.sum())
        out.append((float(obs), float("nan")))
        if not np.isnan(obs) and permutations > 0:
            tests.append([j, obs, (e_pre.sum(), i_pre.sum(), e_post.sum(), i_post.sum()),
                          np.stack([e_post - e_pre, i_post - i_pre], axis=1), 0])
    if not tests:
        return out
    n = len(items[0][0])
    # every test's differences side by side: one product per block of swaps gives them all.
    # (1 − s)·pre + s·post = Σpre + s·(post − pre): integer counts, so every sum is exact, in
    # float32 too while the largest possible sum (Σ |post − pre|) is below 2**24
    diffs = np.concatenate([t[3] for t in tests], axis=1)
    exact32 = float(np.abs(diffs).sum(axis=0).max(initial=0)) < 2**24
    diffs = diffs.astype(np.float32 if exact32 else float)
    for count in _chunks(permutations, n):
        swap = rng.integers(0, 2, size=(count, n)).astype(diffs.dtype)
        d = (swap @ diffs).astype(float)
        for j, test in enumerate(tests):
            _, obs, (ep0, ip0, eq0, iq0), _, _ = test
            de, di = d[:, 2 * j], d[:, 2 * j + 1]
            null = ei(eq0 - de, iq0 - di) - ei(ep0 + de, ip0 + di)
            test[4] += int(np.count_nonzero(np.abs(null) >= abs(obs) - 1e-12))
    for j, obs, _, _, hits in tests:
        out[j] = (float(obs), (hits + 1) / (permutations + 1))
    return out


def qap_correlation(n: int, pre_src: np.ndarray, pre_dst: np.ndarray, post_src: np.ndarray,
                    post_dst: np.ndarray, permutations: int, rng: np.random.Generator
                    ) -> tuple[float, float]:
    """QAP correlation of two binary directed adjacency matrices on the same ``n`` actors.

    :func:`qap_correlations` with one pair of matrices (the same draws, the same result).
    """
    return qap_correlations(n, [(pre_src, pre_dst, post_src, post_dst)], permutations, rng)[0]


def qap_correlations(n: int, pairs: Sequence[tuple], permutations: int, rng: np.random.Generator
                     ) -> list[tuple[float, float]]:
    """QAP correlations of pairs of binary directed adjacency matrices on the same ``n`` actors
    (the tie types of one site's wave pair), on one shared block of permutations.

    Pearson correlation over the ``n (n − 1)`` off-diagonal cells; the null permutes rows and
    columns of the post matrix together (Krackhardt 1988; UCINET QAP correlation,
    ``sna::qaptest(..., gcor)``). Densities are permutation-invariant, so only the overlap
    ``Σ A_ij B_π(i)π(j)`` is recomputed. Two-sided ``p = (1 + #{|r*| ≥ |r|}) / (1 + permutations)``.

    How permutations are drawn: one block of ``permutations`` uniform permutations of the ``n``
    actors (``rng.permuted`` row by row, in chunks) is used by every pair, so each pair's test is
    a valid Monte Carlo permutation test with the same null as alone (the pairs' p-values share
    their draws); the first pair gets the draws it would get alone. Vectorised: the pre edges of
    all pairs are gathered once (their union), and each post matrix is a bit field of one
    integer per cell, so one gather and one sum per permutation give every pair's overlap.

    Parameters
    ----------
    pairs : sequence of (pre_src, pre_dst, post_src, post_dst)
        Distinct directed edges (no loops) of the two matrices of each pair.

    Returns
    -------
    list of (r, p)
        One per pair; NaN when either matrix is empty or complete.
    """
    cells = n * (n - 1)
    out: list[tuple[float, float]] = []
    tests = []  # (index, observed, pa·pb, denominator, pre keys, post keys)
    for j, (pre_src, pre_dst, post_src, post_dst) in enumerate(pairs):
        ma, mb = len(pre_src), len(post_src)
        if cells == 0 or ma in (0, cells) or mb in (0, cells):
            out.append((float("nan"), float("nan")))
            continue
        pa, pb = ma / cells, mb / cells
        denom = np.sqrt(pa * (1 - pa) * pb * (1 - pb))
        pre_keys = np.asarray(pre_src, dtype=np.int64) * n + np.asarray(pre_dst, dtype=np.int64)
        post_keys = np.sort(np.asarray(post_src, dtype=np.int64) * n + post_dst)
        observed = float((np.count_nonzero(np.isin(pre_keys, post_keys)) / cells - pa * pb) / denom)
        out.append((observed, float("nan")))
        tests.append((j, observed, pa * pb, denom, pre_keys, post_keys))
    if permutations <= 0 or not tests:
        return out
    # one bit per test: a cell's post bits are one byte (tests in groups of 8), so the lookup is
    # n² bytes (L1/L2-resident) and the gathered block a byte per cell and permutation
    hits = np.zeros(len(tests), dtype=np.int64)
    groups = [list(range(i, min(i + 8, len(tests)))) for i in range(0, len(tests), 8)]
    packed = []  # per group of tests: union pre keys by class, class bounds and bits, post lookup
    for group in groups:
        union = np.unique(np.concatenate([tests[t][4] for t in group]))
        pre_bits = np.zeros(len(union), dtype=np.uint8)
        post_union = np.unique(np.concatenate([tests[t][5] for t in group]))
        post_bits = np.zeros(len(post_union), dtype=np.uint8)
        for f, t in enumerate(group):
            pre_bits[np.searchsorted(union, tests[t][4])] |= np.uint8(1 << f)
            post_bits[np.searchsorted(post_union, tests[t][5])] |= np.uint8(1 << f)
        # the union's cells ordered by class (which tests' pre matrices hold the cell): a test's
        # overlap is the sum, over the classes holding its bit, of that bit of the post bytes
        by_class = np.argsort(pre_bits, kind="stable")
        classes, starts = np.unique(pre_bits[by_class], return_index=True)
        bounds = np.append(starts, len(union))
        union = union[by_class]
        if n <= _DENSE_LOOKUP_MAX:  # flat n × n lookup of the post bits, indexed by π(a) n + π(b)
            lookup = np.zeros(n * n, dtype=np.uint8)
            lookup[post_union] = post_bits
            post_union = None
        else:
            lookup = post_bits
        blocks = [(c, int(bounds[c]), int(bounds[c + 1])) for c in range(len(classes))]
        packed.append((np.asarray(union // n, dtype=np.intp), np.asarray(union % n, dtype=np.intp),
                       classes, blocks, post_union, lookup))
    # keys π(a) n + π(b) in the narrowest type that holds n² (uint16 up to 256 actors)
    dtype = np.uint16 if n * n <= 2**16 else np.int32 if n * n < 2**31 else np.int64
    base = np.arange(n, dtype=np.int64)  # numpy shuffles 8-byte items fastest (≈ 1.4× int16), same draws
    lanes = np.uint64(0x0101010101010101)
    # blocks of a few hundred permutations (_QAP_CHUNK_CELLS: ≈ 1.4× faster than blocks of 45
    # or of 5,000 on a 207-actor village). The block is laid out actors × permutations, one permutation a column:
    # rng.permuted(axis=0) shuffles column by column with the draws rng.permuted(axis=1) makes
    # row by row on the transpose, so neither the block size nor the layout changes which
    # permutations are drawn; a cell's keys for every permutation are then one contiguous row
    widest = max(len(u[0]) for u in packed)
    for count in _chunks(permutations, max(n, widest), cells=_QAP_CHUNK_CELLS):
        perm = np.tile(base[:, None], (1, count + (-count) % 8))  # whole 64-bit words per row
        perm[:, :count] = rng.permuted(perm[:, :count], axis=0)
        perm = perm.astype(dtype)  # (n, count rounded up to 8); the padding columns are ignored
        perm_n = perm * dtype(n)
        for group, (usrc, udst, classes, blocks, post_union, lookup) in zip(groups, packed):
            keys = perm_n[usrc]
            keys += perm[udst]
            if post_union is None:
                field = lookup.take(keys)
            else:
                pos = np.searchsorted(post_union, keys)
                pos[pos == len(post_union)] = 0
                field = np.where(post_union[pos] == keys, lookup[pos], np.uint8(0))
            words = field.view(np.uint64)  # eight permutations' bytes a word
            overlap = np.zeros((len(group), count), dtype=np.int64)
            for c, lo, hi in blocks:
                for f in range(len(group)):
                    if not (int(classes[c]) >> f) & 1:
                        continue
                    for start in range(lo, hi, _SWAR_ROWS):  # ≤ 255 rows: a byte lane never carries
                        bit = (words[start:min(hi, start + _SWAR_ROWS)] >> np.uint64(f)) & lanes
                        overlap[f] += np.add.reduce(bit, axis=0).view(np.uint8)[:count]
            for f, t in enumerate(group):
                _, observed, papb, denom, _, _ = tests[t]
                r = (overlap[f] / cells - papb) / denom
                hits[t] += int(np.count_nonzero(np.abs(r) >= abs(observed) - 1e-12))
    for t, (j, observed, *_rest) in enumerate(tests):
        out[j] = (observed, (int(hits[t]) + 1) / (permutations + 1))
    return out


def _wave_pairs(waves: Sequence[str]) -> list[tuple[str, str]]:
    """Consecutive wave pairs plus baseline → every later wave (deduplicated, in order)."""
    pairs = [(waves[i], waves[i + 1]) for i in range(len(waves) - 1)]
    pairs += [(waves[0], w) for w in waves[2:]]
    return list(dict.fromkeys(pairs))


def _common_actors(gpre: ig.Graph, gpost: ig.Graph) -> tuple:
    """The respondents of both waves (the graphs of a site × wave share their vertices, so one
    wave pair's tie types share this): ``(n_common, pre-wave group of each, their group codes,
    common index of each pre vertex, of each post vertex (−1: not common))``."""
    pre_names, post_names = gpre.vs["name"], gpost.vs["name"]
    common = sorted(set(pre_names) & set(post_names))
    nc = len(common)
    index = {name: i for i, name in enumerate(common)}
    group = dict(zip(pre_names, gpre.vs["group"]))
    lab = np.array([group[c] for c in common])
    codes = pd.factorize(pd.Series(lab, dtype=object))[0] if nc else np.zeros(0, dtype=np.int64)
    to_pre, to_post = (np.array([index.get(x, -1) for x in names], dtype=np.int64) for names in (pre_names, post_names))
    return nc, lab, codes, to_pre, to_post


def _change(site: str, tie_type: str, wpre: str, wpost: str, gpre: ig.Graph, gpost: ig.Graph,
            common: tuple | None = None) -> tuple[dict, tuple | None, tuple]:
    """The ``network_change`` row of one tie type and wave pair without its permutation tests,
    and their inputs: ``(row, delta, qap)`` with ``delta`` the per-actor counts for
    :func:`delta_ei_tests` (None when the common respondents are all in one group: ΔE-I is
    undefined) and ``qap`` ``(n_common, pre_src, pre_dst, post_src, post_dst)`` for
    :func:`qap_correlations`; :func:`_run_site` runs the tests of a wave pair's tie types
    together and fills ``delta_ei``, ``delta_ei_p``, ``qap_r``, ``qap_p``. ``common`` is
    :func:`_common_actors` of the two graphs (computed here when not given)."""
    nc, lab, codes, to_pre, to_post = common if common is not None else _common_actors(gpre, gpost)

    def keys(g, to_common):
        # ties among common respondents as sorted distinct keys a * nc + b (common indices)
        arr = _arrays(g)
        a, b = to_common[arr.src], to_common[arr.dst]
        ok = (a >= 0) & (b >= 0)
        return np.unique(a[ok] * nc + b[ok])

    pre, post = keys(gpre, to_pre), keys(gpost, to_post)
    row = {"site": site, "tie_type": tie_type, "wave_pre": wpre, "wave_post": wpost,
           "n_common": nc}
    kept = np.intersect1d(pre, post, assume_unique=True)
    new, dropped = np.setdiff1d(post, pre, assume_unique=True), np.setdiff1d(pre, post, assume_unique=True)

    def within(k):
        return int(np.count_nonzero(codes[k // nc] == codes[k % nc])) if len(k) else 0

    union = len(kept) + len(new) + len(dropped)
    row.update({"kept": len(kept), "new": len(new), "dropped": len(dropped),
                "new_within": within(new), "new_between": len(new) - within(new),
                "dropped_within": within(dropped),
                "dropped_between": len(dropped) - within(dropped),
                "jaccard": len(kept) / union if union else float("nan"),
                "hamming": len(new) + len(dropped)})  # = tie_change(pre, post, group)
    notes = []

    def counts(k):
        ego, same = k // nc, codes[k // nc] == codes[k % nc]
        return (np.bincount(ego[~same], minlength=nc).astype(float),
                np.bincount(ego[same], minlength=nc).astype(float))

    e_pre, i_pre = counts(pre)
    e_post, i_post = counts(post)
    row["ei_pre"] = ei(e_pre.sum(), i_pre.sum())
    row["ei_post"] = ei(e_post.sum(), i_post.sum())
    delta = None
    row["delta_ei"], row["delta_ei_p"] = np.nan, np.nan
    if len(set(lab)) < 2:
        notes.append("common respondents all in one group: E-I change undefined")
        row["ei_pre"] = row["ei_post"] = np.nan
    else:
        delta = (e_pre, i_pre, e_post, i_post)
    if not len(pre) or not len(post):
        notes.append("no ties among common respondents in "
                     + " and ".join(w for w, s in ((wpre, pre), (wpost, post)) if not len(s)))
    qap = (nc, pre // max(nc, 1), pre % max(nc, 1), post // max(nc, 1), post % max(nc, 1))
    row["qap_r"], row["qap_p"] = np.nan, np.nan
    row["rsiena_ok"] = bool(row["jaccard"] > 0.3) if not np.isnan(row["jaccard"]) else False
    if nc < 2:
        notes.append("fewer than two respondents in both waves")
    row["note"] = "; ".join(notes)
    return row, delta, qap


# --------------------------------------------------------------------------------------------
# the stage
# --------------------------------------------------------------------------------------------

def _site_job(job: tuple) -> dict[str, list]:
    """One site's graphs and measures (module level, so a process pool or Dask can run it)."""
    site, resp, ties, tie_types, waves, seed, permutations = job
    # one BLAS thread: sites already run in parallel, and the permutation tests' small
    # matrix products only spin extra threads (several times slower on a busy machine)
    with threadpool_limits(1):
        return _run_site(resp, ties, tie_types, waves, seed, permutations)


def _run_site(resp: pd.DataFrame, ties: pd.DataFrame, tie_types: Sequence[str],
              waves: list[str], seed: int, permutations: int) -> dict[str, list]:
    """Every measure of one site (``resp`` and ``ties`` hold only that site's rows), as lists of
    rows (``nodes``: a list of frames) in the order :func:`run` writes them."""
    graphs = build_graphs(resp, ties, tie_types)
    order = {w: i for i, w in enumerate(waves)}
    types = [str(t) for t in tie_types] + [ANY]
    keys = sorted(graphs, key=lambda k: (k[0], order[k[1]], types.index(k[2])))
    out: dict[str, list] = {k: [] for k in ("whole", "groups", "mixing", "nodes", "brokerage",
                                            "change")}
    # with one tie type, "any" is the same graph: seed its Leiden run the same (its permutation
    # tests share the draws of its site × wave anyway, so it gets the same p-values)
    same = {ANY: str(tie_types[0])} if len(tie_types) == 1 else {}
    # the E-I tests of a site × wave's tie types run together, on one block of permutations
    ei_p: dict = {}
    for site, wave in dict.fromkeys((k[0], k[1]) for k in keys):
        these = [k for k in keys if k[:2] == (site, wave)]
        arrs = [_arrays(graphs[k]) for k in these]
        ps = ei_permutation_tests([(x.src, x.dst) for x in arrs], arrs[0].labels, permutations,
                                  _key_rng(seed, "ei", site, wave))
        ei_p.update(zip(these, ps))
    node_parts: list[dict] = []
    for key in keys:
        g = graphs[key]
        arr = _arrays(g)
        mix = mixing_matrix(arr.src, arr.dst, arr.labels, len(arr.groups))
        leiden_rng = _key_rng(seed, key[0], key[1], same.get(key[2], key[2]))
        if len(arr.src) and np.count_nonzero(arr.sizes) >= 2 and permutations > 0:
            # Leiden's seed as before the shared E-I draws: the graph's stream after the n
            # doubles per permutation (one 64-bit step each) its own E-I test used to draw
            leiden_rng.bit_generator.advance(arr.n * permutations)
        out["whole"].append(_whole(g, arr, mix, ei_p[key], leiden_rng))
        out["groups"].extend(_groups(g, arr, mix))
        out["mixing"].extend(_mixing(g, arr, mix))
        node_cols = _nodes(g, arr)
        node_parts.append(node_cols)
        out["brokerage"].extend(_brokerage(g, arr, node_cols))
    if node_parts:
        out["nodes"].append(_node_frame(node_parts))
    for site in sorted({k[0] for k in keys}):
        tests: dict[tuple[str, str], list] = {}  # wave pair -> [(row, delta, qap)] over tie types
        common: dict[tuple[str, str], tuple] = {}  # wave pair -> its common respondents
        for tie_type in types:
            for wpre, wpost in _wave_pairs(waves):
                a, b = graphs.get((site, wpre, tie_type)), graphs.get((site, wpost, tie_type))
                if a is None or b is None:
                    continue
                if (wpre, wpost) not in common:
                    common[(wpre, wpost)] = _common_actors(a, b)
                row, delta, qap = _change(site, tie_type, wpre, wpost, a, b, common[(wpre, wpost)])
                out["change"].append(row)
                tests.setdefault((wpre, wpost), []).append((row, delta, qap))
        # the ΔE-I and QAP tests of a wave pair's tie types run together, on shared draws
        for (wpre, wpost), items in tests.items():
            rng = _key_rng(seed, "change", site, wpre, wpost)
            with_delta = [(row, delta) for row, delta, _ in items if delta is not None]
            for (row, _), (d, p) in zip(with_delta, delta_ei_tests([d for _, d in with_delta],
                                                                   permutations, rng)):
                row["delta_ei"], row["delta_ei_p"] = d, p
            nc = items[0][2][0]
            for (row, _, _), (r, p) in zip(items, qap_correlations(nc, [q[1:] for _, _, q in items],
                                                                   permutations, rng)):
                row["qap_r"], row["qap_p"] = r, p
    return out


def run(respondents: pd.DataFrame, ties: pd.DataFrame, tie_types: Sequence[str],
        waves: Sequence[str], seed: int = 20261123, permutations: int = 5000,
        scheduler: str = "auto") -> dict[str, pd.DataFrame]:
    """Network measures per site × wave × tie type (+ ``"any"``) and their change between waves.

    Parameters
    ----------
    respondents, ties : DataFrame
        Canonical tables (see :mod:`pipeline.schemas`). Respondents of waves not in ``waves``
        and ties of tie types not in ``tie_types`` are ignored; ties naming a non-respondent of
        that site × wave are dropped and counted.
    tie_types : sequence of str
        Tie types to analyse; ``"any"`` (their union) is added. None (a study without networks):
        every table has its columns and no rows.
    waves : sequence of str
        Waves in order; the first is the baseline.
    seed : int
        Seeds every permutation test and Leiden run (per graph, from the graph key).
    permutations : int
        Permutations per test (E-I, ΔE-I, QAP).
    scheduler : str
        Where the per-site work runs (:mod:`pipeline.parallel`): ``"auto"`` (serial for a few
        sites, else a local process pool), ``"serial"``, ``"processes"``, ``"local"`` (a Dask
        LocalCluster) or a Dask scheduler address. Every choice gives the same tables: each
        site's results depend only on its own rows and on seeds from the graph keys.

    Returns
    -------
    dict of DataFrame
        ``network_whole`` — one row per site × wave × tie type:
            ``site``, ``wave``, ``tie_type``; ``n_nodes`` respondents (isolates included);
            ``n_ties`` distinct nominations between respondents, of them ``ties_between``
            between groups and ``ties_within`` within a group (the E and I of E-I; all within
            when the respondents are of one group); ``dropped_nonrespondent``
            distinct nominations naming a non-respondent; ``density`` m/(N(N−1));
            ``reciprocity`` edgewise (arc) reciprocity, the share of nominations returned
            (igraph ``reciprocity(mode="default")`` = ``sna::grecip(measure="edgewise")``);
            ``reciprocity_dyadic`` mutual pairs / tied pairs (igraph ``mode="ratio"`` =
            ``sna::grecip(measure="dyadic.nonnull")``; = r/(2 − r) of the edgewise r);
            ``transitivity`` global clustering (triangles × 3 / connected triples) of the
            union undirected graph; ``centralization_in``, ``centralization_out`` Freeman's
            degree centralization of the in- and out-degrees (:func:`degree_centralization`;
            igraph ``centr_degree(loops=FALSE)``, ``sna::centralization(degree)``);
            ``n_components``, ``largest_component`` weak components; ``ei`` Krackhardt–Stern E-I over nominations; ``ei_expected`` its
            value under random mixing; ``ei_rescaled`` density-rescaled E-I (0 = random);
            ``ei_p`` two-sided label-permutation p; ``assortativity`` Newman's nominal
            assortativity (directed) and ``assortativity_se`` its jackknife SE; ``odds_ratio``
            odds of a tie within vs between groups over dyads (netseg ``orwg``) and ``yules_q``;
            ``freeman`` Freeman segregation on the union undirected graph (untruncated);
            ``modularity_group`` directed modularity of the group partition (= unnormalised
            assortativity); ``leiden_n`` communities found by Leiden (modularity objective, union
            undirected graph of respondents with at least one tie) and ``leiden_nmi`` their NMI
            with the groups on the same respondents; ``note`` why a measure is NaN (empty when
            all are defined).
        ``network_groups`` — one row per site × wave × tie type × group:
            ``group``, ``n`` respondents; ``ties_internal`` nominations inside the group;
            ``ties_external`` nominations sent to or received from other groups; ``ei``
            :func:`ei` ``(ext − int)/(ext + int)`` over ties sent and received (every tie
            between the group and another group counts, as a group's external links in
            Krackhardt & Stern 1988); ``ties_external_sent`` nominations the group's members
            sent to other groups and ``ei_sent`` ``(sent − int)/(sent + int)`` over ties sent
            only (the group's row of the mixing matrix); ``density_internal`` ``int /
            (n(n−1))``; ``coleman`` Coleman's homophily index (netseg).
        ``mixing`` — one row per site × wave × tie type × ordered group pair:
            ``from_group``, ``to_group``, ``ties`` (nominations, zeros included).
        ``network_nodes`` — one row per respondent × site × wave × tie type:
            ``respondent_id``, ``group``; ``out_degree`` / ``in_degree`` nominations sent /
            received; ``degree`` distinct alters in either direction (= ``bonding +
            bridging``); ``bonding`` / ``bridging`` distinct alters of the same / another group
            tied in either direction (union of in- and out-nominations, a mutual pair counts
            once); ``ei`` ``(bridging − bonding)/degree`` (NaN for isolates); ``betweenness``
            directed, unnormalised (igraph); ``constraint`` Burt's constraint (igraph; NaN for
            isolates); ``coordinator``, ``itinerant``, ``representative``, ``gatekeeper``,
            ``liaison`` Gould–Fernandez brokerage counts (= ``sna::brokerage``).
        ``brokerage`` — one row per site × wave × tie type × role (the five roles + ``total``):
            ``role``, ``sna_role`` (``w_I`` …, ``t``), ``observed`` network total,
            ``expected`` and ``sd`` under a Bernoulli digraph of the same density, ``z``
            (``sna::brokerage`` ``*.gli``; liaison has expected 0, sd 0, z NaN with two groups).
        ``network_change`` — one row per site × tie type × wave pair (consecutive waves, plus
        baseline → each later wave), over respondents present in both waves of that site, with
        the pre-wave group:
            ``wave_pre``, ``wave_post``, ``n_common``; ``jaccard`` kept/(kept+new+dropped);
            ``hamming`` new + dropped; ``kept``, ``new``, ``dropped`` nominations and ``new_*`` /
            ``dropped_*`` split within / between groups; ``ei_pre``, ``ei_post``, ``delta_ei``
            over nominations among common respondents; ``delta_ei_p`` paired wave-swap
            permutation p (:func:`delta_ei_test`); ``qap_r``, ``qap_p`` QAP correlation of the
            two adjacency matrices (:func:`qap_correlation`); ``rsiena_ok`` Jaccard > 0.3
            (Snijders et al. 2010); ``note``.

    Examples
    --------
    >>> r = pd.DataFrame({"respondent_id": list("abcd"), "wave": "w1",
    ...                   "group": ["lokal", "lokal", "pendatang", "pendatang"], "site": "s"})
    >>> t = pd.DataFrame({"site": "s", "wave": "w1", "tie_type": "info",
    ...                   "ego": ["a", "b", "c"], "alter": ["b", "a", "a"], "weight": np.nan})
    >>> out = run(r, t, ["info"], ["w1"], permutations=99)
    >>> whole = out["network_whole"].iloc[0]
    >>> int(whole["n_ties"]), round(float(whole["ei"]), 3), round(float(whole["ei_expected"]), 3)
    (3, -0.333, 0.333)
    """
    respondents, ties, waves = _prepare(respondents, ties, tie_types, waves)
    resp_site = respondents["site"].astype(str)
    tie_parts = dict(tuple(ties.groupby(ties["site"].astype(str), sort=False)))
    jobs = [(site, part, tie_parts.get(site, ties.iloc[:0]), list(tie_types), waves, seed,
             permutations) for site, part in respondents.groupby(resp_site, sort=True)]
    return _tables(map_sites(_site_job, jobs, scheduler))


def run_partitioned(paths: dict, tie_types: Sequence[str], waves: Sequence[str], seed: int = 20261123,
                    permutations: int = 5000, scheduler: str = "auto") -> dict[str, pd.DataFrame]:
    """:func:`run` on tables partitioned by village: jobs read their own villages' rows.

    ``paths`` names the partitioned ``respondents`` and ``ties`` files
    (:func:`pipeline.partitions.write_partitioned`); each job of
    :func:`pipeline.partitions.map_partitions` reads a batch of villages and runs
    :func:`sites_batch` on it, so this process never holds the ties table. Every site's results
    depend only on its own rows, so the tables equal :func:`run`'s on the whole tables (sites
    in sorted order, as :func:`run` writes them).
    """
    if not _check_tie_types(tie_types):  # a study without networks: the tables with no rows
        return _tables([])
    parts = map_partitions(sites_batch, {"respondents": paths["respondents"], "ties": paths["ties"]}, scheduler,
                           tie_types=list(tie_types), waves=[str(w) for w in waves], seed=seed,
                           permutations=permutations)
    done = sorted(((site, res) for part in parts for site, res in part), key=lambda x: x[0])
    del parts
    packed = [p for _, res in done for p in res.pop("nodes")]  # each site's node rows, compressed
    tables = _tables([res for _, res in done])
    # the node rows (2.8 M at 2,313 villages) stay compressed: written a piece at a time (pipeline.cli)
    tables["network_nodes"] = FrameParts(lambda: _node_pieces(packed))
    return tables


def sites_batch(respondents: pd.DataFrame, ties: pd.DataFrame, *, tie_types: Sequence[str],
                waves: Sequence[str], seed: int, permutations: int) -> list[tuple[str, dict]]:
    """Every measure of the sites in ``respondents`` (a batch of villages with their ties), per
    site: ``[(site, rows)]`` with ``rows`` as :func:`run` gathers them from its jobs, except
    ``rows["nodes"]``: the site's node rows packed by :func:`_pack_nodes` (``[]`` without graphs),
    a tenth of their size as DataFrames, so the driver can hold the study's."""
    respondents, ties, waves = _prepare(respondents, ties, tie_types, waves)
    tie_parts = dict(tuple(ties.groupby(ties["site"].astype(str), sort=False)))
    out = []
    with threadpool_limits(1):  # as _site_job: one BLAS thread
        for site, part in respondents.groupby(respondents["site"].astype(str), sort=True):
            res = _run_site(part, tie_parts.get(site, ties.iloc[:0]), tie_types, waves, seed, permutations)
            res["nodes"] = [_pack_nodes(res["nodes"])] if res["nodes"] else []
            out.append((site, res))
    return out


#: node rows per piece of network_nodes.csv that :func:`run_partitioned` gives (≈ 20 MB as a DataFrame)
NODE_PIECE_ROWS = 100_000


def _pack_nodes(frames: list[pd.DataFrame]) -> tuple[int, bytes]:
    """Node frames (``NODE_COLUMNS``, as :func:`_node_frame` makes them) as ``(rows, stream)``: one
    zstd-compressed Arrow IPC stream of their rows, which :func:`_unpack_nodes` turns back into the
    same frame (dtypes from the pandas metadata Arrow keeps)."""
    table = pa.Table.from_pandas(pd.concat(frames, ignore_index=True), preserve_index=False)
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema, options=pa.ipc.IpcWriteOptions(compression="zstd")) as writer:
        writer.write_table(table)
    return table.num_rows, sink.getvalue().to_pybytes()


def _unpack_nodes(streams: list[bytes]) -> pd.DataFrame:
    """The node rows of :func:`_pack_nodes` streams, concatenated in order (``NODE_COLUMNS``)."""
    if not streams:
        return pd.DataFrame(columns=NODE_COLUMNS)
    table = pa.concat_tables([pa.ipc.open_stream(s).read_all() for s in streams])
    return table.to_pandas()[NODE_COLUMNS]


def _node_pieces(packed: list[tuple[int, bytes]], rows: int | None = None) -> Iterator[pd.DataFrame]:
    """The ``network_nodes`` table from packed sites' node rows (:func:`_pack_nodes`, in site order),
    a piece of at least ``rows`` rows (default :data:`NODE_PIECE_ROWS`) at a time, the last maybe
    fewer; one frame with the columns and no rows when there are none."""
    rows = NODE_PIECE_ROWS if rows is None else rows
    streams, n = [], 0
    for k, stream in packed:
        streams.append(stream)
        n += k
        if n >= rows:
            yield _unpack_nodes(streams)
            streams, n = [], 0
    if streams or not packed:
        yield _unpack_nodes(streams)


def _prepare(respondents: pd.DataFrame, ties: pd.DataFrame, tie_types: Sequence[str], waves: Sequence[str]
             ) -> tuple[pd.DataFrame, pd.DataFrame, list[str]]:
    """The rows :func:`run` analyses, in the canonical order: respondents of ``waves`` (none
    without tie types), all ties."""
    waves = [str(w) for w in waves]
    if not waves:
        raise SinergiError("network: no waves given")
    if not _check_tie_types(tie_types):  # a study without networks: the tables with no rows
        respondents = respondents.iloc[:0]
    # one order of the rows, whatever the files' (build_graphs orders vertices and edges itself)
    respondents = in_canonical_order("respondents", respondents, waves)
    ties = in_canonical_order("ties", ties, waves)
    return respondents[respondents["wave"].astype(str).isin(waves)], ties, waves


def _tables(results: list[dict]) -> dict[str, pd.DataFrame]:
    """The stage's tables from the per-site results of :func:`_run_site`, in site order."""
    whole, groups, mixing, nodes, brokerage, change = [], [], [], [], [], []
    for res in results:  # in site order: the same rows in the same order as one serial loop
        whole += res["whole"]
        groups += res["groups"]
        mixing += res["mixing"]
        nodes += res.get("nodes", [])  # run_partitioned keeps them apart
        brokerage += res["brokerage"]
        change += res["change"]
    node_table = pd.concat(nodes, ignore_index=True) if nodes else \
        pd.DataFrame(columns=NODE_COLUMNS)
    return {
        "network_whole": pd.DataFrame(whole, columns=WHOLE_COLUMNS),
        "network_groups": pd.DataFrame(groups, columns=GROUP_COLUMNS),
        "mixing": pd.DataFrame(mixing, columns=MIXING_COLUMNS),
        "network_nodes": node_table[NODE_COLUMNS],
        "brokerage": pd.DataFrame(brokerage, columns=BROKERAGE_COLUMNS),
        "network_change": pd.DataFrame(change, columns=CHANGE_COLUMNS),
    }
