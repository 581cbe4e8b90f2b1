"""The Google Form of a wave, as a Google Apps Script, and the contract its responses are read with.

Most PKM teams collect with Google Forms shared over WhatsApp. ``sinergi google script --wave W
--roster roster.csv`` writes a wave's ``google_form.gs``: pasted into https://script.google.com and
run once, it creates the study's form from the instrument (:func:`google_form_script`). Beside it
``google_form.json`` (:func:`google_form_contract`) says what every question title and choice
label the form shows means (its xpath and choice name): Google's responses file has the titles as
column headers and the labels as answers, and :mod:`pipeline.sources.google_forms` reads them
with this contract, never by guessing. ``make instruments`` writes ``instruments/build/google_form.gs``,
a *preview* in the instrument's default language whose name lists are the template roster's example
people (said in the script's header and the form's description): a form to try, not to collect with.

How the instrument becomes a Google Form (one language, the study's):

- each top-level group is a section (a page); notes are text items; hints are help texts;
- consent comes first with the information and data-protection notes, and "go to section based
  on answer": the answer that does not continue (``tidak``) submits the form at once;
- the respondent picks themself from a dropdown of the roster; the name generators are checkbox
  lists of the roster; every roster label carries the stable id, ``Ibu Sari — warung (u012)``, so
  an answer resolves to the id even when labels contain ``", "`` (the checkbox separator);
- Likert items and the other select-one questions are multiple-choice questions (one per item:
  the item title is the contract, and a phone shows one question at a time far better than a
  five-column grid); select-multiple questions are checkboxes; integers are short answers with a
  number range;
- the how-often questions of a name generator (its repeat) are one multiple-choice grid per tie
  type: a row per roster member (the same labels), the frequency choices as columns; the
  respondent fills the rows of the people they picked. Google Forms cannot filter grid rows by
  an earlier answer, so the grid lists everyone; the reader keeps the rows of the people named;
- labels that show a calculation of one select-one answer (``${kelompok_lain_id}`` =
  ``if(${asal} = 'lokal', 'pendatang', 'warga asli desa')``) cannot be piped in Google Forms: the
  sections from the one after that question's section up to the last such label are written once
  per choice of the question (each copy with its text filled in), and the question sends each
  respondent to their copy. A title that means different questions in different copies (the
  ingroup item of a local reads like the outgroup item of a migrant) is resolved by the row's
  answer to that question (the contract's ``cases``);
- calculations, ``start``/``end``/``today`` and notes shown only on some path (the refusal note)
  are not in the form: Google records only the time of submission.

The script is data plus a small interpreter: ``SPEC`` (the items) and ``createForm()``. Run twice,
it makes no second form: the form's id is kept in the script's properties, and a run that was cut
off rebuilds the same form. Its behaviour is tested against a stub of FormApp under node
(``tests/js/formapp_stub.js``).
"""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any

import pandas as pd

from ..errors import SinergiError
from ..instrument import Instrument, Question

#: the contract's format name
FORMAT = "sinergi-google-form/1"
#: words the form needs that the instrument does not have (per language)
TEXTS = {
    "id": {"grid_help": "Isi satu baris untuk setiap orang yang Anda pilih pada pertanyaan sebelumnya; "
                        "lewati baris lainnya.",
           "confirmation": "Terima kasih. Jawaban Anda sudah tersimpan.",
           "number_help": "Isi dengan angka saja."},
    "en": {"grid_help": "Fill in one row for each person you picked in the previous question; skip the "
                        "other rows.",
           "confirmation": "Thank you. Your answers have been recorded.",
           "number_help": "Write a number only."},
}
_CALC = re.compile(r"if\(\s*\$\{(\w+)\}\s*=\s*'([^']*)'\s*,\s*'([^']*)'\s*,\s*'([^']*)'\s*\)")
_PLACEHOLDER = re.compile(r"\$\{(\w+)\}")
_GATE = re.compile(r"\$\{(\w+)\}\s*=\s*'([^']*)'")
SKIP_TYPES = {"start", "end", "today", "deviceid", "calculate", "end_group", "end_repeat"}


def roster_labels(roster: pd.DataFrame) -> dict[str, str]:
    """``{id: label shown}``: each roster label followed by its id in brackets.

    >>> roster_labels(pd.DataFrame({"name": ["u012"], "label": ["Ibu Sari — warung"]}))
    {'u012': 'Ibu Sari — warung (u012)'}
    """
    return {str(n): f"{str(lab).strip()} ({n})" for n, lab in zip(roster["name"], roster["label"])}


