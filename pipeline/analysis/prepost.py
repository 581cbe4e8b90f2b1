"""Before/after change in scale scores and network indicators.

Pure functions from the ``scores`` frame of :mod:`pipeline.analysis.scales` (and the respondents table, and
optionally the node table of the network stage) to tidy result frames; no file I/O. Every statistic
is checked against R in ``tests/analysis/test_prepost.py`` (reference script ``tests/r/reference.R``).

Methods (stated so the report can repeat them)
----------------------------------------------
* **Paired t** over respondents with a score in both waves (``t.test(post, pre, paired=TRUE)``);
  people with a score in only one of the two waves are counted in ``n_unmatched``, never paired.
* **Cohen's d_z** = mean(diff) / sd(diff) = t / sqrt(n) -- *not* pingouin's paired ``cohen_d``,
  which is d_avg = (mean_post - mean_pre) / sqrt((sd_pre^2 + sd_post^2) / 2). Its CI inverts the
  noncentral t: ncp_low, ncp_high solve ``P(T_{n-1, ncp} <= t_obs) = 1 - a/2`` and ``a/2``, and
  the CI is ncp / sqrt(n) (Steiger & Fouladi 1997; as ``effectsize::cohens_d(paired=TRUE)`` 0.8.3
  and MBESS ``conf.limits.nct``, but solved with a root finder to full precision).
* **Wilcoxon signed-rank** exactly as R's ``wilcox.test(post, pre, paired=TRUE)`` defaults:
  zero differences dropped; exact null distribution when fewer than 50 non-zero differences and no
  ties among their absolute values, otherwise the normal approximation with tie-corrected variance
  and continuity correction. ``W`` is R's ``V``: the sum of the ranks of the *positive* differences
  of post - pre. ``rank_biserial`` = (R+ - R-)/(R+ + R-) over the non-zero differences, positive
  when post > pre.
* **Holm**: :func:`holm`, R's ``p.adjust(p, "holm")`` (Holm's step-down Bonferroni; not
  Holm-Sidak, statsmodels' default) over the family of all dimensions in the table (overall scales,
  subscales and network indicators when present) within one group × wave pair; comparisons with
  identical scores (a dimension and its only subscale) count as one test.
* **Mixed model** ``score ~ C(wave, first wave) * C(group, first level) + (1 | respondent)``, REML,
  on every available score (attrition included). With more than one site, site gets a random
  intercept and respondents are nested in it (lme4: ``(1 | site) + (1 | site:respondent)``).
  Fitted by a dedicated REML (:func:`pipeline.analysis.reml.reml_fit`), not statsmodels ``MixedLM``: the marginal
  covariance is block-diagonal over sites, and inside a site it is the identity plus two rank-one
  layers (respondent, site), so its inverse and determinant are Sherman-Morrison updates and the
  REML criterion profiled over the residual variance (lme4's, Bates et al. 2015) and its
  gradient are sums of per-respondent column sums -- cost linear in respondents, no n × n
  matrix. The variance ratios are optimised by L-BFGS-B with bounds at 0 (a variance on its
  boundary is exactly 0; lme4 reports a singular fit with ~1e-10); fixed effects are the GLS
  estimates, their covariance ``var_residual (X' V^-1 X)^-1`` is lme4's ``vcov``, Wald CIs and p
  are normal. Checked against ``lme4::lmer(REML=TRUE)`` to 1e-6 (tests/r/reference.R,
  tests/r/nested.R); its deviance equals lme4's ``REMLcrit`` to 1e-9.
  When the respondent variance collapses to ~0 (< 1e-6 of the total; e.g. a negative
  within-person correlation) -- decided on that variance alone -- or the optimiser does not
  converge, the fixed effects are refit by OLS with respondent-clustered standard errors
  (as statsmodels ``cov_type="cluster"``: its default small-sample correction, normal inference;
  checked against it in the tests) and ``method`` says so.
  (statsmodels MixedLM, used before, could return between-person fixed effects of exactly 0 with
  ``converged`` True in that situation, statsmodels#10239, and took > 30 min at 10 villages.)
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from scipy import optimize, special, stats
from threadpoolctl import threadpool_limits

from ..order import in_canonical_order
from .reml import ols_cluster, reml_fit, site_units

__all__ = ["holm", "paired", "mixed", "dose_response", "collective", "run", "network_scores",
           "wilcoxon_signed_rank", "dz_ci", "descriptives", "standardized_change"]

def holm(p) -> np.ndarray:
    """Holm-adjusted p-values, as R's ``p.adjust(p, "holm")`` (no NaN in ``p``).

    ``p_(i) ↦ min(1, max_{j ≤ i} (n − j + 1) p_(j))`` over the p-values sorted ascending,
    returned in the input order. The same arithmetic as statsmodels'
    ``multipletests(p, method="holm")[1]`` (bit for bit), without its ``gc.collect()`` on
    every call (0.2–0.6 s per prepost run).

    Examples
    --------
    >>> holm([0.01, 0.04, 0.045]).round(3).tolist()
    [0.03, 0.08, 0.08]
    """
    p = np.asarray(p, dtype=float)
    order = np.argsort(p)
    adjusted = np.maximum.accumulate(p[order] * np.arange(len(p), 0, -1))
    adjusted[adjusted > 1] = 1
    out = np.empty_like(adjusted)
    out[order] = adjusted
    return out


PREPOST_COLUMNS = ["dimension", "kind", "group", "wave_pre", "wave_post", "n_pairs", "n_unmatched",
                   "mean_pre", "sd_pre", "mean_post", "sd_post", "diff", "sd_diff", "se_diff",
                   "diff_ci_low", "diff_ci_high", "t", "dof", "p_val", "p_holm", "d_z",
                   "d_z_ci_low", "d_z_ci_high", "W", "p_wilcoxon", "rank_biserial", "shapiro_p",
                   "n_gain", "pct_change"]
MIXED_COLUMNS = ["dimension", "kind", "term", "estimate", "se", "ci_low", "ci_high", "p_val",
                 "method", "d_z"]
DESCRIPTIVE_COLUMNS = ["dimension", "kind", "wave", "group", "n", "mean", "sd"]
DOSE_COLUMNS = ["dimension", "kind", "exposure", "n", "slope", "se", "ci_low", "ci_high", "p_val",
                "r", "wave_pre", "wave_post"]
COLLECTIVE_COLUMNS = ["claim", "wave", "n", "estimate", "ci_low", "ci_high", "p_val", "method",
                      "note", "exposure", "n_exposed", "n_unexposed", "missing"]
#: ``note`` codes of the collective table (the report's words: the catalogue's ``coll_note_<code>``)
COLLECTIVE_NOTES = ("association", "skipped_missing")
EXPOSURES = ["forum_meetings", "trainings_n"]
NETWORK_DIMENSIONS = {"network_degree": "degree", "network_bridging": "bridging",
                      "network_ei": "ei"}
#: the ``kind`` column of every table here: a scale dimension or subscale, or a network indicator
SCALE, NETWORK = "scale", "network"
ALL = "all"

#: ``method`` codes of the mixed-model table (the report's words: the catalogue's ``method_<code>``)
METHOD_MIXED = "mixedlm_reml"
METHOD_COLLAPSED = "ols_cluster_collapsed"  # OLS + cluster SE: the random-intercept variance collapsed
METHOD_NONCONV = "ols_cluster_nonconv"  # OLS + cluster SE: the mixed model did not converge
METHOD_SKIPPED = "skipped_too_few"  # scores in fewer than 2 waves or 3 respondents: not fitted
METHODS = (METHOD_MIXED, METHOD_COLLAPSED, METHOD_NONCONV, METHOD_SKIPPED)


# ---------------------------------------------------------------------------------------------
# building blocks
# ---------------------------------------------------------------------------------------------

def _signrank_cdf(n: int) -> np.ndarray:
    """``cdf[v] = P(V <= v)`` of the signed-rank statistic V for n untied non-zero differences."""
    counts = np.zeros(n * (n + 1) // 2 + 1)
    counts[0] = 1.0
    for k in range(1, n + 1):
        counts[k:] = counts[k:] + counts[:-k].copy()
    return np.cumsum(counts) / 2.0 ** n


def wilcoxon_signed_rank(diff: np.ndarray) -> tuple[float, float, float]:
    """Wilcoxon signed-rank test of paired differences, as R ``wilcox.test(paired=TRUE)`` defaults.

    Parameters
    ----------
    diff : array
        post - pre differences (NaN already removed).

    Returns
    -------
    (W, p, rank_biserial)
        ``W`` = R's ``V`` = sum of ranks of positive differences; two-sided ``p``; matched-pairs
        rank-biserial (R+ - R-)/(R+ + R-). Zero differences are dropped first; all NaN when no
        non-zero difference remains.
    """
    d = np.asarray(diff, dtype=float)
    d = d[d != 0]
    n = d.size
    if n == 0:
        return (np.nan, np.nan, np.nan)
    ranks = stats.rankdata(np.abs(d))
    r_plus = float(ranks[d > 0].sum())
    r_minus = float(ranks[d < 0].sum())
    rbc = (r_plus - r_minus) / (r_plus + r_minus)
    ties = np.unique(ranks).size != n
    if n < 50 and not ties and n == np.asarray(diff).size:
        cdf = _signrank_cdf(n)
        v = int(round(r_plus))
        if r_plus > n * (n + 1) / 4:
            p = 1.0 - cdf[v - 1]
        else:
            p = cdf[v]
        return (r_plus, float(min(2 * p, 1.0)), rbc)
    _, nties = np.unique(ranks, return_counts=True)
    sigma = math.sqrt(n * (n + 1) * (2 * n + 1) / 24 - np.sum(nties ** 3 - nties) / 48)
    z = r_plus - n * (n + 1) / 4
    z = (z - np.sign(z) * 0.5) / sigma
    p = 2 * min(stats.norm.cdf(z), stats.norm.sf(z))
    return (r_plus, float(min(p, 1.0)), rbc)


def dz_ci(t: float, n: int, alpha: float = 0.05) -> tuple[float, float]:
    """CI of d_z = t/sqrt(n) by inverting the noncentral t with df = n - 1.

    ncp_low solves ``P(T_{n-1, ncp} <= t) = 1 - alpha/2``, ncp_high solves ``= alpha/2``;
    the CI is ``(ncp_low, ncp_high) / sqrt(n)``. NaN when t is not finite or n < 2.
    """
    if n < 2 or not np.isfinite(t):
        return (np.nan, np.nan)
    df = n - 1

    def solve(target: float) -> float:
        def f(ncp: float) -> float:
            c = special.nctdtr(df, ncp, t)  # = stats.nct.cdf(t, df, ncp), without its checks
            if not np.isfinite(c):  # scipy's nct.cdf gives NaN far in the tails: use the limit
                c = 1.0 if ncp < t else 0.0
            return c - target

        # the ncp estimate has sd ~ sqrt(1 + t^2 / (2 df)); 10 of those brackets the root
        # without wandering where scipy's nct.cdf returns NaN
        width = 10 * math.sqrt(1 + t * t / (2 * df))
        lo, hi = t - width, t + width
        for _ in range(20):
            if f(lo) >= 0:
                break
            lo -= width
        for _ in range(20):
            if f(hi) <= 0:
                break
            hi += width
        return optimize.brentq(f, lo, hi, xtol=1e-13, rtol=1e-13, maxiter=500)

    return (solve(1 - alpha / 2) / math.sqrt(n), solve(alpha / 2) / math.sqrt(n))


def _paired_stats(pre: np.ndarray, post: np.ndarray, alpha: float) -> dict:
    n = pre.size
    nan = np.nan
    out = dict(n_pairs=n, mean_pre=nan, sd_pre=nan, mean_post=nan, sd_post=nan, diff=nan,
               sd_diff=nan, se_diff=nan, diff_ci_low=nan, diff_ci_high=nan, t=nan, dof=nan,
               p_val=nan, d_z=nan, d_z_ci_low=nan, d_z_ci_high=nan, W=nan, p_wilcoxon=nan,
               rank_biserial=nan, shapiro_p=nan)
    if n == 0:
        return out
    d = post - pre
    out.update(mean_pre=float(pre.mean()), mean_post=float(post.mean()), diff=float(d.mean()))
    if n < 2:
        return out
    out.update(sd_pre=float(pre.std(ddof=1)), sd_post=float(post.std(ddof=1)), dof=float(n - 1))
    sd = float(d.std(ddof=1))
    se = sd / math.sqrt(n)
    q = stats.t.ppf(1 - alpha / 2, n - 1)
    out.update(sd_diff=sd, se_diff=se, diff_ci_low=out["diff"] - q * se,
               diff_ci_high=out["diff"] + q * se)
    if sd > 0:
        t = out["diff"] / se
        lo, hi = dz_ci(t, n, alpha)
        out.update(t=t, p_val=float(2 * stats.t.sf(abs(t), n - 1)), d_z=out["diff"] / sd,
                   d_z_ci_low=lo, d_z_ci_high=hi)
    w, pw, rbc = wilcoxon_signed_rank(d)
    out.update(W=w, p_wilcoxon=pw, rank_biserial=rbc)
    if n >= 3 and np.ptp(d) > 0:
        out["shapiro_p"] = float(stats.shapiro(d).pvalue)
    return out


def _kinds(scores: pd.DataFrame) -> dict[str, str]:
    """dimension → kind: the scores' ``kind`` column (:func:`run` sets it), else ``"scale"``."""
    if "kind" not in scores.columns:
        return {str(d): SCALE for d in pd.unique(scores["dimension"])}
    k = scores[["dimension", "kind"]].drop_duplicates("dimension")
    return dict(zip(k["dimension"].astype(str), k["kind"].fillna(SCALE).astype(str)))


