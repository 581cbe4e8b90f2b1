"""Render the report model to a Word document (``report.docx``): the second renderer of the same
:class:`~pipeline.report.model.Section` list the HTML page draws.

A4 pages, the document language set (id-ID / en-GB), page numbers, a table of contents and lists of
tables and figures (fields Word updates on opening), captions numbered with SEQ fields and kept with
their tables, every table complete (tables longer than :data:`LONG_TABLE_ROWS` rows go to an appendix),
columns sized to their content at no less than :data:`MIN_FONT_PT`, and wide tables turned to landscape
or split into parts that repeat their label columns. The document's dates are ``when`` (the raw
data's time), so reruns give the same bytes.
"""

from __future__ import annotations

import io
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..io import EPOCH, stable_ooxml, write_bytes
from .text import s

__all__ = ["write_docx", "column_widths"]

#: page geometry (A4, cm) and table typography of the Word report
A4 = (21.0, 29.7)
MARGIN = 2.0
MIN_FONT_PT = 8.0
LONG_TABLE_ROWS = 40  # longer tables go, complete, to the appendix
_CHAR_CM = 0.18  # average width of a character at MIN_FONT_PT (Calibri), padding included below
_PAD_CM = 0.25
LANG_TAGS = {"id": "id-ID", "en": "en-GB"}


def column_widths(display: pd.DataFrame) -> list[float]:
    """Each column's width in cm at :data:`MIN_FONT_PT`: wide enough for its longest value and
    its header's longest word (a header wraps between words, a number never breaks)."""
    out = []
    for j, col in enumerate(display.columns):
        values = display.iloc[:, j].astype(str)
        longest_cell = int(values.str.len().max()) if len(values) else 0
        words = str(col).split()
        longest_word = max((len(w) for w in words), default=1)
        # long text cells may wrap too: cap their share, but never below the longest word in them
        if longest_cell > 40:
            cell_words = max((len(w) for v in values for w in v.split()), default=1)
            longest_cell = max(cell_words, 28)
        out.append(max(longest_cell, longest_word, 3) * _CHAR_CM + _PAD_CM)
    return out


def _column_parts(widths: list[float], usable: float, keys: int = 1) -> list[list[int]]:
    """Column groups of about equal width that each fit ``usable`` cm; every group repeats the
    first ``keys`` (label) columns so each part reads on its own."""
    if sum(widths) <= usable or len(widths) <= keys + 1:
        return [list(range(len(widths)))]
    head = list(range(keys))
    rest = list(range(keys, len(widths)))
    room = usable - sum(widths[:keys])
    n = max(1, int(np.ceil(sum(widths[keys:]) / max(room, 1e-9))))
    target = sum(widths[keys:]) / n
    parts, cur, used = [], [], 0.0
    for j in rest:
        if cur and (used + widths[j] > room or (used >= target and len(parts) < n - 1)):
            parts.append(head + cur)
            cur, used = [], 0.0
        cur.append(j)
        used += widths[j]
    parts.append(head + cur)
    return parts


def _field(paragraph, instr: str, shown: str = "") -> None:
    """A complex field (``instr``) with ``shown`` as its current result."""
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    def run_with(child):
        r = OxmlElement("w:r")
        r.append(child)
        paragraph._p.append(r)
        return r

    begin = OxmlElement("w:fldChar")
    begin.set(qn("w:fldCharType"), "begin")
    begin.set(qn("w:dirty"), "true")  # Word refreshes it when the file is opened
    run_with(begin)
    text = OxmlElement("w:instrText")
    text.set(qn("xml:space"), "preserve")
    text.text = f" {instr} "
    run_with(text)
    sep = OxmlElement("w:fldChar")
    sep.set(qn("w:fldCharType"), "separate")
    run_with(sep)
    t = OxmlElement("w:t")
    t.set(qn("xml:space"), "preserve")
    t.text = shown
    run_with(t)
    end = OxmlElement("w:fldChar")
    end.set(qn("w:fldCharType"), "end")
    run_with(end)


def _caption(doc, label: str, number: int, title: str, *, keep_with_next: bool):
    """A Word caption: ``<label> <SEQ field>. <title>`` in the Caption style, so Word's
    *Insert Table of Figures* (Daftar Tabel / Daftar Gambar) finds it. The SEQ field is reset to
    the report's own number (``\\r``), so a table placed in the appendix keeps its number."""
    p = doc.add_paragraph(style="Caption")
    p.add_run(f"{label} ")
    _field(p, f"SEQ {label} \\r {number} \\* ARABIC", str(number))
    p.add_run(f". {title}")
    p.paragraph_format.keep_with_next = keep_with_next
    return p


def _set_cell_width(cell, cm: float) -> None:
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn
    from docx.shared import Cm

    cell.width = Cm(cm)
    tcPr = cell._tc.get_or_add_tcPr()
    w = tcPr.find(qn("w:tcW"))
    if w is None:
        w = OxmlElement("w:tcW")
        tcPr.append(w)
    w.set(qn("w:w"), str(int(cm * 567)))
    w.set(qn("w:type"), "dxa")


