"""Pull: bring a study's source data into ``data/raw/<study>/`` (layout in data/raw/README.md).

Local sources (``demo``, ``tables``, ``kobo_files``) only copy or generate files; ``kobo`` is the
only source that touches the network, and only through ``make pull``. Raw files are written once,
atomically, and never edited; ``manifest.json`` is written last.
"""

from __future__ import annotations

import secrets
import shutil
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from .config import Study, check_distinct_waves, instrument_path
from .errors import SinergiError
from .instrument import load_instrument
from .io import read_json, sha256_file, write_bytes, write_json, write_text

LOCAL_KINDS = ("demo", "tables", "kobo_files")


def now_utc() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def ensure_key(raw_dir: Path) -> None:
    """Create ``pseudonym.key`` (256 random bits) unless the study already has one."""
    path = raw_dir / "pseudonym.key"
    if not path.exists():
        write_text(path, secrets.token_hex(32) + "\n")


def file_hashes(raw_dir: Path, paths: list[Path]) -> dict[str, str]:
    return {p.relative_to(raw_dir).as_posix(): sha256_file(p) for p in sorted(paths)}


def pull_tables(study: Study, raw_dir: Path) -> dict[str, Any]:
    """Copy a tables study's CSVs into ``raw/tables/`` (unchanged, byte for byte)."""
    from .tidy import TABLE_FILES

    src = study.resolve(study.source.path)
    dest = raw_dir / "tables"
    copied = []
    for name in TABLE_FILES:
        f = src / f"{name}.csv"
        if not f.exists():
            raise SinergiError(f"source.path '{study.source.path}': {name}.csv missing "
                               f"(a tables study needs {', '.join(n + '.csv' for n in TABLE_FILES)})")
        write_bytes(dest / f.name, f.read_bytes())
        copied.append(dest / f.name)
    entry = {"path": str(src), "pulled_at": now_utc(), "files": file_hashes(raw_dir, copied)}
    return {w: entry for w in study.wave_ids}


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
        from .demo import write_demo

        inst = load_instrument(instrument_path(study))
        return write_demo(study, inst, raw_dir)
    ensure_key(raw_dir)
    if kind == "tables":
        waves = pull_tables(study, raw_dir)
    elif kind == "kobo_files":
        from .kobo_files import pull_files

        waves = pull_files(study, raw_dir)
    else:
        from .kobo import pull_kobo

        waves = pull_kobo(study, raw_dir, full=full, progress=progress)
    manifest = {"study": study.id, "source": kind, "written_at": now_utc(), "waves": waves}
    write_json(raw_dir / "manifest.json", manifest)
    return manifest


def read_manifest(study: Study) -> dict[str, Any]:
    return read_json(study.raw_dir / "manifest.json")


def remove_partial(raw_dir: Path) -> None:
    """Remove a raw folder that a failed first pull left without a manifest."""
    if raw_dir.exists() and not (raw_dir / "manifest.json").exists():
        shutil.rmtree(raw_dir)
