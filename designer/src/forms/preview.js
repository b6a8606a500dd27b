// Live preview, exactly as the inbox shows a task form. The server renders the fields with the
// inbox renderer; a same-origin iframe gives them the inbox page's own CSS and script
// (/static/css/app.css, /static/js/app.js: conditional visibility, table rows), kept apart from
// the designer's styles. Each render is a new iframe document, so the inbox script runs on it.
import { api } from '../api.js';
import { t, getLang } from '../i18n.js';

export const INBOX_CSS = '/static/css/app.css';
export const INBOX_JS = '/static/js/app.js';

let timer = null;
let seq = 0;

const esc = (s) => String(s ?? '').replace(/[&<>"]/g, c => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' }[c]));

/** The task page's form around the rendered fields (api/templates/task.html), without buttons. */
export function previewDocument(title, fieldsHtml) {
  return `<!doctype html><html lang="${esc(getLang())}"><head><meta charset="utf-8">
<link rel="stylesheet" href="${INBOX_CSS}"></head>
<body><main class="page"><form class="task-form" novalidate>
<section class="form-section"><h2>${esc(title || t('Form'))}</h2>
${fieldsHtml}
</section></form></main>
<script src="${INBOX_JS}"></script></body></html>`;
}

function frameOf(target) {
  let frame = target.querySelector('iframe.form-preview-frame');
  if (!frame) {
    frame = document.createElement('iframe');
    frame.className = 'form-preview-frame';
    frame.title = t('Preview');
    // scripts for the inbox behaviour, same origin so the page CSP allows /static; no form submission
    frame.setAttribute('sandbox', 'allow-same-origin allow-scripts');
    target.replaceChildren(frame);
  }
  return frame;
}

export function schedulePreview(target, getModel, delay = 300) {
  clearTimeout(timer);
  target.dataset.pending = 'true';  // until the latest model's preview has loaded (tests wait on it)
  timer = setTimeout(async () => {
    const mine = ++seq;
    const { schema, ui } = getModel();
    try {
      const res = await api.previewForm(schema, ui);
      if (mine !== seq) return;
      const frame = frameOf(target);
      frame.onload = () => {
        if (mine !== seq) return;
        target.dataset.seq = String(mine);
        delete target.dataset.pending;
      };
      frame.srcdoc = previewDocument(schema.title, res.html);
    } catch (e) {
      if (mine === seq) delete target.dataset.pending;  // api.js already showed the message
    }
  }, delay);
}