def _in_order(present, levels: list[str] | None) -> list[str]:
    """The groups in ``present`` in the order of ``levels`` (the study's), others after them sorted.

    >>> _in_order(["caffeine", "placebo", "x"], ["placebo", "caffeine"])
    ['placebo', 'caffeine', 'x']
    """
    present = {str(g) for g in present}
    known = [str(g) for g in (levels or []) if str(g) in present]
    return known + sorted(present - set(known))


def _person_groups(scores: pd.DataFrame, waves: list[str]) -> pd.Series:
    """Group of each respondent: the group on their earliest wave row."""
    order = {w: i for i, w in enumerate(waves)}
    s = scores[["respondent_id", "wave", "group"]].drop_duplicates(["respondent_id", "wave"])
    s = s.assign(_o=s["wave"].map(order)).sort_values(["respondent_id", "_o"])
    return s.drop_duplicates("respondent_id").set_index("respondent_id")["group"].astype(str)


# ---------------------------------------------------------------------------------------------
# public API
# ---------------------------------------------------------------------------------------------

def _paired_rows(sc: pd.DataFrame, waves: list[str], groups: pd.Series, levels: list[str], kinds: dict[str, str],
                 alpha: float, scale_max: dict[str, float]) -> list[dict]:
    """The rows of :func:`paired` (without ``p_holm``): every later wave × dimension × group."""
    rows = []
    for wave_post in waves[1:]:
        for dim in pd.unique(sc["dimension"]):
            wide = (sc[(sc["dimension"] == dim) & sc["wave"].isin([waves[0], wave_post])]
                    .pivot_table(index="respondent_id", columns="wave", values="score",
                                 aggfunc="first", dropna=False)
                    .reindex(columns=[waves[0], wave_post]))
            for grp in [ALL, *levels]:
                part = wide if grp == ALL else wide[groups.reindex(wide.index).eq(grp).to_numpy()]
                pre, post = part[waves[0]].to_numpy(float), part[wave_post].to_numpy(float)
                both = ~np.isnan(pre) & ~np.isnan(post)
                one = np.isnan(pre) ^ np.isnan(post)
                row = {"dimension": dim, "kind": kinds[str(dim)], "group": grp,
                       "wave_pre": waves[0], "wave_post": wave_post, "n_unmatched": int(one.sum())}
                row.update(_paired_stats(pre[both], post[both], alpha))
                mp, mq = row["mean_pre"], row["mean_post"]
                top = scale_max.get(dim, np.nan)
                row["n_gain"] = ((mq - mp) / (top - mp)
                                 if np.isfinite(top) and np.isfinite(mp) and top != mp else np.nan)
                row["pct_change"] = (mq - mp) / mp * 100 if np.isfinite(mp) and mp > 0 else np.nan
                rows.append(row)
    return rows


