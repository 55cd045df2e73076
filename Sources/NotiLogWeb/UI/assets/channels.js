// The channels page: the configured channels (name and kind; the API never gives their secrets), a test message
// (editors) with its outcome once the delivery worker has tried it, and each channel's delivery log: every
// notification with every attempt (GET /api/v1/channels/{name}/deliveries).
import { api, el, hasRole, startPage } from "/assets/common.js";
import { showError, stateBadge, timeNode } from "/assets/alerting.js";

const $ = (id) => document.getElementById(id);
const REFRESH_MS = 10000;

let session = null, editor = false;
let channels = [];
/** Channel name → the outcome cell of its row. */
const outcomeCells = new Map();
let drawnLog = "";

async function loadChannels() {
  try {
    channels = (await api("GET", "/api/v1/channels")).channels || [];
    showError($("channels-error"), null);
  } catch (e) {
    if (e.status === 401) { location.assign("/login?next=" + encodeURIComponent(location.pathname + location.search)); return; }
    showError($("channels-error"), "Cannot load the channels: " + e.message);
    return;
  }
  const rows = $("channel-rows");
  outcomeCells.clear();
  if (channels.length === 0) {
    rows.replaceChildren(el("tr", {}, el("td", { colspan: "5", class: "empty" }, "No channel is configured (channels: in server.yaml).")));
  } else {
    const fragment = document.createDocumentFragment();
    for (const c of channels) {
      const outcome = el("td", { class: "outcome" }, el("span", { class: "hint" }, "—"));
      outcomeCells.set(c.name, outcome);
      const actions = el("td", { class: "row-actions" });
      if (editor) {
        const button = el("button", { type: "button", class: "small send-test" }, "Send test message");
        button.addEventListener("click", () => sendTest(c, button));
        actions.append(button);
      }
      const used = (c.rules || []).length > 0
        ? el("span", {}, ...(c.rules || []).flatMap((r, i) => [i > 0 ? ", " : null, el("a", { href: "/rules?rule=" + encodeURIComponent(r) }, r)]))
        : el("span", { class: "hint" }, "no rule");
      fragment.append(el("tr", { "data-channel": c.name },
        el("td", { class: "name" }, c.name), el("td", {}, el("span", { class: "badge info" }, c.type)), el("td", {}, used), outcome, actions));
    }
    rows.replaceChildren(fragment);
  }
  const select = $("log-channel");
  const chosen = select.value || new URLSearchParams(location.search).get("channel") || (channels[0] && channels[0].name) || "";
  select.replaceChildren(...channels.map((c) => el("option", { value: c.name }, c.name)));
  if (channels.some((c) => c.name === chosen)) select.value = chosen;
}

// MARK: Test messages

async function sendTest(channel, button) {
  button.disabled = true;
  const cell = outcomeCells.get(channel.name);
  const started = Date.now();
  cell.replaceChildren(stateBadge("pending", "queued"), el("span", { class: "detail-text" }, "waiting for the delivery worker…"));
  try {
    await api("POST", "/api/v1/channels/" + encodeURIComponent(channel.name) + "/test");
  } catch (e) {
    cell.replaceChildren(stateBadge("failed", "not sent"), el("span", { class: "detail-text" }, e.message));
    button.disabled = false;
    return;
  }
  $("log-channel").value = channel.name;
  // The worker sends it shortly: watch the channel's log for the test's first attempt (up to a minute).
  for (let i = 0; i < 60; i++) {
    await new Promise((resolve) => setTimeout(resolve, 1000));
    let log;
    try {
      log = await api("GET", "/api/v1/channels/" + encodeURIComponent(channel.name) + "/deliveries?limit=20");
    } catch (e) {
      continue;
    }
    const test = (log.notifications || []).find((n) => n.notice_state === "test" && Date.parse(n.created_at) >= started - 5000);
    const last = test && test.deliveries && test.deliveries[test.deliveries.length - 1];
    if (last) {
      const label = { delivered: "delivered", retry: "failed, retrying", failed: "failed" }[last.outcome] || last.outcome;
      cell.replaceChildren(stateBadge(last.outcome, label), el("span", { class: "detail-text" }, last.detail || ""), timeNode(last.at));
      break;
    }
  }
  if (cell.querySelector(".badge") && cell.querySelector(".badge").textContent === "queued") {
    cell.replaceChildren(stateBadge("pending", "queued"), el("span", { class: "detail-text" }, "not tried yet; see the delivery log"));
  }
  button.disabled = false;
  await loadLog();
}

// MARK: Delivery log

async function loadLog() {
  const name = $("log-channel").value;
  const rows = $("delivery-rows");
  if (!name) {
    rows.replaceChildren(el("tr", {}, el("td", { colspan: "6", class: "empty" }, "No channel.")));
    return;
  }
  let log;
  try {
    log = await api("GET", "/api/v1/channels/" + encodeURIComponent(name) + "/deliveries?limit=50");
    showError($("log-error"), null);
  } catch (e) {
    showError($("log-error"), "Cannot load the delivery log: " + e.message);
    return;
  }
  const list = log.notifications || [];
  $("log-status").textContent = list.length + (list.length === 1 ? " notification" : " notifications") + " (the latest 50)";
  const key = JSON.stringify([name, list]);
  if (key === drawnLog) return;
  drawnLog = key;
  if (list.length === 0) {
    rows.replaceChildren(el("tr", {}, el("td", { colspan: "6", class: "empty" }, "Nothing sent to " + name + " yet.")));
    return;
  }
  const fragment = document.createDocumentFragment();
  for (const n of list) {
    const alert = n.alert_id !== null && n.alert_id !== undefined
      ? el("a", { href: "/alerts?tab=all" }, "#" + n.alert_id + " " + (n.rule || ""))
      : el("span", {}, n.rule === "notilog-test" ? "test message" : (n.rule || ""));
    const attempts = Array.isArray(n.deliveries) ? n.deliveries : [];
    if (attempts.length === 0) {
      fragment.append(el("tr", { class: "first", "data-notification": String(n.id) },
        el("td", {}, timeNode(n.created_at)), el("td", {}, alert), el("td", {}, stateBadge(n.notice_state || "")),
        el("td", { class: "num" }, "—"), el("td", {}, stateBadge(n.state, n.state === "pending" ? "waiting" : n.state)),
        el("td", { class: "detail" }, n.state === "pending" ? "next try " + (n.next_attempt_at || "") : (n.last_error || ""))));
      continue;
    }
    // Newest attempt first, like the notifications.
    for (let i = attempts.length - 1; i >= 0; i--) {
      const a = attempts[i];
      const detail = el("td", { class: "detail" }, a.detail || "");
      if (a.outcome === "retry" && a.retry_at) detail.append(el("div", { class: "sub" }, "retry at ", timeNode(a.retry_at)));
      fragment.append(el("tr", { class: i === attempts.length - 1 ? "first" : "", "data-notification": String(n.id) },
        el("td", {}, timeNode(a.at)), el("td", {}, alert.cloneNode(true)), el("td", {}, stateBadge(n.notice_state || "")),
        el("td", { class: "num" }, String(i + 1)), el("td", {}, stateBadge(a.outcome)), detail));
    }
  }
  rows.replaceChildren(fragment);
}

async function main() {
  session = await startPage("channels");
  editor = hasRole(session, "editor");
  await loadChannels();
  $("log-channel").addEventListener("change", () => { drawnLog = ""; loadLog(); });
  $("log-refresh").addEventListener("click", () => loadLog());
  await loadLog();
  setInterval(() => loadLog(), REFRESH_MS);
}

main();
