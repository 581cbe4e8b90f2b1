"""The journal article draft (issue 22): ``artikel.docx`` and ``article.docx``, both written by
every build, read back as their reader opens them — python-docx for structure, word counts,
tables, placeholders and references, and LibreOffice (docx → PDF → pdftotext, with ``-bbox`` for
where the decimal separators land) for page count and number alignment — on the demo, a tables
study without networks (``caffeine``) and a one-wave study (``bfi``)."""

from __future__ import annotations

import contextlib
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.report.provenance import Document, numbers, report_document, unexplained

ROOT = Path(__file__).resolve().parents[2]
PUBLIC = ROOT / "tests" / "data" / "public"
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

HEADINGS = {"id": ["Pendahuluan", "Metode Pelaksanaan", "Hasil dan Pembahasan", "Kesimpulan", "Daftar Pustaka"],
            "en": ["Introduction", "Methods", "Results and Discussion", "Conclusion", "References"]}
TODO = {"id": "[DIISI TIM:", "en": "[TEAM TO WRITE:"}


def _doc(path: Path):
    from docx import Document as Docx

    return Docx(str(path))


def _paragraphs(doc) -> list:
    return [p for p in doc.paragraphs if p.text.strip()]


def _abstracts(doc) -> dict[str, str]:
    """{heading: text} of the two abstracts (the paragraph after each bold centred heading)."""
    paras = _paragraphs(doc)
    out = {}
    for i, p in enumerate(paras):
        if p.text.strip() in ("Abstrak", "Abstract") and i + 1 < len(paras):
            out[p.text.strip()] = paras[i + 1].text
    return out


def _sentences(doc, lang: str) -> tuple[str, str]:
    """(text in the article's language, the other language's abstract): every paragraph outside
    tables except the bracketed places the team writes (they name no statistic)."""
    paras = _paragraphs(doc)
    refs = next((i for i, p in enumerate(paras) if p.style.name == "Heading 1" and p.text == HEADINGS[lang][-1]),
                len(paras))
    paras = paras[:refs]  # the reference list: volumes, pages and DOIs, not statistics
    other = _abstracts(doc)["Abstract" if lang == "id" else "Abstrak"]
    own = " ".join(p.text for p in paras if not p.text.startswith(("[DIISI TIM", "[TEAM TO WRITE")) and p.text != other)
    return own, other


def _cells(doc) -> set[str]:
    return {n for t in doc.tables for row in t.rows for c in row.cells for n in numbers(c.text)}


def _labels(study, lang: str) -> list[str]:
    out = [str(study.title), str(study.site), str(study.report.team or ""), str(study.program_name(lang) or ""),
           str(study.institution_name(lang) or ""), str(study.report.year or "")]
    out += [study.wave_label(w.id, lang) or w.id for w in study.waves]
    out += [study.group_label(lv.value, lang) or lv.value for lv in study.group.levels]
    out += [t for stage in study.stages_in(lang) for t in stage if t]  # report.stages: the team's own words
    return out


def _check_article(path: Path, lang: str, study, *, rules: list[str], report_cells: set[str] = frozenset(),
                   min_words: int = 150) -> object:
    """Structure, word counts, placeholders and number provenance of one article file: a number
    of a sentence is a cell of the article's tables, of the report's (``report_cells``: a caveat
    quoting a table the article leaves out), or a stated rule; the other language's abstract
    prints the same numbers with the other decimal separator."""
    doc = _doc(path)
    paras = _paragraphs(doc)
    title = paras[0]
    assert title.style.name == "Title" and 0 < len(title.text.split()) <= 15, title.text
    heads = [p.text for p in doc.paragraphs if p.style.name == "Heading 1"]
    assert heads == HEADINGS[lang][:len(heads)] and len(heads) >= 4, heads
    abstracts = _abstracts(doc)
    assert set(abstracts) == {"Abstrak", "Abstract"}, abstracts.keys()
    for name, text in abstracts.items():
        assert min_words <= len(text.split()) <= 250, (name, len(text.split()), text)
    kw = [p.text for p in paras if p.text.startswith(("Kata kunci:", "Keywords:"))]
    assert len(kw) == 2 and all(3 <= len(k.split(":", 1)[1].split(";")) <= 5 for k in kw), kw
    full = "\n".join(p.text for p in doc.paragraphs)
    # every place the team writes is bracketed and highlighted; nothing else is left unfilled
    todo = [p for p in paras if p.text.startswith(TODO[lang])]
    assert len(todo) >= 4
    for p in todo:
        assert p.text.endswith("]") and all(r.font.highlight_color is not None for r in p.runs if r.text.strip())
    assert not re.search(r"\{[a-z_]+\}|\[@|TODO|lorem", full), "an unfilled catalogue placeholder"
    assert len(re.findall(r"\[(?:DIISI TIM|TEAM TO WRITE)", full)) == len(todo)
    # every number a sentence prints is a cell of one of the article's tables, or a stated rule
    own, other = _sentences(doc, lang)
    cells = _cells(doc) | set(report_cells)
    assert not unexplained(Document(cells, {"article": own}), "article", rules=rules, labels=_labels(study, lang))
    swapped = {c.translate(str.maketrans(".,", ",.")) for c in cells}
    olang = "en" if lang == "id" else "id"
    assert not unexplained(Document(swapped, {"abstract": other}), "abstract", rules=_rules(study, olang),
                           labels=_labels(study, olang))
    return doc


