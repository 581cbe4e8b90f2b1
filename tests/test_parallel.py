"""Per-site work on a process pool and on Dask gives the same tables as the serial run."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from pipeline import parallel

from pipeline.analysis import network
from pipeline.errors import SinergiError
from tests.tablestudy import tidied_tables_study, write_tables_study

SITES = 5
ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def district(tmp_path_factory):
    """A tidied `tables` study of five villages (tests/tablestudy.py, sites=5)."""
    folder = tmp_path_factory.mktemp("district")
    path = tidied_tables_study(folder, n=60, sites=SITES, study_id="district-test")
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
# every stage `make report` runs: the same files serially and on a Dask LocalCluster (8 villages)
# ---------------------------------------------------------------------------------------------

def _bench():
    """benchmarks/bench_district.py as a module: its study generator and its reading of the Makefile."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("bench_district", ROOT / "benchmarks" / "bench_district.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


EIGHT_ID = "district-8"


@pytest.fixture(scope="module")
def eight(tmp_path_factory):
    """A `tables` study of eight villages × 30 people × 2 waves, every second village a comparison village
    (the benchmark's generator, so every stage has work: three tie types, arms for did, enough people per
    group for the CFA fits), pulled once."""
    import os

    from pipeline.cli import main

    bench = _bench()
    folder = tmp_path_factory.mktemp("eight")
    path = bench.generate(folder, 8, people=30, arms=True, permutations=99)
    old = os.getcwd()
    os.chdir(folder)
    try:
        assert main(["pull", "--study", str(path), "--quiet"]) == 0
    finally:
        os.chdir(old)
    return {"folder": folder, "study": path, "stages": bench.report_stages(),
            "proc": folder / "data" / "processed" / EIGHT_ID, "rep": folder / "reports" / EIGHT_ID}


def _every_stage(eight, monkeypatch, scheduler: str) -> dict[str, bytes]:
    """Run every stage `make report` runs (read from the Makefile) with ``scheduler``; the files they wrote.

    Processed files byte for byte; of the report, its tables (CSV), exports and village pages (rendered by
    per-village jobs), which hold every number it prints (report.html and the documents also carry the
    build time)."""
    import shutil

    from pipeline.cli import main

    monkeypatch.chdir(eight["folder"])
    monkeypatch.setenv(parallel.SCHEDULER_ENV, scheduler)
    for folder in (eight["proc"], eight["rep"]):
        shutil.rmtree(folder, ignore_errors=True)
    for stage in eight["stages"]:
        assert main([stage, "--study", str(eight["study"])]) == 0, (stage, scheduler)
    out = {f"processed/{p.name}": p.read_bytes() for p in sorted(eight["proc"].iterdir()) if p.is_file()}
    for sub in ("tables", "exports", "villages"):
        out.update({f"{sub}/{p.relative_to(eight['rep'] / sub)}": p.read_bytes()
                    for p in sorted((eight["rep"] / sub).rglob("*")) if p.is_file() and p.suffix != ".xlsx"})
    return out


def test_every_stage_gives_the_serial_files_on_dask(eight, monkeypatch):
    """Serial == a Dask LocalCluster of two worker processes, for every file of every stage of `make report`.

    The process pool runs the same map_sites path (tested above with the network stage). A stage that does
    not consult the scheduler passes trivially; one that does must not let where a village ran change a byte."""
    from distributed import LocalCluster

    assert eight["stages"][0] == "tidy" and eight["stages"][-1] == "report" and "did" in eight["stages"]
    serial = _every_stage(eight, monkeypatch, "serial")
    cov = pd.read_csv(eight["proc"] / "network_coverage.csv")
    assert cov["site"].nunique() == 8 and len(cov) == 8 * 2 * 4  # sites × waves × (3 tie types + any)
    assert pd.read_csv(eight["proc"] / "scores.csv")["site"].nunique() == 8
    assert pd.read_csv(eight["proc"] / "invariance.csv")["chisq"].notna().sum() >= 6  # fits ran
    assert len(pd.read_csv(eight["proc"] / "did.csv")) > 0  # comparison villages: the DiD ran
    assert any(k.startswith("tables/") for k in serial) and any(k.startswith("exports/") for k in serial)
    assert sum(k.startswith("villages/") and k.endswith(".html") for k in serial) == 8 + 1  # pages + index
    # worker processes, as `scheduler: local` starts them: the jobs travel pickled
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        dask = _every_stage(eight, monkeypatch, cluster.scheduler_address)
    assert sorted(dask) == sorted(serial)
    differ = [name for name in serial if dask[name] != serial[name]]
    assert not differ, f"files that differ between serial and Dask: {differ}"
