// Instance page: render the deployed BPMN with bpmn-js (NavigatedViewer) and mark node states.
(function () {
  'use strict';
  function init() {
    var el = document.getElementById('diagram');
    if (!el || !window.BpmnJS) return;
    var states = {};
    try { states = JSON.parse(el.getAttribute('data-node-states') || '{}'); } catch (e) { states = {}; }
    var viewer = new window.BpmnJS({ container: el });
    fetch(el.getAttribute('data-xml-url'), { credentials: 'same-origin' })
      .then(function (r) { if (!r.ok) throw new Error(r.status); return r.text(); })
      .then(function (xml) { return viewer.importXML(xml); })
      .then(function () {
        var canvas = viewer.get('canvas');
        var registry = viewer.get('elementRegistry');
        canvas.zoom('fit-viewport', 'auto');
        Object.keys(states).forEach(function (id) {
          if (registry.get(id)) canvas.addMarker(id, 'hl-' + states[id]);
        });
        el.setAttribute('data-rendered', 'true');
      })
      .catch(function () {
        el.textContent = el.getAttribute('data-error-text');
        el.setAttribute('data-rendered', 'error');
      });
  }
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', init); else init();
})();