def _rules(study, lang: str) -> list[str]:
    """Numbers the article prints by a stated rule: the 95 of a 95 % CI, alpha, the smallest
    meaningful change, Cohen's 0.2 / 0.5 / 0.8, the scale's ends, the abstract's "3–5"."""
    from pipeline.report import text as rt

    alpha, mine = float(study.analysis.alpha), float(getattr(study.analysis, "min_effect", 0.2) or 0.2)
    rules = ["95%", "95", rt.num(alpha, lang), rt.num(mine, lang), rt.num(0.90, lang), rt.num(0.70, lang), rt.num(0.3, lang, 1)]
    # CFI 0.90 (Chen, 2007), alpha/omega 0.70 and RSiena's Jaccard 0.3 are the cut-offs the notes state
    rules += [rt.num(x, lang) for x in (0.2, 0.5, 0.8)] + [rt.num(x, lang, 1) for x in (0.2, 0.5, 0.8)]
    return rules + [str(i) for i in range(0, 8)]


def _page_count(docx: Path, tmp: Path) -> int | None:
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    if not soffice or not shutil.which("pdftotext"):
        return None
    subprocess.run([soffice, "--headless", f"-env:UserInstallation={(tmp / 'lo').as_uri()}", "--convert-to", "pdf",
                    "--outdir", str(tmp), str(docx)], capture_output=True, timeout=300, check=False)
    text = subprocess.run(["pdftotext", str(tmp / (docx.stem + ".pdf")), "-"], capture_output=True, text=True,
                          timeout=120).stdout
    return len(text.rstrip("\f").split("\f"))


# ---------------------------------------------------------------------------------------------
# the demo (the built report, both languages)
# ---------------------------------------------------------------------------------------------

ARTICLE = {"id": "artikel.docx", "en": "article.docx"}


@pytest.mark.parametrize("report_lang", ["id", "en"])
def test_every_build_writes_both_articles(built, report_lang):
    """Whatever the report's language, the build writes the Indonesian and the English article,
    each in its own language: headings, abstracts' order, captions, decimal separator."""
    folder = built[report_lang][2].parent
    for lang, name in ARTICLE.items():
        doc = _doc(folder / name)
        heads = [p.text for p in doc.paragraphs if p.style.name == "Heading 1"]
        assert heads == HEADINGS[lang], (report_lang, name, heads)
        caps = [p.text for p in doc.paragraphs if re.fullmatch(r"(Tabel|Table|Gambar|Figure) \d+", p.text)]
        assert caps and all(c.split()[0] in ({"Tabel", "Gambar"} if lang == "id" else {"Table", "Figure"})
                            for c in caps), caps
        cells = _cells(doc)
        decimals = [c for c in cells if re.fullmatch(r"\d+[.,]\d+", c)]
        sep = "," if lang == "id" else "."
        assert decimals and all(sep in c for c in decimals), (name, decimals)
        assert _abstracts(doc)["Abstrak" if lang == "id" else "Abstract"]  # both abstracts, own language first
        first = next(p.text for p in doc.paragraphs if p.text in ("Abstrak", "Abstract"))
        assert first == "Abstrak"


def test_second_language_figures_are_that_languages(built):
    """The English article of an Indonesian report carries the English report's figures (drawn
    with English labels and decimal points), byte for byte — not the Indonesian pictures."""
    from docx import Document as Docx

    def pictures(path):
        doc = Docx(str(path))
        return [doc.part.related_parts[b._inline.graphic.graphicData.pic.blipFill.blip.embed].blob for b in doc.inline_shapes]

    id_folder, en_folder = built["id"][2].parent, built["en"][2].parent
    for lang, name in ARTICLE.items():
        own = pictures((id_folder if lang == "id" else en_folder) / name)  # drawn by that language's report
        other = pictures((en_folder if lang == "id" else id_folder) / name)  # drawn for the second article
        assert own == other, name
    assert pictures(id_folder / "artikel.docx") != pictures(id_folder / "article.docx")
    report_pngs = {p.read_bytes() for p in (en_folder / "figures").glob("*.png")}
    assert set(pictures(id_folder / "article.docx")) <= report_pngs


