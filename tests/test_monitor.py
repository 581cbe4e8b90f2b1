"""The fieldwork monitor (pipeline/monitor.py, `sinergi monitor`, `make monitor`).

Coverage on the demo is recomputed here straight from the raw JSON pages and the roster CSVs;
every check is planted once in a clean wave; the page is rendered at 390 px in headless Chromium;
a `kobo` study is pulled from the fake KoboToolbox server, a submission is added, and the second
run says what changed.
"""

from __future__ import annotations

import copy
import csv
import html as htmlmod
import json
import os
import re
import shutil
import subprocess
import uuid
from pathlib import Path

import pandas as pd
import pytest
import yaml

from pipeline import monitor as M
from pipeline.config import Study, load_study
from pipeline.errors import SinergiError
from pipeline.instrument import load_instrument
from pipeline.pseudonym import pseudonymizer, read_key
from tests.conftest import tree

ROOT = Path(__file__).resolve().parent.parent
DEMO = ROOT / "data" / "raw" / "demo-kaloran"
INST = load_instrument(ROOT / "instruments" / "sinergi.yaml")
TOKEN = "tok-monitor-0123456789abcdef"
PSEUDO = pseudonymizer(read_key(DEMO))


@pytest.fixture(scope="module")
def demo_study():
    return load_study(ROOT / "study.yaml")


@pytest.fixture(scope="module")
def demo_out(demo_study):
    waves = M.read_waves(demo_study, INST, DEMO)
    return M.run(demo_study, INST, waves, PSEUDO, as_of="2026-11-23T03:00:00Z", run_at="2026-11-23T20:00:00Z",
                 names_path="data/private/demo-kaloran/monitor-names.html")


def roster_labels(wave: str) -> dict[str, str]:
    with open(DEMO / wave / "media" / "roster.csv", encoding="utf-8-sig") as f:
        return {r["name"]: r["label"] for r in csv.DictReader(f)}


# ---------------------------------------------------------------------------------------------
# coverage on the demo, recomputed from the raw pages
# ---------------------------------------------------------------------------------------------


def raw_subs(wave: str) -> list[dict]:
    by_id: dict[int, dict] = {}
    for page in sorted((DEMO / wave / "data").glob("page-*.json")):
        for s in json.loads(page.read_text())["results"]:
            by_id[s["_id"]] = s  # a later row of an _id replaces the earlier one
    return list(by_id.values())


def expected_coverage(waves=("pre", "post")) -> dict[tuple[str, str], dict]:
    answered: dict[str, dict[str, str]] = {}
    refusals: dict[str, int] = {}
    for w in waves:
        subs = sorted(raw_subs(w), key=lambda s: (s["_submission_time"], s["_id"]))
        last = {s["meta/instanceID"]: s for s in subs}
        subs = [s for s in subs if last[s["meta/instanceID"]] is s]  # duplicate uploads: one
        ok = [s for s in subs if s.get("persetujuan/setuju") == "ya"
              and (s.get("_validation_status") or {}).get("uid") != "validation_status_not_approved"]
        refusals[w] = sum(s.get("persetujuan/setuju") != "ya" and not s.get("identitas/responden") for s in subs)
        answered[w] = {s["identitas/responden"]: s["profil/asal"] for s in ok}
    out = {}
    for i, w in enumerate(waves):
        roster = list(roster_labels(w))
        other = answered[waves[1 - i]]
        group = {r: answered[w].get(r, other.get(r, "unknown")) for r in roster}
        done = set(answered[w]) & set(roster)
        for g in ("lokal", "pendatang", "unknown", "all"):
            members = [r for r in roster if g == "all" or group[r] == g]
            inter = len(done & set(members))
            ref = refusals[w] if g == "all" else 0
            out[(w, g)] = {"roster_n": len(members), "interviewed": inter, "refused": ref,
                           "not_yet": len(members) - inter - ref}
    return out


