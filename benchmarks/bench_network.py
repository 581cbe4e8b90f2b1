"""Benchmark the network stage against a plain networkx implementation (not a test).

    .venv/bin/python benchmarks/bench_network.py [--sizes 150 1500 15000] [--budget 180]

Synthetic village-like graphs: two groups (70 % lokal / 30 % pendatang), every respondent names
5 others (roster name generator), 75 % of them in the own group. Three comparisons:

1. the core measures (E-I + expected + rescaled, mixing matrix, assortativity, Burt constraint,
   Gould–Fernandez brokerage) — pipeline.analysis.network vs a plain networkx/Python implementation;
2. the E-I label-permutation test (5,000 permutations) — vectorised vs a per-permutation Python
   loop (two baselines: a networkx loop over the edges, and a numpy expression per permutation);
3. the whole stage ``network.run`` for one tie type (+ "any"), 5,000 permutations, vs the same
   measures the networkx way (1 and 2 plus descriptives, betweenness, Louvain, modularity).

networkx baselines whose extrapolated time exceeds ``--budget`` seconds are not run; for the
permutation loops the per-permutation time is measured on a few permutations and multiplied, for
networkx betweenness the per-source time on a sample of sources.
"""

from __future__ import annotations

import argparse
import platform
import sys
import time
from pathlib import Path

import networkx as nx
import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from pipeline.analysis import network as nw  # noqa: E402

PERMS = 5000


def synthetic(n: int, seed: int = 1, k_out: int = 5, p_within: float = 0.75):
    rng = np.random.default_rng(seed)
    labels = (rng.random(n) < 0.3).astype(int)
    members = [np.flatnonzero(labels == g) for g in (0, 1)]
    src, dst = [], []
    for i in range(n):
        same = rng.random(k_out) < p_within
        picks = set()
        for s in same:
            pool = members[labels[i]] if s else members[1 - labels[i]]
            j = int(pool[rng.integers(len(pool))])
            if j != i:
                picks.add(j)
        src += [i] * len(picks)
        dst += sorted(picks)
    ids = [f"r{i:05d}" for i in range(n)]
    groups = np.where(labels == 1, "pendatang", "lokal")
    resp = pd.DataFrame({"respondent_id": ids, "wave": "w1", "group": groups, "site": "desa"})
    ties = pd.DataFrame({"site": "desa", "wave": "w1", "tie_type": "info",
                         "ego": [ids[i] for i in src], "alter": [ids[j] for j in dst],
                         "weight": np.nan})
    return resp, ties


# ------------------------------------------------------------------ ours

def ours_core(g):
    arr = nw._arrays(g)
    mix = nw.mixing_matrix(arr.src, arr.dst, arr.labels, len(arr.groups))
    out = {"ei": nw.ei_index(mix), "ei_expected": nw.ei_expected(arr.sizes),
           "ei_rescaled": nw.ei_rescaled(mix, arr.sizes), "assortativity": nw.assortativity(mix)}
    out["constraint"] = np.asarray(g.constraint())
    out["brokerage"] = nw.brokerage_counts(arr.src, arr.dst, arr.labels, arr.n)
    return out


# ------------------------------------------------------------------ plain networkx

def nx_core(G):
    groups = nx.get_node_attributes(G, "group")
    internal = sum(groups[u] == groups[v] for u, v in G.edges())
    external = G.number_of_edges() - internal
    sizes = pd.Series(groups).value_counts()
    n = G.number_of_nodes()
    p_int = float((sizes * (sizes - 1)).sum())
    p_ext = n * (n - 1) - p_int
    out = {"ei": (external - internal) / (external + internal),
           "ei_expected": (p_ext - p_int) / (p_ext + p_int)}
    d_int, d_ext = internal / p_int, external / p_ext
    out["ei_rescaled"] = (d_ext - d_int) / (d_ext + d_int)
    nx.attribute_mixing_matrix(G, "group")
    out["assortativity"] = nx.attribute_assortativity_coefficient(G, "group")
    out["constraint"] = nx.constraint(G)
    roles = {}
    for v in G:
        counts = [0, 0, 0, 0, 0]
        gv = groups[v]
        for a in G.predecessors(v):
            for c in G.successors(v):
                if a == c or G.has_edge(a, c):
                    continue
                ga, gc = groups[a], groups[c]
                if ga == gv == gc:
                    counts[0] += 1
                elif ga == gc:
                    counts[1] += 1
                elif ga == gv:
                    counts[2] += 1
                elif gc == gv:
                    counts[3] += 1
                else:
                    counts[4] += 1
        roles[v] = counts
    out["brokerage"] = roles
    return out


def nx_perm_loop(G, perms, rng):
    """E-I permutation test written the plain way: relabel, loop over edges, per permutation."""
    nodes = list(G)
    labels = [G.nodes[v]["group"] for v in nodes]
    hits = 0
    for _ in range(perms):
        perm = dict(zip(nodes, rng.permutation(labels)))
        internal = sum(perm[u] == perm[v] for u, v in G.edges())
        hits += internal >= 0  # keep the work; the comparison itself is irrelevant here
    return hits


