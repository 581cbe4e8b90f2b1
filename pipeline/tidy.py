"""Tidy: raw source data → the canonical tables.

KoboToolbox-shaped submissions (from the API, from export files, or from the demo) are read with
the instrument's annotations (``role``, ``var``, ``scale``, ``tie_type``) by :func:`tidy_kobo`;
``tables`` studies are read from their CSVs (:func:`tidy_tables`, through
:mod:`pipeline.sources.tables`). Both end in :mod:`pipeline.schemas`' tables plus two reports on
the data:

- ``quality``: one row per problem found and what was done about it (duplicates, refusals,
  self-nominations, nominations of people not on the roster, submissions marked Not Approved);
- ``sample``: respondents per wave × group, blank questionnaires, retained, attrition and newcomers.

The KoboToolbox route, one wave (of one village) at a time:

1. read the wave's raw folder (:func:`pipeline.sources.raw.read_wave`): its record files replayed in
   order — a later row of the same ``_id`` replaces the earlier one (an edit, a new validation
   status) and a sweep removes what was deleted on the server, each such change a ``quality`` row
   (:func:`server_changes`) —, or its export read;
2. decide which submissions count (:func:`pipeline.screening.screen`, the rule the fieldwork
   monitor uses too): duplicates, submissions not counted under the study's ``validation`` rule,
   refusals and a respondent's earlier submissions are left out, each a ``quality`` row
   (:func:`screening_rows`); a submission naming nobody, or someone not on the roster, stops the run;
3. read each counted submission with the form of its own ``__version__`` (a question moved or
   renamed between versions keeps its answers): its respondent row (:func:`respondent_row`), its
   scale answers (:func:`response_rows`) and its nominations (:func:`tie_rows`; self-nominations and
   names not on the roster are dropped, each a ``quality`` row). An out-of-range or unparseable
   answer stops the run, naming the wave, submission, field and value.

``sinergi tidy`` takes the frames from :func:`tidied`: a ``tables`` study's large CSVs are read in
blocks and its responses and ties written a village at a time (:mod:`pipeline.sources.table_blocks`),
the same files as :func:`run` gives.

For every route: roster ids become pseudonyms (:mod:`pipeline.pseudonym`), stable across waves, so
names never leave raw; a blank questionnaire (a study with scale items: no item answered and
nobody named) is left out and listed (:func:`leave_out_blank`): a person is *in a wave* when their
questionnaire of that wave has at least one answer, and that one definition is what every count of
people uses.
"""

from __future__ import annotations

import contextlib
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from . import schemas
from .config import Study
from .errors import SinergiError
from .io import note, read_json, take_notes
from .order import canonical_tables
from .instrument import Instrument, Question, check_study, scale_map, tie_questions
from .privacy import check_keep_columns
from .pseudonym import check_collisions, pseudonym_width, pseudonymizer, read_key, stamp_key
from .schemas import QUALITY_COLUMNS, quality_row
from .screening import VALIDATION, Decision, counts, screen
from .sources.raw import RawWave, read_wave
from .sources import table_blocks
from .sources.tables import read_tables

#: the "none of them" choices of a select_multiple covariate (not counted in its ``<var>_n``)
NONE_CHOICES = {"tidak_ada", "none"}
#: a select_one covariate with exactly these choices is a 1/0 indicator
YES, NO = "ya", "tidak"


# --------------------------------------------------------------------------------------------
# parsing answers


def _range(q: Question) -> tuple[float | None, float | None]:
    """Bounds of an integer question from a constraint like ``. >= 0 and . <= 100``."""
    c = q.get("constraint") or ""
    lo = re.search(r"\.\s*>=\s*(-?[\d.]+)", c)
    hi = re.search(r"\.\s*<=\s*(-?[\d.]+)", c)
    return (float(lo.group(1)) if lo else None, float(hi.group(1)) if hi else None)


#: what to do about a bad answer (the end of :func:`_fail`'s message), and in the other platforms
FIX = "Fix it in KoboToolbox (edit the submission, or mark it Not Approved) and run `make pull` again"
FIXES = {"odk": "Fix it in ODK Central (edit the submission, or mark it Rejected) and run `make pull` again",
         "google_forms": "Fix the answer in the form's linked Sheet (or delete that response in Google Forms), "
                         "download the responses again and run `make pull`"}


