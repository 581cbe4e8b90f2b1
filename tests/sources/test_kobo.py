"""pipeline.sources.kobo against a real HTTP server on 127.0.0.1 (tests/kobo_server.py)."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pandas as pd
import pytest

from pipeline.sources import raw as raw_store
from pipeline.sources.kobo import pull as kobo_pull
from pipeline.config import Study
from pipeline.errors import SinergiError
from pipeline.instrument import asset_content, load_instrument, write_xlsform
from pipeline.sources.kobo.client import KoboClient, get_token, list_projects
from pipeline.sources.kobo.deploy import deploy
from pipeline.sources.kobo.pull import pull_kobo

from tests.kobo_server import FakeKobo, edit_submission, make_submissions

TOKEN = "tok-secret-0123456789abcdef"
INST = load_instrument()
CONTENT = asset_content(INST)


def _slim(content: dict) -> dict:
    """The form up to the profile module: light submissions for the volume tests."""
    rows, depth, seen = [], 0, False
    for row in content["survey"]:
        rows.append(row)
        seen = seen or row.get("$xpath") == "profil"
        depth += row["type"] == "begin_group"
        depth -= row["type"] == "end_group"
        if seen and depth == 0:
            break
    return {**content, "survey": rows}


SLIM = _slim(CONTENT)
ROSTER = b"name,label\nr001,Siti Aminah\nr002,Budi Santoso\n"


@pytest.fixture
def fake():
    with FakeKobo(TOKEN, max_limit=100) as server:  # small pages keep the tests fast
        yield server


@pytest.fixture
def waits():
    return []


def make_client(fake: FakeKobo, waits: list | None = None, **kw) -> KoboClient:
    opts = dict(timeout=2.0, connect_timeout=1.0, max_attempts=4, backoff=0.01)
    opts.update(kw)
    sleeps = waits if waits is not None else []
    return KoboClient(fake.url, TOKEN, sleep=sleeps.append, **opts)


def study_for(fake: FakeKobo, waves=(("pre", "aPRE"),)) -> Study:
    return Study(id="t", title="Test", source={"kind": "kobo", "server": fake.url},
                 waves=[{"id": w, "asset_uid": u} for w, u in waves])


def add(fake: FakeKobo, uid: str, n: int, full_form: bool = False, **kw):
    subs = make_submissions(CONTENT if full_form else SLIM, n, uid=uid, seed=sum(map(ord, uid)))
    asset = fake.add_asset(uid, f"Survei {uid}", CONTENT, submissions=subs, **kw)
    return asset


def disk_rows(raw: Path, wave: str = "pre", staged: bool = False) -> list[dict]:
    """The wave's current submissions as the raw record says (record files replayed)."""
    folders = [raw / wave / "data"] + ([raw / raw_store.STAGE / wave / "data"] if staged else [])
    state, _ = raw_store.replay(raw_store.record_files(*folders))
    return [state[i] for i in sorted(state)]


def page_rows(raw: Path, wave: str = "pre") -> list[dict]:
    """Every row of every page file, repeats included."""
    rows = []
    for p in sorted((raw / wave / "data").glob("page-*.json")):
        rows += json.loads(p.read_text())["results"]
    return rows


def assert_exact(raw: Path, asset, wave: str = "pre") -> None:
    """The raw record equals the server's (visible) submissions, row for row."""
    rows = disk_rows(raw, wave)
    server = sorted(asset.visible(), key=lambda s: s["_id"])
    assert [r["_id"] for r in rows] == [s["_id"] for s in server]
    assert rows == server


# -- token ---------------------------------------------------------------------------------------


def test_token_from_env_then_dotenv(tmp_path, monkeypatch):
    env = tmp_path / ".env"
    env.write_text("# comment\nOTHER=1\nexport KOBO_TOKEN='abc123'\n")
    monkeypatch.delenv("KOBO_TOKEN", raising=False)
    assert get_token(env_file=env) == "abc123"
    monkeypatch.setenv("KOBO_TOKEN", "fromenv")
    assert get_token(env_file=env) == "fromenv"


def test_missing_token_says_how_to_get_one(tmp_path, monkeypatch):
    monkeypatch.delenv("KOBO_TOKEN", raising=False)
    with pytest.raises(SinergiError) as e:
        get_token(env_file=tmp_path / ".env", server="https://eu.kobotoolbox.org")
    msg = str(e.value)
    assert "https://eu.kobotoolbox.org/token/?format=json" in msg
    assert "export KOBO_TOKEN=" in msg and ".env" in msg and "\n" not in msg


# -- a normal pull -------------------------------------------------------------------------------


