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
from threadpoolctl import threadpool_limits

from ..parallel import map_sites
from ..order import in_canonical_order

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


def moments(data: list[np.ndarray]) -> tuple[list[np.ndarray], list[np.ndarray], list[int]]:
    """ML covariance matrices, means and sizes of the groups' complete answers (what a fit uses)."""
    return ([np.cov(x, rowvar=False, bias=True) for x in data], [x.mean(axis=0) for x in data],
            [len(x) for x in data])


def fit_level(pattern: np.ndarray, S: list[np.ndarray], m: list[np.ndarray], n: list[int], level: str) -> dict:
    """One level's multi-group CFA fit from the groups' moments (:func:`fit_levels`' rows)."""
    N, G, p = sum(n), len(S), pattern.shape[0]
    base = sum(n[g] * (np.log(np.diag(S[g])).sum() - np.linalg.slogdet(S[g])[1]) for g in range(G))
    base_df = G * p * (p - 1) // 2
    chisq, df, ok, model, x = _fit(pattern, S, m, n, level)
    heywood = any((x[sl["theta"]] < 0).any() for sl in model.slices)
    num = max(chisq - df, 0.0)
    den = max(base - base_df, chisq - df, 0.0)
    cfi = 1.0 - num / den if den > 0 else 1.0
    rmsea = np.sqrt(G) * np.sqrt(max(chisq / (N * df) - 1.0 / N, 0.0)) if df > 0 else np.nan
    return {"level": level, "chisq": chisq, "df": df,
            "p_val": float(stats.chi2.sf(chisq, df)) if df > 0 else np.nan,
            "cfi": cfi, "rmsea": rmsea, "converged": ok, "heywood": bool(heywood), "n": N,
            "baseline_chisq": base, "baseline_df": base_df}


def _fit_job(job: tuple) -> dict:
    """:func:`fit_level` with one BLAS thread (module level: a process pool or Dask runs it).

    The matrices are at most p × p (p ≤ a few dozen items); BLAS threads only spin on them,
    several times slower on a busy machine (the same as the network stage's jobs).
    """

    with threadpool_limits(1):
        return fit_level(*job)


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
    S, m, n = moments(data)
    return [_fit_job((pattern, S, m, n, level)) for level in LEVELS]


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
    """Respondent × wave rows, one column per scale item (reverse-coded: min + max − answer), and ``group``.

    Rows: the respondent × wave rows of ``respondents`` whose id and wave occur in ``responses``,
    sorted by ``respondent_id`` then ``wave``; an item not answered is NaN. Columns: the scale
    map's items in its order, then ``group``. Built from integer codes of the ids, waves and
    items: linear in the number of answers (a pivot table sorts them all).
    """
    sm = scale_map
    items = pd.Index(sm["item"].astype(str))
    rev = sm["reverse"].astype(bool).to_numpy()
    lo, hi = sm["min"].to_numpy(float), sm["max"].to_numpy(float)
    n = len(respondents)
    # every id and wave of both tables coded at once; rows: the respondents' in sorted order
    rid, ids = pd.factorize(pd.concat([respondents["respondent_id"].astype(str),
                                       responses["respondent_id"].astype(str)], ignore_index=True), sort=True)
    wid, wave_ids = pd.factorize(pd.concat([respondents["wave"].astype(str), responses["wave"].astype(str)],
                                           ignore_index=True), sort=True)
    id_answered, wave_answered = np.zeros(len(ids), dtype=bool), np.zeros(len(wave_ids), dtype=bool)
    id_answered[rid[n:]] = True
    wave_answered[wid[n:]] = True
    keep = np.flatnonzero(id_answered[rid[:n]] & wave_answered[wid[:n]])
    order = keep[np.lexsort((wid[:n][keep], rid[:n][keep]))]
    at = np.full(len(ids) * max(len(wave_ids), 1), -1, dtype=np.int64)
    at[rid[order] * len(wave_ids) + wid[order]] = np.arange(len(order))
    col = items.get_indexer(responses["item"].astype(str))
    pos = np.where(col >= 0, at[rid[n:] * len(wave_ids) + wid[n:]], -1)
    ok = pos >= 0  # a scale item, answered by a respondent × wave of the respondents table
    pos, col = pos[ok], col[ok]
    value = responses["value"].to_numpy(float)[ok]
    x = np.full((len(order), len(items)), np.nan)
    x[pos, col] = np.where(rev[col], lo[col] + hi[col] - value, value)
    index = pd.MultiIndex.from_arrays([np.asarray(ids)[rid[order]], np.asarray(wave_ids)[wid[order]]],
                                      names=["respondent_id", "wave"])
    wide = pd.DataFrame(x, index=index, columns=items)
    wide["group"] = respondents["group"].to_numpy()[order]
    return wide


