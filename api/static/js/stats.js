// Statistics page: Chart.js charts from the JSON in #chart-data (rendered server-side, escaped).
(function () {
  'use strict';
  var COLORS = { running: '#0b6bcb', completed: '#2e7d32', cancelled: '#8292a2', suspended: '#b26a00', error: '#c62828' };
  function color(status, i) { return COLORS[status] || ['#5e35b1', '#00897b', '#f4511e'][i % 3]; }
  function stacked(id, block) {
    var el = document.getElementById(id);
    if (!el) return;
    new window.Chart(el, {
      type: 'bar',
      data: { labels: block.labels, datasets: block.series.map(function (s, i) {
        return { label: s.label, data: s.data, backgroundColor: color(s.status, i) }; }) },
      options: { responsive: true, maintainAspectRatio: false, animation: false,
        scales: { x: { stacked: true }, y: { stacked: true, beginAtZero: true, ticks: { precision: 0 } } } }
    });
  }
  function init() {
    var holder = document.getElementById('chart-data');
    if (!holder || !window.Chart) return;
    var data = JSON.parse(holder.getAttribute('data-charts'));
    stacked('chart-process', data.byProcess);
    stacked('chart-institution', data.byInstitution);
    var el = document.getElementById('chart-durations');
    if (el) {
      new window.Chart(el, {
        type: 'bar',
        data: { labels: data.durations.labels, datasets: [{ label: data.durations.label, data: data.durations.data, backgroundColor: '#0b6bcb' }] },
        options: { indexAxis: 'y', responsive: true, maintainAspectRatio: false, animation: false,
          scales: { x: { beginAtZero: true } } }
      });
    }
    document.body.setAttribute('data-charts-ready', 'true');
  }
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', init); else init();
})();
