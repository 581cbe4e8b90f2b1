"""End to end through the CLI: a `tables` study the test writes, from CSVs to the report."""

from __future__ import annotations

import pandas as pd
import pytest

from tests.conftest import tree
from tests.tablestudy import write_tables_study

pytestmark = pytest.mark.slow
STAGES = ("pull", "tidy", "scales", "network", "prepost", "report")


def test_tables_study_end_to_end(in_tmp, sinergi):
    study = write_tables_study(in_tmp)
    source_before = tree(in_tmp / "data")
    for stage in STAGES:
        code, out, err = sinergi(stage, "--study", study)
        assert code == 0, f"{stage}: {err}"
    proc = in_tmp / "data" / "processed" / "tables-test"
    scores = pd.read_csv(proc / "scores.csv")
    assert {"trust", "trust_outgroup", "norms"} <= set(scores["dimension"])
    prepost = pd.read_csv(proc / "prepost.csv")
    trust = prepost[(prepost.dimension == "trust") & (prepost.group == "all")].iloc[0]
    assert trust["diff"] > 0 and trust["n_pairs"] > 25  # the test data plants a rise of 0.5
    whole = pd.read_csv(proc / "network_whole.csv")
    assert set(whole["tie_type"]) == {"info", "any"} and set(whole["wave"]) == {"pre", "post"}
    report = in_tmp / "reports" / "tables-test" / "report.html"
    html = report.read_text(encoding="utf-8")
    assert "Tables test study" in html and "person0" not in html  # ids are pseudonymised
    assert tree(in_tmp / "data") is not None and all(
        tree(in_tmp / "data")[k] == v for k, v in source_before.items()), "the source CSVs were modified"


def test_kobo_pull_then_report_gives_the_demo_tables(in_tmp, sinergi, monkeypatch):
    """`make pull` against a KoboToolbox API v2 server holding the demo's submissions, then the
    pipeline: the canonical tables equal those of the demo source."""
    import json
    import shutil

    import yaml

    from pipeline.config import load_study
    from pipeline.instrument import load_instrument
    from pipeline.order import canonical_tables
    from pipeline.tidy import tidy_kobo
    from tests.kobo_server import FakeKobo

    root = __import__("pathlib").Path(__file__).resolve().parent.parent
    demo_raw = root / "data" / "raw" / "demo-kaloran"
    token = "tok-e2e-0123456789abcdef"
    monkeypatch.setenv("KOBO_TOKEN", token)
    with FakeKobo(token=token) as fake:
        waves = []
        for wave in ("pre", "post"):
            asset = json.loads((demo_raw / wave / "asset.json").read_text())
            subs = [s for p in sorted((demo_raw / wave / "data").glob("page-*.json"))
                    for s in json.loads(p.read_text())["results"]]
            a = fake.add_asset(asset["uid"], asset["name"], asset["content"],
                               version_id=asset["deployed_version_id"], submissions=subs)
            for v in (demo_raw / wave / "versions").glob("*.json") if (demo_raw / wave / "versions").exists() else []:
                a.versions[v.stem] = json.loads(v.read_text()).get("content", {})
            fake.add_file(asset["uid"], "roster.csv", (demo_raw / wave / "media" / "roster.csv").read_bytes())
            waves.append({"id": wave, "asset_uid": asset["uid"]})
        doc = yaml.safe_load((root / "study.yaml").read_text())
        doc.update(id="kobo-e2e", instrument=str(root / "instruments" / "sinergi.yaml"),
                   source={"kind": "kobo", "server": fake.url}, waves=waves)
        doc["analysis"]["permutations"] = 199
        (in_tmp / "study.yaml").write_text(yaml.safe_dump(doc, allow_unicode=True))
        raw = in_tmp / "data" / "raw" / "kobo-e2e"
        raw.mkdir(parents=True)
        shutil.copy(demo_raw / "pseudonym.key", raw / "pseudonym.key")  # same key → same pseudonyms
        code, out, err = sinergi("pull", "--study", "study.yaml", "--quiet")
        assert code == 0, err
    assert token not in "".join(p.read_text(errors="ignore") for p in raw.rglob("*") if p.is_file())
    for stage in STAGES[1:]:
        code, out, err = sinergi(stage, "--study", "study.yaml")
        assert code == 0, f"{stage}: {err}"
    study = load_study(root / "study.yaml")
    # what tidy writes: the tables in their one row order (pipeline/order.py)
    demo = canonical_tables(tidy_kobo(study, load_instrument(root / "instruments" / "sinergi.yaml"), demo_raw),
                            study.wave_ids)
    proc = in_tmp / "data" / "processed" / "kobo-e2e"
    for name in ("respondents", "responses", "ties"):
        got = pd.read_parquet(proc / f"{name}.parquet")
        pd.testing.assert_frame_equal(got.reset_index(drop=True), demo[name].reset_index(drop=True),
                                      check_dtype=False)
    assert (in_tmp / "reports" / "kobo-e2e" / "report.html").exists()


def test_two_village_tables_study(in_tmp, sinergi):
    """A study of two villages: networks per village (nobody is tied across villages), both
    villages in one mixed model with village as a further random intercept, both in the report."""
    study = write_tables_study(in_tmp, sites=2, n=60, study_id="two-villages")
    for stage in STAGES:
        code, out, err = sinergi(stage, "--study", study)
        assert code == 0, f"{stage}: {err}"
    proc = in_tmp / "data" / "processed" / "two-villages"
    resp = pd.read_parquet(proc / "respondents.parquet")
    assert set(resp["site"]) == {"desa0", "desa1"}
    whole = pd.read_csv(proc / "network_whole.csv")
    assert set(whole["site"]) == {"desa0", "desa1"}
    for (site, wave), part in whole[whole.tie_type == "any"].groupby(["site", "wave"]):
        assert part["n_nodes"].iloc[0] == ((resp.site == site) & (resp.wave == wave)).sum()
    change = pd.read_csv(proc / "network_change.csv")
    assert set(change["site"]) == {"desa0", "desa1"}
    mixed = pd.read_csv(proc / "mixed_models.csv")
    assert {"trust", "norms"} <= set(mixed["dimension"])
    assert "var_site" in set(mixed[mixed.dimension == "trust"]["term"])  # village as random intercept
    html = (in_tmp / "reports" / "two-villages" / "report.html").read_text(encoding="utf-8")
    assert "desa0" in html and "desa1" in html


def test_many_village_report_draws_a_readable_sociogram(in_tmp, sinergi):
    """Eight villages: every village in the tables, the sociogram only the first six, and the
    report says so (a district of 200 villages once gave a 152,410-px-wide PNG)."""
    from PIL import Image

    from pipeline.report.sections.network import SOCIOGRAM_MAX_SITES

    study = write_tables_study(in_tmp, sites=8, n=64, study_id="eight-villages")
    for stage in STAGES:
        code, out, err = sinergi(stage, "--study", study)
        assert code == 0, f"{stage}: {err}"
    proc = in_tmp / "data" / "processed" / "eight-villages"
    assert pd.read_csv(proc / "network_whole.csv")["site"].nunique() == 8
    rep = in_tmp / "reports" / "eight-villages"
    html = (rep / "report.html").read_text(encoding="utf-8")
    shown = ", ".join(f"desa{i}" for i in range(SOCIOGRAM_MAX_SITES))
    assert f"This study covers 8 villages; the network figure shows the first 6 ({shown})" in html
    six = Image.open(next((rep / "figures").glob("*sociogram_any.png"))).size
    assert six[0] < 12_000
