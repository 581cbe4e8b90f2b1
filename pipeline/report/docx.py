"""Render the report model to a Word document (``report.docx``): the second renderer of the same
:class:`~pipeline.report.model.Section` list the HTML page draws.

What a reader who opens it in Word or LibreOffice sees:

* a cover: the title, the kind of report, the program, the team, its institution, the village, the
  survey waves and the year (:class:`Cover`, from the study's ``report:`` keys);
* the contents and the lists of tables and figures **filled**: each a real Word ``TOC`` field (so
  Word's *Update Field* rebuilds it, and Word refreshes it when the file opens) whose stored result
  is written here, entry by entry — headings and captions are known when writing — with links and
  ``PAGEREF`` page numbers. LibreOffice shows a TOC field's stored result as it is, so the page
  numbers are those of a LibreOffice print of the document itself when ``paginate`` is asked and
  LibreOffice is installed (:func:`libreoffice_pages`); otherwise they are left for Word to fill;
* every section on a new page; A4, the document language set (id-ID / en-GB), page numbers;
* tables in the report's order and numbering, each complete where it is discussed: columns sized
  to their content at no less than :data:`MIN_FONT_PT`, the header row repeated on each page, rows
  never split; a table wider than a portrait page on landscape pages (one wider than that split
  into column parts that repeat its label columns, each part captioned); the short text between
  two landscape tables stays on landscape pages too, so no page holds a line or two
  (:func:`orientations`);
* captions as Word captions (Caption style with a SEQ field set to the report's number).

The document's dates are ``when`` (the raw data's time), so reruns give the same bytes.
"""

from __future__ import annotations

import io
import math
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..io import EPOCH, note, stable_ooxml, write_bytes
from .decimal_align import right_indents
from .text import s

__all__ = ["write_docx", "column_widths", "Cover", "Entry", "entries", "orientations", "libreoffice_pages",
           "write_references"]

#: page geometry (A4, cm) and table typography of the Word report
A4 = (21.0, 29.7)
MARGIN = 2.0
MIN_FONT_PT = 8.0
_CHAR_CM = 0.18  # average width of a character at MIN_FONT_PT (Calibri), padding included below
_PAD_CM = 0.25
LANG_TAGS = {"id": "id-ID", "en-GB": "en-GB", "en": "en-GB"}
#: a run of text shorter than this (cm on the page) between or after landscape tables stays landscape
SHORT_RUN_CM = 9.0
#: the tallest a figure may be drawn, portrait and landscape (cm): it stays on one page with its caption
FIGURE_MAX_CM = {False: 20.0, True: 13.0}


@dataclass
class Cover:
    """What the cover names (each line left out when not given)."""

    kicker: str = ""
    lines: list[tuple[str, str]] = field(default_factory=list)  # (label, value)


@dataclass
class Entry:
    """One line of the contents (``toc``, level 1 or 2), of the list of tables or of figures."""

    kind: str      # toc | table | figure
    level: int
    text: str
    mark: str      # the bookmark it links to (and whose page PAGEREF shows)


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


def _usable(landscape: bool) -> float:
    return (A4[1] if landscape else A4[0]) - 2 * MARGIN


def _wide(t: Any) -> bool:
    return sum(column_widths(t.display)) > _usable(False)


# ---------------------------------------------------------------------------------------------
# fields, bookmarks, links (raw WordprocessingML)
# ---------------------------------------------------------------------------------------------

def _el(tag: str, **attrs: str):
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    e = OxmlElement(tag)
    for k, v in attrs.items():
        e.set(qn(k), v)
    return e


def _run(parent, child):
    r = _el("w:r")
    r.append(child)
    parent.append(r)
    return r


def _text_run(parent, text: str):
    t = _el("w:t", **{"xml:space": "preserve"})
    t.text = text
    return _run(parent, t)


