"""Tests of pipeline.analysis.coverage: hand-counted case, planted reconstruction, agreement with the network stage."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from pipeline.analysis import network
from pipeline.analysis.coverage import COVERAGE_COLUMNS, coverage


def _village(seed=1, n=60, p_tie=0.08):
    """A symmetric (every tie named by both) two-group network, complete at wave 'a'."""
    rng = np.random.default_rng(seed)
    ids = [f"p{i:02d}" for i in range(n)]
    group = np.where(rng.random(n) < 0.4, "y", "x")
    same = group[:, None] == group[None, :]
    up = np.triu(rng.random((n, n)) < np.where(same, p_tie * 1.8, p_tie * 0.5), 1)
    adj = up | up.T
    src, dst = np.nonzero(adj)
    return ids, group, adj, src, dst


def _tables(ids, group, src, dst, answered):
    resp = pd.DataFrame({"respondent_id": [i for i, a in zip(ids, answered) if a], "wave": "b",
                         "group": [g for g, a in zip(group, answered) if a], "site": "s"})
    # everyone answered the earlier wave 'a': their group is known from it
    resp = pd.concat([pd.DataFrame({"respondent_id": ids, "wave": "a", "group": group, "site": "s"}), resp])
    keep = answered[src]
    ties = pd.DataFrame({"site": "s", "wave": "b", "tie_type": "info", "ego": np.array(ids)[src[keep]],
                         "alter": np.array(ids)[dst[keep]], "weight": np.nan})
    return resp, ties


def test_hand_counted():
    resp = pd.DataFrame({"respondent_id": ["a", "b", "c", "e"], "wave": "pre", "group": ["x", "x", "y", "y"],
                         "site": "s"})
    ties = pd.DataFrame({"site": "s", "wave": "pre", "tie_type": "info", "ego": ["a", "b", "c", "c", "a"],
                         "alter": ["b", "d", "a", "f", "c"], "weight": np.nan})
    r = coverage(resp, ties, ["info"], ["pre"]).set_index("tie_type").loc["info"]
    assert list(coverage(resp, ties, ["info"], ["pre"]).columns) == COVERAGE_COLUMNS
    assert r["n_respondents"] == 4 and r["n_nonrespondents"] == 2 and r["coverage"] == pytest.approx(4 / 6)
    assert r["ties_observed"] == 3 and r["ties_to_nonrespondents"] == 2
    # observed: a→b internal, c→a external, a→c external → E-I = (2 − 1)/3
    assert r["ei_observed"] == pytest.approx(1 / 3)
    # plus two ties of unknown group: low (2 − 3)/5, high (4 − 1)/5
    assert r["ei_low"] == pytest.approx(-1 / 5) and r["ei_high"] == pytest.approx(3 / 5)
    assert r["ties_from_nonrespondents_reconstructed"] == 0 and r["warning"]  # 4/6 < 0.8
    assert r["ei_reconstructed"] == pytest.approx(r["ei_observed"])


def test_planted_reconstruction_recovers_the_full_network():
    """In a reciprocated network whose non-respondents' groups are known, the reconstruction recovers
    every tie except those between two non-respondents; the bounds hold the complete network's E-I."""
    ids, group, adj, src, dst = _village()
    rng = np.random.default_rng(7)
    answered = rng.random(len(ids)) > 0.3
    resp, ties = _tables(ids, group, src, dst, answered)
    r = coverage(resp, ties, ["info"], ["a", "b"], min_coverage=0.8).set_index(["wave", "tie_type"]).loc[("b", "info")]
    code = (group == "y").astype(int)
    both_non = ~answered[src] & ~answered[dst]
    truth_rec = network.ei_index(network.mixing_matrix(src[~both_non], dst[~both_non], code, 2))
    assert r["ei_reconstructed"] == pytest.approx(truth_rec, abs=1e-12)
    assert r["n_nonrespondents_group_known"] == r["n_nonrespondents"]
    assert r["ei_low"] == pytest.approx(r["ei_high"])  # every group known: no range
    resp_only = answered[src] & answered[dst]
    assert r["ei_observed"] == pytest.approx(network.ei_index(network.mixing_matrix(src[resp_only], dst[resp_only], code, 2)))
    assert r["assortativity_reconstructed"] == pytest.approx(
        network.assortativity(network.mixing_matrix(src[~both_non], dst[~both_non], code, 2)))
    assert r["warning"] == (r["coverage"] < 0.8)


