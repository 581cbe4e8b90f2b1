"""The demo's planted effects come back out of the pipeline, for several simulator seeds.

Each seed simulates a new village (`pipeline.sources.demo`, KoboToolbox-shaped raw data), which then goes
through tidy → scales → network → paired statistics exactly as real data does. The planted truth
(`demo_truth.json`, which the analysis never reads) is compared with what the pipeline estimates:

* score changes: the right sign, and the simulator's expected change (a 100,000-draw Monte Carlo on
  the same score scale) inside the 95% CI of the paired difference;
* networks: E-I per wave and tie stability equal to the simulator's realised values, and the
  planted rise in cross-group ties found by the ΔE-I permutation test.
"""

from __future__ import annotations

import json

import pytest
import yaml

from pipeline import tidy

from pipeline.analysis import network

from pipeline.analysis import prepost

from pipeline.analysis import scales
from pipeline.config import load_study
from pipeline.sources.demo import write_demo
from pipeline.instrument import load_instrument

from tests.conftest import ROOT

pytestmark = pytest.mark.slow
WAVES = ["pre", "post"]


@pytest.fixture(scope="module")
def inst():
    return load_instrument(ROOT / "instruments" / "sinergi.yaml")


def _village(tmp_path, inst, seed: int):
    doc = yaml.safe_load((ROOT / "study.yaml").read_text(encoding="utf-8"))
    doc["id"] = f"seed-{seed}"
    doc["source"]["seed"] = seed
    doc["instrument"] = str(ROOT / "instruments" / "sinergi.yaml")
    path = tmp_path / "study.yaml"
    path.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    study = load_study(path)
    raw = tmp_path / "raw"
    write_demo(study, inst, raw)
    truth = json.loads((raw / "demo_truth.json").read_text(encoding="utf-8"))
    return study, tidy.run(study, inst, raw), truth


@pytest.mark.parametrize("seed", [101, 202, 303])
def test_planted_effects_are_recovered(tmp_path, inst, seed):
    study, tables, truth = _village(tmp_path, inst, seed)
    assert truth["seed"] == seed
    resp = tables["respondents"]
    sc = scales.run(resp, tables["responses"], tables["scale_map"], WAVES)["scores"]
    pp = prepost.paired(sc, WAVES).set_index(["dimension", "group"])
    for dim in ("trust", "norms", "trust_outgroup"):
        expected = truth["expected_change"][dim]["all"]["all"]
        row = pp.loc[(dim, "all")]
        assert row["diff"] > 0, (dim, row["diff"])
        assert row["diff_ci_low"] < expected < row["diff_ci_high"], (dim, expected, row.to_dict())

    out = network.run(resp, tables["ties"], ["info", "help", "collab"], WAVES, seed=seed,
                      permutations=999)
    whole = out["network_whole"].set_index(["wave", "tie_type"])
    realised = truth["network"]["realised"]
    for wave in WAVES:
        for tie_type in ("info", "help", "collab"):
            want = realised[wave][tie_type]
            assert whole.loc[(wave, tie_type), "ei"] == pytest.approx(want["ei"], abs=5e-5)
            assert whole.loc[(wave, tie_type), "n_ties"] == want["internal"] + want["external"]
    change = out["network_change"].set_index("tie_type")
    for tie_type, jac in truth["network"]["jaccard"]["pre->post"].items():
        assert change.loc[tie_type, "jaccard"] == pytest.approx(jac, abs=5e-5)
    anyc = change.loc["any"]
    assert anyc["delta_ei"] > 0 and anyc["delta_ei_p"] < 0.05
    assert anyc["new_between"] > anyc["dropped_between"]
