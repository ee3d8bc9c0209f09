// The lynkr dashboard: reads lynkr's admin routes with the admin key, which it keeps in
// this tab's sessionStorage and sends as the x-api-key header (never in a URL).
// Every value from the server is written with textContent: transcripts are untrusted text.
"use strict";

(function () {
  const KEY_NAME = "lynkr-admin-key";
  const REFRESH_MS = 5000;
  const $ = (selector) => document.querySelector(selector);
  let timer = null;
  let selectedSession = null;

  function adminKey() { return sessionStorage.getItem(KEY_NAME); }

  function cell(row, text, className) {
    const td = document.createElement("td");
    td.textContent = text === null || text === undefined ? "–" : String(text);
    if (className) td.className = className;
    row.appendChild(td);
    return td;
  }

  function node(tag, text, className) {
    const element = document.createElement(tag);
    if (text !== undefined) element.textContent = text;
    if (className) element.className = className;
    return element;
  }

  function time(seconds) { return new Date(seconds * 1000).toLocaleTimeString(); }
  function secs(value) { return value === null || value === undefined ? null : value.toFixed(2); }

  class Refused extends Error {}

  // GET a lynkr route with the admin key: the JSON body, null for a route that is not
  // there (its plugin is not installed), or a Refused error for a key the server refuses.
  async function api(path) {
    const response = await fetch(path, { headers: { "x-api-key": adminKey() }, cache: "no-store" });
    if (response.status === 404) return null;
    const body = await response.json();
    if (response.status === 401 || response.status === 403) {
      throw new Refused((body.error && body.error.message) || "refused");
    }
    if (!response.ok) throw new Error(`${path}: ${response.status}`);
    return body;
  }

  function showLogin(message) {
    clearInterval(timer);
    $("#board").hidden = true;
    $("#forget").hidden = true;
    $("#login").hidden = false;
    $("#login-error").textContent = message || "";
    document.body.dataset.state = "login";
    $("#key").focus();
  }

  function renderRequests(overview) {
    $("#total").textContent = `(${overview.total_requests} since ${time(overview.started)})`;
    const body = $("#requests tbody");
    body.replaceChildren();
    for (const request of overview.requests) {
      const row = document.createElement("tr");
      row.dataset.requestId = request.request_id;
      cell(row, time(request.finished));
      cell(row, request.status === null ? "left" : request.status, request.status === 200 ? "ok" : "bad");
      cell(row, request.model);
      cell(row, [request.provider, request.upstream_model].filter(Boolean).join(" / ") || null);
      const t = request.tokens;
      cell(row, `${t.input} / ${t.output} / ${t.cache_read}`);
      cell(row, secs(request.duration));
      cell(row, secs(request.time_to_first_token));
      cell(row, request.steps + (request.tool_calls ? ` (${request.tool_calls} tools)` : ""));
      cell(row, request.session_id ? request.session_id.slice(0, 8) : null);
      cell(row, request.answered_by ? `answered by ${request.answered_by}` : request.error);
      body.appendChild(row);
    }
  }

  function renderProviders(overview) {
    const cards = $("#providers");
    cards.replaceChildren();
    if (!overview.providers.length) cards.appendChild(node("p", "No provider called yet.", "muted"));
    for (const provider of overview.providers) {
      const card = node("div", undefined, "card");
      card.dataset.provider = provider.name;
      card.appendChild(node("h3", provider.name));
      const ratio = provider.recent_ok_ratio === null ? "–" : `${Math.round(provider.recent_ok_ratio * 100)}%`;
      card.appendChild(node("div", `${provider.attempts} attempts, ${provider.failures} failed; recent ok ${ratio}`));
      const strip = node("div", undefined, "health");
      for (const status of provider.recent) {
        strip.appendChild(node("i", undefined, status === 200 ? "" : status === null ? "cancelled" : "failed"));
      }
      card.appendChild(strip);
      card.appendChild(node("div", `mean ${secs(provider.mean_seconds) || "–"} s; last ${provider.last_status ?? "–"}`, "muted"));
      if (provider.last_error) card.appendChild(node("div", provider.last_error, "error"));
      const circuits = overview.circuits.filter((c) => c.target === provider.name || c.target.startsWith(provider.name + ":"));
      for (const circuit of circuits) card.appendChild(circuitLine(circuit));
      cards.appendChild(card);
    }
  }

  // One circuit breaker of the core: closed, open (and for how long), or half-open.
  function circuitLine(circuit) {
    const wait = circuit.state === "open" ? `, retry in ${Math.ceil(circuit.retry_in)} s` : "";
    const line = node("div", `circuit ${circuit.target}: ${circuit.state.replace("_", "-")}${wait}` +
      ` (${circuit.failures} failures in a row, opened ${circuit.opened}x, ${circuit.skipped} skipped)`,
      circuit.state === "closed" ? "muted circuit" : "error circuit");
    line.dataset.state = circuit.state;
    return line;
  }

  function renderSeries(overview) {
    const buckets = overview.series.buckets;
    const labels = buckets.map((bucket) => time(bucket.start));
    window.LynkrCharts.bars($("#chart-requests"), labels,
      [{ name: "requests", values: buckets.map((bucket) => bucket.requests) }]);
    window.LynkrCharts.bars($("#chart-tokens"), labels, [
      { name: "input", values: buckets.map((bucket) => bucket.tokens.input) },
      { name: "output", values: buckets.map((bucket) => bucket.tokens.output) },
    ]);
  }

  function renderPlugins(overview) {
    const body = $("#plugins tbody");
    body.replaceChildren();
    for (const plugin of overview.plugins) {
      const row = document.createElement("tr");
      row.dataset.plugin = plugin.name;
      cell(row, plugin.name);
      cell(row, plugin.version);
      cell(row, plugin.enabled ? "enabled" : `disabled: ${plugin.reason}`, plugin.enabled ? "ok" : "muted");
      cell(row, plugin.hooks.join(", "));
      body.appendChild(row);
    }
  }

  // A queue that dropped records (a saturated gateway does rather than wait) or failed to
  // handle some is shown in red; the log has the details.
  function renderQueues(overview) {
    const body = $("#queues tbody");
    body.replaceChildren();
    if (!overview.queues.length) {
      const row = document.createElement("tr");
      cell(row, "no plugin with a background queue is running", "muted");
      body.appendChild(row);
    }
    for (const queue of overview.queues) {
      const row = document.createElement("tr");
      row.dataset.queue = queue.name;
      cell(row, queue.name);
      cell(row, queue.waiting);
      cell(row, queue.size);
      cell(row, queue.dropped, queue.dropped ? "bad" : "");
      cell(row, queue.failed, queue.failed ? "bad" : "");
      body.appendChild(row);
    }
  }

  function notInstalled(container, what) {
    container.replaceChildren(node("p", `${what}: not installed`, "muted not-installed"));
  }

  function table(rows, columns) {
    const element = document.createElement("table");
    const head = document.createElement("tr");
    columns.forEach((name) => head.appendChild(node("th", name)));
    element.appendChild(head);
    for (const row of rows) {
      const line = document.createElement("tr");
      columns.forEach((name) => cell(line, row[name]));
      element.appendChild(line);
    }
    return element;
  }

  // lynkr-usage's report (GET /v1/usage?by=day): {currency, rows: [{group: day, cost, ...}], total}.
  async function renderUsage(routes) {
    const chart = $("#chart-cost");
    const holder = $("#usage-table");
    const report = routes.has("/v1/usage") ? await api("/v1/usage?by=day&since=30") : null;
    if (report === null) {
      notInstalled(chart, "lynkr-usage");
      holder.replaceChildren();
      return;
    }
    const days = report.rows || [];
    $("#cost-caption").textContent = `Cost per day (${report.currency}, lynkr-usage, prices of ${report.prices_as_of})`;
    window.LynkrCharts.bars(chart, days.map((row) => row.group),
      [{ name: report.currency, values: days.map((row) => row.cost) }]);
    const total = report.total || {};
    holder.replaceChildren(
      node("p", `30 days: ${total.requests || 0} requests, ${(total.cost || 0).toFixed(4)} ${report.currency}`, "muted"),
      table(days.slice(-14).reverse(), ["group", "requests", "input", "output", "cache_read", "cache_write", "cost"]));
  }

  function textOf(content) {
    if (typeof content === "string") return content;
    if (!Array.isArray(content)) return "";
    return content.map((block) => {
      if (block.type === "text") return block.text;
      if (block.type === "tool_use") return `[tool ${block.name}] ${JSON.stringify(block.input)}`;
      if (block.type === "tool_result") return `[result] ${textOf(block.content)}`;
      return `[${block.type}]`;
    }).join("\n");
  }

  async function showTranscript(sessionId) {
    selectedSession = sessionId;
    const holder = $("#transcript");
    const body = await api(`/v1/sessions/${encodeURIComponent(sessionId)}`);
    if (body === null) { holder.replaceChildren(node("p", "session not found", "muted")); return; }
    holder.replaceChildren(node("h3", `session ${sessionId}`));
    for (const exchange of body.exchanges) {
      const messages = (exchange.request && exchange.request.messages) || [];
      const last = [...messages].reverse().find((message) => message.role === "user");
      if (last) holder.appendChild(node("div", textOf(last.content), "turn user"));
      if (exchange.response) holder.appendChild(node("div", textOf(exchange.response.content), "turn assistant"));
      if (!exchange.request) holder.appendChild(node("div", "(content not stored: SESSION_CONTENT=none)", "muted"));
    }
    holder.dataset.session = sessionId;
  }

  async function renderSessions(routes) {
    const list = $("#sessions");
    const body = routes.has("/v1/sessions") ? await api("/v1/sessions?limit=50") : null;
    if (body === null) { notInstalled(list, "lynkr-sessions"); return; }
    list.replaceChildren();
    if (!body.sessions.length) list.appendChild(node("li", "no sessions yet", "muted"));
    for (const session of body.sessions) {
      const item = document.createElement("li");
      const button = node("button", `${session.id.slice(0, 13)}  ${session.exchanges} turns  ${time(session.updated)}`);
      button.type = "button";
      button.dataset.session = session.id;
      button.title = session.models.join(", ");
      button.addEventListener("click", () => showTranscript(session.id).catch(failed));
      item.appendChild(button);
      list.appendChild(item);
    }
    if (selectedSession) await showTranscript(selectedSession);
  }

  async function renderStats(routes) {
    const holder = $("#stats");
    const paths = [...routes].filter((path) => /^\/v1\/[a-z0-9_-]+\/stats$/.test(path)).sort();
    holder.replaceChildren();
    if (!paths.length) {
      notInstalled(holder, "no plugin with a /v1/<name>/stats route (memory, cache, index)");
      return;
    }
    for (const path of paths) {
      const body = await api(path);
      holder.appendChild(node("h3", path));
      if (body === null) { holder.appendChild(node("p", "not installed", "muted not-installed")); continue; }
      const flat = Object.entries(body).map(([name, value]) => ({ name, value: typeof value === "object" ? JSON.stringify(value) : value }));
      holder.appendChild(table(flat, ["name", "value"]));
    }
  }

  async function refresh() {
    const overview = await api("/v1/dashboard/overview");
    const routes = new Set(overview.routes);
    $("#server").textContent = `${overview.server.version} → ${overview.server.provider}`;
    renderRequests(overview);
    renderProviders(overview);
    renderSeries(overview);
    renderPlugins(overview);
    renderQueues(overview);
    await Promise.all([renderUsage(routes), renderSessions(routes), renderStats(routes)]);
    $("#updated").textContent = `updated ${new Date().toLocaleTimeString()}`;
    document.body.dataset.state = "ready";
  }

  function failed(error) {
    if (error instanceof Refused) {
      sessionStorage.removeItem(KEY_NAME);
      showLogin(error.message);
      return;
    }
    $("#updated").textContent = `refresh failed: ${error.message}`;
  }

  function open() {
    $("#login").hidden = true;
    $("#board").hidden = false;
    $("#forget").hidden = false;
    refresh().catch(failed);
    clearInterval(timer);
    timer = setInterval(() => refresh().catch(failed), REFRESH_MS);
  }

  document.addEventListener("DOMContentLoaded", () => {
    $("#login").addEventListener("submit", (event) => {
      event.preventDefault();
      sessionStorage.setItem(KEY_NAME, $("#key").value);
      $("#key").value = "";
      open();
    });
    $("#forget").addEventListener("click", () => {
      sessionStorage.removeItem(KEY_NAME);
      showLogin("");
    });
    if (adminKey()) open(); else showLogin("");
  });
})();
