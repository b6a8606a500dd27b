// Two-way JSON view for power users.
import { t } from '../i18n.js';

export function writeJson(schemaEl, uiEl, model) {
  if (document.activeElement !== schemaEl) schemaEl.value = JSON.stringify(model.schema, null, 2);
  if (document.activeElement !== uiEl) uiEl.value = JSON.stringify(model.ui, null, 2);
}

/** Parse both textareas; returns {schema, ui} or throws with a readable message. */
export function readJson(schemaEl, uiEl) {
  try {
    const schema = JSON.parse(schemaEl.value || '{}');
    const ui = JSON.parse(uiEl.value || '{}');
    if (schema.type !== 'object') throw new Error('schema.type must be "object"');
    return { schema, ui };
  } catch (e) {
    throw new Error(`${t('Invalid JSON')}: ${e.message}`);
  }
}
