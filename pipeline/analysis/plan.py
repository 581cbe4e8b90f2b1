"""Power for the next program: simulate a design and count how often each test finds the effect.

``sinergi plan`` (``make plan``) takes the study's ``plan`` settings — villages per arm,
respondents per village, migrant share, share of people taking part, attrition, response rate,
an effect on a scale and on cross-group ties — and simulates each design ``sims`` times with the
village simulator's people (:func:`pipeline.simulation.people.draw_people`) and tie model
(:func:`pipeline.simulation.networks.simulate_ties`, the program adding ``effect_cross_ties`` to the
probability of a new tie between two participants of different origin). Scale scores: a person's baseline score is N(0, 1); the change to the
follow-up is N(0, CHANGE_SD²) plus ``effect_scale`` (SD units of the baseline score) for
participants. Per simulation:

- ``paired_scale``: paired t-test of the scale change in the program villages (panel respondents);
- ``did_scale``: difference-in-differences of the scale, randomization inference over villages
  (:mod:`pipeline.analysis.did`): with too few villages no p below alpha is reachable and power is 0;
- ``paired_ei``: paired t-test of the change in individual E-I (out-nominations, respondents only)
  in the program villages, respondents with ties in both waves;
- ``did_ei``: village-level ΔE-I, program minus comparison, randomization inference over villages.

Power = share of simulations with p < alpha; ``mc_se`` its Monte Carlo standard error.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
from scipy import stats

from ..simulation.constants import CHANGE_SD
from ..simulation.networks import simulate_ties
from ..simulation.people import draw_people
from .did import did_cells, assignments
from .network import ei

PLAN_COLUMNS = ["test", "respondents_per_village", "villages_program", "villages_comparison", "effect_scale",
                "effect_cross_ties", "power", "mc_se", "sims", "alpha", "n_assignments", "note"]
TESTS = ("paired_scale", "did_scale", "paired_ei", "did_ei")


def _village(rng, n_roster, share_migrant, participation, response_rate, attrition, effect_scale, effect_ties,
             program, tie_type):
    people = draw_people(rng, n_roster, share_migrant)
    part = (rng.random(n_roster) < participation) if program else np.zeros(n_roster, bool)
    roster = [np.ones(n_roster, bool), np.ones(n_roster, bool)]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # the simulator's summary of participant pairs, unused here
        ties, _ = simulate_ties(rng, people, part, roster, [tie_type], bonus={tie_type: effect_ties if program else 0.0})
    ans0 = rng.random(n_roster) < response_rate
    ans1 = ans0 & (rng.random(n_roster) >= attrition)
    y0 = rng.standard_normal(n_roster)
    y1 = y0 + rng.normal(0, CHANGE_SD, n_roster) + effect_scale * part
    mig = people["migrant"]
    node_ei = []
    whole = []
    for k, ans in enumerate((ans0, ans1)):
        t = ties[k][tie_type] & ans[:, None] & ans[None, :]
        ext = (t & (mig[:, None] != mig[None, :])).sum(axis=1)
        tot = t.sum(axis=1)
        node_ei.append(ei(ext, tot - ext))
        whole.append(ei(ext.sum(), tot.sum() - ext.sum()))
    return {"ans0": ans0, "ans1": ans1, "y0": y0, "y1": y1, "ei0": node_ei[0], "ei1": node_ei[1], "whole": whole}


def simulate_power(*, villages_program: int = 1, villages_comparison: int = 1, respondents: int = 140,
                   share_migrant: float = 0.4, participation: float = 0.5, attrition: float = 0.1,
                   response_rate: float = 0.9, effect_scale: float = 0.3, effect_cross_ties: float = 0.05,
                   sims: int = 200, alpha: float = 0.05, seed: int = 0, tie_type: str = "info") -> pd.DataFrame:
    """Power of the four tests for one design (see the module docstring).

    Returns
    -------
    DataFrame
        One row per test: ``test``, ``respondents_per_village`` (answering the baseline),
        ``villages_program``, ``villages_comparison``, ``effect_scale``, ``effect_cross_ties``,
        ``power``, ``mc_se``, ``sims``, ``alpha``, ``n_assignments`` (randomization inference),
        ``note``.
    """
    rng = np.random.default_rng(seed)
    n_roster = max(int(round(respondents / response_rate)), 10)
    G = villages_program + villages_comparison
    sites = [f"v{i}" for i in range(G)]
    assign = assignments(sites, set(sites[:villages_program]), 2000, seed) if villages_comparison else None
    k = len(assign) if assign is not None else 0
    hits = {t: 0 for t in TESTS}
    for _ in range(sims):
        vs = [_village(rng, n_roster, share_migrant, participation, response_rate, attrition, effect_scale,
                       effect_cross_ties, g < villages_program, tie_type) for g in range(G)]
        prog = vs[:villages_program]
        dz = np.concatenate([v["y1"][v["ans0"] & v["ans1"]] - v["y0"][v["ans0"] & v["ans1"]] for v in prog])
        if len(dz) > 2 and stats.ttest_1samp(dz, 0).pvalue < alpha:
            hits["paired_scale"] += 1
        de = np.concatenate([(v["ei1"] - v["ei0"])[v["ans0"] & v["ans1"]] for v in prog])
        de = de[np.isfinite(de)]
        if len(de) > 2 and np.std(de) > 0 and stats.ttest_1samp(de, 0).pvalue < alpha:
            hits["paired_ei"] += 1
        if assign is None or 1 / k > alpha:
            continue
        y, post, sidx = [], [], []
        for g, v in enumerate(vs):
            for wave, (ans, yy) in enumerate(((v["ans0"], v["y0"]), (v["ans1"], v["y1"]))):
                y.append(yy[ans])
                post.append(np.full(ans.sum(), wave == 1))
                sidx.append(np.full(ans.sum(), g))
        y, post, sidx = np.concatenate(y), np.concatenate(post), np.concatenate(sidx)
        st = np.abs(did_cells(y, post, sidx, assign))
        if np.mean(st >= st[0] - 1e-12) < alpha:
            hits["did_scale"] += 1
        ch = np.array([v["whole"][1] - v["whole"][0] for v in vs])
        A = assign.astype(float)
        st = np.abs(A @ ch / A.sum(1) - (1 - A) @ ch / (1 - A).sum(1))
        if np.isfinite(st[0]) and np.mean(st >= st[0] - 1e-12) < alpha:
            hits["did_ei"] += 1
    rows = []
    for t in TESTS:
        note = ""
        if t.startswith("did") and assign is None:
            note = "no comparison village"
        elif t.startswith("did") and 1 / k > alpha:
            note = f"{G} villages: the smallest randomization p is 1/{k} > alpha"
        pw = hits[t] / sims
        rows.append({"test": t, "respondents_per_village": respondents, "villages_program": villages_program,
                     "villages_comparison": villages_comparison, "effect_scale": effect_scale,
                     "effect_cross_ties": effect_cross_ties, "power": pw, "mc_se": np.sqrt(pw * (1 - pw) / sims),
                     "sims": sims, "alpha": alpha, "n_assignments": k if t.startswith("did") else np.nan,
                     "note": note})
    return pd.DataFrame(rows, columns=PLAN_COLUMNS)


def plan(settings, *, alpha: float = 0.05, seed: int = 0) -> pd.DataFrame:
    """Power for every respondents-per-village size of ``settings`` (a :class:`pipeline.config.Plan`):
    the rows of :func:`simulate_power` stacked, one block per size (the power curve)."""
    sizes = settings.respondents if isinstance(settings.respondents, list) else [settings.respondents]
    out = [simulate_power(villages_program=settings.villages_program,
                          villages_comparison=settings.villages_comparison, respondents=int(n),
                          share_migrant=settings.share_migrant, participation=settings.participation,
                          attrition=settings.attrition, response_rate=settings.response_rate,
                          effect_scale=settings.effect_scale, effect_cross_ties=settings.effect_cross_ties,
                          sims=settings.sims, alpha=alpha, seed=seed + i) for i, n in enumerate(sizes)]
    return pd.concat(out, ignore_index=True)
