// "医院扩展 / Hospital" properties group: writes exactly the attributes listed in
// docs/BPMN_EXTENSIONS.md (camunda:* and hospital:*).
import { is, getBusinessObject } from 'bpmn-js/lib/util/ModelUtil';
import { TextFieldEntry, TextAreaEntry, SelectEntry,
  isTextFieldEntryEdited, isSelectEntryEdited, isTextAreaEntryEdited } from '@bpmn-io/properties-panel';
import { jsx } from '@bpmn-io/properties-panel/preact/jsx-runtime';
import { useService } from 'bpmn-js-properties-panel';
import { catalog } from '../catalog.js';
import { textEntry, selectEntry, multiEntry, formFieldsEntry, noJuel, ISO_DURATION, ISO_DATETIME } from './hospital-entries.js';

const LOW_PRIORITY = 400;

const roles = () => catalog.roles;
const forms = () => catalog.forms;
const connectors = () => catalog.connectors;

function validateSla(value, translate) {
  if (value && !ISO_DURATION.test(value) && !ISO_DATETIME.test(value)) return translate('Invalid ISO-8601 duration');
}

// ---- countersign: select + ratio field, stored as one attribute ----
function CountersignEntry({ element }) {
  const translate = useService('translate');
  const modeling = useService('modeling');
  const raw = element.businessObject.get('hospital:countersign') || '';
  const mode = raw.startsWith('ratio:') ? 'ratio' : raw;
  return jsx(SelectEntry, {
    element, id: 'hospital-countersign', label: translate('Countersign mode'),
    getValue: () => mode,
    setValue: (v) => modeling.updateProperties(element, {
      'hospital:countersign': v === 'ratio' ? 'ratio:1/2' : (v || undefined) }),
    getOptions: () => [
      { value: '', label: translate('single (no countersign)') },
      { value: 'all', label: translate('all (会签)') },
      { value: 'any', label: translate('any (或签)') },
      { value: 'ratio', label: translate('ratio') },
      { value: 'sequential', label: translate('sequential') }
    ]
  });
}

function RatioEntry({ element }) {
  const translate = useService('translate');
  const modeling = useService('modeling');
  const debounce = useService('debounceInput');
  return jsx(TextFieldEntry, {
    element, id: 'hospital-countersign-ratio', label: translate('Ratio (N/M)'), debounce,
    getValue: () => (element.businessObject.get('hospital:countersign') || '').replace(/^ratio:/, ''),
    setValue: (v) => modeling.updateProperties(element, { 'hospital:countersign': 'ratio:' + (v || '1/2') }),
    validate: (v) => (/^\d+\/\d+$/.test(v || '') ? undefined : 'N/M')
  });
}

// ---- escalation: notify | reassign:<role> | auto:<outcome> ----
function EscalationEntry({ element }) {
  const translate = useService('translate');
  const modeling = useService('modeling');
  const raw = element.businessObject.get('hospital:escalation') || '';
  const kind = raw.split(':')[0];
  return jsx(SelectEntry, {
    element, id: 'hospital-escalation', label: translate('Escalation when overdue'),
    getValue: () => kind,
    setValue: (v) => modeling.updateProperties(element, {
      'hospital:escalation': !v ? undefined : v === 'notify' ? 'notify'
        : v === 'reassign' ? `reassign:${(roles()[0] || { value: '' }).value}` : 'auto:approve' }),
    getOptions: () => [
      { value: '', label: translate('none') },
      { value: 'notify', label: translate('notify') },
      { value: 'reassign', label: translate('reassign to role') },
      { value: 'auto', label: translate('auto outcome') }
    ]
  });
}

function EscalationArgEntry({ element }) {
  const translate = useService('translate');
  const modeling = useService('modeling');
  const raw = element.businessObject.get('hospital:escalation') || '';
  const [kind, arg] = [raw.split(':')[0], raw.split(':').slice(1).join(':')];
  if (kind === 'reassign') {
    return jsx(SelectEntry, {
      element, id: 'hospital-escalation-arg', label: translate('reassign to role'),
      getValue: () => arg,
      setValue: (v) => modeling.updateProperties(element, { 'hospital:escalation': `reassign:${v}` }),
      getOptions: () => roles().map(o => ({ value: o.value, label: o.label }))
    });
  }
  const outcomes = (element.businessObject.get('hospital:outcomes') || 'approve,reject').split(',').map(s => s.trim());
  return jsx(SelectEntry, {
    element, id: 'hospital-escalation-arg', label: translate('auto outcome'),
    getValue: () => arg,
    setValue: (v) => modeling.updateProperties(element, { 'hospital:escalation': `auto:${v}` }),
    getOptions: () => outcomes.map(o => ({ value: o, label: o }))
  });
}

