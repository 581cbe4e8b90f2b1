"""ODK Central data → what the rest of sinergi reads: pure functions, no network.

ODK Central serves a form's submissions as OData JSON (``…/forms/{id}.svc/Submissions``): groups
are nested objects, repeats nested arrays (``$expand=*``), integers and decimals JSON numbers,
unanswered fields ``null``, and each row carries ``__id`` (the submission's first instanceID,
stable across edits) and ``__system`` (submissionDate, updatedAt, submitterName, reviewState,
formVersion, edits, deletedAt, …) — central-backend lib/data/odata.js:110-175, 198-336. Central
builds those rows with the fields of the form's *published* version (lib/resources/odata.js:70),
so a submission made with another version is read from its own XML
(``…/submissions/{id}.xml``) with that version's XForm instead (:func:`xml_submission`).

Both give the dicts ``GET /api/v2/assets/{uid}/data/`` of KoboToolbox returns — the shape tidy
reads: keys are xpaths without the root (``profil/umur``), every answer a string (``"41"``),
unanswered questions absent, repeats lists of dicts with full-path keys, and:

==========================  ==============================================================
KoboToolbox key             from ODK Central
==========================  ==============================================================
``_id``                     ``__id`` (the first instanceID; edits keep it)
``_uuid``                   the current ``meta/instanceID`` without ``uuid:``
``meta/instanceID``         the current instanceID (an edit gets a new one)
``meta/rootUuid``           ``__id``
``meta/deprecatedID``       from the XML, when the submission was read from it
``_submission_time``        ``__system/submissionDate`` in UTC, to the second
``_submitted_by``           ``__system/submitterName`` (the app user, i.e. the enumerator)
``__version__``             ``__system/formVersion``
``_validation_status``      ``__system/reviewState``: ``approved`` → Approved, ``rejected`` →
                            Not Approved, ``hasIssues`` → On Hold; ``edited`` and none → ``{}``
                            (not reviewed since), so the study's ``validation`` option applies
                            to ODK as to KoboToolbox
==========================  ==============================================================

:func:`replay` turns a wave's record files (OData pages and light sweeps, see
:mod:`pipeline.sources.odk`) into the wave's current submissions and the events on the way
(edits, review changes, deletions), with the contract of :func:`pipeline.sources.raw.replay`.
"""

from __future__ import annotations

import hashlib
import re
import xml.etree.ElementTree as ET
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from ..errors import SinergiError
from ..io import read_json

#: ODK review state → KoboToolbox validation status (``_validation_status``)
REVIEW_STATUS = {
    "approved": {"uid": "validation_status_approved", "label": "Approved"},
    "rejected": {"uid": "validation_status_not_approved", "label": "Not Approved"},
    "hasIssues": {"uid": "validation_status_on_hold", "label": "On Hold"},
}
#: XForm bind types → KoboToolbox content types (what tidy and the export reader look at)
_TYPES = {"int": "integer", "decimal": "decimal", "date": "date", "dateTime": "dateTime", "string": "text",
          "select1": "select_one", "select": "select_multiple", "geopoint": "geopoint", "binary": "file"}


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _parse_xml(xml: str | bytes, where: str) -> ET.Element:
    try:
        return ET.fromstring(xml.encode("utf-8") if isinstance(xml, str) else xml)
    except ET.ParseError as exc:
        raise SinergiError(f"{where}: not valid XML ({exc})") from None


# --------------------------------------------------------------------------------------------
# XForms