def test_demo_coverage_equals_the_roster_and_the_raw_submissions(demo_out):
    cov = demo_out["coverage"]
    expected = expected_coverage()
    got = {(r.wave, r.group): {k: getattr(r, k) for k in ("roster_n", "interviewed", "refused", "not_yet")}
           for r in cov.itertuples()}
    assert got == expected
    for w in ("pre", "post"):
        c = cov[cov["wave"] == w].set_index("group")
        assert c.loc["all", "roster_n"] == len(roster_labels(w))
        assert c.loc[["lokal", "pendatang", "unknown"], "roster_n"].sum() == c.loc["all", "roster_n"]
        assert c.loc[["lokal", "pendatang", "unknown"], "interviewed"].sum() == c.loc["all", "interviewed"]
        assert c.loc["all", "coverage"] == pytest.approx(c.loc["all", "interviewed"] / c.loc["all", "roster_n"])
        assert bool(c.loc["all", "met"]) and pd.isna(c.loc["unknown", "coverage"])
    # the demo's refusals, duplicate and off-roster nomination are all found
    flags = demo_out["flags"]
    assert (flags["check"] == "no_consent").sum() == 6
    assert flags[flags["check"] == "duplicate"]["wave"].tolist() == ["post"]
    assert flags[flags["check"] == "off_roster"]["wave"].tolist() == ["post"]
    assert (flags["check"] == "respondent_twice").sum() == 1


def test_demo_interviewed_equals_tidy(demo_study, demo_out):
    from pipeline.tidy import tidy_kobo

    resp = tidy_kobo(demo_study, INST, DEMO)["respondents"]
    cov = demo_out["coverage"].set_index(["wave", "group"])
    for w in ("pre", "post"):
        assert cov.loc[(w, "all"), "interviewed"] == (resp["wave"] == w).sum()


def test_missing_and_attrition_chase_lists(demo_out):
    miss, cov = demo_out["missing"], demo_out["coverage"].set_index(["wave", "group"])
    for w in ("pre", "post"):
        m = miss[(miss["wave"] == w) & miss["on_roster"]]
        assert len(m) == cov.loc[(w, "all"), "roster_n"] - cov.loc[(w, "all"), "interviewed"]
    pre_ids = {PSEUDO(r) for r in expected_answered("pre")}
    post_ids = {PSEUDO(r) for r in expected_answered("post")}
    chase = miss[(miss["wave"] == "post") & miss["baseline"]]
    assert set(chase["respondent_id"]) == pre_ids - post_ids
    assert chase["last_wave"].eq("pre").all() and chase["last_enumerator"].str.startswith("enum_").all()
    assert miss.loc[miss["wave"] == "pre", "baseline"].eq(False).all()


def expected_answered(wave: str) -> set[str]:
    return {s["identitas/responden"] for s in raw_subs(wave) if s.get("persetujuan/setuju") == "ya"}


def test_enumerators_and_daily_add_up(demo_out):
    enum, days = demo_out["enumerators"], demo_out["daily"]
    for w in ("pre", "post"):
        subs = raw_subs(w)
        assert enum.loc[enum["wave"] == w, "submissions"].sum() == len(subs)
        assert days.loc[days["wave"] == w, "submissions"].sum() == len(subs)
        by = pd.Series([s["_submitted_by"] for s in subs]).value_counts().sort_index()
        got = enum[enum["wave"] == w].set_index("enumerator")["submissions"].sort_index()
        assert got.to_dict() == by.to_dict()
    assert ((enum["share_flagged"] >= 0) & (enum["share_flagged"] <= 1)).all()
    assert enum["median_minutes"].between(15, 40).all()


# ---------------------------------------------------------------------------------------------
# every check on a planted case
# ---------------------------------------------------------------------------------------------

ROSTER = [f"u{i:03d}" for i in range(1, 11)]


