"""The KoboToolbox pull: every wave's asset, form versions, media and submissions into ``data/raw/``.

:func:`pull_kobo` (``make pull``) brings each wave's project into ``data/raw/<study>/<wave>/``
(layout in ``data/raw/README.md``): ``asset.json``, ``media/``, ``versions/`` and the record files
of :mod:`pipeline.sources.raw` (pages and sweeps), resumable and incremental. Everything fetched goes
first to ``data/raw/<study>/.pull/`` and is moved into place only when every wave is complete
(:func:`pull_kobo`), so a failed pull leaves the raw folder as it was and the next one resumes.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import sys
from pathlib import Path
from typing import Any, Iterator

from tqdm import tqdm

from ...errors import SinergiError
from ...io import now_utc, write_bytes, write_json, write_text
from ..raw import DATA_DIR, STAGE, record_files, replay, validation_status, wave_manifest
from .client import KoboClient, get_token

log = logging.getLogger(__name__)

SWEEP_FIELDS = ["_id", "_uuid", "_validation_status"]
#: the marker of a complete pull being moved into place (``.pull/COMMIT``)
COMMIT_MARKER = "COMMIT"


def _safe_name(name: str, where: str) -> str:
    base = Path(str(name)).name
    if not base or base in (".", "..") or base.startswith("."):
        raise SinergiError(f"{where}: media file name {name!r} is not usable")
    return base


def _keep_old(dest: Path, new: bytes) -> bool:
    """Before ``dest`` is replaced by different bytes, keep it as ``<stem>.<sha8><ext>``.

    Returns False when ``dest`` already holds exactly ``new`` (nothing to replace)."""
    if not dest.exists():
        return True
    old = dest.read_bytes()
    if old == new:
        return False
    keep = dest.with_name(f"{dest.stem}.{hashlib.sha256(old).hexdigest()[:8]}{dest.suffix}")
    if not keep.exists():
        write_bytes(keep, old)
    return True


def _commit(raw_dir: Path) -> None:
    """Move a complete pull from ``.pull/`` into the raw folder.

    Record files and form versions are new names; ``asset.json`` and media replace the current
    file, whose older, different bytes are kept as ``<stem>.<sha8><ext>``. A ``COMMIT`` marker is
    written first, so a pull killed half-way through this step finishes it the next time.
    """
    stage = raw_dir / STAGE
    if not stage.is_dir():
        return
    marker = stage / COMMIT_MARKER
    if not marker.exists():
        write_text(marker, now_utc() + "\n")
    for src in sorted(p for p in stage.rglob("*") if p.is_file() and p != marker):
        rel = src.relative_to(stage)
        if any(part.startswith(".") for part in rel.parts):
            continue  # a temp file of a killed write
        dest = raw_dir / rel
        data = src.read_bytes()
        if rel.name == "asset.json" or (len(rel.parts) > 1 and rel.parts[-2] == "media"):
            if _keep_old(dest, data):
                dest.parent.mkdir(parents=True, exist_ok=True)
                os.replace(src, dest)
        elif dest.exists():
            if dest.read_bytes() != data:
                raise SinergiError(f"{dest}: already in the raw folder with other content; raw files "
                                   f"are never replaced (the new copy is kept in {src})")
        else:
            dest.parent.mkdir(parents=True, exist_ok=True)
            os.replace(src, dest)
    shutil.rmtree(stage)


def _recover(raw_dir: Path) -> None:
    """Finish a commit a killed pull started; drop stray temp files (kept pages resume)."""
    stage = raw_dir / STAGE
    if (stage / COMMIT_MARKER).exists():
        _commit(raw_dir)
    for folder in (p for p in [raw_dir, *raw_dir.rglob("*")] if p.is_dir()):
        for stray in folder.glob(".*.tmp"):
            if stray.is_file():
                stray.unlink()
    for old in (".data-full.tmp", ".data-old.tmp"):  # left by pulls of earlier versions
        for wdir in raw_dir.iterdir() if raw_dir.is_dir() else []:
            if (wdir / old).is_dir() and (wdir / "data").is_dir():
                shutil.rmtree(wdir / old)


def _progress(wave_id: str, progress: bool, what: str):
    enabled = progress and hasattr(sys.stderr, "isatty") and sys.stderr.isatty()
    return tqdm(desc=f"pull {wave_id}: {what}", unit=" submissions", file=sys.stderr,
                disable=not enabled, leave=True)


def _md5(path: Path) -> str | None:
    return hashlib.md5(path.read_bytes()).hexdigest() if path.is_file() else None


class _Stager:
    """Writes one wave's new files into ``.pull/<wave>/``, numbering records after what exists."""

    def __init__(self, raw_dir: Path, wave_id: str):
        self.wdir = raw_dir / wave_id
        self.sdir = raw_dir / STAGE / wave_id
        self.files = record_files(self.wdir / DATA_DIR, self.sdir / DATA_DIR)
        self.next_no = max((n for n, _, _ in self.files), default=0) + 1
        self.state, _ = replay(self.files)

    def record(self, kind: str, body: dict[str, Any]) -> None:
        path = self.sdir / DATA_DIR / f"{kind}-{self.next_no:06d}.json"
        write_json(path, body, indent=None)
        self.files.append((self.next_no, kind, path))
        self.next_no += 1
        if kind == "page":
            for row in body["results"]:
                self.state[row["_id"]] = row
        else:
            present = {r["_id"] for r in body["results"]}
            self.state = {i: r for i, r in self.state.items() if i in present}

    def current(self, rel: str) -> Path:
        """The newest copy of ``rel`` (staged, else raw)."""
        staged = self.sdir / rel
        return staged if staged.exists() else self.wdir / rel

    def put(self, rel: str, data: bytes) -> None:
        write_bytes(self.sdir / rel, data)