def xform_schema(xml: str | bytes, where: str = "form") -> dict[str, Any]:
    """The fields of an XForm (what Central serves at ``…/versions/{v}.xml``).

    Returns
    -------
    dict
        ``form_id``, ``version``, ``title``, ``root`` (the instance's root element name),
        ``attachments`` (file names the form loads, e.g. ``roster.csv``) and ``fields``: one
        ``{"path": xpath without the root, "name", "kind": "field" | "group" | "repeat",
        "type": the bind type (``string`` when none)}`` per instance node, in document order,
        a repeat once.
    """
    root = _parse_xml(xml, where)
    model = next((e for e in root.iter() if _local(e.tag) == "model"), None)
    primary = next((e for e in (model if model is not None else []) if _local(e.tag) == "instance"
                    and "id" not in e.attrib), None)
    if primary is None or not len(primary):
        raise SinergiError(f"{where}: not an XForm (no primary instance in its model)")
    data = primary[0]
    name = _local(data.tag)
    binds = {e.get("nodeset", ""): e.get("type", "string") for e in model.iter() if _local(e.tag) == "bind"}
    repeats = {e.get("nodeset", "").strip() for e in root.iter() if _local(e.tag) == "repeat"}
    fields: list[dict[str, str]] = []
    seen: set[str] = set()

    def walk(elem: ET.Element, path: str) -> None:
        for child in elem:
            cpath = f"{path}/{_local(child.tag)}"
            if cpath in seen:  # pyxform writes a repeat twice: its template and a first instance
                continue
            seen.add(cpath)
            kind = "repeat" if cpath in repeats else ("group" if len(child) else "field")
            fields.append({"path": cpath.split("/", 2)[2], "name": _local(child.tag), "kind": kind,
                           "type": binds.get(cpath, "string")})
            walk(child, cpath)

    walk(data, f"/{name}")
    files = sorted({m.split("/")[-1] for e in root.iter() for m in [e.get("src", "")]
                    if m.startswith("jr://file")})
    title = next((e.text or "" for e in root.iter() if _local(e.tag) == "title"), "")
    return {"form_id": data.get("id", ""), "version": data.get("version", ""), "title": title, "root": name,
            "attachments": files, "fields": fields}


def xform_content(schema: dict[str, Any]) -> dict[str, Any]:
    """A form version as KoboToolbox's asset ``content`` (the part tidy reads a version with):
    ``survey`` rows with ``name``, ``type`` and ``$xpath``, groups and repeats opened and closed.

    >>> xform_content({"fields": [{"path": "g", "name": "g", "kind": "group", "type": "string"},
    ...                           {"path": "g/q", "name": "q", "kind": "field", "type": "int"}]})["survey"]
    [{'type': 'begin_group', 'name': 'g', '$xpath': 'g'}, {'type': 'integer', 'name': 'q', '$xpath': 'g/q'}, {'type': 'end_group'}]
    """
    survey: list[dict[str, str]] = []
    open_: list[tuple[str, str]] = []
    for f in schema["fields"]:
        while open_ and not f["path"].startswith(open_[-1][0] + "/"):
            survey.append({"type": "end_" + open_.pop()[1]})
        if f["kind"] in ("group", "repeat"):
            survey.append({"type": f"begin_{f['kind']}", "name": f["name"], "$xpath": f["path"]})
            open_.append((f["path"], f["kind"]))
        else:
            survey.append({"type": _TYPES.get(f["type"], f["type"]), "name": f["name"], "$xpath": f["path"]})
    survey += [{"type": "end_" + kind} for _, kind in reversed(open_)]
    return {"survey": survey}


# --------------------------------------------------------------------------------------------
# submissions


def submission_time(value: str | None) -> str:
    """Central's ``2026-05-04T01:56:31.123Z`` as KoboToolbox's ``_submission_time`` (UTC, seconds).

    >>> submission_time("2026-05-04T08:56:31.999+07:00")
    '2026-05-04T01:56:31'
    """
    if not value:
        return ""
    when = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return when.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S")


