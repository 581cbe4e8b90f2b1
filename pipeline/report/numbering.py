"""The report's numbering role: :class:`Numbering` collects the numbered tables and figures.

Each :meth:`Numbering.table` and :meth:`Numbering.figure` call gives the next number; the report,
the Word file, ``tables/`` and ``figures/`` use the same numbers. A table is made from declared
columns (:class:`~pipeline.report.columns.Column`): its cells in the report language and its
values for the CSV and XLSX files.
"""

from __future__ import annotations

from typing import Any, Collection

import pandas as pd

from . import figures
from .columns import Column, cells
from .model import Block, Figure, Table
from .words import Words

__all__ = ["Numbering", "blank_repeats"]

#: a left-aligned text column whose cells average more than this many characters wraps ("lw")
WIDE_TEXT = 30


class Numbering:
    """The tables and figures of one report, numbered in the order they are made.

    Parameters
    ----------
    words : Words
        The report language's words (headers, numbers, labels).
    only : collection of str, optional
        Draw only the figures with these keys (the others are numbered but left empty, and a
        figure given as a function is never drawn): the second language's article draws just the
        figures it prints. Default: every figure.
    svg : bool
        Also render each figure as SVG (default; the article needs PNG only).
    """

    def __init__(self, words: Words, only: Collection[str] | None = None, svg: bool = True):
        self.words = words
        self.only = None if only is None else frozenset(only)
        self.svg = svg
        self.tables: list[Table] = []
        self.figures: list[Figure] = []

    def table(self, key: str, title: str, df: pd.DataFrame, columns: list[Column], note: str = "") -> Block:
        """The next numbered table: ``columns`` of the rows of ``df``, under ``title``.

        Parameters
        ----------
        key : str
            The table's file name in ``tables/`` (without the number).
        title, note : str
            Shown above and below the table.
        df : pandas.DataFrame
            The rows, in the order shown.
        columns : list of Column

        Returns
        -------
        Block
            A ``table`` block; the table is also added to :attr:`tables`.
        """
        display: dict[str, list[str]] = {}
        raw: dict[str, pd.Series] = {}
        align: list[str] = []
        formats: list[str] = []
        for column in columns:
            header = column.header if column.verbatim else self.words.study_text(column.header)
            base, k = header, 2
            while header in display:  # headers must be unique (CSV, XLSX)
                header, k = f"{base} ({k})", k + 1
            made = cells(column, df, header, self.words)
            display[header] = made.display
            raw.update(made.raw)
            formats += made.formats
            align.append(made.align)
        shown = pd.DataFrame(display, columns=list(display))
        align = [("lw" if a == "l" and len(shown) and shown.iloc[:, j].str.len().mean() > WIDE_TEXT else a)
                 for j, a in enumerate(align)]
        table = Table(key=key, title=title, display=shown.reset_index(drop=True),
                      raw=pd.DataFrame(raw).reset_index(drop=True), align=align, note=note,
                      number=len(self.tables) + 1, formats=formats)
        self.tables.append(table)
        return Block("table", table=table)

    def wants(self, key: str) -> bool:
        """Whether the figure ``key`` is drawn (see ``only``)."""
        return self.only is None or key in self.only

    def figure(self, key: str, caption: str, fig: Any) -> Block:
        """The next numbered figure: the matplotlib figure ``fig`` (or a function of no arguments
        that draws it, called only when the figure is wanted) rendered as PNG and SVG; a figure
        not wanted is left empty (no PNG)."""
        png, svg = b"", ""
        if self.wants(key):
            png, svg = figures.render(fig() if callable(fig) else fig, svg=self.svg)
        elif not callable(fig):
            figures.close(fig)
        made = Figure(key=key, caption=caption, png=png, svg=svg, number=len(self.figures) + 1)
        self.figures.append(made)
        return Block("figure", figure=made)

    def drop(self, table: Table) -> None:
        """Take ``table`` out of the report (it moved elsewhere) and renumber the others."""
        self.tables.remove(table)
        for number, t in enumerate(self.tables, start=1):
            t.number = number


def blank_repeats(block: Block, col: int = 0) -> Block:
    """Show a repeated label (e.g. the dimension) only on the first row of its run."""
    d = block.table.display
    rep = d.iloc[:, col].eq(d.iloc[:, col].shift())
    d.iloc[rep.to_numpy(), col] = ""
    return block
