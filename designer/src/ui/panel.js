// Bottom results panel shared by validate/diff/dry-run/migrate/import.
import { h } from './dialog.js';
import { t } from '../i18n.js';

export function showPanel(title, content, id = 'results') {
  const panel = document.getElementById('results-panel');
  panel.hidden = false;
  panel.dataset.view = id;
  const body = panel.querySelector('.panel-body');
  panel.querySelector('.panel-title').textContent = title;
  body.replaceChildren(content);
  return body;
}

export function hidePanel() {
  document.getElementById('results-panel').hidden = true;
}

export function table(headers, rows, onRowClick) {
  return h('table', { className: 'grid' },
    h('thead', {}, h('tr', {}, headers.map(x => h('th', {}, t(x))))),
    h('tbody', {}, rows.map(r => {
      const tr = h('tr', { className: r.className || '', 'data-element-id': r.elementId || null },
        r.cells.map(c => h('td', {}, c == null ? '' : c)));
      if (onRowClick && r.elementId) {
        tr.classList.add('clickable');
        tr.addEventListener('click', () => onRowClick(r.elementId));
      }
      return tr;
    })));
}
