"""pipeline/coded.py: a stage's CSV as dictionary codes, decoded per dimension exactly as read_table reads it."""

import numpy as np
import pandas as pd
import pytest

from pipeline.coded import frames_by, keep_rows, read_coded, to_frame, values_in_order
from pipeline.errors import SinergiError
from pipeline.outputs import read_table

COLUMNS = {"respondent_id": "text", "wave": "text", "site": "text", "dimension": "text", "score": "number"}


def _write(tmp_path, text: str):
    path = tmp_path / "scores.csv"
    path.write_text(text, encoding="utf-8")
    return path


def test_slices_equal_read_table_rows(tmp_path):
    rng = np.random.default_rng(3)
    n = 400
    df = pd.DataFrame({"respondent_id": [f"{i % 97:03d}" for i in range(n)],  # 000 … 096: text, not numbers
                       "wave": rng.choice(["2024", "2025"], n), "group": rng.choice(["lokal", "pendatang"], n),
                       "site": rng.choice(["desa1", "desa2", "NA"], n),  # "NA" is a missing cell for pandas too
                       "dimension": rng.choice(["trust", "norms", "trust_ingroup"], n),
                       "score": rng.normal(3, 1, n) / 7, "n_items": 4})
    df.loc[::17, "score"] = np.nan
    df.loc[5, "wave"] = ""
    path = tmp_path / "scores.csv"
    df.to_csv(path, index=False)
    whole = read_table(path)
    table = read_coded(path, COLUMNS)
    assert values_in_order(table, "dimension") == list(pd.unique(whole["dimension"]))
    for dim, part in frames_by(table, "dimension"):
        expect = whole.loc[whole["dimension"] == dim, list(COLUMNS)].reset_index(drop=True)
        pd.testing.assert_frame_equal(part, expect)  # same strings, same NaN cells, same doubles
        assert np.array_equal(part["score"].to_numpy().view("i8"), expect["score"].to_numpy().view("i8"))


def test_keep_rows_drops_missing_and_other_values(tmp_path):
    path = _write(tmp_path, "respondent_id,wave,site,dimension,score\na,pre,x,t,1\nb,pre,,t,2\nc,pre,y,t,3\n")
    kept = to_frame(keep_rows(read_coded(path, COLUMNS), "site", {"x"}))
    assert kept["respondent_id"].tolist() == ["a"]


def test_a_cell_that_is_no_number_is_one_clear_error(tmp_path):
    path = _write(tmp_path, "respondent_id,wave,site,dimension,score\na,pre,x,t,1\nb,pre,x,t,abc\n")
    with pytest.raises(SinergiError, match=r"scores\.csv: line 3, column score: .abc. is not a number"):
        read_coded(path, COLUMNS)


def test_a_missing_column_is_named(tmp_path):
    path = _write(tmp_path, "respondent_id,wave,dimension,score\na,pre,t,1\n")
    with pytest.raises(SinergiError, match=r"scores\.csv: missing column\(s\) site"):
        read_coded(path, COLUMNS)
    assert read_coded(path, COLUMNS, optional=("site",)).column_names == ["respondent_id", "wave", "dimension",
                                                                          "score"]


def test_header_only_file_gives_no_slices(tmp_path):
    path = _write(tmp_path, "respondent_id,wave,site,dimension,score\n")
    assert list(frames_by(read_coded(path, COLUMNS), "dimension")) == []
