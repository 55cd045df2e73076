"""Drives NotiLog's alerts, rules and channels pages in headless Chromium against a running notilog-server whose
configuration has the rules `uialert-boom` (kind match, `"uialert-boom"` by host) and `uialert-brief` (the same,
resolving after 2 s), and two webhook channels: `hook-ok` (a receiver that answers 200; uialert-boom's channel)
and `hook-down` (a closed port, for a failing test). Sends lines over syslog that make the rules fire (one of them
hostile), then: the alert on /alerts with its samples as text, acknowledging it, silencing it from its dialog and
ending the silence, the resolved one; "Save as rule" from the search page, a bad key shown beside its line, the
24-hour test, save, edit, disable, enable, delete; the channels' test messages, their outcomes and delivery logs;
and what a viewer does not see. Screenshots alerts-*.png, rules-*.png, channels-*.png.

    .peers/python/bin/python Tests/peers/ui_alerts_check.py --url http://127.0.0.1:PORT --syslog-tcp PORT \
        --username admin --password PASSWORD --screenshots test-output/ui-screenshots
"""

import json
import sys
import time

sys.dont_write_bytecode = True

import ui_common  # noqa: E402 (after dont_write_bytecode)
from ui_common import Checks, rfc5424  # noqa: E402

HOSTILE = "uialert-boom disk on fire <script>alert(1)</script> <img src=x onerror=alert(2)>"
CANDIDATE = "uirule-candidate"  # the query of the rule made from the search page
VIEWER_PASSWORD = "viewer password 12345"


def send(port):
    lines = [
        rfc5424(2, "web-9", "uitest", HOSTILE),
        rfc5424(3, "web-9", "uitest", "uialert-boom again, the second line"),
        rfc5424(5, "web-4", "uitest", "uialert-brief a blip that resolves after 2 s"),
    ]
    for n in range(3):
        lines.append(rfc5424(4, "web-3", "uitest", "%s login failed for user %d" % (CANDIDATE, n)))
    ui_common.send_lines(port, lines)


def fits(page):
    """True when nothing makes the page wider than the window."""
    return page.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth + 1")


def api_call(page, method, path, body=None):
    """A call from the signed-in page (with the session's CSRF token): [status, JSON]."""
    return page.evaluate(
        """async ([method, path, body]) => {
            const s = await (await fetch('/api/v1/session')).json();
            const r = await fetch(path, {method, headers: {'Content-Type': 'application/json', 'X-CSRF-Token': s.csrf_token},
                                         body: body === null ? undefined : JSON.stringify(body)});
            let data = null; try { data = await r.json(); } catch (e) {}
            return [r.status, data];
        }""",
        [method, path, body],
    )


def main():
    args, sync_playwright = ui_common.setup()
    base = args.url.rstrip("/")
    send(args.syslog_tcp)
    c = Checks()

    with sync_playwright() as p:
        b = ui_common.Browser(p, args)
        try:
            return flow(b, c, base, args)
        except Exception:
            b.shot("alerts-99-failure")
            raise


