"""Write the journal article draft (:class:`~pipeline.report.article.Article`) as a Word file.

The usual layout of Indonesian community-service journals: A4, 2,5 cm margins, Times New Roman
12 pt, 1,15 line spacing, justified; the title, then the identity block, the abstracts (Indonesian,
then English) with their keywords, then the unnumbered sections. Tables are APA 7: the number in
bold, the title in italics above, three horizontal lines (above and below the header, below the
last row), no vertical lines, the numbers of a column aligned on their decimal separator
(:mod:`pipeline.report.decimal_align`; a CI column right-aligned), the note under the table
("Catatan." / "Note."). ``d_z`` is printed as an italic *d* with a subscript *z*. A figure has its number and title above it, as APA 7 asks. The places the team writes
(``todo`` blocks) are highlighted in yellow and bracketed, so none is handed in unnoticed.
"""

from __future__ import annotations

import io
import re
from datetime import datetime
from pathlib import Path
from typing import Any

from ..io import EPOCH, stable_ooxml, write_bytes
from .article import Article
from .decimal_align import right_indents
from .docx import LANG_TAGS, column_widths, write_references
from .text import s

__all__ = ["write_article", "MARGIN_CM", "FONT", "FONT_PT", "TABLE_PT"]

MARGIN_CM = 2.5
FONT, FONT_PT, TABLE_PT = "Times New Roman", 12.0, 10.0
_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
#: statistics written with an underscore in the catalogues, printed with a subscript
_SUBSCRIPT = re.compile(r"\b([dr])_(z|avg|rb)\b")


def add_text(paragraph, text: str, *, size: float | None = None, italic: bool | None = None,
             bold: bool | None = None) -> None:
    """Append ``text`` to ``paragraph`` as runs, ``d_z`` as an italic *d* with a subscript *z*."""
    from docx.shared import Pt

    def run(part: str, **extra):
        r = paragraph.add_run(part)
        r.italic, r.bold = extra.get("italic", italic), bold
        if size:
            r.font.size = Pt(size)
        if extra.get("sub"):
            r.font.subscript = True
        return r

    pos = 0
    for m in _SUBSCRIPT.finditer(text):
        if m.start() > pos:
            run(text[pos:m.start()])
        run(m.group(1), italic=True)
        run(m.group(2), italic=True, sub=True)
        pos = m.end()
    if pos < len(text) or not text:
        run(text[pos:])


def _border(cell, side: str) -> None:
    """A single 0,75 pt line on ``side`` (top, bottom) of a table cell."""
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    tcpr = cell._tc.get_or_add_tcPr()
    borders = tcpr.find(qn("w:tcBorders"))
    if borders is None:
        borders = OxmlElement("w:tcBorders")
        tcpr.append(borders)
    line = OxmlElement(f"w:{side}")
    for k, v in (("w:val", "single"), ("w:sz", "6"), ("w:space", "0"), ("w:color", "000000")):
        line.set(qn(k), v)
    borders.append(line)


def _caption(doc, label: str, number: int, title: str) -> None:
    """APA 7: ``Tabel 1`` in bold, the title in italics on the next line, both kept with what follows."""
    p = doc.add_paragraph()
    p.add_run(f"{label} {number}").bold = True
    p.paragraph_format.keep_with_next = True
    p.paragraph_format.space_after = 0
    t = doc.add_paragraph()
    add_text(t, title, italic=True)
    t.paragraph_format.keep_with_next = True