def template() -> dict:
    """A clean demo submission of the deployed form (no flag on it)."""
    sub = next(s for s in raw_subs("pre") if s.get("persetujuan/setuju") == "ya"
               and s["__version__"] == "v3KjLnG66mWCRndpKydfvy")
    sub = {k: v for k, v in sub.items() if not k.startswith("jaringan/")}
    return copy.deepcopy(sub)


def clean_wave(n: int = 6) -> list[dict]:
    subs = []
    base = template()
    for i in range(n):
        s = copy.deepcopy(base)
        u = str(uuid.UUID(int=i + 1))
        rid = ROSTER[i]
        others = [r for r in ROSTER if r != rid]
        s.update({"_id": 1000 + i, "_uuid": u, "meta/instanceID": f"uuid:{u}", "meta/rootUuid": f"uuid:{u}",
                  "identitas/responden": rid, "_submission_time": f"2026-05-04T0{i}:30:00",
                  "start": f"2026-05-04T0{i}:00:00.000+07:00", "end": f"2026-05-04T0{i}:25:00.000+07:00",
                  "jaringan/net_info": " ".join(others[i % 3: i % 3 + 3]),
                  "jaringan/net_bantuan": others[i % 5], "jaringan/net_kolaborasi": ""})
        subs.append(s)
    return subs


def flags_of(subs: list[dict], **study_extra) -> pd.DataFrame:
    st = small_study(**study_extra)
    wave = M.Wave("pre", subs, ROSTER, deployed_version="v3KjLnG66mWCRndpKydfvy")
    _, flags = M.submissions_table([wave], st, INST, PSEUDO, M.Settings.of(st))
    return flags


def small_study(**extra) -> Study:
    return Study(**{"id": "planted", "title": "Planted", "instrument": ROOT / "instruments" / "sinergi.yaml",
                    "source": {"kind": "demo"}, "waves": [{"id": "pre"}], **extra})


def test_a_clean_wave_has_no_flag():
    assert flags_of(clean_wave()).empty


def _short(subs):
    subs[2]["end"] = "2026-05-04T02:04:00.000+07:00"
    return 1002, "4.0"


def _straight(subs):
    for k in subs[3]:
        if k.startswith("kepercayaan/tr_"):
            subs[3][k] = "4"
    return 1003, "trust:4×13"


def _twice(subs):
    subs[4]["identitas/responden"] = subs[0]["identitas/responden"]
    return 1000, "1004"


def _nobody(subs):
    subs[5]["jaringan/net_info"] = ""
    return 1005, "info:3"


def _off_roster(subs):
    subs[0]["jaringan/net_bantuan"] = "u999"
    return 1000, f"help:{PSEUDO('u999')}"


def _self(subs):
    subs[0]["jaringan/net_kolaborasi"] = subs[0]["identitas/responden"]
    return 1000, "collab"


def refuse(sub: dict) -> None:
    """Make ``sub`` a refusal as the form sends it: consent 'tidak' and nothing after it."""
    keep = ("_id", "_uuid", "meta/instanceID", "meta/rootUuid", "_submission_time", "start", "end", "__version__",
            "_submitted_by", "_validation_status", "today")
    for k in [k for k in sub if k not in keep]:
        del sub[k]
    sub["persetujuan/setuju"] = "tidak"


def _refused(subs):
    refuse(subs[2])
    return 1002, ""


def _old(subs):
    subs[1]["__version__"] = "vOlderVersion123"
    return 1001, "vOlderVersion123"


def _duplicate(subs):
    dup = copy.deepcopy(subs[3])
    dup["_id"] = 2000
    dup["_submission_time"] = "2026-05-04T09:00:00"
    subs.append(dup)
    return 1003, "2000"


def _not_on_roster(subs):
    subs[4]["identitas/responden"] = "u777"
    return 1004, PSEUDO("u777")


def _not_approved(subs):
    subs[5]["_validation_status"] = {"uid": "validation_status_not_approved"}
    return 1005, "validation_status_not_approved"


