// The live tail page: records matching a query as the server stores them, over the WebSocket GET /api/v1/tail,
// newest at the bottom.
//
// * Rendering: records are queued as they arrive and drawn once per animation frame; the page keeps the last
//   MAX_ROWS rows (older ones leave the top, and the page says how many, with a search for them).
// * Following: the view sticks to the bottom until the user scrolls up ("Jump to latest" goes back).
// * Pause (button or space): lines keep arriving into a buffer, counted on the toolbar; resume draws them. The
//   buffer holds BUFFER_MAX lines; beyond that newer lines are dropped, and the stream says how many, where.
// * Nothing goes missing silently: a gap the server reports (the page read too slowly, or it was away too long)
//   and lines the page itself dropped become a marked row with a link to search them, and a toolbar indicator.
// * The connection comes back by itself, with backoff, resuming after the last record it had (`after_id`).
//
// Log text is hostile: records become text nodes only (records.js).
import { api, el, goToLogin, startPage } from "/assets/common.js";
import { clearQueryError, renderRow, searchURL, showQueryError, toggleDetail } from "/assets/records.js";

/** Rows kept on the page. */
const MAX_ROWS = 2000;
/** Rows drawn in one animation frame at most (60 frames/s: up to 18,000 lines/s). */
const FRAME_ROWS = 300;
/**
 * Rows are kept in blocks of this many; a block out of view skips style, layout and paint (content-visibility in
 * tail.css), so a fast stream costs the layout of the rows in view, not of all MAX_ROWS.
 */
const BLOCK_ROWS = 100;
/** Lines waiting to be drawn (paused, or a hidden tab) before newer ones are dropped. */
const BUFFER_MAX = 20000;
/** Stored lines shown when the tail opens. */
const FIRST_LINES = 100;
/** Reconnection delays (ms), with ±20 % jitter; the last repeats. */
const BACKOFF = [500, 1000, 2000, 4000, 8000, 15000];

const $ = (id) => document.getElementById(id);
const form = $("tail-form"), queryBox = $("q"), stream = $("stream"), rows = $("rows"), waiting = $("waiting");
const conn = $("conn"), connText = $("conn-text"), rateBox = $("rate"), pauseButton = $("pause"), pausedInfo = $("paused-info");
const gapIndicator = $("gap-indicator"), capNote = $("cap-note"), scrolledOutBox = $("scrolled-out"), jump = $("jump");
const number = new Intl.NumberFormat("en");

/** The query being tailed. */
let query = "";
/** Every record up to this id was received or reported missing (null: nothing yet); reconnects resume after it. */
let position = null;
let lastRecordID = 0;
let socket = null, generation = 0, attempts = 0, reconnectTimer = null;
let paused = false, following = true, frameRequested = false;
/** Not yet drawn, in order: { record } or { gap }. */
let pending = [];
let pendingRecords = 0;
/** The page's own gap being widened while lines are dropped (the last item of `pending`). */
let droppingGap = null;
let rowCount = 0;
/** Records that left the page (the row cap), with the reception times they span (ms). */
let scrolledOut = 0, scrolledOutFrom = null, scrolledOutTo = null;
/** Gaps seen (the server's and the page's), the lines they miss, and the last one's search. */
let gapCount = 0, missedLines = 0, missedUnknown = false, lastGapLink = null;
let lastReceivedAt = null;
let receivedThisSecond = 0;
const recordOf = new WeakMap();
/** Rows in each block. */
const blockRows = new WeakMap();

/** Counters for anyone watching (the browser check reads them). */
const stats = { received: 0, rendered: 0, dropped: 0, missed: 0, gaps: 0, frames: 0, connects: 0, rate: 0, renderMs: 0, renderMaxMs: 0 };
window.notilogTail = stats;

// MARK: Connection

function setConnection(state, text) {
  conn.dataset.state = state;
  connText.textContent = text;
}

