"""The names of a study's codes in the report language: dimensions and subscales, tie types,
covariates and their choices (codes the stages write — quality issues and actions, method and
note codes — are catalogue messages, :func:`pipeline.report.text.code_label`).

Each name comes from one place: what the study measured from its own scale map (a tables study's
``scales.csv`` label columns: dimension, subscale, item statement) or its instrument (``scales``
for dimensions and subscales, each item's question, a name generator's ``short_label`` for its tie
type, a ``var`` question's ``short_label`` and its choices' labels), what the analysis makes
(network indicators, the ``any`` tie type, quality and method codes) from the message catalogue.
A code neither names gets the catalogue's generic wording (``dim_generic``, ``subscale_generic``,
``tie_generic``), never another study's words. A label given in the other language only is used
as given (a statement is the question as it was asked).
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from ..instrument import scale_map as instrument_scale_map
from .text import STRINGS, s

__all__ = ["Labels"]


def _words(code: str) -> str:
    return str(code).replace("_", " ")


class Labels:
    """Labels in ``lang`` from the instrument ``inst`` (may be None) and the catalogue.

    Parameters
    ----------
    inst : pipeline.instrument.Instrument or None
    lang : "id" | "en"
    scale_map : pandas.DataFrame, optional
        The study's scale map (``dimension``, ``subscale``): tells ``trust_outgroup`` is the
        subscale ``outgroup`` of ``trust`` for a study whose instrument does not name it; its
        label columns (``dimension_label_<lang>``, ``subscale_label_<lang>``, ``label_<lang>``,
        :data:`pipeline.tidy.SCALE_LABEL_COLUMNS`), when there, name the dimensions, subscales
        and items before the instrument does.
    """

    def __init__(self, inst: Any, lang: str, scale_map: pd.DataFrame | None = None):
        self.inst, self.lang = inst, lang
        pairs: dict[str, tuple[str, str]] = {}
        dims: set[str] = set()
        frames = [scale_map] if scale_map is not None and len(scale_map) else []
        if inst is not None:
            frames.append(instrument_scale_map(inst))
        for sm in frames:
            for d, sub in zip(sm["dimension"].astype(str), sm["subscale"].astype(str)):
                dims.add(d)
                pairs.setdefault(f"{d}_{sub}", (d, sub))
        self._dims, self._pairs = dims, pairs
        self._questions: dict[str, Any] | None = None
        self._own, self._statements = _own_labels(scale_map if frames and frames[0] is scale_map else None, lang)

    def _t(self, key: str, **kw: Any) -> str:
        return s(self.lang, key, **kw)

    def has(self, key: str) -> bool:
        return key in STRINGS[self.lang]

    def dim(self, d: Any) -> str:
        """A score's dimension: ``trust`` (a dimension), ``trust_outgroup`` (its subscale) or
        ``network_degree`` (a network indicator the analysis makes)."""
        d = str(d)
        if d in self._own:
            return self._own[d]
        if self.has(f"dim_{d}"):
            return self._t(f"dim_{d}")
        if d in self._dims or d not in self._pairs:
            own = self.inst.scale_label(d, None, self.lang) if self.inst is not None else None
            return own or self._t("dim_generic", name=_words(d))
        dim, sub = self._pairs[d]
        own = self.inst.scale_label(dim, sub, self.lang) if self.inst is not None else None
        return own or self._t("subscale_generic", dimension=self.dim(dim), name=_words(sub))

    def statement(self, item: Any) -> str | None:
        """An item's statement: the scale map's ``label_<lang>`` (else the other language's), else
        its question in the instrument (the own/other-group placeholders in words); None if neither."""
        item = str(item)
        if item in self._statements:
            return self._statements[item]
        q = self._items().get(item)
        if q is None:
            return None
        lab = q.get("label") or {}
        text = str((lab.get(self.lang) if isinstance(lab, dict) else lab) or "")
        own, other = self._t("item_own_group"), self._t("item_other_group")
        for lang in ("id", "en"):
            text = text.replace(f"${{kelompok_sendiri_{lang}}}", own).replace(f"${{kelompok_lain_{lang}}}", other)
        return " ".join(text.split()) or None

    def _items(self) -> dict[str, Any]:
        """The instrument's scale items by name ({} without an instrument)."""
        if self._questions is None:
            qs = self.inst.questions if self.inst is not None else []
            self._questions = {q.name: q for q in qs if "scale" in q.row}
        return self._questions

    def statements(self, items: Any) -> dict[str, str]:
        """``{item: statement}`` of those ``items`` that have one (:meth:`statement`)."""
        out = {str(i): self.statement(i) for i in items}
        return {i: text for i, text in out.items() if text}

    def tie(self, t: Any) -> str:
        """A tie type: ``any`` (the union of the study's tie types) or a name generator's."""
        t = str(t)
        if t == "any":
            return self._t("tie_any")
        own = self.inst.tie_label(t, self.lang) if self.inst is not None else None
        return own or self._t("tie_generic", name=_words(t))

    def var(self, v: str) -> str | None:
        """A covariate's label: its question's ``short_label`` (else the question's label), or the
        catalogue's ``var_<name>`` for a column the pipeline makes; None when neither names it."""
        q = self.inst.by_var(v) if self.inst is not None else None
        if q is not None:
            label = self.inst.short_label(q, self.lang) or (q.get("label") or {}).get(self.lang)
            if label:
                return " ".join(str(label).split())
        return self._t(f"var_{v}") if self.has(f"var_{v}") else None

    def choices(self, v: str) -> dict[str, str]:
        """``{choice name: label}`` of the select question of covariate ``v`` ({} if none)."""
        q = self.inst.by_var(v) if self.inst is not None else None
        if q is None or not q.list_name or q.list_name not in self.inst.choices:
            return {}
        return {c["name"]: (c.get("label") or {}).get(self.lang) or c["name"] for c in self.inst.choices[q.list_name]}


def _given(row: Any, base: str, lang: str) -> str | None:
    """``<base>_<lang>`` of a scale-map row, else the other language's; None when neither is given."""
    for col in (f"{base}_{lang}", f"{base}_{'en' if lang == 'id' else 'id'}"):
        value = row.get(col)
        if isinstance(value, str) and value.strip():
            return " ".join(value.split())
    return None


def _own_labels(scale_map: pd.DataFrame | None, lang: str) -> tuple[dict[str, str], dict[str, str]]:
    """From a scale map's label columns: ``{dimension or dimension_subscale: name}`` and
    ``{item: statement}`` in ``lang`` (both empty without label columns)."""
    names: dict[str, str] = {}
    statements: dict[str, str] = {}
    if scale_map is None or not any(str(c).startswith(("dimension_label", "subscale_label", "label"))
                                    for c in scale_map.columns):
        return names, statements
    for row in scale_map.to_dict("records"):
        d, sub = str(row["dimension"]), str(row["subscale"])
        for key, base in ((d, "dimension_label"), (f"{d}_{sub}", "subscale_label")):
            text = _given(row, base, lang)
            if text and key not in names:
                names[key] = text
        text = _given(row, "label", lang)
        if text:
            statements[str(row["item"])] = text
    return names, statements
