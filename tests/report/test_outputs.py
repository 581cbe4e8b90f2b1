"""Report outputs for odd but valid studies, and a whole output set that is fresh and never
half-written: a one-wave study, a removed tie type, a control character in the title, a study
without scale items, a build that fails half-way."""

from __future__ import annotations

import importlib
import re
from pathlib import Path

import pandas as pd
import pytest
import yaml

from tests.conftest import tree
from tests.tablestudy import write_tables_study

pytestmark = pytest.mark.slow
STAGES = ("pull", "tidy", "scales", "network", "prepost", "report")


def _run_all(sinergi, study: Path, stages=STAGES) -> None:
    for stage in stages:
        code, out, err = sinergi(stage, "--study", study)
        assert code == 0, f"{stage}: {err}"
        assert "Traceback" not in out + err


def _edit(study: Path, **keys) -> None:
    doc = yaml.safe_load(study.read_text())
    doc.update(keys)
    study.write_text(yaml.safe_dump(doc, allow_unicode=True))


def _keep_rows(csv: Path, keep) -> None:
    df = pd.read_csv(csv, dtype=str, keep_default_na=False)
    df[keep(df)].to_csv(csv, index=False)


def _text(html: str) -> str:
    html = re.sub(r"<style.*?</style>|<img[^>]*>", "", html, flags=re.S)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def test_one_wave_study_gives_a_baseline_report(in_tmp, sinergi):
    study = write_tables_study(in_tmp, study_id="one-wave")
    doc = yaml.safe_load(study.read_text())
    _edit(study, waves=doc["waves"][:1])
    for name in ("respondents", "responses", "ties"):
        _keep_rows(in_tmp / "data" / f"{name}.csv", lambda d: d["wave"] == "pre")
    _run_all(sinergi, study)
    rep = in_tmp / "reports" / "one-wave"
    text = _text((rep / "report.html").read_text(encoding="utf-8"))
    assert "Only one survey wave has answers so far (Before)" in text
    assert "describes that wave only" in text  # a tables study: no claim that a follow-up will come
    assert "No follow-up wave yet (only Before): the paired before/after tests" in text
    assert "No follow-up wave yet (only Before): the wave × group mixed models" in text
    assert "No follow-up wave yet (only Before): the change in networks between waves" in text
    assert "before and after" not in text.split("4. Network")[1].split("5.")[0]  # the sociogram caption
    assert not (rep / "tables" / "paired_test.csv").exists()
    assert (rep / "tables" / "reliability.csv").exists() and (rep / "report.docx").exists()
    assert (rep / "exports" / "scores.sav").exists()
    assert sorted(p.name for p in (rep / "exports" / "network" / "graphs").rglob("*.graphml")) == \
        ["any.graphml", "info.graphml"]
    handout = _text((rep / "handout.html").read_text(encoding="utf-8"))
    assert "The before/after comparison will be available after the second survey" in handout


def test_follow_up_wave_without_answers_yet(in_tmp, sinergi):
    """Two waves in the study file, answers only for the first (the follow-up is not done yet)."""
    study = write_tables_study(in_tmp, study_id="no-follow-up")
    for name in ("respondents", "responses", "ties"):
        _keep_rows(in_tmp / "data" / f"{name}.csv", lambda d: d["wave"] == "pre")
    _run_all(sinergi, study)
    rep = in_tmp / "reports" / "no-follow-up"
    text = _text((rep / "report.html").read_text(encoding="utf-8"))
    assert "Only one survey wave has answers so far (Before)" in text and "After have no answers yet" in text
    assert "cannot be tested yet" not in text and "Paired Samples" not in text
    assert "40 left" not in text and "stayed" not in text
    assert not (rep / "tables" / "paired_statistics.csv").exists()


def test_removed_tie_type_leaves_no_outputs(in_tmp, sinergi):
    study = write_tables_study(in_tmp, study_id="tie-types")
    ties = in_tmp / "data" / "ties.csv"
    df = pd.read_csv(ties, dtype=str)
    pd.concat([df, df.assign(tie_type="help")]).to_csv(ties, index=False)
    _edit(study, tie_types=["info", "help"])
    _run_all(sinergi, study)
    rep = in_tmp / "reports" / "tie-types"
    assert list((rep / "exports" / "network").rglob("help*"))
    assert "help" in (rep / "tables" / "network_whole.csv").read_text(encoding="utf-8")
    # the study drops the tie type
    _keep_rows(ties, lambda d: d["tie_type"] != "help")
    _edit(study, tie_types=["info"])
    _run_all(sinergi, study)
    assert not list(rep.rglob("*help*")), "outputs of the removed tie type are still there"
    for path in (rep / "tables").glob("*.csv"):
        assert "help" not in path.read_text(encoding="utf-8"), path
    assert not [p for p in rep.parent.iterdir() if p.name.startswith(".")], "temporary folders left behind"