def _holm_by_family(out: pd.DataFrame) -> pd.Series:
    """Holm-adjusted ``p_val`` within each group × later wave (NaN where ``p_val`` is), ``out``'s index.

    One test per distinct comparison: a dimension whose only subscale is itself (or two scales
    with the very same scores) is one test, not two."""
    p_holm = pd.Series(np.nan, index=out.index)
    same = ["n_pairs", "mean_pre", "mean_post", "sd_pre", "sd_post", "t"]
    for _, idx in out.groupby(["group", "wave_post"], sort=False).groups.items():
        fam = out.loc[idx]
        fam = fam[fam["p_val"].notna()]
        if not len(fam):
            continue
        key = fam[same].round(12).astype(str).agg("|".join, axis=1)
        first = ~key.duplicated()
        adj = pd.Series(holm(fam.loc[first, "p_val"].to_numpy()), index=key[first].to_numpy())
        p_holm.loc[fam.index] = key.map(adj).to_numpy()
    return p_holm


def paired(scores: pd.DataFrame, waves: list[str], alpha: float = 0.05,
           scale_max: dict[str, float] | None = None, levels: list[str] | None = None) -> pd.DataFrame:
    """Paired before/after statistics per dimension and group, every later wave vs the first.

    Parameters
    ----------
    scores : pandas.DataFrame
        Columns ``respondent_id``, ``wave``, ``group``, ``dimension``, ``score`` (as
        :func:`pipeline.analysis.scales.score`), optionally ``kind`` (``scale`` | ``network``,
        default ``scale``); extra columns ignored.
    waves : list of str
        Ordered wave ids; ``waves[0]`` is the baseline.
    alpha : float
        1 - confidence level of the CIs (default 0.05 -> 95%).
    scale_max : dict, optional
        Scale maximum per dimension, for the normalized gain; dimensions not in it get
        ``n_gain`` NaN (e.g. network indicators).
    levels : list of str, optional
        The study's group levels in its order (the rows' order); groups not in it follow, sorted.

    Returns
    -------
    pandas.DataFrame
        One row per dimension × group (``"all"`` first, then each level in ``levels`` order) × later wave:

        - ``dimension``, ``kind`` (``scale`` | ``network``), ``group``, ``wave_pre``
          (baseline), ``wave_post``
        - ``n_pairs`` : respondents with a non-NaN score in both waves (the analysed pairs)
        - ``n_unmatched`` : respondents with a non-NaN score in exactly one of the two waves
        - ``mean_pre``, ``sd_pre``, ``mean_post``, ``sd_post`` : over the pairs (sd ddof=1)
        - ``diff`` : mean(post - pre); ``sd_diff`` : sd(post - pre) (ddof=1); ``se_diff`` :
          ``sd_diff / sqrt(n_pairs)``, the t test's standard error; ``diff_ci_low``,
          ``diff_ci_high`` : its t CI
        - ``t``, ``dof`` (n_pairs - 1), ``p_val`` : paired t test, two-sided
        - ``p_holm`` : Holm-adjusted ``p_val`` over all dimensions in the same group × wave pair
          (identical comparisons counted once)
        - ``d_z`` : mean(diff)/sd(diff); ``d_z_ci_low``, ``d_z_ci_high`` : noncentral-t CI
        - ``W`` : Wilcoxon signed-rank statistic, R's ``V`` (sum of ranks of positive diffs)
        - ``p_wilcoxon`` : its two-sided p (exact or normal approximation, as R's default)
        - ``rank_biserial`` : matched-pairs rank-biserial correlation, > 0 when post > pre
        - ``shapiro_p`` : Shapiro-Wilk p of the differences (NaN when n_pairs < 3 or all
          differences equal)
        - ``n_gain`` : Hake normalized gain ``(mean_post - mean_pre) / (scale_max - mean_pre)``
          (NaN without a scale max or when mean_pre equals it)
        - ``pct_change`` : ``(mean_post - mean_pre) / mean_pre * 100`` (NaN when mean_pre <= 0,
          e.g. for the E-I index, where a percentage is meaningless)

    Notes
    -----
    Edge cases give defined rows: ``n_pairs`` 0 -> all statistics NaN; ``n_pairs`` 1 -> means
    and ``diff`` only; identical differences (sd(diff) = 0) -> ``t``, ``p_val``, ``d_z`` and its
    CI NaN, while ``W``/``p_wilcoxon`` are computed from the non-zero differences (NaN when every
    difference is 0, since R drops zeros). A respondent's group is the group on their earliest
    row.

    Examples
    --------
    Three people, post − pre = 1, 2, 0 (R: ``sd(post - pre)`` = 1, ``t.test(post, pre,
    paired=TRUE)$stderr`` = 1/√3):

    >>> sc = pd.DataFrame({"respondent_id": list("abc") * 2, "wave": ["pre"] * 3 + ["post"] * 3,
    ...                    "group": "lokal", "dimension": "trust", "score": [3, 2, 4, 4, 4, 4]})
    >>> r = paired(sc, ["pre", "post"]).iloc[0]
    >>> r["kind"], *(round(float(r[c]), 4) for c in ("diff", "sd_diff", "se_diff", "t"))
    ('scale', 1.0, 1.0, 0.5774, 1.7321)
    """
    waves = [str(w) for w in waves]
    sc = _paired_input(scores)
    groups = _person_groups(sc, waves)
    levels = _in_order(groups.unique(), levels)
    return _paired_table(_paired_rows(sc, waves, groups, levels, _kinds(scores), alpha, scale_max or {}))