def _field_parts(parent, instr: str, shown: str = "", *, begin: bool = True, end: bool = True,
                 dirty: bool = False) -> None:
    """A complex field ``instr`` with ``shown`` as its current result, appended to ``parent`` (a
    paragraph or hyperlink element); ``begin``/``end`` False leave the field open or close one
    opened before (a TOC field spans its entry paragraphs)."""
    if begin:
        _run(parent, _el("w:fldChar", **({"w:fldCharType": "begin"} | ({"w:dirty": "true"} if dirty else {}))))
        t = _el("w:instrText", **{"xml:space": "preserve"})
        t.text = f" {instr} "
        _run(parent, t)
        _run(parent, _el("w:fldChar", **{"w:fldCharType": "separate"}))
        if shown:
            _text_run(parent, shown)
    if end:
        _run(parent, _el("w:fldChar", **{"w:fldCharType": "end"}))


def _field(paragraph, instr: str, shown: str = "") -> None:
    """A complex field (``instr``) with ``shown`` as its current result."""
    _field_parts(paragraph._p, instr, shown)


def _bookmark(paragraph, name: str, ident: int) -> None:
    """A bookmark ``name`` around the whole ``paragraph`` (what PAGEREF and a link point at)."""
    p = paragraph._p
    start = _el("w:bookmarkStart", **{"w:id": str(ident), "w:name": name})
    ppr = p.find("{http://schemas.openxmlformats.org/wordprocessingml/2006/main}pPr")
    p.insert(list(p).index(ppr) + 1 if ppr is not None else 0, start)
    p.append(_el("w:bookmarkEnd", **{"w:id": str(ident)}))


def _caption(doc, label: str, number: int, title: str, *, keep_with_next: bool, mark: str = "",
             ident: int = 0):
    """A Word caption: ``<label> <SEQ field>. <title>`` in the Caption style, so Word's
    *Insert Table of Figures* (Daftar Tabel / Daftar Gambar) finds it. The SEQ field is reset to
    the report's own number (``\\r``); ``mark`` bookmarks it for the lists' page numbers."""
    p = doc.add_paragraph(style="Caption")
    p.add_run(f"{label} ")
    _field(p, f"SEQ {label} \\r {number} \\* ARABIC", str(number))
    p.add_run(f". {title}")
    p.paragraph_format.keep_with_next = keep_with_next
    if mark:
        _bookmark(p, mark, ident)
    return p


# ---------------------------------------------------------------------------------------------
# the contents and the lists of tables and figures
# ---------------------------------------------------------------------------------------------

def entries(sections: list[Any], lang: str) -> list[Entry]:
    """Every line of the contents (sections, level 1, and their subheadings, level 2) and of the
    lists of tables and figures, in document order, with the bookmark each links to."""
    out = []
    for sec in sections:
        out.append(Entry("toc", 1, f"{sec.number}. {sec.title}", f"_Toc_s{sec.number}"))
        for k, b in enumerate(sec.blocks):
            if b.kind == "h3":
                out.append(Entry("toc", 2, b.text, f"_Toc_s{sec.number}_{k}"))
            elif b.kind == "table":
                t = b.table
                out.append(Entry("table", 1, f"{s(lang, 'table')} {t.number}. {t.title}", f"_Toc_t{t.number}"))
            elif b.kind == "figure":
                f = b.figure
                out.append(Entry("figure", 1, f"{s(lang, 'figure')} {f.number}. {f.caption}", f"_Toc_f{f.number}"))
    return out


#: the TOC field of each list: the contents (heading levels 1–2), tables and figures by caption label
def _instruction(kind: str, lang: str) -> str:
    if kind == "toc":
        return 'TOC \\o "1-2" \\h \\z \\u'
    return f'TOC \\h \\z \\c "{s(lang, kind)}"'