def _fail(wave: str, sub: dict[str, Any], q: Question, value: Any, why: str) -> SinergiError:
    """The error for a bad answer: wave, submission (``_id`` and instanceID), field, value and why."""
    sid = sub.get("_id", "?")
    iid = sub.get("meta/instanceID", "")
    return SinergiError(f"wave {wave}, submission _id {sid} ({iid}): field {q.xpath} = {value!r} {why}. {FIX}")


def for_source(exc: SinergiError, kind: str) -> SinergiError:
    """A bad-answer error (:func:`_fail`) saying what to do in the platform of source ``kind``: a
    Google Forms submission is named by its spreadsheet row (its ``_id``).

    >>> q = Question("integer", "umur", "profil/umur", {})
    >>> str(for_source(_fail("pre", {"_id": 14, "meta/instanceID": "uuid:x"}, q, "250", "is too large"),
    ...                "google_forms"))[:58]
    "wave pre, spreadsheet row 14: field profil/umur = '250' is"
    """
    text = str(exc)
    if kind not in FIXES or not text.endswith(FIX):
        return exc
    text = text[: -len(FIX)] + FIXES[kind]
    if kind == "google_forms":
        text = re.sub(r"submission _id (\d+) \([^)]*\)", r"spreadsheet row \1", text, count=1)
    return SinergiError(text)


def parse_value(inst: Instrument, q: Question, value: str, wave: str, sub: dict[str, Any]) -> Any:
    """Parse one answer string of submission ``sub`` as the question's type; bad answers stop the run."""
    t = q.base_type
    if t == "integer" or t == "decimal":
        try:
            x = float(value)
        except (TypeError, ValueError):
            raise _fail(wave, sub, q, value, "is not a number") from None
        if not np.isfinite(x):
            raise _fail(wave, sub, q, value, "is not a finite number")
        if t == "integer" and x != int(x):
            raise _fail(wave, sub, q, value, "is not a whole number (the question is an integer)")
        lo, hi = _range(q)
        if (lo is not None and x < lo) or (hi is not None and x > hi):
            span = f"{'' if lo is None else f'{lo:g}'}..{'' if hi is None else f'{hi:g}'}"
            raise _fail(wave, sub, q, value, f"is outside the allowed range {span}")
        return x
    if t == "select_one":
        names = inst.choice_names(q.list_name)
        if value not in names:
            raise _fail(wave, sub, q, value, f"is not one of {', '.join(names)}")
        return value
    if t == "select_multiple":
        names = set(inst.choice_names(q.list_name))
        tokens = str(value).split()
        bad = [v for v in tokens if v not in names]
        if bad:
            raise _fail(wave, sub, q, value, f"has {bad[0]!r}, not one of {', '.join(sorted(names))}")
        return tokens
    return value


def _covariates(inst: Instrument, sub: dict[str, Any], wave: str, xpaths: dict[str, str]) -> dict[str, Any]:
    """Every covariate (``var`` question) of a submission; a select_multiple also as 1/0 per choice and a count."""
    out: dict[str, Any] = {}
    for q in inst.questions:
        var = q.get("var")
        if not var:
            continue
        raw = sub.get(xpaths[q.name])
        if q.base_type == "select_multiple":
            choices = [c for c in inst.choice_names(q.list_name) if c not in NONE_CHOICES]
            tokens = parse_value(inst, q, raw, wave, sub) if raw is not None else None
            out[var] = " ".join(tokens) if tokens is not None else None
            for c in choices:
                out[f"{var}_{c}"] = np.nan if tokens is None else float(c in tokens)
            out[f"{var}_n"] = np.nan if tokens is None else float(sum(t in choices for t in tokens))
        elif raw is None:
            out[var] = np.nan if q.base_type in ("integer", "decimal") else None
        else:
            value = parse_value(inst, q, raw, wave, sub)
            if q.base_type == "select_one" and set(inst.choice_names(q.list_name)) == {YES, NO}:
                value = 1.0 if value == YES else 0.0
            out[var] = value
    return out


# --------------------------------------------------------------------------------------------
# the KoboToolbox route


