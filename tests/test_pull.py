"""pipeline.pull: the raw folder is checked against its manifest before anything reads it."""

from __future__ import annotations

import contextlib
import json
import os

import pytest

from pipeline.config import Study
from pipeline.io import sha256_file, write_json
from pipeline.pull import local_sources, source_changes
from tests.conftest import tree
from tests.tablestudy import write_tables_study


@pytest.fixture
def pulled(in_tmp, sinergi):
    study = write_tables_study(in_tmp)
    code, out, err = sinergi("pull", "--study", study)
    assert code == 0, err
    return study, in_tmp / "data" / "raw" / "tables-test"


def test_untouched_raw_passes(pulled, sinergi):
    study, _ = pulled
    code, out, err = sinergi("tidy", "--study", study)
    assert code == 0, err


def test_a_raw_file_edited_after_the_pull_is_refused(pulled, sinergi, in_tmp):
    study, raw = pulled
    path = raw / "tables" / "responses.csv"
    path.write_text(path.read_text().replace(",4\n", ",5\n", 1))
    code, out, err = sinergi("tidy", "--study", study)
    assert code == 2 and "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert "responses.csv: changed after the pull" in err and "manifest.json" in err
    assert not (in_tmp / "data" / "processed" / "tables-test" / "responses.parquet").exists()


def test_a_raw_file_removed_or_added_is_refused(pulled, sinergi):
    study, raw = pulled
    (raw / "tables" / "extra.csv").write_text("a,b\n1,2\n")
    code, out, err = sinergi("tidy", "--study", study)
    assert code == 2 and "extra.csv: not in" in err
    (raw / "tables" / "extra.csv").unlink()
    (raw / "tables" / "ties.csv").unlink()
    code, out, err = sinergi("tidy", "--study", study)
    assert code == 2 and "ties.csv: listed in" in err and "missing" in err


def test_a_kobo_page_edited_by_hand_is_refused(in_tmp, sinergi):
    import shutil
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    shutil.copytree(root / "data" / "raw" / "demo-kaloran", in_tmp / "data" / "raw" / "demo-kaloran")
    shutil.copy(root / "study.yaml", in_tmp / "study.yaml")
    (in_tmp / "instruments").mkdir()
    shutil.copy(root / "instruments" / "sinergi.yaml", in_tmp / "instruments" / "sinergi.yaml")
    page = in_tmp / "data" / "raw" / "demo-kaloran" / "pre" / "data" / "page-000001.json"
    body = json.loads(page.read_text())
    body["results"][0]["_validation_status"] = {}
    page.write_text(json.dumps(body))
    code, out, err = sinergi("tidy", "--study", "study.yaml")
    assert code == 2 and "page-000001.json: changed after the pull" in err


def test_a_failed_re_pull_leaves_raw_exactly_as_it_was(pulled, sinergi, in_tmp):
    study, raw = pulled
    study = __import__("pathlib").Path(study)
    before = tree(raw)
    folder = study.parent / "data"  # the study's source.path
    (folder / "respondents.csv").write_text((folder / "respondents.csv").read_text() + "\n")  # edited
    (folder / "ties.csv").unlink()  # the third of four files is gone: the copy fails half-way
    code, out, err = sinergi("pull", "--study", study)
    assert code == 2 and "ties.csv missing" in err
    assert tree(raw) == before


# -- make report copies an edited local source in again (sinergi pull --if-changed) ----------------


def test_if_changed_does_nothing_while_the_source_is_the_raw_copy(pulled, sinergi):
    study, raw = pulled
    before = tree(raw)
    os.utime(raw / "manifest.json", (0, 0))
    code, out, err = sinergi("pull", "--study", study, "--local-only", "--if-changed")
    assert code == 0 and out == "" and tree(raw) == before
    assert (raw / "manifest.json").stat().st_mtime > 0  # marked as checked, so Make sees it up to date


def test_if_changed_copies_an_edited_csv_in_again_and_keeps_the_key(pulled, sinergi):
    study, raw = pulled
    source = study.parent / "data" / "responses.csv"
    key = (raw / "pseudonym.key").read_bytes()
    source.write_text(source.read_text().replace(",4\n", ",5\n"))
    code, out, err = sinergi("pull", "--study", study, "--local-only", "--if-changed")
    assert code == 0, err
    assert f"{source} changed since the last pull: copying the source into data/raw/tables-test/ again" in out
    assert (raw / "tables" / "responses.csv").read_bytes() == source.read_bytes()
    manifest = json.loads((raw / "manifest.json").read_text())
    assert manifest["waves"]["pre"]["files"]["tables/responses.csv"] == sha256_file(source)
    assert (raw / "pseudonym.key").read_bytes() == key  # the same people keep their pseudonyms
    assert sinergi("tidy", "--study", study)[0] == 0  # the new copy passes the manifest check


def test_pull_lists_the_source_files_for_make(pulled, in_tmp):
    study, _ = pulled
    mk = (in_tmp / ".make" / "sources" / "tables-test.mk").read_text()
    line = next(x for x in mk.splitlines() if x.startswith("SOURCE_FILES := "))
    listed = line.removeprefix("SOURCE_FILES := ").split(" ")
    data = study.resolve().parent / "data"
    assert listed == [str(study.resolve())] + [str(data / f"{n}.csv")
                                               for n in ("respondents", "responses", "ties", "scales")]
    assert f"{line.removeprefix('SOURCE_FILES := ')}:" in mk.splitlines()  # a removed file reruns the pull


def test_source_changes_of_export_files(tmp_path):
    (tmp_path / "in").mkdir()
    for name in ("pre.xlsx", "roster.csv"):
        (tmp_path / "in" / name).write_text(name)
    study = Study(id="kf", title="T", source={"kind": "kobo_files"},
                  waves=[{"id": "pre", "file": "in/pre.xlsx", "roster": "in/roster.csv"}], base=tmp_path)
    assert local_sources(study) == {"pre/export/pre.xlsx": tmp_path / "in" / "pre.xlsx",
                                    "pre/media/roster.csv": tmp_path / "in" / "roster.csv"}
    files = {"pre/export/pre.xlsx": sha256_file(tmp_path / "in" / "pre.xlsx"),
             "pre/media/roster.csv": sha256_file(tmp_path / "in" / "roster.csv"), "pre/asset.json": "x"}
    with contextlib.chdir(tmp_path):
        write_json(study.raw_dir / "manifest.json", {"waves": {"pre": {"files": files}}})
        assert source_changes(study) == []
        (tmp_path / "in" / "roster.csv").write_text("name,label\nr001,Siti\n")
        assert source_changes(study) == [f"{tmp_path / 'in' / 'roster.csv'} changed"]
        no_roster = Study(id="kf", title="T", source={"kind": "kobo_files"},
                          waves=[{"id": "pre", "file": "in/pre.xlsx"}], base=tmp_path)
        assert source_changes(no_roster) == ["data/raw/kf/pre/media/roster.csv is no longer in the source"]
