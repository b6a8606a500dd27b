// Small entry factories shared by the hospital properties provider.
import { TextFieldEntry, TextAreaEntry, SelectEntry, CheckboxGroup,
  isTextFieldEntryEdited, isSelectEntryEdited, isTextAreaEntryEdited } from '@bpmn-io/properties-panel';
import { jsx } from '@bpmn-io/properties-panel/preact/jsx-runtime';
import { useService } from 'bpmn-js-properties-panel';
import { useEffect, useState } from '@bpmn-io/properties-panel/preact/hooks';
import { formFields } from '../catalog.js';

export const ISO_DURATION = /^P(?!$)(\d+Y)?(\d+M)?(\d+W)?(\d+D)?(T(?=\d)(\d+H)?(\d+M)?(\d+(\.\d+)?S)?)?$/;
export const ISO_DATETIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2})?/;

export function splitList(v) {
  return (v || '').split(',').map(s => s.trim()).filter(Boolean);
}

/**
 * Attribute accessor: `target(element)` returns the moddle object holding the
 * attribute (default: the business object).
 */
function accessor(element, attr, target) {
  const modeling = useService('modeling');
  const obj = () => (target ? target(element) : element.businessObject);
  return {
    get: () => { const o = obj(); return (o && o.get(attr)) || ''; },
    set: (value) => {
      const o = obj();
      if (!o) return;
      const v = value === '' || value == null ? undefined : value;
      if (o === element.businessObject) modeling.updateProperties(element, { [attr]: v });
      else modeling.updateModdleProperties(element, o, { [attr]: v });
    }
  };
}

export function noJuel(value, translate = (x) => x) {
  if (value && /\$\{|#\{/.test(value)) return translate('JUEL ${...} is not supported, use a Python expression');
}

export function textEntry({ id, attr, label, description, target, validate, area }) {
  function Component(props) {
    const { element } = props;
    const translate = useService('translate');
    const debounce = useService('debounceInput');
    const a = accessor(element, attr, target);
    return jsx(area ? TextAreaEntry : TextFieldEntry, {
      element, id, label: translate(label), debounce,
      description: description && translate(description),
      getValue: a.get, setValue: a.set,
      validate: (v) => (validate || noJuel)(v, translate)
    });
  }
  return { id, component: Component, isEdited: area ? isTextAreaEntryEdited : isTextFieldEntryEdited };
}

export function selectEntry({ id, attr, label, options, target }) {
  function Component(props) {
    const { element } = props;
    const translate = useService('translate');
    const a = accessor(element, attr, target);
    return jsx(SelectEntry, {
      element, id, label: translate(label),
      getValue: a.get, setValue: a.set,
      getOptions: () => [{ value: '', label: translate('<none>') }].concat(
        options().map(o => ({ value: o.value, label: o.label })))
    });
  }
  return { id, component: Component, isEdited: isSelectEntryEdited };
}

/**
 * Checkboxes over a comma list attribute. Values outside `options` (an imported file's, a field the form
 * no longer has) stay visible as "value (?)" so they can be unticked.
 */
function commaListCheckboxes(element, id, label, a, options) {
  const current = splitList(a.get());
  const opts = options.map(o => ({ value: o.value, label: o.label }));
  current.filter(v => !opts.some(o => o.value === v)).forEach(v => opts.push({ value: v, label: v + ' (?)' }));
  return jsx(CheckboxGroup, {
    element, id, label, options: opts,
    getValue: () => current,
    setValue: (values) => a.set(values.join(','))
  });
}

/** Multi-select (checkbox list) stored as a comma list attribute. */
export function multiEntry({ id, attr, label, options, target }) {
  function Component(props) {
    const { element } = props;
    const translate = useService('translate');
    return commaListCheckboxes(element, id, translate(label), accessor(element, attr, target), options());
  }
  return { id, component: Component, isEdited: (node) => !!(node && node.querySelector('input:checked')) };
}

/**
 * Comma list of the user task's form fields (hospital:readonlyFields / hiddenFields): checkboxes
 * of the chosen form's fields; a text field while no form with fields is chosen.
 */
export function formFieldsEntry({ id, attr, label, description }) {
  const Text = textEntry({ id, attr, label, description }).component;
  function Component(props) {
    const { element } = props;
    const translate = useService('translate');
    const formKey = element.businessObject.get('camunda:formKey');
    const [fields, setFields] = useState([]);
    useEffect(() => {
      let live = true;
      formFields(formKey).then((found) => { if (live) setFields(found); });
      return () => { live = false; };
    }, [formKey]);
    if (!fields.length) return jsx(Text, props);
    return commaListCheckboxes(element, id, translate(label), accessor(element, attr), fields);
  }
  return {
    id, component: Component,
    isEdited: (node) => !!(node && (node.value || (node.querySelector && node.querySelector('input:checked'))))
  };
}
