"""Tidy: raw source data → the canonical tables.

KoboToolbox-shaped submissions (from the API, from export files, or from the demo) are read with
the instrument's annotations (``role``, ``var``, ``scale``, ``tie_type``); ``tables`` studies are
read from their CSVs. Both end in :mod:`pipeline.schemas`' tables plus two reports on the data:

- ``quality``: one row per problem found and what was done about it (duplicates, refusals,
  self-nominations, nominations of people not on the roster, submissions marked Not Approved);
- ``sample``: respondents per wave × group, blank questionnaires, retained, attrition and newcomers.

Rules (each documented in the report's method section):

- a wave's record files are replayed in order (:func:`pipeline.sources.kobo.replay`): a later row of
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
- an out-of-range or unparseable answer stops the run, naming the wave, submission, field and value;
- a blank questionnaire (a study with scale items: no item answered and nobody named) is left out
  and listed (:func:`leave_out_blank`): a person is *in a wave* when their questionnaire of that
  wave has at least one answer, and that one definition is what every count of people uses.
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
from .instrument import Instrument, Question, check_study, scale_map, tie_questions
from .io import CsvFile, note, read_csv, read_text
from .schemas import QUALITY_COLUMNS, quality_row

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


def _check_collisions(mapping: dict[str, str], raw_dir: Path | None = None) -> None:
    """Stop when two raw ids got the same pseudonym, naming them, the width and how to widen it."""
    seen: dict[str, str] = {}
    for raw, pseudo in mapping.items():
        if pseudo in seen and seen[pseudo] != raw:
            width = len(pseudo) - 1
            where = Path(raw_dir) / "pseudonym.width" if raw_dir is not None else "data/raw/<id>/pseudonym.width"
            raise SinergiError(
                f"respondent ids {seen[pseudo]!r} and {raw!r} get the same pseudonym {pseudo} (R + {width} hex "
                f"digits = {4 * width} bits, {len(mapping):,} ids): widen the pseudonyms with "
                f"`echo {PSEUDONYM_WIDTH} > {where}` and rerun (`make report`); every pseudonym gets longer "
                "(the key stays), so earlier reports' codes keep only their first 7 digits in common")
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
    if text.drop_duplicates().map(_is_phone).any():
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
            quality.append(quality_row("column_personal", "kept_raw_only", field=f"{path.name}: {col}", value=why))
    return resp.drop(columns=held)


# --------------------------------------------------------------------------------------------
# reading KoboToolbox-shaped raw folders


def read_pages(wave_dir: Path) -> list[dict[str, Any]]:
    """The current submissions of a wave (its record files replayed: edits, new validation
    statuses and deletions applied, see :func:`pipeline.sources.kobo.replay`), in ``_id`` order."""
    from .sources.kobo import record_files, replay

    state, _ = replay(record_files(Path(wave_dir) / "data"))
    return [state[i] for i in sorted(state)]


def record_events(wave: str, wave_dir: Path, validation: str = "exclude_not_approved") -> list[dict]:
    """Quality rows for what changed on the server after a submission was first pulled.

    An edit (same ``_id``, new ``meta/instanceID``) and a deletion always get a row; a change of
    validation status gets one when it changes whether the submission counts (see
    :func:`counts`). Returns rows with :data:`QUALITY_COLUMNS`.
    """
    from .sources.kobo import record_files, replay

    _, events = replay(record_files(Path(wave_dir) / "data"))
    rows = []
    for e in events:
        sid = str(e["_id"])
        if e["kind"] == "edited":
            rows.append(quality_row("edited_on_server", "used_edited", wave=wave, submission_id=sid,
                                    field="meta/instanceID", value=f"{e['old']} → {e['new']}"))
        elif e["kind"] == "deleted":
            rows.append(quality_row("deleted_on_server", "left_out", wave=wave, submission_id=sid, field="_id",
                                    value=sid))
        elif counts(e["old"], validation) != counts(e["new"], validation):
            rows.append(quality_row("validation_changed", "now_counted" if counts(e["new"], validation) else "now_left_out",
                                    wave=wave, submission_id=sid, field="_validation_status",
                                    value=f"{VALIDATION.get(e['old'], e['old'] or 'none')} → "
                                          f"{VALIDATION.get(e['new'], e['new'] or 'none')}"))
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
        text = read_text(path)
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
        from .sources.kobo_files import read_export, roster_map

        roster = read_roster(wave_dir, roster_file)
        content = read_json(wave_dir / "asset.json")["content"]
        labels = roster_map(sorted((wave_dir / "media").glob("*.csv")))
        subs: list[dict] = []
        notes: list[dict] = []
        for path in sorted((wave_dir / "export").iterdir()):
            subs.extend(read_export(path, content, labels, needed=needed_xpaths(inst), notes=notes))
        if quality is not None:
            quality.extend({**n, "wave": wave} for n in notes)
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
        if not np.isfinite(x):
            raise ctx.fail(q, value, "is not a finite number")
        if t == "integer" and x != int(x):
            raise ctx.fail(q, value, "is not a whole number (the question is an integer)")
        lo, hi = _range(q)
        if (lo is not None and x < lo) or (hi is not None and x > hi):
            span = f"{'' if lo is None else f'{lo:g}'}..{'' if hi is None else f'{hi:g}'}"
            raise ctx.fail(q, value, f"is outside the allowed range {span}")
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
        """Quality rows: each submission read with another version's form (``value`` its version)."""
        return [quality_row("form_version_missing", "read_with_deployed", wave=self.wave, submission_id=sid,
                            field="__version__", value=v)
                for v, ids in sorted(self.missing.items()) for sid in sorted(ids, key=str)]


