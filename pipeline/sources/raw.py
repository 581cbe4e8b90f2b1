"""The raw folder: how a pull stores a wave, and how tidy and the monitor read it back.

``data/raw/<study>/<wave>/`` (layout in ``data/raw/README.md``) holds what a source delivered,
never edited. Two halves live here:

**The record store** (written by the pulls, :mod:`pipeline.sources.kobo.pull` and
:mod:`pipeline.sources.odk`): ``<wave>/data/`` holds numbered files, one sequence for both kinds —

- ``page-NNNNNN.json``: an API answer (``{count, next, previous, results}``); rows are full submissions;
- ``sweep-NNNNNN.json``: the server's whole set at one moment (``{"swept_at", "results": [{_id,
  _uuid, _validation_status, meta/rootUuid}]}``); an ``_id`` seen before but not in it was deleted
  on the server (kpi deletes leave no tombstone).

Files are only ever added. The state of a wave is the files replayed in order (:func:`replay`): a
later row of the same ``_id`` replaces the earlier one (an edit, a new validation status), a sweep
removes the ids it does not list. :func:`wave_manifest` is a wave's entry of ``manifest.json``.

**The wave readers**: :func:`read_wave` turns one wave's folder into a :class:`RawWave` — the
current submissions in KoboToolbox's API shape, what changed on the server, the form each
submission was made with (:class:`FormVersions`), the roster, and quality rows on how the folder
was read. Which reader runs depends on the folder the wave's data is in (:data:`WAVE_READERS`):

==========  ==============================================  ===============================
folder      source                                          reader
==========  ==============================================  ===============================
``export``  a KoboToolbox website export (``kobo_files``)   :func:`read_export_wave`
``data``    KoboToolbox API record files (``kobo``, demo)   :func:`read_record_wave`
==========  ==============================================  ===============================

Another platform plugs in as one more row: a function ``reader(wave_dir, wave, inst) -> RawWave``
for the folder its pull writes (ODK Central's ``odata/``, whose submissions
:func:`pipeline.sources.odk.read_wave` already returns in this shape; a Google Forms ``google/``
folder read by :func:`pipeline.sources.google_forms.read_responses`). Tidy and the monitor then
read it unchanged.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any, Callable

from ..errors import SinergiError
from ..instrument import Instrument
from ..io import now_utc, read_json, read_text, sha256_file
from ..schemas import quality_row
from .kobo_files import read_export, roster_map

#: the folder of a wave's record files (``data/raw/<study>/<wave>/data/``)
DATA_DIR = "data"
#: ``data/raw/<study>/.pull/``: what a pull fetched, until every wave is complete
STAGE = ".pull"
_SEQ_RE = re.compile(r"^(page|sweep)-(\d{6,})\.json$")


# --------------------------------------------------------------------------------------------
# the record store


def record_files(*folders: Path) -> list[tuple[int, str, Path]]:
    """``(number, "page"|"sweep", path)`` of the record files in ``folders``, in order."""
    out = []
    for folder in folders:
        if Path(folder).is_dir():
            for p in Path(folder).iterdir():
                m = _SEQ_RE.match(p.name)
                if m and p.is_file():
                    out.append((int(m.group(2)), m.group(1), p))
    return sorted(out, key=lambda t: (t[0], t[1]))


def validation_status(row: dict[str, Any]) -> str:
    """A submission's ``_validation_status.uid`` (``""`` when it has none).

    >>> validation_status({"_validation_status": {"uid": "validation_status_approved"}}), validation_status({})
    ('validation_status_approved', '')
    """
    v = row.get("_validation_status")
    return str(v.get("uid") or "") if isinstance(v, dict) else ""


def replay(files: list[tuple[int, str, Path]]) -> tuple[dict[int, dict[str, Any]], list[dict[str, Any]]]:
    """The current submissions of a wave from its record files, and what changed on the way.

    Parameters
    ----------
    files
        :func:`record_files` of the wave's ``data/`` folder (and a pull's staging folder).

    Returns
    -------
    state : dict
        ``_id`` → the latest row of every submission still on the server.
    events : list of dict
        One per change, in order: ``kind`` (``edited``: same ``_id``, new ``_uuid``;
        ``status``: new ``_validation_status``; ``deleted``: missing from a later sweep), ``_id``,
        ``old`` and ``new`` (instanceID or status uid; ``new`` is ``""`` for a deletion), ``file``.

    Raises
    ------
    SinergiError
        A page that is not an API answer, an ``_id`` that is not a whole number, the same ``_id``
        twice in one page, or two different submissions (different ``meta/rootUuid``) under one
        ``_id`` — naming the file.
    """
    state: dict[int, dict[str, Any]] = {}
    events: list[dict[str, Any]] = []
    for _, kind, path in files:
        rows, ids = _record_rows(path)
        if kind == "sweep":
            present = set(ids)
            for rid in [i for i in state if i not in present]:
                events.append({"kind": "deleted", "_id": rid, "old": state[rid].get("meta/instanceID", ""),
                               "new": "", "file": path.name})
                del state[rid]
            continue
        if len(set(ids)) != len(ids):
            dup = next(i for i in ids if ids.count(i) > 1)
            raise SinergiError(f"{path}: submission _id {dup} appears twice in one page; two "
                               "submissions cannot share an _id (was the file edited or merged by hand?)")
        for rid, row in zip(ids, rows):
            old = state.get(rid)
            if old is not None:
                events.extend(_changes(path, rid, old, row))
            state[rid] = row
    return state, events


def _record_rows(path: Path) -> tuple[list[dict[str, Any]], list[int]]:
    """The rows of one record file and their ``_id``s, checked."""
    body = read_json(path)
    if not isinstance(body, dict) or not isinstance(body.get("results"), list):
        raise SinergiError(f"{path}: not a submissions record (no 'results' list); raw files are "
                           "never edited: restore it from a backup, or delete the study's raw "
                           "folder and pull again")
    rows = body["results"]
    ids = []
    for row in rows:
        rid = row.get("_id") if isinstance(row, dict) else None
        if not isinstance(rid, int) or isinstance(rid, bool):
            raise SinergiError(f"{path}: submission _id {rid!r} is not a whole number (the API "
                               "sends numbers); was the file edited by hand?")
        ids.append(rid)
    return rows, ids


def _changes(path: Path, rid: int, old: dict[str, Any], row: dict[str, Any]) -> list[dict[str, Any]]:
    """The events of a later row of an ``_id`` already held: an edit, a new validation status."""
    a, b = old.get("meta/rootUuid"), row.get("meta/rootUuid")
    if a and b and a != b:
        raise SinergiError(f"{path}: submission _id {rid} is a different submission "
                           f"(meta/rootUuid {b}) from the one saved before ({a}); two "
                           "submissions cannot share an _id — was a raw file copied "
                           "from another project?")
    out = []
    if old.get("_uuid") != row.get("_uuid"):
        out.append({"kind": "edited", "_id": rid, "old": old.get("meta/instanceID", ""),
                    "new": row.get("meta/instanceID", ""), "file": path.name})
    if validation_status(old) != validation_status(row):
        out.append({"kind": "status", "_id": rid, "old": validation_status(old),
                    "new": validation_status(row), "file": path.name})
    return out


def _wave_files(raw_dir: Path, wdir: Path) -> dict[str, str]:
    files = {}
    for p in sorted(wdir.rglob("*")):
        rel = p.relative_to(wdir)
        if p.is_file() and not any(part.startswith(".") for part in rel.parts):
            files[p.relative_to(raw_dir).as_posix()] = sha256_file(p)
    return files


def wave_manifest(raw_dir: Path, wave_id: str, *, asset_uid: str | None, server: str | None,
                  submissions: list[dict[str, Any]], pulled_at: str | None = None) -> dict[str, Any]:
    """A manifest entry for one wave: ids, count and the sha256 of every file under ``<wave>/``."""
    ids = sorted({s["_id"] for s in submissions if isinstance(s.get("_id"), int)})
    return {"asset_uid": asset_uid, "server": server, "pulled_at": pulled_at or now_utc(),
            "count": len(ids), "id_min": ids[0] if ids else None, "id_max": ids[-1] if ids else None,
            "files": _wave_files(Path(raw_dir), Path(raw_dir) / wave_id)}


# --------------------------------------------------------------------------------------------
# the roster a wave was collected with


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


def read_roster_labels(wave_dir: Path, filename: str) -> dict[str, str]:
    """Roster id → label over every kept version of the wave's roster file (later files win)."""
    stem, ext = Path(filename).stem, Path(filename).suffix
    out: dict[str, str] = {}
    for path in sorted((Path(wave_dir) / "media").glob(f"{stem}*{ext}")):
        for row in csv.DictReader(io.StringIO(path.read_text(encoding="utf-8-sig"))):
            name = (row.get("name") or "").strip()
            if name:
                out[name] = (row.get("label") or name).strip()
    return out


