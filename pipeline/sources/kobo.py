"""KoboToolbox API v2: a thin client, the raw pull, the project list and the deploy step.

No PyPI Kobo client is fit for use: since the 2026 paging change (default page 100, maximum 1000)
they stop at the first page, set no timeouts and retry nothing. This module talks to
``/api/v2/`` with httpx:

- :func:`get_token` — the API token from the environment or a git-ignored ``.env``;
- :class:`KoboClient` — ``Authorization: Token …``, timeouts, bounded retries with backoff;
- :func:`pull_kobo` — every wave's asset, form versions, media and submission pages into
  ``data/raw/<study>/<wave>/`` (layout in ``data/raw/README.md``), resumable and incremental;
- :func:`list_projects` — the projects the token can see (``sinergi kobo list``);
- :func:`deploy` — create or update a project from the built XLSForm, upload the roster, deploy.

Retry policy
------------
Retried with exponential backoff (``backoff * 2**(attempt-1)`` seconds, capped at ``max_backoff``,
plus up to ``backoff`` seconds of jitter), at most ``max_attempts`` attempts and ``max_wait``
seconds in all (``source.max_wait``, default 300 s); each retry is announced on stderr with what
failed and how long the wait is, and a silent server is announced after ``patience`` seconds:

- connection errors, timeouts and connections dropped mid-body (``httpx.TransportError``);
- ``429`` (waiting ``Retry-After`` seconds when the server sends it — a wait longer than what is
  left of ``max_wait`` gives up at once, saying so), ``502``, ``503``, ``504``;
- ``500``: KPI answers 500 for unhandled errors, which on the hosted servers are mostly passing
  (a worker killed under load, a Mongo hiccup). A deterministic 500 costs only a few extra
  attempts, so it is retried too;
- a ``2xx`` whose body is not valid JSON (a proxy cut the body short). A web page instead of JSON
  (a hotspot's login page, a wrong server address) is not retried: it is said in words.

Never retried: ``400``, ``401``, ``403``, ``404`` and other 4xx — they fail at once with a message
naming the asset and server. Requests that create something (``POST``) are retried only when the
server cannot have acted on them: connection refused/connect timeout, ``429`` and ``503``.

The token is sent only to the configured server's host, and never appears in a message, a log
line, a ``repr`` or a written file.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import random
import re
import shutil
import sys
import threading
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Iterator
from urllib.parse import urlsplit, urlunsplit

import httpx
import pandas as pd

from ..errors import SinergiError
from ..io import read_bytes, read_json, sha256_file, write_bytes, write_json, write_text

log = logging.getLogger(__name__)

#: the data endpoint's maximum page size on the hosted servers (kpi data.py ``_positive_int(cutoff=…)``)
PAGE_LIMIT = 1000
RETRY_STATUS = frozenset({429, 500, 502, 503, 504})
#: statuses after which a non-idempotent request (POST) certainly did nothing on the server
SAFE_POST_RETRY_STATUS = frozenset({429, 503})
DATA_DIR = "data"


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


def _is_html(resp: httpx.Response) -> bool:
    ctype = resp.headers.get("Content-Type", "").lower()
    head = resp.content[:200].lstrip().lower()
    return "html" in ctype or head.startswith((b"<!doctype", b"<html"))


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
    max_wait
        Longest time one call may take in all, in seconds: waiting for answers and between
        attempts (``source.max_wait``). A ``Retry-After`` beyond it gives up at once.
    patience
        After this many seconds without an answer, say on stderr what is being waited for.
    sleep
        The function that waits between attempts (tests pass a no-op).
    transport
        An httpx transport (tests may pass a mock one).
    """

    def __init__(self, server: str, token: str, *, timeout: float = 130.0,
                 connect_timeout: float = 10.0, max_attempts: int = 6, backoff: float = 2.0,
                 max_backoff: float = 60.0, max_wait: float = 300.0, patience: float = 15.0,
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
        self.max_wait = float(max_wait)
        self.patience = float(patience)
        self.timeout = float(timeout)
        self.connect_timeout = float(connect_timeout)
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

    def _delay(self, exc: BaseException, attempt: int) -> float:
        """Seconds to wait before the next attempt: ``Retry-After`` when sent, else backoff."""
        if isinstance(exc, _Retryable) and exc.retry_after is not None:
            return exc.retry_after
        step = min(self.max_backoff, self.backoff * 2 ** (attempt - 1))
        return step + random.uniform(0, self.backoff)

    def request(self, method: str, url: str, *, where: str, expect: str = "json",
                not_found: str | None = None, params: dict[str, Any] | None = None,
                json_body: Any = None, data: dict[str, Any] | None = None,
                files: dict[str, Any] | None = None) -> Any:
        """One API call with retries; returns parsed JSON (``expect="json"``), bytes or ``None``.

        ``where`` names the thing asked for (e.g. ``asset aB12 on https://kf…``) for messages.
        Each retry is announced on stderr (what failed, how long the wait, which attempt); the
        time spent on one call — waiting for answers and between attempts — never exceeds
        ``max_wait`` seconds: a longer ``Retry-After`` gives up at once, saying so.
        """
        url = self._local(url)
        idempotent = method.upper() not in ("POST",)

        def retryable(exc: BaseException) -> bool:
            if isinstance(exc, _Retryable):
                return idempotent or exc.status in SAFE_POST_RETRY_STATUS
            if isinstance(exc, httpx.TransportError):
                return idempotent or isinstance(exc, (httpx.ConnectError, httpx.ConnectTimeout))
            return False

        spent = 0.0
        attempt = 0
        while True:
            attempt += 1
            t0 = time.monotonic()
            try:
                return self._once(method, url, where=where, expect=expect, not_found=not_found,
                                  params=params, json_body=json_body, data=data, files=files,
                                  budget=max(1.0, self.max_wait - spent))
            except SinergiError as exc:
                raise SinergiError(self._scrub(str(exc))) from None
            except (_Retryable, httpx.TransportError) as exc:
                spent += time.monotonic() - t0
                reason = (exc.reason if isinstance(exc, _Retryable)
                          else f"cannot reach {self.server} ({type(exc).__name__}: {exc})")
                if not retryable(exc):
                    raise SinergiError(self._scrub(f"{where}: {reason} (not retried: the server may "
                                                   "have acted on it; check on the website)")) from None
                if attempt >= self.max_attempts:
                    raise SinergiError(self._scrub(
                        f"{where}: {reason} (gave up after {attempt} attempt(s) in {spent:.0f} s; "
                        "check the connection and run the pull again — what was saved is kept)")) from None
                wait = self._delay(exc, attempt)
                if spent + wait > self.max_wait:
                    asked = (f"the server asks to wait {wait:.0f} s (Retry-After)"
                             if isinstance(exc, _Retryable) and exc.retry_after is not None
                             else f"another attempt would pass {self.max_wait:.0f} s")
                    raise SinergiError(self._scrub(
                        f"{where}: {reason}; {asked}, more than source.max_wait = {self.max_wait:.0f} s "
                        f"allows (gave up after {attempt} attempt(s)); run the pull later, or raise "
                        "source.max_wait in the study file — what was saved is kept")) from None
                self._say(f"{where}: {reason}; trying again in {wait:.0f} s "
                          f"(attempt {attempt + 1} of {self.max_attempts})")
                self._sleep(wait)
                spent += wait

    def _say(self, text: str) -> None:
        log.warning("%s", self._scrub(text))

    def _once(self, method: str, url: str, *, where: str, expect: str, not_found: str | None,
              params: dict[str, Any] | None, json_body: Any, data: dict[str, Any] | None,
              files: dict[str, Any] | None, budget: float) -> Any:
        read = min(self.timeout, budget)
        timer = threading.Timer(self.patience, self._say,
                                args=(f"{where}: still waiting for {self.server} (no answer for "
                                      f"{self.patience:g} s; giving up on this attempt after {read:.0f} s)",))
        timer.daemon = True
        timer.start()
        try:
            resp = self._http.request(method, url, params=params, json=json_body, data=data,
                                      files=files, headers=self._headers(url),
                                      timeout=httpx.Timeout(read, connect=min(self.connect_timeout, read)))
        finally:
            timer.cancel()
        status = resp.status_code
        if status == 401:
            raise SinergiError(f"{where}: token rejected by {self.server} (401 {_detail(resp)!s}); "
                               "check KOBO_TOKEN, and that it belongs to this server (kf vs eu)")
        if status == 403:
            raise SinergiError(f"{where}: no permission on {self.server} for this action "
                               f"(403 {_detail(resp)}); ask the project owner to share "
                               "it with your account")
        if status == 404:
            raise SinergiError(not_found or f"{where}: not found on {self.server} (404)")
        if status in RETRY_STATUS:
            wait = _retry_after(resp.headers.get("Retry-After"))
            raise _Retryable(f"server answered {status} {resp.reason_phrase}", wait, status)
        if status >= 400:
            raise SinergiError(f"{where}: {self.server} refused the request ({status}: {_detail(resp)})")
        if expect == "bytes":
            return resp.content
        if expect == "none" or status == 204:
            return None
        if _is_html(resp):
            raise SinergiError(
                f"{where}: {self.server} answered with a web page, not the KoboToolbox API (a login or "
                "hotspot page, or a wrong address); check source.server (e.g. https://kf.kobotoolbox.org), "
                "and on a hotspot or office network log in to it in a browser first")
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
        """Every survey the token can see, each once, with ``via`` saying how.

        ``GET /api/v2/assets/?q=asset_type:survey`` has the projects owned, shared directly or
        subscribed to (kpi/filters.py:193-216). Members of an organisation with the admin role and
        users of a project view have no permission rows of their own, so their projects are read
        from ``/api/v2/organizations/{id}/assets/`` and ``/api/v2/project-views/{uid}/assets/``
        (kobo/apps/organizations/views.py:296-310, kobo/apps/project_views/views.py:207); a
        403/404 there (not an admin, no views) only means there is nothing more to list.
        """
        seen: set[str] = set()
        where = f"project list on {self.server}"

        def fresh(rows: Iterator[dict[str, Any]], via: str) -> Iterator[dict[str, Any]]:
            for row in rows:
                if row.get("asset_type", "survey") == "survey" and row.get("uid") not in seen:
                    seen.add(row.get("uid"))
                    yield {**row, "via": via}

        yield from fresh(self._paged("/api/v2/assets/", {"q": "asset_type:survey", "limit": 100},
                                     where=where), "own or shared")
        for kind, key, label in (("organizations", "id", "organisation"),
                                 ("project-views", "uid", "project view")):
            try:
                groups = list(self._paged(f"/api/v2/{kind}/", {"limit": 100}, where=where))
                for g in groups:
                    gid = g.get(key)
                    if gid:
                        yield from fresh(self._paged(f"/api/v2/{kind}/{gid}/assets/", {"limit": 100},
                                                     where=where), f"{label} {g.get('name') or gid}")
            except SinergiError as exc:
                if "(403" not in str(exc) and "not found" not in str(exc):
                    raise

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

    def iter_data_pages(self, uid: str, after_id: int | None = None, limit: int = PAGE_LIMIT, *,
                        ids: list[int] | None = None,
                        fields: list[str] | None = None) -> Iterator[dict[str, Any]]:
        """Submission pages with ``_id > after_id`` (and ``_id`` in ``ids``), in ``_id`` order.

        Each request is ``GET /api/v2/assets/{uid}/data/?format=json&limit=…&sort={"_id":1}``
        plus ``query={"_id":{"$gt":<last _id seen>, "$in":[…]}}`` (keyset paging: it does not
        drift when submissions arrive or are deleted mid-run; ``$gt`` and ``$in`` are on kpi's
        operator whitelist, mongo_helper.py:46-64) and ``fields=[…]`` for a light answer (kpi adds
        ``_uuid`` and ``meta/rootUuid``, mongo_helper.py:408-439).

        The server clamps ``limit`` silently (1000 on the hosted servers), so the requested limit
        is never used to detect the end. ``count`` in each answer is the number of submissions
        matching *that* request's query, i.e. those left after the cursor; paging stops when a
        page is empty or holds everything that is left (``count <= len(results)``). A server that
        sends no ``count`` stops on a page shorter than the largest page seen.

        Yields the answers as they arrive (``{count, next, previous, results}``, non-empty
        ``results``). At the end, the rows collected are checked against the ``count`` of the first
        answer: fewer rows than that is a :class:`SinergiError` (more is fine — submissions that
        arrived during the pull).
        """
        where = f"asset {uid} submissions on {self.server}"
        path = self.url(f"/api/v2/assets/{uid}/data/")
        not_found = (f"asset {uid} on {self.server}: the project is visible but its submissions are "
                     "not (404 on /data/): ask the project owner to give your account the permission "
                     "'View submissions' (Project → Settings → Sharing)")
        cursor = after_id
        first_count: int | None = None
        got = 0
        largest = 0
        while True:
            params: dict[str, Any] = {"format": "json", "limit": limit, "sort": '{"_id":1}'}
            cond: dict[str, Any] = {}
            if cursor is not None:
                cond["$gt"] = cursor
            if ids is not None:
                cond["$in"] = list(ids)
            if cond:
                params["query"] = json.dumps({"_id": cond}, separators=(",", ":"))
            if fields is not None:
                params["fields"] = json.dumps(list(fields), separators=(",", ":"))
            page = self.request("GET", path, where=where, params=params, not_found=not_found)
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
            raise SinergiError(f"{where}: the server reported {first_count} submission(s) but only "
                               f"{got} arrived; run the pull again (it resumes from what was saved)")


# --------------------------------------------------------------------------------------------
# the raw record of a wave's submissions
#
# ``<wave>/data/`` holds numbered files, one sequence for both kinds:
#   page-NNNNNN.json   an API answer ({count, next, previous, results}); rows are full submissions
#   sweep-NNNNNN.json  the server's whole set at one moment: {"swept_at", "results": [{_id, _uuid,
#                      _validation_status, meta/rootUuid}]}; an _id seen before but not in it was
#                      deleted on the server (kpi deletes leave no tombstone)
# Files are only ever added. The state of the wave is the files replayed in order: a later row
# of the same _id replaces the earlier one (an edit, a new validation status), a sweep removes the
# ids it does not list.

_SEQ_RE = re.compile(r"^(page|sweep)-(\d{6,})\.json$")
SWEEP_FIELDS = ["_id", "_uuid", "_validation_status"]
STAGE = ".pull"  # data/raw/<study>/.pull/: what a pull fetched, until every wave is complete
_COMMIT = "COMMIT"


def _now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


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


def _status(row: dict[str, Any]) -> str:
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
                a, b = old.get("meta/rootUuid"), row.get("meta/rootUuid")
                if a and b and a != b:
                    raise SinergiError(f"{path}: submission _id {rid} is a different submission "
                                       f"(meta/rootUuid {b}) from the one saved before ({a}); two "
                                       "submissions cannot share an _id — was a raw file copied "
                                       "from another project?")
                if old.get("_uuid") != row.get("_uuid"):
                    events.append({"kind": "edited", "_id": rid, "old": old.get("meta/instanceID", ""),
                                   "new": row.get("meta/instanceID", ""), "file": path.name})
                if _status(old) != _status(row):
                    events.append({"kind": "status", "_id": rid, "old": _status(old),
                                   "new": _status(row), "file": path.name})
            state[rid] = row
    return state, events


# --------------------------------------------------------------------------------------------
# pull


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
    marker = stage / _COMMIT
    if not marker.exists():
        write_text(marker, _now() + "\n")
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
    if (stage / _COMMIT).exists():
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
    from tqdm import tqdm

    enabled = progress and hasattr(sys.stderr, "isatty") and sys.stderr.isatty()
    return tqdm(desc=f"pull {wave_id}: {what}", unit=" submissions", file=sys.stderr,
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


def _pull_wave(client: KoboClient, wave_id: str, uid: str, raw_dir: Path, full: bool,
               progress: bool) -> dict[str, Any]:
    """Fetch one wave into the staging folder; returns counts of what changed."""
    where = f"asset {uid} on {client.server}"
    st = _Stager(raw_dir, wave_id)

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
        st.record("sweep", {"swept_at": _now(), "fields": SWEEP_FIELDS, "count": len(swept),
                            "results": swept})

    # 3. refetch what the sweep shows missing (a lower _id made visible late) or changed in place
    late = sorted(r["_id"] for r in swept if r["_id"] not in held)
    changed = sorted(r["_id"] for r in swept if r["_id"] in held and (
        held[r["_id"]].get("_uuid") != r.get("_uuid") or _status(held[r["_id"]]) != _status(r)))
    for chunk in _chunks(late + changed, IN_CHUNK):
        for page in client.iter_data_pages(uid, ids=chunk):
            st.record("page", page)

    # 4. the form of every version the submissions were made with, and the deployed one
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

    out = {"new": new, "late": len(late), "changed": len(changed), "deleted": len(deleted), "total": len(st.state)}
    if any(out[k] for k in ("late", "changed", "deleted")):
        log.warning("wave %s: %d new, %d arrived late (lower _id), %d edited or re-validated, "
                    "%d deleted on the server; %d submission(s) now", wave_id, out["new"], out["late"],
                    out["changed"], out["deleted"], out["total"])
    return out


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
    pulled_at = _now()
    changes: dict[str, dict[str, Any]] = {}
    try:
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


# --------------------------------------------------------------------------------------------
# project list


def list_projects(client: KoboClient) -> pd.DataFrame:
    """The surveys the token can see: ``uid``, ``name``, ``submissions``, ``deployed``, ``via``.

    ``submissions`` is ``<NA>`` where the account may see only some of them (kpi gives no count
    for a partial permission); ``via`` says how the project is reached (own or shared,
    organisation, project view).
    """
    rows = [{"uid": a.get("uid"), "name": a.get("name") or "",
             "submissions": a.get("deployment__submission_count") if a.get("has_deployment") else 0,
             "deployed": bool(a.get("has_deployment")), "via": a.get("via", "own or shared")}
            for a in client.iter_assets()]
    df = pd.DataFrame(rows, columns=["uid", "name", "submissions", "deployed", "via"])
    return df.astype({"submissions": "Int64", "deployed": "bool"})


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


def titled_xlsform(xlsx: bytes, title: str) -> bytes:
    """The XLSForm with ``settings.form_title`` set to ``title``.

    kpi names the project after ``form_title`` and renames it on every import
    (kpi/models/asset.py:510-528), so each wave's project gets its title from the form itself.
    """
    import io as _io

    from openpyxl import load_workbook

    from ..io import EPOCH, stable_ooxml

    wb = load_workbook(_io.BytesIO(xlsx))
    if "settings" not in wb.sheetnames:
        raise SinergiError("the XLSForm has no settings sheet (run `make instruments`)")
    ws = wb["settings"]
    header = [c.value for c in ws[1]]
    col = header.index("form_title") + 1 if "form_title" in header else len(header) + 1
    ws.cell(row=1, column=col, value="form_title")
    ws.cell(row=2, column=col, value=title)
    out = _io.BytesIO()
    wb.save(out)
    return stable_ooxml(out.getvalue(), EPOCH)


def _confirm_media(client: KoboClient, uid: str, name: str, data: bytes, *, timeout: float,
                   poll: float) -> None:
    """Wait until the project lists ``name`` with the md5 of what was uploaded."""
    want = "md5:" + hashlib.md5(data).hexdigest()
    waited = 0.0
    while True:
        rows = [r for r in client.list_media(uid) if (r.get("metadata") or {}).get("filename") == name]
        if any((r.get("metadata") or {}).get("hash") == want for r in rows):
            return
        if waited >= timeout:
            raise SinergiError(f"asset {uid} on {client.server}: {name} was uploaded but the project "
                               f"does not list it after {timeout:.0f} s; open Project → Settings → "
                               "Media on the website and check it before collecting")
        client._sleep(poll)
        waited += poll


def find_projects(client: KoboClient, name: str) -> list[dict[str, Any]]:
    """Projects the token can see whose name is exactly ``name``."""
    return [a for a in client.iter_assets() if (a.get("name") or "") == name]


ROSTER_COLUMNS = ("name", "label")
"""What a roster CSV holds: ``name`` (the id a submission stores) and ``label`` (what enumerators see)."""


def check_roster(path: str | os.PathLike) -> bytes:
    """Read a roster CSV for upload as strictly as the tables are read; return the bytes to upload.

    The file is read with :func:`pipeline.io.read_csv` (encoding, separator, an Excel workbook
    saved as .csv, an empty file, ragged rows). It needs the columns ``name`` and ``label``
    (others are kept), at least one person, a ``name`` and a ``label`` in every row, a ``name``
    without spaces (KoboToolbox stores the people a respondent names space-separated) and no
    ``name`` twice (two people merged into one id). A UTF-8, comma-separated file is uploaded as it
    is; any other (``;``, tab, Windows-1252) as UTF-8 with commas, what KoboToolbox reads.

    Raises
    ------
    SinergiError
        One line naming the file, the row and the column; nothing is sent.
    """
    from ..io import decode, read_csv

    path = Path(path)
    data = read_bytes(path, missing="roster file not found", folder="is a folder, not the roster CSV")
    table = read_csv(path, expect=",".join(ROSTER_COLUMNS))
    df = table.frame
    if not set(ROSTER_COLUMNS) <= set(df.columns):
        raise SinergiError(f"{path}: a roster needs the columns name,label (header line: "
                           f"{','.join(df.columns)}); name = a short id such as u001, label = what "
                           "enumerators see (instruments/roster_template.csv)")
    if df.empty:
        raise SinergiError(f"{path}: no people: the roster has its header but no rows (one row per person)")
    _roster_rows(path, df)
    plain = table.separator == "," and decode(data, str(path))[1] is None
    return data if plain else df.to_csv(index=False, lineterminator="\n").encode("utf-8")


def _roster_rows(path: Path, df: pd.DataFrame) -> None:
    """Every row of a roster has a name and a label; names have no space and are unique."""
    for col, what in (("name", "an id (u001)"), ("label", "a label (name and business)")):
        empty = df[col].isna()
        if empty.any():
            raise SinergiError(f"{path}: row {df.index[empty][0]}, column {col} is empty; every person needs "
                               f"{what}")
    spaced = df["name"].str.contains(r"\s", regex=True)
    if spaced.any():
        row = df.index[spaced][0]
        raise SinergiError(f"{path}: row {row}, column name: {df.at[row, 'name']!r} holds a space; a name is a short "
                           "id without spaces (u001): KoboToolbox keeps the people a respondent names "
                           "space-separated")
    twice = df["name"].duplicated(keep=False)
    if twice.any():
        name = df.loc[twice, "name"].iloc[0]
        rows = [str(r) for r in df.index[df["name"] == name]]
        raise SinergiError(f"{path}: rows {' and '.join(rows)}: name {name!r} is used twice; each person needs "
                           "their own id (two people merged into one?), and an id is never reused")


def deploy(client: KoboClient, xlsx_path: str | os.PathLike, roster_path: str | os.PathLike,
           asset_uid: str | None = None, *, title: str | None = None, media_name: str = "roster.csv",
           import_timeout: float = 300.0, poll: float = 2.0,
           rerun_hint: str = "sinergi kobo deploy … --asset-uid {uid}") -> dict[str, Any]:
    """Create (or update, given ``asset_uid``) a project from the built XLSForm and deploy it.

    The real KPI flow:

    1. ``POST /api/v2/imports/`` multipart: ``file`` (the xlsx, its ``form_title`` set to
       ``title``: kpi names the project after it), ``library=false``, ``name``, and
       ``destination`` (the asset URL) when updating (kpi/views/v2/import_task.py ``create``);
       then poll ``GET /api/v2/imports/{uid}/`` until ``status`` is ``complete``; the asset uid is
       in ``messages.created[0].uid`` or ``messages.updated[0].uid``
       (kpi/models/import_export_task.py ``ImportTask._parse_b64_upload``).
       Without ``asset_uid``, a project of the same name is looked for first: every import
       without ``destination`` creates a project (import_export_task.py:466-486), so a rerun
       after a lost answer would make a duplicate. One undeployed project of that name (what a
       cut-off earlier run leaves) is updated; a deployed one, or several, stop the run with the
       command that updates it.
    2. Roster upload as form media: ``form_media`` file names are unique per asset
       (kpi/serializers/v2/asset_file.py ``_validate_duplicate``), so an existing file of the same
       name is first deleted (``DELETE /api/v2/assets/{uid}/files/{fuid}/``); then
       ``POST /api/v2/assets/{uid}/files/`` multipart with ``file_type=form_media``,
       ``description``, ``metadata={"filename": …}`` and the bytes as ``content``
       (kpi/views/v2/asset_file.py, kpi/docs/api/v2/files/create.md); then the file list is read
       until it shows the uploaded bytes' md5.
    3. ``POST /api/v2/assets/{uid}/deployment/`` ``{"active": true}`` for a first deployment, else
       ``PATCH`` with ``{"active": true, "version_id": <asset version_id>}`` — only the current
       version may be deployed (kpi/views/v2/asset.py ``deployment``,
       kpi/serializers/v2/deployment.py).
    4. ``GET /api/v2/assets/{uid}/`` → ``deployment__links`` (``offline_url`` or ``url``; filled
       only for an active deployment and when Enketo answers, kpi/serializers/v2/asset.py
       ``get_deployment__links``, openrosa_backend.py:712-718).

    ``media_name`` must be the file the form's ``select_*_from_file`` rows name (``roster.csv``).
    kpi copies media to the deployed form in a background task (deployment_backends/mixin.py:16-25)
    whose end the API does not show: the caller tells the user to check the name list once.

    Returns
    -------
    dict
        ``{"uid": asset uid, "name": project name, "url": collection link or None when Enketo
        gave none yet, "project_url": the project's page on the website, "created": bool}``.
    """
    xlsx_path, roster_path = Path(xlsx_path), Path(roster_path)
    xlsx = read_bytes(xlsx_path, missing="XLSForm not found (run `make instruments`)",
                      folder="is a folder, not the XLSForm (.xlsx)")
    roster = check_roster(roster_path)  # before anything is sent
    if title:
        xlsx = titled_xlsform(xlsx, title)
    form: dict[str, Any] = {"library": "false", "name": xlsx_path.stem}
    created = asset_uid is None
    if asset_uid is None and title:
        same = find_projects(client, title)
        if len(same) == 1 and not same[0].get("has_deployment"):
            asset_uid, created = same[0]["uid"], False  # left by an earlier run cut off before deploying
        elif same:
            uids = ", ".join(a["uid"] for a in same)
            raise SinergiError(
                f"a project named {title!r} already exists on {client.server} ({uids}); to update "
                f"it run `{rerun_hint.format(uid=same[0]['uid'])}` (or put its asset_uid in the "
                "study file); for a new project give the wave another label")
    if asset_uid:
        client.get_asset(asset_uid)  # a clear 404 message before importing anything
        form["destination"] = client.url(f"/api/v2/assets/{asset_uid}/")
    answer = client.request(
        "POST", client.url("/api/v2/imports/"), where=f"XLSForm import on {client.server}",
        data=form, files={"file": (xlsx_path.name, xlsx,
                                   "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")})
    import_url = answer.get("url") or client.url(f"/api/v2/imports/{answer.get('uid')}/")
    task = _poll_import(client, import_url, timeout=import_timeout, poll=poll)
    msgs = task.get("messages") or {}
    entries = [e for key in ("updated", "created") for e in (msgs.get(key) or [])
               if isinstance(e, dict) and e.get("kind", "asset") == "asset"]
    if not entries:
        raise SinergiError(f"import on {client.server} finished without naming an asset: {msgs}")
    uid = entries[0]["uid"]
    where = f"asset {uid} on {client.server}"

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
    _confirm_media(client, uid, media_name, roster, timeout=max(poll * 15, 30.0), poll=poll)

    asset = client.get_asset(uid)
    deploy_url = client.url(f"/api/v2/assets/{uid}/deployment/")
    if asset.get("has_deployment"):
        client.request("PATCH", deploy_url, where=f"{where}: redeploy",
                       json_body={"active": True, "version_id": asset.get("version_id")})
    else:
        client.request("POST", deploy_url, where=f"{where}: deploy", json_body={"active": True})
    asset = client.get_asset(uid)
    links = asset.get("deployment__links") or {}
    return {"uid": uid, "name": asset.get("name") or title or "", "created": created,
            "url": links.get("offline_url") or links.get("url") or None,
            "project_url": f"{client.server}/#/forms/{uid}/landing"}
