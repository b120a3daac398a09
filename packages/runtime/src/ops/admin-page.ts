/**
 * The live page at `/` on the admin port: plain HTML and JavaScript, no build step and no
 * framework. It polls /api/overview and draws throughput, latency, backlogs, suspended
 * addresses and connection pools, and in a cluster its members with the partitions they own
 * and their lag. Values are written with textContent, never as HTML.
 */
export const ADMIN_PAGE_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Switchboard</title>
<style>
  :root { color-scheme: light dark; --muted: #6b7280; --line: #d1d5db; --bad: #b91c1c; --ok: #15803d; }
  body { font: 14px/1.4 system-ui, sans-serif; margin: 1.5rem; }
  h1 { font-size: 1.3rem; margin: 0 0 .25rem; }
  h2 { font-size: 1rem; margin: 1.5rem 0 .5rem; }
  #status { color: var(--muted); }
  #status.ok { color: var(--ok); }
  #status.bad { color: var(--bad); }
  .cards { display: grid; grid-template-columns: repeat(auto-fill, minmax(11rem, 1fr)); gap: .75rem; }
  .card { border: 1px solid var(--line); border-radius: .5rem; padding: .6rem .8rem; }
  .card .label { color: var(--muted); font-size: .8rem; }
  .card .value { font-size: 1.5rem; font-variant-numeric: tabular-nums; }
  table { border-collapse: collapse; width: 100%; }
  th, td { text-align: left; padding: .3rem .5rem; border-bottom: 1px solid var(--line); }
  td.num { text-align: right; font-variant-numeric: tabular-nums; }
  .empty { color: var(--muted); }
  .silent { color: var(--bad); }
  button { font: inherit; }
</style>
</head>
<body>
<h1>Switchboard</h1>
<div id="status">connecting…</div>

<h2>Throughput and latency</h2>
<div class="cards">
  <div class="card"><div class="label">applied msg/s</div><div class="value" id="applied-rate">–</div></div>
  <div class="card"><div class="label">accepted msg/s</div><div class="value" id="accepted-rate">–</div></div>
  <div class="card"><div class="label">applied (total)</div><div class="value" id="applied-total">–</div></div>
  <div class="card"><div class="label">accepted (total)</div><div class="value" id="accepted-total">–</div></div>
  <div class="card"><div class="label">failed (total)</div><div class="value" id="failed-total">–</div></div>
  <div class="card"><div class="label">latency p50 ms</div><div class="value" id="latency-p50">–</div></div>
  <div class="card"><div class="label">latency p99 ms</div><div class="value" id="latency-p99">–</div></div>
  <div class="card"><div class="label">batch size p99</div><div class="value" id="batch-p99">–</div></div>
</div>

<h2>Backlogs</h2>
<div class="cards">
  <div class="card"><div class="label">backlog messages</div><div class="value" id="backlog">–</div></div>
  <div class="card"><div class="label">addresses in flight</div><div class="value" id="in-flight">–</div></div>
  <div class="card"><div class="label">suspended</div><div class="value" id="suspended-count">–</div></div>
  <div class="card"><div class="label">back-pressured</div><div class="value" id="backpressured">–</div></div>
  <div class="card"><div class="label">delayed pending</div><div class="value" id="delayed">–</div></div>
  <div class="card"><div class="label">egress pending</div><div class="value" id="egress">–</div></div>
  <div class="card"><div class="label">dead letters</div><div class="value" id="dead-letters">–</div></div>
  <div class="card"><div class="label">last commit (units / ms)</div><div class="value" id="commit">–</div></div>
</div>

<section id="cluster" hidden>
<h2>Cluster</h2>
<p id="cluster-summary"></p>
<table id="cluster-members">
  <thead><tr><th>instance</th><th>host</th><th>admin (forwarded to)</th><th>heartbeat</th><th>partitions</th><th>queued</th><th>oldest queued</th></tr></thead>
  <tbody></tbody>
</table>
</section>

<h2>Suspended addresses</h2>
<table id="suspended">
  <thead><tr><th>address</th><th>failures</th><th>backlog</th><th>error</th><th>retry at</th><th></th></tr></thead>
  <tbody></tbody>
</table>

<h2>Connection pools</h2>
<table id="pools">
  <thead><tr><th>origin</th><th>open</th><th>idle</th><th>requests</th><th>reused</th><th>retries</th><th>timeouts</th></tr></thead>
  <tbody></tbody>
</table>

<script>
(function () {
  "use strict";
  var params = new URLSearchParams(location.search);
  var refreshMs = Math.max(200, Number(params.get("refresh")) || 1000);
  // Rates are taken over the last few seconds of refreshes, so they do not flicker to 0.
  var RATE_WINDOW_MS = 5000;
  var history = [];

  function text(id, value) { document.getElementById(id).textContent = value; }
  function fmt(value, digits) {
    if (value === null || value === undefined || Number.isNaN(value)) return "–";
    return Number(value).toLocaleString(undefined, { maximumFractionDigits: digits === undefined ? 0 : digits });
  }
  function cell(row, value, numeric) {
    var td = document.createElement("td");
    td.textContent = value;
    if (numeric) td.className = "num";
    row.appendChild(td);
    return td;
  }
  function fill(tableId, rows, columns, emptyText) {
    var body = document.querySelector("#" + tableId + " tbody");
    body.replaceChildren();
    if (rows.length === 0) {
      var tr = document.createElement("tr");
      var td = cell(tr, emptyText);
      td.colSpan = columns;
      td.className = "empty";
      body.appendChild(tr);
      return [];
    }
    return rows.map(function () { var tr = document.createElement("tr"); body.appendChild(tr); return tr; });
  }
  function addressPath(address) {
    var cut = address.lastIndexOf("/");
    var fn = address.slice(0, cut);
    var slash = fn.lastIndexOf("/");
    return [fn.slice(0, slash), fn.slice(slash + 1), address.slice(cut + 1)].map(encodeURIComponent).join("/");
  }
  // With --admin-token set, actions need it: asked for once, kept for this tab only.
  function retry(address) {
    var url = "api/addresses/" + addressPath(address) + "/retry";
    var send = function () {
      var token = sessionStorage.getItem("switchboard-admin-token");
      return fetch(url, { method: "POST", headers: token ? { authorization: "Bearer " + token } : {} });
    };
    send().then(function (response) {
      if (response.status !== 401) return response;
      var token = prompt("Admin token (--admin-token / SWITCHBOARD_ADMIN_TOKEN)");
      if (!token) return response;
      sessionStorage.setItem("switchboard-admin-token", token);
      return send();
    }).then(refresh, refresh);
  }

  function draw(view) {
    var status = document.getElementById("status");
    status.textContent = (view.ready ? "ready" : "not ready") + " · up " + fmt(view.uptimeSeconds) + " s · " +
      view.endpoints.length + " endpoint(s) · updated " + new Date(view.now).toLocaleTimeString();
    status.className = view.ready ? "ok" : "bad";
    history.push({ now: view.now, totals: view.totals });
    while (history.length > 2 && view.now - history[1].now >= RATE_WINDOW_MS) history.shift();
    var oldest = history[0];
    if (oldest.now < view.now) {
      var seconds = (view.now - oldest.now) / 1000;
      text("applied-rate", fmt((view.totals.applied - oldest.totals.applied) / seconds, 1));
      text("accepted-rate", fmt((view.totals.accepted - oldest.totals.accepted) / seconds, 1));
    }
    text("applied-total", fmt(view.totals.applied));
    text("accepted-total", fmt(view.totals.accepted));
    text("failed-total", fmt(view.totals.failed));
    text("latency-p50", fmt(view.applyLatencyMs.p50, 1));
    text("latency-p99", fmt(view.applyLatencyMs.p99, 1));
    text("batch-p99", fmt(view.batchSize.p99));
    var d = view.dispatcher;
    text("backlog", fmt(d.backlog));
    text("in-flight", fmt(d.inFlight));
    text("suspended-count", fmt(view.suspendedTotal));
    text("backpressured", fmt(d.backpressured));
    text("delayed", fmt(d.delayedPending));
    text("egress", fmt(view.egressPending));
    text("dead-letters", fmt(view.deadLetters));
    text("commit", fmt(view.store.lastGroupSize) + " / " + fmt(view.store.lastCommitMicros / 1000, 2));

    drawCluster(view.cluster);

    var rows = fill("suspended", view.suspended, 6, "none");
    view.suspended.forEach(function (entry, i) {
      var tr = rows[i];
      cell(tr, entry.address);
      cell(tr, fmt(entry.failures), true);
      cell(tr, fmt(entry.backlog), true);
      cell(tr, entry.lastError ? entry.lastError.code + ": " + entry.lastError.message : "");
      cell(tr, new Date(entry.retryAt).toLocaleTimeString());
      var button = document.createElement("button");
      button.textContent = "retry now";
      button.addEventListener("click", function () { retry(entry.address); });
      cell(tr, "").appendChild(button);
    });
    var poolRows = fill("pools", view.pools, 7, "no outbound connections yet");
    view.pools.forEach(function (pool, i) {
      var tr = poolRows[i];
      var t = pool.timeouts;
      cell(tr, pool.origin);
      cell(tr, fmt(pool.connectionsOpen), true);
      cell(tr, fmt(pool.connectionsIdle), true);
      cell(tr, fmt(pool.requests), true);
      cell(tr, fmt(pool.reusedConnections), true);
      cell(tr, fmt(pool.retries), true);
      cell(tr, fmt(t.connect + t.read + t.write + t.call), true);
    });
    document.body.dataset.rendered = String(Number(document.body.dataset.rendered || 0) + 1);
  }

  // Only in cluster mode (overview.cluster is null on the embedded store).
  function drawCluster(cluster) {
    document.getElementById("cluster").hidden = !cluster;
    if (!cluster) return;
    var members = cluster.members || [];
    text("cluster-summary", "this instance: " + cluster.instanceId + " · " + fmt(cluster.partitionCount) +
      " partitions" + (cluster.unowned ? " · " + fmt(cluster.unowned.partitions) + " unowned" : "") +
      (cluster.queued === undefined ? "" : " · " + fmt(cluster.queued) + " messages queued"));
    var memberRows = fill("cluster-members", members, 7, "not read from the database yet");
    members.forEach(function (member, i) {
      var tr = memberRows[i];
      cell(tr, member.instanceId + (member.self ? " (this one)" : ""));
      cell(tr, member.host);
      // Where admin actions on the member's addresses are forwarded: its advertised host and port.
      cell(tr, member.adminUrl || (member.ports && member.ports.admin ? "port " + member.ports.admin : "–"));
      var beat = cell(tr, (member.live ? "live, " : "silent, ") + fmt(member.heartbeatAgeMs / 1000, 1) + " s ago");
      if (!member.live) beat.className = "silent";
      cell(tr, fmt(member.partitionsOwned), true);
      cell(tr, fmt(member.queued), true);
      cell(tr, member.oldestQueuedAgeMs === null ? "–" : fmt(member.oldestQueuedAgeMs / 1000, 1) + " s", true);
    });
  }

  function refresh() {
    return fetch("api/overview", { cache: "no-store" })
      .then(function (response) {
        if (!response.ok) throw new Error("HTTP " + response.status);
        return response.json();
      })
      .then(draw)
      .catch(function (error) {
        var status = document.getElementById("status");
        status.textContent = "cannot reach the runtime: " + error.message;
        status.className = "bad";
      });
  }
  function loop() { refresh().then(function () { setTimeout(loop, refreshMs); }); }
  loop();
})();
</script>
</body>
</html>
`;