def _bad_time(subs):
    subs[3]["start"] = "kemarin"
    return 1003, "start:kemarin"


PLANTS = {"bad_time": _bad_time, "too_short": _short, "straightlining": _straight, "respondent_twice": _twice, "named_nobody": _nobody,
          "off_roster": _off_roster, "self_nomination": _self, "no_consent": _refused, "old_version": _old,
          "duplicate": _duplicate, "not_on_roster": _not_on_roster, "not_approved": _not_approved}


def test_every_check_has_a_planted_case():
    assert set(PLANTS) == set(M.CHECKS)


@pytest.mark.parametrize("check", M.CHECKS)
def test_each_check_flags_its_planted_case(check):
    subs = clean_wave()
    sid, detail = PLANTS[check](subs)
    flags = flags_of(subs)
    assert flags[["submission_id", "check", "detail"]].values.tolist() == [[str(sid), check, detail]]
    for lang in ("id", "en"):
        text = M.reason(check, detail, lang)
        assert text and "{" not in text


def test_thresholds_come_from_the_study():
    subs = clean_wave()
    assert flags_of(subs, monitor={"min_minutes": 30}).query("check == 'too_short'").shape[0] == 6
    subs = clean_wave()
    for s in subs[:4]:
        s["jaringan/net_bantuan"] = ""
    assert flags_of(subs).query("check == 'named_nobody'").empty  # median 0: naming nobody is normal there
    subs = clean_wave()
    _nobody(subs)
    assert flags_of(subs, monitor={"nobody_median": 4}).query("check == 'named_nobody'").empty


def test_reasons_in_both_languages():
    assert M.reason("too_short", "4.5", "id") == "Wawancara terlalu singkat: 4,5 menit (minimum 10 menit)"
    assert M.reason("too_short", "4.5", "en") == "Interview too short: 4.5 minutes (minimum 10 minutes)"
    assert "info" in M.reason("named_nobody", "info:3", "en")


def test_monitor_key_is_validated(tmp_path):
    base = yaml.safe_load((ROOT / "study.yaml").read_text())
    for bad, words in (({"target": 1.5}, "monitor.target"), ({"goal": 0.8}, "unknown key 'monitor.goal'")):
        path = tmp_path / "s.yaml"
        path.write_text(yaml.safe_dump({**base, "instrument": str(ROOT / "instruments" / "sinergi.yaml"),
                                        "monitor": bad}))
        with pytest.raises(SinergiError, match=re.escape(words)):
            load_study(path)


def test_coverage_counts_refusals_and_groups_across_waves():
    pre = clean_wave(4)
    pre[0].update({"identitas/responden": "u001", "profil/asal": "lokal"})
    pre[1].update({"identitas/responden": "u002", "profil/asal": "pendatang", "_submitted_by": "enum_b"})
    refuse(pre[2])  # a refusal naming nobody
    refuse(pre[3])
    pre[3]["identitas/responden"] = "u003"  # a refusal that names someone (a form asking the name first)
    post = clean_wave(2)
    post[0].update({"identitas/responden": "u001", "profil/asal": "lokal"})
    post[1].update({"identitas/responden": "u004", "profil/asal": "lokal"})
    roster = ROSTER[:6]
    st = small_study(waves=[{"id": "pre"}, {"id": "post"}])
    waves = [M.Wave("pre", pre, roster), M.Wave("post", post, roster)]
    subs, _ = M.submissions_table(waves, st, INST, PSEUDO)
    cov = M.coverage(waves, subs, st, PSEUDO)
    got = {(r.wave, r.group): (r.roster_n, r.interviewed, r.refused, r.not_yet) for r in cov.itertuples()}
    assert got == {
        ("pre", "lokal"): (2, 1, 0, 1),  # u001, and u004 whose group the follow-up told
        ("pre", "pendatang"): (1, 1, 0, 0),
        ("pre", "unknown"): (3, 0, 1, 2),  # u003 refused by name; u005, u006 never seen
        ("pre", "all"): (6, 2, 2, 2),  # + the refusal that named nobody
        ("post", "lokal"): (2, 2, 0, 0),
        ("post", "pendatang"): (1, 0, 0, 1),  # u002, known from the baseline
        ("post", "unknown"): (3, 0, 0, 3),
        ("post", "all"): (6, 2, 0, 4),
    }
    miss = M.missing(waves, subs, PSEUDO)
    chase = miss[(miss["wave"] == "post") & miss["baseline"]]
    assert chase[["respondent_id", "last_wave", "last_enumerator"]].values.tolist() == [[PSEUDO("u002"), "pre", "enum_b"]]


