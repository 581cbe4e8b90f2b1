"""KoboToolbox as kpi really behaves (../shared/research/kobo-conformance.md): submissions that
appear out of ``_id`` order, validation changes, edits and deletions in place, a pending draft,
form versions with moved or renamed questions, permissions. Each pull is followed by tidy, and
the canonical tables are compared with what they must be."""

from __future__ import annotations

import copy
import json
import shutil
from pathlib import Path

import pandas as pd
import pytest

from pipeline.config import Study
from pipeline.errors import SinergiError
from pipeline.instrument import load_instrument
from pipeline.sources.kobo.client import KoboClient
from pipeline.sources.kobo.pull import pull_kobo
from pipeline.tidy import tidy_kobo

from tests.kobo_server import FakeKobo, edit_submission

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "data" / "raw" / "demo-kaloran"
INST = load_instrument(ROOT / "instruments" / "sinergi.yaml")
TOKEN = "tok-fidelity-0123456789abcdef"
TABLES = ("respondents", "responses", "ties")


def demo_wave(wave: str) -> tuple[dict, list[dict], dict[str, dict]]:
    asset = json.loads((DEMO / wave / "asset.json").read_text())
    subs = [s for p in sorted((DEMO / wave / "data").glob("page-*.json"))
            for s in json.loads(p.read_text())["results"]]
    vdir = DEMO / wave / "versions"
    versions = {v.stem: json.loads(v.read_text())["content"] for v in vdir.glob("*.json")} if vdir.is_dir() else {}
    return asset, subs, versions


def load_demo(fake: FakeKobo) -> dict[str, "object"]:
    """Both demo waves on the fake server, as a KoboToolbox project each."""
    out = {}
    for wave in ("pre", "post"):
        asset, subs, versions = demo_wave(wave)
        a = fake.add_asset(asset["uid"], asset["name"], asset["content"], version_id=asset["version_id"],
                           submissions=copy.deepcopy(subs))
        a.versions.update(versions)
        fake.add_file(asset["uid"], "roster.csv", (DEMO / wave / "media" / "roster.csv").read_bytes())
        out[wave] = a
    return out


def study(fake: FakeKobo, assets: dict, **extra) -> Study:
    return Study(id="fidelity", title="Fidelity", instrument=ROOT / "instruments" / "sinergi.yaml",
                 site="Kaloran Brimob", source={"kind": "kobo", "server": fake.url},
                 waves=[{"id": w, "asset_uid": a.uid} for w, a in assets.items()], **extra)


def raw_dir(tmp: Path, name: str) -> Path:
    raw = tmp / name
    raw.mkdir()
    shutil.copy(DEMO / "pseudonym.key", raw / "pseudonym.key")  # same key → same pseudonyms
    return raw


def pull(fake: FakeKobo, st: Study, raw: Path, full: bool = False) -> dict:
    with KoboClient(fake.url, TOKEN, sleep=lambda s: None, timeout=5, backoff=0.01) as client:
        return pull_kobo(st, raw, full=full, progress=False, client=client)


def tidy(st: Study, raw: Path) -> dict[str, pd.DataFrame]:
    return tidy_kobo(st, INST, raw)


def assert_same(a: dict, b: dict) -> None:
    for name in TABLES:
        pd.testing.assert_frame_equal(a[name].reset_index(drop=True), b[name].reset_index(drop=True),
                                      check_dtype=False, obj=name)


@pytest.fixture(scope="module")
def demo_tables():
    """The demo study's tables, read straight from its raw folder (the reference)."""
    from pipeline.config import load_study

    return tidy_kobo(load_study(ROOT / "study.yaml"), INST, DEMO)


@pytest.fixture
def fake():
    with FakeKobo(TOKEN) as server:
        yield server


def counted_ids(tables: dict, wave: str) -> list[int]:
    r = tables["respondents"]
    return sorted(int(x) for x in r.loc[r["wave"] == wave, "submission_id"])


def test_incremental_pull_after_real_server_changes_equals_a_full_pull(fake, tmp_path):
    assets = load_demo(fake)
    pre = assets["pre"]
    st = study(fake, assets)
    first_ids = counted_ids(tidy_kobo(st, INST, DEMO), "pre")
    late, rejected, edited_id, deleted = first_ids[10], first_ids[20], first_ids[30], first_ids[40]
    pre.hidden = {late}  # assigned, not yet written to Mongo when the first pull runs
    inc = raw_dir(tmp_path, "incremental")
    pull(fake, st, inc)
    assert late not in counted_ids(tidy(st, inc), "pre")

    fake.release(pre.uid)  # the late one appears below the _id already pulled
    by_id = {s["_id"]: s for s in pre.submissions}
    by_id[rejected]["_validation_status"] = {"uid": "validation_status_not_approved", "label": "Not Approved",
                                             "by_whom": "pkm_team", "timestamp": 1777100000}
    item = next(k for k in by_id[edited_id] if k.endswith("/tr_gen1"))
    new_value = "1" if by_id[edited_id][item] != "1" else "5"
    edit_submission(by_id[edited_id], {item: new_value})
    pre.submissions.remove(by_id[deleted])  # a hard delete: no tombstone

    out = pull(fake, st, inc)
    assert out["pre"]["changes"] == {"new": 0, "late": 1, "changed": 2, "deleted": 1,
                                     "total": len(pre.submissions)}
    got = tidy(st, inc)
    full = raw_dir(tmp_path, "full")
    pull(fake, st, full, full=True)
    want = tidy(st, full)
    assert_same(got, want)

    ids = counted_ids(got, "pre")
    assert late in ids and rejected not in ids and deleted not in ids
    pid = got["respondents"].set_index("submission_id").loc[str(edited_id), "respondent_id"]
    r = got["responses"]
    assert r[(r.respondent_id == pid) & (r.wave == "pre") & (r.item == "tr_gen1")]["value"].item() == float(new_value)
    q = got["quality"]
    mine = q[q.wave == "pre"].set_index("submission_id")
    assert mine.loc[str(edited_id), "issue"] == "edited_on_server"
    assert mine.loc[str(deleted), "issue"] == "deleted_on_server"
    assert set(mine.loc[[str(rejected)], "issue"]) == {"validation_changed", "not_approved"}


