"""Tidy: raw → canonical tables, on hand-made KoboToolbox data and on a tables study."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from pipeline import schemas
from pipeline.config import load_study
from pipeline.errors import SinergiError
from pipeline.instrument import asset_content, load_instrument
from pipeline.pseudonym import check_collisions, pseudonymizer
from pipeline.tidy import sample_flow, tidy_kobo
from tests.conftest import tree
from tests.tablestudy import write_tables_study
from tests.trialstudy import write_trial_study

ROOT = Path(__file__).resolve().parent.parent
INST = load_instrument(ROOT / "instruments" / "sinergi.yaml")
LIKERT = [q.xpath for q in INST.questions if q.type == "select_one likert5"]
KEY = "ab" * 32


def submission(_id, rid, *, origin="lokal", t="2026-05-02T03:00:00", value="4", **extra):
    sub = {"_id": _id, "meta/instanceID": f"uuid:{_id:08d}", "_submission_time": t, "_validation_status": {},
           "persetujuan/setuju": "ya", "identitas/responden": rid, "profil/asal": origin,
           "profil/umur": "40", "profil/keanggotaan": "koperasi bumdes", "aksi_kolektif/beli_bersama": "ya",
           "program/hadir_forum": "3"}
    sub.update({x: value for x in LIKERT})
    sub.update(extra)
    return sub


def write_raw(root: Path, waves: dict[str, list[dict]], roster=("u1", "u2", "u3", "u4")) -> Path:
    raw = root / "data" / "raw" / "kobo-test"
    for wave, subs in waves.items():
        (raw / wave / "data").mkdir(parents=True)
        (raw / wave / "media").mkdir()
        (raw / wave / "asset.json").write_text(json.dumps({"uid": "aX", "content": asset_content(INST)}))
        (raw / wave / "data" / "page-000001.json").write_text(
            json.dumps({"count": len(subs), "next": None, "previous": None, "results": subs}))
        (raw / wave / "media" / "roster.csv").write_text(
            "name,label\n" + "".join(f"{r},Nama Asli {r}\n" for r in roster))
    (raw / "pseudonym.key").write_text(KEY)
    return raw


@pytest.fixture
def study(in_tmp):
    doc = {"id": "kobo-test", "title": "t", "instrument": str(ROOT / "instruments" / "sinergi.yaml"),
           "source": {"kind": "kobo_files"}, "waves": [{"id": "pre", "file": "x"}, {"id": "post", "file": "x"}]}
    (in_tmp / "x").write_text("")
    (in_tmp / "study.yaml").write_text(yaml.safe_dump(doc))
    return load_study(in_tmp / "study.yaml")


def test_kobo_route_rules(study, in_tmp):
    pre = [
        submission(1, "u1", **{"jaringan/net_info": "u2 u3 u1 u9",
                               "jaringan/info_rinci": [{"jaringan/info_rinci/info_alter": "u2",
                                                        "jaringan/info_rinci/info_frek": "3"}]}),
        submission(2, "u2", origin="pendatang", t="2026-05-02T04:00:00"),
        submission(3, "u2", origin="pendatang", t="2026-05-03T04:00:00", value="2"),  # u2 again: kept
        {"_id": 4, "meta/instanceID": "uuid:x4", "_submission_time": "2026-05-02T05:00:00",
         "persetujuan/setuju": "tidak"},
        submission(5, "u3", _validation_status={"uid": "validation_status_not_approved"}),
    ]
    dup = dict(pre[0], _id=6)  # the same instanceID uploaded again
    post = [submission(10, "u1", t="2026-11-02T03:00:00"), submission(11, "u4", t="2026-11-02T03:00:00")]
    raw = write_raw(in_tmp, {"pre": pre + [dup], "post": post})
    before = tree(raw)
    out = tidy_kobo(study, INST, raw)
    assert tree(raw) == before, "raw data must never be modified"
    resp, ties, quality = out["respondents"], out["ties"], out["quality"]
    p = pseudonymizer(bytes.fromhex(KEY))
    assert sorted(resp.loc[resp.wave == "pre", "respondent_id"]) == sorted([p("u1"), p("u2")])
    assert resp.loc[(resp.wave == "pre") & (resp.respondent_id == p("u2")), "submission_id"].item() == "3"
    assert resp.loc[resp.respondent_id == p("u1"), "respondent_id"].nunique() == 1  # stable across waves
    assert set(ties["alter"]) == {p("u2"), p("u3")}
    assert ties.set_index("alter").loc[p("u2"), "weight"] == 3
    assert np.isnan(ties.set_index("alter").loc[p("u3"), "weight"])
    issues = quality["issue"].tolist()
    for expected in ["duplicate_upload", "respondent_twice", "no_consent", "not_approved", "self_nomination",
                     "off_roster_nomination"]:
        assert expected in issues
    # covariates: select_multiple split, yes/no as 1/0, numbers as floats
    row = resp[resp.respondent_id == p("u1")].iloc[0]
    assert row["membership_koperasi"] == 1 and row["membership_forum_umkm"] == 0 and row["membership_n"] == 2
    assert row["joint_purchasing"] == 1.0 and row["age"] == 40.0 and row["group"] == "lokal"
    # names never leave raw
    text = "".join(df.to_csv() for df in out.values())
    assert "Nama Asli" not in text and "u1," not in text
    assert len(out["responses"]) == len(resp) * len(LIKERT)
    for name in ("respondents", "responses", "ties"):
        schemas.validate(name, out[name])


@pytest.mark.parametrize("field, value, why", [
    ("kepercayaan/tr_gen1", "7", "is not one of 1, 2, 3, 4, 5"),
    ("profil/umur", "abc", "is not a number"),
    ("profil/umur", "130", "is outside the allowed range 15..100"),
    ("profil/umur", "34.5", "is not a whole number"),
    ("profil/umur", "inf", "is not a finite number"),
    ("profil/asal", "asing", "is not one of lokal, pendatang"),
    ("identitas/responden", "zz", "is not on the wave's roster"),
])
def test_bad_answer_stops_with_submission_field_value(study, in_tmp, field, value, why):
    raw = write_raw(in_tmp, {"pre": [submission(41, "u1", **{field: value})], "post": []})
    with pytest.raises(SinergiError) as exc:
        tidy_kobo(study, INST, raw)
    msg = str(exc.value)
    assert "wave pre, submission _id 41" in msg and f"field {field} = {value!r} {why}" in msg


def test_sample_flow_counts_attrition_and_newcomers():
    r = pd.DataFrame({"respondent_id": ["a", "b", "c", "a", "d"], "wave": ["pre"] * 3 + ["post"] * 2,
                      "group": ["x", "x", "y", "x", "y"], "site": "s"})
    s = sample_flow(r, ["pre", "post"]).set_index(["wave", "group"])
    assert s.loc[("post", "all"), "n"] == 2
    assert s.loc[("post", "all"), "attrition"] == 2 and s.loc[("post", "all"), "newcomers"] == 1
    assert s.loc[("post", "x"), "retained"] == 1 and s.loc[("pre", "all"), "in_all_waves"] == 1


# -- tables route ---------------------------------------------------------------------------------


def _tables(sinergi, folder, mutate=None):
    path = write_tables_study(folder)
    if mutate:
        mutate(folder / "data")
    code, out, err = sinergi("pull", "--study", path)
    assert code == 0, err
    return path, sinergi("tidy", "--study", path)


def test_tables_study_tidies(in_tmp, sinergi):
    path, (code, out, err) = _tables(sinergi, in_tmp)
    assert code == 0, err
    proc = in_tmp / "data" / "processed" / "tables-test"
    resp = pd.read_parquet(proc / "respondents.parquet")
    assert resp["respondent_id"].str.fullmatch(r"R[0-9a-f]{16}").all()  # a new study: 16 digits
    assert set(resp["site"]) == {"Desa Uji"} and resp["forum_meetings"].dtype == float
    ties = pd.read_parquet(proc / "ties.parquet")
    assert not (ties["ego"] == ties["alter"]).any()
    assert "person" not in (proc / "quality.csv").read_text()


def _edit(file, fn):
    def mutate(data):
        df = pd.read_csv(data / file, dtype=str, keep_default_na=False)
        fn(df)
        df.to_csv(data / file, index=False)
    return mutate


@pytest.mark.parametrize("mutate, message", [
    (_edit("responses.csv", lambda d: d.loc.__setitem__((3, "value"), "9")), "responses.csv: row 5: item"),
    (_edit("responses.csv", lambda d: d.loc.__setitem__((3, "value"), "lots")), "row 5, column value: 'lots' is not a number"),
    (_edit("respondents.csv", lambda d: d.loc.__setitem__((0, "group"), "asing")), "row 2, column group: 'asing' is not a group level"),
    (_edit("respondents.csv", lambda d: d.loc.__setitem__((1, "respondent_id"), d.loc[0, "respondent_id"])), "the same respondent_id twice"),
    (_edit("ties.csv", lambda d: d.loc.__setitem__((0, "tie_type"), "gossip")), "column tie_type: 'gossip'"),
    (_edit("scales.csv", lambda d: d.loc.__setitem__((0, "reverse"), "maybe")), "column reverse: 'maybe' is not true/false"),
    (_edit("ties.csv", lambda d: d.pop("ego")), "ties.csv: missing column(s) ego"),
    (_edit("responses.csv", lambda d: d.loc.__setitem__((0, "wave"), "mid")), "column wave: 'mid' is not a wave"),
])
def test_bad_tables_give_one_message_and_no_output(in_tmp, sinergi, mutate, message):
    path, (code, out, err) = _tables(sinergi, in_tmp, mutate)
    assert code == 2
    assert message in err and err.count("\n") == 1
    assert not (in_tmp / "data" / "processed" / "tables-test").exists()


def test_tables_study_without_networks_and_with_labelled_scales(in_tmp, sinergi):
    path = write_trial_study(in_tmp)  # no ties.csv, no tie_types; scales.csv with labels
    assert sinergi("pull", "--study", path)[0] == 0
    code, out, err = sinergi("tidy", "--study", path)
    assert code == 0, err
    proc = in_tmp / "data" / "processed" / "trial"
    assert len(pd.read_parquet(proc / "ties.parquet")) == 0
    sm = pd.read_parquet(proc / "scale_map.parquet").set_index("item")
    assert sm.loc["tense", "dimension_label_en"] == "State anxiety" and sm.loc["tense", "label_id"] == "Saya merasa tegang"
    assert sm.loc["calm", "subscale_label_id"] == "Ketenangan"
    assert sm.loc["alert", "label_en"] == "I feel alert" and pd.isna(sm.loc["alert", "label_id"])  # English only
    sample = pd.read_csv(proc / "sample.csv")
    assert sample.loc[sample["wave"] == "before", "group"].tolist() == ["placebo", "caffeine", "all"]  # study order


def test_tables_labels_without_language_and_unknown_columns(in_tmp, sinergi):
    path = write_trial_study(in_tmp)
    sm = pd.read_csv(in_tmp / "data" / "scales.csv", dtype=str, keep_default_na=False)
    sm = sm.drop(columns=["dimension_label_id", "dimension_label_en"]).assign(dimension_label="Mood", lable_en="x")
    sm.to_csv(in_tmp / "data" / "scales.csv", index=False)
    assert sinergi("pull", "--study", path)[0] == 0
    code, out, err = sinergi("tidy", "--study", path)
    assert code == 0, err
    assert "column(s) lable_en not read" in err  # a misspelt label column is named, not silently dropped
    got = pd.read_parquet(in_tmp / "data" / "processed" / "trial" / "scale_map.parquet")
    assert set(got["dimension_label_id"]) == {"Mood"} and set(got["dimension_label_en"]) == {"Mood"}


@pytest.mark.parametrize("mutate, message", [
    (_edit("scales.csv", lambda d: d.loc.__setitem__((2, "dimension_label_en"), "Anxiety")),
     "scales.csv: row 4, column dimension_label_en: 'Anxiety' names anxiety differently from an earlier row "
     "('State anxiety'); give it one name, or write it on one row only"),
    (_edit("scales.csv", lambda d: d.loc.__setitem__((4, "subscale_label_en"), "Calm")),
     "row 6, column subscale_label_en: 'Calm' names anxiety/calm differently from an earlier row ('Calmness')"),
])
def test_a_dimension_has_one_name(in_tmp, sinergi, mutate, message):
    path = write_trial_study(in_tmp)
    mutate(in_tmp / "data")
    assert sinergi("pull", "--study", path)[0] == 0
    code, out, err = sinergi("tidy", "--study", path)
    assert code == 2 and message in err and err.count("\n") == 1


def test_ties_of_a_study_that_names_no_tie_types_are_refused_naming_them(in_tmp, sinergi):
    path = write_tables_study(in_tmp)
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    del raw["tie_types"]  # a tables study without the key has no tie types (not the demo's three)
    path.write_text(yaml.safe_dump(raw), encoding="utf-8")
    ties = pd.read_csv(in_tmp / "data" / "ties.csv")
    ties.loc[ties.index[-1], "tie_type"] = "advice"
    ties.to_csv(in_tmp / "data" / "ties.csv", index=False)
    assert sinergi("pull", "--study", path)[0] == 0
    code, out, err = sinergi("tidy", "--study", path)
    assert code == 2 and err.count("\n") == 1
    assert "ties.csv: row 2, column tie_type: 'info': the study names no tie types; to analyse these ties add " \
           f"`tie_types: [info, advice]` to {path}" in err


def test_ties_csv_is_needed_when_the_study_names_tie_types(in_tmp, sinergi):
    path = write_tables_study(in_tmp)
    (in_tmp / "data" / "ties.csv").unlink()
    code, out, err = sinergi("pull", "--study", path)
    assert code == 2
    assert "ties.csv missing, but the study names tie_types (info); add the file, or leave tie_types out" in err


def test_sample_flow_lists_groups_in_the_studys_order():
    r = pd.DataFrame({"respondent_id": list("abcd"), "wave": "pre", "group": ["placebo", "caffeine", "decaf", "x"],
                      "site": "s"})
    s = sample_flow(r, ["pre"], levels=["placebo", "caffeine", "decaf"])
    assert s["group"].tolist() == ["placebo", "caffeine", "decaf", "x", "all"]


# -- pseudonym width -------------------------------------------------------------------------------


def _colliding_pair(key: bytes, width: int = 7) -> tuple[str, str]:
    """Two ids with the same ``width``-digit pseudonym under ``key`` (birthday search, ~2^14 tries)."""
    f, seen = pseudonymizer(key, width), {}
    for i in range(1_000_000):
        rid = f"x{i}"
        if f(rid) in seen:
            return seen[f(rid)], rid
        seen[f(rid)] = rid
    raise AssertionError("no collision found")


def test_pseudonym_width_prefix_and_collision_message():
    key = bytes.fromhex(KEY)
    narrow, wide = pseudonymizer(key), pseudonymizer(key, 16)
    assert narrow("u1").startswith("R") and len(narrow("u1")) == 8 and len(wide("u1")) == 17
    assert wide("u1").startswith(narrow("u1"))  # widening lengthens, never reshuffles
    a, b = _colliding_pair(key)
    assert narrow(a) == narrow(b) and wide(a) != wide(b)
    with pytest.raises(SinergiError) as exc:
        check_collisions({a: narrow(a), b: narrow(b)}, Path("data/raw/s"))
    msg = str(exc.value)
    assert "R + 7 hex digits = 28 bits" in msg and "echo 16 > data/raw/s/pseudonym.width" in msg
    check_collisions({a: wide(a), b: wide(b)})


def test_new_study_gets_wide_pseudonyms_old_study_keeps_seven(in_tmp, sinergi):
    path = write_tables_study(in_tmp)
    assert sinergi("pull", "--study", path)[0] == 0
    raw = in_tmp / "data" / "raw" / "tables-test"
    assert (raw / "pseudonym.width").read_text() == "16\n"  # written with the new key
    # an existing study: a key from before widths were recorded, and no width file
    import shutil

    shutil.rmtree(raw)
    raw.mkdir(parents=True)
    (raw / "pseudonym.key").write_text(KEY)
    assert sinergi("pull", "--study", path)[0] == 0  # a pull keeps the key and adds no width
    assert sinergi("pull", "--study", path)[0] == 0
    assert not (raw / "pseudonym.width").exists()
    assert sinergi("tidy", "--study", path)[0] == 0
    proc = in_tmp / "data" / "processed" / "tables-test"
    resp = pd.read_parquet(proc / "respondents.parquet")
    p7 = pseudonymizer(bytes.fromhex(KEY))
    assert sorted(resp["respondent_id"].unique()) == sorted({p7(f"person{i:02d}") for i in range(40)})
    # the study migrates by writing the width: same key, longer codes, same first 7 digits
    (raw / "pseudonym.width").write_text("16\n")
    assert sinergi("tidy", "--study", path)[0] == 0
    wide = pd.read_parquet(proc / "respondents.parquet")["respondent_id"]
    assert wide.str.fullmatch(r"R[0-9a-f]{16}").all()
    assert sorted(wide.str[:8].unique()) == sorted(resp["respondent_id"].unique())
    (raw / "pseudonym.width").write_text("six\n")
    code, _, err = sinergi("tidy", "--study", path)
    assert code == 2 and "pseudonym.width: 'six' is not a pseudonym width" in err and err.count("\n") == 1


def test_collision_in_a_seven_digit_study_names_the_fix(in_tmp, sinergi):
    a, b = _colliding_pair(bytes.fromhex(KEY))
    path = write_tables_study(in_tmp)
    for f in (in_tmp / "data").glob("*.csv"):
        f.write_text(f.read_text().replace("person00", a).replace("person01", b))
    raw = in_tmp / "data" / "raw" / "tables-test"
    raw.mkdir(parents=True)
    (raw / "pseudonym.key").write_text(KEY)  # a study from before widths were recorded
    assert sinergi("pull", "--study", path)[0] == 0
    assert not (raw / "pseudonym.width").exists()
    code, _, err = sinergi("tidy", "--study", path)
    assert code == 2 and err.count("\n") == 1
    assert "same pseudonym" in err and "(R + 7 hex digits = 28 bits, 40 ids)" in err
    assert "`echo 16 > data/raw/tables-test/pseudonym.width`" in err, err
    (raw / "pseudonym.width").write_text("16\n")
    assert sinergi("tidy", "--study", path)[0] == 0


# -- the demo study ------------------------------------------------------------------------------


def test_committed_demo_raw_is_what_the_simulator_makes():
    from pipeline.sources.demo import simulate

    study = load_study(ROOT / "study.yaml")
    files = simulate(study, INST)
    committed = tree(ROOT / "data" / "raw" / "demo-kaloran")
    assert committed.pop("manifest.json")  # written by write_demo from these files
    assert committed == files, \
        "data/raw/demo-kaloran differs from the simulator's output: regenerate it (delete the folder, `make pull`)"


def test_tidy_catches_exactly_the_demo_faults(in_tmp):
    study = load_study(ROOT / "study.yaml")
    raw = ROOT / "data" / "raw" / "demo-kaloran"
    truth = json.loads((raw / "demo_truth.json").read_text())
    out = tidy_kobo(study, INST, raw)
    q = out["quality"]
    p = pseudonymizer(bytes.fromhex((raw / "pseudonym.key").read_text().strip()))
    kinds = {f["kind"]: f for f in truth["faults"]}
    selfn = q[q.issue == "self_nomination"]
    assert selfn[["wave", "respondent_id"]].values.tolist() == [["pre", p(kinds["self_nomination"]["respondent"])]]
    unknown = q[q.issue == "off_roster_nomination"]
    assert unknown[["wave", "value"]].values.tolist() == [["post", p(kinds["nomination_not_on_roster"]["alter"])]]
    twice = q[q.issue == "respondent_twice"]
    assert twice[["action", "detail"]].values.tolist() == [["kept_later", f"kept={kinds['resubmission']['keep']}"]]
    dup = q[q.issue == "duplicate_upload"]
    assert dup[["action", "detail"]].values.tolist() == [["kept_later", f"kept={kinds['duplicate_upload']['keep']}"]]
    refusals = q[q.issue == "no_consent"]
    assert len(refusals) == sum(w.get("refusals", 0) for w in truth["population"].get("waves", {}).values()) \
        or len(refusals) > 0
    resp = out["respondents"]
    kept = resp[(resp.wave == "pre") & (resp.respondent_id == p("u004"))]
    assert kept["submission_id"].tolist() == [str(kinds["resubmission"]["keep"])]


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_pairs_in_is_multiindex_isin(seed):
    """tidy._pairs_in (Arrow codes, used to find blank questionnaires) says what MultiIndex.isin says."""
    from pipeline.tidy import _pairs_in

    rng = np.random.default_rng(seed)
    ids = pd.Series(rng.choice([f"R{i}" for i in range(30)], 200), dtype="str")
    waves = pd.Series(rng.choice(["pre", "mid", "post"], 200), dtype="str")
    other_ids = pd.Series(rng.choice([f"R{i}" for i in range(10, 50)], 500), dtype=object)
    other_waves = pd.Series(rng.choice(["pre", "post", "later"], 500), dtype=object)
    among = rng.random(500) < 0.3
    want = pd.MultiIndex.from_arrays([ids, waves]).isin(
        pd.MultiIndex.from_arrays([other_ids[among], other_waves[among]]))
    got = _pairs_in(ids, waves, other_ids, other_waves, among)
    assert got.tolist() == want.tolist() and 0 < got.sum() < len(got)
    assert _pairs_in(ids, waves, other_ids.iloc[:0], other_waves.iloc[:0]).sum() == 0