def _paired_input(scores: pd.DataFrame) -> pd.DataFrame:
    """The columns :func:`paired` uses, ids and waves as text."""
    sc = scores[["respondent_id", "wave", "group", "dimension", "score"]].copy()
    sc["respondent_id"] = sc["respondent_id"].astype(str)
    sc["wave"] = sc["wave"].astype(str)
    return sc


def _paired_table(rows: list[dict]) -> pd.DataFrame:
    """:func:`paired`'s frame from its rows (later wave, dimension and group in order): ``p_holm`` added."""
    out = pd.DataFrame(rows, columns=[c for c in PREPOST_COLUMNS])
    out["p_holm"] = _holm_by_family(out)
    out["n_pairs"] = out["n_pairs"].astype(int)
    out["n_unmatched"] = out["n_unmatched"].astype(int)
    return out[PREPOST_COLUMNS]


def _design(df: pd.DataFrame, waves: list[str], levels: list[str]) -> tuple[np.ndarray, list[str]]:
    """Treatment-coded design: intercept, wave[w], group[g], wave[w]:group[g]."""
    cols, names = [np.ones(len(df))], ["intercept"]
    wd = [(f"wave[{w}]", (df["wave"] == w).to_numpy(float)) for w in waves[1:]]
    gd = [(f"group[{g}]", (df["group"] == g).to_numpy(float)) for g in levels[1:]]
    for name, col in wd + gd:
        names.append(name)
        cols.append(col)
    for wn, wc in wd:
        for gn, gc in gd:
            names.append(f"{wn}:{gn}")
            cols.append(wc * gc)
    x = np.column_stack(cols)
    keep = [j for j in range(x.shape[1]) if j == 0 or x[:, j].any()]
    return x[:, keep], [names[j] for j in keep]


def _fit_one(df: pd.DataFrame, waves: list[str], levels: list[str], multi_site: bool) -> list[dict]:
    x, names = _design(df, waves, levels)
    y = df["score"].to_numpy(float)
    z = stats.norm.ppf(0.975)
    rows: list[dict] = []
    if multi_site:
        site = pd.factorize(df["site"])[0]
        unit = site_units(df["site"], df["respondent_id"])  # site:respondent
    else:
        site, unit = None, pd.factorize(df["respondent_id"])[0]
    try:
        res = reml_fit(y, x, unit, site)
    except (np.linalg.LinAlgError, ValueError):  # pragma: no cover - degenerate design
        res = None
    collapsed = False
    if res is not None:
        var_resp, scale = res["var_resp"], res["scale"]
        # decided on the variance component alone (statsmodels#10239 showed up as fixed effects
        # of exactly 0; this REML has no such failure, and a true 0 estimate is no symptom)
        collapsed = var_resp <= 1e-6 * (var_resp + scale)
    if res is None or collapsed:
        method = METHOD_NONCONV if res is None else METHOD_COLLAPSED
        est, cov = ols_cluster(y, x, pd.factorize(df["respondent_id"])[0])
        se = np.sqrt(np.diag(cov))
        with np.errstate(invalid="ignore", divide="ignore"):  # a term without variation: se 0, p NaN
            pv = 2 * stats.norm.sf(np.abs(est / se))
        ci = np.column_stack([est - z * se, est + z * se])
    else:
        method = METHOD_MIXED
        est = res["beta"]
        se = np.sqrt(np.diag(res["cov"]))
        pv = 2 * stats.norm.sf(np.abs(est / se))
        ci = np.column_stack([est - z * se, est + z * se])
    for j, name in enumerate(names):
        rows.append({"term": name, "estimate": float(est[j]), "se": float(se[j]),
                     "ci_low": float(ci[j, 0]), "ci_high": float(ci[j, 1]), "p_val": float(pv[j]),
                     "method": method})
    if res is not None:
        rows.append({"term": "var_respondent", "estimate": res["var_resp"], "method": method})
        if multi_site:
            rows.append({"term": "var_site", "estimate": res["var_site"], "method": method})
        rows.append({"term": "var_residual", "estimate": res["scale"], "method": method})
    return rows


