"""The survey instrument: one YAML source → XLSForm, KoboToolbox asset content, scale map, codebook.

``instruments/sinergi.yaml`` is the only place questions, choices and the scale map are written.
Everything else is derived here with pure functions:

- :func:`xlsform_sheets` — the XLSForm as sheets of rows (what :func:`write_xlsform` saves as .xlsx
  and what pyxform converts);
- :func:`asset_content` — the expanded JSON KoboToolbox returns in ``GET /api/v2/assets/{uid}/``
  (``survey`` rows with ``$xpath``, label arrays aligned with ``translations``);
- :func:`scale_map` — item → dimension/subscale, reverse, min, max;
- :func:`codebook_markdown` — the codebook.
"""

from __future__ import annotations

import hashlib
import io
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from .errors import SinergiError
from .io import EPOCH, read_yaml, stable_ooxml, write_bytes

DEFAULT_PATH = Path(__file__).resolve().parent.parent / "instruments" / "sinergi.yaml"

#: sinergi-only row keys: they steer the pipeline and never reach the XLSForm.
SINERGI_KEYS = ("scale", "reverse", "role", "tie_type", "var", "short_label", "rows")
#: translated XLSForm columns, in the order they appear in the sheet.
TRANSLATED = ("label", "hint", "constraint_message")
#: plain XLSForm columns copied from a row when present, in sheet order.
PLAIN = ("required", "relevant", "constraint", "appearance", "calculation", "repeat_count",
         "parameters", "choice_filter")
ROLES = ("respondent", "group", "tie", "tie_alter", "tie_weight")
CONTAINERS = {"begin_group": "end_group", "begin_repeat": "end_repeat"}


@dataclass(frozen=True)
class Question:
    """One survey row, flattened, with its group path.

    ``xpath`` is the key of the answer in KoboToolbox submission JSON (``group/name``);
    ``repeat`` is the xpath of the enclosing repeat, if any.
    """

    type: str
    name: str
    xpath: str
    row: dict[str, Any]
    repeat: str | None = None

    @property
    def base_type(self) -> str:
        """``select_one likert5`` → ``select_one``."""
        return self.type.split()[0]

    @property
    def list_name(self) -> str | None:
        """Choice list of a select, the file for ``*_from_file``; ``None`` otherwise."""
        parts = self.type.split()
        return parts[1] if len(parts) > 1 else None

    def get(self, key: str, default: Any = None) -> Any:
        return self.row.get(key, default)


#: a ``relevant`` that shows a row on one answer of one question: ``${setuju} = 'ya'``
GATE = re.compile(r"\$\{(\w+)\}\s*=\s*'([^']*)'")


@dataclass(frozen=True)
class Consent:
    """The consent question and the answer that gives consent (see :meth:`Instrument.consent_question`)."""

    question: Question
    answer: str


