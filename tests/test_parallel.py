"""Per-site work on a process pool and on Dask gives the same tables as the serial run."""

from __future__ import annotations

import pandas as pd
import pytest

from pipeline import parallel

from pipeline.analysis import network
from pipeline.errors import SinergiError
from tests.tablestudy import write_tables_study

SITES = 5


@pytest.fixture(scope="module")
def district(tmp_path_factory):
    """A tidied `tables` study of five villages (tests/tablestudy.py, sites=5)."""
    import os

    from pipeline.cli import main

    folder = tmp_path_factory.mktemp("district")
    old = os.getcwd()
    os.chdir(folder)
    try:
        path = write_tables_study(folder, n=60, sites=SITES, study_id="district-test")
        for stage in ("pull", "tidy"):
            assert main([stage, "--study", str(path), *(["--quiet"] if stage == "pull" else [])]) == 0
    finally:
        os.chdir(old)
    proc = folder / "data" / "processed" / "district-test"
    return {"folder": folder, "study": path,
            "respondents": pd.read_parquet(proc / "respondents.parquet"),
            "ties": pd.read_parquet(proc / "ties.parquet")}


def _network(district, scheduler):
    return network.run(district["respondents"], district["ties"], ["info"], ["pre", "post"],
                       seed=3, permutations=199, scheduler=scheduler)


@pytest.fixture(scope="module")
def serial(district):
    out = _network(district, "serial")
    assert out["network_whole"]["site"].nunique() == SITES
    return out


def _same(a: dict, b: dict):
    assert set(a) == set(b)
    for name in a:
        pd.testing.assert_frame_equal(a[name], b[name], check_exact=True, obj=name)


def test_process_pool_gives_the_serial_tables(district, serial):
    _same(_network(district, "processes"), serial)
    _same(_network(district, "auto"), serial)  # 5 sites ≥ POOL_MIN_SITES: the pool, if 2+ cores


def test_dask_local_cluster_gives_the_serial_tables(district, serial, monkeypatch):
    from distributed import LocalCluster

    with LocalCluster(n_workers=2, threads_per_worker=2, processes=False,
                      dashboard_address=None) as cluster:
        _same(_network(district, cluster.scheduler_address), serial)
        # the pipeline path: $SINERGI_SCHEDULER names the scheduler, `sinergi network` writes
        # byte-identical CSVs to a serial run
        from pipeline.cli import main

        monkeypatch.chdir(district["folder"])
        proc = district["folder"] / "data" / "processed" / "district-test"
        monkeypatch.setenv(parallel.SCHEDULER_ENV, "serial")
        assert main(["network", "--study", str(district["study"])]) == 0
        want = {p.name: p.read_bytes() for p in proc.glob("network_*.csv")}
        assert len(want) >= 4
        monkeypatch.setenv(parallel.SCHEDULER_ENV, cluster.scheduler_address)
        assert main(["network", "--study", str(district["study"])]) == 0
        got = {p.name: p.read_bytes() for p in proc.glob("network_*.csv")}
        assert got == want


def _square(x):
    return x * x


def test_map_sites_keeps_the_order_everywhere():
    from distributed import LocalCluster

    items = list(range(23))
    want = [x * x for x in items]
    assert parallel.map_sites(_square, items, "serial") == want
    assert parallel.map_sites(_square, items, "processes") == want
    with LocalCluster(n_workers=1, threads_per_worker=3, processes=False,
                      dashboard_address=None) as cluster:
        assert parallel.map_sites(_square, items, cluster.scheduler_address) == want


def test_scheduler_from_environment_overrides_the_study(monkeypatch):
    monkeypatch.delenv(parallel.SCHEDULER_ENV, raising=False)
    assert parallel.scheduler_from(None) == "auto"
    assert parallel.scheduler_from("tcp://10.0.0.5:8786") == "tcp://10.0.0.5:8786"
    monkeypatch.setenv(parallel.SCHEDULER_ENV, "serial")
    assert parallel.scheduler_from("tcp://10.0.0.5:8786") == "serial"
    monkeypatch.setenv(parallel.SCHEDULER_ENV, "a cluster please")
    with pytest.raises(SinergiError, match=r"\$SINERGI_SCHEDULER: 'a cluster please' is not a scheduler"):
        parallel.scheduler_from(None)


