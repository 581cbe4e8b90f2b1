"""The SPSS and Stata files written from the polars frame (exports.pyreadstat_frame) are the bytes
pyreadstat writes from the pandas frame: every column kind the score exports have (numbers with and
without missing values, an all-missing column, coded categories, text, a date-time with a missing
one, naive and UTC), with and without .sav compression."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyreadstat
import pytest

from pipeline.report.exports import STATA_VERSION, pyreadstat_frame, write_spss_stata


def frame(n: int = 500, seed: int = 3) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    score = rng.normal(3.2, 0.7, n)
    score[rng.random(n) < 0.2] = np.nan
    times = pd.Series(pd.date_range("2026-03-01 08:00", periods=n, freq="37min"))
    times[rng.random(n) < 0.1] = pd.NaT
    return pd.DataFrame({
        "respondent_id": [f"R{i:05d}" for i in range(n)],
        "wave": rng.integers(1, 3, n).astype("float64"),
        "group": np.where(rng.random(n) < 0.1, np.nan, rng.integers(1, 3, n)).astype("float64"),
        "site": [f"Desa {'ABCÉ'[i % 4]}" for i in range(n)],
        "sector": np.where(rng.random(n) < 0.5, "", "dagang"),
        "age": rng.integers(18, 80, n).astype("float64"),
        "trust": score,
        "item_1": np.where(rng.random(n) < 0.3, np.nan, rng.integers(1, 6, n)).astype("float64"),
        "never": np.full(n, np.nan),
        "submitted_at": times,
        "submitted_utc": times.dt.tz_localize("UTC"),
    })


LABELS = {"wave": "Wave", "group": "Group", "trust": "Skor: trust", "item_1": "Saya percaya … (dibalik)"}
VALUES = {"wave": {1.0: "Sebelum", 2.0: "Sesudah"}, "group": {1.0: "lokal", 2.0: "pendatang"},
          "item_1": {1.0: "Sangat tidak setuju", 5.0: "Sangat setuju"}}


@pytest.mark.parametrize("compress", [False, True])
def test_sav_and_dta_bytes_as_from_pandas(tmp_path, compress):
    df = frame()
    fast = pyreadstat_frame(df)
    labels = [LABELS.get(c, c) for c in df.columns]
    measure = {"wave": "nominal", "group": "nominal", "trust": "scale", "item_1": "ordinal"}
    fmt = {"trust": "F8.2", "age": "F3.0", "submitted_at": "DATETIME20"}
    for name, data in (("pandas", df), ("polars", fast)):
        pyreadstat.write_sav(data, str(tmp_path / f"{name}.sav"), column_labels=labels, variable_value_labels=VALUES,
                             variable_measure=measure, variable_format=fmt, row_compress=compress)
        pyreadstat.write_dta(data, str(tmp_path / f"{name}.dta"), column_labels=labels,
                             variable_value_labels={k: {int(c): v for c, v in d.items()} for k, d in VALUES.items()},
                             version=STATA_VERSION)
    for ext in ("sav", "dta"):
        a, b = (tmp_path / f"pandas.{ext}").read_bytes(), (tmp_path / f"polars.{ext}").read_bytes()
        # the header's creation stamp is the clock's (write_spss_stata sets it to the data's time)
        stamp = slice(92, 109) if ext == "sav" else slice(a.find(b"<timestamp>"), a.find(b"</timestamp>"))
        assert a[:stamp.start] + a[stamp.stop:] == b[:stamp.start] + b[stamp.stop:], ext


def test_missing_values_read_back_missing(tmp_path):
    df = frame(200)
    write_spss_stata(df, LABELS, VALUES, tmp_path)
    for ext, read in (("sav", pyreadstat.read_sav), ("dta", pyreadstat.read_dta)):
        back, _ = read(str(tmp_path / f"scores.{ext}"))
        for col in ("group", "trust", "item_1", "never", "submitted_at"):
            assert back[col].isna().tolist() == df[col].isna().tolist(), (ext, col)
        np.testing.assert_allclose(back["trust"].to_numpy(float), df["trust"].to_numpy(float), rtol=0, atol=0)
        assert back["site"].tolist() == df["site"].tolist()
