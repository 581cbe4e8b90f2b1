"""The report's words role: :class:`Words`, every word and number a section prints, in one language.

Catalogue messages (:meth:`Words.text`; :meth:`Words.study_text` for the study's wording),
numbers in the language's format, and the names of the study's waves, groups, dimensions, tie
types and of the codes the stages write (:meth:`Words.code_label`).
"""

from __future__ import annotations

from typing import Any

from .labels import Labels
from .model import isna
from .text import STRINGS, code_label, integer, num, pct, peq, pval, s

__all__ = ["Words"]


class Words:
    """Words in the report language ``lang`` for ``study``.

    Parameters
    ----------
    study : pipeline.config.Study
    lang : "id" | "en"
    labels : Labels
        The names of the study's dimensions, tie types and covariates.
    instrument_words : bool
        The study was collected with the sinergi instrument: the catalogue's own wording, not its
        ``<id>_gen`` wording for any study (:meth:`study_message`).
    origin_groups : bool
        The groups are the instrument's locals and migrants, common nouns written lower-case in a
        sentence (:meth:`group_in_sentence`).
    """

    def __init__(self, study: Any, lang: str, labels: Labels, *, instrument_words: bool = True,
                 origin_groups: bool = False):
        self.study, self.lang, self.labels = study, lang, labels
        self.instrument_words, self.origin_groups = instrument_words, origin_groups

    # -- the catalogue ------------------------------------------------------------------------
    def text(self, key: str, **kw: Any) -> str:
        """The catalogue's message ``key``, formatted with ``kw``."""
        return s(self.lang, key, **kw)

    def has(self, key: str) -> bool:
        """Whether the catalogue has the message ``key``."""
        return key in STRINGS[self.lang]

    def study_message(self, key: str) -> str:
        """``key``, or its ``<key>_gen`` wording (no demo words) for a study that is not an
        instrument study, when the catalogue has one."""
        gen = f"{key}_gen"
        return gen if not self.instrument_words and self.has(gen) else key

    def study_text(self, key: str, **kw: Any) -> str:
        """The message ``key`` in the study's wording (:meth:`study_message`)."""
        return self.text(self.study_message(key), **kw)

    def code_label(self, prefix: str, code: Any, **kw: Any) -> str:
        """The message ``<prefix>_<code>`` for a code a stage wrote, in the words of the study's
        source where the catalogue has them (``<prefix>_<source kind>_<code>``:
        :func:`~pipeline.report.text.code_label`); a code without one as it is."""
        source = getattr(self.study, "source", None)
        return code_label(prefix, code, self.lang, platform=getattr(source, "kind", None), **kw)

    def yes_no(self, value: Any) -> str:
        """True (``true``, ``1``) → yes, anything else → no; missing → blank."""
        if isna(value):
            return ""
        return self.text("yes") if str(value).lower() in ("true", "1", "1.0") else self.text("no")

    def join(self, words: list[str]) -> str:
        """``a``, ``a and b``, ``a, b and c`` in the report language."""
        words = [w for w in words if w]
        if len(words) < 2:
            return "".join(words)
        return ", ".join(words[:-1]) + f" {self.text('and')} " + words[-1]

    # -- numbers ------------------------------------------------------------------------------
    def number(self, x: Any, digits: int = 2, *, sign: bool = False) -> str:
        """``x`` with ``digits`` decimals (NaN → an en dash; ``sign``: "+" before a positive)."""
        return num(x, self.lang, digits, sign=sign)

    def integer(self, x: Any) -> str:
        """A whole number with the language's thousands separator."""
        return integer(x, self.lang)

    def share(self, x: Any, digits: int = 1) -> str:
        """A share 0–1 as a percentage ("25,4%")."""
        return pct(x, self.lang, digits)

    def p_value(self, p: Any) -> str:
        """A p value with three decimals; below 0.001 "< 0,001"."""
        return pval(p, self.lang)

    def p_equals(self, p: Any) -> str:
        """"= 0,023" or "< 0,001", after a p label in a sentence."""
        return peq(p, self.lang)

    # -- the study's names ----------------------------------------------------------------------
    def wave(self, w: Any) -> str:
        """A wave's label (the study's; an unknown wave as it is)."""
        try:
            return self.study.wave_label(str(w), self.lang)
        except StopIteration:
            return str(w)

    def wave_span(self, pre: Any, post: Any) -> str:
        """"Before → After": a comparison of two waves."""
        return f"{self.wave(pre)} → {self.wave(post)}"

    def group(self, g: Any) -> str:
        """A group's label; ``all`` is everyone."""
        if str(g) == "all":
            return self.text("all")
        return self.study.group_label(str(g), self.lang)

    def group_in_sentence(self, g: Any) -> str:
        """A group's label inside a sentence: lower-cased for the demo's common nouns (lokal,
        pendatang), as written for a study's own labels (Boston, Halloween)."""
        return self.group(g).lower() if self.origin_groups else self.group(g)

    def group_phrase(self, g: str) -> str:
        """"everyone" or "the <group> group", to follow a finding's subject."""
        if g == "all":
            return self.text("group_all_phrase")
        return self.text("group_phrase", label=self.group(g).lower())

    def dimension(self, d: Any) -> str:
        """A dimension's or subscale's name (the instrument's ``scales``, else generic)."""
        return self.labels.dim(d)

    def tie(self, t: Any) -> str:
        """A tie type's name (its name generator's ``short_label``; ``any``; else generic)."""
        return self.labels.tie(t)