def _chunks(ids: list[int], n: int) -> Iterator[list[int]]:
    for i in range(0, len(ids), n):
        yield ids[i:i + n]


#: ids per ``$in`` request: keeps the URL under 4 kB (proxies refuse long URLs)
IN_CHUNK = 300


def _fetch_asset(client: KoboClient, uid: str, st: "_Stager") -> dict[str, Any]:
    """Stage the asset (refused when not deployed, or seen through a partial permission) and its media
    files that changed on the server; returns the asset."""
    where = f"asset {uid} on {client.server}"
    asset = client.get_asset(uid)
    if asset.get("has_deployment") is False:
        raise SinergiError(f"asset {uid} on {client.server} is not deployed yet, so it has no "
                           "submissions; deploy it first (`sinergi kobo deploy`, or Deploy on the website)")
    if asset.get("has_deployment") and "deployment__submission_count" in asset \
            and asset["deployment__submission_count"] is None:
        raise SinergiError(f"{where}: your account may see only some of this project's submissions "
                           "(a partial 'View submissions' permission, e.g. only its own), so a pull "
                           "would be a silent subset; ask the project owner for 'View submissions' on "
                           "all submissions (Project → Settings → Sharing), or pull with the owner's token")
    st.put("asset.json", (json.dumps(asset, ensure_ascii=False, indent=2) + "\n").encode("utf-8"))

    for row in client.list_media(uid):
        meta = row.get("metadata") or {}
        name = _safe_name(meta.get("filename") or row.get("uid") or "", f"asset {uid}")
        url = row.get("content") or meta.get("redirect_url")
        if not url:
            log.warning("asset %s: media file %s has no download URL; skipped", uid, name)
            continue
        have = st.current(f"media/{name}")
        if str(meta.get("hash", "")).removeprefix("md5:") == _md5(have):
            continue  # unchanged on the server: no download over a weak connection
        st.put(f"media/{name}", client.download(url, where=f"asset {uid} media {name}"))
    return asset


