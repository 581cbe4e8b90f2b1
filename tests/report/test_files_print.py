"""The printed documents, opened as their readers open them (issue 22): report.pdf (Chromium's
print) and report.docx converted by LibreOffice to PDF, read back with pdftotext and drawn by
pdftoppm. The cover names the team, the contents and the lists are filled with the right page
numbers, tables are in order, pages are numbered, no page is nearly empty but a section's last.
The demo report is built once per session (tests/report/conftest.py); the unit tests at the end
build small documents."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pandas as pd
import pytest

from pipeline.report.text import s

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

#: a page whose content ends above this share of its text area is nearly empty
NEARLY_EMPTY = 0.25


def _need(*tools: str) -> None:
    missing = [t for t in tools if not shutil.which(t)]
    if missing:
        pytest.skip(f"{', '.join(missing)} not installed (.ci/run installs them)")


def page_texts(pdf: Path) -> list[str]:
    """The text of each page (pdftotext -layout; pages split at form feeds)."""
    out = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, timeout=120).stdout
    pages = out.split("\f")
    return pages[:-1] if pages and not pages[-1].strip() else pages


def page_fill(pdf: Path, bottom_margin_cm: dict[bool, float]) -> list[tuple[bool, float]]:
    """(landscape, filled) of every page: how far down its text area the last ink reaches (0–1),
    the bottom margin (the page number) left out; drawn by pdftoppm, so figures count."""
    import tempfile

    from PIL import Image

    out = []
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run(["pdftoppm", "-r", "24", "-gray", str(pdf), f"{tmp}/p"], check=True, timeout=300)
        for f in sorted(Path(tmp).glob("p-*.pgm"), key=lambda p: int(re.search(r"-(\d+)\.", p.name).group(1))):
            im = Image.open(f)
            w, h = im.size
            landscape = w > h
            limit = h - bottom_margin_cm[landscape] * h / (21.0 if landscape else 29.7)
            px = im.load()
            rows = [y for y in range(int(limit)) if any(px[x, y] < 200 for x in range(w))]
            out.append((landscape, (max(rows) / limit) if rows else 0.0))
    return out


def section_starts(pages: list[str], titles: list[str]) -> dict[int, str]:
    """page index → the section whose heading opens the page (a long heading wraps over two or
    three lines; a contents line, with its dot leader, is not a heading).

    >>> section_starts(["6. Desain evaluasi: data\\nhilang\\nTeks", "Teks\\n1. Satu", "1. Satu ..... 2"],
    ...                ["1. Satu", "6. Desain evaluasi: data hilang"])
    {0: '6. Desain evaluasi: data hilang'}
    """
    out = {}
    for i, text in enumerate(pages):
        head = " ".join(" ".join(x.split()) for x in text.splitlines()[:8] if x.strip())
        for title in titles:
            rest = head[len(title):] if head.startswith(title) else None
            if rest is not None and (not rest or (rest[0] == " " and not rest.lstrip().startswith(".."))):
                out[i] = title
    return out


def nearly_empty(fills: list[tuple[bool, float]], starts: dict[int, str], skip_first: bool) -> list[int]:
    """Pages (1-based) filled less than :data:`NEARLY_EMPTY` that are not the last page of a
    section (the next page starts a section, or it is the last page) nor the cover."""
    bad = []
    for i, (_, fill) in enumerate(fills):
        last_of_section = i + 1 == len(fills) or (i + 1) in starts
        if fill < NEARLY_EMPTY and not last_of_section and not (skip_first and i == 0):
            bad.append(i + 1)
    return bad


def _titles(html: Path) -> list[str]:
    return [" ".join(re.sub(r"<[^>]+>", "", t).split()) for t in
            re.findall(r'<section id="sec-[^"]+" class="report-section"[^>]*>\s*<h2>(.*?)</h2>',
                       html.read_text(encoding="utf-8"), flags=re.S)]


# ---------------------------------------------------------------------------------------------
# report.pdf
# ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("lang,word,of", [("id", "Halaman", "dari"), ("en", "Page", "of")])
def test_report_pdf_pages_are_numbered_and_none_is_nearly_empty(built, lang, word, of):
    _need("pdftotext", "pdftoppm")
    html = built[lang][2]
    pdf = html.with_suffix(".pdf")
    assert pdf.exists(), "the demo study asks for report.pdf"
    pages = page_texts(pdf)
    assert len(pages) >= 20
    for i, text in enumerate(pages, start=1):
        assert re.search(rf"{word} {i} {of} {len(pages)}\s*$", text.rstrip()), (i, text[-200:])
    footer = " ".join(s(lang, "footer").split())  # the report's footer, on every page beside its number
    assert all(footer in " ".join(t.split()) for t in pages), [i for i, t in enumerate(pages, 1) if footer not in t]
    titles = _titles(html)
    starts = section_starts(pages, titles)
    assert sorted(starts.values(), key=titles.index) == titles  # every section starts a page
    fills = page_fill(pdf, {False: 1.9, True: 1.6})
    assert len(fills) == len(pages)
    assert not nearly_empty(fills, starts, skip_first=True), [(i, fills[i - 1]) for i in nearly_empty(fills, starts, True)]


# ---------------------------------------------------------------------------------------------
# report.docx, as LibreOffice prints it
# ---------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def docx_pdf(built, tmp_path_factory) -> dict:
    """{lang: (report.docx converted by LibreOffice to PDF, its pages' text)}."""
    _need("soffice", "pdftotext", "pdftoppm")
    out = {}
    for lang in ("id", "en"):
        tmp = tmp_path_factory.mktemp(f"docx-{lang}")
        src = built[lang][2].parent / "report.docx"
        run = subprocess.run(["soffice", "--headless", f"-env:UserInstallation={(tmp / 'lo').as_uri()}",
                              "--convert-to", "pdf", "--outdir", str(tmp), str(src)],
                             capture_output=True, text=True, timeout=300)
        pdf = tmp / "report.pdf"
        assert pdf.exists(), run.stderr[-1500:]
        out[lang] = (pdf, page_texts(pdf))
    return out


def _lines(text: str) -> list[str]:
    return [" ".join(x.split()) for x in text.splitlines() if x.strip()]


@pytest.mark.parametrize("lang", ["id", "en"])
def test_docx_cover_names_the_program_team_institution_and_year(built, docx_pdf, lang):
    study = built[lang][1]
    cover = " ".join(_lines(docx_pdf[lang][1][0]))
    assert " ".join(study.title.split()) in cover
    for value in (study.program_name(lang), study.report.team, study.institution_name(lang), str(study.report.year),
                  study.site):
        assert value in cover, value
    assert {"id": "Institusi:", "en": "Institution:"}[lang] in cover


@pytest.mark.parametrize("lang", ["id", "en"])
def test_docx_contents_and_lists_are_filled_with_the_pages_they_point_to(built, docx_pdf, lang):
    """The contents list every section with the page its heading is on (as LibreOffice prints the
    file, no field to update), the lists every table and figure with its caption's page; no
    "Update Field" placeholder is left."""
    pdf, pages = docx_pdf[lang]
    text = "\n".join(pages)
    assert "Update Field" not in text and "F9" not in text
    titles = _titles(built[lang][2])
    starts = section_starts(pages, titles)
    assert sorted(starts.values(), key=titles.index) == titles, starts  # each section starts a page
    page_of = {t: i + 1 for i, t in starts.items()}
    front = [x for p in pages[:min(starts)] for x in _lines(p)]
    listed = {}
    for line in front:
        m = re.match(r"(.+?)\s*\.{3,}\s*(\d+)$", line)
        if m:
            listed[m.group(1)] = int(m.group(2))
    for title in titles:
        assert listed.get(title) == page_of[title], (title, listed.get(title), page_of[title])
    word = {"id": "Tabel", "en": "Table"}[lang]
    tables = {k: v for k, v in listed.items() if k.startswith(f"{word} ")}
    assert len(tables) == len(list((built[lang][2].parent / "tables").glob("*.csv")))
    for entry, page in tables.items():
        number = re.match(rf"{word} (\d+)\.", entry).group(1)
        assert any(x.startswith(f"{word} {number}. ") for x in _lines(pages[page - 1])), (entry, page)


@pytest.mark.parametrize("lang", ["id", "en"])
def test_docx_tables_are_in_order_and_no_page_is_nearly_empty(built, docx_pdf, lang):
    pdf, pages = docx_pdf[lang]
    titles = _titles(built[lang][2])
    starts = section_starts(pages, titles)
    word = {"id": "Tabel", "en": "Table"}[lang]
    body = [x for p in pages[min(starts):] for x in _lines(p)]
    numbers = [int(m.group(1)) for x in body for m in [re.match(rf"{word} (\d+)\. ", x)] if m]
    n_tables = len(list((built[lang][2].parent / "tables").glob("*.csv")))
    assert numbers == list(range(1, n_tables + 1)), numbers  # every table once, in the report's order
    fills = page_fill(pdf, {False: 2.1, True: 2.1})
    bad = nearly_empty(fills, starts, skip_first=False)
    assert not bad, [(i, fills[i - 1], _lines(pages[i - 1])[:2]) for i in bad]
    assert sum(landscape for landscape, _ in fills) >= 3  # the wide tables on landscape pages


def test_docx_toc_is_a_word_field_with_its_entries_linked(built):
    """Word's own update still works: the contents and the lists are TOC fields (marked for
    update when Word opens the file) whose stored result is the entries, each a link to a
    bookmark on its heading or caption with a PAGEREF page number."""
    import zipfile

    with zipfile.ZipFile(built["id"][2].parent / "report.docx") as z:
        body = z.read("word/document.xml").decode("utf-8")
        styles = z.read("word/styles.xml").decode("utf-8")
    instr = [" ".join(i.split()) for i in re.findall(r"<w:instrText[^>]*>([^<]*)</w:instrText>", body)]
    assert instr.count('TOC \\o "1-2" \\h \\z \\u') == 1
    assert 'TOC \\h \\z \\c "Tabel"' in instr and 'TOC \\h \\z \\c "Gambar"' in instr
    assert body.count('w:fldCharType="begin" w:dirty="true"') == 3
    anchors = re.findall(r'<w:hyperlink w:anchor="([^"]+)"', body)
    marks = set(re.findall(r'<w:bookmarkStart w:id="\d+" w:name="([^"]+)"', body))
    assert len(anchors) >= 40 and set(anchors) <= marks
    pagerefs = [i.split()[1] for i in instr if i.startswith("PAGEREF ")]
    assert pagerefs == anchors
    assert 'w:styleId="TOC1"' in styles and '<w:name w:val="toc 1"/>' in styles
    assert "Klik kanan" not in body and "Lampiran" not in body  # no placeholder, no appendix


# ---------------------------------------------------------------------------------------------
# the Word writer on small documents
# ---------------------------------------------------------------------------------------------

def _table(key: str, number: int, columns: int, rows: int = 3):
    from pipeline.report.model import Table

    disp = pd.DataFrame({f"Kolom {j} panjang sekali": [f"{j * 1000 + i:,}" for i in range(rows)] for j in range(columns)})
    disp.insert(0, "Label", [f"baris {i}" for i in range(rows)])
    return Table(key, f"Judul {number}", disp, disp, ["l"] + ["r"] * columns, number=number)


def _blocks():
    from pipeline.report.model import Block

    return [Block("p", "Pengantar."), Block("h3", "Sub"), Block("table", table=_table("a", 1, 14)),
            Block("note", "Catatan."), Block("p", "Satu kalimat di antara."), Block("table", table=_table("b", 2, 14)),
            Block("p", "Penutup pendek.")]


def test_short_text_between_landscape_tables_stays_landscape():
    from pipeline.report.docx import orientations
    from pipeline.report.model import Block

    assert orientations(_blocks()) == [True] * 7  # no portrait page holding a sentence or two
    long_text = [Block("p", "kalimat panjang " * 200)] * 4
    land = orientations([Block("table", table=_table("a", 1, 14)), *long_text, Block("table", table=_table("b", 2, 3))])
    assert land == [True, False, False, False, False, False]  # a long run of text is portrait


def test_a_table_too_wide_for_landscape_is_split_with_caption_style_continuations(tmp_path):
    """A table wider than a landscape page: parts that repeat the label column, the second
    captioned "(lanjutan, kolom …)" in the Caption style (not plain text), no SEQ of its own."""
    import zipfile

    from pipeline.report.docx import write_docx
    from pipeline.report.model import Block, Section

    sec = Section("a", 1, "Bagian", [Block("table", table=_table("w", 1, 30))])
    write_docx(tmp_path / "r.docx", title="Uji", sections=[sec], lang="id")
    body = zipfile.ZipFile(tmp_path / "r.docx").read("word/document.xml").decode("utf-8")
    paras = re.findall(r"<w:p>.*?</w:p>|<w:p [^>]*>.*?</w:p>", body, flags=re.S)
    cont = [p for p in paras if "lanjutan, kolom" in p]
    assert cont and all('<w:pStyle w:val="Caption"/>' in p and "SEQ" not in p for p in cont)
    assert body.count("<w:tbl>") == len(cont) + 1


def test_docx_without_libreoffice_keeps_its_lists_and_leaves_numbers_to_word(tmp_path, monkeypatch):
    """Without LibreOffice the entries are still written (links, dot leaders), their page numbers
    empty for Word to fill, and a note says so."""
    import zipfile

    from pipeline.report import docx as D
    from pipeline.report.model import Block, Section

    from pipeline.io import take_notes

    monkeypatch.setattr(D.shutil, "which", lambda name: None)
    secs = [Section("a", 1, "Satu", [Block("p", "x")]), Section("b", 2, "Dua", [Block("table", table=_table("t", 1, 2))])]
    take_notes()
    D.write_docx(tmp_path / "r.docx", title="Uji", sections=secs, lang="id", paginate=True)
    assert any("r.docx" in n and "Word fills them" in n for n in take_notes())
    body = zipfile.ZipFile(tmp_path / "r.docx").read("word/document.xml").decode("utf-8")
    assert re.findall(r'<w:hyperlink w:anchor="([^"]+)"', body) == ["_Toc_s1", "_Toc_s2", "_Toc_t1"]
    assert "1. Satu" in body and "Tabel 1. Judul 1" in body
