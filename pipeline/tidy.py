"""Tidy: raw source data → the canonical tables.

KoboToolbox-shaped submissions (from the API, from export files, or from the demo) are read with
the instrument's annotations (``role``, ``var``, ``scale``, ``tie_type``); ``tables`` studies are
read from their CSVs. Both end in :mod:`pipeline.schemas`' tables plus two reports on the data:

- ``quality``: one row per problem found and what was done about it (duplicates, refusals,
  self-nominations, nominations of people not on the roster, submissions marked Not Approved);
- ``sample``: respondents per wave × group, retained, attrition and newcomers.

Rules (each documented in the report's method section):

- the same ``_id`` in two pages: the later page wins (it is the fresher pull);
- the same ``meta/instanceID`` twice, or one respondent twice in a wave: the latest
  ``_submission_time`` is kept, the others listed;
- submissions without consent or marked *Not Approved* in KoboToolbox are left out and listed;
- roster ids become pseudonyms through a keyed hash (HMAC-SHA256) whose key lives only in
  ``data/raw/<study>/pseudonym.key``, so they are stable across waves and names never leave raw;
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


def pseudonymizer(key: bytes):
    """Return ``f(raw_id) -> pseudonym``: ``"R"`` + 7 hex digits of HMAC-SHA256(key, id).

    >>> f = pseudonymizer(b"k")
    >>> f("u001") == f("u001"), f("u001") != f("u002")
    (True, True)
    """
    cache: dict[str, str] = {}

    def f(raw_id: str) -> str:
        raw_id = str(raw_id)
        if raw_id not in cache:
            cache[raw_id] = "R" + hmac.new(key, raw_id.encode("utf-8"), hashlib.sha256).hexdigest()[:7]
        return cache[raw_id]

    return f


#: the fixed text whose HMAC under the key is the key's fingerprint (never the key itself)
FINGERPRINT_TEXT = b"sinergi pseudonym key fingerprint"


def key_fingerprint(key: bytes) -> str:
    """A short public fingerprint of a pseudonym key: 16 hex digits of HMAC-SHA256(key, fixed text).

    It identifies the key (two keys give different fingerprints) without revealing it, so it can
    be written in the raw manifest and the processed tables to check later that the same key is
    still in use.

    >>> key_fingerprint(b"k") == key_fingerprint(b"k"), key_fingerprint(b"k") != key_fingerprint(b"j")
    (True, True)
    """
    return hmac.new(key, FINGERPRINT_TEXT, hashlib.sha256).hexdigest()[:16]


def read_key(raw_dir: Path) -> bytes:
    """The study's pseudonym key, checked against the fingerprint in the raw ``manifest.json``.

    Raises
    ------
    SinergiError
        The key is missing, is not hex, or is not the key the raw data was pulled with (every
        respondent would get a new pseudonym); the message names the file to restore.
    """
    from .io import read_json

    path = Path(raw_dir) / "pseudonym.key"
    manifest = Path(raw_dir) / "manifest.json"
    try:
        text = path.read_text().strip()
    except FileNotFoundError:
        if manifest.exists():
            raise SinergiError(f"{path}: pseudonym key missing; this study's raw data was pulled with it, so restore "
                               "pseudonym.key from your backup of data/raw/ (a new key would give every respondent "
                               "a new pseudonym)") from None
        raise SinergiError(f"{path}: pseudonym key missing; run `make pull` to create the study's raw folder") from None
    if not re.fullmatch(r"[0-9a-f]{32,128}", text):
        raise SinergiError(f"{path}: not a pseudonym key (expected hex digits)")
    note = tighten_key(path)
    if note:
        print(note)
    key = bytes.fromhex(text)
    if manifest.exists():
        check_fingerprint(key, read_json(manifest).get("key_fingerprint"), path, manifest)
    return key


def tighten_key(path: Path) -> str | None:
    """Make the key file owner-only (0600) if others can read it; say what was done (else None)."""
    import os
    import stat

    mode = stat.S_IMODE(os.stat(path).st_mode)
    if not mode & 0o077:
        return None
    os.chmod(path, 0o600)
    return f"{path}: was readable by others ({mode:04o}); now owner-only (0600)"


def check_fingerprint(key: bytes, recorded: str | None, key_path: Path, where: Path) -> None:
    """Refuse a key whose fingerprint differs from the one ``where`` recorded (None: nothing recorded)."""
    if recorded and key_fingerprint(key) != recorded:
        raise SinergiError(f"{key_path}: not the pseudonym key of the data in {where} (key fingerprint "
                           f"{key_fingerprint(key)}, recorded {recorded}); every respondent would get a new "
                           f"pseudonym. Restore {key_path} from your backup (or delete data/raw/<id>/ and "
                           "data/processed/<id>/ to start the study over)")


def processed_fingerprint(path: Path) -> str | None:
    """The key fingerprint stored in a processed parquet table's metadata (None if absent)."""
    import json

    import pyarrow.parquet as pq

    try:
        meta = pq.read_schema(path).metadata or {}
    except (OSError, ValueError):
        return None
    attrs = json.loads(meta.get(b"PANDAS_ATTRS", b"{}") or b"{}")
    return attrs.get("key_fingerprint") if isinstance(attrs, dict) else None