// ---- service task: connector topic + parameters (camunda:inputOutput) ----
function ConnectorEntry({ element }) {
  const translate = useService('translate');
  const modeling = useService('modeling');
  const bo = element.businessObject;
  return jsx(SelectEntry, {
    element, id: 'hospital-connector', label: translate('Connector'),
    getValue: () => bo.get('camunda:topic') || '',
    setValue: (v) => modeling.updateProperties(element, v
      ? { 'camunda:type': 'external', 'camunda:topic': v }
      : { 'camunda:type': undefined, 'camunda:topic': undefined }),
    getOptions: () => {
      const opts = [{ value: '', label: translate('<none>') }].concat(connectors().map(o => ({ value: o.value, label: o.label })));
      const cur = bo.get('camunda:topic');
      if (cur && !opts.some(o => o.value === cur)) opts.push({ value: cur, label: cur + ' (?)' });
      return opts;
    }
  });
}

export function getInputOutput(bo) {
  const ext = bo.get('extensionElements');
  return ext && (ext.get('values') || []).find(v => is(v, 'camunda:InputOutput'));
}

export function parametersToText(bo) {
  const io = getInputOutput(bo);
  return io ? (io.get('inputParameters') || []).map(p => `${p.name} = ${p.value || ''}`).join('\n') : '';
}

function ParametersEntry({ element }) {
  const translate = useService('translate');
  const modeling = useService('modeling');
  const bpmnFactory = useService('bpmnFactory');
  const debounce = useService('debounceInput');
  const bo = element.businessObject;
  return jsx(TextAreaEntry, {
    element, id: 'hospital-connector-params', debounce, rows: 4,
    label: translate('Connector parameters (one per line: name = expression)'),
    getValue: () => parametersToText(bo),
    validate: (v) => noJuel(v, translate),
    setValue: (text) => {
      const params = (text || '').split('\n').map(l => l.trim()).filter(Boolean).map(line => {
        const i = line.indexOf('=');
        const name = (i < 0 ? line : line.slice(0, i)).trim();
        const value = i < 0 ? '' : line.slice(i + 1).trim();
        return bpmnFactory.create('camunda:InputParameter', { name, value });
      });
      const old = bo.get('extensionElements');
      const others = old ? (old.get('values') || []).filter(v => !is(v, 'camunda:InputOutput')) : [];
      const prevIo = getInputOutput(bo);
      const values = others.slice();
      if (params.length || (prevIo && (prevIo.get('outputParameters') || []).length)) {
        const io = bpmnFactory.create('camunda:InputOutput', {
          inputParameters: params,
          outputParameters: prevIo ? prevIo.get('outputParameters') : []
        });
        values.push(io);
      }
      const ext = bpmnFactory.create('bpmn:ExtensionElements', { values });
      values.forEach(v => { v.$parent = ext; });
      modeling.updateProperties(element, { extensionElements: values.length ? ext : undefined });
    }
  });
}

// ---- message events: message name (the correlation key is a process attribute) ----
function messageDefinition(element) {
  const bo = getBusinessObject(element);
  return (bo.get('eventDefinitions') || []).find(d => is(d, 'bpmn:MessageEventDefinition'))
    || (is(bo, 'bpmn:ReceiveTask') || is(bo, 'bpmn:SendTask') ? null : null);
}

function MessageNameEntry({ element }) {
  const translate = useService('translate');
  const modeling = useService('modeling');
  const bpmnFactory = useService('bpmnFactory');
  const canvas = useService('canvas');
  const debounce = useService('debounceInput');
  const def = messageDefinition(element);
  return jsx(TextFieldEntry, {
    element, id: 'hospital-message-name', label: translate('Message name'), debounce,
    getValue: () => (def.get('messageRef') && def.get('messageRef').name) || '',
    setValue: (name) => {
      const ref = def.get('messageRef');
      if (ref) return modeling.updateModdleProperties(element, ref, { name });
      const definitions = canvas.getRootElement().businessObject.$parent;
      const msg = bpmnFactory.create('bpmn:Message', { name });
      msg.$parent = definitions;
      definitions.get('rootElements').push(msg);
      modeling.updateModdleProperties(element, def, { messageRef: msg });
    }
  });
}

// ---- process (or participant's process) ----
function processOf(element) {
  const bo = getBusinessObject(element);
  return is(bo, 'bpmn:Participant') ? bo.get('processRef') : bo;
}