@dataclass(frozen=True)
class Instrument:
    """A loaded instrument: settings, languages, choices and the flattened survey."""

    form: dict[str, Any]
    languages: dict[str, str]
    choices: dict[str, list[dict[str, Any]]]
    survey: list[dict[str, Any]]
    questions: list[Question] = field(default_factory=list)
    source: str = ""
    #: the top-level ``scales`` key: ``{dimension: {"label": {lang: text}, "subscales": {subscale:
    #: {lang: text}}}}`` (either part may be missing)
    scales: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def default_language(self) -> str:
        return self.form.get("default_language", next(iter(self.languages)))

    @property
    def translations(self) -> list[str]:
        """KoboToolbox translation names, default language first."""
        codes = [self.default_language] + [c for c in self.languages if c != self.default_language]
        return [self.languages[c] for c in codes]

    @property
    def language_codes(self) -> list[str]:
        return [self.default_language] + [c for c in self.languages if c != self.default_language]

    def question(self, name: str) -> Question:
        for q in self.questions:
            if q.name == name:
                return q
        raise KeyError(name)

    def by_role(self, role: str) -> list[Question]:
        return [q for q in self.questions if q.get("role") == role]

    def choice_names(self, list_name: str) -> list[str]:
        return [c["name"] for c in self.choices[list_name]]

    def scale_label(self, dimension: str, subscale: str | None, lang: str) -> str | None:
        """The ``scales`` label of a dimension (``subscale`` None) or subscale in ``lang``; None if not given."""
        entry = self.scales.get(dimension) or {}
        label = entry.get("label") if subscale is None else (entry.get("subscales") or {}).get(subscale)
        return label.get(lang) if isinstance(label, dict) else None

    def short_label(self, question: Question, lang: str) -> str | None:
        """A question's ``short_label`` in ``lang``; None if it has none."""
        label = question.get("short_label")
        return label.get(lang) if isinstance(label, dict) else None

    def by_var(self, var: str) -> Question | None:
        """The question whose ``var`` is ``var`` (None if none)."""
        return next((q for q in self.questions if q.get("var") == var), None)

    def respondent_question(self) -> Question:
        """The question where the respondent picks themself from the roster (``role: respondent``;
        :func:`load_instrument` checks there is exactly one)."""
        return self.by_role("respondent")[0]

    def consent_question(self) -> Consent | None:
        """The consent question: the one whose answer decides whether the respondent is identified.

        It is the outermost ``relevant: ${q} = 'value'`` on the respondent question or on a group
        around it (``identitas`` is shown when ``${setuju} = 'ya'``): without that answer nobody is
        identified, so a submission without it is a refusal. None when the respondent question is
        shown unconditionally (a form without a consent step).

        >>> c = load_instrument().consent_question()
        >>> c.question.name, c.answer
        ('setuju', 'ya')
        """
        respondent = self.respondent_question()
        parts = respondent.xpath.split("/")
        for depth in range(1, len(parts) + 1):
            row = self.question(parts[depth - 1]).row
            m = GATE.fullmatch(str(row.get("relevant") or "").strip())
            if m and any(q.name == m.group(1) and q.base_type == "select_one" for q in self.questions):
                return Consent(self.question(m.group(1)), m.group(2))
        return None

    def needed_xpaths(self) -> list[str]:
        """The questions tidy reads: respondent, group, covariates (``var``), consent, scale items,
        name generators and their frequency repeats (alter, weight) — what an export must hold."""
        out = [q.xpath for q in self.questions if q.get("role") in ("respondent", "group") or q.get("var")]
        consent = self.consent_question()
        out += [consent.question.xpath] if consent else []
        out += [self.question(item).xpath for item in scale_map(self)["item"]]
        for spec in tie_questions(self).values():
            out += [x for x in (spec["field"], spec["alter"], spec["weight"]) if x]
        return list(dict.fromkeys(out))

    def tie_label(self, tie_type: str, lang: str) -> str | None:
        """The ``short_label`` of the name generator of ``tie_type`` in ``lang``; None if it has none."""
        q = next((q for q in self.by_role("tie") if q.get("tie_type") == tie_type), None)
        return None if q is None else self.short_label(q, lang)


# --------------------------------------------------------------------------------------------
# loading and checking