def _text(q: Question | dict, key: str, lang: str) -> str:
    row = q.row if isinstance(q, Question) else q
    value = row.get(key)
    return " ".join(str(value[lang]).split()) if isinstance(value, dict) and value.get(lang) else ""


class _Calcs:
    """The calculations labels may show, each ``if(${q} = 'v', 'a', 'b')`` of one question ``q``."""

    def __init__(self, inst: Instrument):
        self.inst = inst
        self.rules: dict[str, tuple[str, str, str, str]] = {}
        for q in inst.questions:
            if q.base_type == "calculate":
                m = _CALC.fullmatch(str(q.get("calculation", "")).strip())
                if m:
                    self.rules[q.name] = m.groups()  # (question, value, then, else)

    def switch(self, q: Question, lang: str) -> str | None:
        """The question the labels of ``q`` depend on (None if none); refuses what cannot be shown."""
        found = set()
        for key in ("label", "hint"):
            for name in _PLACEHOLDER.findall(_text(q, key, lang)):
                if name not in self.rules:
                    raise SinergiError(f"{self.inst.source}: '{q.name}' shows ${{{name}}}, which a Google Form "
                                       "cannot fill in (only a calculate of the form if(${q} = 'v', 'text', "
                                       "'text') can be written out per answer)")
                found.add(self.rules[name][0])
        if len(found) > 1:
            raise SinergiError(f"{self.inst.source}: '{q.name}' shows calculations of several questions "
                               f"({', '.join(sorted(found))}); a Google Form can branch on one")
        return found.pop() if found else None

    def render(self, text: str, case: tuple[str, str] | None) -> str:
        """``text`` with each ``${calc}`` written out for ``case`` = (question, its answer)."""
        def one(m: re.Match) -> str:
            question, value, then, other = self.rules[m.group(1)]
            if case is None or case[0] != question:
                raise SinergiError(f"{self.inst.source}: ${{{m.group(1)}}} needs the answer to {question}")
            return then if case[1] == value else other
        return _PLACEHOLDER.sub(one, text)


def _gate(inst: Instrument) -> tuple[Question | None, str | None]:
    """The consent question the groups' ``relevant`` refers to, and the answer that continues."""
    gates = set()
    for row in inst.survey:
        rel = str(row.get("relevant") or "").strip()
        if row.get("type") in ("begin_group", "begin_repeat") and rel:
            m = _GATE.fullmatch(rel)
            if not m:
                raise SinergiError(f"{inst.source}: group '{row.get('name')}' relevant {rel!r}: a Google Form "
                                   "can only skip to the end on one question's answer (${q} = 'value')")
            gates.add(m.groups())
    if len(gates) > 1:
        raise SinergiError(f"{inst.source}: the groups are shown on different conditions "
                           f"({', '.join(f'{q} = {v}' for q, v in sorted(gates))}); a Google Form can end on one")
    if not gates:
        return None, None
    name, value = gates.pop()
    return inst.question(name), value


