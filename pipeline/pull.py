"""Pull: bring a study's source data into ``data/raw/<study>/`` (layout in data/raw/README.md).

Local sources (``demo``, ``tables``, ``kobo_files``) only copy or generate files; ``kobo`` is the
only source that touches the network, and only through ``make pull``. Raw files are written once,
atomically, and never edited; ``manifest.json`` is written last.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

from .config import Study, check_distinct_waves, instrument_path
from .errors import SinergiError
from .instrument import asset_content, load_instrument
from .io import make_list, now_utc, read_json, sha256_file, write_bytes, write_json, write_text
from .pseudonym import ensure_key, key_fingerprint, read_key
from .schemas import OPTIONAL_TABLES, TABLE_FILES
from .sources.demo import write_demo
from .sources.kobo_files import read_export, roster_map
from .sources.kobo.pull import pull_kobo
from .sources.raw import wave_manifest

LOCAL_KINDS = ("demo", "tables", "kobo_files")


def file_hashes(raw_dir: Path, paths: list[Path]) -> dict[str, str]:
    return {p.relative_to(raw_dir).as_posix(): sha256_file(p) for p in sorted(paths)}


def pull_tables(study: Study, raw_dir: Path) -> dict[str, Any]:
    """Copy a tables study's CSVs into ``raw/tables/`` (unchanged, byte for byte)."""
    src = study.resolve(study.source.path)
    dest = raw_dir / "tables"
    copied = []
    needed = [n for n in TABLE_FILES if n not in OPTIONAL_TABLES or study.tie_types]
    for name in TABLE_FILES:
        f = src / f"{name}.csv"
        if not f.exists() and name not in needed:
            continue
        if not f.exists() and name in OPTIONAL_TABLES:
            raise SinergiError(f"source.path '{study.source.path}': {name}.csv missing, but the study names "
                               f"tie_types ({', '.join(study.tie_types)}); add the file, or leave tie_types out "
                               "for a study without networks")
        if not f.exists():
            raise SinergiError(f"source.path '{study.source.path}': {name}.csv missing "
                               f"(a tables study needs {', '.join(n + '.csv' for n in needed)})")
        write_bytes(dest / f.name, f.read_bytes())
        copied.append(dest / f.name)
    entry = {"path": str(src), "pulled_at": now_utc(), "files": file_hashes(raw_dir, copied)}
    return {w: entry for w in study.wave_ids}


def pull_exports(study: Study, raw_dir: Path) -> dict[str, dict[str, Any]]:
    """Copy each wave's export (and roster) into ``raw_dir`` for a ``kind: kobo_files`` study.

    Writes ``<wave>/export/<file>`` (the export, unchanged), ``<wave>/asset.json`` (a minimal asset:
    ``{"uid": null, "name": study title, "content": the instrument's asset content}``) and
    ``<wave>/media/roster.csv`` when the wave names a roster. Each export is read once with
    :func:`pipeline.sources.kobo_files.read_export`, so a file that cannot be understood fails here, at pull time.

    Returns
    -------
    dict
        ``{wave_id: manifest entry}`` as :func:`pipeline.sources.kobo.pull.pull_kobo` returns them
        (``asset_uid`` and ``server`` are ``None``).
    """
    raw_dir = Path(raw_dir)
    inst = load_instrument(instrument_path(study))
    content = asset_content(inst)
    out: dict[str, dict[str, Any]] = {}
    for wave in study.waves:
        if wave.file is None:
            raise SinergiError(f"wave {wave.id}: no export file in the study file (waves[].file)")
        src = study.resolve(wave.file)
        wdir = raw_dir / wave.id
        roster = study.resolve(wave.roster) if wave.roster else None
        try:
            subs = read_export(src, content, roster_map([roster]) if roster else None,
                               needed=inst.needed_xpaths())
        except SinergiError as exc:
            raise SinergiError(f"wave {wave.id}: {exc}") from None
        export_dir = wdir / "export"
        if export_dir.exists():  # one export per wave: a replaced file must not linger
            for old in export_dir.iterdir():
                if old.is_file() and old.name != src.name:
                    old.unlink()
        write_bytes(export_dir / src.name, src.read_bytes())
        write_json(wdir / "asset.json", {"uid": None, "name": study.title, "content": content})
        if roster is not None:
            write_bytes(wdir / "media" / "roster.csv", roster.read_bytes())
        elif (wdir / "media" / "roster.csv").exists():
            shutil.rmtree(wdir / "media")
        out[wave.id] = wave_manifest(raw_dir, wave.id, asset_uid=None, server=None,
                                     submissions=subs, pulled_at=now_utc())
    return out