def _toc_list(doc, items: list[Entry], kind: str, lang: str, pages: dict[str, int]) -> None:
    """One list as a TOC field whose stored result is its entries: each a paragraph in Word's
    ``toc 1``/``toc 2`` (or ``table of figures``) style, a link to its bookmark, a dot leader and
    a PAGEREF field showing ``pages[mark]`` (empty when unknown: Word fills it)."""
    instr = _instruction(kind, lang)
    if not items:
        return
    for i, e in enumerate(items):
        style = f"toc {e.level}" if kind == "toc" else "table of figures"
        p = doc.add_paragraph(style=style)
        if i == 0:
            _field_parts(p._p, instr, end=False, dirty=True)
        link = _el("w:hyperlink", **{"w:anchor": e.mark, "w:history": "1"})
        _text_run(link, e.text)
        _run(link, _el("w:tab"))
        _field_parts(link, f"PAGEREF {e.mark} \\h", str(pages.get(e.mark, "")))
        p._p.append(link)
        if i == len(items) - 1:
            _field_parts(p._p, "", begin=False)


def _front(doc, cover: Cover, title: str, items: list[Entry], lang: str, pages: dict[str, int]) -> None:
    """The cover page, then the contents and the lists of tables and figures."""
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Pt

    if cover.kicker:
        k = doc.add_paragraph(cover.kicker.upper())
        k.runs[0].font.size = Pt(10)
        k.paragraph_format.space_before = Pt(120)
    doc.add_paragraph(title, style="Title")
    for label, value in cover.lines:
        p = doc.add_paragraph()
        if label:
            p.add_run(f"{label}: ").bold = True
        p.add_run(value)
        p.paragraph_format.space_after = Pt(4)
    for kind, key in (("toc", "docx_toc"), ("table", "docx_tables"), ("figure", "docx_figures")):
        part = [e for e in items if e.kind == kind]
        if not part:
            continue
        head = doc.add_paragraph(s(lang, key), style="TOC Heading")
        head.paragraph_format.page_break_before = kind == "toc"
        head.alignment = WD_ALIGN_PARAGRAPH.LEFT
        _toc_list(doc, part, kind, lang, pages)


# ---------------------------------------------------------------------------------------------
# the document: page, styles, language, footer
# ---------------------------------------------------------------------------------------------

def _style(doc, name: str, style_id: str, *, indent_cm: float = 0.0, size: float = 10.0, bold: bool = False):
    """A paragraph style named as Word's built-in one (``toc 1``, ``table of figures``): a right
    tab with a dot leader at the text width, for a contents line and its page number."""
    from docx.enum.style import WD_STYLE_TYPE
    from docx.enum.text import WD_TAB_ALIGNMENT, WD_TAB_LEADER
    from docx.shared import Cm, Pt

    if name in [st.name for st in doc.styles]:
        st = doc.styles[name]
    else:
        st = doc.styles.add_style(name, WD_STYLE_TYPE.PARAGRAPH)
        st.base_style = doc.styles["Normal"]
        st.element.set("{http://schemas.openxmlformats.org/wordprocessingml/2006/main}styleId", style_id)
    st.font.size = Pt(size)
    st.font.bold = bold
    pf = st.paragraph_format
    pf.left_indent = Cm(indent_cm)
    pf.space_after = Pt(2)
    pf.tab_stops.add_tab_stop(Cm(_usable(False)), WD_TAB_ALIGNMENT.RIGHT, WD_TAB_LEADER.DOTS)
    return st


def _document(title: str, lang: str):
    """A4, 2 cm margins, Calibri 10 pt, the document language on every style, page numbers in
    the footer, Word's contents styles."""
    from docx import Document
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
    doc.styles["Normal"].font.name = "Calibri"
    doc.styles["Normal"].font.size = Pt(10)
    rpr = doc.styles.element.find(_qn("w:docDefaults")).find(_qn("w:rPrDefault")).find(_qn("w:rPr"))
    lang_el = rpr.find(_qn("w:lang"))
    if lang_el is None:
        lang_el = _el("w:lang")
        rpr.append(lang_el)
    for attr in ("w:val", "w:eastAsia", "w:bidi"):
        lang_el.set(_qn(attr), LANG_TAGS.get(lang, lang))
    _style(doc, "toc 1", "TOC1", bold=True)
    _style(doc, "toc 2", "TOC2", indent_cm=0.6)
    _style(doc, "table of figures", "TableofFigures")
    footer = sec0.footer.paragraphs[0]
    footer.add_run(f"{s(lang, 'docx_page')} ")
    _field(footer, "PAGE", "1")
    return doc