def mixed(scores: pd.DataFrame, respondents: pd.DataFrame, waves: list[str],
          levels: list[str] | None = None) -> pd.DataFrame:
    """Linear mixed model ``score ~ wave * group + (1 | respondent)`` per dimension.

    Parameters
    ----------
    scores : pandas.DataFrame
        As :func:`pipeline.analysis.scales.score` (``respondent_id``, ``wave``, ``group``, ``site``,
        ``dimension``, ``score``); rows with NaN score are dropped, everyone else is used
        (respondents seen in one wave only included).
    respondents : pandas.DataFrame
        The respondents table; more than one distinct ``site`` adds a site random intercept with
        respondents nested in sites (lme4 ``(1 | site) + (1 | site:respondent)``).
    waves : list of str
        Ordered wave ids; the first is the reference level of ``wave``.
    levels : list of str, optional
        The group levels, the reference level of ``group`` first (the study's
        :attr:`~pipeline.config.Study.model_levels`); a level absent from a dimension's data is
        skipped (the next one is the reference); groups not in it follow, sorted. Without it the
        reference is the first in sorted order.

    Returns
    -------
    pandas.DataFrame
        One row per dimension × term:

        - ``dimension``, ``kind`` (``scale`` | ``network``)
        - ``term`` : ``"intercept"``, ``"wave[post]"``, ``"group[pendatang]"``,
          ``"wave[post]:group[pendatang]"`` (treatment coding), then ``"var_respondent"``
          (random-intercept variance), ``"var_site"`` (multi-site only) and ``"var_residual"``
          (variance rows: ``estimate`` only)
        - ``estimate``, ``se`` : fixed effect and its standard error
        - ``ci_low``, ``ci_high`` : 95% Wald CI (normal, for the REML fit and for the OLS
          fallback alike, as statsmodels' cluster-robust default)
        - ``p_val`` : Wald p value
        - ``method`` : a code (:data:`METHODS`): ``"mixedlm_reml"`` (the REML fit; the name is
          kept for existing tables); ``"ols_cluster_collapsed"`` (OLS with cluster SE) when the
          respondent variance is ~0 (< 1e-6 of respondent + residual); ``"ols_cluster_nonconv"``
          when the mixed model did not converge; or ``"skipped_too_few"`` (scores in fewer than 2
          waves or 3 respondents: one row, NaN statistics)
        - ``d_z`` : NaN here; :func:`standardized_change` fills it for the change terms

    Notes
    -----
    Cost is linear in the number of rows and respondents (one pass of per-respondent sums, then
    O(respondents × p²) per optimiser step); 100,000 rows fit in well under a second.
    """
    multi_site = respondents["site"].nunique() > 1 if "site" in respondents else False
    return pd.DataFrame(_mixed_rows(scores, waves, multi_site, levels), columns=MIXED_COLUMNS)


def _mixed_rows(scores: pd.DataFrame, waves: list[str], multi_site: bool, levels: list[str] | None) -> list[dict]:
    """The rows of :func:`mixed` (``multi_site``: the respondents table has more than one site)."""
    waves = [str(w) for w in waves]
    kinds = _kinds(scores)
    sc = scores.dropna(subset=["score"]).copy()
    for c in ("respondent_id", "wave", "group", "site"):
        sc[c] = sc[c].astype(str)
    sc = sc[sc["wave"].isin(waves)]
    out = []
    parts = dict(tuple(sc.groupby("dimension", sort=False, observed=True)))  # one pass, not one per dimension
    with threadpool_limits(1):  # p × p algebra: BLAS threads only spin (10x slower on a busy machine)
        for dim in pd.unique(scores["dimension"]):
            rows = _mixed_dimension(dim, parts.get(dim, sc.iloc[:0]), waves, multi_site, levels)
            out.extend({**r, "kind": kinds[str(dim)]} for r in rows)
    return out


def _mixed_dimension(dim, df: pd.DataFrame, waves: list[str], multi_site: bool,
                     levels: list[str] | None = None) -> list[dict]:
    """The rows of :func:`mixed` for one dimension."""
    df = df.reset_index(drop=True)
    present = [w for w in waves if (df["wave"] == w).any()]
    if len(present) < 2 or df["respondent_id"].nunique() < 3:
        return [{"dimension": dim, "term": np.nan,
                 "method": METHOD_SKIPPED}]
    levels = _in_order(df["group"].unique(), levels)
    return [{"dimension": dim, **r}
            for r in _fit_one(df, present, levels, multi_site and df["site"].nunique() > 1)]


def _change(scores: pd.DataFrame, waves: list[str], wave_post: str) -> pd.DataFrame:
    wide = (scores[scores["wave"].isin([waves[0], wave_post])]
            .pivot_table(index=["dimension", "respondent_id"], columns="wave", values="score",
                         aggfunc="first", dropna=False)
            .reindex(columns=[waves[0], wave_post]))
    return (wide[wave_post] - wide[waves[0]]).dropna().rename("change").reset_index()


def _ols_slope(x: np.ndarray, y: np.ndarray) -> dict:
    n = x.size
    out = dict(n=n, slope=np.nan, se=np.nan, ci_low=np.nan, ci_high=np.nan, p_val=np.nan,
               r=np.nan)
    if n < 3 or np.ptp(x) == 0:
        return out
    lr = stats.linregress(x, y)
    q = stats.t.ppf(0.975, n - 2)
    out.update(slope=float(lr.slope), se=float(lr.stderr), ci_low=lr.slope - q * lr.stderr,
               ci_high=lr.slope + q * lr.stderr, p_val=float(lr.pvalue),
               r=float(lr.rvalue) if np.ptp(y) > 0 else np.nan)
    return out


def dose_response(scores: pd.DataFrame, respondents: pd.DataFrame,
                  waves: list[str]) -> pd.DataFrame:
    """Change in score regressed on program exposure (an association, not a causal effect).

    For each later wave, dimension and exposure column present in ``respondents``
    (``forum_meetings``, ``trainings_n``): OLS ``change ~ exposure`` over respondents with a score
    in both the baseline and that wave, ``change = score[wave_post] - score[wave_pre]`` and the
    exposure taken from the respondent's ``wave_post`` row. A missing exposure column gives no rows.

    Returns
    -------
    pandas.DataFrame
        - ``dimension``, ``kind`` (``scale`` | ``network``), ``exposure``
        - ``n`` : respondents used
        - ``slope``, ``se`` : OLS slope (change per unit of exposure) and its standard error
        - ``ci_low``, ``ci_high`` : 95% t CI of the slope (df = n - 2)
        - ``p_val`` : two-sided t test of slope = 0
        - ``r`` : Pearson correlation of change and exposure
        - ``wave_pre``, ``wave_post`` : the waves compared
        (statistics NaN when n < 3 or the exposure does not vary)
    """
    rs = respondents.assign(respondent_id=respondents["respondent_id"].astype(str),
                            wave=respondents["wave"].astype(str))
    return pd.DataFrame(_dose_rows(scores, _exposures(rs, waves), waves), columns=DOSE_COLUMNS)


