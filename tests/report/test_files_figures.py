"""The network and change pictures (issue 22): the forest plot of each dimension's change by group
draws prepost.csv's numbers (dot = mean change, line = its CI, filled = significant after Holm),
and the static sociogram places each group on its own side. Read back from the matplotlib objects
and the layout, not eyeballed; the demo report is built once per session (tests/report/conftest.py)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def _drawn(fig) -> tuple[list, list]:
    """(dots, whiskers) of the forest plot's axes: dots as (x, y, filled), whiskers as (lo, hi, y)."""
    ax = fig.axes[0]
    dots, whiskers = [], []
    for line in ax.get_lines():
        x, y = (np.asarray(v, dtype=float) for v in line.get_data())
        if line.get_marker() in ("o", "D") and len(x) == 1:
            dots.append((x[0], y[0], line.get_markerfacecolor() != "white"))
        elif len(x) == 2 and y[0] == y[1]:
            whiskers.append((min(x), max(x), y[0]))
    return dots, whiskers


def _prepost(built) -> pd.DataFrame:
    root, study, _ = built["id"]
    pp = pd.read_csv(root / study.processed_dir / "prepost.csv", dtype={"wave_pre": str, "wave_post": str})
    pp = pp[pp["kind"] == "scale"]
    return pp[pp["wave_post"] == pp["wave_post"].iloc[-1]]


def test_forest_plot_draws_each_dimension_and_group_change_with_its_ci_from_prepost(built):
    from pipeline.report.forest import change_forest_figure

    study = built["id"][1]
    pp = _prepost(built)
    dims = [str(d) for d in pd.unique(pp["dimension"])]
    levels = list(study.group_values)
    fig = change_forest_figure(pp, dims, levels, dim_label=str, group_label=str, change_label="x",
                               sig_label="sig", ns_label="ns", alpha=0.05)
    dots, whiskers = _drawn(fig)
    rows = pp[pp["group"].astype(str).isin(["all", *levels])]
    assert len(dots) == len(rows) == len(whiskers) >= 3 * len(dims)
    ys = sorted({y for _, _, y in whiskers})
    by_y = {y: (lo, hi) for lo, hi, y in whiskers}
    expected = []
    for d in dims:  # the rows in the tables' order: everyone, then the groups in study order
        part = rows[rows["dimension"].astype(str) == d]
        for g in ["all", *levels]:
            r = part[part["group"].astype(str) == g]
            if len(r):
                expected.append(r.iloc[0])
    for (x, y, filled), r in zip(sorted(dots, key=lambda d: d[1]), expected):
        assert x == pytest.approx(r["diff"], abs=1e-9)
        assert by_y[y] == pytest.approx((r["diff_ci_low"], r["diff_ci_high"]), abs=1e-9)
        assert filled == bool(r["p_holm"] < 0.05), r[["dimension", "group", "p_holm"]].to_dict()
    assert len(ys) == len(expected)
    assert any(d[2] for d in dots) and not all(d[2] for d in dots)  # the demo has both kinds
    assert 0 in [line.get_xdata()[0] for line in fig.axes[0].get_lines() if len(line.get_xdata()) == 2
                 and line.get_xdata()[0] == line.get_xdata()[1]]  # the line of no change


def test_the_report_shows_the_forest_plot_under_its_caption(built):
    html = built["en"][2].read_text(encoding="utf-8")
    assert 'id="figure-change_forest"' in html and "Mean change of each dimension" in html
    assert list((built["en"][2].parent / "figures").glob("*_change_forest.svg"))


def test_static_layout_draws_each_group_on_its_own_side(built):
    """The sociogram's layout: the groups apart (not one ball), each node nearer its own group's
    centre than the other's, ties within a group shorter than ties between the groups."""
    from pipeline.report.figures import group_layout

    root, study, _ = built["id"]
    resp = pd.read_parquet(root / study.processed_dir / "respondents.parquet")
    ties = pd.read_parquet(root / study.processed_dir / "ties.parquet")
    group = dict(zip(resp["respondent_id"].astype(str), resp["group"].astype(str)))
    nodes = sorted(group)
    edges = [(str(a), str(b)) for a, b in zip(ties["ego"], ties["alter"]) if str(a) in group and str(b) in group]
    levels = list(study.group_values)
    pos = group_layout(nodes, edges, group, levels, seed=7)
    assert set(pos) == set(nodes)
    xy = {g: np.array([pos[v] for v in nodes if group[v] == g]) for g in levels}
    centre = {g: xy[g].mean(axis=0) for g in levels}
    for g, other in (levels, levels[::-1]):
        d_own = np.linalg.norm(xy[g] - centre[g], axis=1)
        d_other = np.linalg.norm(xy[g] - centre[other], axis=1)
        assert (d_own < d_other).mean() == 1.0
    assert max(xy[levels[0]][:, 0]) < min(xy[levels[1]][:, 0])  # left and right
    length = {True: [], False: []}
    for a, b in edges:
        length[group[a] == group[b]].append(np.hypot(*np.subtract(pos[a], pos[b])))
    assert np.median(length[True]) < 0.7 * np.median(length[False])
    assert group_layout(nodes, edges, group, levels, seed=7) == pos  # the same input, the same picture
