"""Personal data held back: what of a respondent's data never leaves ``data/raw/``.

Roster ids become pseudonyms (:mod:`pipeline.pseudonym`); names travel only in the roster's labels.
A ``tables`` study's respondents.csv may hold more: a column whose name or values look like names,
phone numbers, e-mail addresses or free-text notes (:func:`personal_reason`) is held back
(:func:`hold_back_columns`: it stays in raw, one quality row says which and why), unless the
study's ``privacy.keep_columns`` lists it (:func:`check_keep_columns`: only for ``tables`` studies).
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

from .config import Study
from .errors import SinergiError
from .schemas import quality_row

def check_keep_columns(study: Study) -> None:
    """``privacy.keep_columns`` applies to a tables study's respondents.csv only; refuse it elsewhere."""
    if study.privacy.keep_columns and study.source.kind != "tables":
        raise SinergiError(f"study privacy.keep_columns: only for source kind 'tables' (this study's source is "
                           f"'{study.source.kind}', whose covariates come from the instrument's 'var' questions)")


#: respondents.csv columns always read (never held back)
ID_COLUMNS = ("respondent_id", "wave", "group", "site")
_PERSONAL_NAME = re.compile(
    r"(^|_)(nama|name|names|nm|phone|telepon|telpon|telp|tlp|hp|handphone|wa|whatsapp|email|e_mail|mail|surel|"
    r"kontak|contact|alamat|address|nik|ktp|kk|catatan|komentar|comment|comments|note|notes|keterangan|remarks)(_|$)")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[A-Za-z]{2,}$")


def _is_phone(value: str) -> bool:
    """A phone number as typed: 9-15 digits, starting with ``+`` or ``0`` (text, not a number)."""
    digits = sum(ch.isdigit() for ch in value)
    return (9 <= digits <= 15 and re.fullmatch(r"\(?(\+|0)[\d\s()./-]+", value) is not None
            and re.fullmatch(r"0?\.\d+", value) is None)


def personal_reason(name: str, values: pd.Series) -> str | None:
    """Why a respondents.csv column looks personal (names, phones, e-mails, free text), else None.

    A column is personal when its name says so (``nama``, ``no_hp``, ``email``, ``alamat``,
    ``catatan``, …) unless every value is a short number (a count or a 0/1 flag such as
    ``digital_channels_whatsapp``), or when any value is a phone number (9-15 digits starting with
    ``+`` or ``0``) or an e-mail address, or when it holds free text (a value over 40 characters,
    or mostly distinct values with spaces).

    >>> personal_reason("nama_pemilik", pd.Series(["Siti"]))
    'its name looks like names, contact details or notes'
    >>> personal_reason("digital_channels_whatsapp", pd.Series(["1", "0"])) is None
    True
    >>> personal_reason("kontak", pd.Series(["0812 3456 7890"]))
    'its name looks like names, contact details or notes'
    >>> personal_reason("x", pd.Series(["+62 812-3456-7890"]))
    'it holds phone numbers'
    >>> personal_reason("sector", pd.Series(["kuliner", "kuliner", "jasa"])) is None
    True
    """
    text = values.dropna().astype(str).str.strip()
    text = text[text != ""]
    numeric = pd.to_numeric(text, errors="coerce")
    short_numbers = bool(numeric.notna().all() and (numeric.abs() < 1e6).all())
    key = re.sub(r"[^a-z0-9]+", "_", str(name).lower())
    if _PERSONAL_NAME.search(key) and not (len(text) and short_numbers):
        return "its name looks like names, contact details or notes"
    if not len(text):
        return None
    if text.drop_duplicates().map(_is_phone).any():
        return "it holds phone numbers"
    if text.str.match(_EMAIL).any():
        return "it holds e-mail addresses"
    if numeric.notna().all():
        return None
    distinct = text.nunique() / len(text)
    if (text.str.len() > 40).any() or (distinct > 0.5 and text.nunique() >= 5 and text.str.contains(r"\s").any()):
        return "it holds free text (names or notes?)"
    return None


def hold_back_columns(resp: pd.DataFrame, study: Study, path: Path, quality: list[dict]) -> pd.DataFrame:
    """Drop the respondents.csv columns that look personal unless ``privacy.keep_columns`` lists them.

    Each column held back gets one quality row (its name and why, never its values); the column
    stays in ``data/raw/`` only. A ``keep_columns`` entry that is not a column of the file stops
    the run (a misspelt name would otherwise keep nothing, silently).
    """
    keep = list(study.privacy.keep_columns)
    unknown = [c for c in keep if c not in resp.columns]
    if unknown:
        raise SinergiError(f"study privacy.keep_columns: {unknown[0]!r} is not a column of {path} "
                           f"(it has {', '.join(resp.columns)})")
    held = []
    for col in resp.columns:
        if col in ID_COLUMNS or col in keep:
            continue
        why = personal_reason(col, resp[col])
        if why:
            held.append(col)
            quality.append(quality_row("column_personal", "kept_raw_only", field=f"{path.name}: {col}", value=why))
    return resp.drop(columns=held)
