"""KoboToolbox API v2: the token, a thin client and the project list.

No PyPI Kobo client is fit for use: since the 2026 paging change (default page 100, maximum 1000)
they stop at the first page, set no timeouts and retry nothing. This module talks to
``/api/v2/`` with httpx:

- :func:`get_token` — the API token from the environment or a git-ignored ``.env``;
- :class:`KoboClient` — ``Authorization: Token …``, timeouts, bounded retries with backoff;
- :func:`list_projects` — the projects the token can see (``sinergi kobo list``).

The pull (:mod:`pipeline.sources.kobo.pull`) and the deploy step (:mod:`pipeline.sources.kobo.deploy`)
talk to the server through this client.

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

import json
import logging
import os
import random
import threading
import time
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any, Callable, Iterator
from urllib.parse import urlsplit, urlunsplit

import httpx
import pandas as pd

from ...errors import SinergiError

log = logging.getLogger(__name__)

#: the data endpoint's maximum page size on the hosted servers (kpi data.py ``_positive_int(cutoff=…)``)
PAGE_LIMIT = 1000
RETRY_STATUS = frozenset({429, 500, 502, 503, 504})
#: statuses after which a non-idempotent request (POST) certainly did nothing on the server
SAFE_POST_RETRY_STATUS = frozenset({429, 503})


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
        self.sleep = sleep
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
                self.sleep(wait)
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