def _fetch_versions(client: KoboClient, uid: str, st: "_Stager", asset: dict[str, Any]) -> None:
    """Stage the form of every version the held submissions were made with, and the deployed one (a version
    the server no longer has is skipped with a warning: tidy reads those submissions with the deployed form)."""
    wanted = {asset.get("deployed_version_id")} | {s.get("__version__") for s in st.state.values()}
    for vuid in sorted(v for v in wanted - {asset.get("version_id")} if isinstance(v, str) and v):
        rel = f"versions/{_safe_name(vuid, f'asset {uid}')}.json"
        if st.current(rel).exists():
            continue
        try:
            st.put(rel, (json.dumps(client.get_version(uid, vuid), ensure_ascii=False, indent=2)
                         + "\n").encode("utf-8"))
        except SinergiError as exc:
            if "not found" not in str(exc):
                raise
            log.warning("%s; its submissions will be read with the deployed form (tidy notes it)", exc)


def _pull_wave(client: KoboClient, wave_id: str, uid: str, raw_dir: Path, full: bool,
               progress: bool) -> dict[str, Any]:
    """Fetch one wave into the staging folder; returns counts of what changed."""
    st = _Stager(raw_dir, wave_id)

    asset = _fetch_asset(client, uid, st)

    # 1. what is new since the largest _id held (everything with full=True)
    after = None if full or not st.state else max(st.state)
    before = dict(st.state)
    bar = _progress(wave_id, progress, "new")
    try:
        for page in client.iter_data_pages(uid, after_id=after):
            if bar.total is None and isinstance(page.get("count"), int):
                bar.total = page["count"]
                bar.refresh()
            st.record("page", page)
            bar.update(len(page["results"]))
    finally:
        bar.close()
    new = len(st.state) - len(before)

    # 2. the sweep: the server's whole set, light (_id, _uuid, validation status)
    swept: list[dict[str, Any]] = []
    for page in client.iter_data_pages(uid, fields=SWEEP_FIELDS):
        swept.extend(page["results"])
    held = dict(st.state)
    on_server = {r["_id"] for r in swept}
    deleted = [i for i in held if i not in on_server]
    if deleted:  # a sweep is kept only when it says something pages cannot: a deletion
        st.record("sweep", {"swept_at": now_utc(), "fields": SWEEP_FIELDS, "count": len(swept),
                            "results": swept})

    # 3. refetch what the sweep shows missing (a lower _id made visible late) or changed in place
    late = sorted(r["_id"] for r in swept if r["_id"] not in held)
    changed = sorted(r["_id"] for r in swept if r["_id"] in held and (
        held[r["_id"]].get("_uuid") != r.get("_uuid") or validation_status(held[r["_id"]]) != validation_status(r)))
    for chunk in _chunks(late + changed, IN_CHUNK):
        for page in client.iter_data_pages(uid, ids=chunk):
            st.record("page", page)

    _fetch_versions(client, uid, st, asset)  # 4. the forms the submissions were made with

    out = {"new": new, "late": len(late), "changed": len(changed), "deleted": len(deleted), "total": len(st.state)}
    if any(out[k] for k in ("late", "changed", "deleted")):
        log.warning("wave %s: %d new, %d arrived late (lower _id), %d edited or re-validated, "
                    "%d deleted on the server; %d submission(s) now", wave_id, out["new"], out["late"],
                    out["changed"], out["deleted"], out["total"])
    return out


def _pull_waves(study: Any, client: KoboClient, raw_dir: Path, full: bool,
                progress: bool) -> dict[str, dict[str, Any]]:
    """:func:`_pull_wave` for every wave of the study, errors prefixed ``wave <id>:``; wave → changes."""
    changes: dict[str, dict[str, Any]] = {}
    for wave in study.waves:
        if not wave.asset_uid:
            raise SinergiError(
                f"wave {wave.id}: no asset_uid in the study file yet; deploy the wave's project "
                f"(`sinergi kobo deploy --wave {wave.id} --roster roster.csv`) and put the uid it "
                "prints under the wave (the project's uid is in its URL …/#/forms/<uid>/…), or "
                "leave the wave out of the study until then")
        try:
            changes[wave.id] = _pull_wave(client, wave.id, wave.asset_uid, raw_dir, full, progress)
        except SinergiError as exc:
            raise SinergiError(f"wave {wave.id}: {exc}") from None
    return changes