class _Builder:
    """Walks the instrument once and collects the script's items and the contract's entries."""

    def __init__(self, inst: Instrument, lang: str, roster: pd.DataFrame):
        if lang not in inst.languages:
            raise SinergiError(f"{inst.source}: language {lang!r} is not one of the instrument's "
                               f"({', '.join(inst.languages)})")
        self.inst, self.lang = inst, lang
        self.people = roster_labels(roster)
        self.calcs = _Calcs(inst)
        self.gate, self.gate_yes = _gate(inst)
        self.items: list[dict[str, Any]] = []
        self.columns: dict[str, dict[str, Any]] = {}
        self.pages = 0
        self.first_page = True
        self.switch: Question | None = None  # the question whose answer picks a copy of the sections
        self.switch_item: dict[str, Any] | None = None

    # -- items ----------------------------------------------------------------------------
    def page(self, title: str, help_text: str = "", after_previous: str | None = None) -> str:
        self.pages += 1
        pid = f"p{self.pages}"
        kind = "header" if self.first_page else "section"
        self.first_page = False
        self.items.append({"type": kind, "id": pid, "title": title, "help": help_text,
                           "after_previous": after_previous})
        return pid

    def column(self, title: str, entry: dict[str, Any], case: tuple[str, str] | None) -> None:
        """Record what the column ``title`` means; a title shared by several copies with different
        questions is resolved by the answer to the switch question (``cases``)."""
        old = self.columns.get(title)
        xpath = entry.pop("xpath")
        if old is None:
            self.columns[title] = {**entry, "xpath": xpath, "cases": {case[1]: xpath} if case else {}}
            return
        if {k: v for k, v in old.items() if k not in ("xpath", "cases")} != entry or (case is None):
            raise SinergiError(f"{self.inst.source}: two questions would have the same title in the Google Form, "
                               f"{title!r} ({old['xpath']} and {xpath}); give one of them another label")
        if old["cases"].get(case[1], xpath) != xpath:
            raise SinergiError(f"{self.inst.source}: two questions would have the same title in the Google Form, "
                               f"{title!r} ({old['cases'][case[1]]} and {xpath}); give one of them another label")
        old["cases"][case[1]] = xpath

    def question(self, q: Question, case: tuple[str, str] | None) -> None:
        t, lang = q.base_type, self.lang
        if t in SKIP_TYPES or (t == "note" and q.get("relevant")):
            return
        if q.get("relevant") and t != "begin_group":
            raise SinergiError(f"{self.inst.source}: '{q.name}' is shown only when {q.get('relevant')}; a Google "
                               "Form cannot hide one question")
        title = self.calcs.render(_text(q, "label", lang), case)
        help_text = self.calcs.render(_text(q, "hint", lang), case)
        required = str(q.get("required", "")).lower() in ("true", "yes", "1")
        if t == "note":
            self.items.append({"type": "header", "title": "", "help": title})
        elif t in ("select_one", "select_multiple"):
            labels = [" ".join(c["label"][lang].split()) for c in self.inst.choices[q.list_name]]
            item = {"type": "choice" if t == "select_one" else "checkbox", "title": title, "help": help_text,
                    "required": required, "choices": labels}
            if q is self.gate:
                item["nav"] = ["CONTINUE" if c["name"] == self.gate_yes else "SUBMIT"
                               for c in self.inst.choices[q.list_name]]
            if q is self.switch:
                if self.gate is q:
                    raise SinergiError(f"{self.inst.source}: '{q.name}' cannot both end the form and pick sections")
                self.switch_item = item
            self.items.append(item)
            self.column(title, {"xpath": q.xpath, "kind": t, "choices": dict(zip(labels, self.inst.choice_names(
                q.list_name)))}, case)
        elif t in ("select_one_from_file", "select_multiple_from_file"):
            kind = "list" if t == "select_one_from_file" else "checkbox"
            self.items.append({"type": kind, "title": title, "help": help_text, "required": required,
                               "choices": list(self.people.values())})
            self.column(title, {"xpath": q.xpath, "kind": "roster_one" if kind == "list" else "roster_multiple"},
                        case)
        elif t in ("integer", "decimal"):
            lo, hi = _bounds(q)
            msg = _text(q, "constraint_message", lang) or TEXTS[_lang(lang)]["number_help"]
            self.items.append({"type": "number", "title": title, "help": help_text, "required": required,
                               "min": lo, "max": hi, "message": msg})
            self.column(title, {"xpath": q.xpath, "kind": t}, case)
        elif t == "text":
            self.items.append({"type": "text", "title": title, "help": help_text, "required": required})
            self.column(title, {"xpath": q.xpath, "kind": "text"}, case)
        else:
            raise SinergiError(f"{self.inst.source}: '{q.name}' is a {q.type} question, which the Google Form "
                               "generator does not write (select, integer, decimal, text, note, roster lists and "
                               "name-generator repeats are supported)")

    def repeat(self, q: Question, case: tuple[str, str] | None) -> None:
        """A name generator's how-often repeat → one grid: a row per roster member."""
        inner = [x for x in self.inst.questions if x.repeat == q.xpath]
        alter = next((x for x in inner if x.get("role") == "tie_alter"), None)
        weight = next((x for x in inner if x.get("role") == "tie_weight"), None)
        field = next((x for x in self.inst.by_role("tie") if x.get("tie_type") == q.get("tie_type")), None)
        if alter is None or weight is None or field is None or weight.base_type != "select_one":
            raise SinergiError(f"{self.inst.source}: repeat '{q.name}' is not a name generator's how-often repeat "
                               "(tie_type, a tie_alter and a select_one tie_weight); a Google Form has no repeats")
        title = self.calcs.render(_text(q, "label", self.lang), case)
        columns = [" ".join(c["label"][self.lang].split()) for c in self.inst.choices[weight.list_name]]
        self.items.append({"type": "grid", "title": title, "help": TEXTS[_lang(self.lang)]["grid_help"],
                           "rows": list(self.people.values()), "columns": columns})
        self.column(title, {"xpath": q.xpath, "kind": "grid", "field": field.xpath, "alter": alter.xpath,
                            "weight": weight.xpath,
                            "choices": dict(zip(columns, self.inst.choice_names(weight.list_name)))}, case)

    def group(self, row: dict[str, Any], case: tuple[str, str] | None, after_previous: str | None = None) -> str:
        """A top-level group as a page; returns the page id."""
        g = self.inst.question(row["name"])
        pid = self.page(self.calcs.render(_text(g, "label", self.lang), case), after_previous=after_previous)
        for q in self.inst.questions:
            if not q.xpath.startswith(g.xpath + "/") or q.repeat is not None:
                continue  # another group's, or inside a repeat (the repeat's grid holds it)
            if q.type == "begin_repeat":
                self.repeat(q, case)
            elif q.type == "begin_group":
                self.items.append({"type": "header", "title": _text(q, "label", self.lang), "help": ""})
            else:
                self.question(q, case)
        return pid


