"""Scale scores and their reliability (trust, shared norms).

Pure functions from the canonical tables (``respondents``, ``responses``, ``scale_map``) to tidy
frames; no file I/O. Every statistic is checked against R (``psych``) in ``tests/analysis/test_scales.py``;
the R script that produced the reference values is ``tests/r/reference.R``.

Choices (stated so the report can repeat them)
-----------------------------------------------
* **Reverse-coding**: ``min + max - value`` for items with ``reverse`` true.
* **Scores**: mean of the answered items after reverse-coding, for the overall dimension (all its
  items) and for each subscale (named ``f"{dimension}_{subscale}"``). A respondent needs at least
  ``ceil(min_share * n_items)`` answered items, else the score is NaN (the row is kept and
  ``n_answered`` shows why).
* **Alpha**: Cronbach's alpha on the *listwise-complete* respondents of each wave × dimension
  (reverse-coded items), as ``psych::alpha(na.omit(x))$total$raw_alpha``; 95% CI by Feldt's method
  (as ``pingouin.cronbach_alpha`` and ``psych::alpha``'s ``feldt`` element, without rounding).
* **Omega**: McDonald's omega total from a one-factor *minres* factor analysis of the item correlation
  matrix of the same complete cases, ``(sum l)^2 / ((sum l)^2 + sum psi)`` with ``psi = 1 - l^2``,
  i.e. ``psych::fa(x, nfactors=1, fm="minres")`` loadings put into that formula. For k = 3 items the
  one-factor model is saturated and this equals ``psych::omega(x, nfactors=1)$omega.tot``; for k > 3
  psych's ``omega.tot`` divides by the *observed* total ``sum(R)`` instead of the model-implied one and
  differs slightly. Needs k >= 3 (NaN otherwise).
* **Item statistics**: ``n``, ``mean``, ``sd`` over all answers to the item in the wave
  (reverse-coded, so higher = more of the construct); ``item_total_r`` (corrected item-total
  correlation, psych's ``r.drop``) and ``alpha_if_deleted`` (psych's ``alpha.drop$raw_alpha``) on the
  same listwise-complete cases as alpha; ``pct_agree`` = share of answers >= 4 on the *raw* answer
  (top-two box of a 1-5 scale, before reverse-coding; for a scale with another range, the top two
  points ``max - 1`` and ``max``).
"""

from __future__ import annotations

import math
from typing import Iterator

import numpy as np
import pandas as pd
from scipy import special  # not scipy.stats: its import alone is ≈ 0.3 s of every run

from ..errors import SinergiError
from ..order import in_canonical_order, rows_of

__all__ = ["score", "reliability", "run", "run_parts", "village_values", "stack_values", "score_parts", "statistics",
           "omega_total", "cronbach_alpha"]

SCORE_COLUMNS = ["respondent_id", "wave", "group", "site", "dimension", "score", "n_items",
                 "n_answered"]
RELIABILITY_COLUMNS = ["wave", "dimension", "n", "k", "alpha", "alpha_ci_low", "alpha_ci_high",
                       "omega", "heywood", "flag"]
ITEM_COLUMNS = ["wave", "dimension", "item", "n", "mean", "sd", "item_total_r", "alpha_if_deleted",
                "pct_agree"]

#: alpha or omega below this is flagged "low"
LOW = 0.70
HEYWOOD_BOUND = 0.995  # communality bound of the minres fit (psych: uniqueness >= .005)


def _scale_defs(scale_map: pd.DataFrame) -> list[tuple[str, list[str]]]:
    """Ordered (dimension name, items) pairs: each overall dimension, then its subscales."""
    sm = scale_map.reset_index(drop=True)
    defs = []
    for dim in pd.unique(sm["dimension"]):
        part = sm[sm["dimension"] == dim]
        defs.append((str(dim), part["item"].astype(str).tolist()))
        for sub in pd.unique(part["subscale"].dropna()):
            if str(sub) == "" or str(sub) == str(dim):
                continue
            items = part.loc[part["subscale"] == sub, "item"].astype(str).tolist()
            defs.append((f"{dim}_{sub}", items))
    return defs