def _exposures(rs: pd.DataFrame, waves: list[str]) -> dict[str, dict[str, pd.Series]]:
    """Later wave → exposure column → each respondent's exposure on their row of that wave (numeric;
    ``rs``: the respondents, ids and waves as text). Only the exposure columns ``rs`` has."""
    out = {}
    for wave_post in [str(w) for w in waves][1:]:
        expo = rs[rs["wave"] == wave_post].drop_duplicates("respondent_id").set_index("respondent_id")
        out[wave_post] = {e: pd.to_numeric(expo[e], errors="coerce") for e in EXPOSURES if e in rs.columns}
    return out


def _dose_rows(scores: pd.DataFrame, exposures: dict, waves: list[str]) -> list[dict]:
    """The rows of :func:`dose_response` (``exposures``: :func:`_exposures`)."""
    waves = [str(w) for w in waves]
    kinds = _kinds(scores)
    sc = scores.assign(respondent_id=scores["respondent_id"].astype(str),
                       wave=scores["wave"].astype(str))
    rows = []
    for wave_post in waves[1:]:
        ch = _change(sc, waves, wave_post)
        for exposure, ex in exposures[wave_post].items():
            for dim in pd.unique(scores["dimension"]):
                d = ch[ch["dimension"] == dim]
                x = ex.reindex(d["respondent_id"]).to_numpy(float)
                y = d["change"].to_numpy(float)
                ok = ~np.isnan(x) & ~np.isnan(y)
                rows.append({"dimension": dim, "kind": kinds[str(dim)], "exposure": exposure,
                             **_ols_slope(x[ok], y[ok]),
                             "wave_pre": waves[0], "wave_post": wave_post})
    return rows


def _welch(y1: np.ndarray, y0: np.ndarray) -> tuple[float, float, float, float]:
    if y1.size < 2 or y0.size < 2 or (np.ptp(y1) == 0 and np.ptp(y0) == 0):
        est = y1.mean() - y0.mean() if y1.size and y0.size else np.nan
        return (float(est), np.nan, np.nan, np.nan)
    res = stats.ttest_ind(y1, y0, equal_var=False)
    ci = res.confidence_interval(0.95)
    return (float(y1.mean() - y0.mean()), float(ci.low), float(ci.high), float(res.pvalue))


def collective(respondents: pd.DataFrame, waves: list[str]) -> pd.DataFrame:
    """The literature review's claims about collective action, as per-wave associations.

    (a) ``joint_purchasing_input_cost_ratio``: mean of ``input_costs / revenue`` among joint
    purchasers minus non-purchasers (rows with revenue > 0 and both values present);
    (b) ``collective_brand_digital_channels``: mean ``digital_channels_n`` among collective-brand
    sellers minus the others. Both: Welch two-sample t (unequal variances), 95% CI, two-sided p
    (R ``t.test(y[x == 1], y[x == 0])``). Cross-sectional associations, not program effects.

    Returns
    -------
    pandas.DataFrame
        One row per claim × wave:

        - ``claim``, ``wave``
        - ``n`` : respondents used (both groups)
        - ``estimate`` : difference in means (exposed - not exposed)
        - ``ci_low``, ``ci_high``, ``p_val`` : Welch CI and p (NaN with fewer than 2 per group)
        - ``method`` : what was compared
        - ``note`` : a code (:data:`COLLECTIVE_NOTES`): ``association`` (an association, not a
          cause); a claim whose columns are missing gets one row with ``wave`` NaN and ``note``
          ``skipped_missing``
        - ``exposure`` : the 1/0 practice compared (``joint_purchasing``, ``collective_brand``)
        - ``n_exposed``, ``n_unexposed`` : respondents with it 1 and 0
        - ``missing`` : the columns missing (comma-separated) for a skipped claim
    """
    claims = [
        ("joint_purchasing_input_cost_ratio", "joint_purchasing", ["input_costs", "revenue"],
         "welch_t: mean(input_costs/revenue) joint_purchasing=1 minus =0"),
        ("collective_brand_digital_channels", "collective_brand", ["digital_channels_n"],
         "welch_t: mean(digital_channels_n) collective_brand=1 minus =0"),
    ]
    rs = respondents.assign(wave=respondents["wave"].astype(str))
    rows = []
    for claim, xcol, ycols, method in claims:
        missing = [c for c in [xcol, *ycols] if c not in rs.columns]
        if missing:
            rows.append({"claim": claim, "wave": np.nan, "n": 0, "method": method,
                         "note": "skipped_missing", "exposure": xcol, "missing": ",".join(missing)})
            continue
        for wave in [str(w) for w in waves]:
            part = rs[rs["wave"] == wave]
            x = pd.to_numeric(part[xcol], errors="coerce")
            if len(ycols) == 2:
                cost = pd.to_numeric(part[ycols[0]], errors="coerce")
                rev = pd.to_numeric(part[ycols[1]], errors="coerce")
                y = (cost / rev).where(rev > 0)
            else:
                y = pd.to_numeric(part[ycols[0]], errors="coerce")
            ok = x.isin([0, 1]) & y.notna()
            y1 = y[ok & (x == 1)].to_numpy(float)
            y0 = y[ok & (x == 0)].to_numpy(float)
            est, lo, hi, p = _welch(y1, y0)
            rows.append({"claim": claim, "wave": wave, "n": int(ok.sum()), "estimate": est,
                         "ci_low": lo, "ci_high": hi, "p_val": p, "method": method,
                         "note": "association", "exposure": xcol, "n_exposed": y1.size,
                         "n_unexposed": y0.size, "missing": ""})
    return pd.DataFrame(rows, columns=COLLECTIVE_COLUMNS)


