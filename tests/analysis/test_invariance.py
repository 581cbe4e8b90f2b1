"""Tests of pipeline.analysis.invariance against lavaan (configural / metric / scalar multi-group CFA)."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from pipeline.analysis import invariance as inv

sys.path.insert(0, str(Path(__file__).parents[1] / "r"))
import invariance_data  # noqa: E402

DATA = Path(__file__).parents[1] / "r" / "data"

# Rscript tests/r/invariance.R (R 4.2.2, lavaan 0.6.14):
# f <- cfa(model, data = d, group = "g", group.equal = <"" | "loadings" | c("loadings", "intercepts")>,
#          estimator = "ML"); fitMeasures(f, c("chisq", "df", "cfi", "rmsea", "baseline.chisq"))
# planted: "f1 =~ x1 + x2 + x3; f2 =~ x4 + x5 + x6" (x3's intercept +0.8 in group b)
# demo_trust / demo_norms: one factor per subscale, first-wave items (reverse-coded), g = group
R_LAVAAN = {
    'planted': {
        'configural': dict(chisq=24.40877339, df=16, cfi=0.9950496858, rmsea=0.04371595659, baseline=1728.634264),
        'metric': dict(chisq=27.83689981, df=20, cfi=0.9953863525, rmsea=0.03774772674, baseline=1728.634264),
        'scalar': dict(chisq=168.3849326, df=24, cfi=0.9149993995, rmsea=0.1479070821, baseline=1728.634264),
    },
    'demo_trust': {
        'configural': dict(chisq=115.7400657, df=118, cfi=1, rmsea=0, baseline=658.0579287),
        'metric': dict(chisq=124.1337098, df=127, cfi=1, rmsea=0, baseline=658.0579287),
        'scalar': dict(chisq=128.807542, df=136, cfi=1, rmsea=0, baseline=658.0579287),
    },
    'demo_norms': {  # lavaan warns: some estimated ov variances are negative
        'configural': dict(chisq=220.6065133, df=160, cfi=0.8998145051, rmsea=0.08883396359, baseline=814.9429947),
        'metric': dict(chisq=241.0737677, df=170, cfi=0.8825116278, rmsea=0.09332749089, baseline=814.9429947),
        'scalar': dict(chisq=249.2291073, df=180, cfi=0.8855609406, rmsea=0.08951328483, baseline=814.9429947),
    },
}


def _check(fits, ref):
    for f in fits:
        r = ref[f["level"]]
        assert f["df"] == r["df"], f["level"]
        assert f["chisq"] == pytest.approx(r["chisq"], abs=1e-4), f["level"]
        assert f["cfi"] == pytest.approx(r["cfi"], abs=1e-6), f["level"]
        assert f["rmsea"] == pytest.approx(r["rmsea"], abs=1e-6), f["level"]
        assert f["baseline_chisq"] == pytest.approx(r["baseline"], abs=1e-4)


def test_csv_copy_is_current():
    pd.testing.assert_frame_equal(pd.read_csv(DATA / "invariance_planted.csv"), invariance_data.planted(),
                                  check_dtype=False)


def test_planted_non_invariant_item_matches_lavaan():
    d = pd.read_csv(DATA / "invariance_planted.csv")
    pattern = np.array([[1, 0], [1, 0], [1, 0], [0, 1], [0, 1], [0, 1]], bool)
    fits = inv.fit_levels([d[d["g"] == g].drop(columns="g").to_numpy() for g in "ab"], pattern)
    _check(fits, R_LAVAAN["planted"])
    inv._verdict(fits)
    assert [f["holds"] for f in fits] == [True, True, False]
    assert fits[0]["verdict"] == "metric"  # the shifted intercept breaks scalar invariance only


def test_no_shift_is_scalar_invariant():
    d = invariance_data.planted(shift=0.0)
    pattern = np.array([[1, 0], [1, 0], [1, 0], [0, 1], [0, 1], [0, 1]], bool)
    fits = inv.fit_levels([d[d["g"] == g].drop(columns="g").to_numpy() for g in "ab"], pattern)
    inv._verdict(fits)
    assert fits[0]["verdict"] == "scalar"


@pytest.mark.parametrize("dim", ["trust", "norms"])
def test_demo_matches_lavaan(dim):
    d = pd.read_csv(DATA / "invariance_demo.csv")
    prefix = "tr_" if dim == "trust" else "nr_"
    items = [c for c in d if c.startswith(prefix)]
    subs = [c.rstrip("0123456789") for c in items]
    u = list(dict.fromkeys(subs))
    pattern = np.array([[s == x for x in u] for s in subs])
    cc = d[items + ["group"]].dropna()
    fits = inv.fit_levels([cc.loc[cc["group"] == g, items].to_numpy() for g in ("lokal", "pendatang")], pattern)
    _check(fits, R_LAVAAN[f"demo_{dim}"])
    if dim == "norms":
        assert fits[0]["heywood"]  # as lavaan warns


def test_invariance_table_on_canonical_tables():
    d = invariance_data.planted()
    d["respondent_id"] = [f"r{i}" for i in range(len(d))]
    items = [f"x{i}" for i in range(1, 7)]
    responses = d.melt(id_vars=["respondent_id"], value_vars=items, var_name="item").assign(wave="pre")
    respondents = d[["respondent_id"]].assign(wave="pre", group=d["g"])
    sm = pd.DataFrame({"item": items, "dimension": "trust", "subscale": ["a"] * 3 + ["b"] * 3, "reverse": False,
                       "min": -10.0, "max": 10.0})
    out = inv.invariance(responses, respondents, sm, ["pre"], group_values=["a", "b"])
    assert list(out["level"]) == ["configural", "metric", "scalar"]
    assert set(out.columns) == set(inv.INVARIANCE_COLUMNS)
    assert (out["verdict"] == "metric").all()
    assert out["chisq"].tolist() == pytest.approx([R_LAVAAN["planted"][lv]["chisq"] for lv in inv.LEVELS], abs=1e-4)
    # too few answers: one line saying why, no fit
    small = inv.invariance(responses[responses["respondent_id"].isin([f"r{i}" for i in range(290, 310)])],
                           respondents, sm, ["pre"], group_values=["a", "b"])
    assert (small["verdict"] == "not_estimable").all() and (small["note"] == "too_few_answers").all() \
        and (small["n_min"] < small["n_needed"]).all()
