"""A stand-in ODK Central (API v1) on 127.0.0.1, for the ODK source's tests.

Built from central-backend at 4f5943d13dd775fcecd2e21f9b8957db885d1ca3 (v2026.2.0-52); every
``path:line`` below is in that commit. It speaks what ``pipeline.sources.odk`` uses (through pyodk)
with Central's behaviour:

- ``POST /v1/sessions`` ``{email, password}`` → ``{token, csrf, expiresAt, createdAt}``; a wrong
  password is 401 ``{"message": …, "code": 401.2}`` (lib/resources/sessions.js:22-40,
  lib/util/problem.js:165); ``Authorization: Bearer <token>``, an unknown token is 401.2
  (lib/http/preprocessors.js:62-92); no credentials is the anonymous actor, refused with 403.1
  (lib/model/query/auth.js:88-93); a user without a role on the project gets 403.1, a form that does
  not exist 404.1 (getOrNotFound before canOrReject, lib/resources/forms.js:291-300); problem
  bodies are ``{message, code, details}`` (lib/http/endpoint.js:36-43);
- ``GET …/forms/{id}`` (lib/model/frames/form.js:50-110: ``version``, ``enketoId``,
  ``publishedAt`` …), ``…/versions/{v}.xml`` (published versions only, forms.js:388-399),
  ``…/attachments`` and ``…/attachments/{name}`` of the published version (forms.js:332-345,
  frames.js:114-137: ``name, type, hash, exists, blobExists``);
- OData ``…/forms/{id}.svc/Submissions`` (lib/resources/odata.js:61-92): newest first
  (``createdAt DESC, id DESC``, lib/model/query/submissions.js:25); ``$top``; ``$skip`` (only
  without ``$skiptoken``); ``$count``; server paging with ``@odata.nextLink`` carrying
  ``$skiptoken`` = ``01`` + base64 JSON ``{"instanceId"}`` (lib/util/odata.js:39-56,
  lib/util/db.js:349-364), a cursor by (createdAt, id) that still works when its submission was
  deleted (submissions.js:268-283); ``$filter`` on ``__id`` and ``__system/{submissionDate,
  updatedAt, reviewState, submitterId, deletedAt}`` (lib/data/submission.js:352-361) with
  ``eq ne gt ge lt le and or`` (lib/data/odata-filter.js:65-107); deleted submissions left out
  unless the filter names ``__system/deletedAt`` (odata-filter.js:116-150); ``$expand=*`` (and
  nothing else: 501.6) nests repeats, without it a repeat is only its ``@odata.navigationLink``
  (lib/data/odata.js:210-247); ``$select`` of ``__id``, ``__system/…`` and form fields, never
  with ``$expand`` (501.11) (lib/http/endpoint.js:353-387); an unknown query option is 501.1;
- each row: the published version's fields only, ``null`` when unanswered, ``int`` and
  ``decimal`` as numbers, ``__id`` (the first instanceID), ``__system`` with ``submissionDate,
  updatedAt, submitterId, submitterName, attachmentsPresent, attachmentsExpected, status,
  reviewState, deviceId, edits, formVersion, deletedAt`` (lib/data/odata.js:54-67, 140-175, 254-336);
- ``GET …/submissions/{instanceId}.xml`` the current version's XML (submissions.js:466-470);
- edits: a new XML with a new ``meta/instanceID`` and ``meta/deprecatedID``, ``reviewState`` set
  to ``edited`` and ``updatedAt`` to now, ``__id`` unchanged (lib/model/query/submissions.js:96-113);
  review (``PATCH``) changes ``reviewState`` (submissions.js:168, lib/resources/submissions.js:311-317);
  deletion is soft: ``deletedAt`` is set (lib/util/db.js:161-165, resources/submissions.js:319-325);
- forms: ``POST …/forms`` with an XLSForm (pyxform converts it, as Central's pyxform-http does)
  makes a draft, ``?publish=true`` publishes it; an xmlFormId that exists is 409.3
  (forms.js:128-137, problem.js:220); ``POST …/draft`` makes a new draft, copying the attachments
  forward (forms.js:139-159); ``POST …/draft/attachments/{name}`` takes the body, chunked or not,
  and is 404 for a name the form does not load (forms.js:449-461); ``POST …/draft/publish
  ?version=`` publishes, 409.6 for a version published before (forms.js:161-183, problem.js:230).

Faults (``FakeCentral.fault``, the kobo stand-in's :class:`Fault`): a status (500, 502, 503,
504, 429), ``slow`` (answer after a delay), ``drop`` (close the socket half-way) and ``html`` (a
200 web page: a hotspot's login page).

Where it differs from Central (what the tests therefore do not check):

1. Roles: one per user and project, ``manager`` (everything) or ``viewer`` (read); no app users,
   public links or Data Collectors; no entities, encryption, audits or Enketo (``enketoId`` is
   made up and ``/-/{enketoId}`` is not served).
2. ``$orderby``, ``$search`` and ``$wkt`` are accepted and ignored (Central sorts by
   ``$orderby``, and refuses it together with ``$skiptoken``: 501, lib/util/db.js:380-381);
   ``$top=0`` has no fast count path; the repeat tables (``Submissions.group.repeat``) and
   ``Submissions('…')`` are not served; ``$select`` takes ``__id``, ``__system/…`` and plain paths.
3. Soft-deleted submissions are never purged (Central purges after 30 days,
   lib/model/query/submissions.js:493-501); a submission is visible at once and its
   ``createdAt`` is the stand-in's clock, which ticks one second per change (a transaction that
   commits late is simulated by setting ``created_at`` back).
4. XLSForms are converted with pyxform without ODK Validate and never answer 400.16 (warnings);
   the XLSX of a form version is not served; attachments are CSV files only.
5. Submissions: only the current version's ``.xml``; no ``/versions``, ``/diffs``,
   ``/attachments`` or resubmission conflicts (409.1, 409.18); sessions never expire by themselves
   (a test clears ``sessions`` to end them).
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import socket
import tempfile
import threading
import time
import uuid as uuidlib
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Callable
from urllib.parse import parse_qsl, quote, unquote, urlencode, urlsplit

from pyxform.xls2xform import convert  # Central converts XLSForms with pyxform (pyxform-http)

from tests.kobo_server import Fault

SUPPORTED = {"$format", "$count", "$skip", "$top", "$filter", "$wkt", "$expand", "$select", "$skiptoken",
             "$orderby", "$search"}
FILTERABLE = {"__id": "instance_id", "__system/submissionDate": "created_at", "__system/updatedAt": "updated_at",
              "__system/submitterId": "submitter_id", "__system/reviewState": "review_state",
              "__system/deletedAt": "deleted_at"}


class Problem(Exception):
    def __init__(self, code: float, message: str, details: Any = None):
        super().__init__(message)
        self.code, self.message, self.details = code, message, details

    @property
    def status(self) -> int:
        return int(self.code)


NOT_FOUND = (404.1, "Could not find the resource you were looking for.")
NO_RIGHTS = (403.1, "The authentication you provided does not have rights to perform that action.")
AUTH_FAILED = (401.2, "Could not authenticate with the provided credentials.")


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def form_fields(xform: str) -> tuple[str, str, str, list[tuple[str, str, str]], list[str]]:
    """``(xmlFormId, version, title, [(path, kind, type)], attachment names)`` of an XForm.

    The stand-in's own reading (the code under test has another), enough for OData rows."""
    root = ET.fromstring(xform)
    model = next(e for e in root.iter() if _local(e.tag) == "model")
    data = next(e for e in model if _local(e.tag) == "instance" and "id" not in e.attrib)[0]
    binds = {e.get("nodeset"): e.get("type", "string") for e in model.iter() if _local(e.tag) == "bind"}
    repeats = {e.get("nodeset") for e in root.iter() if _local(e.tag) == "repeat"}
    out: list[tuple[str, str, str]] = []

    def walk(elem, path):
        for child in elem:
            p = f"{path}/{_local(child.tag)}"
            if any(x[0] == p for x in out):
                continue
            out.append((p, "repeat" if p in repeats else "structure" if len(child) else "field",
                        binds.get(p, "string")))
            walk(child, p)

    walk(data, "/" + _local(data.tag))
    title = next((e.text or "" for e in root.iter() if _local(e.tag) == "title"), "")
    files = sorted({e.get("src").rsplit("/", 1)[-1] for e in root.iter() if (e.get("src") or "").startswith("jr://")})
    return data.get("id"), data.get("version", ""), title, out, files


