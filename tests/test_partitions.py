"""The canonical tables one Parquet row group per village, and the jobs that read them."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

from pipeline import partitions
from pipeline.analysis import invariance, scales
from pipeline.errors import SinergiError
from tests.tablestudy import write_tables_study


def _frame(rng, n=60):
    site = rng.choice(["Desa B", "Desa A", "Desa C"], size=n)
    return pd.DataFrame({"respondent_id": [f"r{i:03d}" for i in range(n)], "site": site,
                         "x": rng.normal(size=n), "k": pd.array(rng.integers(0, 5, n), dtype="Int64")})


def test_one_row_group_per_site_and_the_whole_table_back(tmp_path):
    rng = np.random.default_rng(1)
    df = _frame(rng)
    df.loc[3, "x"] = np.nan
    df.loc[4, "k"] = pd.NA
    path = tmp_path / "t.parquet"
    partitions.write_partitioned(path, df, df["site"])
    order = list(pd.unique(df["site"]))  # first appearance
    assert partitions.sites(path) == order and partitions.is_partitioned(path)
    f = pq.ParquetFile(path)
    assert f.num_row_groups == 3
    # grouped by site, stable within a site; pandas reads the whole table (dtypes as to_parquet)
    want = pd.concat([df[df["site"] == s] for s in order], ignore_index=True)
    whole = pd.read_parquet(path)
    pd.testing.assert_frame_equal(whole, want, check_exact=True)
    for i, s in enumerate(order):
        got = partitions.read_site(path, s)
        pd.testing.assert_frame_equal(got, want[want["site"] == s].reset_index(drop=True), check_exact=True)
        assert f.metadata.row_group(i).num_rows == len(got)
        # pyarrow's own filter on the column reads the same rows
        pd.testing.assert_frame_equal(pd.read_parquet(path, filters=[("site", "==", s)]), got, check_exact=True)
    batch = partitions.read_sites(path, [order[2], order[0]], columns=["x"])
    assert batch["x"].tolist() == want.loc[want["site"] == order[2], "x"].tolist() + \
        want.loc[want["site"] == order[0], "x"].tolist()
    assert partitions.read_site(path, "Desa Z").shape == (0, 4)  # a village without rows in this table


def test_empty_table_and_unpartitioned_file(tmp_path):
    df = _frame(np.random.default_rng(2)).iloc[:0]
    path = tmp_path / "e.parquet"
    partitions.write_partitioned(path, df, df["site"])
    assert partitions.sites(path) == [] and pd.read_parquet(path).shape == (0, 4)
    old = tmp_path / "old.parquet"
    _frame(np.random.default_rng(3)).to_parquet(old, index=False)
    assert not partitions.is_partitioned(old)
    with pytest.raises(SinergiError, match=r"old\.parquet: not partitioned by site .*make tidy"):
        partitions.sites(old)
    with pytest.raises(SinergiError, match=r"nope\.parquet: missing"):
        partitions.read_site(tmp_path / "nope.parquet", "Desa A")


def test_responses_take_their_respondents_site():
    resp = pd.DataFrame({"respondent_id": ["a", "a", "b"], "wave": ["pre", "post", "pre"], "site": ["S1", "S2", "S1"]})
    ans = pd.DataFrame({"respondent_id": ["b", "a", "a"], "wave": ["pre", "post", "pre"], "item": "t1", "value": 1.0})
    assert partitions.site_of_responses(ans, resp).tolist() == ["S1", "S2", "S1"]
    stray = pd.concat([ans, pd.DataFrame({"respondent_id": ["c"], "wave": ["pre"], "item": ["t1"], "value": [2.0]})])
    with pytest.raises(SinergiError, match=r"not in the respondents table; first: c/pre"):
        partitions.site_of_responses(stray, resp)


def test_batches():
    assert partitions.batches([]) == []
    assert partitions.batches(list("abc")) == [["a"], ["b"], ["c"]]
    big = [f"v{i}" for i in range(1000)]
    b = partitions.batches(big)
    assert sum(b, []) == big and max(map(len, b)) == partitions.MAX_BATCH


@pytest.fixture(scope="module")
def villages(tmp_path_factory):
    """A tidied tables study of six villages whose CSV interleaves them (person i in desa<i % 6>)."""
    import os

    from pipeline.cli import main

    folder = tmp_path_factory.mktemp("villages")
    old = os.getcwd()
    os.chdir(folder)
    try:
        path = write_tables_study(folder, n=120, sites=6, study_id="six")
        for stage in ("pull", "tidy"):
            assert main([stage, "--study", str(path), *(["--quiet"] if stage == "pull" else [])]) == 0
    finally:
        os.chdir(old)
    return {"folder": folder, "study": path, "proc": folder / "data" / "processed" / "six"}


def test_tidy_writes_the_canonical_tables_by_village(villages):
    proc = villages["proc"]
    resp = pd.read_parquet(proc / "respondents.parquet")
    for name in partitions.PARTITIONED:
        path = proc / f"{name}.parquet"
        names = partitions.sites(path)
        assert sorted(names) == [f"desa{i}" for i in range(6)]
        assert pq.ParquetFile(path).num_row_groups == 6
        whole = pd.read_parquet(path)
        pd.testing.assert_frame_equal(pd.concat([partitions.read_site(path, s) for s in names], ignore_index=True),
                                      whole, check_exact=True)
        if name != "responses":
            assert whole["site"].tolist() == sorted(whole["site"], key=names.index)  # grouped
    # every answer lies in its respondent's village
    for s in partitions.sites(proc / "responses.parquet"):
        ans = partitions.read_site(proc / "responses.parquet", s)
        ids = set(resp.loc[resp["site"] == s, "respondent_id"])
        assert len(ans) and set(ans["respondent_id"]) <= ids


def test_per_village_pieces_give_the_whole_study_results(villages):
    """scales.run_parts / invariance.from_wide(stack_wide) equal the whole-study functions exactly."""
    proc = villages["proc"]
    resp, ans, sm = (pd.read_parquet(proc / f"{n}.parquet") for n in ("respondents", "responses", "scale_map"))
    paths = {"respondents": proc / "respondents.parquet", "responses": proc / "responses.parquet"}
    whole = scales.run(resp, ans, sm, ["pre", "post"])
    parts = partitions.map_partitions(scales.coded_arrays, paths, "serial", scale_map=sm)
    assert len(parts) == 6
    got = scales.run_parts(resp, parts, sm, ["pre", "post"])
    for name in whole:
        pd.testing.assert_frame_equal(got[name], whole[name], check_exact=True, obj=name)
    wide = partitions.map_partitions(invariance.wide_items, paths, "serial", scale_map=sm)
    pd.testing.assert_frame_equal(invariance.stack_wide(wide), invariance.wide_items(ans, resp, sm), check_exact=True)
    with pytest.raises(RuntimeError, match="rows of item values"):
        scales.run_parts(resp, parts[:-1], sm, ["pre", "post"])


def test_a_bad_answer_in_one_village_is_one_line(villages, tmp_path):
    """A job's SinergiError reaches the stage as it is, naming the file and the villages read."""
    proc = villages["proc"]
    ans = pd.read_parquet(proc / "responses.parquet")
    resp = pd.read_parquet(proc / "respondents.parquet")
    ans.loc[5, "item"] = ""
    bad = tmp_path / "responses.parquet"
    partitions.write_partitioned(bad, ans, partitions.site_of_responses(ans, resp))
    village = partitions.site_of_responses(ans, resp)[5]
    sm = pd.read_parquet(proc / "scale_map.parquet")
    with pytest.raises(SinergiError, match=rf"table responses \(.*responses\.parquet, village {village}\)"):
        partitions.map_partitions(scales.coded_arrays, {"respondents": proc / "respondents.parquet",
                                                        "responses": bad}, "serial", scale_map=sm)