def _qn(tag: str) -> str:
    from docx.oxml.ns import qn

    return qn(tag)


CORE_PROPERTY_MAX = 255
"""Longest text a Word core property (title, subject) may hold (python-docx refuses longer)."""


def _property(text: str) -> str:
    """``text`` as a core property: cut to :data:`CORE_PROPERTY_MAX` characters with "…" (the
    document's own title page keeps the whole title)."""
    return text if len(text) <= CORE_PROPERTY_MAX else text[:CORE_PROPERTY_MAX - 1].rstrip() + "…"


def _orient(doc, landscape: bool, new_page: bool) -> bool:
    """Go on with pages of the orientation asked: a new section (on a new page) when it changes.
    Returns True when a new page was started."""
    from docx.enum.section import WD_ORIENT, WD_SECTION
    from docx.shared import Cm

    cur = doc.sections[-1]
    want = WD_ORIENT.LANDSCAPE if landscape else WD_ORIENT.PORTRAIT
    if cur.orientation == want:
        return False
    sec = doc.add_section(WD_SECTION.NEW_PAGE)
    w, h = (A4[1], A4[0]) if landscape else A4
    sec.orientation, sec.page_width, sec.page_height = want, Cm(w), Cm(h)
    for side in ("left_margin", "right_margin", "top_margin", "bottom_margin"):
        setattr(sec, side, Cm(MARGIN))
    return True


# ---------------------------------------------------------------------------------------------
# the body: which pages are landscape, tables, figures
# ---------------------------------------------------------------------------------------------

def _lines(text: str, width_cm: float, char_cm: float = 0.19) -> int:
    return max(1, math.ceil(len(str(text)) * char_cm / max(width_cm, 1.0)))


def block_height(b: Any, landscape: bool = False) -> float:
    """About how tall (cm) a block is on the page: what :func:`orientations` weighs."""
    width = _usable(landscape)
    if b.kind == "h3":
        return 1.3
    if b.kind in ("p", "note", "unavailable"):
        return 0.45 * _lines(b.text, width) + 0.3
    if b.kind in ("list", "refs"):
        return sum(0.45 * _lines(getattr(i, "text", i), width - 0.6) + 0.15 for i in b.items)
    if b.kind == "figure":
        w, h = b.figure.size
        return min(width * h / max(w, 1), FIGURE_MAX_CM[landscape]) + 1.2
    if b.kind == "table":
        t = b.table
        widths = column_widths(t.display)
        rows = [max(_lines(v, w, _CHAR_CM) for v, w in zip(row, widths)) for row in t.display.itertuples(index=False)]
        return 1.2 + 0.42 * (sum(rows) + 2) + (0.45 * _lines(t.note, width) if t.note else 0)
    return 0.0


def orientations(blocks: list[Any]) -> list[bool]:
    """Landscape (True) or portrait for each block of a section.

    A table wider than a portrait page is landscape; a subheading just before it and a note just
    after it go with it; and a run of other blocks shorter than :data:`SHORT_RUN_CM` that sits
    between landscape blocks, or ends the section after one, or starts it before one, stays on
    landscape pages — a portrait page holding only those few lines would be nearly empty.
    """
    n = len(blocks)
    land = [b.kind == "table" and _wide(b.table) for b in blocks]
    for i in range(n):
        if blocks[i].kind == "h3" and i + 1 < n and land[i + 1]:
            land[i] = True
        if blocks[i].kind in ("note", "unavailable") and i > 0 and land[i - 1] and blocks[i - 1].kind == "table":
            land[i] = True
    i = 0
    while i < n:
        if land[i]:
            i += 1
            continue
        j = i
        while j < n and not land[j]:
            j += 1
        before, after = i > 0, j < n  # a landscape block before the run / after it
        if (before or after) and sum(block_height(blocks[k], True) for k in range(i, j)) < SHORT_RUN_CM:
            for k in range(i, j):
                land[k] = True
        i = j
    return land


