// The alerts page: firing, pending and resolved alerts (GET /api/v1/alerts) with their group values, counts, times
// and sample lines; acknowledging and silencing (editors); the silences, active and ended, with "end now". It
// refreshes every 10 s, re-drawing only what changed, and never while the silence dialog is open.
//
// Sample lines are log text, hostile: they become text nodes through el(), like every other server value.
import { api, el, hasRole, startPage } from "/assets/common.js";
import { formatDuration, searchLink, showError, stateBadge, timeNode, zoneName } from "/assets/alerting.js";

const REFRESH_MS = 10000;
const PAGE = 100;
const $ = (id) => document.getElementById(id);

let session = null, editor = false;
/** The tab shown: firing, pending, resolved or all. */
let tab = "firing";
/** Alerts fetched for the resolved/all tabs (newest first), and the API's cursor for older ones. */
let pages = { alerts: [], next: null, tab: null };
/** Open alerts (pending and firing), fetched on every refresh for the tab counts. */
let open = [];
/** What was drawn last (JSON), so a refresh that changed nothing leaves the DOM alone. */
let drawnAlerts = "", drawnSilences = "";
/** The alert the silence dialog is for. */
let silencing = null;

// MARK: Loading

async function loadOpen() {
  const answer = await api("GET", "/api/v1/alerts?state=open&limit=1000");
  open = answer.alerts || [];
}

/** The resolved/all list: as many alerts as were shown before (a refresh keeps the user's place), at least a page.
 *  The resolved tab asks the server for closed alerts only: filtered here, thousands of open ones would crowd them out. */
async function loadPages(more) {
  // The tab asked for, not the one shown when the answer comes (the user may have switched meanwhile).
  const asked = tab;
  const state = asked === "resolved" ? "&state=closed" : "";
  if (more && pages.next !== null && pages.tab === asked) {
    const answer = await api("GET", "/api/v1/alerts?limit=" + PAGE + state + "&before=" + encodeURIComponent(pages.next));
    if (pages.tab === asked) pages = { alerts: pages.alerts.concat(answer.alerts || []), next: answer.next ?? null, tab: asked };
    return;
  }
  const limit = Math.min(1000, Math.max(PAGE, pages.tab === asked ? pages.alerts.length : 0));
  const answer = await api("GET", "/api/v1/alerts?limit=" + limit + state);
  pages = { alerts: answer.alerts || [], next: answer.next ?? null, tab: asked };
}

async function refresh(more = false) {
  try {
    await loadOpen();
    if (tab === "resolved" || tab === "all") await loadPages(more);
    showError($("alerts-error"), null);
    drawAlerts();
    $("refreshed").textContent = "updated " + new Date().toLocaleTimeString() + " · times in " + zoneName();
  } catch (e) {
    if (e.status === 401) { location.assign("/login?next=" + encodeURIComponent(location.pathname + location.search)); return; }
    showError($("alerts-error"), "Cannot load the alerts: " + e.message);
  }
  await refreshSilences();
}

// MARK: Alerts

function shownAlerts() {
  switch (tab) {
    case "firing": return open.filter((a) => a.state === "firing");
    case "pending": return open.filter((a) => a.state === "pending");
    case "resolved": return pages.tab === "resolved" ? pages.alerts : [];
    default: return pages.tab === "all" ? pages.alerts : [];
  }
}

function detailOf(alert) {
  return alert.detail && typeof alert.detail === "object" ? alert.detail : {};
}

function drawAlerts() {
  $("count-firing").textContent = String(open.filter((a) => a.state === "firing").length);
  $("count-pending").textContent = String(open.filter((a) => a.state === "pending").length);
  const list = shownAlerts();
  const paged = tab === "resolved" || tab === "all";
  $("more").hidden = !paged || pages.next === null;
  const key = JSON.stringify([tab, editor, list]);
  if (key === drawnAlerts) { tickDurations(); return; }
  drawnAlerts = key;
  const box = $("alert-list");
  if (list.length === 0) {
    const empty = {
      firing: "Nothing is firing.", pending: "No alert is pending.", resolved: "No resolved alert yet.", all: "No alert yet.",
    }[tab];
    box.replaceChildren(el("div", { class: "panel empty" }, empty));
    return;
  }
  const fragment = document.createDocumentFragment();
  for (const alert of list) fragment.append(renderAlert(alert));
  box.replaceChildren(fragment);
}

/** The durations of open alerts grow; a refresh that changed nothing else updates just them. */
function tickDurations() {
  const now = Date.now();
  for (const node of document.querySelectorAll(".duration[data-open][data-started]")) {
    node.textContent = formatDuration(now - Number(node.dataset.started));
  }
}

function groupChips(group) {
  const chips = el("span", { class: "chips" });
  if (!Array.isArray(group) || group.length === 0) {
    chips.append(el("span", { class: "hint" }, "no group"));
    return chips;
  }
  for (const g of group) {
    chips.append(el("span", { class: "chip" }, String(g.field) + "=" + (g.value === null || g.value === undefined ? "(none)" : String(g.value))));
  }
  return chips;
}