def nx_stage_parts(G, probe_sources: int, rng) -> dict[str, float]:
    """Seconds for the rest of the stage done the networkx way, for one graph.

    What `network.run` computes per graph beyond the core measures and the permutation test:
    density, reciprocity, transitivity, weak components, directed betweenness, community
    detection (networkx has no Leiden: Louvain, its closest) with the modularity of the group
    partition. Betweenness is timed on ``probe_sources`` sampled sources (Brandes' algorithm is
    one BFS per source) and multiplied by n / probe_sources.
    """
    t = {}
    t0 = time.perf_counter()
    nx.density(G), nx.overall_reciprocity(G)
    U = G.to_undirected()
    nx.transitivity(U)
    max(nx.weakly_connected_components(G), key=len)
    t["descriptives"] = time.perf_counter() - t0
    n = G.number_of_nodes()
    k = min(n, probe_sources)
    t0 = time.perf_counter()
    nx.betweenness_centrality(G, k=k, seed=int(rng.integers(2**31)))
    t["betweenness"] = (time.perf_counter() - t0) * n / k
    t0 = time.perf_counter()
    groups = nx.get_node_attributes(G, "group")
    nx.community.modularity(U, [{v for v in U if groups[v] == g} for g in set(groups.values())])
    nx.community.louvain_communities(U, seed=int(rng.integers(2**31)))
    t["communities"] = time.perf_counter() - t0
    return t


def numpy_perm_loop(src, dst, labels, perms, rng):
    hits = 0
    for _ in range(perms):
        lab = rng.permutation(labels)
        hits += int(np.count_nonzero(lab[src] == lab[dst])) >= 0
    return hits


def timed(fn, *args, repeat=1):
    best = float("inf")
    out = None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn(*args)
        best = min(best, time.perf_counter() - t0)
    return best, out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[150, 1500, 15000])
    ap.add_argument("--budget", type=float, default=180.0,
                    help="skip a networkx baseline predicted to take longer (seconds)")
    ap.add_argument("--skip-run", action="store_true", help="do not time network.run")
    args = ap.parse_args(argv)
    print(f"python {platform.python_version()}, numpy {np.__version__}, "
          f"networkx {nx.__version__}, igraph {nw.ig.__version__}, {platform.machine()}")
    rows = []
    last_nx = None  # (n, seconds) of the last networkx core run, for extrapolation
    for n in args.sizes:
        resp, ties = synthetic(n)
        g = nw.build_graphs(resp, ties, ["info"])[("desa", "w1", "info")]
        G = nw.to_networkx(g)
        m = g.ecount()
        t_ours, ours = timed(ours_core, g, repeat=3)
        predicted = None if last_nx is None else last_nx[1] * (n / last_nx[0]) * 1.2
        if predicted is None or predicted <= args.budget:
            t_nx, ref = timed(nx_core, G, repeat=3)
            last_nx = (n, t_nx)
            # same answers
            assert abs(ref["ei"] - ours["ei"]) < 1e-12
            assert abs(ref["assortativity"] - ours["assortativity"]) < 1e-9
            names = g.vs["name"]
            cons = np.array([ref["constraint"][v] for v in names])
            assert np.allclose(cons, ours["constraint"], equal_nan=True)
            brok = np.array([ref["brokerage"][v] for v in names])
            assert np.array_equal(brok, ours["brokerage"])
            nx_note = ""
        else:
            t_nx, nx_note = float("nan"), f"skipped (predicted ≈{predicted:.0f} s > budget)"
        # permutation test
        arr = nw._arrays(g)
        t_vec, _ = timed(nw.ei_permutation_test, arr.src, arr.dst, arr.labels, PERMS,
                         np.random.default_rng(1), repeat=3)
        probe = max(5, min(PERMS, int(2e6 // max(m, 1))))
        t_loop_np, _ = timed(numpy_perm_loop, arr.src, arr.dst, arr.labels, probe,
                             np.random.default_rng(2))
        t_loop_np *= PERMS / probe
        probe_nx = max(3, min(PERMS, int(3e5 // max(m, 1))))
        t_loop_nx, _ = timed(nx_perm_loop, G, probe_nx, np.random.default_rng(3))
        t_loop_nx *= PERMS / probe_nx
        # whole stage: network.run builds two graphs (the tie type and "any", here identical),
        # so the networkx stage is counted twice
        t_run = float("nan") if args.skip_run else \
            timed(nw.run, resp, ties, ["info"], ["w1"], 20261123, PERMS)[0]
        probe_bc = max(5, min(n, int(4e5 // max(m, 1))))
        parts = nx_stage_parts(G, probe_bc, np.random.default_rng(4))
        t_stage_nx = 2 * (t_nx + t_loop_nx + sum(parts.values()))
        rows.append({"n": n, "ties": m, "core_ours_s": t_ours, "core_nx_s": t_nx,
                     "core_speedup": t_nx / t_ours, "nx_note": nx_note,
                     "perm_vec_s": t_vec, "perm_loop_nx_s": t_loop_nx,
                     "perm_speedup_vs_nx_loop": t_loop_nx / t_vec,
                     "perm_loop_numpy_s": t_loop_np,
                     "perm_speedup_vs_numpy_loop": t_loop_np / t_vec,
                     "perm_loop_extrapolated_from": f"{probe_nx} nx / {probe} numpy perms",
                     "run_s": t_run, "stage_nx_s": t_stage_nx,
                     "stage_speedup": t_stage_nx / t_run,
                     "nx_betweenness_s": parts["betweenness"],
                     "nx_communities_s": parts["communities"],
                     "betweenness_extrapolated_from": f"{min(n, probe_bc)} sources"})
        print(pd.DataFrame(rows[-1:]).to_string(index=False), flush=True)
    print()
    print(pd.DataFrame(rows).to_markdown(index=False, floatfmt=".3g"))


if __name__ == "__main__":
    main()
