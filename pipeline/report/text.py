"""Every word the report shows, in Bahasa Indonesia (``id``, the default) and English (``en``).

UI strings live in the message catalogues ``locales/id.yaml`` and ``locales/en.yaml`` (:data:`STRINGS`); numbers are formatted by :func:`num` (decimal comma and
thousands dot in Indonesian, period and comma in English). The generated sentences of the summary
are built by the ``sentence_*`` functions from one row of a results table, so the numbers in the
text are the numbers in the tables (``tests/report/test_report.py`` parses them back).

Hedging (one rule for every finding, see :func:`verdict`):

* ``sig``      -- Holm-adjusted p < alpha **and** the 95% CI of the change excludes 0:
  "meningkat/menurun signifikan";
* ``holm``     -- the CI excludes 0 but the Holm-adjusted p is not below alpha: "naik/turun, tetapi
  belum signifikan setelah koreksi Holm";
* ``unsure``   -- the CI includes 0: "cenderung naik/turun, tetapi belum dapat dipastikan";
* ``flat``     -- the change is 0 or, with a CI including 0, rounds to 0,00;
  ``untestable`` -- too few pairs for a test.

A ``sig`` change smaller than the study's smallest meaningful change (``analysis.min_effect``,
|d_z|) is said to be significant but negligible in size (:func:`negligible`).
"""

from __future__ import annotations

import math
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from ..errors import SinergiError
from ..io import read_yaml
from .bibliography import resolve

LANGUAGES = ("id", "en")
MINUS = "\u2212"

# ---------------------------------------------------------------------------------------------
# numbers
# ---------------------------------------------------------------------------------------------


def _missing(x: Any) -> bool:
    if x is None:
        return True
    try:
        return bool(math.isnan(float(x)))
    except (TypeError, ValueError):
        return False


def num(x: Any, lang: str, digits: int = 2, *, sign: bool = False) -> str:
    """Format a number for the report language; NaN → an en dash.

    >>> num(0.6, "id"), num(-1234.5, "en", 1), num(12345, "id", 0)
    ('0,60', '−1,234.5', '12.345')
    """
    if _missing(x):
        return "–"
    x = float(x)
    if math.isinf(x):
        return "∞" if x > 0 else MINUS + "∞"
    s = f"{abs(x):,.{digits}f}"
    if lang == "id":
        s = s.replace(",", "\0").replace(".", ",").replace("\0", ".")
    if round(x, digits) == 0:
        x = 0.0
    prefix = MINUS if x < 0 else ("+" if sign and x > 0 else "")
    return prefix + s


def ci_digits(lo: Any, hi: Any, digits: int = 2, most: int = 6) -> int:
    """The decimals a confidence interval needs: ``digits``, or more until its bounds print
    differently and a bound that is not 0 does not print as 0 (so "0.00 to 0.17" never hides a
    bound just below or above 0, and a CI of a very large study is not "0.16 to 0.16").

    >>> ci_digits(0.06, 0.17), ci_digits(0.004, 0.17), ci_digits(0.1581, 0.1629), ci_digits(-0.0004, 0.2)
    (2, 3, 3, 4)
    """
    if _missing(lo) or _missing(hi):
        return digits
    lo, hi = float(lo), float(hi)
    d = digits
    while d < most:
        a, b = round(lo, d), round(hi, d)
        if a != b and (a != 0 or lo == 0) and (b != 0 or hi == 0):
            break
        d += 1
    return d


def cut_digits(x: Any, cut: float, digits: int = 3, most: int = 6) -> int:
    """Decimals that keep ``x`` on its side of a threshold ``cut`` when printed (a CFI of 0.8997
    is "0.8997", not "0.900", beside the rule "below 0.90").

    >>> cut_digits(0.8997, 0.90), cut_digits(0.95, 0.90), cut_digits(0.9, 0.90)
    (4, 3, 3)
    """
    if _missing(x) or float(x) == float(cut):
        return digits
    d = digits
    while d < most and round(float(x), d) == round(float(cut), d):
        d += 1
    return d


def integer(x: Any, lang: str) -> str:
    """A whole number with the language's thousands separator (``3.707`` / ``3,707``)."""
    return num(x, lang, 0)


_MONTHS = {"id": ["Januari", "Februari", "Maret", "April", "Mei", "Juni", "Juli", "Agustus", "September",
                  "Oktober", "November", "Desember"],
           "en": ["January", "February", "March", "April", "May", "June", "July", "August", "September",
                  "October", "November", "December"]}