def stamp_key(study: Study, frames: dict[str, pd.DataFrame], raw_dir: Path) -> dict[str, pd.DataFrame]:
    """Check the key against the already processed tables, then record its fingerprint in them.

    The fingerprint goes into the pandas metadata (``attrs["key_fingerprint"]``) of every parquet
    table, so a later tidy with another key is refused instead of renaming every respondent.
    """
    key = read_key(raw_dir)
    old = study.processed_dir / "respondents.parquet"
    if old.exists() and study.source.kind != "demo":  # a demo with another seed is other people
        check_fingerprint(key, processed_fingerprint(old), Path(raw_dir) / "pseudonym.key", old)
    for name in ("respondents", "responses", "ties", "scale_map"):
        if name in frames:
            frames[name].attrs["key_fingerprint"] = key_fingerprint(key)
    return frames


def _check_collisions(mapping: dict[str, str]) -> None:
    """Refuse two respondent ids that get the same pseudonym under the key (rare, but possible)."""
    seen: dict[str, str] = {}
    for raw, pseudo in mapping.items():
        if pseudo in seen and seen[pseudo] != raw:
            raise SinergiError(f"respondent ids {seen[pseudo]!r} and {raw!r} get the same pseudonym {pseudo} under "
                               "this pseudonym.key; a new key is needed, which changes every pseudonym: delete "
                               "data/raw/<id>/ and data/processed/<id>/ and run `make pull` again (reports made "
                               "so far will not match the new pseudonyms)")
        seen[pseudo] = raw


def check_keep_columns(study: Study) -> None:
    """``privacy.keep_columns`` applies to a tables study's respondents.csv only; refuse it elsewhere."""
    if study.privacy.keep_columns and study.source.kind != "tables":
        raise SinergiError(f"study privacy.keep_columns: only for source kind 'tables' (this study's source is "
                           f"'{study.source.kind}', whose covariates come from the instrument's 'var' questions)")


# --------------------------------------------------------------------------------------------
# columns that stay in raw

#: respondents.csv columns always read (never held back)
ID_COLUMNS = ("respondent_id", "wave", "group", "site")
_PERSONAL_NAME = re.compile(
    r"(^|_)(nama|name|names|nm|phone|telepon|telpon|telp|tlp|hp|handphone|wa|whatsapp|email|e_mail|mail|surel|"
    r"kontak|contact|alamat|address|nik|ktp|kk|catatan|komentar|comment|comments|note|notes|keterangan|remarks)(_|$)")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[A-Za-z]{2,}$")


def _is_phone(value: str) -> bool:
    """A phone number as typed: 9-15 digits, starting with ``+`` or ``0`` (text, not a number)."""
    digits = sum(ch.isdigit() for ch in value)
    return (9 <= digits <= 15 and re.fullmatch(r"\(?(\+|0)[\d\s()./-]+", value) is not None
            and re.fullmatch(r"0?\.\d+", value) is None)


