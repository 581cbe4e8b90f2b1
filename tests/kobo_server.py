"""A fake KoboToolbox API v2 server on 127.0.0.1, for the client tests.

It speaks the parts of the API sinergi uses, with the real server's behaviour
(kpi/views/v2/data.py, asset.py, asset_file.py, import_task.py):

- ``GET /api/v2/assets/?q=asset_type:survey`` paginated ``{count, next, previous, results}``;
- ``GET /api/v2/assets/{uid}/`` with ``content``; ``…/versions/{vuid}/``;
- ``GET /api/v2/assets/{uid}/files/?file_type=form_media``, ``…/files/{fuid}/content/``,
  ``POST …/files/`` (multipart; duplicate file names refused), ``DELETE …/files/{fuid}/``;
- ``GET /api/v2/assets/{uid}/data/`` with ``limit`` (default 100, clamped to ``max_limit``),
  ``start``, ``query`` (Mongo ``_id`` operators), ``sort``; ``count`` of the filtered query and
  absolute ``next``/``previous`` URLs;
- ``POST /api/v2/imports/`` (multipart) + ``GET /api/v2/imports/{uid}/`` (processing, then complete);
- ``GET/POST/PATCH /api/v2/assets/{uid}/deployment/``;
- ``Authorization: Token …`` → 401 on a bad token; unknown uid → 404.

And what kpi does that a naive server would not (kpi @2e5efb0, ../shared/research/kobo-conformance.md):

- ``_id`` is assigned before the Mongo write, so a lower ``_id`` can become visible after a higher
  one: ``Asset.hidden`` holds ids not visible yet (:meth:`FakeKobo.release` shows them);
- validation status, edits (:func:`edit_submission`: new ``_uuid`` / ``meta/instanceID``,
  ``meta/deprecatedID``, same ``_id`` and ``meta/rootUuid``) and hard deletes change rows in place;
- ``fields=[…]`` on ``/data/`` returns only those keys (plus ``_id``, ``_uuid``, ``meta/rootUuid``,
  mongo_helper.py:408-439);
- ``content`` of the asset detail is the latest *draft*; the deployed form is
  ``versions/{deployed_version_id}`` (``Asset.versions``);
- permissions: without ``view_submissions`` ``/data/`` answers 404 (permissions.py:395-410);
  without ``change_asset`` a POST/PATCH/DELETE answers 403 and an import into it fails in the task;
  ``Asset.partial`` filters rows for a partial ("row-level") permission, and then
  ``deployment__submission_count`` is ``null`` (serializers/v2/asset.py:789-810);
- an import renames the project to the XLSForm's ``form_title`` (models/asset.py:510-528);
- projects reached only through an organisation (``/api/v2/organizations/{id}/assets/``) or a
  project view (``/api/v2/project-views/{uid}/assets/``) are not in ``/api/v2/assets/``;
- ``deployment__links`` is ``{}`` when Enketo does not answer (``Asset.enketo=False``).

Faults are injected with :meth:`FakeKobo.fault`: an HTTP status (429 with ``Retry-After``,
500, 503, …), ``slow`` (answer after a delay), ``truncate`` (a JSON body cut short, with a
matching Content-Length), ``drop`` (close the socket after writing half the body) and ``html``
(a 200 web page instead of JSON).
"""

from __future__ import annotations

import email.parser
import email.policy
import hashlib
import io
import json
import random
import socket
import threading
import time
import uuid as uuidlib
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable
from urllib.parse import parse_qsl, urlencode, urlsplit


@dataclass
class Fault:
    match: str | Callable[[str, str, dict], bool]
    kind: str  # "429" | "500" | "503" | … | "slow" | "truncate" | "drop" | "html"
    times: int = 1  # how many matching requests it hits (-1: all)
    skip: int = 0  # matching requests let through first
    retry_after: float | None = None
    delay: float = 1.0
    body: Any = None  # the JSON body of an injected status (default {"detail": "injected …"})
    hits: int = 0

    def applies(self, method: str, path: str, query: dict) -> bool:
        if callable(self.match):
            ok = self.match(method, path, query)
        else:
            ok = self.match in path
        if not ok:
            return False
        if self.skip > 0:
            self.skip -= 1
            return False
        if self.times == 0:
            return False
        if self.times > 0:
            self.times -= 1
        self.hits += 1
        return True


