"""A district: the change of each dimension per village (site) and pooled over villages.

Pure functions from the ``scores`` frame of :mod:`pipeline.analysis.scales` to two tidy frames; no
file I/O. Only studies with more than one site get rows (one site: empty frames with the columns).

Methods (stated so the report can repeat them)
----------------------------------------------
* **Per village**: the paired change ``post - pre`` over the village's respondents with a score
  in both waves, its mean, standard error ``sd / sqrt(n)``, t CI and two-sided p
  (``t.test(post, pre, paired = TRUE)`` within the village), as :func:`pipeline.analysis.prepost.paired`.
* **Pooled change** (``district.csv``, ``model = "nested"``): the REML fit of
  ``score ~ wave + (1 | site) + (1 | site:respondent)`` on every available score of the two waves
  (attrition included) -- the nested random-intercept model of :mod:`pipeline.analysis.prepost`
  (its :func:`~pipeline.analysis.reml.reml_fit`) without the group terms, so that ``wave`` is
  the change of the whole district, not of the reference group. Wald CI and p (normal), as lme4's
  ``vcov``. Its CI assumes one common change in every village.
* **Heterogeneity** (``model = "random_effects"``): a DerSimonian-Laird random-effects
  meta-analysis of the village changes (``metafor::rma(yi, vi, method = "DL")``) over villages
  with at least two pairs and a non-zero SD: the pooled mean change allowing villages to differ
  (``estimate``, normal CI), ``tau2`` (between-village variance of the change), Cochran's ``Q``
  with ``k - 1`` degrees of freedom and its p, ``I2`` (per cent) and the 95 % prediction interval
  ``mu ± z sqrt(tau2 + se^2)`` (metafor ``predict``): where a further village's change would lie.
* **Villages that differ** (``district_sites.csv``): each village's change against the nested
  pooled change, ``t = (diff - pooled) / se`` on ``n - 1`` df (the pooled value treated as known),
  so ``p_dev < alpha`` exactly when the village's CI excludes the pooled estimate; ``p_dev_holm``
  adjusts over the villages of one dimension × wave pair (Holm). With ``k`` villages about
  ``alpha * k`` CIs exclude the pooled value by chance alone; the Holm-adjusted p is what may be
  called a difference.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from scipy import stats
from statsmodels.stats.multitest import multipletests
from threadpoolctl import threadpool_limits

from .reml import ols_cluster, reml_fit, site_units

__all__ = ["site_change", "pooled", "run", "SITE_COLUMNS", "DISTRICT_COLUMNS"]

SITE_COLUMNS = ["dimension", "site", "wave_pre", "wave_post", "n_pairs", "mean_pre", "mean_post", "diff",
                "sd_diff", "se", "ci_low", "ci_high", "p_val", "pooled", "deviation", "t_dev", "p_dev",
                "p_dev_holm", "excludes_pooled"]
DISTRICT_COLUMNS = ["dimension", "wave_pre", "wave_post", "model", "n_sites", "n_pairs", "n_obs", "estimate",
                    "se", "ci_low", "ci_high", "p_val", "var_site", "var_respondent", "var_residual", "tau2",
                    "q", "q_df", "q_p", "i2", "pi_low", "pi_high", "n_excluding", "n_expected",
                    "n_differ_holm", "method"]

METHOD_NESTED = "reml (1 | site) + (1 | site:respondent)"
METHOD_CLUSTER = "ols_cluster by site (mixed model did not converge)"
METHOD_DL = "dersimonian_laird"


def _pairs(scores: pd.DataFrame, wave_pre: str, wave_post: str) -> pd.DataFrame:
    """One row per dimension × site × respondent with a score in both waves (``pre``, ``post``)."""
    sc = scores[scores["wave"].isin([wave_pre, wave_post])]
    wide = sc.pivot_table(index=["dimension", "site", "respondent_id"], columns="wave", values="score",
                          aggfunc="first", observed=True)
    wide = wide.reindex(columns=[wave_pre, wave_post]).dropna()
    wide.columns = ["pre", "post"]
    return wide.reset_index()


def site_change(scores: pd.DataFrame, waves: list[str], alpha: float = 0.05) -> pd.DataFrame:
    """Paired change per dimension × site × later wave (``pooled`` … ``excludes_pooled`` left NaN).

    Parameters
    ----------
    scores : pandas.DataFrame
        ``respondent_id``, ``wave``, ``site``, ``dimension``, ``score`` (NaN scores ignored).
    waves : list of str
        Ordered wave ids; every later wave is compared with ``waves[0]``.
    """
    waves = [str(w) for w in waves]
    sc = _clean(scores)
    parts = []
    for wave_post in waves[1:]:
        pr = _pairs(sc, waves[0], wave_post)
        if not len(pr):
            continue
        pr["d"] = pr["post"] - pr["pre"]
        g = pr.groupby(["dimension", "site"], sort=False, observed=True)
        out = g.agg(n_pairs=("d", "size"), mean_pre=("pre", "mean"), mean_post=("post", "mean"),
                    diff=("d", "mean"), sd_diff=("d", "std")).reset_index()
        out.insert(2, "wave_pre", waves[0])
        out.insert(3, "wave_post", wave_post)
        parts.append(out)
    if not parts:
        return pd.DataFrame(columns=SITE_COLUMNS)
    out = pd.concat(parts, ignore_index=True)
    n = out["n_pairs"].to_numpy(float)
    se = out["sd_diff"].to_numpy(float) / np.sqrt(n)
    se[n < 2] = np.nan
    q = stats.t.ppf(1 - alpha / 2, np.maximum(n - 1, 1))
    out["se"] = se
    out["ci_low"] = out["diff"] - q * se
    out["ci_high"] = out["diff"] + q * se
    with np.errstate(divide="ignore", invalid="ignore"):
        t = out["diff"].to_numpy(float) / se
    p = 2 * stats.t.sf(np.abs(t), np.maximum(n - 1, 1))
    p[~np.isfinite(t)] = np.nan
    out["p_val"] = p
    for c in SITE_COLUMNS:
        if c not in out:
            out[c] = np.nan
    return _sorted(out[SITE_COLUMNS], _dimensions(scores))


def _clean(scores: pd.DataFrame) -> pd.DataFrame:
    sc = scores.dropna(subset=["score"])[["respondent_id", "wave", "site", "dimension", "score"]].copy()
    for c in ("respondent_id", "wave", "site", "dimension"):
        sc[c] = sc[c].astype(str)
    return sc


def _dimensions(scores: pd.DataFrame) -> list[str]:
    return list(pd.unique(scores["dimension"].astype(str)))


def _sorted(df: pd.DataFrame, dimensions: list[str]) -> pd.DataFrame:
    """The village rows by later wave (as text), dimension (in ``dimensions``' order) and village."""
    dims = {d: i for i, d in enumerate(dimensions)}
    return (df.assign(_d=df["dimension"].map(dims)).sort_values(["wave_post", "_d", "site"], kind="stable")
            .drop(columns="_d").reset_index(drop=True))


def _nested_change(df: pd.DataFrame, wave_pre: str, wave_post: str) -> dict:
    """REML ``score ~ wave + (1 | site) + (1 | site:respondent)``: the wave effect and the variances."""

    df = df[df["wave"].isin([wave_pre, wave_post])]
    y = df["score"].to_numpy(float)
    x = np.column_stack([np.ones(len(df)), (df["wave"] == wave_post).to_numpy(float)])
    site = pd.factorize(df["site"])[0]
    unit = site_units(df["site"], df["respondent_id"])
    out = {"n_obs": int(len(df))}
    try:
        res = reml_fit(y, x, unit, site)
    except (np.linalg.LinAlgError, ValueError):  # pragma: no cover - degenerate design
        res = None
    if res is None:
        est, cov = ols_cluster(y, x, site)
        out.update(method=METHOD_CLUSTER)
    else:
        est, cov = res["beta"], res["cov"]
        out.update(method=METHOD_NESTED, var_site=res["var_site"], var_respondent=res["var_resp"],
                   var_residual=res["scale"])
    se = float(math.sqrt(cov[1, 1]))
    z = stats.norm.ppf(0.975)
    out.update(estimate=float(est[1]), se=se, ci_low=float(est[1] - z * se), ci_high=float(est[1] + z * se),
               p_val=float(2 * stats.norm.sf(abs(est[1] / se))) if se > 0 else np.nan)
    return out


def _random_effects(yi: np.ndarray, vi: np.ndarray) -> dict:
    """DerSimonian-Laird random-effects pooling (as ``metafor::rma(method = "DL")`` and ``predict``)."""
    k = yi.size
    if k < 2:
        return {}
    w = 1 / vi
    mu_fe = float(np.sum(w * yi) / np.sum(w))
    q = float(np.sum(w * (yi - mu_fe) ** 2))
    c = float(np.sum(w) - np.sum(w ** 2) / np.sum(w))
    tau2 = max(0.0, (q - (k - 1)) / c) if c > 0 else 0.0
    ws = 1 / (vi + tau2)
    mu = float(np.sum(ws * yi) / np.sum(ws))
    se = float(math.sqrt(1 / np.sum(ws)))
    z = stats.norm.ppf(0.975)
    pi = z * math.sqrt(tau2 + se ** 2)
    return {"estimate": mu, "se": se, "ci_low": mu - z * se, "ci_high": mu + z * se,
            "p_val": float(2 * stats.norm.sf(abs(mu / se))), "tau2": tau2, "q": q, "q_df": k - 1,
            "q_p": float(stats.chi2.sf(q, k - 1)), "i2": max(0.0, (q - (k - 1)) / q * 100) if q > 0 else 0.0,
            "pi_low": mu - pi, "pi_high": mu + pi, "n_sites": k, "method": METHOD_DL}


def pooled(scores: pd.DataFrame, sites: pd.DataFrame, waves: list[str],
           alpha: float = 0.05) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The pooled rows (``district.csv``) and ``sites`` with the deviation columns filled.

    ``sites`` is :func:`site_change`'s frame. Two rows per dimension × later wave: the nested
    mixed model (``model = "nested"``) and the random-effects pooling (``"random_effects"``);
    the counts of villages whose CI excludes the nested estimate (``n_excluding``), expected by
    chance (``n_expected = alpha * villages with a CI``) and differing after Holm
    (``n_differ_holm``) are on the nested row.
    """
    rows, sites = _pooled_rows(scores, sites, waves, alpha)
    return _district_table(rows), sites


def _district_table(rows: list[dict]) -> pd.DataFrame:
    out = pd.DataFrame(rows, columns=DISTRICT_COLUMNS)
    for c in ("n_sites", "n_pairs", "n_obs", "q_df", "n_excluding", "n_differ_holm"):
        out[c] = out[c].astype("Int64")
    return out


def _pooled_rows(scores: pd.DataFrame, sites: pd.DataFrame, waves: list[str], alpha: float) -> tuple[list, pd.DataFrame]:
    """:func:`pooled`'s rows (dicts) and its village frame."""
    waves = [str(w) for w in waves]
    sc = _clean(scores)
    sites = sites.copy()
    sites["excludes_pooled"] = pd.array([pd.NA] * len(sites), dtype="boolean")
    rows = []
    parts = dict(tuple(sc.groupby("dimension", sort=False, observed=True)))
    with threadpool_limits(1):  # p × p algebra: BLAS threads only spin
        for (dim, wave_post), idx in sites.groupby(["dimension", "wave_post"], sort=False).groups.items():
            s = sites.loc[idx]
            base = {"dimension": dim, "wave_pre": waves[0], "wave_post": wave_post,
                    "n_pairs": int(s["n_pairs"].sum())}
            data = parts.get(dim)
            if data is None or data["site"].nunique() < 2:
                continue
            nested = {**base, "model": "nested", "n_sites": int(s["site"].nunique()),
                      **_nested_change(data, waves[0], wave_post)}
            ok = s["se"].notna() & (s["se"] > 0)
            re = _random_effects(s.loc[ok, "diff"].to_numpy(float), s.loc[ok, "se"].to_numpy(float) ** 2)
            mu = nested["estimate"]
            with np.errstate(divide="ignore", invalid="ignore"):
                t = (s["diff"] - mu) / s["se"]
            p = pd.Series(2 * stats.t.sf(np.abs(t), np.maximum(s["n_pairs"] - 1, 1)), index=s.index)
            p[~np.isfinite(t)] = np.nan
            holm = pd.Series(np.nan, index=s.index)
            if p.notna().any():
                holm[p.notna()] = multipletests(p[p.notna()].to_numpy(), method="holm")[1]
            sites.loc[idx, "pooled"] = mu
            sites.loc[idx, "deviation"] = s["diff"] - mu
            sites.loc[idx, "t_dev"] = t
            sites.loc[idx, "p_dev"] = p
            sites.loc[idx, "p_dev_holm"] = holm
            excl = (s["ci_low"] > mu) | (s["ci_high"] < mu)
            sites.loc[idx, "excludes_pooled"] = excl.astype("boolean").mask(s["se"].isna())
            nested.update(n_excluding=int(excl[p.notna()].sum()), n_expected=alpha * int(p.notna().sum()),
                          n_differ_holm=int((holm < alpha).sum()))
            rows.append(nested)
            if re:
                rows.append({**base, "model": "random_effects", **re})
    return rows, sites[SITE_COLUMNS]


def run(scores: pd.DataFrame, waves: list[str], alpha: float = 0.05) -> dict[str, pd.DataFrame]:
    """``{"district": pooled rows, "district_sites": per-village rows}``; empty frames (with their
    columns) for a study with one site or one wave."""
    if "site" not in scores:
        return run_parts(lambda columns: iter(()), waves, alpha)
    by_dim = dict(tuple(scores.groupby("dimension", sort=False, observed=True)))

    def parts(columns):
        for dim in pd.unique(scores["dimension"]):
            if dim in by_dim:
                yield by_dim[dim][columns]

    return run_parts(parts, waves, alpha)


#: the columns :func:`run_parts` asks of each dimension's scores
PART_COLUMNS = ["respondent_id", "wave", "site", "dimension", "score"]


def run_parts(parts, waves: list[str], alpha: float = 0.05) -> dict[str, pd.DataFrame]:
    """:func:`run` from the scores one dimension at a time: the same tables, row for row.

    Every result here is per dimension (the villages' changes, the nested model, the DerSimonian-Laird
    pooling and Holm over the villages of one dimension × wave pair), so a process holds one
    dimension's scores at a time; the rows are put in :func:`run`'s order at the end.

    Parameters
    ----------
    parts : callable
        ``parts(columns)`` → an iterable of frames, one per dimension in ``scores.csv``'s order,
        each with ``columns`` of :data:`PART_COLUMNS`; called twice (first for ``["site"]``).
    waves, alpha
        As :func:`run`.
    """
    empty = {"district": pd.DataFrame(columns=DISTRICT_COLUMNS),
             "district_sites": pd.DataFrame(columns=SITE_COLUMNS)}
    sites_seen: set = set()
    for part in parts(["site"]):
        sites_seen.update(part["site"].dropna().astype(str).unique())
    if len(sites_seen) < 2 or len(waves) < 2:
        return empty
    waves = [str(w) for w in waves]
    dims, site_frames, rows = [], [], []
    for part in parts(PART_COLUMNS):
        dims += [d for d in _dimensions(part) if d not in dims]
        sites = site_change(part, waves, alpha)
        if not len(sites):
            continue
        r, sites = _pooled_rows(part, sites, waves, alpha)
        rows += r
        site_frames.append(sites)
    if not site_frames:
        return empty
    sites = _sorted(pd.concat(site_frames, ignore_index=True), dims)
    # pooled() meets the (dimension, later wave) pairs in the order of the sorted village rows
    pos = {d: i for i, d in enumerate(dims)}
    rows.sort(key=lambda r: (r["wave_post"], pos[r["dimension"]]))
    return {"district": _district_table(rows), "district_sites": sites}
