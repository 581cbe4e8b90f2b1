"""Business ties: a homophilous propensity model, ties kept and made between waves, the program's bonus.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .constants import (KEEP_PROB, MEAN_OUTDEGREE, NEW_TIE_FACTOR, PROGRAM_BONUS, PROGRAM_BONUS_SAME,
                        TIE_TERMS)
from .seeds import rounded


def calibrate_intercept(logit: np.ndarray, mask: np.ndarray, target: float) -> float:
    """Intercept giving ``target`` expected out-degree over the allowed pairs."""
    lo, hi = -15.0, 5.0
    n = mask.shape[0]
    for _ in range(60):
        mid = (lo + hi) / 2
        deg = (1 / (1 + np.exp(-(logit + mid))) * mask).sum() / n
        lo, hi = (mid, hi) if deg < target else (lo, mid)
    return (lo + hi) / 2


def simulate_ties(rng: np.random.Generator, people: dict[str, np.ndarray], participant: np.ndarray,
                  on_roster: list[np.ndarray], tie_types: list[str],
                  bonus: dict[str, float] | None = None) -> tuple[list[dict[str, np.ndarray]], dict]:
    """Directed tie matrices per wave and tie type over everyone (rows: ego, columns: alter).

    ``bonus``: the program's added probability of a new tie between two participants of different
    origin per tie type (default :data:`PROGRAM_BONUS`; ``sinergi plan`` varies it)."""
    bonus = PROGRAM_BONUS if bonus is None else bonus
    n = len(people["migrant"])
    same_origin = people["migrant"][:, None] == people["migrant"][None, :]
    same_sector = people["sector"][:, None] == people["sector"][None, :]
    same_rt = people["rt"][:, None] == people["rt"][None, :]
    social = rng.normal(0, TIE_TERMS["sociability_sd"], n)
    popular = rng.normal(0, TIE_TERMS["popularity_sd"], n)
    dyad = rng.normal(0, TIE_TERMS["dyad_sd"], (n, n))
    dyad = (dyad + dyad.T) / np.sqrt(2)  # shared by i→j and j→i: reciprocity
    base = (TIE_TERMS["same_origin"] * same_origin + TIE_TERMS["same_sector"] * same_sector
            + TIE_TERMS["same_rt"] * same_rt + social[:, None] + popular[None, :] + dyad)
    np.fill_diagonal(base, -np.inf)
    pair0 = on_roster[0][:, None] & on_roster[0][None, :] & ~np.eye(n, dtype=bool)
    both_part = participant[:, None] & participant[None, :]
    bonus_share = np.where(same_origin, PROGRAM_BONUS_SAME, 1.0) * both_part
    waves: list[dict[str, np.ndarray]] = [{} for _ in on_roster]
    info: dict[str, Any] = {"intercept": {}, "p_new_cross_participant_pairs": {}, "p_new_other_pairs": {}}
    for t in tie_types:
        noise = rng.normal(0, 0.5, (n, n)) if t != tie_types[0] else 0.0
        logit = base + noise
        icpt = calibrate_intercept(logit, pair0, MEAN_OUTDEGREE.get(t, 2.0))
        p = 1 / (1 + np.exp(-(logit + icpt)))
        info["intercept"][t] = rounded(icpt)
        ties = (rng.random((n, n)) < p) & pair0
        waves[0][t] = ties
        for k in range(1, len(on_roster)):
            pairs = on_roster[k][:, None] & on_roster[k][None, :] & ~np.eye(n, dtype=bool)
            prev = waves[k - 1][t]
            seen = on_roster[k - 1][:, None] & on_roster[k - 1][None, :]
            p_new = np.where(seen, NEW_TIE_FACTOR * p, p)  # a newcomer's ties are all new
            p_new = np.clip(p_new + bonus.get(t, 0.02) * bonus_share * (k == 1), 0, 1)
            draw = rng.random((n, n))
            kept = prev & (draw < KEEP_PROB)
            new = ~prev & (draw < p_new)
            waves[k][t] = (kept | new) & pairs
            if k == 1:
                cross_part = both_part & ~same_origin & seen & pair0 & ~prev
                other = ~both_part & seen & pair0 & ~prev
                info["p_new_cross_participant_pairs"][t] = _mean_or_none(p_new[cross_part])
                info["p_new_other_pairs"][t] = _mean_or_none(p_new[other])
    return waves, info


def _mean_or_none(values: np.ndarray) -> float | None:
    """The rounded mean of ``values``; None (``null`` in the truth file) when there are none, e.g. the
    cross-origin participant pairs of a comparison village, which has no participants."""
    return rounded(values.mean()) if values.size else None