def load_instrument(path: str | Path = DEFAULT_PATH) -> Instrument:
    """Read and check an instrument YAML file.

    Raises
    ------
    SinergiError
        On a missing file, bad YAML, an unknown choice list, a duplicate name, a label missing in
        one language or a scale item that is not a Likert select.
    """
    path = Path(path)
    if not path.exists():
        raise SinergiError(f"instrument file not found: {path}")
    raw = read_yaml(path)
    if not isinstance(raw, dict):
        raise SinergiError(f"{path}: expected the top-level keys form, languages, choices and survey")
    for key in ("form", "languages", "choices", "survey"):
        if key not in raw:
            raise SinergiError(f"{path}: missing top-level key '{key}'")
    shapes = {"form": (dict, "key: value pairs (title, form_id, version)"),
              "languages": (dict, "code: name pairs, e.g. `id: Bahasa Indonesia (id)`"),
              "choices": (dict, "one entry per list, `list_name:` followed by its choices"),
              "survey": (list, "a list of rows, each starting with `- type: …`")}
    for key, (kind, what) in shapes.items():
        if not isinstance(raw[key], kind) or not raw[key]:
            got = type(raw[key]).__name__ if raw[key] is not None else "nothing"
            raise SinergiError(f"{path}: '{key}' must be {what}; got {got}")
    for key in ("title", "form_id", "version"):
        if key not in raw["form"]:
            raise SinergiError(f"{path}: form.{key} is missing")
    if not isinstance(raw["form"]["title"], dict) or set(raw["form"]["title"]) != set(raw["languages"]):
        raise SinergiError(f"{path}: form.title needs a text for every language ({', '.join(raw['languages'])})")
    for name, items in raw["choices"].items():
        if not isinstance(items, list) or not items:
            raise SinergiError(f"{path}: choice list '{name}' must be a list of choices, "
                               "each `- [name, label in each language]`")
    choices = {
        name: [_choice(path, name, c, raw["languages"]) for c in items]
        for name, items in raw["choices"].items()
    }
    for name, items in choices.items():
        _unique_choices(path, name, items)
    inst = Instrument(form=raw["form"], languages=raw["languages"], choices=choices,
                      survey=raw["survey"], source=str(path), scales=_scales(path, raw.get("scales"), raw["languages"]))
    questions: list[Question] = []
    _flatten(path, inst, raw["survey"], [], None, questions)
    object.__setattr__(inst, "questions", questions)
    _check(path, inst)
    return inst


def _labelled(value: Any, languages: dict[str, str]) -> bool:
    return isinstance(value, dict) and set(value) == set(languages) and all(
        isinstance(v, str) and v.strip() for v in value.values())


def _scales(path: Path, raw: Any, languages: dict[str, str]) -> dict[str, dict[str, Any]]:
    """Check the optional top-level ``scales`` key (the report's names of dimensions and subscales)."""
    if raw is None:
        return {}
    langs = ", ".join(languages)
    shape = (f"{path}: 'scales' must map each dimension to `label: {{{langs}}}` and `subscales:` "
             f"(subscale: {{{langs}}})")
    if not isinstance(raw, dict):
        raise SinergiError(shape)
    for dim, entry in raw.items():
        if not isinstance(entry, dict) or set(entry) - {"label", "subscales"}:
            raise SinergiError(f"{shape}; got {dim}: {entry!r}")
        if "label" in entry and not _labelled(entry["label"], languages):
            raise SinergiError(f"{path}: scales.{dim}.label must have text for every language ({langs}), "
                               f"got {entry['label']!r}")
        subs = entry.get("subscales", {})
        if not isinstance(subs, dict):
            raise SinergiError(f"{shape}; got {dim}.subscales: {subs!r}")
        for sub, label in subs.items():
            if not _labelled(label, languages):
                raise SinergiError(f"{path}: scales.{dim}.subscales.{sub} must have text for every language "
                                   f"({langs}), got {label!r}")
    return raw


def _choice(path: Path, list_name: str, item: Any, languages: dict[str, str]) -> dict[str, Any]:
    if not (isinstance(item, list) and len(item) == 1 + len(languages)):
        raise SinergiError(
            f"{path}: choice list '{list_name}': each choice is [name, "
            + ", ".join(f"{c} label" for c in languages) + f"], got {item!r}")
    name, *labels = item
    return {"list_name": list_name, "name": "" if name is None else str(name),
            "label": dict(zip(languages, labels))}


def _unique_choices(path: Path, list_name: str, items: list[dict[str, Any]]) -> None:
    """Every choice of a list has a name, and no name twice (pyxform refuses both; an answer
    naming a duplicate could not be told apart)."""
    names = [c["name"] for c in items]
    for i, name in enumerate(names, start=1):
        if not name.strip():
            raise SinergiError(f"{path}: choice list '{list_name}': choice {i} has an empty name; give it a "
                               "short name such as 1 or ya (what the data stores)")
        if names.index(name) + 1 != i:
            raise SinergiError(f"{path}: choice list '{list_name}': name {name!r} is used twice (choices "
                               f"{names.index(name) + 1} and {i}); each choice needs its own name")