@dataclass
class _Tables:
    """The canonical tables' rows as the submissions are read, and every roster id met → pseudonym."""

    respondents: list[dict] = field(default_factory=list)
    responses: list[dict] = field(default_factory=list)
    ties: list[dict] = field(default_factory=list)
    quality: list[dict] = field(default_factory=list)
    pseudonyms: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Reading:
    """What reading a counted submission needs: the study, the instrument, its scale items and name
    generators (:func:`pipeline.instrument.tie_questions`), and the pseudonym function."""

    study: Study
    inst: Instrument
    items: list[str]
    ties: dict[str, dict[str, Any]]
    pseudo: Callable[[str], str]

    @classmethod
    def of(cls, study: Study, inst: Instrument, pseudo: Callable[[str], str]) -> "Reading":
        ties = tie_questions(inst)
        unknown = [t for t in study.tie_types if t not in ties]
        if unknown:
            raise SinergiError(f"study tie_types: {unknown[0]!r} has no name generator in the instrument "
                               f"(instrument has {', '.join(ties)})")
        return cls(study, inst, list(scale_map(inst)["item"]), ties, pseudo)


def tidy_kobo(study: Study, inst: Instrument, raw_dir: Path) -> dict[str, pd.DataFrame]:
    """Canonical tables from a KoboToolbox-shaped raw folder (sources demo, kobo, kobo_files).

    Returns
    -------
    dict of pandas.DataFrame
        ``respondents``, ``responses``, ``ties``, ``scale_map`` (see :mod:`pipeline.schemas`),
        ``quality`` (wave, submission_id, respondent_id, issue, field, value, action, detail) and
        ``sample`` (see :func:`sample_flow`).
    """
    raw_dir = Path(raw_dir)
    reading = Reading.of(study, inst, pseudonymizer(read_key(raw_dir), pseudonym_width(raw_dir)))
    tables = _Tables()
    for site, site_dir, wave in site_waves(study, raw_dir):
        raw = read_wave(site_dir, wave, inst)
        try:
            decisions = screen(raw.submissions, raw.roster, inst, raw.forms.xpaths, validation=study.validation,
                               wave=wave)
            tables.quality.extend([*raw.notes, *server_changes(raw, study.validation),
                                   *screening_rows(decisions, wave, inst, reading.pseudo, len(raw.roster)),
                                   *raw.forms.notes()])
            for decision in (d for d in decisions if d.counted):
                _read_submission(reading, decision, site, raw, tables)
        except SinergiError as exc:
            raise for_source(exc, study.source.kind) from None
    check_collisions(tables.pseudonyms, raw_dir)
    if not tables.respondents and study.validation == "approved_only":
        _none_approved(study, tables.quality)
    out = _frames(tables.respondents, tables.responses, tables.ties, tables.quality)
    out["scale_map"] = scale_map(inst)
    return _without_blank(out, study)


def server_changes(raw: RawWave, validation: str = "exclude_not_approved") -> list[dict]:
    """Quality rows for what changed on the server after a submission was first pulled.

    An edit (same ``_id``, new ``meta/instanceID``) and a deletion always get a row; a change of
    validation status gets one when it changes whether the submission counts (see
    :func:`pipeline.screening.counts`). Returns rows with :data:`QUALITY_COLUMNS`.
    """
    rows = []
    for e in raw.events:
        sid = str(e["_id"])
        if e["kind"] == "edited":
            rows.append(quality_row("edited_on_server", "used_edited", wave=raw.id, submission_id=sid,
                                    field="meta/instanceID", value=f"{e['old']} → {e['new']}"))
        elif e["kind"] == "deleted":
            rows.append(quality_row("deleted_on_server", "left_out", wave=raw.id, submission_id=sid, field="_id",
                                    value=sid))
        elif counts(e["old"], validation) != counts(e["new"], validation):
            rows.append(quality_row("validation_changed", "now_counted" if counts(e["new"], validation) else "now_left_out",
                                    wave=raw.id, submission_id=sid, field="_validation_status",
                                    value=f"{VALIDATION.get(e['old'], e['old'] or 'none')} → "
                                          f"{VALIDATION.get(e['new'], e['new'] or 'none')}"))
    return rows


#: screening reason → quality action (the reason is the quality issue)
SCREENING_ACTIONS = {"same_submission_twice": "kept_one", "duplicate_upload": "kept_later", "not_approved": "left_out",
                     "not_yet_approved": "left_out", "no_consent": "left_out", "respondent_twice": "kept_later"}


