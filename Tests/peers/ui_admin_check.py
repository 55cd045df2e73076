"""Drives NotiLog's hosts, users and settings pages in headless Chromium against a running notilog-server:
sends lines and agent watch reports ([watch@32473 ...]) over syslog, including a hostile host name; checks the
hosts page (traffic lights, rates, watched processes and units with their states, filter, sort, the link to a
host's search); creates an editor and a viewer, creates and revokes an API token (the secret shown once),
sees the server refuse to take the last admin's rights; changes retention, reloads, sees a validation error;
then signs in as the viewer in a fresh browser context: the admin pages say they need the admin role and show
no controls, the navigation does not list them, and every state-changing call made from the page with the
viewer's session and CSRF token is refused (403). Screenshots: hosts-*, users-*, settings-*, viewer-*.

    .peers/python/bin/python Tests/peers/ui_admin_check.py --url http://127.0.0.1:PORT --syslog-tcp PORT \
        --username admin --password PASSWORD --screenshots test-output/ui-screenshots
"""

import sys

sys.dont_write_bytecode = True

import ui_common  # noqa: E402 (after dont_write_bytecode)
from ui_common import Checks, rfc5424  # noqa: E402

HOSTILE_HOST = 'x"><svg/onload=alert(4)>'
EDITOR = ("uiadmin-editor", "editor password 123")
VIEWER = ("uiadmin-viewer", "viewer password 123")


def watch(host, kind, name, state, extra=""):
    sd = '[watch@32473 kind="%s" name="%s" state="%s"%s]' % (kind, name, state, extra)
    return rfc5424(6 if state == "running" else 3, host, "notilog-agent", "%s %s is %s" % (kind, name, state), sd=sd, facility=3).replace(
        " notilog-agent - - ", " notilog-agent - WATCH ", 1)


def send_lines(port):
    messages = []
    for n in range(40):
        messages.append(rfc5424(6, "uiadmin-web-1", "nginx", "request %d served" % n))
    for n in range(5):
        messages.append(rfc5424(6, "uiadmin-db-1", "postgres", "checkpoint %d" % n))
    messages.append(rfc5424(3, HOSTILE_HOST, "uitest", "a line from a hostile host name"))
    messages.append("uiadmin-broken no header at all")
    messages += [
        watch("uiadmin-web-1", "process", "nginx", "running"),
        watch("uiadmin-web-1", "process", "nginx", "crashed", ' signal="KILL"'),
        watch("uiadmin-web-1", "process", "nginx", "restarting", ' restarts="1"'),
        watch("uiadmin-web-1", "process", "nginx", "running", ' restarts="1" pid="4242"'),
        watch("uiadmin-web-1", "unit", "backup.service", "crashed", ' exit_code="3"'),
        watch("uiadmin-db-1", "unit", "postgresql.service", "running"),
        watch("uiadmin-db-1", "process", "pgbouncer", "stopped"),
        watch(HOSTILE_HOST, "process", "<img src=x onerror=alert(5)>", "running"),
    ]
    ui_common.send_lines(port, messages)


def no_injected_elements(page):
    """True when nothing from the hostile names became an element."""
    return page.evaluate("() => document.querySelectorAll('svg[onload], img[onerror], img[src=x]').length === 0")