def _comparisons(wave: np.ndarray, group: np.ndarray, waves: list[str], levels: list) -> list[tuple[str, list]]:
    """``(comparison, [(name, row mask), …])``: the groups at the first wave; the first and last wave
    (``wave``, ``group``: each row's)."""
    out = [("groups", [(lvl, (wave == waves[0]) & (group == lvl)) for lvl in levels[:2]])]
    if len(waves) > 1:
        out.append(("waves", [(w, wave == w) for w in (waves[0], waves[-1])]))
    return out


def _pattern(sm: pd.DataFrame, dim) -> tuple[list, np.ndarray]:
    """The dimension's items and their p × k loading pattern (one factor per subscale)."""
    items = list(sm.loc[sm["dimension"] == dim, "item"])
    subs = list(dict.fromkeys(sm.loc[sm["dimension"] == dim, "subscale"]))
    pattern = np.array([[sm.loc[sm["item"] == it, "subscale"].iloc[0] == s for s in subs] for it in items])
    return items, pattern


def invariance(responses: pd.DataFrame, respondents: pd.DataFrame, scale_map: pd.DataFrame, waves: list[str],
               *, group_values: list[str] | None = None, min_per_item: int = 2,
               scheduler: str = "auto") -> pd.DataFrame:
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
    scheduler : str
        Where the fits run (:func:`pipeline.parallel.map_sites`: ``"auto"``, ``"serial"``,
        ``"processes"``, ``"local"`` or a Dask scheduler address). Each dimension × comparison ×
        level is one fit of the groups' moments (covariances, means, sizes), computed here from
        the whole study; the fits are independent and give the same numbers wherever they run.

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

    if scale_map.empty:  # a study without scale items (e.g. networks only): nothing to compare
        return pd.DataFrame(columns=INVARIANCE_COLUMNS)
    respondents = in_canonical_order("respondents", respondents, waves)  # one order, whatever the file's
    return from_wide(wide_items(responses, respondents, scale_map), respondents, scale_map, waves,
                     group_values=group_values, min_per_item=min_per_item, scheduler=scheduler)


def stack_wide(parts: list[pd.DataFrame]) -> pd.DataFrame:
    """:func:`wide_items` of the whole study from its pieces per village (or batch of villages).

    The pieces are stacked and sorted by ``respondent_id`` then ``wave``, as :func:`wide_items`
    sorts the whole study, so every complete case lies in the same row in the same order and
    :func:`from_wide` gives identical fits. (A respondent × wave without a single answer in its
    own village, but answered elsewhere, is left out here and kept as an all-NaN row by the whole
    study's table; no fit uses such a row.)

    Returns
    -------
    DataFrame
        As :func:`wide_items`: items in the scale map's order, then ``group``.
    """
    if not parts:
        return pd.DataFrame(columns=["group"], index=pd.MultiIndex.from_arrays([[], []], names=["respondent_id", "wave"]))
    wide = pd.concat(parts)
    ids = wide.index.get_level_values("respondent_id").astype(str)
    waves = wide.index.get_level_values("wave").astype(str)
    return wide.iloc[np.lexsort((pd.factorize(waves, sort=True)[0], pd.factorize(ids, sort=True)[0]))]


def stack_items(parts: list[pd.DataFrame]) -> tuple[np.ndarray, pd.Index, np.ndarray, np.ndarray]:
    """The arrays of :func:`stack_wide`'s table, filled piece by piece: the study's table is never held twice.

    ``parts`` (the per-village pieces of :func:`wide_items`) is emptied as the pieces are copied.

    Returns
    -------
    matrix : numpy.ndarray
        float64, one row per respondent × wave in :func:`stack_wide`'s order (by ``respondent_id``,
        then ``wave``), one column per item.
    items : pandas.Index
        The item names (the pieces' columns but ``group``).
    wave, group : numpy.ndarray
        Each row's wave and group.
    """
    if not parts:
        return np.empty((0, 0)), pd.Index([]), np.array([], dtype=object), np.array([], dtype=object)
    items = parts[0].columns.drop("group")
    ids = np.concatenate([p.index.get_level_values("respondent_id").astype(str).to_numpy() for p in parts])
    waves = np.concatenate([p.index.get_level_values("wave").to_numpy() for p in parts])
    order = np.lexsort((pd.factorize(waves.astype(str), sort=True)[0], pd.factorize(ids, sort=True)[0]))
    del ids
    rank = np.empty(len(order), dtype=np.int64)
    rank[order] = np.arange(len(order))
    matrix, group = np.empty((len(order), len(items))), np.empty(len(order), dtype=object)
    at = 0
    parts.reverse()  # pop from the end: the first village first
    while parts:
        part = parts.pop()
        rows = rank[at:at + len(part)]
        matrix[rows] = part[items].to_numpy(float)
        group[rows] = part["group"].to_numpy()
        at += len(part)
    return matrix, items, waves[order], group


