"""One village answered once, delivered five ways, gives identical canonical tables (issue 25).

The demo's KoboToolbox pull (data/raw/demo-kaloran/) is the village. The same answers are delivered
as a Google Forms CSV downloaded by an English and by an Indonesian account, as the linked Sheet
downloaded as XLSX (tests/source_writers.py), and as an ODK Central pull from the stand-in Central
of tests/odk_server.py. Each goes through the real stages — `sinergi pull` (copy or fetch into
data/raw/<id>/), then tidy (sources/raw.py's readers, the one screening rule) — with the same
pseudonym key, and the canonical tables are compared.

How the comparison handles what a platform cannot carry:

- rows are compared in the order tidy writes them (pipeline/order.py: by site, wave, respondent,
  item or tie), although each platform delivers the submissions in its own order (uploads, sheet
  rows, Central's paging): ``responses`` and ``ties`` are written to byte-identical Parquet files;
- ``submission_id`` differs by source (KoboToolbox's number, ODK's first instanceID, Google's
  spreadsheet row): it is compared as "one per respondent × wave", not by value;
- Google records no start/end/enumerator and no review status: none of these is in the canonical
  tables (the monitor uses them), so the tables are compared whole otherwise;
- KoboToolbox's duplicate upload (the same instanceID under two ``_id``) cannot happen in Central,
  which refuses a second upload (the ODK rendering has the later send only), and is two responses at two times in Google (the same person
  twice, ``respondent_twice``): each keeps the later one, so the canonical tables are equal, and
  the quality tables are compared without those rows (their counts checked apart), without
  ``submission_id`` and with ``kept=`` ids masked (by source, as above).
"""

from __future__ import annotations

import contextlib
import shutil
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pandas as pd
import pytest
from pyxform.xls2xform import convert

from pipeline.config import Study
from pipeline.instrument import load_instrument, tie_questions, write_xlsform
from pipeline.io import write_json, write_parquet
from pipeline.pull import pull
from pipeline.sources import odk
from pipeline.sources.google_form_script import google_form_contract
from pipeline.sources.raw import record_files, replay
from pipeline.tidy import run
from tests.odk_server import FakeCentral, submission_xml
from tests.source_writers import REVIEW, google_csv, google_table, google_xlsx

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "data" / "raw" / "demo-kaloran"
TZ = "Asia/Jakarta"
WAVES = ("pre", "post")
USER, PASSWORD = "pkm@example.org", "rahasia-sekali"
TABLES = ("respondents", "responses", "ties", "sample")
KEYS = {"respondents": ["site", "wave", "respondent_id"], "responses": ["wave", "respondent_id", "item"],
        "ties": ["site", "wave", "tie_type", "ego", "alter"]}


def kobo_subs(wave: str) -> list[dict]:
    state, _ = replay(record_files(DEMO / wave / "data"))
    return sorted(state.values(), key=lambda s: (s["_submission_time"], s["_id"]))


def roster(wave: str, subs: list[dict], inst) -> pd.DataFrame:
    """The wave's roster plus anyone nominated who is not on it (in the demo a phone had a stale
    roster; a Google Form can only offer names it lists, so this form lists them too, and tidy
    drops their nominations as not on the wave's roster, as it does for the KoboToolbox pull)."""
    r = pd.read_csv(DEMO / wave / "media" / "roster.csv", dtype=str)
    everyone = pd.concat([pd.read_csv(DEMO / w / "media" / "roster.csv", dtype=str) for w in WAVES])
    named = {t for s in subs for spec in tie_questions(inst).values() for t in str(s.get(spec["field"], "")).split()}
    extra = everyone[everyone["name"].isin(named - set(r["name"]))].drop_duplicates("name")
    return pd.concat([r, extra], ignore_index=True)


def study(sid: str, source: dict, waves: list[dict], base: Path) -> Study:
    return Study(id=sid, title="Desa Kaloran", source=source, waves=waves, base=base)


def tidy(s: Study, inst) -> dict[str, pd.DataFrame]:
    return run(s, inst, s.raw_dir)


def with_key(s: Study) -> None:
    """The demo's pseudonym key in the study's raw folder before its first pull (the same people
    get the same pseudonyms whatever the source)."""
    s.raw_dir.mkdir(parents=True, exist_ok=True)
    shutil.copy(DEMO / "pseudonym.key", s.raw_dir / "pseudonym.key")


@pytest.fixture(scope="module")
def inst():
    return load_instrument(ROOT / "instruments" / "sinergi.yaml")


