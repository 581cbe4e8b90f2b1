"""Fieldwork monitor: who is still missing and which submissions to check, while the survey runs.

A sociocentric survey stands or falls with coverage: every roster member not interviewed is a node
whose outgoing ties are missing. This module turns each wave's current KoboToolbox submissions
(the raw folder read by :func:`pipeline.sources.raw.read_wave`) and its roster into the tables of the
daily check (``make monitor``), in the spirit of IPA's ``ipacheck`` and DIME's ``iefieldkit``:

- :func:`submissions_table`: one row per submission, and one flag per problem found, each with a
  reason (:data:`CHECKS`): whether it counts is :func:`pipeline.screening.screen`'s decision (the
  one tidy makes), the quality of the interview the monitor's own checks (too short,
  straightlining, named nobody, …);
- :func:`coverage`: roster members interviewed, refused and not yet interviewed per wave × group,
  against the study's target (``monitor.target``);
- :func:`missing`: who is still to be interviewed, and in a follow-up wave the baseline
  respondents not yet re-interviewed (the attrition chase list);
- :func:`enumerators` and :func:`daily`: submissions per enumerator and day, median duration,
  share flagged;
- :func:`state` and :func:`changes`: what changed since the last run.

Everything here is a pure function of submissions, rosters and the study, except
:func:`read_waves` (reads the raw folder, never writes it). Roster ids become pseudonyms on entry
(:func:`pipeline.pseudonym.pseudonymizer`); roster labels (names) travel only in :attr:`Wave.labels`
and reach a page only through :func:`names_rows` (the private names list).

How people are counted (README, "Fieldwork monitor"):

- *interviewed*: roster members with a submission in the wave that counts — the decision of
  :func:`pipeline.screening.screen`, the one tidy makes: not a duplicate, counted under the study's
  ``validation`` rule, with consent, naming someone on the roster;
- *refused*: submissions without consent whose respondent was not interviewed. The form asks for
  consent before the respondent picks their name, so a refusal usually names nobody: such a
  refusal counts once per submission, in the ``all`` row only (a refusal that names a roster member
  counts once per person, in that person's group too);
- *not_yet* = ``roster_n − interviewed − refused`` (never below 0);
- a roster member's *group* is their answer in this wave, else in the nearest other wave; people
  whose group no wave has told yet are counted in ``group = unknown`` (a row without coverage).
  ``roster_n`` and ``interviewed`` of the group rows add up to the ``all`` row; ``refused`` and
  ``not_yet`` do too, except for the anonymous refusals, which only the ``all`` row holds.
"""

from __future__ import annotations

import base64
import json
import math
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Callable

import jinja2
import numpy as np
import pandas as pd

from .errors import SinergiError
from .instrument import scale_map, tie_questions
from .screening import Decision, counts, gave_consent, screen, upload_order
from .sources.raw import has_wave, read_wave, validation_status

UNKNOWN = "unknown"
ALL = "all"

#: every check, in the order the page lists them
CHECKS = ("duplicate", "respondent_twice", "no_consent", "not_approved", "not_on_roster", "too_short", "bad_time",
          "straightlining", "named_nobody", "off_roster", "self_nomination", "old_version")

COVERAGE_COLUMNS = ["wave", "group", "roster_n", "interviewed", "refused", "not_yet", "coverage", "target", "met"]
FLAG_COLUMNS = ["wave", "submission_id", "day", "enumerator", "respondent_id", "check", "detail", "reason"]
SUBMISSION_COLUMNS = ["wave", "submission_id", "instance_id", "day", "submitted_at", "enumerator", "version",
                      "consent", "counts", "respondent_id", "on_roster", "group", "minutes"]
MISSING_COLUMNS = ["wave", "respondent_id", "group", "on_roster", "baseline", "last_wave", "last_enumerator"]
ENUMERATOR_COLUMNS = ["wave", "enumerator", "submissions", "days", "per_day", "median_minutes", "flagged",
                      "share_flagged"]


# --------------------------------------------------------------------------------------------
# inputs


@dataclass
class Wave:
    """One wave's inputs: the current submissions and the roster.

    ``roster`` is the list of roster ids (the ``name`` column); ``labels`` maps roster id → label
    (the names enumerators see; personal data, used only for the private names list);
    ``deployed_version`` is the form version the project serves (``None``: unknown, the
    old-version check is skipped); ``xpaths`` gives, for a submission, question name →
    submission key (the form of its own ``__version__``).
    """

    id: str
    submissions: list[dict[str, Any]]
    roster: list[str]
    labels: dict[str, str] = field(default_factory=dict)
    deployed_version: str | None = None
    xpaths: Callable[[dict[str, Any]], dict[str, str]] | None = None


def read_waves(study: Any, inst: Any, raw_dir: Path) -> list[Wave]:
    """Read every wave that has data from the study's raw folder (read-only).

    Each wave is read by :func:`pipeline.sources.raw.read_wave` (pages and sweeps replayed, or an
    export read), with its roster and the form of each submission's version. A wave with no data
    yet is left out.
    """
    raw_dir = Path(raw_dir)
    out = []
    for wave in study.wave_ids:
        if not has_wave(raw_dir, wave):
            continue
        raw = read_wave(raw_dir, wave, inst)
        out.append(Wave(wave, raw.submissions, raw.roster, raw.labels, raw.deployed_version, raw.forms.xpaths))
    if not out:
        raise SinergiError(f"{raw_dir}: no wave has data yet; run `make monitor` without OFFLINE=1 "
                           "(or `make pull`) first")
    return out


