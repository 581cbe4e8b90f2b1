"""ODK Central: credentials, a client through pyodk, the raw pull and the deploy step.

Survey teams trained on ODK collect with ODK Collect into an ODK Central server, with the same
XLSForm sinergi builds. This module talks to Central's API v1 through **pyodk** (the official
client: sessions, URL quoting, the OData and form endpoints), adding what a weak connection needs
(timeouts, bounded retries, one message per failure) and the record store of
:mod:`pipeline.sources.raw` (append-only files, staged in ``.pull/``, replayed).

Credentials
-----------
:func:`credentials`: the environment (``ODK_CENTRAL_USERNAME`` / ``ODK_CENTRAL_PASSWORD``, or a
git-ignored ``.env``), else pyodk's own config file (``~/.pyodk_config.toml`` or
``$PYODK_CONFIG_FILE``: ``[central] base_url, username, password``). The password is kept in the
client only: never printed, logged or written — pyodk's session token stays in memory (no
``~/.pyodk_cache.toml``), and pyodk's own error log (which would print a traceback) is silenced
while it works.

Retry policy
------------
As the KoboToolbox client's: connection errors, timeouts, cut connections, 429/500/502/503/504
and a body that is not JSON are retried with growing waits (said on stderr), at most
``max_attempts`` times and ``max_wait`` seconds in all; 400/403/404/409 and the like fail at once
with Central's own message (``{message, code}``, lib/http/endpoint.js:36-43). A 401 on a call is
a session that ended: logged in again once; a 401 at login is a wrong user name or password.
Requests that create something (``POST``) are retried only when Central cannot have acted on them.

Raw layout of a wave (``data/raw/<study>/<wave>/``)
---------------------------------------------------
``form.json``                    ``GET …/forms/{id}`` (an older, different copy kept as ``form.<sha8>.json``)
``versions/<v>.xml``             each form version a submission was made with, and the published one
``media/roster.csv``             the published version's attachment (older copies ``roster.<sha8>.csv``)
``odata/page-NNNNNN.json``       OData answers ``{"value": [rows], "@odata.count", …}`` (``$expand=*``)
``odata/sweep-NNNNNN.json``      the server's whole set at a pull that found deletions (light rows)
``xml/<key>.xml``                the XML of a submission made with another version than the
                                 published one (read with its own version's XForm)

Every pull ends with the wave's record equal to the server's set: new submissions (by
``__system/submissionDate``), then a light sweep of every ``__id`` with its review state,
``updatedAt`` and current instanceID, then a refetch of what the sweep shows late, edited or
re-reviewed; deletions are recorded by the sweep. So an incremental pull gives what a full one
gives. What a pull fetches waits in ``.pull/`` until every wave is complete.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import logging
import os
import random
import shutil
import tempfile
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Iterator, TypeVar
from urllib.parse import parse_qsl, quote, urlsplit

import requests
from openpyxl import load_workbook
from pyodk._endpoints.form_draft_attachments import FormDraftAttachmentService
from pyodk._endpoints.form_drafts import FormDraftService
from pyodk._utils import config as pyodk_config
from pyodk._utils.session import Session
from pyodk.client import Client
from pyodk.errors import PyODKError
from requests.adapters import HTTPAdapter

from ..errors import SinergiError
from ..io import EPOCH, read_json, sha256_file, stable_ooxml, write_bytes, write_json, write_text
from ..roster import read_roster_csv, roster_csv_bytes
from . import odk_adapter as adapter
from .raw import STAGE, record_files

log = logging.getLogger(__name__)
#: what pyodk's ``response_or_error`` logs a failure to (with a traceback): nowhere, the client
#: says it in one line; a logger outside the hierarchy, so nothing else is changed
_QUIET = logging.Logger("sinergi.odk.quiet")
_QUIET.disabled = True
T = TypeVar("T")

ENV_USER, ENV_PASSWORD = "ODK_CENTRAL_USERNAME", "ODK_CENTRAL_PASSWORD"
RETRY_STATUS = frozenset({429, 500, 502, 503, 504})
SAFE_POST_RETRY_STATUS = frozenset({429, 503})
#: rows per OData page (Central pages by $top; its nextLink carries a $skiptoken)
PAGE = 250
#: ids per ``__id eq … or …`` filter (keeps the URL under 4 kB)
ID_CHUNK = 40
#: the light sweep's fields
SWEEP_SELECT = "__id,__system/updatedAt,__system/reviewState,__system/formVersion,__system/edits,meta/instanceID"
_COMMIT = "COMMIT"


# --------------------------------------------------------------------------------------------
# credentials


@dataclass(frozen=True)
class Credentials:
    """A Central server and the web user sinergi logs in as (the password never shows)."""

    server: str
    username: str
    password: str = field(repr=False)


def _env_file(path: Path) -> dict[str, str]:
    out: dict[str, str] = {}
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError):
        return out
    for line in lines:
        line = line.strip()
        if line and not line.startswith("#") and "=" in line:
            key, value = line.split("=", 1)
            value = value.strip()
            if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
                value = value[1:-1]
            out[key.strip().removeprefix("export ").strip()] = value
    return out


def credentials(server: str | None = None, *, username_env: str = ENV_USER, password_env: str = ENV_PASSWORD,
                env_file: str | os.PathLike = ".env", config_path: str | os.PathLike | None = None) -> Credentials:
    """The Central server and login: the environment (or ``env_file``), else pyodk's config file.

    Parameters
    ----------
    server
        The study's ``source.server`` (e.g. ``https://central.example.org``); when None, the
        config file's ``base_url``.
    username_env, password_env
        Environment variables holding the web user's e-mail and password.
    env_file
        A git-ignored ``.env`` file read when the environment has neither.
    config_path
        pyodk's config file (default ``$PYODK_CONFIG_FILE``, else ``~/.pyodk_config.toml``).

    Raises
    ------
    SinergiError
        When neither place has a user name and password (saying how to give them), or no server.
    """
    env = {**_env_file(Path(env_file)), **os.environ}
    user, password = env.get(username_env, "").strip(), env.get(password_env, "")
    if user and password:
        if not server:
            raise SinergiError("no ODK Central server: set source.server in the study file (e.g. "
                               "https://central.example.org)")
        return Credentials(server.rstrip("/"), user, password)
    path = pyodk_config.get_config_path(config_path)
    if path.is_file():
        try:
            central = pyodk_config.read_config(path).central
        except (PyODKError, KeyError, TypeError, ValueError) as exc:
            raise SinergiError(f"{path}: not a usable pyodk config file ({type(exc).__name__}); it needs "
                               "[central] base_url, username and password") from None
        return Credentials((server or central.base_url).rstrip("/"), central.username, central.password)
    raise SinergiError(f"no ODK Central login: set {username_env} and {password_env} (`export {username_env}=…`, "
                       f"or lines {username_env}=… and {password_env}=… in {env_file}, git-ignored), or write "
                       f"pyodk's config file {path} ([central] base_url, username, password); use a web user "
                       "with the Project Manager or Project Viewer role")


# --------------------------------------------------------------------------------------------
# client


class _Retryable(Exception):
    def __init__(self, reason: str, status: int | None = None):
        super().__init__(reason)
        self.reason, self.status = reason, status


class _NotFound(SinergiError):
    """A 404: the message says what was not found."""


class _Adapter(HTTPAdapter):
    """No retries of its own (the client retries, saying so) and a timeout on every request."""

    def __init__(self, timeout: tuple[float, float]):
        super().__init__(max_retries=0)
        self.timeout = timeout

    def send(self, request, **kwargs):  # noqa: ANN001 — requests' signature
        if kwargs.get("timeout") is None:
            kwargs["timeout"] = self.timeout
        return super().send(request, **kwargs)


@contextlib.contextmanager
def _quiet_pyodk() -> Iterator[None]:
    """pyodk logs every failed request with a traceback (``log.error(…, exc_info=True)``); the
    client turns failures into one line, so pyodk's log is off while it works."""
    logger = logging.getLogger("pyodk")
    before = logger.disabled
    logger.disabled = True
    try:
        yield
    finally:
        logger.disabled = before