def descriptives(scores: pd.DataFrame, waves: list[str], levels: list[str] | None = None) -> pd.DataFrame:
    """Each dimension's scores per wave and group: everyone with a score in that wave (not only pairs).

    Parameters
    ----------
    scores : pandas.DataFrame
        ``respondent_id``, ``wave``, ``group``, ``dimension``, ``score``, optionally ``kind``.
    waves : list of str
        Ordered wave ids (the rows' order).
    levels : list of str, optional
        The groups after ``"all"`` (default: the groups of ``scores``, sorted).

    Returns
    -------
    pandas.DataFrame
        One row per dimension × wave × group (``"all"`` first, then each level present):
        ``dimension``, ``kind``, ``wave``, ``group``, ``n`` (respondents with a score), ``mean``,
        ``sd`` (ddof=1; NaN below two scores).

    Examples
    --------
    >>> sc = pd.DataFrame({"respondent_id": list("abc"), "wave": "pre", "group": ["x", "x", "y"],
    ...                    "dimension": "trust", "score": [2.0, 4.0, np.nan]})
    >>> descriptives(sc, ["pre"])[["group", "n", "mean", "sd"]].values.tolist()
    [['all', 2, 3.0, 1.4142135623730951], ['x', 2, 3.0, 1.4142135623730951], ['y', 0, nan, nan]]
    """
    return pd.DataFrame(_descriptive_rows(scores, waves, levels), columns=DESCRIPTIVE_COLUMNS)


def _group_labels(scores: pd.DataFrame) -> list[str]:
    """The distinct groups of ``scores`` as text (:func:`descriptives`' default levels, unsorted)."""
    return list(scores["group"].astype(str).unique())


def _descriptive_rows(scores: pd.DataFrame, waves: list[str], levels: list[str] | None) -> list[dict]:
    """The rows of :func:`descriptives`."""
    kinds = _kinds(scores)
    sc = scores.assign(wave=scores["wave"].astype(str), group=scores["group"].astype(str))
    levels = sorted(_group_labels(scores)) if levels is None else levels
    rows = []
    for dim in pd.unique(sc["dimension"]):
        part = sc[sc["dimension"] == dim]
        for w in [str(x) for x in waves]:
            pw = part[part["wave"] == w]
            for g in [ALL, *levels]:
                v = (pw if g == ALL else pw[pw["group"] == g])["score"].dropna().to_numpy(float)
                rows.append({"dimension": dim, "kind": kinds[str(dim)], "wave": w, "group": g, "n": int(v.size),
                             "mean": float(v.mean()) if v.size else np.nan,
                             "sd": float(v.std(ddof=1)) if v.size > 1 else np.nan})
    return rows