@dataclass
class Asset:
    uid: str
    name: str
    content: dict[str, Any]
    version_id: str = "vAAA"
    deployed: bool = True
    active: bool = True
    submissions: list[dict[str, Any]] = field(default_factory=list)
    versions: dict[str, dict[str, Any]] = field(default_factory=dict)
    files: list[dict[str, Any]] = field(default_factory=list)  # {uid, filename, data, file_type}
    deployed_version_id: str | None = None
    owner: str = "pkm_team"
    hidden: set[int] = field(default_factory=set)  # ids assigned but not visible yet
    perms: set[str] = field(default_factory=lambda: {"view_asset", "view_submissions", "change_asset"})
    partial: Callable[[dict], bool] | None = None  # row-level permission filter
    listed: bool = True  # in /api/v2/assets/ (owned or shared directly)
    enketo: bool = True

    def visible(self) -> list[dict[str, Any]]:
        rows = [s for s in self.submissions if s["_id"] not in self.hidden]
        return [s for s in rows if self.partial(s)] if self.partial else rows


class FakeKobo:
    def __init__(self, token: str = "tok-secret-0123456789abcdef", *, max_limit: int = 1000,
                 default_limit: int = 100, asset_page_size: int = 100, import_polls: int = 1):
        self.token = token
        self.max_limit = max_limit
        self.default_limit = default_limit
        self.asset_page_size = asset_page_size
        self.import_polls = import_polls
        self.assets: dict[str, Asset] = {}
        self.faults: list[Fault] = []
        self.requests: list[tuple[str, str, dict]] = []
        self.auth_headers: list[str | None] = []
        self.imports: dict[str, dict[str, Any]] = {}
        self.before: list[Callable[[str, str, dict], None]] = []
        self.lock = threading.RLock()
        self.organizations: dict[str, list[str]] = {}  # org id -> asset uids (user is an org admin)
        self.project_views: dict[str, list[str]] = {}  # view uid -> asset uids
        self._httpd: ThreadingHTTPServer | None = None

    # -- set-up ---------------------------------------------------------------------------
    def add_asset(self, uid: str, name: str, content: dict[str, Any], **kw: Any) -> Asset:
        asset = Asset(uid=uid, name=name, content=content, **kw)
        if asset.deployed and asset.deployed_version_id is None:
            asset.deployed_version_id = asset.version_id
        self.assets[uid] = asset
        return asset

    def add_file(self, uid: str, filename: str, data: bytes, file_type: str = "form_media") -> dict:
        row = {"uid": "af" + uuidlib.uuid4().hex[:10], "filename": filename, "data": data,
               "file_type": file_type}
        self.assets[uid].files.append(row)
        return row

    def fault(self, match: str | Callable, kind: str, **kw: Any) -> Fault:
        f = Fault(match=match, kind=str(kind), **kw)
        self.faults.append(f)
        return f

    def release(self, uid: str, *ids: int) -> None:
        """Make hidden submissions of ``uid`` visible (all of them when no id is given)."""
        a = self.assets[uid]
        a.hidden -= set(ids) if ids else set(a.hidden)

    def data_requests(self, uid: str | None = None) -> list[dict]:
        return [q for m, p, q in self.requests if p.endswith("/data/") and (uid is None or f"/{uid}/" in p)]

    # -- lifecycle ------------------------------------------------------------------------
    def start(self) -> "FakeKobo":
        server = self

        class Handler(_Handler):
            fake = server

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.02},
                                        daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._httpd:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None

    def __enter__(self) -> "FakeKobo":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        assert self._httpd is not None
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}"


