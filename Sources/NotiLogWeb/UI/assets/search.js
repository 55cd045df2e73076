// The search page: the query language, a time range (relative or absolute), results newest first with
// infinite scroll over the API's keyset cursor, expandable records, and a volume histogram (SVG) from
// /api/v1/stats. The URL holds the query and range, so a search can be shared and the back button works.
//
// Log text is hostile: every piece of a record becomes a text node or an attribute value set by a fixed name.
import { api, el, hasRole, startPage } from "/assets/common.js";

const SEVERITIES = ["emerg", "alert", "crit", "err", "warning", "notice", "info", "debug"];
const FACILITIES = ["kern", "user", "mail", "daemon", "auth", "syslog", "lpr", "news", "uucp", "cron", "authpriv",
  "ftp", "ntp", "security", "console", "solaris-cron", "local0", "local1", "local2", "local3", "local4", "local5",
  "local6", "local7"];
const RELATIVE = { "15m": 15 * 60e3, "1h": 3600e3, "24h": 86400e3, "7d": 7 * 86400e3 };
const PAGE_SIZE = 100;
const SVG = "http://www.w3.org/2000/svg";

const $ = (id) => document.getElementById(id);
const form = $("search-form"), queryBox = $("q"), rangeBox = $("range"), fromBox = $("from"), toBox = $("to");
const results = $("results"), statusLine = $("status"), endLine = $("end-line"), sentinel = $("sentinel");

/** What is being searched: { q, range: "15m"|"1h"|"24h"|"7d"|"abs", from, to } (from/to: ms since the epoch). */
let current = null;
/** The page being loaded: its number (a newer search makes older answers stale), its cursor, whether busy. */
let generation = 0, nextCursor = null, loading = false, shown = 0;

// MARK: State and URL

function stateFromURL() {
  const p = new URLSearchParams(location.search);
  const from = Date.parse(p.get("from") || ""), to = Date.parse(p.get("to") || "");
  if (!Number.isNaN(from) && !Number.isNaN(to) && from < to) return { q: p.get("q") || "", range: "abs", from, to };
  const range = p.get("range");
  return { q: p.get("q") || "", range: RELATIVE[range] ? range : "1h" };
}

function urlFor(state) {
  const p = new URLSearchParams();
  if (state.q) p.set("q", state.q);
  if (state.range === "abs") {
    p.set("from", new Date(state.from).toISOString());
    p.set("to", new Date(state.to).toISOString());
  } else {
    p.set("range", state.range);
  }
  return "/search?" + p.toString();
}

/** The API's since/until for a state. */
function bounds(state) {
  if (state.range === "abs") return { since: new Date(state.from).toISOString(), until: new Date(state.to).toISOString() };
  return { since: "-" + state.range, until: null };
}

/** `2026-12-05T21:04:05` in the viewer's zone, for datetime-local inputs. */
function localInputValue(ms) {
  const d = new Date(ms), pad = (n) => String(n).padStart(2, "0");
  return d.getFullYear() + "-" + pad(d.getMonth() + 1) + "-" + pad(d.getDate()) + "T" + pad(d.getHours()) + ":" +
    pad(d.getMinutes()) + ":" + pad(d.getSeconds());
}

function showState(state) {
  queryBox.value = state.q;
  rangeBox.value = state.range;
  $("abs-row").hidden = state.range !== "abs";
  if (state.range === "abs") {
    fromBox.value = localInputValue(state.from);
    toBox.value = localInputValue(state.to);
  }
}

function stateFromForm() {
  const q = queryBox.value.trim();
  const range = rangeBox.value;
  if (range !== "abs") return { q, range };
  const from = fromBox.value ? new Date(fromBox.value).getTime() : NaN;
  const to = toBox.value ? new Date(toBox.value).getTime() : Date.now();
  if (Number.isNaN(from) || Number.isNaN(to) || from >= to) return { q, range: "abs", invalid: true };
  return { q, range: "abs", from, to };
}

/** Runs a search, adding a history entry unless it is the one shown already (or `replace`). */
function navigate(state, replace = false) {
  const url = urlFor(state);
  if (url !== location.pathname + location.search) {
    if (replace) history.replaceState(null, "", url); else history.pushState(null, "", url);
  }
  showState(state);
  search(state);
}

// MARK: Formatting

