// Dry-run: ask for instance data + an outcome per user task, highlight the path.
import { api } from './api.js';
import { t } from './i18n.js';
import { h, dialog } from './ui/dialog.js';
import { showPanel, table } from './ui/panel.js';
import { notify } from './ui/notify.js';
import { clearMarkers, mark, selectElement } from './markers.js';
import { currentXml } from './state.js';

const KIND = 'dryrun';

export async function dryRun(modeler) {
  const tasks = modeler.get('elementRegistry').filter(e => e.type === 'bpmn:UserTask');
  const dataArea = h('textarea', { id: 'dryrun-data', rows: 6, className: 'code' }, '{\n  "days": 3\n}');
  const selects = tasks.map(task => {
    const outcomes = (task.businessObject.get('hospital:outcomes') || 'approve,reject').split(',').map(s => s.trim()).filter(Boolean);
    const sel = h('select', { 'data-task': task.id }, outcomes.map(o => h('option', { value: o }, o)));
    return h('label', { className: 'row' }, h('span', {}, `${task.businessObject.name || task.id}`), sel);
  });
  const body = h('div', {}, h('label', {}, t('Instance data (JSON)')), dataArea,
    tasks.length ? h('h3', {}, t('Outcomes per task')) : null, selects);
  const go = await dialog(t('Dry-run'), body, [{ label: t('Cancel'), value: null }, { label: t('Run'), value: 'run', primary: true }]);
  if (!go) return;
  let data;
  try { data = JSON.parse(dataArea.value || '{}'); } catch (e) { notify(t('Invalid JSON'), 'error'); return; }
  const outcomes = {};
  body.querySelectorAll('select[data-task]').forEach(s => { outcomes[s.dataset.task] = s.value; });
  const res = await api.dryRun(await currentXml(modeler), data, outcomes);
  clearMarkers(modeler, KIND);
  (res.path || []).forEach((id, i) => mark(modeler, KIND, id, 'dryrun-path', { text: String(i + 1) }));
  const content = h('div', {},
    h('p', {}, `${t('Path')}: ${(res.path || []).join(' → ')}`),
    table(['Tasks', 'Roles', 'Users'], (res.tasks || []).map(tk => ({
      elementId: tk.element_id, cells: [tk.name || tk.element_id, (tk.roles || []).join(', '), (tk.users || []).join(', ')]
    })), id => selectElement(modeler, id)),
    h('p', {}, `${t('End state')}: ${typeof res.end_state === 'string' ? res.end_state : JSON.stringify(res.end_state)}`));
  showPanel(t('Dry-run'), content, 'dryrun');
  return res;
}

export function clearDryRun(modeler) { clearMarkers(modeler, KIND); }
