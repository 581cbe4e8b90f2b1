"""Deploy a wave's KoboToolbox project: the built XLSForm and the village roster, in one command.

:func:`deploy` (``sinergi kobo deploy``) creates or updates the project, uploads the roster as
form media (read as strictly as the tables first, :func:`pipeline.roster.read_roster_csv`) and
deploys it; a rerun never makes a duplicate project.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
from pathlib import Path
from typing import Any

from openpyxl import load_workbook

from ...errors import SinergiError
from ...io import EPOCH, read_bytes, stable_ooxml
from ...roster import roster_upload_bytes
from .client import KoboClient


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
        client.sleep(poll)
        waited += poll


def titled_xlsform(xlsx: bytes, title: str) -> bytes:
    """The XLSForm with ``settings.form_title`` set to ``title``.

    kpi names the project after ``form_title`` and renames it on every import
    (kpi/models/asset.py:510-528), so each wave's project gets its title from the form itself.
    """
    wb = load_workbook(io.BytesIO(xlsx))
    if "settings" not in wb.sheetnames:
        raise SinergiError("the XLSForm has no settings sheet (run `make instruments`)")
    ws = wb["settings"]
    header = [c.value for c in ws[1]]
    col = header.index("form_title") + 1 if "form_title" in header else len(header) + 1
    ws.cell(row=1, column=col, value="form_title")
    ws.cell(row=2, column=col, value=title)
    out = io.BytesIO()
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
        client.sleep(poll)
        waited += poll


def find_projects(client: KoboClient, name: str) -> list[dict[str, Any]]:
    """Projects the token can see whose name is exactly ``name``."""
    return [a for a in client.iter_assets() if (a.get("name") or "") == name]


def _undeployed_namesake(client: KoboClient, title: str, rerun_hint: str) -> str | None:
    """The uid of the one undeployed project named ``title`` (left by an earlier run cut off before
    deploying), or None when there is none; a deployed namesake, or several, stop the run with the
    command that updates it (every import without ``destination`` would create another project)."""
    same = find_projects(client, title)
    if len(same) == 1 and not same[0].get("has_deployment"):
        return same[0]["uid"]
    if same:
        uids = ", ".join(a["uid"] for a in same)
        raise SinergiError(
            f"a project named {title!r} already exists on {client.server} ({uids}); to update "
            f"it run `{rerun_hint.format(uid=same[0]['uid'])}` (or put its asset_uid in the "
            "study file); for a new project give the wave another label")
    return None


def _import_xlsform(client: KoboClient, filename: str, xlsx: bytes, form: dict[str, Any], *, timeout: float,
                    poll: float) -> str:
    """``POST /api/v2/imports/`` the XLSForm (``form``: the import's fields), wait for the task and
    return the uid of the asset it created or updated."""
    answer = client.request(
        "POST", client.url("/api/v2/imports/"), where=f"XLSForm import on {client.server}",
        data=form, files={"file": (filename, xlsx,
                                   "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")})
    import_url = answer.get("url") or client.url(f"/api/v2/imports/{answer.get('uid')}/")
    task = _poll_import(client, import_url, timeout=timeout, poll=poll)
    msgs = task.get("messages") or {}
    entries = [e for key in ("updated", "created") for e in (msgs.get(key) or [])
               if isinstance(e, dict) and e.get("kind", "asset") == "asset"]
    if not entries:
        raise SinergiError(f"import on {client.server} finished without naming an asset: {msgs}")
    return entries[0]["uid"]


def _upload_roster(client: KoboClient, uid: str, media_name: str, roster: bytes, *, poll: float) -> None:
    """Replace the asset's form media ``media_name`` with ``roster`` and wait until the file list shows it."""
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
    roster = roster_upload_bytes(roster_path)  # before anything is sent
    if title:
        xlsx = titled_xlsform(xlsx, title)
    form: dict[str, Any] = {"library": "false", "name": xlsx_path.stem}
    created = asset_uid is None
    if asset_uid is None and title:
        asset_uid = _undeployed_namesake(client, title, rerun_hint)
        created = asset_uid is None
    if asset_uid:
        client.get_asset(asset_uid)  # a clear 404 message before importing anything
        form["destination"] = client.url(f"/api/v2/assets/{asset_uid}/")
    uid = _import_xlsform(client, xlsx_path.name, xlsx, form, timeout=import_timeout, poll=poll)
    where = f"asset {uid} on {client.server}"
    _upload_roster(client, uid, media_name, roster, poll=poll)

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