def test_normal_pull_writes_the_raw_layout(fake, tmp_path, waits):
    pre = add(fake, "aPRE", 130, full_form=True)
    post = add(fake, "aPOST", 40, full_form=True)
    for s in post.submissions[:5]:
        s["__version__"] = "vOLD"
    post.versions["vOLD"] = CONTENT
    fake.add_file("aPRE", "roster.csv", ROSTER)
    study = study_for(fake, (("pre", "aPRE"), ("post", "aPOST")))
    with make_client(fake, waits) as client:
        out = pull_kobo(study, tmp_path, client=client, progress=False)
    assert set(out) == {"pre", "post"}
    assert_exact(tmp_path, pre, "pre")
    assert_exact(tmp_path, post, "post")
    m = out["pre"]
    assert m["asset_uid"] == "aPRE" and m["server"] == fake.url
    assert m["count"] == 130 and m["id_min"] == 1 and m["id_max"] == 130
    assert m["pulled_at"].endswith("Z")
    assert "pre/asset.json" in m["files"] and "pre/media/roster.csv" in m["files"]
    assert "pre/data/page-000001.json" in m["files"]
    assert (tmp_path / "pre" / "media" / "roster.csv").read_bytes() == ROSTER
    asset = json.loads((tmp_path / "pre" / "asset.json").read_text())
    assert asset["content"] == CONTENT and asset["uid"] == "aPRE"
    page = json.loads((tmp_path / "pre" / "data" / "page-000001.json").read_text())
    assert set(page) == {"count", "next", "previous", "results"}
    assert (tmp_path / "post" / "versions" / "vOLD.json").exists()
    assert not (tmp_path / "pre" / "versions").exists()
    assert waits == []  # nothing retried
    # an incremental pull with nothing new writes no page and keeps the manifest stable
    with make_client(fake) as client:
        again = pull_kobo(study, tmp_path, client=client, progress=False)
    assert again["pre"]["files"] == m["files"]


def test_thousands_over_clamped_pages(tmp_path):
    with FakeKobo(TOKEN) as fake:
        _thousands(fake, tmp_path)


def _thousands(fake, tmp_path):
    asset = add(fake, "aPRE", 3500)
    with make_client(fake) as client:
        pages = list(client.iter_data_pages("aPRE", limit=30000))  # clamped to 1000 by the server
        assert [len(p["results"]) for p in pages] == [1000, 1000, 1000, 500]
        fake.requests.clear()
        pull_kobo(study_for(fake), tmp_path, client=client, progress=False)
    assert sorted((tmp_path / "pre" / "data").glob("page-*.json"))[-1].name == "page-000004.json"
    full = [q for q in fake.data_requests() if "fields" not in q]
    sweep = [q for q in fake.data_requests() if "fields" in q]
    assert len(full) == 4  # count says when to stop: no extra empty request
    assert len(sweep) == 4 and json.loads(sweep[0]["fields"]) == ["_id", "_uuid", "_validation_status"]
    assert_exact(tmp_path, asset)


def test_small_server_limit_still_gets_everything(tmp_path):
    with FakeKobo(TOKEN, max_limit=100) as fake:
        asset = add(fake, "aPRE", 250)
        with make_client(fake) as client:
            pull_kobo(study_for(fake), tmp_path, client=client, progress=False)
        assert [json.loads(p.read_text())["results"].__len__()
                for p in sorted((tmp_path / "pre" / "data").glob("page-*.json"))] == [100, 100, 50]
        assert_exact(tmp_path, asset)


# -- faults --------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind,opts", [
    ("429", {"retry_after": 7}),
    ("500", {}),
    ("502", {}),
    ("503", {"times": 2}),
    ("504", {}),
    ("slow", {"delay": 1.0}),
    ("truncate", {}),
    ("drop", {}),
])
def test_each_fault_recovers_without_loss(tmp_path, kind, opts, waits):
    with FakeKobo(TOKEN, max_limit=50) as fake:
        asset = add(fake, "aPRE", 120)
        fault = fake.fault("/data/", kind, skip=1, **opts)
        with make_client(fake, waits, timeout=0.4) as client:
            out = pull_kobo(study_for(fake), tmp_path, client=client, progress=False)
        assert fault.hits == opts.get("times", 1)
        assert_exact(tmp_path, asset)
        assert out["pre"]["count"] == 120
        assert len(waits) == fault.hits
        if kind == "429":
            assert waits == [7.0]  # Retry-After honoured


def test_faults_on_asset_and_media_recover(fake, tmp_path, waits):
    asset = add(fake, "aPRE", 10)
    fake.add_file("aPRE", "roster.csv", ROSTER)
    fake.fault("/api/v2/assets/aPRE/", "drop", times=1)
    fake.fault("/content/", "503", times=1)
    with make_client(fake, waits) as client:
        pull_kobo(study_for(fake), tmp_path, client=client, progress=False)
    assert (tmp_path / "pre" / "media" / "roster.csv").read_bytes() == ROSTER
    assert_exact(tmp_path, asset)
    assert len(waits) == 2