def _flatten(path: Path, inst: Instrument, rows: list[dict], parents: list[str],
             repeat: str | None, out: list[Question]) -> None:
    if not isinstance(rows, list):
        raise SinergiError(f"{path}: 'rows' of '{parents[-1] if parents else 'survey'}' must be a list of rows")
    for row in rows:
        if not isinstance(row, dict):
            raise SinergiError(f"{path}: a survey row must be `key: value` pairs starting with `- type: …`, got {row!r}")
        if "type" not in row:
            raise SinergiError(f"{path}: a survey row has no 'type': {row!r}")
        rtype = row["type"]
        name = row.get("name")
        if not isinstance(rtype, str) or not rtype.strip():
            raise SinergiError(f"{path}: row '{name}': type must be text such as 'select_one likert5', got {rtype!r}")
        if not name:
            raise SinergiError(f"{path}: a '{rtype}' row has no 'name'")
        if not isinstance(name, str):
            raise SinergiError(f"{path}: a '{rtype}' row has name {name!r}; names must be text")
        xpath = "/".join(parents + [name])
        out.append(Question(type=rtype, name=name, xpath=xpath, row=row, repeat=repeat))
        if rtype in CONTAINERS:
            inner_repeat = xpath if rtype == "begin_repeat" else repeat
            _flatten(path, inst, row.get("rows", []), parents + [name], inner_repeat, out)
        elif "rows" in row:
            raise SinergiError(f"{path}: row '{name}' has 'rows' but is not a group or repeat")


def _check(path: Path, inst: Instrument) -> None:
    seen: set[str] = set()
    langs = set(inst.languages)
    for q in inst.questions:
        if q.name in seen:
            raise SinergiError(f"{path}: question name '{q.name}' is used twice; names must be unique")
        seen.add(q.name)
        for col in TRANSLATED:
            if col in q.row:
                val = q.row[col]
                if not isinstance(val, dict) or set(val) != langs or not all(val.values()):
                    raise SinergiError(
                        f"{path}: '{q.name}' {col} must have text for every language "
                        f"({', '.join(sorted(langs))}), got {val!r}")
        needs_label = q.base_type not in ("calculate", "start", "end", "today", "deviceid")
        if needs_label and "label" not in q.row:
            raise SinergiError(f"{path}: '{q.name}' ({q.type}) has no label")
        if q.base_type in ("select_one", "select_multiple") and q.list_name not in inst.choices:
            raise SinergiError(f"{path}: '{q.name}' uses choice list '{q.list_name}', which is not in choices")
        if "scale" in q.row:
            parts = str(q.row["scale"]).split("/")
            if len(parts) != 2 or not all(parts):
                raise SinergiError(f"{path}: '{q.name}' scale must be 'dimension/subscale', got {q.row['scale']!r}")
            if q.base_type != "select_one" or not _numeric_list(inst, q.list_name):
                raise SinergiError(f"{path}: scale item '{q.name}' must be a select_one on a numeric choice list")
        if q.get("role") is not None and q.get("role") not in ROLES:
            raise SinergiError(f"{path}: '{q.name}' role must be one of {', '.join(ROLES)}, got {q.get('role')!r}")
        if "reverse" in q.row and not isinstance(q.row["reverse"], bool):
            raise SinergiError(f"{path}: '{q.name}' reverse = {q.row['reverse']!r}: write true or false (without "
                               "quotes); only those two mean yes and no here")
        if "reverse" in q.row and "scale" not in q.row:
            raise SinergiError(f"{path}: '{q.name}' has reverse but no scale; reverse only applies to scale items")
        if q.get("role") == "tie" or "tie_type" in q.row:
            tie = q.get("tie_type")
            if not isinstance(tie, str) or not tie.strip():
                raise SinergiError(f"{path}: '{q.name}' is a name generator (role tie or a frequency repeat) and needs "
                                   f"tie_type: a short name such as info, help or collab; got {tie!r}")
    ties = [q.get("tie_type") for q in inst.by_role("tie")]
    dup = sorted({t for t in ties if ties.count(t) > 1})
    if dup:
        raise SinergiError(f"{path}: tie_type '{dup[0]}' is used by two name generators (role tie); "
                           "each tie type needs its own")
    for role in ("respondent", "group"):
        if len(inst.by_role(role)) != 1:
            raise SinergiError(f"{path}: exactly one question needs role '{role}'")
    for q in inst.questions:
        if "short_label" in q.row:
            if not (q.get("var") or q.get("role") == "tie"):
                raise SinergiError(f"{path}: '{q.name}' has short_label but no var and is no name generator "
                                   "(role tie); short_label names a covariate or a tie type")
            if not _labelled(q.row["short_label"], inst.languages):
                raise SinergiError(f"{path}: '{q.name}' short_label must have text for every language "
                                   f"({', '.join(inst.languages)}), got {q.row['short_label']!r}")
    used = {tuple(str(q.row["scale"]).split("/")) for q in inst.questions if "scale" in q.row}
    for dim, entry in inst.scales.items():
        if dim not in {d for d, _ in used}:
            raise SinergiError(f"{path}: scales.{dim}: no item has scale {dim}/…; "
                               f"the items' dimensions are {', '.join(sorted({d for d, _ in used}))}")
        for sub in entry.get("subscales", {}):
            if (dim, sub) not in used:
                raise SinergiError(f"{path}: scales.{dim}.subscales.{sub}: no item has scale {dim}/{sub}")


