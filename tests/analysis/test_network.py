"""Tests for pipeline.analysis.network: every measure against a second implementation.

Reference sources
-----------------
* netseg (R, github.com/mbojan/netseg) published outputs for WhiteKinship and Classroom
  (README, vignette ``articles/netseg.md``, reference pages ``ei``, ``assort``, ``orwg``,
  ``freeman``, ``coleman``); the data are text copies of netseg's ``data-raw`` CSVs.
* ``sna::brokerage`` (R sna 2.7-1) via ``Rscript tests/r/brokerage.R`` → tests/data/brokerage_ref_*.csv.
* networkx 3.6 / igraph 1.0 for assortativity, modularity, constraint.
* Hand-computed small cases and brute-force (slow loop / exact enumeration) references for the
  vectorised permutation tests.
"""

from __future__ import annotations

import itertools
import math
from pathlib import Path

import igraph as ig
import networkx as nx
import numpy as np
import pandas as pd
import pytest

from pipeline.analysis import network as nw
from pipeline.report import network_export as ne
from pipeline.errors import SinergiError

DATA = Path(__file__).parents[1] / "data"


# ---------------------------------------------------------------- helpers

def _tables(edges, groups, *, site="s", wave="w1", tie_type="info", both=False):
    """Canonical respondents + ties for one graph; ``both`` adds the reverse of every edge."""
    resp = pd.DataFrame({"respondent_id": [str(k) for k in groups],
                         "wave": wave, "group": [str(v) for v in groups.values()], "site": site})
    pairs = [(str(a), str(b)) for a, b in edges]
    if both:
        pairs = sorted(set(pairs) | {(b, a) for a, b in pairs})
    ties = pd.DataFrame({"site": site, "wave": wave, "tie_type": tie_type,
                         "ego": [a for a, _ in pairs], "alter": [b for _, b in pairs],
                         "weight": np.nan})
    return resp, ties


def _one(out, name="network_whole", tie_type="info", wave="w1"):
    df = out[name]
    return df[(df["tie_type"] == tie_type) & (df["wave"] == wave)]


@pytest.fixture(scope="module")
def whitekinship():
    e = pd.read_csv(DATA / "whitekinship_edges.csv")
    v = pd.read_csv(DATA / "whitekinship_vertices.csv")
    return list(zip(e["from"], e["to"])), dict(zip(v["name"], v["gender"]))


@pytest.fixture(scope="module")
def classroom():
    e = pd.read_csv(DATA / "classroom_edges.csv")
    v = pd.read_csv(DATA / "classroom_vertices.csv")
    return list(zip(e["from"], e["to"])), dict(zip(v["id"], v["gender"]))


@pytest.fixture(scope="module")
def classroom_run(classroom):
    resp, ties = _tables(*classroom)
    return nw.run(resp, ties, ["info"], ["w1"], permutations=200)


# ---------------------------------------------------------------- published values

def test_karate_club_assortativity_networkx_igraph_agree():
    # Zachary karate club, attribute "club" (Mr. Hi / Officer, 17 + 17 members):
    # nx.attribute_assortativity_coefficient(G, "club") = 0.717530864...; igraph
    # assortativity_nominal(directed=False) gives the same. (Not a published table value: the
    # literature's 0.7175 for the faction split is what both libraries compute.)
    G = nx.karate_club_graph()
    groups = {str(n): d["club"] for n, d in G.nodes(data=True)}
    resp, ties = _tables(G.edges(), groups, both=True)
    out = nw.run(resp, ties, ["info"], ["w1"], permutations=100)
    whole = _one(out).iloc[0]
    r_nx = nx.attribute_assortativity_coefficient(G, "club")
    g = ig.Graph.from_networkx(G)
    r_ig = g.assortativity_nominal([int(c == "Officer") for c in g.vs["club"]], directed=False)
    assert r_nx == pytest.approx(r_ig, abs=1e-12)
    assert whole["assortativity"] == pytest.approx(0.7175308642, abs=1e-9)
    assert whole["assortativity"] == pytest.approx(r_nx, abs=1e-12)
    assert whole["n_ties"] == 2 * G.number_of_edges()


def test_whitekinship_matches_netseg(whitekinship):
    # netseg reference pages (undirected WhiteKinship, "gender"):
    #   ei(WhiteKinship, "gender")      -0.1818182
    #   assort(WhiteKinship, "gender")   0.1801242
    #   orwg(WhiteKinship, "gender")     3.301587
    #   freeman(WhiteKinship, "gender")  0.2636364   (netseg README / tests: round(., 2) == 0.26)
    # An undirected tie enters our directed pipeline as two mutual nominations.
    resp, ties = _tables(*whitekinship, both=True)
    whole = _one(nw.run(resp, ties, ["info"], ["w1"], permutations=100)).iloc[0]
    assert whole["ei"] == pytest.approx(-0.1818182, abs=1e-7)
    assert whole["assortativity"] == pytest.approx(0.1801242, abs=1e-7)
    assert whole["odds_ratio"] == pytest.approx(3.301587, abs=1e-6)
    assert whole["freeman"] == pytest.approx(0.2636364, abs=1e-7)
    assert whole["yules_q"] == pytest.approx((3.301587 - 1) / (3.301587 + 1), abs=1e-6)
    assert whole["reciprocity"] == pytest.approx(1.0)


def test_classroom_directed_matches_netseg(classroom_run):
    # netseg vignette, directed Classroom ("play with", 26 pupils incl. one isolate):
    #   mixingm(Classroom, "gender")  Boy->Boy 40, Boy->Girl 2, Girl->Boy 5, Girl->Girl 41
    #   ei(Classroom, "gender")       -0.8409091
    #   orwg(Classroom, "gender")     16.58071
    #   coleman(Classroom, "gender")  Boy 0.9084249, Girl 0.7909699
    whole = _one(classroom_run).iloc[0]
    assert whole["n_nodes"] == 26 and whole["n_ties"] == 88
    mix = _one(classroom_run, "mixing").set_index(["from_group", "to_group"])["ties"]
    assert mix.to_dict() == {("Boy", "Boy"): 40, ("Boy", "Girl"): 2, ("Girl", "Boy"): 5,
                             ("Girl", "Girl"): 41}
    assert whole["ei"] == pytest.approx(-0.8409091, abs=1e-7)
    # the E and I of the E-I index are in the table (the report prints them, never inverts E-I)
    assert (whole["ties_between"], whole["ties_within"]) == (2 + 5, 40 + 41)
    assert nw.ei(whole["ties_between"], whole["ties_within"]) == whole["ei"]
    assert whole["odds_ratio"] == pytest.approx(16.58071, abs=1e-5)
    col = _one(classroom_run, "network_groups").set_index("group")["coleman"]
    assert col["Boy"] == pytest.approx(0.9084249, abs=1e-7)
    assert col["Girl"] == pytest.approx(0.7909699, abs=1e-7)
    # netseg assort() symmetrises a directed mixing matrix first ("div", netseg#23) and gets
    # 0.8408885; Newman's directed formula (ours = igraph = networkx) is 0.84107.
    assert whole["assortativity"] == pytest.approx(0.8408885, abs=5e-4)
    assert whole["assortativity"] != pytest.approx(0.8408885, abs=1e-6)