def test_control_character_in_title_is_refused_before_anything_is_written(in_tmp, sinergi):
    study = write_tables_study(in_tmp, study_id="ctrl")
    _run_all(sinergi, study)
    rep = in_tmp / "reports" / "ctrl"
    before = tree(rep)
    _edit(study, title="Laporan Desa\x0bUji")  # a vertical tab pasted from Word
    code, out, err = sinergi("report", "--study", study)
    assert code == 2 and err.count("\n") == 1 and "Traceback" not in err
    assert "title" in err and "U+000B" in err and "Word" in err
    assert tree(rep) == before


def test_control_character_in_a_data_value_is_refused(in_tmp, sinergi):
    study = write_tables_study(in_tmp, study_id="ctrl-data")
    path = in_tmp / "data" / "respondents.csv"
    df = pd.read_csv(path, dtype=str)
    df["sector"] = ["toko\x0bkelontong" if i == 3 else "jasa" for i in range(len(df))]
    df.to_csv(path, index=False)
    _run_all(sinergi, study, STAGES[:1])
    code, out, err = sinergi("tidy", "--study", study)  # the user-file reader stops it first
    assert code == 2 and "respondents.csv: line 5" in err and "U+000B" in err and err.count("\n") == 1
    assert not (in_tmp / "reports" / "ctrl-data").exists()


def test_a_build_failing_half_way_keeps_the_previous_complete_set(in_tmp, sinergi, monkeypatch):
    rx = importlib.import_module("pipeline.report.build")  # build calls the Word writer by the name it imported

    study = write_tables_study(in_tmp, study_id="half")
    _run_all(sinergi, study)
    rep = in_tmp / "reports" / "half"
    before = tree(rep)

    def boom(*a, **k):
        raise OSError("disk full")

    monkeypatch.setattr(rx, "write_docx", boom)  # after figures, tables and exports were written
    _edit(study, title="A new title")  # the tables (colophon) would change
    code, out, err = sinergi("report", "--study", study)
    assert code == 2 and "disk full" in err and "Traceback" not in err
    assert tree(rep) == before
    assert [p.name for p in rep.parent.iterdir()] == ["half"]


def test_study_without_scale_items(in_tmp, sinergi):
    study = write_tables_study(in_tmp, study_id="no-scales")
    for name in ("scales", "responses"):
        path = in_tmp / "data" / f"{name}.csv"
        pd.read_csv(path).head(0).to_csv(path, index=False)
    _run_all(sinergi, study)
    proc = in_tmp / "data" / "processed" / "no-scales"
    assert len(pd.read_csv(proc / "scores.csv")) == 0
    text = _text((in_tmp / "reports" / "no-scales" / "report.html").read_text(encoding="utf-8"))
    assert text.count("This study has no scale items (its scale map is empty)") >= 2
    assert "E-I" in text  # the network part still reports


def test_leftovers_of_a_killed_build_are_cleaned_or_restored(tmp_path):
    from pipeline.report.build import _remove_leftovers, _swap

    out = tmp_path / "reports" / "s"
    (tmp_path / "reports" / ".s.abc.tmp").mkdir(parents=True)  # killed while writing
    (tmp_path / "reports" / ".s.old").mkdir()                    # killed between the two renames
    (tmp_path / "reports" / ".s.old" / "report.html").write_text("previous")
    _remove_leftovers(out)
    assert sorted(p.name for p in out.parent.iterdir()) == ["s"]
    assert (out / "report.html").read_text() == "previous"
    new = tmp_path / "reports" / ".s.new.tmp"
    new.mkdir()
    (new / "report.html").write_text("fresh")
    _swap(new, out)
    assert sorted(p.name for p in out.parent.iterdir()) == ["s"]
    assert (out / "report.html").read_text() == "fresh"


def test_network_export_paths_that_would_collide_get_their_own_folders(tmp_path):
    """Sites "Desa A" and "Desa_A" are both written, as the village pages are: Desa_A, Desa_A-1."""
    import igraph as ig
    import networkx as nx

    from pipeline.report.network_export import write_exports

    graphs = {}
    for site in ("Desa A", "Desa_A"):
        g = ig.Graph(n=2, edges=[(0, 1)], directed=True)
        g.vs["name"], g.vs["group"] = ["R0000001", "R0000002"], ["lokal", "pendatang"]
        g["site"], g["wave"], g["tie_type"] = site, "pre", "info"
        graphs[(site, "pre", "info")] = g
    nodes = pd.DataFrame(columns=["respondent_id", "site", "wave", "tie_type"])
    write_exports(graphs, nodes, tmp_path)
    for folder, site in (("Desa_A", "Desa A"), ("Desa_A-1", "Desa_A")):
        assert nx.read_graphml(tmp_path / "graphs" / folder / "pre" / "info.graphml").graph["site"] == site
        assert (tmp_path / "rsiena" / folder / "info" / "net_1_pre.csv").is_file()