# ---------------------------------------------------------------------------------------------
# changes since the last run
# ---------------------------------------------------------------------------------------------


def test_changes_since_the_last_run():
    subs = clean_wave()
    st = small_study()
    wave = M.Wave("pre", subs[:4], ROSTER, deployed_version="v3KjLnG66mWCRndpKydfvy")
    s1, f1 = M.submissions_table([wave], st, INST, PSEUDO)
    first = M.state(s1, f1)
    assert M.changes(None, first) is None
    subs2 = subs[:4] + [subs[4]]
    subs2[2] = copy.deepcopy(subs2[2])
    subs2[2]["end"] = "2026-05-04T02:03:00.000+07:00"
    wave2 = M.Wave("pre", subs2, ROSTER, deployed_version="v3KjLnG66mWCRndpKydfvy")
    s2, f2 = M.submissions_table([wave2], st, INST, PSEUDO)
    ch = M.changes(first, M.state(s2, f2)).set_index("change")
    assert ch.loc["new_submissions", "items"] == "1004" and ch.loc["new_submissions", "n"] == 1
    assert ch.loc["new_flags", "items"] == "1002:too_short"
    assert ch.loc["newly_covered", "items"] == PSEUDO(ROSTER[4])
    assert ch.loc["removed_submissions", "n"] == 0
    assert M.changes(M.state(s2, f2), M.state(s2, f2))["n"].sum() == 0


def test_a_broken_state_file_is_one_line(tmp_path):
    p = tmp_path / "monitor_state.json"
    p.write_text("{not json")
    with pytest.raises(SinergiError, match="monitor_state.json: not the monitor's state file"):
        M.read_state(p)


# ---------------------------------------------------------------------------------------------
# names: pseudonyms everywhere but the private list
# ---------------------------------------------------------------------------------------------


def test_page_and_tables_carry_no_names_the_private_list_does(demo_out, demo_study):
    labels = set(roster_labels("pre").values()) | set(roster_labels("post").values())
    public = [demo_out["html"]] + [demo_out[k].to_csv() for k in ("coverage", "flags", "enumerators", "missing")]
    public.append(json.dumps(demo_out["state"]))
    for text in public:
        assert not [n for n in labels if n in text]
        assert not re.search(r"\bu\d{3}\b", text), "raw roster ids in a public output"
    missing_people = demo_out["names"]
    assert missing_people["label"].str.len().gt(0).all()
    assert all(htmlmod.escape(n) in demo_out["names_html"] for n in missing_people["label"])
    shown = demo_study.model_copy(update={"privacy": demo_study.privacy.model_copy(update={"show_names": True})})
    out = M.run(shown, INST, M.read_waves(shown, INST, DEMO), PSEUDO)
    assert htmlmod.escape(missing_people["label"].iloc[0]) in out["html"]


def test_english_page(demo_study):
    en = demo_study.model_copy(update={"language": "en"})
    out = M.run(en, INST, M.read_waves(en, INST, DEMO), PSEUDO)
    assert '<html lang="en">' in out["html"] and "Submissions to check" in out["html"]
    assert "Consent refused" in out["flags"]["reason"].tolist()