# --------------------------------------------------------------------------------------------
# the form each submission was made with


def question_keys(inst: Instrument, content: dict[str, Any] | None,
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


class FormVersions:
    """The form each submission of a wave was made with (its ``__version__``).

    Parameters
    ----------
    inst
        The instrument (question names).
    wave
        The wave id (for the quality rows).
    contents
        Form version → its content (``survey`` rows with ``$xpath``, ``$kuid``); the key ``None``
        for a content of unknown version.
    deployed
        The version a submission of a version not in ``contents`` is read with.
    api
        Whether the versions come from an API pull, where a missing version is worth a quality row
        (an export or the demo's files carry one content only).
    """

    def __init__(self, inst: Instrument, wave: str, contents: dict[str | None, dict[str, Any]],
                 deployed: str | None, api: bool):
        self.inst, self.wave, self.contents, self.deployed, self.api = inst, wave, contents, deployed, api
        names = {q.name for q in inst.questions}
        self.kuid_names = {row["$kuid"]: row.get("name") for c in contents.values()
                           for row in c.get("survey", []) if row.get("$kuid") and row.get("name") in names}
        self.cache: dict[str | None, dict[str, str]] = {}
        self.missing: dict[str, set] = {}

    def xpaths(self, sub: dict[str, Any]) -> dict[str, str]:
        """Question name → key in ``sub``, read with the form of its ``__version__``; a version not
        at hand is read with the deployed form (and noted, see :meth:`notes`)."""
        v = sub.get("__version__")
        if v not in self.cache:
            content = self.contents.get(v)
            if content is None:
                content = self.contents.get(self.deployed) or next(iter(self.contents.values()), None)
            self.cache[v] = question_keys(self.inst, content, self.kuid_names)
        if v not in self.contents and self.api and v:
            self.missing.setdefault(v, set()).add(sub.get("_id"))
        return self.cache[v]

    def notes(self) -> list[dict]:
        """Quality rows: each submission read with another version's form (``value`` its version)."""
        return [quality_row("form_version_missing", "read_with_deployed", wave=self.wave, submission_id=sid,
                            field="__version__", value=v)
                for v, ids in sorted(self.missing.items()) for sid in sorted(ids, key=str)]


def read_form_versions(inst: Instrument, wave: str, wave_dir: Path) -> FormVersions:
    """A wave's :class:`FormVersions` from its ``asset.json`` and ``versions/<vuid>.json``.

    ``versions/<vuid>.json`` when the pull saved it; the asset's ``content`` for its
    ``version_id`` (the asset detail's content is the latest version, possibly an undeployed
    draft — kpi serializers/v2/asset.py:405); else the deployed version's form, noted in
    ``quality``.
    """
    asset = read_json(wave_dir / "asset.json")
    contents: dict[str | None, dict] = {}
    if asset.get("content"):
        contents[asset.get("version_id")] = asset["content"]
    vdir = wave_dir / "versions"
    for path in sorted(vdir.glob("*.json")) if vdir.is_dir() else []:
        body = read_json(path)
        if isinstance(body, dict) and body.get("content"):
            contents[body.get("uid") or path.stem] = body["content"]
    deployed = asset.get("deployed_version_id") or asset.get("version_id")
    return FormVersions(inst, wave, contents, deployed, api="deployed_version_id" in asset)


# --------------------------------------------------------------------------------------------
# a wave, read


@dataclass
class RawWave:
    """One wave's raw folder as tidy and the monitor read it, whatever the platform.

    ``submissions`` are in KoboToolbox's API JSON shape (``_id``, ``_submission_time``,
    ``_validation_status``, ``meta/instanceID``, answers under their xpaths); ``events`` are the
    changes on the server after a first pull (:func:`replay`'s); ``forms`` gives each submission's
    question keys; ``roster`` the roster ids and ``labels`` id → label (names: personal data, for the
    monitor's private list only); ``deployed_version`` the version the project serves (None when the
    source does not say); ``notes`` quality rows on how the folder was read (ignored columns, …).
    """

    id: str
    folder: Path
    submissions: list[dict[str, Any]]
    forms: FormVersions
    roster: list[str]
    labels: dict[str, str] = field(default_factory=dict)
    events: list[dict[str, Any]] = field(default_factory=list)
    deployed_version: str | None = None
    notes: list[dict[str, str]] = field(default_factory=list)

    @cached_property
    def on_roster(self) -> frozenset[str]:
        """The roster ids as a set."""
        return frozenset(self.roster)


def _roster_file(inst: Instrument) -> str:
    return inst.respondent_question().list_name or "roster.csv"


def read_record_wave(wave_dir: Path, wave: str, inst: Instrument) -> RawWave:
    """A wave pulled from the KoboToolbox API (or written by the demo): its record files replayed
    (edits, new validation statuses and deletions applied), in ``_id`` order."""
    state, events = replay(record_files(wave_dir / DATA_DIR))
    asset = read_json(wave_dir / "asset.json")
    return RawWave(wave, wave_dir, [state[i] for i in sorted(state)], read_form_versions(inst, wave, wave_dir),
                   read_roster(wave_dir, _roster_file(inst)), read_roster_labels(wave_dir, _roster_file(inst)),
                   events, asset.get("deployed_version_id"))


def read_export_wave(wave_dir: Path, wave: str, inst: Instrument) -> RawWave:
    """A wave of a ``kobo_files`` study: each export in ``export/`` read with the wave's roster
    (:func:`pipeline.sources.kobo_files.read_export`); it must hold every question
    :meth:`pipeline.instrument.Instrument.needed_xpaths` lists. What was read with a caveat
    (ignored columns, a CSV's missing tie frequencies) becomes quality rows of the wave."""
    roster = read_roster(wave_dir, _roster_file(inst))
    asset = read_json(wave_dir / "asset.json")
    labels = roster_map(sorted((wave_dir / "media").glob("*.csv")))
    subs: list[dict] = []
    notes: list[dict] = []
    for path in sorted((wave_dir / "export").iterdir()):
        subs.extend(read_export(path, asset["content"], labels, needed=inst.needed_xpaths(), notes=notes))
    return RawWave(wave, wave_dir, subs, read_form_versions(inst, wave, wave_dir), roster,
                   read_roster_labels(wave_dir, _roster_file(inst)), [], asset.get("deployed_version_id"),
                   [{**n, "wave": wave} for n in notes])


#: the folder a wave's data is in → its reader, tried in this order (see the module docstring)
WAVE_READERS: tuple[tuple[str, Callable[[Path, str, Instrument], RawWave]], ...] = (
    ("export", read_export_wave),
    (DATA_DIR, read_record_wave),
)


def has_wave(raw_dir: Path, wave: str) -> bool:
    """Whether ``raw_dir/<wave>/`` holds data one of :data:`WAVE_READERS` reads."""
    return any((Path(raw_dir) / wave / folder).is_dir() for folder, _ in WAVE_READERS)


def read_wave(raw_dir: Path, wave: str, inst: Instrument) -> RawWave:
    """Read ``raw_dir/<wave>/`` with the reader of the folder its data is in.

    Raises
    ------
    SinergiError
        The wave has no data yet (``make pull``), or a reader's error naming the file.
    """
    wave_dir = Path(raw_dir) / wave
    for folder, reader in WAVE_READERS:
        if (wave_dir / folder).is_dir():
            return reader(wave_dir, wave, inst)
    raise SinergiError(f"{wave_dir}: no data for wave '{wave}'; run `make pull`")
