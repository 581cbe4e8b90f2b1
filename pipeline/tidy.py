"""Tidy: raw source data → the canonical tables.

KoboToolbox-shaped submissions (from the API, from export files, or from the demo) are read with
the instrument's annotations (``role``, ``var``, ``scale``, ``tie_type``); ``tables`` studies are
read from their CSVs. Both end in :mod:`pipeline.schemas`' tables plus two reports on the data:

- ``quality``: one row per problem found and what was done about it (duplicates, refusals,
  self-nominations, nominations of people not on the roster, submissions marked Not Approved);
- ``sample``: respondents per wave × group, retained, attrition and newcomers.

Rules (each documented in the report's method section):

- a wave's record files are replayed in order (:func:`pipeline.kobo.replay`): a later row of
  the same ``_id`` replaces the earlier one (an edit, a new validation status) and a sweep
  removes what was deleted on the server; each such change gets a ``quality`` row;
- each submission is read with the form of its own ``__version__`` (a question moved or renamed
  between versions keeps its answers);
- the same ``meta/instanceID`` twice, or one respondent twice in a wave: the latest
  ``_submission_time`` is kept, the others listed;
- submissions without consent or not counted under the study's ``validation`` rule (default:
  all but *Not Approved*; ``approved_only``: only *Approved*) are left out and listed;
- roster ids become pseudonyms through a keyed hash (HMAC-SHA256) whose key lives only in
  ``data/raw/<study>/pseudonym.key``, so they are stable across waves and names never leave raw;
  ``R`` + 16 hex digits for a study whose key was made with a ``pseudonym.width`` file, ``R`` + 7
  for an older study (its pseudonyms stay as they were; a collision says how to widen them);
- an out-of-range or unparseable answer stops the run, naming the wave, submission, field and value.
"""

from __future__ import annotations

import csv
import hashlib
import hmac
import io
import re
from pathlib import Path
from typing import Any, Iterable

import numpy as np
import pandas as pd

from . import schemas
from .config import Study
from .errors import SinergiError
from .instrument import Instrument, Question, scale_map, tie_questions

QUALITY_COLUMNS = ["wave", "submission_id", "respondent_id", "issue", "field", "value", "action"]
NONE_CHOICES = {"tidak_ada", "none"}
YES, NO = "ya", "tidak"


# --------------------------------------------------------------------------------------------
# pseudonyms


#: width (hex digits after "R") given to a new study's pseudonyms: 64 bits, so a national program
#: of 10 million ids has a ~3e-6 chance of any two colliding (the birthday bound n^2 / 2^(4w+1))
PSEUDONYM_WIDTH = 16
#: width of a study whose key has no ``pseudonym.width`` beside it (made before widths were
#: recorded): 28 bits, collision chance ~0.2% at 1,000 ids and near-certain at 50,000
LEGACY_PSEUDONYM_WIDTH = 7


def pseudonym_width(raw_dir: Path) -> int:
    """Hex digits of the study's pseudonyms: ``data/raw/<id>/pseudonym.width``, written with a
    new key (:data:`PSEUDONYM_WIDTH`); a study without the file keeps its
    :data:`LEGACY_PSEUDONYM_WIDTH` digits, so its pseudonyms never change unasked."""
    path = Path(raw_dir) / "pseudonym.width"
    try:
        text = path.read_text().strip()
    except FileNotFoundError:
        return LEGACY_PSEUDONYM_WIDTH
    if not re.fullmatch(r"[0-9]{1,2}", text) or not 7 <= int(text) <= 64:
        raise SinergiError(f"{path}: {text!r} is not a pseudonym width (a whole number of hex digits, 7 to 64)")
    return int(text)


def pseudonymizer(key: bytes, width: int = LEGACY_PSEUDONYM_WIDTH):
    """Return ``f(raw_id) -> pseudonym``: ``"R"`` + ``width`` hex digits of HMAC-SHA256(key, id).

    The first 7 digits do not depend on the width: widening a study's pseudonyms lengthens
    every code, it does not reshuffle them (``R3f9a0c1`` becomes ``R3f9a0c12b4e77d01``).

    >>> f = pseudonymizer(b"k")
    >>> f("u001") == f("u001"), f("u001") != f("u002")
    (True, True)
    >>> pseudonymizer(b"k", 16)("u001").startswith(f("u001"))
    True
    """
    cache: dict[str, str] = {}

    def f(raw_id: str) -> str:
        raw_id = str(raw_id)
        if raw_id not in cache:
            cache[raw_id] = "R" + hmac.new(key, raw_id.encode("utf-8"), hashlib.sha256).hexdigest()[:width]
        return cache[raw_id]

    f.width = width
    return f


def read_key(raw_dir: Path) -> bytes:
    path = Path(raw_dir) / "pseudonym.key"
    try:
        text = path.read_text().strip()
    except FileNotFoundError:
        raise SinergiError(f"{path}: pseudonym key missing; run `make pull` to create the study's raw folder") from None
    if not re.fullmatch(r"[0-9a-f]{32,128}", text):
        raise SinergiError(f"{path}: not a pseudonym key (expected hex digits)")
    return bytes.fromhex(text)