def _table(doc, t: Any, lang: str) -> None:
    """One APA 7 three-line table with its caption and note."""
    from docx.enum.table import WD_TABLE_ALIGNMENT
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Cm, Pt

    _caption(doc, s(lang, "table"), t.number, t.title)
    widths = [w * TABLE_PT / 8.0 for w in column_widths(t.display)]
    usable = 21.0 - 2 * MARGIN_CM
    scale = min(1.0, usable / max(sum(widths), 1e-9))
    display = t.display
    table = doc.add_table(rows=1, cols=display.shape[1])
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    table.autofit = False
    rows = [list(map(str, display.columns))] + [list(map(str, r)) for r in display.itertuples(index=False)]
    indents = [right_indents([r[j] for r in rows[1:]], lang, TABLE_PT) if t.align[j] == "r" else None
               for j in range(display.shape[1])]
    for _ in rows[1:]:
        table.add_row()
    for i, values in enumerate(rows):
        row = table.rows[i]
        if i == 0:
            row._tr.get_or_add_trPr().append(_flag("w:tblHeader"))
        row._tr.get_or_add_trPr().append(_flag("w:cantSplit"))
        for j, value in enumerate(values):
            cell = row.cells[j]
            cell.width = Cm(widths[j] * scale)
            par = cell.paragraphs[0]
            add_text(par, value, size=TABLE_PT)
            par.paragraph_format.first_line_indent = Cm(0)
            par.alignment = WD_ALIGN_PARAGRAPH.RIGHT if t.align[j] == "r" else WD_ALIGN_PARAGRAPH.LEFT
            if i > 0 and indents[j] is not None and indents[j][i - 1]:
                par.paragraph_format.right_indent = Pt(round(indents[j][i - 1], 2))
            if i == 0:
                _border(cell, "top")
                _border(cell, "bottom")
            if i == len(rows) - 1:
                _border(cell, "bottom")
            if i < len(rows) - 1 or t.note:
                par.paragraph_format.keep_with_next = True
    if t.note:
        p = doc.add_paragraph()
        p.add_run(s(lang, "art_note") + " ").italic = True
        add_text(p, t.note, size=TABLE_PT)
        p.paragraph_format.first_line_indent = Cm(0)


def _flag(tag: str):
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    e = OxmlElement(tag)
    e.set(qn("w:val"), "true")
    return e


def _figure(doc, f: Any, lang: str) -> None:
    """A figure: number and title above (APA 7), the picture at most 16 × 11 cm."""
    from docx.shared import Cm

    _caption(doc, s(lang, "figure"), f.number, f.caption)
    w, h = f.size
    width = min(21.0 - 2 * MARGIN_CM, 11.0 * w / max(h, 1))
    pic = doc.add_paragraph()
    pic.paragraph_format.first_line_indent = Cm(0)
    pic.add_run().add_picture(io.BytesIO(f.png), width=Cm(width))


def _todo(doc, text: str) -> None:
    """A place the team fills in: bracketed text, highlighted yellow."""
    from docx.enum.text import WD_COLOR_INDEX

    run = doc.add_paragraph().add_run(text)
    run.font.highlight_color = WD_COLOR_INDEX.YELLOW
    run.italic = True


def _blocks(doc, blocks: list[Any], lang: str) -> None:
    for b in blocks:
        if b.kind == "h3":
            doc.add_heading(b.text, level=2)
        elif b.kind == "todo":
            _todo(doc, b.text)
        elif b.kind in ("p", "note", "unavailable"):
            add_text(doc.add_paragraph(), b.text, italic=True if b.kind != "p" else None)
        elif b.kind == "list":
            for item in b.items:
                add_text(doc.add_paragraph(style="List Bullet"), getattr(item, "text", item))
        elif b.kind == "table":
            _table(doc, b.table, lang)
        elif b.kind == "figure":
            _figure(doc, b.figure, lang)
        elif b.kind == "refs":
            write_references(doc, b.items)