def _lang(lang: str) -> str:
    if lang not in TEXTS:
        raise SinergiError(f"the Google Form has no texts for language {lang!r} yet ({', '.join(TEXTS)}): add them "
                           "to TEXTS in pipeline/sources/google_form_script.py")
    return lang


def _bounds(q: Question) -> tuple[float | None, float | None]:
    c = str(q.get("constraint") or "")
    lo = re.search(r"\.\s*>=\s*(-?[\d.]+)", c)
    hi = re.search(r"\.\s*<=\s*(-?[\d.]+)", c)
    return (float(lo.group(1)) if lo else None, float(hi.group(1)) if hi else None)


def _span(b: _Builder, groups: list[dict[str, Any]]) -> tuple[Question | None, int, int]:
    """The switch question and the range of top-level groups written once per its answer."""
    deps: dict[str, list[int]] = {}
    for i, row in enumerate(groups):
        g = b.inst.question(row["name"])
        shown = [q for q in b.inst.questions if q.xpath.startswith(g.xpath + "/") and q.repeat is None]
        for q in [g] + shown:  # (inside a repeat only its label shows: the grid's title)
            s = b.calcs.switch(q, b.lang)
            if s:
                deps.setdefault(s, []).append(i)
    if not deps:
        return None, 0, 0
    if len(deps) > 1:
        raise SinergiError(f"{b.inst.source}: labels show calculations of {', '.join(sorted(deps))}; a Google Form "
                           "can branch on one question")
    name, where = next(iter(deps.items()))
    switch = b.inst.question(name)
    home = next(i for i, row in enumerate(groups) if switch.xpath.startswith(row["name"] + "/"))
    if switch.base_type != "select_one" or min(where) <= home:
        raise SinergiError(f"{b.inst.source}: labels that show a calculation of '{name}' must come in groups after "
                           f"its group, and '{name}' must be a select_one")
    return switch, home + 1, max(where) + 1


def _build(inst: Instrument, lang: str, roster: pd.DataFrame) -> _Builder:
    b = _Builder(inst, lang, roster)
    groups = [row for row in inst.survey if row.get("type") == "begin_group"]
    stray = [row["name"] for row in inst.survey if row.get("type") not in ("begin_group", *SKIP_TYPES)]
    if stray:
        raise SinergiError(f"{inst.source}: '{stray[0]}' is outside any group; the Google Form writes one section "
                           "per top-level group")
    switch, lo, hi = _span(b, groups)
    b.switch = switch
    for row in groups[:lo] if switch else groups:
        b.group(row, None)
    if switch is None:
        return b
    firsts = []
    names = inst.choice_names(switch.list_name)
    after_pages: list[int] = []
    for value in names:
        after_pages.append(len(b.items))
        firsts.append(b.group(groups[lo], (switch.name, value)))
        for row in groups[lo + 1:hi]:
            b.group(row, (switch.name, value))
    rest = [b.group(row, None) for row in groups[hi:]]
    b.switch_item["nav"] = firsts
    for pos in after_pages[1:]:  # after each copy but the last: on to the first section after them
        b.items[pos]["after_previous"] = rest[0] if rest else "SUBMIT"
    return b