def _check_collisions(mapping: dict[str, str], raw_dir: Path | None = None) -> None:
    """Stop when two raw ids got the same pseudonym, naming the width and how to widen it."""
    seen: dict[str, str] = {}
    for raw, pseudo in mapping.items():
        if pseudo in seen and seen[pseudo] != raw:
            width = len(pseudo) - 1
            where = Path(raw_dir) / "pseudonym.width" if raw_dir is not None else "data/raw/<id>/pseudonym.width"
            raise SinergiError(
                f"two ids hash to the same pseudonym {pseudo} (R + {width} hex digits = {4 * width} bits, "
                f"{len(mapping):,} ids): widen the pseudonyms with `echo {PSEUDONYM_WIDTH} > {where}` "
                "and rerun (`make report`); every pseudonym gets longer (the key stays), "
                "so earlier reports' codes keep only their first 7 digits in common")
        seen[pseudo] = raw


# --------------------------------------------------------------------------------------------
# reading KoboToolbox-shaped raw folders


def read_pages(wave_dir: Path) -> list[dict[str, Any]]:
    """The current submissions of a wave (its record files replayed: edits, new validation
    statuses and deletions applied, see :func:`pipeline.kobo.replay`), in ``_id`` order."""
    from .kobo import record_files, replay

    state, _ = replay(record_files(Path(wave_dir) / "data"))
    return [state[i] for i in sorted(state)]


def record_events(wave: str, wave_dir: Path, validation: str = "exclude_not_approved") -> list[dict]:
    """Quality rows for what changed on the server after a submission was first pulled.

    An edit (same ``_id``, new ``meta/instanceID``) and a deletion always get a row; a change of
    validation status gets one when it changes whether the submission counts (see
    :func:`counts`). Returns rows with :data:`QUALITY_COLUMNS`.
    """
    from .kobo import record_files, replay

    _, events = replay(record_files(Path(wave_dir) / "data"))
    rows = []
    for e in events:
        sid = str(e["_id"])
        if e["kind"] == "edited":
            rows.append({"wave": wave, "submission_id": sid, "respondent_id": "",
                         "issue": "edited in KoboToolbox after it was pulled", "field": "meta/instanceID",
                         "value": f"{e['old']} → {e['new']}", "action": "the edited version used"})
        elif e["kind"] == "deleted":
            rows.append({"wave": wave, "submission_id": sid, "respondent_id": "",
                         "issue": "deleted in KoboToolbox after it was pulled", "field": "_id",
                         "value": sid, "action": "left out"})
        elif counts(e["old"], validation) != counts(e["new"], validation):
            rows.append({"wave": wave, "submission_id": sid, "respondent_id": "",
                         "issue": "validation status changed in KoboToolbox after it was pulled",
                         "field": "_validation_status",
                         "value": f"{VALIDATION.get(e['old'], e['old'] or 'none')} → "
                                  f"{VALIDATION.get(e['new'], e['new'] or 'none')}",
                         "action": "now counted" if counts(e["new"], validation) else "now left out"})
    return rows


VALIDATION = {"validation_status_approved": "Approved", "validation_status_not_approved": "Not Approved",
              "validation_status_on_hold": "On Hold"}


def counts(status: str, validation: str = "exclude_not_approved") -> bool:
    """Whether a submission with validation status ``status`` (a ``_validation_status.uid``,
    ``""`` when none) enters the analysis under the study's ``validation`` rule.

    >>> counts("validation_status_on_hold"), counts("validation_status_on_hold", "approved_only")
    (True, False)
    >>> counts("validation_status_not_approved")
    False
    """
    if validation == "approved_only":
        return status == "validation_status_approved"
    return status != "validation_status_not_approved"


def read_roster(wave_dir: Path, filename: str) -> list[str]:
    """Roster ids (the ``name`` column) over every kept version of the roster file."""
    stem, ext = Path(filename).stem, Path(filename).suffix
    files = sorted((wave_dir / "media").glob(f"{stem}*{ext}"))
    if not files:
        raise SinergiError(f"{wave_dir}/media/{filename}: roster file missing (the form's select_*_from_file list)")
    names: list[str] = []
    for path in files:
        text = path.read_text(encoding="utf-8-sig")
        reader = csv.DictReader(io.StringIO(text))
        if "name" not in (reader.fieldnames or []):
            raise SinergiError(f"{path}: roster needs a 'name' column (and 'label'), got {reader.fieldnames}")
        names.extend(row["name"].strip() for row in reader if row.get("name", "").strip())
    return list(dict.fromkeys(names))