def test_retries_are_bounded_and_backoff_grows(fake, waits):
    add(fake, "aPRE", 5)
    fake.fault("/api/v2/assets/aPRE/", "503", times=-1)
    with make_client(fake, waits, max_attempts=5, backoff=1.0, max_backoff=4.0) as client:
        with pytest.raises(SinergiError) as e:
            client.get_asset("aPRE")
    assert len(fake.requests) == 5 and len(waits) == 4
    assert [int(w) for w in waits] == [1, 2, 4, 4]
    assert "aPRE" in str(e.value) and "503" in str(e.value) and "5 attempt" in str(e.value)


def test_invalid_json_every_time_is_a_clear_error(fake, waits):
    add(fake, "aPRE", 5)
    fake.fault("/api/v2/assets/aPRE/", "truncate", times=-1)
    with make_client(fake, waits, max_attempts=3) as client:
        with pytest.raises(SinergiError, match="not valid JSON"):
            client.get_asset("aPRE")
    assert len(waits) == 2


@pytest.mark.parametrize("status", [400, 403])
def test_client_errors_are_never_retried(fake, waits, status):
    add(fake, "aPRE", 5)
    fake.fault("/api/v2/assets/aPRE/", str(status), times=-1)
    with make_client(fake, waits) as client:
        with pytest.raises(SinergiError) as e:
            client.get_asset("aPRE")
    assert len(fake.requests) == 1 and waits == []
    assert "aPRE" in str(e.value) and str(status) in str(e.value)


# -- kill and resume -----------------------------------------------------------------------------


def test_pull_killed_after_page_two_then_resumed(tmp_path, waits):
    with FakeKobo(TOKEN, max_limit=100) as fake:
        asset = add(fake, "aPRE", 350)
        dead = fake.fault("/data/", "503", skip=2, times=-1)
        study = study_for(fake)
        with make_client(fake, waits, max_attempts=3) as client:
            with pytest.raises(SinergiError) as e:
                pull_kobo(study, tmp_path, client=client, progress=False)
        msg = str(e.value)
        assert msg.startswith("wave pre:") and "aPRE" in msg and TOKEN not in msg
        assert not (tmp_path / "pre").exists()  # the raw folder is as it was
        assert len(disk_rows(tmp_path, staged=True)) == 200  # the two pages that arrived are kept
        fake.faults.remove(dead)
        fake.requests.clear()
        with make_client(fake) as client:
            out = pull_kobo(study, tmp_path, client=client, progress=False)
        assert json.loads(fake.data_requests()[0]["query"]) == {"_id": {"$gt": 200}}
        assert_exact(tmp_path, asset)
        assert out["pre"]["count"] == 350 and out["pre"]["id_max"] == 350
        assert [p.name for p in sorted((tmp_path / "pre" / "data").glob("page-*.json"))] == [
            f"page-00000{i}.json" for i in range(1, 5)]
        assert not (tmp_path / raw_store.STAGE).exists()


def test_failed_second_wave_leaves_raw_exactly_as_it_was(fake, tmp_path):
    pre, post = add(fake, "aPRE", 30), add(fake, "aPOST", 20)
    fake.add_file("aPRE", "roster.csv", ROSTER)
    study = study_for(fake, (("pre", "aPRE"), ("post", "aPOST")))
    with make_client(fake) as client:
        pull_kobo(study, tmp_path, client=client, progress=False)
    before = {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()}
    pre.submissions += make_submissions(SLIM, 5, start_id=31, uid="aPRE", seed=5)
    fake.assets["aPRE"].files[0]["data"] = ROSTER + b"r003,Dewi\n"
    fake.fault("/api/v2/assets/aPOST/", "404", times=-1)
    with make_client(fake) as client, pytest.raises(SinergiError, match="wave post"):
        pull_kobo(study, tmp_path, client=client, progress=False)
    after = {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file() and raw_store.STAGE not in p.parts}
    assert after == before  # not a byte of raw changed: new pages, roster and asset wait in .pull/
    fake.faults.clear()
    with make_client(fake) as client:
        out = pull_kobo(study, tmp_path, client=client, progress=False)
    assert_exact(tmp_path, pre, "pre") and out["pre"]["count"] == 35
    assert (tmp_path / "pre" / "media" / "roster.csv").read_bytes().endswith(b"Dewi\n")