def _problem(resp: requests.Response) -> str:
    """Central's problem body as ``code message`` (lib/http/endpoint.js:36-43)."""
    try:
        body = resp.json()
    except ValueError:
        return resp.text.strip().replace("\n", " ")[:200]
    if isinstance(body, dict) and "message" in body:
        return f"{body.get('code', resp.status_code)} {body['message']}"[:300]
    return str(body)[:200]


class OdkClient:
    """ODK Central through pyodk, with timeouts, bounded retries and one-line errors.

    Parameters
    ----------
    creds
        :func:`credentials`.
    timeout, connect_timeout
        Read and connect timeouts in seconds.
    max_attempts, backoff, max_backoff, max_wait
        Attempts per call, exponential backoff base and cap, and the longest one call may take
        in all (``source.max_wait``).
    sleep
        Waits between attempts (tests pass a no-op).
    """

    def __init__(self, creds: Credentials, *, timeout: float = 130.0, connect_timeout: float = 10.0,
                 max_attempts: int = 6, backoff: float = 2.0, max_backoff: float = 60.0, max_wait: float = 300.0,
                 sleep: Callable[[float], None] = time.sleep):
        parts = urlsplit(creds.server)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise SinergiError(f"server = {creds.server!r}: must be a URL such as https://central.example.org")
        self.server = creds.server.rstrip("/")
        self.max_attempts, self.backoff, self.max_backoff = max(1, max_attempts), backoff, max_backoff
        self.max_wait, self._sleep = float(max_wait), sleep
        session = Session(base_url=self.server, api_version="v1", username=creds.username,
                          password=creds.password, cache_path=None)  # the token stays in memory
        for scheme in ("https://", "http://"):
            session.mount(scheme, _Adapter((connect_timeout, timeout)))
        cfg = pyodk_config.Config(central=pyodk_config.CentralConfig(
            base_url=self.server, username=creds.username, password=creds.password))
        self.client = Client(config=cfg, session=session)
        self._relogged = False

    def __repr__(self) -> str:
        return f"OdkClient(server={self.server!r})"

    def __enter__(self) -> "OdkClient":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.client.session.close()

    # -- one call --------------------------------------------------------------------------
    def call(self, fn: Callable[[], T], *, where: str, method: str = "GET", not_found: str | None = None) -> T:
        """Run ``fn`` (one pyodk or session call) with the retry policy; see the module docstring."""
        spent, attempt = 0.0, 0
        while True:
            attempt += 1
            t0 = time.monotonic()
            try:
                out = self._once(fn, where, not_found)
                self._relogged = False
                return out
            except (_Retryable, requests.RequestException) as exc:
                spent += time.monotonic() - t0
                status = exc.status if isinstance(exc, _Retryable) else None
                reason = exc.reason if isinstance(exc, _Retryable) else \
                    f"cannot reach {self.server} ({type(exc).__name__})"
                # a POST is retried only when Central cannot have acted on it
                safe = method != "POST" or status in SAFE_POST_RETRY_STATUS or isinstance(exc, requests.ConnectTimeout)
                if not safe:
                    raise SinergiError(f"{where}: {reason} (not retried: Central may have acted on it; check "
                                       "on the website)") from None
                wait = min(self.max_backoff, self.backoff * 2 ** (attempt - 1)) + random.uniform(0, self.backoff)
                if attempt >= self.max_attempts or spent + wait > self.max_wait:
                    raise SinergiError(f"{where}: {reason} (gave up after {attempt} attempt(s) in {spent:.0f} s; "
                                       "check the connection and run the pull again — what was saved is "
                                       "kept)") from None
                log.warning("%s: %s; trying again in %.0f s (attempt %d of %d)", where, reason, wait, attempt + 1,
                            self.max_attempts)
                self._sleep(wait)
                spent += wait

    def _once(self, fn: Callable[[], T], where: str, not_found: str | None) -> T:
        try:
            with _quiet_pyodk():
                return fn()
        except PyODKError as exc:
            resp = exc.args[1] if len(exc.args) > 1 and isinstance(exc.args[1], requests.Response) else None
            if resp is None:
                raise SinergiError(f"{where}: {exc.args[0] if exc.args else exc}") from None
            return self._status(resp, fn, where, not_found)
        except ValueError as exc:  # a body that is not JSON: a web page, or cut short
            if str(getattr(exc, "doc", "")).lstrip()[:1] == "<":
                raise SinergiError(f"{where}: {self.server} answered with a web page, not ODK Central's API (a "
                                   "hotspot's login page, or a wrong address); check source.server and log in to "
                                   "the network in a browser first") from None
            raise _Retryable(f"the answer from {self.server} is not valid JSON (cut short?)") from None

    def _status(self, resp: requests.Response, fn: Callable[[], T], where: str, not_found: str | None) -> T:
        status = resp.status_code
        if status == 401 and resp.request is not None and resp.request.url.rstrip("/").endswith("/v1/sessions"):
            raise SinergiError(f"{where}: {self.server} rejected the user name or password (401); check "
                               f"{ENV_USER}/{ENV_PASSWORD} or your pyodk config file") from None
        if status == 401 and not self._relogged:  # the session ended: log in once more
            self._relogged = True
            self.client.session.headers.pop("Authorization", None)
            return self._once(fn, where, not_found)
        if status == 401:
            raise SinergiError(f"{where}: {self.server} no longer accepts the login (401 {_problem(resp)})")
        if status == 403:
            raise SinergiError(f"{where}: your Central user has no permission for this on {self.server} "
                               f"(403 {_problem(resp)}); a Project Manager must give it the Project Manager or "
                               "Project Viewer role on the project")
        if status == 404:
            raise _NotFound(not_found or f"{where}: not found on {self.server} (404)")
        if status in RETRY_STATUS:
            raise _Retryable(f"{self.server} answered {status}", status)
        raise SinergiError(f"{where}: {self.server} refused the request ({status} {_problem(resp)})")

    # -- endpoints -------------------------------------------------------------------------
    def get(self, path: str, *, where: str, params: dict[str, Any] | None = None, expect: str = "json",
            not_found: str | None = None) -> Any:
        """``GET /v1/<path>`` through pyodk's session: JSON (a web page is refused) or bytes."""
        def fetch():
            resp = self.client.session.response_or_error("GET", path, _QUIET, params=params)
            return resp.content if expect == "bytes" else resp.json()
        return self.call(fetch, where=where, not_found=not_found)

    def form(self, project_id: int, form_id: str) -> dict[str, Any] | None:
        """``GET …/forms/{id}`` (None when the form does not exist)."""
        path = f"projects/{project_id}/forms/{quote(form_id, safe='')}"
        try:
            return self.get(path, where=f"form {form_id} (project {project_id}) on {self.server}")
        except _NotFound:
            return None

    def odata(self, project_id: int, form_id: str, **params: Any) -> Iterator[dict[str, Any]]:
        """The OData answers of ``Submissions``, page by page (following ``@odata.nextLink``).

        The first page comes from pyodk's ``submissions.get_table``; the next ones repeat it
        with the ``$skiptoken`` Central put in the link (a cursor: it does not drift when
        submissions arrive or are deleted during the pull, lib/model/query/submissions.js:268-283).
        Fewer rows than the first page's ``@odata.count`` is an error (the pull resumes)."""
        where = f"form {form_id} (project {project_id}) submissions on {self.server}"
        missing = (f"{where}: the form is not there (check form_id and project_id in the study file, and "
                   "that the form is published)")
        first = self.call(lambda: self.client.submissions.get_table(
            form_id=form_id, project_id=project_id, top=PAGE, count=True, **params), where=where, not_found=missing)
        total, got, page = first.get("@odata.count"), 0, first
        while True:
            if not isinstance(page, dict) or not isinstance(page.get("value"), list):
                raise SinergiError(f"{where}: unexpected answer (no 'value' list)")
            got += len(page["value"])
            yield page
            link = page.get("@odata.nextLink")
            if not link or not page["value"]:
                break
            token = dict(parse_qsl(urlsplit(link).query)).get("$skiptoken")
            if not token:
                raise SinergiError(f"{where}: a next page link without $skiptoken: {link[:120]}")
            page = self.call(lambda: self.client.session.response_or_error(
                "GET", f"projects/{project_id}/forms/{quote(form_id, safe='')}.svc/Submissions", _QUIET,
                params={**_odata_params(params), "$top": PAGE, "$skiptoken": token}).json(), where=where)
        if isinstance(total, int) and got < total:
            raise SinergiError(f"{where}: Central reported {total} submission(s) but only {got} arrived; run the "
                               "pull again (it resumes from what was saved)")