class _Handler(BaseHTTPRequestHandler):
    fake: FakeKobo
    protocol_version = "HTTP/1.1"

    def log_message(self, *args: Any) -> None:  # quiet
        pass

    # -- dispatch -------------------------------------------------------------------------
    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def do_PATCH(self) -> None:
        self._dispatch("PATCH")

    def do_DELETE(self) -> None:
        self._dispatch("DELETE")

    def _dispatch(self, method: str) -> None:
        fake = self.fake
        parts = urlsplit(self.path)
        path = parts.path
        query = dict(parse_qsl(parts.query, keep_blank_values=True))
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        with fake.lock:
            fake.requests.append((method, path, query))
            fake.auth_headers.append(self.headers.get("Authorization"))
            for hook in list(fake.before):
                hook(method, path, query)
            fault = next((f for f in fake.faults if f.applies(method, path, query)), None)
        if fault is not None and fault.kind.isdigit():
            headers = {}
            if fault.retry_after is not None:
                headers["Retry-After"] = str(fault.retry_after)
            body = fault.body if fault.body is not None else {"detail": f"injected {fault.kind}"}
            return self._json(int(fault.kind), body, headers)
        if fault is not None and fault.kind == "html":  # a hotspot's login page, a wrong address
            return self._send(200, b"<!DOCTYPE html><html><body>Login to Wi-Fi</body></html>",
                              "text/html; charset=utf-8")
        if fault is not None and fault.kind == "slow":
            time.sleep(fault.delay)
        if self.headers.get("Authorization") != f"Token {fake.token}":
            return self._json(401, {"detail": "Invalid token."})
        try:
            with fake.lock:
                status, payload, ctype = self._route(method, path, query, body)
        except _HTTPError as exc:
            return self._json(exc.status, exc.body)
        data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        if fault is not None and fault.kind == "truncate":
            data = data[: max(1, len(data) // 2)]
        if fault is not None and fault.kind == "drop":
            return self._drop(status, data, ctype)
        self._send(status, data, ctype)

    # -- writing --------------------------------------------------------------------------
    def _send(self, status: int, data: bytes, ctype: str, headers: dict | None = None) -> None:
        try:
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(data)))
            for k, v in (headers or {}).items():
                self.send_header(k, v)
            self.end_headers()
            if data:
                self.wfile.write(data)
            self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError, ConnectionAbortedError, OSError):
            self.close_connection = True

    def _json(self, status: int, body: Any, headers: dict | None = None) -> None:
        self._send(status, b"" if status == 204 else json.dumps(body).encode(), "application/json", headers)

    def _drop(self, status: int, data: bytes, ctype: str) -> None:
        try:
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data[: len(data) // 2])
            self.wfile.flush()
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.close_connection = True

    # -- routes ---------------------------------------------------------------------------
    def _base(self) -> str:
        return f"http://{self.headers.get('Host')}"

    def _route(self, method: str, path: str, q: dict, body: bytes) -> tuple[int, Any, str]:
        fake = self.fake
        seg = [s for s in path.split("/") if s]
        if seg[:2] != ["api", "v2"]:
            raise _HTTPError(404, {"detail": "Not found."})
        seg = seg[2:]
        if seg == ["assets"] and method == "GET":
            return 200, self._asset_list(q), "application/json"
        if seg == ["organizations"] and method == "GET":
            rows = [{"id": oid, "name": f"Org {oid}", "url": f"{self._base()}/api/v2/organizations/{oid}/"}
                    for oid in fake.organizations]
            return 200, self._paginate(rows, q, "/api/v2/organizations/", 100, 100), "application/json"
        if seg == ["project-views"] and method == "GET":
            rows = [{"uid": vid, "name": f"View {vid}",
                     "assets": f"{self._base()}/api/v2/project-views/{vid}/assets/"}
                    for vid in fake.project_views]
            return 200, self._paginate(rows, q, "/api/v2/project-views/", 100, 100), "application/json"
        if len(seg) == 3 and seg[0] in ("organizations", "project-views") and seg[2] == "assets":
            uids = (fake.organizations if seg[0] == "organizations" else fake.project_views).get(seg[1])
            if uids is None:
                raise _HTTPError(404, {"detail": "Not found."})
            rows = [self._asset_row(fake.assets[u]) for u in uids]
            return 200, self._paginate(rows, q, path, 100, 100), "application/json"
        if seg == ["imports"] and method == "POST":
            return self._import_create(body)
        if len(seg) == 2 and seg[0] == "imports" and method == "GET":
            return self._import_get(seg[1])
        if len(seg) >= 2 and seg[0] == "assets":
            asset = fake.assets.get(seg[1])
            if asset is None:
                raise _HTTPError(404, {"detail": "Not found."})
            rest = seg[2:]
            if method in ("POST", "PATCH", "DELETE") and "change_asset" not in asset.perms:
                # kpi: a user who may view but not edit gets 403 (permissions.py:200-238)
                raise _HTTPError(403, {"detail": "You do not have permission to perform this action."})
            if not rest and method == "GET":
                return 200, self._asset_detail(asset), "application/json"
            if rest == ["data"] and method == "GET":
                if "view_submissions" not in asset.perms and asset.partial is None:
                    raise _HTTPError(404, {"detail": "Not found."})
                return 200, self._data(asset, q, path), "application/json"
            if len(rest) == 2 and rest[0] == "versions" and method == "GET":
                v = asset.versions.get(rest[1])
                if v is None:
                    raise _HTTPError(404, {"detail": "Not found."})
                return 200, {"uid": rest[1], "url": f"{self._base()}{path}", "content": v,
                             "date_deployed": "2026-05-01T00:00:00Z"}, "application/json"
            if rest and rest[0] == "files":
                return self._files(asset, method, rest[1:], q, body)
            if rest == ["deployment"]:
                return self._deployment(asset, method, body)
        raise _HTTPError(404, {"detail": "Not found."})

    def _asset_row(self, a: Asset) -> dict[str, Any]:
        full = "view_submissions" in a.perms and a.partial is None
        return {"url": f"{self._base()}/api/v2/assets/{a.uid}/", "uid": a.uid, "name": a.name,
                "asset_type": "survey", "owner__username": a.owner, "has_deployment": a.deployed,
                "deployment__active": a.deployed and a.active,
                "deployment__submission_count": (len(a.visible()) if a.deployed else 0) if full else None,
                "date_modified": "2026-05-02T03:14:15Z"}

    def _asset_list(self, q: dict) -> dict[str, Any]:
        rows = [self._asset_row(a) for a in self.fake.assets.values() if a.listed]
        return self._paginate(rows, q, "/api/v2/assets/", self.fake.asset_page_size,
                              self.fake.asset_page_size)

    def _paginate(self, rows: list, q: dict, path: str, default: int, cap: int) -> dict[str, Any]:
        try:
            limit = int(q.get("limit", default))
            start = int(q.get("start", q.get("offset", 0)))
        except ValueError:
            raise _HTTPError(400, {"detail": "Invalid limit or start"}) from None
        if limit <= 0 or start < 0:
            raise _HTTPError(400, {"detail": "Invalid limit or start"})
        limit = min(limit, cap)
        page = rows[start: start + limit]

        def link(s: int) -> str:
            return f"{self._base()}{path}?{urlencode({**q, 'limit': limit, 'start': s})}"

        return {"count": len(rows),
                "next": link(start + limit) if start + limit < len(rows) else None,
                "previous": link(max(0, start - limit)) if start > 0 else None,
                "results": page}

    def _asset_detail(self, a: Asset) -> dict[str, Any]:
        out = self._asset_row(a)
        base = self._base()
        out.update({
            "content": a.content, "version_id": a.version_id,
            "deployed_version_id": a.deployed_version_id if a.deployed else None,
            "summary": {"languages": a.content.get("translations", [])},
            "data": f"{base}/api/v2/assets/{a.uid}/data/",
            "deployment__links": ({"url": f"https://ee.example/{a.uid}",
                                   "offline_url": f"https://ee.example/x/{a.uid}"}
                                  if a.deployed and a.active and a.enketo else {}),
            "deployed_versions": {"count": 1, "results": [{"uid": a.deployed_version_id}]},
        })
        return out

    def _data(self, a: Asset, q: dict, path: str) -> dict[str, Any]:
        if q.get("format", "json") != "json":
            raise _HTTPError(400, {"detail": "format"})
        subs = sorted(a.visible(), key=lambda s: s["_id"])
        if "query" in q:
            try:
                query = json.loads(q["query"])
            except ValueError:
                raise _HTTPError(400, {"query": "Value must be valid JSON."}) from None
            subs = [s for s in subs if _matches(s, query)]
        if "sort" in q:
            try:
                sort = json.loads(q["sort"])
            except ValueError:
                raise _HTTPError(400, {"sort": "Value must be valid JSON."}) from None
            for key, direction in reversed(list(sort.items())):
                subs.sort(key=lambda s: s.get(key), reverse=direction == -1)
        if "fields" in q:
            try:
                fields = json.loads(q["fields"])
            except ValueError:
                raise _HTTPError(400, {"fields": "Value must be valid JSON."}) from None
            keep = set(fields) | {"_id", "_uuid", "meta/rootUuid"}
            subs = [{k: v for k, v in s.items() if k in keep} for s in subs]
        return self._paginate(subs, q, path, self.fake.default_limit, self.fake.max_limit)

    def _files(self, a: Asset, method: str, rest: list[str], q: dict, body: bytes) -> tuple[int, Any, str]:
        base = self._base()

        def row(f: dict) -> dict:
            md5 = hashlib.md5(f["data"]).hexdigest()
            return {"uid": f["uid"], "url": f"{base}/api/v2/assets/{a.uid}/files/{f['uid']}/",
                    "asset": f"{base}/api/v2/assets/{a.uid}/", "file_type": f["file_type"],
                    "description": f.get("description", "default"), "date_created": "2026-05-01T00:00:00Z",
                    "content": f"{base}/api/v2/assets/{a.uid}/files/{f['uid']}/content/",
                    "metadata": {"filename": f["filename"], "hash": f"md5:{md5}", "mimetype": "text/csv"}}

        if not rest and method == "GET":
            files = [f for f in a.files if "file_type" not in q or f["file_type"] == q["file_type"]]
            return 200, self._paginate([row(f) for f in files], q, f"/api/v2/assets/{a.uid}/files/",
                                       100, 1000), "application/json"
        if not rest and method == "POST":
            fields = _multipart(self.headers.get("Content-Type", ""), body)
            if "content" not in fields or "file_type" not in fields or "description" not in fields:
                raise _HTTPError(400, {"detail": "content, file_type and description are required"})
            filename, data = fields["content"]
            meta = json.loads(fields.get("metadata", (None, b"{}"))[1] or b"{}")
            filename = filename or meta.get("filename")
            if any(f["filename"] == filename for f in a.files):
                raise _HTTPError(400, {"content": "File already exists"})
            f = {"uid": "af" + uuidlib.uuid4().hex[:10], "filename": filename, "data": data,
                 "file_type": fields["file_type"][1].decode(),
                 "description": fields["description"][1].decode()}
            a.files.append(f)
            return 201, row(f), "application/json"
        f = next((f for f in a.files if rest and f["uid"] == rest[0]), None)
        if f is None:
            raise _HTTPError(404, {"detail": "Not found."})
        if rest[1:] == ["content"] and method == "GET":
            return 200, f["data"], "text/csv"
        if len(rest) == 1 and method == "DELETE":
            a.files.remove(f)
            return 204, b"", "application/json"
        if len(rest) == 1 and method == "GET":
            return 200, row(f), "application/json"
        raise _HTTPError(405, {"detail": "Method not allowed."})

    def _deployment(self, a: Asset, method: str, body: bytes) -> tuple[int, Any, str]:
        data = json.loads(body or b"{}")
        if method == "POST":
            if a.deployed:
                raise _HTTPError(405, {"detail": "Use PATCH to update an existing deployment"})
            a.deployed, a.active, a.deployed_version_id = True, bool(data.get("active", False)), a.version_id
        elif method == "PATCH":
            if not a.deployed:
                raise _HTTPError(405, {"detail": "Use POST to create a new deployment"})
            if "version_id" in data and data["version_id"] != a.version_id:
                raise _HTTPError(500, {"detail": "Only the current version_id can be deployed"})
            a.active = bool(data.get("active", a.active))
            if set(data) != {"active"}:
                a.deployed_version_id = a.version_id
        elif method == "GET":
            if not a.deployed:
                raise _HTTPError(404, {"detail": "Not found."})
        return 200, {"backend": "openrosa", "active": a.active, "version_id": a.deployed_version_id,
                     "asset": self._asset_detail(a)}, "application/json"

    def _import_create(self, body: bytes) -> tuple[int, Any, str]:
        fields = _multipart(self.headers.get("Content-Type", ""), body)
        if "file" not in fields:
            raise _HTTPError(400, {"detail": "file required"})
        iuid = "i" + uuidlib.uuid4().hex[:10]
        self.fake.imports[iuid] = {
            "polls": self.fake.import_polls, "library": fields.get("library", (None, b""))[1].decode(),
            "destination": fields.get("destination", (None, b""))[1].decode() or None,
            "name": fields.get("name", (None, b""))[1].decode(), "file": fields["file"][1]}
        return 201, {"uid": iuid, "url": f"{self._base()}/api/v2/imports/{iuid}/",
                     "status": "processing"}, "application/json"

    def _import_get(self, iuid: str) -> tuple[int, Any, str]:
        task = self.fake.imports.get(iuid)
        if task is None:
            raise _HTTPError(404, {"detail": "Not found."})
        url = f"{self._base()}/api/v2/imports/{iuid}/"
        if task["polls"] > 0:
            task["polls"] -= 1
            return 200, {"uid": iuid, "url": url, "status": "processing", "messages": {}}, "application/json"
        if "result" not in task:
            title, ok = _xlsx_title(task["file"])
            if not ok:
                task["result"] = {"status": "error", "messages": {"error": "not an XLSForm",
                                                                  "error_type": "SyntaxError"}}
            elif task["destination"] and "change_asset" not in self.fake.assets[
                    task["destination"].rstrip("/").split("/")[-1]].perms:
                # kpi raises PermissionDenied inside the import task (import_export_task.py:274-276)
                task["result"] = {"status": "error", "messages": {
                    "error": "You do not have permission to perform this action.", "error_type": "PermissionDenied"}}
            elif task["destination"]:
                uid = task["destination"].rstrip("/").split("/")[-1]
                a = self.fake.assets[uid]
                a.name = title  # kpi renames the project to form_title on every import
                a.version_id = "v" + uuidlib.uuid4().hex[:10]
                a.content = {**a.content, "settings": {**a.content.get("settings", {}), "version": a.version_id}}
                task["result"] = {"status": "complete", "messages": {"updated": [{"uid": uid, "kind": "asset"}]}}
            else:
                uid = "a" + uuidlib.uuid4().hex[:21]
                self.fake.add_asset(uid, title, {"survey": [], "choices": [], "translations": [None]},
                                    version_id="v" + uuidlib.uuid4().hex[:10], deployed=False, active=False)
                task["result"] = {"status": "complete", "messages": {"created": [{"uid": uid, "kind": "asset"}]}}
        return 200, {"uid": iuid, "url": url, **task["result"]}, "application/json"


class _HTTPError(Exception):
    def __init__(self, status: int, body: Any):
        super().__init__(status)
        self.status = status
        self.body = body


def _matches(sub: dict, query: dict) -> bool:
    for key, cond in query.items():
        value = sub.get(key)
        if isinstance(cond, dict):
            for op, arg in cond.items():
                if value is None:
                    return False
                ok = {"$gt": lambda: value > arg, "$gte": lambda: value >= arg,
                      "$lt": lambda: value < arg, "$lte": lambda: value <= arg,
                      "$ne": lambda: value != arg, "$in": lambda: value in arg}.get(op)
                if ok is None:
                    raise _HTTPError(400, {"detail": "Unsupported query"})
                if not ok():
                    return False
        elif value != cond:
            return False
    return True


def edit_submission(sub: dict[str, Any], changes: dict[str, Any] | None = None) -> None:
    """Edit ``sub`` in place as an Enketo edit does in kpi: same ``_id`` and ``meta/rootUuid``,
    a new ``_uuid`` and ``meta/instanceID``, the old instanceID as ``meta/deprecatedID``
    (kpi logger_tools.py:1116-1127, parsed_instance.py:297-313)."""
    new = str(uuidlib.uuid4())
    sub["meta/deprecatedID"] = sub["meta/instanceID"]
    sub["meta/instanceID"] = f"uuid:{new}"
    sub["_uuid"] = new
    sub.update(changes or {})


def _multipart(ctype: str, body: bytes) -> dict[str, tuple[str | None, bytes]]:
    msg = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
        b"Content-Type: " + ctype.encode() + b"\r\n\r\n" + body)
    out = {}
    for part in msg.iter_parts():
        name = part.get_param("name", header="content-disposition")
        out[name] = (part.get_filename(), part.get_payload(decode=True) or b"")
    return out