@pytest.fixture(scope="module")
def work(tmp_path_factory):
    path = tmp_path_factory.mktemp("wiring")
    with contextlib.chdir(path):
        yield path


@pytest.fixture(scope="module")
def kobo_tables(work, inst):
    s = study("via-kobo", {"kind": "kobo"}, [{"id": w} for w in WAVES], work)
    shutil.copytree(DEMO, s.raw_dir)
    return tidy(s, inst)


def google_files(work: Path, inst, lang: str, fmt: str) -> list[dict]:
    """Each wave's responses file (``fmt`` csv or xlsx), contract and roster; the study's waves."""
    waves = []
    for w in WAVES:
        subs = kobo_subs(w)
        people = roster(w, subs, inst)
        contract = google_form_contract(inst, lang, people)
        header, rows = google_table(subs, inst, lang, people, contract, TZ)
        folder = work / f"g-{lang}-{fmt}" / w
        folder.mkdir(parents=True)
        if fmt == "csv":
            (folder / f"{w}.csv").write_bytes(google_csv(header, rows, lang))
        else:
            numeric = {t for t, e in contract["columns"].items() if e["kind"] == "integer"}
            (folder / f"{w}.xlsx").write_bytes(google_xlsx(header, rows, numeric))
        write_json(folder / "google_form.json", contract)
        # the wave's roster as KoboToolbox had it; the form listed the stale phone's people too
        shutil.copy(DEMO / w / "media" / "roster.csv", folder / "roster.csv")
        waves.append({"id": w, "file": f"{folder}/{w}.{fmt}", "contract": f"{folder}/google_form.json",
                      "roster": f"{folder}/roster.csv"})
    return waves


_GOOGLE: dict[tuple[str, str], tuple[Study, dict[str, pd.DataFrame]]] = {}


def google_tables(work: Path, inst, lang: str, fmt: str) -> tuple[Study, dict[str, pd.DataFrame]]:
    """The Google study of ``lang`` and ``fmt``, pulled and tidied (once per module)."""
    if (lang, fmt) not in _GOOGLE:
        _GOOGLE[lang, fmt] = _google_tables(work, inst, lang, fmt)
    return _GOOGLE[lang, fmt]


def _google_tables(work: Path, inst, lang: str, fmt: str) -> tuple[Study, dict[str, pd.DataFrame]]:
    s = study(f"via-google-{lang}-{fmt}", {"kind": "google_forms", "timezone": TZ},
              google_files(work, inst, lang, fmt), work)
    with_key(s)
    pull(s, progress=False)
    return s, tidy(s, inst)


def demo_central(work: Path, inst) -> tuple[FakeCentral, dict[str, str]]:
    """A started stand-in Central holding the demo's answers, one form per wave (form ids by wave)."""
    xlsx = work / "f.xlsx"
    write_xlsform(inst, xlsx)
    fake = FakeCentral(users={USER: PASSWORD}).start()
    forms = {}
    for w in WAVES:
        form_id, version = f"sinergi_{w}", f"v-{w}"
        path = work / f"{w}.xlsx"
        path.write_bytes(odk.xlsform_settings(xlsx.read_bytes(), form_id=form_id, version=version))
        fake.add_form(1, convert(str(path), validate=False).xform,
                      {"roster.csv": (DEMO / w / "media" / "roster.csv").read_bytes()})
        # Central refuses a second upload of an instanceID: the phone's later send is the one
        # that reached it here (KoboToolbox keeps the later upload too)
        for sub in {s["meta/instanceID"]: s for s in kobo_subs(w)}.values():
            # Central stamps the upload: its clock at the KoboToolbox upload time
            fake.clock = datetime.fromisoformat(sub["_submission_time"]).replace(tzinfo=timezone.utc) \
                - timedelta(seconds=1)
            fake.submit(1, form_id, submission_xml(form_id, version, sub), submitter=sub["_submitted_by"])
            state = REVIEW.get((sub.get("_validation_status") or {}).get("uid"))
            if state:
                fake.review(1, form_id, sub["meta/instanceID"], state)
        forms[w] = form_id
    return fake, forms


def pull_from_central(sid: str, work: Path, inst, mp: pytest.MonkeyPatch) -> Study:
    """An odk study ``sid`` pulled from :func:`demo_central` (the demo's pseudonym key first)."""
    fake, forms = demo_central(work, inst)
    try:
        mp.setenv("ODK_CENTRAL_USERNAME", USER)
        mp.setenv("ODK_CENTRAL_PASSWORD", PASSWORD)
        s = study(sid, {"kind": "odk", "server": fake.url, "project_id": 1},
                  [{"id": w, "form_id": forms[w]} for w in WAVES], work)
        with_key(s)
        pull(s, progress=False)
    finally:
        fake.stop()
    return s