def _odata_params(params: dict[str, Any]) -> dict[str, Any]:
    return {f"${k}": v for k, v in params.items()}


# --------------------------------------------------------------------------------------------
# the raw record of a wave


@dataclass(frozen=True)
class OdkWave:
    """Where one survey wave's submissions are: a form of a Central project."""

    id: str
    project_id: int
    form_id: str


def _now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def version_file(version: str) -> str:
    """``versions/<file>`` of a form version (``2026.11.1-pre`` → ``2026.11.1-pre.xml``).

    >>> version_file("v 2/3")
    'v%202%2F3.xml'
    """
    name = quote(version or "_", safe="-_.")
    return ("_" + name if name.startswith(".") else name) + ".xml"


class _Stage:
    """One wave's new files, written into ``.pull/<wave>/`` (records numbered after what exists)."""

    def __init__(self, raw_dir: Path, wave_id: str):
        self.wdir, self.sdir = raw_dir / wave_id, raw_dir / STAGE / wave_id
        self.files = record_files(self.wdir / "odata", self.sdir / "odata")
        self.next_no = max((n for n, _, _ in self.files), default=0) + 1
        self.state, _ = adapter.replay(self.files)

    def record(self, kind: str, body: dict[str, Any]) -> None:
        path = self.sdir / "odata" / f"{kind}-{self.next_no:06d}.json"
        write_json(path, body, indent=None)
        self.files.append((self.next_no, kind, path))
        self.next_no += 1
        if kind == "page":  # as adapter.replay would, without reading every file again
            self.state.update({row["__id"]: row for row in body["value"]})
        else:
            present = {row["__id"] for row in body["value"]}
            self.state = {i: r for i, r in self.state.items() if i in present}

    def current(self, rel: str) -> Path:
        staged = self.sdir / rel
        return staged if staged.exists() else self.wdir / rel

    def put(self, rel: str, data: bytes) -> None:
        """Stage ``rel`` unless the newest copy already holds exactly these bytes."""
        have = self.current(rel)
        if not (have.is_file() and have.read_bytes() == data):
            write_bytes(self.sdir / rel, data)


