"""The small XPath subset of XLSForm the instrument uses, evaluated as ODK Collect would.

Relevance (``relevant``), calculations (``calculation``) and the ``<repeat>_count`` key pyxform adds:
what the demo needs to fill a form exactly as an enumerator's phone would, reading every rule from
the instrument. An expression outside the subset stops with a :class:`~pipeline.errors.SinergiError`
naming it. Pure functions: no file, no network.
"""

from __future__ import annotations

import re

from ..errors import SinergiError
from ..instrument import Instrument, Question

__all__ = ["REF", "relevant", "calculate", "choice_label", "repeat_count_key"]

#: a ``${name}`` reference (group 1: the name)
REF = r"\$\{(\w+)\}"


def choice_label(inst: Instrument, list_name: str, name: str) -> str | None:
    """The label of choice ``name`` of ``list_name`` in the instrument's default language, or None."""
    for c in inst.choices.get(list_name, []):
        if c["name"] == name:
            return c["label"][inst.default_language]
    return None


def relevant(expr: str | None, values: dict[str, str]) -> bool:
    """Whether a row with ``relevant: expr`` is shown, given the answers so far (``values``: name → answer).

    The forms understood: ``${q} = 'v'``, ``${q} != 'v'``, ``selected(${q}, 'v')``, joined by
    ``and`` / ``or`` (no parentheses). Empty ``expr``: shown.

    >>> relevant("${consent} = 'ya' and selected(${tools}, 'wa')", {"consent": "ya", "tools": "wa sms"})
    True
    >>> relevant("${consent} != 'ya'", {"consent": "ya"})
    False
    """
    if not expr:
        return True
    expr = str(expr).strip()
    for joiner in (" and ", " or "):
        if joiner in expr:
            parts = [relevant(p, values) for p in expr.split(joiner)]
            return all(parts) if joiner == " and " else any(parts)
    m = re.fullmatch(REF + r"\s*(!?=)\s*'([^']*)'", expr)
    if m:
        equal = values.get(m.group(1), "") == m.group(3)
        return equal if m.group(2) == "=" else not equal
    m = re.fullmatch(r"selected\(\s*" + REF + r"\s*,\s*'([^']*)'\s*\)", expr)
    if m:
        return m.group(2) in values.get(m.group(1), "").split()
    raise SinergiError(f"demo: cannot evaluate relevant expression {expr!r}; extend pipeline/sources/xlsform_eval.py")


def calculate(expr: str, values: dict[str, str], inst: Instrument, labels: dict[str, str],
              position: int | None = None) -> str:
    """The value ODK Collect would store for ``calculation: expr`` (a string, as submissions carry it).

    Parameters
    ----------
    expr : the calculation: ``if(${q} = 'v', 'a', 'b')``, ``count-selected(${q})``,
        ``selected-at(${q}, position(..) - 1)`` (inside a repeat, with ``position``),
        ``jr:choice-name(${q}, '${q}')`` or ``concat(…)`` of references and quoted strings.
    values : name → answer so far.
    inst : the instrument (choice labels in its default language).
    labels : the roster's name → label (for ``select_one_from_file`` questions).
    position : the 0-based repeat instance, for ``selected-at``.

    >>> calculate("concat(${a}, '-', ${b})", {"a": "x", "b": "y"}, None, {})
    'x-y'
    """
    e = str(expr).strip()
    m = re.fullmatch(r"if\(\s*" + REF + r"\s*=\s*'([^']*)'\s*,\s*'([^']*)'\s*,\s*'([^']*)'\s*\)", e)
    if m:
        return m.group(3) if values.get(m.group(1), "") == m.group(2) else m.group(4)
    m = re.fullmatch(r"count-selected\(\s*" + REF + r"\s*\)", e)
    if m:
        return str(len(values.get(m.group(1), "").split()))
    m = re.fullmatch(r"selected-at\(\s*" + REF + r"\s*,\s*position\(\.\.\)\s*-\s*1\s*\)", e)
    if m and position is not None:
        tokens = values.get(m.group(1), "").split()
        return tokens[position] if position < len(tokens) else ""
    m = re.fullmatch(r"jr:choice-name\(\s*" + REF + r"\s*,\s*'" + REF + r"'\s*\)", e)
    if m:
        value = values.get(m.group(1), "")
        q = inst.question(m.group(2))
        if q.base_type.endswith("_from_file"):
            return labels.get(value, "")
        return choice_label(inst, q.list_name or "", value) or ""
    m = re.fullmatch(r"concat\((.*)\)", e)
    if m:
        out = []
        for part in re.findall(r"\$\{\w+\}|'[^']*'", m.group(1)):
            out.append(values.get(part[2:-1], "") if part.startswith("$") else part[1:-1])
        return "".join(out)
    raise SinergiError(f"demo: cannot evaluate calculation {expr!r}; extend pipeline/sources/xlsform_eval.py")


def repeat_count_key(q: Question) -> str | None:
    """pyxform adds ``<repeat>_count`` when ``repeat_count`` is an expression (not a number or ${ref})."""
    rc = str(q.get("repeat_count") or "").strip()
    if not rc or re.fullmatch(r"\d+", rc) or re.fullmatch(REF, rc):
        return None
    return q.xpath + "_count"