def check_study(inst: Instrument, study: Any) -> None:
    """Check that a study's ``group.variable`` and ``tie_types`` exist in the instrument.

    Raises
    ------
    SinergiError
        Naming the study file, the key, the value and what the instrument has.
    """
    group_q = inst.by_role("group")[0]
    allowed = list(dict.fromkeys([group_q.get("var") or group_q.name]
                                 + [q.get("var") for q in inst.questions
                                    if q.get("var") and q.base_type == "select_one"]))
    variable = study.group.variable
    if variable not in allowed and variable != group_q.name:
        raise SinergiError(f"{study.file}: group.variable = {variable!r} is not a select-one variable of the "
                           f"instrument {inst.source} ({', '.join(allowed)}); check its spelling")
    ties = [q.get("tie_type") for q in inst.by_role("tie")]
    for tie in study.tie_types:
        if tie not in ties:
            raise SinergiError(f"{study.file}: tie_types: {tie!r} has no name generator in the instrument "
                               f"{inst.source} (it has {', '.join(ties)})")


def _numeric_list(inst: Instrument, list_name: str | None) -> bool:
    try:
        [float(n) for n in inst.choice_names(list_name or "")]
    except (KeyError, ValueError):
        return False
    return True


# --------------------------------------------------------------------------------------------
# derived views


def scale_map(inst: Instrument) -> pd.DataFrame:
    """The scale map: one row per Likert item that enters a scale score.

    Returns
    -------
    pandas.DataFrame
        ``item`` (question name), ``dimension`` (e.g. ``trust``), ``subscale`` (e.g. ``outgroup``),
        ``reverse`` (bool: score as ``min + max - value``), ``min``, ``max`` (the answer range).
    """
    rows = []
    for q in inst.questions:
        if "scale" not in q.row:
            continue
        dimension, subscale = q.row["scale"].split("/")
        values = [float(n) for n in inst.choice_names(q.list_name)]
        rows.append({"item": q.name, "dimension": dimension, "subscale": subscale,
                     "reverse": bool(q.row.get("reverse", False)),
                     "min": min(values), "max": max(values)})
    return pd.DataFrame(rows, columns=["item", "dimension", "subscale", "reverse", "min", "max"])