export default function HospitalPropertiesProvider(propertiesPanel, translate) {
  this.getGroups = function(element) {
    return function(groups) {
      const entries = entriesFor(element);
      if (entries.length) {
        groups.splice(1, 0, { id: 'hospital', label: translate('Hospital'), entries });
      }
      return groups;
    };
  };

  propertiesPanel.registerProvider(LOW_PRIORITY, this);
}

HospitalPropertiesProvider.$inject = ['propertiesPanel', 'translate'];

export function entriesFor(element) {
  const bo = getBusinessObject(element);
  const entries = [];
  if (is(element, 'bpmn:UserTask')) {
    entries.push(
      multiEntry({ id: 'hospital-candidate-roles', attr: 'camunda:candidateGroups', label: 'Candidate roles', options: roles }),
      textEntry({ id: 'hospital-candidate-users', attr: 'camunda:candidateUsers', label: 'Candidate users (comma separated)' }),
      textEntry({ id: 'hospital-assignee-expr', attr: 'hospital:assigneeExpr', label: 'Assignee expression', description: 'Python expression, e.g. initiator' }),
      selectEntry({ id: 'hospital-form', attr: 'camunda:formKey', label: 'Form', options: () => {
        const cur = bo.get('camunda:formKey');
        const opts = forms().slice();
        if (cur && !opts.some(o => o.value === cur)) opts.push({ value: cur, label: cur + ' (?)' });
        return opts;
      } }),
      textEntry({ id: 'hospital-sla', attr: 'hospital:sla', label: 'SLA (ISO duration, e.g. PT4H, P3D)', validate: validateSla }),
      { id: 'hospital-escalation', component: EscalationEntry, isEdited: isSelectEntryEdited }
    );
    const esc = (bo.get('hospital:escalation') || '').split(':')[0];
    if (esc === 'reassign' || esc === 'auto') {
      entries.push({ id: 'hospital-escalation-arg', component: EscalationArgEntry, isEdited: isSelectEntryEdited });
    }
    entries.push({ id: 'hospital-countersign', component: CountersignEntry, isEdited: isSelectEntryEdited });
    const cs = bo.get('hospital:countersign') || '';
    if (cs.startsWith('ratio:')) {
      entries.push({ id: 'hospital-countersign-ratio', component: RatioEntry, isEdited: isTextFieldEntryEdited });
    }
    if (cs) {
      entries.push(textEntry({ id: 'hospital-signers-expr', attr: 'hospital:signersExpr', label: 'Signers expression' }));
    }
    entries.push(
      formFieldsEntry({ id: 'hospital-readonly-fields', attr: 'hospital:readonlyFields', label: 'Readonly fields', description: 'Comma list of form fields' }),
      formFieldsEntry({ id: 'hospital-hidden-fields', attr: 'hospital:hiddenFields', label: 'Hidden fields', description: 'Comma list of form fields' }),
      textEntry({ id: 'hospital-institution-expr', attr: 'hospital:institutionExpr', label: 'Institution expression' }),
      textEntry({ id: 'hospital-outcomes', attr: 'hospital:outcomes', label: 'Outcomes', description: 'Default: approve,reject' })
    );
  } else if (is(element, 'bpmn:ServiceTask')) {
    entries.push(
      { id: 'hospital-connector', component: ConnectorEntry, isEdited: isSelectEntryEdited },
      { id: 'hospital-connector-params', component: ParametersEntry, isEdited: isTextAreaEntryEdited },
      textEntry({ id: 'hospital-result-variable', attr: 'hospital:resultVariable', label: 'Result variable' })
    );
  } else if (is(element, 'bpmn:Lane')) {
    entries.push(selectEntry({ id: 'hospital-lane-role', attr: 'hospital:role', label: 'Lane role', options: roles }));
  } else if ((is(element, 'bpmn:Process') || (is(element, 'bpmn:Participant') && bo.get('processRef')))) {
    entries.push(
      textEntry({ id: 'hospital-title', attr: 'hospital:title', label: 'Title template', target: processOf, validate: () => undefined }),
      multiEntry({ id: 'hospital-start-roles', attr: 'hospital:startRoles', label: 'Start roles', options: roles, target: processOf }),
      // The engine reads the correlation key from the process only (engine/messages.py).
      textEntry({ id: 'hospital-correlation-key', attr: 'hospital:correlationKey', label: 'Correlation key (expression)',
        description: 'Python expression over instance data; default: the business key', target: processOf })
    );
  }
  if (is(element, 'bpmn:Event') && messageDefinition(element)) {
    entries.push({ id: 'hospital-message-name', component: MessageNameEntry, isEdited: isTextFieldEntryEdited });
  }
  return entries;
}
