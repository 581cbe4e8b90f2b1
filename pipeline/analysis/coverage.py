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

from ..errors import SinergiError
from ..parallel import map_sites
from ..order import in_canonical_order
from ..partitions import map_partitions
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
             min_coverage: float = 0.8, group_values: list[str] | None = None,
             scheduler: str = "auto") -> pd.DataFrame:
    """Coverage, ties to and from non-respondents, and E-I / assortativity bounds per site × wave.

    Each site is computed on its own rows (:func:`site_coverage`), mapped over the sites by
    :func:`pipeline.parallel.map_sites`: the cost is linear in the number of sites, and where
    the sites run never changes a number.

    Parameters
    ----------
    respondents, ties : DataFrame
        Canonical tables (all waves: a non-respondent's group comes from a wave they answered).
    tie_types : list of str
        The study's tie types; ``"any"`` (every nomination of the wave, one tie per ordered pair)
        is added. Empty (a study without networks): no rows.
    waves : list of str
    min_coverage : float
        Coverage below this sets ``warning``.
    group_values : list of str, optional
        Group levels in order (default: sorted values).
    scheduler : str
        Where the per-site work runs (:mod:`pipeline.parallel`): ``"auto"``, ``"serial"``,
        ``"processes"``, ``"local"`` or a Dask scheduler address; the same table from each.

    Returns
    -------
    DataFrame
        One row per site × wave × tie type, site × wave in the order they first occur in
        ``respondents``: ``site``, ``wave``, ``tie_type``, ``n_respondents``,
        ``n_nonrespondents`` (nominated, did not answer), ``n_nonrespondents_group_known``,
        ``coverage``, ``ties_observed`` (between respondents), ``ties_to_nonrespondents``,
        ``ties_from_nonrespondents_reconstructed``, ``ei_observed``, ``ei_low``, ``ei_high``,
        ``ei_reconstructed``, ``assortativity_observed``, ``assortativity_reconstructed``,
        ``min_coverage``, ``warning``.

    Raises
    ------
    SinergiError
        A respondent whose group is not one of ``group_values``.

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

    if not len(tie_types):
        return pd.DataFrame([], columns=COVERAGE_COLUMNS)
    # one order of the rows, whatever the files' (the villages' and waves' rows come out in it)
    respondents = in_canonical_order("respondents", respondents, waves)
    ties = in_canonical_order("ties", ties, waves)
    levels, group_any, keys = _study(respondents, waves, group_values)
    resp = respondents[respondents["wave"].isin(waves)]
    jobs = _site_jobs(resp, ties, group_any, levels, [str(w) for w in waves], list(tie_types), min_coverage)
    found = {}
    for part in map_sites(_site_job, jobs, scheduler):
        found.update(part)
    return _table(keys, found)


def coverage_partitioned(respondents: pd.DataFrame, paths: dict, tie_types: list[str], waves: list[str], *,
                         min_coverage: float = 0.8, group_values: list[str] | None = None,
                         scheduler: str = "auto") -> pd.DataFrame:
    """:func:`coverage` on tables partitioned by village: jobs read their own villages' rows.

    ``respondents`` is the whole respondents table (for the study-wide group levels, each
    person's group from any wave, and the order of the rows); ``paths`` names the partitioned
    ``respondents`` and ``ties`` files. Each job of :func:`pipeline.partitions.map_partitions`
    reads a batch of villages and runs :func:`coverage_batch`, so this process never holds the
    ties table. The same table as :func:`coverage` on the whole tables: a non-respondent's group
    still comes from any wave and village they answered in.
    """
    if not len(tie_types):
        return pd.DataFrame([], columns=COVERAGE_COLUMNS)
    respondents = in_canonical_order("respondents", respondents, waves)
    levels, group_any, keys = _study(respondents, waves, group_values)
    found = {}
    for part in map_partitions(coverage_batch, {"respondents": paths["respondents"], "ties": paths["ties"]},
                               scheduler, group_any=group_any, levels=list(levels), waves=[str(w) for w in waves],
                               tie_types=list(tie_types), min_coverage=min_coverage):
        found.update(part)
    return _table(keys, found)


def coverage_batch(respondents: pd.DataFrame, ties: pd.DataFrame, *, group_any: pd.Series, levels: list[str],
                   waves: list[str], tie_types: list[str], min_coverage: float) -> dict[tuple, list[dict]]:
    """:func:`site_coverage` of every site of a batch of villages (their respondents and ties),
    with the study's ``levels`` and ``group_any`` (:func:`_study`).

    Returns
    -------
    dict
        ``(site, wave)`` → that site × wave's rows (:func:`site_coverage`).
    """
    respondents = in_canonical_order("respondents", respondents, waves)
    ties = in_canonical_order("ties", ties, waves)
    resp = respondents[respondents["wave"].isin(waves)]
    found = {}
    for job in _site_jobs(resp, ties, group_any, pd.Index(levels), waves, tie_types, min_coverage):
        found.update(_site_job(job))
    return found


def _study(respondents: pd.DataFrame, waves: list[str], group_values: list[str] | None
           ) -> tuple[pd.Index, pd.Series, list[tuple]]:
    """What the sites share, from the whole respondents table (canonical order): the group
    levels, each person's group from any wave (the wave itself, else the latest other wave they
    answered; a Series by ``respondent_id``), and the site × wave keys in the order of the rows."""
    levels = pd.Index([str(x) for x in (group_values or sorted(respondents["group"].dropna().astype(str).unique()))])
    group_any = (respondents.sort_values("wave", key=lambda s: s.map({w: i for i, w in enumerate(waves)}))
                 .groupby("respondent_id")["group"].last().astype(str))
    resp = respondents[respondents["wave"].isin(waves)]
    keys = list(resp[["site", "wave"]].drop_duplicates().itertuples(index=False, name=None))
    return levels, group_any, keys


def _table(keys: list[tuple], found: dict) -> pd.DataFrame:
    rows = [row for key in keys for row in found[key]]
    return pd.DataFrame(rows, columns=COVERAGE_COLUMNS)


def _site_jobs(resp: pd.DataFrame, ties: pd.DataFrame, group_any: pd.Series, levels: pd.Index,
               waves: list[str], tie_types: list[str], min_coverage: float) -> list[tuple]:
    """One job per site (in the order sites first occur in ``resp``): its rows as integer codes.

    Every id, wave, group and tie type is coded once for the whole study (linear in its size);
    a site's job then holds only numpy arrays of that site's rows, cheap to send to a worker.
    """
    groups = levels.get_indexer(resp["group"].astype(str))
    if (groups < 0).any():
        bad = resp["group"].astype(str)[groups < 0].iloc[0]
        raise SinergiError(f"respondents: group {bad!r} is not a group level of the study ({', '.join(levels)})")
    site_code, sites = pd.factorize(resp["site"])
    people = pd.Index(pd.unique(pd.concat([resp["respondent_id"], ties["ego"], ties["alter"]], ignore_index=True)))
    # each person's group from any wave (−1: never a respondent, or not a level)
    known = np.full(len(people), -1, dtype=np.int64)
    at = people.get_indexer(group_any.index)
    known[at[at >= 0]] = levels.get_indexer(group_any.to_numpy()[at >= 0])
    wave_index = pd.Index(waves)
    alter = people.get_indexer(ties["alter"])
    r_cols = {"wave": wave_index.get_indexer(resp["wave"]), "person": people.get_indexer(resp["respondent_id"]),
              "group": groups}
    t_cols = {"wave": wave_index.get_indexer(ties["wave"]), "type": pd.Index(tie_types).get_indexer(ties["tie_type"]),
              "ego": people.get_indexer(ties["ego"]), "alter": alter, "alter_group": known[alter]}
    r_parts = _split(site_code, len(sites), r_cols)
    t_parts = _split(sites.get_indexer(ties["site"]), len(sites), t_cols)
    return [(site, r, t, waves, tie_types, len(levels), min_coverage)
            for site, r, t in zip(sites, r_parts, t_parts)]


def _split(codes: np.ndarray, n: int, columns: dict[str, np.ndarray]) -> list[dict[str, np.ndarray]]:
    """``columns`` cut into ``n`` parts by ``codes`` (``0 … n−1``; −1: in no part), rows in order."""
    order = np.argsort(codes, kind="stable")
    bounds = np.searchsorted(codes[order], np.arange(-1, n) + 0.5)
    return [{k: v[order[a:b]] for k, v in columns.items()} for a, b in zip(bounds[:-1], bounds[1:])]


def _site_job(job: tuple) -> dict:
    """:func:`site_coverage` of one site (module level, so a process pool or Dask can run it)."""
    return site_coverage(*job)


def site_coverage(site, resp: dict, ties: dict, waves: list[str], tie_types: list[str], k: int,
                  min_coverage: float) -> dict[tuple, list[dict]]:
    """The rows of :func:`coverage` for one site.

    Parameters
    ----------
    site
        The site's name, as in the tables.
    resp : dict of ndarray
        The site's respondents: ``wave`` (index into ``waves``), ``person`` (a study-wide code of
        the id) and ``group`` (index of the group level).
    ties : dict of ndarray
        The site's nominations: ``wave``, ``type`` (index into ``tie_types``; −1 another tie
        type), ``ego``, ``alter`` (person codes) and ``alter_group`` (the alter's group from any
        wave they answered; −1 unknown).
    waves, tie_types : list of str
    k : int
        Number of group levels.
    min_coverage : float

    Returns
    -------
    dict
        ``(site, wave)`` → the rows of that site × wave, one per tie type, in the order of
        ``tie_types`` + ``"any"``.
    """
    out = {}
    for w in pd.unique(resp["wave"]):
        if w < 0:
            continue
        r = resp["wave"] == w
        t = ties["wave"] == w
        out[(site, waves[w])] = _wave_rows(site, waves[w], resp["person"][r], resp["group"][r],
                                           {c: v[t] for c, v in ties.items()}, tie_types, k, min_coverage)
    return out


def _lookup(ranked: np.ndarray, order: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Position of each ``x`` in the array that sorts to ``ranked`` by ``order``; −1 where absent."""
    if not len(ranked):
        return np.full(len(x), -1, dtype=np.int64)
    pos = np.minimum(np.searchsorted(ranked, x), len(ranked) - 1)
    return np.where(ranked[pos] == x, order[pos], -1)