def set_version(xform: str, version: str) -> str:
    """The XForm with its instance's ``version`` attribute set (forms.js:170-172, setVersion)."""
    return re.sub(r'(<instance>\s*<[A-Za-z_][\w.-]*\s+id="[^"]*"\s+version=")[^"]*(")',
                  lambda m: m.group(1) + version + m.group(2), xform, count=1)


@dataclass
class Def:
    xml: str
    version: str
    fields: list[tuple[str, str, str]]
    expected: list[str]
    attachments: dict[str, bytes] = field(default_factory=dict)
    published_at: str | None = None


@dataclass
class CForm:
    project_id: int
    xml_form_id: str
    name: str
    created_at: str
    published: list[Def] = field(default_factory=list)
    draft: Def | None = None
    enketo_id: str = ""

    @property
    def current(self) -> Def | None:
        return self.published[-1] if self.published else None


@dataclass
class Sub:
    instance_id: str
    seq: int
    form_version: str
    xml: str
    created_at: str
    submitter_id: int | None
    submitter: str | None
    device_id: str | None = None
    updated_at: str | None = None
    deleted_at: str | None = None
    review_state: str | None = None
    edits: int = 0


class FakeCentral:
    """The stand-in Central; see the module docstring. Use as a context manager."""

    def __init__(self, *, users: dict[str, str] | None = None, roles: dict[tuple[str, int], str] | None = None):
        self.users = users or {"pkm@example.org": "rahasia-sekali"}
        self.roles = roles if roles is not None else {("pkm@example.org", 1): "manager"}
        self.sessions: dict[str, str] = {}
        self.forms: dict[tuple[int, str], CForm] = {}
        self.subs: dict[tuple[int, str], list[Sub]] = {}
        self.faults: list[Fault] = []
        self.requests: list[tuple[str, str, dict]] = []
        self.lock = threading.RLock()
        self.clock = datetime(2026, 5, 4, 1, 0, 0, tzinfo=timezone.utc)
        self.seq = 0
        self._httpd: ThreadingHTTPServer | None = None

    # -- time and set-up -----------------------------------------------------------------------
    def tick(self) -> str:
        self.clock += timedelta(seconds=1)
        return self.clock.strftime("%Y-%m-%dT%H:%M:%S.000Z")

    def add_form(self, project_id: int, xform: str, attachments: dict[str, bytes] | None = None,
                 publish: bool = True) -> CForm:
        fid, version, title, fields, expected = form_fields(xform)
        form = self.forms.get((project_id, fid)) or CForm(project_id, fid, title, self.tick(),
                                                           enketo_id=uuidlib.uuid4().hex[:10])
        self.forms[(project_id, fid)] = form
        d = Def(xform, version, fields, expected, dict(attachments or {}))
        if publish:
            d.published_at = self.tick()
            form.published.append(d)
        else:
            form.draft = d
        return form

    def submit(self, project_id: int, form_id: str, xml: str, *, submitter: str = "enum_pkm01",
               submitter_id: int = 7, device_id: str | None = "collect:abc") -> Sub:
        form = self.forms[(project_id, form_id)]
        root = ET.fromstring(xml)
        iid = next(e.text for e in root.iter() if _local(e.tag) == "instanceID")
        self.seq += 1
        sub = Sub(iid, self.seq, root.get("version") or form.current.version, xml, self.tick(), submitter_id,
                  submitter, device_id)
        self.subs.setdefault((project_id, form_id), []).append(sub)
        return sub

    def find(self, project_id: int, form_id: str, instance_id: str) -> Sub:
        return next(s for s in self.subs[(project_id, form_id)] if s.instance_id == instance_id)

    def edit(self, project_id: int, form_id: str, instance_id: str, change: Callable[[ET.Element], None]) -> str:
        """Edit a submission as Enketo does: new instanceID, deprecatedID, reviewState edited."""
        sub = self.find(project_id, form_id, instance_id)
        root = ET.fromstring(sub.xml)
        change(root)
        meta = next(e for e in root if _local(e.tag) == "meta")
        old = next(e for e in meta if _local(e.tag) == "instanceID")
        dep = next((e for e in meta if _local(e.tag) == "deprecatedID"), None)
        if dep is None:
            dep = ET.SubElement(meta, "deprecatedID")
        dep.text, old.text = old.text, f"uuid:{uuidlib.uuid4()}"
        sub.xml = ET.tostring(root, encoding="unicode")
        sub.review_state, sub.updated_at, sub.edits = "edited", self.tick(), sub.edits + 1
        return old.text

    def review(self, project_id: int, form_id: str, instance_id: str, state: str) -> None:
        sub = self.find(project_id, form_id, instance_id)
        sub.review_state, sub.updated_at = state, self.tick()

    def delete(self, project_id: int, form_id: str, instance_id: str) -> None:
        self.find(project_id, form_id, instance_id).deleted_at = self.tick()

    def fault(self, match: str | Callable, kind: str, **kw: Any) -> Fault:
        f = Fault(match=match, kind=str(kind), **kw)
        self.faults.append(f)
        return f

    def odata_requests(self) -> list[dict]:
        return [q for m, p, q in self.requests if p.endswith(".svc/Submissions")]

    # -- lifecycle -----------------------------------------------------------------------------
    def start(self) -> "FakeCentral":
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

    def __enter__(self) -> "FakeCentral":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}"


