"""One village answered once, delivered four ways, reads to the same submissions.

The demo's KoboToolbox pull (data/raw/demo-kaloran/) is rendered as a Google Forms responses CSV
(English and Indonesian account), the linked Sheet as XLSX, and ODK Central OData rows
(tests/source_writers.py); each is read back with its adapter and compared with the KoboToolbox
submissions on every field tidy reads. (Wiring the sources into tidy, the lead then compares the
canonical tables.)

What a platform cannot carry is left out of the comparison and said here:
- Google Forms records no ``start``/``end``/``today``, no enumerator, no instance id and no review;
  its ``_id`` is the spreadsheet row;
- ODK Central's ``_id`` is the submission's first instanceID (KoboToolbox's is a number);
- KoboToolbox's duplicate upload (the same instanceID under two ``_id``) cannot happen in Central,
  which refuses a second upload of an instanceID: the ODK rendering has it once.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from pyxform.xls2xform import convert

from pipeline.instrument import load_instrument, tie_questions, write_xlsform
from pipeline.sources import odk_adapter as adapter
from pipeline.sources.google_form_script import google_form_contract
from pipeline.sources.google_forms import parse_responses, read_responses, read_sheet
from pipeline.sources.raw import record_files, replay
from tests.source_writers import google_csv, google_table, google_xlsx, odk_rows

ROOT = Path(__file__).resolve().parents[2]
RAW = ROOT / "data" / "raw" / "demo-kaloran"
TZ = "Asia/Jakarta"


@pytest.fixture(scope="module")
def inst():
    return load_instrument(ROOT / "instruments" / "sinergi.yaml")


def kobo(wave: str) -> list[dict]:
    state, _ = replay(record_files(RAW / wave / "data"))
    return sorted(state.values(), key=lambda s: (s["_submission_time"], s["_id"]))


def roster(wave: str, subs: list[dict], inst) -> pd.DataFrame:
    """The wave's roster, plus anyone nominated who is not on it (a stale roster on a device in
    the demo): a Google Form listing them is the only way their nomination can be given there."""
    r = pd.read_csv(RAW / wave / "media" / "roster.csv", dtype=str)
    everyone = pd.concat([pd.read_csv(RAW / w / "media" / "roster.csv", dtype=str) for w in ("pre", "post")])
    named = {t for s in subs for spec in tie_questions(inst).values() for t in str(s.get(spec["field"], "")).split()}
    extra = everyone[everyone["name"].isin(named - set(r["name"]))].drop_duplicates("name")
    return pd.concat([r, extra], ignore_index=True)


def view(sub: dict, inst) -> dict:
    """What tidy reads of a submission: its answers, the repeats' alter and frequency, the time
    and the validation status."""
    ties = tie_questions(inst)
    inner = {x for spec in ties.values() for x in (spec["alter"], spec["weight"])}
    out = {x: sub.get(x) for x in inst.needed_xpaths() if x not in inner}
    for spec in ties.values():
        out[spec["repeat"]] = [(r.get(spec["alter"]), r.get(spec["weight"])) for r in sub.get(spec["repeat"], [])]
    out["_submission_time"] = sub["_submission_time"]
    out["validation"] = (sub.get("_validation_status") or {}).get("uid", "")
    return out


@pytest.mark.parametrize("wave", ["pre", "post"])
def test_google_forms_csv_english_and_indonesian_and_sheet_xlsx_read_as_the_kobo_pull(inst, wave, tmp_path):
    subs = kobo(wave)
    people = roster(wave, subs, inst)
    want = [view(s, inst) for s in subs]
    numeric = set()
    for lang in ("en", "id"):
        contract = google_form_contract(inst, lang, people)
        header, rows = google_table(subs, inst, lang, people, contract, TZ)
        path = tmp_path / f"{lang}.csv"
        path.write_bytes(google_csv(header, rows, lang))
        got, _, _ = read_responses(path, [contract], timezone=TZ, needed=inst.needed_xpaths())
        assert [view(s, inst) for s in got] == want, lang
        assert [s["_id"] for s in got] == list(range(2, len(subs) + 2))
        numeric = {t for t, e in contract["columns"].items() if e["kind"] == "integer"}
    # the linked Sheet as XLSX (English account): a date-time cell, numbers as numbers
    path = tmp_path / "sheet.xlsx"
    path.write_bytes(google_xlsx(header, rows, numeric))
    got, _, _ = parse_responses(read_sheet(path), [contract], timezone=TZ, needed=inst.needed_xpaths())
    assert [view(s, inst) for s in got] == want


@pytest.mark.parametrize("wave", ["pre", "post"])
def test_odk_central_odata_reads_as_the_kobo_pull(inst, wave, tmp_path):
    subs = kobo(wave)
    once = list({s["meta/instanceID"]: s for s in subs}.values())  # Central refuses a second upload
    xlsx = tmp_path / "f.xlsx"
    write_xlsform(inst, xlsx)
    xform = convert(str(xlsx), validate=False).xform
    rows = odk_rows(once, xform, inst.form["form_id"])
    got = [adapter.odata_submission(r) for r in rows]
    assert [view(s, inst) for s in got] == [view(s, inst) for s in once]
    for g, k in zip(got, once):
        assert (g["meta/instanceID"], g["_submitted_by"], g["__version__"], g.get("start"), g.get("end"),
                g.get("today")) == (k["meta/instanceID"], k["_submitted_by"], k["__version__"], k.get("start"),
                                    k.get("end"), k.get("today"))
    assert len(once) == len(subs) - (wave == "post")
