"""A district of many villages (issue 24): the district summary keeps its size whatever the number
of villages; every village is still reachable (its page, the complete CSVs).

Two generated `tables` studies of 14 and 28 tiny villages (10 people each, tests/tablestudy.py),
both above :data:`pipeline.report.spread.LIST_MAX`, raw → report through the CLI; and the
threshold itself on both sides, on the summary's network findings (no study run).
"""

from __future__ import annotations

import os
import re
import zipfile
import zlib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from pipeline.cli import main
from pipeline.config import load_study
from pipeline.report import spread
from pipeline.report.context import Context, Inputs
from pipeline.report.sections import summary
from tests.report.provenance import report_document, unexplained
from tests.tablestudy import write_tables_study

ROOT = Path(__file__).resolve().parents[2]
STAGES = ("pull", "tidy", "scales", "network", "prepost", "district", "report")
PEOPLE = 10  # per village


def _run(folder, villages: int):
    """raw → report for a study of ``villages`` villages; (processed folder, report folder)."""
    old = os.getcwd()
    os.chdir(folder)
    try:
        study = write_tables_study(folder, n=PEOPLE * villages, sites=villages, study_id=f"many{villages}")
        for stage in STAGES:
            assert main([stage, "--study", str(study)]) == 0, stage
    finally:
        os.chdir(old)
    return folder / "data" / "processed" / f"many{villages}", folder / "reports" / f"many{villages}"


@pytest.fixture(scope="module")
def districts(tmp_path_factory):
    """{villages: (processed, reports)} for 14 and 28 villages."""
    return {k: _run(tmp_path_factory.mktemp(f"many{k}"), k) for k in (14, 28)}


def _size(rep) -> dict:
    """What the summary document holds, counted: tables, figures, list items, Word paragraphs and
    Word tables, and the files of tables/ and figures/."""
    html = (rep / "report.html").read_text(encoding="utf-8")
    with zipfile.ZipFile(rep / "report.docx") as z:
        doc = z.read("word/document.xml").decode("utf-8")
    return {"tables": html.count("data-table="), "figures": len(re.findall(r"<figure\b", html)),
            "items": len(re.findall(r"<li\b", html)), "docx_paragraphs": doc.count("<w:p>") + doc.count("<w:p "),
            "docx_tables": doc.count("<w:tbl>"), "csv": len(list((rep / "tables").glob("*.csv"))),
            "figure_files": len(list((rep / "figures").glob("*.png")))}


@pytest.mark.slow
def test_the_summary_has_the_same_size_for_n_and_2n_villages(districts):
    small, big = (_size(districts[k][1]) for k in (14, 28))
    assert small == big
    assert small["tables"] > 10 and small["figures"] > 3  # a whole report, not an empty one


@pytest.mark.slow
@pytest.mark.parametrize("villages", [14, 28])
def test_no_per_village_series_in_the_summary(districts, villages):
    proc, rep = districts[villages]
    html = (rep / "report.html").read_text(encoding="utf-8")
    # the per-village network findings (one per village × wave, without the village's name) are gone
    assert 'data-kind="ei"' not in html and 'data-kind="change"' not in html
    assert html.count('data-kind="ei-villages"') == 2 and html.count('data-kind="change-villages"') == 1
    assert 'data-table="district_villages"' not in html and not (rep / "tables" / "district_villages.csv").exists()
    assert 'data-table="district_villages_spread"' in html and 'data-table="network_villages"' in html
    with zipfile.ZipFile(rep / "report.docx") as z:
        doc = re.sub(r"<[^>]+>", "", z.read("word/document.xml").decode("utf-8"))
    assert "the whole network of" not in doc and "whole-network E-I index of the" in doc
    assert "distribution over the" in doc


@pytest.mark.slow
@pytest.mark.parametrize("villages", [14, 28])
def test_the_distribution_is_that_of_the_villages(districts, villages):
    """The distribution table against numpy on the analysis' per-village rows, and each finding's
    numbers are cells of the report's tables."""
    proc, rep = districts[villages]
    sites = pd.read_csv(proc / "district_sites.csv")
    trust = sites[(sites["dimension"] == "trust") & (sites["wave_post"] == "post")].set_index("site")["diff"]
    table = pd.read_csv(rep / "tables" / "district_villages_spread.csv", encoding="utf-8-sig")
    row = table[table["Measure"].str.startswith("Trust")].iloc[0]
    assert row["Villages"] == villages == trust.size
    # tables/ carry 10 significant digits: equal within 1e-9
    np.testing.assert_allclose(row[["Lowest", "Quartile 1", "Median", "Quartile 3", "Highest"]].to_numpy(float),
                               [trust.min(), *np.percentile(trust, [25, 50, 75]), trust.max()], rtol=1e-9)
    assert row["Village (lowest)"] == trust.idxmin() and row["Village (highest)"] == trust.idxmax()
    ch = pd.read_csv(proc / "network_change.csv")
    dei = ch[ch["tie_type"] == "any"].set_index("site")["delta_ei"].dropna()
    net = pd.read_csv(rep / "tables" / "network_villages.csv", encoding="utf-8-sig")
    row = net[net["Measure"].str.startswith("Δ E-I")].iloc[0]
    np.testing.assert_allclose(row["Median"], np.median(dei), rtol=1e-9)
    doc = report_document((rep / "report.html").read_text(encoding="utf-8"))
    labels = ["Before", "After", "Desa Uji", "Tables test study", "E-I"]
    assert not unexplained(doc, "summary", rules=["95", "0.05", "0.2", "0.5", "0.8", "1"], labels=labels)