def _table(doc, display: pd.DataFrame, cols: list[int], widths: list[float], align: list[str]) -> Any:
    """The rows of ``display`` (columns ``cols``) as a Word table: fixed column widths, the header
    row repeated on every page, rows never split across pages, :data:`MIN_FONT_PT` text."""
    from docx.enum.table import WD_TABLE_ALIGNMENT
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn
    from docx.shared import Pt

    table = doc.add_table(rows=1, cols=len(cols))
    table.style = "Light Grid Accent 1"
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    table.autofit = False
    tblPr = table._tbl.tblPr
    layout = OxmlElement("w:tblLayout")
    layout.set(qn("w:type"), "fixed")
    tblPr.append(layout)
    header = [str(display.columns[j]) for j in cols]
    rows = [[str(row[j]) for j in cols] for row in display.itertuples(index=False)]
    for k, text in enumerate(header):
        table.rows[0].cells[k].text = text
    trPr = table.rows[0]._tr.get_or_add_trPr()
    rep = OxmlElement("w:tblHeader")
    rep.set(qn("w:val"), "true")
    trPr.append(rep)
    for values in rows:
        cells = table.add_row().cells
        for k, v in enumerate(values):
            cells[k].text = v
    for row in table.rows:
        cant = OxmlElement("w:cantSplit")
        cant.set(qn("w:val"), "true")
        row._tr.get_or_add_trPr().append(cant)
        for k, cell in enumerate(row.cells):
            _set_cell_width(cell, widths[cols[k]])
            for par in cell.paragraphs:
                if align[cols[k]] == "r":
                    par.alignment = WD_ALIGN_PARAGRAPH.RIGHT
                for run in par.runs:
                    run.font.size = Pt(MIN_FONT_PT)
    return table


def _references(doc, entries: list[Any]) -> None:
    """The reference list: one paragraph per entry with a hanging indent (APA 7), italics as
    runs, the DOI link as text."""
    from docx.shared import Cm

    for entry in entries:
        p = doc.add_paragraph()
        p.paragraph_format.left_indent = Cm(1.27)
        p.paragraph_format.first_line_indent = Cm(-1.27)
        for text, italic in entry.runs:
            p.add_run(text).italic = bool(italic)
        if entry.url:
            p.add_run(f" {entry.url}")


def _new_section(doc, landscape: bool) -> None:
    from docx.enum.section import WD_ORIENT, WD_SECTION
    from docx.shared import Cm

    cur = doc.sections[-1]
    want = WD_ORIENT.LANDSCAPE if landscape else WD_ORIENT.PORTRAIT
    if cur.orientation == want:
        return
    sec = doc.add_section(WD_SECTION.NEW_PAGE)
    w, h = (A4[1], A4[0]) if landscape else A4
    sec.orientation, sec.page_width, sec.page_height = want, Cm(w), Cm(h)
    for side in ("left_margin", "right_margin", "top_margin", "bottom_margin"):
        setattr(sec, side, Cm(MARGIN))


CORE_PROPERTY_MAX = 255
"""Longest text a Word core property (title, subject) may hold (python-docx refuses longer)."""


def _property(text: str) -> str:
    """``text`` as a core property: cut to :data:`CORE_PROPERTY_MAX` characters with "…" (the
    document's own title page keeps the whole title)."""
    return text if len(text) <= CORE_PROPERTY_MAX else text[:CORE_PROPERTY_MAX - 1].rstrip() + "…"


def _usable(landscape: bool) -> float:
    return (A4[1] if landscape else A4[0]) - 2 * MARGIN


