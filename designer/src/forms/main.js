// Entry point of the form designer page (dist/forms.html).
import { api } from '../api.js';
import { t, translatePage, languageToggle } from '../i18n.js';
import { notify } from '../ui/notify.js';
import { newField, toSchema, fromSchema } from './model.js';
import { renderFields, fillTypeSelect } from './editor.js';
import { schedulePreview } from './preview.js';
import { writeJson, readJson } from './json-view.js';

const $ = (id) => document.getElementById(id);
const current = { key: null, title: '', fields: [] };
const model = () => toSchema(current.title, current.fields);

function refresh(rerender = false) {
  if (rerender) renderFields($('field-list'), current.fields, refresh);
  else {
    // keep focus while typing: only update card headings
    document.querySelectorAll('.field-card .card-head > span:first-child').forEach((el, i) => {
      const f = current.fields[i]; if (f) el.textContent = `${i + 1}. ${f.title || f.name} · ${t(f.type)}`;
    });
  }
  writeJson($('json-schema'), $('json-ui'), model());
  schedulePreview($('form-preview'), model);
}

function loadModel(key, schema, ui) {
  const m = fromSchema(schema, ui);
  current.key = key; current.title = m.title; current.fields = m.fields;
  $('form-title').value = m.title;
  refresh(true);
}

async function openForm(key) {
  const data = await api.form(key);
  loadModel(key, data.schema || {}, data.ui || {});
  history.replaceState(null, '', `?key=${encodeURIComponent(key)}`);
}

async function listForms(select) {
  const forms = await api.forms();
  const sel = $('form-select');
  sel.replaceChildren(...forms.map(f => {
    const o = document.createElement('option');
    o.value = f.key; o.textContent = f.title ? `${f.title} (${f.key})` : f.key;
    return o;
  }));
  if (select) sel.value = select;
  return forms;
}

async function start() {
  translatePage();
  $('lang-slot').appendChild(languageToggle());
  fillTypeSelect($('new-field-type'));
  $('form-title').addEventListener('input', (e) => { current.title = e.target.value; refresh(); });
  $('btn-add-field').addEventListener('click', () => { current.fields.push(newField($('new-field-type').value, current.fields)); refresh(true); });
  $('form-select').addEventListener('change', (e) => openForm(e.target.value));
  const applyJson = () => {
    try { const { schema, ui } = readJson($('json-schema'), $('json-ui')); $('json-error').textContent = ''; loadModel(current.key, schema, ui); }
    catch (e) { $('json-error').textContent = e.message; }
  };
  $('btn-apply-json').addEventListener('click', applyJson);
  // two-way: valid JSON typed by a power user flows back into the field cards
  let jsonTimer = null;
  for (const id of ['json-schema', 'json-ui']) {
    $(id).addEventListener('input', () => { clearTimeout(jsonTimer); jsonTimer = setTimeout(applyJson, 700); });
  }
  $('btn-new-form').addEventListener('click', () => {
    const key = window.prompt(t('Form key (letters, digits, _)'), 'new_form');
    if (!key || !/^[A-Za-z0-9_]+$/.test(key)) return;
    const sel = $('form-select');
    const o = document.createElement('option'); o.value = key; o.textContent = key; sel.appendChild(o); sel.value = key;
    loadModel(key, { type: 'object', title: '', properties: {} }, {});
  });
  $('btn-save-form').addEventListener('click', async () => {
    if (!current.key) return;
    const { schema, ui } = model();
    await api.saveForm(current.key, schema, ui);
    notify(t('Form saved'), 'success');
  });
  const wanted = new URLSearchParams(location.search).get('key');
  const forms = await listForms(wanted);
  const key = wanted || (forms[0] && forms[0].key);
  if (key) await openForm(key); else loadModel(null, {}, {});
  document.body.dataset.ready = 'true';
}

start().catch(err => { console.error(err); document.body.dataset.ready = 'error'; });
