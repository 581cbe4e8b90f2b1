"""One screening rule: tidy's ``quality.csv`` and the fieldwork monitor decide alike, submission by submission.

Both call :func:`pipeline.screening.screen`; these tests run the two real edges (``tidy.run`` and
``monitor.submissions_table``) on the same raw folders — the demo (with its injected duplicates,
resubmissions and refusals), the KoboToolbox export fixture, and raw folders edited into the cases
where the rules' order matters — and compare what each says about every submission.
"""

from __future__ import annotations

import json
import shutil
from collections import Counter
from pathlib import Path

import pandas as pd
import pytest
import yaml

from pipeline import monitor, tidy
from pipeline.config import instrument_path, load_study
from pipeline.instrument import load_instrument
from pipeline.pseudonym import pseudonym_width, pseudonymizer, read_key
from pipeline.pull import pull
from pipeline.screening import REASONS, screen

ROOT = Path(__file__).resolve().parent.parent
NOT_APPROVED = {"uid": "validation_status_not_approved", "label": "Not Approved"}


def _demo(folder: Path) -> Path:
    doc = yaml.safe_load((ROOT / "study.yaml").read_text(encoding="utf-8"))
    doc["instrument"] = str(ROOT / "instruments" / "sinergi.yaml")
    path = folder / "study.yaml"
    path.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    return path


def _kobo_files(folder: Path) -> Path:
    fx = ROOT / "tests" / "data" / "kobo_exports"
    files = {"pre": "pre-xml-groups-slash-summary-all.xlsx", "post": "post-xml-groups-slash-summary-all.csv"}
    for f in (*files.values(), "pre-roster.csv", "post-roster.csv"):
        shutil.copy(fx / f, folder / f)
    doc = yaml.safe_load((ROOT / "study.yaml").read_text(encoding="utf-8"))
    doc.update(id="kfiles", source={"kind": "kobo_files"}, instrument=str(ROOT / "instruments" / "sinergi.yaml"))
    doc["waves"] = [dict(w, file=files[w["id"]], roster=f"{w['id']}-roster.csv") for w in doc["waves"]]
    path = folder / "study.yaml"
    path.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    return path


def _pulled(make, folder: Path, monkeypatch):
    monkeypatch.chdir(folder)
    study = load_study(str(make(folder)))
    pull(study, local_only=True, progress=False)
    return study, load_instrument(instrument_path(study))


def _decisions(study, inst) -> tuple[Counter, Counter]:
    """(tidy's, the monitor's) multiset of (wave, submission_id, decision): ``counted`` or the reason."""
    raw = study.raw_dir
    out = tidy.run(study, inst, raw)
    q = out["quality"]
    left = q[q["issue"].isin(REASONS)]
    said_tidy = Counter(zip(left["wave"], left["submission_id"].astype(str), left["issue"].map(monitor.SCREENING_CHECKS)))
    resp = out["respondents"]
    said_tidy += Counter(zip(resp["wave"], resp["submission_id"].astype(str), ["counted"] * len(resp)))
    pseudo = pseudonymizer(read_key(raw), pseudonym_width(raw))
    subs, flags = monitor.submissions_table(monitor.read_waves(study, inst, raw), study, inst, pseudo)
    screening = flags[flags["check"].isin(set(monitor.SCREENING_CHECKS.values()))]
    said_monitor = Counter(zip(screening["wave"], screening["submission_id"].astype(str), screening["check"]))
    kept = subs[subs["kept"]]
    said_monitor += Counter(zip(kept["wave"], kept["submission_id"].astype(str), ["counted"] * len(kept)))
    return said_tidy, said_monitor


def _edit_pages(raw: Path, wave: str, change) -> None:
    """Apply ``change(submissions)`` to the results of a wave's pulled pages, in place."""
    for page in sorted((raw / wave / "data").glob("page-*.json")):
        doc = json.loads(page.read_text(encoding="utf-8"))
        change(doc["results"])
        page.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")


@pytest.mark.parametrize("make", [_demo, _kobo_files], ids=["demo", "kobo_files"])
def test_tidy_and_monitor_decide_alike(make, tmp_path, monkeypatch):
    study, inst = _pulled(make, tmp_path, monkeypatch)
    said_tidy, said_monitor = _decisions(study, inst)
    assert said_tidy == said_monitor
    reasons = {r for _, _, r in said_tidy}
    assert "counted" in reasons and len(reasons) >= 2  # the fixture exercises more than one rule


def test_a_refusal_left_out_by_its_validation_status_first(tmp_path, monkeypatch):
    """A non-consenting submission marked Not Approved: validation is tried before consent, in both."""
    study, inst = _pulled(_demo, tmp_path, monkeypatch)
    consent = inst.consent_question()
    key = consent.question.xpath
    marked = []

    def reject_a_refusal(results):
        for sub in results:
            if not marked and sub.get(key) not in (None, consent.answer):
                sub["_validation_status"] = NOT_APPROVED
                marked.append(str(sub["_id"]))

    _edit_pages(study.raw_dir, study.wave_ids[0], reject_a_refusal)
    assert marked, "the demo's first wave has a refusal"
    said_tidy, said_monitor = _decisions(study, inst)
    assert said_tidy == said_monitor
    assert said_tidy[(study.wave_ids[0], marked[0], "not_approved")] == 1
    assert not any(sid == marked[0] and r == "no_consent" for _, sid, r in said_tidy)


def test_a_respondent_twice_keeps_the_later_in_both(tmp_path, monkeypatch):
    """A counted submission copied under a new _id and instanceID, uploaded later: the earlier is left out."""
    study, inst = _pulled(_demo, tmp_path, monkeypatch)
    wave = study.wave_ids[-1]
    copied = {}

    def resubmit(results):
        if copied:
            return
        consent = inst.consent_question()
        sub = next(s for s in results if s.get(consent.question.xpath) == consent.answer
                   and not s.get("_validation_status"))
        twin = dict(sub, _id=sub["_id"] + 10_000_000, **{"meta/instanceID": "uuid:twin-of-" + str(sub["_id"]),
                                                         "_submission_time": "2099-01-01T00:00:00"})
        results.append(twin)
        copied.update(first=str(sub["_id"]), later=str(twin["_id"]))

    _edit_pages(study.raw_dir, wave, resubmit)
    said_tidy, said_monitor = _decisions(study, inst)
    assert said_tidy == said_monitor
    assert said_tidy[(wave, copied["first"], "respondent_twice")] == 1
    assert said_tidy[(wave, copied["later"], "counted")] == 1


def test_screen_tries_validation_before_consent_and_keeps_the_last_of_a_person():
    inst = load_instrument()
    consent, respondent = inst.consent_question(), inst.respondent_question()
    keys = {q.name: q.name for q in inst.questions}

    def sub(i, rid, agreed=True, status=""):
        return {"_id": i, "meta/instanceID": f"uuid:{i}", "_submission_time": f"2026-05-0{i}",
                consent.question.name: consent.answer if agreed else "tidak", respondent.name: rid,
                "_validation_status": {"uid": status} if status else {}}

    subs = [sub(1, "R1", agreed=False, status="validation_status_not_approved"), sub(2, "R2", agreed=False),
            sub(3, "R3"), sub(4, "R3"), sub(5, "R9")]
    got = {d.submission_id: d.reason for d in screen(subs, ["R1", "R2", "R3"], inst, lambda s: keys)}
    assert got == {"1": "not_approved", "2": "no_consent", "3": "respondent_twice", "4": "counted",
                   "5": "not_on_roster"}