def pull(study: Study, *, full: bool = False, local_only: bool = False, progress: bool = True) -> dict[str, Any]:
    """Pull the study's source into its raw folder and write ``manifest.json``.

    Parameters
    ----------
    full
        For ``kobo``: refetch every submission (catches edits), not only new ones.
    local_only
        Refuse sources that need the network (what ``make report`` uses when raw data is missing).
    """
    raw_dir = study.raw_dir
    kind = study.source.kind
    if kind == "kobo" and local_only:
        raise SinergiError(f"{raw_dir}: no raw data yet for this KoboToolbox study; run `make pull` first "
                           "(make report never uses the network)")
    if kind == "kobo_files":
        check_distinct_waves(study)
    raw_dir.mkdir(parents=True, exist_ok=True)
    if kind == "demo":
        inst = load_instrument(instrument_path(study))
        return write_demo(study, inst, raw_dir)
    for note in ensure_key(raw_dir):
        print(note)
    if kind in ("tables", "kobo_files"):
        waves = _pull_local(study, raw_dir)
    else:
        waves = pull_kobo(study, raw_dir, full=full, progress=progress)
    manifest = {"study": study.id, "source": kind, "written_at": now_utc(),
                "key_fingerprint": key_fingerprint(read_key(raw_dir)), "waves": waves}
    write_json(raw_dir / "manifest.json", manifest)
    write_make_sources(study)
    return manifest


def pull_if_changed(study: Study, *, progress: bool = True) -> dict[str, Any] | None:
    """What ``make report`` runs when the raw data may be out of date: pull (local sources only)
    when there is no raw data yet, or when a local source differs from its raw copy — naming what
    changed —; otherwise only mark the manifest as checked (its time, so Make sees it up to date).

    A re-copy is a pull like ``make pull``'s: the new files replace the raw folder whole
    (:func:`_pull_local`), the manifest lists their checksums, the pseudonym key stays.

    Returns
    -------
    dict or None
        The new manifest, or None when nothing was pulled.
    """
    manifest = study.raw_dir / "manifest.json"
    if not manifest.exists():
        return pull(study, local_only=True, progress=progress)
    changes = source_changes(study) if study.source.kind in ("tables", "kobo_files") else []
    if not changes:
        os.utime(manifest)
        return None
    print(f"sinergi: {'; '.join(changes[:3])}{' …' if len(changes) > 3 else ''} since the last pull: "
          f"copying the source into {study.raw_dir}/ again")
    return pull(study, local_only=True, progress=progress)


def _pull_local(study: Study, raw_dir: Path) -> dict[str, Any]:
    """Copy a ``tables`` or ``kobo_files`` source in: first into ``raw_dir/.pull/``, then each
    folder it wrote replaces the raw one whole, so a source that fails half-way (a missing or
    unreadable file) leaves the raw folder exactly as it was, and no file of an earlier copy
    lingers beside the new one."""
    stage = raw_dir / ".pull-local"
    if stage.exists():
        shutil.rmtree(stage)
    stage.mkdir()
    try:
        if study.source.kind == "tables":
            waves = pull_tables(study, stage)
        else:
            waves = pull_exports(study, stage)
        for folder in sorted(p for p in stage.iterdir() if p.is_dir()):
            dest, old = raw_dir / folder.name, raw_dir / f".old-{folder.name}"
            if old.exists():
                shutil.rmtree(old)
            if dest.exists():
                dest.rename(old)
            folder.rename(dest)
            if old.exists():
                shutil.rmtree(old)
    finally:
        shutil.rmtree(stage, ignore_errors=True)
    return waves


#: where ``pull`` lists a local source's files for Make (``-include``d by the Makefile)
MAKE_SOURCES = Path(".make/sources")


def local_sources(study: Study) -> dict[str, Path]:
    """The files a local source's raw copy is made of: raw path (relative to ``data/raw/<id>/``) →
    the file it is copied from (``tables``: each CSV there; ``kobo_files``: each wave's export
    and roster). {} for ``demo`` and ``kobo``."""
    out: dict[str, Path] = {}
    if study.source.kind == "tables":
        src = study.resolve(study.source.path)
        for name in TABLE_FILES:
            if (src / f"{name}.csv").exists() or name not in OPTIONAL_TABLES:
                out[f"tables/{name}.csv"] = src / f"{name}.csv"
    elif study.source.kind == "kobo_files":
        for w in study.waves:
            if w.file is not None:
                out[f"{w.id}/export/{Path(w.file).name}"] = study.resolve(w.file)
            if w.roster is not None:
                out[f"{w.id}/media/roster.csv"] = study.resolve(w.roster)
    return out


