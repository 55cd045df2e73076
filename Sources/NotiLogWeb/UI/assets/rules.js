// The rules page: every rule (the files' and the API's, marked with their source; a file's rule is read-only),
// its kind, whether it is enabled, its channels and how many of its alerts fire. Editors create and edit API
// rules as YAML (what the API takes), see the server's problems beside the lines they name, try a rule against
// the last 24 hours (POST /api/v1/rules/test) before saving, and enable, disable or delete rules.
// `/rules?new=1&q=QUERY` opens a new rule with that query (the search page's "Save as rule").
import { api, el, hasRole, startPage } from "/assets/common.js";
import { formatDuration, formatTime, showError, stateBadge, timeNode, zoneName } from "/assets/alerting.js";

const $ = (id) => document.getElementById(id);
const SVG = "http://www.w3.org/2000/svg";
const YAML_TYPE = "application/yaml";

let session = null, editor = false;
let rules = [], channels = [], firing = {};
/** What the editor holds: { mode: "new" | "edit" | "view", name, origin }. */
let editing = null;

// MARK: The list

async function load() {
  try {
    const [list, open, chans] = await Promise.all([
      api("GET", "/api/v1/rules"), api("GET", "/api/v1/alerts?state=open&limit=1000"), api("GET", "/api/v1/channels"),
    ]);
    rules = list.rules || [];
    channels = chans.channels || [];
    firing = {};
    for (const a of open.alerts || []) if (a.state === "firing") firing[a.rule] = (firing[a.rule] || 0) + 1;
    showError($("rules-error"), null);
  } catch (e) {
    if (e.status === 401) { location.assign("/login?next=" + encodeURIComponent(location.pathname + location.search)); return; }
    showError($("rules-error"), "Cannot load the rules: " + e.message);
    return;
  }
  draw();
}

function sourceCell(rule) {
  const cell = el("td", { class: "source" });
  if (rule.origin === "api") {
    cell.append(el("span", { class: "badge info" }, "API"));
    if (rule.created_by) cell.append(el("div", { class: "hint" }, "by " + rule.created_by));
  } else {
    cell.append(el("span", { class: "badge muted" }, "file"), el("div", { class: "mono file", title: rule.origin }, rule.origin));
  }
  return cell;
}

function draw() {
  const body = $("rule-rows");
  $("rules-status").textContent = rules.length + (rules.length === 1 ? " rule" : " rules");
  if (rules.length === 0) {
    body.replaceChildren(el("tr", {}, el("td", { colspan: "8", class: "empty" },
      editor ? "No rule yet. Create one with “New rule”, or from a search with “Save as rule”." : "No rule yet.")));
    return;
  }
  const wanted = new URLSearchParams(location.search).get("rule");
  const fragment = document.createDocumentFragment();
  for (const rule of rules) {
    const nameCell = el("td", { class: "name" }, el("div", { class: "rule-title" }, rule.name));
    if (rule.description) nameCell.append(el("div", { class: "hint" }, rule.description));
    if (rule.problem) nameCell.append(el("div", { class: "rule-problem" }, "Not evaluated: " + rule.problem));
    const enabled = el("td", {}, rule.enabled ? el("span", { class: "badge ok" }, "enabled") : el("span", { class: "badge muted" }, "disabled"));
    const n = firing[rule.name] || 0;
    const firingCell = el("td", { class: "num" }, n > 0 ? el("a", { href: "/alerts?tab=firing", class: "firing-count" }, String(n)) : "0");
    const actions = el("td", { class: "row-actions" });
    const button = (label, cls, handler) => {
      const b = el("button", { type: "button", class: "small ghost " + cls }, label);
      b.addEventListener("click", () => handler(b));
      actions.append(b);
    };
    if (editor && rule.origin === "api") button("Edit", "edit", () => openExisting(rule, "edit"));
    else button("View", "view", () => openExisting(rule, "view"));
    if (editor) {
      if (rule.enabled) button("Disable", "disable", (b) => toggle(rule, false, b));
      else button("Enable", "enable", (b) => toggle(rule, true, b));
      if (rule.origin === "api") button("Delete", "delete", (b) => remove(rule, b));
    }
    const row = el("tr", { "data-rule": rule.name, class: (rule.enabled ? "" : "disabled ") + (rule.name === wanted ? "wanted" : "") },
      nameCell, el("td", {}, rule.kind), sourceCell(rule), enabled,
      el("td", {}, (rule.channels || []).join(", ")), firingCell, el("td", { class: "mono query" }, rule.query || ""), actions);
    fragment.append(row);
  }
  body.replaceChildren(fragment);
  if (wanted) {
    const row = body.querySelector("tr.wanted");
    if (row && !draw.scrolled) { row.scrollIntoView({ block: "center" }); draw.scrolled = true; }
  }
}