function connect() {
  clearTimeout(reconnectTimer);
  reconnectTimer = null;
  const mine = ++generation;
  const p = new URLSearchParams();
  p.set("q", query);
  if (position !== null) p.set("after_id", String(position)); else p.set("last", String(FIRST_LINES));
  const url = (location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/api/v1/tail?" + p.toString();
  setConnection(attempts === 0 ? "connecting" : "reconnecting", attempts === 0 ? "Connecting…" : "Reconnecting…");
  let ws;
  try {
    ws = new WebSocket(url);
  } catch (e) {
    setConnection("failed", "Cannot open a WebSocket: " + e.message);
    return;
  }
  socket = ws;
  stats.connects++;
  let opened = false, serverError = null;
  ws.onopen = () => {
    if (mine !== generation) return;
    opened = true;
    setConnection("connecting", "Connected, catching up…");
  };
  ws.onmessage = (event) => {
    if (mine !== generation) return;
    let message;
    try { message = JSON.parse(event.data); } catch (e) { return; }
    if (message.type === "error") serverError = message.error || {};
    handle(message);
  };
  ws.onclose = (event) => {
    if (mine !== generation) return;
    socket = null;
    closed(event, opened, serverError);
  };
}

function disconnect() {
  generation++;
  clearTimeout(reconnectTimer);
  reconnectTimer = null;
  if (socket) { try { socket.close(1000, "new query"); } catch (e) { /* gone already */ } }
  socket = null;
}

async function closed(event, opened, serverError) {
  const code = serverError && serverError.code;
  if (code === "invalid_query" || code === "invalid_parameter") {
    showQueryError(queryBox, serverError.message || "The query cannot be read.", serverError.column, query);
    setConnection("failed", "Stopped: the query has an error");
    return;
  }
  if (code === "unauthorized" || code === "forbidden" || !opened) {
    // The handshake was refused, or the credential ended: signed out means the sign-in page.
    try {
      await api("GET", "/api/v1/session");
    } catch (e) {
      if (e.status === 401) { goToLogin(); return; }
    }
    if (code === "forbidden") {
      setConnection("failed", "Stopped: " + (serverError.message || "not allowed"));
      return;
    }
  }
  scheduleReconnect(serverError ? serverError.message : (event.reason || "the connection closed"));
}

function scheduleReconnect(why) {
  const delay = BACKOFF[Math.min(attempts, BACKOFF.length - 1)] * (0.8 + Math.random() * 0.4);
  attempts++;
  const seconds = Math.max(1, Math.round(delay / 1000));
  setConnection("reconnecting", "Disconnected (" + why + "); reconnecting in " + seconds + " s");
  reconnectTimer = setTimeout(connect, delay);
}

// MARK: Messages

function handle(message) {
  switch (message.type) {
    case "records":
      for (const record of message.records || []) receive(record);
      break;
    case "gap":
      addGap(message);
      break;
    case "live":
      advance(message.position);
      attempts = 0;
      setConnection("live", "Live");
      break;
    case "stats":
      advance(message.position);
      break;
    default:
      break;
  }
  updatePausedInfo();
  scheduleRender();
}

function advance(to) {
  if (typeof to === "number") position = Math.max(position === null ? 0 : position, to);
}

function receive(record) {
  if (typeof record.id === "number") {
    if (record.id <= lastRecordID) return;  // sent twice: never expected, never shown twice
    lastRecordID = record.id;
    advance(record.id);
  }
  stats.received++;
  receivedThisSecond++;
  const received = Date.parse(record.received_at);
  if (!Number.isNaN(received)) lastReceivedAt = received;
  if (pendingRecords >= BUFFER_MAX) {
    drop(record, received);
    return;
  }
  droppingGap = null;
  pending.push({ record });
  pendingRecords++;
}

/** A line the page cannot keep: counted into a gap of its own, in its place in the stream. */
function drop(record, received) {
  stats.dropped++;
  const at = Number.isNaN(received) ? Date.now() : received;
  if (!droppingGap) {
    droppingGap = { type: "gap", reason: "page_buffer", missed: 0, from_id: record.id, to_id: record.id, fromMs: at, toMs: at };
    pending.push({ gap: droppingGap });
    noteGap(droppingGap);
  }
  droppingGap.missed++;
  droppingGap.to_id = record.id;
  droppingGap.toMs = at;
  missedLines++;
  updateGapIndicator();
}

function addGap(gap) {
  droppingGap = null;
  const from = Date.parse(gap.from || ""), to = Date.parse(gap.to || "");
  gap.fromMs = Number.isNaN(from) ? (lastReceivedAt || Date.now()) : from;
  gap.toMs = Number.isNaN(to) ? Date.now() : to;
  advance(gap.to_id);
  if (typeof gap.missed === "number") missedLines += gap.missed; else missedUnknown = true;
  stats.missed += typeof gap.missed === "number" ? gap.missed : 0;
  pending.push({ gap });
  noteGap(gap);
  updateGapIndicator();
}

function noteGap(gap) {
  gapCount++;
  stats.gaps++;
  lastGapLink = gapSearch(gap);
}

/** A search for a gap's stretch of time (a second each side: times are rounded in places). */
function gapSearch(gap) {
  return searchURL({ q: query, range: "abs", from: Math.floor(gap.fromMs) - 1000, to: Math.ceil(gap.toMs) + 1000 });
}

function gapText(gap) {
  const count = typeof gap.missed === "number" ? number.format(gap.missed) + (gap.missed === 1 ? " line" : " lines") : "Lines";
  switch (gap.reason) {
    case "page_buffer": return count + " skipped here: more than " + number.format(BUFFER_MAX) + " were waiting to be shown.";
    case "slow_client": return count + " missed here: the page did not read them fast enough, so the server dropped them.";
    case "catch_up_limit": return "Lines missed here: more than 10,000 matched while disconnected; only the newest were sent.";
    case "server_behind": return "Lines missed here: the server's live tail fell behind.";
    default: return count + " missed here.";
  }
}

// MARK: Drawing

function scheduleRender() {
  if (frameRequested || paused || pending.length === 0) return;
  frameRequested = true;
  requestAnimationFrame(render);
}

/**
 * Draws what is queued, FRAME_ROWS rows at most per frame (a burst is spread over a few frames rather than
 * stalling one), the rows over the cap removed from the top. Queued records beyond the last MAX_ROWS would leave
 * the page as soon as drawn: they are counted as gone, not drawn.
 */
function render() {
  frameRequested = false;
  if (paused || pending.length === 0) return;
  const began = performance.now();
  let skip = pendingRecords - MAX_ROWS;
  // MAX_ROWS newer lines are waiting: every row on the page would be pushed out by them.
  if (skip > 0 && rowCount > 0) trim(0);
  let block = rows.lastElementChild;
  let inBlock = block ? (blockRows.get(block) ?? BLOCK_ROWS) : BLOCK_ROWS;
  let nodes = [];
  let added = 0, taken = 0;
  const place = (node, isRow) => {
    if (inBlock >= BLOCK_ROWS) {
      if (nodes.length > 0) { block.append(...nodes); nodes = []; }
      block = el("div", { class: "block" });
      rows.append(block);
      inBlock = 0;
    }
    nodes.push(node);
    if (isRow) { inBlock++; blockRows.set(block, inBlock); }
  };
  for (; taken < pending.length && added < FRAME_ROWS; taken++) {
    const item = pending[taken];
    if (item.gap) {
      const link = el("a", { href: gapSearch(item.gap), target: "_blank", rel: "noopener" }, "Search these lines");
      place(el("div", { class: "gap-row", role: "listitem" }, gapText(item.gap), link), false);
      continue;
    }
    pendingRecords--;
    if (skip > 0) {
      skip--;
      noteScrolledOut(item.record);
      continue;
    }
    const row = renderRow(item.record, { interactive: false });
    recordOf.set(row, item.record);
    place(row, true);
    added++;
  }
  if (nodes.length > 0) block.append(...nodes);
  pending = taken === pending.length ? [] : pending.slice(taken);
  if (droppingGap && (pending.length === 0 || pending[pending.length - 1].gap !== droppingGap)) droppingGap = null;
  rowCount += added;
  stats.rendered += added;
  stats.frames++;
  trim();
  waiting.hidden = rows.firstChild !== null;
  updateCapNote();
  if (following) stream.scrollTop = stream.scrollHeight;
  const took = performance.now() - began;
  stats.renderMs += took;
  stats.renderMaxMs = Math.max(stats.renderMaxMs, took);
  if (pending.length > 0) scheduleRender();
}

/** Removes the oldest rows over `keep`: whole blocks while they fit in the excess, then rows of the first block. */
function trim(keep = MAX_ROWS) {
  while (rowCount > keep) {
    const first = rows.firstElementChild;
    if (!first) break;
    const n = blockRows.get(first) || 0;
    if (n <= rowCount - keep) {
      for (const child of first.children) if (child.classList.contains("row")) noteScrolledOut(recordOf.get(child));
      first.remove();
      rowCount -= n;
      continue;
    }
    let excess = rowCount - keep;
    let left = n;
    while (excess > 0 && first.firstElementChild) {
      const child = first.firstElementChild;
      if (child.classList.contains("row")) {
        noteScrolledOut(recordOf.get(child));
        excess--;
        left--;
        rowCount--;
      }
      child.remove();
    }
    // An open record whose row left goes as well.
    while (first.firstElementChild && first.firstElementChild.classList.contains("detail")) first.firstElementChild.remove();
    blockRows.set(first, left);
  }
}

function noteScrolledOut(record) {
  scrolledOut++;
  const t = record ? Date.parse(record.received_at) : NaN;
  if (Number.isNaN(t)) return;
  scrolledOutFrom = scrolledOutFrom === null ? t : Math.min(scrolledOutFrom, t);
  scrolledOutTo = scrolledOutTo === null ? t : Math.max(scrolledOutTo, t);
}

function updateCapNote() {
  const kept = "The page keeps the last " + number.format(MAX_ROWS) + " lines";
  const text = scrolledOut > 0 ? kept + "; " + number.format(scrolledOut) + " older ones left it" : kept;
  if (capNote.textContent !== text) capNote.textContent = text;
  if (scrolledOut === 0) { scrolledOutBox.hidden = true; return; }
  const label = number.format(scrolledOut) + (scrolledOut === 1 ? " older line is" : " older lines are") +
    " no longer on the page (it keeps the last " + number.format(MAX_ROWS) + ").";
  const first = scrolledOutBox.firstChild;
  if (first && first.nodeType === Node.TEXT_NODE && first.textContent === label) return;
  const children = [label];
  if (scrolledOutFrom !== null) {
    children.push(el("a", {
      href: searchURL({ q: query, range: "abs", from: scrolledOutFrom - 1000, to: scrolledOutTo + 1000 }), target: "_blank", rel: "noopener",
    }, "Search them"));
  }
  scrolledOutBox.replaceChildren(...children.map((c) => typeof c === "string" ? document.createTextNode(c + " ") : c));
  scrolledOutBox.hidden = false;
}

function updateGapIndicator() {
  if (gapCount === 0) { gapIndicator.hidden = true; return; }
  const lines = missedUnknown ? (missedLines > 0 ? "at least " + number.format(missedLines) : "some") : number.format(missedLines);
  gapIndicator.replaceChildren(
    document.createTextNode("⚠ " + number.format(gapCount) + (gapCount === 1 ? " gap: " : " gaps: ") + lines + " lines missed"),
    el("a", { href: lastGapLink, target: "_blank", rel: "noopener" }, gapCount === 1 ? "search it" : "search the latest"));
  gapIndicator.hidden = false;
}

// MARK: Pause, follow, keys

/** Lines dropped before the current pause (the paused count says how many this pause dropped). */
let droppedBeforePause = 0;

function setPaused(on) {
  if (on && !paused) droppedBeforePause = stats.dropped;
  paused = on;
  pauseButton.setAttribute("aria-pressed", on ? "true" : "false");
  pauseButton.textContent = on ? "Resume" : "Pause";
  updatePausedInfo();
  if (!on) scheduleRender();
}

function updatePausedInfo() {
  if (!paused) { pausedInfo.hidden = true; return; }
  const text = "Paused · " + number.format(pendingRecords) + (pendingRecords === 1 ? " new line" : " new lines") +
    (stats.dropped > droppedBeforePause ? " (" + number.format(stats.dropped - droppedBeforePause) + " skipped)" : "");
  if (pausedInfo.textContent !== text) pausedInfo.textContent = text;
  pausedInfo.hidden = false;
}

function follow() {
  following = true;
  jump.hidden = true;
  stream.scrollTop = stream.scrollHeight;
}

function typingIn(target) {
  return target instanceof HTMLInputElement || target instanceof HTMLTextAreaElement || target instanceof HTMLSelectElement ||
    (target instanceof HTMLElement && target.isContentEditable);
}

// MARK: Start

/** Tails `q` afresh: a new connection, an empty stream. */
function start(q) {
  disconnect();
  query = q;
  queryBox.value = q;
  document.title = (q ? q + " · " : "") + "Live tail · NotiLog";
  clearQueryError(queryBox);
  position = null;
  lastRecordID = 0;
  attempts = 0;
  pending = [];
  pendingRecords = 0;
  droppingGap = null;
  clearStream();
  connect();
}

function clearStream() {
  rows.replaceChildren();
  rowCount = 0;
  scrolledOut = 0;
  scrolledOutFrom = scrolledOutTo = null;
  gapCount = 0;
  missedLines = 0;
  missedUnknown = false;
  lastGapLink = null;
  waiting.hidden = false;
  updateCapNote();
  updateGapIndicator();
  follow();
}

function urlFor(q) {
  return "/tail" + (q ? "?" + new URLSearchParams({ q }).toString() : "");
}

async function main() {
  await startPage("tail");

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const q = queryBox.value.trim();
    const url = urlFor(q);
    if (url !== location.pathname + location.search) history.pushState(null, "", url);
    start(q);
  });
  window.addEventListener("popstate", () => start(new URLSearchParams(location.search).get("q") || ""));

  pauseButton.addEventListener("click", () => setPaused(!paused));
  $("clear").addEventListener("click", () => {
    pending = pending.filter((item) => item.gap);
    pendingRecords = 0;
    clearStream();
  });
  jump.addEventListener("click", follow);
  // Following ends only by the user's hand (wheel, keys, the scroll bar, touch); the view growing under a
  // block that is drawn late is not the user leaving the bottom, and is followed down again.
  let userScrolledAt = -Infinity;
  const intent = () => { userScrolledAt = performance.now(); };
  stream.addEventListener("pointerdown", intent);
  stream.addEventListener("touchstart", intent, { passive: true });
  document.addEventListener("keydown", (event) => {
    if (["PageUp", "PageDown", "ArrowUp", "ArrowDown", "Home", "End"].includes(event.key)) intent();
  });
  stream.addEventListener("wheel", (event) => {
    intent();
    if (event.deltaY < 0) { following = false; jump.hidden = false; }  // at once, before a fast stream pulls it back
  }, { passive: true });
  stream.addEventListener("scroll", () => {
    const atBottom = stream.scrollHeight - stream.scrollTop - stream.clientHeight < 40;
    if (atBottom) {
      following = true;
      jump.hidden = true;
    } else if (performance.now() - userScrolledAt < 1000) {
      following = false;
      jump.hidden = false;
    } else if (following) {
      stream.scrollTop = stream.scrollHeight;
    }
  }, { passive: true });

  rows.addEventListener("click", (event) => {
    const row = event.target instanceof Element ? event.target.closest(".row") : null;
    if (!row || !rows.contains(row)) return;
    if (window.getSelection && String(window.getSelection()).length > 0) return;  // selecting text, not opening
    const record = recordOf.get(row);
    if (record) toggleDetail(row, record, { newTab: true });
  });

  document.addEventListener("keydown", (event) => {
    const target = event.target;
    const modified = event.ctrlKey || event.metaKey || event.altKey;
    if (typingIn(target) || modified) {
      if (event.key === "Escape" && target === queryBox) queryBox.blur();
      return;
    }
    if (event.key === "/") {
      event.preventDefault();
      queryBox.focus();
      queryBox.select();
    } else if (event.key === " " && !(target instanceof HTMLButtonElement) && !(target instanceof HTMLAnchorElement)) {
      event.preventDefault();
      setPaused(!paused);
    } else if (event.key === "Enter" && target instanceof Element && target.classList.contains("row")) {
      const record = recordOf.get(target);
      if (record) { event.preventDefault(); toggleDetail(target, record, { newTab: true }); }
    }
  });

  setInterval(() => {
    stats.rate = receivedThisSecond;
    rateBox.textContent = number.format(receivedThisSecond) + (receivedThisSecond === 1 ? " line/s" : " lines/s");
    receivedThisSecond = 0;
  }, 1000);

  // Back online, or back to the tab: reconnect now rather than at the end of the backoff.
  const soon = () => { if (reconnectTimer !== null) connect(); };
  window.addEventListener("online", soon);
  document.addEventListener("visibilitychange", () => { if (!document.hidden) { soon(); scheduleRender(); } });

  const q = new URLSearchParams(location.search).get("q") || "";
  history.replaceState(null, "", urlFor(q));
  start(q);
}

main().catch((e) => { setConnection("failed", "The page could not start: " + e.message); });