def _dedupe(subs: list[dict[str, Any]], wave: str, quality: list[dict]) -> list[dict[str, Any]]:
    by_id: dict[Any, dict] = {}
    for s in subs:  # pages are already one row per _id (kobo.replay); an export may repeat a row
        sid = s.get("_id")
        if sid in by_id:
            if by_id[sid] != s:
                raise SinergiError(f"wave {wave}: two different submissions share _id {sid} "
                                   f"({by_id[sid].get('meta/instanceID', '?')} and {s.get('meta/instanceID', '?')}); "
                                   "an _id belongs to one submission: was the export edited or two exports merged?")
            quality.append(quality_row("same_submission_twice", "kept_one", wave=wave, submission_id=sid,
                                       field="_id", value=sid))
        by_id[sid] = s
    ordered = sorted(by_id.values(), key=lambda s: (str(s.get("_submission_time", "")), s.get("_id", 0)))
    by_instance: dict[str, dict] = {}
    for s in ordered:
        iid = s.get("meta/instanceID") or f"_id:{s.get('_id')}"
        if iid in by_instance:
            old = by_instance[iid]
            quality.append(quality_row("duplicate_upload", "kept_later", wave=wave, submission_id=old.get("_id"),
                                       field="meta/instanceID", value=iid, kept=s.get("_id")))
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

    for site, site_dir, wave in _site_waves(study, raw_dir):
        subs, roster = load_wave_submissions(site_dir, wave, inst, quality)
        roster_set = set(roster)
        forms = _Forms(inst, wave, site_dir / wave)
        if (site_dir / wave / "data").is_dir():
            quality.extend(record_events(wave, site_dir / wave, study.validation))
        subs = _dedupe(subs, wave, quality)
        kept: dict[str, dict] = {}
        for sub in subs:
            sid = str(sub.get("_id"))
            xp = forms.xpaths(sub)
            vstat = (sub.get("_validation_status") or {}).get("uid", "")
            if not counts(vstat, study.validation):
                quality.append(quality_row("not_approved" if vstat == "validation_status_not_approved"
                                           else "not_yet_approved", "left_out", wave=wave, submission_id=sid,
                                           field="_validation_status", value=vstat or "none"))
                continue
            if consent_q is not None and sub.get(xp[consent_q.name]) != YES:
                quality.append(quality_row("no_consent", "left_out", wave=wave, submission_id=sid,
                                           field=xp[consent_q.name], value=sub.get(xp[consent_q.name], "")))
                continue
            rid = sub.get(xp[resp_q.name])
            ctx = _Ctx(wave, sub)
            if not rid:
                raise ctx.fail(resp_q, rid, "is empty: the respondent did not pick themself from the roster")
            if rid not in roster_set:
                raise ctx.fail(resp_q, rid, f"is not on the wave's roster ({len(roster)} names)")
            if rid in kept:
                old = kept[rid]
                quality.append(quality_row("respondent_twice", "kept_later", wave=wave, submission_id=old.get("_id"),
                                           respondent_id=pseudo(rid), field=xp[resp_q.name], value=pseudo(rid),
                                           kept=sid))
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
            respondents.append({"respondent_id": pid, "wave": wave, "group": str(group_value), "site": site,
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
                        quality.append(quality_row("self_nomination", "dropped", wave=wave, submission_id=sub.get("_id"),
                                                   respondent_id=pid, field=field, value=pid))
                        continue
                    if alter not in roster_set:
                        quality.append(quality_row("off_roster_nomination", "dropped", wave=wave,
                                                   submission_id=sub.get("_id"), respondent_id=pid, field=field,
                                                   value=pseudo(alter)))
                        continue
                    mapping[alter] = pseudo(alter)
                    ties.append({"site": site, "wave": wave, "tie_type": tie_type, "ego": pid,
                                 "alter": pseudo(alter), "weight": weights.get(alter, np.nan)})

    _check_collisions(mapping, raw_dir)
    if not respondents and study.validation == "approved_only":
        _none_approved(study, quality)
    out = _frames(respondents, responses, ties, quality)
    out["scale_map"] = smap
    out, blank = leave_out_blank(out, smap)
    out["sample"] = sample_flow(out["respondents"], study.wave_ids, blank, study.group_values)
    return out


def _none_approved(study: Study, quality: list[dict]) -> None:
    """``validation: approved_only`` left nobody: say so, naming the study file and the key."""
    issues = [q["issue"] for q in quality]
    waiting, refused = issues.count("not_yet_approved"), issues.count("not_approved")
    if waiting or refused:
        raise SinergiError(
            f"{study.file}: validation: approved_only: no submission in any wave is marked Approved in "
            f"KoboToolbox ({waiting} not reviewed yet, {refused} Not Approved); approve the checked ones "
            "(Data → Table → Validation status) and `make pull`, or write `validation: exclude_not_approved` "
            "to count every submission not marked Not Approved")


def _site_waves(study: Study, raw_dir: Path):
    """(site, folder, wave) for the study's village and each further village in ``sites/<folder>/``
    (the demo's comparison villages: each folder holds a ``site.json`` naming its site)."""
    from .io import read_json

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
        "quality": schemas.validate("quality", pd.DataFrame(quality, columns=QUALITY_COLUMNS)),
    }


# --------------------------------------------------------------------------------------------
# the tables route

TABLE_FILES = ("respondents", "responses", "ties", "scales")
#: the columns each tables CSV must have
TABLE_COLUMNS = {
    "respondents": ["respondent_id", "wave", "group"],
    "responses": ["respondent_id", "wave", "item", "value"],
    "ties": ["wave", "tie_type", "ego", "alter"],
    "scales": ["item", "dimension", "subscale", "reverse", "min", "max"],
}
#: the tables a tables study may leave out (a study without networks needs no ties.csv)
OPTIONAL_TABLES = ("ties",)
#: scales.csv's optional label columns, each in two languages (``<base>_id``, ``<base>_en``) or
#: one text for both (``<base>``): a dimension's and a subscale's name, and the item's statement
SCALE_LABELS = ("dimension_label", "subscale_label", "label")
#: the columns the processed scale map holds the labels in (None where not given)
SCALE_LABEL_COLUMNS = [f"{base}_{lang}" for base in SCALE_LABELS for lang in ("id", "en")]
#: text accepted in scales.csv's reverse column (case-insensitive); anything else is refused
REVERSE_WORDS = {"true": True, "false": False, "1": True, "0": False, "yes": True, "no": False,
                 "ya": True, "tidak": False}
_ID_COLUMNS = ("respondent_id", "wave", "group", "site")


def _read_csv(path: Path) -> CsvFile:
    """A tables CSV, read by :func:`pipeline.io.read_csv` (index = line number, header = line 1)."""
    if not path.exists():
        needed = [f + ".csv" for f in TABLE_FILES if f not in OPTIONAL_TABLES]
        raise SinergiError(f"{path}: file missing; a tables study needs {', '.join(needed)}")
    return read_csv(path, expect=",".join(TABLE_COLUMNS.get(path.stem, [])))


def _read_ties(study: Study, folder: Path) -> CsvFile:
    """``ties.csv``; a study without networks (no ``tie_types``) may leave it out (no rows, then)."""
    path = folder / "ties.csv"
    if path.exists() or study.tie_types:
        return _read_csv(path)
    return CsvFile(pd.DataFrame(columns=TABLE_COLUMNS["ties"], dtype=str), path, ",", ".")


def _fail(t: CsvFile, mask: Any, column: str | None, why: str) -> SinergiError:
    """The error for the first row of ``t`` where ``mask`` is true: file, row (its line), column."""
    line = int(t.frame.index[np.asarray(mask, dtype=bool)][0])
    where = f"row {line}" + (f", column {column}" if column else "")
    return SinergiError(f"{t.path}: {where}: {why}")


def _value(t: CsvFile, mask: Any, column: str) -> Any:
    return t.frame.loc[t.frame.index[np.asarray(mask, dtype=bool)][0], column]


def _need(t: CsvFile, cols: Iterable[str], filled: Iterable[str] = ()) -> None:
    """Refuse a CSV without the columns ``cols``, or with an empty cell in a column of ``filled``."""
    missing = [c for c in cols if c not in t.frame.columns]
    if missing:
        raise SinergiError(f"{t.path}: missing column(s) {', '.join(missing)} (has {', '.join(t.frame.columns)})")
    for col in filled:
        empty = t.frame[col].isna()
        if empty.any():
            raise _fail(t, empty, col, "empty; every row needs a value here")


def _numbers(t: CsvFile, col: str, *, allow_na: bool) -> pd.Series:
    """Column ``col`` as finite floats; a cell that is not a number (or empty, unless ``allow_na``)
    stops the run naming its row."""
    values, bad = t.numbers(col)
    if not allow_na:
        bad = bad | values.isna()
    if bad.any():
        value = _value(t, bad, col)
        if pd.isna(value):
            raise _fail(t, bad, col, "empty; write a number")
        raise _fail(t, bad, col, f"{value!r} is not a number{t.number_hint(value)}")
    return values


def _group_column(study: Study, t: CsvFile) -> str:
    """The respondents.csv column that holds the group: ``group``, or ``group.variable`` when the
    study sets it."""
    var = study.group.variable
    if "variable" not in study.group.model_fields_set or var == "group":
        return "group"
    if var not in t.frame.columns:
        raise SinergiError(f"{study.file}: group.variable = {var!r}: {t.path.name} has no column {var!r} "
                           f"(has {', '.join(t.frame.columns)}); name one of its columns, or leave group.variable "
                           "out to use the 'group' column")
    ignored = " (its 'group' column is not used)" if "group" in t.frame.columns else ""
    note(f"{t.path}: groups read from column {var!r} (the study's group.variable){ignored}")
    return var


def _scale_labels(S: CsvFile, smap: pd.DataFrame) -> pd.DataFrame:
    """``smap`` with the label columns :data:`SCALE_LABEL_COLUMNS` (None where scales.csv gives
    none): ``<base>_<lang>``, else ``<base>`` for both languages. A dimension (or a dimension's
    subscale) has one name: a row naming it differently from an earlier row is refused. Columns
    scales.csv has beyond these are not read (a note names them)."""
    known = {*TABLE_COLUMNS["scales"], *SCALE_LABELS, *SCALE_LABEL_COLUMNS}
    extra = [c for c in smap.columns if c not in known]
    if extra:
        note(f"{S.path}: column(s) {', '.join(extra)} not read (scales.csv reads "
             f"{', '.join(TABLE_COLUMNS['scales'])} and the labels {', '.join(SCALE_LABEL_COLUMNS)})")
    for base in SCALE_LABELS:
        for lang in ("id", "en"):
            col = f"{base}_{lang}"
            given = col if col in smap.columns else base if base in smap.columns else None
            smap[col] = smap[given].astype(object) if given else None
            smap[col] = smap[col].where(smap[col].notna(), None)
            if base != "label" and given:
                _one_name(S, smap, col, given, ["dimension"] if base == "dimension_label" else ["dimension", "subscale"])
    return smap


def _one_name(S: CsvFile, smap: pd.DataFrame, col: str, source: str, keys: list[str]) -> None:
    """Refuse a row that names its dimension (``keys``) other than an earlier row did."""
    named = smap[smap[col].notna()]
    key = named[keys].astype(str).agg("\x00".join, axis=1)
    first = named[col].groupby(key, sort=False).transform("first")
    bad = smap.index.isin(named.index[(named[col] != first).to_numpy()])
    if bad.any():
        i = smap.index[bad][0]
        what = "/".join(str(smap.at[i, k]) for k in keys)
        raise _fail(S, bad, source, f"{smap.at[i, col]!r} names {what} differently from an earlier row "
                                    f"({first[i]!r}); give it one name, or write it on one row only")


def _table_covariates(t: CsvFile, resp: pd.DataFrame, skip: Iterable[str]) -> None:
    """Type each covariate column of respondents.csv in place, by the rules of :mod:`pipeline.schemas`."""
    for col in [c for c in resp.columns if c not in set(skip)]:
        filled = resp[col].notna()
        kind = schemas.covariate_kind(col)
        if kind == "binary":
            words = resp[col].str.lower().map(schemas.BINARY_WORDS)
            bad = filled & words.isna()
            if bad.any():
                raise _fail(t, bad, col, f"{_value(t, bad, col)!r} is not 1 or 0 (ya/tidak, yes/no and true/false "
                                         "are read as 1/0 too)")
            other = sorted(set(resp.loc[filled, col].str.lower()) - {"1", "0"})
            if other:
                note(f"{t.path}: column {col}: read {'/'.join(other)} as 1/0")
            resp[col] = words.astype(float)
        elif kind is not None:
            values = _numbers(t, col, allow_na=True)
            ok, wanted = schemas.RULES[kind]
            bad = values.notna() & ~ok(values)
            if bad.any():
                raise _fail(t, bad, col, f"{_value(t, bad, col)!r} is not {wanted}")
            resp[col] = values
        else:
            values, bad = t.numbers(col)
            if filled.any() and not (bad & filled).any():
                resp[col] = values
            elif (filled & ~bad).any():
                first = _value(t, filled & bad, col)
                note(f"{t.path}: column {col} kept as text: {int((filled & ~bad).sum())} value(s) are numbers, "
                     f"{int((filled & bad).sum())} are not (first: row {int(resp.index[filled & bad][0])}, {first!r})")


def _recode(values: pd.Series, lookup: dict, dtype: Any) -> pd.Series:
    """``values.map(lookup)`` (missing where ``lookup`` has no entry), each distinct value looked
    up once and the results spread over the rows by their codes (``dtype``: ``float`` or ``"str"``).

    >>> _recode(pd.Series(["a", "b", "a", None]), {"a": 1.0}, float).tolist()
    [1.0, nan, 1.0, nan]
    """
    codes, uniques = pd.factorize(values)
    if dtype is float:
        table = np.array([lookup.get(u, np.nan) for u in uniques] + [np.nan], dtype=float)  # last: code -1
        out = table[codes]
    else:
        out = pd.array([lookup.get(u) for u in uniques], dtype=dtype).take(codes, allow_fill=True)
    return pd.Series(out, index=values.index, name=values.name)


def _tie_quality(quality: list[dict], rows: pd.DataFrame, pseudo, value: str, issue: str, action: str) -> None:
    """Add a ``quality`` row per tie in ``rows`` (in their order): the codes ``issue`` and ``action``,
    the ego's pseudonym as respondent and the pseudonym in column ``value`` as value."""
    ego = rows["ego"].map(pseudo)
    shown = ego if value == "ego" else rows[value].map(pseudo)
    quality.extend(quality_row(issue, action, wave=w, respondent_id=e, field="ties.csv", value=v)
                   for w, e, v in zip(rows["wave"], ego, shown))


def tidy_tables(study: Study, raw_dir: Path) -> dict[str, pd.DataFrame]:
    """Canonical tables from a ``tables`` study's CSVs (copied to ``data/raw/<id>/tables/``).

    Ids are pseudonymised like roster ids; a problem stops the run naming the file, its row (the
    line in the file, header = line 1), the column and the value, and where to fix it. Returns the
    same frames as :func:`tidy_kobo`.
    """
    folder = Path(raw_dir) / "tables"
    try:
        return _tidy_tables(study, Path(raw_dir), folder)
    except SinergiError as exc:
        text = str(exc)
        if not text.startswith(str(folder)):
            raise
        name = text[len(str(folder)):].lstrip("/").split(":", 1)[0]
        source = study.resolve(study.source.path) / name
        raise SinergiError(f"{text}; fix it in {source}, then `make pull`") from None


def _tidy_tables(study: Study, raw_dir: Path, folder: Path) -> dict[str, pd.DataFrame]:
    pseudo = pseudonymizer(read_key(raw_dir), pseudonym_width(raw_dir))
    R, I, S = (_read_csv(folder / f"{name}.csv") for name in ("respondents", "responses", "scales"))
    T = _read_ties(study, folder)
    group_col = _group_column(study, R)
    _need(R, ["respondent_id", "wave", group_col], filled=["respondent_id", "wave", group_col])
    _need(I, TABLE_COLUMNS["responses"], filled=["respondent_id", "wave", "item"])
    _need(T, TABLE_COLUMNS["ties"], filled=TABLE_COLUMNS["ties"])
    _need(S, TABLE_COLUMNS["scales"], filled=TABLE_COLUMNS["scales"])
    if R.frame.empty:
        raise SinergiError(f"{R.path}: no rows; it needs one row per respondent and wave")
    quality: list[dict] = []
    for t in (R, I, T):
        bad = ~t.frame["wave"].isin(study.wave_ids)
        if bad.any():
            raise _fail(t, bad, "wave", f"{_value(t, bad, 'wave')!r} is not a wave of the study "
                                        f"({', '.join(study.wave_ids)})")

    resp = hold_back_columns(R.frame.copy(), study, R.path, quality)
    resp["group"] = resp[group_col]
    bad = ~resp["group"].isin(study.group_values)
    if bad.any():
        raise _fail(R, bad, group_col, f"{_value(R, bad, group_col)!r} is not a group level of the study "
                                       f"({', '.join(study.group_values)})")
    if "site" in resp.columns:
        _need(R, ["site"], filled=["site"])
    else:
        resp["site"] = study.site
    dup = resp.duplicated(["respondent_id", "wave"], keep=False)
    if dup.any():
        rows = [str(i) for i in resp.index[dup][:4]]
        raise SinergiError(f"{R.path}: rows {', '.join(rows)}: the same respondent_id twice in one wave "
                           f"({resp.loc[resp.index[dup][0], 'respondent_id']!r})")
    _table_covariates(R, resp, skip=(*_ID_COLUMNS, group_col))

    smap = _scale_labels(S, S.frame.copy(deep=False))
    rev = smap["reverse"].str.lower().map(REVERSE_WORDS)
    if rev.isna().any():
        raise _fail(S, rev.isna(), "reverse", f"{_value(S, rev.isna(), 'reverse')!r} is not true/false")
    smap["reverse"] = rev.astype(bool)
    smap["min"] = _numbers(S, "min", allow_na=False)
    smap["max"] = _numbers(S, "max", allow_na=False)
    dup = smap["item"].duplicated()
    if dup.any():
        raise _fail(S, dup, "item", f"{_value(S, dup, 'item')!r} is listed twice; list each item once")
    bad = smap["min"] >= smap["max"]
    if bad.any():
        raise _fail(S, bad, "max", f"{_value(S, bad, 'max')!r} is not above min {_value(S, bad, 'min')!r}")
    smap = schemas.validate("scale_map", smap.reset_index(drop=True), str(S.path))

    items = I.frame.copy(deep=False)  # copy-on-write: shares the data; I.frame keeps the text
    items["value"] = _numbers(I, "value", allow_na=True)
    known = items["item"].isin(smap["item"])
    if not known.all():
        raise _fail(I, ~known, "item", f"{_value(I, ~known, 'item')!r} is not in {S.path.name}")
    lo = _recode(items["item"], dict(zip(smap["item"], smap["min"])), float)
    hi = _recode(items["item"], dict(zip(smap["item"], smap["max"])), float)
    bad = ~schemas.value_rule(items["value"], lo, hi)
    if bad.any():
        i = items.index[bad][0]
        v, a, b = items.at[i, "value"], lo[i], hi[i]
        why = "is not a whole number (the answers are" if a <= v <= b else "is outside"
        raise _fail(I, bad, None, f"item {items.at[i, 'item']} value {v:g} {why} {a:g}..{b:g}"
                                  + (")" if a <= v <= b else ""))
    dup = items.duplicated(["respondent_id", "wave", "item"])
    if dup.any():
        raise _fail(I, dup, None, "the same respondent_id, wave and item twice")
    known_people = pd.MultiIndex.from_frame(resp[["respondent_id", "wave"]])
    orphan = ~pd.MultiIndex.from_frame(items[["respondent_id", "wave"]]).isin(known_people)
    if orphan.any():
        i = items.index[np.flatnonzero(orphan)[0]]
        raise _fail(I, orphan, None, f"respondent_id {items.at[i, 'respondent_id']!r} has no row in "
                                     f"respondents.csv for wave {items.at[i, 'wave']!r}")

    ties = T.frame.copy(deep=False)
    if "weight" in ties:
        ties["weight"] = _numbers(T, "weight", allow_na=True)
        bad = ~schemas.value_rule(ties["weight"], schemas.WEIGHT_MIN, schemas.WEIGHT_MAX)
        if bad.any():
            raise _fail(T, bad, "weight", f"{_value(T, bad, 'weight')!r} is not a frequency "
                                          f"{schemas.WEIGHT_MIN:g}..{schemas.WEIGHT_MAX:g} (1 rarely, 2 monthly, "
                                          "3 weekly, 4 almost daily); leave it empty when unknown")
    else:
        ties["weight"] = np.nan
    _absent_tie_types(study, ties["tie_type"])
    bad_type = ~ties["tie_type"].isin(study.tie_types)
    if bad_type.any() and not study.tie_types:
        found = ", ".join(pd.unique(ties["tie_type"]))
        raise _fail(T, bad_type, "tie_type", f"{_value(T, bad_type, 'tie_type')!r}: the study names no tie types; "
                                             f"to analyse these ties add `tie_types: [{found}]` to {study.file}")
    if bad_type.any():
        raise _fail(T, bad_type, "tie_type", f"{_value(T, bad_type, 'tie_type')!r} is not in the study's "
                                             f"tie_types ({', '.join(study.tie_types)})")
    stray = ~pd.MultiIndex.from_arrays([ties["ego"], ties["wave"]]).isin(known_people)
    if stray.any():
        i = ties.index[np.flatnonzero(stray)[0]]
        raise _fail(T, stray, "ego", f"{ties.at[i, 'ego']!r} has no row in respondents.csv for wave "
                                     f"{ties.at[i, 'wave']!r}; a tie is named by a respondent of that wave")
    selfn = (ties["ego"] == ties["alter"]).to_numpy()
    _tie_quality(quality, ties[selfn], pseudo, "ego", "self_nomination", "dropped")
    ties = ties[~selfn]
    dup = ties.duplicated(["wave", "tie_type", "ego", "alter"]).to_numpy()
    _tie_quality(quality, ties[dup], pseudo, "alter", "duplicate_nomination", "kept_one")
    ties = ties[~dup]
    outside = ~ties["alter"].isin(resp["respondent_id"].unique()).to_numpy()
    _tie_quality(quality, ties[outside], pseudo, "alter", "non_respondent_nomination", "kept_not_node")

    # each tie's site is its ego's in that wave (every ego has exactly one such row: checked above)
    site_of = resp.set_index(["respondent_id", "wave"])["site"]
    ties = ties.assign(site=site_of.reindex(pd.MultiIndex.from_arrays([ties["ego"], ties["wave"]])).to_numpy())
    ids = pd.concat([resp["respondent_id"], ties["ego"], ties["alter"]], ignore_index=True).unique()
    mapping = {x: pseudo(x) for x in ids}
    _check_collisions(mapping, raw_dir)
    resp["respondent_id"] = _recode(resp["respondent_id"], mapping, "str")
    items["respondent_id"] = _recode(items["respondent_id"], mapping, "str")
    ties["ego"] = _recode(ties["ego"], mapping, "str")
    ties["alter"] = _recode(ties["alter"], mapping, "str")
    # every check that names a file's row is done: let the files' text go (at 200 villages the
    # ids, values and weights as read are ≈ 150 MB) before the tables are validated
    del R, I, T, S, mapping, site_of
    # DataFrames, not .to_dict("records"): at 200 villages that was 2.7 million dicts (≈ 2 GB)
    out = _frames(resp.reset_index(drop=True),
                  items[["respondent_id", "wave", "item", "value"]].reset_index(drop=True),
                  ties[["site", "wave", "tie_type", "ego", "alter", "weight"]].reset_index(drop=True), quality)
    out["scale_map"] = smap[["item", "dimension", "subscale", "reverse", "min", "max", *SCALE_LABEL_COLUMNS]]
    out, blank = leave_out_blank(out, out["scale_map"])
    out["sample"] = sample_flow(out["respondents"], study.wave_ids, blank, study.group_values)
    return out


def _absent_tie_types(study: Study, tie_types: pd.Series) -> None:
    """Refuse a study tie type that no row of ties.csv has (a typo such as ``colab``): it would be
    analysed as an empty network. A ties.csv without rows is a study without ties, not a typo."""
    have = sorted(tie_types.unique())
    absent = [t for t in study.tie_types if t not in have]
    if not have or not absent:
        return
    key = "tie_types" if "tie_types" in study.model_fields_set else \
        f"tie_types (not written, so the default {', '.join(study.tie_types)})"
    raise SinergiError(f"{study.file}: {key}: {absent[0]!r} occurs in no wave of ties.csv (ties.csv has: "
                       f"{', '.join(have)}); check its spelling, or list only the tie types of the data, "
                       f"e.g. `tie_types: [{', '.join(have)}]`")


# --------------------------------------------------------------------------------------------


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
    answered = frames["responses"].dropna(subset=["value"])
    keys = pd.MultiIndex.from_frame(resp[["respondent_id", "wave"]].astype(str))
    said = pd.MultiIndex.from_frame(answered[["respondent_id", "wave"]].astype(str))
    named = pd.MultiIndex.from_frame(frames["ties"][["ego", "wave"]].astype(str))
    return resp[~keys.isin(said) & ~keys.isin(named)]


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
        raise SinergiError("every questionnaire is blank (no scale item answered, nobody named): "
                           "there is nothing to analyse")
    drop = pd.MultiIndex.from_frame(blank[["respondent_id", "wave"]].astype(str))
    resp, items = frames["respondents"], frames["responses"]
    keep_r = ~pd.MultiIndex.from_frame(resp[["respondent_id", "wave"]].astype(str)).isin(drop)
    keep_i = ~pd.MultiIndex.from_frame(items[["respondent_id", "wave"]].astype(str)).isin(drop)
    sub = blank["submission_id"] if "submission_id" in blank else pd.Series("", index=blank.index)
    rows = [quality_row("blank_questionnaire", "left_out", wave=str(w), respondent_id=str(r),
                        submission_id="" if pd.isna(s) else s)
            for w, r, s in zip(blank["wave"], blank["respondent_id"], sub)]
    quality = pd.concat([frames["quality"], pd.DataFrame(rows, columns=QUALITY_COLUMNS)], ignore_index=True)
    out = dict(frames, respondents=resp[keep_r].reset_index(drop=True), responses=items[keep_i].reset_index(drop=True),
               quality=schemas.validate("quality", quality))
    return out, blank


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
    """Tidy the study's raw folder with the route its source kind needs."""
    check_keep_columns(study)
    if study.source.kind == "tables":
        return stamp_key(study, tidy_tables(study, raw_dir), raw_dir)
    if inst is None:
        raise SinergiError("an instrument is needed to read KoboToolbox data")
    check_study(inst, study)
    return stamp_key(study, tidy_kobo(study, inst, raw_dir), raw_dir)
