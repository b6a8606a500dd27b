// Validate: client bpmnlint + server diagnostics, shown in the panel and on the canvas.
import { api } from './api.js';
import { runLint } from './lint.js';
import { t } from './i18n.js';
import { h } from './ui/dialog.js';
import { showPanel, table } from './ui/panel.js';
import { clearMarkers, mark, selectElement } from './markers.js';
import { currentXml } from './state.js';

const KIND = 'diagnostic';

export function showDiagnostics(modeler, diagnostics) {
  clearMarkers(modeler, KIND);
  const registry = modeler.get('elementRegistry');
  const byElement = {};
  diagnostics.forEach(d => { if (d.element_id) (byElement[d.element_id] = byElement[d.element_id] || []).push(d); });
  for (const [id, list] of Object.entries(byElement)) {
    const errors = list.filter(d => d.severity === 'error').length;
    mark(modeler, KIND, id, errors ? 'diag-error' : 'diag-warning', {
      text: String(list.length), title: list.map(d => d.message).join('\n') });
  }
  const order = { error: 0, warning: 1, info: 2 };
  const sorted = diagnostics.slice().sort((a, b) => (order[a.severity] ?? 3) - (order[b.severity] ?? 3));
  const content = sorted.length ? table(
    ['Severity', 'Element', 'Problems', 'Rule', 'Line'],
    sorted.map(d => {
      const el = d.element_id && registry.get(d.element_id);
      const name = el ? (el.businessObject.name ? `${el.businessObject.name} (${d.element_id})` : d.element_id) : (d.element_id || '');
      return {
        elementId: d.element_id, className: `sev-${d.severity} diag-row`,
        cells: [t(d.severity), name, d.message, `${d.source === 'client' ? t('Client lint') : t('Server')}: ${d.rule || ''}`, d.line ?? '']
      };
    }),
    (id) => selectElement(modeler, id)
  ) : h('p', { className: 'ok' }, t('No problems found'));
  showPanel(`${t('Problems')} (${sorted.length})`, content, 'problems');
}

export async function validate(modeler) {
  const xml = await currentXml(modeler);
  const client = await runLint(modeler);
  let server = [];
  try {
    const res = await api.validate(xml);
    server = (res.diagnostics || []).map(d => ({ ...d, source: 'server', severity: d.severity || 'error' }));
  } catch (err) {
    if (err.status === 422 && err.body && err.body.diagnostics) server = err.body.diagnostics.map(d => ({ ...d, source: 'server' }));
  }
  const all = client.concat(server);
  showDiagnostics(modeler, all);
  return all;
}
