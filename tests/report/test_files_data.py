"""The data files, opened as their readers open them (issue 22): the workbook in openpyxl and
printed by LibreOffice, the SPSS file in PSPP, the Stata file's release, the Gephi files read back
by networkx and igraph. The demo report is built once per session (tests/report/conftest.py)."""

from __future__ import annotations

import csv
import html as htmlmod
import json
import re
import shutil
import subprocess
from pathlib import Path

import igraph as ig
import networkx as nx
import pandas as pd
import pytest

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


# ---------------------------------------------------------------------------------------------
# tables.xlsx
# ---------------------------------------------------------------------------------------------

def _workbook(built, lang):
    from openpyxl import load_workbook

    return load_workbook(built[lang][2].parent / "tables" / "tables.xlsx")


@pytest.mark.parametrize("lang,index,word", [("id", "Daftar tabel", "Tabel"), ("en", "List of tables", "Table")])
def test_sheets_are_named_as_the_report_numbers_its_tables(built, lang, index, word):
    """The first sheet lists the tables; every other sheet is "Tabel 7" for the report's Table 7
    (in the report's language), never a table key in English."""
    wb = _workbook(built, lang)
    html = built[lang][2].read_text(encoding="utf-8")
    captions = re.findall(r'data-table="([^"]+)">\s*<figcaption>\S+ (\d+)\. ', html)
    assert len(captions) >= 20
    assert wb.sheetnames[0] == index
    assert wb.sheetnames[1:] == [f"{word} {n}" for _, n in captions]
    listed = list(wb[index].iter_rows(min_row=2, values_only=True))
    assert [(row[3], row[0], row[2]) for row in listed] == [(f"{k}.csv", int(n), f"{word} {n}") for k, n in captions]
    for (key, n), name in zip(captions, wb.sheetnames[1:]):
        assert wb[name]["A1"].value == next(r[1] for r in listed if r[0] == int(n))  # the title above the header


@pytest.mark.parametrize("lang,shown", [("id", "< 0,001"), ("en", "< 0.001")])
def test_p_values_below_0_001_are_shown_as_the_report_shows_them(built, lang, shown):
    wb = _workbook(built, lang)
    sheet = {row[3]: row[2] for row in wb.worksheets[0].iter_rows(min_row=2, values_only=True)}
    ws = wb[sheet["effect_sizes.csv"]]
    heads = [c.value for c in ws[2]]
    col = heads.index({"id": "p Holm", "en": "Holm p"}[lang]) + 1
    cells = [ws.cell(row=r, column=col) for r in range(3, ws.max_row + 1)]
    tiny = [c for c in cells if isinstance(c.value, float) and c.value < 0.001]
    assert tiny, "the demo has p values below 0.001"
    for c in cells:
        assert c.number_format == f'[<0.001]"{shown}";0.000'
    assert all(c.value > 0 for c in tiny)  # the exact p is kept in the cell, only shown as "< 0,001"


def _pdf_of(xlsx: Path, tmp_path: Path) -> str:
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    if not soffice or not shutil.which("pdftotext"):
        pytest.skip("LibreOffice (soffice) and pdftotext are not installed")
    shutil.copy(xlsx, tmp_path / "tables.xlsx")
    run = subprocess.run([soffice, "--headless", f"-env:UserInstallation={(tmp_path / 'lo').as_uri()}",
                          "--convert-to", "pdf", "tables.xlsx"], cwd=tmp_path, capture_output=True, text=True,
                         timeout=300)
    assert (tmp_path / "tables.pdf").exists(), run.stderr[-1500:]
    res = subprocess.run(["pdftotext", "-layout", str(tmp_path / "tables.pdf"), "-"], capture_output=True,
                         text=True, timeout=120)
    return res.stdout


def test_printed_workbook_shows_every_header_word_whole_and_p_as_the_report(built, tmp_path):
    """LibreOffice prints tables.xlsx (as a reader's *Print* does): every word of every header is
    on paper whole (not "% perubaha", "Kelompo k") and each p below 0.001 is "< 0,001", never
    0,000."""
    wb = _workbook(built, "id")
    text = _pdf_of(built["id"][2].parent / "tables" / "tables.xlsx", tmp_path)
    tokens = set(re.split(r"[\s\-–]+", text))  # a header may wrap after a hyphen or dash, never inside a word
    cut = []
    tiny = zeros = 0
    for ws in wb.worksheets[1:]:
        for cell in ws[2]:
            cut += [(ws.title, cell.value, w) for w in re.split(r"[\s\-–]+", str(cell.value)) if w and w not in tokens]
        tiny += sum(1 for row in ws.iter_rows(min_row=3) for c in row
                    if c.number_format.startswith("[<0.001]") and isinstance(c.value, float) and c.value < 0.001)
        zeros += sum(1 for row in ws.iter_rows(min_row=3) for c in row  # a real 0.000 (an RMSEA), not a p
                     if not c.number_format.startswith("[<0.001]") and isinstance(c.value, (int, float))
                     and abs(c.value) < 0.0005 and "0.000" in c.number_format)
    assert not cut, cut[:10]
    assert tiny and text.count("< 0,001") >= tiny
    assert len(re.findall(r"(?<![\d.,])0[.,]000(?![\d])", text)) <= zeros  # no p printed as 0,000


