"""Drives NotiLog's web UI in headless Chromium (Debian's chromium, Playwright from PyPI) against a running
notilog-server: sends log lines over syslog (TCP, octet-counted) including hostile ones, signs in, searches,
expands records, follows links, and checks that nothing from a log line ever executes and the layout holds.
Screenshots go to --screenshots. Prints one line per check; exits 0 when every check passed, 1 otherwise, 2
when Playwright or the browser is missing (the Swift test skips then).

Run with the virtualenv scripts/setup makes (.peers/python):

    .peers/python/bin/python Tests/peers/ui_browser_check.py --url http://127.0.0.1:PORT --syslog-tcp PORT \
        --username admin --password PASSWORD --screenshots test-output/ui-screenshots
"""

import sys
import time

sys.dont_write_bytecode = True

import ui_common  # noqa: E402 (after dont_write_bytecode)
from ui_common import Checks, rfc5424  # noqa: E402

HOSTILE = [
    "uitest-hostile <script>alert(1)</script>",
    'uitest-hostile "><img src=x onerror=alert(1)>',
    "uitest-hostile <a href=\"javascript:alert(1)\">click</a> javascript:alert(1)",
    "uitest-hostile bidi \u202eevil\u202c and control \x07\x1b[31m red",
]
HOSTILE_HOST = 'x"><svg/onload=alert(2)>'
HOSTILE_SD = '[ex@32473 k="<script>alert(3)</script>" j="\\"><img src=x onerror=alert(3)>"]'
LONG_MESSAGE = "uitest-long " + ("0123456789abcdef" * 4088)  # 65,420 bytes: a 64 KiB line in a 65,536-byte frame
BULK = 230  # more than two pages of 100: infinite scroll must fetch the rest


def send_lines(port):
    messages = []
    for k, text in enumerate(HOSTILE):
        messages.append(rfc5424(k % 8, "web-1", "uitest", text))
    messages.append(rfc5424(3, HOSTILE_HOST, "uitest", "uitest-hostile hostname"))
    messages.append(rfc5424(4, "web-1", "uitest", "uitest-hostile structured data", sd=HOSTILE_SD))
    messages.append(rfc5424(6, "web-1", "uitest", LONG_MESSAGE))
    messages.append("<13>Dec  5 10:00:00 web-2 uitest[12]: uitest-bsd a plain RFC 3164 line")
    messages.append("uitest-broken no header at all")
    # Not UTF-8: the record keeps the raw frame, which the page shows decoded (U+FFFD for the bad byte).
    messages.append(rfc5424(5, "web-1", "uitest", "uitest-latin1 caf").encode() + b"\xe9 <b>bold</b>")
    for n in range(BULK):
        messages.append(rfc5424(n % 8, "bulk-%d" % (n % 3), "bulk", "bulkline %d" % n))
    ui_common.send_lines(port, messages)


