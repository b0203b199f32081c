// The console's only script: plain JavaScript, no library (the CSP allows nothing else).
// On the overview it refreshes the live numbers and redraws the throughput chart every
// two seconds from /console/api/overview, without a reload. It never writes HTML from
// data (textContent only), and it never sends anything that changes state.
"use strict";

(function () {
  const REFRESH_MS = 2000;
  const canvas = document.getElementById("throughput");
  if (!canvas) {
    return;
  }

  function bind(name, text, cssClass) {
    document.querySelectorAll('[data-bind="' + name + '"]').forEach(function (element) {
      element.textContent = text;
      if (cssClass !== undefined) {
        element.className = (element.dataset.bind === "health.status" ? "status " : "state ") +
          cssClass;
      }
    });
  }

  function fixed(value, digits) {
    return Number(value || 0).toFixed(digits);
  }

  function draw(series) {
    const context = canvas.getContext("2d");
    const width = canvas.width;
    const height = canvas.height;
    const pad = 28;
    context.clearRect(0, 0, width, height);
    const values = series.map(function (point) { return point.per_s; });
    const top = Math.max(1, Math.max.apply(null, values.concat([0])));
    context.strokeStyle = "#d9dee7";
    context.fillStyle = "#5b6475";
    context.font = "11px system-ui, sans-serif";
    [0, 0.5, 1].forEach(function (share) {
      const y = height - pad - share * (height - 2 * pad);
      context.beginPath();
      context.moveTo(pad, y);
      context.lineTo(width - 8, y);
      context.stroke();
      context.fillText((top * share).toFixed(1), 2, y + 4);
    });
    if (values.length < 2) {
      context.fillText("collecting… (a point every 5 s)", pad + 8, pad);
      return;
    }
    const step = (width - pad - 8) / (values.length - 1);
    context.strokeStyle = "#2450a6";
    context.lineWidth = 2;
    context.beginPath();
    values.forEach(function (value, index) {
      const x = pad + index * step;
      const y = height - pad - (value / top) * (height - 2 * pad);
      if (index === 0) {
        context.moveTo(x, y);
      } else {
        context.lineTo(x, y);
      }
    });
    context.stroke();
  }

  function fillTable(id, entries, digits) {
    const body = document.querySelector("#" + id + " tbody");
    if (!body) {
      return;
    }
    body.replaceChildren();
    entries.sort().forEach(function (entry) {
      const row = document.createElement("tr");
      [entry[0], digits === undefined ? String(entry[1]) : fixed(entry[1], digits)]
        .forEach(function (text) {
          const cell = document.createElement("td");
          cell.textContent = text;
          row.appendChild(cell);
        });
      body.appendChild(row);
    });
  }

  function show(data) {
    bind("health.status", data.health.status, data.health.status);
    bind("stats.total", String(data.stats.track_stats.total_tracks));
    fillTable("statuses", Object.entries(data.stats.track_stats.by_status));
    fillTable("coverage", Object.entries(data.stats.track_stats.coverage_percentages), 1);
    bind("health.serving", String(data.health.serving));
    bind("health.database", data.health.database);
    bind("stats.hit_rate", fixed(100 * data.stats.cache_hit_rate, 1) + " %");
    bind("dlq.due", String(data.stats.dead_letters.due));
    bind("dlq.parked", String(data.stats.dead_letters.parked));
    Object.keys(data.sources).forEach(function (source) {
      const info = data.sources[source];
      bind(source + ".state", info.state, info.state);
      bind(source + ".calls", fixed(info.calls, 0));
      bind(source + ".errors", fixed(info.errors, 0));
      bind(source + ".latency_ms", fixed(info.latency_ms, 1));
      bind(source + ".wait_ms", fixed(info.wait_ms, 1));
      bind(source + ".lanes", info.lanes);
    });
    draw(data.throughput);
    canvas.dataset.updated = String(Date.now());
  }

  function refresh() {
    fetch(canvas.dataset.source, { credentials: "same-origin", cache: "no-store" })
      .then(function (response) {
        if (response.status === 401) {
          window.location.assign("/console/sign-in");
          return null;
        }
        return response.json();
      })
      .then(function (data) {
        if (data) {
          show(data);
        }
      })
      .catch(function () { /* the next tick tries again */ });
  }

  refresh();
  window.setInterval(refresh, REFRESH_MS);
})();
