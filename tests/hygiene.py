"""Checks of a written report folder a reader would make (used by tests/report/test_hygiene.py on the
public fixtures and by tests/report/test_report.py on the demo).

* **No analyst instructions, no foreign words**: no backtick, no make command, no study-file key, no
  "study file" in any text of report.html, report.docx (python-docx: paragraphs and table cells) and
  the sheet names of tables/tables.xlsx; in an Indonesian report, no English variable name of the
  instrument (``trust``, ``norms``, ``joint_purchasing``, the tie types ``info``/``help``/``collab``)
  in a sentence (table cells may name an item by its code).
* **References**: every author–year citation printed in a sentence is an entry of the reference list,
  and every entry is cited; the list is in the HTML page and the Word document alike.
"""

from __future__ import annotations

import html as htmlmod
import re
from functools import lru_cache
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

#: a make command a reader cannot run (the targets of the Makefile)
MAKE = re.compile(r"\bmake\s+(report|test|pull|plan|tidy|scales|network|prepost|district|did|invariance|coverage|"
                  r"monitor|instruments|clean|help|venv|lock)\b|\bjalankan\b", re.I)
#: keys of the study file (snake_case ones cannot be ordinary words) and phrases about the file
STUDY_KEYS = re.compile(r"\b(tie_types|show_names|keep_columns|min_share|network_files|ri_draws|min_coverage|"
                        r"villages_program|villages_comparison|share_migrant|effect_scale|effect_cross_ties|"
                        r"response_rate|exclude_not_approved|approved_only|asset_uid|token_env|max_wait|"
                        r"min_minutes|straightline_min_items|nobody_median|group\.variable|group\.levels)\b|"
                        r"\bstudy (file|key)|berkas studi|\bkunci\s+(arms|plan)\b|README", re.I)
MONTHS = ("January February March April May June July August September October November December "
          "Januari Februari Maret Mei Juni Juli Agustus Oktober Desember").split()
#: an author–year citation in any style: Holm, 1979 / Holm (1979) / Krackhardt & Stern, 1988 / Maryam dkk. 2026
CITATION = re.compile(r"\b([A-Z][\w'’-]+)(?: (?:&|and|dan) [A-Z][\w'’-]+| (?:et al\.|dkk\.))?,? \(?"
                      r"((?:1[89]|20)\d\d)[a-z]?\b(?!\d)")


@lru_cache(maxsize=1)
def english_variable_names() -> frozenset[str]:
    """The instrument's variable names: every ``var`` and ``tie_type``, the scale dimensions and
    subscales (``trust``, ``norms``, ``outgroup``, ``joint_purchasing``, ``info`` …)."""
    from pipeline.instrument import load_instrument, scale_map

    inst = load_instrument(ROOT / "instruments" / "sinergi.yaml")
    names = {str(q.get("var")) for q in inst.questions if q.get("var")}
    names |= {str(q.get("tie_type")) for q in inst.questions if q.get("tie_type")}
    sm = scale_map(inst)
    names |= set(sm["dimension"].astype(str)) | set(sm["subscale"].astype(str))
    return frozenset(n for n in names if n and n != "None")


def _html_parts(page: str) -> tuple[str, str, str]:
    """(prose, table cells, reference list) of report.html as plain text."""
    page = re.sub(r"<(script|style|svg)\b.*?</\1>", " ", page, flags=re.S)
    refs = " ".join(re.findall(r'<ul class="references">(.*?)</ul>', page, flags=re.S))
    cells = " \n".join(re.findall(r"<td\b[^>]*>(.*?)</td>", page, flags=re.S))
    prose = re.sub(r"<td\b[^>]*>.*?</td>", " ", page, flags=re.S)
    prose = re.sub(r'<ul class="references">.*?</ul>', " ", prose, flags=re.S)

    def text(fragment: str) -> str:
        return re.sub(r"\s+", " ", htmlmod.unescape(re.sub(r"<[^>]+>", " ", fragment)))

    return text(prose), text(cells), text(refs)


def _docx_parts(path: Path) -> tuple[list[str], list[str]]:
    """(paragraph texts, table cell texts) of a Word document."""
    import docx

    doc = docx.Document(str(path))
    cells = [c.text for t in doc.tables for row in t.rows for c in row.cells]
    return [p.text for p in doc.paragraphs], cells


