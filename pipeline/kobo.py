"""KoboToolbox API v2: a thin client, the raw pull, the project list and the deploy step.

No PyPI Kobo client is fit for use: since the 2026 paging change (default page 100, maximum 1000)
they stop at the first page, set no timeouts and retry nothing. This module talks to
``/api/v2/`` with httpx and tenacity:

- :func:`get_token` — the API token from the environment or a git-ignored ``.env``;
- :class:`KoboClient` — ``Authorization: Token …``, timeouts, bounded retries with backoff;
- :func:`pull_kobo` — every wave's asset, form versions, media and submission pages into
  ``data/raw/<study>/<wave>/`` (layout in ``data/raw/README.md``), resumable and incremental;
- :func:`list_projects` — the projects the token can see (``sinergi kobo list``);
- :func:`deploy` — create or update a project from the built XLSForm, upload the roster, deploy.

Retry policy
------------
Retried with exponential backoff (``backoff * 2**(attempt-1)`` seconds, capped at ``max_backoff``,
plus up to ``backoff`` seconds of jitter), at most ``max_attempts`` attempts in all:

- connection errors, timeouts and connections dropped mid-body (``httpx.TransportError``);
- ``429`` (waiting ``Retry-After`` seconds when the server sends it), ``502``, ``503``, ``504``;
- ``500``: KPI answers 500 for unhandled errors, which on the hosted servers are mostly passing
  (a worker killed under load, a Mongo hiccup). A deterministic 500 costs only a few extra
  attempts, so it is retried too;
- a ``2xx`` whose body is not valid JSON (a proxy cut the body short).

Never retried: ``400``, ``401``, ``403``, ``404`` and other 4xx — they fail at once with a message
naming the asset and server. Requests that create something (``POST``) are retried only when the
server cannot have acted on them: connection refused/connect timeout, ``429`` and ``503``.

The token is sent only to the configured server's host, and never appears in a message, a log
line, a ``repr`` or a written file.
"""

from __future__ import annotations

import json
import logging
import os
import random
import shutil
import sys
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Iterator
from urllib.parse import urlsplit, urlunsplit

import httpx
import pandas as pd
from tenacity import RetryCallState, Retrying, retry_if_exception, stop_after_attempt

from .errors import SinergiError
from .io import read_json, sha256_file, write_bytes, write_json

log = logging.getLogger(__name__)

#: the data endpoint's maximum page size on the hosted servers (kpi data.py ``_positive_int(cutoff=…)``)
PAGE_LIMIT = 1000
RETRY_STATUS = frozenset({429, 500, 502, 503, 504})
#: statuses after which a non-idempotent request (POST) certainly did nothing on the server
SAFE_POST_RETRY_STATUS = frozenset({429, 503})
DATA_DIR = "data"
_FULL_TMP = ".data-full.tmp"
_OLD_TMP = ".data-old.tmp"


# --------------------------------------------------------------------------------------------
# token


def _read_env_file(path: Path) -> dict[str, str]:
    out: dict[str, str] = {}
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (FileNotFoundError, IsADirectoryError, PermissionError):
        return out
    for line in lines:
        line = line.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, value = line.split("=", 1)
        key = key.strip().removeprefix("export ").strip()
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        elif " #" in value:
            value = value.split(" #", 1)[0].rstrip()
        out[key] = value
    return out


def get_token(token_env: str = "KOBO_TOKEN", env_file: str | os.PathLike = ".env",
              server: str | None = None) -> str:
    """The KoboToolbox API token: ``$<token_env>``, else ``<token_env>=…`` in ``env_file``.

    Raises
    ------
    SinergiError
        When neither has it, saying where to get a token and where to put it.
    """
    token = os.environ.get(token_env, "").strip()
    if not token:
        token = _read_env_file(Path(env_file)).get(token_env, "").strip()
    if token:
        return token
    where = (server or "https://kf.kobotoolbox.org").rstrip("/")
    raise SinergiError(
        f"no KoboToolbox API token: {token_env} is not set. Get yours at {where}/token/?format=json "
        f"(or Account settings → Security → API key), then run `export {token_env}=<token>` "
        f"or put the line {token_env}=<token> in {env_file} (git-ignored; never commit it)")