def when(text: Any, lang: str) -> str:
    """An ISO time (``2026-11-23T10:05:00Z``) as people write it, in UTC: "23 November 2026, 10.05 UTC"
    (Indonesian writes the hour with a dot), "23 November 2026, 10:05 UTC"; other text unchanged.

    >>> when("2026-11-23T10:05:09+00:00", "id"), when("2026-11-23T10:05:09Z", "en")
    ('23 November 2026, 10.05 UTC', '23 November 2026, 10:05 UTC')
    """
    try:
        t = datetime.fromisoformat(str(text).replace("Z", "+00:00"))
    except ValueError:
        return str(text)
    t = t.astimezone(timezone.utc) if t.tzinfo else t
    sep = "." if lang == "id" else ":"
    return f"{t.day} {_MONTHS[lang][t.month - 1]} {t.year}, {t.hour:02d}{sep}{t.minute:02d} UTC"


def pval(p: Any, lang: str) -> str:
    """p value with three decimals; below 0.001 as "< 0,001"."""
    if _missing(p):
        return "–"
    if float(p) < 0.001:
        return "< " + num(0.001, lang, 3)
    return num(p, lang, 3)


def peq(p: Any, lang: str) -> str:
    """"= 0,023" or "< 0,001", to follow a p label in a sentence."""
    text = pval(p, lang)
    return text if text.startswith("<") else "= " + text


def pct(x: Any, lang: str, digits: int = 1) -> str:
    """A share (0–1) as a percentage: 0.254 → "25,4%"."""
    if _missing(x):
        return "–"
    return num(100 * float(x), lang, digits) + "%"


def parse_num(text: str, lang: str) -> float:
    """Inverse of :func:`num` (used by the tests).

    >>> parse_num("−1.234,50", "id"), parse_num("0.60", "en")
    (-1234.5, 0.6)
    """
    t = text.strip().replace(MINUS, "-").replace("+", "").replace("%", "")
    t = t.replace(".", "").replace(",", ".") if lang == "id" else t.replace(",", "")
    return float(t)


# ---------------------------------------------------------------------------------------------
# fixed strings
# ---------------------------------------------------------------------------------------------

LOCALES = Path(__file__).resolve().parent / "locales"


def _catalogue(lang: str) -> dict[str, Any]:
    """The message catalogue ``locales/<lang>.yaml``: message id → text (or a list of texts).

    One YAML file per language rather than gettext ``.po``: the messages are keyed by id, not by
    English text (both languages are first-class, and the Indonesian report is the default), the
    file needs no compile step, and a PKM team member can correct a sentence in any text editor.
    ``tests/report/test_catalogue.py`` checks that both files have the same ids and placeholders.
    """
    data = read_yaml(LOCALES / f"{lang}.yaml")
    if not isinstance(data, dict):
        raise SinergiError(f"{LOCALES / f'{lang}.yaml'}: not a mapping of message ids to texts")
    return {key: _cited(value, lang, f"{LOCALES / f'{lang}.yaml'}: message {key}") for key, value in data.items()}


def _cited(value: Any, lang: str, where: str) -> Any:
    """A message with its citation markers (``[@holm1979]``, ``@hake1998``) turned into citations
    (:func:`pipeline.report.bibliography.resolve`); a list of messages item by item."""
    if isinstance(value, list):
        return [_cited(v, lang, where) for v in value]
    return resolve(value, lang, where) if isinstance(value, str) and "@" in value else value


STRINGS: dict[str, dict[str, Any]] = {lang: _catalogue(lang) for lang in LANGUAGES}


def s(lang: str, key: str, **kw: Any) -> str:
    """The string ``key`` in ``lang``, formatted with ``kw``."""
    text = STRINGS[lang][key]
    return text.format(**kw) if kw else text


def code_label(prefix: str, code: Any, lang: str, *, platform: str | None = None, **kw: Any) -> str:
    """The catalogue's message ``<prefix>_<code>`` for a code a stage wrote (``issue``,
    ``action``, ``method``, ``coll_note``); a code without a message as it is.

    With ``platform`` (the study's source kind), the platform's own wording
    ``<prefix>_<platform>_<code>`` comes first when the catalogue has it: a submission
    ``not_approved`` is "marked Rejected in ODK Central" in an ``odk`` study, "marked Not Approved
    in KoboToolbox" otherwise.

    >>> code_label("issue", "not_approved", "en", platform="odk")
    'marked Rejected in ODK Central'
    """
    own = f"{prefix}_{platform}_{code}"
    if platform and own in STRINGS[lang]:
        return s(lang, own, **kw)
    key = f"{prefix}_{code}"
    return s(lang, key, **kw) if key in STRINGS[lang] else str(code)


