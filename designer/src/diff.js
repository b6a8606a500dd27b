// Diff against the running version: colour added/changed elements; list removed ones.
import { api } from './api.js';
import { t } from './i18n.js';
import { h } from './ui/dialog.js';
import { showPanel, table } from './ui/panel.js';
import { clearMarkers, mark, selectElement } from './markers.js';
import { currentXml } from './state.js';

const KIND = 'diff';

export async function showDiff(modeler) {
  const res = await api.diff(await currentXml(modeler));
  clearMarkers(modeler, KIND);
  const rows = [];
  (res.added || []).forEach(id => { mark(modeler, KIND, id, 'diff-added'); rows.push({ elementId: id, className: 'diff-added-row', cells: [t('Added'), id, ''] }); });
  (res.changed || []).forEach(c => { mark(modeler, KIND, c.id, 'diff-changed'); rows.push({ elementId: c.id, className: 'diff-changed-row', cells: [t('Changed'), c.id, (c.fields || []).join(', ')] }); });
  (res.removed || []).forEach(id => { rows.push({ className: 'diff-removed-row', cells: [t('Removed'), id, ''] }); });
  (res.forms_changed || []).forEach(k => rows.push({ className: 'diff-forms-row', cells: [t('Forms changed'), k, ''] }));
  const content = rows.length ? table(['Status', 'Element', 'Changed'], rows, id => selectElement(modeler, id))
    : h('p', { className: 'ok' }, t('No differences to the running version'));
  showPanel(t('Diff'), content, 'diff');
  return res;
}

export function clearDiff(modeler) { clearMarkers(modeler, KIND); }