def test_stages_write_the_same_files_from_partitioned_and_older_tables(villages, monkeypatch):
    """`sinergi scales` / `invariance` on the row groups (village by village) and on tables written
    whole, as an older tidy wrote them (the whole-study route): the same bytes."""
    from pipeline.cli import main

    monkeypatch.chdir(villages["folder"])
    monkeypatch.setenv("SINERGI_SCHEDULER", "serial")
    proc = villages["proc"]
    files = ["scores.csv", "reliability.csv", "items.csv", "invariance.csv"]

    def run() -> dict[str, bytes]:
        for stage in ("scales", "invariance"):
            assert main([stage, "--study", str(villages["study"])]) == 0
        return {f: (proc / f).read_bytes() for f in files}

    kept = {n: (proc / f"{n}.parquet").read_bytes() for n in ("respondents", "responses")}
    by_village = run()
    try:
        for n in kept:
            pd.read_parquet(proc / f"{n}.parquet").to_parquet(proc / f"{n}.parquet", index=False)
            assert not partitions.is_partitioned(proc / f"{n}.parquet")
        assert run() == by_village
    finally:
        for n, data in kept.items():
            (proc / f"{n}.parquet").write_bytes(data)
    assert pd.read_csv(proc / "invariance.csv")["chisq"].notna().any()


def test_a_worker_without_the_files_says_so(tmp_path):
    job = (scales.coded_arrays, {"responses": str(tmp_path / "elsewhere" / "responses.parquet")}, ["desa0"], {})
    with pytest.raises(SinergiError, match=r"responses\.parquet: missing \(on .*shared folder"):
        partitions._batch_job(job)
