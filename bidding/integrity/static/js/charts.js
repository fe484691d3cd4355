// Integrity charts: every element with data-chart reads its data from the JSON script named by
// data-source (no inline script: the pages' CSP) and draws it with the vendored ECharts.
(function () {
  "use strict";

  function data(el) {
    var source = document.getElementById(el.getAttribute("data-source"));
    return source ? JSON.parse(source.textContent) : null;
  }

  function network(el, graph) {
    var chart = echarts.init(el);
    var categories = graph.categories.length ? graph.categories : [{ name: "" }];
    chart.setOption({
      tooltip: {},
      legend: [{ data: categories.map(function (c) { return c.name; }) }],
      series: [{
        type: "graph",
        layout: "force",
        roam: true,
        draggable: true,
        label: { show: true, position: "right" },
        force: { repulsion: 200, edgeLength: 120 },
        categories: categories,
        data: graph.nodes.map(function (n) {
          return { id: String(n.id), name: n.name || String(n.id), category: n.category || 0, symbolSize: n.size || 24 };
        }),
        links: graph.edges.map(function (e) {
          return { source: String(e.source), target: String(e.target), value: e.value, lineStyle: { width: Math.min(8, 1 + (e.value || 1)) } };
        })
      }]
    });
  }

  function distribution(el, market) {
    var chart = echarts.init(el);
    var colours = market.counts.map(function (_, i) { return i === market.mark ? "#c0392b" : "#7f8c8d"; });
    chart.setOption({
      tooltip: {},
      xAxis: { type: "category", data: market.bins, name: el.getAttribute("data-x-label") || "" },
      yAxis: { type: "value", name: el.getAttribute("data-y-label") || "" },
      series: [{
        type: "bar",
        data: market.counts.map(function (count, i) { return { value: count, itemStyle: { color: colours[i] } }; })
      }]
    });
  }

  function draw() {
    if (typeof echarts === "undefined") { return; }
    document.querySelectorAll("[data-chart]").forEach(function (el) {
      var value = data(el);
      if (!value) { return; }
      if (el.getAttribute("data-chart") === "network") { network(el, value); }
      if (el.getAttribute("data-chart") === "distribution") { distribution(el, value); }
    });
  }

  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", draw); } else { draw(); }
})();
