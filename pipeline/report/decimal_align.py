"""Numbers of a Word table column aligned on their decimal separator, the same in Word and LibreOffice.

A Word decimal tab stop would do it in Word, but LibreOffice aligns a decimal tab on the separator
of its own locale (an English LibreOffice right-aligns ``3,27`` and aligns ``1.234,56`` on the
thousands dot), and Word on the separator of the Windows regional settings. So a column is aligned
another way both honour: every cell right-aligned, with a right indent equal to the width still
missing after its separator — ``0,4`` gets one digit's width more than ``0,40``; an integer or a
dash (``119``, ``–``) ends where the separators are. The widths are Times New Roman's (= Liberation
Serif's, metric-compatible; its digits all 0,5 em), the article's font; in ``report.docx``'s
Calibri (Carlito) the digits are 0,507 em, a difference under 0,1 pt per digit at its 8 pt.

Rules: a column is aligned when every cell is a number (optionally after ``<``, ``>``, ``≤``, ``≥``
and a sign, with a trailing ``%``) or a dash, and at least one number has decimals; any other cell
(a CI ``[0,12; 0,45]``, a word) leaves the whole column right-aligned as it was.

>>> [round(x, 1) for x in right_indents(["3,27", "12,5", "119", "–", "< 0,001"], "id", 10.0)]
[5.0, 10.0, 17.5, 17.5, 0.0]
>>> right_indents(["[0,12; 0,45]", "0,30"], "id", 10.0) is None
True
"""

from __future__ import annotations

import re

__all__ = ["split_number", "right_indents", "EM"]

#: advance widths in em of the characters after a separator (Times New Roman / Liberation Serif)
EM = {**{d: 0.5 for d in "0123456789"}, ",": 0.25, ".": 0.25, "%": 0.833, " ": 0.25, "\u00a0": 0.25}
_SEP = {"id": (",", r"\."), "en": (r"\.", ",")}
DASHES = {"–", "—", "-", "−"}


def _pattern(lang: str) -> re.Pattern:
    dec, thousands = _SEP["en" if lang == "en" else "id"]
    return re.compile(rf"^(?P<head>(?:[<>≤≥=]\s?)?[−+\-]?(?:\d{{1,3}}(?:{thousands}\d{{3}})+|\d+))"
                      rf"(?:(?P<sep>{dec})(?P<frac>\d+))?(?P<tail>\s?%?)$")


def split_number(cell: str, lang: str) -> tuple[str, str] | None:
    """``(before the separator, from the separator on)`` of a number cell written in ``lang``
    (``("12", ",5")``; an integer ``("119", "")``), or None when ``cell`` is not one number.

    >>> split_number("< 0,001", "id"), split_number("1,234.5", "en"), split_number("[1; 2]", "en")
    (('< 0', ',001'), ('1,234', '.5'), None)
    """
    m = _pattern(lang).match(str(cell).strip())
    if not m:
        return None
    return m["head"], (m["sep"] or "") + (m["frac"] or "") + m["tail"]


def _width(text: str, size_pt: float) -> float:
    return sum(EM.get(c, 0.5) for c in text) * size_pt


def right_indents(cells: list[str], lang: str, size_pt: float) -> list[float] | None:
    """Per cell, the right indent (pt) that puts the decimal separators of the column ``cells``
    at one x when each cell is right-aligned; None when the column is not aligned that way (see
    the module's rules).

    Parameters
    ----------
    cells : list of str
        The column's cells as printed (header excluded); blank cells get no indent.
    lang : "id" | "en"
        The separators: ``3,27`` / ``1.234`` in Indonesian, ``3.27`` / ``1,234`` in English.
    size_pt : float
        The font size of the cells.
    """
    parts = []
    for cell in cells:
        text = str(cell).strip()
        if not text or text in DASHES:
            parts.append(None if not text else "")
            continue
        split = split_number(text, lang)
        if split is None:
            return None
        parts.append(split[1])
    if not any(p and p[0] in ",." for p in parts if p is not None):
        return None
    widest = max(_width(p, size_pt) for p in parts if p is not None)
    return [0.0 if p is None else widest - _width(p, size_pt) for p in parts]