def test_header_rows_are_tall_enough_for_their_wrapped_lines(built):
    from pipeline.report.exports import wrapped_lines

    wb = _workbook(built, "id")
    for ws in wb.worksheets[1:]:
        for cell in ws[2]:
            width = ws.column_dimensions[cell.column_letter].width
            word = max(len(w) for w in str(cell.value).split())
            assert width - 1 >= word * 1.3, (ws.title, cell.value, width)
            assert ws.row_dimensions[2].height >= 15 * wrapped_lines(str(cell.value), width, 1.3), (ws.title, cell.value)


# ---------------------------------------------------------------------------------------------
# SPSS and Stata
# ---------------------------------------------------------------------------------------------

def _statement(built, item: str) -> tuple[str, bool]:
    """An item's statement in the instrument (placeholders in words) and whether it is reversed."""
    from pipeline.report.labels import Labels
    from pipeline.instrument import load_instrument
    from pipeline.config import instrument_path

    root, study, _ = built["id"]
    labels = Labels(load_instrument(instrument_path(study)), "id")
    sm = pd.read_parquet(root / study.processed_dir / "scale_map.parquet").set_index("item")
    return labels.statement(item), bool(sm.loc[item, "reverse"])


def test_likert_items_have_their_statements_and_answer_labels_in_pspp(built, tmp_path):
    """PSPP (the free SPSS) shows each item's statement as its variable label, whole, and its
    answers as value labels: 1 = Sangat tidak setuju … 5 = Sangat setuju; a reverse-coded item's
    scored column names each code by the answer it was turned from (5 = Sangat tidak setuju)."""
    if shutil.which("pspp") is None:
        pytest.skip("pspp is not installed (.ci/run installs it)")
    root, study, html = built["id"]
    sm = pd.read_parquet(root / study.processed_dir / "scale_map.parquet")
    plain = next(i for i, r in zip(sm["item"], sm["reverse"]) if not r)
    rev = next(i for i, r in zip(sm["item"], sm["reverse"]) if r)
    exports = html.parent / "exports"
    (tmp_path / "t.sps").write_text(f"""GET FILE='{exports / "scores.sav"}'.
DISPLAY DICTIONARY /VARIABLES={plain} {rev} {rev}_raw.
GET FILE='{exports / "scores_wide.sav"}'.
DISPLAY DICTIONARY /VARIABLES={plain}_pre.
""")
    run = subprocess.run(["pspp", "-O", "format=csv", "t.sps", "-o", "out.csv"], cwd=tmp_path,
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stdout + run.stderr
    rows = list(csv.reader((tmp_path / "out.csv").read_text(encoding="utf-8").splitlines()))
    variables = {r[0]: r[2] for r in rows if len(r) >= 9 and r[0] in (plain, rev, f"{rev}_raw", f"{plain}_pre")}
    text, _ = _statement(built, plain)
    rtext, reversed_ = _statement(built, rev)
    assert reversed_ and variables[plain] == text and variables[rev] == f"{rtext} (dibalik)"
    assert variables[f"{rev}_raw"] == f"{rtext} (jawaban asli)" and variables[f"{plain}_pre"] == f"{text} [Sebelum program]"
    labels: dict[str, dict[str, str]] = {}
    current = None
    for r in rows:
        if len(r) == 3 and r[2] and r[1].strip().isdigit():
            current = r[0] or current
            labels.setdefault(current, {})[r[1]] = r[2]
    scale = {"1": "Sangat tidak setuju", "2": "Tidak setuju", "3": "Ragu-ragu", "4": "Setuju", "5": "Sangat setuju"}
    assert labels[text] == scale and labels[f"{rtext} (jawaban asli)"] == scale
    assert labels[f"{rtext} (dibalik)"] == {k: scale[str(6 - int(k))] for k in scale}
    assert labels[f"{text} [Sebelum program]"] == scale
    if len(rtext) > 80:  # Stata keeps 80 characters: the statement is cut there, the "(dibalik)" kept
        assert variables[rev] != rtext[:80]


def test_stata_file_is_release_118_for_stata_14(built):
    """Stata 14 (still common on campus licences) opens release 118, not 119; pyreadstat and pandas
    read it back with the same labels (Stata's 80 characters) and answer labels."""
    import pyreadstat

    exports = built["id"][2].parent / "exports"
    for name in ("scores.dta", "scores_wide.dta"):
        head = (exports / name).read_bytes()[:64]
        assert head.startswith(b"<stata_dta><header><release>118</release>"), head
    df, meta = pyreadstat.read_dta(str(exports / "scores.dta"))
    sav, smeta = pyreadstat.read_sav(str(exports / "scores.sav"))
    assert list(df.columns) == list(sav.columns) and len(df) == len(sav)
    labels = dict(zip(meta.column_names, meta.column_labels))
    full = dict(zip(smeta.column_names, smeta.column_labels))
    assert all(len(v) <= 80 for v in labels.values())
    assert all(labels[c] == full[c] for c in full if len(full[c]) <= 80)
    cut = [c for c in full if len(full[c]) > 80]  # long statements: whole in SPSS, cut with "…" for Stata
    assert cut and all("…" in labels[c] for c in cut)
    assert all(labels[c].endswith("(dibalik)") for c in cut if full[c].endswith("(dibalik)"))
    values = {v: meta.value_labels[k] for v, k in meta.variable_to_label.items()}
    item = next(c for c in df.columns if c.startswith("tr_gen") and not c.endswith("_raw"))
    assert values[item][1] == "Sangat tidak setuju" and values[item][5] == "Sangat setuju"
    read = pd.read_stata(exports / "scores.dta", convert_categoricals=False)
    assert len(read) == len(df)


# ---------------------------------------------------------------------------------------------
# Gephi: GEXF and GraphML
# ---------------------------------------------------------------------------------------------

def _graph_files(built, ext):
    files = sorted((built["id"][2].parent / "exports" / "network" / "graphs").rglob(f"*.{ext}"))
    assert files
    return files


def test_gephi_files_have_no_igraph_bookkeeping(built):
    for path in _graph_files(built, "graphml") + _graph_files(built, "gexf"):
        text = path.read_text(encoding="utf-8")
        assert "_igraph_index" not in text and "_nx_name" not in text, path
    g = ig.Graph.Read_GraphML(str(_graph_files(built, "graphml")[0]))
    assert not [a for a in g.vs.attributes() + g.es.attributes() if a.startswith("_")]


def test_gexf_opens_drawn_as_the_report_draws_it(built):
    """Every node has a viz:position (the report's layout: the same person at the same place in
    every wave and tie type, the groups apart) and the report's group colour; every tie says
    whether it crosses groups and is coloured as in the sociogram."""
    from pipeline.report.figures import group_palette

    root, study, _ = built["id"]
    palette = {g: tuple(int(c[i:i + 2], 16) for i in (1, 3, 5)) for g, c in group_palette(study.group_values).items()}
    where: dict[str, tuple[float, float]] = {}
    for path in _graph_files(built, "gexf"):
        g = nx.read_gexf(path)
        for v, d in g.nodes(data=True):
            pos, col = d["viz"]["position"], d["viz"]["color"]
            assert (col["r"], col["g"], col["b"]) == palette[d["group"]]
            assert where.setdefault(v, (pos["x"], pos["y"])) == (pos["x"], pos["y"]), (path, v)
        for a, b, d in g.edges(data=True):
            assert d["between_groups"] == (g.nodes[a]["group"] != g.nodes[b]["group"])
        text = path.read_text(encoding="utf-8")
        assert 'xmlns:viz="http://www.gexf.net/1.2draft/viz"' in text
        assert text.count("<viz:color") == g.number_of_nodes() + g.number_of_edges()
    resp = pd.read_parquet(root / study.processed_dir / "respondents.parquet")
    group = resp.drop_duplicates("respondent_id").set_index("respondent_id")["group"].astype(str)
    xs = {g: [where[v][0] for v in where if group.get(v) == g] for g in study.group_values}
    lokal, pendatang = study.group_values[:2]
    assert max(xs[lokal]) < min(xs[pendatang])  # the groups apart, in study order, not one ball


def test_graphml_carries_positions_and_colours_for_gephi_and_igraph(built):
    for path in _graph_files(built, "graphml")[:3]:
        gx = nx.read_graphml(path)
        gexf = nx.read_gexf(path.with_suffix(".gexf"))
        for v, d in gx.nodes(data=True):
            viz = gexf.nodes[v]["viz"]
            assert (d["x"], d["y"]) == (viz["position"]["x"], viz["position"]["y"])
            assert (d["r"], d["g"], d["b"]) == (viz["color"]["r"], viz["color"]["g"], viz["color"]["b"])
            assert d["color"] == "#{:02x}{:02x}{:02x}".format(d["r"], d["g"], d["b"])
        gi = ig.Graph.Read_GraphML(str(path))
        assert {"x", "y", "color"} <= set(gi.vs.attributes()) and "color" in gi.es.attributes()
        assert gi.vs["x"] == [gx.nodes[v]["x"] for v in gi.vs["id"]]


def test_the_interactive_view_and_gephi_share_the_positions(built):
    """The report's interactive network and the GEXF files place each person at the same point."""
    html = built["id"][2].read_text(encoding="utf-8")
    m = re.search(r'<script type="application/json" id="netview-data">(.*?)</script>', html, flags=re.S)
    assert m
    data = json.loads(htmlmod.unescape(m.group(1)) if "&quot;" in m.group(1) else m.group(1))
    gexf = nx.read_gexf(_graph_files(built, "gexf")[0])
    from pipeline.report.network_export import POSITION_SCALE

    for node in data["nodes"]:
        if node["id"] in gexf:
            pos = gexf.nodes[node["id"]]["viz"]["position"]
            assert node["x"] * POSITION_SCALE == pytest.approx(pos["x"], abs=0.01)
            assert node["y"] * POSITION_SCALE == pytest.approx(pos["y"], abs=0.01)
