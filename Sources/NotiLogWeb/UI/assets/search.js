// The search page: the query language, a time range (relative or absolute), results newest first with
// infinite scroll over the API's keyset cursor, expandable records, and a volume histogram (SVG) from
// /api/v1/stats. The URL holds the query and range, so a search can be shared and the back button works.
//
// Log text is hostile: every piece of a record becomes a text node or an attribute value set by a fixed name.
import { api, hasRole, startPage } from "/assets/common.js";
import {
  clearQueryError as clearError, formatTime, renderRow as recordRow, searchURL, showQueryError as showError, zoneName,
} from "/assets/records.js";

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

function urlFor(state) { return searchURL(state); }

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

// MARK: Results

/** A row that expands in place; its "surrounding lines" link searches here. */
function renderRow(record) {
  return recordRow(record, { detailOptions: { onSurrounding: (around) => { navigate(around); window.scrollTo(0, 0); } } });
}

// MARK: Searching

function clearQueryError() { clearError(queryBox); }

function showQueryError(message, column, query) { showError(queryBox, message, column, query); }

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
  // The first page before the histogram: counting a whole range takes longer than finding its newest 100
  // records, and on a small machine the two would share the CPU.
  await showPage(state, null, mine);
  if (mine === generation) loadHistogram(state, mine);
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