@pytest.fixture(scope="module")
def odk_tables(work, inst, monkeypatch_module):
    s = pull_from_central("via-odk", work, inst, monkeypatch_module)
    return s, tidy(s, inst)


@pytest.fixture(scope="module")
def monkeypatch_module():
    mp = pytest.MonkeyPatch()
    yield mp
    mp.undo()


def same(got: dict[str, pd.DataFrame], want: dict[str, pd.DataFrame], label: str, folder: Path) -> None:
    """The canonical tables equal, rows in the same order (each in its keys' order, whatever order the platform
    delivered them in), ``submission_id`` compared as one per respondent × wave; ``responses`` and ``ties``
    written as Parquet (:func:`pipeline.io.write_parquet`, as tidy writes them) are the same bytes."""
    for name in TABLES:
        a, b = got[name].copy(), want[name].copy()
        if name == "respondents":
            for df in (a, b):
                assert not df.duplicated(["respondent_id", "wave"]).any()
                assert df["submission_id"].notna().all()
            a, b = a.drop(columns="submission_id"), b.drop(columns="submission_id")
        if name in KEYS:  # in its keys' order, the waves in the study's (pandas' sort, not pipeline/order.py)
            pos = a.assign(_w=a["wave"].map({w: i for i, w in enumerate(WAVES)}))
            keys = ["_w" if k == "wave" else k for k in KEYS[name]]
            assert pos.index.equals(pos.sort_values(keys, kind="stable").index), f"{label}: {name} not in key order"
        pd.testing.assert_frame_equal(a, b, check_dtype=False, obj=f"{label}: {name}")
    for name in ("responses", "ties"):
        write_parquet(folder / f"got-{name}.parquet", got[name])
        write_parquet(folder / f"want-{name}.parquet", want[name])
        assert (folder / f"got-{name}.parquet").read_bytes() == (folder / f"want-{name}.parquet").read_bytes(), \
            f"{label}: {name}.parquet"


def quality(frames: dict[str, pd.DataFrame], *leave: str) -> pd.DataFrame:
    """The quality rows but the issues ``leave``, without the ids that differ by source."""
    q = frames["quality"]
    q = q[~q["issue"].isin(leave)].drop(columns="submission_id")
    q = q.assign(detail=q["detail"].str.replace(r"kept=\S+", "kept=…", regex=True))
    return q.sort_values(list(q.columns)).reset_index(drop=True)


def issues(frames: dict[str, pd.DataFrame], issue: str) -> int:
    return int((frames["quality"]["issue"] == issue).sum())


@pytest.mark.parametrize("lang, fmt", [("en", "csv"), ("id", "csv"), ("en", "xlsx")])
def test_google_forms_gives_the_kobo_pull_s_canonical_tables(work, inst, kobo_tables, lang, fmt):
    s, got = google_tables(work, inst, lang, fmt)
    same(got, kobo_tables, f"google {lang} {fmt}", work)
    # a phone that sent a form twice is two responses at two times in Google: the same person twice
    # (the later kept, as KoboToolbox keeps the later upload)
    pd.testing.assert_frame_equal(quality(got, "respondent_twice"),
                                  quality(kobo_tables, "respondent_twice", "duplicate_upload"))
    assert issues(got, "respondent_twice") == issues(kobo_tables, "respondent_twice") + \
        issues(kobo_tables, "duplicate_upload") > issues(kobo_tables, "respondent_twice")
    manifest = (s.raw_dir / "manifest.json").read_text()
    assert f"{WAVES[0]}/google/{WAVES[0]}.{fmt}" in manifest and "contracts/01-google_form.json" in manifest


def test_odk_central_pull_gives_the_kobo_pull_s_canonical_tables(odk_tables, kobo_tables):
    s, got = odk_tables
    same(got, kobo_tables, "odk", s.base)
    pd.testing.assert_frame_equal(quality(got), quality(kobo_tables, "duplicate_upload"))
    assert issues(got, "duplicate_upload") == 0 < issues(kobo_tables, "duplicate_upload")
    assert (s.raw_dir / "pre" / "odata").is_dir() and (s.raw_dir / "pre" / "media" / "roster.csv").is_file()



