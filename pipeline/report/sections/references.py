"""The reference list ("Daftar Pustaka" / "References"): every work the report's text cites, in
APA 7 form and order, and nothing it does not cite (:mod:`pipeline.report.bibliography`)."""

from __future__ import annotations

from typing import Iterable

from .. import bibliography as bib
from ..context import Context
from ..model import Block, Entry, Section


def printed_texts(sections: Iterable[Section]) -> list[str]:
    """Every text of ``sections`` a reader sees, except table cells: paragraphs, notes, headings,
    list items, table titles, headers and notes, figure captions."""
    out = []
    for sec in sections:
        out.append(sec.title)
        for block in sec.blocks:
            out += [block.text] + [str(getattr(i, "text", i)) for i in block.items]
            if block.figure is not None:
                out.append(block.figure.caption)
            if block.table is not None:
                t = block.table
                out += [t.title, t.note, *map(str, t.display.columns)]
    return [t for t in out if t]


def section(ctx: Context, sections: Iterable[Section] = ()) -> list[Block] | None:
    """The entries cited in ``sections`` (the report's other sections, built before this one);
    None — no section — when nothing is cited.

    Reads no file: the texts of ``sections``. Prints no table: the list of references.
    """
    keys = bib.cited_keys("\n".join(printed_texts(sections)), ctx.lang)
    if not keys:
        return None
    return [Block("refs", items=[Entry(bib.entry_runs(k, ctx.lang), bib.doi_url(k)) for k in keys])]
