"""The GraphML and GEXF writers (pipeline/report/graph_files.py) against networkx's own files."""

from __future__ import annotations

import math

import igraph as ig
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


def test_drawing_as_networkx_writes_it_and_as_gephi_reads_graphml(tmp_path):
    """A ``viz`` dict (networkx's drawing data) is the GEXF networkx writes (viz:position and
    viz:color read back equal) and, in GraphML, the x, y, r, g, b and colour attributes Gephi
    maps to its own."""
    g = _graph()
    for v in g.nodes:
        g.nodes[v].pop("_igraph_index")
    g.nodes["R1"]["viz"] = {"position": {"x": -120.5, "y": 33.25, "z": 0.0}, "color": {"r": 0, "g": 114, "b": 178, "a": 1.0}}
    g.nodes["R2"]["viz"] = {"position": {"x": 80.0, "y": -1.5, "z": 0.0}, "color": {"r": 230, "g": 159, "b": 0, "a": 1.0}}
    ours, theirs = tmp_path / "ours.gexf", tmp_path / "nx.gexf"
    gf.write_gexf(g, ours, "2026-12-01")
    nx.write_gexf(g.copy(), theirs)
    a, b = nx.read_gexf(ours), nx.read_gexf(theirs)
    assert a.nodes["R1"]["viz"] == b.nodes["R1"]["viz"] and a.nodes["R2"]["viz"] == b.nodes["R2"]["viz"]
    assert "viz" not in a.nodes["R3"]
    _same(a, b)
    gf.write_graphml(g, tmp_path / "g.graphml")
    back = nx.read_graphml(tmp_path / "g.graphml")
    assert back.nodes["R1"]["x"] == -120.5 and back.nodes["R1"]["y"] == 33.25
    assert (back.nodes["R2"]["r"], back.nodes["R2"]["g"], back.nodes["R2"]["b"]) == (230, 159, 0)
    assert back.nodes["R2"]["color"] == "#e69f00" and "viz" not in back.nodes["R2"]
    gi = ig.Graph.Read_GraphML(str(tmp_path / "g.graphml"))
    assert gi.vs["x"][:2] == [-120.5, 80.0]