# ------------------------------------------------------------------------------------------------
# OData rows (lib/data/odata.js)


def _typed(text: str, kind: str) -> Any:
    """A leaf's XML text as Central's OData writes it (lib/data/odata.js:254-336)."""
    if kind == "int":
        return int(text)
    if kind == "decimal":
        return float(text)
    if kind == "dateTime":
        t = text.strip()
        return f"{t}:00" if re.search(r"[+-]\d\d$", t) else t
    return text


def odata_row(sub: Sub, form: CForm, expand: bool) -> dict[str, Any]:
    """The OData row of a submission with the published version's fields (lib/data/odata.js)."""
    fields = {p: (k, t) for p, k, t in form.current.fields}
    root_name = form.current.fields[0][0].split("/")[1]

    def frame(prefix: str) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for p, (kind, _) in fields.items():
            parent, _, name = p.rpartition("/")
            if parent == prefix and kind == "field":
                out[name] = None
            elif parent == prefix and kind == "structure":
                out[name] = frame(p)
        return out

    def fill(elem: ET.Element, prefix: str, bag: dict[str, Any], nav: str) -> None:
        counts: dict[str, int] = {}
        for child in elem:
            name = _local(child.tag)
            p = f"{prefix}/{name}"
            if p not in fields:
                continue  # not in the published version's schema: Central leaves it out
            kind, typ = fields[p]
            if kind == "repeat":
                counts[name] = counts.get(name, 0) + 1
                bag[f"{name}@odata.navigationLink"] = f"{nav}/{name}"
                if expand:
                    item = frame(p)
                    item["__id"] = hashlib.sha1(f"{sub.instance_id}%%{p}#{counts[name]}".encode()).hexdigest()
                    fill(child, p, item, nav)
                    bag.setdefault(name, []).append(item)
            elif kind == "structure":
                fill(child, p, bag.setdefault(name, {}), nav)
            elif (child.text or "") != "":
                bag[name] = _typed(child.text, typ)

    row = frame(f"/{root_name}")
    row["__id"] = sub.instance_id
    row["__system"] = {"submissionDate": sub.created_at, "updatedAt": sub.updated_at,
                       "submitterId": None if sub.submitter_id is None else str(sub.submitter_id),
                       "submitterName": sub.submitter, "attachmentsPresent": 0, "attachmentsExpected": 0,
                       "status": None, "reviewState": sub.review_state, "deviceId": sub.device_id,
                       "edits": sub.edits, "formVersion": sub.form_version, "deletedAt": sub.deleted_at}
    fill(ET.fromstring(sub.xml), f"/{root_name}", row, f"Submissions('{quote(sub.instance_id)}')")
    return row


