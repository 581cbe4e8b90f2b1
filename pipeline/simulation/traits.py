"""Latent trust and norms traits per subscale, Likert answers through item thresholds, scale scores.

``form`` is any object with ``subscales`` (the subscale keys, in order) and ``smap`` (the scale
map of :func:`pipeline.instrument.scale_map`: ``key``, ``dimension``, ``reverse``, ``min``,
``max`` per item), such as the demo's reading of the instrument.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from . import seeds
from .constants import (BASE_MEAN, CHANGE_SD, EFFECT, ITEM_SHIFT_SD, LOADING, LOADING_REVERSE, MEMBER_BONUS,
                        RHO_ACROSS, RHO_WITHIN, THRESHOLDS)


def latent_traits(rng: np.random.Generator, form: Any, people: dict[str, np.ndarray],
                  participant: np.ndarray, n_later: int) -> list[np.ndarray]:
    """Latent traits per wave: ``[eta_wave0, eta_wave1, …]`` each (n, n_subscales)."""
    subs = form.subscales
    dims = [s.split("_", 1)[0] for s in subs]
    k = len(subs)
    corr = np.array([[1.0 if i == j else (RHO_WITHIN if dims[i] == dims[j] else RHO_ACROSS)
                      for j in range(k)] for i in range(k)])
    chol = np.linalg.cholesky(corr)
    n = len(people["migrant"])
    z = rng.standard_normal((n, k)) @ chol.T
    origin = np.where(people["migrant"], "pendatang", "lokal")
    mean = np.zeros((n, k))
    for j, s in enumerate(subs):
        base = BASE_MEAN.get(s, {})
        mean[:, j] = np.where(origin == "lokal", base.get("lokal", 0.0), base.get("pendatang", 0.0))
        mean[:, j] += MEMBER_BONUS.get(s, 0.0) * people["any_member"]
    eta = [mean + z]
    eff = np.array([[planted_effect(s, "participant") for s in subs]])
    eff0 = np.array([[planted_effect(s, "non_participant") for s in subs]])
    for _ in range(n_later):
        change = np.where(participant[:, None], eff, eff0) + rng.normal(0, CHANGE_SD, (n, k))
        eta.append(eta[0] + change)
    return eta


def planted_effect(subscale: str, who: str) -> float:
    table = EFFECT[who]
    if subscale in table:
        return table[subscale]
    return table.get(subscale.split("_", 1)[0], 0.0)


def item_params(form: Any, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per item: subscale column, loading, threshold shift, reverse flag."""
    rng = seeds.rng(seed, "items")
    sm = form.smap
    col = np.array([form.subscales.index(k) for k in sm["key"]])
    rev = sm["reverse"].to_numpy(bool)
    lam = np.where(rev, LOADING_REVERSE, LOADING)
    shift = rng.normal(0, ITEM_SHIFT_SD, len(sm))
    return col, lam, shift, rev


def likert_answers(rng: np.random.Generator, eta: np.ndarray, params) -> np.ndarray:
    """Answers 1..5 (as recorded, i.e. reverse items already inverted) from latent traits."""
    col, lam, shift, rev = params
    n = eta.shape[0]
    x = eta[:, col] * lam + rng.standard_normal((n, len(col))) * np.sqrt(1 - lam ** 2) + shift
    level = 1 + np.searchsorted(np.array(THRESHOLDS), x, side="right").astype(float)  # construct-aligned 1..5
    return np.where(rev, 6 - level, level)


def score_answers(answers: np.ndarray, form: Any) -> dict[str, np.ndarray]:
    """Score = mean of items after reverse-coding, per subscale and per dimension (scales.py names)."""
    sm = form.smap
    lo, hi = sm["min"].to_numpy(), sm["max"].to_numpy()
    coded = np.where(sm["reverse"].to_numpy(bool), lo + hi - answers, answers)
    out = {}
    for dim in dict.fromkeys(sm["dimension"]):
        out[dim] = coded[:, (sm["dimension"] == dim).to_numpy()].mean(axis=1)
    for key in form.subscales:
        out[key] = coded[:, (sm["key"] == key).to_numpy()].mean(axis=1)
    return out