def flow(b, c, base, args):
    page, shot = b.page, b.shot
    b.sign_in(then="/alerts")

    # The alert fires (the rule engine runs on committed records): reload until it shows.
    card = page.locator('.alert-card[data-rule="uialert-boom"]')
    deadline = time.time() + 90
    while card.count() == 0 and time.time() < deadline:
        page.wait_for_timeout(1000)
        if card.count() == 0:
            page.reload()
            page.wait_for_selector("#alert-list > *")
    c.check("the firing alert shows on /alerts", card.count() == 1, page.inner_text("#alert-list")[:300])
    if card.count() != 1:
        shot("alerts-00-missing")
        b.close()
        return c.finish(args.screenshots)
    card.locator(".sample").first.wait_for()
    samples = card.locator(".samples").inner_text()
    c.check("the samples show the hostile line as text", "<script>alert(1)</script>" in samples and "onerror=alert(2)" in samples, samples)
    c.check("no element was made from the samples", card.locator(".samples script, .samples img").count() == 0)
    c.check("the alert shows its group value", "host=web-9" in card.locator(".chips").inner_text(), card.locator(".chips").inner_text())
    c.check("the state badge says firing", card.locator(".alert-head .badge").first.inner_text().lower() == "firing")
    link = card.locator("a.search-link").get_attribute("href") or ""
    c.check("the search link is a search of the alert's lines", link.startswith("/search?") and "range=abs" in link and "uialert-boom" in link, link)
    c.check("the alerts page fits the window", fits(page))
    shot("alerts-01-firing")

    # Acknowledge.
    card.locator("button.ack").click()
    page.wait_for_function(
        """() => { const c = document.querySelector('.alert-card[data-rule="uialert-boom"]');
                   return c && c.textContent.includes('acknowledged') && !c.querySelector('button.ack'); }""")
    c.check("acknowledged by the admin", "admin" in card.locator(".facts").inner_text(), card.locator(".facts").inner_text())
    shot("alerts-02-acknowledged")

    # Silence from the alert: the dialog is filled with the rule and the group values.
    card.locator("button.silence").click()
    page.wait_for_selector("#silence-dialog[open]")
    matchers = page.inner_text("#silence-matchers")
    c.check("the silence dialog is filled with the rule and group", "rule = uialert-boom" in matchers and "host = web-9" in matchers, matchers)
    page.select_option("#silence-duration", "1h")
    page.fill("#silence-comment", "disk swap <b>tonight</b>")
    shot("alerts-03-silence-dialog")
    page.click("#silence-save")
    page.wait_for_selector("#silence-dialog", state="hidden")
    row = page.locator("#silence-rows tr", has_text="disk swap <b>tonight</b>")
    row.wait_for()
    text = row.inner_text()
    c.check("the silence is listed as active, with its matchers and creator", "active" in text.lower() and "rule = uialert-boom" in text and "admin" in text, text)
    c.check("the comment is text", row.locator("td.comment b").count() == 0)
    shot("alerts-04-silenced")

    # End it now: it leaves the active list; with ended ones shown it is there, expired.
    row.locator("button.expire").click()
    page.wait_for_function("() => !document.querySelector('#silence-rows button.expire')")
    c.check("the ended silence leaves the active list", page.locator("#silence-rows tr", has_text="disk swap").count() == 0)
    page.check("#show-expired")
    page.locator("#silence-rows tr.silence-expired", has_text="disk swap").wait_for()
    c.check("shown among the ended silences", page.locator("#silence-rows tr.silence-expired").count() >= 1)
    shot("alerts-05-silence-ended")

    # The tabs: the alert is in All, not in Pending; after an auto-refresh the page keeps the tab.
    page.click("#tab-all")
    page.locator('.alert-card[data-rule="uialert-boom"]').wait_for()
    # The rule that resolves after 2 s: its alert is among the resolved ones, with how long it lasted.
    page.click("#tab-resolved")
    brief = page.locator('.alert-card.state-resolved[data-rule="uialert-brief"]')
    deadline = time.time() + 60
    while brief.count() == 0 and time.time() < deadline:
        page.wait_for_timeout(1000)
        page.click("#refresh")
    c.check("a resolved alert shows on the Resolved tab", brief.count() == 1, page.inner_text("#alert-list")[:300])
    if brief.count() == 1:
        facts = brief.locator(".facts").text_content()
        c.check("the resolved alert says how long it lasted and when it resolved", "lasted" in facts and "resolved" in facts, facts)
        c.check("the firing alert is not on the Resolved tab", page.locator('.alert-card[data-rule="uialert-boom"]').count() == 0)
    shot("alerts-06-resolved")
    page.click("#tab-pending")
    page.wait_for_selector("#alert-list .empty")
    c.check("no pending alert", "No alert is pending" in page.inner_text("#alert-list"))
    page.click("#tab-firing")
    page.locator('.alert-card[data-rule="uialert-boom"]').wait_for()
    page.wait_for_timeout(11000)  # one auto-refresh
    c.check("an auto-refresh keeps the tab and the alert", "firing" in page.url and card.count() == 1, page.url)

    # The search link finds the lines.
    page.goto(base + link)
    page.wait_for_selector("#results .row")
    found = page.inner_text("#results")
    c.check("the alert's search link finds its lines", "uialert-boom" in found, found[:300])

    # Save as rule, from the search page.
    page.goto(base + "/search?q=" + CANDIDATE + "&range=1h")
    page.wait_for_selector("#results .row")
    c.check("Save as rule is offered to an admin", page.is_visible("#save-as-rule"))
    page.click("#save-as-rule")
    page.wait_for_url("**/rules?new=1*")
    page.wait_for_selector("#editor:not([hidden])")
    definition = page.input_value("#definition")
    c.check("the new rule has the search's query", CANDIDATE in definition, definition)
    shot("rules-01-new-from-search")

    # A bad key: the server's problem shows beside its line.
    bad = definition.replace("name: new-rule", "name: ui-made-rule").replace("group_by: [host]", "group_by: [host]\nresolve_after: soon")
    page.fill("#definition", bad)
    page.click("#save-rule")
    page.wait_for_selector("#problems:not([hidden])")
    problems = page.inner_text("#problems")
    c.check("the validation error names the key", "resolve_after" in problems, problems)
    bad_line = bad.split("\n").index("resolve_after: soon") + 1
    marked = page.locator("#gutter .ln.bad").all_inner_texts()
    c.check("the line of the problem is marked", str(bad_line) in marked, "%s vs %s (%s)" % (marked, bad_line, problems))
    shot("rules-02-validation-error")

    # Fixed: test it against the last 24 h (it finds the lines sent), then save.
    good = bad.replace("resolve_after: soon", "resolve_after: 10m")
    page.fill("#definition", good)
    page.click("#test-rule")
    page.wait_for_function("() => /would have fired/.test(document.getElementById('test-summary').textContent)")
    summary = page.inner_text("#test-summary")
    c.check("the test finds the lines sent and fires", "3 matching records" in summary and "fired 1 time" in summary, summary)
    c.check("the test lists the firing", page.locator("#test-rows tr.event-firing").count() >= 1, page.inner_text("#test-events"))
    c.check("the test draws a timeline", page.locator("#test-timeline svg rect").count() >= 1)
    c.check("the problems are gone", page.is_hidden("#problems"))
    shot("rules-03-test")
    page.click("#save-rule")
    page.wait_for_selector("#editor", state="hidden")
    rule_row = page.locator('#rule-rows tr[data-rule="ui-made-rule"]')
    rule_row.wait_for()
    row_text = rule_row.text_content()
    c.check("the saved rule is listed as an API rule, enabled", "API" in row_text and "enabled" in row_text, row_text)
    config_row = page.locator('#rule-rows tr[data-rule="uialert-boom"]')
    c.check("the configuration's rule is listed with its file", "file" in config_row.text_content() and ".yaml" in config_row.text_content(), config_row.text_content())
    c.check("the configuration's rule shows its firing alert", config_row.locator("td.num").inner_text().strip() == "1", config_row.inner_text())
    c.check("a file's rule offers no edit or delete", config_row.locator("button.edit, button.delete").count() == 0)
    c.check("the rules page fits the window", fits(page))
    shot("rules-04-saved")

    # Edit it: the stored definition comes back; the change is saved with PUT.
    rule_row.locator("button.edit").click()
    page.wait_for_function("() => document.getElementById('definition').value.includes('ui-made-rule')")
    lines = [line for line in page.input_value("#definition").split("\n") if not line.startswith("description:")]
    page.fill("#definition", "\n".join(lines + ['description: "made <i>in</i> the browser"']))
    page.click("#save-rule")
    page.wait_for_selector("#editor", state="hidden")
    page.locator('#rule-rows tr[data-rule="ui-made-rule"]', has_text="made <i>in</i> the browser").wait_for()
    c.check("the edited description shows as text", rule_row.locator("td.name i").count() == 0)

    # A file's rule is read-only in the editor.
    config_row.locator("button.view").click()
    page.wait_for_selector("#editor:not([hidden])")
    c.check("a file's rule opens read-only", page.locator("#definition").evaluate("t => t.readOnly") and page.is_hidden("#save-rule"))
    page.click("#cancel-edit")

    # Disable, enable, delete.
    rule_row.locator("button.disable").click()
    page.locator('#rule-rows tr[data-rule="ui-made-rule"] button.enable').wait_for()
    c.check("disabled", "disabled" in rule_row.text_content(), rule_row.text_content())
    shot("rules-05-disabled")
    rule_row.locator("button.enable").click()
    page.locator('#rule-rows tr[data-rule="ui-made-rule"] button.disable').wait_for()
    c.check("enabled again", "enabled" in rule_row.text_content(), rule_row.text_content())
    rule_row.locator("button.delete").click()
    c.check("delete asks once more", "?" in rule_row.locator("button.delete").inner_text())
    rule_row.locator("button.delete").click()
    page.wait_for_selector('#rule-rows tr[data-rule="ui-made-rule"]', state="detached")
    c.check("deleted", "Deleted ui-made-rule" in page.inner_text("#rules-notice"))

    # Dark theme, once.
    page.click("#theme-toggle")
    shot("rules-06-dark")
    page.click("#theme-toggle")

    # Channels: test messages and their outcomes; the delivery log.
    page.goto(base + "/channels")
    page.locator('#channel-rows tr[data-channel="hook-ok"]').wait_for()
    listed = page.text_content("#channels")
    c.check("both channels are listed with their kind and rule", "hook-down" in listed and "webhook" in listed and "uialert-boom" in listed, listed)
    page.wait_for_selector("#delivery-rows tr")
    c.check("an empty delivery log says so", "Nothing sent to hook-down yet" in page.inner_text("#deliveries"), page.inner_text("#deliveries"))
    c.check("no channel secret or address is shown", "127.0.0.1" not in page.inner_text("main"))
    ok_row = page.locator('#channel-rows tr[data-channel="hook-ok"]')
    ok_row.locator("button.send-test").click()
    page.wait_for_function(
        """() => { const b = document.querySelector('#channel-rows tr[data-channel="hook-ok"] td.outcome .badge');
                   return b && b.textContent !== 'queued'; }""", timeout=90000)
    c.check("the working channel's test is delivered", "delivered" in ok_row.locator("td.outcome").text_content(), ok_row.text_content())
    down_row = page.locator('#channel-rows tr[data-channel="hook-down"]')
    down_row.locator("button.send-test").click()
    page.wait_for_function(
        """() => { const b = document.querySelector('#channel-rows tr[data-channel="hook-down"] td.outcome .badge');
                   return b && b.textContent !== 'queued'; }""", timeout=90000)
    outcome = down_row.locator("td.outcome").text_content()
    error = down_row.locator("td.outcome .detail-text").text_content()
    c.check("the closed port's test fails, with the error", "fail" in outcome and len(error) > 5, outcome)
    shot("channels-01-tests")
    page.select_option("#log-channel", "hook-down")
    page.wait_for_selector("#delivery-rows tr[data-notification]")
    log = page.text_content("#deliveries")
    c.check("the failing channel's log shows the failed attempt and its error", "test message" in log and ("retry" in log or "failed" in log), log[:500])
    c.check("the channels page fits the window", fits(page))
    shot("channels-02-log-failing")
    page.select_option("#log-channel", "hook-ok")
    page.wait_for_function("() => [...document.querySelectorAll('#delivery-rows .badge')].some(b => b.textContent === 'delivered')")
    log = page.text_content("#deliveries")
    c.check("the working channel's log shows the alert's and the test's deliveries", "HTTP 200" in log and "uialert-boom" in log and "test message" in log, log[:400])
    shot("channels-03-log-delivered")

    # A viewer: reads everything, changes nothing (the buttons are not there).
    status, answer = api_call(page, "POST", "/api/v1/users", {"username": "vic", "password": VIEWER_PASSWORD, "role": "viewer"})
    c.check("a viewer is created", status == 201, "%s %s" % (status, json.dumps(answer)[:200]))
    context = b.browser.new_context(viewport={"width": 1280, "height": 800})
    viewer = b.new_page(context)
    b.sign_in("vic", VIEWER_PASSWORD, page=viewer, then="/search?q=" + CANDIDATE + "&range=1h")
    viewer.wait_for_selector("#results .row")
    c.check("no Save as rule for a viewer", viewer.is_hidden("#save-as-rule"))
    viewer.goto(base + "/alerts")
    viewer.locator('.alert-card[data-rule="uialert-boom"]').wait_for()
    c.check("a viewer sees the alert without ack or silence", viewer.locator(".alert-card button").count() == 0)
    viewer.goto(base + "/rules")
    viewer.locator('#rule-rows tr[data-rule="uialert-boom"]').wait_for()
    c.check("a viewer cannot create or change rules",
            viewer.is_hidden("#new-rule") and viewer.locator("#rule-rows button.disable, #rule-rows button.edit").count() == 0)
    viewer.goto(base + "/rules?new=1&q=x")
    viewer.wait_for_selector("#rules-error:not([hidden])")
    c.check("a viewer asking for a new rule is told the role it needs", "editor" in viewer.inner_text("#rules-error"))
    viewer.goto(base + "/channels")
    viewer.locator('#channel-rows tr[data-channel="hook-ok"]').wait_for()
    c.check("a viewer cannot send test messages", viewer.locator("button.send-test").count() == 0)
    shot("channels-04-viewer", viewer)

    b.check_clean(c)
    b.close()
    return c.finish(args.screenshots)


if __name__ == "__main__":
    sys.exit(main())