@pytest.mark.slow
@pytest.mark.parametrize("villages", [14, 28])
def test_every_village_is_reachable(districts, villages):
    proc, rep = districts[villages]
    resp = pd.read_parquet(proc / "respondents.parquet")
    names = sorted(resp["site"].astype(str).unique())
    assert len(names) == villages
    index = (rep / "villages" / "index.html").read_text(encoding="utf-8")
    for site in names:
        page = rep / "villages" / f"{site}.html"
        assert page.exists(), site
        assert f'href="{site}.html"' in index
        assert f"Site: {site}" in page.read_text(encoding="utf-8")
    complete = pd.read_csv(rep / "villages" / "district_sites.csv", encoding="utf-8-sig")
    assert sorted(complete["site"].astype(str).unique()) == names
    html = (rep / "report.html").read_text(encoding="utf-8")
    assert "villages/index.html" in html


def _files(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


@pytest.mark.slow
def test_village_pages_are_the_same_wherever_they_render(districts, tmp_path, monkeypatch):
    """The pages rendered by per-village jobs: the same bytes serially, in the process pool and from one
    village's rows alone (its rows of each table filtered first, then ordered: no other village's rows
    in the job), and the same files as the report stage wrote."""
    from pipeline.report import villages as vp
    from pipeline.report.context import read_context

    proc, rep = districts[14]
    monkeypatch.chdir(proc.parents[2])
    study = load_study(proc.parents[2] / "study.yaml")
    ctx = read_context(study, study.language)
    made = {}
    for scheduler in ("serial", "processes"):
        pages = vp.write_villages(ctx, tmp_path / scheduler, scheduler)
        assert [p.stem for p in pages] == ctx.shape.sites
        made[scheduler] = _files(tmp_path / scheduler / "villages")
    assert made["processes"] == made["serial"] == _files(rep / "villages")
    assert sum(n.endswith(".html") for n in made["serial"]) == 14 + 1  # the pages, the index
    assert "network_whole.csv" in made["serial"] and "district_sites.csv" in made["serial"]  # complete tables
    site = ctx.shape.sites[3]
    alone = {}
    for name in vp._SOURCES:
        df = ctx.inputs(name)
        if df is not None and len(df) and "site" in df:
            alone[name] = vp._page_rows(ctx, name, df[df["site"].astype(str) == site])
    job = vp.PageJob(study, ctx.lang, ctx.instrument, ctx.provenance, [(site, site)], alone)
    (name, page), = vp.render_pages(job)
    assert name == site and zlib.decompress(page) == made["serial"][f"{site}.html"]
    assert b"Site: " + site.encode() in zlib.decompress(page)


def test_pages_beside_keep_the_order_and_raise_in_the_caller():
    """map_sites_beside: the list of map_sites in the items' order, whatever ran where; an error of a
    job raised by result(); serially nothing runs before result()."""
    from pipeline import parallel

    ran = []
    serial = parallel.map_sites_beside(ran.append, [1, 2], "serial")
    assert ran == []
    assert serial.result() == [None, None] and ran == [1, 2]
    pool = parallel.map_sites_beside(abs, [-3, 1, -2, 5, -8], "processes")
    assert pool.result() == [3, 1, 2, 5, 8]
    failing = parallel.map_sites_beside(abs, [-1, "x", 2, 3], "processes")
    with pytest.raises(TypeError):
        failing.result()


def _ctx(villages: int) -> Context:
    """A context of ``villages`` villages with their whole networks in two waves (no study run)."""
    study = load_study(str(ROOT / "study.yaml"))
    sites = [f"desa{i:02d}" for i in range(villages)]
    resp = pd.DataFrame({"respondent_id": [f"r{i}" for i in range(villages)], "wave": "pre", "group": "lokal",
                         "site": sites})
    whole = pd.DataFrame([{"site": s, "wave": w, "tie_type": "any", "n_nodes": 20, "ties_between": 10 + i,
                           "n_ties": 100, "ei": -0.8 + 0.01 * i, "ei_expected": 0.0, "ei_rescaled": -0.5,
                           "ei_p": 0.5} for w in ("pre", "post") for i, s in enumerate(sites)])
    return Context(study, "en", Inputs({"respondents.parquet": resp, "network_whole.csv": whole}))


@pytest.mark.parametrize("villages", [spread.LIST_MAX, spread.LIST_MAX + 1])
def test_the_threshold_on_both_sides(villages):
    """Up to LIST_MAX villages the summary lists each village × wave, as before; one more
    village and it gives one distribution per wave, naming the lowest and highest village."""
    ctx = _ctx(villages)
    found = summary._network_findings(ctx)
    if villages <= spread.LIST_MAX:
        assert spread.listed(ctx) and len(found) == 2 * villages
        assert {f.attrs["kind"] for f in found} == {"ei"}
    else:
        assert not spread.listed(ctx) and len(found) == 2
        assert {f.attrs["kind"] for f in found} == {"ei-villages"}
        last = f"desa{villages - 1:02d}"
        assert all(f"(desa00) to " in f.text and f"({last})" in f.text for f in found)
        assert "median of −0.74" in found[0].text  # −0.8 + 0.01 × 6, the middle of 13


def test_spread_is_numpys_quantiles():
    rng = np.random.default_rng(3)
    values = pd.Series(rng.normal(size=37), index=[f"v{i:02d}" for i in range(37)])
    values.iloc[5] = np.nan
    s = spread.spread(values)
    clean = values.dropna()
    assert s["n"] == 36
    np.testing.assert_allclose([s["q1"], s["median"], s["q3"]], np.quantile(clean, [0.25, 0.5, 0.75]), rtol=1e-12)
    assert s["min_site"] == clean.idxmin() and s["max_site"] == clean.idxmax()
    assert spread.spread(pd.Series([np.nan], index=["a"])) is None
