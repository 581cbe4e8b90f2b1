"""The numbered tables and figures (pipeline.report.numbering)."""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd
import pytest

from pipeline.config import load_study
from pipeline.report.columns import Column, Fmt
from pipeline.report.labels import Labels
from pipeline.report.numbering import Numbering, blank_repeats
from pipeline.report.words import Words

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def numbering() -> Numbering:
    study = load_study(str(ROOT / "study.yaml"))
    return Numbering(Words(study, "en", Labels(None, "en")))


def test_tables_are_numbered_in_order_and_a_dropped_one_renumbers_the_rest(numbering):
    df = pd.DataFrame({"n": [1, 2]})
    blocks = [numbering.table(f"t{i}", f"Table {i}", df, [Column("n", "c_n", Fmt.INT)]) for i in range(3)]
    assert [b.table.number for b in blocks] == [1, 2, 3]
    numbering.drop(blocks[0].table)
    assert [t.key for t in numbering.tables] == ["t1", "t2"] and [t.number for t in numbering.tables] == [1, 2]


def test_headers_are_the_catalogues_and_unique(numbering):
    df = pd.DataFrame({"a": [1.0], "b": [2.0], "c": ["x" * 40]})
    t = numbering.table("k", "T", df, [Column("a", "c_sd", Fmt.N2), Column("b", "c_sd", Fmt.N2),
                                       Column("c", "Free text", verbatim=True)]).table
    sd = numbering.words.text("c_sd")
    assert list(t.display.columns) == [sd, f"{sd} (2)", "Free text"]
    assert list(t.raw.columns) == [sd, f"{sd} (2)", "Free text"]
    assert t.formats == ["n2", "n2", "text"]
    assert t.align == ["r", "r", "lw"]  # a long text column wraps


def test_blank_repeats_shows_a_label_once_per_run(numbering):
    df = pd.DataFrame({"d": ["trust", "trust", "norms", "trust"], "n": [1, 2, 3, 4]})
    block = blank_repeats(numbering.table("k", "T", df, [Column("d", "dimension"), Column("n", "c_n", Fmt.INT)]))
    assert block.table.display.iloc[:, 0].tolist() == ["trust", "", "norms", "trust"]
    assert block.table.raw.iloc[:, 0].tolist() == ["trust", "trust", "norms", "trust"]  # the files keep every label


def test_figures_are_numbered_and_rendered(numbering):
    for key in ("a", "b"):
        fig, ax = plt.subplots(figsize=(1, 1))
        ax.plot([0, 1], [0, 1])
        block = numbering.figure(key, "caption", fig)
    assert block.figure.number == 2 and block.figure.png[:8] == b"\x89PNG\r\n\x1a\n" and "<svg" in block.figure.svg
