// A stub of the Google Apps Script services the generated google_form.gs uses (FormApp,
// PropertiesService, Logger), for tests/sources/test_google_form_script.py.
//
// It follows the documented behaviour of the real services
// (https://developers.google.com/apps-script/reference/forms) closely enough to catch misuse:
// - items only have the methods their class has (a PageBreakItem has no setRequired);
// - createChoice(value, navigation) takes a PageBreakItem or a PageNavigationType, nothing else;
// - setGoToPage on a PageBreakItem takes the same and applies to the page *before* the break;
// - choice values, grid rows and columns must be non-empty, distinct strings;
// - a text validation needs a rule before build();
// - openById of an unknown id throws, as for a form deleted from Drive.
// Forms and script properties are kept in a JSON state file, so two runs of the script see
// what the first one made (as two runs in one Apps Script project do).
//
// Usage: node formapp_stub.js <script.gs> <function> <state.json>
// prints {"forms": {...}, "logs": [...], "error": null | "message"} as JSON.
'use strict';

const fs = require('fs');
const vm = require('vm');

function fail(message) { throw new Error(message); }

function strings(values, what) {
  if (!Array.isArray(values) || values.length === 0) fail(`${what}: needs a non-empty array`);
  values.forEach((v) => { if (typeof v !== 'string' || v === '') fail(`${what}: ${JSON.stringify(v)} is not a non-empty string`); });
  if (new Set(values).size !== values.length) fail(`${what}: duplicate values`);
  return values.slice();
}

const PageNavigationType = Object.freeze({ CONTINUE: 'CONTINUE', GO_TO_PAGE: 'GO_TO_PAGE', RESTART: 'RESTART', SUBMIT: 'SUBMIT' });

function navTarget(nav, what) {
  if (nav instanceof PageBreakItem) return { page: nav.id };
  if (Object.values(PageNavigationType).includes(nav) && nav !== PageNavigationType.GO_TO_PAGE) return { type: nav };
  return fail(`${what}: not a PageBreakItem or PageNavigationType: ${JSON.stringify(nav)}`);
}

class Item {
  constructor(form, type) { this.form = form; this.id = form.nextId(); this.type = type; this.title = ''; this.helpText = ''; }
  setTitle(t) { if (typeof t !== 'string') fail('setTitle: not a string'); this.title = t; return this; }
  setHelpText(t) { if (typeof t !== 'string') fail('setHelpText: not a string'); this.helpText = t; return this; }
  getId() { return this.id; }
  getTitle() { return this.title; }
  getType() { return this.type; }
  toJSON() {
    const out = {};
    for (const [k, v] of Object.entries(this)) if (k !== 'form') out[k] = v;
    return out;
  }
}
class Question extends Item {
  constructor(form, type) { super(form, type); this.required = false; }
  setRequired(r) { if (typeof r !== 'boolean') fail('setRequired: not a boolean'); this.required = r; return this; }
}
class PageBreakItem extends Item {
  constructor(form) { super(form, 'PAGE_BREAK'); this.goTo = null; }
  setGoToPage(nav) { this.goTo = navTarget(nav, 'setGoToPage'); return this; }
}
class SectionHeaderItem extends Item { constructor(form) { super(form, 'SECTION_HEADER'); } }
class Choice { constructor(value, nav) { this.value = value; this.nav = nav; } }
class ChoiceQuestion extends Question {
  constructor(form, type) { super(form, type); this.choices = []; }
  setChoiceValues(values) { this.choices = strings(values, `${this.type}.setChoiceValues`).map((v) => ({ value: v, nav: null })); return this; }
  createChoice(value, nav) {
    if (typeof value !== 'string' || value === '') fail('createChoice: empty value');
    if (nav === undefined) return new Choice(value, null);
    if (this.type === 'CHECKBOX') fail('createChoice: checkbox choices cannot navigate');
    return new Choice(value, navTarget(nav, 'createChoice'));
  }
  setChoices(choices) {
    if (!Array.isArray(choices) || choices.length === 0) fail('setChoices: needs a non-empty array');
    choices.forEach((c) => { if (!(c instanceof Choice)) fail('setChoices: not a Choice'); });
    strings(choices.map((c) => c.value), `${this.type}.setChoices`);
    this.choices = choices.map((c) => ({ value: c.value, nav: c.nav }));
    return this;
  }
}
class GridItem extends Question {
  constructor(form) { super(form, 'GRID'); this.rows = []; this.columns = []; }
  setRows(rows) { this.rows = strings(rows, 'GridItem.setRows'); return this; }
  setColumns(cols) { this.columns = strings(cols, 'GridItem.setColumns'); return this; }
}
class TextItem extends Question {
  constructor(form) { super(form, 'TEXT'); this.validation = null; }
  setValidation(v) { if (!(v instanceof TextValidation)) fail('setValidation: not a TextValidation'); this.validation = v.rule; return this; }
}
class TextValidation { constructor(rule) { this.rule = rule; } }
class TextValidationBuilder {
  constructor() { this.rule = { helpText: '', kind: null }; }
  setHelpText(t) { this.rule.helpText = t; return this; }
  requireNumber() { this.rule.kind = 'NUMBER'; return this; }
  requireWholeNumber() { this.rule.kind = 'WHOLE_NUMBER'; return this; }
  requireNumberBetween(a, b) {
    if (typeof a !== 'number' || typeof b !== 'number' || a > b) fail('requireNumberBetween: bad bounds');
    Object.assign(this.rule, { kind: 'NUMBER_BETWEEN', min: a, max: b }); return this;
  }
  requireNumberGreaterThanOrEqualTo(a) { Object.assign(this.rule, { kind: 'NUMBER_GTE', min: a }); return this; }
  requireNumberLessThanOrEqualTo(b) { Object.assign(this.rule, { kind: 'NUMBER_LTE', max: b }); return this; }
  build() { if (!this.rule.kind) fail('TextValidation.build: no rule set'); return new TextValidation(this.rule); }
}

