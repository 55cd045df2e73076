// The users page (admin only): users with their role, status, last sign-in and active sessions — add, change
// role, reset password, disable/enable, delete, end sessions — and API tokens: create (the secret is shown
// once), revoke. The server enforces every rule (the admin role, "the last admin keeps admin"); its refusals
// are shown on the page as it words them.
import { api, el, startPage } from "/assets/common.js";

const $ = (id) => document.getElementById(id);
let session = null;

function localTime(iso) {
  if (!iso) return "never";
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? String(iso) : d.toLocaleString();
}

function showError(message) {
  const box = $("error");
  if (!message) { box.hidden = true; return; }
  box.textContent = message;
  box.hidden = false;
}

/** A random password: 20 characters from 62 (about 119 bits), from the browser's CSPRNG. */
function generatePassword() {
  const alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789";
  const bytes = new Uint8Array(20);
  crypto.getRandomValues(bytes);
  return Array.from(bytes, (b) => alphabet[b % alphabet.length]).join("");
}

/** Shows a secret (a password or a token) once, with a copy button. */
function showSecret(label, value) {
  $("secret-label").textContent = label;
  $("secret-value").textContent = value;
  $("secret-copy").textContent = "Copy";
  $("secret").hidden = false;
}

function hideSecret() {
  $("secret-value").textContent = "";
  $("secret").hidden = true;
}

async function copySecret() {
  const value = $("secret-value").textContent;
  try {
    await navigator.clipboard.writeText(value);
    $("secret-copy").textContent = "Copied";
  } catch (e) {
    // No clipboard access: select the text so Ctrl+C copies it.
    const range = document.createRange();
    range.selectNodeContents($("secret-value"));
    const selection = getSelection();
    selection.removeAllRanges();
    selection.addRange(range);
    $("secret-copy").textContent = "Press Ctrl+C";
  }
}

/** What OK in the confirmation dialog does (one at a time). */
let pendingAction = null;

/** A modal question; `extra` nodes go in the form; `action` runs on OK and may throw (shown in the dialog). */
function confirmAction(text, okLabel, action, { danger = false, extra = [] } = {}) {
  $("confirm-text").textContent = text;
  $("confirm-extra").replaceChildren(...extra);
  $("confirm-extra").hidden = extra.length === 0;
  $("confirm-error").hidden = true;
  const ok = $("confirm-ok");
  ok.textContent = okLabel;
  ok.className = danger ? "danger" : "";
  ok.disabled = false;
  pendingAction = action;
  $("confirm").showModal();
}

async function runPendingAction() {
  const ok = $("confirm-ok");
  if (!pendingAction || ok.disabled) return;
  ok.disabled = true;
  try {
    await pendingAction();
    pendingAction = null;
    $("confirm").close();
  } catch (e) {
    $("confirm-error").textContent = e.message;
    $("confirm-error").hidden = false;
    ok.disabled = false;
  }
}

// MARK: Users

async function loadUsers() {
  let users;
  try {
    users = (await api("GET", "/api/v1/users")).users || [];
  } catch (e) {
    showError("The users could not be loaded: " + e.message);
    return;
  }
  const counts = await Promise.all(users.map((u) =>
    api("GET", "/api/v1/users/" + encodeURIComponent(u.username) + "/sessions").then((s) => (s.sessions || []).length, () => null)));
  const body = $("users");
  body.replaceChildren();
  users.forEach((u, i) => body.append(userRow(u, counts[i])));
  $("users-empty").hidden = users.length > 0;
}

