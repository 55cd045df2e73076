// What the alerts, rules and channels pages share: times in the viewer's zone, durations, state badges and links
// to the search page. Everything from the server becomes text through el().
import { el } from "/assets/common.js";

/** `2026-12-05 21:04:05` in the viewer's zone (the ISO text when it cannot be read). */
export function formatTime(iso) {
  if (!iso) return "";
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return String(iso);
  const pad = (n) => String(n).padStart(2, "0");
  return d.getFullYear() + "-" + pad(d.getMonth() + 1) + "-" + pad(d.getDate()) + " " + pad(d.getHours()) + ":" +
    pad(d.getMinutes()) + ":" + pad(d.getSeconds());
}

/** A time element: the local time shown, the exact UTC time as its title. */
export function timeNode(iso) {
  if (!iso) return el("span", { class: "hint" }, "—");
  return el("time", { datetime: iso, title: iso }, formatTime(iso));
}

/** `3d 4h`, `2h 05m`, `4m 10s`, `12s`. */
export function formatDuration(ms) {
  if (typeof ms !== "number" || Number.isNaN(ms) || ms < 0) return "";
  const s = Math.floor(ms / 1000);
  const d = Math.floor(s / 86400), h = Math.floor((s % 86400) / 3600), m = Math.floor((s % 3600) / 60), sec = s % 60;
  const pad = (n) => String(n).padStart(2, "0");
  if (d > 0) return d + "d " + h + "h";
  if (h > 0) return h + "h " + pad(m) + "m";
  if (m > 0) return m + "m " + pad(sec) + "s";
  return sec + "s";
}

export function zoneName() {
  try { return Intl.DateTimeFormat().resolvedOptions().timeZone || "local time"; } catch (e) { return "local time"; }
}

const STATE_CLASS = {
  firing: "bad", pending: "warn", resolved: "ok", cancelled: "muted", reminder: "bad", test: "info",
  delivered: "ok", retry: "warn", failed: "bad", active: "bad", expired: "muted", scheduled: "info",
};

/** A badge for an alert, notification or delivery state. */
export function stateBadge(state, label) {
  const text = String(state || "unknown");
  return el("span", { class: "badge " + (STATE_CLASS[text] || "muted") }, label || text);
}

/** The search page for a query between two instants (ms since the epoch): `/search?q=…&range=abs&from=…&to=…`. */
export function searchLink(query, fromMs, toMs) {
  const p = new URLSearchParams();
  if (query) p.set("q", query);
  p.set("range", "abs");
  p.set("from", new Date(fromMs).toISOString());
  p.set("to", new Date(toMs).toISOString());
  return "/search?" + p.toString();
}

/** Shows a message (the API's error.message) in a `.form-error` box, or hides the box for null. */
export function showError(box, message) {
  if (!box) return;
  box.textContent = message || "";
  box.hidden = !message;
}
