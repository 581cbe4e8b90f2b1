"""Tests of pipeline.analysis.plan: simulated power against the analytic paired-t power, size under the null,
and the few-villages limit of randomization inference."""

from __future__ import annotations

import numpy as np
import pytest
from statsmodels.stats.power import TTestPower

from pipeline.sources import demo
from pipeline.analysis.plan import PLAN_COLUMNS, simulate_power


def test_paired_power_matches_analytic():
    """Everyone takes part, no attrition: the change is N(d, CHANGE_SD²), so the paired test's power is
    the one-sample t power at d_z = d / CHANGE_SD with n = respondents (statsmodels TTestPower)."""
    d, n, sims = 0.06, 60, 400
    out = simulate_power(villages_program=1, villages_comparison=0, respondents=n, participation=1.0,
                         attrition=0.0, response_rate=1.0, effect_scale=d, effect_cross_ties=0.0, sims=sims, seed=3)
    got = out.set_index("test").loc["paired_scale"]
    want = TTestPower().power(effect_size=d / demo.CHANGE_SD, nobs=n, alpha=0.05)
    assert got["power"] == pytest.approx(want, abs=3.5 * np.sqrt(want * (1 - want) / sims))
    assert list(out.columns) == PLAN_COLUMNS


def test_null_has_size_alpha():
    out = simulate_power(villages_program=1, villages_comparison=0, respondents=50, effect_scale=0.0,
                         effect_cross_ties=0.0, sims=300, seed=5).set_index("test")
    assert out.loc["paired_scale", "power"] == pytest.approx(0.05, abs=3.5 * np.sqrt(0.05 * 0.95 / 300))
    assert out.loc["did_scale", "note"] == "no comparison village"


def test_few_villages_have_no_did_power_and_more_villages_do():
    few = simulate_power(villages_program=1, villages_comparison=1, respondents=40, effect_scale=1.0,
                         effect_cross_ties=0.1, sims=30, seed=1).set_index("test")
    assert few.loc["did_scale", "power"] == 0 and "smallest randomization p is 1/2" in few.loc["did_scale", "note"]
    many = simulate_power(villages_program=4, villages_comparison=4, respondents=40, effect_scale=1.0,
                          effect_cross_ties=0.1, sims=30, seed=1).set_index("test")
    assert many.loc["did_scale", "n_assignments"] == 70
    assert many.loc["did_scale", "power"] > 0.8 and many.loc["did_ei", "power"] > 0.5


def test_cross_tie_effect_moves_ei():
    base = dict(villages_program=1, villages_comparison=0, respondents=80, effect_scale=0.0, sims=40, seed=2)
    none = simulate_power(effect_cross_ties=0.0, **base).set_index("test").loc["paired_ei", "power"]
    big = simulate_power(effect_cross_ties=0.1, **base).set_index("test").loc["paired_ei", "power"]
    assert big > 0.6 and none < 0.2
