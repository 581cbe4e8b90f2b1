"""The district statistics (pipeline.analysis.district) and the report's district section.

R reference values: tests/r/district.R on tests/r/data/district_scores.csv (tests/r/district_data.py).
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from pipeline.analysis import district as D

HERE = Path(__file__).resolve().parent
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
