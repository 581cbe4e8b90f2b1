"""Canonical-table validation speaks plainly: table, where, column, rule, offending rows."""

import numpy as np
import pandas as pd
import pytest

from pipeline import schemas
from pipeline.errors import SinergiError

TIES = dict(site="s", wave="w", tie_type="info")
PEOPLE = dict(wave="w", group="lokal", site="s")


@pytest.mark.parametrize("name, df, expected", [
    ("ties", pd.DataFrame({**TIES, "ego": ["a", "b"], "alter": ["a", "c"], "weight": np.nan}),
     "breaks the rule: self-nomination (ego == alter) (first offending rows, the first data row is row 1 — "
     "row 1: site='s', wave='w', tie_type='info', ego='a', alter='a', weight=(empty))"),
    ("ties", pd.DataFrame({**TIES, "ego": ["a", "b"], "alter": ["b", "c"], "weight": [2, -1]}),
     "column weight has values outside 1..4 (first offending rows, the first data row is row 1 — row 2: weight=-1)"),
    ("respondents", pd.DataFrame({"respondent_id": ["a", "a"], **PEOPLE}),
     "has duplicate rows for (respondent_id, wave) (first offending rows, the first data row is row 1 — "
     "row 1: respondent_id='a', wave='w'; row 2: respondent_id='a', wave='w')"),
    ("respondents", pd.DataFrame({"respondent_id": ["a", ""], **PEOPLE}),
     "column respondent_id has empty text"),
    ("respondents", pd.DataFrame({"respondent_id": ["a", None], **PEOPLE}),
     "column respondent_id has empty values"),
    ("responses", pd.DataFrame({"respondent_id": ["a", "b"], "wave": "w", "item": "t1",
                                "value": ["1", "x"]}),
     "column value has a value that is not float64 (first offending rows, the first data row is row 1 — "
     "row 2: value='x')"),
    ("respondents", pd.DataFrame({"respondent_id": ["a", "b"], **PEOPLE, "joint_purchasing": [1.0, 2.0]}),
     "column joint_purchasing has values that are not 1 or 0 (first offending rows, the first data row is row 1 — "
     "row 2: joint_purchasing=2.0)"),
    ("respondents", pd.DataFrame({"respondent_id": ["a", "b"], **PEOPLE, "revenue": [-1.0, 2.0]}),
     "column revenue has values that are not an amount, 0 or more"),
    ("ties", pd.DataFrame({**TIES, "ego": ["a", "b"], "alter": ["b", "c"], "weight": [2, 1e9]}),
     "column weight has values outside 1..4"),
    ("scale_map", pd.DataFrame({"item": ["t1"], "dimension": "trust", "subscale": "gen",
                                "reverse": [False], "min": 5, "max": 1}),
     "breaks the rule: min must be below max"),
])
def test_bad_table_gives_one_plain_line(name, df, expected):
    with pytest.raises(SinergiError) as info:
        schemas.validate(name, df, "data/processed/x/t.parquet")
    message = str(info.value)
    assert message.startswith(f"table {name} (data/processed/x/t.parquet): ")
    assert expected in message
    assert "\n" not in message and "<Check" not in message and "np." not in message


def test_missing_columns_are_named():
    with pytest.raises(SinergiError, match="missing column.s. alter; required: site, wave"):
        schemas.validate("ties", pd.DataFrame(columns=["site", "wave", "tie_type", "ego", "weight"]))


def test_valid_table_is_coerced():
    out = schemas.validate("responses", pd.DataFrame({"respondent_id": ["a"], "wave": "w",
                                                      "item": "t1", "value": ["3"]}))
    assert out["value"].dtype == float and out["value"].iloc[0] == 3.0


def test_value_rule_is_the_likert_grid():
    values = pd.Series([1, 3.5, 5, 6, np.nan, 3.5])
    lo = pd.Series([1, 1, 1, 1, 1, 0.5])
    hi = pd.Series([5, 5, 5, 5, 5, 5.5])
    assert schemas.value_rule(values, lo, hi).tolist() == [True, False, True, False, True, True]


def test_covariate_kinds():
    kinds = {c: schemas.covariate_kind(c) for c in ("joint_purchasing", "membership_koperasi", "membership_n",
                                                     "revenue", "age", "forum_meetings", "sector")}
    assert kinds == {"joint_purchasing": "binary", "membership_koperasi": "binary", "membership_n": "count",
                     "revenue": "amount", "age": "years", "forum_meetings": "count", "sector": None}