def _text(value: Any) -> str | None:
    """An OData value as the XML text KoboToolbox would give (None: leave the key out)."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, dict) and "coordinates" in value:  # GeoJSON → "lat lon alt acc"
        coords = value["coordinates"]
        points = coords if value.get("type") == "LineString" else coords[0] if value.get("type") == "Polygon" \
            else [coords]
        return "; ".join(" ".join(_text(x) or "0" for x in [p[1], p[0], *p[2:]]) for p in points)
    return str(value)


def _flatten(obj: dict[str, Any], prefix: str, out: dict[str, Any], names: dict[str, str]) -> None:
    for key, value in obj.items():
        if key.startswith("__") or "@odata." in key:
            continue  # __id, __system, the parent-id of a repeat row, navigation links
        path = names.get(prefix + key, prefix + key)
        if isinstance(value, list):
            rows = []
            for item in value:
                row: dict[str, Any] = {}
                _flatten(item, path + "/", row, names)
                rows.append(row)
            if rows:
                out[path] = rows
        elif isinstance(value, dict) and "coordinates" not in value:
            _flatten(value, path + "/", out, names)
        else:
            text = _text(value)
            if text is not None:
                out[path] = text


def _system(sub: dict[str, Any], root_id: str, system: dict[str, Any]) -> dict[str, Any]:
    """The KoboToolbox meta keys from ``__id`` and ``__system`` (see the module docstring)."""
    iid = sub.get("meta/instanceID") or root_id
    sub["meta/instanceID"] = iid
    review = system.get("reviewState")
    return {"_id": root_id, "_uuid": iid.removeprefix("uuid:"), "meta/rootUuid": root_id,
            "_submission_time": submission_time(system.get("submissionDate")),
            "_submitted_by": system.get("submitterName"), "__version__": system.get("formVersion") or "",
            "_validation_status": dict(REVIEW_STATUS.get(review, {})), **sub}


def odata_submission(row: dict[str, Any], names: dict[str, str] | None = None) -> dict[str, Any]:
    """One OData row (``$expand=*``) as a KoboToolbox API submission (see the module docstring).

    ``names`` maps Central's OData names back to the form's (Central writes a name that is not an
    OData identifier, e.g. ``q-1``, as ``q_1``: lib/util/util.js:36-37); identity when omitted.

    >>> odata_submission({"__id": "uuid:a", "g": {"n": 4, "s": None}, "meta": {"instanceID": "uuid:b"},
    ...                   "__system": {"submissionDate": "2026-05-04T01:00:00.000Z", "reviewState": "rejected",
    ...                                "formVersion": "1", "submitterName": "enum1"}})["g/n"]
    '4'
    """
    if not isinstance(row, dict) or not isinstance(row.get("__id"), str):
        raise SinergiError(f"an OData row without __id: {str(row)[:120]}")
    sub: dict[str, Any] = {}
    _flatten(row, "", sub, names or {})
    return _system(sub, row["__id"], row.get("__system") or {})


def odata_names(schema: dict[str, Any]) -> dict[str, str]:
    """OData path → form path, for names Central had to change (empty when none did)."""
    def clean(name: str) -> str:
        return re.sub(r"([^a-z0-9_]+)", "_", re.sub(r"^([^a-z_])", r"_\1", name, flags=re.I), flags=re.I)
    out = {}
    for f in schema["fields"]:
        odata = "/".join(clean(p) for p in f["path"].split("/"))
        if odata != f["path"]:
            out[odata] = f["path"]
    return out


def xml_submission(xml: str | bytes, schemas: dict[str, dict[str, Any]], root_id: str, system: dict[str, Any],
                   where: str = "submission") -> dict[str, Any]:
    """A submission's XML, read with the XForm of the version it was made with (its root's
    ``version``, else ``__system/formVersion``; ``schemas``: version → :func:`xform_schema`), as a
    KoboToolbox API submission; ``root_id`` and ``system`` are the OData row's ``__id`` and
    ``__system``; ``__version__`` is the version it was read with."""
    data = _parse_xml(xml, where)
    version = data.get("version") or system.get("formVersion") or ""
    if version not in schemas:
        raise SinergiError(f"{where}: made with form version {version!r}, whose XForm is not in raw; pull again")
    repeats = {f["path"] for f in schemas[version]["fields"] if f["kind"] == "repeat"}
    sub: dict[str, Any] = {}

    def walk(elem: ET.Element, prefix: str, out: dict[str, Any]) -> None:
        for child in elem:
            path = prefix + _local(child.tag)
            if path in repeats:
                row: dict[str, Any] = {}
                walk(child, path + "/", row)
                out.setdefault(path, []).append(row)
            elif len(child):
                walk(child, path + "/", out)
            elif (child.text or "").strip():
                out[path] = child.text.strip()

    walk(data, "", sub)
    return {**_system(sub, root_id, system), "__version__": version}


# --------------------------------------------------------------------------------------------
# the record of a wave


def status_of(row: dict[str, Any]) -> str:
    """The KoboToolbox validation uid of an OData row's review state (``""`` when none)."""
    return REVIEW_STATUS.get((row.get("__system") or {}).get("reviewState"), {}).get("uid", "")