@pytest.mark.parametrize("lang", ["id", "en"])
def test_demo_article_structure_and_numbers(built, lang):
    root, study, html = built[lang]
    path = built["en" if lang == "id" else "id"][2].parent / ARTICLE[lang]  # made beside the other report
    assert path.exists(), sorted(p.name for p in html.parent.iterdir())
    report_cells = report_document(html.read_text(encoding="utf-8")).cells
    doc = _check_article(path, lang, study, rules=_rules(study, lang), report_cells=report_cells)
    # 3–5 tables and 2–3 figures, each table's number cells printed in the report's tables too
    assert 3 <= len(doc.tables) <= 5
    assert 2 <= len(doc.inline_shapes) <= 3
    assert _cells(doc) <= report_cells, _cells(doc) - report_cells
    # tables are three-line APA tables: numbers right-aligned (on their separator), no table style grid
    for t in doc.tables:
        assert t.style is None or "Grid" not in t.style.name
        last = t.rows[-1].cells[-1].paragraphs[0]
        if numbers(last.text):
            assert last.alignment is not None and last.alignment.name == "RIGHT"
    # d_z as an italic d with a subscript z, never with its underscore
    full = "\n".join(p.text for p in doc.paragraphs) + "".join(c.text for t in doc.tables for r in t.rows
                                                                for c in r.cells)
    assert "d_z" not in full and "dz" in full
    subs = [r for t in doc.tables for c in t.rows[0].cells for r in c.paragraphs[0].runs if r.font.subscript]
    assert subs and all(r.text == "z" for r in subs)
    # the program's stages (report.stages) in Metode Pelaksanaan, no marked place for them
    method = _section_text(doc, HEADINGS[lang][1])
    for name, _, _ in study.stages_in(lang):
        assert name in method
    assert TODO[lang] + (" tahapan" if lang == "id" else " the program's stages") not in full
    # references: exactly the works cited in the text, at least the 10 journals ask for
    listed, cited = _references(doc, lang)
    assert listed == cited and len(listed) >= 10, (sorted(listed ^ cited), len(listed))
    # "not yet certain" where the CI includes 0 — the report's own sentence for each such finding
    text = "\n".join(p.text for p in doc.paragraphs)
    unsure = "belum dapat dipastikan" if lang == "id" else "not yet certain"
    assert unsure in text
    # the identity block: team, institution, program, year from the report: keys
    for value in (study.report.team, study.institution_name(lang), study.program_name(lang), str(study.report.year)):
        assert value and value in text
    # the references: APA 7 entries for what the text cites (Holm's correction, at least)
    assert "Holm, S. (1979)" in text


def _section_text(doc, heading: str) -> str:
    """The text of the paragraphs under the Heading 1 ``heading`` (to the next one)."""
    out, inside = [], False
    for p in doc.paragraphs:
        if p.style.name == "Heading 1":
            inside = p.text == heading
        elif inside:
            out.append(p.text)
    return "\n".join(out)


def _references(doc, lang: str) -> tuple[set[str], set[str]]:
    """(keys of the reference list's entries, keys of the works cited in the text and tables
    before it); every entry is one registry work in APA form, every "(Name, 1999)" a registry work."""
    from pipeline.report import bibliography as bib

    refs = [line for line in _section_text(doc, HEADINGS[lang][-1]).splitlines() if line.strip()]
    end = next(i for i, p in enumerate(doc.paragraphs) if p.style.name == "Heading 1" and p.text == HEADINGS[lang][-1])
    before = "\n".join(p.text for p in doc.paragraphs[:end]) + "\n" + "\n".join(
        c.text for t in doc.tables for r in t.rows for c in r.cells)
    listed = set()
    for entry in refs:
        keys = [k for k in bib.REFERENCES if entry.startswith("".join(t for t, _ in bib.entry_runs(k, lang)))]
        assert len(keys) == 1, (entry, keys)
        listed.add(keys[0])
    for m in re.finditer(r"\(([A-Z][^()]*?, \d{4}[a-z]?(?:; [A-Z][^()]*?, \d{4}[a-z]?)*)\)", before):
        for one in m.group(1).split("; "):
            assert any(one == f"{bib.in_text_names(k, lang)}, {bib.YEARS[k]}" for k in bib.REFERENCES), one
    return listed, set(bib.cited_keys(before, lang))


