"""Writers of the files other platforms give for the same answers, for the source-equivalence tests.

From KoboToolbox-shaped submissions (the demo's) they write what Google Forms and ODK Central would
have given had the same people answered there, following the real shapes (see
tests/data/google_forms/README.md and tests/odk_server.py): a Google Forms responses table (CSV
as an English or Indonesian account downloads it, or the linked Sheet as XLSX with typed cells)
and ODK Central OData rows (``$expand=*``).
"""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime, timezone
from zoneinfo import ZoneInfo

import pandas as pd
from openpyxl import Workbook

from pipeline.instrument import Instrument
from pipeline.sources.google_form_script import google_form_script
from tests.odk_server import CForm, Def, Sub, form_fields, odata_row, submission_xml

FIRST = {"en": "Timestamp", "id": "Stempel waktu"}
REVIEW = {"validation_status_approved": "approved", "validation_status_not_approved": "rejected",
          "validation_status_on_hold": "hasIssues"}


def form_columns(inst: Instrument, lang: str, roster: pd.DataFrame) -> list[tuple[str, str | None, str | None]]:
    """The responses file's columns in the form's order: ``(header, grid title or None, copy)``;
    ``copy`` is the answer of the question whose answer picks a copy of the sections (None outside
    the copies)."""
    script = google_form_script(inst, lang, roster)
    spec = json.loads(script[script.index("var SPEC = ") + 11:script.index(";\n\nvar PROP_ID")])
    switch = next((it for it in spec["items"] if it.get("nav") and it["nav"][0] not in ("CONTINUE", "SUBMIT")), None)
    names = {}
    if switch is not None:
        q = next(q for q in inst.questions if q.base_type == "select_one" and
                 [" ".join(c["label"][lang].split()) for c in inst.choices[q.list_name]] == switch["choices"])
        names = dict(zip(switch["nav"], inst.choice_names(q.list_name)))
    ends = {it["after_previous"] for it in spec["items"] if it.get("after_previous")}
    out, copy = [], None
    for it in spec["items"]:
        if it["type"] == "section":
            copy = names.get(it["id"], None if it["id"] in ends else copy)
        elif it["type"] == "grid":
            out += [(f"{it['title']} [{row}]", it["title"], copy) for row in it["rows"]]
        elif it["type"] != "header":
            out.append((it["title"], None, copy))
    return out


def _cell(entry: dict, sub: dict, xpath: str, contract: dict) -> str:
    value = sub.get(xpath)
    if value is None:
        return ""
    labels = {v: k for k, v in entry.get("choices", {}).items()}
    kind = entry["kind"]
    if kind == "select_one":
        return labels[value]
    if kind == "select_multiple":
        return ", ".join(labels[t] for t in value.split())
    if kind == "roster_one":
        return contract["roster"][value]
    if kind == "roster_multiple":
        return ", ".join(contract["roster"][t] for t in value.split())
    return str(value)


def google_table(subs: list[dict], inst: Instrument, lang: str, roster: pd.DataFrame, contract: dict,
                 tz: str) -> tuple[list[str], list[list]]:
    """Header and rows (first cell a local ``datetime``) of the responses of ``subs``."""
    columns = form_columns(inst, lang, roster)
    people = {label: pid for pid, label in contract["roster"].items()}
    rows = []
    for sub in subs:
        when = datetime.fromisoformat(sub["_submission_time"]).replace(tzinfo=timezone.utc).astimezone(ZoneInfo(tz))
        origin = sub.get("profil/asal")
        cells: list = [when.replace(tzinfo=None)]
        for header, grid, copy in columns:
            if copy is not None and copy != origin:
                cells.append("")
                continue
            if grid is not None:
                entry = contract["columns"][grid]
                pid = people[header[len(grid) + 2:-1]]
                reps = {r.get(entry["alter"]): r.get(entry["weight"]) for r in sub.get(entry["xpath"], [])}
                weight = reps.get(pid)
                cells.append({v: k for k, v in entry["choices"].items()}[weight] if weight else "")
                continue
            entry = contract["columns"][header]
            xpath = entry["cases"]["xpaths"][copy] if entry.get("cases") else entry["xpath"]
            cells.append(_cell(entry, sub, xpath, contract))
        rows.append(cells)
    return [FIRST[lang]] + [c[0] for c in columns], rows


def google_csv(header: list[str], rows: list[list], lang: str) -> bytes:
    """The linked Sheet as CSV: ``M/d/yyyy H:mm:ss`` (English) or ``d/M/yyyy H:mm:ss`` (Indonesian)."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow(header)
    for cells in rows:
        t = cells[0]
        stamp = (f"{t.month}/{t.day}/{t.year}" if lang == "en" else f"{t.day}/{t.month}/{t.year}") + \
            f" {t.hour}:{t.minute:02d}:{t.second:02d}"
        w.writerow([stamp, *cells[1:]])
    return buf.getvalue().encode("utf-8")


def google_xlsx(header: list[str], rows: list[list], numeric: set[str]) -> bytes:
    """The linked Sheet as XLSX: the time a date-time cell, the number answers numbers."""
    wb = Workbook()
    ws = wb.active
    ws.title = "Form Responses 1"
    ws.append(header)
    for cells in rows:
        ws.append([cells[0]] + [int(c) if h in numeric and c != "" else (c if c != "" else None)
                                for h, c in zip(header[1:], cells[1:])])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def odk_rows(subs: list[dict], xform: str, form_id: str) -> list[dict]:
    """ODK Central's OData rows (``$expand=*``) of ``subs``, as Central builds them from each
    submission's XML with the published form (tests/odk_server.py, lib/data/odata.js)."""
    fid, version, title, fields, expected = form_fields(xform)
    form = CForm(1, fid, title, "2026-01-01T00:00:00.000Z", [Def(xform, version, fields, expected)])
    out = []
    for n, sub in enumerate(subs):
        iid = sub.get("meta/rootUuid") or sub["meta/instanceID"]
        s = Sub(iid, n, sub["__version__"], submission_xml(form_id, sub["__version__"], sub),
                sub["_submission_time"] + ".000Z", 7, sub.get("_submitted_by"),
                review_state=REVIEW.get((sub.get("_validation_status") or {}).get("uid")))
        out.append(odata_row(s, form, expand=True))
    return out
