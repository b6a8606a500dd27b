// Staff pages: small progressive enhancements (every page works without JS).
// - mobile navigation toggle
// - editable tables (add/remove rows of `field[i][col]` inputs)
// - visibleIf: show a field only when another field has a value (hidden inputs are disabled, so not posted)
// - inbox bulk selection
(function () {
  'use strict';

  function navToggle() {
    var button = document.querySelector('.nav-toggle');
    var nav = document.getElementById('main-nav');
    if (!button || !nav) return;
    button.addEventListener('click', function () {
      var open = nav.classList.toggle('open');
      button.setAttribute('aria-expanded', open ? 'true' : 'false');
    });
  }

  function nextIndex(tbody) {
    var max = -1;
    tbody.querySelectorAll('tr[data-row]').forEach(function (tr) {
      var n = parseInt(tr.getAttribute('data-row'), 10);
      if (!isNaN(n) && n > max) max = n;
    });
    return max + 1;
  }

  function tables() {
    document.addEventListener('click', function (event) {
      var add = event.target.closest('.row-add');
      if (add) {
        var name = add.getAttribute('data-target');
        var table = document.querySelector('table[data-table="' + CSS.escape(name) + '"]');
        var template = document.querySelector('template[data-row-template="' + CSS.escape(name) + '"]');
        if (!table || !template) return;
        var tbody = table.tBodies[0];
        var index = String(nextIndex(tbody));
        var row = template.content.firstElementChild.cloneNode(true);
        row.setAttribute('data-row', index);
        row.querySelectorAll('[name],[id],[for],[aria-describedby]').forEach(function (el) {
          ['name', 'id', 'for', 'aria-describedby'].forEach(function (attr) {
            var value = el.getAttribute(attr);
            if (value) el.setAttribute(attr, value.split('__INDEX__').join(index));
          });
        });
        tbody.appendChild(row);
        var first = row.querySelector('input,select,textarea');
        if (first) first.focus();
        return;
      }
      var remove = event.target.closest('.row-remove');
      if (remove) {
        var tr = remove.closest('tr');
        var fieldset = remove.closest('fieldset');
        tr.parentNode.removeChild(tr);
        var addButton = fieldset && fieldset.querySelector('.row-add');
        if (addButton) addButton.focus();
      }
    });
  }

  function valueOf(form, name) {
    var inputs = form.querySelectorAll('[name="' + CSS.escape(name) + '"]');
    var value = '';
    inputs.forEach(function (el) {
      if (el.type === 'checkbox') { if (el.checked) value = 'true'; else if (inputs.length === 1) value = 'false'; }
      else if (el.type === 'radio') { if (el.checked) value = el.value; }
      else if (el.type !== 'hidden' || inputs.length === 1) value = el.value;
    });
    return value;
  }

  function asText(v) { return v === true ? 'true' : v === false ? 'false' : v == null ? '' : String(v); }

  function visibility() {
    var dependents = document.querySelectorAll('[data-visible-if]');
    if (!dependents.length) return;
    function update() {
      dependents.forEach(function (wrapper) {
        var form = wrapper.closest('form') || document;
        var rule;
        try { rule = JSON.parse(wrapper.getAttribute('data-visible-if')); } catch (e) { return; }
        var show = Object.keys(rule).every(function (k) { return valueOf(form, k) === asText(rule[k]); });
        wrapper.hidden = !show;
        wrapper.querySelectorAll('input,select,textarea').forEach(function (el) {
          if (!el.hasAttribute('data-ro')) el.disabled = !show;
        });
      });
    }
    document.querySelectorAll('[data-visible-if] [disabled]').forEach(function (el) { el.setAttribute('data-ro', ''); });
    document.addEventListener('change', update);
    update();
  }

  function bulk() {
    var form = document.getElementById('bulk-form');
    if (!form) return;
    var all = form.querySelector('[data-select-all]');
    var counter = form.querySelector('[data-bulk-count]');
    function boxes() { return form.querySelectorAll('input[name="ids"]'); }
    function refresh() {
      var n = 0;
      boxes().forEach(function (b) { if (b.checked) n += 1; });
      if (counter) { counter.hidden = n === 0; counter.querySelector('strong').textContent = String(n); }
      if (all) { all.checked = n > 0 && n === boxes().length; all.indeterminate = n > 0 && n < boxes().length; }
    }
    form.addEventListener('change', function (event) {
      if (event.target === all) boxes().forEach(function (b) { b.checked = all.checked; });
      refresh();
    });
    refresh();
  }

  function init() { navToggle(); tables(); visibility(); bulk(); }
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', init); else init();
})();