def screening_rows(decisions: list[Decision], wave: str, inst: Instrument, pseudo: Callable[[str], str],
                   roster_size: int) -> list[dict]:
    """Quality rows of the submissions :func:`pipeline.screening.screen` left out, in its order.

    Raises
    ------
    SinergiError
        A submission that names nobody, or someone not on the wave's roster (the form cannot
        produce either: the data was changed outside KoboToolbox), naming the submission.
    """
    rows = []
    for d in decisions:
        if d.reason in ("no_respondent", "not_on_roster"):
            why = ("is empty: the respondent did not pick themself from the roster" if d.reason == "no_respondent"
                   else f"is not on the wave's roster ({roster_size} names)")
            raise _fail(wave, d.submission, inst.respondent_question(), d.value, why)
        if d.counted:
            continue
        person = {"respondent_id": pseudo(d.respondent), "value": pseudo(d.respondent)} \
            if d.reason == "respondent_twice" else {"value": d.value}
        detail = {"kept": d.kept} if SCREENING_ACTIONS[d.reason] == "kept_later" else {}
        rows.append(quality_row(d.reason, SCREENING_ACTIONS[d.reason], wave=wave, submission_id=d.submission_id,
                                field=d.field, **person, **detail))
    return rows


def _read_submission(reading: Reading, decision: Decision, site: str, raw: RawWave, tables: _Tables) -> None:
    """Add one counted submission's rows to ``tables``: its respondent, answers and nominations."""
    pid = reading.pseudo(decision.respondent)
    tables.pseudonyms[decision.respondent] = pid
    tables.respondents.append(respondent_row(reading, decision, site, raw.id))
    tables.responses.extend(response_rows(reading, decision, raw.id))
    tables.ties.extend(tie_rows(reading, decision, site, raw, tables))


def respondent_row(reading: Reading, decision: Decision, site: str, wave: str) -> dict[str, Any]:
    """The respondents row of a counted submission: ``respondent_id``, ``wave``, ``group``, ``site``,
    ``submission_id``, ``submitted_at`` and every covariate (``var``) answered."""
    sub, keys, study, inst = decision.submission, decision.keys, reading.study, reading.inst
    group_var, group_q = study.group.variable, inst.by_role("group")[0]
    covs = _covariates(inst, sub, wave, keys)
    group_value = covs.get(group_var) if group_var in covs else \
        parse_value(inst, group_q, sub.get(keys[group_q.name]), wave, sub)
    if group_value is None or (isinstance(group_value, float) and np.isnan(group_value)):
        raise _fail(wave, sub, group_q, None, f"is missing: the group variable '{group_var}' must be answered")
    if str(group_value) not in study.group_values:
        raise _fail(wave, sub, group_q, group_value,
                    f"is not a group level of the study ({', '.join(study.group_values)})")
    return {"respondent_id": reading.pseudo(decision.respondent), "wave": wave, "group": str(group_value),
            "site": site, "submission_id": str(sub.get("_id")), "submitted_at": str(sub.get("_submission_time", "")),
            **covs}


def response_rows(reading: Reading, decision: Decision, wave: str) -> list[dict[str, Any]]:
    """The responses rows of a counted submission: one per scale item (NaN when not answered)."""
    sub, keys, inst, pid = decision.submission, decision.keys, reading.inst, reading.pseudo(decision.respondent)
    rows = []
    for item in reading.items:
        raw = sub.get(keys[item])
        value = np.nan if raw is None else float(parse_value(inst, inst.question(item), raw, wave, sub))
        rows.append({"respondent_id": pid, "wave": wave, "item": item, "value": value})
    return rows


def tie_rows(reading: Reading, decision: Decision, site: str, raw: RawWave, tables: _Tables) -> list[dict[str, Any]]:
    """The ties rows of a counted submission: one per person named per tie type, with the contact
    frequency when the form asks it; a self-nomination and a name not on the roster are dropped
    (each a quality row of ``tables``), the people named are added to ``tables.pseudonyms``."""
    sub, keys, rid, wave, pseudo = decision.submission, decision.keys, decision.respondent, raw.id, reading.pseudo
    pid, on_roster = pseudo(rid), raw.on_roster
    rows = []
    for tie_type in reading.study.tie_types:
        spec = reading.ties[tie_type]
        key = _key(keys, spec["field"])
        named = sub.get(key)
        if not named:
            continue
        weights = _weights(sub, spec, keys, reading.inst, wave)
        for alter in dict.fromkeys(str(named).split()):
            if alter == rid:
                tables.quality.append(quality_row("self_nomination", "dropped", wave=wave, submission_id=sub.get("_id"),
                                                  respondent_id=pid, field=key, value=pid))
            elif alter not in on_roster:
                tables.quality.append(quality_row("off_roster_nomination", "dropped", wave=wave,
                                                  submission_id=sub.get("_id"), respondent_id=pid, field=key,
                                                  value=pseudo(alter)))
            else:
                tables.pseudonyms[alter] = pseudo(alter)
                rows.append({"site": site, "wave": wave, "tie_type": tie_type, "ego": pid,
                             "alter": pseudo(alter), "weight": weights.get(alter, np.nan)})
    return rows


