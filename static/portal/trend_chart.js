// ROM trend charts. Data comes from the page's json_script block "trend-data"
// (never from string-built JavaScript); one Chart.js chart per measure.
(function () {
  "use strict";
  var holder = document.getElementById("trend-data");
  if (!holder || typeof Chart === "undefined") { return; }
  var data = JSON.parse(holder.textContent);
  var firstDay = new Date(data.first_day + "T00:00:00Z");

  function dayLabel(x) {
    var d = new Date(firstDay.getTime() + x * 86400000);
    return d.toISOString().slice(0, 10);
  }

  // Draws the normative band, goal line, markers and per-session rep spread bars.
  var overlays = {
    id: "romOverlays",
    beforeDatasetsDraw: function (chart, args, opts) {
      var ctx = chart.ctx, area = chart.chartArea, x = chart.scales.x, y = chart.scales.y;
      ctx.save();
      if (opts.normative) {
        ctx.fillStyle = "rgba(16, 185, 129, 0.12)";
        var top = y.getPixelForValue(opts.normative[1]), bottom = y.getPixelForValue(opts.normative[0]);
        ctx.fillRect(area.left, Math.max(top, area.top), area.right - area.left, Math.min(bottom, area.bottom) - Math.max(top, area.top));
      }
      (opts.markers || []).forEach(function (m) {
        var px = x.getPixelForValue(m.x);
        if (px < area.left || px > area.right) { return; }
        ctx.strokeStyle = "#6b21a8"; ctx.setLineDash([2, 3]); ctx.beginPath();
        ctx.moveTo(px, area.top); ctx.lineTo(px, area.bottom); ctx.stroke(); ctx.setLineDash([]);
        ctx.fillStyle = "#6b21a8"; ctx.font = "11px sans-serif"; ctx.fillText(m.label, px + 3, area.top + 12);
      });
      if (opts.goal !== null && opts.goal !== undefined) {
        var gy = y.getPixelForValue(opts.goal);
        ctx.strokeStyle = "#15803d"; ctx.setLineDash([8, 4]); ctx.lineWidth = 2; ctx.beginPath();
        ctx.moveTo(area.left, gy); ctx.lineTo(area.right, gy); ctx.stroke(); ctx.setLineDash([]);
        ctx.fillStyle = "#15803d"; ctx.font = "11px sans-serif"; ctx.fillText("goal " + opts.goal + "°", area.right - 60, gy - 4);
      }
      (opts.spreads || []).forEach(function (s) {
        ctx.strokeStyle = s.colour; ctx.lineWidth = 1.5;
        s.points.forEach(function (p) {
          if (p.low === null || p.low === undefined) { return; }
          var px = x.getPixelForValue(p.x);
          ctx.beginPath(); ctx.moveTo(px, y.getPixelForValue(p.low)); ctx.lineTo(px, y.getPixelForValue(p.high)); ctx.stroke();
          ctx.beginPath(); ctx.moveTo(px - 3, y.getPixelForValue(p.low)); ctx.lineTo(px + 3, y.getPixelForValue(p.low));
          ctx.moveTo(px - 3, y.getPixelForValue(p.high)); ctx.lineTo(px + 3, y.getPixelForValue(p.high)); ctx.stroke();
        });
      });
      ctx.restore();
    }
  };

  data.charts.forEach(function (chart) {
    var canvas = document.querySelector('canvas.trend-chart[data-measure="' + chart.measure + '"]');
    if (!canvas) { return; }
    var datasets = [];
    chart.series.forEach(function (s) {
      var pts = s.points;
      // Uncertainty band: peak ± u, drawn as two invisible lines filled between.
      datasets.push({ label: s.label + " + uncertainty", data: pts.map(function (p) { return { x: p.x, y: p.y === null ? null : p.y + (p.u || 0) }; }),
        borderWidth: 0, pointRadius: 0, fill: "+1", backgroundColor: s.colour + "22", spanGaps: false, isBand: true });
      datasets.push({ label: s.label + " − uncertainty", data: pts.map(function (p) { return { x: p.x, y: p.y === null ? null : p.y - (p.u || 0) }; }),
        borderWidth: 0, pointRadius: 0, fill: false, spanGaps: false, isBand: true });
      datasets.push({ label: s.label, data: pts.map(function (p) { return { x: p.x, y: p.y, flagged: p.flagged, date: p.date, u: p.u }; }),
        borderColor: s.colour, backgroundColor: s.colour, pointStyle: s.shape, pointRadius: 5, spanGaps: false,
        // An uncertain figure (> 5°) is drawn hollow: shown as such, never as a clean number.
        pointBackgroundColor: pts.map(function (p) { return p.flagged ? "#ffffff" : s.colour; }), isPeaks: true, sessionPoints: pts.filter(function (p) { return p.y !== null; }).length });
    });
    var c = new Chart(canvas, {
      type: "line",
      data: { datasets: datasets },
      options: {
        animation: false, responsive: true, maintainAspectRatio: false, parsing: true,
        scales: {
          x: { type: "linear", title: { display: true, text: "Date" }, ticks: { callback: dayLabel, maxTicksLimit: 8 } },
          y: { title: { display: true, text: "Peak angle (°)" } }
        },
        plugins: {
          legend: { labels: { filter: function (item, d) { return !d.datasets[item.datasetIndex].isBand; }, usePointStyle: true } },
          tooltip: { filter: function (item) { return item.dataset.isPeaks; }, callbacks: {
            title: function (items) { return items.length ? items[0].raw.date : ""; },
            label: function (item) { var r = item.raw; return item.dataset.label + ": " + r.y.toFixed(1) + "° ± " + (r.u === null ? "?" : r.u.toFixed(1)) + "°" + (r.flagged ? " (uncertain)" : ""); }
          } },
          romOverlays: { normative: chart.normative, goal: chart.goal, markers: data.markers, spreads: chart.series }
        }
      },
      plugins: [overlays]
    });
    // For tests and assistive tools: how many session points this chart plots, per series.
    canvas.dataset.points = JSON.stringify(chart.series.map(function (s) {
      return { side: s.side, y: s.points.filter(function (p) { return p.y !== null; }).map(function (p) { return p.y; }) };
    }));
    canvas.dataset.ready = "1";
    return c;
  });
})();