def _table(doc, display: pd.DataFrame, cols: list[int], widths: list[float], align: list[str],
           lang: str | None = None) -> Any:
    """The rows of ``display`` (columns ``cols``) as a Word table: fixed column widths, the header
    row repeated on every page, rows never split across pages, :data:`MIN_FONT_PT` text; with
    ``lang``, a right-aligned number column aligned on its decimal separator
    (:func:`~pipeline.report.decimal_align.right_indents`)."""
    from docx.enum.table import WD_TABLE_ALIGNMENT
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Cm, Pt

    table = doc.add_table(rows=1, cols=len(cols))
    table.style = "Light Grid Accent 1"
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    table.autofit = False
    table._tbl.tblPr.append(_el("w:tblLayout", **{"w:type": "fixed"}))
    for k, j in enumerate(cols):
        table.rows[0].cells[k].text = str(display.columns[j])
    table.rows[0]._tr.get_or_add_trPr().append(_el("w:tblHeader", **{"w:val": "true"}))
    for row in display.itertuples(index=False):
        cells = table.add_row().cells
        for k, j in enumerate(cols):
            cells[k].text = str(row[j])
    indents = {j: right_indents([str(v) for v in display.iloc[:, j]], lang, MIN_FONT_PT) if lang else None
               for j in cols if align[j] == "r"}
    for i, row in enumerate(table.rows):
        row._tr.get_or_add_trPr().append(_el("w:cantSplit", **{"w:val": "true"}))
        for k, cell in enumerate(row.cells):
            cell.width = Cm(widths[cols[k]])
            tcw = cell._tc.get_or_add_tcPr().find(_qn("w:tcW"))
            tcw.set(_qn("w:w"), str(int(widths[cols[k]] * 567)))
            tcw.set(_qn("w:type"), "dxa")
            for par in cell.paragraphs:
                if align[cols[k]] == "r":
                    par.alignment = WD_ALIGN_PARAGRAPH.RIGHT
                    shift = indents.get(cols[k])
                    if i and shift and shift[i - 1]:
                        par.paragraph_format.right_indent = Pt(round(shift[i - 1], 2))
                for r in par.runs:
                    r.font.size = Pt(MIN_FONT_PT)
    return table


def _put_table(doc, t: Any, lang: str, landscape: bool, ident: int) -> None:
    """A table: its caption (bookmarked), the table — in column parts that repeat the label
    columns when even a landscape page is too narrow, each part captioned as a continuation —
    and its note, kept on the page of the last row."""
    widths = column_widths(t.display)
    keys = 0
    while keys < min(3, len(t.align) - 1) and t.align[keys] != "r":
        keys += 1
    parts = _column_parts(widths, _usable(landscape), max(keys, 1))
    for i, cols in enumerate(parts):
        if i == 0:
            _caption(doc, s(lang, "table"), t.number, t.title, keep_with_next=True, mark=f"_Toc_t{t.number}",
                     ident=ident)
        else:
            lead = max(keys, 1)
            p = doc.add_paragraph(f"{s(lang, 'table')} {t.number} (" + s(
                lang, "docx_continued", first=cols[lead] + 1, last=cols[-1] + 1, total=len(widths)) + ")",
                style="Caption")
            p.paragraph_format.keep_with_next = True
        table = _table(doc, t.display, cols, widths, t.align, lang)
        if t.note:  # the note stays on the page of the table's last row
            for cell in table.rows[-1].cells:
                for par in cell.paragraphs:
                    par.paragraph_format.keep_with_next = True
    if t.note:
        doc.add_paragraph(t.note).runs[0].italic = True