def _none_approved(study: Study, quality: list[dict]) -> None:
    """``validation: approved_only`` left nobody: say so, naming the study file and the key."""
    issues = [q["issue"] for q in quality]
    waiting, refused = issues.count("not_yet_approved"), issues.count("not_approved")
    if (waiting or refused) and study.source.kind == "odk":
        raise SinergiError(
            f"{study.file}: validation: approved_only: no submission in any wave is marked Approved in "
            f"ODK Central ({waiting} not reviewed yet or Has issues, {refused} Rejected); approve the checked ones "
            "(the form's Submissions → Review) and `make pull`, or write `validation: exclude_not_approved` "
            "to count every submission not marked Rejected")
    if waiting or refused:
        raise SinergiError(
            f"{study.file}: validation: approved_only: no submission in any wave is marked Approved in "
            f"KoboToolbox ({waiting} not reviewed yet, {refused} Not Approved); approve the checked ones "
            "(Data → Table → Validation status) and `make pull`, or write `validation: exclude_not_approved` "
            "to count every submission not marked Not Approved")


def site_waves(study: Study, raw_dir: Path):
    """(site, folder, wave) for the study's village and each further village in ``sites/<folder>/``
    (the demo's comparison villages: each folder holds a ``site.json`` naming its site)."""
    raw_dir = Path(raw_dir)
    sites = [(study.site, raw_dir)]
    if (raw_dir / "sites").is_dir():
        for folder in sorted(p for p in (raw_dir / "sites").iterdir() if p.is_dir()):
            meta = folder / "site.json"
            if not meta.is_file():
                raise SinergiError(f"{meta}: missing; every village folder under {raw_dir}/sites/ names its site")
            name = str(read_json(meta).get("site") or "").strip()
            if not name or name in [s for s, _ in sites]:
                raise SinergiError(f"{meta}: site {name!r} is empty or the name of another village")
            sites.append((name, folder))
    for site, folder in sites:
        for wave in study.wave_ids:
            yield site, folder, wave


def _key(xp: dict[str, str], xpath: str) -> str:
    """The key of instrument xpath ``xpath`` in a submission read with question keys ``xp``."""
    name = xpath.rsplit("/", 1)[-1]
    return xp.get(name, xpath)


def _weights(sub: dict, spec: dict, xp: dict[str, str], inst: Instrument, wave: str) -> dict[str, float]:
    """Contact frequency per person named, from the name generator's frequency repeat ({} without one)."""
    if not spec.get("repeat"):
        return {}
    rows = sub.get(_key(xp, spec["repeat"])) or []
    alter_key, weight_key = _key(xp, spec["alter"]), _key(xp, spec["weight"])
    weight_q = inst.question(weight_key.rsplit("/", 1)[-1])
    out: dict[str, float] = {}
    for row in rows if isinstance(rows, list) else []:
        alter, w = row.get(alter_key), row.get(weight_key)
        if alter and w is not None:
            out[alter] = float(parse_value(inst, weight_q, w, wave, sub))
    return out


def _frames(respondents, responses, ties, quality) -> dict[str, pd.DataFrame]:
    """The canonical tables validated (:func:`pipeline.schemas.validate`)."""
    r = pd.DataFrame(respondents)
    if r.empty:
        raise SinergiError("no usable submissions in any wave (after consent, duplicates and approval checks)")
    return {
        "respondents": schemas.validate("respondents", r),
        "responses": schemas.validate("responses", pd.DataFrame(responses, columns=["respondent_id", "wave", "item", "value"])),
        "ties": schemas.validate("ties", pd.DataFrame(ties, columns=["site", "wave", "tie_type", "ego", "alter", "weight"])),
        "quality": schemas.validate("quality", pd.DataFrame(quality, columns=QUALITY_COLUMNS)),
    }


def _without_blank(out: dict[str, pd.DataFrame], study: Study) -> dict[str, pd.DataFrame]:
    """``out`` without its blank questionnaires (:func:`leave_out_blank`), with the sample flow."""
    out, blank = leave_out_blank(out, out["scale_map"])
    out["sample"] = sample_flow(out["respondents"], study.wave_ids, blank, study.group_values)
    return out


