"""The canonical tables: the contract between every source and every analysis.

=============  =========================  ===================================================
table          one row per                columns
=============  =========================  ===================================================
respondents    respondent × wave          ``respondent_id``, ``wave``, ``group``, ``site``,
                                          then optional covariates (see :data:`COVARIATES`)
responses      respondent × wave × item   ``respondent_id``, ``wave``, ``item``, ``value``
ties           nomination                 ``site``, ``wave``, ``tie_type``, ``ego``, ``alter``,
                                          ``weight`` (NaN when the source has none)
scale_map      scale item                 ``item``, ``dimension``, ``subscale``, ``reverse``,
                                          ``min``, ``max``
quality        problem found in the data  ``wave``, ``submission_id``, ``respondent_id``,
                                          ``issue``, ``field``, ``value``, ``action``, ``detail``
=============  =========================  ===================================================

``respondent_id``, ``ego`` and ``alter`` are pseudonyms, stable across waves. Each table is
validated on write and on read; a broken rule raises :class:`~pipeline.errors.SinergiError` naming
the table, the column, the rule and the first offending rows (the first data row is row 1).

The rules on values are written once here and used both by the schemas and by the sources that
report a broken rule with the line of their input file (:func:`value_rule`, :func:`covariate_rule`,
:data:`WEIGHT_MIN`/:data:`WEIGHT_MAX`):

- a scale item's ``value`` lies within its ``min``..``max`` and, when both are whole numbers, is a
  whole number (Likert answers: 3.5 on a 1–5 item is refused);
- a tie ``weight`` is a frequency 1–4 (the instrument's ``frekuensi`` list), or empty;
- covariates the instrument defines have a kind: 1/0 indicators (``joint_purchasing``,
  ``membership_*``, …), whole counts ≥ 0 (``forum_meetings``, ``employees``, ``*_n``), amounts ≥ 0
  (``revenue``, ``input_costs``) and years 0–120 (``age``, ``years_in_village``, ``business_age``).

The quality table (``quality.csv``, written by tidy) holds **codes**, not prose: ``issue`` is a key
of :data:`QUALITY_ISSUES` and ``action`` a key of :data:`QUALITY_ACTIONS`; the report prints them
in its language with the catalogue's messages ``issue_<code>`` and ``action_<code>``
(``pipeline/report/locales/{id,en}.yaml``; ``issue_<source kind>_<code>`` first where a platform has
its own words, e.g. ``issue_odk_not_approved``: Rejected in ODK Central). ``field`` and ``value``
are the field and value as found (a column, an xpath, a pseudonym, a validation status); ``detail``
holds an action's parameters as ``key=value`` pairs joined by ``"; "`` (``kept=48338098``: the
``_id`` kept), empty when it has none. Every row is made by :func:`quality_row`, which refuses a
code not listed here.
"""

from __future__ import annotations

import re
from typing import Any, Callable

import numpy as np
import pandas as pd
import pandera.pandas as pa
from pandera.errors import SchemaError, SchemaErrors

from .errors import SinergiError

#: covariates the KoboToolbox instrument fills (other sources may add their own columns).
COVARIATES = {
    "submission_id": "source submission id (KoboToolbox ``_id``), for tracing answers back",
    "submitted_at": "submission time, UTC ISO 8601",
    "sex": "perempuan | laki_laki",
    "age": "years",
    "years_in_village": "years lived in the village",
    "sector": "main business sector (choice name)",
    "business_age": "years the business has run",
    "employees": "people working in the business besides the owner",
    "membership_*": "1/0 per organisation (forum_umkm, paguyuban, koperasi, bumdes)",
    "joint_purchasing": "1/0 bought inputs jointly in the last 3 months",
    "collective_brand": "1/0 sells under a collective brand",
    "shared_storage": "1/0 uses shared storage/stock",
    "emergency_fund": "1/0 pays into a collective emergency fund",
    "digital_channels_*": "1/0 per digital sales channel; ``digital_channels_n`` counts them",
    "revenue": "monthly revenue, Rp",
    "input_costs": "monthly input costs, Rp",
    "forum_meetings": "forum meetings attended in the last 6 months",
    "trainings_*": "1/0 per training attended; ``trainings_n`` counts them",
}

#: tie weights are the frequency of contact, 1 (rarely) .. 4 (almost daily)
WEIGHT_MIN, WEIGHT_MAX = 1.0, 4.0