def _select(row: dict[str, Any], select: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for prop in (p.strip() for p in select.split(",")):
        if prop == "__id":
            out["__id"] = row["__id"]
        elif prop.startswith("__system/"):
            out.setdefault("__system", {})[prop.split("/", 1)[1]] = row["__system"][prop.split("/", 1)[1]]
        else:
            src, dst, parts = row, out, prop.split("/")
            for part in parts[:-1]:
                if not isinstance(src.get(part), dict):
                    raise Problem(400.23, f"Could not find a property named '{prop}'")
                src, dst = src[part], dst.setdefault(part, {})
            if parts[-1] not in src:
                raise Problem(400.23, f"Could not find a property named '{prop}'")
            dst[parts[-1]] = src[parts[-1]]
    return out


def _when(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _compare(sub: Sub, clause: str) -> bool:
    m = re.fullmatch(r"\s*(\S+)\s+(eq|ne|gt|ge|lt|le)\s+(.+?)\s*", clause)
    if not m:
        raise Problem(400.18, f"The OData filter expression you provided could not be parsed: {clause}")
    name, op, literal = m.groups()
    if name not in FILTERABLE:  # odata-filter.js:67-71
        raise Problem(501.5, f"The given OData filter expression references fields not supported by this server: {name}")
    value = getattr(sub, FILTERABLE[name])
    right = None if literal == "null" else literal[1:-1] if literal.startswith("'") else literal
    if name.startswith("__system/") and name != "__system/reviewState" and right is not None and value is not None:
        value, right = _when(value), _when(right)
    if op in ("eq", "ne"):
        return (value == right) == (op == "eq")
    if value is None or right is None:
        return False
    return {"gt": value > right, "ge": value >= right, "lt": value < right, "le": value <= right}[op]


def _matches(sub: Sub, expr: str | None) -> bool:
    if not expr:
        return True
    return any(all(_compare(sub, c) for c in re.split(r"\s+and\s+", alt)) for alt in re.split(r"\s+or\s+", expr))


def skiptoken(instance_id: str) -> str:
    return "01" + base64.b64encode(json.dumps({"instanceId": instance_id}).encode()).decode()


# ------------------------------------------------------------------------------------------------
# HTTP


class _Handler(BaseHTTPRequestHandler):
    fake: FakeCentral
    protocol_version = "HTTP/1.1"

    def log_message(self, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def do_PATCH(self) -> None:
        self._dispatch("PATCH")

    def _body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":  # pyodk's attachment upload
            out = b""
            while True:
                size = int(self.rfile.readline().strip().split(b";")[0], 16)
                if size == 0:
                    self.rfile.readline()
                    return out
                out += self.rfile.read(size)
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _dispatch(self, method: str) -> None:
        fake = self.fake
        parts = urlsplit(self.path)
        query = dict(parse_qsl(parts.query, keep_blank_values=True))
        body = self._body()
        with fake.lock:
            fake.requests.append((method, parts.path, query))
            fault = next((f for f in fake.faults if f.applies(method, parts.path, query)), None)
        if fault is not None and fault.kind.isdigit():
            return self._json(int(fault.kind), {"message": f"injected {fault.kind}", "code": float(fault.kind)})
        if fault is not None and fault.kind == "html":
            return self._send(200, b"<!DOCTYPE html><html><body>Login to Wi-Fi</body></html>", "text/html")
        if fault is not None and fault.kind == "slow":
            time.sleep(fault.delay)
        try:
            with fake.lock:
                status, payload, ctype = self._route(method, parts.path, query, body)
        except Problem as exc:
            return self._json(exc.status, {"message": exc.message, "code": exc.code, "details": exc.details})
        data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        if fault is not None and fault.kind == "drop":
            return self._drop(status, data, ctype)
        self._send(status, data, ctype)

    def _send(self, status: int, data: bytes, ctype: str) -> None:
        try:
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
            self.wfile.flush()
        except OSError:
            self.close_connection = True

    def _json(self, status: int, body: Any) -> None:
        self._send(status, json.dumps(body).encode(), "application/json")

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

    # -- auth ----------------------------------------------------------------------------------
    def _actor(self) -> str | None:
        header = self.headers.get("Authorization") or ""
        if not header:
            return None  # the anonymous actor (auth.js:88-93)
        if not header.startswith("Bearer ") or header[7:] not in self.fake.sessions:
            raise Problem(*AUTH_FAILED)
        return self.fake.sessions[header[7:]]

    def _form(self, project: str, form_id: str, verb: str = "read") -> CForm:
        form = self.fake.forms.get((int(project), form_id)) if project.isdigit() else None
        if form is None:
            raise Problem(*NOT_FOUND)
        role = self.fake.roles.get((self._actor(), form.project_id))
        if role is None or (verb == "update" and role != "manager"):
            raise Problem(*NO_RIGHTS)
        return form

    # -- routes --------------------------------------------------------------------------------
    def _route(self, method: str, path: str, q: dict, body: bytes) -> tuple[int, Any, str]:
        seg = [unquote(s) for s in path.split("/") if s]  # express decodes the path's parameters
        if not seg or seg[0] != "v1":
            raise Problem(404.2, "Expected an API version (eg /v1) at the start of the request URL.")
        seg = seg[1:]
        if seg == ["sessions"] and method == "POST":
            return self._login(body)
        if seg == ["users", "current"]:
            actor = self._actor()
            if actor is None:
                raise Problem(*NOT_FOUND)
            return 200, {"email": actor, "displayName": actor}, "application/json"
        if len(seg) >= 3 and seg[0] == "projects" and seg[2] == "forms":
            return self._forms(method, seg[1], seg[3:], q, body)
        raise Problem(*NOT_FOUND)

    def _login(self, body: bytes) -> tuple[int, Any, str]:
        creds = json.loads(body or b"{}")
        if not creds.get("email") or not creds.get("password"):
            raise Problem(400.3, "Required parameters missing.", {"expected": ["email", "password"]})
        if self.fake.users.get(creds["email"]) != creds["password"]:
            raise Problem(*AUTH_FAILED)
        token = uuidlib.uuid4().hex + uuidlib.uuid4().hex
        self.fake.sessions[token] = creds["email"]
        return 200, {"token": token, "csrf": uuidlib.uuid4().hex, "createdAt": self.fake.tick(),
                     "expiresAt": "2026-12-31T00:00:00.000Z"}, "application/json"

    def _forms(self, method: str, project: str, rest: list[str], q: dict, body: bytes) -> tuple[int, Any, str]:
        if not rest and method == "POST":
            return self._create(project, q, body)
        if not rest:
            raise Problem(*NOT_FOUND)
        name = rest[0]
        if name.endswith(".svc"):
            form = self._form(project, name[:-4])
            if rest[1:] != ["Submissions"]:
                raise Problem(*NOT_FOUND)
            return 200, self._odata(form, q), "application/json"
        form = self._form(project, name, "update" if method == "POST" else "read")
        tail = rest[1:]
        if not tail and method == "GET":
            return 200, self._form_json(form), "application/json"
        if len(tail) == 2 and tail[0] == "versions" and tail[1].endswith(".xml"):
            d = next((d for d in form.published if d.version == tail[1][:-4]), None)
            if d is None:
                raise Problem(*NOT_FOUND)
            return 200, d.xml.encode(), "text/xml"
        if tail == ["attachments"] and form.current:
            return 200, [self._attachment(n, form.current) for n in form.current.expected], "application/json"
        if len(tail) == 2 and tail[0] == "attachments" and form.current:
            data = form.current.attachments.get(tail[1])
            if data is None:
                raise Problem(*NOT_FOUND)
            return 200, data, "text/csv"
        if len(tail) == 2 and tail[0] == "submissions" and tail[1].endswith(".xml"):
            sub = next((s for s in self.fake.subs.get((form.project_id, form.xml_form_id), [])
                        if s.instance_id == tail[1][:-4] and s.deleted_at is None), None)
            if sub is None:
                raise Problem(*NOT_FOUND)
            return 200, sub.xml.encode(), "text/xml"
        if method == "POST":
            return self._draft(form, tail, q, body)
        raise Problem(*NOT_FOUND)

    def _attachment(self, name: str, d: Def) -> dict[str, Any]:
        data = d.attachments.get(name)
        row = {"name": name, "type": "file", "exists": data is not None, "blobExists": data is not None,
               "datasetExists": False}
        if data is not None:
            row.update(hash=hashlib.md5(data).hexdigest(), size=len(data), updatedAt=self.fake.clock.isoformat())
        return row

    def _form_json(self, form: CForm) -> dict[str, Any]:
        d = form.current or form.draft
        return {"projectId": form.project_id, "xmlFormId": form.xml_form_id, "name": form.name,
                "version": d.version, "hash": hashlib.md5(d.xml.encode()).hexdigest(), "keyId": None,
                "state": "open", "enketoId": form.enketo_id if form.current else None, "enketoOnceId": None,
                "createdAt": form.created_at, "updatedAt": None, "webformsEnabled": False,
                "publishedAt": form.current.published_at if form.current else None}

    @staticmethod
    def _xform(body: bytes, fallback: str | None) -> str:
        if body[:2] != b"PK":
            return body.decode("utf-8")
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / f"{fallback or 'form'}.xlsx"
            path.write_bytes(body)
            try:
                return convert(str(path), validate=False).xform
            except Exception as exc:  # noqa: BLE001 — Central answers 400.15 with pyxform's message
                raise Problem(400.15, "The given XLSForm file was not valid.", {"error": str(exc)}) from None

    def _create(self, project: str, q: dict, body: bytes) -> tuple[int, Any, str]:
        if not project.isdigit() or self.fake.roles.get((self._actor(), int(project))) != "manager":
            raise Problem(*NO_RIGHTS)
        xform = self._xform(body, self.headers.get("X-XlsForm-FormId-Fallback"))
        fid = form_fields(xform)[0]
        if (int(project), fid) in self.fake.forms:  # forms.js:128-137 → uniqueness (problem.js:220)
            raise Problem(409.3, f"A resource already exists with xmlFormId value(s) of {fid}.")
        form = self.fake.add_form(int(project), xform, publish=str(q.get("publish", "")).lower() == "true")
        return 200, self._form_json(form), "application/json"

    def _draft(self, form: CForm, tail: list[str], q: dict, body: bytes) -> tuple[int, Any, str]:
        if tail == ["draft"]:
            xform = self._xform(body, form.xml_form_id) if body else form.current.xml
            _, version, _, fields, expected = form_fields(xform)
            carried = {n: b for n, b in (form.current.attachments if form.current else {}).items() if n in expected}
            form.draft = Def(xform, version, fields, expected, carried)
            return 200, {"success": True}, "application/json"
        if form.draft is None:
            raise Problem(*NOT_FOUND)
        if len(tail) == 3 and tail[:2] == ["draft", "attachments"]:
            if tail[2] not in form.draft.expected:
                raise Problem(*NOT_FOUND)
            form.draft.attachments[tail[2]] = body
            return 200, self._attachment(tail[2], form.draft), "application/json"
        if tail == ["draft", "publish"]:
            d = form.draft
            if q.get("version"):
                d = Def(set_version(d.xml, q["version"]), q["version"], d.fields, d.expected, d.attachments)
            if any(p.version == d.version for p in form.published):
                raise Problem(409.6, f"You tried to publish the form '{form.xml_form_id}' with version "
                                     f"'{d.version}', but a published form has already existed in this project "
                                     "with those identifiers.")
            d.published_at = self.fake.tick()
            form.published.append(d)
            form.draft = None
            return 200, {"success": True}, "application/json"
        raise Problem(*NOT_FOUND)

    def _odata(self, form: CForm, q: dict) -> dict[str, Any]:
        for key in q:
            if key not in SUPPORTED:
                raise Problem(501.1, f"The requested feature {key} is not supported by this server.")
        if q.get("$expand") and q["$expand"] != "*":
            raise Problem(501.6, f'The given OData expand expression is not supported by this server: "{q["$expand"]}".')
        if q.get("$expand") and q.get("$select"):
            raise Problem(501.11, "This server doesn't support $select query parameter with $expand.")
        expr = q.get("$filter")
        subs = [s for s in self.fake.subs.get((form.project_id, form.xml_form_id), [])
                if (s.deleted_at is None or "__system/deletedAt" in (expr or "")) and _matches(s, expr)]
        subs.sort(key=lambda s: (s.created_at, s.seq), reverse=True)
        count = len(subs)
        if q.get("$skiptoken"):
            token = q["$skiptoken"]
            try:
                iid = json.loads(base64.b64decode(token[2:]))["instanceId"]
                assert token.startswith("01")
            except Exception:  # noqa: BLE001
                raise Problem(400.35, "Invalid $skiptoken") from None
            cur = next((s for s in self.fake.subs.get((form.project_id, form.xml_form_id), [])
                        if s.instance_id == iid), None)
            subs = [] if cur is None else [s for s in subs if (s.created_at, s.seq) < (cur.created_at, cur.seq)]
        elif q.get("$skip"):
            subs = subs[int(q["$skip"]):]
        top = int(q["$top"]) if q.get("$top") else len(subs)
        page = subs[:top]
        rows = [odata_row(s, form, q.get("$expand") == "*") for s in page]
        if q.get("$select"):
            rows = [_select(r, q["$select"]) for r in rows]
        base = f"http://{self.headers.get('Host')}/v1/projects/{form.project_id}/forms/{form.xml_form_id}.svc"
        out: dict[str, Any] = {"value": rows, "@odata.context": f"{base}/$metadata#Submissions"}
        if len(subs) > len(page) and page:
            nxt = {k: v for k, v in q.items() if k != "$skip"}
            nxt["$skiptoken"] = skiptoken(page[-1].instance_id)
            out["@odata.nextLink"] = f"{base}/Submissions?{urlencode(nxt)}"
        if str(q.get("$count", "")).lower() == "true":  # isTrue, lib/util/http.js:23
            out["@odata.count"] = count
        return out


def submission_xml(form_id: str, version: str, answers: dict[str, Any], *, root: str = "data") -> str:
    """A submission's XML from KoboToolbox-shaped answers (xpath keys, repeats as lists of dicts
    with full-path keys), as Collect would send it."""
    top = ET.Element(root, {"id": form_id, "version": version})

    def node(parent: ET.Element, parts: list[str]) -> ET.Element:
        for part in parts:
            found = next((c for c in parent if c.tag == part), None)
            parent = found if found is not None else ET.SubElement(parent, part)
        return parent

    for key, value in answers.items():
        if key.startswith("_") or key in ("formhub/uuid",):
            continue
        parts = key.split("/")
        if isinstance(value, list):
            parent = node(top, parts[:-1])
            for row in value:
                rep = ET.SubElement(parent, parts[-1])
                for k, v in row.items():
                    node(rep, k.split("/")[len(parts):]).text = str(v)
        else:
            node(top, parts).text = str(value)
    return ET.tostring(top, encoding="unicode")