# --------------------------------------------------------------------------------------------
# the tables route


@contextlib.contextmanager
def tidied(study: Study, inst: Instrument | None, raw_dir: Path,
           block_bytes: int = table_blocks.BLOCK_BYTES) -> Iterator[dict[str, Any]]:
    """The frames :func:`run_unordered` gives, for writing (``sinergi tidy``); a ``tables`` study's
    ``responses`` and ``ties`` as :class:`pipeline.partitions.SiteFrames` (a village at a time, in the
    canonical order) read from spill files under the processed folder, removed on leaving.

    A tables study is read in blocks (:func:`pipeline.sources.table_blocks.read_in_blocks`: the same
    tables, the same errors); one whose files need the whole-file reader (quotes, ``;`` separators,
    another encoding, …) is read whole, by :func:`run_unordered`.
    """
    if study.source.kind != "tables":
        yield run_unordered(study, inst, raw_dir)
        return
    check_keep_columns(study)
    folder = table_blocks.spill_dir(study.processed_dir)
    read = None
    try:
        read = _read_in_blocks(study, raw_dir, folder, block_bytes)
        if read is None:
            yield run_unordered(study, inst, raw_dir)
        else:
            yield _tables_in_blocks(study, raw_dir, read)
    finally:
        if read is not None:
            read.close()
        table_blocks.remove(folder)


def _read_in_blocks(study: Study, raw_dir: Path, folder: Path, block_bytes: int) -> table_blocks.Blocks | None:
    """:func:`pipeline.sources.table_blocks.read_in_blocks`; None (and its notes forgotten) when the
    files need the whole-file reader."""
    before = take_notes()
    for n in before:
        note(n)
    try:
        return table_blocks.read_in_blocks(study, raw_dir, folder, block_bytes)
    except table_blocks.NotSimple:
        take_notes()  # the attempt's notes: the whole-file reading makes its own
        for n in before:
            note(n)
        return None


def _tables_in_blocks(study: Study, raw_dir: Path, read: table_blocks.Blocks) -> dict[str, Any]:
    """:func:`tidy_tables`' frames (stamped) from a study read in blocks: the blank questionnaires
    left out (:func:`leave_out_blank`'s rule and quality rows), the sample flow; responses and ties
    as :class:`pipeline.partitions.SiteFrames`."""
    resp = schemas.validate("respondents", read.respondents)
    quality = schemas.validate("quality", pd.DataFrame(read.quality, columns=QUALITY_COLUMNS))
    smap = read.scale_map
    blank_rows = (~read.said & ~read.named) if len(smap) else np.zeros(len(resp), dtype=bool)
    blank = resp[blank_rows]
    if len(blank):
        if len(blank) == len(resp):
            raise SinergiError(EVERY_BLANK)
        quality = schemas.validate("quality", pd.concat([quality, _blank_quality(blank)], ignore_index=True))
        resp = resp[~blank_rows].reset_index(drop=True)
    frames = {"respondents": resp, "responses": read.responses(~blank_rows), "ties": read.ties(),
              "scale_map": smap, "quality": quality,
              "sample": sample_flow(resp, study.wave_ids, blank, study.group_values)}
    return stamp_key(study, frames, raw_dir)


def tidy_tables(study: Study, raw_dir: Path) -> dict[str, pd.DataFrame]:
    """Canonical tables from a ``tables`` study's CSVs (copied to ``data/raw/<id>/tables/``),
    read by :func:`pipeline.sources.tables.read_tables`. Returns the same frames as :func:`tidy_kobo`."""
    read = read_tables(study, raw_dir)
    out = _frames(read["respondents"], read["responses"], read["ties"], read["quality"])
    out["scale_map"] = read["scale_map"]
    return _without_blank(out, study)


# --------------------------------------------------------------------------------------------
# blank questionnaires and the sample flow


