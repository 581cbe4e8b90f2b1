"""End to end: studies with comparison villages, from raw data to the report (issue 20).

`make report STUDY=…` runs in a copy of the repository, as a user runs it, for a `tables` study of
three villages with ``arms`` and for the demo with ``source.comparison_villages``; the report is
opened and its design section checked against ``did.csv`` and ``balance.csv``.
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
from tests.makecopy import copy_repo, make
from tests.tablestudy import write_tables_study

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def repo(tmp_path_factory):
    return copy_repo(tmp_path_factory.mktemp("repo"))


def _make_report(repo: Path, study: Path) -> None:
    result = make(repo, "report", f"STUDY={study.relative_to(repo)}")
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "sinergi did " in result.stdout, "make report did not run the design stage"


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


def test_tables_study_with_comparison_villages(repo):
    """Three villages, one with the program: the report has its DiD and balance tables (it
    crashed with `'Context' object has no attribute '_bal_label'`)."""
    path = write_tables_study(repo / "three", sites=3, n=90, study_id="three-arms")
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    doc["arms"] = {"desa0": "program", "desa1": "comparison", "desa2": "comparison"}
    doc["designs"] = {"ri_draws": 99}
    doc["title"] = LONG_TITLE  # over Word's 255-character property limit (it crashed the Word writer)
    path.write_text(yaml.safe_dump(doc), encoding="utf-8")
    _make_report(repo, path)
    proc = repo / "data" / "processed" / "three-arms"
    page = (repo / "reports" / "three-arms" / "report.html").read_text(encoding="utf-8")
    _check_design_tables(proc, page, 3)
    word = docx.Document(str(repo / "reports" / "three-arms" / "report.docx"))
    assert len(word.core_properties.title) <= 255 and LONG_TITLE.startswith(word.core_properties.title[:-1])
    assert LONG_TITLE in "\n".join(p.text for p in word.paragraphs)
    assert htmlmod.escape(LONG_TITLE) in page or LONG_TITLE in page


def test_demo_with_comparison_villages(repo):
    """The demo with `source.comparison_villages: 1` (its own id): the report's design section
    shows the DiD and the baseline balance of the two villages."""
    doc = yaml.safe_load((ROOT / "study.yaml").read_text(encoding="utf-8"))
    doc.update(id="demo-did", instrument="instruments/sinergi.yaml", language="en")
    doc["source"]["comparison_villages"] = 1
    doc["source"]["n_respondents"] = 60
    doc["analysis"]["permutations"] = 199
    doc["report"]["pdf"] = False
    path = repo / "demo-did.yaml"
    path.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    _make_report(repo, path)
    proc = repo / "data" / "processed" / "demo-did"
    assert set(pd.read_parquet(proc / "respondents.parquet")["site"]) == {"Kaloran Brimob", "Desa Pembanding 1"}
    page = (repo / "reports" / "demo-did" / "report.html").read_text(encoding="utf-8")
    _check_design_tables(proc, page, 2)
