// Live preview: the HTML comes from the server so it matches the inbox exactly.
import { api } from '../api.js';

let timer = null;
let seq = 0;

export function schedulePreview(target, getModel, delay = 300) {
  clearTimeout(timer);
  timer = setTimeout(async () => {
    const mine = ++seq;
    const { schema, ui } = getModel();
    try {
      const res = await api.previewForm(schema, ui);
      if (mine === seq) { target.innerHTML = res.html; target.dataset.seq = String(mine); }
    } catch (e) { /* api.js already showed the message */ }
  }, delay);
}