# ---------------------------------------------------------------------------------------------
# the page in a real browser at 390 px
# ---------------------------------------------------------------------------------------------

#: headless Chromium lays a window out at least 500 px wide, so the page is measured inside a
#: 390 px iframe (srcdoc: same origin as the probe, which reads the frame's layout)
FRAME = """<!DOCTYPE html><html><body style="margin:0">
<iframe id="f" style="width:390px;height:40000px;border:0" srcdoc="{page}"></iframe>
<script>
document.getElementById('f').addEventListener('load', function () {{
  var w = this.contentWindow, d = this.contentDocument;
  var imgs = Array.prototype.slice.call(d.images);
  var broken = imgs.filter(function (i) {{ return !(i.complete && i.naturalWidth > 0); }}).length;
  var wide = Array.prototype.slice.call(d.querySelectorAll('body *')).filter(function (e) {{
    var r = e.getBoundingClientRect(); return r.right > w.innerWidth + 1 && !e.closest('.table-wrap');
  }}).map(function (e) {{ return e.tagName + '.' + e.className; }}).slice(0, 5);
  var scrolls = Array.prototype.slice.call(d.querySelectorAll('#coverage .table-wrap')).filter(function (e) {{
    return e.scrollWidth > e.clientWidth + 1; }}).map(function (e) {{ return e.scrollWidth - e.clientWidth; }});
  var out = document.createElement('pre');
  out.id = 'probe';
  out.textContent = JSON.stringify({{images: imgs.length, broken: broken, innerWidth: w.innerWidth,
    scrollWidth: d.documentElement.scrollWidth, wide: wide, coverage_scrolls: scrolls}});
  document.body.appendChild(out);
}});
</script></body></html>"""


def _chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")


@pytest.mark.parametrize("page", ["html", "names_html"])
def test_page_renders_at_390px_without_overflow(demo_out, tmp_path, page):
    exe = _chromium()
    if not exe:
        pytest.skip("chromium is not installed (.ci/run installs it)")
    probe = tmp_path / "probe.html"
    probe.write_text(FRAME.format(page=htmlmod.escape(demo_out[page], quote=True)), encoding="utf-8")
    args = [exe, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync", "--hide-scrollbars",
            f"--user-data-dir={tmp_path / 'profile'}", "--window-size=390,2000"]
    res = subprocess.run(args + ["--virtual-time-budget=10000", "--dump-dom", probe.as_uri()],
                         capture_output=True, text=True, timeout=180)
    m = re.search(r'<pre id="probe">(.*?)</pre>', res.stdout, flags=re.S)
    assert m, f"no probe output; stderr: {res.stderr[-1500:]}"
    result = json.loads(htmlmod.unescape(m.group(1)))
    assert result["innerWidth"] == 390, result
    assert result["scrollWidth"] <= result["innerWidth"], result
    assert not result["wide"], result
    assert result["coverage_scrolls"] == [], json.dumps(result)  # the coverage table fits a phone without scrolling
    assert result["broken"] == 0 and result["images"] == (1 if page == "html" else 0), result
    assert not re.search(r'(src|href)\s*=\s*"(https?:)?//', demo_out[page]), "the page fetches something"


# ---------------------------------------------------------------------------------------------
# the command: a kobo study pulled from the fake server, then run again
# ---------------------------------------------------------------------------------------------


@pytest.fixture
def fake():
    try:
        from tests.kobo_server import FakeKobo
    except ImportError:  # pragma: no cover
        from kobo_server import FakeKobo
    with FakeKobo(TOKEN) as server:
        yield server


