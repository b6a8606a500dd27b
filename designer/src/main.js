// Entry point of the process designer page (dist/index.html).
import { createModeler } from './modeler.js';
import { loadCatalog } from './catalog.js';
import { translatePage, languageToggle } from './i18n.js';
import { renderToolbar, loadXml, updateTitle } from './toolbar.js';
import { newDiagramXml } from './new-diagram.js';
import { state } from './state.js';
import { hidePanel } from './ui/panel.js';

async function start() {
  translatePage();
  document.getElementById('lang-slot').appendChild(languageToggle());
  document.querySelector('#results-panel .panel-close').addEventListener('click', hidePanel);
  await loadCatalog();
  const modeler = createModeler(document.getElementById('canvas'), document.getElementById('properties'));
  window.designer = { modeler, state };
  renderToolbar(document.getElementById('toolbar'), modeler);
  modeler.on('commandStack.changed', () => { state.dirty = true; updateTitle(); });
  const params = new URLSearchParams(location.search);
  await loadXml(modeler, newDiagramXml(params.get('key') || undefined));
  document.body.dataset.ready = 'true';
}

start().catch(err => { console.error(err); document.body.dataset.ready = 'error'; });