def test_hard_kill_mid_pull_leaves_pages_intact(fake, tmp_path, monkeypatch):
    asset = add(fake, "aPRE", 250)
    study = study_for(fake)
    real = kobo_pull.write_json
    calls = {"n": 0}

    def dying_write(path, obj, **kw):
        if Path(path).name.startswith("page-"):
            calls["n"] += 1
            if calls["n"] == 2:
                raise KeyboardInterrupt  # killed while writing page 2
        return real(path, obj, **kw)

    monkeypatch.setattr(kobo_pull, "write_json", dying_write)
    with make_client(fake) as client, pytest.raises(KeyboardInterrupt):
        pull_kobo(study, tmp_path, client=client, progress=False)
    assert len(disk_rows(tmp_path, staged=True)) == 100 and disk_rows(tmp_path) == []
    assert not list((tmp_path / raw_store.STAGE / "pre" / "data").glob(".*"))  # no half-written page
    monkeypatch.setattr(kobo_pull, "write_json", real)
    with make_client(fake) as client:
        pull_kobo(study, tmp_path, client=client, progress=False)
    assert_exact(tmp_path, asset)


def test_kill_during_the_commit_is_finished_by_the_next_pull(fake, tmp_path, monkeypatch):
    asset = add(fake, "aPRE", 250)
    study = study_for(fake)
    real = kobo_pull.os.replace
    calls = {"n": 0}

    def dying_replace(src, dst):
        moving = raw_store.STAGE in Path(src).parts and raw_store.STAGE not in Path(dst).parts
        calls["n"] += moving
        if moving and calls["n"] == 2:
            raise KeyboardInterrupt  # killed after moving one file into place
        return real(src, dst)

    monkeypatch.setattr(kobo_pull.os, "replace", dying_replace)
    with make_client(fake) as client, pytest.raises(KeyboardInterrupt):
        pull_kobo(study, tmp_path, client=client, progress=False)
    monkeypatch.setattr(kobo_pull.os, "replace", real)
    assert (tmp_path / raw_store.STAGE / "COMMIT").exists()
    fake.requests.clear()
    with make_client(fake) as client:
        pull_kobo(study, tmp_path, client=client, progress=False)
    assert_exact(tmp_path, asset)
    assert not (tmp_path / raw_store.STAGE).exists()
    assert len([p for p in (tmp_path / "pre" / "data").glob("page-*.json")]) == 3  # nothing fetched twice


def test_killed_full_pull_keeps_previous_pages(fake, tmp_path, monkeypatch):
    asset = add(fake, "aPRE", 250)
    study = study_for(fake)
    with make_client(fake) as client:
        pull_kobo(study, tmp_path, client=client, progress=False)
    before = {p.name: p.read_bytes() for p in (tmp_path / "pre" / "data").glob("page-*.json")}
    real_iter = KoboClient.iter_data_pages

    def killed(self, *a, **kw):
        for i, page in enumerate(real_iter(self, *a, **kw)):
            if i == 1:
                raise KeyboardInterrupt
            yield page

    monkeypatch.setattr(KoboClient, "iter_data_pages", killed)
    with make_client(fake) as client, pytest.raises(KeyboardInterrupt):
        pull_kobo(study, tmp_path, client=client, full=True, progress=False)
    monkeypatch.setattr(KoboClient, "iter_data_pages", real_iter)
    assert {p.name: p.read_bytes() for p in (tmp_path / "pre" / "data").glob("page-*.json")} == before
    with make_client(fake) as client:
        pull_kobo(study, tmp_path, client=client, progress=False)  # resumes, nothing new
    assert not (tmp_path / raw_store.STAGE).exists()
    assert_exact(tmp_path, asset)


def test_submissions_arriving_during_the_pull_are_kept(fake, tmp_path):
    asset = add(fake, "aPRE", 200)
    extra = make_submissions(SLIM, 30, start_id=201, uid="aPRE", seed=9)
    state = {"n": 0}

    def arrive(method, path, query):
        if path.endswith("/data/"):
            state["n"] += 1
            if state["n"] == 2:
                asset.submissions.extend(extra)

    fake.before.append(arrive)
    with make_client(fake) as client:
        out = pull_kobo(study_for(fake), tmp_path, client=client, progress=False)
    assert out["pre"]["count"] == 230
    assert_exact(tmp_path, asset)


def test_short_answer_against_count_is_an_error(fake):
    asset = add(fake, "aPRE", 30)
    lost = {"done": False}

    def delete_mid_pull(method, path, query):  # a submission deleted between two pages
        if path.endswith("/data/") and "query" in query and not lost["done"]:
            lost["done"] = True
            asset.submissions.pop()

    with FakeKobo(TOKEN, max_limit=10) as small:
        small.assets["aPRE"] = asset
        small.before.append(delete_mid_pull)
        with make_client(small) as client:
            with pytest.raises(SinergiError, match="reported 30 submission"):
                list(client.iter_data_pages("aPRE"))


# -- edits and --full ----------------------------------------------------------------------------