def _put_figure(doc, f: Any, lang: str, landscape: bool, ident: int) -> None:
    """A figure as wide as the text, or narrower so that it is at most
    :data:`FIGURE_MAX_CM` tall, kept with its (bookmarked) caption."""
    from docx.shared import Cm

    w, h = f.size
    width = min(_usable(False), FIGURE_MAX_CM[landscape] * w / max(h, 1))
    pic = doc.add_paragraph()
    pic.add_run().add_picture(io.BytesIO(f.png), width=Cm(width))
    pic.paragraph_format.keep_with_next = True
    _caption(doc, s(lang, "figure"), f.number, f.caption, keep_with_next=False, mark=f"_Toc_f{f.number}",
             ident=ident)


def write_references(doc, items: list[Any]) -> None:
    """The reference list: one paragraph per entry with a hanging indent (APA 7), italics as
    runs, the DOI link as text."""
    from docx.shared import Cm

    for entry in items:
        p = doc.add_paragraph()
        p.paragraph_format.left_indent = Cm(1.27)
        p.paragraph_format.first_line_indent = Cm(-1.27)
        for text, italic in entry.runs:
            p.add_run(text).italic = bool(italic)
        if entry.url:
            p.add_run(f" {entry.url}")


def _section(doc, sec: Any, lang: str, ids: list[int]) -> None:
    """One report section, on a new page; ``ids`` counts bookmark ids."""
    land = orientations(sec.blocks)
    new_page = _orient(doc, bool(land and land[0]), True)
    head = doc.add_heading(f"{sec.number}. {sec.title}", level=1)
    head.paragraph_format.page_break_before = not new_page
    ids[0] += 1
    _bookmark(head, f"_Toc_s{sec.number}", ids[0])
    for k, (b, landscape) in enumerate(zip(sec.blocks, land)):
        _orient(doc, landscape, False)
        ids[0] += 1
        if b.kind == "h3":
            _bookmark(doc.add_heading(b.text, level=2), f"_Toc_s{sec.number}_{k}", ids[0])
        elif b.kind in ("p", "note", "unavailable"):
            p = doc.add_paragraph(b.text)
            if b.kind != "p" and p.runs:
                p.runs[0].italic = True
        elif b.kind == "list":
            for item in b.items:
                doc.add_paragraph(getattr(item, "text", item), style="List Bullet")
        elif b.kind == "refs":
            write_references(doc, b.items)
        elif b.kind == "table":
            _put_table(doc, b.table, lang, landscape, ids[0])
        elif b.kind == "figure":
            _put_figure(doc, b.figure, lang, landscape, ids[0])


def _build(title: str, cover: Cover, sections: list[Any], lang: str, pages: dict[str, int]) -> bytes:
    doc = _document(title, lang)
    _front(doc, cover, title, entries(sections, lang), lang, pages)
    ids = [0]
    for sec in sections:
        _section(doc, sec, lang, ids)
    buf = io.BytesIO()
    doc.save(buf)
    return buf.getvalue()


# ---------------------------------------------------------------------------------------------
# page numbers of a LibreOffice print
# ---------------------------------------------------------------------------------------------

def _norm(text: str) -> str:
    return " ".join(str(text).split())