def test_kobo_study_from_the_test_server(fake, in_tmp, monkeypatch, sinergi, demo_out):
    from tests.sources.test_kobo_fidelity import load_demo

    assets = load_demo(fake)
    study = {"id": "lapangan", "title": "Lapangan", "instrument": str(ROOT / "instruments" / "sinergi.yaml"),
             "site": "Kaloran Brimob", "source": {"kind": "kobo", "server": fake.url},
             "waves": [{"id": w, "asset_uid": a.uid} for w, a in assets.items()]}
    path = in_tmp / "study.yaml"
    path.write_text(yaml.safe_dump(study, allow_unicode=True))
    raw = in_tmp / "data" / "raw" / "lapangan"
    raw.mkdir(parents=True)
    shutil.copy(DEMO / "pseudonym.key", raw / "pseudonym.key")  # same key → the demo's pseudonyms
    monkeypatch.setenv("KOBO_TOKEN", TOKEN)

    code, out, err = sinergi("monitor", "--study", path, "--quiet")
    assert code == 0, err
    cov = pd.read_csv(in_tmp / "data" / "processed" / "lapangan" / "coverage.csv")
    pd.testing.assert_frame_equal(cov, demo_out["coverage"].reset_index(drop=True), check_dtype=False)
    flags = pd.read_csv(in_tmp / "data" / "processed" / "lapangan" / "monitor_flags.csv", dtype=str)
    assert flags[["wave", "submission_id", "check"]].values.tolist() == \
        demo_out["flags"][["wave", "submission_id", "check"]].values.tolist()  # old_version from the pulled versions
    page = (in_tmp / "reports" / "lapangan" / "monitor.html").read_text(encoding="utf-8")
    assert M.STRINGS["id"]["first_run"] in page
    assert (in_tmp / "data" / "private" / "lapangan" / "monitor-names.html").exists()

    # a new interview arrives on the server: someone still missing in the follow-up
    post = assets["post"]
    chase = demo_out["missing"].query("wave == 'post' and baseline and on_roster")["respondent_id"].iloc[0]
    rid = next(r for r in roster_labels("post") if PSEUDO(r) == chase)
    new = copy.deepcopy(next(s for s in post.submissions if s.get("persetujuan/setuju") == "ya"))
    u = str(uuid.uuid4())
    new.update({"_id": max(s["_id"] for s in post.submissions) + 7, "_uuid": u, "meta/instanceID": f"uuid:{u}",
                "meta/rootUuid": f"uuid:{u}", "identitas/responden": rid, "_submission_time": "2026-11-21T03:00:00",
                "start": "2026-11-21T09:00:00.000+07:00", "end": "2026-11-21T09:03:00.000+07:00"})
    post.submissions.append(new)

    requests = len(fake.data_requests())
    code, _, err = sinergi("monitor", "--study", path, "--offline")
    assert code == 0, err
    assert len(fake.data_requests()) == requests, "--offline used the network"

    code, out, err = sinergi("monitor", "--study", path, "--quiet")
    assert code == 0, err
    cov2 = pd.read_csv(in_tmp / "data" / "processed" / "lapangan" / "coverage.csv").set_index(["wave", "group"])
    before = demo_out["coverage"].set_index(["wave", "group"])
    assert cov2.loc[("post", "all"), "interviewed"] == before.loc[("post", "all"), "interviewed"] + 1
    flags = pd.read_csv(in_tmp / "data" / "processed" / "lapangan" / "monitor_flags.csv", dtype=str)
    assert flags.query(f"submission_id == '{new['_id']}'")["check"].tolist() == ["too_short"]
    page = (in_tmp / "reports" / "lapangan" / "monitor.html").read_text(encoding="utf-8")
    changes = re.search(r'<section id="changes">(.*?)</section>', page, flags=re.S).group(1)
    assert f"<li>{new['_id']}</li>" in changes and f"<li>{chase}</li>" in changes
    assert f"<li>{new['_id']}:too_short</li>" in changes