def test_classroom_mutual_matches_netseg(classroom):
    # netseg vignette, undir <- as.undirected(Classroom, mode = "mutual"):
    #   ei(undir) -0.9090909, assort(undir) 0.9089027, freeman(undir) 0.9125874,
    #   orwg(undir) 26.13333
    edges, groups = classroom
    es = set(edges)
    mutual = sorted({(a, b) for a, b in es if (b, a) in es})
    codes = {g: i for i, g in enumerate(sorted(set(groups.values())))}
    ids = sorted(groups)
    index = {v: i for i, v in enumerate(ids)}
    labels = np.array([codes[groups[v]] for v in ids])
    src = np.array([index[a] for a, _ in mutual])
    dst = np.array([index[b] for _, b in mutual])
    mix = nw.mixing_matrix(src, dst, labels, 2)
    sizes = np.bincount(labels).astype(float)
    assert nw.ei_index(mix) == pytest.approx(-0.9090909, abs=1e-7)
    assert nw.assortativity(mix) == pytest.approx(0.9089027, abs=1e-7)
    assert nw.odds_ratio_within(mix, sizes)[0] == pytest.approx(26.13333, abs=1e-5)
    once = src < dst  # each undirected edge once
    cross = int(np.sum(labels[src[once]] != labels[dst[once]]))
    assert nw.freeman_segregation(cross, int(once.sum()), sizes) == pytest.approx(0.9125874,
                                                                                  abs=1e-7)


def test_directed_assortativity_and_modularity_match_igraph_networkx(classroom, classroom_run):
    edges, groups = classroom
    resp, ties = _tables(edges, groups)
    g = nw.build_graphs(resp, ties, ["info"])[("s", "w1", "info")]
    types = [int(x == "Girl") for x in g.vs["group"]]
    whole = _one(classroom_run).iloc[0]
    assert whole["assortativity"] == pytest.approx(
        g.assortativity_nominal(types, directed=True), abs=1e-12)
    assert whole["assortativity"] == pytest.approx(
        nx.attribute_assortativity_coefficient(nw.to_networkx(g), "group"), abs=1e-12)
    assert whole["modularity_group"] == pytest.approx(g.modularity(types, directed=True),
                                                      abs=1e-12)
    # r = Q / (1 - Σ a_g b_g): Q is the unnormalised assortativity (igraph docs). (python-igraph
    # 1.0.0 raises SystemError on assortativity_nominal(..., normalized=False), so via the
    # mixing matrix: Classroom Σ a_g b_g = (42·45 + 46·43) / 88².)
    s = (42 * 45 + 46 * 43) / 88 ** 2
    assert whole["modularity_group"] == pytest.approx(whole["assortativity"] * (1 - s), abs=1e-12)


# ---------------------------------------------------------------- hand-computed case

HAND_GROUPS = {"a": "L", "b": "L", "c": "L", "d": "P", "e": "P"}
HAND_EDGES = [("a", "b"), ("b", "a"), ("a", "d"), ("e", "c"), ("d", "e")]


def test_hand_computed_whole_group_node():
    # 3 L + 2 P. Ordered pairs: P_int = 3·2 + 2·1 = 8, P_ext = 20 − 8 = 12.
    # I = 3 (a→b, b→a, d→e), E = 2 → EI = −1/5; EI_exp = (12−8)/20 = 0.2;
    # rescaled = (2/12 − 3/8)/(2/12 + 3/8) = −5/13. OR = (3·10)/(2·5) = 3, Q = 0.5.
    # Union edges {ab, ad, ce, de}: C = 2, E[C] = 4·(25−13)/20 = 2.4 → Freeman = 1/6.
    # e = [[2,1],[1,1]]/5, Σab = 13/25 → r = (15/25 − 13/25)/(12/25) = 1/6; Q = 2/25.
    # Coleman L: D=3, W=2, E=3·2/4=1.5 → 0.5/1.5; P: D=2, W=1, E=0.5 → 0.5/1.5.
    resp, ties = _tables(HAND_EDGES, HAND_GROUPS)
    out = nw.run(resp, ties, ["info"], ["w1"], permutations=100)
    w = _one(out).iloc[0]
    assert w["ei"] == pytest.approx(-0.2)
    assert w["ei_expected"] == pytest.approx(0.2)
    assert w["ei_rescaled"] == pytest.approx(-5 / 13)
    assert w["odds_ratio"] == pytest.approx(3.0) and w["yules_q"] == pytest.approx(0.5)
    assert w["freeman"] == pytest.approx(1 / 6)
    assert w["assortativity"] == pytest.approx(1 / 6)
    assert w["modularity_group"] == pytest.approx(2 / 25)
    assert w["density"] == pytest.approx(5 / 20)
    assert w["reciprocity"] == pytest.approx(2 / 5)
    assert w["note"] == ""
    grp = _one(out, "network_groups").set_index("group")
    assert grp.loc["L", ["ties_internal", "ties_external"]].tolist() == [2, 2]
    assert grp.loc["P", ["ties_internal", "ties_external"]].tolist() == [1, 2]
    assert grp.loc["P", "ei"] == pytest.approx(1 / 3)
    assert grp.loc["L", "density_internal"] == pytest.approx(2 / 6)
    assert grp["coleman"].tolist() == pytest.approx([1 / 3, 1 / 3])
    nodes = _one(out, "network_nodes").set_index("respondent_id")
    assert nodes["bonding"].to_dict() == {"a": 1, "b": 1, "c": 0, "d": 1, "e": 1}
    assert nodes["bridging"].to_dict() == {"a": 1, "b": 0, "c": 1, "d": 1, "e": 1}
    assert nodes["ei"].to_dict() == {"a": 0.0, "b": -1.0, "c": 1.0, "d": 0.0, "e": 0.0}
    assert nodes["out_degree"].tolist() == [2, 1, 0, 1, 1]
    assert nodes["in_degree"].tolist() == [1, 1, 1, 1, 1]
    # brokerage by hand: a→d→e (L→P→P, d gatekeeper), d→e→c (P→P→L, e representative),
    # b→a→d (L→L→P, a representative); e→c closes nothing (c sends no tie).
    assert nodes["gatekeeper"].to_dict() == {"a": 0, "b": 0, "c": 0, "d": 1, "e": 0}
    assert nodes["representative"].to_dict() == {"a": 1, "b": 0, "c": 0, "d": 0, "e": 1}
    assert nodes[["coordinator", "itinerant", "liaison"]].to_numpy().sum() == 0


# ---------------------------------------------------------------- brokerage vs sna

def _brokerage_fixture():
    edges = pd.read_csv(DATA / "brokerage_edges.csv")
    groups = pd.read_csv(DATA / "brokerage_groups.csv")
    ref_n = pd.read_csv(DATA / "brokerage_ref_nodes.csv")
    ref_g = pd.read_csv(DATA / "brokerage_ref_global.csv")
    return edges, groups, ref_n, ref_g


@pytest.mark.parametrize("gname", ["g1", "g2", "g3"])
def test_brokerage_matches_sna(gname):
    # R: b <- sna::brokerage(adj, cl) for the graphs in tests/data/brokerage_edges.csv
    # (script: tests/r/brokerage.R). E.g. g1 (8 nodes, 2 groups): raw.gli w_I 3, w_O 2,
    # b_IO 4, b_OI 2, b_O 0; exp.gli w_I 1.98624271137026, sd.gli 1.7975841825868.
    edges, groups, ref_n, ref_g = _brokerage_fixture()
    e, v = edges[edges.graph == gname], groups[groups.graph == gname]
    resp, ties = _tables(zip(e["from"], e["to"]), dict(zip(v["node"], v["group"])))
    out = nw.run(resp, ties, ["info"], ["w1"], permutations=10)
    nodes = _one(out, "network_nodes").copy()
    nodes["node"] = nodes["respondent_id"].astype(int)
    nodes = nodes.sort_values("node")
    r = ref_n[ref_n.graph == gname].sort_values("node")
    for role, sna in nw.ROLES:
        assert nodes[role].tolist() == r[sna].astype(int).tolist(), role
    br = _one(out, "brokerage").set_index("sna_role")
    rg = ref_g[ref_g.graph == gname].set_index("role")
    assert br["observed"].tolist() == rg.loc[br.index, "raw"].astype(int).tolist()
    np.testing.assert_allclose(br["expected"], rg.loc[br.index, "exp"], rtol=1e-10)
    np.testing.assert_allclose(br["sd"], rg.loc[br.index, "sd"], rtol=1e-10)
    np.testing.assert_allclose(br["z"], rg.loc[br.index, "z"], rtol=1e-9)  # NaN == NaN