def from_wide(wide: pd.DataFrame, respondents: pd.DataFrame, scale_map: pd.DataFrame, waves: list[str], *,
              group_values: list[str] | None = None, min_per_item: int = 2, scheduler: str = "auto") -> pd.DataFrame:
    """:func:`invariance` from the wide item table (:func:`wide_items`, or :func:`stack_wide` of its
    per-village pieces); ``respondents`` only gives the group levels when ``group_values`` is None.

    Returns
    -------
    DataFrame
        The columns of :func:`invariance`.
    """
    if scale_map.empty:
        return pd.DataFrame(columns=INVARIANCE_COLUMNS)
    values = wide.drop(columns="group")
    return from_arrays(values.to_numpy(float), values.columns, wide.index.get_level_values("wave").to_numpy(),
                       wide["group"].to_numpy(), respondents["group"], scale_map, waves, group_values=group_values,
                       min_per_item=min_per_item, scheduler=scheduler)


def from_arrays(matrix: np.ndarray, items: pd.Index, wave: np.ndarray, group: np.ndarray, groups: pd.Series,
                scale_map: pd.DataFrame, waves: list[str], *, group_values: list[str] | None = None,
                min_per_item: int = 2, scheduler: str = "auto") -> pd.DataFrame:
    """:func:`from_wide` from the table's arrays (:func:`stack_items`); ``groups`` (the respondents'
    ``group`` column) only gives the group levels when ``group_values`` is None.

    Returns
    -------
    DataFrame
        The columns of :func:`invariance`.
    """
    sm = scale_map
    if sm.empty:
        return pd.DataFrame(columns=INVARIANCE_COLUMNS)
    comparisons = _comparisons(wave, group, waves, group_values or sorted(groups.dropna().unique()))
    cases, jobs = [], []
    for dim in dict.fromkeys(sm["dimension"]):
        items_, pattern = _pattern(sm, dim)
        cols = items.get_indexer(items_)
        for comp, parts in comparisons:
            data = []
            for _, mask in parts:
                x = matrix[mask][:, cols]
                data.append(x[~np.isnan(x).any(axis=1)])
            base = {"dimension": dim, "comparison": comp, "groups": "|".join(str(n) for n, _ in parts),
                    "n_items": len(items_)}
            why = _not_estimable(data, pattern, min_per_item)
            cases.append((base, data, why))
            if not why:
                S, m, n = moments(data)
                jobs += [(pattern, S, m, n, level) for level in LEVELS]
    fits = iter(map_sites(_fit_job, jobs, scheduler))
    rows: list[dict] = []
    for base, data, why in cases:
        rows += _case_rows(base, data, why, [next(fits) for _ in LEVELS] if not why else [], min_per_item)
    return pd.DataFrame(rows, columns=INVARIANCE_COLUMNS)


def _not_estimable(data: list[np.ndarray], pattern: np.ndarray, min_per_item: int) -> str:
    """Why a comparison cannot be fitted (a ``note`` code), or ``""``."""
    p = pattern.shape[0]
    if any(len(x) <= min_per_item * p for x in data):
        return "too_few_answers"
    if any(np.any(x.std(axis=0) == 0) for x in data if len(x)):
        return "constant_item"
    if pattern.sum(0).min() < 2:
        return "short_subscale"
    return ""


def _case_rows(base: dict, data: list[np.ndarray], why: str, fits: list[dict], min_per_item: int) -> list[dict]:
    """The three rows (configural, metric, scalar) of one dimension × comparison."""
    if why:
        return [{**base, "level": level, "n": sum(len(x) for x in data), "verdict": "not_estimable",
                 "holds": False, "note": why, "n_min": min(len(x) for x in data),
                 "n_needed": min_per_item * base["n_items"] + 1} for level in LEVELS]
    _verdict(fits)
    rows = []
    for f_ in fits:
        note = ";".join(t for t, c in (("not_converged", not f_["converged"]), ("heywood", f_["heywood"])) if c)
        rows.append({**base, **{k: v for k, v in f_.items() if not k.startswith("baseline") and k != "heywood"},
                     "note": note})
    return rows