def monitor(s: Study, inst) -> dict[str, pd.DataFrame]:
    from pipeline import monitor as M
    from pipeline.pseudonym import pseudonymizer, read_key

    return M.run(s, inst, M.read_waves(s, inst, s.raw_dir), pseudonymizer(read_key(s.raw_dir)), as_of="",
                 run_at="", names_path="names.html")


def test_the_monitor_reads_google_and_odk_waves_as_the_kobo_pull(work, inst, kobo_tables, odk_tables):
    """Coverage is the same whatever the source; Google has no enumerator ("?") and no interview
    length (no start/end: the "too short" check cannot run); ODK Central's enumerator is the app user."""
    kobo = monitor(study("via-kobo", {"kind": "kobo"}, [{"id": w} for w in WAVES], work), inst)
    google = monitor(google_tables(work, inst, "en", "csv")[0], inst)
    odk_out = monitor(odk_tables[0], inst)
    for got in (google, odk_out):
        pd.testing.assert_frame_equal(got["coverage"], kobo["coverage"])
    assert set(google["enumerators"]["enumerator"]) == {"?"}
    # the demo's phones sent one form twice and some with an older form version; the renderings
    # carry one version and (Central, Google) no duplicate upload: the other checks agree
    want = set(kobo["flags"]["check"]) - {"duplicate", "old_version"}
    assert set(google["flags"]["check"]) == want == set(odk_out["flags"]["check"])
    assert set(odk_out["enumerators"]["enumerator"]) == set(kobo["enumerators"]["enumerator"])
    # each page in its platform's words: no KoboToolbox `_id` in a Central or Google study
    assert '<span class="id">_id ' in kobo["html"] and '<span class="id">instanceID uuid:' in odk_out["html"]
    assert '<span class="id">baris sheet ' in google["html"] and "_id" not in odk_out["html"] + google["html"]
    assert "KoboToolbox" not in odk_out["html"] + google["html"]


SERVER_CODES = ("not_approved", "edited_on_server", "deleted_on_server", "validation_changed")


def test_an_odk_study_s_quality_labels_and_monitor_use_central_s_words(work, inst, monkeypatch):
    """Submissions rejected, put on Has issues, edited and deleted in Central after a first pull: the
    quality table's labels and the monitor name ODK Central and its review states, never KoboToolbox;
    the same codes in a KoboToolbox study keep KoboToolbox's words (both catalogues)."""
    from pipeline.report.words import Words

    fake, forms = demo_central(work / "central-words", inst)
    try:
        monkeypatch.setenv("ODK_CENTRAL_USERNAME", USER)
        monkeypatch.setenv("ODK_CENTRAL_PASSWORD", PASSWORD)
        s = study("via-odk-words", {"kind": "odk", "server": fake.url, "project_id": 1},
                  [{"id": w, "form_id": forms[w]} for w in WAVES], work)
        with_key(s)
        pull(s, progress=False)
        ids = [x.instance_id for x in fake.subs[(1, forms["pre"])]]
        fake.review(1, forms["pre"], ids[0], "rejected")
        fake.review(1, forms["pre"], ids[1], "hasIssues")
        fake.edit(1, forms["pre"], ids[2], lambda root: None)
        fake.delete(1, forms["pre"], ids[3])
        pull(s, progress=False)
    finally:
        fake.stop()
    quality = tidy(s, inst)["quality"]
    assert set(SERVER_CODES) <= set(quality["issue"])
    kobo = study("via-kobo", {"kind": "kobo"}, [{"id": w} for w in WAVES], work)
    for lang in ("id", "en"):
        odk_labels = [Words(s, lang, None).code_label("issue", c) for c in sorted(set(quality["issue"]))]
        assert not any("KoboToolbox" in t for t in odk_labels), odk_labels
        assert all("ODK Central" in Words(s, lang, None).code_label("issue", c) for c in SERVER_CODES)
        assert all("KoboToolbox" in Words(kobo, lang, None).code_label("issue", c) for c in SERVER_CODES)
    assert Words(s, "en", None).code_label("issue", "not_approved") == "marked Rejected in ODK Central"
    assert Words(kobo, "en", None).code_label("issue", "not_approved") == "marked Not Approved in KoboToolbox"
    page = monitor(s, inst)
    refused = page["flags"][page["flags"]["check"] == "not_approved"]
    assert list(refused["reason"]) == ["Tidak dihitung menurut status tinjauan ODK Central (Rejected)"]
    assert "KoboToolbox" not in page["html"] and "status tinjauan ODK Central (Rejected)" in page["html"]