def tie_questions(inst: Instrument) -> dict[str, dict[str, str | None]]:
    """Name generators by tie type.

    Returns
    -------
    dict
        ``{tie_type: {"field": xpath of the select_multiple, "repeat": xpath of the frequency
        repeat or None, "alter": xpath of the alter inside it, "weight": xpath of the frequency
        answer, "weight_list": its choice list}}``.
    """
    out: dict[str, dict[str, str | None]] = {}
    for q in inst.by_role("tie"):
        out[q.get("tie_type")] = {"field": q.xpath, "repeat": None, "alter": None,
                                  "weight": None, "weight_list": None}
    for q in inst.questions:
        if q.type == "begin_repeat" and q.get("tie_type") in out:
            entry = out[q.get("tie_type")]
            entry["repeat"] = q.xpath
            for inner in inst.questions:
                if inner.repeat == q.xpath and inner.get("role") == "tie_alter":
                    entry["alter"] = inner.xpath
                if inner.repeat == q.xpath and inner.get("role") == "tie_weight":
                    entry["weight"] = inner.xpath
                    entry["weight_list"] = inner.list_name
    return out


def _cell(value: Any) -> Any:
    if isinstance(value, bool):
        return "true" if value else "false"
    return value


def xlsform_sheets(inst: Instrument) -> dict[str, list[dict[str, Any]]]:
    """The XLSForm as ``{"survey": rows, "choices": rows, "settings": [row]}``.

    Column names follow XLSForm: ``label::Bahasa Indonesia (id)``, ``label::English (en)`` and so on.
    sinergi-only keys (scale, reverse, role, tie_type, var) are left out.
    """
    codes = inst.language_codes
    survey: list[dict[str, Any]] = []

    def emit(rows: list[dict[str, Any]]) -> None:
        for row in rows:
            out: dict[str, Any] = {"type": row["type"], "name": row["name"]}
            for col in TRANSLATED:
                if col in row:
                    for code in codes:
                        out[f"{col}::{inst.languages[code]}"] = row[col][code].strip()
            for col in PLAIN:
                if col in row:
                    out[col] = _cell(row[col])
            survey.append(out)
            if row["type"] in CONTAINERS:
                emit(row.get("rows", []))
                survey.append({"type": CONTAINERS[row["type"]], "name": ""})

    emit(inst.survey)
    choices = [
        {"list_name": c["list_name"], "name": c["name"],
         **{f"label::{inst.languages[code]}": c["label"][code] for code in codes}}
        for items in inst.choices.values() for c in items
    ]
    form = inst.form
    settings = {"form_title": form["title"][inst.default_language], "form_id": form["form_id"],
                "version": form["version"],
                "default_language": inst.languages[inst.default_language]}
    if "instance_name" in form:
        settings["instance_name"] = form["instance_name"]
    return {"survey": survey, "choices": choices, "settings": [settings]}


def write_xlsform(inst: Instrument, path: str | Path) -> None:
    """Save the XLSForm as .xlsx (sheets survey, choices, settings), atomically."""
    write_bytes(path, xlsform_bytes(inst))


def check_xlsform(inst: Instrument, data: bytes) -> None:
    """Convert the built XLSForm ``data`` with pyxform, as KoboToolbox does on upload.

    Raises
    ------
    SinergiError
        pyxform's refusal in one line, naming the instrument file and the survey or choices row
        (its name) that the XLSForm row number points at.
    """
    from pyxform.errors import PyXFormError
    from pyxform.xls2xform import convert

    try:
        convert(data, warnings=[], file_type=".xlsx")
    except PyXFormError as exc:
        text = " ".join(str(exc).split())
        where = _pyxform_where(inst, text)
        if where:
            text = re.sub(r"^\[row : \d+\]\s*", "", text)
        raise SinergiError(f"{inst.source}: pyxform (KoboToolbox's form converter) refuses the XLSForm built "
                           f"from it: {where}{text.rstrip('.')}; fix it in {inst.source}") from None


def _pyxform_where(inst: Instrument, text: str) -> str:
    """``survey row 12 ('setuju'): `` for pyxform's ``[row : 12] On the 'survey' sheet``, else ``""``."""
    m = re.search(r"\[row : (\d+)\]", text)
    sheet = re.search(r"On the '(survey|choices)' sheet", text)
    if not (m and sheet):
        return ""
    rows = xlsform_sheets(inst)[sheet.group(1)]
    i = int(m.group(1)) - 2  # row 1 is the header
    if not 0 <= i < len(rows):
        return ""
    r = rows[i]
    what = r["name"] if sheet.group(1) == "survey" else f"{r['list_name']}: {r['name']}"
    return f"{sheet.group(1)} row {i + 2} ({what!r}): "