async function toggle(rule, enabled, button) {
  button.disabled = true;
  try {
    await api("POST", "/api/v1/rules/" + encodeURIComponent(rule.name) + (enabled ? "/enable" : "/disable"));
    say((enabled ? "Enabled " : "Disabled ") + rule.name + ".");
    await load();
  } catch (e) {
    button.disabled = false;
    showError($("rules-error"), e.message);
  }
}

async function remove(rule, button) {
  // A second click confirms (no window.confirm: the page stays scriptable and the check sees no dialog).
  if (button.dataset.armed !== "1") {
    button.dataset.armed = "1";
    button.textContent = "Delete " + rule.name + "?";
    button.classList.add("danger");
    button.classList.remove("ghost");
    return;
  }
  button.disabled = true;
  try {
    await api("DELETE", "/api/v1/rules/" + encodeURIComponent(rule.name));
    say("Deleted " + rule.name + ".");
    if (editing && editing.name === rule.name) closeEditor();
    await load();
  } catch (e) {
    button.disabled = false;
    showError($("rules-error"), e.message);
  }
}

function say(text) {
  const box = $("rules-notice");
  box.textContent = text;
  box.hidden = !text;
}

// MARK: The editor

/** A YAML double-quoted scalar: JSON's string escapes are YAML's too. */
function yamlString(text) { return JSON.stringify(String(text)); }

function template(kind, query) {
  const q = query ?? "";
  const chans = channels.length > 0 ? "[" + channels[0].name + "]" : "[]";
  const head = ["name: new-rule", 'description: ""', "kind: " + kind];
  switch (kind) {
    case "threshold":
      return head.concat(["query: " + yamlString(q || 'app:sshd "Failed password"'), "group_by: [host]", "threshold: 5", "window: 5m",
        "severity: warning", "channels: " + chans]).join("\n") + "\n";
    case "absence":
      return head.concat(["query: " + yamlString(q), "group_by: [host]", "window: 15m", "channels: " + chans]).join("\n") + "\n";
    case "state":
      return head.concat(["states: [crashed, restarting]", "max_restarts: 3", "window: 10m", "channels: " + chans]).join("\n") + "\n";
    case "new_value":
      return head.concat(["query: " + yamlString(q || "app:sshd Accepted"), "field: sd.sshd.user", "group_by: [host]", "channels: " + chans])
        .join("\n") + "\n";
    default:
      return head.concat(["query: " + yamlString(q), "group_by: [host]", "severity: warning", "channels: " + chans]).join("\n") + "\n";
  }
}

function openNew(query) {
  editing = { mode: "new", name: null, query };
  $("editor-title").textContent = "New rule";
  $("kind-pick").hidden = false;
  $("kind-template").value = "match";
  setDefinition(template("match", query), false);
  showEditor();
  const box = $("definition");
  box.focus();
  // Select the placeholder name: the first thing to change.
  const start = box.value.indexOf("new-rule");
  if (start >= 0) box.setSelectionRange(start, start + "new-rule".length);
}

async function openExisting(rule, mode) {
  let full;
  try {
    full = await api("GET", "/api/v1/rules/" + encodeURIComponent(rule.name));
  } catch (e) {
    showError($("rules-error"), e.message);
    return;
  }
  editing = { mode, name: rule.name, origin: rule.origin };
  $("editor-title").textContent = (mode === "edit" ? "Edit rule " : "Rule ") + rule.name;
  $("kind-pick").hidden = true;
  setDefinition(full.definition || "", mode === "view");
  showEditor();
  if (mode === "view") {
    $("editor-hint").textContent = rule.origin === "api"
      ? "Created through the API; only an editor may change it."
      : "Defined in " + rule.origin + ": read-only here (edit the file and reload). It can still be enabled, disabled and tested.";
  }
}

function showEditor() {
  const view = editing.mode === "view";
  $("save-rule").hidden = view || !editor;
  if (!view) $("editor-hint").textContent = "One rule in YAML, the keys of a rules file (README “Writing rules”). The server checks it and names the line and key of every problem.";
  showProblems([]);
  $("test-result").hidden = true;
  $("editor").hidden = false;
  $("editor").scrollIntoView({ block: "start" });
}

function closeEditor() {
  editing = null;
  $("editor").hidden = true;
  const p = new URLSearchParams(location.search);
  if (p.has("new") || p.has("q")) {
    p.delete("new");
    p.delete("q");
    history.replaceState(null, "", location.pathname + (p.toString() ? "?" + p.toString() : ""));
  }
}

function setDefinition(text, readOnly) {
  const box = $("definition");
  box.value = text;
  box.readOnly = readOnly;
  drawGutter([]);
}

