// The hosts page: every sender the server has heard from, with a traffic light for when it was last heard
// (green under 5 minutes, amber under an hour, red older), its message and parse-problem rates over the last
// hour (GET /api/v1/hosts, from per-minute counts), totals, clock skew, and the latest state of each process and
// systemd unit its agent watches (GET /api/v1/watches). A host's name opens its search.
//
// Host, process and unit names come from the network: they only ever become text nodes.
import { api, el, startPage } from "/assets/common.js";

const FRESH_MS = 5 * 60e3, STALE_MS = 3600e3;
const STATE_RANK = { crashed: 0, restarting: 1, stopped: 2, running: 3 };
const STATE_CLASS = { running: "ok", restarting: "warn", stopped: "muted", crashed: "bad" };

const $ = (id) => document.getElementById(id);
let hosts = [], watches = [], watchInfo = null, loadedAt = Date.now();

function light(lastSeen, now) {
  const age = now - Date.parse(lastSeen);
  if (age < FRESH_MS) return { cls: "ok", label: "heard from in the last 5 minutes" };
  if (age < STALE_MS) return { cls: "warn", label: "last heard from 5 to 60 minutes ago" };
  return { cls: "bad", label: "not heard from for over an hour" };
}

function ago(iso, now) {
  const t = Date.parse(iso);
  if (Number.isNaN(t)) return "";
  const s = Math.max(0, Math.round((now - t) / 1000));
  if (s < 60) return s + " s ago";
  if (s < 3600) return Math.floor(s / 60) + " min ago";
  if (s < 86400) return Math.floor(s / 3600) + " h " + Math.floor((s % 3600) / 60) + " min ago";
  return Math.floor(s / 86400) + " d ago";
}

function localTime(iso) {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? String(iso || "") : d.toLocaleString();
}

function number(n) { return typeof n === "number" ? n.toLocaleString() : "–"; }
function rate(n) { return typeof n === "number" ? (n >= 100 ? Math.round(n).toLocaleString() : n.toFixed(2)) : "–"; }

function skew(seconds) {
  if (typeof seconds !== "number") return "–";
  const a = Math.abs(seconds);
  const text = a < 1 ? Math.round(seconds * 1000) + " ms" : a < 120 ? seconds.toFixed(1) + " s" : Math.round(seconds / 60) + " min";
  return (seconds > 0 ? "+" : "") + text;
}