function renderAlert(alert) {
  const d = detailOf(alert);
  const card = el("article", { class: "alert-card state-" + alert.state, "data-alert-id": String(alert.id), "data-rule": alert.rule });
  const started = Date.parse(alert.started_at);
  const ended = alert.resolved_at ? Date.parse(alert.resolved_at) : Date.now();
  const firstSeen = d.first_seen || alert.started_at, lastSeen = d.last_seen || alert.updated_at;

  const head = el("div", { class: "alert-head" },
    stateBadge(alert.state),
    d.severity ? el("span", { class: "badge muted" }, String(d.severity)) : null,
    el("a", { class: "rule-name", href: "/rules?rule=" + encodeURIComponent(alert.rule) }, alert.rule),
    groupChips(d.group),
    el("span", { class: "spacer" }),
    el("span", { class: "count", title: "matching records" }, String(alert.count) + (alert.count === 1 ? " match" : " matches")));
  card.append(head);
  if (d.summary) card.append(el("div", { class: "summary" }, String(d.summary)));

  const facts = el("dl", { class: "facts" });
  const fact = (name, node) => facts.append(el("div", {}, el("dt", {}, name), el("dd", {}, node)));
  fact("first seen", timeNode(firstSeen));
  fact("last seen", timeNode(lastSeen));
  fact(alert.resolved_at ? "lasted" : "for", el("span", { class: "duration", "data-started": Number.isNaN(started) ? null : String(started),
    "data-open": alert.resolved_at ? null : "1" }, Number.isNaN(started) ? "" : formatDuration(ended - started)));
  if (alert.resolved_at) fact("resolved", timeNode(alert.resolved_at));
  if (alert.acknowledged_at) fact("acknowledged", document.createTextNode((alert.acknowledged_by || "") + " · " + formatTimeText(alert.acknowledged_at)));
  card.append(facts);

  const samples = Array.isArray(d.samples) ? d.samples : [];
  if (samples.length > 0) {
    const list = el("div", { class: "samples", role: "list", "aria-label": "sample lines" });
    for (const s of samples) {
      list.append(el("div", { class: "sample", role: "listitem" },
        el("span", { class: "s-time" }, formatTimeText(s.received_at)),
        el("span", { class: "s-host" }, s.hostname || ""),
        el("span", { class: "s-app" }, s.app || ""),
        el("span", { class: "s-msg" }, String(s.message ?? ""))));
    }
    card.append(list);
  }

  const actions = el("div", { class: "alert-actions" });
  if (typeof alert.search_query === "string" && !Number.isNaN(started)) {
    const from = Date.parse(firstSeen || alert.started_at) || started;
    const to = Date.parse(lastSeen || "") || ended;
    actions.append(el("a", { class: "search-link", href: searchLink(alert.search_query, Math.min(from, started) - 5 * 60e3, Math.max(to, ended) + 60e3) },
      "Search these lines"));
  }
  if (editor) {
    const isOpen = alert.state === "firing" || alert.state === "pending";
    if (isOpen && !alert.acknowledged_at) {
      const ack = el("button", { type: "button", class: "small ack" }, "Acknowledge");
      ack.addEventListener("click", () => acknowledge(alert, ack));
      actions.append(ack);
    }
    const silence = el("button", { type: "button", class: "small ghost silence" }, "Silence…");
    silence.addEventListener("click", () => openSilenceDialog(alert));
    actions.append(silence);
  }
  const error = el("div", { class: "form-error", role: "alert", hidden: true });
  card.append(actions, error);
  return card;
}

function formatTimeText(iso) {
  const node = timeNode(iso);
  return node.textContent;
}

async function acknowledge(alert, button) {
  button.disabled = true;
  try {
    await api("POST", "/api/v1/alerts/" + encodeURIComponent(alert.id) + "/ack");
    await refresh();
  } catch (e) {
    button.disabled = false;
    const card = button.closest(".alert-card");
    showError(card && card.querySelector(".form-error"), "Cannot acknowledge: " + e.message);
  }
}

// MARK: Silence dialog

function openSilenceDialog(alert) {
  silencing = alert;
  const d = detailOf(alert);
  const box = $("silence-matchers");
  box.replaceChildren(el("legend", {}, "Matches"));
  const item = (kind, label, field, value) => {
    const input = el("input", { type: "checkbox", checked: true, "data-kind": kind, "data-field": field, "data-value": value });
    box.append(el("label", { class: "check matcher" }, input, " " + label));
  };
  item("rule", "rule = " + alert.rule, "", alert.rule);
  for (const g of Array.isArray(d.group) ? d.group : []) {
    if (g.value === null || g.value === undefined) continue;
    item("group", String(g.field) + " = " + String(g.value), String(g.field), String(g.value));
  }
  $("silence-duration").value = "2h";
  $("silence-comment").value = "";
  showError($("silence-error"), null);
  $("silence-save").disabled = false;
  $("silence-dialog").showModal();
  $("silence-comment").focus();
}

