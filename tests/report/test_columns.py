"""Declared table columns (pipeline.report.columns): what each format shows and what the CSV/XLSX
files get, on the demo study's words (no pipeline run)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from pipeline.config import load_study
from pipeline.report.columns import Column, Fmt, cells
from pipeline.report.labels import Labels
from pipeline.report.words import Words

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def words() -> dict[str, Words]:
    study = load_study(str(ROOT / "study.yaml"))
    return {lang: Words(study, lang, Labels(None, lang), origin_groups=True) for lang in ("id", "en")}


def test_a_ci_gets_the_decimals_its_bounds_need_and_two_numeric_file_columns(words):
    df = pd.DataFrame({"lo": [0.004, 0.06, np.nan], "hi": [0.17, 0.17, np.nan]})
    got = cells(Column(("lo", "hi"), "ci95", Fmt.CI2), df, "95% CI", words["en"])
    assert got.display == ["[0.004; 0.170]", "[0.06; 0.17]", "–"]
    assert list(got.raw) == ["95% CI lower", "95% CI upper"]
    np.testing.assert_allclose(got.raw["95% CI lower"].to_numpy(float), [0.004, 0.06, np.nan])
    assert got.formats == ["n3", "n3"] and got.align == "r"


def test_an_estimate_with_its_se_is_one_cell_and_two_file_columns(words):
    df = pd.DataFrame({"r": [0.1234, -0.5], "se": [0.01, 0.02]})
    got = cells(Column(("r", "se"), "c_assort", Fmt.PM2), df, "r ± SE", words["id"])
    assert got.display == ["0,12 ± 0,01", "−0,50 ± 0,02"]
    assert list(got.raw) == ["r", "SE (r)"]


def test_per_row_decimals_come_from_a_column_of_the_frame(words):
    df = pd.DataFrame({"diff": [0.0823, 0.5], "_vd": [3, 2]})
    got = cells(Column("diff", "c_mean_diff", Fmt.N2, digits="_vd"), df, "Mean difference", words["en"])
    assert got.display == ["0.082", "0.50"] and got.formats == ["n3"]


def test_number_formats_in_both_languages(words):
    df = pd.DataFrame({"x": [1234.5, 0.0004, np.nan]})
    assert cells(Column("x", "c_n", Fmt.INT), df, "n", words["id"]).display == ["1.234", "0", "–"]
    p = pd.DataFrame({"x": [0.0231, 0.0004, np.nan]})
    assert cells(Column("x", "c_p", Fmt.P), p, "p", words["en"]).display == ["0.023", "< 0.001", "–"]
    assert cells(Column("x", "c_n", Fmt.SHARE), pd.DataFrame({"x": [0.254]}), "s", words["id"]).display == ["25,4%"]
    assert cells(Column("x", "c_n", Fmt.PCT), pd.DataFrame({"x": [3.8, np.nan]}), "s", words["en"]).display == [
        "3.8%", "–"]


def test_labels_are_shown_and_written_to_the_files(words):
    df = pd.DataFrame({"wave": ["pre", "later"], "wave_post": ["post", "post"], "group": ["all", "pendatang"],
                       "tie_type": ["any", np.nan], "role": ["liaison", "unknown_role"], "ok": ["True", np.nan]})
    en = words["en"]
    wave = cells(Column("wave", "wave", Fmt.WAVE), df, "Wave", en)
    assert wave.display == ["Before the program", "later"] and wave.formats == ["text"] and wave.align == "l"
    assert list(wave.raw["Wave"]) == wave.display  # the files get the names, not the codes
    span = cells(Column(("wave", "wave_post"), "wave", Fmt.WAVES), df, "Wave", en)
    assert span.display[0] == "Before the program → After the program"
    assert cells(Column("group", "group", Fmt.GROUP), df, "Group", en).display == ["All", "Migrant"]
    assert cells(Column("tie_type", "tie_type", Fmt.TIE), df, "Tie", en).display[1] == ""
    role = cells(Column("role", "c_role", Fmt.CODE, code="role"), df, "Role", en).display
    assert role[0] == en.text("role_liaison") and role[1] == "unknown_role"
    assert cells(Column("ok", "c_rsiena", Fmt.YES_NO), df, "ok", en).display == [en.text("yes"), ""]


def test_right_aligned_text_is_kept_as_written(words):
    df = pd.DataFrame({"ci": ["[0,1; 0,2]", ""]})
    got = cells(Column("ci", "ci95", Fmt.RIGHT), df, "CI", words["id"])
    assert got.display == ["[0,1; 0,2]", ""] and got.align == "r" and got.formats == ["text"]


def test_the_format_kinds():
    assert [f for f in Fmt if f.pair] == [Fmt.CI2, Fmt.CI3, Fmt.PM2]
    assert Fmt.N1.decimals == 1 and Fmt.CI3.decimals == 3 and Fmt.P.decimals is None
    assert Fmt.TIE.label and not Fmt.TEXT.label and not Fmt.N2.label