def _commit(raw_dir: Path) -> None:
    """Move a complete pull from ``.pull/`` into the raw folder (as the KoboToolbox pull does).

    ``form.json`` and ``media/*`` replace the current file (its older, different bytes kept as
    ``<stem>.<sha8><ext>``); every other file is new. A ``COMMIT`` marker is written first, so a
    pull killed half-way through this step finishes it the next time (:func:`_recover`)."""
    stage = raw_dir / STAGE
    if not stage.is_dir():
        return
    marker = stage / _COMMIT
    if not marker.exists():
        write_text(marker, _now() + "\n")
    for src in sorted(p for p in stage.rglob("*") if p.is_file() and p != marker):
        rel = src.relative_to(stage)
        if any(part.startswith(".") for part in rel.parts):
            continue
        dest = raw_dir / rel
        if rel.name == "form.json" or (len(rel.parts) > 2 and rel.parts[-2] == "media"):
            if dest.exists() and dest.read_bytes() != src.read_bytes():
                old = dest.read_bytes()
                keep = dest.with_name(f"{dest.stem}.{hashlib.sha256(old).hexdigest()[:8]}{dest.suffix}")
                if not keep.exists():
                    write_bytes(keep, old)
        elif dest.exists() and dest.read_bytes() != src.read_bytes():
            raise SinergiError(f"{dest}: already in the raw folder with other content; raw files are never "
                               f"replaced (the new copy is kept in {src})")
        dest.parent.mkdir(parents=True, exist_ok=True)
        os.replace(src, dest)
    shutil.rmtree(stage)


