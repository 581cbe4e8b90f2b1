"""A ``tables`` study read in blocks (pipeline/sources/table_blocks.py, ``sinergi tidy``): the same
files, byte for byte, and the same errors, word for word, as the whole-file reading
(``tidy.run_unordered``), whatever the block size; nothing left behind."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest

from pipeline import tidy
from pipeline.cli import _write_stage
from pipeline.config import load_study
from pipeline.errors import SinergiError
from pipeline.io import take_notes
from pipeline.partitions import SiteFrames
from pipeline.pull import pull
from tests.tablestudy import write_tables_study
from tests.test_bad_inputs import CASES, base_tables, setup  # noqa: F401 (a fixture)

FILES = ("respondents.parquet", "responses.parquet", "ties.parquet", "scale_map.parquet", "quality.csv", "sample.csv")


def _files(study) -> dict[str, bytes]:
    return {n: (study.processed_dir / n).read_bytes() for n in FILES}


def _whole(study) -> tuple[str, object, list[str]]:
    take_notes()
    try:
        _write_stage(study, "tidy", tidy.run_unordered(study, None, study.raw_dir))
    except SinergiError as exc:
        return "error", str(exc), take_notes()
    return "ok", _files(study), take_notes()


def _blocks(study, block_bytes: int) -> tuple[str, object, list[str], bool]:
    take_notes()
    streamed = None
    try:
        with tidy.tidied(study, None, study.raw_dir, block_bytes=block_bytes) as frames:
            streamed = isinstance(frames["responses"], SiteFrames)
            _write_stage(study, "tidy", frames)
    except SinergiError as exc:
        return "error", str(exc), take_notes(), streamed
    finally:
        assert not list(study.processed_dir.glob(".tidy-spill-*")), "a spill folder was left behind"
    return "ok", _files(study), take_notes(), streamed


def _study(folder: Path):
    study = load_study(folder / "study.yaml")
    pull(study, local_only=True, progress=False)
    return study


def _same(study, block_bytes: int) -> bool:
    """Tidy ``study`` both ways; assert the same outcome; return whether the blocks route was taken."""
    kind, result, notes = _whole(study)
    shutil.rmtree(study.processed_dir, ignore_errors=True)
    kind2, result2, notes2, streamed = _blocks(study, block_bytes)
    assert (kind2, result2 if kind == "error" else sorted(result2)) == (kind, result if kind == "error" else sorted(result))
    if kind == "ok":
        for name in FILES:
            assert result2[name] == result[name], f"{name} differs"
    assert set(notes2) == set(notes)
    return bool(streamed)


TABLE_CASES = [c for c in CASES if c.target == "tables"]


@pytest.mark.parametrize("case", TABLE_CASES, ids=[c.id for c in TABLE_CASES])
def test_bad_input_same_in_blocks(case, in_tmp: Path, base_tables):  # noqa: F811
    """Every tables case of the bad-input corpus: the error (or the files and notes) of the whole-file
    reading, with blocks of 200 bytes (a few rows each)."""
    setup(in_tmp, base_tables)
    case.mutate(in_tmp)
    try:
        study = _study(in_tmp)
    except SinergiError:
        pytest.skip("refused by `sinergi pull`: tidy never reads it")
    _same(study, 200)


def _villages_study(folder: Path, n: int = 90, sites: int = 4):
    """A study of ``sites`` villages with each quality row the ties give (a self-nomination, a
    nomination twice, a nomination of someone who is no respondent) and a blank questionnaire."""
    write_tables_study(folder, n=n, sites=sites)
    data = folder / "data"
    ties = pd.read_csv(data / "ties.csv", dtype=str)
    extra = pd.DataFrame([
        {"wave": "pre", "tie_type": "info", "ego": "person05", "alter": "person05", "weight": "2"},
        ties.iloc[10].to_dict(),
        {"wave": "post", "tie_type": "info", "ego": "person09", "alter": "outsider", "weight": ""},
        ties.iloc[3].to_dict()])
    pd.concat([ties.iloc[:len(ties) // 2], extra, ties.iloc[len(ties) // 2:]]).to_csv(data / "ties.csv", index=False)
    answers = pd.read_csv(data / "responses.csv", dtype=str)
    blank = (answers["respondent_id"] == "person13") & (answers["wave"] == "pre")
    answers.loc[blank, "value"] = None
    answers.to_csv(data / "responses.csv", index=False)
    ties = pd.read_csv(data / "ties.csv", dtype=str)
    ties[~((ties["ego"] == "person13") & (ties["wave"] == "pre"))].to_csv(data / "ties.csv", index=False)
    return _study(folder)


@pytest.mark.parametrize("block_bytes", [64, 1000, 1 << 24])
def test_blocks_give_the_whole_files(in_tmp: Path, block_bytes: int):
    """Several villages, every tie quality row and a blank questionnaire: the same bytes whether the
    CSVs are read in one block or many (64 bytes: a row or two a block)."""
    study = _villages_study(in_tmp)
    assert _same(study, block_bytes), "the blocks route was not taken"
    quality = pd.read_csv(study.processed_dir / "quality.csv")
    assert {"self_nomination", "duplicate_nomination", "non_respondent_nomination",
            "blank_questionnaire"} <= set(quality["issue"])


def _line_of(path: Path, rid: str, wave: str, item: str) -> int:
    for n, line in enumerate(path.read_text().splitlines(), start=1):
        if line.startswith(f"{rid},{wave},{item},"):
            return n
    raise AssertionError("no such row")


def test_a_bad_row_in_a_late_block_names_its_line(in_tmp: Path):
    """A value out of range near the end of responses.csv: its own line, read 100 bytes at a time."""
    study = _villages_study(in_tmp)
    path = study.raw_dir / "tables" / "responses.csv"
    lines = path.read_text().splitlines()
    at = len(lines) - 3
    fields = lines[at - 1].split(",")
    lines[at - 1] = ",".join([*fields[:3], "9"])
    path.write_text("\n".join(lines) + "\n")
    _same(study, 100)
    with pytest.raises(SinergiError, match=rf"responses.csv: row {at}: item {fields[2]} value 9 is outside 1..5"):
        with tidy.tidied(study, None, study.raw_dir, block_bytes=100):
            pass


def test_an_earlier_rule_in_a_late_block_wins(in_tmp: Path):
    """The whole-file reading checks every row for empty cells before any value: an empty
    respondent_id in the last block is the error, not the bad value of the first block."""
    study = _villages_study(in_tmp)
    path = study.raw_dir / "tables" / "responses.csv"
    lines = path.read_text().splitlines()
    f = lines[1].split(",")
    lines[1] = ",".join([*f[:3], "7"])
    last = lines[-2].split(",")
    lines[-2] = ",".join(["", *last[1:]])
    path.write_text("\n".join(lines) + "\n")
    _same(study, 100)
    with pytest.raises(SinergiError, match=rf"row {len(lines) - 1}, column respondent_id: empty"):
        with tidy.tidied(study, None, study.raw_dir, block_bytes=100):
            pass