def test_bad_input_is_one_line(in_tmp, sinergi, fake):
    study = {"id": "belum", "title": "Belum", "instrument": str(ROOT / "instruments" / "sinergi.yaml"),
             "source": {"kind": "kobo", "server": fake.url}, "waves": [{"id": "pre", "asset_uid": "aNone"}]}
    (in_tmp / "k.yaml").write_text(yaml.safe_dump(study))
    code, out, err = sinergi("monitor", "--study", in_tmp / "k.yaml", "--offline")
    assert code == 2 and err.count("\n") == 1 and "nothing pulled yet" in err and "Traceback" not in err
    tables = {**study, "id": "tabel", "source": {"kind": "tables", "path": "."}}
    (in_tmp / "t.yaml").write_text(yaml.safe_dump(tables))
    code, out, err = sinergi("monitor", "--study", in_tmp / "t.yaml")
    assert code == 2 and err.count("\n") == 1 and "tables study" in err


# ---------------------------------------------------------------------------------------------
# make monitor on the demo, in a copy of the repository
# ---------------------------------------------------------------------------------------------


@pytest.mark.slow
def test_make_monitor_on_the_demo(tmp_path):
    out = subprocess.run(["git", "ls-files", "-co", "--exclude-standard"], cwd=ROOT, capture_output=True,
                         text=True, check=True).stdout.split("\n")
    repo = tmp_path / "repo"
    for f in (f for f in out if f and (ROOT / f).is_file()):
        (repo / f).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / f, repo / f)
    (repo / ".venv").symlink_to(ROOT / ".venv")  # shared: `make -o` below never reinstalls into it
    raw_before = tree(repo / "data" / "raw" / "demo-kaloran")
    env = dict(os.environ, PYTHONPATH=str(repo), MPLBACKEND="Agg")
    env.pop("STUDY", None)
    for i in range(2):
        res = subprocess.run(["make", "-o", ".venv/.installed", "monitor"], cwd=repo, env=env, capture_output=True, text=True, timeout=600)
        assert res.returncode == 0, res.stdout[-2000:] + res.stderr[-2000:]
    page = repo / "reports" / "demo-kaloran" / "monitor.html"
    cov = pd.read_csv(repo / "data" / "processed" / "demo-kaloran" / "coverage.csv")
    assert page.stat().st_size > 20_000 and set(cov["group"]) >= {"lokal", "pendatang", "all"}
    assert list(cov.columns[:6]) == ["wave", "group", "roster_n", "interviewed", "refused", "not_yet"]
    assert M.STRINGS["id"]["first_run"] not in page.read_text(encoding="utf-8")  # the second run compares
    assert tree(repo / "data" / "raw" / "demo-kaloran") == raw_before, "make monitor modified raw data"
    assert (repo / "data" / "private" / "demo-kaloran" / "monitor-names.csv").exists()
    subprocess.run(["git", "init", "-q"], cwd=repo, check=True)
    ignored = subprocess.run(["git", "check-ignore", "data/private/demo-kaloran/monitor-names.csv"], cwd=repo,
                             capture_output=True, text=True)
    assert ignored.returncode == 0, "the names list is not git-ignored"
    res = subprocess.run(["make", "-o", ".venv/.installed", "monitor", "OFFLINE=1"], cwd=repo, env=env, capture_output=True, text=True,
                         timeout=600)
    assert res.returncode == 0 and "--offline" in res.stdout


def test_string_catalogue_has_no_key_written_twice():
    """A key written twice in a dict literal silently keeps the last value ("n" was both "no" and
    "Count", so the chase list's "still on roster" column read "Count")."""
    import ast
    import inspect

    tree = ast.parse(inspect.getsource(M))
    for node in ast.walk(tree):
        if isinstance(node, ast.Dict):
            keys = [k.value for k in node.keys if isinstance(k, ast.Constant)]
            assert len(keys) == len(set(keys)), sorted({k for k in keys if keys.count(k) > 1})
    assert M.STRINGS["id"]["n"] == "tidak" and M.STRINGS["en"]["n"] == "no"
