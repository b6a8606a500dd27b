// Dev/test mock of the platform for the designer: serves dist/ at /designer/ and
// answers /api/designer/* with plausible fixtures. Plain node http, no deps.
//   node dev/mock-server.mjs [port]     (PORT env also works; 0 = random, printed)
import http from 'node:http';
import { readFileSync, existsSync, statSync } from 'node:fs';
import { join, extname, dirname, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const dist = join(here, '..', 'dist');
const CSRF = 'mock-csrf-token';
const SAMPLE = readFileSync(join(here, 'sample-leave.bpmn'), 'utf8');

const roles = [
  { key: 'records_clerk', title: '病案室职员' }, { key: 'records_head', title: '病案室主任' },
  { key: 'dept_head', title: '科室主任' }, { key: 'doctor', title: '医生' }, { key: 'nurse', title: '护士' },
  { key: 'finance', title: '财务' }
];
const connectors = [
  { topic: 'his.check_archive', title: 'HIS 病案归档检查', params: ['patient_id', 'visit_no'] },
  { topic: 'payment.create_order', title: '支付平台下单', params: ['amount', 'order_no'] },
  { topic: 'notify.sms', title: '短信通知', params: ['mobile', 'text'] }
];
const forms = {
  leave_request: {
    title: '请假申请',
    schema: { type: 'object', title: '请假申请', required: ['applicant_name', 'days'], properties: {
      applicant_name: { type: 'string', title: '申请人' },
      leave_type: { type: 'string', title: '请假类型', enum: ['事假', '病假', '年假'] },
      days: { type: 'integer', title: '天数', minimum: 1, maximum: 30 },
      reason: { type: 'string', title: '事由' },
      sick_note: { type: 'string', format: 'file', title: '病假证明' } } },
    ui: { order: ['applicant_name', 'leave_type', 'days', 'reason', 'sick_note'], reason: { widget: 'textarea' },
      sick_note: { widget: 'file', visibleIf: { leave_type: '病假' } } }
  },
  record_copy: {
    title: '病案复印申请',
    schema: { type: 'object', title: '病案复印申请', properties: { patient_name: { type: 'string', title: '患者姓名' },
      copies: { type: 'integer', title: '份数', minimum: 1 } } },
    ui: {}
  }
};
const definitions = [
  { key: 'leave_request', name: '请假申请', version: 1, xml: SAMPLE.replace(' hospital:readonlyFields="days,reason"', '') },
  { key: 'leave_request', name: '请假申请', version: 2, xml: SAMPLE }
];
const drafts = {};
const instances = [
  { id: 'inst-1', business_key: 'QJ-2024-001', current: ['dept_review'], migratable: true, reason: '' },
  { id: 'inst-2', business_key: 'QJ-2024-002', current: ['records_register'], migratable: true, reason: '' },
  { id: 'inst-3', business_key: 'QJ-2024-003', current: ['old_task'], migratable: false, reason: '当前节点 old_task 在目标版本中不存在' }
];

// ---- tiny BPMN "parsing" (regex; good enough for fixtures) ----
const attr = (tag, name) => { const m = tag.match(new RegExp(`\\s${name}="([^"]*)"`)); return m ? m[1] : null; };
function elements(xml) {
  const out = [];
  const re = /<bpmn:(\w+)\s[^>]*?id="([^"]+)"[^>]*?\/?>/g;
  let m;
  while ((m = re.exec(xml))) {
    if (['definitions', 'process', 'collaboration'].includes(m[1]) && m[1] !== 'process') continue;
    out.push({ type: m[1], id: m[2], tag: m[0], line: xml.slice(0, m.index).split('\n').length });
  }
  return out.filter(e => !['definitions'].includes(e.type));
}

