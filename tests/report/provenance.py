"""Provenance of the numbers a document prints in its sentences (issue 23, DESIGN principle 11).

The rule: every number in a generated sentence is a cell of a table printed in the same document,
formatted identically, or follows from one by a rule stated beside it. A document is the report
(``report.html``) or a handout (``handout*.html``: its own small table of the numbers its cards
quote). Usage::

    doc = report_document(page_html)
    assert not unexplained(doc, "summary", rules=[...], labels=[...])

What counts:

* a *number* is a run of digits with the language's decimal and thousands separators
  (``1.109``, ``0,55``, ``1,109``, ``0.55``) and a ``%`` right after it if there is one; its sign
  is not part of it — a sentence says "lower by 0,49" where the table prints "−0,49", and says
  which way in words;
* the *cells* of a document are the numbers in every table head and body cell (``<th>``, ``<td>``);
* a section's *sentences* are its text outside tables and figures (their captions and notes
  included) and outside headings;
* ``labels`` are the study's own names (wave, group, dimension and tie-type labels, title, site):
  a number inside a name ("Year 2 (1995)", "Time 4") is the name's, not a statistic, and is
  removed before the numbers are read;
* a *citation* of the reference list ("(Hake, 1998)", "Krackhardt & Stern (1988)", "(Maryam
  dkk., 2026)") is a pointer to a work, not a statistic: its year is removed with it;
* a model formula's random intercept ``(1 | respondent)`` is notation;
* ``rules`` are the numbers a sentence may print because a stated rule gives them (the 95 of a
  95 % CI, the study's alpha, Cohen's 0.2 / 0.5 / 0.8, a cut-off such as CFI 0.90); each caller
  lists them with a comment saying which rule.
"""

from __future__ import annotations

import html as htmlmod
import re
from dataclasses import dataclass, field
from typing import Iterable

__all__ = ["Document", "report_document", "handout_document", "numbers", "unexplained"]

#: a printed number: digits with , or . between digit groups, and a % right after it
NUMBER = re.compile(r"(?<![\w])\d+(?:[.,]\d+)*%?")


@dataclass
class Document:
    """The number cells of one document's tables and its sections' sentence text."""

    cells: set[str]
    sentences: dict[str, str] = field(default_factory=dict)


def _text(fragment: str) -> str:
    fragment = re.sub(r"<(script|style|svg)\b.*?</\1>", " ", fragment, flags=re.S)
    return re.sub(r"\s+", " ", htmlmod.unescape(re.sub(r"<[^>]+>", " ", fragment))).strip()


def numbers(text: str) -> list[str]:
    """The numbers printed in ``text``, as printed (without a sign).

    >>> numbers("E-I −0,55 → −0,31; 222 dari 1.109 hubungan (22,7%); p < 0,001.")
    ['0,55', '0,31', '222', '1.109', '22,7%', '0,001']
    """
    return NUMBER.findall(text)


def _cells(page: str) -> set[str]:
    out: set[str] = set()
    for cell in re.findall(r"<t[hd]\b[^>]*>(.*?)</t[hd]>", page, flags=re.S):
        out.update(numbers(_text(cell)))
    return out


def _sentences(fragment: str) -> str:
    fragment = re.sub(r"<figure\b.*?</figure>", " ", fragment, flags=re.S)  # tables and figures
    fragment = re.sub(r"<table\b.*?</table>", " ", fragment, flags=re.S)
    fragment = re.sub(r"<h[1-6]\b.*?</h[1-6]>", " ", fragment, flags=re.S)
    return _text(fragment)


def report_document(page: str) -> Document:
    """The report page: every table's cells, and each section's sentences by its key."""
    sections = {m.group(1): _sentences(m.group(2)) for m in re.finditer(
        r'<section id="sec-[^"]+" class="report-section" data-section="([^"]+)">(.*?)</section>', page, flags=re.S)}
    return Document(_cells(page), sections)


def handout_document(page: str) -> Document:
    """A handout page: its number table's cells, and its sentences (title, who, cards, footer)
    under the key ``handout``; the card headlines count as sentences."""
    main = re.search(r"<main\b.*?</main>", page, flags=re.S)
    body = main.group(0) if main else page
    body = re.sub(r"<h2\b[^>]*>(.*?)</h2>", r"<p>\1</p>", body, flags=re.S)  # a card's headline is a sentence
    return Document(_cells(body), {"handout": _sentences(body)})


def _citations() -> list[str]:
    """Every in-text form of every reference's authors and year, in both languages."""
    from pipeline.report import bibliography as bib

    out = []
    for key in bib.REFERENCES:
        for lang in ("id", "en"):
            year = bib.YEARS[key]
            out += [f"{bib.in_text_names(key, lang)}, {year}",
                    f"{bib.in_text_names(key, lang, narrative=True)} ({year})"]
    return out


#: a model formula's random intercept, ``(1 | respondent)``: notation, not a statistic
FORMULA = re.compile(r"\(1 \| [^)]*\)")


def _strip(text: str, labels: Iterable[str]) -> str:
    text = FORMULA.sub(" ", text)
    for label in sorted({str(x) for x in labels if str(x).strip()}, key=len, reverse=True):
        text = text.replace(label, " ")
    return text


def unexplained(doc: Document, section: str, *, rules: Iterable[str] = (), labels: Iterable[str] = (),
                width: int = 40) -> list[str]:
    """The numbers of ``section``'s sentences that are neither a table cell of ``doc`` nor in
    ``rules``, each with the text around it (empty when every number is accounted for)."""
    text = _strip(doc.sentences.get(section, ""), [*labels, *_citations()])
    known = doc.cells | set(rules)
    out = []
    for m in NUMBER.finditer(text):
        if m.group(0) not in known:
            out.append(f"{m.group(0)!r} in …{text[max(0, m.start() - width):m.end() + width]}…")
    return out