def _brokerage_brute(n, edges, labels):
    adj = {(a, b) for a, b in edges}
    out = np.zeros((n, 5), dtype=int)
    for v in range(n):
        for a in range(n):
            for c in range(n):
                if len({a, v, c}) < 3 or (a, v) not in adj or (v, c) not in adj or (a, c) in adj:
                    continue
                la, lv, lc = labels[a], labels[v], labels[c]
                if la == lv == lc:
                    out[v, 0] += 1
                elif la == lc != lv:
                    out[v, 1] += 1
                elif la == lv != lc:
                    out[v, 2] += 1
                elif lc == lv != la:
                    out[v, 3] += 1
                else:
                    out[v, 4] += 1
    return out


@pytest.mark.parametrize("seed,k", [(5, 2), (6, 3), (7, 4)])
def test_brokerage_counts_match_path_patterns(seed, k, monkeypatch):
    rng = np.random.default_rng(seed)
    n = 25
    adj = rng.random((n, n)) < 0.15
    np.fill_diagonal(adj, False)
    src, dst = np.nonzero(adj)
    labels = rng.integers(0, k, size=n)
    got = nw.brokerage_counts(src, dst, labels, n)
    assert np.array_equal(got, _brokerage_brute(n, list(zip(src, dst)), labels))
    # the large-graph branch (binary search instead of a dense lookup) and duplicate edges
    monkeypatch.setattr(nw, "_BITSET_MAX", 0)
    twice = nw.brokerage_counts(np.r_[src, src[:5]], np.r_[dst, dst[:5]], labels, n)
    assert np.array_equal(twice, got)
    if k == 2:
        assert got[:, 4].sum() == 0  # liaison impossible with two groups


# ---------------------------------------------------------------- constraint, conversion

def test_constraint_igraph_equals_networkx(classroom):
    edges, groups, _, _ = _brokerage_fixture()
    cases = [classroom]
    for gname in ("g1", "g2", "g3"):
        e, v = edges[edges.graph == gname], groups[groups.graph == gname]
        cases.append((list(zip(e["from"], e["to"])), dict(zip(v["node"], v["group"]))))
    for case in cases:
        resp, ties = _tables(*case)
        g = nw.build_graphs(resp, ties, ["info"])[("s", "w1", "info")]
        ours = _one(nw.run(resp, ties, ["info"], ["w1"], permutations=10),
                    "network_nodes").set_index("respondent_id")["constraint"]
        ref = nx.constraint(nw.to_networkx(g))
        assert len(ref) == len(ours)
        for name, value in ref.items():
            if math.isnan(value):
                assert math.isnan(ours[name])  # isolates
            else:
                assert ours[name] == pytest.approx(value, abs=1e-12)


def test_kept_arrays_are_the_graph(classroom):
    resp, ties = _tables(*classroom)
    resp.loc[resp.index[:3], "group"] = "zz"  # three groups, one sorted last
    for g in nw.build_graphs(resp, ties, ["info"]).values():
        kept, fresh = nw._arrays(g), nw._arrays(g.copy())  # a copy has no kept view
        assert kept is g._sinergi_arrays and fresh is not kept
        assert kept.n == fresh.n and kept.groups == fresh.groups
        for a, b in ((kept.src, fresh.src), (kept.dst, fresh.dst), (kept.labels, fresh.labels)):
            assert a.dtype == b.dtype == np.int64 and np.array_equal(a, b)
        assert [kept.groups[i] for i in kept.labels] == g.vs["group"]


def test_to_networkx_is_faithful(classroom):
    resp, ties = _tables(*classroom)
    g = nw.build_graphs(resp, ties, ["info"])[("s", "w1", "info")]
    G = nw.to_networkx(g)
    assert G.is_directed() and G.number_of_nodes() == 26 and G.number_of_edges() == 88
    assert G.nodes["1024"]["group"] == "Boy" and G.degree("1024") == 0
    assert G.has_edge("1003", "1018") and not G.has_edge("1018", "1003")


# ---------------------------------------------------------------- permutation tests

def _ei(src, dst, labels):
    return (len(src) - 2.0 * np.sum(labels[src] == labels[dst])) / len(src)


def _exact_null(src, dst, n):
    """E-I under each of the C(n, 3) arrangements of a group of 3 among n (all equally likely)."""
    null = []
    for trio in itertools.combinations(range(n), 3):
        lab = np.ones(n, dtype=int)
        lab[list(trio)] = 0
        null.append(_ei(src, dst, lab))
    return np.array(null)


def test_ei_permutation_matches_exact_and_slow_loop():
    # 9 nodes, groups 3 + 6: all C(9,3) = 84 labelings are equally likely under a uniform
    # permutation, so the exact p is computable; the vectorised estimate and a slow
    # per-permutation loop must both agree with it within Monte Carlo error.
    rng = np.random.default_rng(11)
    n = 9
    adj = rng.random((n, n)) < 0.3
    np.fill_diagonal(adj, False)
    src, dst = np.nonzero(adj)
    labels = np.array([0, 0, 0, 1, 1, 1, 1, 1, 1])
    exp = nw.ei_expected(np.bincount(labels))
    obs = _ei(src, dst, labels)
    null = _exact_null(src, dst, n)
    exact = np.mean(np.abs(null - exp) >= abs(obs - exp) - 1e-12)
    assert np.mean(null) == pytest.approx(exp)  # E-I expected is the permutation mean
    perms = 20000
    fast = nw.ei_permutation_test(src, dst, labels, perms, np.random.default_rng(1))
    slow_rng = np.random.default_rng(2)
    hits = sum(abs(_ei(src, dst, slow_rng.permutation(labels)) - exp) >= abs(obs - exp) - 1e-12
               for _ in range(4000))
    slow = (hits + 1) / 4001
    se = math.sqrt(exact * (1 - exact) / perms)
    assert abs(fast - exact) < 4 * se + 1 / perms
    assert abs(slow - exact) < 4 * math.sqrt(exact * (1 - exact) / 4000) + 1 / 4000
    assert 0 < exact < 1


def test_ei_permutation_detects_segregation_and_is_seeded():
    # two 10-cliques by group, one bridge: p must be the minimum 1/(perms+1)
    groups = {f"a{i}": "L" for i in range(10)} | {f"b{i}": "P" for i in range(10)}
    edges = [(f"a{i}", f"a{j}") for i in range(10) for j in range(10) if i != j]
    edges += [(f"b{i}", f"b{j}") for i in range(10) for j in range(10) if i != j]
    edges += [("a0", "b0")]
    resp, ties = _tables(edges, groups)
    w1 = _one(nw.run(resp, ties, ["info"], ["w1"], permutations=999, seed=3)).iloc[0]
    assert w1["ei_p"] == pytest.approx(1 / 1000)
    assert w1["leiden_n"] == 2 and w1["leiden_nmi"] == pytest.approx(1.0)
    assert w1["ei_rescaled"] < -0.95