def test_unknown_groups_give_bounds_that_hold_the_truth():
    ids, group, adj, src, dst = _village(seed=3)
    answered = np.random.default_rng(3).random(len(ids)) > 0.25
    resp, ties = _tables(ids, group, src, dst, answered)
    resp = resp[resp["wave"] == "b"]  # nobody's group is known for the non-respondents
    r = coverage(resp, ties, ["info"], ["b"]).iloc[0]
    code = (group == "y").astype(int)
    by_resp = answered[src]  # every nomination made by a respondent, with the true groups
    truth = network.ei_index(network.mixing_matrix(src[by_resp], dst[by_resp], code, 2))
    assert r["n_nonrespondents_group_known"] == 0
    assert r["ei_low"] <= truth <= r["ei_high"]
    assert r["ei_reconstructed"] == pytest.approx(r["ei_observed"])


def test_low_coverage_warns():
    ids, group, adj, src, dst = _village(seed=5)
    answered = np.arange(len(ids)) % 2 == 0
    resp, ties = _tables(ids, group, src, dst, answered)
    out = coverage(resp, ties, ["info"], ["a", "b"], min_coverage=0.8)
    b = out[out["wave"] == "b"]
    assert b["warning"].all() and (b["coverage"] < 0.8).all()


def test_villages_are_independent_and_keep_the_respondents_order():
    """Each village's rows depend on its own rows only (the per-village jobs of map_sites), a
    duplicate nomination counts once in ``any``, a non-respondent's group comes from another
    wave, and the rows come in the canonical order (villages by name, waves in the study's order),
    whatever order the input rows are in (pipeline/order.py)."""
    resp, ties = [], []
    for v, seed in (("v2", 3), ("v1", 4), ("v3", 5)):
        ids, group, adj, src, dst = _village(seed=seed, n=30)
        ids = [f"{v}-{i}" for i in ids]
        answered = np.random.default_rng(seed).random(len(ids)) > 0.25
        r, t = _tables(ids, group, src, dst, answered)
        resp.append(r.assign(site=v))
        ties.append(t.assign(site=v))
    resp = pd.concat(resp, ignore_index=True).sort_values("wave", kind="stable")  # wave a of every village first
    ties = pd.concat(ties + [ties[0].head(5).assign(tie_type="help")], ignore_index=True)
    whole = coverage(resp, ties, ["info", "help"], ["a", "b"])
    assert list(dict.fromkeys(zip(whole["site"], whole["wave"]))) == [(v, w) for v in ("v1", "v2", "v3")
                                                                     for w in ("a", "b")]
    for site in ("v1", "v2", "v3"):
        alone = coverage(resp[resp["site"] == site], ties[ties["site"] == site], ["info", "help"], ["a", "b"])
        pd.testing.assert_frame_equal(whole[whole["site"] == site].reset_index(drop=True), alone)
    # "any": the five repeated nominations (as help) count once
    b = whole[(whole["site"] == "v2") & (whole["wave"] == "b")].set_index("tie_type")
    assert b.loc["any", "ties_observed"] + b.loc["any", "ties_to_nonrespondents"] == \
        b.loc["info", "ties_observed"] + b.loc["info", "ties_to_nonrespondents"]
    assert b.loc["help", "ties_observed"] + b.loc["help", "ties_to_nonrespondents"] == 5
    for scheduler in ("serial", "processes"):
        pd.testing.assert_frame_equal(coverage(resp, ties, ["info", "help"], ["a", "b"], scheduler=scheduler), whole)
