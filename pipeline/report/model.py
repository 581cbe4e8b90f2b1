"""The report model: what a section returns and both renderers (HTML, Word) draw.

A section is a list of :class:`Block` s; a block is a paragraph (``p``), a note, a heading
(``h3``), a list of findings, a table (:class:`Table`: display strings plus the unformatted numbers
the CSV/XLSX files get) or a figure (:class:`Figure`: PNG and SVG bytes). Nothing here reads or
writes files.
"""

from __future__ import annotations

import base64
import struct
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

__all__ = ["Table", "Figure", "Finding", "Entry", "Block", "Section", "Unavailable", "isna"]


@dataclass
class Table:
    key: str
    title: str
    display: pd.DataFrame           # formatted strings, headers in the report language
    raw: pd.DataFrame               # the same rows, numbers unformatted (CSV / XLSX)
    align: list[str]                # "l" or "r" per column
    note: str = ""
    number: int = 0
    #: the format of each ``raw`` column (int, n1, n2, n3, p, share, pct, text): CSV/XLSX number formats
    formats: list[str] = field(default_factory=list)


@dataclass
class Figure:
    key: str
    caption: str
    png: bytes
    svg: str
    number: int = 0

    @property
    def data_uri(self) -> str:
        return "data:image/png;base64," + base64.b64encode(self.png).decode("ascii")

    @property
    def size(self) -> tuple[int, int]:
        w, h = struct.unpack(">II", self.png[16:24])
        return int(w), int(h)


@dataclass
class Finding:
    text: str
    attrs: dict[str, str] = field(default_factory=dict)


@dataclass
class Entry:
    """One entry of the reference list: (text, italic) runs in APA 7 form, and its DOI link."""

    runs: list[tuple[str, bool]]
    url: str = ""

    @property
    def text(self) -> str:
        return "".join(t for t, _ in self.runs) + (f" {self.url}" if self.url else "")


@dataclass
class Block:
    kind: str                       # p | note | h3 | list | table | figure | formula | refs (items: Entry)
    text: str = ""
    items: list[Any] = field(default_factory=list)
    table: Table | None = None
    figure: Figure | None = None


@dataclass
class Section:
    key: str
    number: int
    title: str
    blocks: list[Block] = field(default_factory=list)

    @property
    def anchor(self) -> str:
        return f"sec-{self.key}"


class Unavailable(Exception):
    """Raised by a section whose inputs are missing; carries the one note block shown instead."""

    def __init__(self, block: Block | None):
        super().__init__("unavailable")
        self.block = block or Block("unavailable", "")


def isna(v: Any) -> bool:
    """True for None, NaN and pd.NA; False for anything pandas cannot test (a list, a string)."""
    if v is None:
        return True
    try:
        return bool(pd.isna(v))
    except (TypeError, ValueError):
        return False