def test_assortativity_jackknife_matches_edge_deletion_loop(classroom):
    edges, groups = classroom
    ids = sorted(groups)
    index = {v: i for i, v in enumerate(ids)}
    labels = np.array([int(groups[v] == "Girl") for v in ids])
    src = np.array([index[a] for a, _ in edges])
    dst = np.array([index[b] for _, b in edges])
    r = nw.assortativity(nw.mixing_matrix(src, dst, labels, 2))
    slow = 0.0
    for i in range(len(src)):
        keep = np.arange(len(src)) != i
        slow += (nw.assortativity(nw.mixing_matrix(src[keep], dst[keep], labels, 2)) - r) ** 2
    assert nw.assortativity_jackknife_se(nw.mixing_matrix(src, dst, labels, 2)) == \
        pytest.approx(math.sqrt(slow), rel=1e-10)


def test_delta_ei_swap_test_matches_exact_enumeration():
    rng = np.random.default_rng(4)
    n = 10
    e_pre, i_pre = rng.integers(0, 3, n), rng.integers(0, 4, n)
    e_post, i_post = rng.integers(0, 5, n), rng.integers(0, 3, n)

    def dei(s):
        s = np.asarray(s)
        ep, ip = np.where(s, e_post, e_pre).sum(), np.where(s, i_post, i_pre).sum()
        eq, iq = np.where(s, e_pre, e_post).sum(), np.where(s, i_pre, i_post).sum()
        return (eq - iq) / (eq + iq) - (ep - ip) / (ep + ip)

    obs = dei(np.zeros(n, dtype=bool))
    null = np.array([dei(s) for s in itertools.product([False, True], repeat=n)])
    exact = np.mean(np.abs(null) >= abs(obs) - 1e-12)
    assert np.mean(null) == pytest.approx(0.0, abs=1e-12)  # symmetric null
    perms = 20000
    d, p = nw.delta_ei_test(e_pre, i_pre, e_post, i_post, perms, np.random.default_rng(9))
    assert d == pytest.approx(obs)
    assert abs(p - exact) < 4 * math.sqrt(exact * (1 - exact) / perms) + 1 / perms


def test_qap_correlation_matches_corrcoef_and_slow_loop():
    rng = np.random.default_rng(8)
    n = 12
    a = rng.random((n, n)) < 0.25
    b = a ^ (rng.random((n, n)) < 0.2)
    np.fill_diagonal(a, False)
    np.fill_diagonal(b, False)
    off = ~np.eye(n, dtype=bool)
    r_ref = np.corrcoef(a[off].astype(float), b[off].astype(float))[0, 1]
    r, p = nw.qap_correlation(n, *np.nonzero(a), *np.nonzero(b), 5000, np.random.default_rng(1))
    assert r == pytest.approx(r_ref, abs=1e-12)
    slow_rng = np.random.default_rng(2)
    hits = 0
    for _ in range(2000):
        perm = slow_rng.permutation(n)
        bp = b[np.ix_(perm, perm)]
        hits += abs(np.corrcoef(a[off].astype(float), bp[off].astype(float))[0, 1]) >= abs(r) - 1e-12
    slow = (hits + 1) / 2001
    assert abs(p - slow) < 4 * math.sqrt(max(slow * (1 - slow), 1e-4) / 2000) + 0.002

def test_qap_sparse_branch_equals_dense_branch(monkeypatch):
    # large graphs look cells up by binary search in sorted keys instead of a dense matrix:
    # same seed -> same permutations -> identical (r, p)
    rng = np.random.default_rng(3)
    n = 15
    a, b = rng.random((n, n)) < 0.2, rng.random((n, n)) < 0.2
    np.fill_diagonal(a, False)
    np.fill_diagonal(b, False)
    b |= a & (rng.random((n, n)) < 0.5)
    dense = nw.qap_correlation(n, *np.nonzero(a), *np.nonzero(b), 700, np.random.default_rng(5))
    monkeypatch.setattr(nw, "_DENSE_LOOKUP_MAX", 0)
    keyed = nw.qap_correlation(n, *np.nonzero(a), *np.nonzero(b), 700, np.random.default_rng(5))
    assert dense == keyed and dense[1] < 0.05



# ------------------------------------------- tests sharing one block of draws (a site's tie types)

def _digraph(rng, n, density):
    adj = rng.random((n, n)) < density
    np.fill_diagonal(adj, False)
    return np.nonzero(adj)


def test_shared_draws_give_each_graph_its_exact_p_value():
    # three graphs on the same 9 labelled vertices tested on one block of arrangements: each
    # p-value agrees with its exact permutation p (all C(9,3) labelings), and the first graph
    # gets the draws it would get alone
    rng = np.random.default_rng(12)
    n = 9
    labels = np.array([0, 0, 0, 1, 1, 1, 1, 1, 1])
    graphs = [_digraph(rng, n, d) for d in (0.3, 0.45, 0.2)]
    exp = nw.ei_expected(np.bincount(labels))
    perms = 20000
    ps = nw.ei_permutation_tests(graphs, labels, perms, np.random.default_rng(1))
    assert ps[0] == nw.ei_permutation_test(*graphs[0], labels, perms, np.random.default_rng(1))
    for (src, dst), p in zip(graphs, ps):
        obs = _ei(src, dst, labels)
        exact = np.mean(np.abs(_exact_null(src, dst, n) - exp) >= abs(obs - exp) - 1e-12)
        assert abs(p - exact) < 4 * math.sqrt(exact * (1 - exact) / perms) + 1 / perms
    # a graph without ties is NaN, the others as before
    ps2 = nw.ei_permutation_tests([graphs[0], (np.zeros(0, int), np.zeros(0, int))], labels, perms,
                                  np.random.default_rng(1))
    assert ps2[0] == ps[0] and math.isnan(ps2[1])


def test_shared_draws_do_not_depend_on_the_graphs_order():
    # the same draws in any order of the graphs: a graph's p-value is the same whether it comes
    # first or last (QAP: its field of the packed lookup; E-I and ΔE-I: its column of the block)
    rng = np.random.default_rng(13)
    n = 25
    labels = rng.integers(0, 3, n)
    graphs = [_digraph(rng, n, d) for d in (0.1, 0.2, 0.05, 0.3)]
    fwd = nw.ei_permutation_tests(graphs, labels, 999, np.random.default_rng(2))
    back = nw.ei_permutation_tests(graphs[::-1], labels, 999, np.random.default_rng(2))
    assert fwd == back[::-1]
    counts = [tuple(rng.integers(0, 4, n) for _ in range(4)) for _ in range(3)]
    fwd = nw.delta_ei_tests(counts, 999, np.random.default_rng(3))
    assert fwd == nw.delta_ei_tests(counts[::-1], 999, np.random.default_rng(3))[::-1]
    assert fwd[0] == nw.delta_ei_test(*counts[0], 999, np.random.default_rng(3))
    # QAP: 9 pairs (more than one 64-bit word of fields), the dense and the keyed lookup
    pairs = [(*_digraph(rng, n, 0.1), *_digraph(rng, n, d)) for d in np.linspace(0.05, 0.4, 9)]
    fwd = nw.qap_correlations(n, pairs, 499, np.random.default_rng(4))
    assert fwd == nw.qap_correlations(n, pairs[::-1], 499, np.random.default_rng(4))[::-1]
    alone = [nw.qap_correlation(n, *pair, 499, np.random.default_rng(4)) for pair in pairs]
    assert fwd[0] == alone[0]
    assert [r for r, _ in fwd] == pytest.approx([r for r, _ in alone], rel=1e-12)
    import unittest.mock as mock
    with mock.patch.object(nw, "_DENSE_LOOKUP_MAX", 0):
        assert nw.qap_correlations(n, pairs, 499, np.random.default_rng(4)) == fwd