# --------------------------------------------------------------------------------------------
# per submission


def _time(text: Any) -> datetime | None:
    if not text:
        return None
    try:
        return datetime.fromisoformat(str(text).replace("Z", "+00:00"))
    except ValueError:
        return None


def _minutes(sub: dict[str, Any]) -> float:
    start, end = _time(sub.get("start")), _time(sub.get("end"))
    if start is None or end is None or (start.tzinfo is None) != (end.tzinfo is None):
        return math.nan
    return (end - start).total_seconds() / 60


def _day(sub: dict[str, Any]) -> str:
    """The interview's day: the local date of ``start``, else ``today``, else the upload day."""
    for key in ("start", "today", "_submission_time"):
        t = _time(sub.get(key))
        if t is not None:
            return t.date().isoformat()
    return ""


def _default_xpaths(inst: Any) -> Callable[[dict], dict[str, str]]:
    paths = {q.name: q.xpath for q in inst.questions}
    return lambda sub: paths


def _key(xp: dict[str, str], xpath: str) -> str:
    return xp.get(xpath.rsplit("/", 1)[-1], xpath)


@dataclass
class Settings:
    """The checks' thresholds (the study's ``monitor`` key, :class:`pipeline.config.Monitor`)."""

    target: float = 0.8
    min_minutes: float = 10.0
    straightline_min_items: int = 5
    nobody_median: float = 3.0

    @classmethod
    def of(cls, study: Any) -> "Settings":
        m = getattr(study, "monitor", None)
        if m is None:
            return cls()
        return cls(m.target, m.min_minutes, m.straightline_min_items, m.nobody_median)


#: screening reason (:data:`pipeline.screening.REASONS`) → the check the page lists it under
SCREENING_CHECKS = {"same_submission_twice": "duplicate", "duplicate_upload": "duplicate",
                    "not_approved": "not_approved", "not_yet_approved": "not_approved", "no_consent": "no_consent",
                    "no_respondent": "not_on_roster", "not_on_roster": "not_on_roster",
                    "respondent_twice": "respondent_twice"}