def test_bad_scheduler_in_study_is_one_line(in_tmp, sinergi):
    import yaml

    path = write_tables_study(in_tmp)
    doc = yaml.safe_load(path.read_text())
    doc["analysis"]["scheduler"] = "everywhere"
    path.write_text(yaml.safe_dump(doc))
    code, _, err = sinergi("pull", "--study", path)
    assert code == 2 and "analysis.scheduler" in err and "'everywhere' is not a scheduler" in err
    assert err.count("\n") == 1


def test_unreachable_scheduler_names_the_address(monkeypatch):
    monkeypatch.setattr(parallel, "CONNECT_TIMEOUT", "1s")
    with pytest.raises(SinergiError, match=r"cannot reach the Dask scheduler at tcp://127\.0\.0\.1:9"):
        parallel.map_sites(_square, [1, 2], "tcp://127.0.0.1:9")


# ---------------------------------------------------------------------------------------------
# every stage that maps over villages: the same files from serial, the pool and Dask (8 villages)
# ---------------------------------------------------------------------------------------------

MAPPED = {"network": ["network_whole.csv", "network_groups.csv", "mixing.csv", "network_nodes.csv",
                      "brokerage.csv", "network_change.csv"],
          "coverage": ["network_coverage.csv"], "invariance": ["invariance.csv"],
          "scales": ["scores.csv", "reliability.csv", "items.csv"]}
"""The stages whose per-village (or per-fit) work runs through parallel.map_sites (scales and invariance:
jobs reading their villages' row groups, pipeline.partitions.map_partitions), and their files."""


@pytest.fixture(scope="module")
def eight(tmp_path_factory):
    """A tidied `tables` study of eight villages, 20 people each: enough for the CFA fits."""
    import os

    from pipeline.cli import main

    folder = tmp_path_factory.mktemp("eight")
    old = os.getcwd()
    os.chdir(folder)
    try:
        path = write_tables_study(folder, n=160, sites=8, study_id="eight-villages")
        for stage in ("pull", "tidy"):
            assert main([stage, "--study", str(path), *(["--quiet"] if stage == "pull" else [])]) == 0
    finally:
        os.chdir(old)
    return {"folder": folder, "study": path, "proc": folder / "data" / "processed" / "eight-villages"}


def _stage_files(eight, monkeypatch, scheduler: str) -> dict[str, bytes]:
    from pipeline.cli import main

    monkeypatch.chdir(eight["folder"])
    monkeypatch.setenv(parallel.SCHEDULER_ENV, scheduler)
    out = {}
    for stage, files in MAPPED.items():
        assert main([stage, "--study", str(eight["study"])]) == 0, (stage, scheduler)
        out.update({f: (eight["proc"] / f).read_bytes() for f in files})
    return out


def test_mapped_stages_give_the_serial_files_on_dask(eight, monkeypatch):
    """The process pool runs the same map_sites path (tested above with the network stage)."""
    from distributed import LocalCluster

    serial = _stage_files(eight, monkeypatch, "serial")
    cov = pd.read_csv(eight["proc"] / "network_coverage.csv")
    assert cov["site"].nunique() == 8 and len(cov) == 8 * 2 * 2  # sites × waves × (info, any)
    assert len(pd.read_csv(eight["proc"] / "scores.csv")) > 8 * 20  # scored village by village, from the row groups
    inv = pd.read_csv(eight["proc"] / "invariance.csv")
    assert inv["chisq"].notna().sum() >= 6  # fits ran (not only "not estimable" rows)
    # worker processes, as `scheduler: local` starts them: the jobs travel pickled
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        assert _stage_files(eight, monkeypatch, cluster.scheduler_address) == serial