def blank_questionnaires(frames: dict[str, pd.DataFrame], scale_map: pd.DataFrame) -> pd.DataFrame:
    """The blank questionnaires: respondent × wave rows with no scale item answered and nobody named.

    A study without scale items has no blank questionnaire (naming nobody is an answer there).

    Parameters
    ----------
    frames : dict of pandas.DataFrame
        The canonical tables (``respondents``, ``responses``, ``ties``).
    scale_map : pandas.DataFrame
        The scale map (an empty one: no scale items).

    Returns
    -------
    pandas.DataFrame
        The rows of ``frames["respondents"]`` that are blank (all its columns; none when there are none).
    """
    resp = frames["respondents"]
    if scale_map is None or not len(scale_map) or not len(resp):
        return resp.iloc[:0]
    items, ties = frames["responses"], frames["ties"]
    answered = items["value"].notna().to_numpy()
    said = _pairs_in(resp["respondent_id"], resp["wave"], items["respondent_id"], items["wave"], answered)
    named = _pairs_in(resp["respondent_id"], resp["wave"], ties["ego"], ties["wave"])
    return resp[~said & ~named]


def _pairs_in(ids: pd.Series, waves: pd.Series, other_ids: pd.Series, other_waves: pd.Series,
              among: np.ndarray | None = None) -> np.ndarray:
    """Whether each (id, wave) pair of ``ids``/``waves`` occurs among the pairs ``other_ids``/``other_waves``
    (only the rows where ``among`` is true, when given), comparing their text: what
    ``pd.MultiIndex.isin`` says, from integer codes (no tuple or copy per row of the large table).

    >>> _pairs_in(pd.Series(["a", "a", "b"]), pd.Series(["pre", "post", "pre"]),
    ...           pd.Series(["a", "b", "b"]), pd.Series(["post", "pre", "pre"]), np.array([True, False, True])).tolist()
    [False, True, True]
    """
    ids, waves, other_ids, other_waves = (pa.array(s.astype(str)) for s in (ids, waves, other_ids, other_waves))
    known_ids, known_waves = pc.unique(ids), pc.unique(waves)
    width = max(len(known_waves), 1)

    def code(values, known) -> np.ndarray:  # position in ``known`` (−1: not there), in Arrow: no Python strings
        return pc.index_in(values, value_set=known, skip_nulls=False).fill_null(-1).to_numpy().astype(np.int64)

    mine = code(ids, known_ids) * width + code(waves, known_waves)
    i, w = code(other_ids, known_ids), code(other_waves, known_waves)
    found = (i >= 0) & (w >= 0) & (True if among is None else among)
    return np.isin(mine, (i * width + w)[found])


def leave_out_blank(frames: dict[str, pd.DataFrame], scale_map: pd.DataFrame) -> tuple[dict, pd.DataFrame]:
    """``frames`` without the blank questionnaires (:func:`blank_questionnaires`), each one a
    ``blank_questionnaire`` / ``left_out`` row of the quality table; and the blank rows.

    A person is *in a wave* when their questionnaire of that wave has at least one answer; this is
    the one definition the sample flow, the paired comparisons and the report use.
    """
    blank = blank_questionnaires(frames, scale_map)
    if not len(blank):
        return frames, blank
    if len(blank) == len(frames["respondents"]):
        raise SinergiError(EVERY_BLANK)
    resp, items = frames["respondents"], frames["responses"]
    keep_r = ~_pairs_in(resp["respondent_id"], resp["wave"], blank["respondent_id"], blank["wave"])
    keep_i = ~_pairs_in(items["respondent_id"], items["wave"], blank["respondent_id"], blank["wave"])
    quality = pd.concat([frames["quality"], _blank_quality(blank)], ignore_index=True)
    out = dict(frames, respondents=resp[keep_r].reset_index(drop=True), responses=items[keep_i].reset_index(drop=True),
               quality=schemas.validate("quality", quality))
    return out, blank


EVERY_BLANK = ("every questionnaire is blank (no scale item answered, nobody named): "
               "there is nothing to analyse")


def _blank_quality(blank: pd.DataFrame) -> pd.DataFrame:
    """A ``blank_questionnaire`` / ``left_out`` quality row per blank questionnaire, in ``blank``'s order."""
    sub = blank["submission_id"] if "submission_id" in blank else pd.Series("", index=blank.index)
    rows = [quality_row("blank_questionnaire", "left_out", wave=str(w), respondent_id=str(r),
                        submission_id="" if pd.isna(s) else s)
            for w, r, s in zip(blank["wave"], blank["respondent_id"], sub)]
    return pd.DataFrame(rows, columns=QUALITY_COLUMNS)


