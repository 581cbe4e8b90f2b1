"""The canonical tables one Parquet row group per village, and the jobs that read them."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

from pipeline import partitions
from pipeline.analysis import invariance, scales
from pipeline.errors import SinergiError
from pipeline.io import write_csv, write_csv_parts
from tests.tablestudy import tidied_tables_study


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
    folder = tmp_path_factory.mktemp("villages")
    path = tidied_tables_study(folder, n=120, sites=6, study_id="six")
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


def test_per_village_pieces_give_the_whole_study_results(villages, tmp_path):
    """scales.run_parts / invariance.from_wide(stack_wide) equal the whole-study functions exactly."""
    proc = villages["proc"]
    resp, ans, sm = (pd.read_parquet(proc / f"{n}.parquet") for n in ("respondents", "responses", "scale_map"))
    paths = {"respondents": proc / "respondents.parquet", "responses": proc / "responses.parquet"}
    whole = scales.run(resp, ans, sm, ["pre", "post"])
    parts = partitions.map_partitions(scales.village_values, paths, "serial", scale_map=sm)
    assert len(parts) == 6
    short = parts[:-1]
    got = scales.run_parts(resp, parts, sm, ["pre", "post"])
    assert parts == []  # the pieces are dropped as they are stacked
    for name in whole:
        pd.testing.assert_frame_equal(got[name], whole[name], check_exact=True, obj=name)
    # scores.csv written in pieces of 7 rows: the file one frame writes
    values = partitions.map_partitions(scales.village_values, paths, "serial", scale_map=sm)
    coded, _ = scales.stack_values(values, len(resp), len(sm))
    pieces = list(scales.score_parts(resp, coded, sm, rows=7))
    assert len(pieces) > len(whole["scores"]) // 7 and max(len(p) for p in pieces) == 7
    write_csv(tmp_path / "whole.csv", whole["scores"])
    write_csv_parts(tmp_path / "pieces.csv", iter(pieces))
    assert (tmp_path / "pieces.csv").read_bytes() == (tmp_path / "whole.csv").read_bytes()
    wide = partitions.map_partitions(invariance.wide_items, paths, "serial", scale_map=sm)
    pd.testing.assert_frame_equal(invariance.stack_wide(wide), invariance.wide_items(ans, resp, sm), check_exact=True)
    # the invariance stage's arrays, filled piece by piece: the same fits as the whole study's table
    want = invariance.invariance(ans, resp, sm, ["pre", "post"], scheduler="serial")
    stacked = invariance.stack_items(wide)
    assert wide == []
    got = invariance.from_arrays(*stacked, resp["group"], sm, ["pre", "post"], scheduler="serial")
    pd.testing.assert_frame_equal(got, want, check_exact=True)
    assert got["chisq"].notna().any()
    with pytest.raises(RuntimeError, match="rows of item values"):
        scales.run_parts(resp, short, sm, ["pre", "post"])


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
        partitions.map_partitions(scales.village_values, {"respondents": proc / "respondents.parquet",
                                                        "responses": bad}, "serial", scale_map=sm)


def test_stages_write_the_same_files_from_partitioned_and_older_tables(villages, monkeypatch):
    """`sinergi scales` / `invariance` / `network` / `coverage` on the row groups (village by
    village) and on tables written whole, as an older tidy wrote them (the whole-study route):
    the same bytes."""
    from pipeline.cli import main

    monkeypatch.chdir(villages["folder"])
    monkeypatch.setenv("SINERGI_SCHEDULER", "serial")
    proc = villages["proc"]
    files = ["scores.csv", "reliability.csv", "items.csv", "invariance.csv", "network_whole.csv",
             "network_groups.csv", "mixing.csv", "network_nodes.csv", "brokerage.csv", "network_change.csv",
             "network_coverage.csv"]

    def run() -> dict[str, bytes]:
        for stage in ("scales", "invariance", "network", "coverage"):
            assert main([stage, "--study", str(villages["study"])]) == 0
        return {f: (proc / f).read_bytes() for f in files}

    kept = {n: (proc / f"{n}.parquet").read_bytes() for n in ("respondents", "responses", "ties")}
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
    assert pd.read_csv(proc / "network_change.csv")["qap_p"].notna().any()
    assert pd.read_csv(proc / "network_coverage.csv")["site"].nunique() == 6


def test_a_worker_without_the_files_says_so(tmp_path):
    job = (scales.village_values, {"responses": str(tmp_path / "elsewhere" / "responses.parquet")}, ["desa0"], {})
    with pytest.raises(SinergiError, match=r"responses\.parquet: missing \(on .*shared folder"):
        partitions._batch_job(job)


def test_network_and_coverage_jobs_reading_their_villages_equal_the_whole_tables(tmp_path):
    """network.run_partitioned / coverage.coverage_partitioned (jobs read their villages' row groups)
    equal run / coverage on the whole tables, also when a person answers in two villages and a
    village's ties name a respondent of another village (coverage takes their group from there)."""
    from pipeline.analysis import coverage, network

    rng = np.random.default_rng(7)
    rows, ties = [], []
    for v, site in enumerate(["Desa B", "Desa A", "Desa C"]):
        for w in ("pre", "post"):
            for i in range(12):
                rows.append({"respondent_id": f"p{v}{i:02d}", "wave": w, "site": site,
                             "group": "lokal" if i % 3 else "pendatang"})
    rows.append({"respondent_id": "p000", "wave": "post", "site": "Desa A", "group": "lokal"})  # moved B → A
    resp = pd.DataFrame(rows)
    resp = resp[~((resp["respondent_id"] == "p000") & (resp["wave"] == "post") & (resp["site"] == "Desa B"))]
    for site, w in resp[["site", "wave"]].drop_duplicates().itertuples(index=False):
        ids = resp.loc[(resp["site"] == site) & (resp["wave"] == w), "respondent_id"].to_numpy()
        for _ in range(40):
            ego, alter = rng.choice(ids, 2, replace=False)
            ties.append({"site": site, "wave": w, "tie_type": rng.choice(["info", "help"]), "ego": ego, "alter": alter})
        ties.append({"site": site, "wave": w, "tie_type": "info", "ego": ids[0], "alter": "p101"})  # in Desa A
        ties.append({"site": site, "wave": w, "tie_type": "help", "ego": ids[1], "alter": "nobody"})
    ties = pd.DataFrame(ties).drop_duplicates(["site", "wave", "tie_type", "ego", "alter"]).assign(weight=np.nan)
    paths = {"respondents": tmp_path / "respondents.parquet", "ties": tmp_path / "ties.parquet"}
    partitions.write_partitioned(paths["respondents"], resp, resp["site"])
    partitions.write_partitioned(paths["ties"], ties, ties["site"])
    resp, ties = pd.read_parquet(paths["respondents"]), pd.read_parquet(paths["ties"])
    waves, types = ["pre", "post"], ["info", "help"]
    whole = network.run(resp, ties, types, waves, seed=3, permutations=199, scheduler="serial")
    parts = network.run_partitioned(paths, types, waves, seed=3, permutations=199, scheduler="serial")
    parts["network_nodes"] = parts["network_nodes"].concat()  # given a piece at a time
    for name in whole:
        pd.testing.assert_frame_equal(parts[name], whole[name], check_exact=True, obj=name)
    assert whole["network_whole"]["site"].tolist()[0] == "Desa A"  # sorted sites, whatever the files' order
    cov = coverage.coverage(resp, ties, types, waves, scheduler="serial")
    got = coverage.coverage_partitioned(resp, paths, types, waves, scheduler="serial")
    pd.testing.assert_frame_equal(got, cov, check_exact=True)
    known = cov.loc[cov["tie_type"] == "info", "n_nonrespondents_group_known"]
    assert (known >= 1).any()  # p101's group came from Desa A's respondents


@pytest.mark.parametrize("seed,take", [(4, 7), (5, 1 << 20), (6, 1)])
def test_writing_rows_in_an_order_is_writing_the_reordered_table(tmp_path, monkeypatch, seed, take):
    """write_partitioned_rows(df, site, order) writes the file write_partitioned(df.iloc[order]) writes:
    same frame, row groups, sites and metadata (attrs kept), a batch of villages at a time (a batch
    smaller than a village, several villages a batch, all at once); a text column empty in a whole
    village keeps the type the whole column has."""
    monkeypatch.setattr(partitions, "TAKE_ROWS", take)
    rng = np.random.default_rng(seed)
    df = _frame(rng, 90)
    df.loc[5, "x"] = np.nan
    df.loc[6, "k"] = pd.NA
    df["note"] = pd.Series([None if s == "Desa A" else f"n{i}" for i, s in enumerate(df["site"])], dtype=object)
    df.attrs["key_fingerprint"] = "abc"
    order = rng.permutation(len(df))
    a, b = tmp_path / "a.parquet", tmp_path / "b.parquet"
    partitions.write_partitioned(a, df.iloc[order], df["site"].iloc[order])
    partitions.write_partitioned_rows(b, df, df["site"], order)
    pd.testing.assert_frame_equal(pd.read_parquet(b), pd.read_parquet(a), check_exact=True)
    assert pd.read_parquet(b).attrs == {"key_fingerprint": "abc"}
    fa, fb = pq.ParquetFile(a), pq.ParquetFile(b)
    assert fb.schema_arrow.equals(fa.schema_arrow, check_metadata=True)
    assert partitions.sites(b) == partitions.sites(a) == list(pd.unique(df["site"].iloc[order]))
    assert [fb.metadata.row_group(i).num_rows for i in range(fb.num_row_groups)] == \
        [fa.metadata.row_group(i).num_rows for i in range(fa.num_row_groups)]
    empty = df.iloc[:0]
    partitions.write_partitioned_rows(tmp_path / "e.parquet", empty, empty["site"], np.arange(0))
    assert partitions.sites(tmp_path / "e.parquet") == [] and pd.read_parquet(tmp_path / "e.parquet").shape == (0, 5)
    with pytest.raises(ValueError, match="positions"):
        partitions.write_partitioned_rows(tmp_path / "x.parquet", df, df["site"], order[:-1])


def test_tidy_files_are_the_canonical_tables_of_tidy_run(villages):
    """``sinergi tidy`` orders the rows while writing each village (tidy.run_unordered +
    partitions.write_partitioned_rows): its files are tidy.run's canonical tables, grouped by village."""
    from pipeline.config import load_study
    from pipeline.tidy import run

    study = load_study(villages["study"])
    frames = run(study, None, villages["folder"] / "data" / "raw" / "six")
    for name in partitions.PARTITIONED:
        path = villages["proc"] / f"{name}.parquet"
        df = frames[name]
        site = df["site"] if name != "responses" else partitions.site_of_responses(df, frames["respondents"])
        names = partitions.sites(path)
        want = pd.concat([df[(site == s).to_numpy()] for s in names], ignore_index=True)
        pd.testing.assert_frame_equal(pd.read_parquet(path), want, check_exact=True, obj=name)


def test_site_frames_are_written_one_at_a_time(tmp_path):
    """write_site_frames holds one site's frame at a time (the previous one is released before the
    next is asked for) and writes the file write_partitioned writes for their concatenation."""
    import gc
    import weakref

    rng = np.random.default_rng(3)
    parts = [pd.DataFrame({"site": pd.array([s] * n, dtype="str"), "x": rng.normal(size=n)})
             for s, n in (("b", 3), ("a", 5), ("c", 1))]
    alive = []

    def tracked(part: pd.DataFrame) -> pd.DataFrame:
        frame = part.copy()
        refs.append(weakref.ref(frame))
        return frame

    def frames():
        for part in parts:
            gc.collect()
            alive.append(sum(r() is not None for r in refs))
            yield tracked(part)  # no reference kept here

    refs: list = []
    table = partitions.SiteFrames(["b", "a", "c"], frames, {"key_fingerprint": "f"})
    partitions.write_site_frames(tmp_path / "one.parquet", table)
    assert alive == [0, 0, 0]
    whole = pd.concat(parts, ignore_index=True)
    whole.attrs = {"key_fingerprint": "f"}
    partitions.write_partitioned(tmp_path / "whole.parquet", whole, whole["site"])
    assert (tmp_path / "one.parquet").read_bytes() == (tmp_path / "whole.parquet").read_bytes()
