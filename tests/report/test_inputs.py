"""The report's Inputs read a table when asked, and their parts (row groups, CSV batches, the
villages' rows) are the whole table's rows; the missing-answers table counted in batches is the
one the whole answers table gave."""

from __future__ import annotations

import numpy as np
import pandas as pd

from pipeline.partitions import write_partitioned
from pipeline.report import inputs
from pipeline.report.inputs import Inputs
from pipeline.report.sections.data import missing_answers


def _folder(tmp_path):
    rng = np.random.default_rng(2)
    n = 400
    ties = pd.DataFrame({"site": [f"desa{i % 5}" for i in range(n)], "wave": rng.choice(["pre", "post"], n),
                         "tie_type": rng.choice(["info", "help"], n), "ego": [f"R{i}" for i in range(n)],
                         "alter": [f"R{i + 1}" for i in range(n)], "weight": rng.random(n)})
    write_partitioned(tmp_path / "ties.parquet", ties, ties["site"])
    scores = pd.DataFrame({"respondent_id": [f"{i:03d}" for i in range(n)], "wave": rng.choice(["pre", "post"], n),
                           "dimension": rng.choice(["trust", "norms"], n), "score": rng.normal(3, 1, n)})
    scores.loc[::7, "score"] = np.nan
    scores.to_csv(tmp_path / "scores.csv", index=False)
    return ties, scores


def test_tables_are_read_when_asked_and_parts_are_the_whole(tmp_path, monkeypatch):
    ties, scores = _folder(tmp_path)
    (tmp_path / "empty.csv").write_text("a,b\n")
    ins = Inputs.read(tmp_path)
    assert ins.has("ties.parquet") and ins.has("scores.csv") and not ins.has("respondents.parquet")
    assert ins.n_rows("ties.parquet") == len(ties) and ins.any_rows("scores.csv") and not ins.tables
    whole = ins("ties.parquet")
    some = ins.site_rows("ties.parquet", ["desa3", "desa1"])
    want = whole[whole["site"].isin(["desa1", "desa3"])]
    pd.testing.assert_frame_equal(Inputs({}, tmp_path, {"ties.parquet": tmp_path / "ties.parquet"})
                                  .site_rows("ties.parquet", ["desa3", "desa1"]), want.reset_index(drop=True))
    pd.testing.assert_frame_equal(some, want)  # in memory now: the filter of the table read
    monkeypatch.setattr(inputs, "CSV_BLOCK", 1000)
    parts = list(ins.csv_batches("scores.csv", ["respondent_id", "dimension", "score", "nope"]))
    assert len(parts) > 3
    got = pd.concat([p.astype({"respondent_id": str, "dimension": str}) for p in parts], ignore_index=True)
    pd.testing.assert_frame_equal(got, ins("scores.csv")[["respondent_id", "dimension", "score"]],
                                  check_dtype=False)
    assert got["respondent_id"].iloc[0] == "000"  # an id stays text


def _missing_whole(resp, sm):
    """The table as the data section computed it from the whole answers table."""
    m = resp.merge(sm[["item", "dimension"]], on="item", how="inner")
    g = m.groupby(["wave", "dimension"], sort=False)["value"]
    tab = pd.DataFrame({"expected": g.size(), "missing": g.apply(lambda x: int(x.isna().sum()))}).reset_index()
    return tab, {"wave": "", "dimension": "", "expected": len(m), "missing": int(m["value"].isna().sum())}


def test_missing_answers_in_batches_are_those_of_the_whole_table():
    rng = np.random.default_rng(4)
    n = 900
    resp = pd.DataFrame({"respondent_id": [f"R{i // 6}" for i in range(n)],
                         "wave": rng.choice(["mid", "pre", "post", None], n, p=[0.3, 0.3, 0.35, 0.05]),
                         "item": rng.choice(["a", "b", "c", "x"], n), "value": rng.integers(1, 5, n).astype(float)})
    resp.loc[rng.random(n) < 0.2, "value"] = np.nan
    sm = pd.DataFrame({"item": ["b", "a", "c", "b"], "dimension": ["d2", "d1", "d1", "d3"]})  # b in two dimensions
    want_tab, want_total = _missing_whole(resp, sm)
    for size in (n, 100, 37):
        parts = [resp.iloc[i:i + size] for i in range(0, n, size)]
        if size == 37:
            parts = [p.astype({"wave": "category", "item": "category"}) for p in parts]
        tab, total = missing_answers(parts, sm)
        pd.testing.assert_frame_equal(tab, want_tab, check_dtype=False)
        assert total == want_total
    assert missing_answers([resp[resp["item"] == "x"]], sm) is None
