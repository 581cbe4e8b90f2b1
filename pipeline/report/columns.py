"""What a report table shows, declared: :class:`Column` (a source, a header, a format) and :class:`Fmt`.

A section lists its columns at module level — ``WHOLE_COLUMNS = [Column("density", "c_density",
Fmt.N3), ...]`` — and hands the list to :meth:`pipeline.report.numbering.Numbering.table`, which
turns each column into the cells the reader sees (:func:`cells`: strings in the report language)
and the values the CSV and XLSX files get (unformatted numbers, or the labels shown).

>>> Fmt.CI2.pair, Fmt.N3.decimals, Fmt.WAVE.label
(True, 3, True)
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Any, Callable, Iterable, Union

import pandas as pd

from .model import isna
from .text import ci_digits
from .words import Words

__all__ = ["Fmt", "Column", "Cells", "cells"]


class Fmt(Enum):
    """How a column's values are shown (and which number format the CSV/XLSX files give them).

    ``TEXT`` as written (left); ``RIGHT`` as written, right-aligned (a number already written as
    text); ``INT`` a whole number; ``N1``–``N3`` a number with 1–3 decimals; ``P`` a p value;
    ``SHARE`` a share 0–1 as a percentage; ``PCT`` a percentage 0–100; ``CI2``/``CI3`` a
    confidence interval "[lo; hi]" from two source columns (more decimals where the bounds need
    them, :func:`~pipeline.report.text.ci_digits`), ``PM2`` an estimate "± SE" from two source
    columns — both two numeric columns in the CSV and XLSX files. The label formats show a code by
    its name in the report language (and the files get the name): ``WAVE``, ``WAVES`` (two source
    columns: "Before → After"), ``GROUP``, ``DIMENSION``, ``TIE`` (a missing tie type is blank),
    ``CODE`` (the catalogue's ``<Column.code>_<value>``, else the value) and ``YES_NO`` (true, 1 →
    yes; false → no; missing → blank).
    """

    TEXT = "text"
    RIGHT = "right"
    INT = "int"
    N1 = "n1"
    N2 = "n2"
    N3 = "n3"
    P = "p"
    SHARE = "share"
    PCT = "pct"
    CI2 = "ci2"
    CI3 = "ci3"
    PM2 = "pm2"
    WAVE = "wave"
    WAVES = "waves"
    GROUP = "group"
    DIMENSION = "dimension"
    TIE = "tie"
    CODE = "code"
    YES_NO = "yes_no"

    @property
    def pair(self) -> bool:
        """Two numbers in one cell (a CI, an estimate ± SE): two columns in the files."""
        return self in (Fmt.CI2, Fmt.CI3, Fmt.PM2)

    @property
    def label(self) -> bool:
        """A code shown by its name."""
        return self in (Fmt.WAVE, Fmt.WAVES, Fmt.GROUP, Fmt.DIMENSION, Fmt.TIE, Fmt.CODE, Fmt.YES_NO)

    @property
    def decimals(self) -> int | None:
        """The decimals of a number format (``N1``–``N3``, ``CI2``, ``CI3``, ``PM2``), else None."""
        return int(self.value[-1]) if self.value[-1].isdigit() else None


#: a column of the frame, two columns (``CI2``, ``CI3``, ``PM2``, ``WAVES``), or a function of the frame
Source = Union[str, tuple, Callable[[pd.DataFrame], Iterable[Any]]]


@dataclass(frozen=True)
class Column:
    """One column of a report table.

    Parameters
    ----------
    source : str, tuple of two str, or callable
        The frame's column (or two, for the pair and ``WAVES`` formats), or a function of the
        frame giving the values.
    header : str
        The header's message id in the catalogue (in the study's wording:
        :meth:`~pipeline.report.words.Words.study_text`); with ``verbatim`` the header itself.
    fmt : Fmt
    digits : str, optional
        A column of the frame giving each row's decimals (a number format): the row is printed
        as the sentence quoting it prints it.
    code : str, optional
        ``Fmt.CODE``: the catalogue prefix of the codes (``role`` for ``role_<code>``).
    verbatim : bool
        ``header`` is the text itself (composed at run time: "Mean – Before").
    """

    source: Source
    header: str
    fmt: Fmt = Fmt.TEXT
    digits: str | None = None
    code: str | None = None
    verbatim: bool = False


@dataclass
class Cells:
    """A column as shown (``display``, one string per row), its values for the CSV and XLSX files
    (``raw``: file column name → values; two for a pair), their number formats (one per ``raw``
    column) and its alignment (``l`` or ``r``)."""

    display: list[str]
    raw: dict[str, pd.Series]
    formats: list[str]
    align: str


def cells(column: Column, df: pd.DataFrame, header: str, words: Words) -> Cells:
    """The cells of ``column`` for the rows of ``df`` under ``header`` (already made unique)."""
    if column.fmt.pair:
        return _pair_cells(column, df, header, words)
    values = pd.Series(list(_values(column, df, words)), index=df.index)
    if column.digits is not None:  # decimals per row
        row_digits = [int(k) for k in df[column.digits]]
        return Cells([words.number(v, k) for v, k in zip(values, row_digits)], {header: values},
                     [f"n{max(row_digits, default=2)}"], "r")
    if column.fmt is Fmt.TEXT or column.fmt.label or column.fmt is Fmt.RIGHT:
        return Cells(["" if isna(v) else str(v) for v in values], {header: values}, ["text"],
                     "r" if column.fmt is Fmt.RIGHT else "l")
    return Cells([_number(column.fmt, v, words) for v in values], {header: values}, [column.fmt.value], "r")


def _values(column: Column, df: pd.DataFrame, words: Words) -> Iterable[Any]:
    """The column's values: the source's, or the names of its codes (a label format)."""
    if callable(column.source):
        return column.source(df)
    fmt = column.fmt
    if fmt is Fmt.WAVES:
        pre, post = column.source
        return [words.wave_span(a, b) for a, b in zip(df[pre], df[post])]
    values = df[column.source]
    if not fmt.label:
        return values
    name = {Fmt.WAVE: words.wave, Fmt.GROUP: words.group, Fmt.DIMENSION: words.dimension,
            Fmt.TIE: lambda v: "" if isna(v) else words.tie(v),
            Fmt.CODE: lambda v: words.code_label(column.code, v), Fmt.YES_NO: words.yes_no}[fmt]
    return values.map(name)


def _number(fmt: Fmt, v: Any, words: Words) -> str:
    if fmt is Fmt.INT:
        return words.integer(v)
    if fmt is Fmt.P:
        return words.p_value(v)
    if fmt is Fmt.SHARE:
        return words.share(v)
    if fmt is Fmt.PCT:
        return "–" if isna(v) else words.number(v, 1) + "%"
    return words.number(v, fmt.decimals)


def _pair_cells(column: Column, df: pd.DataFrame, header: str, words: Words) -> Cells:
    """A CI "[lo; hi]" (each row with the decimals its bounds need) or an estimate "± SE"; the
    files get the two numbers."""
    a, b = (pd.Series(list(df[c]), index=df.index) for c in column.source)
    digits = column.fmt.decimals
    if column.fmt is Fmt.PM2:
        display = [f"{words.number(x, digits)} ± {words.number(y, digits)}" if not isna(x) else "–"
                   for x, y in zip(a, b)]
        base = header.replace(" ± SE", "")
        names = (base, f"SE ({base})")
    else:
        row_digits = [ci_digits(x, y, digits) for x, y in zip(a, b)]
        display = [f"[{words.number(x, k)}; {words.number(y, k)}]" if not isna(x) else "–"
                   for x, y, k in zip(a, b, row_digits)]
        digits = max(row_digits, default=digits)
        names = (f"{header} {words.text('c_lower')}", f"{header} {words.text('c_upper')}")
    return Cells(display, {names[0]: a, names[1]: b}, [f"n{digits}", f"n{digits}"], "r")