def pull_kobo(study: Any, raw_dir: str | os.PathLike, full: bool = False, progress: bool = True,
              *, client: KoboClient | None = None,
              env_file: str | os.PathLike = ".env") -> dict[str, dict[str, Any]]:
    """Pull every wave of a ``kind: kobo`` study into ``raw_dir`` (layout: ``data/raw/README.md``).

    For each wave: ``asset.json`` (the full asset; older, different copies kept as
    ``asset.<sha8>.json``), ``media/<file>`` (form media, likewise), ``versions/<vuid>.json`` (the
    deployed version and every ``__version__`` the submissions were made with) and the record
    files in ``data/`` (see :func:`replay`).

    Every pull ends with the wave's record equal to the server's set of submissions:

    1. new submissions, keyset-paged from the largest ``_id`` held (all with ``full=True``);
    2. a sweep — one light request per 1,000 submissions (``fields=["_id","_uuid",
       "_validation_status"]``); when it no longer lists an ``_id`` held (deleted on the server)
       it is saved as ``sweep-NNNNNN.json``;
    3. a refetch (``query={"_id":{"$in":[…]}}``) of what the sweep shows missing (kpi assigns
       ``_id`` before the Mongo write, so a lower ``_id`` can appear after a higher one was pulled)
       or changed in place (an edit's new ``_uuid``, a new validation status).

    Nothing is rewritten: raw is append-only. Everything a pull fetches goes first to
    ``raw_dir/.pull/``; only when every wave is complete is it moved into place (and the caller
    writes ``manifest.json``), so a failed pull leaves the raw folder exactly as it was, and the
    next pull resumes from what was fetched.

    Parameters
    ----------
    study
        A study with ``source.kind == "kobo"`` (server, token_env, max_wait) and waves with
        ``asset_uid``.
    raw_dir
        ``data/raw/<study-id>``.
    full
        Refetch every submission (``make pull FULL=1``), not only new and changed ones.
    progress
        Show a progress bar per wave on stderr (only when stderr is a terminal).
    client
        A ready :class:`KoboClient` (tests); by default one is made from the study's server and
        the token from :func:`get_token` (``env_file``).

    Returns
    -------
    dict
        ``{wave_id: {"asset_uid", "server", "pulled_at", "count", "id_min", "id_max",
        "changes": {"new", "late", "changed", "deleted", "total"},
        "files": {path relative to raw_dir: sha256}}}``; ``count`` is the number of submissions on
        the server at the sweep. The caller writes ``manifest.json`` (atomically, with
        :func:`pipeline.io.write_json`).

    Raises
    ------
    SinergiError
        ``wave <id>: …`` naming the asset and server: no token, token rejected (401), asset not
        found or not shared (404), submissions not visible or only partly, not deployed, server
        unreachable within ``max_wait``. The raw folder is unchanged; what was fetched is kept
        in ``.pull/`` and the next pull resumes from it.
    """
    source = study.source
    raw_dir = Path(raw_dir)
    raw_dir.mkdir(parents=True, exist_ok=True)
    own = client is None
    if own:
        token = get_token(source.token_env, env_file=env_file, server=source.server)
        client = KoboClient(source.server, token, max_wait=getattr(source, "max_wait", 300.0))
    _recover(raw_dir)
    pulled_at = now_utc()
    try:
        changes = _pull_waves(study, client, raw_dir, full, progress)
    finally:
        if own:
            client.close()
    _commit(raw_dir)
    out: dict[str, dict[str, Any]] = {}
    for wave in study.waves:
        state, _ = replay(record_files(raw_dir / wave.id / DATA_DIR))
        entry = wave_manifest(raw_dir, wave.id, asset_uid=wave.asset_uid, server=client.server,
                              submissions=list(state.values()), pulled_at=pulled_at)
        out[wave.id] = {**entry, "changes": changes[wave.id]}
    return out