def load_wave_submissions(raw_dir: Path, wave: str, inst: Instrument,
                          quality: list[dict] | None = None) -> tuple[list[dict], list[str]]:
    """Submissions (API JSON shape) and roster ids for one wave, whatever the Kobo source.

    An export (source ``kobo_files``) is read with the wave's roster and must hold every
    question :func:`needed_xpaths` lists; what it was read with a caveat (ignored columns, a CSV's
    missing tie frequencies) is appended to ``quality`` as quality rows of the wave.
    """
    wave_dir = Path(raw_dir) / wave
    roster_file = inst.by_role("respondent")[0].list_name or "roster.csv"
    if (wave_dir / "export").is_dir():
        from .io import read_json
        from .kobo_files import read_export, roster_map

        roster = read_roster(wave_dir, roster_file)
        content = read_json(wave_dir / "asset.json")["content"]
        labels = roster_map(sorted((wave_dir / "media").glob("*.csv")))
        subs: list[dict] = []
        notes: list[dict] = []
        for path in sorted((wave_dir / "export").iterdir()):
            subs.extend(read_export(path, content, labels, needed=needed_xpaths(inst), notes=notes))
        if quality is not None:
            quality.extend({"wave": wave, "submission_id": "", "respondent_id": "", **n} for n in notes)
        return subs, roster
    if (wave_dir / "data").is_dir():
        return read_pages(wave_dir), read_roster(wave_dir, roster_file)
    raise SinergiError(f"{wave_dir}: no data for wave '{wave}'; run `make pull`")


def needed_xpaths(inst: Instrument) -> list[str]:
    """The questions tidy reads: consent, respondent, group, covariates (``var``), scale items,
    name generators and their frequency repeats (alter, weight)."""
    out = [q.xpath for q in inst.questions if q.get("role") in ("respondent", "group") or q.get("var")]
    out += [q.xpath for q in inst.questions if q.base_type == "select_one" and q.list_name == "ya_tidak"
            and q.xpath.startswith("persetujuan/")]
    out += [inst.question(item).xpath for item in scale_map(inst)["item"]]
    for spec in tie_questions(inst).values():
        out += [x for x in (spec["field"], spec["alter"], spec["weight"]) if x]
    return list(dict.fromkeys(out))


# --------------------------------------------------------------------------------------------
# parsing answers


def _range(q: Question) -> tuple[float | None, float | None]:
    """Bounds of an integer question from a constraint like ``. >= 0 and . <= 100``."""
    c = q.get("constraint") or ""
    lo = re.search(r"\.\s*>=\s*(-?[\d.]+)", c)
    hi = re.search(r"\.\s*<=\s*(-?[\d.]+)", c)
    return (float(lo.group(1)) if lo else None, float(hi.group(1)) if hi else None)


class _Ctx:
    def __init__(self, wave: str, sub: dict[str, Any]):
        self.wave = wave
        self.sub = sub

    def fail(self, q: Question, value: Any, why: str) -> SinergiError:
        sid = self.sub.get("_id", "?")
        iid = self.sub.get("meta/instanceID", "")
        return SinergiError(
            f"wave {self.wave}, submission _id {sid} ({iid}): field {q.xpath} = {value!r} {why}. "
            "Fix it in KoboToolbox (edit the submission, or mark it Not Approved) and run `make pull` again")


def parse_value(inst: Instrument, q: Question, value: str, ctx: _Ctx) -> Any:
    """Parse one answer string as the question's type; bad answers stop the run."""
    t = q.base_type
    if t == "integer" or t == "decimal":
        try:
            x = float(value)
        except (TypeError, ValueError):
            raise ctx.fail(q, value, "is not a number") from None
        lo, hi = _range(q)
        if (lo is not None and x < lo) or (hi is not None and x > hi):
            raise ctx.fail(q, value, f"is outside the allowed range {lo:g}..{hi:g}")
        return x
    if t == "select_one":
        names = inst.choice_names(q.list_name)
        if value not in names:
            raise ctx.fail(q, value, f"is not one of {', '.join(names)}")
        return value
    if t == "select_multiple":
        names = set(inst.choice_names(q.list_name))
        tokens = str(value).split()
        bad = [v for v in tokens if v not in names]
        if bad:
            raise ctx.fail(q, value, f"has {bad[0]!r}, not one of {', '.join(sorted(names))}")
        return tokens
    return value


