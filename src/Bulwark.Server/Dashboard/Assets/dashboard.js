// Bulwark dashboard: live overview (polls overview.json every 2 s) and inline-SVG charts. No dependencies.
(function () {
  "use strict";
  var SVG = "http://www.w3.org/2000/svg";
  var prefix = document.body.getAttribute("data-prefix");
  var page = document.body.getAttribute("data-page");

  function el(name, attrs, text) {
    var node = document.createElementNS(SVG, name);
    Object.keys(attrs).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function clear(svg) { while (svg.firstChild) svg.removeChild(svg.firstChild); }

  function age(seconds) {
    if (seconds === null || seconds === undefined) return "\u2014";
    var s = Math.floor(seconds);
    if (s < 60) return s + "s";
    if (s < 3600) return Math.floor(s / 60) + "m " + (s % 60) + "s";
    if (s < 172800) return Math.floor(s / 3600) + "h " + Math.floor((s % 3600) / 60) + "m";
    return Math.floor(s / 86400) + "d " + Math.floor((s % 86400) / 3600) + "h";
  }

  function fmt(n) { return Number(n).toLocaleString("en-US"); }

  // Stacked bars per minute: completed (green) under failed (red).
  function throughput(svg, completed, failed) {
    clear(svg);
    var w = 420, h = 120, top = 14, bottom = 16, n = completed.length;
    var max = 1;
    for (var i = 0; i < n; i++) max = Math.max(max, completed[i] + failed[i]);
    var bw = w / n, scale = (h - top - bottom) / max;
    svg.appendChild(el("line", { x1: 0, y1: h - bottom, x2: w, y2: h - bottom, stroke: "#c9d1d9" }));
    for (i = 0; i < n; i++) {
      var c = completed[i] * scale, f = failed[i] * scale, x = i * bw + 1;
      if (c > 0) svg.appendChild(el("rect", { x: x, y: h - bottom - c, width: bw - 2, height: c, fill: "#2da44e" }));
      if (f > 0) svg.appendChild(el("rect", { x: x, y: h - bottom - c - f, width: bw - 2, height: f, fill: "#cf222e" }));
    }
    var total = completed.reduce(function (a, b) { return a + b; }, 0);
    var bad = failed.reduce(function (a, b) { return a + b; }, 0);
    svg.appendChild(el("text", { x: 2, y: 11, "font-size": 11, fill: "#57606a" }, "peak " + fmt(max) + "/min \u00b7 last hour: " + fmt(total) + " completed, " + fmt(bad) + " failed"));
    svg.appendChild(el("text", { x: 2, y: h - 3, "font-size": 10, fill: "#57606a" }, "\u221260 min"));
    svg.appendChild(el("text", { x: w - 2, y: h - 3, "font-size": 10, fill: "#57606a", "text-anchor": "end" }, "now"));
  }

  // Failure rate per minute (failed / finished), 0–100 %, as a line; minutes with nothing finished are gaps.
  function failureRate(svg, completed, failed) {
    clear(svg);
    var w = 420, h = 80, top = 14, bottom = 6, n = completed.length, bw = w / n;
    var y = function (rate) { return h - bottom - rate * (h - top - bottom); };
    svg.appendChild(el("line", { x1: 0, y1: y(0), x2: w, y2: y(0), stroke: "#c9d1d9" }));
    svg.appendChild(el("line", { x1: 0, y1: y(1), x2: w, y2: y(1), stroke: "#eaeef2", "stroke-dasharray": "4 4" }));
    var d = "", pen = false, last = null;
    for (var i = 0; i < n; i++) {
      var finished = completed[i] + failed[i];
      if (finished === 0) { pen = false; continue; }
      var rate = failed[i] / finished, x = i * bw + bw / 2;
      d += (pen ? "L" : "M") + x.toFixed(1) + " " + y(rate).toFixed(1) + " ";
      pen = true; last = rate;
      svg.appendChild(el("circle", { cx: x, cy: y(rate), r: 2, fill: "#cf222e" }));
    }
    if (d) svg.appendChild(el("path", { d: d, fill: "none", stroke: "#cf222e", "stroke-width": 1.5 }));
    svg.appendChild(el("text", { x: 2, y: 11, "font-size": 11, fill: "#57606a" },
      "failure rate" + (last === null ? ": nothing finished this hour" : " \u00b7 latest minute " + Math.round(last * 100) + "%")));
  }

  function render(data) {
    var seen = {};
    data.queues.forEach(function (q) {
      seen[q.queue] = true;
      var row = document.querySelector('#queues tr[data-queue="' + CSS.escape(q.queue) + '"]');
      if (!row) { location.reload(); return; }
      Object.keys(q.counts).forEach(function (state) {
        var cell = row.querySelector('[data-count="' + state + '"]');
        if (cell) cell.textContent = fmt(q.counts[state]);
      });
      row.querySelector('[data-field="oldest"]').textContent = age(q.oldest_ready_seconds);
      var status = row.querySelector('[data-field="status"]');
      status.innerHTML = "";
      var badge = document.createElement("span");
      badge.className = "badge " + (q.paused ? "paused" : "ok");
      badge.textContent = q.paused ? "paused" : "active";
      status.appendChild(badge);
      var card = document.querySelector('[data-chart-queue="' + CSS.escape(q.queue) + '"]');
      if (card) {
        throughput(card.querySelector('[data-chart="throughput"]'), q.completed, q.failed);
        failureRate(card.querySelector('[data-chart="failure-rate"]'), q.completed, q.failed);
      }
    });
    (data.circuits || []).forEach(function (c) {
      var row = document.querySelector('#circuits tr[data-circuit="' + CSS.escape(c.type) + '"]');
      if (!row) return;
      var badge = row.querySelector(".badge");
      badge.className = "badge circuit-" + c.state;
      badge.textContent = c.state;
    });
    var storage = document.querySelector('[data-field="storage-circuit"]');
    if (storage && data.storage) { storage.textContent = data.storage; storage.className = "badge circuit-" + data.storage; }
    var stamp = document.getElementById("updated");
    if (stamp) stamp.textContent = "live \u00b7 updated " + new Date(data.now).toLocaleTimeString("en-GB");
  }

  function poll() {
    fetch(prefix + "/overview.json", { credentials: "same-origin", cache: "no-store" })
      .then(function (r) {
        if (r.status === 401 || r.redirected) { location.href = prefix + "/signin"; return null; }
        if (!r.ok) throw new Error("HTTP " + r.status);
        return r.json();
      })
      .then(function (data) { if (data) render(data); })
      .catch(function () {
        var stamp = document.getElementById("updated");
        if (stamp) stamp.textContent = "not updating: the server did not answer";
      })
      .finally(function () { setTimeout(poll, 2000); });
  }

  if (page === "overview") {
    var h1 = document.querySelector("main h1");
    var stamp = document.createElement("span");
    stamp.id = "updated";
    stamp.className = "live";
    h1.appendChild(stamp);
    poll();
  }
})();