def _ei_hits_reference(graphs, labels, permutations, rng):
    """E-I exceedances the plain way, on the draws ei_permutation_tests makes: its arrangements
    (_label_arrangements, in _chunks), one graph and one arrangement at a time."""
    n, k = len(labels), int(labels.max()) + 1
    sizes = np.bincount(labels, minlength=k)
    exp = nw.ei_expected(sizes)
    hits = [0] * len(graphs)
    for count in nw._chunks(permutations, n, cells=4 * nw._CHUNK_CELLS):
        block = nw._label_arrangements(rng, sizes, count)
        for j, (src, dst) in enumerate(graphs):
            obs = _ei(src, dst, labels)
            for c in range(count):
                hits[j] += abs(_ei(src, dst, block[:, c]) - exp) >= abs(obs - exp) - 1e-12
    return [(h + 1) / (permutations + 1) for h in hits]


@pytest.mark.parametrize("k", [2, 3])
def test_ei_union_classes_and_byte_lanes_are_exact(monkeypatch, k):
    # the tie types' union split into classes, counted on bytes 8 lanes a word, arrangements
    # drawn 64 vertices a call: the same p-values as one graph and one arrangement at a time on
    # the same draws, with repeated edges (a class per multiplicity) and overlapping graphs, for
    # any block sizes (small ones force several row blocks, lane sums and chunks)
    rng = np.random.default_rng(21)
    n = 40
    labels = rng.integers(0, k, n)
    graphs = [_digraph(rng, n, d) for d in (0.05, 0.1, 0.08)]
    union = tuple(np.concatenate(x) for x in zip(*graphs))  # "any" with repeated edges
    graphs.append(union)
    graphs.append((np.zeros(0, int), np.zeros(0, int)))
    ref = _ei_hits_reference(graphs[:4], labels, 301, np.random.default_rng(7))
    got = nw.ei_permutation_tests(graphs, labels, 301, np.random.default_rng(7))
    assert got[:4] == ref and math.isnan(got[4])
    monkeypatch.setattr(nw, "_ROW_BLOCK", 7)
    monkeypatch.setattr(nw, "_SWAR_ROWS", 3)
    assert nw.ei_permutation_tests(graphs, labels, 301, np.random.default_rng(7))[:4] == got[:4]
    # blocks of arrangements (each drawn vertex by vertex) are part of the draws: with chunks of
    # 100 the draws differ, and the reference on those draws agrees again
    monkeypatch.setattr(nw, "_CHUNK_CELLS", 1000)  # 4 × 1000 / 40 vertices: chunks of 100
    ref = _ei_hits_reference(graphs[:4], labels, 301, np.random.default_rng(7))
    assert nw.ei_permutation_tests(graphs, labels, 301, np.random.default_rng(7))[:4] == ref


def test_qap_block_layout_does_not_change_the_draws(monkeypatch):
    # QAP on an actors × permutations block: the same permutations as rng.permuted row by row
    # (a plain loop over them gives the same p), whatever the block size
    rng = np.random.default_rng(22)
    n = 20
    pairs = [(*_digraph(rng, n, 0.15), *_digraph(rng, n, d)) for d in (0.1, 0.2, 0.3)]
    got = nw.qap_correlations(n, pairs, 257, np.random.default_rng(9))
    perms = np.random.default_rng(9).permuted(np.tile(np.arange(n), (257, 1)), axis=1)
    off = ~np.eye(n, dtype=bool)
    for (ps, pd_, qs, qd), (r, p) in zip(pairs, got):
        a = np.zeros((n, n), bool)
        a[ps, pd_] = True
        b = np.zeros((n, n), bool)
        b[qs, qd] = True
        obs = np.corrcoef(a[off], b[off])[0, 1]
        assert r == pytest.approx(obs, abs=1e-12)
        null = [np.corrcoef(a[off], b[np.ix_(q, q)][off])[0, 1] for q in perms]
        assert p == (np.sum(np.abs(null) >= abs(r) - 1e-9) + 1) / 258
    monkeypatch.setattr(nw, "_QAP_CHUNK_CELLS", 50)
    assert nw.qap_correlations(n, pairs, 257, np.random.default_rng(9)) == got


def test_shared_draws_p_values_are_uniform_under_the_null():
    # labels independent of the ties (E-I) and two independent waves (QAP): over 300 sites the
    # p-values of every tie type, each on the shared draws, are valid — P(p ≤ α) ≤ α up to Monte
    # Carlo error (3 SE) — and not far from uniform (the statistics are discrete on these small
    # graphs, so ties with the observed value make p conservative, never anti-conservative)
    rng = np.random.default_rng(14)
    n = 30
    ei_ps, qap_ps = [[], [], []], [[], [], []]
    for _ in range(300):
        labels = rng.permutation(np.repeat([0, 1], [18, 12]))
        graphs = [_digraph(rng, n, d) for d in (0.08, 0.12, 0.2)]
        for k, p in enumerate(nw.ei_permutation_tests(graphs, labels, 199, rng)):
            ei_ps[k].append(p)
        pairs = [(*g, *_digraph(rng, n, 0.1)) for g in graphs]
        for k, (_, p) in enumerate(nw.qap_correlations(n, pairs, 199, rng)):
            qap_ps[k].append(p)
    for ps in ei_ps + qap_ps:
        ps = np.array(ps)
        for alpha in (0.05, 0.1, 0.25, 0.5):
            assert np.mean(ps <= alpha) <= alpha + 3 * math.sqrt(alpha * (1 - alpha) / len(ps))
        assert np.mean(ps <= 0.5) > 0.3 and np.mean(ps <= 0.1) > 0.03

# ---------------------------------------------------------------- change between waves

def test_network_change_hand_computed():
    # common actors a b c d (L L P P); e leaves after w1, f joins in w2 (both excluded).
    # w1: a→b (w), a→c (b), c→d (w), e→a (not common)
    # w2: a→b (w, kept), b→c (b, new), d→c (w, new), f→a (not common)
    # kept 1; new 2 (1 within, 1 between); dropped 2 (a→c between, c→d within)
    # Jaccard 1/5, Hamming 4; EI_pre (1−2)/3 = −1/3; EI_post (1−2)/3 = −1/3 → Δ 0.
    resp = pd.DataFrame({
        "respondent_id": list("abcde") + list("abcdf"),
        "wave": ["w1"] * 5 + ["w2"] * 5,
        "group": ["L", "L", "P", "P", "L"] + ["L", "L", "P", "P", "P"], "site": "s"})
    ties = pd.DataFrame({"site": "s", "wave": ["w1"] * 4 + ["w2"] * 4, "tie_type": "info",
                         "ego": list("aace") + list("abdf"), "alter": list("bcda") + list("bcca"),
                         "weight": np.nan})
    out = nw.run(resp, ties, ["info"], ["w1", "w2"], permutations=500)
    ch = out["network_change"].set_index("tie_type").loc["info"]
    assert ch["n_common"] == 4
    assert (ch["kept"], ch["new"], ch["dropped"]) == (1, 2, 2)
    assert (ch["new_within"], ch["new_between"]) == (1, 1)
    assert (ch["dropped_within"], ch["dropped_between"]) == (1, 1)
    assert ch["jaccard"] == pytest.approx(0.2) and ch["hamming"] == 4
    assert ch["ei_pre"] == pytest.approx(-1 / 3) and ch["ei_post"] == pytest.approx(-1 / 3)
    assert ch["delta_ei"] == pytest.approx(0.0) and ch["delta_ei_p"] == pytest.approx(1.0)
    assert not ch["rsiena_ok"]
    assert -1 <= ch["qap_r"] <= 1 and 0 < ch["qap_p"] <= 1