@pytest.mark.parametrize("lang", ["id", "en"])
def test_demo_article_pages(built, tmp_path, lang):
    root, study, html = built["id"]
    pages = _page_count(html.parent / ARTICLE[lang], tmp_path)
    if pages is None:
        pytest.skip("LibreOffice or pdftotext is not installed")
    assert 8 <= pages <= 15, pages


# ---------------------------------------------------------------------------------------------
# studies that are not the demo: a tables study without networks, a one-wave study
# ---------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def public_articles(tmp_path_factory) -> dict:
    from pipeline.cli import main
    from pipeline.config import load_study
    from pipeline.report.article import article_name, assemble_article
    from pipeline.report.article_docx import write_article
    from pipeline.report.build import assemble
    from pipeline.report.html import render_html

    root = tmp_path_factory.mktemp("article-public")
    out = {}
    with contextlib.chdir(root):
        for name in ("caffeine", "bfi"):
            folder = root / name
            shutil.copytree(PUBLIC / name, folder)
            text = (folder / "study.yaml").read_text(encoding="utf-8")
            text = re.sub(r"(?m)^instrument:.*$", f"instrument: {ROOT / 'instruments' / 'sinergi.yaml'}", text)
            (folder / "study.yaml").write_text(text, encoding="utf-8")
            for stage in ("pull", "tidy", "scales", "network", "prepost", "invariance", "coverage"):
                args = [stage, "--study", str(folder / "study.yaml")] + (
                    ["--local-only", "--quiet"] if stage == "pull" else [])
                assert main(args) == 0, f"{name}: sinergi {stage} failed"
            study = load_study(str(folder / "study.yaml"))
            lang = "id"
            ctx, sections = assemble(study, lang)
            art = assemble_article(ctx, sections)
            path = write_article(root / name / article_name(lang), art)
            out[name] = (study, art, path, report_document(render_html(ctx, sections)).cells)
    return out


def test_tables_study_without_networks(public_articles):
    study, art, path, cells = public_articles["caffeine"]
    doc = _check_article(path, "id", study, rules=_rules(study, "id"), report_cells=cells)
    assert _cells(doc) <= cells
    assert 3 <= len(doc.tables) <= 5
    text = "\n".join(p.text for p in doc.paragraphs)
    assert not re.search(r"UMKM|\bdesa\b|pendatang", text)  # its own framing, not the demo's
    assert "sebelum dan sesudah" in text and "sebab-akibat" in text  # the design and its limit
    assert not any(b.kind == "figure" and "sociogram" in b.figure.key for s in art.sections for b in s.blocks)


def test_one_wave_study_reports_a_baseline(public_articles):
    study, art, path, cells = public_articles["bfi"]
    doc = _check_article(path, "id", study, rules=_rules(study, "id"), report_cells=cells, min_words=60)
    text = "\n".join(p.text for p in doc.paragraphs)
    assert "satu putaran survei" in text and "kondisi awal" in text
    assert "meningkat signifikan" not in text


# ---------------------------------------------------------------------------------------------
# numbers aligned on the decimal separator, as LibreOffice prints them
# ---------------------------------------------------------------------------------------------

def _pdf(docx: Path, tmp: Path) -> Path | None:
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    if not soffice or not shutil.which("pdftotext") or not shutil.which("fc-match"):
        return None
    subprocess.run([soffice, "--headless", f"-env:UserInstallation={(tmp / 'lo').as_uri()}", "--convert-to", "pdf",
                    "--outdir", str(tmp), str(docx)], capture_output=True, timeout=300, check=False)
    return tmp / (docx.stem + ".pdf")


def _words(pdf: Path, heights: bool = False) -> list[tuple]:
    """(page, xMin, xMax, yMin, text) of every word ``pdftotext -bbox`` finds (and its box's height)."""
    import html as htmlmod

    out, page = [], 0
    text = subprocess.run(["pdftotext", "-bbox", str(pdf), "-"], capture_output=True, text=True, timeout=120).stdout
    for line in text.splitlines():
        if "<page " in line:
            page += 1
        m = re.search(r'xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">(.*)</word>', line)
        if m:
            word = (page, float(m[1]), float(m[3]), float(m[2]), htmlmod.unescape(m[5]))
            out.append(word + (float(m[4]) - float(m[2]),) if heights else word)
    return out


