"""The GraphML and GEXF writers (pipeline/report/graph_files.py) against networkx's own files."""

from __future__ import annotations

import math

import networkx as nx
import pytest

from pipeline.report import graph_files as gf


def _graph():
    g = nx.DiGraph()
    g.graph.update(site="Desa <A> & \"B\"", wave="pre", tie_type="any", dropped_nonrespondent=2)
    g.add_node("R1", group="lokal", degree=3.0, ei=math.nan, constraint=math.inf, _igraph_index=0)
    g.add_node("R2", group="pendatang ä", degree=1.0, ei=-0.5, constraint=-math.inf, _igraph_index=1)
    g.add_node("R3", group="lokal", degree=0.0, ei=1.0, constraint=0.25, _igraph_index=2)
    g.add_edge("R1", "R2", tie_type="help info", weight=4.0)
    g.add_edge("R2", "R3", tie_type="info")  # no weight: none written, never 0
    g.add_edge("R3", "R1", tie_type="collab", weight=1.0)
    return g


def _same(a, b):
    assert a.graph == b.graph
    assert list(a.nodes) == list(b.nodes)
    for n in a.nodes:
        x, y = a.nodes[n], b.nodes[n]
        assert x.keys() == y.keys()
        for k in x:
            assert x[k] == y[k] or (x[k] != x[k] and y[k] != y[k]), (n, k, x[k], y[k])
    assert list(a.edges) == list(b.edges)
    for e in a.edges:
        assert a.edges[e] == b.edges[e]


@pytest.mark.parametrize("fmt", ["graphml", "gexf"])
def test_files_read_back_as_networkx_own(tmp_path, fmt):
    g = _graph()
    ours, theirs = tmp_path / f"ours.{fmt}", tmp_path / f"nx.{fmt}"
    if fmt == "graphml":
        gf.write_graphml(g, ours)
        nx.write_graphml(g, theirs, named_key_ids=True)
        _same(nx.read_graphml(ours), nx.read_graphml(theirs))
        import igraph as ig

        a, b = ig.Graph.Read_GraphML(str(ours)), ig.Graph.Read_GraphML(str(theirs))
        assert a.vs["id"] == b.vs["id"] and a.get_edgelist() == b.get_edgelist()
        assert a.es["tie_type"] == b.es["tie_type"]
    else:
        gf.write_gexf(g, ours, "2026-12-01")
        nx.write_gexf(g, theirs)
        _same(nx.read_gexf(ours), nx.read_gexf(theirs))
        assert 'lastmodifieddate="2026-12-01"' in ours.read_text(encoding="utf-8")
    assert not list(tmp_path.glob("*.tmp"))