def xlsform_bytes(inst: Instrument) -> bytes:
    """The XLSForm as .xlsx bytes (sheets survey, choices, settings); the same source gives the
    same bytes."""
    from openpyxl import Workbook
    from openpyxl.styles import Font


    wb = Workbook()
    wb.remove(wb.active)
    for sheet, rows in xlsform_sheets(inst).items():
        ws = wb.create_sheet(sheet)
        columns: list[str] = []
        for row in rows:
            for key in row:
                if key not in columns:
                    columns.append(key)
        ws.append(columns)
        for cell in ws[1]:
            cell.font = Font(bold=True)
        for row in rows:
            ws.append([row.get(c, None) for c in columns])
        ws.freeze_panes = "A2"
        for i, col in enumerate(columns, start=1):
            width = 12 if col not in ("type",) else 34
            if col.startswith(("label", "hint")):
                width = 60
            ws.column_dimensions[ws.cell(1, i).column_letter].width = width
    buf = io.BytesIO()
    wb.save(buf)
    return stable_ooxml(buf.getvalue(), EPOCH)  # same source → same bytes


def _kuid(*parts: str) -> str:
    return hashlib.sha1("/".join(parts).encode()).hexdigest()[:9]


def asset_content(inst: Instrument) -> dict[str, Any]:
    """The form as KoboToolbox's expanded asset ``content``.

    This is the shape of ``content`` in ``GET /api/v2/assets/{uid}/``: ``schema``, ``survey``
    (one dict per row, including ``end_group``/``end_repeat`` markers, with ``$kuid``,
    ``$autoname`` and ``$xpath``; selects split into ``type`` + ``select_from_list_name``,
    ``*_from_file`` rows carrying ``file``), ``choices``, ``settings``, ``translations`` and
    ``translated``. Every translated column is a list aligned with ``translations``.
    ``$kuid`` values are derived from names so the same form gives the same JSON.
    """
    codes = inst.language_codes
    survey: list[dict[str, Any]] = []
    used_cols: set[str] = set()

    def emit(rows: list[dict[str, Any]], parents: list[str]) -> None:
        for row in rows:
            parts = row["type"].split()
            out: dict[str, Any] = {"name": row["name"], "type": parts[0]}
            if parts[0] in ("select_one", "select_multiple") and len(parts) > 1:
                out["select_from_list_name"] = parts[1]
            elif parts[0].endswith("_from_file") and len(parts) > 1:
                out["file"] = parts[1]
            for col in TRANSLATED:
                if col in row:
                    out[col] = [row[col][code].strip() for code in codes]
                    used_cols.add(col)
            for col in PLAIN:
                if col in row:
                    value = row[col]
                    if col == "required":
                        value = str(value).lower() in ("true", "yes", "1")
                    out[col] = value
            xpath = "/".join(parents + [row["name"]])
            out["$kuid"] = _kuid(xpath)
            out["$autoname"] = row["name"]
            out["$xpath"] = xpath
            survey.append(out)
            if row["type"] in CONTAINERS:
                emit(row.get("rows", []), parents + [row["name"]])
                survey.append({"type": CONTAINERS[row["type"]], "$kuid": _kuid(xpath, "end")})

    emit(inst.survey, [])
    choices = [
        {"list_name": c["list_name"], "name": c["name"], "$autovalue": c["name"],
         "label": [c["label"][code] for code in codes],
         "$kuid": _kuid(c["list_name"], c["name"])}
        for items in inst.choices.values() for c in items
    ]
    settings = {"version": inst.form["version"], "id_string": inst.form["form_id"],
                "default_language": inst.languages[inst.default_language]}
    if "instance_name" in inst.form:
        settings["instance_name"] = inst.form["instance_name"]
    return {
        "schema": "1",
        "survey": survey,
        "choices": choices,
        "settings": settings,
        "translated": [c for c in TRANSLATED if c in used_cols],
        "translations": inst.translations,
    }