def test_tie_change_function():
    grp = {"a": "L", "b": "L", "c": "P"}
    out = nw.tie_change({("a", "b"), ("a", "c")}, {("a", "b"), ("b", "c")}, grp)
    assert out == {"kept": 1, "new": 1, "dropped": 1, "new_within": 0, "new_between": 1,
                   "dropped_within": 0, "dropped_between": 1, "jaccard": 1 / 3, "hamming": 2}
    assert math.isnan(nw.tie_change(set(), set(), grp)["jaccard"])


def test_wave_pairs():
    assert nw._wave_pairs(["b", "m", "e"]) == [("b", "m"), ("m", "e"), ("b", "e")]
    assert nw._wave_pairs(["pre", "post"]) == [("pre", "post")]


# ---------------------------------------------------------------- edge cases

def test_one_group_only_gives_nan_with_reason():
    resp, ties = _tables([("a", "b"), ("b", "c")], {"a": "L", "b": "L", "c": "L"})
    out = nw.run(resp, ties, ["info"], ["w1"], permutations=50)
    w = _one(out).iloc[0]
    for col in ("ei", "ei_expected", "ei_p", "assortativity", "odds_ratio", "freeman",
                "leiden_nmi", "modularity_group"):
        assert math.isnan(w[col]), col
    assert "only one group" in w["note"]
    assert w["n_ties"] == 2 and w["density"] == pytest.approx(2 / 6)
    assert (w["ties_between"], w["ties_within"]) == (0, 2)  # the counts are defined, E-I is not
    assert _one(out, "mixing")["ties"].tolist() == [2]


def test_no_ties_at_all_and_silent_wave():
    resp = pd.DataFrame({"respondent_id": list("abcd") * 2, "wave": ["w1"] * 4 + ["w2"] * 4,
                         "group": ["L", "L", "P", "P"] * 2, "site": "s"})
    empty = pd.DataFrame({c: pd.Series(dtype=str) for c in
                          ("site", "wave", "tie_type", "ego", "alter")}).assign(weight=np.nan)
    out = nw.run(resp, empty, ["info", "help"], ["w1", "w2"], permutations=50)
    w = out["network_whole"]
    assert len(w) == 6 and (w["n_ties"] == 0).all() and w["ei"].isna().all()
    assert (w["ties_between"] == 0).all() and (w["ties_within"] == 0).all()
    assert w["note"].str.contains("no ties").all()
    assert (out["network_nodes"]["ei"].isna()).all()
    assert out["brokerage"]["observed"].eq(0).all()
    ch = out["network_change"]
    assert ch["jaccard"].isna().all() and ch["note"].str.contains("no ties").all()
    # a wave where nobody nominates anyone, the other wave fine
    ties = pd.DataFrame({"site": "s", "wave": "w1", "tie_type": "info", "ego": ["a", "c"],
                         "alter": ["c", "d"], "weight": np.nan})
    out = nw.run(resp, ties, ["info"], ["w1", "w2"], permutations=50)
    w2 = _one(out, wave="w2").iloc[0]
    assert math.isnan(w2["ei"]) and "no ties" in w2["note"]
    assert w2["ei_expected"] == pytest.approx((8 - 4) / 12)
    ch = out["network_change"].set_index("tie_type").loc["info"]
    assert ch["dropped"] == 2 and ch["jaccard"] == 0 and math.isnan(ch["delta_ei"])
    assert "no ties among common respondents in w2" in ch["note"]


def test_nonrespondents_selfties_duplicates_and_any():
    resp, _ = _tables([], {"a": "L", "b": "L", "c": "P"})
    ties = pd.DataFrame({"site": "s", "wave": "w1",
                         "tie_type": ["info", "info", "info", "help", "help", "collab"],
                         "ego": ["a", "a", "x", "a", "b", "c"],
                         "alter": ["b", "y", "a", "b", "c", "c"], "weight": np.nan})
    out = nw.run(resp, ties, ["info", "help"], ["w1"], permutations=20)
    w = out["network_whole"].set_index("tie_type")
    assert w.loc["info", "n_ties"] == 1 and w.loc["info", "dropped_nonrespondent"] == 2
    assert w.loc["help", "n_ties"] == 2 and w.loc["help", "dropped_nonrespondent"] == 0
    assert w.loc["any", "n_ties"] == 2 and w.loc["any", "dropped_nonrespondent"] == 2
    assert set(w.index) == {"info", "help", "any"}  # "collab" not requested; self-tie gone
    with pytest.raises(SinergiError):
        nw.build_graphs(resp, ties, ["info", "any"])


def test_sites_are_separate_graphs_and_run_is_deterministic():
    resp = pd.DataFrame({"respondent_id": list("abcdwxyz"), "wave": "w1",
                         "group": ["L", "L", "P", "P"] * 2, "site": ["s1"] * 4 + ["s2"] * 4})
    ties = pd.DataFrame({"site": ["s1", "s1", "s2", "s2"], "wave": "w1", "tie_type": "info",
                         "ego": ["a", "a", "w", "x"], "alter": ["b", "w", "y", "z"],
                         "weight": np.nan})
    out1 = nw.run(resp, ties, ["info"], ["w1"], permutations=300, seed=1)
    out2 = nw.run(resp, ties, ["info"], ["w1"], permutations=300, seed=1)
    for key in out1:
        pd.testing.assert_frame_equal(out1[key], out2[key])
    w = out1["network_whole"].set_index(["site", "tie_type"])
    assert w.loc[("s1", "info"), "n_ties"] == 1  # a→w crosses sites: dropped
    assert w.loc[("s1", "info"), "dropped_nonrespondent"] == 1
    assert w.loc[("s2", "info"), "n_ties"] == 2
    assert list(out1["network_nodes"].columns) == nw.NODE_COLUMNS
    assert list(out1["network_whole"].columns) == nw.WHOLE_COLUMNS


# ---------------------------------------------------------------- exports

def test_write_exports_roundtrip(tmp_path):
    resp = pd.DataFrame({"respondent_id": list("abcde") + list("abcf"),
                         "wave": ["pre"] * 5 + ["post"] * 4,
                         "group": ["lokal"] * 3 + ["pendatang"] * 2 + ["lokal"] * 3 + ["pendatang"],
                         "site": "desa"})
    ties = pd.DataFrame({"site": "desa", "wave": ["pre"] * 3 + ["post"] * 2, "tie_type": "info",
                         "ego": ["a", "b", "d", "a", "f"], "alter": ["b", "d", "e", "c", "a"],
                         "weight": np.nan})
    out = nw.run(resp, ties, ["info"], ["pre", "post"], permutations=20)
    graphs = nw.build_graphs(resp, ties, ["info"])
    files = ne.write_exports(graphs, out["network_nodes"], tmp_path, ["pre", "post"])
    assert all(f.exists() for f in files)
    assert not list(tmp_path.rglob("*.tmp"))
    g = ig.Graph.Read_GraphML(str(tmp_path / "graphs/desa/pre/info.graphml"))
    assert g.vcount() == 5 and g.ecount() == 3 and g.is_directed()
    # pre: a→b (L L), b→d (L→P), d→e (P P): d brokers b→d→e as gatekeeper (L→P→P)
    assert g.vs.find(id="d")["gatekeeper"] == 1 and g.vs.find(id="b")["bridging"] == 1
    assert g.vs.find(id="a")["constraint"] == pytest.approx(1.0)
    assert "_igraph_index" not in g.es.attributes() and set(g.es["tie_type"]) == {"info"}
    G = nx.read_gexf(tmp_path / "graphs/desa/post/info.gexf")
    assert set(G.nodes) == {"a", "b", "c", "f"} and G.has_edge("f", "a")
    assert G.nodes["f"]["group"] == "pendatang"
    folder = tmp_path / "rsiena/desa/info"
    m1 = pd.read_csv(folder / "net_1_pre.csv")
    m2 = pd.read_csv(folder / "net_2_post.csv")
    assert list(m1.columns) == list("abcdef") == list(m2.columns)
    assert m1.loc[0, "b"] == 1 and m1.loc[1, "d"] == 1 and m1["f"].isna().all()
    assert m2.loc[5, "a"] == 1 and m2["d"].isna().all() and m2.loc[0, "c"] == 1
    cov = pd.read_csv(folder / "covariates.csv")
    assert cov["group_code"].tolist() == [0, 0, 0, 1, 1, 1]
    pres = pd.read_csv(folder / "presence.csv")
    assert pres["pre"].tolist() == [1, 1, 1, 1, 1, 0] and pres["post"].tolist() == [1, 1, 1, 0, 0, 1]


