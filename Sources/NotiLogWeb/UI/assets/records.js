// How the search page and the live tail show records: a row per record (time in the viewer's zone, severity,
// host, app, message), the expanded record, links to a search, and the query error under the query box.
//
// Log text is hostile: every piece of a record becomes a text node or an attribute value set by a fixed name.
import { el } from "/assets/common.js";

export const SEVERITIES = ["emerg", "alert", "crit", "err", "warning", "notice", "info", "debug"];
export const FACILITIES = ["kern", "user", "mail", "daemon", "auth", "syslog", "lpr", "news", "uucp", "cron", "authpriv",
  "ftp", "ntp", "security", "console", "solaris-cron", "local0", "local1", "local2", "local3", "local4", "local5",
  "local6", "local7"];

// MARK: Formatting

/** `2026-12-05 21:04:05.123` in the viewer's zone. */
export function formatTime(iso) {
  if (!iso) return "";
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  const pad = (n, w = 2) => String(n).padStart(w, "0");
  return d.getFullYear() + "-" + pad(d.getMonth() + 1) + "-" + pad(d.getDate()) + " " + pad(d.getHours()) + ":" +
    pad(d.getMinutes()) + ":" + pad(d.getSeconds()) + "." + pad(d.getMilliseconds(), 3);
}

let zone = null;

/** The viewer's time zone ("Europe/Berlin"), asked once. */
export function zoneName() {
  if (zone === null) {
    try { zone = Intl.DateTimeFormat().resolvedOptions().timeZone || "local time"; } catch (e) { zone = "local time"; }
  }
  return zone;
}

export function severityName(n) { return typeof n === "number" && SEVERITIES[n] ? SEVERITIES[n] : ""; }

/** The raw frame (base64) as text, control characters shown as their Unicode pictures. */
export function rawText(base64) {
  const binary = atob(base64);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  const text = new TextDecoder("utf-8", { fatal: false }).decode(bytes);
  return text.replace(/[\u0000-\u0008\u000b-\u001f\u007f]/g, (c) => c === "\u007f" ? "\u2421" : String.fromCharCode(0x2400 + c.charCodeAt(0)));
}

/** A query-language value in quotes ("\" and "\\" escaped). */
export function quoted(value) { return '"' + value.replace(/\\/g, "\\\\").replace(/"/g, '\\"') + '"'; }

/**
 * The search page's URL for a state: { q, range: "15m"|"1h"|"24h"|"7d" } or { q, range: "abs", from, to } (from/to:
 * ms since the epoch).
 */
export function searchURL(state) {
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

// MARK: Records

/**
 * A record's row. `interactive` (the search page) adds its own click and key handlers that expand it with
 * `detailOptions`; the live tail handles clicks for all rows at once instead.
 */
export function renderRow(record, { interactive = true, detailOptions = {} } = {}) {
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
  if (!interactive) return row;
  const toggle = () => toggleDetail(row, record, detailOptions);
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

/** Opens the record's details under its row, or closes them. */
export function toggleDetail(row, record, detailOptions = {}) {
  const next = row.nextElementSibling;
  if (next && next.classList.contains("detail")) {
    next.remove();
    row.classList.remove("open");
    row.setAttribute("aria-expanded", "false");
    return;
  }
  row.classList.add("open");
  row.setAttribute("aria-expanded", "true");
  row.after(renderDetail(record, detailOptions));
}

function field(list, name, value) {
  if (value === null || value === undefined || value === "") return;
  list.append(el("dt", {}, name), el("dd", {}, String(value)));
}

/**
 * A record in full. The "surrounding lines" link searches its host ±5 minutes: `onSurrounding(state)` takes the
 * click instead of the browser (the search page searches in place); `newTab` opens it in another tab.
 */
export function renderDetail(record, { onSurrounding = null, newTab = false } = {}) {
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
    const link = el("a", {
      class: "surrounding", href: searchURL(around), target: newTab ? "_blank" : null, rel: newTab ? "noopener" : null,
    }, "Surrounding lines from this host (±5 min)");
    if (onSurrounding) {
      link.addEventListener("click", (event) => {
        if (event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
        event.preventDefault();
        onSurrounding(around);
      });
    }
    actions.append(link);
  }
  if (typeof record.id === "number") {
    actions.append(el("a", { class: "json", href: "/api/v1/logs/" + record.id, target: "_blank", rel: "noopener" }, "JSON"));
  }
  box.append(actions);
  return box;
}

// MARK: Query errors

/** Hides the query error (`#query-error`) under `queryBox`. */
export function clearQueryError(queryBox) {
  document.getElementById("query-error").hidden = true;
  queryBox.removeAttribute("aria-invalid");
}

/** The server's message, and the query with the character at `column` (1-based, in code points) marked. */
export function showQueryError(queryBox, message, column, query) {
  document.getElementById("query-error-message").textContent = message;
  const pointer = document.getElementById("query-error-pointer");
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
  document.getElementById("query-error").hidden = false;
  queryBox.setAttribute("aria-invalid", "true");
}