#: covariate kind → (rule on the non-missing values, what the rule asks for)
RULES: dict[str, tuple[Callable[[pd.Series], pd.Series], str]] = {
    "binary": (lambda x: x.isin([0.0, 1.0]), "1 or 0"),
    "count": (lambda x: (x >= 0) & (x == np.floor(x)), "a whole number, 0 or more"),
    "amount": (lambda x: x >= 0, "an amount, 0 or more"),
    "years": (lambda x: (x >= 0) & (x <= 120), "a number of years, 0 to 120"),
}
_KINDS = [
    (r"(joint_purchasing|collective_brand|shared_storage|emergency_fund)", "binary"),
    (r"(forum_meetings|employees|\w+_n)", "count"),
    (r"(membership|digital_channels|trainings)_\w+", "binary"),
    (r"(revenue|input_costs)", "amount"),
    (r"(age|years_in_village|business_age)", "years"),
]
#: text accepted for a 1/0 indicator in a CSV (anything else is refused)
BINARY_WORDS = {"1": 1.0, "0": 0.0, "ya": 1.0, "tidak": 0.0, "yes": 1.0, "no": 0.0, "true": 1.0, "false": 0.0}


def covariate_kind(name: str) -> str | None:
    """The kind of a covariate (a key of :data:`RULES`), or None for one the instrument does not define.

    >>> covariate_kind("joint_purchasing"), covariate_kind("trainings_n"), covariate_kind("hobby")
    ('binary', 'count', None)
    """
    return next((kind for pattern, kind in _KINDS if re.fullmatch(pattern, name)), None)


def covariate_rule(name: str) -> tuple[Callable[[pd.Series], pd.Series], str] | None:
    """``(ok, wanted)`` for covariate ``name``: ``ok(values)`` is True where a non-missing value
    keeps the rule; ``wanted`` says what the rule asks for."""
    kind = covariate_kind(name)
    return RULES[kind] if kind else None


def value_rule(values: pd.Series, lo: pd.Series, hi: pd.Series) -> pd.Series:
    """True where a scale answer keeps its item's rule (missing answers keep it): within
    ``lo``..``hi`` and, when both bounds are whole numbers, a whole number."""
    grid = (lo == np.floor(lo)) & (hi == np.floor(hi))
    ok = (values >= lo) & (values <= hi) & (~grid | (values == np.floor(values)))
    return ok | values.isna()


def _check_covariates(df: pd.DataFrame, place: str) -> None:
    """Refuse a respondents table whose covariate breaks its rule, naming column, rule and rows."""
    for col in df.columns:
        rule = covariate_rule(str(col))
        if rule is None or col in ("respondent_id", "wave", "group", "site"):
            continue
        x = pd.to_numeric(df[col], errors="coerce")
        if x.notna().sum() != df[col].notna().sum():
            continue  # a text column (e.g. the space-separated choices of a select-multiple)
        bad = x.notna() & ~rule[0](x)
        if bad.any():
            rows = "; ".join(f"row {df.index.get_loc(i) + 1}: {col}={_show(df.at[i, col])}" for i in df.index[bad][:5])
            raise SinergiError(f"table respondents{place}: column {col} has values that are not {rule[1]} "
                               f"(first offending rows, the first data row is row 1 — {rows})")


_str = pa.Column(str, nullable=False, checks=pa.Check.str_length(min_value=1))

RESPONDENTS = pa.DataFrameSchema(
    {"respondent_id": _str, "wave": _str, "group": _str, "site": _str},
    unique=["respondent_id", "wave"], strict=False, coerce=True, name="respondents",
)

RESPONSES = pa.DataFrameSchema(
    {"respondent_id": _str, "wave": _str, "item": _str,
     "value": pa.Column(float, nullable=True)},
    unique=["respondent_id", "wave", "item"], strict=True, coerce=True, name="responses",
)

TIES = pa.DataFrameSchema(
    {"site": _str, "wave": _str, "tie_type": _str, "ego": _str, "alter": _str,
     "weight": pa.Column(float, nullable=True, checks=pa.Check.in_range(WEIGHT_MIN, WEIGHT_MAX))},
    unique=["wave", "tie_type", "ego", "alter"], strict=True, coerce=True, name="ties",
    checks=pa.Check(lambda df: df["ego"] != df["alter"], error="self-nomination (ego == alter)"),
)

SCALE_MAP = pa.DataFrameSchema(
    {"item": pa.Column(str, unique=True), "dimension": _str, "subscale": _str,
     "reverse": pa.Column(bool), "min": pa.Column(float), "max": pa.Column(float)},
    strict=False, coerce=True, name="scale_map",
    checks=pa.Check(lambda df: df["min"] < df["max"], error="min must be below max"),
)

