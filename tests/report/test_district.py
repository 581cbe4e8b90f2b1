"""The district statistics (pipeline.analysis.district) and the report's district section.

R reference values: tests/r/district.R on tests/r/data/district_scores.csv (tests/r/district_data.py).
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from scipy import stats

from pipeline.analysis import district as D

HERE = Path(__file__).resolve().parents[1]  # tests/
sys.path.insert(0, str(HERE / "r"))
import district_data  # noqa: E402

# ---- Rscript tests/r/district.R (R 4.2.2, lme4 1.1.31, metafor) -------------------------------------
R_DISTRICT = {
    'trust': dict(
        sites=['desa0', 'desa1', 'desa2', 'desa3', 'desa4', 'desa5'], n=[23, 27, 30, 33, 38, 39], diff=[0.197676608695652, 0.202274666666667, 0.420761666666667, 0.520810757575757, 0.533926578947368, 1.00729130769231], ci_low=[-0.163167826662325, -0.076014597188915, 0.127807361356571, 0.294892047541444, 0.30312129727831, 0.788642865877964], ci_high=[0.558521044053629, 0.480563930522248, 0.713715971976762, 0.746729467610071, 0.764731860616427, 1.22593974950665], p=[0.268138763150951, 0.147197513007342, 0.00642322054983506, 4.80135792368141e-05, 3.69149273116115e-05, 2.2874518634502e-11],
        nested=dict(estimate=0.519626608500424, se=0.0544895666460371, var_site=0.194320161380637, var_respondent=0.292684388521715, var_residual=0.286895571348982),
        re=dict(estimate=0.493128997908479, se=0.126535056822553, tau2=0.0788040534366867, q=29.5216022283524, q_p=1.83163673079758e-05, i2=83.0632498828332, pi_low=-0.110384536868016, pi_high=1.09664253268497)),
    'norms': dict(
        sites=['desa0', 'desa1', 'desa2', 'desa3', 'desa4', 'desa5'], n=[23, 27, 30, 33, 38, 39], diff=[-0.0137591739130435, 0.280068518518518, 0.133854466666667, 0.195430212121212, 0.316864552631579, 0.57485417948718], ci_low=[-0.284625847036026, -0.025760332503423, -0.119560203639752, 0.00617300937235053, 0.152924927468097, 0.339422929004992], ci_high=[0.257107499209939, 0.58589736954046, 0.387269136973085, 0.384687414870074, 0.480804177795061, 0.810285429969367], p=[0.917055703888114, 0.0710205153485742, 0.288912644885618, 0.0433844108698133, 0.000372788668172665, 1.58623916796799e-05],
        nested=dict(estimate=0.270093812734557, se=0.0476348870866759, var_site=0.141542161947259, var_respondent=0.375766191696477, var_residual=0.218289643518543),
        re=dict(estimate=0.253166184734741, se=0.0757781765111742, tau2=0.0213510280836173, q=13.7519998554591, q_p=0.0172639067753019, i2=63.6416517411818, pi_low=-0.069445078570313, pi_high=0.575777448039794)),
}


@pytest.fixture(scope="module")
def scores():
    return pd.read_csv(HERE / "r" / "data" / "district_scores.csv", dtype={"respondent_id": str, "site": str})


def test_district_csv_matches_the_generator(scores):
    pd.testing.assert_frame_equal(scores, district_data.district_scores(), check_dtype=False, rtol=0, atol=1e-12)


@pytest.mark.parametrize("dim", list(R_DISTRICT))
def test_district_matches_r(scores, dim):
    out = D.run(scores, ["pre", "post"])
    ref = R_DISTRICT[dim]
    s = out["district_sites"]
    s = s[s["dimension"] == dim].set_index("site").loc[ref["sites"]]
    assert s["n_pairs"].tolist() == ref["n"]
    for col, key in (("diff", "diff"), ("ci_low", "ci_low"), ("ci_high", "ci_high"), ("p_val", "p")):
        np.testing.assert_allclose(s[col].to_numpy(float), ref[key], rtol=1e-9, err_msg=col)
    d = out["district"][out["district"]["dimension"] == dim].set_index("model")
    for k, v in ref["nested"].items():
        np.testing.assert_allclose(d.loc["nested", k], v, rtol=1e-5, atol=1e-8, err_msg=k)
    for k, v in ref["re"].items():
        np.testing.assert_allclose(d.loc["random_effects", k], v, rtol=1e-9, atol=1e-12, err_msg=k)


def test_deviations_are_the_ci_excluding_the_pooled_estimate(scores):
    out = D.run(scores, ["pre", "post"])
    s, d = out["district_sites"], out["district"]
    for dim, part in s.groupby("dimension"):
        nested = d[(d["dimension"] == dim) & (d["model"] == "nested")].iloc[0]
        mu = nested["estimate"]
        assert np.allclose(part["pooled"], mu)
        # independent: the CI excludes mu exactly when the t test of the village against mu rejects
        excl = (part["ci_low"] > mu) | (part["ci_high"] < mu)
        assert excl.tolist() == part["excludes_pooled"].tolist() == (part["p_dev"] < 0.05).tolist()
        assert nested["n_excluding"] == excl.sum()
        assert nested["n_expected"] == pytest.approx(0.05 * len(part))
        # Holm by hand: sorted p times (k - rank), cumulative max, capped at 1
        p = part["p_dev"].to_numpy()
        order = np.argsort(p)
        adj = np.minimum(1, np.maximum.accumulate(p[order] * (len(p) - np.arange(len(p)))))
        back = np.empty_like(adj)
        back[order] = adj
        np.testing.assert_allclose(part["p_dev_holm"], back)
        assert nested["n_differ_holm"] == (back < 0.05).sum()
    # the planted village (desa5 changes most) is the one that differs in trust
    t = s[(s["dimension"] == "trust") & (s["p_dev_holm"] < 0.05)]
    assert "desa5" in set(t["site"])


def test_one_site_gives_empty_tables(scores):
    one = scores[scores["site"] == "desa0"]
    out = D.run(one, ["pre", "post"])
    assert list(out["district"].columns) == D.DISTRICT_COLUMNS and not len(out["district"])
    assert list(out["district_sites"].columns) == D.SITE_COLUMNS and not len(out["district_sites"])


# ---- the report: a study of eight villages, and of one -----------------------------------------------

STAGES = ("pull", "tidy", "scales", "network", "prepost", "district", "report")


@pytest.fixture(scope="module")
def eight(tmp_path_factory):
    """A `tables` study of eight villages (tests/tablestudy.py), raw → report through the CLI."""
    import os

    from pipeline.cli import main
    from tests.tablestudy import write_tables_study

    folder = tmp_path_factory.mktemp("eight")
    old = os.getcwd()
    os.chdir(folder)
    try:
        study = write_tables_study(folder, n=160, sites=8, study_id="eight")
        for stage in STAGES:
            assert main([stage, "--study", str(study)]) == 0, stage
    finally:
        os.chdir(old)
    return folder / "data" / "processed" / "eight", folder / "reports" / "eight"


def _csv(path):
    return pd.read_csv(path, encoding="utf-8-sig")


@pytest.mark.slow
def test_district_section_numbers_are_those_of_the_analysis(eight):
    proc, rep = eight
    html = (rep / "report.html").read_text(encoding="utf-8")
    assert 'data-section="district"' in html and "<h2>2. District summary</h2>" in html
    pooled = _csv(rep / "tables" / "district_pooled.csv")
    nested = pd.read_csv(proc / "district.csv")
    nested = nested[(nested["model"] == "nested") & (nested["wave_post"] == "post")].set_index("dimension")
    assert len(pooled) == len(nested)
    np.testing.assert_allclose(pooled["Pooled change (mixed model)"], nested["estimate"].to_numpy())
    np.testing.assert_allclose(pooled["95% CI lower"], nested["ci_low"].to_numpy())
    assert pooled["Villages"].tolist() == [8] * len(pooled)
    # the village table against an independent computation from scores.csv
    sc = pd.read_csv(proc / "scores.csv", dtype={"respondent_id": str})
    t = sc[sc["dimension"] == "trust"].pivot_table(index=["site", "respondent_id"], columns="wave",
                                                  values="score").dropna()
    d = (t["post"] - t["pre"]).groupby(level="site")
    villages = _csv(rep / "tables" / "district_villages.csv").set_index("Site")
    # tables/ carry 10 significant digits (pipeline.report.exports.SIGNIFICANT_DIGITS): equal to 1e-9
    np.testing.assert_allclose(villages["Trust: change"], d.mean().loc[villages.index].to_numpy(), rtol=1e-9)
    assert villages["n pairs"].tolist() == d.size().loc[villages.index].tolist()
    ci = d.apply(lambda x: x.mean() + stats.t.ppf(0.975, x.size - 1) * x.std(ddof=1) / np.sqrt(x.size))
    np.testing.assert_allclose(villages["Trust: 95% CI upper"], ci.loc[villages.index].to_numpy(), rtol=1e-9)
    ch = pd.read_csv(proc / "network_change.csv")
    ch = ch[ch["tie_type"] == "any"].set_index("site")
    np.testing.assert_allclose(villages["Δ E-I"], ch.loc[villages.index, "delta_ei"].to_numpy())
    # the findings: the counts of the analysis, and no village named that Holm does not flag
    sites = pd.read_csv(proc / "district_sites.csv")
    trust = sites[(sites["dimension"] == "trust") & (sites["wave_post"] == "post")]
    n_excl = int(trust["excludes_pooled"].sum())
    assert f"Trust: the 95% CIs of {n_excl} of 8 villages exclude the pooled change" in html
    differ = set(trust.loc[trust["p_dev_holm"] < 0.05, "site"])
    finding = html[html.index('data-kind="district" data-dimension="trust"'):]
    finding = finding[:finding.index("</li>")]
    for s in set(trust["site"]) - differ:
        assert f"{s} (" not in finding


@pytest.mark.slow
def test_district_moves_the_per_village_tables_out(eight):
    proc, rep = eight
    html = (rep / "report.html").read_text(encoding="utf-8")
    for key in ("network_whole", "network_change", "brokerage"):
        assert f'data-table="{key}"' not in html
        assert not (rep / "tables" / f"{key}.csv").exists()
    assert html.count("has one row per village") >= 3
    pages = sorted(p.name for p in (rep / "villages").glob("desa*.html"))
    assert pages == [f"desa{i}.html" for i in range(8)]
    page = (rep / "villages" / "desa3.html").read_text(encoding="utf-8")
    assert "Site: desa3" in page and "desa4" not in page
    whole = pd.read_csv(rep / "villages" / "network_whole.csv", encoding="utf-8-sig")
    assert whole["site"].nunique() == 8
    # table numbers stay consecutive after the move
    import re

    numbers = [int(n) for n in re.findall(r"<figcaption>Table (\d+)\.", html)]
    assert numbers == list(range(1, len(numbers) + 1))


@pytest.mark.slow
def test_district_figure_has_a_fixed_size(eight):
    from PIL import Image

    _, rep = eight
    small = Image.open(next((rep / "figures").glob("*district_forest.png"))).size
    # 200 villages: the same frame
    from pipeline.report import figures as F
    from pipeline.report.forest import forest_figure

    rng = np.random.default_rng(1)
    k = 200
    diff = rng.normal(0.3, 0.2, k)
    se = rng.uniform(0.05, 0.2, k)
    sites = pd.DataFrame({"dimension": "trust", "site": [f"desa{i:04d}" for i in range(k)], "diff": diff,
                          "ci_low": diff - 2 * se, "ci_high": diff + 2 * se,
                          "p_dev_holm": np.where(np.arange(k) < 3, 0.001, 1.0)})
    sites = pd.concat([sites, sites.assign(dimension="norms")])
    pooled = pd.DataFrame([{"dimension": d, "model": "nested", "estimate": 0.3, "ci_low": 0.28, "ci_high": 0.32}
                           for d in ("trust", "norms")] +
                          [{"dimension": d, "model": "random_effects", "pi_low": -0.1, "pi_high": 0.7}
                           for d in ("trust", "norms")])
    F.setup("en")
    png, _ = F.render(forest_figure(sites, pooled, ["trust", "norms"], dim_label=str, change_label="change",
                                    pooled_label="pooled", pi_label="pi", flag_label="flag"))
    big = Image.open(__import__("io").BytesIO(png)).size
    for w, h in (small, big):
        assert w <= 1250 and h <= 850, (w, h)
    assert abs(big[0] - small[0]) < 150 and abs(big[1] - small[1]) < 100


@pytest.mark.slow
def test_one_village_has_no_district_section(in_tmp, sinergi):
    from tests.tablestudy import write_tables_study

    study = write_tables_study(in_tmp, n=40)
    for stage in STAGES:
        code, out, err = sinergi(stage, "--study", study)
        assert code == 0, f"{stage}: {err}"
    assert not len(pd.read_csv(in_tmp / "data" / "processed" / "tables-test" / "district.csv"))
    rep = in_tmp / "reports" / "tables-test"
    html = (rep / "report.html").read_text(encoding="utf-8")
    assert 'data-section="district"' not in html and "<h2>2. Data</h2>" in html
    assert not (rep / "villages").exists()


@pytest.mark.slow
def test_district_network_files_only_when_asked(eight, tmp_path):
    """Above six villages exports/network/ is left out by default (1.3 GB at 200 villages), with a
    note for the reader that they were not written (no study key: issue 23); report: {network_files: true}
    writes it."""
    import shutil

    import yaml

    from pipeline.config import load_study
    from pipeline.report.build import build

    proc, rep = eight
    html = (rep / "report.html").read_text(encoding="utf-8")
    assert not (rep / "exports" / "network").exists()
    assert "are not written for a district of this size" in html and "network_files" not in html
    assert (rep / "exports" / "scores.sav").exists()
    root = proc.parent.parent.parent
    doc = yaml.safe_load((root / "study.yaml").read_text(encoding="utf-8"))
    doc["report"] = {"network_files": True}
    shutil.copytree(root / "data", tmp_path / "data")
    (tmp_path / "study.yaml").write_text(yaml.safe_dump(doc), encoding="utf-8")
    import os

    old = os.getcwd()
    os.chdir(tmp_path)
    try:
        out = build(load_study(tmp_path / "study.yaml"))
    finally:
        os.chdir(old)
    graphs = sorted((tmp_path / out.parent / "exports" / "network" / "graphs").glob("desa*"))
    assert [p.name for p in graphs] == [f"desa{i}" for i in range(8)]
