"""No result depends on the order of the rows (pipeline/order.py).

The same village delivered by KoboToolbox, Google Forms and ODK Central arrives in three row orders
(uploads, sheet rows, Central's paging). Tidy writes each canonical table in one order, and every
analysis stage puts what it reads in that order first. Here the rows of the demo's canonical tables
are shuffled (as a hand-made table or another platform would have them) and every stage after tidy
is run again: each output file must be the same bytes.

The first run of this test, before the stages sorted their input, found the scales stage's scores
in the respondents' row order and reliability, item statistics, descriptives, the collective claims
and the mixed models differing in the last digits (sums in another order; the REML optimiser
stopping elsewhere, up to 2e-7 relative in a p-value), and the coverage table's rows in another
order. A rounding that flipped on such a difference (3.73 vs 3.72) was one of the report lines that
differed between a KoboToolbox and an ODK Central study of the same answers.
"""

from __future__ import annotations

import contextlib
import shutil

import numpy as np
import pandas as pd
import pytest

from pipeline.cli import main
from pipeline.order import SORT_KEYS, canonical_tables, in_canonical_order
from tests.test_stage_outputs import ANALYSIS, run_case

WAVES = ["pre", "post"]


def _reference(name: str, df: pd.DataFrame, waves: list[str]) -> pd.DataFrame:
    """The canonical order by pandas' own stable sort (a second implementation): waves by the study's
    order then by name, ids as text with missing first, ``value``/``weight`` as numbers with missing last."""
    keys, frame = [], df.copy()
    for col in (c for c in SORT_KEYS[name] if c in df.columns):
        k = f"_k_{col}"
        if col in ("value", "weight"):
            frame[k] = pd.to_numeric(df[col], errors="coerce")
        elif col == "wave":
            frame[k] = [(waves.index(w) if w in waves else len(waves), w) for w in df[col].astype(str)]
            frame[k] = frame[k].map(lambda t: f"{t[0]:04d}{t[1]}")
        else:  # missing first: "\0" sorts before any text
            frame[k] = df[col].map(lambda v: "\0" if v is None or (isinstance(v, float) and np.isnan(v)) else str(v))
        keys.append(k)
    out = frame.sort_values(keys, kind="mergesort", na_position="last")
    return out.drop(columns=keys).reset_index(drop=True)


def _ties(n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    weight = rng.integers(1, 5, n).astype(float)
    weight[rng.random(n) < 0.2] = np.nan
    return pd.DataFrame({"site": rng.choice(["desa2", "desa10", "desa1"], n), "wave": rng.choice(["post", "pre", "w3"], n),
                         "tie_type": rng.choice(["info", "help"], n), "ego": [f"R{i:03d}" for i in rng.integers(0, 30, n)],
                         "alter": [f"R{i:03d}" for i in rng.integers(0, 30, n)], "weight": weight})


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_the_order_is_pandas_sort_of_the_keys_and_no_shuffle_changes_it(seed):
    ties = _ties(400, seed)  # duplicates of (site, wave, type, ego, alter) with other weights, missing weights
    want = _reference("ties", ties, WAVES)
    got = in_canonical_order("ties", ties, WAVES)
    pd.testing.assert_frame_equal(got, want)
    assert list(got["wave"].drop_duplicates()) != sorted(got["wave"].unique())  # pre before post: the study's order
    shuffled = ties.sample(frac=1, random_state=seed).reset_index(drop=True)
    pd.testing.assert_frame_equal(in_canonical_order("ties", shuffled, WAVES), want)
    # without the study's waves: by name
    by_name = in_canonical_order("ties", ties)
    assert by_name.groupby("site")["wave"].apply(lambda w: w.is_monotonic_increasing).all()


def test_missing_ids_mixed_types_columns_and_attrs():
    t = pd.DataFrame({"respondent_id": ["b", None, 1, "1", "a"], "wave": ["pre"] * 5, "group": list("vwxyz")})
    t.attrs["key_fingerprint"] = "abc"
    got = in_canonical_order("respondents", t, WAVES)
    assert got["group"].tolist() == ["w", "x", "y", "z", "v"]  # missing first, 1 and "1" as the same text, stable
    assert got.attrs == {"key_fingerprint": "abc"} and list(got.columns) == list(t.columns)
    assert got.index.equals(pd.RangeIndex(5))
    # a tables study without site: the columns present; one row and no rows as they are
    assert in_canonical_order("ties", t.iloc[:1]).equals(t.iloc[:1].reset_index(drop=True))
    frames = canonical_tables({"respondents": t, "quality": t}, WAVES)
    assert frames["quality"] is t and frames["respondents"]["group"].tolist() == got["group"].tolist()


@pytest.fixture(scope="module")
def demo_runs(tmp_path_factory):
    """The demo's stages run on its canonical tables as tidy wrote them, and again on the same rows
    shuffled (each table by its own seed); the two processed folders."""
    first = tmp_path_factory.mktemp("as-written")
    proc = run_case("demo", first)
    second = tmp_path_factory.mktemp("shuffled")
    shutil.copytree(first, second, dirs_exist_ok=True)
    shuffled = second / proc.relative_to(first)
    for k, name in enumerate(("respondents", "responses", "ties")):
        df = pd.read_parquet(shuffled / f"{name}.parquet")
        out = df.sample(frac=1, random_state=10 + k).reset_index(drop=True)
        out.attrs = df.attrs
        assert not out.equals(df)
        out.to_parquet(shuffled / f"{name}.parquet", index=False)
    with contextlib.chdir(second):
        for stage in ANALYSIS[1:]:
            assert main([stage, "--study", str(second / "study.yaml")]) == 0, stage
    return proc, shuffled


@pytest.mark.slow
def test_tidy_writes_each_canonical_table_in_its_order(demo_runs):
    proc, _ = demo_runs
    for name in SORT_KEYS:
        df = pd.read_parquet(proc / f"{name}.parquet")
        pd.testing.assert_frame_equal(df, _reference(name, df, WAVES), obj=name)


@pytest.mark.slow
def test_every_stage_output_is_the_same_bytes_whatever_the_row_order(demo_runs):
    proc, shuffled = demo_runs
    outputs = sorted(p.name for p in proc.glob("*.csv") if p.name not in ("quality.csv", "sample.csv"))
    assert {"scores.csv", "network_whole.csv", "network_nodes.csv", "network_change.csv", "prepost.csv",
            "mixed_models.csv", "invariance.csv", "network_coverage.csv", "did.csv", "district.csv"} <= set(outputs)
    differ = [name for name in outputs if (proc / name).read_bytes() != (shuffled / name).read_bytes()]
    assert differ == []
