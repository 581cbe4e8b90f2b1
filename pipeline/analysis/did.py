"""Comparison villages: difference-in-differences, ANCOVA and the baseline balance table.

A study whose sites are marked ``program`` or ``comparison`` (study key ``arms``; the demo's
``source.comparison_villages``) is compared between arms, first wave against last wave:

- **Mixed model** (``did_mixed``): ``y ~ post * program`` with random intercepts for villages and
  for respondents nested in villages (REML, statsmodels ``MixedLM``), every observation used
  (attrition included). Its standard error assumes villages differ only in level, not in change:
  with few villages it is too small, so it is reported but not used for the verdict.
- **Randomization inference over villages** (``did_ri``): the difference-in-differences of cell
  means ``(ȳ_program,post − ȳ_program,pre) − (ȳ_comparison,post − ȳ_comparison,pre)`` is
  recomputed under every assignment of the arm labels to villages (all of them when there are at
  most ``draws``, else ``draws`` seeded draws). The p-value is the share of assignments whose
  |estimate| is at least the observed one; the CI inverts that test (a shift δ of the program
  villages' later wave is inside the CI when the shifted data give p > α). This is exact for
  any number of villages if villages were assigned at random, and honest when they were not:
  with 2 villages the smallest reachable p is 1 and the CI is unbounded.
- **ANCOVA** (``ancova_mixed``, ``ancova_ri``): for respondents seen in both waves,
  ``y_last ~ program + y_first``, the village a random intercept (mixed) and, for inference, the
  OLS coefficient under randomization inference as above.
- **Village-level network outcomes** (``village_ri``): E-I, cross-group share of ties and
  nominal assortativity per site × wave × tie type; estimate = mean change of the program villages
  − mean change of the comparison villages, randomization inference over villages.

Wild cluster bootstrap was not chosen: with G villages Rademacher weights give only 2^G distinct
bootstrap samples (4 with 2 villages) and its size with one treated village is known to be poor
(MacKinnon & Webb 2018); randomization inference states its limit exactly (the smallest p).
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pandas as pd
from scipy import optimize, stats

from ..errors import SinergiError
from ..order import in_canonical_order

DID_COLUMNS = ["dimension", "kind", "tie_type", "method", "estimate", "se", "ci_low", "ci_high", "p_val",
               "n_clusters", "n_program_clusters", "n_obs", "n_assignments", "p_min", "note"]
BALANCE_COLUMNS = ["variable", "mean_program", "mean_comparison", "difference", "sd_pooled", "smd",
                   "n_program", "n_comparison", "p_ri", "n_assignments"]
#: individual network indicators compared between arms
NODE_INDICATORS = ("degree", "bridging", "ei")
#: village-level network outcomes
VILLAGE_OUTCOMES = ("ei", "cross_share", "assortativity")
#: baseline covariates in the balance table when the respondents table has them
BALANCE_COVARIATES = ("age", "years_in_village", "business_age", "employees", "revenue", "membership_n")


# -- randomization inference ------------------------------------------------------------------


def assignments(sites: list[str], program: set[str], draws: int, seed: int) -> np.ndarray:
    """Boolean matrix (assignment × site): row 0 is the observed assignment, then every other way
    of giving ``len(program)`` of ``sites`` the program (or ``draws`` − 1 seeded random ones when
    there are more than ``draws``)."""
    g, k = len(sites), len(program)
    obs = np.array([s in program for s in sites])
    n_all = _comb(g, k)
    if n_all <= draws:
        rows = [obs]
        for combo in itertools.combinations(range(g), k):
            a = np.zeros(g, bool)
            a[list(combo)] = True
            if not np.array_equal(a, obs):
                rows.append(a)
        return np.array(rows)
    rng = np.random.default_rng(seed)
    rows = [obs]
    for _ in range(draws - 1):
        a = np.zeros(g, bool)
        a[rng.permutation(g)[:k]] = True
        rows.append(a)
    return np.array(rows)


def _comb(n: int, k: int) -> int:
    return math.comb(n, k)


def ri_test(stat: np.ndarray, shift: np.ndarray, alpha: float) -> tuple[float, float, float]:
    """p-value and test-inversion CI of a statistic linear in the outcome.

    ``stat[a]`` is the estimate under assignment ``a`` (row 0 observed); ``shift[a]`` what the same
    estimator gives for the observed program-effect pattern (1 at row 0 by construction). Under
    the sharp null "effect = δ", assignment ``a`` gives ``stat[a] − δ·shift[a]``.

    Returns
    -------
    (p, ci_low, ci_high)
        ``p`` two-sided, the observed assignment counted; CI bounds ±inf when the test cannot
        reject at any δ (too few assignments).
    """
    stat, shift = np.asarray(stat, float), np.asarray(shift, float)

    def p_at(delta: float) -> float:
        d = np.abs(stat - delta * shift)
        return float(np.mean(d >= d[0] - 1e-10 * max(1.0, abs(d[0]))))

    p = p_at(0.0)
    if 1.0 / len(stat) > alpha or not np.isfinite(stat[0]):
        return p, -np.inf, np.inf
    # p(δ) is a step function: it changes only where |stat_a − δ shift_a| = |stat_0 − δ|
    cands = []
    for s, c in zip(stat[1:], shift[1:]):
        for sign in (1.0, -1.0):
            den = 1.0 - sign * c
            if abs(den) > 1e-12:
                cands.append((stat[0] - sign * s) / den)
    br = np.unique(np.array(cands, float))
    if br.size == 0:
        return p, -np.inf, np.inf
    span = 1.0 + np.ptp(br) + np.abs(br).max()
    mids = np.concatenate([[br[0] - span], (br[:-1] + br[1:]) / 2, [br[-1] + span]])
    ok = np.array([p_at(m) > alpha for m in mids])
    if not ok.any():
        return p, np.nan, np.nan
    i, j = np.flatnonzero(ok)[[0, -1]]
    lo = -np.inf if i == 0 else float(br[i - 1])
    hi = np.inf if j == len(mids) - 1 else float(br[j])
    return p, lo, hi


def did_cells(y: np.ndarray, post: np.ndarray, site_idx: np.ndarray, assign: np.ndarray) -> np.ndarray:
    """OLS ``y ~ post * program`` interaction (= DiD of cell means) for every assignment row.

    Parameters
    ----------
    y : float array, one value per observation.
    post : bool array, the observation is from the later wave.
    site_idx : int array, the observation's site (a column of ``assign``).
    assign : 0/1 array (assignments × sites), 1 where the site is a program site.

    Returns
    -------
    numpy.ndarray
        One DiD estimate per assignment row (NaN when an arm has no observation in a wave); used
        by the randomisation inference here and by power planning (:mod:`pipeline.analysis.plan`).
    """
    g = assign.shape[1]
    s_pre = np.bincount(site_idx[~post], weights=y[~post], minlength=g)
    n_pre = np.bincount(site_idx[~post], minlength=g).astype(float)
    s_post = np.bincount(site_idx[post], weights=y[post], minlength=g)
    n_post = np.bincount(site_idx[post], minlength=g).astype(float)
    A = assign.astype(float)
    B = 1.0 - A
    with np.errstate(invalid="ignore", divide="ignore"):
        return (A @ s_post / (A @ n_post) - A @ s_pre / (A @ n_pre)) - (B @ s_post / (B @ n_post) - B @ s_pre / (B @ n_pre))


def _ancova_coef(y1: np.ndarray, y0: np.ndarray, site_idx: np.ndarray, assign: np.ndarray) -> np.ndarray:
    """OLS ``y1 ~ program + y0``: the program coefficient for every assignment row."""
    out = np.empty(len(assign))
    for a, row in enumerate(assign):
        X = np.column_stack([np.ones_like(y0), row[site_idx].astype(float), y0])
        out[a] = np.linalg.lstsq(X, y1, rcond=None)[0][1]
    return out


# -- models -----------------------------------------------------------------------------------


def reml(y: np.ndarray, X: np.ndarray, block: np.ndarray, inner: np.ndarray | None = None) -> dict:
    """REML fit of ``y ~ X + (1 | block) [+ (1 | block:inner)]``, villages as blocks.

    A small exact implementation (dense covariance per village, the two variance ratios profiled
    and bounded at 0 with L-BFGS-B): statsmodels ``MixedLM`` returns zeroed fixed effects when a
    variance collapses (statsmodels#10239), which happens with few villages. Checked against
    ``lme4::lmer(..., REML = TRUE)`` in tests/analysis/test_did.py.

    Returns
    -------
    dict
        ``beta``, ``se`` (from σ²(X'H⁻¹X)⁻¹ as lme4), ``var_block``, ``var_inner``, ``var_residual``,
        ``boundary`` (a variance estimated as 0).
    """
    y, X = np.asarray(y, float), np.asarray(X, float)
    n, p = X.shape
    W = np.column_stack([X, y])
    G = W.T @ W
    _, vcode = np.unique(np.asarray(block), return_inverse=True)
    if inner is None:
        icode = np.arange(n)
    else:
        keys = pd.Series(list(zip(vcode, np.asarray(inner))))
        icode = pd.factorize(keys)[0]
    m = icode.max() + 1
    S = np.zeros((m, p + 1))
    np.add.at(S, icode, W)  # per respondent sums of [X, y]
    n_i = np.bincount(icode, minlength=m).astype(float)
    v_of_i = np.zeros(m, int)
    v_of_i[icode] = vcode
    n_v = vcode.max() + 1

    def crossprod(theta):
        # H = I + t_i Z_i Z_i' + t_b Z_b Z_b' per village; Woodbury twice (closed form)
        tb = np.exp(theta[0])
        ti = np.exp(theta[1]) if inner is not None else 0.0
        c = ti / (1 + n_i * ti)
        M = G - (S * c[:, None]).T @ S
        Ti = S / (1 + n_i * ti)[:, None]
        T = np.zeros((n_v, p + 1))
        np.add.at(T, v_of_i, Ti)
        s_v = np.bincount(v_of_i, weights=n_i / (1 + n_i * ti), minlength=n_v)
        f = tb / (1 + tb * s_v)
        M = M - (T * f[:, None]).T @ T
        logdet = np.log1p(n_i * ti).sum() + np.log1p(tb * s_v).sum()
        return M, logdet

    def negll(theta):
        M, logdet = crossprod(theta)
        XtHX, XtHy, yHy = M[:p, :p], M[:p, p], M[p, p]
        beta = np.linalg.solve(XtHX, XtHy)
        s2 = (yHy - XtHy @ beta) / (n - p)
        _, ld = np.linalg.slogdet(XtHX)
        return 0.5 * ((n - p) * np.log(s2) + logdet + ld)

    lo = np.log(1e-10)
    k = 2 if inner is not None else 1
    best = None
    for start in ([0.0] * k, [-3.0] * k, [lo + 1] * k):
        r = optimize.minimize(negll, np.array(start), method="L-BFGS-B", bounds=[(lo, np.log(1e4))] * k)
        if best is None or r.fun < best.fun:
            best = r
    theta = best.x
    zero = theta <= lo + 1e-3  # a ratio at the lower bound is a variance of 0 (lme4 reports 0)
    theta = np.where(zero, -np.inf, theta)
    M, _ = crossprod(np.where(zero, -745.0, theta))
    XtHX, XtHy, yHy = M[:p, :p], M[:p, p], M[p, p]
    beta = np.linalg.solve(XtHX, XtHy)
    s2 = (yHy - XtHy @ beta) / (n - p)
    cov = s2 * np.linalg.inv(XtHX)
    tb = np.exp(theta[0])
    ti = np.exp(theta[1]) if inner is not None else 0.0
    return {"beta": beta, "se": np.sqrt(np.diag(cov)), "var_block": float(tb * s2),
            "var_inner": float(ti * s2) if inner is not None else np.nan, "var_residual": float(s2),
            "boundary": bool(zero.any()), "converged": bool(best.success)}


def _mixed_did(df: pd.DataFrame) -> tuple[float, float, float, str]:
    """Wave × arm interaction of ``y ~ post * program + (1 | site) + (1 | site:respondent)`` (REML)."""
    post, prog = df["post"].to_numpy(float), df["program"].to_numpy(float)
    X = np.column_stack([np.ones(len(df)), post, prog, post * prog])
    fit = reml(df["y"].to_numpy(float), X, df["site"].to_numpy(), df["respondent_id"].to_numpy())
    est, se = fit["beta"][3], fit["se"][3]
    note = "a variance estimated as 0 (boundary)" if fit["boundary"] else ""
    return float(est), float(se), float(2 * stats.norm.sf(abs(est / se))), note


def _mixed_ancova(df: pd.DataFrame) -> tuple[float, float, float, str]:
    """Program coefficient of ``y1 ~ program + y0 + (1 | site)`` (REML)."""
    X = np.column_stack([np.ones(len(df)), df["program"].to_numpy(float), df["y0"].to_numpy(float)])
    fit = reml(df["y1"].to_numpy(float), X, df["site"].to_numpy())
    est, se = fit["beta"][1], fit["se"][1]
    note = "village variance estimated as 0 (boundary)" if fit["boundary"] else ""
    return float(est), float(se), float(2 * stats.norm.sf(abs(est / se))), note


def _row(dimension, kind, tie_type, method, est, se, lo, hi, p, g, g_prog, n, k, note=""):
    return {"dimension": dimension, "kind": kind, "tie_type": tie_type, "method": method, "estimate": est,
            "se": se, "ci_low": lo, "ci_high": hi, "p_val": p, "n_clusters": g, "n_program_clusters": g_prog,
            "n_obs": n, "n_assignments": k, "p_min": (1.0 / k) if k else np.nan, "note": note}


def _outcome_rows(long: pd.DataFrame, name: str, kind: str, tie_type: str, sites: list[str],
                  assign: np.ndarray, first: str, last: str, alpha: float, mixed: bool) -> list[dict]:
    """The four rows (did_mixed, did_ri, ancova_mixed, ancova_ri) of one respondent-level outcome."""
    d = long[long["wave"].isin([first, last]) & long["y"].notna()].copy()
    if d.empty:
        return []
    d["post"] = d["wave"] == last
    site_pos = {s: i for i, s in enumerate(sites)}
    prog = {s for s, a in zip(sites, assign[0]) if a}
    d["program"] = d["site"].isin(prog)
    rows = []
    g, gp, k = len(sites), int(assign[0].sum()), len(assign)
    y, post, sidx = d["y"].to_numpy(float), d["post"].to_numpy(bool), d["site"].map(site_pos).to_numpy()
    stat = did_cells(y, post, sidx, assign)
    shift = did_cells((post & d["program"].to_numpy()).astype(float), post, sidx, assign)
    def mixed_row(method: str, fit, data: pd.DataFrame) -> dict:
        """The mixed model's row (normal CI from its model SE), or a row saying it failed."""
        try:
            est, se, pm, note = fit(data)
        except (np.linalg.LinAlgError, ValueError) as exc:
            return _row(name, kind, tie_type, method, *[np.nan] * 5, g, gp, len(data), np.nan,
                        f"mixed model failed: {exc}")
        z = stats.norm.ppf(1 - alpha / 2)
        return _row(name, kind, tie_type, method, est, se, est - z * se, est + z * se, pm,
                    g, gp, len(data), np.nan, note)

    if mixed:
        rows.append(mixed_row("did_mixed", _mixed_did, d))
    p, lo, hi = ri_test(stat, shift, alpha)
    rows.append(_row(name, kind, tie_type, "did_ri", float(stat[0]), np.nan, lo, hi, p, g, gp, len(d), k))
    # ANCOVA on the panel (seen in both waves)
    w = d.pivot_table(index=["respondent_id", "site"], columns="wave", values="y", aggfunc="first").dropna()
    if first in w and last in w and len(w) > 3:
        w = w.reset_index()
        pa = w.assign(y0=w[first], y1=w[last], program=w["site"].isin(prog))
        ps = pa["site"].map(site_pos).to_numpy()
        stat_a = _ancova_coef(pa["y1"].to_numpy(float), pa["y0"].to_numpy(float), ps, assign)
        shift_a = _ancova_coef(pa["program"].to_numpy(float), pa["y0"].to_numpy(float), ps, assign)
        if mixed:
            rows.append(mixed_row("ancova_mixed", _mixed_ancova, pa))
        p, lo, hi = ri_test(stat_a, shift_a, alpha)
        rows.append(_row(name, kind, tie_type, "ancova_ri", float(stat_a[0]), np.nan, lo, hi, p, g, gp, len(pa), k))
    return rows


def _check_arms(arms: dict[str, str], sites) -> tuple[list[str], set[str]]:
    sites = sorted(set(map(str, sites)))
    missing = [s for s in sites if s not in arms]
    if missing:
        raise SinergiError(f"arms: site {missing[0]!r} has no arm (program or comparison)")
    prog = {s for s in sites if arms[s] == "program"}
    if not prog or len(prog) == len(sites):
        raise SinergiError("arms: a difference-in-differences needs at least one program and one comparison "
                           f"village among the data's sites ({', '.join(sites)})")
    return sites, prog


def did(scores: pd.DataFrame, arms: dict[str, str], waves: list[str], *, network_nodes: pd.DataFrame | None = None,
        network_whole: pd.DataFrame | None = None, mixing: pd.DataFrame | None = None, alpha: float = 0.05,
        draws: int = 2000, seed: int = 0, mixed: bool = True) -> pd.DataFrame:
    """Program vs comparison villages, first against last wave.

    Parameters
    ----------
    scores : DataFrame
        ``scores.csv`` (respondent_id, wave, site, dimension, score).
    arms : dict
        site → ``"program"`` / ``"comparison"`` (:meth:`pipeline.config.Study.site_arms`).
    waves : list of str
        The study's waves in order; the first and the last are compared.
    network_nodes, network_whole, mixing : DataFrame, optional
        The network stage's tables: individual indicators (degree, bridging, ei per tie type) and
        the village-level E-I, assortativity and cross-group share of ties.
    alpha, draws, seed
        CI level (1 − alpha), the most assignments enumerated before drawing, the draws' seed.
    mixed : bool
        Also fit the mixed models (False in simulations, where only the RI rows are needed).

    Returns
    -------
    DataFrame
        One row per outcome × method: ``dimension`` (a dimension, subscale, node indicator or
        village network outcome), ``kind`` (``scale``, ``node``, ``village``), ``tie_type``
        (network outcomes), ``method`` (``did_mixed``, ``did_ri``, ``ancova_mixed``, ``ancova_ri``,
        ``village_ri``), ``estimate``, ``se`` (model-based; NaN for RI), ``ci_low``, ``ci_high``
        (±inf when RI cannot bound it), ``p_val``, ``n_clusters`` (villages), ``n_program_clusters``,
        ``n_obs``, ``n_assignments`` (RI), ``p_min`` (the smallest reachable RI p), ``note``.

    Examples
    --------
    >>> import pandas as pd
    >>> sc = pd.DataFrame({"respondent_id": list("abcdefgh") * 2, "wave": ["pre"] * 8 + ["post"] * 8,
    ...     "site": list("AABBCCDD") * 2, "dimension": "trust",
    ...     "score": [3, 3, 3, 3, 3, 3, 3, 3, 4, 4, 3, 3, 3, 3, 3, 3.2]})
    >>> r = did(sc, {"A": "program", "B": "comparison", "C": "comparison", "D": "comparison"},
    ...         ["pre", "post"], mixed=False)
    >>> ri = r[r.method == "did_ri"].iloc[0]  # village A +1, B and C 0, D +0.1: 1 − 0.1/3
    >>> round(float(ri["estimate"]), 3), int(ri["n_assignments"]), float(ri["p_val"])
    (0.967, 4, 0.25)
    """
    sites, prog = _check_arms(arms, scores["site"])
    assign = assignments(sites, prog, draws, seed)
    first, last = waves[0], waves[-1]
    rows: list[dict] = []
    for dim in dict.fromkeys(scores["dimension"]):
        d = scores[scores["dimension"] == dim].rename(columns={"score": "y"})
        rows += _outcome_rows(d, dim, "scale", "", sites, assign, first, last, alpha, mixed)
    if network_nodes is not None and len(network_nodes):
        for tie_type in dict.fromkeys(network_nodes["tie_type"]):
            nn = network_nodes[network_nodes["tie_type"] == tie_type]
            for ind in NODE_INDICATORS:
                if ind in nn:
                    rows += _outcome_rows(nn.rename(columns={ind: "y"}), ind, "node", tie_type, sites, assign,
                                          first, last, alpha, mixed)
    if network_whole is not None and len(network_whole):
        vw = village_outcomes(network_whole, mixing)
        for (tie_type, outcome), v in vw.groupby(["tie_type", "outcome"], sort=False):
            rows += _village_rows(v, outcome, tie_type, sites, prog, first, last, alpha, draws, seed)
    out = pd.DataFrame(rows, columns=DID_COLUMNS)
    return out


def village_outcomes(network_whole: pd.DataFrame, mixing: pd.DataFrame | None = None) -> pd.DataFrame:
    """Long table site, wave, tie_type, outcome (ei, cross_share, assortativity), value.

    ``cross_share`` is the share of ties between groups, ``ties_between / (ties_between +
    ties_within)`` of ``network_whole``, NaN where E-I is (no ties, or one group only; ``mixing`` is
    accepted for symmetry with the network stage and not needed)."""
    w = network_whole[["site", "wave", "tie_type", "ei", "assortativity"]].copy()
    between = network_whole["ties_between"].astype(float)
    total = between + network_whole["ties_within"].astype(float)
    w["cross_share"] = (between / total.where(total > 0)).where(w["ei"].notna())
    long = w.melt(id_vars=["site", "wave", "tie_type"], value_vars=list(VILLAGE_OUTCOMES),
                  var_name="outcome", value_name="value")
    return long


def _village_rows(v: pd.DataFrame, outcome, tie_type, sites, prog, first, last, alpha, draws, seed) -> list[dict]:
    w = v.pivot_table(index="site", columns="wave", values="value", aggfunc="first")
    if first not in w or last not in w:
        return []
    change = (w[last] - w[first]).dropna()
    s_ok = [s for s in sites if s in change.index]
    p_ok = {s for s in s_ok if s in prog}
    if not p_ok or len(p_ok) == len(s_ok):
        return [_row(outcome, "village", tie_type, "village_ri", *[np.nan] * 5, len(s_ok), len(p_ok), 2 * len(s_ok),
                     0, "needs a program and a comparison village with both waves")]
    assign = assignments(s_ok, p_ok, draws, seed)
    c = change.reindex(s_ok).to_numpy(float)
    A = assign.astype(float)
    stat = A @ c / A.sum(1) - (1 - A) @ c / (1 - A).sum(1)
    t0 = assign[0].astype(float)
    shift = A @ t0 / A.sum(1) - (1 - A) @ t0 / (1 - A).sum(1)
    p, lo, hi = ri_test(stat, shift, alpha)
    return [_row(outcome, "village", tie_type, "village_ri", float(stat[0]), np.nan, lo, hi, p, len(s_ok), len(p_ok),
                 2 * len(s_ok), len(assign))]


def balance(scores: pd.DataFrame, respondents: pd.DataFrame, arms: dict[str, str], waves: list[str], *,
            group_values: list[str] | None = None, network_nodes: pd.DataFrame | None = None,
            draws: int = 2000, seed: int = 0) -> pd.DataFrame:
    """Baseline balance, program vs comparison villages (first wave).

    Returns
    -------
    DataFrame
        One row per variable (every score dimension and subscale; ``share_<level>`` of the second
        of ``group_values`` — the first level after the reference, with the study's
        :attr:`~pipeline.config.Study.model_levels`; the covariates in :data:`BALANCE_COVARIATES` the data has; ``degree_any``):
        ``variable``, ``mean_program``, ``mean_comparison``, ``difference``, ``sd_pooled``,
        ``smd`` (difference / pooled SD; |smd| > 0.25 is commonly read as imbalance), ``n_program``,
        ``n_comparison``, ``p_ri`` (randomization inference over villages on the difference of
        means), ``n_assignments``.
    """
    sites, prog = _check_arms(arms, respondents["site"])
    assign = assignments(sites, prog, draws, seed)
    first = waves[0]
    frames: dict[str, pd.DataFrame] = {}
    sc = scores[scores["wave"] == first]
    for dim in dict.fromkeys(sc["dimension"]):
        frames[dim] = sc.loc[sc["dimension"] == dim, ["site", "score"]].rename(columns={"score": "y"})
    r0 = respondents[respondents["wave"] == first]
    if group_values and len(group_values) > 1:
        frames[f"share_{group_values[1]}"] = r0.assign(y=(r0["group"] == group_values[1]).astype(float))[["site", "y"]]
    for col in BALANCE_COVARIATES:
        if col in r0 and pd.api.types.is_numeric_dtype(r0[col]):
            frames[col] = r0[["site", col]].rename(columns={col: "y"})
    if network_nodes is not None and len(network_nodes):
        nn = network_nodes[(network_nodes["wave"] == first) & (network_nodes["tie_type"] == "any")]
        if len(nn):
            frames["degree_any"] = nn[["site", "degree"]].rename(columns={"degree": "y"})
    pos = {s: i for i, s in enumerate(sites)}
    rows = []
    for var, f in frames.items():
        f = f.dropna()
        if f.empty:
            continue
        is_p = f["site"].isin(prog).to_numpy()
        yp, yc = f["y"][is_p], f["y"][~is_p]
        sd = np.sqrt((yp.var(ddof=1) + yc.var(ddof=1)) / 2) if len(yp) > 1 and len(yc) > 1 else np.nan
        diff = yp.mean() - yc.mean()
        sidx = f["site"].map(pos).to_numpy()
        y = f["y"].to_numpy(float)
        A = assign[:, sidx].astype(float)
        with np.errstate(invalid="ignore", divide="ignore"):
            stat = A @ y / A.sum(1) - (1 - A) @ y / (1 - A).sum(1)
        p = float(np.mean(np.abs(stat) >= abs(stat[0]) - 1e-10)) if np.isfinite(stat[0]) else np.nan
        rows.append({"variable": var, "mean_program": yp.mean(), "mean_comparison": yc.mean(), "difference": diff,
                     "sd_pooled": sd, "smd": diff / sd if sd and np.isfinite(sd) and sd > 0 else np.nan,
                     "n_program": len(yp), "n_comparison": len(yc), "p_ri": p, "n_assignments": len(assign)})
    return pd.DataFrame(rows, columns=BALANCE_COLUMNS)


def run(scores, respondents, arms, waves, *, network_nodes=None, network_whole=None, mixing=None,
        group_values=None, alpha=0.05, draws=2000, seed=0) -> dict[str, pd.DataFrame]:
    """``did`` and ``balance`` (empty frames with their columns when the study has no arms or one
    wave)."""
    if not arms or len(waves) < 2:
        return {"did": pd.DataFrame(columns=DID_COLUMNS), "balance": pd.DataFrame(columns=BALANCE_COLUMNS)}
    respondents = in_canonical_order("respondents", respondents, waves)  # one order, whatever the file's
    return {"did": did(scores, arms, waves, network_nodes=network_nodes, network_whole=network_whole, mixing=mixing,
                       alpha=alpha, draws=draws, seed=seed),
            "balance": balance(scores, respondents, arms, waves, group_values=group_values,
                               network_nodes=network_nodes, draws=draws, seed=seed)}