def personal_reason(name: str, values: pd.Series) -> str | None:
    """Why a respondents.csv column looks personal (names, phones, e-mails, free text), else None.

    A column is personal when its name says so (``nama``, ``no_hp``, ``email``, ``alamat``,
    ``catatan``, …) unless every value is a short number (a count or a 0/1 flag such as
    ``digital_channels_whatsapp``), or when any value is a phone number (9-15 digits starting with
    ``+`` or ``0``) or an e-mail address, or when it holds free text (a value over 40 characters,
    or mostly distinct values with spaces).

    >>> personal_reason("nama_pemilik", pd.Series(["Siti"]))
    'its name looks like names, contact details or notes'
    >>> personal_reason("digital_channels_whatsapp", pd.Series(["1", "0"])) is None
    True
    >>> personal_reason("kontak", pd.Series(["0812 3456 7890"]))
    'its name looks like names, contact details or notes'
    >>> personal_reason("x", pd.Series(["+62 812-3456-7890"]))
    'it holds phone numbers'
    >>> personal_reason("sector", pd.Series(["kuliner", "kuliner", "jasa"])) is None
    True
    """
    text = values.dropna().astype(str).str.strip()
    text = text[text != ""]
    numeric = pd.to_numeric(text, errors="coerce")
    short_numbers = bool(numeric.notna().all() and (numeric.abs() < 1e6).all())
    key = re.sub(r"[^a-z0-9]+", "_", str(name).lower())
    if _PERSONAL_NAME.search(key) and not (len(text) and short_numbers):
        return "its name looks like names, contact details or notes"
    if not len(text):
        return None
    if text.map(_is_phone).any():
        return "it holds phone numbers"
    if text.str.match(_EMAIL).any():
        return "it holds e-mail addresses"
    if numeric.notna().all():
        return None
    distinct = text.nunique() / len(text)
    if (text.str.len() > 40).any() or (distinct > 0.5 and text.nunique() >= 5 and text.str.contains(r"\s").any()):
        return "it holds free text (names or notes?)"
    return None


def hold_back_columns(resp: pd.DataFrame, study: Study, path: Path, quality: list[dict]) -> pd.DataFrame:
    """Drop the respondents.csv columns that look personal unless ``privacy.keep_columns`` lists them.

    Each column held back gets one quality row (its name and why, never its values); the column
    stays in ``data/raw/`` only. A ``keep_columns`` entry that is not a column of the file stops
    the run (a misspelt name would otherwise keep nothing, silently).
    """
    keep = list(study.privacy.keep_columns)
    unknown = [c for c in keep if c not in resp.columns]
    if unknown:
        raise SinergiError(f"study privacy.keep_columns: {unknown[0]!r} is not a column of {path} "
                           f"(it has {', '.join(resp.columns)})")
    held = []
    for col in resp.columns:
        if col in ID_COLUMNS or col in keep:
            continue
        why = personal_reason(col, resp[col])
        if why:
            held.append(col)
            quality.append({"wave": "", "submission_id": "", "respondent_id": "",
                            "issue": "column held back: looks personal", "field": f"{path.name}: {col}",
                            "value": why, "action": "kept in data/raw only (list it in privacy.keep_columns to use it)"})
    return resp.drop(columns=held)


# --------------------------------------------------------------------------------------------
# reading KoboToolbox-shaped raw folders


def read_pages(wave_dir: Path) -> list[dict[str, Any]]:
    """All submissions of a wave's data pages, in pull order (later pages last)."""
    from .io import read_json

    pages = sorted((wave_dir / "data").glob("page-*.json"))
    out: list[dict[str, Any]] = []
    for page in pages:
        body = read_json(page)
        if not isinstance(body, dict) or not isinstance(body.get("results"), list):
            raise SinergiError(f"{page}: not a KoboToolbox data page (no 'results' list)")
        out.extend(body["results"])
    return out


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


def load_wave_submissions(raw_dir: Path, wave: str, inst: Instrument) -> tuple[list[dict], list[str]]:
    """Submissions (API JSON shape) and roster ids for one wave, whatever the Kobo source."""
    wave_dir = Path(raw_dir) / wave
    if (wave_dir / "export").is_dir():
        from .io import read_json
        from .kobo_files import read_export

        content = read_json(wave_dir / "asset.json")["content"]
        subs: list[dict] = []
        for path in sorted((wave_dir / "export").iterdir()):
            subs.extend(read_export(path, content))
    elif (wave_dir / "data").is_dir():
        subs = read_pages(wave_dir)
    else:
        raise SinergiError(f"{wave_dir}: no data for wave '{wave}'; run `make pull`")
    roster_file = inst.by_role("respondent")[0].list_name or "roster.csv"
    return subs, read_roster(wave_dir, roster_file)


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
            "Fix it in KoboToolbox (edit the submission, or mark it Not Approved) and run `make pull --full`")


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


def _xpaths(inst: Instrument, content: dict[str, Any] | None) -> dict[str, str]:
    """Question name → submission key, from the deployed form's content when it has one."""
    paths = {q.name: q.xpath for q in inst.questions}
    for row in (content or {}).get("survey", []):
        name = row.get("name") or row.get("$autoname")
        if name in paths and row.get("$xpath"):
            paths[name] = row["$xpath"]
    return paths