def _coded(respondents: pd.DataFrame, responses: pd.DataFrame,
           scale_map: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Wide frames (index respondent_id, wave; columns items): reverse-coded and raw values.

    Rows are every respondent × wave of ``respondents``, in its order; an item with no answer
    row is NaN. Each answer is placed by integer codes of its respondent, wave and item (linear
    in the number of answers; a pivot table sorted them all).
    """
    sm = scale_map.set_index(scale_map["item"].astype(str))
    items = sm.index.tolist()
    resp = responses[responses["item"].astype(str).isin(items)]
    value = pd.to_numeric(resp["value"], errors="coerce").astype(float).to_numpy()
    col = pd.Index(items).get_indexer(resp["item"].astype(str))
    lo, hi = sm["min"].astype(float).to_numpy()[col], sm["max"].astype(float).to_numpy()[col]
    bad = ~np.isnan(value) & ((value < lo) | (value > hi))
    if bad.any():
        first = resp[bad].head(5)
        raise SinergiError(
            "table responses: value outside the item's min..max in the scale map; first rows: "
            + ", ".join(f"{r.respondent_id}/{r.wave}/{r.item}={v}" for r, v in zip(first.itertuples(), value[bad][:5])))
    key = respondents[["respondent_id", "wave"]].astype(str)
    pos = rows_of(key, resp[["respondent_id", "wave"]].astype(str))
    unknown = pos < 0
    if unknown.any():
        first = resp[unknown].head(5)
        raise SinergiError(
            "table responses: answers from respondent × wave not in the respondents table; first: "
            + ", ".join(f"{r.respondent_id}/{r.wave}" for r in first.itertuples()))
    raw = np.full((len(key), len(items)), np.nan)
    raw[pos, col] = value
    coded = raw.copy()
    for j, it in enumerate(items):
        if bool(sm["reverse"].astype(bool)[it]):
            coded[:, j] = float(sm.at[it, "min"]) + float(sm.at[it, "max"]) - raw[:, j]
    index = pd.MultiIndex.from_frame(key)
    return (pd.DataFrame(coded, index=index, columns=items), pd.DataFrame(raw, index=index, columns=items))



def score(respondents: pd.DataFrame, responses: pd.DataFrame, scale_map: pd.DataFrame,
          min_share: float = 2 / 3, waves: list[str] | None = None) -> pd.DataFrame:
    """Score every respondent × wave on each dimension and subscale.

    Parameters
    ----------
    respondents, responses, scale_map : pandas.DataFrame
        Canonical tables (see :mod:`pipeline.schemas`). Responses to items that are not in the
        scale map are ignored; an answer outside the item's ``min``..``max`` raises.
    min_share : float
        Share of a scale's items that must be answered for a score (default 2/3): a respondent
        with fewer than ``ceil(min_share * n_items)`` answered items gets ``score`` NaN.
    waves : list of str, optional
        The study's waves in order (the rows' order; default by name).

    Returns
    -------
    pandas.DataFrame
        One row per respondent × wave × dimension (every respondent × wave of ``respondents``), per
        dimension in the respondents' canonical order (:func:`pipeline.order.in_canonical_order`:
        site, wave, respondent), whatever the order of the input rows:

        - ``respondent_id``, ``wave``, ``group``, ``site`` : from ``respondents``
        - ``dimension`` : the overall dimension (e.g. ``"trust"``: all its items) or a subscale
          ``f"{dimension}_{subscale}"`` (e.g. ``"trust_outgroup"``)
        - ``score`` : mean of the answered items after reverse-coding (``min + max - value``);
          NaN when too few items were answered
        - ``n_items`` : number of items in the scale map for this dimension
        - ``n_answered`` : number of those items answered (non-NaN)

    Raises
    ------
    SinergiError
        For answers outside the scale range or from a respondent × wave missing from
        ``respondents``.

    Examples
    --------
    >>> import pandas as pd
    >>> resp = pd.DataFrame({"respondent_id": ["r1"], "wave": ["pre"], "group": ["lokal"],
    ...                      "site": ["s"]})
    >>> ans = pd.DataFrame({"respondent_id": ["r1", "r1"], "wave": ["pre", "pre"],
    ...                     "item": ["a", "b"], "value": [4.0, 2.0]})
    >>> sm = pd.DataFrame({"item": ["a", "b"], "dimension": "trust", "subscale": "generalized",
    ...                    "reverse": [False, True], "min": 1.0, "max": 5.0})
    >>> score(resp, ans, sm)[["dimension", "score", "n_answered"]].to_dict("records")
    [{'dimension': 'trust', 'score': 4.0, 'n_answered': 2}, {'dimension': 'trust_generalized', 'score': 4.0, 'n_answered': 2}]
    """
    if not 0 < min_share <= 1:
        raise SinergiError(f"min_share must be in (0, 1], got {min_share}")
    respondents = in_canonical_order("respondents", respondents, waves)
    return _score(_coded(respondents, responses, scale_map)[0], respondents, scale_map, min_share)


def _score(coded: pd.DataFrame, respondents: pd.DataFrame, scale_map: pd.DataFrame,
           min_share: float) -> pd.DataFrame:
    """:func:`score` from the reverse-coded wide frame of :func:`_coded`."""
    base = respondents[["respondent_id", "wave", "group", "site"]].astype(str).reset_index(drop=True)
    out = []
    for name, items in _scale_defs(scale_map):
        mean, answered = _dimension_scores(coded, items, min_share)
        part = base.copy()
        part["dimension"] = name
        part["score"] = mean
        part["n_items"] = len(items)
        part["n_answered"] = answered
        out.append(part)
    if not out:
        return pd.DataFrame(columns=SCORE_COLUMNS)
    return pd.concat(out, ignore_index=True)[SCORE_COLUMNS]


def _dimension_scores(coded: pd.DataFrame, items: list[str], min_share: float) -> tuple[np.ndarray, np.ndarray]:
    """One dimension's ``score`` (float) and ``n_answered`` (int) for every row of ``coded``."""
    block = coded[items].to_numpy()
    answered = np.sum(~np.isnan(block), axis=1)
    need = math.ceil(min_share * len(items) - 1e-9)
    with np.errstate(invalid="ignore"):
        sums = np.nansum(block, axis=1)
        mean = np.where(answered > 0, sums / np.maximum(answered, 1), np.nan)
    mean = np.where(answered >= need, mean, np.nan)
    return mean.astype(float), answered.astype(int)