function userRow(u, sessions) {
  const me = session.user && session.user.username.toLowerCase() === u.username.toLowerCase();
  const path = "/api/v1/users/" + encodeURIComponent(u.username);
  const role = el("select", { class: "role-select", "aria-label": "Role of " + u.username });
  for (const r of ["viewer", "editor", "admin"]) role.append(el("option", { value: r, selected: r === u.role }, r));
  role.addEventListener("change", async () => {
    showError(null);
    try {
      await api("PATCH", path, { role: role.value });
    } catch (e) {
      role.value = u.role;
      showError("The role of " + u.username + " was not changed: " + e.message);
      return;
    }
    await loadUsers();
  });

  const toggle = el("button", { type: "button", class: "ghost small" }, u.disabled ? "Enable" : "Disable");
  toggle.addEventListener("click", async () => {
    showError(null);
    try {
      await api("PATCH", path, { disabled: !u.disabled });
    } catch (e) {
      showError(u.username + " was not " + (u.disabled ? "enabled" : "disabled") + ": " + e.message);
      return;
    }
    await loadUsers();
  });

  const reset = el("button", { type: "button", class: "ghost small" }, "Reset password");
  reset.addEventListener("click", () => {
    const input = el("input", { type: "text", id: "reset-password", spellcheck: "false", autocomplete: "new-password", placeholder: "empty: generate one" });
    confirmAction("A new password for " + u.username + " (their other sessions end):", "Set password", async () => {
      const password = input.value || generatePassword();
      await api("PATCH", path, { password });
      showSecret("New password for " + u.username + ":", password);
      await loadUsers();
    }, { extra: [el("label", { for: "reset-password" }, "Password"), input] });
  });

  const sessionCount = sessions === null ? "–"
    : el("button", { type: "button", class: "link-button", title: "Show " + u.username + "'s sessions", disabled: !sessions }, String(sessions));
  if (sessions) sessionCount.addEventListener("click", () => showSessions(u, me));

  const endSessions = el("button", { type: "button", class: "ghost small", disabled: !sessions }, "End sessions");
  endSessions.addEventListener("click", () => {
    confirmAction("End every session of " + u.username + (me ? " (this one too: you will be signed out)" : "") + "?", "End sessions", async () => {
      await api("DELETE", path + "/sessions");
      if (me) { location.assign("/login"); return; }
      await loadUsers();
    });
  });

  const remove = el("button", { type: "button", class: "danger small" }, "Delete");
  remove.addEventListener("click", () => {
    confirmAction("Delete the user " + u.username + "? Their sessions end at once.", "Delete", async () => {
      await api("DELETE", path);
      await loadUsers();
    }, { danger: true });
  });

  const status = u.disabled ? el("span", { class: "badge muted" }, "disabled") : el("span", { class: "badge ok" }, "enabled");
  return el("tr", { "data-user": u.username },
    el("td", {}, el("span", { class: "user-name" }, u.username), me ? el("span", { class: "hint" }, " (you)") : null),
    el("td", {}, role),
    el("td", {}, status),
    el("td", {}, localTime(u.last_login_at)),
    el("td", { class: "num" }, sessionCount),
    el("td", { class: "actions" }, reset, toggle, endSessions, remove));
}

/** A user's active sessions (address, browser, times) in the dialog, each with its own End button. */
async function showSessions(u, me) {
  const path = "/api/v1/users/" + encodeURIComponent(u.username) + "/sessions";
  const list = el("ul", { class: "session-list" });
  const fill = async () => {
    let sessions;
    try {
      sessions = (await api("GET", path)).sessions || [];
    } catch (e) {
      list.replaceChildren(el("li", { class: "form-error" }, e.message));
      return;
    }
    list.replaceChildren();
    if (!sessions.length) list.append(el("li", { class: "hint" }, "No active session."));
    for (const s of sessions) {
      const end = el("button", { type: "button", class: "ghost small" }, s.current ? "End (signs you out)" : "End");
      end.addEventListener("click", async () => {
        end.disabled = true;
        try {
          await api("DELETE", path + "/" + encodeURIComponent(s.id));
        } catch (e) {
          end.disabled = false;
          list.append(el("li", { class: "form-error" }, e.message));
          return;
        }
        if (s.current) { location.assign("/login"); return; }
        await fill();
        await loadUsers();
      });
      list.append(el("li", { "data-session": String(s.id) },
        el("div", {}, el("span", { class: "mono" }, s.address || "unknown address"), s.current ? el("span", { class: "badge info" }, "this one") : null),
        el("div", { class: "hint session-agent" }, s.user_agent || "unknown browser"),
        el("div", { class: "hint" }, "signed in " + localTime(s.created_at) + " · last request " + localTime(s.last_seen_at)),
        end));
    }
  };
  await fill();
  confirmAction("Active sessions of " + u.username + (me ? " (you)" : "") + ":", "End all", async () => {
    await api("DELETE", path);
    if (me) { location.assign("/login"); return; }
    await loadUsers();
  }, { extra: [list], danger: true });
}