def test_edit_is_seen_by_an_incremental_pull(fake, tmp_path):
    asset = add(fake, "aPRE", 150)
    study = study_for(fake)
    with make_client(fake) as client:
        pull_kobo(study, tmp_path, client=client, progress=False)
    first = {p.name: p.read_bytes() for p in (tmp_path / "pre" / "data").iterdir()}
    edited = next(s for s in asset.submissions if s["_id"] == 42)
    old_uuid = edited["meta/instanceID"]
    edit_submission(edited, {"profil/umur": "99"})
    with make_client(fake) as client:
        out = pull_kobo(study, tmp_path, client=client, progress=False)
    row = {r["_id"]: r for r in disk_rows(tmp_path)}[42]
    assert row["profil/umur"] == "99" and row["meta/deprecatedID"] == old_uuid
    assert out["pre"]["changes"] == {"new": 0, "late": 0, "changed": 1, "deleted": 0, "total": 150}
    assert_exact(tmp_path, asset)
    # raw is append-only: the first pages are untouched, the edit is a new page
    assert {p.name: p.read_bytes() for p in (tmp_path / "pre" / "data").iterdir() if p.name in first} == first
    assert [r["_id"] for r in json.loads((tmp_path / "pre" / "data" / "page-000003.json").read_text())["results"]] == [42]
    _, events = raw_store.replay(raw_store.record_files(tmp_path / "pre" / "data"))
    assert events == [{"kind": "edited", "_id": 42, "old": old_uuid, "new": edited["meta/instanceID"],
                       "file": "page-000003.json"}]
    with make_client(fake) as client:  # FULL=1 still refetches everything, appended
        pull_kobo(study, tmp_path, client=client, full=True, progress=False)
    assert_exact(tmp_path, asset)
    assert len(page_rows(tmp_path)) == 301


def test_changed_roster_keeps_old_version(fake, tmp_path):
    add(fake, "aPRE", 3)
    f = fake.add_file("aPRE", "roster.csv", ROSTER)
    study = study_for(fake)
    with make_client(fake) as client:
        pull_kobo(study, tmp_path, client=client, progress=False)
    f["data"] = ROSTER + b"r003,Dewi Lestari\n"
    with make_client(fake) as client:
        out = pull_kobo(study, tmp_path, client=client, progress=False)
    import hashlib
    sha8 = hashlib.sha256(ROSTER).hexdigest()[:8]
    media = tmp_path / "pre" / "media"
    assert (media / f"roster.{sha8}.csv").read_bytes() == ROSTER
    assert (media / "roster.csv").read_bytes().endswith(b"Dewi Lestari\n")
    assert f"pre/media/roster.{sha8}.csv" in out["pre"]["files"]


# -- errors and the token ------------------------------------------------------------------------


def test_bad_token_is_401_message_without_retry(fake, tmp_path, waits):
    add(fake, "aPRE", 3)
    client = KoboClient(fake.url, "wrong-token-xyz", sleep=waits.append, timeout=2)
    with client, pytest.raises(SinergiError) as e:
        pull_kobo(study_for(fake), tmp_path, client=client, progress=False)
    msg = str(e.value)
    assert "token rejected by " + fake.url in msg and "wave pre" in msg
    assert "wrong-token-xyz" not in msg
    assert len(fake.requests) == 1 and waits == []


def test_unknown_asset_is_404_message(fake, tmp_path, waits):
    with make_client(fake, waits) as client, pytest.raises(SinergiError) as e:
        pull_kobo(study_for(fake, (("pre", "aNOPE"),)), tmp_path, client=client, progress=False)
    msg = str(e.value)
    assert "asset aNOPE not found or no permission on " + fake.url in msg
    assert "kf vs eu" in msg and "wave pre" in msg
    assert len(fake.requests) == 1 and waits == []


def test_token_never_leaks(fake, tmp_path, caplog, waits):
    caplog.set_level(logging.DEBUG)
    add(fake, "aPRE", 120)
    fake.add_file("aPRE", "roster.csv", ROSTER)
    fake.fault("/data/", "drop", skip=1)
    fake.fault("/data/", "429", retry_after=0)
    client = make_client(fake, waits)
    assert TOKEN not in repr(client) and TOKEN not in str(vars(client))
    with client:
        pull_kobo(study_for(fake), tmp_path, client=client, progress=False)
        fake.fault("/data/", "503", times=-1)
        with pytest.raises(SinergiError) as e:
            pull_kobo(study_for(fake), tmp_path, client=client, full=True, progress=False)
    assert TOKEN not in str(e.value)
    with pytest.raises(SinergiError) as e2:
        with KoboClient(fake.url, TOKEN + "x", sleep=waits.append) as bad:
            bad.get_asset("aPRE")
    assert TOKEN not in str(e2.value)
    assert "HTTP Request" in caplog.text or caplog.records  # httpx did log
    assert TOKEN not in caplog.text
    for p in tmp_path.rglob("*"):
        if p.is_file():
            assert TOKEN.encode() not in p.read_bytes(), p
    assert all(h == f"Token {TOKEN}" for h in fake.auth_headers[:-1])  # it was sent, to the server only