def issue_label(issue: Any, lang: str, platform: str | None = None) -> str:
    """A quality ``issue`` code (:data:`pipeline.schemas.QUALITY_ISSUES`) in ``lang``, in the words
    of the study's ``platform`` (source kind) where they differ."""
    return code_label("issue", issue, lang, platform=platform)


def action_label(action: Any, lang: str) -> str:
    """A quality ``action`` code (:data:`pipeline.schemas.QUALITY_ACTIONS`) in ``lang``."""
    return code_label("action", action, lang)


def method_label(method: Any, lang: str) -> str:
    """A mixed-model ``method`` code (:data:`pipeline.analysis.prepost.METHODS`) in ``lang``."""
    return code_label("method", method, lang)


def capfirst(text: str) -> str:
    return text[:1].upper() + text[1:] if text else text


# ---------------------------------------------------------------------------------------------
# hedged findings
# ---------------------------------------------------------------------------------------------


def verdict(estimate: float, ci_low: float, ci_high: float, p_adj: float, alpha: float) -> str:
    """One of ``sig``, ``holm``, ``unsure``, ``flat``, ``untestable`` (see the module docstring)."""
    if _missing(estimate) or _missing(ci_low) or _missing(ci_high):
        return "untestable"
    excludes = float(ci_low) > 0 or float(ci_high) < 0
    if float(estimate) == 0 or (not excludes and abs(float(estimate)) < 0.005):
        return "flat"
    if not excludes:
        return "unsure"
    if not _missing(p_adj) and float(p_adj) < alpha:
        return "sig"
    return "holm"


def negligible(verdict_code: str, effect: Any, min_effect: float) -> bool:
    """True for a significant change smaller than the study's smallest meaningful change
    (``|effect| < min_effect``, both in d_z units)."""
    return verdict_code == "sig" and not _missing(effect) and abs(float(effect)) < float(min_effect)


def dz_digits(dz: Any, min_effect: float, digits: int = 2) -> int:
    """Decimals for a d_z beside the smallest meaningful change: one more when the two would
    print alike although one is below the other."""
    if _missing(dz) or abs(float(dz)) == float(min_effect):
        return digits
    return digits + 1 if round(abs(float(dz)), digits) == round(float(min_effect), digits) else digits


def sentence_scale(row: dict, lang: str, dim: str, grp_phrase: str, scale: tuple[float, float],
                   alpha: float, min_effect: float = 0.1) -> tuple[str, str]:
    """The summary sentence for one prepost row; returns (verdict code, sentence).

    The change and its CI are printed with :func:`ci_digits` decimals (the paired tables print the
    row with the same); a significant change with ``|d_z| < min_effect`` is called negligible in size.
    """
    v = verdict(row["diff"], row["diff_ci_low"], row["diff_ci_high"], row["p_holm"], alpha)
    direction = "up" if (not _missing(row["diff"]) and row["diff"] >= 0) else "down"
    key = {"sig": f"v_sig_{direction}", "holm": f"v_holm_{direction}", "unsure": f"v_unsure_{direction}",
           "flat": "v_flat", "untestable": "v_untestable"}[v]
    if v == "untestable":
        return v, capfirst(s(lang, "sentence_scale_untestable", dim=dim, grp=grp_phrase, verdict=s(lang, key),
                                n=integer(row["n_pairs"], lang), pairs=s(lang, "pairs")))
    small = negligible(v, row["d_z"], min_effect)
    vd, zd = ci_digits(row["diff_ci_low"], row["diff_ci_high"]), dz_digits(row["d_z"], min_effect)
    verdict_text = (s(lang, f"v_negligible_{direction}", min=num(min_effect, lang, zd)) if small else s(lang, key))
    text = s(lang, "sentence_scale", dim=dim, grp=grp_phrase, verdict=verdict_text, dir=s(lang, direction),
             absdiff=num(abs(row["diff"]), lang, vd), points=s(lang, "points"), pre=num(row["mean_pre"], lang),
             post=num(row["mean_post"], lang),
             scale=s(lang, "scale_range", lo=num(scale[0], lang, 0), hi=num(scale[1], lang, 0)),
             ci=s(lang, "ci95"), lo=num(row["diff_ci_low"], lang, vd), to=s(lang, "to"),
             hi=num(row["diff_ci_high"], lang, vd), dz=num(row["d_z"], lang, zd), plabel=s(lang, "p_holm_label"),
             p=peq(row["p_holm"], lang), n=integer(row["n_pairs"], lang), pairs=s(lang, "pairs"))
    return v, capfirst(text)