async function addUser(event) {
  event.preventDefault();
  const error = $("add-error");
  error.hidden = true;
  const username = $("new-name").value.trim();
  const typed = $("new-password").value;
  const password = typed || generatePassword();
  const role = $("new-role").value;
  $("add-user").disabled = true;
  try {
    await api("POST", "/api/v1/users", { username, password, role });
    $("add-form").reset();
    showSecret("Password for " + username + " (" + role + "):", password);
    await loadUsers();
  } catch (e) {
    error.textContent = e.message;
    error.hidden = false;
  } finally {
    $("add-user").disabled = false;
  }
}

// MARK: Tokens

async function loadTokens() {
  let tokens;
  try {
    tokens = (await api("GET", "/api/v1/tokens")).tokens || [];
  } catch (e) {
    showError("The tokens could not be loaded: " + e.message);
    return;
  }
  tokens.sort((a, b) => (a.revoked_at ? 1 : 0) - (b.revoked_at ? 1 : 0) || b.id - a.id);
  const body = $("tokens");
  body.replaceChildren();
  for (const t of tokens) {
    const revoke = t.revoked_at ? null : el("button", { type: "button", class: "danger small" }, "Revoke");
    if (revoke) {
      revoke.addEventListener("click", () => {
        confirmAction("Revoke the token " + t.name + "? Programs using it are refused from now on.", "Revoke", async () => {
          await api("DELETE", "/api/v1/tokens/" + encodeURIComponent(t.id));
          await loadTokens();
        }, { danger: true });
      });
    }
    body.append(el("tr", { "data-token": String(t.id), class: t.revoked_at ? "revoked" : null },
      el("td", {}, t.name),
      el("td", {}, el("span", { class: "badge info" }, t.scope)),
      el("td", {}, localTime(t.created_at)),
      el("td", {}, localTime(t.last_used_at)),
      el("td", {}, t.revoked_at ? el("span", { class: "badge muted", title: localTime(t.revoked_at) }, "revoked") : el("span", { class: "badge ok" }, "active")),
      el("td", { class: "actions" }, revoke)));
  }
  $("tokens-empty").hidden = tokens.length > 0;
}

async function addToken(event) {
  event.preventDefault();
  const error = $("token-error");
  error.hidden = true;
  const name = $("token-name").value.trim();
  const scope = $("token-scope").value;
  $("add-token").disabled = true;
  try {
    const created = await api("POST", "/api/v1/tokens", { name, scope });
    $("token-form").reset();
    showSecret("Token " + name + " (" + scope + "):", created.token);
    await loadTokens();
  } catch (e) {
    error.textContent = e.message;
    error.hidden = false;
  } finally {
    $("add-token").disabled = false;
  }
}

async function main() {
  session = await startPage("users", "admin");
  $("add-form").addEventListener("submit", addUser);
  $("token-form").addEventListener("submit", addToken);
  $("secret-copy").addEventListener("click", copySecret);
  $("secret-close").addEventListener("click", hideSecret);
  $("confirm-cancel").addEventListener("click", () => { pendingAction = null; $("confirm").close(); });
  $("confirm-ok").addEventListener("click", runPendingAction);
  $("confirm-form").addEventListener("submit", (e) => { e.preventDefault(); runPendingAction(); });
  await Promise.all([loadUsers(), loadTokens()]);
}

main();