def main():
    args, sync_playwright = ui_common.setup()
    base = args.url.rstrip("/")
    send_lines(args.syslog_tcp)
    c = Checks()

    with sync_playwright() as p:
        b = ui_common.Browser(p, args)
        page, shot = b.page, b.shot

        # Not signed in: the search page sends the browser to the sign-in page.
        page.goto(base + "/search?q=uitest&range=1h")
        page.wait_for_url("**/login?next=*")
        c.check("signed out, /search goes to /login", "/login" in page.url, page.url)
        shot("01-login")

        # The sign-in limit (5 failures per account): the page says how long to wait (Retry-After).
        page.fill("#username", "nobody")
        for _ in range(6):
            page.fill("#password", "not the password")
            page.click("#sign-in")
            page.wait_for_selector("#login-error:not([hidden])")
            page.wait_for_function("() => !document.getElementById('sign-in').disabled")
        limited = page.inner_text("#login-error")
        c.check("the sign-in limit is shown with its wait", "Too many failed attempts. Try again in" in limited, limited)
        shot("02-login-limited")

        page.fill("#username", args.username)
        page.fill("#password", "not the password")
        page.click("#sign-in")
        page.wait_for_selector("#login-error:not([hidden])")
        c.check("a wrong password is refused on the page", "Wrong user name or password" in page.inner_text("#login-error"))
        shot("02-login-wrong-password")

        page.fill("#password", args.password)
        page.click("#sign-in")
        page.wait_for_url("**/search?*")
        c.check("signing in goes back to the search asked for", "q=uitest" in page.url, page.url)

        # The records arrive (the server may still be committing them): search again until all are there.
        expected = len(HOSTILE) + 6
        deadline = time.time() + 60
        while True:
            page.wait_for_selector("#status:not(:empty)")
            page.wait_for_function("() => !document.getElementById('status').textContent.includes('Searching')")
            count = page.locator("#results .row").count()
            if count >= expected or time.time() > deadline:
                break
            time.sleep(0.3)
            page.click("#go")
        c.check("the search finds the lines sent (%d)" % expected, count >= expected, "found %d" % count)
        shot("03-search")

        # Hostile text is shown as text; nothing executed, nothing injected.
        texts = page.locator("#results .row .msg").all_text_contents()
        c.check("<script> shown as text", any("<script>alert(1)</script>" in t for t in texts))
        c.check("attribute breaker shown as text", any('"><img src=x onerror=alert(1)>' in t for t in texts))
        hosts = page.locator("#results .row .host").all_text_contents()
        c.check("a hostile host name shown as text", HOSTILE_HOST in hosts, hosts[:10])
        injected = page.evaluate(
            "() => document.querySelectorAll('#results img, #results script, #results svg, #results a[href^=\"javascript\"], #results [onerror], #results [onload]').length")
        c.check("no element made from log text", injected == 0, injected)

        # Expand the structured-data record and the 64 KiB one.
        row = page.locator("#results .row", has_text="uitest-hostile structured data").first
        row.click()
        detail = page.locator("#results .detail").first
        detail.wait_for()
        sd_text = detail.inner_text()
        c.check("expanded record shows its structured data as text", "<script>alert(3)</script>" in sd_text, sd_text[:300])
        c.check("expanded record offers surrounding lines", detail.locator("a.surrounding").count() == 1)
        shot("04-expanded")

        long_row = page.locator("#results .row", has_text="uitest-long").first
        long_row.click()
        page.wait_for_selector("#results .detail pre.message >> text=/uitest-long/")
        full = page.evaluate(
            "() => [...document.querySelectorAll('#results .detail pre.message')].map(e => e.textContent).find(t => t.startsWith('uitest-long')) || ''")
        c.check("the 64 KiB line is shown whole in the detail", full == LONG_MESSAGE, "length %d" % len(full))
        overflow = page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth")
        c.check("the layout holds (no horizontal overflow)", overflow <= 0, "%d px too wide" % overflow)
        shot("05-long-line")

        broken = page.locator("#results .row", has_text="uitest-broken").first
        broken.click()
        problems = page.locator("#results .detail .problems")
        c.check("a broken line shows its parse problems", problems.count() >= 1)

        latin1 = page.locator("#results .row", has_text="uitest-latin1").first
        latin1.click()
        raw = page.evaluate(
            "() => [...document.querySelectorAll('#results .detail pre.raw')].map(e => e.textContent).find(t => t.includes('uitest-latin1')) || ''")
        c.check("a line that is not UTF-8 shows its raw frame as text", "caf\ufffd <b>bold</b>" in raw, raw[:200])
        c.check("no <b> element from the raw frame", page.evaluate("() => document.querySelectorAll('#results b').length") == 0)

        # Surrounding lines: a search for that host around that time; then back.
        before = page.url
        page.locator("#results .detail a.surrounding").first.click()
        page.wait_for_url("**/search?q=host*")
        page.wait_for_function("() => !document.getElementById('status').textContent.includes('Searching')")
        c.check("surrounding lines search by host and absolute range", "from=" in page.url and "to=" in page.url, page.url)
        c.check("surrounding lines found", page.locator("#results .row").count() >= 1)
        shot("06-surrounding")
        page.go_back()
        page.wait_for_url(before)
        page.wait_for_function("() => document.getElementById('q').value === 'uitest'")
        c.check("the back button restores the search", page.input_value("#q") == "uitest", page.url)

        # A query that cannot be read: the server's message beside the box, pointing at the column.
        page.fill("#q", "uitest (host:web-1")
        page.press("#q", "Enter")
        page.wait_for_selector("#query-error:not([hidden])")
        message = page.inner_text("#query-error")
        c.check("a bad query shows the server's error with its column", "column" in message, message)
        shot("07-query-error")

        # "/" focuses the query box.
        page.evaluate("() => document.activeElement && document.activeElement.blur()")
        page.keyboard.press("/")
        c.check("/ focuses the query box", page.evaluate("() => document.activeElement && document.activeElement.id") == "q")

        # Infinite scroll: more than two pages of lines.
        page.fill("#q", "app:bulk")
        page.press("#q", "Enter")
        page.wait_for_function("() => document.querySelectorAll('#results .row').length >= 100")
        # Scroll to the end until every page is there (a deadline, not a figure: a loaded machine is slow).
        deadline = time.time() + 60
        while page.locator("#results .row").count() < BULK and time.time() < deadline:
            page.mouse.wheel(0, 20000)
            page.wait_for_timeout(200)
        n = page.locator("#results .row").count()
        c.check("infinite scroll loads every page (%d)" % BULK, n == BULK, n)
        c.check("the end of the results is said", page.is_visible("#end-line"))
        c.check("a volume histogram is drawn", page.locator("#histogram-chart svg rect.bar").count() > 0)
        page.evaluate("() => window.scrollTo(0, 0)")

        # Dragging across the histogram zooms into that stretch (an absolute range in the URL).
        box = page.locator("#histogram-chart svg").bounding_box()
        middle = box["y"] + box["height"] / 2
        page.mouse.move(box["x"] + box["width"] * 0.5, middle)
        page.mouse.down()
        page.mouse.move(box["x"] + box["width"] * 0.8, middle, steps=4)
        page.mouse.move(box["x"] + box["width"] + 20, middle, steps=4)
        page.mouse.up()
        page.wait_for_url("**from=*")
        page.wait_for_function("() => !document.getElementById('status').textContent.includes('Searching')")
        page.wait_for_selector("#results .row")
        c.check("dragging across the histogram zooms in", page.input_value("#range") == "abs" and "app%3Abulk" in page.url, page.url)
        shot("08-histogram-zoom")

        # Dark theme, kept across a reload.
        page.click("#theme-toggle")
        theme = page.evaluate("() => document.documentElement.getAttribute('data-theme')")
        page.reload()
        page.wait_for_selector("#results .row")
        c.check("the theme toggle is kept", page.evaluate("() => document.documentElement.getAttribute('data-theme')") == theme)
        shot("09-theme-" + str(theme))

        # The sign-in page's `next` never leaves the site (signed in, it goes straight on).
        for hostile_next in ["//example.com/x", "/%09/example.com", "/%5Cexample.com", "javascript:alert(1)"]:
            page.goto(base + "/login?next=" + hostile_next)
            page.wait_for_url("**/search*")
            c.check("next=%s stays on the site" % hostile_next, page.url.startswith(base + "/search"), page.url)

        # Sign out: back to the sign-in page; the search page then needs a session again.
        page.click("#sign-out")
        page.wait_for_url("**/login*")
        page.goto(base + "/search")
        page.wait_for_url("**/login?next=*")
        c.check("signing out ends the session", "/login" in page.url, page.url)

        b.close()

    b.check_clean(c)
    return c.finish(args.screenshots)


if __name__ == "__main__":
    sys.exit(main())
