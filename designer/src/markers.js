// Canvas markers + overlays for diagnostics, diff and dry-run, grouped by kind so
// each feature can clear its own.
const applied = {};

export function clearMarkers(modeler, kind) {
  const canvas = modeler.get('canvas');
  const overlays = modeler.get('overlays');
  for (const [id, cls] of applied[kind] || []) {
    try { canvas.removeMarker(id, cls); } catch (e) { /* element gone */ }
  }
  overlays.remove({ type: kind });
  applied[kind] = [];
}

export function mark(modeler, kind, id, cls, badge) {
  const registry = modeler.get('elementRegistry');
  const el = registry.get(id);
  if (!el) return false;
  modeler.get('canvas').addMarker(id, cls);
  (applied[kind] = applied[kind] || []).push([id, cls]);
  if (badge && !el.waypoints) {
    const div = document.createElement('div');
    div.className = `badge ${cls}-badge`;
    div.textContent = badge.text;
    div.title = badge.title || '';
    div.dataset.elementId = id;
    modeler.get('overlays').add(id, kind, { position: { top: -12, right: 12 }, html: div });
  }
  return true;
}

export function selectElement(modeler, id) {
  const el = modeler.get('elementRegistry').get(id);
  if (!el) return;
  modeler.get('selection').select(el);
  const canvas = modeler.get('canvas');
  if (!el.waypoints) {
    const vb = canvas.viewbox();
    const inView = el.x > vb.x && el.y > vb.y && el.x + el.width < vb.x + vb.width && el.y + el.height < vb.y + vb.height;
    if (!inView) canvas.scrollToElement ? canvas.scrollToElement(el) : null;
  }
}