def test_graph_files_use_pseudonyms_as_ids_with_weights_and_tie_types(tmp_path):
    """Node ids are the pseudonyms (stable across waves), never igraph's indices; edges carry the
    contact frequency and tie type(s) from the ties table."""
    resp = pd.DataFrame({"respondent_id": ["R1", "R2", "R3", "R2", "R3", "R4"],
                         "wave": ["pre"] * 3 + ["post"] * 3, "group": ["lokal", "pendatang", "lokal"] * 2,
                         "site": "desa"})
    ties = pd.DataFrame({"site": "desa", "wave": ["pre", "pre", "pre", "post", "post"],
                         "tie_type": ["info", "help", "info", "info", "help"],
                         "ego": ["R1", "R1", "R2", "R3", "R4"], "alter": ["R2", "R2", "R3", "R2", "R2"],
                         "weight": [3.0, 4.0, np.nan, 2.0, 1.0]})
    out = nw.run(resp, ties, ["info", "help"], ["pre", "post"], permutations=20)
    graphs = nw.build_graphs(resp, ties, ["info", "help"])
    ne.write_exports(graphs, out["network_nodes"], tmp_path, ["pre", "post"], ties=ties)
    pre = nx.read_graphml(tmp_path / "graphs/desa/pre/info.graphml")
    post = nx.read_graphml(tmp_path / "graphs/desa/post/info.graphml")
    assert set(pre.nodes) == {"R1", "R2", "R3"} and set(post.nodes) == {"R2", "R3", "R4"}
    assert pre.edges["R1", "R2"] == {"tie_type": "info", "weight": 3.0, "between_groups": True}
    assert pre.edges["R2", "R3"] == {"tie_type": "info", "between_groups": True}  # frequency unknown: no weight, not 0
    assert post.graph["wave"] == "post" and post.graph["site"] == "desa"
    any_pre = nx.read_graphml(tmp_path / "graphs/desa/pre/any.graphml")
    assert any_pre.edges["R1", "R2"] == {"tie_type": "help info", "weight": 4.0, "between_groups": True}
    gexf = nx.read_gexf(tmp_path / "graphs/desa/post/help.gexf")
    assert gexf.edges["R4", "R2"]["weight"] == 1.0 and set(gexf.nodes) == {"R2", "R3", "R4"}
    readme = (tmp_path / "README.md").read_text()
    assert "pseudonym" in readme and "fit_rsiena.R" in readme
    assert (tmp_path / "rsiena/desa/info/fit_rsiena.R").exists()