class Form {
  constructor(id, title, state) {
    this.id = id; this.title = title; this.items = []; this.settings = {}; this.counter = 0; this.state = state;
  }
  nextId() { this.counter += 1; return `${this.id}-i${this.counter}`; }
  getId() { return this.id; }
  getPublishedUrl() { return `https://docs.google.com/forms/d/e/${this.id}/viewform`; }
  getEditUrl() { return `https://docs.google.com/forms/d/${this.id}/edit`; }
  setTitle(t) { this.title = t; return this; }
  setDescription(d) { if (typeof d !== 'string') fail('setDescription: not a string'); this.description = d; return this; }
  set_(key, value, type) { if (typeof value !== type) fail(`${key}: not a ${type}`); this.settings[key] = value; return this; }
  setConfirmationMessage(m) { return this.set_('confirmationMessage', m, 'string'); }
  setCollectEmail(b) { return this.set_('collectEmail', b, 'boolean'); }
  setLimitOneResponsePerUser(b) { return this.set_('limitOneResponsePerUser', b, 'boolean'); }
  setAllowResponseEdits(b) { return this.set_('allowResponseEdits', b, 'boolean'); }
  setShowLinkToRespondAgain(b) { return this.set_('showLinkToRespondAgain', b, 'boolean'); }
  setProgressBar(b) { return this.set_('progressBar', b, 'boolean'); }
  add_(item) { this.items.push(item); return item; }
  addPageBreakItem() { return this.add_(new PageBreakItem(this)); }
  addSectionHeaderItem() { return this.add_(new SectionHeaderItem(this)); }
  addMultipleChoiceItem() { return this.add_(new ChoiceQuestion(this, 'MULTIPLE_CHOICE')); }
  addCheckboxItem() { return this.add_(new ChoiceQuestion(this, 'CHECKBOX')); }
  addListItem() { return this.add_(new ChoiceQuestion(this, 'LIST')); }
  addGridItem() { return this.add_(new GridItem(this)); }
  addTextItem() { return this.add_(new TextItem(this)); }
  getItems() { return this.items.slice(); }
  deleteItem(item) {
    const i = this.items.indexOf(item);
    if (i < 0) fail('deleteItem: not an item of this form');
    this.items.splice(i, 1);
  }
  toJSON() {
    return { id: this.id, title: this.title, description: this.description || '', settings: this.settings,
             items: this.items.map((i) => i.toJSON()) };
  }
}

function revive(data, state) {
  // a form saved by an earlier run: enough to reopen it, list and delete its items
  const form = new Form(data.id, data.title, state);
  form.settings = data.settings;
  if (data.description) form.description = data.description;
  form.items = data.items.map((d) => Object.assign(Object.create(Item.prototype), d, { form }));
  form.counter = data.items.length + 1000;
  return form;
}

function makeServices(state, logs) {
  const forms = {};
  for (const [id, data] of Object.entries(state.forms)) forms[id] = revive(data, state);
  const FormApp = {
    PageNavigationType,
    create(title) {
      state.created += 1;
      const form = new Form(`form${state.created}`, title, state);
      forms[form.id] = form;
      return form;
    },
    openById(id) { if (!forms[id]) fail(`No item with the given ID could be found (${id})`); return forms[id]; },
    createTextValidation() { return new TextValidationBuilder(); },
  };
  const PropertiesService = {
    getScriptProperties() {
      return {
        getProperty: (k) => (k in state.props ? state.props[k] : null),
        setProperty: (k, v) => { state.props[k] = String(v); },
        deleteProperty: (k) => { delete state.props[k]; },
      };
    },
  };
  const Logger = { log: (m) => { logs.push(String(m)); } };
  return { FormApp, PropertiesService, Logger, forms };
}

function main() {
  const [scriptPath, fn, statePath] = process.argv.slice(2);
  const state = fs.existsSync(statePath) ? JSON.parse(fs.readFileSync(statePath, 'utf8'))
    : { forms: {}, props: {}, created: 0, deleted: [] };
  const logs = [];
  const services = makeServices(state, logs);
  const context = vm.createContext({ FormApp: services.FormApp, PropertiesService: services.PropertiesService, Logger: services.Logger });
  let error = null;
  try {
    vm.runInContext(fs.readFileSync(scriptPath, 'utf8'), context, { filename: scriptPath });
    if (typeof context[fn] !== 'function') fail(`no function ${fn} in the script`);
    context[fn]();
  } catch (e) {
    error = e.message;
  }
  for (const [id, form] of Object.entries(services.forms)) state.forms[id] = form.toJSON();
  fs.writeFileSync(statePath, JSON.stringify(state));
  process.stdout.write(JSON.stringify({ forms: state.forms, props: state.props, logs, error }));
}

if (require.main === module) main();
module.exports = { makeServices, PageNavigationType };