/** Line numbers beside the textarea, with the lines the server named marked. */
function drawGutter(badLines) {
  const lines = $("definition").value.split("\n").length;
  const bad = new Set(badLines);
  const gutter = $("gutter");
  const fragment = document.createDocumentFragment();
  for (let n = 1; n <= lines; n++) {
    fragment.append(el("span", { class: bad.has(n) ? "ln bad" : "ln", "data-line": String(n) }, String(n)), "\n");
  }
  gutter.replaceChildren(fragment);
  gutter.scrollTop = $("definition").scrollTop;
}

/** The server's problems (each with field, line, reason) under the editor, and their lines marked. */
function showProblems(problems, message) {
  const list = $("problems");
  list.replaceChildren();
  const lines = [];
  if (message && problems.length === 0) list.append(el("li", {}, message));
  for (const p of problems) {
    const where = [];
    if (typeof p.line === "number") { where.push("line " + p.line); lines.push(p.line); }
    if (p.field) where.push(p.field);
    const item = el("li", { class: "problem", "data-field": p.field || null, "data-line": typeof p.line === "number" ? String(p.line) : null },
      where.length > 0 ? el("span", { class: "where" }, where.join(" · ")) : null, " " + (p.reason || p.text || ""));
    if (typeof p.line === "number") item.addEventListener("click", () => selectLine(p.line));
    list.append(item);
  }
  list.hidden = list.childElementCount === 0;
  drawGutter(lines);
}

function selectLine(n) {
  const box = $("definition");
  const lines = box.value.split("\n");
  let start = 0;
  for (let i = 0; i < n - 1 && i < lines.length; i++) start += lines[i].length + 1;
  box.focus();
  box.setSelectionRange(start, start + (lines[n - 1] || "").length);
}

/** Problems from an API error: the rule's (422, with lines) or a query's (400, with its column). */
function problemsOf(e) {
  if (Array.isArray(e.problems) && e.problems.length > 0) return e.problems;
  if (e.code === "invalid_query") {
    const line = $("definition").value.split("\n").findIndex((l) => /^\s*query\s*:/.test(l));
    return [{ field: "query", line: line >= 0 ? line + 1 : null, reason: e.message + (e.column ? " (column " + e.column + ")" : "") }];
  }
  return [];
}

async function save() {
  if (!editing || editing.mode === "view") return;
  const text = $("definition").value;
  $("save-rule").disabled = true;
  try {
    const saved = editing.mode === "new"
      ? await api("POST", "/api/v1/rules", text, YAML_TYPE)
      : await api("PUT", "/api/v1/rules/" + encodeURIComponent(editing.name), text, YAML_TYPE);
    closeEditor();
    say("Saved rule " + saved.name + ".");
    await load();
  } catch (e) {
    showProblems(problemsOf(e), e.message);
  } finally {
    $("save-rule").disabled = false;
  }
}

// MARK: Testing

async function test() {
  const text = $("definition").value;
  const button = $("test-rule");
  button.disabled = true;
  $("test-summary").textContent = "Replaying the last 24 hours…";
  $("test-result").hidden = false;
  $("test-rows").replaceChildren();
  $("test-timeline").replaceChildren();
  try {
    const result = await api("POST", "/api/v1/rules/test", { definition: text, since: "24h" });
    showProblems([]);
    drawTest(result);
  } catch (e) {
    $("test-result").hidden = true;
    showProblems(problemsOf(e), e.message);
  } finally {
    button.disabled = false;
  }
}

function groupText(group) {
  if (!group || typeof group !== "object") return "";
  const parts = Object.entries(group).map(([k, v]) => k + "=" + (v === null || v === undefined ? "(none)" : String(v)));
  return parts.join(", ");
}

function drawTest(r) {
  const times = (n) => n + (n === 1 ? " time" : " times");
  const open = (r.open_at_end || []).length;
  $("test-summary").textContent = r.records + (r.records === 1 ? " matching record" : " matching records") +
    (r.truncated ? " (the newest only)" : "") + " from " + formatTime(r.from) + " to " + formatTime(r.to) + " (" + zoneName() + "): would have fired " +
    times(r.fired) + ", resolved " + times(r.resolved) + (open > 0 ? ", " + open + " still open at the end" : "") + ".";
  const events = (r.events || []).filter((e) => e.transition !== "updated");
  const rows = $("test-rows");
  if (events.length === 0) {
    rows.append(el("tr", {}, el("td", { colspan: "5", class: "empty" }, "It would not have fired in this range.")));
  }
  for (const e of events) {
    const note = [e.summary, e.duration_seconds ? "after " + formatDuration(e.duration_seconds * 1000) : null, e.resolution,
      e.notification === "throttled" ? "held back by the throttle" : null].filter(Boolean).join(" · ");
    rows.append(el("tr", { class: "event-" + e.transition },
      el("td", {}, timeNode(e.at)), el("td", {}, stateBadge(e.transition)), el("td", { class: "mono" }, groupText(e.group)),
      el("td", { class: "num" }, String(e.count ?? "")), el("td", {}, note)));
  }
  drawTimeline(r, events);
}