def _contract(inst: Instrument, b: _Builder, title: str) -> dict[str, Any]:
    columns = {}
    for t, entry in b.columns.items():
        entry = dict(entry)
        cases = entry.pop("cases")
        if len(set(cases.values())) > 1:
            entry["cases"] = {"question": b.switch.xpath, "xpaths": cases}
        columns[t] = entry
    body = {"format": FORMAT, "form_id": inst.form["form_id"], "instrument_version": str(inst.form["version"]),
            "language": b.lang, "title": title, "columns": columns, "roster": b.people}
    body["version"] = "g" + hashlib.sha256(json.dumps(body, sort_keys=True, ensure_ascii=False)
                                           .encode("utf-8")).hexdigest()[:12]
    return body


def google_form_contract(inst: Instrument, language: str, roster: pd.DataFrame, *, title: str | None = None
                         ) -> dict[str, Any]:
    """What each column of the form's responses file means.

    Returns
    -------
    dict
        ``format``, ``form_id``, ``instrument_version``, ``language``, ``title``, ``version`` (a
        fingerprint of the rest: the ``__version__`` of the submissions read with it),
        ``roster`` (``{id: label shown}``) and ``columns``: question title → ``xpath``, ``kind``
        (``select_one``, ``select_multiple``, ``roster_one``, ``roster_multiple``, ``integer``,
        ``decimal``, ``text`` or ``grid``), ``choices`` (label → choice name) and, for a grid,
        ``field`` (the name generator), ``alter`` and ``weight`` (the repeat's xpaths); a title
        that means different questions for different answers of one question has
        ``cases: {question: its xpath, xpaths: {answer: xpath}}``.
    """
    b = _build(inst, language, roster)
    return _contract(inst, b, title or inst.form["title"][language])


#: the header's paragraph of a preview script (``make instruments``: the template roster)
PREVIEW_HEAD = (
    " * PREVIEW FORM, to try the questions: its name lists are the example people of\n"
    " * instruments/roster_template.csv, not a village's roster. Do not collect data with it. Make the form of a\n"
    " * survey wave with the village roster: `sinergi google script --wave W --roster roster.csv` (which, like\n"
    " * `sinergi odk deploy` and `sinergi kobo deploy`, refuses the template roster); README, Google Forms.\n")


def google_form_script(inst: Instrument, language: str, roster: pd.DataFrame, *, title: str | None = None,
                       description: str | None = None, preview: bool = False) -> str:
    """The text of ``google_form.gs``: ``SPEC`` and ``createForm()`` (see the module docstring).

    ``description`` is the form's description (shown under its title; none by default);
    ``preview`` marks the script's header as a preview made with the template roster
    (:data:`PREVIEW_HEAD`), the one ``make instruments`` writes.
    """
    b = _build(inst, language, roster)
    title = title or inst.form["title"][language]
    contract = _contract(inst, b, title)
    spec = {"title": title, "confirmation": TEXTS[_lang(language)]["confirmation"],
            "version": contract["version"], "items": b.items}
    if description:
        spec["description"] = description
    data = json.dumps(spec, ensure_ascii=False, indent=1).replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")
    head = (f"/**\n * {title} — Google Form made by sinergi from {inst.form['form_id']} version "
            f"{inst.form['version']} ({language}), contract {contract['version']}.\n"
            + (PREVIEW_HEAD if preview else "") +
            " * 1. Open https://script.google.com → New project; delete what is there and paste this whole file.\n"
            " * 2. Choose the function createForm in the toolbar and press Run; allow the access it asks for.\n"
            " * 3. The execution log prints the link to share (WhatsApp) and the link to edit.\n"
            " * Running it again makes no second form; to make a new one in this project run forgetForm first.\n"
            " * Do not edit the questions' titles or answers in Google Forms: the responses are read by them\n"
            " * (google_form.json). Generated file: edit instruments/sinergi.yaml and rerun `make instruments`.\n */\n")
    return head + "var SPEC = " + data + ";\n\n" + RUNTIME_JS


