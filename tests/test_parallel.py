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