function svg(tag, attributes, text) {
  const node = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, String(value));
  if (text !== undefined) node.textContent = text;
  return node;
}

/** One row per group over the range: a bar from firing to resolved (to the end when still open). */
function drawTimeline(r, events) {
  const from = Date.parse(r.from), to = Date.parse(r.to);
  if (Number.isNaN(from) || Number.isNaN(to) || to <= from) return;
  const groups = new Map();
  for (const e of events) {
    const key = groupText(e.group) || "(all)";
    if (!groups.has(key)) groups.set(key, []);
    groups.get(key).push(e);
  }
  if (groups.size === 0) return;
  const shown = Array.from(groups.entries()).slice(0, 8);
  const width = Math.max(300, $("test-timeline").clientWidth || 900), label = 160, rowH = 20, axis = 18;
  const height = shown.length * rowH + axis;
  const x = (ms) => label + (Math.max(from, Math.min(to, ms)) - from) / (to - from) * (width - label - 4);
  const root = svg("svg", { viewBox: "0 0 " + width + " " + height, width, height, role: "img", "aria-label": "when the rule would have fired" });
  shown.forEach(([key, list], i) => {
    const y = i * rowH;
    root.append(svg("text", { class: "tl-label", x: 0, y: y + 14 }, key.length > 24 ? key.slice(0, 23) + "…" : key));
    root.append(svg("line", { class: "tl-track", x1: label, x2: width - 4, y1: y + 10, y2: y + 10 }));
    let start = null;
    for (const e of list) {
      const t = Date.parse(e.at);
      if (e.transition === "firing" || e.transition === "pending") { if (start === null) start = t; }
      if (e.transition === "resolved" || e.transition === "cancelled") {
        const s = start ?? (t - (e.duration_seconds || 0) * 1000);
        root.append(bar(x(s), x(t), y, e.transition === "cancelled" ? "tl-pending" : "tl-fired", e));
        start = null;
      }
    }
    if (start !== null) root.append(bar(x(start), x(to), y, "tl-open", list[list.length - 1]));
  });
  const ticks = 6;
  for (let k = 0; k <= ticks; k++) {
    const t = from + (to - from) * k / ticks;
    root.append(svg("text", { class: "tl-axis", x: x(t), y: height - 4, "text-anchor": k === 0 ? "start" : k === ticks ? "end" : "middle" },
      formatTime(new Date(t).toISOString()).slice(11, 16)));
  }
  $("test-timeline").replaceChildren(root);
}

function bar(x1, x2, y, cls, e) {
  const rect = svg("rect", { class: cls, x: x1.toFixed(1), y: y + 4, width: Math.max(3, x2 - x1).toFixed(1), height: 12, rx: 2 });
  rect.append(svg("title", {}, e.transition + " " + formatTime(e.at) + (e.summary ? " · " + e.summary : "")));
  return rect;
}

// MARK: Start

async function reloadFiles(button) {
  button.disabled = true;
  try {
    const answer = await api("POST", "/api/v1/rules/reload");
    say("Read the rule files again: " + answer.reloaded + " rules.");
    await load();
  } catch (e) {
    showError($("rules-error"), e.message);
  } finally {
    button.disabled = false;
  }
}

async function main() {
  session = await startPage("rules");
  editor = hasRole(session, "editor");
  $("new-rule").hidden = !editor;
  $("reload-rules").hidden = !editor;
  $("new-rule").addEventListener("click", () => openNew(""));
  $("reload-rules").addEventListener("click", () => reloadFiles($("reload-rules")));
  $("save-rule").addEventListener("click", save);
  $("test-rule").addEventListener("click", test);
  $("cancel-edit").addEventListener("click", closeEditor);
  $("kind-template").addEventListener("change", () => {
    if (editing && editing.mode === "new") setDefinition(template($("kind-template").value, editing.query), false);
  });
  const box = $("definition");
  box.addEventListener("input", () => drawGutter([]));
  box.addEventListener("scroll", () => { $("gutter").scrollTop = box.scrollTop; });
  await load();
  $("channel-hint").textContent = channels.length > 0
    ? "Channels: " + channels.map((c) => c.name + " (" + c.type + ")").join(", ")
    : "No channel is configured (channels: in server.yaml); a rule without channels only records alerts.";
  const p = new URLSearchParams(location.search);
  if (p.get("new") === "1") {
    if (editor) openNew(p.get("q") || "");
    else showError($("rules-error"), "Creating a rule needs the editor role.");
  }
}

main();