def cronbach_alpha(x: np.ndarray, ci: float = 0.95) -> tuple[float, float, float]:
    """Cronbach's alpha of complete-case matrix ``x`` (rows people, columns items) with Feldt CI.

    ``alpha = k/(k-1) * (1 - sum(var_i)/var(total))`` (``psych::alpha(x)$total$raw_alpha``);
    CI ``1 - (1 - alpha) * F_{q}(n-1, (n-1)(k-1))`` at q = 1 - (1-ci)/2 (low) and (1-ci)/2 (high),
    Feldt, Woodruff & Salih (1987), as ``pingouin.cronbach_alpha`` (unrounded). NaN when k < 2,
    n < 2 or the total has zero variance.
    """
    x = np.asarray(x, dtype=float)
    n, k = x.shape
    if k < 2 or n < 2:
        return (np.nan, np.nan, np.nan)
    cov = np.cov(x, rowvar=False, ddof=1)
    total = cov.sum()
    if not total > 0:
        return (np.nan, np.nan, np.nan)
    a = k / (k - 1) * (1 - np.trace(cov) / total)
    q = (1 - ci) / 2
    df1, df2 = n - 1, (n - 1) * (k - 1)
    # F quantiles: special.fdtri(d1, d2, 1 − q) is what stats.f.isf(q, d1, d2) computes
    low = 1 - (1 - a) * special.fdtri(df1, df2, 1.0 - q)
    high = 1 - (1 - a) * special.fdtri(df1, df2, 1.0 - (1 - q))
    return (float(a), float(low), float(high))


