"""The study's shape (pipeline.report.shape): waves with answers, groups present, villages, and the
one order every table follows."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from pipeline.config import load_study
from pipeline.report.inputs import Inputs
from pipeline.report.shape import StudyShape

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def study():
    return load_study(str(ROOT / "study.yaml"))


def _sample(rows):
    return pd.DataFrame(rows, columns=["wave", "group", "n"])


def test_waves_and_groups_with_respondents(study):
    sample = _sample([("pre", "all", 10), ("pre", "lokal", 10), ("pre", "pendatang", 0), ("post", "all", 0)])
    shape = StudyShape(study, Inputs({"sample.csv": sample}))
    assert shape.data_waves == ["pre"] and shape.one_wave
    assert shape.present_levels == ["lokal"] and shape.one_group
    both = _sample([("pre", "all", 10), ("post", "all", 8), ("post", "pendatang", 3), ("pre", "lokal", 5)])
    shape = StudyShape(study, Inputs({"sample.csv": both}))
    assert shape.data_waves == ["pre", "post"] and not shape.one_wave and not shape.one_group


def test_villages_ties_and_scales(study):
    resp = pd.DataFrame({"respondent_id": ["a", "b", "c"], "site": ["desa2", "desa10", None]})
    shape = StudyShape(study, Inputs({"respondents.parquet": resp, "ties.parquet": pd.DataFrame(columns=["ego"]),
                                      "scale_map.parquet": pd.DataFrame(columns=["item", "dimension"])}))
    assert shape.sites == ["desa10", "desa2"] and shape.n_sites == 2
    assert shape.no_ties and shape.no_scales
    assert StudyShape(study, Inputs({})).n_sites == 1


def test_study_order_follows_the_study_then_the_values(study):
    shape = StudyShape(study, Inputs({}))
    df = pd.DataFrame({"wave": ["post", "pre", "pre", "pre", "x"],
                       "tie_type": ["any", "collab", "zzz", "info", "info"], "v": range(5)})
    got = shape.study_order(df, "wave", "tie_type")
    assert got["v"].tolist() == [3, 1, 2, 0, 4]  # pre: info, collab, then the unlisted zzz; post; the unlisted x
    assert got.index.tolist() == [3, 1, 2, 0, 4]


def test_an_order_of_its_own_for_a_column(study):
    shape = StudyShape(study, Inputs({}))
    df = pd.DataFrame({"group": ["all", "pendatang", "lokal"], "role": ["total", "liaison", "coordinator"]})
    assert shape.study_order(df, "group")["group"].tolist() == ["all", "lokal", "pendatang"]
    assert shape.study_order(df, "group", group=["lokal", "pendatang", "all"])["group"].tolist() == [
        "lokal", "pendatang", "all"]
    assert shape.study_order(df, "role", role=["coordinator", "liaison", "total"])["role"].tolist() == [
        "coordinator", "liaison", "total"]


def test_dimensions_in_the_scale_maps_order(study):
    sm = pd.DataFrame({"item": ["n1", "t1", "t2"], "dimension": ["norms", "trust", "trust"],
                       "subscale": ["reciprocity", "outgroup", "ingroup"], "min": [1, 1, 0], "max": [5, 5, 3]})
    shape = StudyShape(study, Inputs({"scale_map.parquet": sm}))
    assert shape.scale_dims() == ["norms", "norms_reciprocity", "trust", "trust_outgroup", "trust_ingroup"]
    assert shape.order_dims(["zeta", "trust", "norms_reciprocity", "alpha"]) == [
        "norms_reciprocity", "trust", "alpha", "zeta"]
    assert shape.parent("trust_ingroup") == "trust" and shape.parent("network_degree") == "network_degree"
    assert shape.dim_range("trust") == (0.0, 5.0) and shape.dim_range("trust_outgroup") == (1.0, 5.0)
    df = pd.DataFrame({"dimension": ["trust", "norms", "trust_outgroup"]})
    assert shape.study_order(df, "dimension")["dimension"].tolist() == ["norms", "trust", "trust_outgroup"]
