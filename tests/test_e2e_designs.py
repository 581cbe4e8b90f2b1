"""End to end: studies with comparison villages, from raw data to the report (issue 20).

Every stage `make report` runs (pull … coverage, district, did, report) is called through the CLI
in a temporary folder, for a `tables` study of three villages with ``arms`` and for the demo with
``source.comparison_villages``; the report is opened and its design section checked against
``did.csv`` and ``balance.csv``.
"""

from __future__ import annotations

import html as htmlmod
import io
import re
from pathlib import Path

import docx
import pandas as pd
import pytest
import yaml

from tests.test_bad_inputs import LONG_TITLE
from tests.tablestudy import write_tables_study

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parent.parent
#: the stages `make report` runs, in an order that respects their prerequisites
STAGES = ("pull", "tidy", "scales", "network", "prepost", "district", "did", "invariance", "coverage", "report")


def _run(sinergi, study: Path) -> None:
    for stage in STAGES:
        args = [stage, "--study", study] + (["--local-only", "--quiet"] if stage == "pull" else [])
        code, _, err = sinergi(*args)
        assert code == 0, f"sinergi {stage}: {err}"


def _table(page: str, key: str) -> pd.DataFrame:
    """The report's table ``key`` (its <figure id="table-key">) as text cells."""
    m = re.search(rf'<figure[^>]*id="table-{key}"[^>]*>(.*?)</figure>', page, flags=re.S)
    assert m, f"table {key} is not in the report"
    return pd.read_html(io.StringIO(m.group(1)), flavor="lxml")[0].astype(str)


def _number(text: str) -> float:
    """A number as the report prints it (en: 1,234.5, the minus sign U+2212)."""
    return float(htmlmod.unescape(text).replace("−", "-").replace(",", ""))


def _designs_section(page: str) -> str:
    m = re.search(r'<section[^>]*data-section="([^"]*)"[^>]*>((?:(?!</section>).)*id="table-did".*?)</section>',
                  page, flags=re.S)
    assert m, "no section holds the difference-in-differences table"
    return m.group(2)


def _check_design_tables(proc: Path, page: str, n_villages: int) -> None:
    did = pd.read_csv(proc / "did.csv")
    bal = pd.read_csv(proc / "balance.csv")
    assert len(did) and len(bal)
    assert (did["n_clusters"] == n_villages).all()
    section = _designs_section(page)
    assert 'id="table-balance"' in section, "the balance table is not in the design section"
    shown = _table(section, "did")
    rows = did[did["kind"].isin(["scale", "node"])].reset_index(drop=True)
    assert len(shown) == len(rows)
    est = [c for c in shown.columns if c.lower().startswith("estimate")][0]
    got = shown[est].map(_number).to_numpy()
    assert got == pytest.approx(rows["estimate"].to_numpy(), abs=6e-4)  # printed with 3 decimals
    shown_bal = _table(section, "balance")
    assert len(shown_bal) == len(bal)
    assert shown_bal["SMD"].map(_number).to_numpy() == pytest.approx(bal["smd"].to_numpy(), abs=6e-3)


def test_tables_study_with_comparison_villages(in_tmp, sinergi):
    """Three villages, one with the program: the report has its DiD and balance tables (it
    crashed with `'Context' object has no attribute '_bal_label'`)."""
    path = write_tables_study(in_tmp, sites=3, n=90, study_id="three-arms")
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    doc["arms"] = {"desa0": "program", "desa1": "comparison", "desa2": "comparison"}
    doc["designs"] = {"ri_draws": 99}
    doc["title"] = LONG_TITLE  # over Word's 255-character property limit (it crashed the Word writer)
    path.write_text(yaml.safe_dump(doc), encoding="utf-8")
    _run(sinergi, path)
    proc = in_tmp / "data" / "processed" / "three-arms"
    page = (in_tmp / "reports" / "three-arms" / "report.html").read_text(encoding="utf-8")
    _check_design_tables(proc, page, 3)
    word = docx.Document(str(in_tmp / "reports" / "three-arms" / "report.docx"))
    assert len(word.core_properties.title) <= 255 and LONG_TITLE.startswith(word.core_properties.title[:-1])
    assert LONG_TITLE in "\n".join(p.text for p in word.paragraphs)
    assert htmlmod.escape(LONG_TITLE) in page or LONG_TITLE in page


def test_demo_with_comparison_villages(in_tmp, sinergi):
    """The demo with `source.comparison_villages: 1` (its own id): the report's design section
    shows the DiD and the baseline balance of the two villages."""
    doc = yaml.safe_load((ROOT / "study.yaml").read_text(encoding="utf-8"))
    doc.update(id="demo-did", instrument=str(ROOT / "instruments" / "sinergi.yaml"), language="en")
    doc["source"]["comparison_villages"] = 1
    doc["source"]["n_respondents"] = 60
    doc["analysis"]["permutations"] = 199
    doc["report"]["pdf"] = False
    path = in_tmp / "study.yaml"
    path.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    _run(sinergi, path)
    proc = in_tmp / "data" / "processed" / "demo-did"
    assert set(pd.read_parquet(proc / "respondents.parquet")["site"]) == {"Kaloran Brimob", "Desa Pembanding 1"}
    page = (in_tmp / "reports" / "demo-did" / "report.html").read_text(encoding="utf-8")
    _check_design_tables(proc, page, 2)