def _minres_one_factor(r: np.ndarray, tol: float = 1e-13, max_iter: int = 100_000) -> np.ndarray:
    """Loadings of a one-factor minres (= unweighted least squares) solution of correlation ``r``.

    Iterated principal-axis factoring to its fixed point, which is the minres/ULS solution
    (the optimum ``psych::fa(fm="minres")`` reaches with L-BFGS-B); communalities are bounded at
    0.995 like psych's lower bound 0.005 on uniquenesses (Heywood cases). In a Heywood case
    psych's optimizer stops at the bound with self-inconsistent loadings (it may report a loading
    above 1 and a negative uniqueness, "ultra-Heywood case"); omega then differs from psych's in
    the 3rd-4th decimal and should not be interpreted anyway.
    """
    k = r.shape[0]
    # start from squared multiple correlations, as psych does
    try:
        h2 = 1 - 1 / np.diag(np.linalg.inv(r))
    except np.linalg.LinAlgError:
        h2 = np.full(k, 0.5)
    h2 = np.clip(h2, 1 - HEYWOOD_BOUND, HEYWOOD_BOUND)
    lam = np.zeros(k)
    for _ in range(max_iter):
        rr = r.copy()
        np.fill_diagonal(rr, h2)
        vals, vecs = np.linalg.eigh(rr)
        lam = vecs[:, -1] * math.sqrt(max(vals[-1], 0.0))
        new = np.clip(lam ** 2, 0.0, HEYWOOD_BOUND)
        if np.max(np.abs(new - h2)) < tol:
            h2 = new
            break
        h2 = new
    if lam.sum() < 0:
        lam = -lam
    return lam


def omega_total(x: np.ndarray, with_heywood: bool = False) -> float | tuple[float, bool]:
    """McDonald's omega total of complete-case matrix ``x`` from a one-factor minres model.

    ``omega = (sum l)^2 / ((sum l)^2 + sum(1 - l^2))`` with ``l`` the loadings of
    ``psych::fa(x, nfactors=1, fm="minres")``. NaN when fewer than 3 items or 3 people, or an item
    has zero variance. With ``with_heywood``, returns ``(omega, heywood)`` where ``heywood`` is
    true when an item's communality reached the bound 0.995 (a Heywood case: the one-factor
    solution is improper and omega should not be interpreted).
    """
    x = np.asarray(x, dtype=float)
    n, k = x.shape
    om, heywood = np.nan, False
    sd = x.std(axis=0, ddof=1) if n > 1 else np.zeros(k)
    if k >= 3 and n >= 3 and np.all(sd > 0):
        lam = _minres_one_factor(np.corrcoef(x, rowvar=False))
        s = lam.sum() ** 2
        om = float(s / (s + np.sum(1 - lam ** 2)))
        heywood = bool(np.any(lam ** 2 >= HEYWOOD_BOUND - 1e-9))
    return (om, heywood) if with_heywood else om


