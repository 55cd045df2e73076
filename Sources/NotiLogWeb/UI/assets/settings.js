// The settings page (admin only): retention — the policy in force, where it comes from (the configuration
// file, or set here and kept in the database), the store's size and oldest record — changeable at run time
// (PUT /api/v1/settings/retention; the server's validation message is shown under the form) and reset to the
// file's value (DELETE); and read-only facts about the server from /api/v1/status.
import { api, el, startPage } from "/assets/common.js";

const $ = (id) => document.getElementById(id);

function localTime(iso) {
  if (!iso) return "–";
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? String(iso) : d.toLocaleString();
}

function bytes(n) {
  if (typeof n !== "number") return "–";
  const units = ["bytes", "KB", "MB", "GB", "TB"];
  let v = n, i = 0;
  while (v >= 1024 && i < units.length - 1) { v /= 1024; i++; }
  return (i === 0 ? String(v) : v.toFixed(v < 10 ? 2 : 1)) + " " + units[i];
}

function duration(seconds) {
  const d = Math.floor(seconds / 86400), h = Math.floor((seconds % 86400) / 3600), m = Math.floor((seconds % 3600) / 60);
  if (d) return d + " d " + h + " h";
  if (h) return h + " h " + m + " min";
  return m + " min " + (seconds % 60) + " s";
}

function describe(policy) {
  return "maximum age " + policy.max_age + ", maximum size " + policy.max_size;
}

function facts(list, pairs) {
  list.replaceChildren();
  for (const [name, value] of pairs) list.append(el("dt", {}, name), el("dd", {}, value));
}

function showRetention(r) {
  const fromUI = r.source === "ui";
  const source = fromUI
    ? el("span", {}, el("span", { class: "badge info" }, "set in the UI"), " by " + (r.override.updated_by || "?") + ", " + localTime(r.override.updated_at))
    : el("span", {}, el("span", { class: "badge muted" }, "configuration file"));
  facts($("retention-facts"), [
    ["In force", describe(r.effective)],
    ["Comes from", source],
    ["Configuration file", describe(r.config)],
    ["Database size", bytes(r.store.bytes) + " (" + (r.store.records || 0).toLocaleString() + " records)"],
    ["Oldest record", r.store.oldest_received_at ? localTime(r.store.oldest_received_at) : "none stored"],
  ]);
  $("retention-facts").setAttribute("data-source", r.source);
  $("max-age").value = r.effective.max_age;
  $("max-size").value = r.effective.max_size;
  $("reset-retention").disabled = !fromUI;
}

async function loadRetention() {
  try {
    showRetention(await api("GET", "/api/v1/settings/retention"));
  } catch (e) {
    $("error").textContent = "The retention setting could not be loaded: " + e.message;
    $("error").hidden = false;
  }
}

async function saveRetention(event) {
  event.preventDefault();
  const error = $("retention-error"), saved = $("retention-saved");
  error.hidden = true;
  saved.hidden = true;
  $("save-retention").disabled = true;
  try {
    const r = await api("PUT", "/api/v1/settings/retention", { max_age: $("max-age").value.trim() || "off", max_size: $("max-size").value.trim() || "off" });
    showRetention(r);
    saved.textContent = "Saved: " + describe(r.effective) + ". The maintenance task applies it from its next step.";
    saved.hidden = false;
  } catch (e) {
    error.textContent = e.message;
    error.hidden = false;
  } finally {
    $("save-retention").disabled = false;
  }
}

async function resetRetention() {
  const error = $("retention-error"), saved = $("retention-saved");
  error.hidden = true;
  saved.hidden = true;
  try {
    const r = await api("DELETE", "/api/v1/settings/retention");
    showRetention(r);
    saved.textContent = "Back to the configuration file's value: " + describe(r.effective) + ".";
    saved.hidden = false;
  } catch (e) {
    error.textContent = e.message;
    error.hidden = false;
  }
}

async function loadStatus() {
  let s;
  try {
    s = await api("GET", "/api/v1/status");
  } catch (e) {
    $("error").textContent = "The server's status could not be loaded: " + e.message;
    $("error").hidden = false;
    return;
  }
  const http = s.http || {};
  facts($("server-facts"), [
    ["Version", s.version || "–"],
    ["Up for", typeof s.uptime_seconds === "number" ? duration(s.uptime_seconds) + " (since " + localTime(s.started_at) + ")" : "–"],
    ["Data directory", s.data_dir || "–"],
    ["Database", (s.store && s.store.path) || "–"],
    ["Web UI and API", (http.address || "–") + (http.tls ? " (HTTPS)" : " (HTTP)")],
    ["Ingest queue", s.ingest ? s.ingest.queued.toLocaleString() + " of " + s.ingest.queue_capacity.toLocaleString() + " queued" : "–"],
  ]);
  const body = $("listeners");
  body.replaceChildren();
  for (const l of s.listeners || []) {
    body.append(el("tr", {},
      el("td", {}, l.protocol), el("td", { class: "mono" }, l.address),
      el("td", { class: "num" }, (l.received ?? 0).toLocaleString()), el("td", { class: "num" }, (l.parse_problems ?? 0).toLocaleString()),
      el("td", { class: "num" }, (l.dropped ?? 0).toLocaleString()), el("td", { class: "num" }, (l.open_connections ?? 0).toLocaleString())));
  }
  if (!(s.listeners || []).length) body.append(el("tr", {}, el("td", { colspan: "6", class: "empty" }, "No syslog listener is configured.")));
}

async function main() {
  await startPage("settings", "admin");
  $("retention-form").addEventListener("submit", saveRetention);
  $("reset-retention").addEventListener("click", resetRetention);
  await Promise.all([loadRetention(), loadStatus()]);
}

main();