function formatTime(iso) {
  if (!iso) return "";
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  const pad = (n, w = 2) => String(n).padStart(w, "0");
  return d.getFullYear() + "-" + pad(d.getMonth() + 1) + "-" + pad(d.getDate()) + " " + pad(d.getHours()) + ":" +
    pad(d.getMinutes()) + ":" + pad(d.getSeconds()) + "." + pad(d.getMilliseconds(), 3);
}

function zoneName() {
  try { return Intl.DateTimeFormat().resolvedOptions().timeZone || "local time"; } catch (e) { return "local time"; }
}

function severityName(n) { return typeof n === "number" && SEVERITIES[n] ? SEVERITIES[n] : ""; }

/** The raw frame (base64) as text, control characters shown as their Unicode pictures. */
function rawText(base64) {
  const binary = atob(base64);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  const text = new TextDecoder("utf-8", { fatal: false }).decode(bytes);
  return text.replace(/[\u0000-\u0008\u000b-\u001f\u007f]/g, (c) => c === "\u007f" ? "\u2421" : String.fromCharCode(0x2400 + c.charCodeAt(0)));
}

/** A query-language value in quotes ("\" and "\\" escaped). */
function quoted(value) { return '"' + value.replace(/\\/g, "\\\\").replace(/"/g, '\\"') + '"'; }

// MARK: Results

function renderRow(record) {
  const sev = typeof record.severity === "number" ? record.severity : null;
  const row = el("div", { class: "row " + (sev === null ? "sev-none" : "sev-" + sev), role: "listitem", tabindex: "0" });
  const time = record.timestamp || record.received_at;
  const message = record.message || "";
  row.append(
    el("span", { class: "sev-bar" }),
    el("span", { class: "time", title: (time || "") + " (" + zoneName() + ")" }, formatTime(time)),
    el("span", { class: "sev" }, severityName(sev)),
    el("span", { class: "host", title: record.hostname || "" }, record.hostname || ""),
    el("span", { class: "app", title: record.app || "" }, record.app || ""),
    el("span", { class: "msg" }, message.length > 2000 ? message.slice(0, 2000) + "…" : message),
  );
  const toggle = () => toggleDetail(row, record);
  row.addEventListener("click", (event) => {
    if (window.getSelection && String(window.getSelection()).length > 0) return;  // selecting text, not opening
    event.preventDefault();
    toggle();
  });
  row.addEventListener("keydown", (event) => {
    if (event.key === "Enter" || event.key === " ") { event.preventDefault(); toggle(); }
  });
  return row;
}

function toggleDetail(row, record) {
  const next = row.nextElementSibling;
  if (next && next.classList.contains("detail")) {
    next.remove();
    row.classList.remove("open");
    row.setAttribute("aria-expanded", "false");
    return;
  }
  row.classList.add("open");
  row.setAttribute("aria-expanded", "true");
  row.after(renderDetail(record));
}

function field(list, name, value) {
  if (value === null || value === undefined || value === "") return;
  list.append(el("dt", {}, name), el("dd", {}, String(value)));
}

function renderDetail(record) {
  const box = el("div", { class: "detail", role: "listitem" });
  const fields = el("dl", { class: "fields" });
  field(fields, "time (message)", record.timestamp ? formatTime(record.timestamp) + "  " + record.timestamp : "none");
  field(fields, "received", formatTime(record.received_at) + "  " + record.received_at);
  field(fields, "host", record.hostname);
  field(fields, "app", record.app);
  field(fields, "procid", record.procid);
  field(fields, "msgid", record.msgid);
  field(fields, "severity", record.severity === null ? null : severityName(record.severity) + " (" + record.severity + ")");
  field(fields, "facility", record.facility === null ? null : (FACILITIES[record.facility] || "") + " (" + record.facility + ")");
  field(fields, "format", record.format);
  field(fields, "source", record.source);
  field(fields, "id", record.id);
  box.append(el("h3", {}, "Record"), fields);

  box.append(el("h3", {}, "Message"), el("pre", { class: "message" }, record.message || ""));

  if (record.sd && typeof record.sd === "object" && Object.keys(record.sd).length > 0) {
    const sd = el("dl", { class: "sd" });
    for (const [id, params] of Object.entries(record.sd)) {
      const entries = Object.entries(params || {});
      if (entries.length === 0) field(sd, id, "(no parameters)");
      for (const [name, value] of entries) field(sd, id + "." + name, Array.isArray(value) ? value.join(" | ") : value);
    }
    box.append(el("h3", {}, "Structured data"), sd);
  }

  if (Array.isArray(record.problems) && record.problems.length > 0) {
    const list = el("ul", { class: "problems" });
    for (const p of record.problems) {
      const where = [p.field, typeof p.column === "number" ? "column " + p.column : null].filter(Boolean).join(", ");
      list.append(el("li", {}, (where ? where + ": " : "") + (p.reason || "")));
    }
    box.append(el("h3", {}, "Parse problems"), list);
  }

  if (typeof record.raw === "string") {
    let text;
    try { text = rawText(record.raw); } catch (e) { text = "(cannot decode: " + e.message + ")"; }
    box.append(el("h3", {}, "Raw line (not UTF-8; bad bytes shown as \uFFFD)"), el("pre", { class: "raw" }, text));
  } else {
    box.append(el("h3", {}, "Raw line"), el("p", { class: "hint" }, "Valid UTF-8: the fields above hold the whole line."));
  }

  const actions = el("div", { class: "actions" });
  const received = Date.parse(record.received_at);
  if (record.hostname && !Number.isNaN(received)) {
    const around = { q: "host:" + quoted(record.hostname), range: "abs", from: received - 5 * 60e3, to: received + 5 * 60e3 };
    const link = el("a", { class: "surrounding", href: urlFor(around) }, "Surrounding lines from this host (±5 min)");
    link.addEventListener("click", (event) => {
      if (event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
      event.preventDefault();
      navigate(around);
      window.scrollTo(0, 0);
    });
    actions.append(link);
  }
  if (typeof record.id === "number") {
    actions.append(el("a", { class: "json", href: "/api/v1/logs/" + record.id, target: "_blank", rel: "noopener" }, "JSON"));
  }
  box.append(actions);
  return box;
}

// MARK: Searching

function clearQueryError() {
  $("query-error").hidden = true;
  queryBox.removeAttribute("aria-invalid");
}

/** The server's message, and the query with the character at `column` (1-based, in code points) marked. */
function showQueryError(message, column, query) {
  $("query-error-message").textContent = message;
  const pointer = $("query-error-pointer");
  pointer.replaceChildren();
  if (typeof column === "number" && column >= 1) {
    const chars = Array.from(query);
    const at = Math.min(column - 1, chars.length);
    pointer.append(
      document.createTextNode(chars.slice(0, at).join("")),
      el("mark", {}, at < chars.length ? chars[at] : " "),
      document.createTextNode(chars.slice(at + 1).join("")),
      document.createTextNode("\n" + " ".repeat(at) + "^ column " + column));
    pointer.hidden = false;
    if (queryBox.value === query) {
      const offset = chars.slice(0, at).join("").length;
      queryBox.focus();
      queryBox.setSelectionRange(offset, Math.min(offset + (chars[at] || "").length, queryBox.value.length));
    }
  } else {
    pointer.hidden = true;
  }
  $("query-error").hidden = false;
  queryBox.setAttribute("aria-invalid", "true");
}

function logsPath(state, cursor) {
  const p = new URLSearchParams();
  p.set("q", state.q);
  const b = bounds(state);
  p.set("since", b.since);
  if (b.until) p.set("until", b.until);
  p.set("limit", String(PAGE_SIZE));
  if (cursor) p.set("cursor", cursor);
  return "/api/v1/logs?" + p.toString();
}

function updateStatus(state) {
  const range = state.range === "abs"
    ? formatTime(new Date(state.from).toISOString()) + " – " + formatTime(new Date(state.to).toISOString())
    : rangeBox.options[rangeBox.selectedIndex].textContent.toLowerCase();
  statusLine.textContent = shown + (shown === 1 ? " record" : " records") + (nextCursor ? " so far" : "") + ", " + range +
    ", newest first; times in " + zoneName();
}

async function search(state) {
  current = state;
  const mine = ++generation;
  nextCursor = null;
  shown = 0;
  loading = true;
  clearQueryError();
  results.replaceChildren();
  endLine.hidden = true;
  statusLine.textContent = "Searching…";
  // Marks for the browser's performance timeline: the browser test and `make bench-search` read how long a search
  // took to show its first results (performance.getEntriesByName("notilog-search")).
  performance.clearMarks("notilog-search-start");
  performance.mark("notilog-search-start");
  document.title = (state.q ? state.q + " · " : "") + "Search · NotiLog";
  loadHistogram(state, mine);
  await showPage(state, null, mine);
}

/** Fetches a page (the first when cursor is null) and shows it, unless a newer search started meanwhile. */
async function showPage(state, cursor, mine) {
  loading = true;
  try {
    const page = await api("GET", logsPath(state, cursor));
    if (mine !== generation) return;
    append(page, state);
    if (cursor === null) markFirstResults();
  } catch (e) {
    if (mine !== generation) return;
    fail(e, state);
  } finally {
    if (mine === generation) loading = false;
  }
  maybeLoadMore();
}

function append(page, state) {
  const fragment = document.createDocumentFragment();
  for (const record of page.records || []) fragment.append(renderRow(record));
  results.append(fragment);
  shown += (page.records || []).length;
  nextCursor = page.next || null;
  updateStatus(state);
  if (!nextCursor) {
    endLine.textContent = shown === 0 ? "Nothing found in this range." : "That is all: " + shown + (shown === 1 ? " record." : " records.");
    endLine.hidden = false;
  }
}

/** Records when the first page was on the screen: after the next frame is painted. */
function markFirstResults() {
  requestAnimationFrame(() => setTimeout(() => {
    performance.clearMarks("notilog-first-results");
    performance.clearMeasures("notilog-search");
    performance.mark("notilog-first-results");
    performance.measure("notilog-search", "notilog-search-start", "notilog-first-results");
  }, 0));
}

function fail(e, state) {
  if (e.status === 401) { location.assign("/login?next=" + encodeURIComponent(location.pathname + location.search)); return; }
  if ((e.status === 400 || e.status === 422) && (e.code === "invalid_query" || e.code === "invalid_parameter")) {
    showQueryError(e.message, e.column, state.q);
    statusLine.textContent = "";
    return;
  }
  statusLine.textContent = "The search failed: " + e.message;
}

async function loadMore() {
  if (loading || !nextCursor || !current) return;
  const mine = generation, state = current;
  statusLine.textContent = "Loading older records…";
  await showPage(state, nextCursor, mine);
}

/** Loads the next page while the end of the list is (nearly) in view. */
function maybeLoadMore() {
  if (!nextCursor || loading) return;
  if (sentinel.getBoundingClientRect().top < window.innerHeight + 400) loadMore();
}

// MARK: Histogram

async function loadHistogram(state, mine) {
  const chart = $("histogram-chart");
  const width = Math.max(200, chart.clientWidth || 800);
  const buckets = Math.max(10, Math.min(120, Math.floor(width / 9)));
  const p = new URLSearchParams();
  p.set("q", state.q);
  if (state.range === "abs") {
    p.set("since", new Date(state.from).toISOString());
    p.set("until", new Date(state.to).toISOString());
  } else {
    p.set("since", "-" + state.range);
  }
  p.set("buckets", String(buckets));
  p.set("top", "0");
  let stats;
  try {
    stats = await api("GET", "/api/v1/stats?" + p.toString());
  } catch (e) {
    if (mine === generation) { chart.replaceChildren(); $("histogram").hidden = true; }
    return;
  }
  if (mine !== generation) return;
  $("histogram").hidden = false;
  drawHistogram(stats, width);
}

function svg(tag, attributes) {
  const node = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, String(value));
  return node;
}

function drawHistogram(stats, width) {
  const chart = $("histogram-chart");
  const h = stats.histogram;
  const counts = h.counts || [];
  const since = Date.parse(h.since), until = Date.parse(h.until);
  $("histogram-total").textContent = stats.total + (stats.total === 1 ? " record" : " records") + " in the range";
  if (counts.length === 0 || Number.isNaN(since) || Number.isNaN(until)) { chart.replaceChildren(); return; }
  const height = 90, axis = 16, top = 4, plot = height - axis - top;
  const max = Math.max(1, ...counts);
  const step = width / counts.length;
  const bucketMs = (until - since) / counts.length;
  const root = svg("svg", { viewBox: "0 0 " + width + " " + height, width, height, role: "img", "aria-label": "records over time" });
  counts.forEach((count, i) => {
    const barHeight = count === 0 ? 0 : Math.max(1, (count / max) * plot);
    const rect = svg("rect", {
      class: "bar", x: (i * step + 0.5).toFixed(1), y: (top + plot - barHeight).toFixed(1),
      width: Math.max(1, step - 1).toFixed(1), height: barHeight.toFixed(1),
    });
    const title = document.createElementNS(SVG, "title");
    title.textContent = count + " from " + formatTime(new Date(since + i * bucketMs).toISOString());
    rect.append(title);
    root.append(rect);
  });
  const labels = Math.max(2, Math.min(6, Math.floor(width / 170)));
  for (let k = 0; k <= labels; k++) {
    const t = since + (until - since) * (k / labels);
    const text = svg("text", { class: "axis", x: (width * k / labels).toFixed(1), y: height - 3, "text-anchor": k === 0 ? "start" : k === labels ? "end" : "middle" });
    text.textContent = formatTime(new Date(t).toISOString()).slice(until - since > 86400e3 ? 5 : 11, 16);
    root.append(text);
  }
  const selection = svg("rect", { class: "selection", x: 0, y: 0, width: 0, height, visibility: "hidden" });
  root.append(selection);
  chart.replaceChildren(root);

  // Drag across the chart to zoom into that stretch; a click zooms into one bucket.
  const timeAt = (x) => since + Math.max(0, Math.min(width, x)) / width * (until - since);
  const xOf = (event) => {
    const box = root.getBoundingClientRect();
    return (event.clientX - box.left) * (width / box.width);
  };
  let start = null;
  root.addEventListener("pointerdown", (event) => {
    start = xOf(event);
    root.setPointerCapture(event.pointerId);
    selection.setAttribute("x", start.toFixed(1));
    selection.setAttribute("width", "0");
    selection.setAttribute("visibility", "visible");
  });
  root.addEventListener("pointermove", (event) => {
    if (start === null) return;
    const x = xOf(event);
    selection.setAttribute("x", Math.min(start, x).toFixed(1));
    selection.setAttribute("width", Math.abs(x - start).toFixed(1));
  });
  root.addEventListener("pointerup", (event) => {
    if (start === null) return;
    const x = xOf(event);
    selection.setAttribute("visibility", "hidden");
    let from, to;
    if (Math.abs(x - start) < 4) {
      const i = Math.max(0, Math.min(counts.length - 1, Math.floor(start / step)));
      from = since + i * bucketMs;
      to = from + bucketMs;
    } else {
      from = timeAt(Math.min(start, x));
      to = timeAt(Math.max(start, x));
    }
    start = null;
    if (to - from >= 1000 && current) navigate({ q: current.q, range: "abs", from: Math.floor(from), to: Math.ceil(to) });
  });
  root.addEventListener("pointercancel", () => { start = null; selection.setAttribute("visibility", "hidden"); });
}

// MARK: Start

async function main() {
  const session = await startPage("search");
  // "Save as rule" (editors): the rules page opens a new rule with the query in the box.
  const saveAsRule = $("save-as-rule");
  saveAsRule.hidden = !hasRole(session, "editor");
  saveAsRule.addEventListener("click", () => location.assign("/rules?new=1&q=" + encodeURIComponent(queryBox.value.trim())));
  $("zone-hint").textContent = "times in " + zoneName();

  rangeBox.addEventListener("change", () => {
    const absolute = rangeBox.value === "abs";
    $("abs-row").hidden = !absolute;
    if (absolute) {
      const span = current && current.range !== "abs" ? RELATIVE[current.range] : 3600e3;
      if (!fromBox.value) fromBox.value = localInputValue(Date.now() - span);
      if (!toBox.value) toBox.value = localInputValue(Date.now());
    } else {
      form.requestSubmit();
    }
  });
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const state = stateFromForm();
    if (state.invalid) {
      showQueryError("The range needs a start before its end.", null, state.q);
      return;
    }
    navigate(state);
  });
  window.addEventListener("popstate", () => {
    const state = stateFromURL();
    showState(state);
    search(state);
  });
  document.addEventListener("keydown", (event) => {
    const target = event.target;
    const typing = target instanceof HTMLInputElement || target instanceof HTMLTextAreaElement || target instanceof HTMLSelectElement;
    if (event.key === "/" && !typing && !event.ctrlKey && !event.metaKey && !event.altKey) {
      event.preventDefault();
      queryBox.focus();
      queryBox.select();
    } else if (event.key === "Escape" && target === queryBox) {
      queryBox.blur();
    }
  });
  new IntersectionObserver((entries) => {
    if (entries.some((e) => e.isIntersecting)) loadMore();
  }, { rootMargin: "400px" }).observe(sentinel);

  const state = stateFromURL();
  showState(state);
  history.replaceState(null, "", urlFor(state));
  search(state);
}

main().catch((e) => { statusLine.textContent = "The page could not start: " + e.message; });