def codebook_markdown(inst: Instrument) -> str:
    """The codebook as Markdown: one table row per question, grouped by module.

    Columns: variable (the submission key), type, question text in each language, choices,
    subscale and reverse flag.
    """
    smap = scale_map(inst).set_index("item")
    codes = inst.language_codes
    lang_names = [inst.languages[c] for c in codes]
    title = inst.form["title"]
    lines = [f"# Codebook — {title[inst.default_language]} / {title.get('en', '')}".rstrip(" /"), "",
             f"Form id `{inst.form['form_id']}`, version `{inst.form['version']}`. "
             "Generated from `instruments/sinergi.yaml` by `make instruments`; do not edit by hand.", "",
             "Reverse-coded items are scored as `min + max − answer` before averaging.", ""]
    header = ["variable", "type", *lang_names, "choices", "scale", "reverse"]
    for q in inst.questions:
        if q.type == "begin_group" and q.repeat is None and "/" not in q.xpath:
            lines += ["", f"## {q.row['label'][codes[0]]} / {q.row['label'].get('en', '')}", "",
                      "| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
            continue
        if q.base_type in ("start", "end", "today", "begin_group"):
            continue
        labels = [(q.row.get("label", {}).get(c) or "").strip().replace("\n", " ") for c in codes]
        choices = ""
        if q.base_type in ("select_one", "select_multiple"):
            choices = "; ".join(f"`{c['name']}` {c['label'][codes[0]]}" for c in inst.choices[q.list_name])
        elif q.base_type.endswith("_from_file"):
            choices = f"roster `{q.list_name}` (`name` column)"
        scale = ""
        reverse = ""
        if q.name in smap.index:
            scale = f"{smap.loc[q.name, 'dimension']}/{smap.loc[q.name, 'subscale']}"
            reverse = "yes" if smap.loc[q.name, "reverse"] else "no"
        cells = [f"`{q.xpath}`", q.type, *labels, choices, scale, reverse]
        lines.append("| " + " | ".join(str(c).replace("|", "\\|") for c in cells) + " |")
    lines += _label_sections(inst, smap, codes, lang_names)
    return "\n".join(lines) + "\n"


def _label_sections(inst: Instrument, smap: pd.DataFrame, codes: list[str], lang_names: list[str]) -> list[str]:
    """The codebook's tables of the names the report uses: scales (``scales``) and short labels."""
    def row(cells: list[Any]) -> str:
        return "| " + " | ".join(str(c).replace("|", "\\|") for c in cells) + " |"

    out = ["", "## Scales", "", "The report's names of each dimension and subscale (`scales` in the instrument; "
           "one not named there is named generically).", "",
           row(["scale", *lang_names, "items"]), "|" + "---|" * (len(codes) + 2)]
    for dim in pd.unique(smap["dimension"]) if len(smap) else []:
        items = smap.index[smap["dimension"] == dim]
        out.append(row([f"`{dim}`", *[inst.scale_label(dim, None, c) or "" for c in codes], len(items)]))
        for sub in pd.unique(smap.loc[items, "subscale"]):
            n = int(((smap["dimension"] == dim) & (smap["subscale"] == sub)).sum())
            out.append(row([f"`{dim}/{sub}`", *[inst.scale_label(dim, sub, c) or "" for c in codes], n]))
    short = [q for q in inst.questions if "short_label" in q.row]
    if short:
        out += ["", "## Short labels", "", "The short names of covariates (`var`: SPSS/Stata variable labels) and "
                "tie types (`tie_type`: the report's tables and figures).", "",
                row(["name", *lang_names]), "|" + "---|" * (len(codes) + 1)]
        for q in short:
            name = f"`{q.get('var')}`" if q.get("var") else f"tie type `{q.get('tie_type')}`"
            out.append(row([name, *[inst.short_label(q, c) or "" for c in codes]]))
    return out