def _recover(raw_dir: Path) -> None:
    """Finish a commit a killed pull started; drop stray temporary files (staged pages resume)."""
    if (raw_dir / STAGE / _COMMIT).exists():
        _commit(raw_dir)
    for stray in raw_dir.rglob(".*.tmp") if raw_dir.is_dir() else []:
        if stray.is_file():
            stray.unlink()


def _chunks(items: list[str], n: int) -> Iterator[list[str]]:
    for i in range(0, len(items), n):
        yield items[i:i + n]


def _ids_filter(ids: list[str]) -> str:
    return " or ".join("__id eq '{}'".format(i.replace("'", "''")) for i in ids)


def _form_files(client: OdkClient, st: _Stage, w: OdkWave) -> dict[str, Any]:
    """``form.json``, the published version's XForm and the attachments; returns the form."""
    where = f"wave {w.id}: form {w.form_id} (project {w.project_id}) on {client.server}"
    form = client.form(w.project_id, w.form_id)
    if form is None:
        raise SinergiError(f"{where}: not found (check form_id and project_id in the study file, and that your "
                           "user can see the project)")
    if not form.get("publishedAt"):
        raise SinergiError(f"{where}: the form is not published yet, so it has no submissions; publish it "
                           "(`sinergi odk deploy`, or Publish on the website)")
    st.put("form.json", (json.dumps(form, ensure_ascii=False, indent=2) + "\n").encode("utf-8"))
    base = f"projects/{w.project_id}/forms/{quote(w.form_id, safe='')}"
    for row in client.get(f"{base}/attachments", where=f"{where}: attachments"):
        name = Path(str(row.get("name", ""))).name
        if not row.get("exists") or not name or name.startswith("."):
            continue
        have = st.current(f"media/{name}")
        if have.is_file() and row.get("hash") == hashlib.md5(have.read_bytes()).hexdigest():
            continue  # unchanged: no download over a weak connection
        st.put(f"media/{name}", client.get(f"{base}/attachments/{quote(name, safe='')}", expect="bytes",
                                           where=f"{where}: attachment {name}"))
    return form


