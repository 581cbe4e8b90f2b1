"""The Make DAG end to end on the demo study, in a copy of the repository.

`make report` builds everything; run again it does nothing; touching one stage module rebuilds that
stage and what depends on it, nothing else; `make clean` never touches data/raw.
"""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd
import pytest

from tests.conftest import tree
from tests.makecopy import copy_repo, make
from tests.tablestudy import write_tables_study

ROOT = Path(__file__).resolve().parent.parent
STAGES = ("tidy", "scales", "network", "prepost", "report")
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def repo(tmp_path_factory):
    return copy_repo(tmp_path_factory.mktemp("repo"))


def _stages_run(output: str) -> set[str]:
    return {s for s in STAGES for line in output.splitlines() if f"sinergi {s} " in line}


@pytest.fixture(scope="module")
def built(repo):
    raw_before = tree(repo / "data" / "raw" / "demo-kaloran")
    result = make(repo, "report")
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return repo, raw_before, result


def test_make_report_builds_the_demo_report(built):
    repo, raw_before, result = built
    assert _stages_run(result.stdout) == set(STAGES)
    report = repo / "reports" / "demo-kaloran" / "report.html"
    assert report.exists() and report.stat().st_size > 20_000
    assert tree(repo / "data" / "raw" / "demo-kaloran") == raw_before, "make report modified raw data"


def test_second_run_does_nothing(built):
    repo, _, _ = built
    assert make(repo, "-q", "report").returncode == 0  # -q: exit 0 only when everything is up to date
    again = make(repo, "report")
    assert again.returncode == 0 and _stages_run(again.stdout) == set()


@pytest.mark.parametrize("module, expected", [
    ("pipeline/analysis/network.py", {"network", "prepost", "report"}),
    ("pipeline/analysis/scales.py", {"scales", "prepost", "report"}),
    ("pipeline/analysis/prepost.py", {"prepost", "report"}),
    ("pipeline/tidy.py", set(STAGES)),
])
def test_touching_a_stage_rebuilds_only_what_depends_on_it(built, module, expected):
    repo, _, _ = built
    os.utime(repo / module)  # now: newer than every output of the fixture's build, older than the rebuild's
    # a real run, not `make -n`: GNU Make 4.3 does not propagate grouped targets (&:) in dry runs
    result = make(repo, "report")
    assert result.returncode == 0, result.stderr[-3000:]
    assert _stages_run(result.stdout) == expected
    assert make(repo, "-q", "report").returncode == 0


def test_stages_side_by_side_write_what_one_at_a_time_writes(built):
    """The fixture's build ran with make's default JOBS (one per core: stages side by side where the
    graph allows); `JOBS=1` runs them one after the other and must write the same bytes."""
    repo, _, _ = built
    assert make(repo, "-q", "report").returncode == 0
    derived = ("data/processed/demo-kaloran", "reports/demo-kaloran")
    before = {d: tree(repo / d) for d in derived}
    assert make(repo, "clean").returncode == 0
    result = make(repo, "JOBS=1", "report")
    assert result.returncode == 0, result.stderr[-3000:]
    assert _stages_run(result.stdout) == set(STAGES)
    for d in derived:
        after = tree(repo / d)
        assert sorted(after) == sorted(before[d])
        assert [f for f in after if after[f] != before[d][f]] == []


def test_clean_keeps_raw(built):
    repo, raw_before, _ = built
    assert make(repo, "clean").returncode == 0
    assert not (repo / "data" / "processed" / "demo-kaloran").exists()
    assert not (repo / "reports" / "demo-kaloran").exists()
    assert tree(repo / "data" / "raw" / "demo-kaloran") == raw_before


def test_make_help_lists_targets(repo):
    out = make(repo, "help").stdout
    for target in ("report", "pull", "test", "instruments", "clean"):
        assert f"make {target}" in out


@pytest.fixture(scope="module")
def tables_built(repo):
    path = write_tables_study(repo / "mystudy", study_id="make-tables", n=24)
    study = f"STUDY={path.relative_to(repo)}"
    result = make(repo, "report", study)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return repo, path, study


def test_editing_a_tables_csv_then_make_report_copies_it_in_and_reruns(tables_built):
    repo, path, study = tables_built
    assert make(repo, "-q", "report", study).returncode == 0  # up to date after the build
    proc = repo / "data" / "processed" / "make-tables"
    before = pd.read_csv(proc / "prepost.csv")
    source = path.parent / "data" / "responses.csv"
    answers = pd.read_csv(source, dtype=str, keep_default_na=False)
    answers.loc[answers["wave"] == "post", "value"] = "5"  # every follow-up answer now 5
    answers.to_csv(source, index=False)
    result = make(repo, "report", study)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert f"{source} changed since the last pull" in result.stdout
    assert _stages_run(result.stdout) == set(STAGES)
    assert (repo / "data" / "raw" / "make-tables" / "tables" / "responses.csv").read_bytes() == source.read_bytes()
    after = pd.read_csv(proc / "prepost.csv")
    trust = lambda df: df[(df["dimension"] == "trust") & (df["group"] == "all")].iloc[0]  # noqa: E731
    # every follow-up item answered 5: the reverse-coded t3/t6 score 1, the others 5 → trust (5+5+1+5+5+1)/6
    assert trust(after)["mean_post"] == pytest.approx(22 / 6, abs=1e-9)
    assert abs(trust(after)["mean_post"] - trust(before)["mean_post"]) > 0.1
    assert make(repo, "-q", "report", study).returncode == 0  # and up to date again


def test_a_bad_edit_stops_make_report_and_keeps_the_raw_copy(tables_built):
    repo, path, study = tables_built
    raw = repo / "data" / "raw" / "make-tables"
    source = path.parent / "data" / "respondents.csv"
    text = source.read_text()
    source.write_text(text.replace("lokal", "asing", 1))
    result = make(repo, "report", study)
    assert result.returncode != 0
    errors = [x for x in result.stderr.splitlines() if x.startswith("sinergi: error:")]
    assert len(errors) == 1 and "'asing' is not a group level" in errors[0]
    # raw holds the source as it now is (a whole new copy, checksummed); tidy refuses it, and the
    # report is not up to date until the source is fixed: old numbers are never passed off as new
    assert (raw / "tables" / "respondents.csv").read_bytes() == source.read_bytes()
    assert make(repo, "-q", "report", study).returncode != 0
    source.write_text(text)
    assert make(repo, "report", study).returncode == 0
