// 3D skeleton replay on a 2D canvas: perspective projection of the joint
// positions (mm, camera frame), rotated by dragging; play/pause and a scrubber.
// Angle traces beside it (Chart.js) follow the current frame.
(function () {
  "use strict";
  var holder = document.getElementById("replay-data");
  var canvas = document.getElementById("replay-canvas");
  if (!holder || !canvas) { return; }
  var data = JSON.parse(holder.textContent);
  var ctx = canvas.getContext("2d");
  var scrub = document.getElementById("replay-scrub");
  var playButton = document.getElementById("replay-play");
  var timeOut = document.getElementById("replay-time");
  var frame = 0, playTime = 0, playing = false, yaw = 0.6, pitch = 0.25, lastTick = null;
  var n = data.times_s.length;

  // Centre of the whole recording, so the figure stays put while it moves.
  var centre = [0, 0, 0], count = 0;
  data.positions_mm.forEach(function (f) { f.forEach(function (p) { if (p) { centre[0] += p[0]; centre[1] += p[1]; centre[2] += p[2]; count++; } }); });
  if (count) { centre = centre.map(function (v) { return v / count; }); }
  var up = data.up_axis; // camera frame: y points down, so up = (0,-1,0)

  function project(p) {
    // Move to the centre, flip so up is +y on screen, then yaw (about up) and pitch.
    var x = p[0] - centre[0], y = (p[1] - centre[1]) * (up[1] < 0 ? -1 : 1), z = p[2] - centre[2];
    var cx = Math.cos(yaw), sx = Math.sin(yaw), cp = Math.cos(pitch), sp = Math.sin(pitch);
    var x1 = cx * x + sx * z, z1 = -sx * x + cx * z;
    var y2 = cp * y - sp * z1, z2 = sp * y + cp * z1;
    var dist = 4000, scale = canvas.height * 0.9 / 2000 * dist / (dist + z2);
    return [canvas.width / 2 + x1 * scale, canvas.height / 2 - y2 * scale, z2];
  }

  function draw() {
    ctx.fillStyle = "#0f172a";
    ctx.fillRect(0, 0, canvas.width, canvas.height);
    // Floor grid for depth cues.
    ctx.strokeStyle = "#334155"; ctx.lineWidth = 1;
    for (var g = -1000; g <= 1000; g += 250) {
      var a = project([centre[0] + g, centre[1] + 900, centre[2] - 1000]), b = project([centre[0] + g, centre[1] + 900, centre[2] + 1000]);
      var c = project([centre[0] - 1000, centre[1] + 900, centre[2] + g]), d = project([centre[0] + 1000, centre[1] + 900, centre[2] + g]);
      ctx.beginPath(); ctx.moveTo(a[0], a[1]); ctx.lineTo(b[0], b[1]); ctx.moveTo(c[0], c[1]); ctx.lineTo(d[0], d[1]); ctx.stroke();
    }
    var pts = data.positions_mm[frame].map(function (p) { return p ? project(p) : null; });
    ctx.lineWidth = 4; ctx.lineCap = "round";
    data.bones.forEach(function (bone) {
      var a = pts[bone[0]], b = pts[bone[1]];
      if (!a || !b) { return; }
      var name = data.joints[bone[1]];
      ctx.strokeStyle = name.indexOf("left_") === 0 ? "#60a5fa" : name.indexOf("right_") === 0 ? "#fb923c" : "#e2e8f0";
      ctx.beginPath(); ctx.moveTo(a[0], a[1]); ctx.lineTo(b[0], b[1]); ctx.stroke();
    });
    ctx.fillStyle = "#f8fafc";
    pts.forEach(function (p) { if (p) { ctx.beginPath(); ctx.arc(p[0], p[1], 4, 0, 2 * Math.PI); ctx.fill(); } });
    timeOut.textContent = data.times_s[frame].toFixed(1) + " s";
    scrub.value = String(frame);
    if (traceChart) { traceChart.options.plugins.cursor.x = data.times_s[frame]; traceChart.update("none"); }
    canvas.dataset.frame = String(frame);
  }

  function tick(ts) {
    if (!playing) { lastTick = null; return; }
    if (lastTick !== null) {
      playTime += (ts - lastTick) / 1000;
      while (frame < n - 1 && data.times_s[frame + 1] <= playTime) { frame++; }
      if (frame >= n - 1) { frame = 0; playTime = 0; }
    }
    lastTick = ts; draw(); window.requestAnimationFrame(tick);
  }

  playButton.addEventListener("click", function () {
    playing = !playing;
    playButton.textContent = playing ? "Pause" : "Play";
    playButton.setAttribute("aria-pressed", playing ? "true" : "false");
    if (playing) { playTime = data.times_s[frame]; window.requestAnimationFrame(tick); }
  });
  scrub.addEventListener("input", function () { frame = parseInt(scrub.value, 10) || 0; playTime = data.times_s[frame]; draw(); });

  var dragging = null;
  canvas.addEventListener("pointerdown", function (e) { dragging = [e.clientX, e.clientY]; canvas.setPointerCapture(e.pointerId); });
  canvas.addEventListener("pointermove", function (e) {
    if (!dragging) { return; }
    yaw += (e.clientX - dragging[0]) * 0.01;
    pitch = Math.max(-1.4, Math.min(1.4, pitch + (e.clientY - dragging[1]) * 0.01));
    dragging = [e.clientX, e.clientY]; draw();
  });
  canvas.addEventListener("pointerup", function () { dragging = null; });

  var traceChart = null;
  var traceCanvas = document.getElementById("trace-chart");
  if (traceCanvas && typeof Chart !== "undefined" && data.traces.length) {
    var colours = ["#c2410c", "#1f5fbf", "#15803d", "#6b21a8", "#be185d", "#0e7490"];
    traceChart = new Chart(traceCanvas, {
      type: "line",
      data: { datasets: data.traces.map(function (t, k) {
        return { label: (t.side ? t.side + " " : "") + t.measure.replace(/_/g, " "), borderColor: colours[k % colours.length],
          pointRadius: 0, borderWidth: 2, spanGaps: false,
          data: t.values_deg.map(function (v, i) { return { x: data.times_s[i], y: v }; }) };
      }) },
      options: { animation: false, responsive: true, maintainAspectRatio: false,
        scales: { x: { type: "linear", title: { display: true, text: "Time (s)" } }, y: { title: { display: true, text: "Angle (°)" } } },
        plugins: { cursor: { x: 0 } } },
      plugins: [{ id: "cursor", afterDatasetsDraw: function (chart, args, opts) {
        var px = chart.scales.x.getPixelForValue(opts.x), area = chart.chartArea, c = chart.ctx;
        c.save(); c.strokeStyle = "#111827"; c.beginPath(); c.moveTo(px, area.top); c.lineTo(px, area.bottom); c.stroke(); c.restore();
      } }]
    });
  }
  draw();
  canvas.dataset.ready = "1";
})();
