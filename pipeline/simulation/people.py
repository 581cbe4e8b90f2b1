"""The simulated population: covariates per person and who takes part in the program.

A population is a dict of equal-length numpy arrays keyed by covariate (``migrant``, ``female``,
``age``, ``years``, ``sector``, ``business_age``, ``employees``, ``rt``, ``member_<kind>``,
``any_member``, ``newcomer``).
"""

from __future__ import annotations

import numpy as np

from .constants import MEMBERSHIP_PROBS, SECTOR_PROBS


def draw_people(rng: np.random.Generator, n: int, share_migrant: float, *, exact: bool = True,
                newcomer: bool = False) -> dict[str, np.ndarray]:
    """Person-level covariates (vectorised; used for the village and for the Monte Carlo truth)."""
    if exact:
        migrant = np.zeros(n, bool)
        migrant[rng.permutation(n)[: int(round(share_migrant * n))]] = True
    else:
        migrant = rng.random(n) < share_migrant
    female = rng.random(n) < 0.6
    age = np.clip(np.round(rng.normal(41, 10, n)), 19, 70).astype(int)
    if newcomer:
        years = rng.integers(0, 2, n)
    else:
        years = np.where(migrant, np.clip(np.round(rng.lognormal(np.log(7), 0.7, n)), 1, age - 15),
                         np.maximum(age - rng.choice([0, 0, 0, 2, 5, 10], n), 1))
    sectors = list(SECTOR_PROBS["lokal"])
    p_l = np.array([SECTOR_PROBS["lokal"][s] for s in sectors])
    p_m = np.array([SECTOR_PROBS["pendatang"][s] for s in sectors])
    sector = np.where(migrant, rng.choice(len(sectors), n, p=p_m / p_m.sum()),
                      rng.choice(len(sectors), n, p=p_l / p_l.sum()))
    bage_cap = np.where(migrant, np.maximum(years, 1), age - 16)
    business_age = np.minimum(np.round(rng.gamma(2.0, 3.5, n)), bage_cap).astype(int)
    employees = rng.choice([0, 1, 2, 3, 4, 6], n, p=[0.45, 0.25, 0.15, 0.08, 0.05, 0.02])
    member = {k: rng.random(n) < (p * (0.8 if k == "bumdes" else 1.0)) * np.where(migrant, 0.8, 1.1)
              for k, p in MEMBERSHIP_PROBS.items()}
    rt = np.where(migrant, rng.choice(8, n, p=[0.05, 0.05, 0.1, 0.1, 0.15, 0.15, 0.2, 0.2]),
                  rng.choice(8, n, p=[0.18, 0.18, 0.16, 0.14, 0.12, 0.1, 0.06, 0.06]))
    return {"migrant": migrant, "female": female, "age": age, "years": years.astype(int),
            "sector": sector, "business_age": business_age, "employees": employees, "rt": rt,
            **{f"member_{k}": v for k, v in member.items()},
            "any_member": np.any(np.vstack(list(member.values())), axis=0),
            "newcomer": np.full(n, newcomer)}


def concat_people(a: dict[str, np.ndarray], b: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    return {k: np.concatenate([a[k], b[k]]) for k in a}


def draw_participation(rng: np.random.Generator, people: dict[str, np.ndarray], share: float) -> np.ndarray:
    """Exactly ``share`` of people take part, preferring members and employers (logit + noise)."""
    n = len(people["migrant"])
    score = (1.2 * people["any_member"] + 0.3 * (people["employees"] > 0) - 0.8 * people["newcomer"]
             + rng.logistic(size=n))
    out = np.zeros(n, bool)
    out[np.argsort(-score, kind="stable")[: int(round(share * n))]] = True
    return out
