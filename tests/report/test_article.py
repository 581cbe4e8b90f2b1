"""The journal article draft (issue 22): ``artikel.docx`` / ``article.docx`` read back as its
reader opens it — python-docx for its structure, word counts, tables and placeholders, and
LibreOffice (docx → PDF → pdftotext) for its page count — on the demo, a tables study without
networks (``caffeine``) and a one-wave study (``bfi``)."""

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

@pytest.mark.parametrize("lang", ["id", "en"])
def test_demo_article_structure_and_numbers(built, lang):
    root, study, html = built[lang]
    path = html.parent / ("artikel.docx" if lang == "id" else "article.docx")
    assert path.exists(), sorted(p.name for p in html.parent.iterdir())
    report_cells = report_document(html.read_text(encoding="utf-8")).cells
    doc = _check_article(path, lang, study, rules=_rules(study, lang), report_cells=report_cells)
    # 3–5 tables and 2–3 figures, each table's number cells printed in the report's tables too
    assert 3 <= len(doc.tables) <= 5
    assert 2 <= len(doc.inline_shapes) <= 3
    assert _cells(doc) <= report_cells, _cells(doc) - report_cells
    # tables are three-line APA tables: numbers right-aligned, no table style grid
    for t in doc.tables:
        assert t.style is None or "Grid" not in t.style.name
        last = t.rows[-1].cells[-1].paragraphs[0]
        if numbers(last.text):
            assert last.alignment is not None and last.alignment.name == "RIGHT"
    # "not yet certain" where the CI includes 0 — the report's own sentence for each such finding
    text = "\n".join(p.text for p in doc.paragraphs)
    unsure = "belum dapat dipastikan" if lang == "id" else "not yet certain"
    assert unsure in text
    # the identity block: team, institution, program, year from the report: keys
    for value in (study.report.team, study.institution_name(lang), study.program_name(lang), str(study.report.year)):
        assert value and value in text
    # the references: APA 7 entries for what the text cites (Holm's correction, at least)
    assert "Holm, S. (1979)" in text


def test_demo_article_pages(built, tmp_path):
    root, study, html = built["id"]
    pages = _page_count(html.parent / "artikel.docx", tmp_path)
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