def _versions(client: OdkClient, st: _Stage, w: OdkWave, wanted: set[str]) -> None:
    base = f"projects/{w.project_id}/forms/{quote(w.form_id, safe='')}"
    for version in sorted(v for v in wanted if v is not None):
        rel = f"versions/{version_file(version)}"
        if st.current(rel).exists():
            continue
        try:
            st.put(rel, client.get(f"{base}/versions/{quote(version, safe='')}.xml", expect="bytes",
                                   where=f"wave {w.id}: form {w.form_id} version {version!r}"))
        except _NotFound:
            log.warning("wave %s: form version %r is not on %s; its submissions are read with the published "
                        "form (tidy notes it)", w.id, version, client.server)


def _pull_wave(client: OdkClient, w: OdkWave, raw_dir: Path, full: bool) -> dict[str, int]:
    """Fetch one wave into the staging folder; returns counts of what changed."""
    st = _Stage(raw_dir, w.id)
    form = _form_files(client, st, w)
    published = form.get("version") or ""
    # 1. what arrived since the newest submission held (everything with full=True)
    dates = [r["__system"]["submissionDate"] for r in st.state.values() if (r.get("__system") or {}).get(
        "submissionDate")]
    flt = None if full or not dates else f"__system/submissionDate ge {max(dates)}"
    before = set(st.state)
    for page in client.odata(w.project_id, w.form_id, expand="*", **({"filter": flt} if flt else {})):
        if page["value"]:
            st.record("page", page)
    new = len(set(st.state) - before)
    # 2. the sweep: every __id with its review state, updatedAt and current instanceID
    swept = [row for page in client.odata(w.project_id, w.form_id, select=SWEEP_SELECT) for row in page["value"]]
    held = dict(st.state)
    on_server = {r["__id"] for r in swept}
    deleted = [i for i in held if i not in on_server]
    if deleted:
        st.record("sweep", {"swept_at": _now(), "select": SWEEP_SELECT, "value": swept})

    def changed(r: dict[str, Any]) -> bool:
        old = held[r["__id"]]
        a, b = old.get("__system") or {}, r.get("__system") or {}
        return (adapter.instance_of(old), a.get("reviewState"), a.get("updatedAt")) != (
            adapter.instance_of(r), b.get("reviewState"), b.get("updatedAt"))

    late = sorted(r["__id"] for r in swept if r["__id"] not in held)
    edited = sorted(r["__id"] for r in swept if r["__id"] in held and changed(r))
    # 3. refetch what the sweep shows late or changed
    for chunk in _chunks(late + edited, ID_CHUNK):
        for page in client.odata(w.project_id, w.form_id, expand="*", filter=_ids_filter(chunk)):
            if page["value"]:
                st.record("page", page)
    # 4. every version a submission was made with, and the XML of those not made with the published one
    _versions(client, st, w, {published} | {(r.get("__system") or {}).get("formVersion") for r in st.state.values()})
    base = f"projects/{w.project_id}/forms/{quote(w.form_id, safe='')}"
    for rid, row in sorted(st.state.items()):
        if (row.get("__system") or {}).get("formVersion") not in (published, None):
            rel = f"xml/{adapter.xml_key(adapter.instance_of(row))}.xml"
            if not st.current(rel).exists():
                st.put(rel, client.get(f"{base}/submissions/{quote(rid, safe='')}.xml", expect="bytes",
                                       where=f"wave {w.id}: submission {rid}"))
    out = {"new": new, "late": len(late), "changed": len(edited), "deleted": len(deleted), "total": len(st.state)}
    if any(out[k] for k in ("late", "changed", "deleted")):
        log.warning("wave %s: %d new, %d arrived late, %d edited or re-reviewed, %d deleted on the server; "
                    "%d submission(s) now", w.id, out["new"], out["late"], out["changed"], out["deleted"], out["total"])
    return out


def _wave_files(raw_dir: Path, wave_id: str) -> dict[str, str]:
    wdir = raw_dir / wave_id
    return {p.relative_to(raw_dir).as_posix(): sha256_file(p) for p in sorted(wdir.rglob("*"))
            if p.is_file() and not any(part.startswith(".") for part in p.relative_to(wdir).parts)}