#: quality ``issue`` codes: what was found (the English meaning; the report's words are the catalogue's)
QUALITY_ISSUES = {
    "duplicate_upload": "the same meta/instanceID uploaded twice",
    "same_submission_twice": "the same submission (_id) twice in the data",
    "respondent_twice": "a respondent submitted twice in the wave",
    "no_consent": "consent refused (not in the survey)",
    "not_approved": "marked Not Approved in KoboToolbox (Rejected in ODK Central)",
    "not_yet_approved": "not Approved on the server, and the study counts Approved only",
    "edited_on_server": "edited on the server (KoboToolbox, ODK Central) after it was pulled",
    "deleted_on_server": "deleted on the server after it was pulled",
    "validation_changed": "validation status (ODK Central: review state) changed after it was pulled",
    "form_version_missing": "the submission's form version is not available from the server",
    "self_nomination": "the respondent named themself",
    "off_roster_nomination": "named someone not on the roster",
    "duplicate_nomination": "the same nomination twice",
    "non_respondent_nomination": "named someone who is not a respondent",
    "unknown_column": "an export column matches no question of the form (e.g. an older form version)",
    "csv_no_weights": "tie frequencies are not in a CSV export (an XLSX export has them)",
    "column_personal": "a respondents.csv column held back: it looks personal",
    "blank_questionnaire": "a blank questionnaire: no scale item answered and nobody named",
    "frequency_not_named": "a Google Form's how-often grid answered for people the respondent did not name "
                           "(value: how many)",
}
#: quality ``action`` codes: what was done (``detail`` keys in brackets)
QUALITY_ACTIONS = {
    "left_out": "the submission is left out",
    "dropped": "the nomination is dropped",
    "kept_later": "the later submission is kept [kept: its _id]",
    "kept_one": "one copy is kept",
    "used_edited": "the edited version is used",
    "now_counted": "the submission now counts",
    "now_left_out": "the submission is now left out",
    "read_with_deployed": "the submission is read with the deployed form",
    "kept_not_node": "kept in the ties table, but not a network node",
    "ignored": "the column is ignored",
    "weights_unknown": "tie weights left unknown (NaN)",
    "kept_raw_only": "kept in data/raw only (list it in privacy.keep_columns to use it)",
}
QUALITY_COLUMNS = ["wave", "submission_id", "respondent_id", "issue", "field", "value", "action", "detail"]
_DETAIL = r"^$|^[a-z_]+=[^;=]*(; [a-z_]+=[^;=]*)*$"


def quality_row(issue: str, action: str, *, wave: str = "", submission_id: Any = "", respondent_id: str = "",
                field: str = "", value: Any = "", **detail: Any) -> dict[str, str]:
    """One row of the quality table; ``detail`` keyword arguments become ``key=value`` pairs.

    >>> quality_row("duplicate_upload", "kept_later", wave="post", submission_id=7, kept=9)["detail"]
    'kept=9'

    Raises
    ------
    ValueError
        For an issue or action code not in :data:`QUALITY_ISSUES` / :data:`QUALITY_ACTIONS`.
    """
    if issue not in QUALITY_ISSUES:
        raise ValueError(f"quality issue {issue!r} is not a code of schemas.QUALITY_ISSUES")
    if action not in QUALITY_ACTIONS:
        raise ValueError(f"quality action {action!r} is not a code of schemas.QUALITY_ACTIONS")
    pairs = "; ".join(f"{k}={str(v).replace(';', ',').replace('=', ':')}" for k, v in detail.items())
    return {"wave": wave, "submission_id": str(submission_id), "respondent_id": respondent_id, "issue": issue,
            "field": str(field), "value": "" if value is None else str(value), "action": action, "detail": pairs}


def quality_detail(text: Any) -> dict[str, str]:
    """The ``detail`` cell as a dict (``"kept=9"`` → ``{"kept": "9"}``; empty or NaN → ``{}``)."""
    if not isinstance(text, str) or not text.strip():
        return {}
    return dict(pair.split("=", 1) for pair in text.split("; "))


_text = pa.Column(str, nullable=True)
QUALITY = pa.DataFrameSchema(
    {"wave": _text, "submission_id": _text, "respondent_id": _text, "field": _text, "value": _text,
     "issue": pa.Column(str, checks=pa.Check.isin(list(QUALITY_ISSUES))),
     "action": pa.Column(str, checks=pa.Check.isin(list(QUALITY_ACTIONS))),
     "detail": pa.Column(str, nullable=True, checks=pa.Check.str_matches(_DETAIL))},
    strict=True, coerce=True, name="quality",
)