def source_changes(study: Study) -> list[str]:
    """What differs between a local source and its raw copy (a file edited, added or removed since
    the last pull), one phrase each; [] when the raw copy is the source byte for byte."""
    raw_dir = study.raw_dir
    manifest = read_manifest(study)
    listed: dict[str, str] = {}
    for entry in (manifest.get("waves") or {}).values():
        listed.update(entry.get("files") or {})
    kind = study.source.kind
    ours = {rel for rel in listed if rel.startswith("tables/")} if kind == "tables" else \
        {rel for rel in listed if "/export/" in rel or rel.endswith("/media/roster.csv")}
    changes = []
    for rel, src in local_sources(study).items():
        if not src.is_file():
            changes.append(f"{src} is missing")
        elif rel not in listed:
            changes.append(f"{src} is new")
        elif sha256_file(src) != listed[rel]:
            changes.append(f"{src} changed")
    changes += [f"{raw_dir / rel} is no longer in the source" for rel in sorted(ours - set(local_sources(study)))]
    return changes


def write_make_sources(study: Study, folder: Path = MAKE_SOURCES) -> Path:
    """``<folder>/<id>.mk``: the study file and its local source files as ``SOURCE_FILES``, the
    prerequisites the Makefile gives ``data/raw/<id>/manifest.json``, so editing a CSV or an export
    and running ``make report`` copies it in again (each file also gets an empty rule: a file removed
    later reruns the pull, which says what is missing, instead of stopping Make). For ``demo`` and
    ``kobo`` the file is removed (their raw data change only with ``make pull``)."""
    path = Path(folder) / f"{study.id}.mk"
    files = [study.file.resolve(), *(p.resolve() for p in local_sources(study).values() if p.is_file())]
    if study.source.kind not in ("tables", "kobo_files"):
        path.unlink(missing_ok=True)
        return path
    names = make_list(files)
    write_text(path, f"# written by `sinergi pull` (pipeline/pull.py): what data/raw/{study.id}/ is copied from\n"
                     f"SOURCE_FILES := {names}\n{names}:\n")
    return path


def read_manifest(study: Study) -> dict[str, Any]:
    return read_json(study.raw_dir / "manifest.json")


def remove_partial(raw_dir: Path) -> None:
    """Remove a raw folder that a failed first pull left without a manifest."""
    if raw_dir.exists() and not (raw_dir / "manifest.json").exists():
        shutil.rmtree(raw_dir)


def verify_raw(study: Study) -> None:
    """Check the raw folder against ``manifest.json``: every file listed is there with its
    sha256, and no file was added beside them.

    Raw data is never edited; a file changed, removed or added after the pull would make the
    tables disagree with what the manifest (and the report's colophon) says was pulled.

    Raises
    ------
    SinergiError
        Naming the first file that differs and what to do.
    """
    raw_dir = study.raw_dir
    manifest = read_manifest(study)
    listed: dict[str, str] = {}
    for entry in (manifest.get("waves") or {}).values():
        listed.update(entry.get("files") or {})
    fix = ("raw files are never edited: restore it from a backup, or pull again "
           "(`make pull`; for a KoboToolbox study `make pull FULL=1`)")
    for rel, sha in sorted(listed.items()):
        path = raw_dir / rel
        if not path.is_file():
            raise SinergiError(f"{path}: listed in {raw_dir}/manifest.json but missing; {fix}")
        if sha256_file(path) != sha:
            raise SinergiError(f"{path}: changed after the pull (its checksum differs from "
                               f"{raw_dir}/manifest.json); {fix}")
    extra = sorted(p.relative_to(raw_dir).as_posix() for p in raw_dir.rglob("*")
                   if p.is_file() and len(p.relative_to(raw_dir).parts) > 1
                   and not any(part.startswith(".") for part in p.relative_to(raw_dir).parts)
                   and p.relative_to(raw_dir).as_posix() not in listed)
    if extra:
        raise SinergiError(f"{raw_dir / extra[0]}: not in {raw_dir}/manifest.json (added after the "
                           f"pull, or a pull was cut off while finishing: run `make pull` again); "
                           "remove it if it was put there by hand")