def standardized_change(mixed_models: pd.DataFrame, prepost: pd.DataFrame) -> pd.DataFrame:
    """``mixed_models`` with ``d_z``: a change term's estimate in SD units of the paired differences.

    For the terms ``wave[w]`` (the change in the reference group) and ``wave[w]:group[g]`` (the
    difference in change), ``d_z = estimate / sd_diff``, where ``sd_diff`` is the SD of everyone's
    paired differences of that dimension between the first wave and ``w`` (:func:`paired`, group
    ``all``): the unit of Cohen's d_z, so the study's smallest meaningful change applies to both.
    Other terms, and a dimension without pairs, get NaN.

    Returns
    -------
    pandas.DataFrame
        ``mixed_models``' columns (:data:`MIXED_COLUMNS`), ``d_z`` filled.
    """
    out = mixed_models.copy()
    sd = prepost[prepost["group"].astype(str) == ALL].set_index(["dimension", "wave_post"])["sd_diff"]
    term = out["term"].astype(str)
    wave = term.str.extract(r"^wave\[(.+?)\](?::group\[.+\])?$")[0]
    key = pd.MultiIndex.from_arrays([out["dimension"].astype(str), wave.fillna("")])
    sd = sd[~sd.index.duplicated()]
    sd.index = pd.MultiIndex.from_arrays([sd.index.get_level_values(0).astype(str),
                                          sd.index.get_level_values(1).astype(str)])
    denom = sd.reindex(key).to_numpy(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        d = pd.to_numeric(out["estimate"], errors="coerce").to_numpy(float) / denom
    out["d_z"] = np.where(wave.notna().to_numpy() & np.isfinite(d), d, np.nan)
    return out[MIXED_COLUMNS]


def network_scores(network_nodes: pd.DataFrame, respondents: pd.DataFrame) -> pd.DataFrame:
    """Node indicators (tie_type ``"any"``) reshaped like the scores frame.

    Returns
    -------
    pandas.DataFrame
        ``respondent_id``, ``wave``, ``group``, ``site``, ``dimension`` (``network_degree``,
        ``network_bridging``, ``network_ei``), ``kind`` (``"network"``), ``score`` (the
        indicator; NaN E-I for isolates), ``n_items`` and ``n_answered`` (NaN). Group and site
        come from ``respondents`` when the respondent × wave is there, else from the node table.
    """
    nodes = network_nodes[network_nodes["tie_type"].astype(str) == "any"].copy()
    nodes["respondent_id"] = nodes["respondent_id"].astype(str)
    nodes["wave"] = nodes["wave"].astype(str)
    key = respondents.assign(respondent_id=respondents["respondent_id"].astype(str),
                             wave=respondents["wave"].astype(str)).set_index(
        ["respondent_id", "wave"])[["group", "site"]]
    idx = pd.MultiIndex.from_frame(nodes[["respondent_id", "wave"]])
    for c in ("group", "site"):
        fallback = nodes[c] if c in nodes.columns else pd.Series(np.nan, index=nodes.index)
        nodes[c] = key[c].reindex(idx).to_numpy()
        nodes[c] = nodes[c].where(nodes[c].notna(), fallback).astype(str)
    parts = []
    for dim, col in NETWORK_DIMENSIONS.items():
        if col not in nodes.columns:
            continue
        parts.append(pd.DataFrame({
            "respondent_id": nodes["respondent_id"], "wave": nodes["wave"],
            "group": nodes["group"], "site": nodes["site"], "dimension": dim, "kind": NETWORK,
            "score": pd.to_numeric(nodes[col], errors="coerce").astype(float),
            "n_items": np.nan, "n_answered": np.nan}))
    cols = ["respondent_id", "wave", "group", "site", "dimension", "kind", "score", "n_items",
            "n_answered"]
    return pd.concat(parts, ignore_index=True)[cols] if parts else pd.DataFrame(columns=cols)


def run(scores: pd.DataFrame, respondents: pd.DataFrame, waves: list[str], alpha: float = 0.05,
        network_nodes: pd.DataFrame | None = None,
        scale_map: pd.DataFrame | None = None, levels: list[str] | None = None,
        reference: str | None = None) -> dict[str, pd.DataFrame]:
    """All before/after analyses.

    Parameters
    ----------
    scores : pandas.DataFrame
        From :func:`pipeline.analysis.scales.score`.
    respondents : pandas.DataFrame
        Canonical respondents table (covariates optional).
    waves : list of str
        Ordered wave ids, baseline first.
    alpha : float
        For the paired CIs.
    network_nodes : pandas.DataFrame, optional
        Node table of the network stage; its ``tie_type == "any"`` degree, bridging and E-I are
        added as dimensions ``network_degree``, ``network_bridging``, ``network_ei`` (see
        :func:`network_scores`) to every analysis, with ``kind`` ``"network"`` (the scale
        scores get ``"scale"``).
    scale_map : pandas.DataFrame, optional
        For the scale maximum of each dimension/subscale (normalized gain): the largest item
        ``max`` of its items.
    levels : list of str, optional
        The study's group levels in order: the order of the paired rows (default sorted).
    reference : str, optional
        The mixed models' reference group (default ``levels[0]``).

    Returns
    -------
    dict
        ``{"prepost": paired(...), "mixed_models": standardized_change(mixed(...)),
        "dose_response": dose_response(...), "collective": collective(...), "descriptives":
        descriptives(...)}``; all but ``collective`` have a ``kind`` column (``scale`` |
        ``network``) beside ``dimension``.
    """
    respondents = in_canonical_order("respondents", respondents, waves)  # one order, whatever the file's
    allscores = scores.assign(kind=SCALE)
    if network_nodes is not None and len(network_nodes):
        allscores = pd.concat([allscores, network_scores(network_nodes, respondents)],
                              ignore_index=True)

    def parts(columns):
        by_dim = dict(tuple(allscores.groupby("dimension", sort=False, observed=True)))
        for dim in pd.unique(allscores["dimension"]):
            yield by_dim[dim][columns]

    return run_parts(parts, respondents, waves, alpha=alpha, scale_map=scale_map, levels=levels,
                     reference=reference)


#: the columns :func:`run_parts` asks of each dimension's scores
PART_COLUMNS = ["respondent_id", "wave", "group", "site", "dimension", "kind", "score"]


def run_parts(parts, respondents: pd.DataFrame, waves: list[str], alpha: float = 0.05,
              scale_map: pd.DataFrame | None = None, levels: list[str] | None = None,
              reference: str | None = None) -> dict[str, pd.DataFrame]:
    """:func:`run` from the scores one dimension at a time: the same tables, row for row.

    Every analysis here is per dimension except two study-wide choices, made first from a light
    pass over the dimensions: each respondent's group (the group on their earliest row over every
    dimension) and the groups of the descriptives; Holm's adjustment is then applied over the
    dimensions' p-values (summaries) at the end. So a process holds one dimension's scores at a
    time (the CLI decodes each from :mod:`pipeline.coded`'s compact table).

    Parameters
    ----------
    parts : callable
        ``parts(columns)`` → an iterable of frames, one per dimension in the study's order (scale
        dimensions and subscales as ``scores.csv`` orders them, then the network indicators), each
        with ``columns`` of :data:`PART_COLUMNS` (``kind`` ``scale`` | ``network``); called twice.
    respondents, waves, alpha, scale_map, levels, reference
        As :func:`run`.

    Returns
    -------
    dict
        As :func:`run`.
    """
    waves = [str(w) for w in waves]
    respondents = in_canonical_order("respondents", respondents, waves)
    model_levels = None if levels is None else [*([reference] if reference else []),
                                                 *(g for g in levels if g != reference)]
    scale_max = {}
    if scale_map is not None:
        for dim, part in scale_map.groupby("dimension", sort=False):
            scale_max[str(dim)] = float(part["max"].max())
            for sub, p2 in part.groupby("subscale", sort=False):
                scale_max[f"{dim}_{sub}"] = float(p2["max"].max())
    # pass 1: each respondent-wave's first group over every dimension (as paired() drops duplicates
    # over all rows: the first row of each respondent-wave is in the first dimension that has it)
    # (a respondent-wave's rows in later dimensions are dropped as they come: the first rows are kept, at
    # most one per respondent-wave, in the order the whole-study concatenation would have them)
    first_rows, labels = pd.DataFrame(columns=["respondent_id", "wave", "group"]), []
    for part in parts(["respondent_id", "wave", "group"]):
        sc = part.assign(respondent_id=part["respondent_id"].astype(str), wave=part["wave"].astype(str))
        new = sc.drop_duplicates(["respondent_id", "wave"])
        if len(first_rows):
            seen = pd.MultiIndex.from_frame(first_rows[["respondent_id", "wave"]])
            new = new[~pd.MultiIndex.from_frame(new[["respondent_id", "wave"]]).isin(seen)]
        first_rows = pd.concat([first_rows, new], ignore_index=True) if len(first_rows) else new
        labels += _group_labels(part)
        del sc, new, part
    groups = _person_groups(first_rows, waves)
    del first_rows
    paired_levels = _in_order(groups.unique(), levels)
    desc_levels = sorted(pd.unique(pd.Series(labels, dtype=object)))
    multi_site = respondents["site"].nunique() > 1 if "site" in respondents else False
    exposures = _exposures(respondents.assign(respondent_id=respondents["respondent_id"].astype(str),
                                              wave=respondents["wave"].astype(str)), waves)
    # pass 2: every analysis of one dimension
    pp_rows, mixed_rows, dose_rows, desc_rows = [], [], [], []
    with threadpool_limits(1):  # p × p algebra: BLAS threads only spin (10x slower on a busy machine)
        for part in parts(PART_COLUMNS):
            kinds = _kinds(part)
            pp_rows += _paired_rows(_paired_input(part), waves, groups, paired_levels, kinds, alpha, scale_max)
            mixed_rows += _mixed_rows(part, waves, multi_site, model_levels)
            dose_rows += _dose_rows(part, exposures, waves)
            desc_rows += _descriptive_rows(part, waves, desc_levels)
    # the rows of all dimensions in the order of the whole-study functions: later wave (and exposure) first
    wave_pos = {w: i for i, w in enumerate(waves)}
    pp_rows.sort(key=lambda r: wave_pos[r["wave_post"]])
    dose_rows.sort(key=lambda r: (wave_pos[r["wave_post"]], EXPOSURES.index(r["exposure"])))
    pp = _paired_table(pp_rows)
    return {
        "prepost": pp,
        "mixed_models": standardized_change(pd.DataFrame(mixed_rows, columns=MIXED_COLUMNS), pp),
        "dose_response": pd.DataFrame(dose_rows, columns=DOSE_COLUMNS),
        "collective": collective(respondents, waves),
        "descriptives": pd.DataFrame(desc_rows, columns=DESCRIPTIVE_COLUMNS),
    }