@pytest.mark.skipif(__import__("shutil").which("Rscript") is None, reason="R is not installed")
def test_rsiena_script_reads_the_matrices_in_r(tmp_path):
    """The shipped R script, run by R in the folder, reads every matrix and the presence table
    (and fits the model where RSiena is installed; Debian has no RSiena package)."""
    import subprocess

    resp = pd.DataFrame({"respondent_id": list("abcde") + list("abcf"),
                         "wave": ["pre"] * 5 + ["post"] * 4,
                         "group": ["lokal"] * 3 + ["pendatang"] * 2 + ["lokal"] * 3 + ["pendatang"],
                         "site": "desa"})
    ties = pd.DataFrame({"site": "desa", "wave": ["pre"] * 3 + ["post"] * 2, "tie_type": "info",
                         "ego": ["a", "b", "d", "a", "f"], "alter": ["b", "d", "e", "c", "a"], "weight": np.nan})
    out = nw.run(resp, ties, ["info"], ["pre", "post"], permutations=20)
    ne.write_exports(nw.build_graphs(resp, ties, ["info"]), out["network_nodes"], tmp_path, ["pre", "post"])
    folder = tmp_path / "rsiena/desa/info"
    run = subprocess.run(["Rscript", "fit_rsiena.R"], cwd=folder, capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr
    assert "read 2 waves, 6 actors, 3 ties in the first wave" in run.stdout


def test_one_tie_type_and_any_are_the_same_graph_with_the_same_p_values():
    rng = np.random.default_rng(3)
    ids = [f"p{i}" for i in range(30)]
    resp = pd.DataFrame({"respondent_id": ids * 2, "wave": ["pre"] * 30 + ["post"] * 30,
                         "group": (["lokal"] * 18 + ["pendatang"] * 12) * 2, "site": "desa"})
    rows = [(w, a, b) for w in ("pre", "post") for a in ids for b in ids if a != b and rng.random() < 0.08]
    ties = pd.DataFrame(rows, columns=["wave", "ego", "alter"]).assign(site="desa", tie_type="info", weight=np.nan)
    out = nw.run(resp, ties, ["info"], ["pre", "post"], permutations=199)
    whole = out["network_whole"].set_index(["wave", "tie_type"])
    p_cols = [c for c in whole.columns if c.startswith("p_") or c.endswith("_p")]
    assert p_cols
    for wave in ("pre", "post"):
        pd.testing.assert_series_equal(whole.loc[(wave, "info"), p_cols], whole.loc[(wave, "any"), p_cols],
                                       check_names=False)
    ch = out["network_change"].set_index("tie_type")
    pc = [c for c in ch.columns if c.startswith("p_") or c.endswith("_p")]
    pd.testing.assert_series_equal(ch.loc["info", pc], ch.loc["any", pc], check_names=False)


# ---------------------------------------------------------------- reciprocity, centralization, group E-I
# R reference values on three real public studies (tests/data/public), written by
# ``Rscript tests/r/network_public.R`` (igraph 1.3.5, sna 2.7-1; the calls are in its header).

PUBLIC = DATA / "public"


@pytest.fixture(scope="module")
def public_runs():
    """The network stage on s50 (three waves, two groups), Lazega (one wave, three tie types, three
    offices) and Coleman (two waves, one group), from the fixtures' own CSV files."""
    out = {}
    for study in ("s50-three", "lazega", "coleman"):
        resp = pd.read_csv(PUBLIC / study / "data" / "respondents.csv", dtype=str).assign(site="s")
        ties = pd.read_csv(PUBLIC / study / "data" / "ties.csv", dtype=str).assign(site="s", weight=np.nan)
        waves = list(dict.fromkeys(resp["wave"]))
        out[study] = nw.run(resp, ties, sorted(set(ties["tie_type"])), waves, permutations=19)
    return out


def _merged(public_runs, table, ref_name, keys):
    ref = pd.read_csv(DATA / ref_name, dtype={"wave": str})
    ours = pd.concat([r[table].assign(study=s) for s, r in public_runs.items()], ignore_index=True)
    both = ref.merge(ours, on=keys, how="outer", indicator=True, suffixes=("_r", ""))
    assert (both["_merge"] == "both").all(), both.loc[both["_merge"] != "both", keys]
    return both


def test_reciprocity_both_definitions_and_centralization_match_igraph_and_sna(public_runs):
    both = _merged(public_runs, "network_whole", "network_public_ref.csv", ["study", "wave", "tie_type"])
    assert len(both) == 14 and (both["n_ties_r"] == both["n_ties"]).all()
    for ours, refs in [("reciprocity", ["reciprocity_igraph", "reciprocity_sna"]),
                       ("reciprocity_dyadic", ["reciprocity_dyadic_igraph", "reciprocity_dyadic_sna"]),
                       ("centralization_in", ["centralization_in_igraph", "centralization_in_sna"]),
                       ("centralization_out", ["centralization_out_igraph", "centralization_out_sna"]),
                       ("transitivity", ["transitivity"])]:
        for ref in refs:
            col = ref if ref != ours else f"{ref}_r"
            np.testing.assert_allclose(both[ours], both[col], rtol=0, atol=1e-9, err_msg=f"{ours} vs {ref}")
    # the two reciprocities differ (the dyadic one is r/(2 − r) of the edgewise r), and are not trivial
    r = both["reciprocity"]
    partial = r < 1  # Lazega's co-work is symmetric: every tie returned, both are 1
    assert (both.loc[partial, "reciprocity_dyadic"] < r[partial] - 0.05).all() and (~partial).sum() == 1
    np.testing.assert_allclose(both["reciprocity_dyadic"], r / (2 - r), atol=1e-12)
    assert both["centralization_in"].between(0.05, 0.4).all() and (both["centralization_in"]
                                                                    != both["centralization_out"]).any()


def test_group_ei_sent_and_received_and_sent_only_match_r(public_runs):
    both = _merged(public_runs, "network_groups", "network_public_groups_ref.csv",
                   ["study", "wave", "tie_type", "group"])
    assert len(both) == 28
    for c in ("ties_internal", "ties_external", "ties_external_sent"):
        assert (both[c] == both[f"{c}_r"]).all(), c
    np.testing.assert_allclose(both["ei"], both["ei_r"], atol=1e-9)
    np.testing.assert_allclose(both["ei_sent"], both["ei_sent_r"], atol=1e-9)
    # counting ties received too makes a big difference for a group others name (Lazega's Hartford)
    hartford = both[(both["study"] == "lazega") & (both["group"] == "hartford") & (both["tie_type"] == "any")]
    assert float(hartford["ei"].iloc[0]) > 0.25 and abs(float(hartford["ei_sent"].iloc[0])) < 0.01


def test_degree_centralization_small_cases():
    assert nw.degree_centralization(np.array([4, 0, 0, 0, 0])) == 1.0
    assert nw.degree_centralization(np.array([2, 2, 2])) == 0.0
    assert math.isnan(nw.degree_centralization(np.array([0])))
    # R: igraph::centr_degree(make_graph(c(1,2, 2,1, 1,3, 3,4, 4,1, 2,4), n=5), "in", loops=FALSE) → 0.25
    g = ig.Graph(n=5, edges=[(0, 1), (1, 0), (0, 2), (2, 3), (3, 0), (1, 3)], directed=True)
    assert nw.degree_centralization(np.array(g.indegree())) == pytest.approx(0.25, abs=1e-12)


def test_a_study_without_networks_gets_tables_without_rows():
    from pipeline.analysis.network import analysed_tie_types, build_graphs, run

    r = pd.DataFrame({"respondent_id": list("abcd"), "wave": "w1", "group": ["x", "x", "y", "y"], "site": "s"})
    empty = pd.DataFrame(columns=["site", "wave", "tie_type", "ego", "alter", "weight"])
    assert analysed_tie_types(["friend"], empty) == []  # no ties recorded at all: no networks
    assert analysed_tie_types(["friend"], empty.iloc[:0].reindex([0]).fillna("x")) == ["friend"]
    assert build_graphs(r, empty, []) == {}
    out = run(r, empty, [], ["w1"], permutations=99)
    assert set(out) == {"network_whole", "network_groups", "mixing", "network_nodes", "brokerage", "network_change"}
    assert all(len(df) == 0 for df in out.values())
    assert "degree" in out["network_nodes"].columns and "ei" in out["network_whole"].columns  # headers kept


@pytest.mark.parametrize("rows", [1, 50, 10**9])
def test_network_nodes_written_in_pieces_is_the_whole_frame_file(tmp_path, rows):
    """run_partitioned keeps each village's node rows compressed (sites_batch) and gives network_nodes
    a piece at a time: the pieces (one site or more each, or all at once) make the frame run() makes,
    and network_nodes.csv written piece by piece has the bytes of the whole frame's file."""
    from pipeline import partitions
    from pipeline.io import write_csv, write_csv_parts

    rng = np.random.default_rng(11)
    rows_r, ties = [], []
    for v, site in enumerate(["Desa C", "Desa A", "Desa B", "Desa D"]):
        for w in ("pre", "post"):
            for i in range(9 + v):
                rows_r.append({"respondent_id": f"r{v}{i:02d}", "wave": w, "site": site,
                               "group": "lokal" if i % 3 else "pendatang"})
            ids = [f"r{v}{i:02d}" for i in range(9 + v)]
            for _ in range(25):
                ego, alter = rng.choice(ids, 2, replace=False)
                ties.append({"site": site, "wave": w, "tie_type": str(rng.choice(["info", "help"])),
                             "ego": ego, "alter": alter})
    resp = pd.DataFrame(rows_r)
    ties = pd.DataFrame(ties).drop_duplicates(["site", "wave", "tie_type", "ego", "alter"]).assign(weight=np.nan)
    paths = {"respondents": tmp_path / "respondents.parquet", "ties": tmp_path / "ties.parquet"}
    partitions.write_partitioned(paths["respondents"], resp, resp["site"])
    partitions.write_partitioned(paths["ties"], ties, ties["site"])
    resp, ties = pd.read_parquet(paths["respondents"]), pd.read_parquet(paths["ties"])
    whole = nw.run(resp, ties, ["info", "help"], ["pre", "post"], seed=5, permutations=49,
                   scheduler="serial")["network_nodes"]
    got = nw.run_partitioned(paths, ["info", "help"], ["pre", "post"], seed=5, permutations=49,
                             scheduler="serial")["network_nodes"]
    pieces = list(nw._node_pieces([nw._pack_nodes([f]) for _, f in whole.groupby("site", sort=True)], rows))
    assert len(pieces) == (4 if rows == 1 else 1 if rows > len(whole) else len(pieces))
    assert len(pieces) >= (2 if rows == 50 else 1)
    pd.testing.assert_frame_equal(pd.concat(pieces, ignore_index=True), whole, check_exact=True)
    pd.testing.assert_frame_equal(got.concat(), whole, check_exact=True)
    write_csv(tmp_path / "whole.csv", whole)
    write_csv_parts(tmp_path / "pieces.csv", pieces)
    assert whole["ei"].isna().any() and (whole["betweenness"] % 1 != 0).any()  # NaN and fractions written
    assert (tmp_path / "pieces.csv").read_bytes() == (tmp_path / "whole.csv").read_bytes()
    write_csv_parts(tmp_path / "got.csv", got.frames())  # as pipeline.cli writes it
    assert (tmp_path / "got.csv").read_bytes() == (tmp_path / "whole.csv").read_bytes()
    assert list(nw._node_pieces([])) and len(next(nw._node_pieces([]))) == 0  # no villages: the header