def sample_flow(respondents: pd.DataFrame, waves: list[str], blank: pd.DataFrame | None = None,
                levels: list[str] | None = None) -> pd.DataFrame:
    """Respondents per wave × group and how the panel changed.

    A respondent is in a wave when their questionnaire has at least one answer (the blank ones,
    ``blank``, are counted apart and in no other column).

    Parameters
    ----------
    respondents : pandas.DataFrame
        The canonical respondents table.
    waves : list of str
        The study's waves in order.
    blank : pandas.DataFrame, optional
        The blank questionnaires left out (:func:`blank_questionnaires`).
    levels : list of str, optional
        The study's group levels in order (the rows' order); groups not in it follow, sorted.

    Returns
    -------
    pandas.DataFrame
        ``wave``, ``group`` (each level in the study's order, then ``all``), ``n``, ``blank`` (blank questionnaires left
        out), ``retained`` (also in the previous wave), ``attrition`` (in the previous wave, not
        in this one), ``attrition_share`` (``attrition`` / the previous wave's ``n``),
        ``newcomers`` (not in the previous wave), ``in_first`` (also in the first wave: the
        people a comparison of this wave with the first can pair; NaN for the first wave),
        ``in_all_waves``.
    """
    rows = []
    sets = {w: respondents.loc[respondents["wave"] == w] for w in waves}
    all_ids = set.intersection(*(set(df["respondent_id"].tolist()) for df in sets.values())) if sets else set()
    first_ids = set(sets[waves[0]]["respondent_id"].tolist()) if waves else set()
    blank = respondents.iloc[:0] if blank is None else blank
    present = set(respondents["group"].astype(str)) | set(blank["group"].astype(str))
    groups = [g for g in (levels or []) if g in present] + sorted(present - set(levels or []))
    for i, w in enumerate(waves):
        cur = sets[w]
        prev = sets[waves[i - 1]] if i > 0 else None
        bw = blank[blank["wave"] == w]
        for g in groups + ["all"]:
            c = cur if g == "all" else cur[cur["group"] == g]
            ids = set(c["respondent_id"].tolist())
            if prev is None:
                retained, attr, share, new, first = np.nan, np.nan, np.nan, np.nan, np.nan
            else:
                p = prev if g == "all" else prev[prev["group"] == g]
                pids = set(p["respondent_id"].tolist())
                retained, attr, new = (len(ids & pids), len(pids - set(cur["respondent_id"].tolist())),
                                       len(ids - set(prev["respondent_id"].tolist())))
                share, first = (attr / len(pids) if pids else np.nan), len(ids & first_ids)
            rows.append({"wave": w, "group": g, "n": len(ids),
                         "blank": int(len(bw) if g == "all" else (bw["group"] == g).sum()),
                         "retained": retained, "attrition": attr, "attrition_share": share, "newcomers": new,
                         "in_first": first, "in_all_waves": len(ids & all_ids)})
    return pd.DataFrame(rows)


def run(study: Study, inst: Instrument | None, raw_dir: Path) -> dict[str, pd.DataFrame]:
    """Tidy the study's raw folder with the route its source kind needs.

    The canonical tables come out in their one order (:func:`pipeline.order.canonical_tables`:
    respondents by site, wave, respondent; responses by wave, respondent, item; ties by site, wave,
    tie type, ego, alter; waves in the study's order), whatever order the source delivered the
    submissions in: one village's answers give the same files from every platform.
    """
    return stamp_key(study, canonical_tables(_tidy(study, inst, raw_dir), study.wave_ids), raw_dir)


def run_unordered(study: Study, inst: Instrument | None, raw_dir: Path) -> dict[str, pd.DataFrame]:
    """:func:`run` without the canonical sort: the same frames (rows, columns, dtypes, the key's
    stamp), the canonical tables' rows in the order the source gave them.

    For a writer that takes their rows in the canonical order a village at a time
    (:func:`pipeline.order.canonical_order`, :func:`pipeline.partitions.write_partitioned_rows`)
    instead of holding a sorted copy of each table next to the table (``sinergi tidy``).
    """
    return stamp_key(study, _tidy(study, inst, raw_dir), raw_dir)


def _tidy(study: Study, inst: Instrument | None, raw_dir: Path) -> dict[str, pd.DataFrame]:
    """The frames of :func:`run` in the source's order, not stamped: the route of the source kind."""
    check_keep_columns(study)
    if study.source.kind == "tables":
        return tidy_tables(study, raw_dir)
    if inst is None:
        raise SinergiError("an instrument is needed to read KoboToolbox data")
    check_study(inst, study)
    return tidy_kobo(study, inst, raw_dir)