def _nominations(people: np.ndarray, t: dict) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    """Every nomination of ``t`` by a respondent as an int64 key ``ego · w + alter``.

    Respondents are ``0 … n−1`` (their order in ``people``), the non-respondents named
    ``n … w−1``. Returns (keys, the tie type of each, each non-respondent's group code, ``w``).
    """
    n = len(people)
    order = np.argsort(people, kind="stable")
    ranked = people[order]
    ego, alter = _lookup(ranked, order, t["ego"]), _lookup(ranked, order, t["alter"])
    outside = alter < 0
    non, first, code = np.unique(t["alter"][outside], return_index=True, return_inverse=True)
    alter[outside] = n + code
    width = n + len(non)
    ok = (ego >= 0) & (ego != alter)
    keys = ego[ok].astype(np.int64) * width + alter[ok]
    return keys, t["type"][ok], t["alter_group"][outside][first], width


def _wave_rows(site, wave, people: np.ndarray, groups: np.ndarray, t: dict, tie_types: list[str], k: int,
               min_coverage: float) -> list[dict]:
    """The rows of one site × wave: one per tie type and ``"any"`` (:func:`coverage`)."""
    keys, types, non_group, width = _nominations(people, t)
    n = len(people)
    n_resp = len(np.unique(people))
    rows = []
    for j, tie_type in enumerate(list(tie_types) + ["any"]):
        u = np.unique(keys if tie_type == "any" else keys[types == j])
        ego, alter = u // width, u % width
        among = alter < n
        to_non = ~among
        # observed: respondents only
        m_obs = _mix(groups[ego[among]], groups[alter[among]], k)
        # every nomination: known groups as they are, unknown ones at either extreme
        ego_g = groups[ego[to_non]]
        non = alter[to_non] - n
        alt_g = non_group[non]
        kn = alt_g >= 0
        m_known = m_obs + _mix(ego_g[kn], alt_g[kn], k)
        n_unknown = int((~kn).sum())
        external, internal = ei_parts(m_known)
        ei_low = ei(external, internal + n_unknown)  # the unknown ones all within
        ei_high = ei(external + n_unknown, internal)  # … all between
        # reconstruction: non-respondents of known group name back whoever named them
        m_rec = m_known + _mix(alt_g[kn], ego_g[kn], k)
        named = np.unique(non)
        n_non = len(named)
        cov = n_resp / (n_resp + n_non) if (n_resp + n_non) else np.nan
        rows.append({"site": site, "wave": wave, "tie_type": tie_type, "n_respondents": n_resp,
                     "n_nonrespondents": n_non, "n_nonrespondents_group_known": int((non_group[named] >= 0).sum()),
                     "coverage": cov, "ties_observed": int(among.sum()), "ties_to_nonrespondents": int(to_non.sum()),
                     "ties_from_nonrespondents_reconstructed": int(kn.sum()),
                     "ei_observed": ei_index(m_obs), "ei_low": ei_low, "ei_high": ei_high,
                     "ei_reconstructed": ei_index(m_rec), "assortativity_observed": assortativity(m_obs),
                     "assortativity_reconstructed": assortativity(m_rec), "min_coverage": min_coverage,
                     "warning": bool(cov < min_coverage) if np.isfinite(cov) else False})
    return rows
