// Minimal modal dialog. Returns a promise resolved with the button value (or null).
import { t } from '../i18n.js';

export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v == null || v === false) continue;
    if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (k === 'className') el.className = v;
    else el.setAttribute(k, v === true ? '' : v);
  }
  for (const c of children.flat()) {
    if (c == null || c === false) continue;
    el.appendChild(typeof c === 'string' || typeof c === 'number' ? document.createTextNode(String(c)) : c);
  }
  return el;
}

export function dialog(title, body, buttons = [{ label: t('Close'), value: null }]) {
  return new Promise((resolve) => {
    const close = (v) => { overlay.remove(); resolve(v); };
    const overlay = h('div', { className: 'modal-overlay' },
      h('div', { className: 'modal', role: 'dialog', 'aria-label': title },
        h('h2', {}, title),
        h('div', { className: 'modal-body' }, body),
        h('div', { className: 'modal-buttons' },
          buttons.map(b => h('button', {
            className: b.primary ? 'primary' : '',
            'data-value': b.value == null ? 'cancel' : String(b.value),
            onclick: () => close(typeof b.value === 'function' ? b.value() : b.value)
          }, b.label)))));
    overlay.addEventListener('keydown', (e) => { if (e.key === 'Escape') close(null); });
    document.body.appendChild(overlay);
    const first = overlay.querySelector('input,textarea,select,button.primary');
    if (first) first.focus();
  });
}