def _document(lang: str, title: str):
    """A4, :data:`MARGIN_CM` margins, :data:`FONT` :data:`FONT_PT` pt, justified, single spacing,
    headings in black, page numbers in the footer."""
    from docx import Document
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.oxml import OxmlElement
    from docx.shared import Cm, Pt, RGBColor

    doc = Document()
    doc.core_properties.title = title[:255]
    doc.core_properties.author = "sinergi"
    doc.core_properties.language = LANG_TAGS.get(lang, lang)
    sec = doc.sections[0]
    sec.page_width, sec.page_height = Cm(21.0), Cm(29.7)
    for side in ("left_margin", "right_margin", "top_margin", "bottom_margin"):
        setattr(sec, side, Cm(MARGIN_CM))
    normal = doc.styles["Normal"]
    normal.font.name, normal.font.size = FONT, Pt(FONT_PT)
    normal.paragraph_format.alignment = WD_ALIGN_PARAGRAPH.JUSTIFY
    normal.paragraph_format.space_after = Pt(6)
    normal.paragraph_format.line_spacing = 1.15
    for name, size in (("Heading 1", 13), ("Heading 2", 12), ("Title", 15)):
        st = doc.styles[name]
        st.font.name, st.font.size, st.font.bold = FONT, Pt(size), True
        fonts = st.element.rPr.find(f"{_W}rFonts")
        for attr in ("asciiTheme", "hAnsiTheme", "eastAsiaTheme", "cstheme"):  # the theme's sans font wins else
            fonts.attrib.pop(f"{_W}{attr}", None)
        st.font.color.rgb = RGBColor(0, 0, 0)
        st.paragraph_format.space_before, st.paragraph_format.space_after = Pt(12), Pt(6)
    doc.styles["Heading 2"].font.italic = True
    lang_el = doc.styles.element.find(f"{_W}docDefaults").find(f"{_W}rPrDefault").find(f"{_W}rPr")
    tag = OxmlElement("w:lang")
    for attr in ("val", "eastAsia", "bidi"):
        tag.set(f"{_W}{attr}", LANG_TAGS.get(lang, lang))
    lang_el.append(tag)
    footer = sec.footer.paragraphs[0]
    footer.alignment = WD_ALIGN_PARAGRAPH.CENTER
    footer.add_run(s(lang, "docx_page") + " ")
    _page_field(footer)
    return doc


def _page_field(paragraph) -> None:
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    for kind, text in (("begin", None), ("instr", " PAGE "), ("separate", None), ("text", "1"), ("end", None)):
        r = OxmlElement("w:r")
        if kind in ("begin", "separate", "end"):
            e = OxmlElement("w:fldChar")
            e.set(qn("w:fldCharType"), kind)
        else:
            e = OxmlElement("w:instrText" if kind == "instr" else "w:t")
            e.text = text
        r.append(e)
        paragraph._p.append(r)


def _front(doc, art: Article) -> None:
    """The title, the identity block, the abstracts with their keywords."""
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Pt

    head = doc.add_paragraph(art.title, style="Title")
    head.alignment = WD_ALIGN_PARAGRAPH.CENTER
    for label, value in art.identity:
        p = doc.add_paragraph()
        p.alignment = WD_ALIGN_PARAGRAPH.CENTER
        p.add_run(f"{label}: ").bold = True
        p.add_run(value)
        p.paragraph_format.space_after = Pt(0)
    for ab in art.abstracts:
        h = doc.add_paragraph()
        h.alignment = WD_ALIGN_PARAGRAPH.CENTER
        h.add_run(ab.heading).bold = True
        h.paragraph_format.space_before = Pt(12)
        add_text(doc.add_paragraph(), ab.text, italic=True if ab.lang != art.lang else None)
        kw = doc.add_paragraph()
        kw.add_run(f"{ab.keywords_label}: ").bold = True
        kw.add_run("; ".join(ab.keywords))


def write_article(path: Path, art: Article, *, when: datetime = EPOCH) -> Path:
    """Write ``art`` to ``path`` (atomically), dated ``when`` so reruns give the same bytes.

    Parameters
    ----------
    path : Path
        ``artikel.docx`` or ``article.docx``.
    art : Article
        From :func:`pipeline.report.article.assemble_article`.
    when : datetime
        The document's dates: the raw data's time.
    """
    doc = _document(art.lang, art.title)
    _front(doc, art)
    for sec in art.sections:
        doc.add_heading(sec.title, level=1)
        _blocks(doc, sec.blocks, art.lang)
    buf = io.BytesIO()
    doc.save(buf)
    write_bytes(path, stable_ooxml(buf.getvalue(), when))
    return path
