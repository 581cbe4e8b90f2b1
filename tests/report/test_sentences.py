"""The numbers of the summary's sentences (issue 23): digits that differ, negligible effects, the
sentence and its table printing the same cells; and the provenance harness itself.

The rows here are made by hand to be the cases the issue found: a CI whose lower bound is just
below 0 (printed "0,00 sampai 0,17"), and a district of 1,000 villages (224,858 pairs) where a
significant change of 0.003 points was printed "0.00 points larger (95% CI 0.00 to 0.01)" and a
CI "0.16 to 0.16".
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from pipeline.errors import SinergiError
from pipeline.report import text as rt
from tests.report.provenance import Document, handout_document, numbers, report_document, unexplained

ROOT = Path(__file__).resolve().parents[2]


def _row(diff, lo, hi, p_holm, d_z, n=224858):
    return {"diff": diff, "diff_ci_low": lo, "diff_ci_high": hi, "p_holm": p_holm, "d_z": d_z, "n_pairs": n,
            "mean_pre": 3.2, "mean_post": 3.2 + diff}


def _sentence(row, lang="en", min_effect=0.1):
    return rt.sentence_scale(row, lang, "Trust", "all respondents", (1, 5), 0.05, min_effect)


def test_a_bound_just_below_zero_is_not_printed_as_zero():
    v, text = _sentence(_row(0.082, -0.0042, 0.1693, 0.12, 0.20), "id")
    assert v == "unsure"
    assert "IK 95% −0,004 sampai 0,169" in text and "0,00 sampai" not in text
    assert "naik 0,082 poin" in text  # the change with the decimals of its CI


def test_a_very_narrow_ci_prints_bounds_that_differ():
    v, text = _sentence(_row(0.1605, 0.1581, 0.1629, 1e-12, 0.55))
    assert v == "sig"
    assert "95% CI 0.158 to 0.163" in text and "0.16 to 0.16" not in text


def test_a_significant_but_negligible_change_is_called_negligible():
    v, text = _sentence(_row(0.0031, 0.0006, 0.0056, 0.03, 0.02))
    assert v == "sig"
    assert "up 0.003 points" in text and "95% CI 0.001 to 0.006" in text and "d_z = 0.02" in text
    assert "negligible" in text and "0.10" in text and "increased significantly:" not in text
    # the same change with d_z above the smallest meaningful change is not negligible
    assert "negligible" not in _sentence(_row(0.0031, 0.0006, 0.0056, 0.03, 0.25))[1]
    # a d_z just below the cut is printed with the digit that shows it
    assert "d_z = 0.096" in _sentence(_row(0.05, 0.02, 0.08, 0.01, 0.096))[1]


@pytest.fixture
def demo_ctx():
    from pipeline.config import load_study
    from pipeline.report.context import Context, Inputs

    study = load_study(str(ROOT / "study.yaml"))

    def make(tables, lang="en"):
        return Context(study, lang, Inputs(tables))
    return make


def _mixed(interaction, lo, hi, p, d_z):
    rows = [("intercept", 3.44, 0.07, 3.30, 3.58, 0.0, np.nan), ("wave[post]", 0.16, 0.001, 0.158, 0.162, 0.0, 0.5),
            ("group[pendatang]", -0.49, 0.1, -0.70, -0.28, 1e-6, np.nan),
            ("wave[post]:group[pendatang]", interaction, 0.0013, lo, hi, p, d_z)]
    return pd.DataFrame([{"dimension": "trust", "kind": "scale", "term": t, "estimate": e, "se": se, "ci_low": a,
                          "ci_high": b, "p_val": pv, "method": "mixedlm_reml", "d_z": dz}
                         for t, e, se, a, b, pv, dz in rows])


def test_a_negligible_difference_in_change_at_1000_villages(demo_ctx):
    """"the change among Migrant was 0.00 points larger than among Local (95% CI 0.00 to 0.01;
    p = 0.034) … so the gap narrowed significantly": now the digits that differ, the d_z and
    the verdict negligible; the mixed-model table prints the same cells."""
    from pipeline.report.sections import summary, trust

    mm = _mixed(0.0031, 0.0006, 0.0056, 0.034, 0.012)
    ctx = demo_ctx({"mixed_models.csv": mm})
    f = summary._gap_sentence(ctx, "trust", "lokal", "pendatang", "pre", "post", mm.iloc[2], mm.iloc[3])
    assert f.attrs["verdict"] == "sig" and f.attrs["size"] == "negligible"
    assert "0.003 points larger" in f.text and "95% CI 0.001 to 0.006" in f.text and "d_z = 0.01" in f.text
    assert "negligible" in f.text and "narrowed" not in f.text
    blocks = trust._mixed_blocks(ctx)
    table = next(b.table for b in blocks if b.kind == "table")
    cells = {x for v in table.display.to_numpy().ravel() for x in numbers(str(v))}
    rules = {"95%", "0.10"}  # the CI's level; the smallest meaningful change (the colophon table prints it)
    assert set(numbers(f.text.split(":", 1)[1])) - rules <= cells, (numbers(f.text), sorted(cells))
    assert "[0.158; 0.162]" in set(table.display.iloc[:, 4])  # a narrow CI with its third decimal


def test_the_paired_table_prints_the_sentence_decimals(demo_ctx):
    """A row whose CI needs three decimals is printed with three in the paired-test table too."""
    from pipeline.report.sections import trust

    row = {**_row(0.082, -0.0042, 0.1693, 0.12, 0.20, n=89), "dimension": "trust", "kind": "scale", "group": "all",
           "wave_pre": "pre", "wave_post": "post", "n_unmatched": 3, "sd_pre": 0.5, "sd_post": 0.5, "sd_diff": 0.41,
           "se_diff": 0.044, "t": 1.89, "dof": 88, "p_val": 0.062, "d_z_ci_low": -0.01, "d_z_ci_high": 0.41,
           "W": 1983.0, "p_wilcoxon": 0.129, "rank_biserial": 0.19, "shapiro_p": 0.001, "n_gain": 0.04,
           "pct_change": 3.8}
    ctx = demo_ctx({})
    blocks = trust._paired_tables(ctx, pd.DataFrame([row]), ["trust"])
    test = next(b.table for b in blocks if b.kind == "table" and b.table.key == "paired_test").display.iloc[0]
    assert {"0.082", "−0.004", "0.169"} <= set(test)
    _, text = _sentence(row)
    printed = {x for b in blocks if b.kind == "table" for v in b.table.display.to_numpy().ravel() for x in numbers(str(v))}
    rules = {"95%", "0", "1", "5"}  # the CI's level, the null value, the scale's range (the instrument table)
    assert set(numbers(text)) - rules <= printed, sorted(set(numbers(text)) - printed)


def test_min_effect_must_be_positive(tmp_path):
    text = (ROOT / "study.yaml").read_text(encoding="utf-8").replace("analysis:\n", "analysis:\n  min_effect: 0\n", 1)
    text = re.sub(r"(?m)^instrument:.*$", f"instrument: {ROOT / 'instruments' / 'sinergi.yaml'}", text)
    (tmp_path / "study.yaml").write_text(text, encoding="utf-8")
    from pipeline.config import load_study

    with pytest.raises(SinergiError, match=r"analysis\.min_effect = 0"):
        load_study(str(tmp_path / "study.yaml"))


# ---------------------------------------------------------------------------------------------
# the harness: it must catch what the issue found
# ---------------------------------------------------------------------------------------------

PAGE = """<section id="sec-1" class="report-section" data-section="summary"><h2>1. Ringkasan</h2>
<p>Di antara 122 responden, E-I naik 0,28 (dari −0,58 menjadi −0,30; p &lt; 0,001).</p>
<figure class="table"><figcaption>Tabel 3. Perubahan</figcaption><table><thead><tr><th>Δ E-I</th></tr></thead>
<tbody><tr><td>0,28</td></tr><tr><td>−0,55</td></tr><tr><td>−0,31</td></tr><tr><td>&lt; 0,001</td></tr>
<tr><td>122</td></tr></tbody></table></figure></section>"""


def test_the_harness_flags_a_number_in_no_table():
    doc = report_document(PAGE)
    missing = unexplained(doc, "summary")
    assert [m.split()[0] for m in missing] == ["'0,58'", "'0,30'"]  # the common-node E-I the issue found
    fixed = PAGE.replace("(dari −0,58 menjadi −0,30; ", "(jejaring utuh −0,55 → −0,31; ")
    assert not unexplained(report_document(fixed), "summary")
    # a table's caption ("Tabel 3") and a heading ("1. Ringkasan") are not sentences
    assert "3" not in numbers(doc.sentences["summary"]) and "1" not in numbers(doc.sentences["summary"])


def test_the_harness_reads_rules_and_labels():
    doc = Document(cells={"0,12"}, sentences={"s": "Tahun ke-2 (1995): naik 0,12 (IK 95% …; α = 0,05)."})
    assert len(unexplained(doc, "s")) == 4
    assert not unexplained(doc, "s", rules=["95%", "0,05"], labels=["Tahun ke-2 (1995)"])


def test_the_handout_table_is_its_own():
    page = """<main><h2>Lebih banyak kontak</h2><p>Rata-rata 3,1 lalu 5,7 dari 122 orang.</p>
    <table class="numbers"><tr><th>Apa</th><th>Sebelum (survei 1)</th></tr><tr><td>3,1</td><td>5,7</td></tr></table></main>"""
    doc = handout_document(page)
    assert doc.cells == {"1", "3,1", "5,7"}
    assert [m.split()[0] for m in unexplained(doc, "handout")] == ["'122'"]
