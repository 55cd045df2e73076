// What every page shares: the session (with its CSRF token), API calls, the theme toggle, and building DOM
// nodes safely. Log text is hostile: it only ever becomes text nodes (textContent), never markup, and
// attributes are set by fixed names.

/** An element with text content and fixed attributes; children are nodes or strings (made text nodes). */
export function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === null || value === undefined || value === false) continue;
    node.setAttribute(name, value === true ? "" : String(value));
  }
  for (const child of children) {
    if (child === null || child === undefined) continue;
    node.append(typeof child === "string" ? document.createTextNode(child) : child);
  }
  return node;
}

/** An API error: the HTTP status, the server's code and message, and (for queries) the column. */
export class APIError extends Error {
  constructor(status, code, message, column, retryAfter) {
    super(message);
    this.status = status;
    this.code = code;
    this.column = column;
    this.retryAfter = retryAfter;
  }
}

let csrfToken = null;

/**
 * Calls the API; JSON in and out. State-changing calls carry the session's X-CSRF-Token. With `contentType`, the
 * body is a string sent as it is (a rule's YAML), not as JSON.
 */
export async function api(method, path, body, contentType) {
  const headers = { "Accept": "application/json" };
  if (body !== undefined) headers["Content-Type"] = contentType || "application/json";
  if (method !== "GET" && method !== "HEAD" && csrfToken) headers["X-CSRF-Token"] = csrfToken;
  let response;
  try {
    response = await fetch(path, {
      method, headers, body: body === undefined ? undefined : contentType ? String(body) : JSON.stringify(body),
      credentials: "same-origin", cache: "no-store",
    });
  } catch (e) {
    throw new APIError(0, "network", "the server cannot be reached: " + e.message);
  }
  let data = null;
  try { data = await response.json(); } catch (e) { data = null; }
  if (!response.ok) {
    const error = (data && data.error) || {};
    const retry = response.headers.get("Retry-After");
    const failure = new APIError(
      response.status, error.code || "http_" + response.status,
      error.message || ("HTTP " + response.status), typeof error.column === "number" ? error.column : null,
      retry ? parseInt(retry, 10) : null);
    failure.problems = Array.isArray(error.problems) ? error.problems : [];
    throw failure;
  }
  return data;
}

/** Sends the browser to the sign-in page, to come back to `next` (a path on this site) afterwards. */
export function goToLogin() {
  const next = location.pathname + location.search;
  location.assign("/login?next=" + encodeURIComponent(next));
}

/** The signed-in session (user, CSRF token), or a trip to /login when there is none. */
export async function requireSession() {
  try {
    const session = await api("GET", "/api/v1/session");
    csrfToken = session.csrf_token || null;
    return session;
  } catch (e) {
    if (e.status === 401) {
      goToLogin();
      return new Promise(() => {});  // the page is going away
    }
    throw e;
  }
}

export function setCSRFToken(token) { csrfToken = token; }

/** The pages in the navigation bar, in order; `role` is the least role that may open the page. */
export const PAGES = [
  { name: "search", title: "Search" },
  { name: "tail", title: "Live tail" },
  { name: "alerts", title: "Alerts" },
  { name: "rules", title: "Rules" },
  { name: "channels", title: "Channels" },
  { name: "hosts", title: "Hosts" },
  { name: "users", title: "Users", role: "admin" },
  { name: "settings", title: "Settings", role: "admin" },
];

const ROLE_RANK = { viewer: 0, editor: 1, admin: 2 };

/** True when the signed-in user's role is at least `role` ("viewer", "editor" or "admin"). */
export function hasRole(session, role) {
  const mine = ROLE_RANK[(session && session.user && session.user.role) || "viewer"] ?? 0;
  return mine >= (ROLE_RANK[role] ?? 0);
}

/** Fills `<nav id="nav">` with the pages the user's role may open, marking `current`. */
export function setUpNav(session, current) {
  const nav = document.getElementById("nav");
  if (!nav) return;
  nav.replaceChildren();
  for (const page of PAGES) {
    if (page.role && !hasRole(session, page.role)) continue;
    nav.append(el("a", { href: "/" + page.name, "aria-current": page.name === current ? "page" : null }, page.title));
  }
}

/**
 * What every signed-in page does first: the theme toggle, the session (or a trip to /login), the header and
 * the navigation bar. Returns the session. A page that needs a role (`minimumRole`) says so instead of
 * showing controls that would only be refused.
 */
export async function startPage(current, minimumRole) {
  setUpThemeToggle();
  const session = await requireSession();
  setUpHeader(session);
  setUpNav(session, current);
  if (minimumRole && !hasRole(session, minimumRole)) {
    const main = document.querySelector("main");
    if (main) main.replaceChildren(el("p", { class: "forbidden", role: "alert" }, "This page needs the " + minimumRole + " role."));
    return new Promise(() => {});  // nothing more to do on this page
  }
  return session;
}

/** Shows the user and wires the sign-out button. */
export function setUpHeader(session) {
  const who = document.getElementById("who");
  if (who && session.user) who.textContent = session.user.username + " · " + session.user.role;
  const button = document.getElementById("sign-out");
  if (button && session.user) {
    button.hidden = false;
    button.addEventListener("click", async () => {
      button.disabled = true;
      try { await api("DELETE", "/api/v1/session"); } catch (e) { /* signed out or gone either way */ }
      location.assign("/login");
    });
  }
}

/** The theme toggle: flips light/dark and keeps the choice in localStorage. */
export function setUpThemeToggle() {
  const button = document.getElementById("theme-toggle");
  if (!button) return;
  const current = () => {
    const set = document.documentElement.getAttribute("data-theme");
    if (set === "light" || set === "dark") return set;
    return matchMedia("(prefers-color-scheme: dark)").matches ? "dark" : "light";
  };
  const label = () => { button.textContent = current() === "dark" ? "Light theme" : "Dark theme"; };
  label();
  button.addEventListener("click", () => {
    const next = current() === "dark" ? "light" : "dark";
    document.documentElement.setAttribute("data-theme", next);
    try { localStorage.setItem("notilog.theme", next); } catch (e) { /* not kept */ }
    label();
  });
  matchMedia("(prefers-color-scheme: dark)").addEventListener("change", label);
}