def test_a_pending_draft_is_not_read_as_the_deployed_form(fake, tmp_path, demo_tables):
    """kpi's asset ``content`` is the latest draft (serializers/v2/asset.py:405): here the trust
    questions were moved to another group in the form builder and not yet deployed."""
    assets = load_demo(fake)
    post = assets["post"]
    deployed = post.content
    draft = copy.deepcopy(deployed)
    for row in draft["survey"]:
        if row.get("$xpath", "").startswith("kepercayaan/"):
            row["$xpath"] = "kepercayaan_v2/" + row["$xpath"].split("/", 1)[1]
    post.content, post.version_id = draft, "vDRAFTxxxxxxxxxxxxxxx1"
    post.deployed_version_id = demo_wave("post")[0]["deployed_version_id"]
    post.versions[post.deployed_version_id] = deployed
    st = study(fake, assets)
    raw = raw_dir(tmp_path, "raw")
    pull(fake, st, raw)
    assert (raw / "post" / "versions" / f"{post.deployed_version_id}.json").exists()
    assert_same(tidy(st, raw), demo_tables)


def test_a_question_renamed_between_versions_keeps_its_answers(fake, tmp_path, demo_tables):
    """Six baseline submissions were made with an older form version in which a trust item had
    another name (same ``$kuid``: renamed in the form builder) and sat in another group."""
    assets = load_demo(fake)
    pre = assets["pre"]
    old_vuid = next(iter(pre.versions))
    old = copy.deepcopy(pre.versions[old_vuid])
    row = next(r for r in old["survey"] if r.get("name") == "tr_gen2")
    row["name"], row["$autoname"], row["$xpath"] = "percaya_umum_b", "percaya_umum_b", "lama/percaya_umum_b"
    pre.versions[old_vuid] = old
    for s in pre.submissions:
        if s["__version__"] == old_vuid:
            key = next(k for k in s if k.endswith("/tr_gen2"))
            s["lama/percaya_umum_b"] = s.pop(key)
    st = study(fake, assets)
    raw = raw_dir(tmp_path, "raw")
    pull(fake, st, raw)
    assert_same(tidy(st, raw), demo_tables)


def test_a_version_the_server_cannot_give_is_noted(fake, tmp_path):
    assets = load_demo(fake)
    assets["pre"].versions.clear()  # the old version is gone (404)
    st = study(fake, assets)
    raw = raw_dir(tmp_path, "raw")
    pull(fake, st, raw)
    q = tidy(st, raw)["quality"]
    rows = q[q.issue == "form_version_missing"]  # one row per submission read with the deployed form
    assert set(rows["value"]) == {"vTMtdEtnaHW8fsGFCWtyXJ"} and len(rows) == 6
    assert (rows["action"] == "read_with_deployed").all() and rows["submission_id"].is_unique


def test_approved_only_counts_only_approved_submissions(fake, tmp_path, demo_tables):
    assets = load_demo(fake)
    for a in assets.values():  # the team approved two submissions in three, put one on hold
        for i, sub in enumerate(a.submissions):
            if i % 3 < 2:
                sub["_validation_status"] = {"uid": "validation_status_approved", "label": "Approved"}
            elif i % 6 == 2:
                sub["_validation_status"] = {"uid": "validation_status_on_hold", "label": "On Hold"}
    st = study(fake, assets, validation="approved_only")
    raw = raw_dir(tmp_path, "raw")
    pull(fake, st, raw)
    got = tidy(st, raw)
    approved = {str(s["_id"]) for a in assets.values() for s in a.submissions
                if (s.get("_validation_status") or {}).get("uid") == "validation_status_approved"}
    assert set(got["respondents"]["submission_id"]) <= approved
    assert 0 < len(got["respondents"]) < len(demo_tables["respondents"])
    q = got["quality"]
    assert (q.issue == "not_yet_approved").sum() > 0


def test_no_view_submissions_permission_is_said(fake, tmp_path):
    assets = load_demo(fake)
    assets["pre"].perms = {"view_asset"}
    with pytest.raises(SinergiError) as e:
        pull(fake, study(fake, assets), raw_dir(tmp_path, "raw"))
    msg = str(e.value)
    assert msg.startswith("wave pre:") and "View submissions" in msg and "not found" not in msg


def test_a_partial_permission_is_refused_not_pulled_as_a_subset(fake, tmp_path):
    assets = load_demo(fake)
    assets["post"].partial = lambda s: s["_submitted_by"] == "enum_pkm01"
    raw = raw_dir(tmp_path, "raw")
    with pytest.raises(SinergiError) as e:
        pull(fake, study(fake, assets), raw)
    assert "wave post" in str(e.value) and "only some" in str(e.value)
    assert not (raw / "pre").exists() and not (raw / "manifest.json").exists()


def test_two_different_submissions_under_one_id_stop_the_run(fake, tmp_path):
    assets = load_demo(fake)
    st = study(fake, assets)
    raw = raw_dir(tmp_path, "raw")
    pull(fake, st, raw)
    page = raw / "pre" / "data" / "page-000001.json"
    body = json.loads(page.read_text())
    body["results"][1]["_id"] = body["results"][0]["_id"]
    page.write_text(json.dumps(body))
    with pytest.raises(SinergiError, match="appears twice in one page"):
        tidy(st, raw)
