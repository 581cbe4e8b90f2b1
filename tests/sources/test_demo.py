"""The demo simulator: KoboToolbox-shaped, deterministic, and carrying the planted design."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re

import numpy as np
import pandas as pd
import pingouin as pg
import pytest

from pipeline.config import ROOT, Study, load_study
from pipeline.sources.demo import PAGE_SIZE, simulate, write_demo
from pipeline.errors import SinergiError
from pipeline.instrument import asset_content, load_instrument, scale_map, tie_questions, write_xlsform

META_PREFIXES = ("_", "meta/", "formhub/", "__version__")


@pytest.fixture(scope="module")
def inst():
    return load_instrument()


@pytest.fixture(scope="module")
def study():
    return load_study(ROOT / "study.yaml")


@pytest.fixture(scope="module")
def files(study, inst):
    return simulate(study, inst)


@pytest.fixture(scope="module")
def truth(files):
    return json.loads(files["demo_truth.json"])


def results(files, wave):
    out = []
    for path in sorted(p for p in files if p.startswith(f"{wave}/data/page-")):
        out.extend(json.loads(files[path])["results"])
    return out


def roster(files, wave):
    rows = list(csv.reader(io.StringIO(files[f"{wave}/media/roster.csv"].decode("utf-8"))))
    return rows[0], {r[0]: r[1] for r in rows[1:]}


def final(subs, inst):
    """Consenting submissions, one per respondent (latest submission time wins), as tidy does."""
    resp = inst.by_role("respondent")[0].xpath
    keep = {}
    for s in sorted(subs, key=lambda s: (s["_submission_time"], s["_id"])):
        if resp in s:
            keep[s[resp]] = s
    return keep


def with_seed(study, **source):
    data = study.model_dump()
    data["source"] = {**data["source"], **source}
    return Study(**data)


# --------------------------------------------------------------------------------------------
# determinism and layout


def test_same_seed_same_bytes_other_seed_other_bytes(study, inst, files):
    again = simulate(study, inst)
    assert again == files
    other = simulate(with_seed(study, seed=study.source.seed + 1), inst)
    assert other["pre/data/page-000001.json"] != files["pre/data/page-000001.json"]
    assert other["pseudonym.key"] != files["pseudonym.key"]


def test_layout(files, study):
    for w in study.wave_ids:
        assert f"{w}/asset.json" in files and f"{w}/media/roster.csv" in files
        pages = sorted(p for p in files if p.startswith(f"{w}/data/"))
        assert pages[0] == f"{w}/data/page-000001.json"
        assert all(re.fullmatch(rf"{w}/data/page-\d{{6}}\.json", p) for p in pages)
    assert re.fullmatch(rb"[0-9a-f]{64}\n", files["pseudonym.key"])
    assert "manifest.json" not in files  # write_demo adds it last


def test_pyxform_converts_the_form_the_demo_answers(inst, tmp_path):
    from pyxform.xls2xform import convert

    path = tmp_path / "sinergi.xlsx"
    write_xlsform(inst, path)
    xml = convert(str(path), validate=False).xform
    assert 'id="sinergi_modal_sosial"' in xml
    for spec in tie_questions(inst).values():  # the <repeat>_count nodes pyxform generates
        assert f"<{spec['repeat'].rsplit('/', 1)[-1]}_count/>" in xml


def test_asset_json(files, inst, study):
    uids = set()
    for w in study.wave_ids:
        a = json.loads(files[f"{w}/asset.json"])
        assert a["content"] == json.loads(json.dumps(asset_content(inst), ensure_ascii=False))
        assert re.fullmatch(r"a[0-9A-Za-z]{21}", a["uid"])
        assert a["asset_type"] == "survey" and a["has_deployment"] is True and a["deployment__active"] is True
        assert a["deployed_version_id"] == a["version_id"]
        assert a["data"] == a["url"] + "data/" and a["url"].endswith(f"/api/v2/assets/{a['uid']}/")
        assert a["deployment__submission_count"] == len(results(files, w))
        media = a["files"][0]["metadata"]
        assert media["filename"] == "roster.csv"
        assert media["hash"] == "md5:" + hashlib.md5(files[f"{w}/media/roster.csv"]).hexdigest()
        for v in a["deployed_versions"]["results"][1:]:
            assert f"{w}/versions/{v['uid']}.json" in files
        uids.add(a["uid"])
    assert len(uids) == len(study.wave_ids)


def test_roster_csv(files, truth):
    header, pre = roster(files, "pre")
    assert header == ["name", "label"]
    header, post = roster(files, "post")
    assert header == ["name", "label"]
    assert all(re.fullmatch(r"u\d{3}", n) for n in pre)
    assert all(" — " in label for label in pre.values())
    assert set(truth["population"]["newcomers"]["post"]) == set(post) - set(pre) != set()
    assert set(truth["population"]["left_roster"]["post"]) == set(pre) - set(post) != set()
    assert len(set(pre.values())) == len(pre)  # labels unique: people tell names apart


def test_pages(files, study, truth):
    dup = next(f for f in truth["faults"] if f["kind"] == "duplicate_upload")
    for w in study.wave_ids:
        paths = sorted(p for p in files if p.startswith(f"{w}/data/page-"))
        pages = [json.loads(files[p]) for p in paths]
        total = sum(len(p["results"]) for p in pages)
        for n, page in enumerate(pages):
            assert list(page) == ["count", "next", "previous", "results"]
            assert page["count"] == total
            assert len(page["results"]) == (PAGE_SIZE if n < len(pages) - 1 else total - PAGE_SIZE * n)
            if n + 1 < len(pages):
                assert page["next"].endswith(f"?format=json&limit={PAGE_SIZE}&start={PAGE_SIZE * (n + 1)}")
            else:
                assert page["next"] is None
            assert (page["previous"] is None) == (n == 0)
        ids = [r["_id"] for r in results(files, w)]
        assert ids == sorted(ids) and len(set(ids)) == len(ids)
        iids = [r["meta/instanceID"] for r in results(files, w)]
        repeated = {i for i in iids if iids.count(i) > 1}
        assert repeated == ({dup["instance_id"]} if w == dup["wave"] else set())


# --------------------------------------------------------------------------------------------
# submissions read as KoboToolbox JSON against the form


def test_submission_keys_and_values(files, inst, study, truth):
    content = asset_content(inst)
    xpaths = {r["$xpath"]: r for r in content["survey"] if "$xpath" in r}
    counts = {spec["repeat"] + "_count" for spec in tie_questions(inst).values()}
    likert = set(scale_map(inst)["item"])
    by_xpath = {q.xpath: q for q in inst.questions}
    bad_refs = set()
    for w in study.wave_ids:
        _, names = roster(files, w)
        old_versions = {json.loads(files[p])["uid"] for p in files if p.startswith(f"{w}/versions/")}
        a = json.loads(files[f"{w}/asset.json"])
        for s in results(files, w):
            assert s["_xform_id_string"] == a["uid"] and s["__version__"] in {a["deployed_version_id"]} | old_versions
            assert s["_uuid"] == s["meta/instanceID"].removeprefix("uuid:")
            assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d", s["_submission_time"])
            assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+07:00", s["start"])
            assert s["start"] < s["end"] and s["today"] == s["start"][:10]
            assert s["_validation_status"] == {} and s["_geolocation"] == [None, None]
            assert s["_status"] == "submitted_via_web" and isinstance(s["_id"], int)
            ego = s.get(inst.by_role("respondent")[0].xpath)
            rows = [(k, v, None) for k, v in s.items()]
            for key, value, _ in list(rows):
                if isinstance(value, list) and not key.startswith("_"):
                    assert key in xpaths and xpaths[key]["type"] == "begin_repeat"
                    assert s[key + "_count"] == str(len(value))
                    rows += [(k2, v2, key) for entry in value for k2, v2 in entry.items()]
            for key, value, parent in rows:
                if key.startswith(META_PREFIXES) or (isinstance(value, list) and parent is None):
                    continue
                assert key in xpaths or key in counts, key
                assert isinstance(value, str) and value != "", (key, value)
                if key in counts:
                    continue
                q = by_xpath[key]
                if parent is not None:
                    assert key.startswith(parent + "/")
                if q.base_type in ("select_one", "select_multiple"):
                    allowed = set(inst.choice_names(q.list_name))
                    assert set(value.split()) <= allowed, (key, value)
                    if q.base_type == "select_one":
                        assert " " not in value
                if q.name in likert:
                    assert value in {"1", "2", "3", "4", "5"}
                if q.base_type.endswith("_from_file") or q.get("role") == "tie_alter":
                    for rid in value.split():
                        if rid not in names or (q.get("role") in ("tie", "tie_alter") and rid == ego):
                            bad_refs.add((w, s["_id"], rid))
                if q.base_type == "integer":
                    assert re.fullmatch(r"\d+", value)
    planted = {(f["wave"], f["_id"], f["alter"]) for f in truth["faults"]
               if f["kind"] in ("self_nomination", "nomination_not_on_roster")}
    assert len(planted) == 2 and bad_refs == planted


def test_calculated_fields_and_repeats(files, inst):
    ties = tie_questions(inst)
    for s in results(files, "pre")[:60]:
        _, names = roster(files, "pre")
        group = s.get(inst.by_role("group")[0].xpath)
        if group is None:
            continue
        own = [q for q in inst.questions if q.base_type == "calculate" and "${" + inst.by_role("group")[0].name + "}"
               in str(q.get("calculation"))]
        assert own and all(q.xpath in s for q in own)
        for spec in ties.values():
            chosen = s.get(spec["field"], "").split()
            entries = s.get(spec["repeat"], [])
            assert [e[spec["alter"]] for e in entries] == chosen
            assert all(e[spec["weight"]] in {"1", "2", "3", "4"} for e in entries)
            label_key = next(q.xpath for q in inst.questions if q.repeat == spec["repeat"]
                             and q.base_type == "calculate" and q.get("role") != "tie_alter")
            assert all(e.get(label_key) == names.get(e[spec["alter"]]) for e in entries if e[spec["alter"]] in names)


def test_refusals_hold_only_consent(files, inst, truth):
    resp = inst.by_role("respondent")[0].xpath
    for w, ids in truth["population"]["refused"].items():
        refusals = [s for s in results(files, w) if resp not in s]
        assert len(refusals) == len(ids) > 0
        for s in refusals:
            answers = [k for k in s if not k.startswith(META_PREFIXES) and k not in ("start", "end", "today")]
            assert answers == ["persetujuan/setuju"] and s["persetujuan/setuju"] == "tidak"


# --------------------------------------------------------------------------------------------
# the design the issue asks for


def test_sample_design(files, inst, truth):
    pre, post = final(results(files, "pre"), inst), final(results(files, "post"), inst)
    assert 130 <= len(pre) <= 140
    lokal = np.mean([s["profil/asal"] == "lokal" for s in pre.values()])
    assert 0.55 <= lokal <= 0.65
    attrition = 1 - len(set(pre) & set(post)) / len(pre)
    assert 0.05 <= attrition <= 0.15
    assert attrition == pytest.approx(truth["population"]["attrition"]["share"], abs=1e-3)
    assert len(set(post) - set(pre)) >= 3
    items = [q.xpath for q in inst.questions if q.name in set(scale_map(inst)["item"])]
    for subs in (pre, post):
        miss = np.mean([k not in s for s in subs.values() for k in items])
        assert 0.01 <= miss <= 0.05
    participants = [s for s in post.values() if int(s["program/hadir_forum"]) > 0]
    assert 0.4 <= len(participants) / len(post) <= 0.6
    assert all(3 <= int(s["program/hadir_forum"]) <= 12 and s["program/pelatihan"] != "tidak_ada" for s in participants)
    assert all(s["program/hadir_forum"] == "0" for s in pre.values())


def test_subscale_alpha_on_first_wave(files, inst):
    pre = final(results(files, "pre"), inst)
    smap = scale_map(inst)
    xp = {q.name: q.xpath for q in inst.questions}
    df = pd.DataFrame([{i: float(s[xp[i]]) if xp[i] in s else np.nan for i in smap["item"]} for s in pre.values()])
    for _, r in smap.iterrows():
        if r["reverse"]:
            df[r["item"]] = r["min"] + r["max"] - df[r["item"]]
    for (_, _), g in smap.groupby(["dimension", "subscale"]):
        alpha = pg.cronbach_alpha(df[list(g["item"])].dropna())[0]
        assert 0.65 <= alpha <= 0.92, (g["subscale"].iloc[0], alpha)
    for _, g in smap.groupby("dimension"):
        alpha = pg.cronbach_alpha(df[list(g["item"])].dropna())[0]
        assert 0.78 <= alpha <= 0.93


def test_baseline_networks_homophilous(files, inst):
    pre = final(results(files, "pre"), inst)
    origin = {rid: s["profil/asal"] for rid, s in pre.items()}
    n = len(origin)
    for tie_type, spec in tie_questions(inst).items():
        within = total = expected = 0.0
        degrees = []
        for ego, s in pre.items():
            alters = [a for a in s.get(spec["field"], "").split() if a in origin and a != ego]
            degrees.append(len(alters))
            same_share = (sum(o == origin[ego] for o in origin.values()) - 1) / (n - 1)
            within += sum(origin[a] == origin[ego] for a in alters)
            total += len(alters)
            expected += len(alters) * same_share
        assert within / total > expected / total + 0.1, tie_type
        if tie_type == "info":
            assert 2 <= np.mean(degrees) <= 6


def test_planted_effects_in_truth(truth):
    ch = truth["expected_change"]
    for group in ("lokal", "pendatang", "all"):
        out, inn = ch["trust_outgroup"][group], ch["trust_ingroup"][group]
        assert out["participant"] > inn["participant"] + 0.2
        for score in ("trust", "norms", "trust_outgroup", "trust_ingroup", "norms_conflict"):
            assert abs(ch[score][group]["non_participant"]) <= 0.06
        assert ch["norms"][group]["participant"] > 0.15
        assert ch["trust_institutional"][group]["participant"] > ch["trust_institutional"][group]["non_participant"]
    base = truth["expected_baseline"]
    assert base["trust_outgroup"]["pendatang"] < base["trust_ingroup"]["pendatang"] - 0.4
    gap_lokal = base["trust_ingroup"]["lokal"] - base["trust_outgroup"]["lokal"]
    assert 0 < gap_lokal < base["trust_ingroup"]["pendatang"] - base["trust_outgroup"]["pendatang"]
    net = truth["network"]
    for t, ei in net["realised"]["post"].items():
        assert ei["ei"] > net["realised"]["pre"][t]["ei"]  # more cross-group ties after the program
        assert net["p_new_tie"]["participant_pairs_cross_origin"][t] > net["p_new_tie"]["other_pairs"][t]
        assert 0.3 <= net["jaccard"]["pre->post"][t] <= 0.6
    cost = truth["economics"]["realised_cost_ratio"]["pre"]
    assert 0.65 <= cost["joint_purchasers"] / cost["others"] <= 0.85


def test_faults_listed(truth, files, inst):
    kinds = sorted(f["kind"] for f in truth["faults"])
    assert kinds == ["duplicate_upload", "nomination_not_on_roster", "resubmission", "self_nomination"]
    resp = inst.by_role("respondent")[0].xpath
    resub = next(f for f in truth["faults"] if f["kind"] == "resubmission")
    subs = {s["_id"]: s for s in results(files, resub["wave"])}
    first, second = (subs[i] for i in resub["_ids"])
    assert first[resp] == second[resp] == resub["respondent"]
    assert first["_submission_time"] < second["_submission_time"] and resub["keep"] == second["_id"]
    assert first["meta/instanceID"] != second["meta/instanceID"]
    dup = next(f for f in truth["faults"] if f["kind"] == "duplicate_upload")
    a, b = ({k: v for k, v in s.items() if k not in ("_id", "_submission_time")}
            for s in (s for s in results(files, dup["wave"]) if s["_id"] in dup["_ids"]))
    assert a == b
    selfnom = next(f for f in truth["faults"] if f["kind"] == "self_nomination")
    old = next(s for s in results(files, selfnom["wave"]) if s["_id"] == selfnom["_id"])
    assert old["__version__"] == selfnom["__version__"]
    assert f"{selfnom['wave']}/versions/{selfnom['__version__']}.json" in files


# --------------------------------------------------------------------------------------------
# writing


def test_write_demo_idempotent_and_refuses_other_settings(study, inst, files, tmp_path):
    raw = tmp_path / study.id
    manifest = write_demo(study, inst, raw)
    assert json.loads((raw / "manifest.json").read_text(encoding="utf-8")) == manifest
    for w, entry in manifest["waves"].items():
        assert entry["count"] == len(results(files, w))
        for rel, digest in entry["files"].items():
            assert hashlib.sha256((raw / rel).read_bytes()).hexdigest() == digest
    assert (raw / "demo_truth.json").read_bytes() == files["demo_truth.json"]
    stamps = {p: p.stat().st_mtime_ns for p in raw.rglob("*")}
    assert write_demo(study, inst, raw) == manifest
    assert {p: p.stat().st_mtime_ns for p in raw.rglob("*")} == stamps
    with pytest.raises(SinergiError, match="delete that folder"):
        write_demo(with_seed(study, n_respondents=60), inst, raw)
    assert {p: p.stat().st_mtime_ns for p in raw.rglob("*")} == stamps


def test_other_sizes_and_waves(study, inst):
    data = study.model_dump()
    data["source"] = {**data["source"], "n_respondents": 30, "seed": 5}
    data["waves"] = [{"id": "w1"}, {"id": "w2"}, {"id": "w3"}]
    small = Study(**data)
    files = simulate(small, inst)
    truth = json.loads(files["demo_truth.json"])
    assert truth["population"]["roster_size"]["w1"] == 30
    assert {p.split("/")[0] for p in files if "/" in p} == {"w1", "w2", "w3"}