def test_token_not_sent_to_other_hosts(fake):
    add(fake, "aPRE", 1)
    with FakeKobo("other-token") as other:
        other.add_asset("aX", "x", CONTENT)
        f = other.add_file("aX", "roster.csv", ROSTER)
        with make_client(fake) as client, pytest.raises(SinergiError, match="token rejected"):
            client.download(f"{other.url}/api/v2/assets/aX/files/{f['uid']}/content/")
        assert other.auth_headers == [None]


# -- project list and deploy ---------------------------------------------------------------------


def test_list_projects_follows_next(tmp_path):
    with FakeKobo(TOKEN, asset_page_size=2) as fake:
        add(fake, "aPRE", 12)
        add(fake, "aPOST", 3)
        fake.add_asset("aDRAFT", "Draf", CONTENT, deployed=False)
        with make_client(fake) as client:
            df = list_projects(client)
        assert list(df.columns) == ["uid", "name", "submissions", "deployed", "via"]
        assert df.drop(columns="via").to_dict("records") == [
            {"uid": "aPRE", "name": "Survei aPRE", "submissions": 12, "deployed": True},
            {"uid": "aPOST", "name": "Survei aPOST", "submissions": 3, "deployed": True},
            {"uid": "aDRAFT", "name": "Draf", "submissions": 0, "deployed": False}]
        assert sum(1 for m, p, q in fake.requests if p == "/api/v2/assets/") == 2


def test_list_includes_organisation_and_project_view_projects(fake):
    """Org admins and project-view users have no permission rows: kpi's /assets/ omits their
    projects (kpi/filters.py:193-216); they are under /organizations/ and /project-views/."""
    add(fake, "aOWN", 2)
    add(fake, "aORG", 4, listed=False)
    add(fake, "aVIEW", 5, listed=False)
    add(fake, "aPART", 6, partial=lambda s: s["_id"] % 2 == 0)
    fake.organizations["orgX"] = ["aORG", "aOWN"]  # aOWN is in both: listed once
    fake.project_views["pvY"] = ["aVIEW"]
    with make_client(fake) as client:
        df = list_projects(client)
    assert list(df["uid"]) == ["aOWN", "aPART", "aORG", "aVIEW"]
    assert list(df["via"]) == ["own or shared", "own or shared", "organisation Org orgX", "project view View pvY"]
    assert df.set_index("uid").loc["aPART", "submissions"] is pd.NA  # partial permission: no count


@pytest.fixture(scope="module")
def xlsform(tmp_path_factory):
    path = tmp_path_factory.mktemp("form") / "sinergi.xlsx"
    write_xlsform(INST, path)
    return path


def test_deploy_creates_uploads_roster_and_deploys(fake, xlsform, tmp_path, waits):
    roster = tmp_path / "warga.csv"
    roster.write_bytes(ROSTER)
    fake.import_polls = 2
    with make_client(fake, waits) as client:
        out = deploy(client, xlsform, roster, poll=0.5)
    uid = out["uid"]
    asset = fake.assets[uid]
    assert asset.name == INST.form["title"]["id"]
    assert asset.deployed and asset.active and asset.deployed_version_id == asset.version_id
    assert [(f["filename"], f["data"], f["file_type"]) for f in asset.files] == [
        ("roster.csv", ROSTER, "form_media")]
    assert out["url"] == f"https://ee.example/x/{uid}"
    imp = next(iter(fake.imports.values()))
    assert imp["library"] == "false" and imp["destination"] is None
    assert waits == [0.5, 0.5]  # two polls while processing
    methods = [(m, p) for m, p, q in fake.requests if p.endswith("/deployment/")]
    assert methods == [("POST", f"/api/v2/assets/{uid}/deployment/")]


def test_deploy_updates_existing_project(fake, xlsform, tmp_path):
    old = add(fake, "aPRE", 3)
    fake.add_file("aPRE", "roster.csv", b"name,label\nr001,Lama\n")
    roster = tmp_path / "roster.csv"
    roster.write_bytes(ROSTER)
    with make_client(fake) as client:
        out = deploy(client, xlsform, roster, asset_uid="aPRE", poll=0)
    assert out == {"uid": "aPRE", "url": "https://ee.example/x/aPRE", "created": False,
                   "name": INST.form["title"]["id"], "project_url": f"{fake.url}/#/forms/aPRE/landing"}
    assert old.version_id != "vAAA" and old.deployed_version_id == old.version_id
    assert [(f["filename"], f["data"]) for f in old.files] == [("roster.csv", ROSTER)]
    imp = next(iter(fake.imports.values()))
    assert imp["destination"] == f"{fake.url}/api/v2/assets/aPRE/"
    patches = [m for m, p, q in fake.requests if p.endswith("/deployment/")]
    assert patches == ["PATCH"]


