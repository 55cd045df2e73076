// The sign-in page: POST /api/v1/session, then on to the page asked for (a path on this site only).
import { api, setUpThemeToggle } from "/assets/common.js";

setUpThemeToggle();

const form = document.getElementById("login-form");
const errorBox = document.getElementById("login-error");
const submit = document.getElementById("sign-in");

/** Where to go afterwards: `next` when it is a page of this site. Resolved as the browser would (it drops tabs
 * and newlines, and reads "/\host" as "//host") and kept only when it stays on this origin. */
function nextPage() {
  const next = new URLSearchParams(location.search).get("next");
  if (next && next.startsWith("/")) {
    try {
      const url = new URL(next, location.origin);
      if (url.origin === location.origin) return url.pathname + url.search + url.hash;
    } catch (e) { /* not a URL */ }
  }
  return "/search";
}

function showError(text) {
  errorBox.textContent = text;
  errorBox.hidden = false;
}

// Already signed in: straight on.
api("GET", "/api/v1/session").then(() => location.replace(nextPage()), () => {});

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  errorBox.hidden = true;
  submit.disabled = true;
  const username = document.getElementById("username").value.trim();
  const password = document.getElementById("password").value;
  try {
    await api("POST", "/api/v1/session", { username, password });
    location.assign(nextPage());
  } catch (e) {
    if (e.status === 401) {
      showError("Wrong user name or password.");
    } else if (e.status === 429) {
      const wait = e.retryAfter;
      showError(wait ? "Too many failed attempts. Try again in " + formatWait(wait) + "." : e.message);
    } else {
      showError(e.message);
    }
    submit.disabled = false;
    document.getElementById("password").select();
  }
});

function formatWait(seconds) {
  if (seconds < 90) return seconds + " seconds";
  return Math.ceil(seconds / 60) + " minutes";
}