def _advance(text: str, size: float) -> float:
    """The width of ``text`` at ``size`` pt in the font LibreOffice prints Times New Roman with
    (its own metrics, read with fontTools, not the table the writer uses)."""
    from fontTools.ttLib import TTFont

    path = subprocess.run(["fc-match", "-f", "%{file}", "Times New Roman"], capture_output=True, text=True).stdout
    font = TTFont(path)
    cmap, hmtx, upem = font.getBestCmap(), font["hmtx"], font["head"].unitsPerEm
    return sum(hmtx[cmap[ord(c)]][0] for c in text) * size / upem


def _separator_x(word: str, x_max: float, lang: str) -> float | None:
    """Where the decimal separator of the printed number ``word`` begins (an integer or a dash: where
    it ends), from the word's right edge; None when ``word`` is not a number."""
    from pipeline.report.article_docx import TABLE_PT
    from pipeline.report.decimal_align import DASHES, split_number

    if word in DASHES:
        return x_max
    split = split_number(word, lang)
    return None if split is None else x_max - _advance(split[1], TABLE_PT)


def test_decimal_separators_share_one_x_in_libreoffice(tmp_path):
    """A column mixing decimals (3,27; 12,5; 0,098), an integer, a dash, "< 0,001" and a thousands
    dot prints every separator at one x (± 1 pt) although the right edges differ by digits; a CI
    column stays right-aligned."""
    import pandas as pd

    from pipeline.report.article import Article
    from pipeline.report.article_docx import write_article
    from pipeline.report.model import Block, Section, Table

    values = ["3,27", "12,5", "119", "–", "< 0,001", "1.234,56", "0,098"]
    cis = ["[0,12; 0,45]", "[0,07; 0,53]", "[1,20; 12,84]", "[0,10; 0,20]", "[0,01; 0,02]", "[0,33; 0,90]", "[0,21; 0,58]"]
    display = pd.DataFrame({"Baris": [f"baris {c}" for c in "abcdefg"], "Nilai": values, "IK 95%": cis})
    table = Table("t", "Uji", display, display, ["l", "r", "r"], number=1)
    art = Article("id", "Judul", [], [], [Section("results", 0, "Hasil", [Block("table", table=table)])])
    pdf = _pdf(write_article(tmp_path / "t.docx", art), tmp_path)
    if pdf is None:
        pytest.skip("LibreOffice, pdftotext or fc-match is not installed")
    words = _words(pdf)
    mine = {v.split()[-1] for v in values}
    xs = [(w[4], _separator_x(w[4], w[2], "id"), w[2]) for w in words if w[4] in mine]
    assert len(xs) == len(values), xs
    seps = [x for _, x, _ in xs]
    assert max(seps) - min(seps) <= 1.0, xs
    assert max(e for *_, e in xs) - min(e for *_, e in xs) > 10, xs  # not merely right-aligned
    ends = [w[2] for w in words if w[4].endswith("]")]
    assert len(ends) == 7 and max(ends) - min(ends) <= 1.0, ends  # the CI column: right-aligned


@pytest.mark.parametrize("lang", ["id", "en"])
def test_demo_article_columns_align_on_the_separator(built, tmp_path, lang):
    """In the demo article as LibreOffice prints it, the decimal separators of the numbers in the
    tables fall into columns: in each table (the words under its caption on a page), any two
    separators are within 1 pt of each other or at least a column apart (no number shifted by a
    digit). Table words are those of the table font size (10 pt: a box under 14 pt high, the text's
    12 pt gives 15,6) that are cells of a table."""
    path = built["id"][2].parent / ARTICLE[lang]
    pdf = _pdf(path, tmp_path)
    if pdf is None:
        pytest.skip("LibreOffice, pdftotext or fc-match is not installed")
    sep = "," if lang == "id" else "."
    cells = {w for t in _doc(path).tables for r in t.rows[1:] for c in r.cells for w in c.text.split()}
    words = _words(pdf, heights=True)
    captions = [(page, y) for page, x_min, _, y, word, _ in words if word in ("Tabel", "Table") and x_min < 80]
    tables: dict[tuple, list[float]] = {}
    for page, _, x_max, y_min, word, height in words:
        if re.fullmatch(rf"\d+\{sep}\d+", word) and word in cells and height < 14:
            above = [y for p, y in captions if p == page and y < y_min]
            tables.setdefault((page, max(above, default=0.0)), []).append(_separator_x(word, x_max, lang))
    assert len(tables) >= 3 and sum(len(v) for v in tables.values()) > 50, tables
    for where, xs in tables.items():
        xs = sorted(xs)
        gaps = [b - a for a, b in zip(xs, xs[1:])]
        assert all(g <= 1.0 or g >= 20 for g in gaps), (where, [round(x, 1) for x in xs])