def _xlsx_title(data: bytes) -> tuple[str, bool]:
    try:
        from openpyxl import load_workbook

        wb = load_workbook(io.BytesIO(data), read_only=True)
        if "survey" not in wb.sheetnames:
            return "", False
        title = "Untitled"
        if "settings" in wb.sheetnames:
            rows = list(wb["settings"].iter_rows(values_only=True))
            if len(rows) > 1 and "form_title" in rows[0]:
                title = rows[1][list(rows[0]).index("form_title")] or title
        return str(title), True
    except Exception:  # noqa: BLE001
        return "", False


# --------------------------------------------------------------------------------------------
# API-shaped submissions built from asset content


def _tree(survey: list[dict[str, Any]]) -> list[dict[str, Any]]:
    root: list[dict[str, Any]] = []
    stack = [root]
    for row in survey:
        t = row.get("type")
        if t in ("end_group", "end_repeat"):
            stack.pop()
            continue
        node = {"row": row, "children": []}
        stack[-1].append(node)
        if t in ("begin_group", "begin_repeat"):
            stack.append(node["children"])
    return root


def make_submissions(content: dict[str, Any], n: int, *, start_id: int = 1, seed: int = 0,
                     version: str = "vAAA", uid: str = "aTEST", roster: list[str] | None = None,
                     skip_share: float = 0.1, validation_share: float = 0.3) -> list[dict[str, Any]]:
    """``n`` submissions shaped like ``GET /api/v2/assets/{uid}/data/`` results for this form."""
    rng = random.Random(seed)
    roster = roster or [f"r{i:03d}" for i in range(1, 41)]
    choices: dict[str, list[str]] = {}
    for c in content.get("choices", []):
        choices.setdefault(c["list_name"], []).append(c["name"])
    tree = _tree(content.get("survey", []))

    def fill(nodes: list[dict], out: dict[str, Any], depth: int) -> None:
        for node in nodes:
            row = node["row"]
            t = row.get("type")
            xp = row.get("$xpath") or row.get("name")
            if t == "begin_group":
                fill(node["children"], out, depth)
                continue
            if t == "begin_repeat":
                k = rng.randint(0, 3 if depth == 0 else 2)
                items = []
                for _ in range(k):
                    item: dict[str, Any] = {}
                    fill(node["children"], item, depth + 1)
                    items.append(item)
                if items:
                    out[xp] = items
                continue
            if t in ("note", None):
                continue
            required = row.get("required") is True
            if not required and t not in ("start", "end", "today") and rng.random() < skip_share:
                continue
            value = _value(rng, t, row, choices, roster)
            if value is not None:
                out[xp] = value

    subs = []
    for i in range(n):
        sid = start_id + i
        u = str(uuidlib.UUID(int=rng.getrandbits(128), version=4))
        sub: dict[str, Any] = {"_id": sid, "formhub/uuid": "e3a1f00dcafe", "__version__": version,
                               "meta/instanceID": f"uuid:{u}", "meta/rootUuid": f"uuid:{u}"}
        fill(tree, sub, 0)
        day = 1 + i % 28
        sub.update({
            "_xform_id_string": uid, "_uuid": u, "_attachments": [], "_status": "submitted_via_web",
            "_geolocation": [None, None],
            "_submission_time": f"2026-05-{day:02d}T{3 + i % 12:02d}:{i % 60:02d}:{(7 * i) % 60:02d}",
            "_tags": [], "_notes": [], "_submitted_by": "enum_kkn01",
            "_validation_status": ({"timestamp": 1777000000 + i, "uid": "validation_status_approved",
                                    "by_whom": "pkm_team", "label": "Approved"}
                                   if rng.random() < validation_share else {}),
        })
        subs.append(sub)
    return subs


def _value(rng: random.Random, t: str, row: dict, choices: dict, roster: list[str]) -> str | None:
    if t in ("start", "end"):
        return f"2026-05-0{rng.randint(1, 9)}T10:{rng.randint(10, 59)}:01.120+07:00"
    if t == "today":
        return f"2026-05-0{rng.randint(1, 9)}"
    if t == "select_one":
        return rng.choice(choices[row["select_from_list_name"]])
    if t == "select_multiple":
        names = choices[row["select_from_list_name"]]
        picked = [c for c in names if rng.random() < 0.4] or [names[0]]
        return " ".join(picked)
    if t == "select_one_from_file":
        return rng.choice(roster)
    if t == "select_multiple_from_file":
        picked = sorted(rng.sample(roster, rng.randint(0, 3)))
        return " ".join(picked) if picked else None
    if t == "integer":
        return str(rng.randint(0, 60))
    if t == "decimal":
        return str(rng.randint(0, 400) / 4)
    if t == "calculate":
        return rng.choice(["pendatang", "warga asli desa", "r007", "Siti Aminah"])
    if t == "text":
        return rng.choice(["warung kopi", "jahit; bordir", "12", "0812 3456"])
    return "x"