function validateXml(xml) {
  const d = [];
  const push = (e, message, severity, rule) => d.push({ element_id: e ? e.id : null, line: e ? e.line : null, message, severity, rule });
  for (const e of elements(xml)) {
    if (e.type === 'userTask') {
      const fk = attr(e.tag, 'camunda:formKey');
      if (!fk) push(e, '用户任务未设置表单 (camunda:formKey)', 'error', 'user-task-form');
      else if (!forms[fk]) push(e, `表单 ${fk} 不存在`, 'error', 'unknown-form');
      for (const r of (attr(e.tag, 'camunda:candidateGroups') || '').split(',').map(s => s.trim()).filter(Boolean)) {
        if (!roles.some(x => x.key === r)) push(e, `角色 ${r} 不存在`, 'warning', 'unknown-role');
      }
      const sla = attr(e.tag, 'hospital:sla');
      if (sla && !/^P/.test(sla) && !/^\d{4}-/.test(sla)) push(e, `SLA ${sla} 不是 ISO-8601 时长`, 'error', 'sla-format');
    }
    if (/\$\{/.test(e.tag)) push(e, '不支持 JUEL ${...}，请使用 Python 表达式', 'error', 'no-juel');
  }
  if (/<bpmn:conditionExpression[^>]*>[^<]*\$\{/.test(xml)) push(null, '条件中不支持 JUEL ${...}', 'error', 'no-juel');
  return d;
}

function signature(xml) {
  const map = {};
  for (const e of elements(xml)) if (e.type !== 'process' && !e.type.startsWith('BPMN')) map[e.id] = e.tag;
  return map;
}

function diff(xml) {
  const key = (xml.match(/<bpmn:process\s[^>]*id="([^"]+)"/) || [])[1];
  const running = definitions.filter(d => d.key === key).pop();
  const a = running ? signature(running.xml) : {}, b = signature(xml);
  const changed = [];
  for (const id of Object.keys(b)) if (a[id] && a[id] !== b[id]) {
    const names = (tag) => Object.fromEntries([...tag.matchAll(/\s([\w:]+)="([^"]*)"/g)].map(m => [m[1], m[2]]));
    const x = names(a[id]), y = names(b[id]);
    changed.push({ id, fields: [...new Set([...Object.keys(x), ...Object.keys(y)])].filter(k => x[k] !== y[k]) });
  }
  const formKeys = [...xml.matchAll(/camunda:formKey="([^"]+)"/g)].map(m => m[1]);
  return { added: Object.keys(b).filter(id => !a[id]), removed: Object.keys(a).filter(id => !b[id]), changed,
    forms_changed: [...new Set(formKeys)].filter(k => forms[k] && forms[k].edited) };
}

function dryRun(xml, data, outcomes) {
  const els = Object.fromEntries(elements(xml).map(e => [e.id, e]));
  const flows = elements(xml).filter(e => e.type === 'sequenceFlow');
  const cond = (id) => { const m = xml.match(new RegExp(`<bpmn:sequenceFlow[^>]*id="${id}"[^>]*>\\s*<bpmn:conditionExpression[^>]*>([^<]*)<`)); return m ? m[1] : null; };
  const start = Object.values(els).find(e => e.type === 'startEvent');
  const path = [], tasks = [];
  let cur = start, outcome = null, guard = 0;
  while (cur && guard++ < 200) {
    path.push(cur.id);
    if (cur.type === 'userTask') {
      outcome = outcomes[cur.id] || 'approve';
      tasks.push({ element_id: cur.id, name: attr(cur.tag, 'name') || cur.id,
        roles: (attr(cur.tag, 'camunda:candidateGroups') || '').split(',').filter(Boolean),
        users: (attr(cur.tag, 'camunda:candidateUsers') || '').split(',').filter(Boolean) });
    }
    const out = flows.filter(f => attr(f.tag, 'sourceRef') === cur.id);
    if (!out.length) break;
    let next = out[0];
    if (out.length > 1) {
      next = out.find(f => { const c = cond(f.id); return c && c.replace(/&#34;|&quot;/g, '"').includes(`"${outcome}"`); }) || out[0];
    }
    path.push(next.id);
    cur = els[attr(next.tag, 'targetRef')];
  }
  return { path, tasks, end_state: cur && cur.type === 'endEvent' ? `completed:${cur.id}` : 'stuck' };
}

function renderForm(schema = {}, ui = {}) {
  const esc = (s) => String(s ?? '').replace(/[&<>"]/g, c => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' }[c]));
  const props = schema.properties || {};
  const order = (ui.order || []).concat(Object.keys(props).filter(k => !(ui.order || []).includes(k)));
  const req = schema.required || [];
  const rows = order.filter(k => props[k]).map(k => {
    const p = props[k], u = ui[k] || {};
    const label = `<label for="f_${esc(k)}">${esc(p.title || k)}${req.includes(k) ? ' <span class="req">*</span>' : ''}</label>`;
    let ctl;
    if (p.enum) ctl = `<select id="f_${esc(k)}" name="${esc(k)}">${p.enum.map(o => `<option>${esc(o)}</option>`).join('')}</select>`;
    else if (p.type === 'boolean') ctl = `<input type="checkbox" id="f_${esc(k)}" name="${esc(k)}">`;
    else if (p.type === 'number' || p.type === 'integer') ctl = `<input type="number" id="f_${esc(k)}" name="${esc(k)}"${p.minimum != null ? ` min="${p.minimum}"` : ''}${p.maximum != null ? ` max="${p.maximum}"` : ''}>`;
    else if (p.type === 'array') ctl = `<table class="rows"><tr>${Object.entries((p.items || {}).properties || {}).map(([n, s]) => `<th>${esc(s.title || n)}</th>`).join('')}</tr></table><button type="button">+ 添加一行</button>`;
    else if (p.format === 'date') ctl = `<input type="date" id="f_${esc(k)}" name="${esc(k)}">`;
    else if (p.format === 'date-time') ctl = `<input type="datetime-local" id="f_${esc(k)}" name="${esc(k)}">`;
    else if (p.format === 'file' || u.widget === 'file') ctl = `<input type="file" id="f_${esc(k)}" name="${esc(k)}">`;
    else if (u.widget === 'textarea') ctl = `<textarea id="f_${esc(k)}" name="${esc(k)}"></textarea>`;
    else ctl = `<input type="text" id="f_${esc(k)}" name="${esc(k)}"${p.pattern ? ` pattern="${esc(p.pattern)}"` : ''}>`;
    const help = u.help || p.description ? `<small class="help">${esc(u.help || p.description)}</small>` : '';
    const vis = u.visibleIf ? ` data-visible-if='${esc(JSON.stringify(u.visibleIf))}'` : '';
    return `<div class="form-row" data-field="${esc(k)}"${vis}>${label}${ctl}${help}</div>`;
  });
  return `<form class="inbox-form"><h3>${esc(schema.title || '')}</h3>${rows.join('\n')}</form>`;
}

// ---- http ----
const MIME = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript', '.css': 'text/css', '.map': 'application/json',
  '.woff': 'font/woff', '.woff2': 'font/woff2', '.ttf': 'font/ttf', '.eot': 'application/vnd.ms-fontobject', '.svg': 'image/svg+xml', '.txt': 'text/plain' };

function send(res, status, body, type = 'application/json') {
  res.writeHead(status, { 'Content-Type': type, 'Cache-Control': 'no-store' });
  res.end(type === 'application/json' ? JSON.stringify(body) : body);
}

function readBody(req) {
  return new Promise((resolve) => {
    let s = ''; req.on('data', c => { s += c; }); req.on('end', () => { try { resolve(s ? JSON.parse(s) : {}); } catch (e) { resolve(null); } });
  });
}

function serveStatic(req, res, path) {
  let rel = normalize(decodeURIComponent(path.replace(/^\/designer\/?/, ''))).replace(/^(\.\.[/\\])+/, '');
  if (!rel || rel === '.') rel = 'index.html';
  const file = join(dist, rel);
  if (!file.startsWith(dist) || !existsSync(file) || statSync(file).isDirectory()) return send(res, 404, { detail: 'not found' });
  let body = readFileSync(file);
  if (extname(file) === '.html') body = body.toString().replace('<meta name="csrf-token" content="">', `<meta name="csrf-token" content="${CSRF}">`);
  res.writeHead(200, { 'Content-Type': MIME[extname(file)] || 'application/octet-stream' });
  res.end(body);
}

// /static/ is the platform's staff-page assets (the form preview loads the inbox CSS and script)
const staticDir = join(here, '..', '..', 'api', 'static');
function serveAsset(req, res, path) {
  const rel = normalize(decodeURIComponent(path.replace(/^\/static\//, ''))).replace(/^(\.\.[/\\])+/, '');
  const file = join(staticDir, rel);
  if (!file.startsWith(staticDir) || !existsSync(file) || statSync(file).isDirectory()) return send(res, 404, { detail: 'not found' });
  res.writeHead(200, { 'Content-Type': MIME[extname(file)] || 'application/octet-stream' });
  res.end(readFileSync(file));
}

export const log = [];

async function handle(req, res) {
  const url = new URL(req.url, 'http://x');
  const p = url.pathname;
  if (p === '/' || p === '/designer') { res.writeHead(302, { Location: '/designer/' }); return res.end(); }
  if (p.startsWith('/designer/')) return serveStatic(req, res, p);
  if (p.startsWith('/static/')) return serveAsset(req, res, p);
  if (!p.startsWith('/api/designer/')) return send(res, 404, { detail: 'not found' });
  const route = p.slice('/api/designer'.length);
  if (req.method !== 'GET' && req.headers['x-csrf-token'] !== CSRF) return send(res, 403, { detail: 'CSRF token missing or invalid' });
  const body = req.method === 'GET' ? {} : await readBody(req);
  if (body === null) return send(res, 400, { detail: 'invalid JSON' });
  log.push({ method: req.method, route, body });
  let m;
  if (req.method === 'GET' && route === '/roles') return send(res, 200, roles);
  if (req.method === 'GET' && route === '/connectors') return send(res, 200, connectors);
  if (req.method === 'GET' && route === '/forms') return send(res, 200, Object.entries(forms).map(([key, f]) => ({ key, title: f.title })));
  if (req.method === 'POST' && route === '/forms/preview') return send(res, 200, { html: renderForm(body.schema, body.ui) });
  if ((m = route.match(/^\/forms\/([\w-]+)$/))) {
    if (req.method === 'GET') return forms[m[1]] ? send(res, 200, { key: m[1], ...forms[m[1]] }) : send(res, 404, { detail: 'no such form' });
    if (req.method === 'PUT') {
      if (!body.schema || body.schema.type !== 'object') return send(res, 422, { detail: 'schema.type must be object' });
      forms[m[1]] = { title: body.schema.title || m[1], schema: body.schema, ui: body.ui || {}, edited: true };
      return send(res, 200, { key: m[1], saved: true });
    }
  }
  if (req.method === 'GET' && route === '/definitions') {
    // like the platform: every saved draft is listed as version 0 after its key's deployed versions
    const rows = definitions.map(({ key, name, version }) => ({ key, name, version }))
      .concat(Object.keys(drafts).map(k => ({ key: k, name: k, version: 0 })));
    return send(res, 200, rows.sort((a, b) => a.key.localeCompare(b.key)));
  }
  if ((m = route.match(/^\/definitions\/([\w-]+)\/xml$/)) && req.method === 'GET') {
    // like the platform: version 0 is the draft; no version is the latest deployed, else the draft
    const v = url.searchParams.get('version');
    const d = v === '0' ? null : definitions.filter(x => x.key === m[1] && (v == null || String(x.version) === v)).pop();
    if (d) return send(res, 200, { key: d.key, version: d.version, xml: d.xml });
    if ((v == null || v === '0') && drafts[m[1]]) return send(res, 200, { key: m[1], version: 0, xml: drafts[m[1]], draft: true });
    return send(res, 404, { detail: 'no such definition' });
  }
  if ((m = route.match(/^\/definitions\/([\w-]+)\/instances$/)) && req.method === 'GET') {
    return send(res, 200, m[1] === 'leave_request' ? instances : []);
  }
  if ((m = route.match(/^\/drafts\/([\w-]+)$/)) && req.method === 'PUT') { drafts[m[1]] = body.xml; return send(res, 200, { key: m[1], saved_at: new Date().toISOString() }); }
  if (req.method === 'POST' && route === '/import') {
    const report = [];
    for (const e of elements(body.xml || '')) {
      for (const [a, v] of [...e.tag.matchAll(/\s(camunda:[\w]+)="([^"]*)"/g)].map(x => [x[1], x[2]])) {
        const ok = ['camunda:candidateGroups', 'camunda:candidateUsers', 'camunda:assignee', 'camunda:formKey', 'camunda:dueDate', 'camunda:type', 'camunda:topic', 'camunda:decisionRef'].includes(a) && !/\$\{/.test(v);
        report.push({ element_id: e.id, attribute: a, status: ok ? 'mapped' : 'unsupported', message: ok ? '' : (/\$\{/.test(v) ? 'JUEL 表达式需改为 Python 表达式' : `${a} 不受支持，已保留但不会执行`) });
      }
    }
    return send(res, 200, { xml: body.xml, report });
  }
  if (req.method === 'POST' && route === '/validate') return send(res, 200, { diagnostics: validateXml(body.xml || '') });
  if (req.method === 'POST' && route === '/diff') return send(res, 200, diff(body.xml || ''));
  if (req.method === 'POST' && route === '/deploy') {
    const diags = validateXml(body.xml || '').filter(d => d.severity === 'error');
    if (diags.length) return send(res, 422, { detail: `${diags.length} 个错误，未发布`, diagnostics: diags });
    const key = (body.xml.match(/<bpmn:process\s[^>]*id="([^"]+)"/) || [])[1];
    const version = definitions.filter(d => d.key === key).length + 1;
    definitions.push({ key, name: attr(body.xml.match(/<bpmn:process\s[^>]*>/)[0], 'name') || key, version, xml: body.xml, comment: body.comment });
    return send(res, 200, { key, version });
  }
  if (req.method === 'POST' && route === '/dry-run') return send(res, 200, dryRun(body.xml || '', body.data || {}, body.outcomes || {}));
  if (req.method === 'POST' && route === '/migrate') {
    if (!body.reason) return send(res, 422, { detail: 'reason is required' });
    return send(res, 200, { key: body.key, from_version: body.from_version, to_version: body.to_version,
      results: (body.instance_ids || []).map(id => { const i = instances.find(x => x.id === id); return { id, business_key: i && i.business_key, status: i && i.migratable ? 'migrated' : 'skipped', message: i ? i.reason : 'unknown instance' }; }) });
  }
  if (route === '/_log') return send(res, 200, log);
  return send(res, 404, { detail: `no mock for ${req.method} ${route}` });
}

export function startServer(port = 0) {
  const server = http.createServer((req, res) => handle(req, res).catch(err => send(res, 500, { detail: String(err) })));
  return new Promise(resolve => server.listen(port, '127.0.0.1', () => resolve(server)));
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const port = Number(process.argv[2] || process.env.PORT || 8765);
  startServer(port).then(s => console.log(`mock designer server on http://127.0.0.1:${s.address().port}/designer/`));
}