def check_hosts(c, b):
    page, base = b.page, b.base
    page.goto(base + "/hosts")
    page.wait_for_selector("tr[data-host='uiadmin-web-1']")
    page.wait_for_selector("tr[data-host='uiadmin-web-1'] li.watch", state="attached")
    b.shot("hosts-01-list")
    row = page.locator("tr[data-host='uiadmin-web-1']")
    c.check("hosts: a host heard from just now has a green light", row.locator(".dot.ok").count() == 1)
    legend = page.inner_text("#legend")
    c.check("hosts: the page says the thresholds", "5 min" in legend and "1 h" in legend, legend)
    rate = row.locator("td").nth(2).inner_text()
    c.check("hosts: a rate per minute is shown", rate not in ("", "–") and float(rate.replace(",", "")) > 0, rate)
    total = row.locator("td").nth(4).inner_text()
    c.check("hosts: the total counts every line (40 + 5 watch reports)", total.replace(",", "") == "45", total)
    nginx = row.locator("li.watch", has_text="nginx")
    c.check("hosts: nginx is running again, after its restart", nginx.get_attribute("data-state") == "running", nginx.inner_text())
    c.check("hosts: the restart count is shown", "1 restart" in nginx.inner_text(), nginx.inner_text())
    backup = row.locator("li.watch", has_text="backup.service")
    c.check("hosts: the crashed unit with its exit code", backup.get_attribute("data-state") == "crashed" and "exit code 3" in backup.inner_text(),
            backup.inner_text())
    db = page.locator("tr[data-host='uiadmin-db-1']")
    c.check("hosts: a stopped process", db.locator("li.watch[data-state='stopped']").count() == 1)
    c.check("hosts: a running unit", db.locator("li.watch[data-state='running']", has_text="postgresql.service").count() == 1)

    hostile = page.locator("tr[data-host='%s']" % HOSTILE_HOST.replace("'", "\\'"))
    c.check("hosts: the hostile host name is listed as text", hostile.count() == 1 and HOSTILE_HOST in hostile.inner_text())
    c.check("hosts: the hostile watch name is text", "<img src=x onerror=alert(5)>" in hostile.inner_text())
    c.check("hosts: no element was made from a host or watch name", no_injected_elements(page))

    # Filter: by host name, then by a watched unit.
    page.fill("#filter", "db-1")
    page.wait_for_function("() => document.querySelectorAll('#hosts tr').length === 1")
    c.check("hosts: the filter keeps matching hosts", page.locator("#hosts tr[data-host='uiadmin-db-1']").count() == 1)
    page.fill("#filter", "backup.service")
    page.wait_for_function("() => document.querySelectorAll('#hosts tr').length === 1")
    c.check("hosts: the filter finds a host by its unit", page.locator("#hosts tr[data-host='uiadmin-web-1']").count() == 1)
    b.shot("hosts-02-filtered")
    page.fill("#filter", "no-such-host-at-all")
    page.wait_for_selector("#empty:not([hidden])")
    c.check("hosts: an empty filter result says so", "No host matches" in page.inner_text("#empty"))
    page.fill("#filter", "")

    # Sort by rate: the busiest host first; by watch state: a host with a crash first.
    page.select_option("#sort", "rate")
    first = page.locator("#hosts tr").first.get_attribute("data-host")
    c.check("hosts: sorted by messages per minute, the busiest first", first == "uiadmin-web-1", first)
    page.select_option("#sort", "watch")
    first = page.locator("#hosts tr").first.get_attribute("data-host")
    c.check("hosts: sorted by watch state, a crash first", first == "uiadmin-web-1", first)
    page.emulate_media(color_scheme="dark")
    b.shot("hosts-03-dark")
    page.emulate_media(color_scheme="light")
    overflow = page.evaluate("() => document.documentElement.scrollWidth > window.innerWidth")
    c.check("hosts: nothing overflows the window at 1280x800", not overflow)

    # The lights' other colours: the hosts answer as the server gave it, with db-1 last heard from 20 minutes
    # ago and the hostile host 3 hours ago (the server stamps reception with its own clock, so a test cannot
    # send an old line).
    def aged(route):
        import datetime
        import json
        answer = route.fetch()
        data = answer.json()
        now = datetime.datetime.now(datetime.timezone.utc)
        for h in data["hosts"]:
            if h["hostname"] == "uiadmin-db-1":
                h["last_seen"] = (now - datetime.timedelta(minutes=20)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
            elif h["hostname"] == HOSTILE_HOST:
                h["last_seen"] = (now - datetime.timedelta(hours=3)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        route.fulfill(response=answer, body=json.dumps(data))
    page.route("**/api/v1/hosts", aged)
    page.select_option("#sort", "name")
    page.click("#refresh")
    page.wait_for_selector("tr[data-host='uiadmin-db-1'] .dot.warn")
    c.check("hosts: heard from 20 minutes ago is amber", page.locator("tr[data-host='uiadmin-db-1'] .dot.warn").count() == 1)
    c.check("hosts: heard from 3 hours ago is red", hostile.locator(".dot.bad").count() == 1)
    c.check("hosts: just now is still green", page.locator("tr[data-host='uiadmin-web-1'] .dot.ok").count() == 1)
    c.check("hosts: the age is written out", "20 min ago" in page.locator("tr[data-host='uiadmin-db-1']").inner_text())
    page.select_option("#sort", "last_seen")
    last = page.locator("#hosts tr").last.get_attribute("data-host")
    c.check("hosts: sorted by last seen, the longest silent last", last == HOSTILE_HOST, last)
    b.shot("hosts-04-lights")
    page.unroute("**/api/v1/hosts")

    # A host opens its search.
    page.click("tr[data-host='uiadmin-db-1'] a.host-link")
    page.wait_for_url("**/search?q=*")
    c.check("hosts: a host's name opens its search", "host%3Auiadmin-db-1" in page.url or "host:uiadmin-db-1" in page.url, page.url)
    page.wait_for_selector(".row")
    c.check("hosts: the search shows that host's lines", "checkpoint" in page.inner_text("#results"))


def check_users(c, b):
    page, base = b.page, b.base
    page.goto(base + "/users")
    page.wait_for_selector("tr[data-user='admin']")
    b.shot("users-01-list")

    for (name, password), role in ((EDITOR, "editor"), (VIEWER, "viewer")):
        page.fill("#new-name", name)
        page.select_option("#new-role", role)
        page.fill("#new-password", password)
        page.click("#add-user")
        page.wait_for_selector("tr[data-user='%s']" % name)
        secret = page.inner_text("#secret-value")
        c.check("users: the %s's password is shown once" % role, secret == password, secret)
        row = page.locator("tr[data-user='%s']" % name)
        c.check("users: %s is listed with the role %s" % (name, role), row.locator("select.role-select").input_value() == role)
    b.shot("users-02-added")
    page.click("#secret-close")
    c.check("users: the secret goes away when done", page.locator("#secret").is_hidden())

    # A generated password (the box left empty): shown once, 20 characters.
    page.fill("#new-name", "uiadmin-temp")
    page.click("#add-user")
    page.wait_for_selector("tr[data-user='uiadmin-temp']")
    generated = page.inner_text("#secret-value")
    c.check("users: an empty password box generates one, shown once", len(generated) == 20, generated)
    # Disable, enable, then delete it.
    temp = page.locator("tr[data-user='uiadmin-temp']")
    temp.get_by_role("button", name="Disable").click()
    page.wait_for_selector("tr[data-user='uiadmin-temp'] .badge.muted")
    c.check("users: disabling shows the user disabled", "disabled" in page.locator("tr[data-user='uiadmin-temp']").inner_text().lower())
    page.locator("tr[data-user='uiadmin-temp']").get_by_role("button", name="Enable").click()
    page.wait_for_selector("tr[data-user='uiadmin-temp'] .badge.ok")
    page.locator("tr[data-user='uiadmin-temp']").get_by_role("button", name="Delete").click()
    page.wait_for_selector("#confirm[open]")
    b.shot("users-03-confirm-delete")
    page.click("#confirm-ok")
    page.wait_for_selector("tr[data-user='uiadmin-temp']", state="detached")
    c.check("users: a deleted user is gone", page.locator("tr[data-user='uiadmin-temp']").count() == 0)

    # The last admin keeps admin: the server's refusal is shown, the role stays.
    page.locator("tr[data-user='admin'] select.role-select").select_option("viewer")
    page.wait_for_selector("#error:not([hidden])")
    message = page.inner_text("#error")
    c.check("users: the server's last-admin refusal is shown", "last enabled admin" in message, message)
    c.check("users: the select goes back to admin", page.locator("tr[data-user='admin'] select.role-select").input_value() == "admin")
    b.shot("users-04-last-admin")

    # The admin's own sessions, each with its address and browser; this one marked.
    page.locator("tr[data-user='admin'] .link-button").click()
    page.wait_for_selector("#confirm[open] .session-list li[data-session]")
    sessions = page.inner_text(".session-list")
    c.check("users: a user's sessions are listed with address and browser", "127.0.0.1" in sessions and "Chrome" in sessions, sessions)
    c.check("users: the current session is marked", page.locator(".session-list .badge", has_text="this one").count() == 1)
    b.shot("users-08-sessions")
    page.click("#confirm-cancel")

    # Reset a password (typed).
    page.locator("tr[data-user='%s']" % EDITOR[0]).get_by_role("button", name="Reset password").click()
    page.wait_for_selector("#confirm[open]")
    page.fill("#reset-password", "a brand new editor password")
    page.click("#confirm-ok")
    page.wait_for_selector("#confirm:not([open])", state="attached")
    c.check("users: a reset password is shown once", page.inner_text("#secret-value") == "a brand new editor password")
    page.click("#secret-close")

    # Tokens: create (secret shown once, with a copy button), then revoke.
    page.fill("#token-name", "uiadmin-prometheus")
    page.select_option("#token-scope", "read")
    page.click("#add-token")
    page.wait_for_selector("#secret:not([hidden])")
    token = page.inner_text("#secret-value")
    c.check("tokens: the new token's secret is shown", len(token) >= 40, token)
    c.check("tokens: with a copy button", page.locator("#secret-copy").is_visible())
    row = page.locator("#tokens tr", has_text="uiadmin-prometheus")
    c.check("tokens: the token is listed as active", row.count() == 1 and "active" in row.inner_text().lower())
    c.check("tokens: the list never shows the secret", token not in page.inner_text("#tokens"))
    b.shot("users-05-token-created")
    page.click("#secret-close")
    page.goto(base + "/users")
    page.wait_for_selector("#tokens tr")
    c.check("tokens: after a reload the secret is not shown again", token not in page.inner_text("body"))
    page.locator("#tokens tr", has_text="uiadmin-prometheus").get_by_role("button", name="Revoke").click()
    page.wait_for_selector("#confirm[open]")
    page.click("#confirm-ok")
    page.wait_for_function("() => [...document.querySelectorAll('#tokens tr')].some(r => r.textContent.includes('uiadmin-prometheus') && r.textContent.toLowerCase().includes('revoked'))")
    c.check("tokens: a revoked token says so and has no revoke button",
            page.locator("#tokens tr", has_text="uiadmin-prometheus").get_by_role("button", name="Revoke").count() == 0)
    b.shot("users-06-token-revoked")
    page.emulate_media(color_scheme="dark")
    b.shot("users-07-dark")
    page.emulate_media(color_scheme="light")
    c.check("users: nothing overflows the window", not page.evaluate("() => document.documentElement.scrollWidth > window.innerWidth"))


def check_settings(c, b):
    page, base = b.page, b.base
    page.goto(base + "/settings")
    page.wait_for_selector("#retention-facts dd")
    page.wait_for_selector("#server-facts dd")
    c.check("settings: retention comes from the configuration file", page.get_attribute("#retention-facts", "data-source") == "config")
    facts = page.inner_text("#server-facts")
    c.check("settings: version, data directory and listeners are shown", "Version" in facts and "Data directory" in facts and "127.0.0.1:" in facts, facts)
    c.check("settings: the syslog listeners are listed", page.locator("#listeners tr").count() >= 1)
    b.shot("settings-01-initial")

    page.fill("#max-age", "soon")
    page.click("#save-retention")
    page.wait_for_selector("#retention-error:not([hidden])")
    error = page.inner_text("#retention-error")
    c.check("settings: the server's validation error is shown on the form", "max_age" in error and "duration" in error, error)
    b.shot("settings-02-invalid")
    page.fill("#max-size", "12")
    page.fill("#max-age", "14d")
    page.click("#save-retention")
    page.wait_for_selector("#retention-error:not([hidden])")
    c.check("settings: a size under 1MB is refused", "at least 1MB" in page.inner_text("#retention-error"), page.inner_text("#retention-error"))

    page.fill("#max-age", "14d")
    page.fill("#max-size", "5GB")
    page.click("#save-retention")
    page.wait_for_selector("#retention-saved:not([hidden])")
    c.check("settings: saved, now set in the UI", page.get_attribute("#retention-facts", "data-source") == "ui")
    page.reload()
    page.wait_for_selector("#retention-facts dd")
    c.check("settings: the new value is kept after a reload",
            page.input_value("#max-age") == "2w" or page.input_value("#max-age") == "14d", page.input_value("#max-age"))
    c.check("settings: the size is kept after a reload", page.input_value("#max-size") == "5GB", page.input_value("#max-size"))
    c.check("settings: it says where the value comes from", "set in the ui" in page.inner_text("#retention-facts").lower())
    b.shot("settings-03-saved")
    page.click("#reset-retention")
    page.wait_for_function("() => document.getElementById('retention-facts').getAttribute('data-source') === 'config'")
    c.check("settings: back to the configuration file's value", page.input_value("#max-age") == "30d", page.input_value("#max-age"))
    # Set again, so the viewer's refused attempt below is checked against a known value.
    page.fill("#max-age", "7d")
    page.fill("#max-size", "off")
    page.click("#save-retention")
    page.wait_for_function("() => document.getElementById('retention-facts').getAttribute('data-source') === 'ui'")
    page.emulate_media(color_scheme="dark")
    b.shot("settings-04-dark")
    page.emulate_media(color_scheme="light")
    c.check("settings: nothing overflows the window", not page.evaluate("() => document.documentElement.scrollWidth > window.innerWidth"))


VIEWER_CALLS = """async () => {
  const session = await (await fetch('/api/v1/session', {credentials: 'same-origin'})).json();
  const headers = {'Content-Type': 'application/json', 'X-CSRF-Token': session.csrf_token};
  const calls = [
    ['POST', '/api/v1/users', {username: 'mallory', password: 'mallory password 1', role: 'admin'}],
    ['PATCH', '/api/v1/users/uiadmin-viewer', {role: 'admin'}],
    ['DELETE', '/api/v1/users/admin'],
    ['POST', '/api/v1/tokens', {name: 'stolen', scope: 'admin'}],
    ['DELETE', '/api/v1/tokens/1'],
    ['POST', '/api/v1/rules', {name: 'x', query: 'host:x', type: 'match'}],
    ['POST', '/api/v1/silences', {matchers: {rule: 'x'}, duration: '1h', comment: 'x'}],
    ['PUT', '/api/v1/settings/retention', {max_age: '1m', max_size: 'off'}],
    ['DELETE', '/api/v1/settings/retention'],
  ];
  const out = [];
  for (const [method, path, body] of calls) {
    const r = await fetch(path, {method, headers, credentials: 'same-origin', body: body === undefined ? undefined : JSON.stringify(body)});
    out.push([method + ' ' + path, r.status]);
  }
  return {role: session.user.role, csrf: !!session.csrf_token, out};
}"""


def check_viewer(c, b, playwright_args):
    base = b.base
    context = b.browser.new_context(viewport={"width": 1280, "height": 800}, timezone_id="Europe/Berlin", locale="en-GB")
    page = b.new_page(context)
    b.sign_in(VIEWER[0], VIEWER[1], page=page, then="/hosts")
    page.wait_for_selector("tr[data-host='uiadmin-web-1']")
    nav = page.inner_text("#nav")
    c.check("viewer: the navigation does not list Users or Settings", "Users" not in nav and "Settings" not in nav and "Hosts" in nav, nav)
    b.shot("viewer-01-hosts", page)
    for name in ("users", "settings"):
        page.goto(base + "/" + name)
        page.wait_for_selector(".forbidden")
        notice = page.inner_text("main")
        c.check("viewer: /%s says it needs the admin role" % name, "needs the admin role" in notice, notice)
        controls = page.evaluate("() => document.querySelectorAll('main input, main select, main button, main form, main table').length")
        c.check("viewer: /%s shows no controls" % name, controls == 0, controls)
        b.shot("viewer-02-%s" % name, page)
    result = page.evaluate(VIEWER_CALLS)
    c.check("viewer: signed in as a viewer with a CSRF token", result["role"] == "viewer" and result["csrf"], result)
    for call, status in result["out"]:
        c.check("viewer: %s from the page is refused (403)" % call, status == 403, status)
    context.close()
    # Nothing the viewer tried took effect.
    page = b.page
    page.goto(base + "/settings")
    page.wait_for_selector("#retention-facts dd")
    c.check("viewer's attempt changed nothing: retention still 7d", page.input_value("#max-age") == "1w" or page.input_value("#max-age") == "7d",
            page.input_value("#max-age"))
    page.goto(base + "/users")
    page.wait_for_selector("tr[data-user='admin']")
    c.check("viewer's attempt changed nothing: no user mallory", page.locator("tr[data-user='mallory']").count() == 0)
    c.check("viewer's attempt changed nothing: the viewer is still a viewer",
            page.locator("tr[data-user='uiadmin-viewer'] select.role-select").input_value() == "viewer")


def main():
    args, sync_playwright = ui_common.setup()
    send_lines(args.syslog_tcp)
    c = Checks()
    with sync_playwright() as p:
        b = ui_common.Browser(p, args)
        b.sign_in(then="/hosts")
        check_hosts(c, b)
        check_users(c, b)
        check_settings(c, b)
        check_viewer(c, b, args)
        b.check_clean(c)
        b.close()
    return c.finish(args.screenshots)


if __name__ == "__main__":
    sys.exit(main())