#: the interpreter of ``SPEC`` (Apps Script; FormApp, PropertiesService and Logger only)
RUNTIME_JS = r"""var PROP_ID = 'sinergi_form_id', PROP_DONE = 'sinergi_form_done';

function createForm() {
  var props = PropertiesService.getScriptProperties();
  var form = openMade_(props);
  if (form && props.getProperty(PROP_DONE) === SPEC.version) {
    Logger.log('This project already made the form (nothing changed). Share: ' + form.getPublishedUrl() +
               ' Edit: ' + form.getEditUrl());
    return form;
  }
  if (form && props.getProperty(PROP_DONE)) {
    throw new Error('This project already made a form from another version of the script (' +
                    props.getProperty(PROP_DONE) + '): run this one in a new Apps Script project, ' +
                    'or run forgetForm first');
  }
  if (form) {  // a run that was cut off: rebuild the same form
    form.getItems().forEach(function (item) { form.deleteItem(item); });
    form.setTitle(SPEC.title);
  } else {
    form = FormApp.create(SPEC.title);
    props.setProperty(PROP_ID, form.getId());
  }
  if (SPEC.description) form.setDescription(SPEC.description);
  form.setConfirmationMessage(SPEC.confirmation);
  form.setCollectEmail(false);
  form.setLimitOneResponsePerUser(false);
  form.setAllowResponseEdits(false);
  form.setShowLinkToRespondAgain(true);
  form.setProgressBar(true);
  build_(form);
  props.setProperty(PROP_DONE, SPEC.version);
  Logger.log('Share this link (WhatsApp): ' + form.getPublishedUrl());
  Logger.log('Edit (do not change titles or answers): ' + form.getEditUrl());
  return form;
}

function forgetForm() {
  var props = PropertiesService.getScriptProperties();
  props.deleteProperty(PROP_ID);
  props.deleteProperty(PROP_DONE);
  Logger.log('This project no longer remembers its form; createForm will make a new one.');
}

function openMade_(props) {
  var id = props.getProperty(PROP_ID);
  if (!id) return null;
  try { return FormApp.openById(id); } catch (e) { props.deleteProperty(PROP_DONE); return null; }
}

function build_(form) {
  var pages = {}, later = [];
  SPEC.items.forEach(function (it) {
    var item;
    if (it.type === 'section') {
      item = form.addPageBreakItem().setTitle(it.title).setHelpText(it.help || '');
      pages[it.id] = item;
      if (it.after_previous) later.push(function () { item.setGoToPage(target_(pages, it.after_previous)); });
      return;
    }
    if (it.type === 'header') {
      form.addSectionHeaderItem().setTitle(it.title).setHelpText(it.help || '');
      return;
    }
    if (it.type === 'choice') {
      item = form.addMultipleChoiceItem();
      if (it.nav) {
        later.push(function () {
          item.setChoices(it.choices.map(function (label, k) {
            return item.createChoice(label, target_(pages, it.nav[k]));
          }));
        });
      }
      item.setChoiceValues(it.choices);
    } else if (it.type === 'checkbox') {
      item = form.addCheckboxItem().setChoiceValues(it.choices);
    } else if (it.type === 'list') {
      item = form.addListItem().setChoiceValues(it.choices);
    } else if (it.type === 'grid') {
      item = form.addGridItem().setRows(it.rows).setColumns(it.columns);
    } else if (it.type === 'number') {
      item = form.addTextItem();
      var rule = FormApp.createTextValidation().setHelpText(it.message);
      if (it.min !== null && it.max !== null) rule = rule.requireNumberBetween(it.min, it.max);
      else if (it.min !== null) rule = rule.requireNumberGreaterThanOrEqualTo(it.min);
      else if (it.max !== null) rule = rule.requireNumberLessThanOrEqualTo(it.max);
      else rule = rule.requireNumber();
      item.setValidation(rule.build());
    } else if (it.type === 'text') {
      item = form.addTextItem();
    } else {
      throw new Error('unknown item type ' + it.type);
    }
    item.setTitle(it.title).setHelpText(it.help || '');
    if (it.required) item.setRequired(true);
  });
  later.forEach(function (f) { f(); });
}

function target_(pages, key) {
  if (key === 'SUBMIT') return FormApp.PageNavigationType.SUBMIT;
  if (key === 'CONTINUE') return FormApp.PageNavigationType.CONTINUE;
  if (!pages[key]) throw new Error('no section ' + key);
  return pages[key];
}
"""