def test_deploy_does_not_retry_a_post_that_may_have_worked(fake, xlsform, tmp_path, waits):
    fake.fault("/api/v2/imports/", "502", times=-1)
    roster = tmp_path / "roster.csv"
    roster.write_bytes(ROSTER)
    with make_client(fake, waits) as client, pytest.raises(SinergiError, match="502"):
        deploy(client, xlsform, roster, poll=0)
    assert len(fake.requests) == 1 and waits == []


def test_deploy_reports_a_failed_import(fake, tmp_path):
    bad = tmp_path / "bad.xlsx"
    bad.write_bytes(b"not a workbook")
    roster = tmp_path / "roster.csv"
    roster.write_bytes(ROSTER)
    with make_client(fake) as client, pytest.raises(SinergiError, match="could not import"):
        deploy(client, bad, roster, poll=0)


# -- waiting, in words and within a bound --------------------------------------------------------


def test_a_long_retry_after_gives_up_at_once_saying_why(fake, waits, caplog):
    add(fake, "aPRE", 3)
    fake.fault("/api/v2/assets/aPRE/", "429", retry_after=3600, times=-1)
    with make_client(fake, waits, max_wait=300) as client, pytest.raises(SinergiError) as e:
        client.get_asset("aPRE")
    msg = str(e.value)
    assert waits == [] and len(fake.requests) == 1
    assert "3600 s (Retry-After)" in msg and "source.max_wait = 300 s" in msg


def test_a_silent_server_is_announced_and_given_up_within_max_wait(fake, caplog):
    add(fake, "aPRE", 3)
    fake.fault("/api/v2/assets/aPRE/", "slow", delay=5.0, times=-1)
    caplog.set_level(logging.WARNING, logger="pipeline.sources.kobo")
    import time

    t0 = time.monotonic()
    with KoboClient(fake.url, TOKEN, timeout=1.0, max_wait=3, patience=0.5, backoff=0.2,
                    sleep=time.sleep) as client, pytest.raises(SinergiError) as e:
        client.get_asset("aPRE")
    took = time.monotonic() - t0
    assert took < 6, took  # within about max_wait, not 6 attempts × the timeout
    assert "max_wait" in str(e.value) or "gave up" in str(e.value)
    assert "still waiting for " + fake.url in caplog.text  # said while it waited
    assert "trying again in" in caplog.text


def test_each_retry_is_announced(fake, tmp_path, caplog):
    caplog.set_level(logging.WARNING, logger="pipeline.sources.kobo")
    asset = add(fake, "aPRE", 20)
    fake.fault("/data/", "503", times=2)
    with make_client(fake) as client:
        pull_kobo(study_for(fake), tmp_path, client=client, progress=False)
    assert_exact(tmp_path, asset)
    lines = [r.getMessage() for r in caplog.records if "trying again" in r.getMessage()]
    assert len(lines) == 2 and "503" in lines[0] and "attempt 2 of 4" in lines[0]


def test_a_401_that_echoes_the_token_is_scrubbed(fake):
    add(fake, "aPRE", 1)
    fake.fault("/api/v2/assets/aPRE/", "401", body={"detail": f"Invalid token: Token {TOKEN}"})
    with make_client(fake) as client, pytest.raises(SinergiError) as e:
        client.get_asset("aPRE")
    assert TOKEN not in str(e.value) and "token rejected" in str(e.value) and "***" in str(e.value)


def test_a_web_page_instead_of_json_is_said_in_words(fake, waits):
    add(fake, "aPRE", 1)
    fake.fault("/api/v2/assets/aPRE/", "html", times=-1)
    with make_client(fake, waits) as client, pytest.raises(SinergiError) as e:
        client.get_asset("aPRE")
    assert "web page, not the KoboToolbox API" in str(e.value) and "source.server" in str(e.value)
    assert waits == []  # not retried: another attempt gets the same page


# -- deploy from the command line ----------------------------------------------------------------


def _kobo_study(tmp_path, fake, uid="aNONE", post_uid=None):
    import yaml

    post = {"id": "post", "label": {"id": "Sesudah", "en": "After"}}
    doc = {"id": "deploy-test", "title": "Modal Sosial Desa X",
           "source": {"kind": "kobo", "server": fake.url},
           "waves": [{"id": "pre", "label": {"id": "Sebelum", "en": "Before"}, "asset_uid": uid},
                     {**post, "asset_uid": post_uid} if post_uid else post]}
    path = tmp_path / "study.yaml"
    path.write_text(yaml.safe_dump(doc, allow_unicode=True))
    return path