def pull_odk(waves: list[OdkWave], raw_dir: str | os.PathLike, *, client: OdkClient,
             full: bool = False) -> dict[str, dict[str, Any]]:
    """Pull every wave's form, versions, attachments and submissions into ``raw_dir``.

    Parameters
    ----------
    waves
        The study's waves with their Central project and form.
    raw_dir
        ``data/raw/<study-id>``.
    client
        An :class:`OdkClient` (the caller makes it from :func:`credentials` and closes it).
    full
        Refetch every submission, not only the new and changed ones (the result is the same).

    Returns
    -------
    dict
        ``{wave_id: {"server", "project_id", "form_id", "pulled_at", "count", "changes": {"new",
        "late", "changed", "deleted", "total"}, "files": {path relative to raw_dir: sha256}}}``,
        for the caller's ``manifest.json``.

    Raises
    ------
    SinergiError
        ``wave <id>: …`` naming the form, project and server. The raw folder is then unchanged;
        what was fetched waits in ``.pull/`` and the next pull resumes from it.
    """
    raw_dir = Path(raw_dir)
    raw_dir.mkdir(parents=True, exist_ok=True)
    _recover(raw_dir)
    pulled_at = _now()
    changes: dict[str, dict[str, int]] = {}
    for w in waves:
        try:
            changes[w.id] = _pull_wave(client, w, raw_dir, full)
        except SinergiError as exc:
            raise SinergiError(exc if str(exc).startswith(f"wave {w.id}:") else f"wave {w.id}: {exc}") from None
    _commit(raw_dir)
    return {w.id: {"server": client.server, "project_id": w.project_id, "form_id": w.form_id,
                   "pulled_at": pulled_at, "count": changes[w.id]["total"], "changes": changes[w.id],
                   "files": _wave_files(raw_dir, w.id)} for w in waves}


# --------------------------------------------------------------------------------------------
# reading a pulled wave (for tidy and the monitor)


def read_wave(wave_dir: str | os.PathLike) -> dict[str, Any]:
    """A pulled wave as tidy reads a KoboToolbox wave.

    Returns
    -------
    dict
        ``submissions`` (KoboToolbox-shaped, :mod:`pipeline.sources.odk_adapter`; each read with
        its own form version: the published one from OData, another from its XML), ``events``
        (edits, review changes, deletions: :func:`pipeline.sources.odk_adapter.replay`),
        ``contents`` (version → asset-content-like form, for reading each submission's xpaths),
        ``deployed`` (the published version) and ``missing`` (``{version: [__id, …]}`` read with
        the published form because their version's XForm or XML is not in raw).
    """
    wave_dir = Path(wave_dir)
    form = read_json(wave_dir / "form.json")
    published = form.get("version") or ""
    schemas: dict[str, dict[str, Any]] = {}
    for path in sorted((wave_dir / "versions").glob("*.xml")):
        schema = adapter.xform_schema(path.read_bytes(), str(path))
        schemas[schema["version"]] = schema
    state, events = adapter.replay(record_files(wave_dir / "odata"))
    names = adapter.odata_names(schemas[published]) if published in schemas else {}
    subs, missing = [], {}
    for rid, row in state.items():
        version = (row.get("__system") or {}).get("formVersion") or published
        xml = wave_dir / "xml" / f"{adapter.xml_key(adapter.instance_of(row))}.xml"
        if version != published and version in schemas and xml.is_file():
            sub = adapter.xml_submission(xml.read_bytes(), schemas, rid, row.get("__system") or {}, str(xml))
        else:
            sub = adapter.odata_submission(row, names)
            if version != published:
                missing.setdefault(version, []).append(rid)
            sub["__version__"] = published
        subs.append(sub)
    subs.sort(key=lambda s: (s["_submission_time"], s["_id"]))
    return {"submissions": subs, "events": events, "deployed": published, "missing": missing,
            "contents": {v: adapter.xform_content(s) for v, s in schemas.items()}}


# --------------------------------------------------------------------------------------------
# deploy


def xlsform_settings(xlsx: bytes, **settings: str) -> bytes:
    """The XLSForm with ``settings`` (``form_id``, ``version``, ``form_title``) set in its settings sheet."""
    wb = load_workbook(io.BytesIO(xlsx))
    if "settings" not in wb.sheetnames:
        raise SinergiError("the XLSForm has no settings sheet (run `make instruments`)")
    ws = wb["settings"]
    header = [c.value for c in ws[1]]
    for key, value in settings.items():
        col = header.index(key) + 1 if key in header else len(header) + 1
        if key not in header:
            header.append(key)
        ws.cell(row=1, column=col, value=key)
        ws.cell(row=2, column=col, value=value)
    out = io.BytesIO()
    wb.save(out)
    return stable_ooxml(out.getvalue(), EPOCH)


