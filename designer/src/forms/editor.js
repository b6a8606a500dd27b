// Field cards: one card per field with the inputs the analyst edits.
import { h } from '../ui/dialog.js';
import { t } from '../i18n.js';
import { FIELD_TYPES, coerce } from './model.js';

function input(label, value, onInput, attrs = {}) {
  const el = h('input', { type: 'text', value: value ?? '', ...attrs });
  el.addEventListener('input', () => onInput(el.value));
  return h('label', { className: 'row' }, h('span', {}, t(label)), el);
}

export function renderFields(container, fields, changed) {
  container.replaceChildren();
  fields.forEach((f, idx) => {
    const card = h('div', { className: 'field-card', 'data-field': f.name });
    const upd = (k) => (v) => { f[k] = v; changed(); };
    const head = h('div', { className: 'card-head' },
      h('span', {}, `${idx + 1}. ${f.title || f.name} · ${t(f.type)}`),
      h('span', {},
        h('button', { title: t('Move up'), onclick: () => { if (idx > 0) { fields.splice(idx - 1, 0, fields.splice(idx, 1)[0]); changed(true); } } }, '↑'),
        h('button', { title: t('Move down'), onclick: () => { if (idx < fields.length - 1) { fields.splice(idx + 1, 0, fields.splice(idx, 1)[0]); changed(true); } } }, '↓'),
        h('button', { title: t('Delete'), className: 'btn-delete-field', onclick: () => { fields.splice(idx, 1); changed(true); } }, '×')));
    card.append(head,
      input('Field name', f.name, (v) => { f.name = v.replace(/[^A-Za-z0-9_]/g, '_'); changed(); }, { className: 'f-name' }),
      input('Label', f.title, upd('title'), { className: 'f-title' }));
    const req = h('input', { type: 'checkbox', className: 'f-required', checked: f.required });
    req.addEventListener('change', () => { f.required = req.checked; changed(); });
    card.append(h('label', { className: 'row' }, h('span', {}, t('Required')), req));
    if (f.type === 'enum') {
      const ta = h('textarea', { rows: 3, className: 'f-options' }, f.options.join('\n'));
      ta.addEventListener('input', () => { f.options = ta.value.split('\n').map(s => s.trim()).filter(Boolean); changed(); });
      card.append(h('label', { className: 'row' }, h('span', {}, t('Options (one per line)')), ta));
    }
    if (['string', 'textarea', 'number', 'integer', 'array-of-objects'].includes(f.type)) {
      card.append(input('Minimum', f.min, upd('min'), { className: 'f-min' }), input('Maximum', f.max, upd('max'), { className: 'f-max' }));
    }
    if (f.type === 'string') card.append(input('Pattern (regex)', f.pattern, upd('pattern'), { className: 'f-pattern' }));
    if (f.type === 'array-of-objects') {
      const ta = h('textarea', { rows: 3, className: 'code f-items' }, JSON.stringify(f.items || {}, null, 1));
      ta.addEventListener('input', () => { try { f.items = JSON.parse(ta.value); ta.classList.remove('error-text'); changed(); } catch (e) { ta.classList.add('error-text'); } });
      card.append(h('label', { className: 'row' }, h('span', {}, t('Item fields (JSON properties)')), ta));
    }
    card.append(input('Help text', f.help, upd('help'), { className: 'f-help' }));
    // conditional visibility: field = value
    const others = fields.filter(o => o !== f);
    const visField = h('select', { className: 'f-vis-field' }, h('option', { value: '' }, '—'),
      others.map(o => h('option', { value: o.name, selected: f.visibleIf && f.visibleIf.field === o.name }, o.title || o.name)));
    const visValue = h('input', { type: 'text', className: 'f-vis-value', value: f.visibleIf ? String(f.visibleIf.value) : '' });
    const setVis = () => {
      const ctl = others.find(o => o.name === visField.value);
      f.visibleIf = ctl ? { field: ctl.name, value: coerce(visValue.value, ctl.type) } : null;
      changed();
    };
    visField.addEventListener('change', setVis);
    visValue.addEventListener('input', setVis);
    card.append(h('label', { className: 'row' }, h('span', {}, t('Visible if (field = value)')), visField, visValue));
    container.appendChild(card);
  });
}

export function fillTypeSelect(select) {
  select.replaceChildren(...FIELD_TYPES.map(ty => h('option', { value: ty }, t(ty))));
}
