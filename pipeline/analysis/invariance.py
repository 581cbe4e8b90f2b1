"""Measurement invariance: multi-group confirmatory factor analysis per dimension.

Comparing the trust of locals and migrants (or before and after) assumes the items mean the same
in both groups. Per dimension, a CFA with one factor per subscale (factors correlated; the
dimension's items, reverse-coded) is fitted by maximum likelihood in each group at three levels:

- ``configural``: the same pattern, every parameter free per group;
- ``metric``: loadings equal across groups;
- ``scalar``: loadings and item intercepts equal (latent means free in the later groups).

Identification and fit statistics follow lavaan's defaults (``cfa(..., group =, group.equal =)``,
``estimator = "ML"``, listwise deletion): the first loading of each factor is 1, the latent means
are 0 in every group (configural, metric) or in the first group (scalar); χ² = Σ_g n_g F_g with
S_g the ML covariance; CFI against the baseline model of uncorrelated items with free means and
variances per group; RMSEA = √G · √max(0, χ²/(N·df) − 1/N) (lavaan's multi-group RMSEA).

Decision (Chen 2007): a level holds when, against the level below, ΔCFI ≥ −0.010 and
ΔRMSEA ≤ 0.015. Where scalar invariance fails, comparisons of the groups' mean scores on that
scale are not supported by the data.

Why our own estimator: semopy's ``multigroup`` fits each group separately (configural only, no
equality constraints across groups, methods.md §3.1), so metric and scalar models cannot be
written with it; the ML fit function of a multi-group mean-and-covariance model is short and is
checked against lavaan in ``tests/analysis/test_invariance.py``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import optimize, stats

LEVELS = ("configural", "metric", "scalar")
D_CFI, D_RMSEA = -0.010, 0.015
INVARIANCE_COLUMNS = ["dimension", "comparison", "groups", "level", "n", "n_items", "chisq", "df", "p_val", "cfi",
                      "rmsea", "delta_cfi", "delta_rmsea", "delta_chisq", "delta_df", "delta_p", "holds",
                      "verdict", "converged", "note", "n_min", "n_needed"]
#: ``note`` codes (several joined by ``;``; the report's words: the catalogue's ``inv_note_<code>``):
#: ``too_few_answers`` (a group has ``n_min`` complete answers, more than ``n_needed`` are needed),
#: ``constant_item`` (an item has one answer for everyone in a group), ``short_subscale`` (a
#: subscale with fewer than 2 items), ``not_converged`` (the optimiser did not report convergence),
#: ``heywood`` (a negative residual variance: read with care)
NOTES = ("too_few_answers", "constant_item", "short_subscale", "not_converged", "heywood")


class _Model:
    """Parameter layout of a multi-group CFA at one invariance level."""

    def __init__(self, pattern: np.ndarray, n_groups: int, level: str):
        self.pattern = pattern  # p × k, True where an item loads
        self.p, self.k = pattern.shape
        self.G = n_groups
        self.level = level
        free_lam = pattern.copy()
        for f in range(self.k):
            free_lam[np.flatnonzero(pattern[:, f])[0], f] = False  # marker loading = 1
        self.free_lam = free_lam
        nl, p, k = int(free_lam.sum()), self.p, self.k
        nphi = k * (k + 1) // 2
        eq_lam = level in ("metric", "scalar")
        eq_nu = level == "scalar"
        idx = 0
        self.slices = []
        shared_lam = None
        shared_nu = None
        for g in range(self.G):
            sl = {}
            if eq_lam and shared_lam is not None:
                sl["lam"] = shared_lam
            else:
                sl["lam"] = slice(idx, idx + nl)
                idx += nl
                shared_lam = sl["lam"]
            sl["phi"] = slice(idx, idx + nphi)
            idx += nphi
            sl["theta"] = slice(idx, idx + p)
            idx += p
            if eq_nu and shared_nu is not None:
                sl["nu"] = shared_nu
            else:
                sl["nu"] = slice(idx, idx + p)
                idx += p
                shared_nu = sl["nu"]
            if eq_nu and g > 0:
                sl["alpha"] = slice(idx, idx + k)
                idx += k
            self.slices.append(sl)
        self.n_par = idx
        self.tri = np.tril_indices(k)

    def unpack(self, x: np.ndarray, g: int):
        sl = self.slices[g]
        lam = self.pattern.astype(float).copy()
        lam[self.free_lam] = x[sl["lam"]]
        phi = np.zeros((self.k, self.k))
        phi[self.tri] = x[sl["phi"]]
        phi = phi + np.tril(phi, -1).T
        theta = x[sl["theta"]]
        nu = x[sl["nu"]]
        alpha = x[sl["alpha"]] if "alpha" in sl else np.zeros(self.k)
        sigma = lam @ phi @ lam.T + np.diag(theta)
        mu = nu + lam @ alpha
        return sigma, mu

    def start(self, S: list[np.ndarray], m: list[np.ndarray]) -> np.ndarray:
        x = np.zeros(self.n_par)
        for g in range(self.G):
            sl = self.slices[g]
            x[sl["lam"]] = 1.0
            phi = np.zeros((self.k, self.k))
            for f in range(self.k):
                ref = np.flatnonzero(self.pattern[:, f])[0]
                phi[f, f] = 0.5 * S[g][ref, ref]
            x[sl["phi"]] = phi[self.tri]
            x[sl["theta"]] = 0.5 * np.diag(S[g])
            x[sl["nu"]] = m[g] if (g == 0 or self.level != "scalar") else x[sl["nu"]]
        return x


def _fit(pattern, S, m, n, level):
    """Minimise Σ_g n_g F_g (ML discrepancy with means)."""
    model = _Model(pattern, len(S), level)
    p = pattern.shape[0]
    logdet_S = [np.linalg.slogdet(s)[1] for s in S]

    def f(x):
        total = 0.0
        grad = np.zeros_like(x)
        for g in range(model.G):
            sl = model.slices[g]
            lam = model.pattern.astype(float).copy()
            lam[model.free_lam] = x[sl["lam"]]
            sigma, mu = model.unpack(x, g)
            try:
                L = np.linalg.cholesky(sigma)
            except np.linalg.LinAlgError:
                return 1e10, np.zeros_like(x)
            dg = np.diag(L)
            if dg.min() < 1e-6 * dg.max():  # (nearly) singular: outside the admissible region
                return 1e10, np.zeros_like(x)
            ld = 2.0 * np.log(dg).sum()
            inv = np.linalg.inv(sigma)
            d = m[g] - mu
            invd = inv @ d
            total += n[g] * (ld + np.trace(S[g] @ inv) - logdet_S[g] - p + d @ invd)
            # gradients: W = dF/dΣ, g_mu = dF/dμ
            W = inv - inv @ (S[g] + np.outer(d, d)) @ inv
            g_mu = -2.0 * invd
            phi = np.zeros((model.k, model.k))
            phi[model.tri] = x[sl["phi"]]
            phi = phi + np.tril(phi, -1).T
            alpha = x[sl["alpha"]] if "alpha" in sl else np.zeros(model.k)
            g_lam = 2.0 * W @ lam @ phi + np.outer(g_mu, alpha)
            g_phi = lam.T @ W @ lam
            g_phi = 2.0 * g_phi - np.diag(np.diag(g_phi))
            grad[sl["lam"]] += n[g] * g_lam[model.free_lam]
            grad[sl["phi"]] += n[g] * g_phi[model.tri]
            grad[sl["theta"]] += n[g] * np.diag(W)
            grad[sl["nu"]] += n[g] * g_mu
            if "alpha" in sl:
                grad[sl["alpha"]] += n[g] * (lam.T @ g_mu)
        return total, grad

    x0 = model.start(S, m)
    best = None
    for method in ("BFGS", "L-BFGS-B"):
        r = optimize.minimize(f, x0 if best is None else best.x, method=method, jac=True,
                              options={"gtol": 1e-9, "maxiter": 20000} if method == "BFGS"
                              else {"ftol": 1e-15, "gtol": 1e-10, "maxiter": 20000})
        if best is None or r.fun <= best.fun:
            best = r
    moments = model.G * (p * (p + 1) // 2 + p)
    df = moments - model.n_par
    return float(best.fun), int(df), bool(best.success or best.fun < 1e9), model, best.x


def fit_levels(data: list[np.ndarray], pattern: np.ndarray) -> list[dict]:
    """Configural, metric and scalar fit of one multi-group CFA.

    Parameters
    ----------
    data : list of ndarray
        One (n_g × p) matrix of complete answers per group.
    pattern : ndarray of bool
        p × k: item j loads on factor f.

    Returns
    -------
    list of dict
        Per level: ``level``, ``chisq``, ``df``, ``p_val``, ``cfi``, ``rmsea``, ``converged``,
        ``n``, ``baseline_chisq``, ``baseline_df``.
    """
    S = [np.cov(x, rowvar=False, bias=True) for x in data]
    m = [x.mean(axis=0) for x in data]
    n = [len(x) for x in data]
    N, G, p = sum(n), len(data), pattern.shape[0]
    base = sum(n[g] * (np.log(np.diag(S[g])).sum() - np.linalg.slogdet(S[g])[1]) for g in range(G))
    base_df = G * p * (p - 1) // 2
    out = []
    for level in LEVELS:
        chisq, df, ok, model, x = _fit(pattern, S, m, n, level)
        heywood = any((x[sl["theta"]] < 0).any() for sl in model.slices)
        num = max(chisq - df, 0.0)
        den = max(base - base_df, chisq - df, 0.0)
        cfi = 1.0 - num / den if den > 0 else 1.0
        rmsea = np.sqrt(G) * np.sqrt(max(chisq / (N * df) - 1.0 / N, 0.0)) if df > 0 else np.nan
        out.append({"level": level, "chisq": chisq, "df": df,
                    "p_val": float(stats.chi2.sf(chisq, df)) if df > 0 else np.nan,
                    "cfi": cfi, "rmsea": rmsea, "converged": ok, "heywood": bool(heywood), "n": N,
                    "baseline_chisq": base, "baseline_df": base_df})
    return out


def _verdict(rows: list[dict]) -> None:
    """Fill delta_* and holds/verdict in place (configural, metric, scalar)."""
    conf = rows[0]
    conf.update(delta_cfi=np.nan, delta_rmsea=np.nan, delta_chisq=np.nan, delta_df=np.nan, delta_p=np.nan,
                holds=bool(conf["cfi"] >= 0.90), verdict="")
    for prev, cur in zip(rows, rows[1:]):
        dc, dr = cur["cfi"] - prev["cfi"], cur["rmsea"] - prev["rmsea"]
        dchi, ddf = cur["chisq"] - prev["chisq"], cur["df"] - prev["df"]
        cur.update(delta_cfi=dc, delta_rmsea=dr, delta_chisq=dchi, delta_df=ddf,
                   delta_p=float(stats.chi2.sf(dchi, ddf)) if ddf > 0 else np.nan,
                   holds=bool(prev["holds"] and dc >= D_CFI and dr <= D_RMSEA))
    if not conf["holds"]:
        v = "configural_poor"
    elif rows[2]["holds"]:
        v = "scalar"
    elif rows[1]["holds"]:
        v = "metric"
    else:
        v = "configural"
    for r in rows:
        r["verdict"] = v


def wide_items(responses: pd.DataFrame, respondents: pd.DataFrame, scale_map: pd.DataFrame) -> pd.DataFrame:
    """Respondent × wave rows, one column per item (reverse-coded: min + max − answer), and ``group``."""
    sm = scale_map
    rev = dict(zip(sm["item"], sm["reverse"].astype(bool)))
    lo, hi = dict(zip(sm["item"], sm["min"])), dict(zip(sm["item"], sm["max"]))
    r = responses.copy()
    r["v"] = np.where(r["item"].map(rev).astype(bool), r["item"].map(lo) + r["item"].map(hi) - r["value"], r["value"])
    wide = r.pivot_table(index=["respondent_id", "wave"], columns="item", values="v", aggfunc="first", dropna=False)
    grp = respondents.set_index(["respondent_id", "wave"])["group"]
    return wide.join(grp, how="inner")


def invariance(responses: pd.DataFrame, respondents: pd.DataFrame, scale_map: pd.DataFrame, waves: list[str],
               *, group_values: list[str] | None = None, min_per_item: int = 2) -> pd.DataFrame:
    """Configural → metric → scalar invariance per dimension, between groups and between waves.

    Comparisons: the groups (``group`` of the respondents table) at the first wave and, when there
    are two waves or more, the first against the last wave (waves treated as independent samples
    — the same people answer twice, so this is an approximation; a longitudinal model with
    correlated residuals is not fitted).

    Parameters
    ----------
    responses, respondents, scale_map : DataFrame
        Canonical tables (answers, group and wave, item → dimension/subscale/reverse/min/max).
    waves : list of str
        The study's waves in order.
    group_values : list of str, optional
        Group levels in order (default: sorted values).
    min_per_item : int
        A group needs more than ``min_per_item`` × items complete answers, else the dimension is
        reported as not estimable.

    Returns
    -------
    DataFrame
        One row per dimension × comparison × level: ``dimension``, ``comparison`` (``groups`` or
        ``waves``), ``groups`` (the two compared, ``a|b``), ``level`` (configural, metric,
        scalar), ``n`` (complete cases), ``n_items``, ``chisq``, ``df``, ``p_val``, ``cfi``,
        ``rmsea``, ``delta_cfi``, ``delta_rmsea`` (against the level above), ``delta_chisq``,
        ``delta_df``, ``delta_p`` (χ² difference test), ``holds`` (this level and those before it
        pass), ``verdict`` (per dimension and comparison: ``scalar``, ``metric``, ``configural``,
        ``configural_poor`` (CFI < .90), ``not_estimable``), ``converged``, ``note``.
    """
    sm = scale_map
    if sm.empty:  # a study without scale items (e.g. networks only): nothing to compare
        return pd.DataFrame(columns=INVARIANCE_COLUMNS)
    wide = wide_items(responses, respondents, sm)
    comparisons = []
    levels = group_values or sorted(respondents["group"].dropna().unique())
    first = waves[0]
    comparisons.append(("groups", [(lvl, (wide.index.get_level_values("wave") == first) & (wide["group"] == lvl))
                                   for lvl in levels[:2]]))
    if len(waves) > 1:
        comparisons.append(("waves", [(w, wide.index.get_level_values("wave") == w) for w in (waves[0], waves[-1])]))
    rows: list[dict] = []
    for dim in dict.fromkeys(sm["dimension"]):
        items = list(sm.loc[sm["dimension"] == dim, "item"])
        subs = list(dict.fromkeys(sm.loc[sm["dimension"] == dim, "subscale"]))
        pattern = np.array([[sm.loc[sm["item"] == it, "subscale"].iloc[0] == s for s in subs] for it in items])
        for comp, parts in comparisons:
            data = [wide.loc[np.asarray(mask), items].dropna().to_numpy(float) for _, mask in parts]
            names = "|".join(str(n) for n, _ in parts)
            base = {"dimension": dim, "comparison": comp, "groups": names, "n_items": len(items)}
            small = [len(x) for x in data if len(x) <= min_per_item * len(items)]
            flat = any(np.any(x.std(axis=0) == 0) for x in data if len(x))
            if small or flat or pattern.sum(0).min() < 2:
                why = "too_few_answers" if small else "constant_item" if flat else "short_subscale"
                for level in LEVELS:
                    rows.append({**base, "level": level, "n": sum(len(x) for x in data), "verdict": "not_estimable",
                                 "holds": False, "note": why, "n_min": min(len(x) for x in data),
                                 "n_needed": min_per_item * len(items) + 1})
                continue
            fits = fit_levels(data, pattern)
            _verdict(fits)
            for f_ in fits:
                note = ";".join(t for t, c in (("not_converged", not f_["converged"]), ("heywood", f_["heywood"])) if c)
                rows.append({**base, **{k: v for k, v in f_.items() if not k.startswith("baseline") and k != "heywood"},
                             "note": note})
    return pd.DataFrame(rows, columns=INVARIANCE_COLUMNS)