def submissions_table(waves: list[Wave], study: Any, inst: Any, pseudo: Callable[[str], str],
                      settings: Settings | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Every current submission of every wave, and the flags of the checks.

    Whether a submission counts is :func:`pipeline.screening.screen`'s decision, the one tidy
    makes (each reason a flag: :data:`SCREENING_CHECKS`); the monitor adds its own checks of the
    interviews (:func:`interview_flags`, :func:`named_nobody_flags`).

    Parameters
    ----------
    waves
        :class:`Wave` inputs, in study order.
    study
        The study (group levels, tie types, ``validation`` rule).
    inst
        The instrument: ``role: respondent`` and ``role: group`` questions, the consent question,
        ``scale`` items (Likert blocks by dimension) and ``role: tie`` name generators.
    pseudo
        Roster id → pseudonym.

    Returns
    -------
    submissions : pandas.DataFrame
        ``wave``, ``submission_id`` (``_id``), ``instance_id``, ``day`` (interview date),
        ``submitted_at``, ``enumerator`` (``_submitted_by``, ``"?"`` when unknown), ``version``,
        ``consent`` (bool), ``counts`` (under the validation rule), ``respondent_id``
        (pseudonym, ``""`` when nobody was picked), ``on_roster``, ``group`` (the answer, or
        ``unknown``), ``minutes`` (``end − start``; NaN when either is missing), and ``kept``
        (a counted interview: the screening's ``counted``).
    flags : pandas.DataFrame
        :data:`FLAG_COLUMNS`: one row per problem; ``check`` is one of :data:`CHECKS`,
        ``detail`` the value behind it (language-neutral), ``reason`` empty (filled by
        :func:`with_reasons`).
    """
    s = settings or Settings()
    rows: list[dict] = []
    flags: list[dict] = []
    for w in waves:
        wave_rows = _screened_rows(w, study, inst, pseudo, flags)
        flags.extend(interview_flags(w, wave_rows, study, inst, pseudo, s))
        rows.extend(wave_rows)
    flags.extend(named_nobody_flags(rows, study, inst, s))
    subs = pd.DataFrame([{k: v for k, v in r.items() if not k.startswith("_")} for r in rows],
                        columns=SUBMISSION_COLUMNS + ["kept"])
    return subs, _sorted_flags(flags, waves)


def _flag(row: dict, check: str, detail: Any = "") -> dict:
    """A flag of the submission of ``row`` (a row of :func:`_screened_rows`)."""
    return {"wave": row["wave"], "submission_id": row["submission_id"], "day": row["day"],
            "enumerator": row["enumerator"], "respondent_id": row["respondent_id"],
            "check": check, "detail": str(detail), "reason": ""}


def _screened_rows(w: Wave, study: Any, inst: Any, pseudo: Callable[[str], str], flags: list[dict]) -> list[dict]:
    """The rows of one wave's submissions (upload order), with the screening's decision of each as
    ``kept`` and its reason added to ``flags``; ``_sub``, ``_xp`` and ``_reason`` are for the checks."""
    xpaths = w.xpaths or _default_xpaths(inst)
    decisions = {id(d.submission): d for d in screen(w.submissions, w.roster, inst, xpaths,
                                                       validation=study.validation, wave=w.id)}
    respondent, consent = inst.respondent_question(), inst.consent_question()
    on_roster = set(w.roster)
    group_q = inst.by_role("group")[0]
    rows = []
    for sub in upload_order(w.submissions):
        xp = xpaths(sub)
        rid = str(sub.get(xp[respondent.name]) or "")
        group = str(sub.get(xp[group_q.name]) or "")
        decision = decisions[id(sub)]
        row = {"wave": w.id, "submission_id": str(sub.get("_id", "")),
               "instance_id": str(sub.get("meta/instanceID") or f"_id:{sub.get('_id')}"),
               "day": _day(sub), "submitted_at": str(sub.get("_submission_time", "")),
               "enumerator": str(sub.get("_submitted_by") or "?"), "version": str(sub.get("__version__") or ""),
               "consent": gave_consent(sub, xp, consent),
               "counts": counts(validation_status(sub), study.validation),
               "respondent_id": pseudo(rid) if rid else "", "on_roster": rid in on_roster,
               "group": group if group in study.group_values else UNKNOWN, "minutes": _minutes(sub),
               "kept": decision.counted, "_sub": sub, "_xp": xp, "_reason": decision.reason}
        if not decision.counted:
            flags.append(_flag(row, SCREENING_CHECKS[decision.reason], _screening_detail(decision, pseudo)))
        rows.append(row)
    return rows


def _screening_detail(decision: Decision, pseudo: Callable[[str], str]) -> str:
    """The detail of a screening flag: the ``_id`` kept, the validation status, or the person picked."""
    if decision.kept:
        return decision.kept
    if decision.reason in ("not_approved", "not_yet_approved"):
        return str(decision.value)
    if decision.reason in ("no_respondent", "not_on_roster"):
        return pseudo(decision.respondent) if decision.respondent else "-"
    return ""


def interview_flags(w: Wave, rows: list[dict], study: Any, inst: Any, pseudo: Callable[[str], str],
                    s: Settings) -> list[dict]:
    """The monitor's own checks of one wave's submissions (duplicates are not checked): an older
    form version, a time that cannot be read, and — with consent — too short, straightlining in a
    Likert block, naming oneself or someone not on the roster."""
    smap = scale_map(inst)
    blocks = {d: list(g["item"]) for d, g in smap.groupby("dimension", sort=False)}
    ties = {t: spec for t, spec in tie_questions(inst).items() if t in study.tie_types}
    respondent, on_roster = inst.respondent_question(), set(w.roster)
    flags = []
    for r in (r for r in rows if r["_reason"] not in ("duplicate_upload", "same_submission_twice")):
        if w.deployed_version and r["version"] and r["version"] != w.deployed_version:
            flags.append(_flag(r, "old_version", r["version"]))
        for key in ("start", "end"):  # a phone clock or an edit that left no time: length and day unknown
            value = r["_sub"].get(key)
            if value not in (None, "") and _time(value) is None:
                flags.append(_flag(r, "bad_time", f"{key}:{str(value)[:40]}"))
        if not r["consent"]:
            continue
        sub, xp = r["_sub"], r["_xp"]
        if not math.isnan(r["minutes"]) and r["minutes"] < s.min_minutes:
            flags.append(_flag(r, "too_short", f"{r['minutes']:.1f}"))
        for dim, items in blocks.items():
            values = [sub.get(xp.get(i, i)) for i in items]
            values = [v for v in values if v not in (None, "")]
            if len(values) >= s.straightline_min_items and len(set(values)) == 1:
                flags.append(_flag(r, "straightlining", f"{dim}:{values[0]}×{len(values)}"))
        rid = str(sub.get(xp[respondent.name]) or "").strip()
        for t, spec in ties.items():
            for alter in _named(sub, xp, spec):
                if rid and alter == rid:
                    flags.append(_flag(r, "self_nomination", t))
                elif alter not in on_roster:
                    flags.append(_flag(r, "off_roster", f"{t}:{pseudo(alter)}"))
    return flags


def _named(sub: dict[str, Any], xp: dict[str, str], spec: dict[str, Any]) -> list[str]:
    """The people a submission names in one name generator, each once."""
    return list(dict.fromkeys(str(sub.get(_key(xp, spec["field"])) or "").split()))


def named_nobody_flags(rows: list[dict], study: Any, inst: Any, s: Settings) -> list[dict]:
    """``named_nobody``: a consenting, not duplicate submission that names nobody in a module where
    the wave's median respondent names at least ``nobody_median`` people."""
    ties = {t: spec for t, spec in tie_questions(inst).items() if t in study.tie_types}
    asked = [r for r in rows if r["_reason"] not in ("duplicate_upload", "same_submission_twice") and r["consent"]]
    nominations = [(r, t, len(_named(r["_sub"], r["_xp"], spec))) for r in asked for t, spec in ties.items()]
    if not nominations:
        return []
    nom = pd.DataFrame([{"wave": r["wave"], "tie_type": t, "n": n} for r, t, n in nominations])
    med = nom.groupby(["wave", "tie_type"])["n"].median().to_dict()
    return [_flag(r, "named_nobody", f"{t}:{med[(r['wave'], t)]:g}") for r, t, n in nominations
            if n == 0 and med[(r["wave"], t)] >= s.nobody_median]


def _sorted_flags(flags: list[dict], waves: list[Wave]) -> pd.DataFrame:
    """The flags as a table in the page's order: wave, check (:data:`CHECKS`), submission, detail."""
    order = {c: i for i, c in enumerate(CHECKS)}
    f = pd.DataFrame(flags, columns=FLAG_COLUMNS)
    if len(f):
        f = (f.assign(_o=f["check"].map(order), _w=f["wave"].map({w.id: i for i, w in enumerate(waves)}),
                      _s=pd.to_numeric(f["submission_id"], errors="coerce"))
             .sort_values(["_w", "_o", "_s", "detail"], kind="stable").drop(columns=["_o", "_w", "_s"])
             .reset_index(drop=True))
    return f


# --------------------------------------------------------------------------------------------
# people


def _groups(waves: list[Wave], subs: pd.DataFrame) -> dict[str, dict[str, str]]:
    """wave → {pseudonym: group}: the answer in the wave, else the nearest other wave's."""
    kept = subs[subs["kept"] & (subs["group"] != UNKNOWN)]
    by_wave = {w.id: dict(zip(kept.loc[kept["wave"] == w.id, "respondent_id"],
                              kept.loc[kept["wave"] == w.id, "group"])) for w in waves}
    ids = [w.id for w in waves]
    out = {}
    for i, w in enumerate(ids):
        merged: dict[str, str] = {}
        # farthest first, so nearer waves (earlier ones before later ones at equal distance) win
        others = sorted((j for j in range(len(ids)) if j != i), key=lambda j: (abs(j - i), j > i), reverse=True)
        for j in others:
            merged.update(by_wave[ids[j]])
        merged.update(by_wave[w])
        out[w] = merged
    return out


def coverage(waves: list[Wave], subs: pd.DataFrame, study: Any, pseudo: Callable[[str], str],
             target: float = 0.8) -> pd.DataFrame:
    """Coverage of each wave's roster per group and overall.

    Returns
    -------
    pandas.DataFrame
        One row per wave × group (each level of the study's group, ``unknown``, then ``all``):
        ``wave``, ``group``, ``roster_n`` (roster members whose group is that one),
        ``interviewed``, ``refused``, ``not_yet`` (see the module docstring for the rules),
        ``coverage`` (``interviewed / roster_n``; NaN for an empty row and for ``unknown``),
        ``target``, ``met`` (``coverage >= target``).
    """
    groups = _groups(waves, subs)
    rows = []
    for w in waves:
        s = subs[subs["wave"] == w.id]
        interviewed = set(s.loc[s["kept"], "respondent_id"])
        roster = [pseudo(r) for r in w.roster]
        g_of = {p: groups[w.id].get(p, UNKNOWN) for p in roster}
        refusals = s[~s["consent"]]
        named = refusals[(refusals["respondent_id"] != "") & refusals["on_roster"]
                         & ~refusals["respondent_id"].isin(interviewed)]
        refused_people = {p: g_of.get(p, UNKNOWN) for p in named["respondent_id"]}
        anonymous = int((refusals["respondent_id"] == "").sum()
                        + ((refusals["respondent_id"] != "") & ~refusals["on_roster"]).sum())
        for g in list(study.group_values) + [UNKNOWN, ALL]:
            members = [p for p in roster if g == ALL or g_of[p] == g]
            n = len(members)
            inter = len(interviewed & set(members))
            ref = sum(1 for p, pg in refused_people.items() if g == ALL or pg == g)
            if g == ALL:
                ref += anonymous
            cov = inter / n if n and g != UNKNOWN else math.nan
            rows.append({"wave": w.id, "group": g, "roster_n": n, "interviewed": inter, "refused": ref,
                         "not_yet": max(n - inter - ref, 0), "coverage": cov, "target": target,
                         "met": bool(n) and g != UNKNOWN and cov >= target})
    return pd.DataFrame(rows, columns=COVERAGE_COLUMNS)


def missing(waves: list[Wave], subs: pd.DataFrame, pseudo: Callable[[str], str]) -> pd.DataFrame:
    """Who is still to be interviewed in each wave.

    Returns
    -------
    pandas.DataFrame
        One row per wave × person: every roster member of the wave without a counted interview,
        and (in a follow-up wave) every baseline respondent without one, on the roster or not.
        ``wave``, ``respondent_id`` (pseudonym), ``group`` (as in :func:`coverage`),
        ``on_roster`` (on this wave's roster), ``baseline`` (interviewed in the first wave),
        ``last_wave`` (the latest earlier wave with an interview, ``""`` if none),
        ``last_enumerator`` (who did that interview). The attrition chase list is
        ``baseline & (wave != first wave)``.
    """
    groups = _groups(waves, subs)
    kept = subs[subs["kept"]]
    first = waves[0].id
    baseline = list(dict.fromkeys(kept.loc[kept["wave"] == first, "respondent_id"]))
    rows = []
    for i, w in enumerate(waves):
        done = set(kept.loc[kept["wave"] == w.id, "respondent_id"])
        roster = [pseudo(r) for r in w.roster]
        on_roster, in_baseline = set(roster), set(baseline) if i > 0 else set()
        people = list(dict.fromkeys(roster + (baseline if i > 0 else [])))
        earlier = kept[kept["wave"].isin([x.id for x in waves[:i]])]  # in wave order: the latest wins
        last = {p: (wv, e) for p, wv, e in zip(earlier["respondent_id"], earlier["wave"], earlier["enumerator"])}
        for p in people:
            if p in done:
                continue
            wv, e = last.get(p, ("", ""))
            rows.append({"wave": w.id, "respondent_id": p, "group": groups[w.id].get(p, UNKNOWN),
                         "on_roster": p in on_roster, "baseline": p in in_baseline,
                         "last_wave": wv, "last_enumerator": e})
    return pd.DataFrame(rows, columns=MISSING_COLUMNS)


# --------------------------------------------------------------------------------------------
# enumerators and days


def enumerators(subs: pd.DataFrame, flags: pd.DataFrame) -> pd.DataFrame:
    """Per wave × enumerator (``_submitted_by``).

    Returns
    -------
    pandas.DataFrame
        ``wave``, ``enumerator``, ``submissions``, ``days`` (days with a submission),
        ``per_day`` (submissions / days), ``median_minutes`` (of interviews with consent),
        ``flagged`` (submissions with at least one flag), ``share_flagged``.
    """
    if subs.empty:
        return pd.DataFrame(columns=ENUMERATOR_COLUMNS)
    flagged = set(zip(flags["wave"], flags["submission_id"]))
    s = subs.assign(_f=[k in flagged for k in zip(subs["wave"], subs["submission_id"])],
                    _m=subs["minutes"].where(subs["consent"]))
    g = s.groupby(["wave", "enumerator"], sort=False)
    out = pd.DataFrame({"submissions": g.size(), "days": g["day"].nunique(), "median_minutes": g["_m"].median(),
                        "flagged": g["_f"].sum()}).reset_index()
    out["per_day"] = out["submissions"] / out["days"].where(out["days"] > 0)
    out["share_flagged"] = out["flagged"] / out["submissions"]
    out["flagged"] = out["flagged"].astype(int)
    order = {w: i for i, w in enumerate(dict.fromkeys(subs["wave"]))}  # study order, as the submissions came
    out = out.assign(_o=out["wave"].map(order)).sort_values(["_o", "enumerator"], kind="stable")
    return out[ENUMERATOR_COLUMNS].reset_index(drop=True)


def daily(subs: pd.DataFrame) -> pd.DataFrame:
    """Submissions per wave × day × enumerator.

    Returns
    -------
    pandas.DataFrame
        ``wave``, ``day`` (ISO date), ``enumerator``, ``submissions``.
    """
    if subs.empty:
        return pd.DataFrame(columns=["wave", "day", "enumerator", "submissions"])
    return (subs.groupby(["wave", "day", "enumerator"], sort=False).size().rename("submissions").reset_index()
            .sort_values(["day", "enumerator"], kind="stable").reset_index(drop=True))


# --------------------------------------------------------------------------------------------
# what changed since the last run


def state(subs: pd.DataFrame, flags: pd.DataFrame) -> dict[str, Any]:
    """What a run saw, to compare the next run with (``monitor_state.json``; pseudonyms only).

    ``{"waves": {wave: {"submissions": [_id…], "flags": ["_id:check"…], "interviewed": [pseudonym…]}}}``
    """
    out: dict[str, Any] = {"waves": {}}
    for w in dict.fromkeys(subs["wave"]):
        s = subs[subs["wave"] == w]
        f = flags[flags["wave"] == w]
        out["waves"][w] = {
            "submissions": sorted(s["submission_id"].unique().tolist(), key=lambda x: (len(x), x)),
            "flags": sorted(set(f"{a}:{b}" for a, b in zip(f["submission_id"], f["check"]))),
            "interviewed": sorted(set(s.loc[s["kept"], "respondent_id"])),
        }
    return out


CHANGE_KINDS = ("new_submissions", "removed_submissions", "new_flags", "newly_covered")


def changes(previous: dict[str, Any] | None, current: dict[str, Any]) -> pd.DataFrame | None:
    """What is new in ``current`` compared with ``previous`` (``None``: first run → ``None``).

    Returns
    -------
    pandas.DataFrame or None
        One row per wave × kind (:data:`CHANGE_KINDS`): ``wave``, ``change``, ``n``, ``items``
        (the submission ids, ``_id:check`` pairs or pseudonyms, space-separated).
    """
    if previous is None:
        return None
    rows = []
    for w, cur in current["waves"].items():
        prev = (previous.get("waves") or {}).get(w, {})
        pairs = {
            "new_submissions": sorted(set(cur["submissions"]) - set(prev.get("submissions", [])), key=lambda x: (len(x), x)),
            "removed_submissions": sorted(set(prev.get("submissions", [])) - set(cur["submissions"]), key=lambda x: (len(x), x)),
            "new_flags": sorted(set(cur["flags"]) - set(prev.get("flags", []))),
            "newly_covered": sorted(set(cur["interviewed"]) - set(prev.get("interviewed", []))),
        }
        for kind in CHANGE_KINDS:
            rows.append({"wave": w, "change": kind, "n": len(pairs[kind]), "items": " ".join(pairs[kind])})
    return pd.DataFrame(rows, columns=["wave", "change", "n", "items"])


def read_state(path: Path) -> dict[str, Any] | None:
    """The previous run's state, ``None`` when there is none (a broken file stops with one line)."""
    path = Path(path)
    if not path.exists():
        return None
    try:
        body = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise SinergiError(f"{path}: not the monitor's state file (bad JSON); delete it and run again "
                           "(the next run then shows no 'since the last run' changes)") from None
    if not isinstance(body, dict) or not isinstance(body.get("waves"), dict):
        raise SinergiError(f"{path}: not the monitor's state file; delete it and run again")
    return body


# --------------------------------------------------------------------------------------------
# words (Bahasa Indonesia default, English)

def _strings() -> dict[str, dict[str, str]]:
    from .report.text import LANGUAGES, STRINGS as CATALOGUE

    return {lang: {k[len("monitor_"):]: v for k, v in CATALOGUE[lang].items() if k.startswith("monitor_")}
            for lang in LANGUAGES}


#: every word of the monitor page, per language: the report catalogue's ``monitor_<key>`` messages
#: (pipeline/report/locales/{id,en}.yaml)
STRINGS: dict[str, dict[str, str]] = _strings()


def words(lang: str, platform: str | None = None) -> dict[str, str]:
    """The monitor's words in ``lang``, in the words of the study's source kind ``platform`` where the
    catalogue has its own (``monitor_<platform>_<key>`` before ``monitor_<key>``: ODK Central's review
    state and instanceID, a Google sheet's rows, not KoboToolbox's validation status and ``_id``).

    >>> words("en", "odk")["check_not_approved"]
    'Not counted under the ODK Central review state ({d})'
    """
    base = STRINGS[lang]
    head = f"{platform}_" if platform else None
    if head is None:
        return base
    return {**base, **{k[len(head):]: v for k, v in base.items() if k.startswith(head)}}


#: a submission's status as :func:`pipeline.screening.screen` records it → ODK Central's name of the review
#: state it was read from (:data:`pipeline.sources.odk_adapter.REVIEW_STATUS`; ``none``: not reviewed)
ODK_REVIEW_STATES = {"validation_status_not_approved": "Rejected", "validation_status_on_hold": "Has issues",
                     "none": "Received"}


def fmt(x: Any, lang: str, digits: int = 0, pct: bool = False) -> str:
    """A number in the page's language (``id``: decimal comma); NaN → an en dash."""
    from .report.text import num

    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "–"
    return num(float(x) * 100, lang, digits) + " %" if pct else num(x, lang, digits)


def reason(check: str, detail: str, lang: str, settings: Settings | None = None, platform: str | None = None) -> str:
    """The flag's reason in ``lang``, from its ``check`` and ``detail``, in the words of the study's
    source kind ``platform`` (:func:`words`).

    >>> reason("too_short", "4.2", "en")
    'Interview too short: 4.2 minutes (minimum 10 minutes)'
    >>> reason("not_approved", "validation_status_on_hold", "en", platform="odk")
    'Not counted under the ODK Central review state (Has issues)'
    """
    s = settings or Settings()
    text = words(lang, platform)[f"check_{check}"]
    if check == "not_approved" and platform == "odk":
        detail = ODK_REVIEW_STATES.get(detail, detail)
    if check == "too_short":
        return text.format(d=fmt(float(detail), lang, 1), min=fmt(s.min_minutes, lang, 0))
    if check == "straightlining":
        block, rest = detail.split(":", 1)
        v, k = rest.split("×")
        return text.format(b=block, v=v, k=k)
    if check == "named_nobody":
        t, m = detail.split(":", 1)
        return text.format(t=t, m=fmt(float(m), lang, 1 if float(m) % 1 else 0))
    if check == "off_roster":
        t, p = detail.split(":", 1)
        return text.format(t=t, p=p)
    if check == "bad_time":
        f, v = detail.split(":", 1)
        return text.format(f=f, v=v)
    return text.format(d=detail)


def with_reasons(flags: pd.DataFrame, lang: str, settings: Settings | None = None,
                 platform: str | None = None) -> pd.DataFrame:
    """``flags`` with ``reason`` written in ``lang`` (in the words of the source kind ``platform``)."""
    return flags.assign(reason=[reason(c, d, lang, settings, platform)
                                for c, d in zip(flags["check"], flags["detail"])])


# --------------------------------------------------------------------------------------------
# the figure and the page


def daily_figure(day_counts: pd.DataFrame, waves: list[str], wave_label: Callable[[str], str],
                 title: Callable[[str], str] | None = None):
    """Bars of submissions per day, stacked by enumerator, one panel per wave with data."""
    import matplotlib.pyplot as plt

    from .report.figures import PALETTE

    day_counts = day_counts[day_counts["day"] != ""]  # a submission with no date at all is not drawn
    shown = [w for w in waves if (day_counts["wave"] == w).any()]
    people = sorted(day_counts["enumerator"].unique())
    colour = {e: PALETTE[i % len(PALETTE)] for i, e in enumerate(people)}
    fig, axes = plt.subplots(len(shown) or 1, 1, figsize=(4.8, 1.9 * max(len(shown), 1)), squeeze=False)
    for ax, w in zip(axes[:, 0], shown):
        d = day_counts[day_counts["wave"] == w]
        days = pd.date_range(d["day"].min(), d["day"].max(), freq="D").strftime("%Y-%m-%d").tolist()
        wide = d.pivot_table(index="day", columns="enumerator", values="submissions", aggfunc="sum",
                             fill_value=0).reindex(days, fill_value=0)
        bottom = np.zeros(len(days))
        x = np.arange(len(days))
        for e in people:
            v = wide[e].to_numpy() if e in wide else np.zeros(len(days))
            ax.bar(x, v, bottom=bottom, color=colour[e], width=0.8, label=e)
            bottom += v
        step = max(1, math.ceil(len(days) / 6))
        ax.set_xticks(x[::step], [d_[5:] for d_ in days[::step]])
        ax.set_title(wave_label(w), loc="left")
        ax.yaxis.get_major_locator().set_params(integer=True)
    fig.tight_layout()
    if people:  # below the panels: the figure grows to hold it (render uses bbox_inches="tight")
        handles, names = axes[0, 0].get_legend_handles_labels()
        fig.legend(handles, names, fontsize=7.5, frameon=False, ncols=min(len(people), 3), loc="upper center",
                   bbox_to_anchor=(0.5, 0.0))
    return fig


def names_rows(miss: pd.DataFrame, waves: list[Wave], pseudo: Callable[[str], str]) -> pd.DataFrame:
    """``miss`` with the roster ``label`` of each person (personal data: the private list only).

    Returns
    -------
    pandas.DataFrame
        :data:`MISSING_COLUMNS` + ``label`` (the latest wave's roster label; ``""`` if none).
    """
    labels: dict[str, str] = {}
    for w in waves:
        labels.update({pseudo(r): lab for r, lab in w.labels.items()})
    return miss.assign(label=[labels.get(p, "") for p in miss["respondent_id"]])


TEMPLATES = Path(__file__).resolve().parent / "report" / "templates"
#: longest list of people shown on the page per wave; the CSV and the private list have everyone
LIST_MAX = 300


def _env():
    return jinja2.Environment(loader=jinja2.FileSystemLoader(str(TEMPLATES)),
                              autoescape=jinja2.select_autoescape(["html", "j2"]),
                              trim_blocks=True, lstrip_blocks=True, undefined=jinja2.StrictUndefined)


def _people(df: pd.DataFrame, study: Any, lang: str, T: dict, with_labels: bool) -> list[dict]:
    return [{"id": r["respondent_id"], "group": _group_label(study, r["group"], lang, T),
             "last": r["last_enumerator"] or T["unassigned"], "on_roster": T["y" if r["on_roster"] else "n"],
             "label": r.get("label", "") if with_labels else ""}
            for _, r in df.head(LIST_MAX).iterrows()]


def _group_label(study: Any, g: str, lang: str, T: dict) -> str:
    if g in (ALL, UNKNOWN):
        return T[g]
    return study.group_label(g, lang)


def page_html(study: Any, lang: str, *, cov: pd.DataFrame, flags: pd.DataFrame, enum: pd.DataFrame,
              miss: pd.DataFrame, change: pd.DataFrame | None, figure_png: bytes, as_of: str, run_at: str,
              names_path: str, settings: Settings | None = None, labels: pd.DataFrame | None = None,
              private: bool = False) -> str:
    """The monitor page (one self-contained HTML file, phone-first).

    ``labels``: :func:`names_rows` of ``miss``, shown only for the private names list
    (``private=True``) or when the study sets ``privacy.show_names``.
    """
    s = settings or Settings()
    T = words(lang, _platform(study))
    show = private or bool(study.privacy.show_names)
    people = labels if (show and labels is not None) else miss
    if private:  # each enumerator finds their own people together
        people = people.sort_values(["last_enumerator", "respondent_id"], kind="stable")
    waves = [w for w in study.wave_ids if (cov["wave"] == w).any()]
    first = waves[0] if waves else None
    wl = {w: study.wave_label(w, lang) for w in waves}
    per = []
    for w in waves:
        c = cov[cov["wave"] == w]
        a = c[c["group"] == ALL].iloc[0]
        gap = max(math.ceil(s.target * a["roster_n"] - 1e-9) - a["interviewed"], 0)
        block: dict[str, Any] = {
            "wave": wl[w], "cov_pct": fmt(a["coverage"], lang, 0, pct=True), "met": bool(a["met"]),
            "pct": 0 if math.isnan(a["coverage"]) else min(100, round(a["coverage"] * 100)),
            "summary": T["summary"].format(wave=wl[w], inter=fmt(a["interviewed"], lang), n=fmt(a["roster_n"], lang),
                                           cov=fmt(a["coverage"], lang, 0, pct=True),
                                           target=fmt(s.target, lang, 0, pct=True),
                                           met=T["summary_met"] if a["met"] else T["summary_not"].format(gap=gap)),
            "cov": [], "flags": [], "enum": [], "changes": [], "chase": None}
        for _, r in c.iterrows():
            if r["group"] == UNKNOWN and r["roster_n"] == 0 and r["refused"] == 0:
                continue
            block["cov"].append({"group": _group_label(study, r["group"], lang, T), "all": r["group"] == ALL,
                                 "cells": [fmt(r[k], lang) for k in ("roster_n", "interviewed", "refused", "not_yet")],
                                 "cov": fmt(r["coverage"], lang, 0, pct=True),
                                 "met": "" if math.isnan(r["coverage"]) else T["yes" if r["met"] else "no"]})
        for _, r in flags[flags["wave"] == w].iterrows():
            block["flags"].append({"id": r["submission_id"], "day": r["day"], "enum": r["enumerator"],
                                   "resp": r["respondent_id"] or "–", "check": r["check"], "reason": r["reason"]})
        for _, r in enum[enum["wave"] == w].iterrows():
            block["enum"].append({"enum": r["enumerator"], "cells": [
                fmt(r["submissions"], lang), fmt(r["per_day"], lang, 1), fmt(r["median_minutes"], lang, 0),
                fmt(r["share_flagged"], lang, 0, pct=True)]})
        m = people[(people["wave"] == w) & people["on_roster"]]
        block["miss"] = {"n": len(m), "people": _people(m, study, lang, T, show), "more": max(len(m) - LIST_MAX, 0)}
        if w != first:
            ch = people[(people["wave"] == w) & people["baseline"]]
            block["chase"] = {"n": len(ch), "people": _people(ch, study, lang, T, show),
                              "more": max(len(ch) - LIST_MAX, 0)}
        if change is not None:
            for _, r in change[change["wave"] == w].iterrows():
                ids = r["items"].split()
                block["changes"].append({"what": T[r["change"]], "n": fmt(r["n"], lang), "ids": ids[:40],
                                         "more": max(len(ids) - 40, 0)})
        per.append(block)
    img = "data:image/png;base64," + base64.b64encode(figure_png).decode("ascii") if figure_png else ""
    return _env().get_template("monitor.html.j2").render(
        lang=lang, T=T, title=study.title, as_of=as_of, run_at=run_at, target=fmt(s.target, lang, 0, pct=True),
        target_pct=round(s.target * 100), per=per, any_chase=any(b["chase"] is not None for b in per),
        first_run=change is None, img=img, show_names=show, private=private,
        names_note=T["names_note"].format(names=names_path),
        names_shown=bool(study.privacy.show_names) and not private,
        css=(TEMPLATES / "monitor.css").read_text(encoding="utf-8"))


def _platform(study: Any) -> str | None:
    """The study's source kind (``kobo``, ``odk``, ``google_forms``, …), None for a study without one."""
    return getattr(getattr(study, "source", None), "kind", None)


#: where the names list goes: outside reports/ and data/processed/, git-ignored (.gitignore)
PRIVATE_DIR = Path("data") / "private"


def run(study: Any, inst: Any, waves: list[Wave], pseudo: Callable[[str], str], *,
        previous: dict[str, Any] | None = None, as_of: str = "", run_at: str = "",
        names_path: str = "") -> dict[str, Any]:
    """Every output of the monitor, from the waves' inputs (no files read or written).

    Returns
    -------
    dict
        ``coverage``, ``flags`` (with reasons in the study's language), ``enumerators``,
        ``daily``, ``missing`` (pseudonyms only; see the functions of those names),
        ``changes`` (None on a first run), ``state`` (for the next run), ``html`` (the page),
        ``names`` (``missing`` with roster labels) and ``names_html`` (the private names list).
    """
    from .report import figures as F
    from .report.figures import render

    s = Settings.of(study)
    lang = study.language
    subs, flags = submissions_table(waves, study, inst, pseudo, s)
    flags = with_reasons(flags, lang, s, _platform(study))
    cov = coverage(waves, subs, study, pseudo, s.target)
    miss = missing(waves, subs, pseudo)
    enum = enumerators(subs, flags)
    days = daily(subs)
    st = state(subs, flags)
    change = changes(previous, st)
    names = names_rows(miss, waves, pseudo)
    F.setup()
    png = render(daily_figure(days, study.wave_ids, lambda w: study.wave_label(w, lang)))[0] if len(days) else b""
    common = dict(cov=cov, flags=flags, enum=enum, miss=miss, change=change, figure_png=png, as_of=as_of,
                  run_at=run_at, names_path=names_path, settings=s, labels=names)
    return {"coverage": cov, "flags": flags, "enumerators": enum, "daily": days, "missing": miss,
            "changes": change, "state": st, "names": names,
            "html": page_html(study, lang, **common),
            "names_html": page_html(study, lang, private=True, **common)}