# --------------------------------------------------------------------------------------------
# client


class _Secret:
    """Holds the token; its repr and str never show it (vars(client), tracebacks, debuggers)."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def get(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "<token hidden>"

    __str__ = __repr__


class _Retryable(Exception):
    """A passing failure worth another attempt."""

    def __init__(self, reason: str, retry_after: float | None = None, status: int | None = None):
        super().__init__(reason)
        self.reason = reason
        self.retry_after = retry_after
        self.status = status


def _retry_after(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:  # HTTP-date form
        from email.utils import parsedate_to_datetime

        when = parsedate_to_datetime(value)
        return max(0.0, (when - datetime.now(timezone.utc)).total_seconds())
    except (TypeError, ValueError):
        return None


def _detail(resp: httpx.Response) -> str:
    try:
        body = resp.json()
    except ValueError:
        text = resp.text.strip().replace("\n", " ")
        return text[:200]
    if isinstance(body, dict):
        if "detail" in body:
            return str(body["detail"])[:200]
        return "; ".join(f"{k}: {v}" for k, v in body.items())[:200]
    return str(body)[:200]


class KoboClient:
    """A small KoboToolbox API v2 client.

    Parameters
    ----------
    server
        ``https://kf.kobotoolbox.org`` (Global), ``https://eu.kobotoolbox.org`` (EU) or a private
        server's URL.
    token
        The API token (see :func:`get_token`). Kept private: never logged nor shown in ``repr``.
    timeout, connect_timeout
        Read and connect timeouts in seconds. The server's own request limit is 120 s, so the
        default read timeout is 130 s.
    max_attempts
        Attempts per request in all (the first one included).
    backoff, max_backoff
        Exponential backoff base and cap, in seconds.
    max_retry_after
        Longest ``Retry-After`` honoured, in seconds.
    sleep
        The function that waits between attempts (tests pass a no-op).
    transport
        An httpx transport (tests may pass a mock one).
    """

    def __init__(self, server: str, token: str, *, timeout: float = 130.0,
                 connect_timeout: float = 10.0, max_attempts: int = 6, backoff: float = 2.0,
                 max_backoff: float = 60.0, max_retry_after: float = 300.0,
                 sleep: Callable[[float], None] = time.sleep,
                 transport: httpx.BaseTransport | None = None) -> None:
        if not token:
            raise SinergiError("KoboClient needs an API token (see `get_token`)")
        self.server = server.rstrip("/")
        parts = urlsplit(self.server)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise SinergiError(f"server = {server!r}: must be a URL such as https://kf.kobotoolbox.org")
        self._origin = (parts.scheme, parts.netloc)
        self.__token = _Secret(token)
        self.max_attempts = max(1, int(max_attempts))
        self.backoff = backoff
        self.max_backoff = max_backoff
        self.max_retry_after = max_retry_after
        self._sleep = sleep
        self._http = httpx.Client(
            timeout=httpx.Timeout(timeout, connect=connect_timeout),
            follow_redirects=True,  # httpx drops Authorization on a redirect to another origin
            transport=transport,
            headers={"Accept": "application/json", "User-Agent": "sinergi-kobo/0.1"},
        )

    # -- plumbing ------------------------------------------------------------------------------
    def __repr__(self) -> str:
        return f"KoboClient(server={self.server!r})"

    def __enter__(self) -> "KoboClient":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    def url(self, path: str) -> str:
        """Absolute URL of an API path (``/api/v2/…``)."""
        return self.server + "/" + path.lstrip("/")

    def _scrub(self, text: str) -> str:
        token = self.__token.get()
        return text.replace(token, "***") if token else text

    def _local(self, url: str) -> str:
        """Same host as the server → rewrite to the server's scheme (proxies sometimes say http)."""
        parts = urlsplit(url)
        if not parts.netloc:
            return self.url(url)
        if parts.netloc == self._origin[1] and parts.scheme != self._origin[0]:
            return urlunsplit((self._origin[0],) + tuple(parts[1:]))
        return url

    def _headers(self, url: str) -> dict[str, str]:
        parts = urlsplit(url)
        if (parts.scheme, parts.netloc) == self._origin:
            return {"Authorization": f"Token {self.__token.get()}"}
        return {}  # never send the token to another host

    def _wait(self, state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        if isinstance(exc, _Retryable) and exc.retry_after is not None:
            return min(exc.retry_after, self.max_retry_after)
        step = min(self.max_backoff, self.backoff * 2 ** (state.attempt_number - 1))
        return step + random.uniform(0, self.backoff)

    def request(self, method: str, url: str, *, where: str, expect: str = "json",
                not_found: str | None = None, params: dict[str, Any] | None = None,
                json_body: Any = None, data: dict[str, Any] | None = None,
                files: dict[str, Any] | None = None) -> Any:
        """One API call with retries; returns parsed JSON (``expect="json"``), bytes or ``None``.

        ``where`` names the thing asked for (e.g. ``asset aB12 on https://kf…``) for messages.
        """
        url = self._local(url)
        idempotent = method.upper() not in ("POST",)

        def retryable(exc: BaseException) -> bool:
            if isinstance(exc, _Retryable):
                return idempotent or exc.status in SAFE_POST_RETRY_STATUS
            if isinstance(exc, httpx.TransportError):
                return idempotent or isinstance(exc, (httpx.ConnectError, httpx.ConnectTimeout))
            return False

        retrying = Retrying(stop=stop_after_attempt(self.max_attempts), wait=self._wait,
                            sleep=self._sleep, retry=retry_if_exception(retryable), reraise=True)
        try:
            for attempt in retrying:
                with attempt:
                    result = self._once(method, url, where=where, expect=expect,
                                        not_found=not_found, params=params, json_body=json_body,
                                        data=data, files=files)
            return result
        except _Retryable as exc:
            n = retrying.statistics.get("attempt_number", self.max_attempts)
            raise SinergiError(self._scrub(f"{where}: {exc.reason} (gave up after {n} attempt(s); "
                                           "check the connection and run the pull again — "
                                           "what was saved is kept)")) from None
        except httpx.TransportError as exc:
            n = retrying.statistics.get("attempt_number", self.max_attempts)
            kind = type(exc).__name__
            raise SinergiError(self._scrub(
                f"{where}: cannot reach {self.server} ({kind}: {exc}) after {n} attempt(s); check "
                "the connection and run the pull again — what was saved is kept")) from None

    def _once(self, method: str, url: str, *, where: str, expect: str, not_found: str | None,
              params: dict[str, Any] | None, json_body: Any, data: dict[str, Any] | None,
              files: dict[str, Any] | None) -> Any:
        resp = self._http.request(method, url, params=params, json=json_body, data=data,
                                  files=files, headers=self._headers(url))
        status = resp.status_code
        if status == 401:
            raise SinergiError(f"{where}: token rejected by {self.server} (401 {_detail(resp)!s}); "
                               "check KOBO_TOKEN, and that it belongs to this server (kf vs eu)")
        if status == 403:
            raise SinergiError(self._scrub(f"{where}: no permission on {self.server} for this action "
                                           f"(403 {_detail(resp)}); ask the project owner to share "
                                           "it with your account"))
        if status == 404:
            raise SinergiError(not_found or f"{where}: not found on {self.server} (404)")
        if status in RETRY_STATUS:
            wait = _retry_after(resp.headers.get("Retry-After"))
            raise _Retryable(f"server answered {status} {resp.reason_phrase}", wait, status)
        if status >= 400:
            raise SinergiError(self._scrub(f"{where}: {self.server} refused the request "
                                           f"({status}: {_detail(resp)})"))
        if expect == "bytes":
            return resp.content
        if expect == "none" or status == 204:
            return None
        try:
            return resp.json()
        except ValueError:
            raise _Retryable(f"answer from {self.server} is not valid JSON (cut short?)") from None

    # -- endpoints -----------------------------------------------------------------------------
    def _asset_404(self, uid: str) -> str:
        return (f"asset {uid} not found or no permission on {self.server} (check server: kf vs eu, "
                "the asset uid in study.yaml, and that the project is shared with the token's account)")

    def get_json(self, url_or_path: str, *, where: str, not_found: str | None = None,
                 params: dict[str, Any] | None = None) -> Any:
        return self.request("GET", url_or_path if "://" in url_or_path else self.url(url_or_path),
                            where=where, not_found=not_found, params=params)

    def _paged(self, path: str, params: dict[str, Any], *, where: str,
               not_found: str | None = None) -> Iterator[dict[str, Any]]:
        """Rows of a DRF-paginated list, following ``next`` (also accepts a plain JSON list)."""
        url: str | None = self.url(path)
        first = True
        seen: set[str] = set()
        while url:
            body = self.request("GET", url, where=where, not_found=not_found,
                                params=params if first else None)
            first = False
            if isinstance(body, list):
                yield from body
                return
            yield from body.get("results", [])
            url = body.get("next")
            if url in seen:  # a broken server looping on itself
                raise SinergiError(f"{where}: {self.server} returned the same next page twice")
            if url:
                seen.add(url)

    def iter_assets(self) -> Iterator[dict[str, Any]]:
        """Every survey the token can see (``GET /api/v2/assets/?q=asset_type:survey``, paged)."""
        for row in self._paged("/api/v2/assets/", {"q": "asset_type:survey", "limit": 100},
                               where=f"project list on {self.server}"):
            if row.get("asset_type", "survey") == "survey":
                yield row

    def get_asset(self, uid: str) -> dict[str, Any]:
        """``GET /api/v2/assets/{uid}/``: the form as ``content``, deployment fields, …"""
        return self.get_json(f"/api/v2/assets/{uid}/", where=f"asset {uid} on {self.server}",
                             not_found=self._asset_404(uid))

    def get_version(self, uid: str, vuid: str) -> dict[str, Any]:
        """``GET /api/v2/assets/{uid}/versions/{vuid}/`` (includes ``content``)."""
        return self.get_json(f"/api/v2/assets/{uid}/versions/{vuid}/",
                             where=f"asset {uid} version {vuid} on {self.server}",
                             not_found=f"asset {uid}: form version {vuid} not found on {self.server}")

    def list_media(self, uid: str) -> list[dict[str, Any]]:
        """Form media rows (``GET /api/v2/assets/{uid}/files/?file_type=form_media``)."""
        return list(self._paged(f"/api/v2/assets/{uid}/files/", {"file_type": "form_media"},
                                where=f"asset {uid} media list on {self.server}",
                                not_found=self._asset_404(uid)))

    def download(self, url: str, *, where: str | None = None) -> bytes:
        """The bytes behind ``url`` (e.g. a media file's ``content`` URL)."""
        name = urlsplit(url).path
        return self.request("GET", url, where=where or f"download {name} from {self.server}",
                            expect="bytes")

    def iter_data_pages(self, uid: str, after_id: int | None = None,
                        limit: int = PAGE_LIMIT) -> Iterator[dict[str, Any]]:
        """Submission pages with ``_id > after_id``, in ``_id`` order (keyset paging).

        Each request is ``GET /api/v2/assets/{uid}/data/?format=json&limit=…&sort={"_id":1}``
        plus ``query={"_id":{"$gt":<last _id seen>}}`` once there is a cursor. Keyset paging does
        not drift when submissions arrive or are deleted mid-run.

        The server clamps ``limit`` silently (1000 on the hosted servers), so the requested limit
        is never used to detect the end. ``count`` in each answer is the number of submissions
        matching *that* request's query, i.e. those left after the cursor; paging stops when a
        page is empty or holds everything that is left (``count <= len(results)``). A server that
        sends no ``count`` stops on a page shorter than the largest page seen.

        Yields the answers as they arrive (``{count, next, previous, results}``, non-empty
        ``results``). At the end, the rows collected are checked against the ``count`` of the first
        answer (all submissions after ``after_id`` when the pull started): fewer rows than that is
        a :class:`SinergiError` (more is fine — submissions that arrived during the pull).
        """
        where = f"asset {uid} submissions on {self.server}"
        path = self.url(f"/api/v2/assets/{uid}/data/")
        cursor = after_id
        first_count: int | None = None
        got = 0
        largest = 0
        while True:
            params: dict[str, Any] = {"format": "json", "limit": limit, "sort": '{"_id":1}'}
            if cursor is not None:
                params["query"] = json.dumps({"_id": {"$gt": cursor}}, separators=(",", ":"))
            page = self.request("GET", path, where=where, params=params,
                                not_found=self._asset_404(uid))
            if not isinstance(page, dict) or not isinstance(page.get("results"), list):
                raise SinergiError(f"{where}: unexpected answer (no 'results' list)")
            rows = page["results"]
            count = page.get("count")
            count = count if isinstance(count, int) else None
            if first_count is None:
                first_count = count if count is not None else -1
            n = len(rows)
            prev = cursor
            for row in rows:
                rid = row.get("_id") if isinstance(row, dict) else None
                if not isinstance(rid, int) or (prev is not None and rid <= prev):
                    raise SinergiError(f"{where}: submission _id {rid!r} out of order after {prev!r}; "
                                       "the server ignored the _id query or sort")
                prev = rid
            if n:
                got += n
                cursor = rows[-1]["_id"]
                yield page
            largest = max(largest, n)
            if n == 0:
                break
            if count is not None:
                if count <= n:
                    break
            elif n < largest:
                break
        if first_count is not None and first_count >= 0 and got < first_count:
            raise SinergiError(f"{where}: the server reported {first_count} submission(s) after "
                               f"_id {after_id} but only {got} arrived; run the pull again "
                               "(it resumes from what was saved)")


# --------------------------------------------------------------------------------------------
# pull


def _now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _page_files(folder: Path) -> list[Path]:
    return sorted(folder.glob("page-*.json")) if folder.is_dir() else []


def _page_number(path: Path) -> int:
    try:
        return int(path.stem.split("-", 1)[1])
    except (IndexError, ValueError):
        return 0


def _recover(wdir: Path) -> None:
    """Undo what a killed pull may have left: a half-swapped --full, stray temp files."""
    data, old, tmp = wdir / DATA_DIR, wdir / _OLD_TMP, wdir / _FULL_TMP
    if old.exists():
        if data.exists():
            shutil.rmtree(old)  # the swap finished; only the clean-up was missed
        else:
            old.rename(data)  # killed between the two renames: keep the previous pages
    if tmp.exists():
        shutil.rmtree(tmp)
    for folder in (data, wdir / "media", wdir / "versions", wdir):
        if folder.is_dir():
            for stray in folder.glob(".*.tmp"):
                if stray.is_file():
                    stray.unlink()


def _read_pages(folder: Path) -> list[dict[str, Any]]:
    out = []
    for p in _page_files(folder):
        page = read_json(p)
        if not isinstance(page, dict) or not isinstance(page.get("results"), list):
            raise SinergiError(f"{p}: not a submissions page (no 'results' list); delete it and pull again")
        out.append(page)
    return out


def _safe_name(name: str, where: str) -> str:
    base = Path(str(name)).name
    if not base or base in (".", "..") or base.startswith("."):
        raise SinergiError(f"{where}: media file name {name!r} is not usable")
    return base


def _store_media(folder: Path, name: str, content: bytes) -> None:
    """Save ``content`` as ``folder/name``; an older, different version is kept as ``<stem>.<sha8><ext>``."""
    import hashlib

    path = folder / name
    if path.exists():
        old = path.read_bytes()
        if hashlib.sha256(old).digest() == hashlib.sha256(content).digest():
            return
        sha8 = hashlib.sha256(old).hexdigest()[:8]
        keep = folder / f"{path.stem}.{sha8}{path.suffix}"
        if not keep.exists():
            write_bytes(keep, old)
    write_bytes(path, content)


def _progress(wave_id: str, progress: bool):
    from tqdm import tqdm

    enabled = progress and hasattr(sys.stderr, "isatty") and sys.stderr.isatty()
    return tqdm(desc=f"pull {wave_id}", unit=" submissions", file=sys.stderr,
                disable=not enabled, leave=True)


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
    return {"asset_uid": asset_uid, "server": server, "pulled_at": pulled_at or _now(),
            "count": len(ids), "id_min": ids[0] if ids else None, "id_max": ids[-1] if ids else None,
            "files": _wave_files(Path(raw_dir), Path(raw_dir) / wave_id)}


def _pull_wave(client: KoboClient, wave_id: str, uid: str, raw_dir: Path, full: bool,
               progress: bool) -> dict[str, Any]:
    wdir = raw_dir / wave_id
    wdir.mkdir(parents=True, exist_ok=True)
    _recover(wdir)
    pulled_at = _now()

    asset = client.get_asset(uid)
    if asset.get("has_deployment") is False:
        raise SinergiError(f"asset {uid} on {client.server} is not deployed yet, so it has no "
                           "submissions; deploy it first (`sinergi kobo deploy`, or Deploy on the website)")
    write_json(wdir / "asset.json", asset)

    for row in client.list_media(uid):
        meta = row.get("metadata") or {}
        name = _safe_name(meta.get("filename") or row.get("uid") or "", f"asset {uid}")
        url = row.get("content") or meta.get("redirect_url")
        if not url:
            log.warning("asset %s: media file %s has no download URL; skipped", uid, name)
            continue
        _store_media(wdir / "media", name, client.download(url, where=f"asset {uid} media {name}"))

    data = wdir / DATA_DIR
    if full:
        target = wdir / _FULL_TMP
        target.mkdir(parents=True)
        after, page_no = None, 1
    else:
        target = data
        existing = _read_pages(data)
        ids = [r["_id"] for p in existing for r in p["results"] if isinstance(r.get("_id"), int)]
        after = max(ids) if ids else None
        page_no = max((_page_number(p) for p in _page_files(data)), default=0) + 1

    bar = _progress(wave_id, progress)
    try:
        for page in client.iter_data_pages(uid, after_id=after):
            if bar.total is None and isinstance(page.get("count"), int):
                bar.total = page["count"]
                bar.refresh()
            write_json(target / f"page-{page_no:06d}.json", page, indent=None)
            page_no += 1
            bar.update(len(page["results"]))
    finally:
        bar.close()

    if full:
        old = wdir / _OLD_TMP
        if data.exists():
            data.rename(old)
        target.rename(data)
        if old.exists():
            shutil.rmtree(old)

    pages = _read_pages(data)
    merged: dict[int, dict[str, Any]] = {}
    for page in pages:  # later pages win
        for row in page["results"]:
            merged[row["_id"]] = row
    submissions = list(merged.values())

    deployed = {asset.get("deployed_version_id"), asset.get("version_id")}
    seen = {s.get("__version__") for s in submissions}
    for vuid in sorted(v for v in seen - deployed if isinstance(v, str) and v):
        path = wdir / "versions" / f"{_safe_name(vuid, f'asset {uid}')}.json"
        if path.exists():
            continue
        try:
            write_json(path, client.get_version(uid, vuid))
        except SinergiError as exc:
            if "not found" not in str(exc):
                raise
            log.warning("%s; its submissions will be read with the current form", exc)

    server_total = asset.get("deployment__submission_count")
    if isinstance(server_total, int) and server_total != len(submissions):
        log.warning("wave %s: asset %s has %d submission(s) on %s, %d saved locally%s", wave_id,
                    uid, server_total, client.server, len(submissions),
                    " (deleted on the server? `sinergi pull --full` refreshes)"
                    if server_total < len(submissions) else "")
    return wave_manifest(raw_dir, wave_id, asset_uid=uid, server=client.server,
                         submissions=submissions, pulled_at=pulled_at)


def pull_kobo(study: Any, raw_dir: str | os.PathLike, full: bool = False, progress: bool = True,
              *, client: KoboClient | None = None,
              env_file: str | os.PathLike = ".env") -> dict[str, dict[str, Any]]:
    """Pull every wave of a ``kind: kobo`` study into ``raw_dir`` (layout: ``data/raw/README.md``).

    For each wave: ``asset.json`` (the full asset), ``media/<file>`` (older, different versions
    kept as ``<stem>.<sha8><ext>``), ``data/page-NNNNNN.json`` (API answers, each written
    atomically as soon as it arrives) and ``versions/<vuid>.json`` for every ``__version__`` seen
    in the submissions other than the deployed one.

    Incremental by default: only submissions with ``_id`` above the largest on disk are fetched,
    into new pages after the last one, so a pull killed at any point resumes without losing or
    duplicating a submission. ``full=True`` refetches everything into a fresh set of pages (a
    temporary folder swapped in at the end) to catch edited submissions (same ``_id``,
    ``meta/deprecatedID``), which an incremental pull cannot see.

    Parameters
    ----------
    study
        A study with ``source.kind == "kobo"`` (server, token_env) and waves with ``asset_uid``.
    raw_dir
        ``data/raw/<study-id>``.
    full
        Refetch every submission (``sinergi pull --full``).
    progress
        Show a progress bar per wave on stderr (only when stderr is a terminal).
    client
        A ready :class:`KoboClient` (tests); by default one is made from the study's server and
        the token from :func:`get_token` (``env_file``).

    Returns
    -------
    dict
        ``{wave_id: {"asset_uid", "server", "pulled_at", "count", "id_min", "id_max",
        "files": {path relative to raw_dir: sha256}}}``; ``count`` is the number of distinct
        ``_id`` on disk. The caller writes ``manifest.json`` (atomically, with
        :func:`pipeline.io.write_json`).

    Raises
    ------
    SinergiError
        ``wave <id>: …`` naming the asset and server: no token, token rejected (401), asset not
        found or not shared (404), not deployed, server unreachable after the retries. Pages saved
        before the failure are kept; the next pull resumes after them.
    """
    source = study.source
    raw_dir = Path(raw_dir)
    own = client is None
    if own:
        token = get_token(source.token_env, env_file=env_file, server=source.server)
        client = KoboClient(source.server, token)
    out: dict[str, dict[str, Any]] = {}
    try:
        for wave in study.waves:
            if not wave.asset_uid:
                raise SinergiError(f"wave {wave.id}: no asset_uid in the study file")
            try:
                out[wave.id] = _pull_wave(client, wave.id, wave.asset_uid, raw_dir, full, progress)
            except SinergiError as exc:
                raise SinergiError(f"wave {wave.id}: {exc}") from None
    finally:
        if own:
            client.close()
    return out


# --------------------------------------------------------------------------------------------
# project list


def list_projects(client: KoboClient) -> pd.DataFrame:
    """The surveys the token can see: ``uid``, ``name``, ``submissions``, ``deployed``."""
    rows = [{"uid": a.get("uid"), "name": a.get("name") or "",
             "submissions": int(a.get("deployment__submission_count") or 0),
             "deployed": bool(a.get("has_deployment"))}
            for a in client.iter_assets()]
    df = pd.DataFrame(rows, columns=["uid", "name", "submissions", "deployed"])
    return df.astype({"submissions": "int64", "deployed": "bool"})


# --------------------------------------------------------------------------------------------
# deploy


def _poll_import(client: KoboClient, import_url: str, *, timeout: float,
                 poll: float) -> dict[str, Any]:
    waited = 0.0
    while True:
        task = client.request("GET", import_url, where=f"import task on {client.server}")
        status = task.get("status")
        if status == "complete":
            return task
        if status == "error":
            msgs = task.get("messages") or {}
            err = msgs.get("error") or msgs.get("error_type") or msgs
            raise SinergiError(f"{client.server} could not import the XLSForm: {err}")
        if waited >= timeout:
            raise SinergiError(f"import on {client.server} still '{status}' after {timeout:.0f} s; "
                               "look at the project list on the website, then deploy again")
        client._sleep(poll)
        waited += poll


def deploy(client: KoboClient, xlsx_path: str | os.PathLike, roster_path: str | os.PathLike | None,
           asset_uid: str | None = None, *, media_name: str = "roster.csv",
           import_timeout: float = 300.0, poll: float = 2.0) -> dict[str, Any]:
    """Create (or update, given ``asset_uid``) a project from the built XLSForm and deploy it.

    The real KPI flow:

    1. ``POST /api/v2/imports/`` multipart: ``file`` (the xlsx), ``library=false``, ``name``, and
       ``destination`` (the asset URL) when updating (kpi/views/v2/import_task.py ``create``);
       then poll ``GET /api/v2/imports/{uid}/`` until ``status`` is ``complete``; the asset uid is
       in ``messages.created[0].uid`` or ``messages.updated[0].uid``
       (kpi/models/import_export_task.py ``ImportTask._parse_b64_upload``).
    2. Roster upload as form media: ``form_media`` file names are unique per asset
       (kpi/serializers/v2/asset_file.py ``_validate_duplicate``), so an existing file of the same
       name is first deleted (``DELETE /api/v2/assets/{uid}/files/{fuid}/``); then
       ``POST /api/v2/assets/{uid}/files/`` multipart with ``file_type=form_media``,
       ``description``, ``metadata={"filename": …}`` and the bytes as ``content``
       (kpi/views/v2/asset_file.py, kpi/docs/api/v2/files/create.md).
    3. ``POST /api/v2/assets/{uid}/deployment/`` ``{"active": true}`` for a first deployment, else
       ``PATCH`` with ``{"active": true, "version_id": <asset version_id>}`` — only the current
       version may be deployed (kpi/views/v2/asset.py ``deployment``,
       kpi/serializers/v2/deployment.py).
    4. ``GET /api/v2/assets/{uid}/`` → ``deployment__links`` (``offline_url`` or ``url``; filled
       only for an active deployment, kpi/serializers/v2/asset.py ``get_deployment__links``).

    ``media_name`` must be the file the form's ``select_*_from_file`` rows name (``roster.csv``).

    Returns
    -------
    dict
        ``{"uid": asset uid, "url": collection link (or None when Enketo gave none)}``.
    """
    xlsx_path = Path(xlsx_path)
    try:
        xlsx = xlsx_path.read_bytes()
    except FileNotFoundError:
        raise SinergiError(f"{xlsx_path}: XLSForm not found (run `make instruments`)") from None
    form: dict[str, Any] = {"library": "false", "name": xlsx_path.stem}
    if asset_uid:
        client.get_asset(asset_uid)  # a clear 404 message before importing anything
        form["destination"] = client.url(f"/api/v2/assets/{asset_uid}/")
    created = client.request(
        "POST", client.url("/api/v2/imports/"), where=f"XLSForm import on {client.server}",
        data=form, files={"file": (xlsx_path.name, xlsx,
                                   "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")})
    import_url = created.get("url") or client.url(f"/api/v2/imports/{created.get('uid')}/")
    task = _poll_import(client, import_url, timeout=import_timeout, poll=poll)
    msgs = task.get("messages") or {}
    entries = [e for key in ("updated", "created") for e in (msgs.get(key) or [])
               if isinstance(e, dict) and e.get("kind", "asset") == "asset"]
    if not entries:
        raise SinergiError(f"import on {client.server} finished without naming an asset: {msgs}")
    uid = entries[0]["uid"]
    where = f"asset {uid} on {client.server}"

    if roster_path is not None:
        roster_path = Path(roster_path)
        try:
            roster = roster_path.read_bytes()
        except FileNotFoundError:
            raise SinergiError(f"{roster_path}: roster file not found") from None
        for row in client.list_media(uid):
            if (row.get("metadata") or {}).get("filename") == media_name:
                client.request("DELETE", row.get("url") or client.url(
                    f"/api/v2/assets/{uid}/files/{row['uid']}/"), where=f"{where}: old {media_name}",
                    expect="none")
        client.request(
            "POST", client.url(f"/api/v2/assets/{uid}/files/"), where=f"{where}: upload {media_name}",
            data={"file_type": "form_media", "description": "default",
                  "metadata": json.dumps({"filename": media_name})},
            files={"content": (media_name, roster, "text/csv")})

    asset = client.get_asset(uid)
    deploy_url = client.url(f"/api/v2/assets/{uid}/deployment/")
    if asset.get("has_deployment"):
        client.request("PATCH", deploy_url, where=f"{where}: redeploy",
                       json_body={"active": True, "version_id": asset.get("version_id")})
    else:
        client.request("POST", deploy_url, where=f"{where}: deploy", json_body={"active": True})
    asset = client.get_asset(uid)
    links = asset.get("deployment__links") or {}
    return {"uid": uid, "url": links.get("offline_url") or links.get("url")}