async function saveSilence(event) {
  event.preventDefault();
  if (!silencing) return;
  const body = { duration: $("silence-duration").value, comment: $("silence-comment").value.trim() };
  const group = {};
  for (const input of $("silence-matchers").querySelectorAll("input[type=checkbox]")) {
    if (!input.checked) continue;
    if (input.dataset.kind === "rule") body.rule = input.dataset.value;
    else group[input.dataset.field] = input.dataset.value;
  }
  if (Object.keys(group).length > 0) body.group = group;
  if (!body.rule && !body.group) { showError($("silence-error"), "Check at least one item to match."); return; }
  $("silence-save").disabled = true;
  try {
    await api("POST", "/api/v1/silences", body);
    $("silence-dialog").close();
    silencing = null;
    drawnSilences = "";
    await refreshSilences();
  } catch (e) {
    $("silence-save").disabled = false;
    showError($("silence-error"), e.message);
  }
}

// MARK: Silences

function silenceState(s, now) {
  const starts = Date.parse(s.starts_at), ends = Date.parse(s.ends_at);
  if (ends <= now) return "expired";
  if (starts > now) return "scheduled";
  return "active";
}

function matcherText(m) {
  if (m && typeof m.rule === "string") return "rule = " + m.rule;
  if (m && typeof m.field === "string") return m.field + " = " + String(m.value ?? "");
  if (m && typeof m.query === "string") return "query: " + m.query;
  return JSON.stringify(m);
}

async function refreshSilences() {
  let list;
  try {
    const answer = await api("GET", "/api/v1/silences?all=" + ($("show-expired").checked ? "1" : "0"));
    list = answer.silences || [];
    showError($("silences-error"), null);
  } catch (e) {
    showError($("silences-error"), "Cannot load the silences: " + e.message);
    return;
  }
  const now = Date.now();
  const key = JSON.stringify([editor, list, list.map((s) => silenceState(s, now))]);
  if (key === drawnSilences) return;
  drawnSilences = key;
  const rows = $("silence-rows");
  if (list.length === 0) {
    rows.replaceChildren(el("tr", {}, el("td", { colspan: "7", class: "empty" },
      $("show-expired").checked ? "No silence yet." : "No active silence.")));
    return;
  }
  const fragment = document.createDocumentFragment();
  for (const s of list) {
    const state = silenceState(s, now);
    const matchers = el("ul", { class: "matcher-list" });
    for (const m of Array.isArray(s.matchers) ? s.matchers : []) matchers.append(el("li", { class: "mono" }, matcherText(m)));
    const ends = el("td", {}, timeNode(s.ends_at));
    if (state === "active") ends.append(el("div", { class: "hint" }, "in " + formatDuration(Date.parse(s.ends_at) - now)));
    const actions = el("td", { class: "row-actions" });
    if (editor && state !== "expired") {
      const button = el("button", { type: "button", class: "small ghost expire" }, "End now");
      button.addEventListener("click", () => expireSilence(s, button));
      actions.append(button);
    }
    fragment.append(el("tr", { "data-silence-id": String(s.id), class: "silence-" + state },
      el("td", {}, stateBadge(state)), el("td", {}, matchers), ends, el("td", { class: "comment" }, s.comment || ""),
      el("td", {}, s.created_by || ""), el("td", {}, timeNode(s.created_at)), actions));
  }
  rows.replaceChildren(fragment);
}

async function expireSilence(silence, button) {
  button.disabled = true;
  try {
    await api("DELETE", "/api/v1/silences/" + encodeURIComponent(silence.id));
    drawnSilences = "";
    await refreshSilences();
  } catch (e) {
    button.disabled = false;
    showError($("silences-error"), "Cannot end the silence: " + e.message);
  }
}

// MARK: Start

function selectTab(name, push) {
  tab = ["firing", "pending", "resolved", "all"].includes(name) ? name : "firing";
  for (const button of document.querySelectorAll(".tab")) {
    const on = button.dataset.tab === tab;
    button.setAttribute("aria-selected", on ? "true" : "false");
    button.classList.toggle("on", on);
  }
  if (push) {
    const p = new URLSearchParams(location.search);
    p.set("tab", tab);
    history.replaceState(null, "", location.pathname + "?" + p.toString());
  }
  drawnAlerts = "";
}

async function main() {
  session = await startPage("alerts");
  editor = hasRole(session, "editor");
  selectTab(new URLSearchParams(location.search).get("tab") || "firing", false);
  for (const button of document.querySelectorAll(".tab")) {
    button.addEventListener("click", () => { selectTab(button.dataset.tab, true); refresh(); });
  }
  $("refresh").addEventListener("click", () => refresh());
  $("more").addEventListener("click", async () => {
    $("more").disabled = true;
    await refresh(true);
    $("more").disabled = false;
  });
  $("show-expired").addEventListener("change", () => { drawnSilences = ""; refreshSilences(); });
  $("silence-form").addEventListener("submit", saveSilence);
  $("silence-cancel").addEventListener("click", () => { $("silence-dialog").close(); silencing = null; });
  await refresh();
  setInterval(() => {
    // Not while the user is in the dialog or selecting text: the page stays where it is.
    if ($("silence-dialog").open) return;
    if (window.getSelection && String(window.getSelection()).length > 0) return;
    refresh();
  }, REFRESH_MS);
}

main();
