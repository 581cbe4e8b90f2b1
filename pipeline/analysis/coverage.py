"""Missing network data: roster coverage and the sensitivity of E-I and assortativity.

Sociocentric measures assume every roster member answered. The network stage keeps only ties
between respondents of the wave; a nominated person who did not answer drops out, with their
ties. Per site × wave × tie type this module reports:

- **coverage**: respondents / (respondents + people nominated by a respondent who did not answer
  that wave). The canonical tables do not hold the roster, so the denominator is the known network
  (a roster member nobody named and who did not answer is not counted): coverage is an upper
  bound of the roster response rate.
- **ties to non-respondents** (nominations of them by respondents) and the ties *from*
  non-respondents reconstructed by mirroring those nominations (reciprocity reconstruction,
  Huisman 2009 / Stork & Richards 1992: a non-respondent is assumed to name back whoever named them).
- **sensitivity of E-I and assortativity**:
  ``*_observed`` — respondents only (the network stage's numbers);
  ``ei_low`` / ``ei_high`` — every nomination by a respondent, non-respondents of unknown group
  counted as all in the nominator's group (low) or all in the other group (high); a
  non-respondent's group is taken from another wave where they answered;
  ``*_reconstructed`` — respondents, non-respondents of known group, their mirrored ties
  (non-respondents of unknown group left out).

A site × wave whose coverage is below ``min_coverage`` gets ``warning = True``; the report prints
the warning next to the estimates.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .network import assortativity, ei, ei_index, ei_parts

COVERAGE_COLUMNS = ["site", "wave", "tie_type", "n_respondents", "n_nonrespondents", "n_nonrespondents_group_known",
                    "coverage", "ties_observed", "ties_to_nonrespondents", "ties_from_nonrespondents_reconstructed",
                    "ei_observed", "ei_low", "ei_high", "ei_reconstructed", "assortativity_observed",
                    "assortativity_reconstructed", "min_coverage", "warning"]


def _mix(src_g: np.ndarray, dst_g: np.ndarray, k: int) -> np.ndarray:
    m = np.zeros((k, k))
    np.add.at(m, (src_g, dst_g), 1.0)
    return m


def coverage(respondents: pd.DataFrame, ties: pd.DataFrame, tie_types: list[str], waves: list[str], *,
             min_coverage: float = 0.8, group_values: list[str] | None = None) -> pd.DataFrame:
    """Coverage, ties to and from non-respondents, and E-I / assortativity bounds per site × wave.

    Parameters
    ----------
    respondents, ties : DataFrame
        Canonical tables (all waves: a non-respondent's group comes from a wave they answered).
    tie_types : list of str
        The study's tie types; ``"any"`` (their union, one tie per ordered pair) is added. None (a
        study without networks): no rows.
    waves : list of str
    min_coverage : float
        Coverage below this sets ``warning``.
    group_values : list of str, optional
        Group levels in order (default: sorted values).

    Returns
    -------
    DataFrame
        One row per site × wave × tie type: ``site``, ``wave``, ``tie_type``, ``n_respondents``,
        ``n_nonrespondents`` (nominated, did not answer), ``n_nonrespondents_group_known``,
        ``coverage``, ``ties_observed`` (between respondents), ``ties_to_nonrespondents``,
        ``ties_from_nonrespondents_reconstructed``, ``ei_observed``, ``ei_low``, ``ei_high``,
        ``ei_reconstructed``, ``assortativity_observed``, ``assortativity_reconstructed``,
        ``min_coverage``, ``warning``.

    Examples
    --------
    >>> resp = pd.DataFrame({"respondent_id": ["a", "b", "c"], "wave": "pre", "group": ["x", "x", "y"],
    ...                      "site": "s"})
    >>> ties = pd.DataFrame({"site": "s", "wave": "pre", "tie_type": "info", "ego": ["a", "b", "c"],
    ...                      "alter": ["b", "d", "a"], "weight": np.nan})
    >>> r = coverage(resp, ties, ["info"], ["pre"]).iloc[0]
    >>> float(r["coverage"]), int(r["ties_to_nonrespondents"]), float(r["ei_low"]), float(r["ei_high"])
    (0.75, 1, -0.3333333333333333, 0.3333333333333333)
    """
    levels = group_values or sorted(respondents["group"].dropna().astype(str).unique())
    code = {g: i for i, g in enumerate(levels)}
    k = len(levels)
    # a person's group: from the wave itself, else from the latest other wave they answered
    group_any = (respondents.sort_values("wave", key=lambda s: s.map({w: i for i, w in enumerate(waves)}))
                 .groupby("respondent_id")["group"].last().astype(str))
    rows = []
    all_types = list(tie_types) + ["any"] if len(tie_types) else []
    for (site, wave), resp in respondents.groupby(["site", "wave"], sort=False):
        if wave not in waves:
            continue
        r_ids = set(resp["respondent_id"])
        g_wave = dict(zip(resp["respondent_id"], resp["group"].astype(str)))
        t_all = ties[(ties["site"] == site) & (ties["wave"] == wave)]
        for tie_type in all_types:
            t = t_all if tie_type == "any" else t_all[t_all["tie_type"] == tie_type]
            t = t[["ego", "alter"]].drop_duplicates()
            t = t[t["ego"].isin(r_ids) & (t["ego"] != t["alter"])]
            among = t[t["alter"].isin(r_ids)]
            to_non = t[~t["alter"].isin(r_ids)]
            non = pd.Index(to_non["alter"].unique())
            non_group = {a: group_any.get(a) for a in non}
            known = {a: g for a, g in non_group.items() if g in code}
            # observed: respondents only
            m_obs = _mix(among["ego"].map(g_wave).map(code).to_numpy(int),
                         among["alter"].map(g_wave).map(code).to_numpy(int), k)
            # every nomination: known groups as they are, unknown ones at either extreme
            ego_g = to_non["ego"].map(g_wave).map(code).to_numpy(int)
            alt_g = to_non["alter"].map(known).map(code)
            kn = alt_g.notna().to_numpy()
            m_known = m_obs + _mix(ego_g[kn], alt_g[kn].to_numpy(int), k)
            n_unknown = int((~kn).sum())
            external, internal = ei_parts(m_known)
            ei_low = ei(external, internal + n_unknown)  # the unknown ones all within
            ei_high = ei(external + n_unknown, internal)  # … all between
            # reconstruction: non-respondents of known group name back whoever named them
            m_rec = m_known + _mix(alt_g[kn].to_numpy(int), ego_g[kn], k)
            n_resp, n_non = len(r_ids), len(non)
            cov = n_resp / (n_resp + n_non) if (n_resp + n_non) else np.nan
            rows.append({"site": site, "wave": wave, "tie_type": tie_type, "n_respondents": n_resp,
                         "n_nonrespondents": n_non, "n_nonrespondents_group_known": len(known), "coverage": cov,
                         "ties_observed": len(among), "ties_to_nonrespondents": len(to_non),
                         "ties_from_nonrespondents_reconstructed": int(kn.sum()),
                         "ei_observed": ei_index(m_obs), "ei_low": ei_low, "ei_high": ei_high,
                         "ei_reconstructed": ei_index(m_rec), "assortativity_observed": assortativity(m_obs),
                         "assortativity_reconstructed": assortativity(m_rec), "min_coverage": min_coverage,
                         "warning": bool(cov < min_coverage) if np.isfinite(cov) else False})
    return pd.DataFrame(rows, columns=COVERAGE_COLUMNS)