def test_cli_deploy_names_the_wave_project_and_never_duplicates_it(fake, xlsform, tmp_path, monkeypatch, capsys):
    from pipeline.cli import main

    monkeypatch.setenv("KOBO_TOKEN", TOKEN)
    monkeypatch.delenv("KOBO_SERVER", raising=False)
    study = _kobo_study(tmp_path, fake, post_uid="aLATER")
    (tmp_path / "roster.csv").write_bytes(ROSTER)
    args = ["kobo", "deploy", "--study", str(study), "--wave", "post", "--roster", str(tmp_path / "roster.csv"),
            "--xlsform", str(xlsform)]
    # the study's wave has an asset_uid that is not there: a clear 404, nothing created
    assert main(args) == 2
    assert "aLATER not found" in capsys.readouterr().err and not fake.imports
    _kobo_study(tmp_path, fake)
    assert main(args) == 0  # the study's server, not the Global one
    out = capsys.readouterr().out
    (uid,) = list(fake.assets)
    assert fake.assets[uid].name == "Modal Sosial Desa X — Sesudah"  # form_title, as kpi names it
    assert f"put `asset_uid: {uid}` under wave post" in out and "collect at https://ee.example/x/" in out
    n_imports = len(fake.imports)
    assert main(args) == 2  # a rerun without the uid finds the project and refuses to duplicate it
    err = capsys.readouterr().err
    assert f"--asset-uid {uid}" in err and "already exists" in err and len(fake.assets) == 1
    assert len(fake.imports) == n_imports
    assert main(args + ["--asset-uid", uid]) == 0 and len(fake.assets) == 1
    assert "updated and deployed" in capsys.readouterr().out


def test_cli_deploy_resumes_a_project_an_earlier_run_left_undeployed(fake, xlsform, tmp_path, monkeypatch, capsys):
    from pipeline.cli import main

    monkeypatch.setenv("KOBO_TOKEN", TOKEN)
    study = _kobo_study(tmp_path, fake)
    fake.add_asset("aHALF", "Modal Sosial Desa X — Sesudah", CONTENT, deployed=False)
    (tmp_path / "roster.csv").write_bytes(ROSTER)
    assert main(["kobo", "deploy", "--study", str(study), "--wave", "post", "--roster",
                 str(tmp_path / "roster.csv"), "--xlsform", str(xlsform)]) == 0
    assert list(fake.assets) == ["aHALF"] and fake.assets["aHALF"].deployed


def test_cli_deploy_needs_a_real_roster(fake, xlsform, tmp_path, monkeypatch, capsys):
    from pipeline.cli import main

    monkeypatch.setenv("KOBO_TOKEN", TOKEN)
    assert main(["kobo", "deploy", "--server", fake.url, "--xlsform", str(xlsform)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("sinergi: error: ") and err.count("\n") == 1 and "--roster is missing" in err
    template = Path(__file__).resolve().parents[2] / "instruments" / "roster_template.csv"
    assert main(["kobo", "deploy", "--server", fake.url, "--roster", str(template), "--xlsform", str(xlsform)]) == 2
    assert "example people" in capsys.readouterr().err and not fake.imports


def test_cli_deploy_without_an_enketo_link_says_where_to_find_it(fake, xlsform, tmp_path, monkeypatch, capsys):
    from pipeline.cli import main

    monkeypatch.setenv("KOBO_TOKEN", TOKEN)
    asset = add(fake, "aPRE", 1)
    asset.enketo = False
    (tmp_path / "roster.csv").write_bytes(ROSTER)
    assert main(["kobo", "deploy", "--server", fake.url, "--roster", str(tmp_path / "roster.csv"),
                 "--xlsform", str(xlsform), "--asset-uid", "aPRE"]) == 0
    out = capsys.readouterr().out
    assert "None" not in out and f"{fake.url}/#/forms/aPRE/landing" in out


def test_cli_list_uses_the_study_server(fake, tmp_path, monkeypatch, capsys):
    from pipeline.cli import main

    monkeypatch.setenv("KOBO_TOKEN", TOKEN)
    monkeypatch.delenv("KOBO_SERVER", raising=False)
    add(fake, "aPRE", 4)
    study = _kobo_study(tmp_path, fake, uid="aPRE")
    assert main(["kobo", "list", "--study", str(study)]) == 0
    out = capsys.readouterr().out
    assert fake.url in out and "aPRE" in out


def test_deploy_onto_a_view_only_project_is_said(fake, xlsform, tmp_path):
    asset = add(fake, "aPRE", 2)
    asset.perms = {"view_asset", "view_submissions"}
    roster = tmp_path / "roster.csv"
    roster.write_bytes(ROSTER)
    with make_client(fake) as client, pytest.raises(SinergiError) as e:
        deploy(client, xlsform, roster, asset_uid="aPRE", poll=0)
    assert "could not import" in str(e.value) and "permission" in str(e.value)
    assert asset.version_id == "vAAA" and not asset.files  # nothing changed on the server
    with make_client(fake) as client, pytest.raises(SinergiError) as e:
        client.request("DELETE", client.url("/api/v2/assets/aPRE/files/x/"), where="test", expect="none")
    assert "no permission" in str(e.value) and "403" in str(e.value)