def study_texts(study) -> list[str]:
    """The study file's own texts (title, site, wave and group labels): the user's words, not the report's."""
    out = [str(study.title), str(study.site)]
    for lang in ("id", "en"):
        out += [study.wave_label(w.id, lang) for w in study.waves]
        out += [study.group_label(lvl.value, lang) for lvl in study.group.levels]
    return sorted({t for t in out if t}, key=len, reverse=True)


def without(text: str, parts: list[str]) -> str:
    for part in parts:
        text = text.replace(part, " ")
    return text


def hygiene_problems(texts: dict[str, str], lang: str, prose: set[str]) -> list[str]:
    """Every instruction, study key and (in Indonesian prose) English variable name in ``texts``
    (where → text); ``prose`` names the texts that are sentences rather than table cells."""
    out = []
    names = english_variable_names()
    for where, text in texts.items():
        if "`" in text:
            out.append(f"{where}: a backtick: …{text[max(0, text.index('`') - 60):text.index('`') + 40]}…")
        for rx, what in ((MAKE, "a make command"), (STUDY_KEYS, "a study-file key")):
            m = rx.search(text)
            if m:
                out.append(f"{where}: {what} {m.group(0)!r}: …{text[max(0, m.start() - 60):m.end() + 40]}…")
        if lang == "id" and where in prose:
            for m in re.finditer(r"(?<![\w/.-])([a-z][a-z_]*[a-z])(?![\w/-])", text):
                if m.group(1) in names:
                    out.append(f"{where}: the variable name {m.group(1)!r} in Indonesian: "
                               f"…{text[max(0, m.start() - 60):m.end() + 40]}…")
                    break
    return out


def citations(prose: str) -> set[tuple[str, str]]:
    """(first author, year) of every author–year citation in ``prose`` (dates left out)."""
    return {(m.group(1), m.group(2)) for m in CITATION.finditer(prose) if m.group(1) not in MONTHS}


def listed(refs: str) -> set[tuple[str, str]]:
    """(first author, year) of every entry of a printed APA reference list."""
    return set(re.findall(r"(?:^|(?<=\s))([A-Z][\w'’-]+), (?:[A-Z]\.\s?)+[^()]*?\((\d{4})[a-z]?\)\.", refs))


def check_folder(folder: Path, study, lang: str) -> list[str]:
    """Every problem of the report in ``folder`` (report.html, report.docx, tables/tables.xlsx)."""
    import openpyxl

    problems = []
    prose, cells, refs = _html_parts((folder / "report.html").read_text(encoding="utf-8"))
    paragraphs, doc_cells = _docx_parts(folder / "report.docx")
    sheets = openpyxl.load_workbook(folder / "tables" / "tables.xlsx", read_only=True).sheetnames \
        if (folder / "tables" / "tables.xlsx").exists() else []
    own = study_texts(study)
    texts = {"report.html": without(prose, own), "report.html table cells": cells,
             "report.docx": without("\n".join(paragraphs), own), "report.docx table cells": "\n".join(doc_cells),
             "tables.xlsx sheet names": " | ".join(sheets)}
    problems += hygiene_problems(texts, lang, {"report.html", "report.docx"})
    cited, entries = citations(without(prose, own)), listed(refs)
    problems += [f"report.html: cites {a} {y}, which is not in the reference list" for a, y in sorted(cited - entries)]
    problems += [f"report.html: lists {a} {y}, which no sentence cites" for a, y in sorted(entries - cited)]
    title = {"id": "Daftar Pustaka", "en": "References"}[lang]
    heads = [p for p in paragraphs if p.endswith(f". {title}")]
    if entries and not heads:
        problems.append(f"report.docx: no '{title}' heading")
    elif heads:
        start = paragraphs.index(heads[0]) + 1
        end = next((i for i in range(start, len(paragraphs)) if re.match(r"\d+\. ", paragraphs[i])), len(paragraphs))
        in_word = listed("\n".join(paragraphs[start:end]))
        if in_word != entries:
            problems.append(f"report.docx: the reference list differs from the page's: {sorted(in_word ^ entries)}")
    return problems