def _dedupe(subs: list[dict[str, Any]], wave: str, quality: list[dict]) -> list[dict[str, Any]]:
    by_id: dict[Any, dict] = {}
    for s in subs:  # later pages win: they are the fresher pull
        by_id[s.get("_id")] = s
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
    pseudo = pseudonymizer(read_key(raw_dir))
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
        subs, roster = load_wave_submissions(raw_dir, wave, inst)
        roster_set = set(roster)
        content = read_json(raw_dir / wave / "asset.json").get("content")
        xp = _xpaths(inst, content)
        subs = _dedupe(subs, wave, quality)
        kept: dict[str, dict] = {}
        for sub in subs:
            sid = str(sub.get("_id"))
            vstat = (sub.get("_validation_status") or {}).get("uid", "")
            if vstat == "validation_status_not_approved":
                quality.append({"wave": wave, "submission_id": sid, "respondent_id": "", "issue": "marked Not Approved in KoboToolbox",
                                "field": "_validation_status", "value": vstat, "action": "left out"})
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

        for rid, sub in kept.items():
            ctx = _Ctx(wave, sub)
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

    _check_collisions(mapping)
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
        return pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[""], sep=None, engine="python",
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
    pseudo = pseudonymizer(read_key(raw_dir))
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
    resp = hold_back_columns(resp, study, paths["respondents"], quality)
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

    items = items.copy()
    items["value"] = _numbers(items, paths["responses"], "value", allow_na=True)
    known = items["item"].isin(smap["item"])
    if not known.all():
        i = int(np.flatnonzero(~known.to_numpy())[0])
        raise SinergiError(f"{paths['responses']}: row {i + 2}, column item: {items['item'].iloc[i]!r} is not in "
                           f"{paths['scales'].name}")
    bounds = items.merge(smap[["item", "min", "max"]], on="item", how="left")
    out = (bounds["value"] < bounds["min"]) | (bounds["value"] > bounds["max"])
    if out.any():
        i = int(np.flatnonzero(out.to_numpy())[0])
        raise SinergiError(f"{paths['responses']}: row {i + 2}: item {items['item'].iloc[i]} value "
                           f"{items['value'].iloc[i]:g} is outside {bounds['min'].iloc[i]:g}..{bounds['max'].iloc[i]:g}")
    if items.duplicated(["respondent_id", "wave", "item"]).any():
        i = int(np.flatnonzero(items.duplicated(["respondent_id", "wave", "item"]).to_numpy())[0])
        raise SinergiError(f"{paths['responses']}: row {i + 2}: the same respondent_id, wave and item twice")
    known_people = set(zip(resp["respondent_id"], resp["wave"]))
    orphan = [k not in known_people for k in zip(items["respondent_id"], items["wave"])]
    if any(orphan):
        i = orphan.index(True)
        raise SinergiError(f"{paths['responses']}: row {i + 2}: respondent_id {items['respondent_id'].iloc[i]!r} "
                           f"has no row in respondents.csv for wave {items['wave'].iloc[i]!r}")

    ties = ties.copy()
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
    site_of = dict(zip(zip(resp["respondent_id"], resp["wave"]), resp["site"]))
    ties = ties.assign(site=[site_of.get((e, w), study.site) for e, w in zip(ties["ego"], ties["wave"])])
    mapping = {x: pseudo(x) for x in set(resp["respondent_id"]) | set(ties["ego"]) | set(ties["alter"])}
    _check_collisions(mapping)
    resp["respondent_id"] = resp["respondent_id"].map(mapping)
    items["respondent_id"] = items["respondent_id"].map(mapping)
    ties["ego"] = ties["ego"].map(mapping)
    ties["alter"] = ties["alter"].map(mapping)
    for col in resp.columns:
        if col not in ("respondent_id", "wave", "group", "site"):
            num = pd.to_numeric(resp[col], errors="coerce")
            if num.notna().sum() == resp[col].notna().sum():
                resp[col] = num.astype(float)
    out = _frames(resp.to_dict("records"), items[["respondent_id", "wave", "item", "value"]].to_dict("records"),
                  ties[["site", "wave", "tie_type", "ego", "alter", "weight"]].to_dict("records"), quality)
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
    check_keep_columns(study)
    if study.source.kind == "tables":
        return stamp_key(study, tidy_tables(study, raw_dir), raw_dir)
    if inst is None:
        raise SinergiError("an instrument is needed to read KoboToolbox data")
    return stamp_key(study, tidy_kobo(study, inst, raw_dir), raw_dir)
