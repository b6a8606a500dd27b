// The only module that talks to the server. Every call sends the CSRF token and
// turns 401/403/422 into a visible message (and a rejected ApiError).
import { notify } from './ui/notify.js';
import { t } from './i18n.js';

export const API_BASE = (globalThis.DESIGNER_API_BASE || '/api/designer');

export class ApiError extends Error {
  constructor(status, body, message) {
    super(message);
    this.status = status;
    this.body = body;
  }
}

export function csrfToken() {
  const meta = document.querySelector('meta[name="csrf-token"]');
  if (meta && meta.content) return meta.content;
  const m = document.cookie.match(/(?:^|;\s*)csrf_token=([^;]*)/);
  return m ? decodeURIComponent(m[1]) : '';
}

function detailText(body) {
  if (!body) return '';
  if (typeof body === 'string') return body;
  if (typeof body.detail === 'string') return body.detail;
  if (Array.isArray(body.detail)) return body.detail.map(d => d.msg || JSON.stringify(d)).join('; ');
  if (Array.isArray(body.diagnostics)) return t('{n} problems', { n: body.diagnostics.length });
  return '';
}

export async function request(method, path, body) {
  const headers = { 'Accept': 'application/json', 'X-CSRF-Token': csrfToken() };
  const init = { method, headers, credentials: 'same-origin' };
  if (body !== undefined) {
    headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  let res;
  try {
    res = await fetch(API_BASE + path, init);
  } catch (err) {
    notify(t('Network error') + ': ' + err.message, 'error');
    throw new ApiError(0, null, err.message);
  }
  const type = res.headers.get('content-type') || '';
  const data = type.includes('json') ? await res.json().catch(() => null) : await res.text();
  if (res.ok) return data;

  const detail = detailText(data);
  let msg;
  if (res.status === 401) msg = t('Not logged in or session expired, please log in again');
  else if (res.status === 403) msg = t('Permission denied');
  else if (res.status === 422) msg = t('Rejected by server (validation failed)');
  else msg = t('Server error') + ' ' + res.status;
  notify(detail ? `${msg}: ${detail}` : msg, 'error');
  throw new ApiError(res.status, data, msg);
}

const enc = encodeURIComponent;

export const api = {
  roles: () => request('GET', '/roles'),
  forms: () => request('GET', '/forms'),
  form: (key) => request('GET', `/forms/${enc(key)}`),
  saveForm: (key, schema, ui) => request('PUT', `/forms/${enc(key)}`, { schema, ui }),
  previewForm: (schema, ui) => request('POST', '/forms/preview', { schema, ui }),
  connectors: () => request('GET', '/connectors'),
  definitions: () => request('GET', '/definitions'),
  definitionXml: (key, version) =>
    request('GET', `/definitions/${enc(key)}/xml` + (version != null ? `?version=${enc(version)}` : '')),
  importXml: (xml) => request('POST', '/import', { xml }),
  saveDraft: (key, xml) => request('PUT', `/drafts/${enc(key)}`, { xml }),
  validate: (xml) => request('POST', '/validate', { xml }),
  diff: (xml) => request('POST', '/diff', { xml }),
  deploy: (xml, comment) => request('POST', '/deploy', { xml, comment }),
  dryRun: (xml, data, outcomes) => request('POST', '/dry-run', { xml, data, outcomes }),
  instances: (key, version, toVersion) => request('GET', `/definitions/${enc(key)}/instances?version=${enc(version)}`
    + (toVersion != null && toVersion !== '' ? `&to_version=${enc(toVersion)}` : '')),
  migrate: (body) => request('POST', '/migrate', body)
};
