// The definition currently being edited.
export const state = { key: null, version: null, dirty: false };

export function processKey(modeler) {
  const root = modeler.get('canvas').getRootElement().businessObject;
  const process = root.$type === 'bpmn:Collaboration'
    ? (root.participants || []).map(p => p.processRef).find(Boolean) : root;
  return process ? process.id : null;
}

export async function currentXml(modeler) {
  const { xml } = await modeler.saveXML({ format: true });
  return xml;
}