def libreoffice_pages(data: bytes, items: list[Entry], *, timeout: float = 300) -> dict[str, int] | None:
    """The page of each entry's heading or caption when LibreOffice prints the document ``data``.

    LibreOffice converts the document to PDF (a fresh profile, headless); ``pdftotext`` gives each
    page's text; each entry is found in document order, on or after the page of the one before,
    after the front matter (the cover and the lists, which name every entry too). A heading is
    found as a line of its own; a caption by its label, number and first words.

    Returns
    -------
    dict or None
        bookmark → page number (1 = the cover); None without LibreOffice or poppler, or when the
        conversion fails (the lists then show no page numbers until Word updates them).
    """
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    if not soffice or not shutil.which("pdftotext"):
        return None
    with tempfile.TemporaryDirectory(prefix="sinergi-lo-") as tmp:
        src = Path(tmp) / "report.docx"
        src.write_bytes(data)
        try:
            subprocess.run([soffice, "--headless", f"-env:UserInstallation={(Path(tmp) / 'profile').as_uri()}",
                            "--convert-to", "pdf", "--outdir", tmp, str(src)], capture_output=True, timeout=timeout)
            text = subprocess.run(["pdftotext", "-layout", str(Path(tmp) / "report.pdf"), "-"], capture_output=True,
                                  text=True, timeout=120).stdout
        except (OSError, subprocess.SubprocessError):
            return None
    pages = text.split("\f")
    if len(pages) < 2:
        return None
    return _find_pages(pages, items)


def _find_pages(pages: list[str], items: list[Entry]) -> dict[str, int]:
    """Each entry's page in ``pages`` (the text of each page). ``items`` are in body order; each
    is searched from the page of the one before, the first (section 1's heading, a line of its
    own — in the contents it has a dot leader) after the front matter.

    >>> pages = ["Contents\\n1. A ....... \\nTable 1. x ...", "1. A\\ntext", "Table 1. x y\\n2. B"]
    >>> _find_pages(pages, [Entry("toc", 1, "1. A", "a"), Entry("table", 1, "Table 1. x y", "t"),
    ...                     Entry("toc", 1, "2. B", "b")])
    {'a': 2, 't': 3, 'b': 3}
    """
    lines = [[_norm(x) for x in p.splitlines() if x.strip()] for p in pages]
    flat = [" ".join(p) for p in lines]
    out: dict[str, int] = {}
    at = next((i for i, p in enumerate(lines) if items and _norm(items[0].text) in p), 0)
    for e in items:
        want = _norm(e.text)
        probe = " ".join(want.split()[:6])
        for i in range(at, len(pages)):
            if e.kind == "toc":
                hit = want in lines[i] or want in flat[i]
            else:
                hit = any(x.startswith(probe) for x in lines[i]) or probe in flat[i]
            if hit:
                out[e.mark], at = i + 1, i
                break
    return out


def write_docx(path: Path, *, title: str, subtitle: str = "", sections: list[Any], lang: str,
               when: datetime = EPOCH, cover: Cover | None = None, paginate: bool = False) -> Path:
    """The report as a Word document a PKM team hands in (see the module's docstring).

    Parameters
    ----------
    path : Path
        Where ``report.docx`` goes (written atomically).
    title : str
        The report's title (the cover, the document's properties).
    subtitle : str
        A line under the title when no ``cover`` is given (village and waves).
    sections : list of Section
        The report model.
    lang : "id" | "en"
    when : datetime
        The document's dates (properties and zip entries): the raw data's time, so reruns give the
        same bytes.
    cover : Cover, optional
        The cover's lines (program, team, institution, village, waves, year).
    paginate : bool
        Fill the page numbers of the contents and lists from a LibreOffice print of the document
        (:func:`libreoffice_pages`; ≈ 15 s) when LibreOffice is installed.
    """
    cover = cover or Cover(lines=[("", subtitle)] if subtitle else [])
    data = _build(title, cover, sections, lang, {})
    if paginate:
        pages = libreoffice_pages(data, entries(sections, lang))
        if pages:
            data = _build(title, cover, sections, lang, pages)
        else:
            note(f"{Path(path).name}: no page numbers in its contents (LibreOffice is not installed or failed); "
                 "Word fills them when the file opens")
    write_bytes(path, stable_ooxml(data, when))
    return path
