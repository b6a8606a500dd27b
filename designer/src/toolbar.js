// Toolbar actions: new, open, import, save draft, validate, diff, deploy,
// dry-run, migrate, export.
import { api } from './api.js';
import { t } from './i18n.js';
import { h, dialog } from './ui/dialog.js';
import { notify } from './ui/notify.js';
import { showPanel, table } from './ui/panel.js';
import { newDiagramXml } from './new-diagram.js';
import { state, processKey, currentXml } from './state.js';
import { validate, showDiagnostics } from './validate.js';
import { showDiff, clearDiff } from './diff.js';
import { dryRun, clearDryRun } from './dryrun.js';
import { migrate } from './migrate.js';

export async function loadXml(modeler, xml, key = null, version = null) {
  await modeler.importXML(xml);
  modeler.get('canvas').zoom('fit-viewport', 'auto');
  state.key = key || processKey(modeler);
  state.version = version;
  state.dirty = false;
  updateTitle();
}

export function updateTitle() {
  const el = document.getElementById('doc-title');
  if (el) el.textContent = state.key ? `${state.key}${state.version ? ' v' + state.version : ''}${state.dirty ? ' *' : ''}` : '';
}

function confirmDiscard() {
  return !state.dirty || window.confirm(t('Unsaved changes will be lost. Continue?'));
}

async function openDialog(modeler) {
  const defs = await api.definitions();
  let chosen = null;
  // version 0 is the saved draft of the key (GET /definitions/{key}/xml?version=0 returns it)
  const when = (d) => (d.deployed_at ? new Date(d.deployed_at).toLocaleString() : '');
  const body = table(['Key', 'Name', 'Version', 'Saved / deployed at'], defs.map(d => ({
    elementId: `${d.key}@${d.version}`, className: d.version ? 'def-row' : 'def-row def-draft',
    cells: [d.key, d.name || '', d.version ? String(d.version) : t('Draft'), when(d)] })),
  (id) => { chosen = id; document.querySelector('.modal-buttons button[data-value="open"]').click(); });
  const res = await dialog(t('Open definition'), body, [{ label: t('Cancel'), value: null }, { label: t('Open'), value: 'open', primary: true }]);
  if (!res || !chosen) return;
  const [key, version] = chosen.split('@');
  const data = await api.definitionXml(key, version);
  await loadXml(modeler, typeof data === 'string' ? data : data.xml, key, Number(version));
}

function pickFile() {
  return new Promise((resolve) => {
    const input = h('input', { type: 'file', accept: '.bpmn,.xml', id: 'import-file-input', hidden: true });
    input.addEventListener('change', () => { const f = input.files[0]; input.remove(); resolve(f || null); });
    document.body.appendChild(input);
    input.click();
  });
}

export async function importFile(modeler, file) {
  file = file || await pickFile();
  if (!file) return;
  const xml = await file.text();
  const res = await api.importXml(xml);
  await loadXml(modeler, res.xml || xml);
  state.dirty = true; updateTitle();
  const report = res.report || [];
  showPanel(`${t('Import report')} (${file.name})`, table(['Element', 'Attribute', 'Status', 'Problems'],
    report.map(r => ({ elementId: r.element_id, className: `import-${r.status}`,
      cells: [r.element_id, r.attribute, t(r.status), r.message || ''] }))), 'import');
}

async function deploy(modeler) {
  const comment = h('textarea', { id: 'deploy-comment', rows: 3 });
  const ok = await dialog(t('Deploy'), h('div', {}, h('label', {}, t('Deploy comment')), comment),
    [{ label: t('Cancel'), value: null }, { label: t('Deploy'), value: 'deploy', primary: true }]);
  if (!ok) return;
  try {
    const res = await api.deploy(await currentXml(modeler), comment.value);
    state.key = res.key; state.version = res.version; state.dirty = false; updateTitle();
    notify(t('Deployed {key} version {version}', res), 'success');
  } catch (err) {
    if (err.status === 422 && err.body && err.body.diagnostics) {
      showDiagnostics(modeler, err.body.diagnostics.map(d => ({ ...d, source: 'server' })));
    }
  }
}

async function exportFile(modeler) {
  const xml = await currentXml(modeler);
  const a = h('a', { href: URL.createObjectURL(new Blob([xml], { type: 'application/xml' })),
    download: `${processKey(modeler) || 'diagram'}.bpmn` });
  document.body.appendChild(a); a.click(); a.remove();
}

export function actions(modeler) {
  return {
    new: async () => { if (confirmDiscard()) { clearDiff(modeler); clearDryRun(modeler); await loadXml(modeler, newDiagramXml()); } },
    open: async () => { if (confirmDiscard()) await openDialog(modeler); },
    import: () => importFile(modeler),
    save: async () => {
      const key = processKey(modeler);
      await api.saveDraft(key, await currentXml(modeler));
      state.key = key; state.dirty = false; updateTitle();
      notify(t('Draft saved'), 'success');
    },
    validate: () => validate(modeler),
    diff: () => showDiff(modeler),
    deploy: () => deploy(modeler),
    dryrun: () => dryRun(modeler),
    migrate: () => migrate(state.key || processKey(modeler)),
    export: () => exportFile(modeler)
  };
}

export const BUTTONS = [
  ['new', 'New'], ['open', 'Open'], ['import', 'Import file'], ['save', 'Save draft'],
  ['validate', 'Validate'], ['diff', 'Diff'], ['deploy', 'Deploy'], ['dryrun', 'Dry-run'],
  ['migrate', 'Migrate'], ['export', 'Export']
];

export function renderToolbar(container, modeler) {
  const acts = actions(modeler);
  for (const [id, label] of BUTTONS) {
    container.appendChild(h('button', { id: `btn-${id}`, 'data-action': id, onclick: async (e) => {
      const btn = e.currentTarget;
      btn.disabled = true;
      try { await acts[id](); } catch (err) { if (!err.status) notify(err.message, 'error'); console.error(err); }
      finally { btn.disabled = false; }
    } }, t(label)));
  }
  return acts;
}
