/* Monitoring charts: one uPlot chart per metric, drawn from the page's json_script data (metrics/_figures.html).
   A 3 h / 24 h / 7 d switch redraws them; a chart in a hidden tab is drawn when the tab is shown. */
(function () {
  "use strict";
  var box = document.querySelector("[data-metrics-charts]");
  if (!box || !window.uPlot) return;
  var data = JSON.parse(document.getElementById(box.dataset.metricsCharts).textContent);
  var current = data.order[0];
  var charts = [];

  function draw() {
    charts.forEach(function (chart) { chart.destroy(); });
    charts = [];
    var range = data.ranges[current];
    box.querySelectorAll("[data-metrics-chart]").forEach(function (el) {
      var width = el.clientWidth;
      if (!width) return; // hidden: drawn when shown
      var series = range.series[parseInt(el.dataset.metricsChart, 10)];
      charts.push(new uPlot({
        width: width, height: 160,
        series: [{}, {label: series.label, stroke: "#0d6efd", fill: "rgba(13,110,253,0.1)", spanGaps: false}],
        axes: [{}, {size: 50}],
        legend: {show: false},
        scales: {y: {range: function (u, min, max) { return [0, Math.max(1, max || 0)]; }}}
      }, [range.x, series.values], el));
    });
  }

  document.querySelectorAll("[data-metrics-range]").forEach(function (button) {
    button.addEventListener("click", function () {
      current = button.dataset.metricsRange;
      document.querySelectorAll("[data-metrics-range]").forEach(function (other) {
        var on = other === button;
        other.classList.toggle("active", on);
        other.setAttribute("aria-pressed", on ? "true" : "false");
      });
      draw();
    });
  });
  var tab = document.getElementById("monitoring-tab");
  if (tab) tab.addEventListener("shown.bs.tab", draw);
  draw();
})();
