"""The shared store: per-village jobs reading the partitioned tables from a folder or an fsspec URL."""

from __future__ import annotations

import os

import pytest
import yaml

from pipeline import partitions, shared
from pipeline.errors import SinergiError
from tests.tablestudy import tidied_tables_study, write_tables_study

STUDY_ID = "shared-test"
FILES = ["scores.csv", "reliability.csv", "items.csv", "invariance.csv", "network_whole.csv", "network_change.csv",
         "network_nodes.csv", "network_coverage.csv"]


@pytest.fixture(scope="module")
def tidied(tmp_path_factory):
    """A tidied `tables` study of four villages."""
    folder = tmp_path_factory.mktemp("shared")
    path = tidied_tables_study(folder, n=80, sites=4, study_id=STUDY_ID)
    return {"folder": folder, "study": path, "proc": folder / "data" / "processed" / STUDY_ID}


def _stages(tidied, monkeypatch, scheduler: str, store: str | None) -> dict[str, bytes]:
    from pipeline.cli import main

    monkeypatch.chdir(tidied["folder"])
    monkeypatch.setenv("SINERGI_SCHEDULER", scheduler)
    if store is None:
        monkeypatch.delenv(shared.SHARED_ENV, raising=False)
    else:
        monkeypatch.setenv(shared.SHARED_ENV, store)
    for stage in ("scales", "invariance", "network", "coverage"):
        assert main([stage, "--study", str(tidied["study"])]) == 0
    return {f: (tidied["proc"] / f).read_bytes() for f in FILES}


def test_jobs_read_the_store_and_write_the_same_files(tidied, monkeypatch, tmp_path):
    """A file:// URL (worker processes of the pool read it), a mounted folder and fsspec's in-memory store
    (serial: one process) give the files the local tables give; the store holds each table and its digest."""
    local = _stages(tidied, monkeypatch, "serial", None)
    url = (tmp_path / "bucket").as_uri()
    assert _stages(tidied, monkeypatch, "processes", url + "/sinergi") == local
    for name in ("respondents", "responses", "ties"):
        copy = tmp_path / "bucket" / "sinergi" / STUDY_ID / f"{name}.parquet"
        assert copy.read_bytes() == (tidied["proc"] / f"{name}.parquet").read_bytes()
        assert (copy.parent / f"{name}.parquet.sha256").read_text() == shared._sha256(copy)
    assert _stages(tidied, monkeypatch, "processes", str(tmp_path / "mounted")) == local
    assert (tmp_path / "mounted" / STUDY_ID / "responses.parquet").is_file()
    assert _stages(tidied, monkeypatch, "serial", "memory://sinergi-test") == local


def test_publish_copies_only_what_changed(tidied, tmp_path):
    proc = tidied["proc"]
    work = tmp_path / "proc"
    work.mkdir()
    for name in ("respondents", "responses"):
        (work / f"{name}.parquet").write_bytes((proc / f"{name}.parquet").read_bytes())
    local = {n: work / f"{n}.parquet" for n in ("respondents", "responses")}
    store = (tmp_path / "store").as_uri()
    out = shared.publish(local, store, STUDY_ID)
    assert out["responses"] == f"{store}/{STUDY_ID}/responses.parquet"
    copy = tmp_path / "store" / STUDY_ID / "responses.parquet"
    os.utime(copy, (1, 1))
    shared.publish(local, store, STUDY_ID)
    assert copy.stat().st_mtime == 1  # same digest: not copied again
    # tidy ran again with other data (here: the respondents' table in place of the responses')
    local["responses"].write_bytes(local["respondents"].read_bytes())
    shared.publish(local, store, STUDY_ID)
    assert copy.read_bytes() == local["respondents"].read_bytes()
    # a copy whose digest file is missing (an upload cut short) is written again
    copy.write_bytes(b"half")
    (copy.parent / "responses.parquet.sha256").unlink()
    shared.publish(local, store, STUDY_ID)
    assert partitions.sites(f"{store}/{STUDY_ID}/responses.parquet") == partitions.sites(local["respondents"])
    # without a store: the local files, absolute
    assert shared.publish(local, None, STUDY_ID)["responses"] == str(local["responses"].resolve())


def test_store_problems_are_one_line(tidied, tmp_path, in_tmp, sinergi, monkeypatch):
    assert "relative path" in shared.store_problem("shared/data")
    assert "not a storage URL fsspec knows" in shared.store_problem("nosuch://bucket/x")
    path = write_tables_study(in_tmp)
    doc = yaml.safe_load(path.read_text())
    doc["analysis"]["shared_data"] = "nosuch://key:secret@bucket/x"
    path.write_text(yaml.safe_dump(doc))
    code, _, err = sinergi("pull", "--study", path)
    assert code == 2 and "analysis.shared_data" in err and "'nosuch://***@bucket/x'" in err
    assert "secret" not in err and err.count("\n") == 1
    # a store that cannot be written: the stage stops with one line naming it
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    monkeypatch.setenv(shared.SHARED_ENV, blocker.as_uri() + "/sinergi")
    monkeypatch.setenv("SINERGI_SCHEDULER", "serial")
    monkeypatch.chdir(tidied["folder"])
    code, _, err = sinergi("scales", "--study", tidied["study"])
    assert code != 0 and "cannot write the shared copy of respondents" in err and "a-file/sinergi" in err
    assert err.count("\n") == 1
    # a copy that is gone when a worker reads it
    with pytest.raises(SinergiError, match=r"gone\.parquet: not found \(on .*run the stage again"):
        partitions.read_site((tmp_path / "gone.parquet").as_uri(), "desa0")


def test_a_copy_cut_short_leaves_the_old_copy_whole(tidied, tmp_path, monkeypatch):
    """Stages that `make -j` runs side by side publish the same tables at once; a job of one may be
    reading while the other writes. A copy is written under a name of its own and renamed: an upload
    that fails half-way leaves the previous copy whole (no digest: the next stage writes it again)
    and nothing else in the store."""
    import fsspec.implementations.local as fs_local

    proc = tidied["proc"]
    local = {"responses": proc / "responses.parquet"}
    store = tmp_path / "store"
    shared.publish(local, str(store), STUDY_ID)
    copy = store / STUDY_ID / "responses.parquet"
    before = copy.read_bytes()
    other = tmp_path / "responses.parquet"  # tidy ran again: another table under the same name
    other.write_bytes((proc / "respondents.parquet").read_bytes())

    def cut_short(self, lpath, rpath, **kwargs):
        with open(rpath, "wb") as f:
            f.write(open(lpath, "rb").read()[:100])
        raise OSError("connection reset")

    monkeypatch.setattr(fs_local.LocalFileSystem, "put_file", cut_short)
    with pytest.raises(SinergiError, match="cannot write the shared copy of responses"):
        shared.publish({"responses": other}, str(store), STUDY_ID)
    assert copy.read_bytes() == before
    assert sorted(p.name for p in copy.parent.iterdir()) == ["responses.parquet"]
    monkeypatch.undo()
    shared.publish({"responses": other}, str(store), STUDY_ID)
    assert copy.read_bytes() == other.read_bytes()
    assert (copy.parent / "responses.parquet.sha256").read_text() == shared._sha256(other)
