// Migrate running instances of one version to another (with a recorded reason).
import { api } from './api.js';
import { t } from './i18n.js';
import { h, dialog } from './ui/dialog.js';
import { showPanel, table } from './ui/panel.js';
import { notify } from './ui/notify.js';
import { state } from './state.js';

export async function migrate(key) {
  if (!key) { notify(t('Save the diagram first'), 'error'); return; }
  const defs = (await api.definitions()).filter(d => d.key === key && d.version > 0);  // 0 = draft
  const versions = defs.map(d => d.version).sort((a, b) => a - b);
  const latest = versions[versions.length - 1] ?? state.version;
  const versionSelect = (id, selected) => h('select', { id },
    versions.map(v => h('option', { value: v, selected: v === selected }, String(v))));
  const from = versionSelect('migrate-from', versions[0]);
  const to = versionSelect('migrate-to', latest);
  const list = h('div', { className: 'instances' });
  const reason = h('textarea', { id: 'migrate-reason', rows: 2 });
  const load = async () => {
    // the server checks each instance against the chosen target version
    const items = await api.instances(key, from.value, to.value);
    list.replaceChildren(table(['', 'Business key', 'Current', 'Migratable', 'Reason'], items.map(it => ({
      cells: [h('input', { type: 'checkbox', value: it.id, disabled: !it.migratable, checked: it.migratable }),
        it.business_key || it.id, (it.current || []).join(', '), it.migratable ? t('Yes') : t('No'), it.reason || '']
    }))));
  };
  from.addEventListener('change', load);
  to.addEventListener('change', load);
  await load();
  const body = h('div', {},
    h('label', { className: 'row' }, h('span', {}, t('From version')), from),
    h('label', { className: 'row' }, h('span', {}, t('To version')), to),
    list, h('label', {}, t('Reason')), reason);
  const ok = await dialog(`${t('Migrate')} ${key}`, body,
    [{ label: t('Cancel'), value: null }, { label: t('Migrate selected'), value: 'go', primary: true }]);
  if (!ok) return;
  if (!reason.value.trim()) { notify(t('Please give a reason'), 'error'); return; }
  const ids = [...list.querySelectorAll('input[type=checkbox]:checked')].map(c => c.value);
  const report = await api.migrate({ key, from_version: Number(from.value), to_version: Number(to.value),
    instance_ids: ids, reason: reason.value.trim() });
  const rows = Array.isArray(report) ? report : (report.results || report.report || []);
  showPanel(t('Migration report'), rows.length
    ? table(['Business key', 'Status', 'Reason'], rows.map(r => ({ cells: [r.business_key || r.id, r.status || (r.ok ? 'ok' : 'failed'), r.message || r.reason || ''] })))
    : h('pre', {}, JSON.stringify(report, null, 2)), 'migrate');
  return report;
}
