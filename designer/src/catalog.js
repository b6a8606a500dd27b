// Server catalogues (roles, forms, connectors) loaded once at start-up and
// normalised to [{value, label}] for the properties panel.
import { api } from './api.js';

export const catalog = { roles: [], forms: [], connectors: [] };

function norm(list, keys, labels) {
  return (Array.isArray(list) ? list : []).map(item => {
    if (typeof item === 'string') return { value: item, label: item };
    const value = keys.map(k => item[k]).find(v => v != null);
    const label = labels.map(k => item[k]).find(v => v != null);
    return { ...item, value: String(value), label: label && label !== value ? `${label} (${value})` : String(value) };
  });
}

export async function loadCatalog() {
  const [roles, forms, connectors] = await Promise.all([
    api.roles().catch(() => []),
    api.forms().catch(() => []),
    api.connectors().catch(() => [])
  ]);
  catalog.roles = norm(roles, ['key', 'name', 'id'], ['title', 'label', 'name']);
  catalog.forms = norm(forms, ['key', 'id'], ['title', 'name', 'label']);
  catalog.connectors = norm(connectors, ['topic', 'key', 'name'], ['title', 'label', 'name']);
  return catalog;
}

// Field names of a form, for the read-only/hidden field pickers: [{value: name, label}], [] when the
// form is not in the catalogue (no request, so no error toast for a typo) or cannot be read.
const formFieldCache = new Map();

export function formFields(key) {
  if (!key || !catalog.forms.some(f => f.value === key)) return Promise.resolve([]);
  if (!formFieldCache.has(key)) {
    formFieldCache.set(key, api.form(key).then((form) => {
      const props = (form && form.schema && form.schema.properties) || {};
      return Object.keys(props).map((name) => {
        const title = props[name] && props[name].title;
        return { value: name, label: title && title !== name ? `${title} (${name})` : name };
      });
    }).catch(() => []));
  }
  return formFieldCache.get(key);
}