def write_docx(path: Path, *, title: str, subtitle: str, sections: list[Any], lang: str,
               when: datetime = EPOCH) -> Path:
    """The report as a Word document a PKM team hands in and a journal draft starts from.

    - A4 pages, 2 cm margins, the document language ``id-ID`` (``en-GB`` for English), page
      numbers in the footer (PAGE field);
    - a table of contents, a list of tables and a list of figures (TOC fields Word fills on
      opening; LibreOffice: *Tools → Update*);
    - captions as Word captions (Caption style with a SEQ field), kept with their table;
    - every table complete: columns sized to their content at :data:`MIN_FONT_PT` (never smaller),
      the header row repeated on each page, rows never split; a table wider than a portrait page
      goes on a landscape page, one wider than that is split into column groups that repeat the
      first column; a table of more than :data:`LONG_TABLE_ROWS` rows goes, complete, to the
      appendix, with a line in its place.

    Dated ``when`` (properties and zip entries), so reruns give the same bytes.
    """
    from docx import Document
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn
    from docx.shared import Cm, Pt

    doc = Document()
    core = doc.core_properties
    core.title = _property(title)
    core.author = "sinergi"
    core.language = LANG_TAGS.get(lang, lang)
    sec0 = doc.sections[0]
    sec0.page_width, sec0.page_height = Cm(A4[0]), Cm(A4[1])
    for side in ("left_margin", "right_margin", "top_margin", "bottom_margin"):
        setattr(sec0, side, Cm(MARGIN))
    style = doc.styles["Normal"]
    style.font.name = "Calibri"
    style.font.size = Pt(10)
    # the document language (spelling, hyphenation) on the defaults every style inherits
    rpr = doc.styles.element.find(qn("w:docDefaults")).find(qn("w:rPrDefault")).find(qn("w:rPr"))
    lang_el = rpr.find(qn("w:lang"))
    if lang_el is None:
        lang_el = OxmlElement("w:lang")
        rpr.append(lang_el)
    for attr in ("w:val", "w:eastAsia", "w:bidi"):
        lang_el.set(qn(attr), LANG_TAGS.get(lang, lang))
    footer = sec0.footer.paragraphs[0]
    footer.add_run(f"{s(lang, 'docx_page')} ")
    _field(footer, "PAGE", "1")

    doc.add_heading(title, level=0)
    doc.add_paragraph(subtitle)
    for key, instr in (("docx_toc", 'TOC \\o "1-2" \\h \\z \\u'),
                       ("docx_tables", f'TOC \\h \\z \\c "{s(lang, "table")}"'),
                       ("docx_figures", f'TOC \\h \\z \\c "{s(lang, "figure")}"')):
        doc.add_paragraph(s(lang, key), style="TOC Heading" if "TOC Heading" in doc.styles else None).runs[0].bold = True
        _field(doc.add_paragraph(), instr, s(lang, "docx_fields"))
    appendix = []

    def wide(t) -> bool:
        return sum(column_widths(t.display)) > _usable(False)

    def put_table(t) -> None:
        widths = column_widths(t.display)
        landscape = wide(t)
        _new_section(doc, landscape)
        keys = 0
        while keys < min(3, len(t.align) - 1) and t.align[keys] != "r":
            keys += 1
        parts = _column_parts(widths, _usable(landscape), max(keys, 1))
        for i, cols in enumerate(parts):
            if i == 0:
                _caption(doc, s(lang, "table"), t.number, t.title, keep_with_next=True)
            else:
                lead = max(keys, 1)
                p = doc.add_paragraph(f"{s(lang, 'table')} {t.number} (" + s(
                    lang, "docx_continued", first=cols[lead] + 1, last=cols[-1] + 1, total=len(widths)) + ")")
                p.paragraph_format.keep_with_next = True
            table = _table(doc, t.display, cols, widths, t.align)
            if t.note:  # the note stays on the page of the table's last row
                for cell in table.rows[-1].cells:
                    for par in cell.paragraphs:
                        par.paragraph_format.keep_with_next = True
        if t.note:
            doc.add_paragraph(t.note).runs[0].italic = True

    def landscape_at(blocks, i) -> bool:
        """Text goes on portrait pages, wide tables on landscape ones; a subheading just before a
        wide table goes with it, and so does a note just after one."""
        b = blocks[i]
        if b.kind == "table":
            return len(b.table.display) <= LONG_TABLE_ROWS and wide(b.table)
        if b.kind == "h3" and i + 1 < len(blocks) and blocks[i + 1].kind == "table":
            return landscape_at(blocks, i + 1)
        if b.kind in ("note", "unavailable") and i > 0 and blocks[i - 1].kind == "table":
            return landscape_at(blocks, i - 1)
        return False

    for sec in sections:
        first = landscape_at(sec.blocks, 0) and sec.blocks[0].kind == "h3" if sec.blocks else False
        _new_section(doc, first)
        doc.add_heading(f"{sec.number}. {sec.title}", level=1)
        for i, block in enumerate(sec.blocks):
            kind = block.kind
            if kind != "table":
                _new_section(doc, landscape_at(sec.blocks, i))
            if kind == "h3":
                doc.add_heading(block.text, level=2)
            elif kind in ("p", "note", "unavailable"):
                p = doc.add_paragraph(block.text)
                if kind != "p" and p.runs:
                    p.runs[0].italic = True
            elif kind == "list":
                for item in block.items:
                    doc.add_paragraph(getattr(item, "text", item), style="List Bullet")
            elif kind == "refs":
                _references(doc, block.items)
            elif kind == "table":
                t = block.table
                if len(t.display) > LONG_TABLE_ROWS:
                    appendix.append(t)
                    doc.add_paragraph(s(lang, "docx_in_appendix", table=s(lang, "table"), number=t.number,
                                        title=t.title, rows=len(t.display))).runs[0].italic = True
                else:
                    put_table(t)
            elif kind == "figure":
                f = block.figure
                pic = doc.add_paragraph()
                pic.add_run().add_picture(io.BytesIO(f.png), width=Cm(_usable(False)))
                pic.paragraph_format.keep_with_next = True
                _caption(doc, s(lang, "figure"), f.number, f.caption, keep_with_next=False)
    if appendix:
        doc.add_page_break()
        doc.add_heading(s(lang, "docx_appendix"), level=1)
        for t in appendix:
            put_table(t)
    buf = io.BytesIO()
    doc.save(buf)
    write_bytes(path, stable_ooxml(buf.getvalue(), when))
    return path
