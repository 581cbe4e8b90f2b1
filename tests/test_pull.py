"""pipeline.pull: the raw folder is checked against its manifest before anything reads it."""

from __future__ import annotations

import json

import pytest

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
    from tests.conftest import tree

    study, raw = pulled
    study = __import__("pathlib").Path(study)
    before = tree(raw)
    folder = study.parent / "data"  # the study's source.path
    (folder / "respondents.csv").write_text((folder / "respondents.csv").read_text() + "\n")  # edited
    (folder / "ties.csv").unlink()  # the third of four files is gone: the copy fails half-way
    code, out, err = sinergi("pull", "--study", study)
    assert code == 2 and "ties.csv missing" in err
    assert tree(raw) == before