def reliability(respondents: pd.DataFrame, responses: pd.DataFrame, scale_map: pd.DataFrame,
                waves: list[str]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Reliability of each dimension and subscale per wave, and item statistics.

    Parameters
    ----------
    respondents, responses, scale_map : pandas.DataFrame
        Canonical tables.
    waves : list of str
        Wave ids in order; waves not listed are ignored.

    Returns
    -------
    reliability : pandas.DataFrame
        One row per wave × dimension (overall dimensions and ``dimension_subscale``):

        - ``wave``, ``dimension``
        - ``n`` : respondents with every item of the dimension answered (listwise-complete cases,
          used for alpha and omega)
        - ``k`` : number of items
        - ``alpha`` : Cronbach's alpha (``psych::alpha(na.omit(x))$total$raw_alpha``); NaN if k < 2
        - ``alpha_ci_low``, ``alpha_ci_high`` : 95% Feldt CI
        - ``omega`` : McDonald's omega total, one-factor minres model (NaN if k < 3)
        - ``heywood`` : true when that model is a Heywood case (an item's communality reached
          the bound .995): omega is shown but should not be interpreted
        - ``flag`` : ``"low"`` when alpha < .70 or omega < .70, ``"ok"`` when neither is, ``""``
          when neither could be computed
    items : pandas.DataFrame
        One row per wave × dimension × item:

        - ``wave``, ``dimension``, ``item``
        - ``n`` : answers to the item in the wave
        - ``mean``, ``sd`` : of those answers after reverse-coding (sd with ddof=1)
        - ``item_total_r`` : corrected item-total correlation (item vs sum of the other items,
          psych's ``r.drop``) on the listwise-complete cases
        - ``alpha_if_deleted`` : alpha of the other items on those cases (psych's
          ``alpha.drop$raw_alpha``); NaN when fewer than 2 items would remain
        - ``pct_agree`` : share of answers >= ``max - 1`` on the *raw* (not reverse-coded)
          answer, i.e. the top-two box ("agree" + "strongly agree", >= 4 on a 1-5 scale)
    """
    respondents = in_canonical_order("respondents", respondents, waves)
    return _reliability(*_coded(respondents, responses, scale_map), scale_map, waves)


def _reliability(coded: pd.DataFrame, raw: pd.DataFrame, scale_map: pd.DataFrame,
                 waves: list[str]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """:func:`reliability` from the wide frames of :func:`_coded`."""
    return _statistics(coded.reset_index(drop=True), _agree(raw.to_numpy(), scale_map),
                       coded.index.get_level_values("wave").to_numpy(), scale_map, waves)


def _agree(raw: np.ndarray, scale_map: pd.DataFrame) -> np.ndarray:
    """Whether each raw answer is in the top two points of its item (``>= max - 1``; NaN: False)."""
    top2 = scale_map["max"].astype(float).to_numpy() - 1
    with np.errstate(invalid="ignore"):
        return raw >= top2[None, :]


def _statistics(coded: pd.DataFrame, agree: np.ndarray, wave: np.ndarray, scale_map: pd.DataFrame,
                waves: list[str]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """:func:`reliability` from the reverse-coded values (``coded``: rows respondent × wave, columns
    the scale map's items), the top-two-box flags of the raw answers (:func:`_agree`) and each row's
    wave (text)."""
    col_of = {it: j for j, it in enumerate(coded.columns)}
    rel_rows, item_rows = [], []
    for w in [str(x) for x in waves]:
        in_wave = wave == w
        cw, aw = coded[in_wave], agree[in_wave]
        for name, items in _scale_defs(scale_map):
            block = cw[items]
            complete = block.dropna().to_numpy()
            n, k = complete.shape
            a, lo, hi = cronbach_alpha(complete)
            om, heywood = omega_total(complete, with_heywood=True)
            if np.isnan(a) and np.isnan(om):
                flag = ""
            elif (a < LOW) or (om < LOW):
                flag = "low"
            else:
                flag = "ok"
            rel_rows.append({"wave": w, "dimension": name, "n": n, "k": k, "alpha": a,
                             "alpha_ci_low": lo, "alpha_ci_high": hi, "omega": om,
                             "heywood": heywood, "flag": flag})
            total = complete.sum(axis=1) if n else np.array([])
            for j, it in enumerate(items):
                col = block[it].dropna()
                r_drop = a_drop = np.nan
                if n >= 3 and k >= 2:
                    rest = total - complete[:, j]
                    if complete[:, j].std() > 0 and rest.std() > 0:
                        r_drop = float(np.corrcoef(complete[:, j], rest)[0, 1])
                    if k >= 3:
                        a_drop = cronbach_alpha(np.delete(complete, j, axis=1))[0]
                # the share of the answers (the non-NaN values: coded is NaN exactly where the raw answer is)
                # in the top two points: the count over the answers, as the mean of their flags
                item_rows.append({
                    "wave": w, "dimension": name, "item": it, "n": int(col.size),
                    "mean": float(col.mean()) if col.size else np.nan,
                    "sd": float(col.std(ddof=1)) if col.size > 1 else np.nan,
                    "item_total_r": r_drop, "alpha_if_deleted": a_drop,
                    "pct_agree": float(np.count_nonzero(aw[:, col_of[it]])) / col.size if col.size else np.nan,
                })
    rel = pd.DataFrame(rel_rows, columns=RELIABILITY_COLUMNS)
    items_df = pd.DataFrame(item_rows, columns=ITEM_COLUMNS)
    return rel, items_df


def run(respondents: pd.DataFrame, responses: pd.DataFrame, scale_map: pd.DataFrame,
        waves: list[str], min_share: float = 2 / 3) -> dict[str, pd.DataFrame]:
    """Scores, reliability and item statistics in one call.

    Returns
    -------
    dict
        ``{"scores": score(...), "reliability": ..., "items": ...}``; see :func:`score` and
        :func:`reliability` for the columns.
    """
    if not len(scale_map):  # a study without scale items (a network-only survey): nothing to score
        return {"scores": pd.DataFrame(columns=SCORE_COLUMNS), "reliability": pd.DataFrame(columns=RELIABILITY_COLUMNS),
                "items": pd.DataFrame(columns=ITEM_COLUMNS)}
    if not 0 < min_share <= 1:
        raise SinergiError(f"min_share must be in (0, 1], got {min_share}")
    respondents = in_canonical_order("respondents", respondents, waves)  # rows: one order, whatever the file's
    coded, raw = _coded(respondents, responses, scale_map)  # once for both
    return _from_coded(coded, raw, respondents, scale_map, waves, min_share)


def _from_coded(coded: pd.DataFrame, raw: pd.DataFrame, respondents: pd.DataFrame, scale_map: pd.DataFrame,
                waves: list[str], min_share: float) -> dict[str, pd.DataFrame]:
    scores = _score(coded, respondents, scale_map, min_share)
    rel, items = _reliability(coded, raw, scale_map, waves)
    return {"scores": scores, "reliability": rel, "items": items}


def village_values(respondents: pd.DataFrame, responses: pd.DataFrame,
                   scale_map: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """The item values of ``respondents``' rows (a village or a batch): what the study-wide pass needs.

    Returns
    -------
    coded : numpy.ndarray
        float64, one row per row of ``respondents`` (in its order), one column per item of
        ``scale_map`` (in its order): the reverse-coded answer, NaN where not answered.
    agree : numpy.ndarray
        bool, the same shape: the raw (not reverse-coded) answer is in the item's top two points
        (``>= max - 1``, :func:`reliability`'s ``pct_agree``).

    Stacked over villages in the respondents table's order they are exactly what :func:`run`
    builds from the whole study (the raw values themselves are not kept: one byte a cell).
    """
    coded, raw = _coded(respondents, responses, scale_map)
    return coded.to_numpy(), _agree(raw.to_numpy(), scale_map)


def stack_values(parts: list[tuple[np.ndarray, np.ndarray]], n_rows: int,
                 n_items: int) -> tuple[np.ndarray, np.ndarray]:
    """The pieces of :func:`village_values` (consecutive villages) stacked into one pair of arrays.

    Each piece is dropped from ``parts`` as it is copied (the list is emptied), so the pieces and the
    stacked arrays are not all held at once.

    Raises
    ------
    RuntimeError
        When the pieces do not have ``n_rows`` rows in all (they are not the respondents table's).
    """
    total = sum(len(p[0]) for p in parts)
    if total != n_rows:
        raise RuntimeError(f"{total} rows of item values for {n_rows} respondent rows")
    coded, agree = np.empty((n_rows, n_items)), np.empty((n_rows, n_items), dtype=bool)
    at = 0
    parts.reverse()  # pop from the end: the first village first
    while parts:
        c, a = parts.pop()
        coded[at:at + len(c)], agree[at:at + len(c)] = c, a
        at += len(c)
    return coded, agree


#: rows of ``scores.csv`` :func:`score_parts` puts in one frame
SCORE_ROWS = 1 << 18


def score_parts(respondents: pd.DataFrame, coded: np.ndarray, scale_map: pd.DataFrame,
                min_share: float = 2 / 3, rows: int = SCORE_ROWS) -> Iterator[pd.DataFrame]:
    """:func:`score`'s frame in pieces of at most ``rows`` rows, from the stacked item values.

    ``coded`` is :func:`stack_values`' first array for ``respondents``' rows (in its order, the
    respondents table's canonical order). Each dimension's scores are computed over all rows at once,
    exactly as :func:`score` computes them, then handed out ``rows`` at a time: concatenated, the
    pieces are :func:`score`'s frame (and written one after the other, its CSV), while the frame of
    every row × dimension (7 M rows at 2,313 villages) is never held.

    Yields
    ------
    pandas.DataFrame
        The columns of :func:`score`; at least one (possibly empty) frame.
    """
    if not 0 < min_share <= 1:
        raise SinergiError(f"min_share must be in (0, 1], got {min_share}")
    base = respondents[["respondent_id", "wave", "group", "site"]].astype(str).reset_index(drop=True)
    values = pd.DataFrame(coded, columns=scale_map["item"].astype(str).tolist())
    empty = True
    for name, items in _scale_defs(scale_map):
        mean, answered = _dimension_scores(values, items, min_share)
        for at in range(0, len(base), rows):
            part = base.iloc[at:at + rows].copy()
            part["dimension"] = name
            part["score"] = mean[at:at + rows]
            part["n_items"] = len(items)
            part["n_answered"] = answered[at:at + rows]
            empty = False
            yield part[SCORE_COLUMNS]
    if empty:
        yield _score(values, respondents, scale_map, min_share)


def statistics(coded: np.ndarray, agree: np.ndarray, wave, scale_map: pd.DataFrame,
               waves: list[str]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """:func:`reliability` from the stacked item values (:func:`stack_values`) and each row's wave.

    Returns
    -------
    reliability, items : pandas.DataFrame
        As :func:`reliability`: the same numbers, computed in the same order from the same arrays.
    """
    values = pd.DataFrame(coded, columns=scale_map["item"].astype(str).tolist())
    return _statistics(values, agree, np.asarray(wave).astype(str), scale_map, waves)


def run_parts(respondents: pd.DataFrame, parts: list[tuple[np.ndarray, np.ndarray]], scale_map: pd.DataFrame,
              waves: list[str], min_share: float = 2 / 3) -> dict[str, pd.DataFrame]:
    """:func:`run` from the per-village pieces of :func:`village_values`, without the responses table.

    ``parts`` are the pieces of consecutive villages whose rows, stacked, are ``respondents``' rows
    in order (a partitioned respondents table read village by village); the list is emptied.
    The result is identical to :func:`run`'s (the same numbers in the same order). The ``scales``
    stage writes :func:`score_parts` one piece at a time instead of this frame of every score.

    Returns
    -------
    dict
        As :func:`run`: ``scores``, ``reliability``, ``items``.
    """
    if not len(scale_map):
        return run(respondents, pd.DataFrame(columns=["respondent_id", "wave", "item", "value"]), scale_map,
                   waves, min_share)
    if not 0 < min_share <= 1:
        raise SinergiError(f"min_share must be in (0, 1], got {min_share}")
    coded, agree = stack_values(parts, len(respondents), len(scale_map))
    rel, items = statistics(coded, agree, respondents["wave"], scale_map, waves)
    scores = pd.concat(list(score_parts(respondents, coded, scale_map, min_share)), ignore_index=True)
    return {"scores": scores, "reliability": rel, "items": items}