def _covariates(inst: Instrument, sub: dict[str, Any], ctx: _Ctx, xpaths: dict[str, str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for q in inst.questions:
        var = q.get("var")
        if not var:
            continue
        raw = sub.get(xpaths[q.name])
        if q.base_type == "select_multiple":
            choices = [c for c in inst.choice_names(q.list_name) if c not in NONE_CHOICES]
            tokens = parse_value(inst, q, raw, ctx) if raw is not None else None
            out[var] = " ".join(tokens) if tokens is not None else None
            for c in choices:
                out[f"{var}_{c}"] = np.nan if tokens is None else float(c in tokens)
            out[f"{var}_n"] = np.nan if tokens is None else float(sum(t in choices for t in tokens))
        elif raw is None:
            out[var] = np.nan if q.base_type in ("integer", "decimal") else None
        else:
            value = parse_value(inst, q, raw, ctx)
            if q.base_type == "select_one" and set(inst.choice_names(q.list_name)) == {YES, NO}:
                value = 1.0 if value == YES else 0.0
            out[var] = value
    return out


# --------------------------------------------------------------------------------------------
# the Kobo route


def _xpaths(inst: Instrument, content: dict[str, Any] | None,
            kuid_names: dict[str, str] | None = None) -> dict[str, str]:
    """Question name → submission key, from a form version's content when there is one.

    A question is found by its name, else — renamed in the form builder — by its ``$kuid``, the
    row id KoboToolbox keeps across versions (``kuid_names``: ``$kuid`` → instrument name, from
    every version that has the name).
    """
    paths = {q.name: q.xpath for q in inst.questions}
    for row in (content or {}).get("survey", []):
        name = row.get("name") or row.get("$autoname")
        if name not in paths:
            name = (kuid_names or {}).get(row.get("$kuid"))
        if name in paths and row.get("$xpath"):
            paths[name] = row["$xpath"]
    return paths


class _Forms:
    """The form each submission of a wave was made with (its ``__version__``).

    ``versions/<vuid>.json`` when the pull saved it; the asset's ``content`` for its
    ``version_id`` (the asset detail's content is the latest version, possibly an undeployed
    draft — kpi serializers/v2/asset.py:405); else the deployed version's form, noted in
    ``quality``.
    """

    def __init__(self, inst: Instrument, wave: str, wave_dir: Path):
        from .io import read_json

        self.inst, self.wave = inst, wave
        asset = read_json(wave_dir / "asset.json")
        self.api = "deployed_version_id" in asset  # pulled from the API (not an export or the demo's)
        self.contents: dict[str | None, dict] = {}
        if asset.get("content"):
            self.contents[asset.get("version_id")] = asset["content"]
        vdir = wave_dir / "versions"
        for path in sorted(vdir.glob("*.json")) if vdir.is_dir() else []:
            body = read_json(path)
            if isinstance(body, dict) and body.get("content"):
                self.contents[body.get("uid") or path.stem] = body["content"]
        self.deployed = asset.get("deployed_version_id") or asset.get("version_id")
        names = {q.name for q in inst.questions}
        self.kuid_names = {row["$kuid"]: row.get("name") for c in self.contents.values()
                           for row in c.get("survey", []) if row.get("$kuid") and row.get("name") in names}
        self.cache: dict[str | None, dict[str, str]] = {}
        self.missing: dict[str, set] = {}

    def xpaths(self, sub: dict[str, Any]) -> dict[str, str]:
        v = sub.get("__version__")
        if v not in self.cache:
            content = self.contents.get(v)
            if content is None:
                content = self.contents.get(self.deployed) or next(iter(self.contents.values()), None)
            self.cache[v] = _xpaths(self.inst, content, self.kuid_names)
        if v not in self.contents and self.api and v:
            self.missing.setdefault(v, set()).add(sub.get("_id"))
        return self.cache[v]

    def notes(self) -> list[dict]:
        """Quality rows: submissions read with another version's form."""
        return [{"wave": self.wave, "submission_id": "", "respondent_id": "",
                 "issue": "form version not available from KoboToolbox", "field": "__version__",
                 "value": v, "action": f"{len(ids)} submission(s) read with the deployed form"}
                for v, ids in sorted(self.missing.items())]


def _dedupe(subs: list[dict[str, Any]], wave: str, quality: list[dict]) -> list[dict[str, Any]]:
    by_id: dict[Any, dict] = {}
    for s in subs:  # pages are already one row per _id (kobo.replay); an export may repeat a row
        sid = s.get("_id")
        if sid in by_id:
            if by_id[sid] != s:
                raise SinergiError(f"wave {wave}: two different submissions share _id {sid} "
                                   f"({by_id[sid].get('meta/instanceID', '?')} and {s.get('meta/instanceID', '?')}); "
                                   "an _id belongs to one submission: was the export edited or two exports merged?")
            quality.append({"wave": wave, "submission_id": str(sid), "respondent_id": "",
                            "issue": "the same submission twice in the data", "field": "_id",
                            "value": str(sid), "action": "kept one"})
        by_id[sid] = s
    ordered = sorted(by_id.values(), key=lambda s: (str(s.get("_submission_time", "")), s.get("_id", 0)))
    by_instance: dict[str, dict] = {}
    for s in ordered:
        iid = s.get("meta/instanceID") or f"_id:{s.get('_id')}"
        if iid in by_instance:
            old = by_instance[iid]
            quality.append({"wave": wave, "submission_id": str(old.get("_id")), "respondent_id": "",
                            "issue": "duplicate upload (same meta/instanceID)", "field": "meta/instanceID",
                            "value": iid, "action": f"kept the later _id {s.get('_id')}"})
        by_instance[iid] = s
    return list(by_instance.values())


def tidy_kobo(study: Study, inst: Instrument, raw_dir: Path) -> dict[str, pd.DataFrame]:
    """Canonical tables from a KoboToolbox-shaped raw folder (sources demo, kobo, kobo_files).

    Returns
    -------
    dict of pandas.DataFrame
        ``respondents``, ``responses``, ``ties``, ``scale_map`` (see :mod:`pipeline.schemas`),
        ``quality`` (wave, submission_id, respondent_id, issue, field, value, action) and
        ``sample`` (see :func:`sample_flow`).
    """
    from .io import read_json

    raw_dir = Path(raw_dir)
    pseudo = pseudonymizer(read_key(raw_dir), pseudonym_width(raw_dir))
    smap = scale_map(inst)
    ties_spec = tie_questions(inst)
    unknown = [t for t in study.tie_types if t not in ties_spec]
    if unknown:
        raise SinergiError(f"study tie_types: {unknown[0]!r} has no name generator in the instrument "
                           f"(instrument has {', '.join(ties_spec)})")
    resp_q = inst.by_role("respondent")[0]
    group_q = inst.by_role("group")[0]
    consent_q = next((q for q in inst.questions if q.base_type == "select_one" and q.list_name == "ya_tidak"
                      and q.xpath.startswith("persetujuan/")), None)
    group_var = study.group.variable
    respondents: list[dict] = []
    responses: list[dict] = []
    ties: list[dict] = []
    quality: list[dict] = []
    mapping: dict[str, str] = {}

    for wave in study.wave_ids:
        subs, roster = load_wave_submissions(raw_dir, wave, inst, quality)
        roster_set = set(roster)
        forms = _Forms(inst, wave, raw_dir / wave)
        if (raw_dir / wave / "data").is_dir():
            quality.extend(record_events(wave, raw_dir / wave, study.validation))
        subs = _dedupe(subs, wave, quality)
        kept: dict[str, dict] = {}
        for sub in subs:
            sid = str(sub.get("_id"))
            xp = forms.xpaths(sub)
            vstat = (sub.get("_validation_status") or {}).get("uid", "")
            if not counts(vstat, study.validation):
                quality.append({"wave": wave, "submission_id": sid, "respondent_id": "",
                                "issue": ("marked Not Approved in KoboToolbox" if vstat == "validation_status_not_approved"
                                          else "not Approved in KoboToolbox (the study counts Approved only)"),
                                "field": "_validation_status", "value": vstat or "none", "action": "left out"})
                continue
            if consent_q is not None and sub.get(xp[consent_q.name]) != YES:
                quality.append({"wave": wave, "submission_id": sid, "respondent_id": "", "issue": "no consent",
                                "field": xp[consent_q.name], "value": sub.get(xp[consent_q.name], ""), "action": "left out"})
                continue
            rid = sub.get(xp[resp_q.name])
            ctx = _Ctx(wave, sub)
            if not rid:
                raise ctx.fail(resp_q, rid, "is empty: the respondent did not pick themself from the roster")
            if rid not in roster_set:
                raise ctx.fail(resp_q, rid, f"is not on the wave's roster ({len(roster)} names)")
            if rid in kept:
                old = kept[rid]
                quality.append({"wave": wave, "submission_id": str(old.get("_id")), "respondent_id": pseudo(rid),
                                "issue": "respondent submitted twice in the wave", "field": xp[resp_q.name],
                                "value": pseudo(rid), "action": f"kept the later submission _id {sid}"})
            kept[rid] = sub  # subs are in submission-time order: the last one wins

        quality.extend(forms.notes())
        for rid, sub in kept.items():
            ctx = _Ctx(wave, sub)
            xp = forms.xpaths(sub)
            pid = pseudo(rid)
            mapping[rid] = pid
            covs = _covariates(inst, sub, ctx, xp)
            group_value = covs.get(group_var) if group_var in covs else parse_value(inst, group_q, sub.get(xp[group_q.name]), ctx)
            if group_value is None or (isinstance(group_value, float) and np.isnan(group_value)):
                raise ctx.fail(group_q, None, f"is missing: the group variable '{group_var}' must be answered")
            if str(group_value) not in study.group_values:
                raise ctx.fail(group_q, group_value, f"is not a group level of the study ({', '.join(study.group_values)})")
            respondents.append({"respondent_id": pid, "wave": wave, "group": str(group_value), "site": study.site,
                                "submission_id": str(sub.get("_id")),
                                "submitted_at": str(sub.get("_submission_time", "")), **covs})
            for item in smap["item"]:
                q = inst.question(item)
                raw = sub.get(xp[item])
                value = np.nan if raw is None else float(parse_value(inst, q, raw, ctx))
                responses.append({"respondent_id": pid, "wave": wave, "item": item, "value": value})
            for tie_type in study.tie_types:
                spec = ties_spec[tie_type]
                field = _key(xp, spec["field"])
                raw = sub.get(field)
                if not raw:
                    continue
                weights = _weights(sub, spec, xp, inst, ctx)
                for alter in dict.fromkeys(str(raw).split()):
                    if alter == rid:
                        quality.append({"wave": wave, "submission_id": str(sub.get("_id")), "respondent_id": pid,
                                        "issue": "self-nomination", "field": field, "value": pid, "action": "dropped"})
                        continue
                    if alter not in roster_set:
                        quality.append({"wave": wave, "submission_id": str(sub.get("_id")), "respondent_id": pid,
                                        "issue": "nominated someone not on the roster", "field": field,
                                        "value": pseudo(alter), "action": "dropped"})
                        continue
                    mapping[alter] = pseudo(alter)
                    ties.append({"site": study.site, "wave": wave, "tie_type": tie_type, "ego": pid,
                                 "alter": pseudo(alter), "weight": weights.get(alter, np.nan)})

    _check_collisions(mapping, raw_dir)
    out = _frames(respondents, responses, ties, quality)
    out["scale_map"] = smap
    out["sample"] = sample_flow(out["respondents"], study.wave_ids)
    return out


def _key(xp: dict[str, str], xpath: str) -> str:
    name = xpath.rsplit("/", 1)[-1]
    return xp.get(name, xpath)


def _weights(sub: dict, spec: dict, xp: dict[str, str], inst: Instrument, ctx: _Ctx) -> dict[str, float]:
    if not spec.get("repeat"):
        return {}
    rows = sub.get(_key(xp, spec["repeat"])) or []
    alter_key, weight_key = _key(xp, spec["alter"]), _key(xp, spec["weight"])
    weight_q = inst.question(weight_key.rsplit("/", 1)[-1])
    out: dict[str, float] = {}
    for row in rows if isinstance(rows, list) else []:
        alter, w = row.get(alter_key), row.get(weight_key)
        if alter and w is not None:
            out[alter] = float(parse_value(inst, weight_q, w, ctx))
    return out


def _frames(respondents, responses, ties, quality) -> dict[str, pd.DataFrame]:
    r = pd.DataFrame(respondents)
    if r.empty:
        raise SinergiError("no usable submissions in any wave (after consent, duplicates and approval checks)")
    return {
        "respondents": schemas.validate("respondents", r),
        "responses": schemas.validate("responses", pd.DataFrame(responses, columns=["respondent_id", "wave", "item", "value"])),
        "ties": schemas.validate("ties", pd.DataFrame(ties, columns=["site", "wave", "tie_type", "ego", "alter", "weight"])),
        "quality": pd.DataFrame(quality, columns=QUALITY_COLUMNS),
    }


# --------------------------------------------------------------------------------------------
# the tables route

TABLE_FILES = ("respondents", "responses", "ties", "scales")


def _read_csv(path: Path) -> pd.DataFrame:
    if not path.exists():
        raise SinergiError(f"{path}: file missing; a tables study needs {', '.join(f + '.csv' for f in TABLE_FILES)}")
    try:
        # the delimiter is sniffed from the header line as pandas' python engine does with
        # sep=None, then the C engine reads: ~20x faster and without a Python object per cell
        with open(path, encoding="utf-8-sig", newline="") as f:
            head = f.readline()
        sep = csv.Sniffer().sniff(head).delimiter if head.strip() else ","
        return pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[""], sep=sep, engine="c",
                           encoding="utf-8-sig")
    except (pd.errors.ParserError, UnicodeDecodeError, csv.Error) as exc:
        raise SinergiError(f"{path}: cannot read as CSV ({str(exc).splitlines()[0]})") from None


def _need(df: pd.DataFrame, path: Path, cols: Iterable[str]) -> None:
    missing = [c for c in cols if c not in df.columns]
    if missing:
        raise SinergiError(f"{path}: missing column(s) {', '.join(missing)} (has {', '.join(df.columns)})")


def _numbers(df: pd.DataFrame, path: Path, col: str, *, allow_na: bool) -> pd.Series:
    x = pd.to_numeric(df[col], errors="coerce")
    bad = x.isna() & (df[col].notna() if allow_na else True)
    if bad.any():
        i = int(np.flatnonzero(bad.to_numpy())[0])
        raise SinergiError(f"{path}: row {i + 2}, column {col}: {df[col].iloc[i]!r} is not a number")
    return x.astype(float)


def tidy_tables(study: Study, raw_dir: Path) -> dict[str, pd.DataFrame]:
    """Canonical tables from a ``tables`` study's CSVs (copied to ``data/raw/<id>/tables/``).

    Ids are pseudonymised like roster ids; rows are reported with their CSV line number
    (header = line 1). Returns the same frames as :func:`tidy_kobo`.
    """
    folder = Path(raw_dir) / "tables"
    pseudo = pseudonymizer(read_key(raw_dir), pseudonym_width(raw_dir))
    paths = {name: folder / f"{name}.csv" for name in TABLE_FILES}
    resp = _read_csv(paths["respondents"])
    items = _read_csv(paths["responses"])
    ties = _read_csv(paths["ties"])
    scales = _read_csv(paths["scales"])
    _need(resp, paths["respondents"], ["respondent_id", "wave", "group"])
    _need(items, paths["responses"], ["respondent_id", "wave", "item", "value"])
    _need(ties, paths["ties"], ["wave", "tie_type", "ego", "alter"])
    _need(scales, paths["scales"], ["item", "dimension", "subscale", "reverse", "min", "max"])
    quality: list[dict] = []
    waves = set(study.wave_ids)

    for name, df in (("respondents", resp), ("responses", items), ("ties", ties)):
        bad = ~df["wave"].isin(waves)
        if bad.any():
            i = int(np.flatnonzero(bad.to_numpy())[0])
            raise SinergiError(f"{paths[name]}: row {i + 2}, column wave: {df['wave'].iloc[i]!r} is not a wave of "
                               f"the study ({', '.join(study.wave_ids)})")
    for col in ("respondent_id", "group"):
        if resp[col].isna().any():
            i = int(np.flatnonzero(resp[col].isna().to_numpy())[0])
            raise SinergiError(f"{paths['respondents']}: row {i + 2}, column {col}: empty")
    bad = ~resp["group"].isin(study.group_values)
    if bad.any():
        i = int(np.flatnonzero(bad.to_numpy())[0])
        raise SinergiError(f"{paths['respondents']}: row {i + 2}, column group: {resp['group'].iloc[i]!r} is not a "
                           f"group level of the study ({', '.join(study.group_values)})")
    dup = resp.duplicated(["respondent_id", "wave"], keep=False)
    if dup.any():
        rows = [str(i + 2) for i in np.flatnonzero(dup.to_numpy())[:4]]
        raise SinergiError(f"{paths['respondents']}: rows {', '.join(rows)}: the same respondent_id twice in one wave")

    smap = scales.copy()
    rev = smap["reverse"].str.strip().str.lower()
    okrev = rev.isin(["true", "false", "1", "0", "yes", "no"])
    if not okrev.all():
        i = int(np.flatnonzero(~okrev.to_numpy())[0])
        raise SinergiError(f"{paths['scales']}: row {i + 2}, column reverse: {smap['reverse'].iloc[i]!r} is not true/false")
    smap["reverse"] = rev.isin(["true", "1", "yes"])
    smap["min"] = _numbers(smap, paths["scales"], "min", allow_na=False)
    smap["max"] = _numbers(smap, paths["scales"], "max", allow_na=False)
    smap = schemas.validate("scale_map", smap, str(paths["scales"]))

    # (no .copy(): items and ties are this function's own frames, read above)
    items["value"] = _numbers(items, paths["responses"], "value", allow_na=True)
    known = items["item"].isin(smap["item"])
    if not known.all():
        i = int(np.flatnonzero(~known.to_numpy())[0])
        raise SinergiError(f"{paths['responses']}: row {i + 2}, column item: {items['item'].iloc[i]!r} is not in "
                           f"{paths['scales'].name}")
    lo = items["item"].map(smap.set_index("item")["min"]).to_numpy(float)
    hi = items["item"].map(smap.set_index("item")["max"]).to_numpy(float)
    val = items["value"].to_numpy(float)
    out = (val < lo) | (val > hi)
    if out.any():
        i = int(np.flatnonzero(out)[0])
        raise SinergiError(f"{paths['responses']}: row {i + 2}: item {items['item'].iloc[i]} value "
                           f"{val[i]:g} is outside {lo[i]:g}..{hi[i]:g}")
    del lo, hi, val
    dup_items = items.duplicated(["respondent_id", "wave", "item"]).to_numpy()
    if dup_items.any():
        i = int(np.flatnonzero(dup_items)[0])
        raise SinergiError(f"{paths['responses']}: row {i + 2}: the same respondent_id, wave and item twice")
    orphan = ~pd.MultiIndex.from_frame(items[["respondent_id", "wave"]]).isin(
        pd.MultiIndex.from_frame(resp[["respondent_id", "wave"]]))
    if orphan.any():
        i = int(np.flatnonzero(orphan)[0])
        raise SinergiError(f"{paths['responses']}: row {i + 2}: respondent_id {items['respondent_id'].iloc[i]!r} "
                           f"has no row in respondents.csv for wave {items['wave'].iloc[i]!r}")

    ties["weight"] = _numbers(ties, paths["ties"], "weight", allow_na=True) if "weight" in ties else np.nan
    bad_type = ~ties["tie_type"].isin(study.tie_types)
    if bad_type.any():
        i = int(np.flatnonzero(bad_type.to_numpy())[0])
        raise SinergiError(f"{paths['ties']}: row {i + 2}, column tie_type: {ties['tie_type'].iloc[i]!r} is not in "
                           f"the study's tie_types ({', '.join(study.tie_types)})")
    selfn = ties["ego"] == ties["alter"]
    for _, row in ties[selfn].iterrows():
        quality.append({"wave": row["wave"], "submission_id": "", "respondent_id": pseudo(row["ego"]),
                        "issue": "self-nomination", "field": "ties.csv", "value": pseudo(row["ego"]), "action": "dropped"})
    ties = ties[~selfn]
    dup = ties.duplicated(["wave", "tie_type", "ego", "alter"])
    for _, row in ties[dup].iterrows():
        quality.append({"wave": row["wave"], "submission_id": "", "respondent_id": pseudo(row["ego"]),
                        "issue": "the same nomination twice", "field": "ties.csv", "value": pseudo(row["alter"]),
                        "action": "kept one"})
    ties = ties[~dup]
    everyone = set(resp["respondent_id"])
    for _, row in ties[~ties["alter"].isin(everyone)].iterrows():
        quality.append({"wave": row["wave"], "submission_id": "", "respondent_id": pseudo(row["ego"]),
                        "issue": "nominated someone who is not a respondent", "field": "ties.csv",
                        "value": pseudo(row["alter"]), "action": "kept in ties; not a network node"})

    site = resp["site"] if "site" in resp else pd.Series(study.site, index=resp.index)
    resp = resp.assign(site=site.fillna(study.site))
    site_of = resp.set_index(["respondent_id", "wave"])["site"]
    tie_site = site_of.reindex(pd.MultiIndex.from_arrays([ties["ego"], ties["wave"]])).to_numpy()
    ties = ties.assign(site=pd.Series(tie_site, index=ties.index).fillna(study.site).astype(str))
    mapping = {x: pseudo(x) for x in set(resp["respondent_id"]) | set(ties["ego"]) | set(ties["alter"])}
    _check_collisions(mapping, raw_dir)
    resp["respondent_id"] = resp["respondent_id"].map(mapping)
    items["respondent_id"] = items["respondent_id"].map(mapping)
    ties["ego"] = ties["ego"].map(mapping)
    ties["alter"] = ties["alter"].map(mapping)
    for col in resp.columns:
        if col not in ("respondent_id", "wave", "group", "site"):
            num = pd.to_numeric(resp[col], errors="coerce")
            if num.notna().sum() == resp[col].notna().sum():
                resp[col] = num.astype(float)
    # DataFrames, not .to_dict("records"): at 200 villages that was 2.7 million dicts (≈ 2 GB)
    out = _frames(resp.reset_index(drop=True),
                  items[["respondent_id", "wave", "item", "value"]].reset_index(drop=True),
                  ties[["site", "wave", "tie_type", "ego", "alter", "weight"]].reset_index(drop=True), quality)
    out["scale_map"] = smap[["item", "dimension", "subscale", "reverse", "min", "max"]]
    out["sample"] = sample_flow(out["respondents"], study.wave_ids)
    return out


# --------------------------------------------------------------------------------------------


def sample_flow(respondents: pd.DataFrame, waves: list[str]) -> pd.DataFrame:
    """Respondents per wave × group and how the panel changed.

    Returns
    -------
    pandas.DataFrame
        ``wave``, ``group`` (each level and ``all``), ``n``, ``retained`` (also in the previous
        wave), ``attrition`` (in the previous wave, not in this one), ``newcomers`` (not in the
        previous wave), ``in_all_waves``.
    """
    rows = []
    sets = {w: respondents.loc[respondents["wave"] == w] for w in waves}
    all_ids = set.intersection(*(set(df["respondent_id"]) for df in sets.values())) if sets else set()
    groups = sorted(respondents["group"].unique())
    for i, w in enumerate(waves):
        cur = sets[w]
        prev = sets[waves[i - 1]] if i > 0 else None
        for g in groups + ["all"]:
            c = cur if g == "all" else cur[cur["group"] == g]
            ids = set(c["respondent_id"])
            if prev is None:
                retained, attr, new = np.nan, np.nan, np.nan
            else:
                p = prev if g == "all" else prev[prev["group"] == g]
                pids = set(p["respondent_id"])
                retained, attr, new = len(ids & pids), len(pids - set(cur["respondent_id"])), len(ids - set(prev["respondent_id"]))
            rows.append({"wave": w, "group": g, "n": len(ids), "retained": retained, "attrition": attr,
                         "newcomers": new, "in_all_waves": len(ids & all_ids)})
    return pd.DataFrame(rows)


def run(study: Study, inst: Instrument | None, raw_dir: Path) -> dict[str, pd.DataFrame]:
    """Tidy the study's raw folder with the route its source kind needs."""
    if study.source.kind == "tables":
        return tidy_tables(study, raw_dir)
    if inst is None:
        raise SinergiError("an instrument is needed to read KoboToolbox data")
    return tidy_kobo(study, inst, raw_dir)