def instance_of(row: dict[str, Any]) -> str:
    """The current instanceID of an OData row (``meta/instanceID``; ``__id`` when not selected)."""
    return str((row.get("meta") or {}).get("instanceID") or row.get("__id") or "")


def replay(files: list[tuple[int, str, Path]]) -> tuple[dict[str, dict[str, Any]], list[dict[str, Any]]]:
    """A wave's OData rows (pages replayed in order, sweeps applied) and the changes on the way.

    Parameters
    ----------
    files
        ``(number, "page" | "sweep", path)`` as :func:`pipeline.sources.raw.record_files` lists
        them (``page-NNNNNN.json``: an OData answer, ``{"value": [rows], …}``;
        ``sweep-NNNNNN.json``: the server's whole set at one moment, ``{"swept_at", "value":
        [{__id, __system, meta}]}``).

    Returns
    -------
    state : dict
        ``__id`` → the latest OData row of every submission still on the server.
    events : list of dict
        As :func:`pipeline.sources.raw.replay`: ``kind`` (``edited``: a new instanceID;
        ``status``: a new review state, as KoboToolbox validation uids; ``deleted``: missing from
        a later sweep), ``_id`` (the ``__id``), ``old``, ``new``, ``file``.
    """
    state: dict[str, dict[str, Any]] = {}
    events: list[dict[str, Any]] = []
    for _, kind, path in files:
        body = read_json(path)
        if not isinstance(body, dict) or not isinstance(body.get("value"), list):
            raise SinergiError(f"{path}: not an OData record (no 'value' list); raw files are never edited: "
                               "restore it from a backup, or delete the study's raw folder and pull again")
        rows = body["value"]
        ids = [r.get("__id") if isinstance(r, dict) else None for r in rows]
        if not all(isinstance(i, str) and i for i in ids):
            raise SinergiError(f"{path}: a row without __id; was the file edited by hand?")
        if kind == "sweep":
            present = set(ids)
            for rid in [i for i in state if i not in present]:
                events.append({"kind": "deleted", "_id": rid, "old": instance_of(state[rid]), "new": "",
                               "file": path.name})
                del state[rid]
            continue
        for rid, row in zip(ids, rows):
            old = state.get(rid)
            if old is not None and instance_of(old) != instance_of(row):
                events.append({"kind": "edited", "_id": rid, "old": instance_of(old), "new": instance_of(row),
                               "file": path.name})
            if old is not None and status_of(old) != status_of(row):
                events.append({"kind": "status", "_id": rid, "old": status_of(old), "new": status_of(row),
                               "file": path.name})
            state[rid] = row
    return state, events


def xml_key(instance_id: str) -> str:
    """The file stem a submission version's XML is kept under (``xml/<key>.xml``)."""
    return hashlib.sha256(instance_id.encode("utf-8")).hexdigest()[:24]
