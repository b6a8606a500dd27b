// Field list <-> {schema, ui}. The field list is what the editor shows; schema
// (JSON Schema draft 2020-12 subset) and ui (per-field widget/help/visibleIf,
// plus ui.order) are what the server stores and renders.
export const FIELD_TYPES = ['string', 'textarea', 'number', 'integer', 'boolean', 'date', 'datetime', 'enum', 'array-of-objects', 'file'];

export function newField(type, existing = []) {
  let i = existing.length + 1;
  while (existing.some(f => f.name === `field_${i}`)) i++;
  return { name: `field_${i}`, type, title: '', required: false, options: type === 'enum' ? ['选项1', '选项2'] : [],
    min: '', max: '', pattern: '', help: '', visibleIf: null,
    items: type === 'array-of-objects' ? { item: { type: 'string', title: '项目' } } : null };
}

const num = (v) => (v === '' || v == null || Number.isNaN(Number(v)) ? undefined : Number(v));

function fieldSchema(f) {
  const s = {};
  switch (f.type) {
    case 'string': case 'textarea': s.type = 'string'; break;
    case 'number': s.type = 'number'; break;
    case 'integer': s.type = 'integer'; break;
    case 'boolean': s.type = 'boolean'; break;
    case 'date': s.type = 'string'; s.format = 'date'; break;
    case 'datetime': s.type = 'string'; s.format = 'date-time'; break;
    case 'enum': s.type = 'string'; s.enum = f.options.slice(); break;
    case 'file': s.type = 'string'; s.format = 'file'; break;
    case 'array-of-objects': s.type = 'array'; s.items = { type: 'object', properties: f.items || {} }; break;
    default: s.type = 'string';
  }
  if (f.title) s.title = f.title;
  if (f.help) s.description = f.help;
  const min = num(f.min), max = num(f.max);
  if (s.type === 'number' || s.type === 'integer') { if (min !== undefined) s.minimum = min; if (max !== undefined) s.maximum = max; }
  if (s.type === 'string' && !s.format && !s.enum) {
    if (min !== undefined) s.minLength = min; if (max !== undefined) s.maxLength = max;
    if (f.pattern) s.pattern = f.pattern;
  }
  if (s.type === 'array') { if (min !== undefined) s.minItems = min; if (max !== undefined) s.maxItems = max; }
  return s;
}

export function toSchema(title, fields) {
  const schema = { type: 'object', title: title || '', properties: {}, required: [] };
  const ui = { order: fields.map(f => f.name) };
  for (const f of fields) {
    schema.properties[f.name] = fieldSchema(f);
    if (f.required) schema.required.push(f.name);
    const u = {};
    if (f.type === 'textarea') u.widget = 'textarea';
    if (f.type === 'file') u.widget = 'file';
    if (f.help) u.help = f.help;
    if (f.visibleIf && f.visibleIf.field) u.visibleIf = { [f.visibleIf.field]: f.visibleIf.value };
    if (Object.keys(u).length) ui[f.name] = u;
  }
  if (!schema.required.length) delete schema.required;
  return { schema, ui };
}

function fieldType(s, u) {
  if (s.type === 'array') return 'array-of-objects';
  if (s.enum) return 'enum';
  if (s.type === 'string') {
    if (s.format === 'date') return 'date';
    if (s.format === 'date-time') return 'datetime';
    if (s.format === 'file' || s.format === 'data-url' || u.widget === 'file') return 'file';
    if (u.widget === 'textarea') return 'textarea';
    return 'string';
  }
  return ['number', 'integer', 'boolean'].includes(s.type) ? s.type : 'string';
}

export function fromSchema(schema = {}, ui = {}) {
  const props = schema.properties || {};
  const order = (ui.order || []).filter(n => n in props).concat(Object.keys(props).filter(n => !(ui.order || []).includes(n)));
  const required = schema.required || [];
  const fields = order.map(name => {
    const s = props[name] || {};
    const u = ui[name] || {};
    const vis = u.visibleIf && Object.entries(u.visibleIf)[0];
    return {
      name, type: fieldType(s, u), title: s.title || '', required: required.includes(name),
      options: s.enum ? s.enum.map(String) : [],
      min: s.minimum ?? s.minLength ?? s.minItems ?? '', max: s.maximum ?? s.maxLength ?? s.maxItems ?? '',
      pattern: s.pattern || '', help: u.help || s.description || '',
      visibleIf: vis ? { field: vis[0], value: vis[1] } : null,
      items: s.items && s.items.properties ? s.items.properties : null
    };
  });
  return { title: schema.title || '', fields };
}

/** "value" typed like the controlling field (boolean/number) for visibleIf. */
export function coerce(value, type) {
  if (type === 'boolean') return value === 'true' || value === true;
  if (type === 'number' || type === 'integer') return num(value) ?? value;
  return value;
}