/** A query-language term for the host: bare when safe, else quoted. */
function hostTerm(name) {
  if (/^[A-Za-z0-9._:-]+$/.test(name)) return "host:" + name;
  return 'host:"' + name.replace(/\\/g, "\\\\").replace(/"/g, '\\"') + '"';
}

function watchesOf(name) {
  const key = name.toLowerCase();
  return watches.filter((w) => (w.host || "").toLowerCase() === key);
}

function worstState(list) {
  return list.reduce((m, w) => Math.min(m, STATE_RANK[w.state] ?? 3), 4);
}

function renderWatch(w, now) {
  const details = [];
  if (typeof w.exit_code === "number") details.push("exit code " + w.exit_code);
  if (w.signal) details.push("signal " + w.signal);
  if (typeof w.restarts === "number") details.push(w.restarts + (w.restarts === 1 ? " restart" : " restarts"));
  const since = (w.since_exact ? "for " : "for at least ") + ago(w.since, now).replace(/ ago$/, "");
  return el("li", { class: "watch", "data-state": w.state },
    el("span", { class: "badge " + (STATE_CLASS[w.state] || "muted") }, w.state),
    el("span", { class: "watch-kind" }, w.kind === "unit" ? "unit" : "process"),
    el("span", { class: "watch-name mono" }, w.name),
    el("span", { class: "hint", title: "state since " + localTime(w.since) + "; last report " + localTime(w.last_report) },
      since + (details.length ? " · " + details.join(", ") : "")));
}

function render() {
  const now = Date.now();
  const filter = $("filter").value.trim().toLowerCase();
  const sort = $("sort").value;
  let list = hosts.map((h) => ({ h, w: watchesOf(h.hostname) }));
  if (filter) {
    list = list.filter(({ h, w }) => h.hostname.toLowerCase().includes(filter) ||
      w.some((x) => x.name.toLowerCase().includes(filter) || x.state === filter));
  }
  const by = {
    name: (a, b) => a.h.hostname.localeCompare(b.h.hostname),
    last_seen: (a, b) => Date.parse(b.h.last_seen) - Date.parse(a.h.last_seen),
    rate: (a, b) => (b.h.recent?.messages_per_minute ?? 0) - (a.h.recent?.messages_per_minute ?? 0),
    problems: (a, b) => (b.h.recent?.parse_problems_per_minute ?? 0) - (a.h.recent?.parse_problems_per_minute ?? 0),
    messages: (a, b) => b.h.messages - a.h.messages,
    watch: (a, b) => worstState(a.w) - worstState(b.w),
  }[sort] || (() => 0);
  list.sort((a, b) => by(a, b) || a.h.hostname.localeCompare(b.h.hostname));

  const body = $("hosts");
  body.replaceChildren();
  for (const { h, w } of list) {
    const l = light(h.last_seen, now);
    const recent = h.recent || {};
    const link = el("a", { href: "/search?q=" + encodeURIComponent(hostTerm(h.hostname)), class: "host-link", title: h.hostname + " — search its records" }, h.hostname);
    const problemRate = recent.parse_problems_per_minute;
    body.append(el("tr", { "data-host": h.hostname },
      el("td", { class: "host-cell" }, el("span", { class: "dot " + l.cls, title: l.label, role: "img", "aria-label": l.label }), " ", link),
      el("td", { title: localTime(h.last_seen) }, ago(h.last_seen, now)),
      el("td", { class: "num" }, rate(recent.messages_per_minute)),
      el("td", { class: "num" + (problemRate > 0 ? " problems" : "") }, rate(problemRate)),
      el("td", { class: "num", title: "since " + localTime(h.first_seen) }, number(h.messages)),
      el("td", { class: "num" + (h.parse_problems > 0 ? " problems" : "") }, number(h.parse_problems)),
      el("td", { class: "num", title: "message time minus reception time, from the latest message that carried a time" }, skew(h.clock_skew_seconds)),
      el("td", { class: "watches-cell" }, w.length ? el("ul", { class: "watches" }, ...w.map((x) => renderWatch(x, now))) : el("span", { class: "hint" }, "none reported"))));
  }
  const empty = $("empty");
  if (!hosts.length) {
    empty.textContent = "No host has sent anything yet.";
    empty.hidden = false;
  } else if (!list.length) {
    empty.textContent = "No host matches the filter.";
    empty.hidden = false;
  } else {
    empty.hidden = true;
  }
  const parts = ["Rates are per minute over the last hour (whole minutes); totals count since each host was first seen."];
  if (watchInfo) {
    parts.push("Processes and units: the latest report of each in the last 24 hours (" + number(watchInfo.records_read) + " reports read" +
      (watchInfo.complete ? ")." : "; more were sent, so older ones may be missing)."));
  }
  parts.push("Loaded " + new Date(loadedAt).toLocaleTimeString() + ".");
  $("footnote").textContent = parts.join(" ");
}

async function load() {
  const error = $("error");
  try {
    const [h, w] = await Promise.all([api("GET", "/api/v1/hosts"), api("GET", "/api/v1/watches")]);
    hosts = h.hosts || [];
    watches = w.watches || [];
    watchInfo = w;
    loadedAt = Date.now();
    error.hidden = true;
  } catch (e) {
    error.textContent = "The hosts could not be loaded: " + e.message;
    error.hidden = false;
  }
  render();
}

async function main() {
  await startPage("hosts");
  $("legend").replaceChildren(
    el("span", { class: "dot ok" }), " under 5 min  ", el("span", { class: "dot warn" }), " under 1 h  ",
    el("span", { class: "dot bad" }), " longer since last heard from");
  const p = new URLSearchParams(location.search);
  if (p.get("filter")) $("filter").value = p.get("filter");
  $("filter").addEventListener("input", render);
  $("sort").addEventListener("change", render);
  $("refresh").addEventListener("click", load);
  await load();
  setInterval(load, 30000);
}

main();