def deploy_version(instrument_version: str, wave: str, xlsx: bytes, roster: bytes) -> str:
    """The version a wave's form is published with: the instrument's, the wave and a fingerprint
    of the form and roster (a rerun with the same files publishes nothing new).

    >>> deploy_version("2026.11.1", "pre", b"x", b"y")
    '2026.11.1-pre-ce3890a8'
    """
    digest = hashlib.sha256(xlsx + b"\0" + roster).hexdigest()[:8]
    return f"{instrument_version}-{wave}-{digest}"


def _links(client: OdkClient, project_id: int, form_id: str, form: dict[str, Any]) -> dict[str, Any]:
    enketo = form.get("enketoId")
    return {"form_url": f"{client.server}/#/projects/{project_id}/forms/{quote(form_id, safe='')}",
            "enketo_url": f"{client.server}/-/{enketo}" if enketo else None,
            "app_users_url": f"{client.server}/#/projects/{project_id}/app-users",
            "version": form.get("version"), "published": bool(form.get("publishedAt"))}


def deploy_odk(client: OdkClient, *, project_id: int, form_id: str, xlsx: bytes, roster_path: str | os.PathLike,
               title: str, instrument_version: str, wave: str) -> dict[str, Any]:
    """Create or update a wave's form on Central: draft → roster attachment → publish.

    Parameters
    ----------
    xlsx
        The built XLSForm (``instruments/build/sinergi.xlsx``); its settings get ``form_id``,
        ``version`` and ``form_title`` (:func:`xlsform_settings`).
    roster_path
        The wave's roster CSV (``name,label``, read as strictly as the tables: ``;`` or
        Windows-1252 too): uploaded as UTF-8 with commas as the attachment ``roster.csv`` the form
        loads; the template's example people are refused (:func:`pipeline.roster.check_roster`).
    title
        The form's title (``<study title> — <wave label>``).
    instrument_version, wave
        With the form and roster, they make the version it is published with
        (:func:`deploy_version`): the same files give the same version, so a rerun publishes nothing.

    The flow is Central's (lib/resources/forms.js): a new form is created as a draft
    (``POST …/forms?publish=false``, :128-137), an existing one gets a new draft (``POST …/draft``,
    :139-159; a draft left by a run that was cut off is replaced); the roster goes to the draft
    (``POST …/draft/attachments/roster.csv``, :449-461) and the draft is published
    (``POST …/draft/publish``, :161-183). Form ids are unique in a project, and a form already
    published with this version is left as it is: a rerun never makes a second form.

    Returns
    -------
    dict
        ``form_url`` (the form on the website), ``enketo_url`` (the web form, None when Central runs
        without Enketo), ``app_users_url`` (where the QR codes for ODK Collect are), ``version``,
        ``published``, ``created`` (a new form) and ``changed`` (something was published).
    """

    roster = roster_csv_bytes(read_roster_csv(roster_path))  # refused before anything is sent
    version = deploy_version(instrument_version, wave, xlsx, roster)
    where = f"form {form_id} (project {project_id}) on {client.server}"
    form = client.form(project_id, form_id)
    if form is not None and form.get("publishedAt") and form.get("version") == version:
        return {**_links(client, project_id, form_id, form), "created": False, "changed": False}
    created = form is None
    body = xlsform_settings(xlsx, form_id=form_id, version=version, form_title=title)
    session = client.client.session
    drafts = FormDraftService(session=session, default_project_id=project_id, default_form_id=form_id)
    if form is None:
        client.call(lambda: session.response_or_error(
            "POST", f"projects/{project_id}/forms", _QUIET, data=body,
            params={"ignoreWarnings": "true", "publish": "false"},
            headers={"Content-Type": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                     "X-XlsForm-FormId-Fallback": quote(form_id, safe="")}), where=f"{where}: create", method="POST")
    else:
        client.call(lambda: drafts.create(definition=body), where=f"{where}: new draft", method="POST")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "roster.csv"
        path.write_bytes(roster)
        client.call(lambda: FormDraftAttachmentService(session=session, default_project_id=project_id,
                                                       default_form_id=form_id).upload(file_path=path),
                    where=f"{where}: upload roster.csv", method="POST")
    client.call(lambda: drafts.publish(version=version), where=f"{where}: publish", method="POST")
    form = client.form(project_id, form_id) or {}
    return {**_links(client, project_id, form_id, form), "created": created, "changed": True}
