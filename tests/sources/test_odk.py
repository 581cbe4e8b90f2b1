"""The ODK Central source through pyodk, against the stand-in Central of tests/odk_server.py."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import pytest
from pyxform.xls2xform import convert

from pipeline.errors import SinergiError
from pipeline.instrument import load_instrument, write_xlsform
from pipeline.sources import odk
from pipeline.sources import odk_adapter as adapter
from pipeline.sources.raw import record_files, replay as kobo_replay
from tests.odk_server import FakeCentral, submission_xml

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "data" / "raw" / "demo-kaloran" / "pre"
USER, PASSWORD = "pkm@example.org", "rahasia-sekali"
FORM, V1, V2 = "sinergi_pre", "2026.11.1-pre-aaaa", "2026.11.1-pre-bbbb"
NEEDED_KEYS = ("persetujuan/setuju", "identitas/responden", "profil/asal", "profil/umur", "kepercayaan/tr_gen1",
               "jaringan/net_info", "jaringan/info_rinci", "aksi_kolektif/omzet", "meta/instanceID")


@pytest.fixture(scope="module")
def xlsx(tmp_path_factory) -> bytes:
    path = tmp_path_factory.mktemp("x") / "sinergi.xlsx"
    write_xlsform(load_instrument(ROOT / "instruments" / "sinergi.yaml"), path)
    return path.read_bytes()


@pytest.fixture(scope="module")
def xform_v1(xlsx) -> str:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "f.xlsx"
        path.write_bytes(odk.xlsform_settings(xlsx, form_id=FORM, version=V1))
        return convert(str(path), validate=False).xform


@pytest.fixture(scope="module")
def kobo_subs() -> list[dict]:
    state, _ = kobo_replay(record_files(DEMO / "data"))
    return [state[i] for i in sorted(state)]


def creds(fake: FakeCentral, password: str = PASSWORD) -> odk.Credentials:
    return odk.Credentials(fake.url, USER, password)


def client(fake: FakeCentral, **kw) -> odk.OdkClient:
    kw.setdefault("sleep", lambda s: None)
    return odk.OdkClient(creds(fake, kw.pop("password", PASSWORD)), **kw)


def central(xform: str, subs: list[dict], n: int | None = None) -> FakeCentral:
    fake = FakeCentral()
    fake.add_form(1, xform, {"roster.csv": (DEMO / "media" / "roster.csv").read_bytes()})
    for s in subs[:n]:
        fake.submit(1, FORM, submission_xml(FORM, V1, s), submitter=s["_submitted_by"])
    return fake


def pull(fake: FakeCentral, raw: Path, *, full: bool = False, **kw) -> dict:
    with client(fake, **kw) as c:
        return odk.pull_odk([odk.OdkWave("pre", 1, FORM)], raw, client=c, full=full)


def answers(sub: dict) -> dict:
    return {k: sub.get(k) for k in NEEDED_KEYS}


def test_a_full_pull_pages_through_odata_and_reads_every_answer(xform_v1, kobo_subs, tmp_path, monkeypatch):
    monkeypatch.setattr(odk, "PAGE", 50)
    with central(xform_v1, kobo_subs) as fake:
        manifest = pull(fake, tmp_path)
        expand = [q for q in fake.odata_requests() if q.get("$expand") == "*"]
    assert len(expand) == 3 and "$skiptoken" not in expand[0]
    assert all(q["$skiptoken"].startswith("01") and q["$top"] == "50" for q in expand[1:])
    assert manifest["pre"]["count"] == len(kobo_subs) == 141
    wave = odk.read_wave(tmp_path / "pre")
    by_iid = {s["meta/instanceID"]: s for s in wave["submissions"]}
    for k in kobo_subs:
        got = by_iid[k["meta/instanceID"]]
        assert answers(got) == answers(k)
        assert got["_submitted_by"] == k["_submitted_by"] and got["__version__"] == V1
    assert (tmp_path / "pre" / "media" / "roster.csv").read_bytes() == (DEMO / "media" / "roster.csv").read_bytes()
    assert (tmp_path / "pre" / "versions" / f"{V1}.xml").is_file()
    assert not (tmp_path / ".pull").exists()


def _later_changes(fake: FakeCentral, kobo_subs: list[dict]) -> dict[str, str]:
    """New, late, edited, re-reviewed and deleted submissions after a first pull."""
    ids = [s.instance_id for s in fake.subs[(1, FORM)]]
    for s in kobo_subs[100:110]:  # new
        fake.submit(1, FORM, submission_xml(FORM, V1, s))
    late = fake.submit(1, FORM, submission_xml(FORM, V1, kobo_subs[110]))
    late.created_at = "2026-05-04T00:00:00.000Z"  # committed late with an early timestamp

    def older(root):
        next(e for e in root.iter() if e.tag == "umur").text = "70"
    new_iid = fake.edit(1, FORM, ids[3], older)
    fake.review(1, FORM, ids[4], "rejected")
    fake.review(1, FORM, ids[5], "hasIssues")
    fake.review(1, FORM, ids[6], "approved")
    fake.delete(1, FORM, ids[7])
    return {"edited": ids[3], "new_iid": new_iid, "rejected": ids[4], "deleted": ids[7], "late": late.instance_id}


def test_incremental_pull_equals_a_full_pull_and_records_what_changed(xform_v1, kobo_subs, tmp_path):
    with central(xform_v1, kobo_subs, 100) as fake:
        first = pull(fake, tmp_path / "inc")
        changes = _later_changes(fake, kobo_subs)
        second = pull(fake, tmp_path / "inc")
        full = pull(fake, tmp_path / "full", full=True)
        filters = [q.get("$filter", "") for q in fake.odata_requests()]
    assert first["pre"]["count"] == 100
    assert second["pre"]["changes"] == {"new": 10, "late": 1, "changed": 4, "deleted": 1, "total": 110}
    assert any(f.startswith("__system/submissionDate ge ") for f in filters)  # incremental
    inc, ful = odk.read_wave(tmp_path / "inc" / "pre"), odk.read_wave(tmp_path / "full" / "pre")
    assert inc["submissions"] == ful["submissions"]
    kinds = {(e["kind"], e["_id"]) for e in inc["events"]}
    assert {("edited", changes["edited"]), ("status", changes["rejected"]), ("deleted", changes["deleted"])} <= kinds
    edited = next(s for s in inc["submissions"] if s["_id"] == changes["edited"])
    assert (edited["profil/umur"], edited["meta/instanceID"], edited["meta/rootUuid"]) == (
        "70", changes["new_iid"], changes["edited"])
    assert changes["deleted"] not in {s["_id"] for s in inc["submissions"]}
    assert changes["late"] in {s["_id"] for s in inc["submissions"]}
    # raw is append-only: the first pull's files are all still there, unchanged
    assert set(first["pre"]["files"].items()) <= set(second["pre"]["files"].items()) | {
        (k, v) for k, v in first["pre"]["files"].items() if k.endswith("form.json")}


def test_review_states_map_to_the_validation_statuses_tidy_counts(xform_v1, kobo_subs, tmp_path):
    with central(xform_v1, kobo_subs, 5) as fake:
        ids = [s.instance_id for s in fake.subs[(1, FORM)]]
        for iid, state in zip(ids, ["approved", "rejected", "hasIssues"]):
            fake.review(1, FORM, iid, state)
        fake.edit(1, FORM, ids[3], lambda root: None)
        pull(fake, tmp_path)
    subs = {s["_id"]: s["_validation_status"] for s in odk.read_wave(tmp_path / "pre")["submissions"]}
    assert [subs[i].get("uid", "") for i in ids] == ["validation_status_approved", "validation_status_not_approved",
                                                     "validation_status_on_hold", "", ""]


def test_each_submission_is_read_with_its_own_form_version(xform_v1, kobo_subs, tmp_path):
    # version 2 renames profil/umur to profil/usia: Central's OData (published fields only) loses the
    # age of version-1 submissions; their XML, read with version 1, keeps it
    xform_v2 = xform_v1.replace(f'version="{V1}"', f'version="{V2}"').replace("<umur/>", "<usia/>") \
        .replace('nodeset="/data/profil/umur"', 'nodeset="/data/profil/usia"')
    with central(xform_v1, kobo_subs, 4) as fake:
        fake.add_form(1, xform_v2, {"roster.csv": (DEMO / "media" / "roster.csv").read_bytes()})
        v2 = dict(kobo_subs[4])
        v2["profil/usia"] = v2.pop("profil/umur")
        fake.submit(1, FORM, submission_xml(FORM, V2, v2))
        odata_rows = fake.subs[(1, FORM)]
        pull(fake, tmp_path)
    wave = odk.read_wave(tmp_path / "pre")
    assert wave["deployed"] == V2 and set(wave["contents"]) == {V1, V2}
    assert len(list((tmp_path / "pre" / "xml").glob("*.xml"))) == 4  # the version-1 submissions
    by_iid = {s["meta/instanceID"]: s for s in wave["submissions"]}
    for k in kobo_subs[:4]:
        got = by_iid[k["meta/instanceID"]]
        assert got["__version__"] == V1 and got["profil/umur"] == k["profil/umur"]
        assert got["jaringan/info_rinci"] == [{key: v for key, v in row.items()} for row in k["jaringan/info_rinci"]]
    newest = by_iid[kobo_subs[4]["meta/instanceID"]]
    assert newest["__version__"] == V2 and newest["profil/usia"] == kobo_subs[4]["profil/umur"]
    assert len(odata_rows) == 5
    content_v2 = {r.get("$xpath") for r in wave["contents"][V2]["survey"]}
    assert "profil/usia" in content_v2 and "profil/umur" not in content_v2


def test_wrong_password_no_role_and_unknown_form_each_stop_with_one_line(xform_v1, kobo_subs, tmp_path):
    with central(xform_v1, kobo_subs, 2) as fake:
        fake.users["viewer@example.org"] = "pw-viewer"
        with pytest.raises(SinergiError, match=r"rejected the user name or password \(401\)") as exc:
            pull(fake, tmp_path, password="salah")
        assert "salah" not in str(exc.value)
        with odk.OdkClient(odk.Credentials(fake.url, "viewer@example.org", "pw-viewer"), sleep=lambda s: None) as c:
            with pytest.raises(SinergiError, match=r"wave pre: .*no permission .*403 403.1"):
                odk.pull_odk([odk.OdkWave("pre", 1, FORM)], tmp_path, client=c)
        with client(fake) as c:
            with pytest.raises(SinergiError, match=r"wave pre: form nope \(project 1\) .*not found"):
                odk.pull_odk([odk.OdkWave("pre", 1, "nope")], tmp_path, client=c)
    assert not (tmp_path / "pre").exists()


def test_timeouts_server_errors_and_cut_connections_are_retried(xform_v1, kobo_subs, tmp_path):
    waits = []
    with central(xform_v1, kobo_subs, 3) as fake:
        fake.fault(".svc/Submissions", "slow", delay=1.5, times=1)
        fake.fault(".svc/Submissions", "503", times=2, skip=1)
        fake.fault("/attachments", "drop", times=1)
        with odk.OdkClient(creds(fake), timeout=0.5, sleep=waits.append) as c:
            out = odk.pull_odk([odk.OdkWave("pre", 1, FORM)], tmp_path, client=c)
    assert out["pre"]["count"] == 3 and len(waits) == 4


def test_a_server_that_keeps_failing_gives_up_saying_so_and_raw_is_unchanged(xform_v1, kobo_subs, tmp_path):
    with central(xform_v1, kobo_subs, 3) as fake:
        fake.fault(".svc/Submissions", "500", times=-1)
        with pytest.raises(SinergiError, match=r"wave pre: .*answered 500 \(gave up after 3 attempt\(s\)"):
            pull(fake, tmp_path, max_attempts=3)
        fake.faults.clear()
        fake.fault("", "html", times=1)
        with pytest.raises(SinergiError, match="answered with a web page"):
            pull(fake, tmp_path)
    assert not (tmp_path / "pre").exists()


def test_a_pull_cut_off_during_the_sweep_resumes_from_what_it_staged(xform_v1, kobo_subs, tmp_path, monkeypatch):
    monkeypatch.setattr(odk, "PAGE", 40)
    with central(xform_v1, kobo_subs) as fake:
        fake.fault(lambda m, p, q: "$select" in q, "500", times=-1)
        with pytest.raises(SinergiError, match="gave up"):
            pull(fake, tmp_path, max_attempts=1)
        staged = list((tmp_path / ".pull" / "pre" / "odata").glob("page-*.json"))
        assert len(staged) == 4 and not (tmp_path / "pre").exists()
        fake.faults.clear()
        n = len(fake.odata_requests())
        out = pull(fake, tmp_path)
        again = [q for q in fake.odata_requests()[n:] if q.get("$expand") == "*"]
        pull(fake, tmp_path / "full", full=True)
    assert out["pre"]["count"] == 141 and out["pre"]["changes"]["new"] == 0  # all staged before
    assert again and again[0]["$filter"].startswith("__system/submissionDate ge")
    assert odk.read_wave(tmp_path / "pre")["submissions"] == odk.read_wave(tmp_path / "full" / "pre")["submissions"]
    assert not (tmp_path / ".pull").exists()


def test_an_ended_session_logs_in_again(xform_v1, kobo_subs, tmp_path):
    with central(xform_v1, kobo_subs, 2) as fake:
        with client(fake) as c:
            odk.pull_odk([odk.OdkWave("pre", 1, FORM)], tmp_path, client=c)
            fake.sessions.clear()  # the session expired on the server
            out = odk.pull_odk([odk.OdkWave("pre", 1, FORM)], tmp_path, client=c)
    assert out["pre"]["count"] == 2


def test_credentials_from_the_environment_dotenv_or_pyodk_config_never_shown(tmp_path, monkeypatch):
    for var in (odk.ENV_USER, odk.ENV_PASSWORD, "PYODK_CONFIG_FILE"):
        monkeypatch.delenv(var, raising=False)
    missing = tmp_path / "none.toml"
    with pytest.raises(SinergiError, match="no ODK Central login: set ODK_CENTRAL_USERNAME"):
        odk.credentials("https://c.example.org", env_file=tmp_path / ".env", config_path=missing)
    (tmp_path / ".env").write_text("ODK_CENTRAL_USERNAME=a@b.org\nODK_CENTRAL_PASSWORD='s3cret pw'\n")
    c = odk.credentials("https://c.example.org/", env_file=tmp_path / ".env", config_path=missing)
    assert (c.server, c.username, c.password) == ("https://c.example.org", "a@b.org", "s3cret pw")
    assert "s3cret" not in repr(c)
    (tmp_path / ".env").unlink()
    cfg = tmp_path / "pyodk.toml"
    cfg.write_text('[central]\nbase_url = "https://central.example.org"\nusername = "x@y.org"\npassword = "pw2"\n')
    c = odk.credentials(None, env_file=tmp_path / ".env", config_path=cfg)
    assert (c.server, c.username) == ("https://central.example.org", "x@y.org")
    assert "pw2" not in repr(odk.OdkClient(c))


def deploy(c, roster, xlsx, **kw):
    return odk.deploy_odk(c, project_id=1, form_id=FORM, xlsx=xlsx, roster_path=roster, instrument_version="2026.11.1",
                          wave="pre", **{"title": "Survei — Sebelum program", **kw})


def test_deploy_creates_then_leaves_alone_then_publishes_a_new_roster(xlsx, tmp_path):
    roster = tmp_path / "roster.csv"
    roster.write_bytes((DEMO / "media" / "roster.csv").read_bytes())
    with FakeCentral() as fake:
        with client(fake) as c:
            first = deploy(c, roster, xlsx)
            again = deploy(c, roster, xlsx)
            roster.write_bytes(roster.read_bytes() + "u999,Orang baru — warung\n".encode())
            third = deploy(c, roster, xlsx)
        form, url = fake.forms[(1, FORM)], fake.url
    assert (first["created"], first["changed"], again["changed"], third["created"], third["changed"]) == (
        True, True, False, False, True)
    assert first["version"].startswith("2026.11.1-pre-") and third["version"] != first["version"]
    assert first["enketo_url"] == f"{url}/-/{form.enketo_id}"
    assert first["app_users_url"].endswith("/#/projects/1/app-users")
    assert [d.version for d in form.published] == [first["version"], third["version"]]
    assert form.name == "Survei — Sebelum program"
    assert form.published[-1].attachments["roster.csv"].endswith(b"u999,Orang baru \xe2\x80\x94 warung,listed\n")
    assert len(fake.forms) == 1


def test_deploy_uploads_a_semicolon_roster_as_utf8_with_commas(xlsx, tmp_path):
    roster = tmp_path / "roster.csv"
    roster.write_bytes("name;label\r\nu001;Sari, warung\r\nu002;Budi — bengkel\r\n".encode("cp1252"))
    with FakeCentral() as fake:
        with client(fake) as c:
            deploy(c, roster, xlsx)
        sent = fake.forms[(1, FORM)].published[0].attachments["roster.csv"]
    assert sent == 'name,label,status\nu001,"Sari, warung",listed\nu002,Budi — bengkel,listed\n'.encode()


def test_deploy_refuses_the_template_and_finishes_a_cut_off_run_without_a_second_form(xlsx, tmp_path):
    roster = tmp_path / "roster.csv"
    roster.write_bytes((DEMO / "media" / "roster.csv").read_bytes())
    with FakeCentral() as fake:
        with client(fake) as c:
            with pytest.raises(SinergiError, match="template's example people"):
                deploy(c, ROOT / "instruments" / "roster_template.csv", xlsx, title="t")
            assert not fake.forms
            fake.fault("/draft/attachments/", "500", times=1)  # a POST: not retried
            with pytest.raises(SinergiError, match="upload roster.csv: .*answered 500 \\(not retried"):
                deploy(c, roster, xlsx, title="t")
            assert fake.forms[(1, FORM)].published == []  # a draft only
            done = deploy(c, roster, xlsx, title="t")
        creates = [p for m, p, q in fake.requests if m == "POST" and p == "/v1/projects/1/forms"]
    assert done["published"] and done["version"].startswith("2026.11.1-pre-")
    assert len(creates) == 1 and len(fake.forms) == 1


def test_odata_and_xml_of_the_same_submission_read_the_same(xform_v1, kobo_subs):
    from tests.odk_server import odata_row

    schema = adapter.xform_schema(xform_v1)
    with central(xform_v1, kobo_subs, 6) as fake:
        form = fake.forms[(1, FORM)]
        for sub in fake.subs[(1, FORM)]:
            row = odata_row(sub, form, expand=True)
            a = adapter.odata_submission(row)
            b = adapter.xml_submission(sub.xml, {V1: schema}, row["__id"], row["__system"])
            assert a == b
            assert json.loads(json.dumps(a)) == a


def test_the_password_and_session_token_are_never_written(xform_v1, kobo_subs, tmp_path, monkeypatch):
    cache = tmp_path / "pyodk_cache.toml"
    monkeypatch.setenv("PYODK_CACHE_FILE", str(cache))
    with central(xform_v1, kobo_subs, 3) as fake:
        pull(fake, tmp_path / "raw")
        tokens = list(fake.sessions)
    assert tokens and not cache.exists()
    for path in (tmp_path / "raw").rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            assert PASSWORD.encode() not in data and not any(t.encode() in data for t in tokens), path


def test_a_raw_record_that_is_not_an_odata_answer_is_refused_naming_it(tmp_path):
    bad = tmp_path / "odata" / "page-000001.json"
    bad.parent.mkdir()
    bad.write_text('{"results": []}')
    with pytest.raises(SinergiError, match=r"page-000001.json: not an OData record"):
        adapter.replay(record_files(tmp_path / "odata"))