SCHEMAS = {"respondents": RESPONDENTS, "responses": RESPONSES, "ties": TIES, "scale_map": SCALE_MAP,
           "quality": QUALITY}

#: the CSV files a ``tables`` study is read from (``source.path``), copied to ``data/raw/<id>/tables/``
TABLE_FILES = ("respondents", "responses", "ties", "scales")
#: the columns each tables CSV must have
TABLE_COLUMNS = {
    "respondents": ["respondent_id", "wave", "group"],
    "responses": ["respondent_id", "wave", "item", "value"],
    "ties": ["wave", "tie_type", "ego", "alter"],
    "scales": ["item", "dimension", "subscale", "reverse", "min", "max"],
}
#: the tables a tables study may leave out (a study without networks needs no ties.csv)
OPTIONAL_TABLES = ("ties",)


def validate(name: str, df: pd.DataFrame, where: str = "") -> pd.DataFrame:
    """Validate ``df`` as canonical table ``name``; return it with coerced dtypes.

    Raises
    ------
    SinergiError
        Naming the table (and ``where`` it came from), the column, the rule and up to five
        offending rows.
    """
    schema = SCHEMAS[name]
    missing = [c for c in schema.columns if c not in df.columns]
    place = f" ({where})" if where else ""
    if missing:
        raise SinergiError(f"table {name}{place}: missing column(s) {', '.join(missing)}; "
                           f"required: {', '.join(schema.columns)}")
    try:
        out = schema.validate(df, lazy=False)
    except (SchemaError, SchemaErrors) as exc:
        raise SinergiError(f"table {name}{place}: {_describe(exc, schema, df)}") from None
    if name == "respondents":
        _check_covariates(out, place)
    return out


def _show(value) -> str:
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return "(empty)"
    return repr(value.item() if hasattr(value, "item") else value)


def _describe(exc: SchemaError | SchemaErrors, schema: pa.DataFrameSchema, df: pd.DataFrame) -> str:
    """One readable sentence for a pandera error: column, rule, first offending rows."""
    first = (getattr(exc, "schema_errors", None) or [exc])[0]
    reason = getattr(getattr(first, "reason_code", None), "name", "")
    check = getattr(first, "check", None)
    target = getattr(first, "schema", None)
    column = getattr(target, "name", None)
    if column not in schema.columns:
        column = None
    stats = getattr(check, "statistics", None) or {}
    check_name = getattr(check, "name", None) or str(check or "")
    if reason == "DATATYPE_COERCION":
        rule = f"has a value that is not {schema.columns[column].dtype}" if column else \
            "has a value of the wrong type"
    elif reason == "SERIES_CONTAINS_NULLS":
        rule = "has empty values"
    elif reason == "SERIES_CONTAINS_DUPLICATES":
        rule = "has duplicate values"
    elif reason == "DUPLICATES":
        rule = f"has duplicate rows for ({', '.join(schema.unique or [])})"
    elif check_name == "isin":
        rule = f"has a value that is not one of its codes ({', '.join(map(str, stats.get('allowed_values', [])))})"
    elif check_name == "str_length":
        rule = "has empty text"
    elif check_name == "greater_than_or_equal_to":
        rule = f"has values below {stats.get('min_value')}"
    elif check_name == "in_range":
        rule = f"has values outside {stats.get('min_value'):g}..{stats.get('max_value'):g}"
    elif getattr(check, "error", None):
        rule = f"breaks the rule: {check.error}"
    else:
        rule = f"breaks the rule {check_name or str(exc).splitlines()[0]}"
    subject = f"column {column} " if column else ""
    cases = getattr(exc, "failure_cases", None)
    rows: list = []
    if isinstance(cases, pd.DataFrame) and "index" in cases.columns:
        rows = [i for i in pd.unique(cases["index"].dropna()) if i in df.index][:5]
    if not rows:
        return subject + rule
    if column:
        shown = [column]
    elif reason == "DUPLICATES" and schema.unique:
        shown = list(schema.unique)
    else:
        shown = [c for c in schema.columns if c in df.columns]
    listed = "; ".join("row " + str(df.index.get_loc(i) + 1) + ": " + ", ".join(f"{c}={_show(df.at[i, c])}" for c in shown)
                       for i in rows)
    return f"{subject}{rule} (first offending rows, the first data row is row 1 — {listed})"
