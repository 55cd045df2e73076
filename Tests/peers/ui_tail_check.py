"""Drives NotiLog's live tail page (/tail) in headless Chromium (Debian's chromium, Playwright from PyPI) against a
running notilog-server:

* a line sent with util-linux `logger` (TCP, octet-counted, RFC 5424) shows up in the tail; the time from sending
  to visible is printed ("logger line visible after X ms");
* hostile lines (<script>, attribute breakers, a hostile host name) are shown as text; a click expands a line;
* pause with the space key: lines arrive while paused, their count is shown, resume draws them all, in order;
* "/" focuses the query box; a query that cannot be read shows the server's error beside the box;
* 2,000 lines/s for 10 s, sent from here over TCP: every line arrives or a gap is shown (never silently
  missing); the measured render rate and the longest main-thread stall (long tasks, animation-frame gaps) are
  printed as figures, not checked;
* reconnecting: the page is loaded through a TCP proxy here, which drops every connection and refuses new ones
  for a while; lines sent meanwhile appear once the page is back, each once, in order.

Screenshots tail-*.png go to --screenshots. Prints one line per check; exits 0 when every check passed, 1
otherwise, 2 when Playwright or the browser is missing (the Swift test skips then).

    .peers/python/bin/python Tests/peers/ui_tail_check.py --url http://127.0.0.1:PORT --syslog-tcp PORT \
        --username admin --password PASSWORD --screenshots test-output/ui-screenshots
"""

import re
import socket
import subprocess
import sys
import threading
import time
import uuid

sys.dont_write_bytecode = True

import ui_common  # noqa: E402 (after dont_write_bytecode)
from ui_common import Checks, frame, rfc5424  # noqa: E402

HOSTILE = [
    "tailcheck-hostile <script>alert(1)</script>",
    'tailcheck-hostile "><img src=x onerror=alert(1)>',
    "tailcheck-hostile <a href=\"javascript:alert(1)\">click</a>",
]
HOSTILE_HOST = 'x"><svg/onload=alert(2)>'
FLOOD_RATE = 2000
FLOOD_SECONDS = 10

PERF_PROBE = """() => {
  const p = { longest: 0, longtasks: 0, maxGap: 0, frames: 0, last: performance.now(), stop: false, supported: false };
  try {
    new PerformanceObserver((list) => {
      for (const e of list.getEntries()) { p.longtasks++; p.longest = Math.max(p.longest, e.duration); }
    }).observe({ type: "longtask", buffered: false });
    p.supported = true;
  } catch (e) { /* no long task timing here */ }
  const tick = (t) => {
    p.maxGap = Math.max(p.maxGap, t - p.last);
    p.last = t;
    p.frames++;
    if (!p.stop) requestAnimationFrame(tick);
  };
  requestAnimationFrame(tick);
  window.__perf = p;
}"""

SEEN_PROBE = """(needle) => {
  window.__seenAt = null;
  const rows = document.getElementById("rows");
  const observer = new MutationObserver(() => {
    for (const m of document.querySelectorAll("#rows .row .msg")) {
      if (m.textContent.includes(needle)) { window.__seenAt = Date.now(); observer.disconnect(); return; }
    }
  });
  observer.observe(rows, { childList: true });
}"""


class Proxy:
    """A TCP proxy on 127.0.0.1 to the server's HTTP port, which can drop every connection and refuse new ones."""

    def __init__(self, target_port):
        self.target = target_port
        self.listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(64)
        self.port = self.listener.getsockname()[1]
        self.refusing = False
        self.lock = threading.Lock()
        self.sockets = []
        threading.Thread(target=self.accept_loop, daemon=True).start()

    def accept_loop(self):
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            if self.refusing:
                client.close()
                continue
            try:
                upstream = socket.create_connection(("127.0.0.1", self.target))
            except OSError:
                client.close()
                continue
            with self.lock:
                self.sockets += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self.pump, args=(a, b), daemon=True).start()

    @staticmethod
    def pump(a, b):
        try:
            while True:
                data = a.recv(65536)
                if not data:
                    break
                b.sendall(data)
        except OSError:
            pass
        for s in (a, b):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def drop_all(self):
        with self.lock:
            sockets, self.sockets = self.sockets, []
        for s in sockets:
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            s.close()

    def close(self):
        self.listener.close()
        self.drop_all()


def flood(port, prefix, rate, seconds, result):
    """Sends `rate` lines a second for `seconds` over one TCP connection, paced by the clock (10 ms steps)."""
    total = rate * seconds
    step = rate // 100
    sent = 0
    started = time.monotonic()
    with socket.create_connection(("127.0.0.1", port)) as s:
        while sent < total:
            due = started + (sent / rate)
            wait = due - time.monotonic()
            if wait > 0:
                time.sleep(wait)
            batch = [frame(rfc5424(n % 8, "flood-%d" % (n % 4), "tailflood", "%s %d" % (prefix, n))) for n in range(sent, min(total, sent + step))]
            s.sendall(b"".join(batch))
            sent += len(batch)
        result["seconds"] = time.monotonic() - started
        s.shutdown(socket.SHUT_WR)
        s.settimeout(60)
        while s.recv(4096):
            pass
    result["sent"] = sent


def numbers(page, prefix):
    """The numbers of the rows on the page whose message is `prefix N`, in page order."""
    return page.evaluate(
        """(prefix) => [...document.querySelectorAll('#rows .row .msg')].map(m => m.textContent)
             .filter(t => t.startsWith(prefix + ' ')).map(t => parseInt(t.slice(prefix.length + 1), 10))""",
        prefix)


def wait_live(page, timeout=30000):
    page.wait_for_selector('#conn[data-state="live"]', timeout=timeout)


def main():
    args, sync_playwright = ui_common.setup()
    base = args.url.rstrip("/")
    http_port = int(base.rsplit(":", 1)[1])
    c = Checks()

    with sync_playwright() as p:
        b = ui_common.Browser(p, args)
        page, shot = b.page, b.shot

        # Signed out: the tail sends the browser to the sign-in page, and back.
        page.goto(base + "/tail?q=app:tailcheck")
        page.wait_for_url("**/login?next=*")
        b.sign_in(then="/tail?q=app%3Atailcheck")
        wait_live(page)
        c.check("the tail page opens live with the query from the URL", page.input_value("#q") == "app:tailcheck", page.input_value("#q"))
        shot("tail-01-live")

        # A line from logger: from sending to visible.
        nonce = "tailcheck logger %s" % uuid.uuid4().hex[:12]
        page.evaluate(SEEN_PROBE, nonce)
        sent_at = time.time()
        run = subprocess.run(
            ["/usr/bin/logger", "--tcp", "--octet-count", "-n", "127.0.0.1", "-P", str(args.syslog_tcp), "--rfc5424",
             "-t", "tailcheck", "-p", "user.warning", nonce],
            capture_output=True, text=True, timeout=30)
        c.check("logger sent its line", run.returncode == 0, run.stderr)
        try:
            page.wait_for_function("() => window.__seenAt !== null", timeout=30000)
            seen = page.evaluate("() => window.__seenAt")
            ms = seen - sent_at * 1000
            print("logger line visible after %.0f ms (target: within 1000 ms%s)" % (ms, "" if ms <= 1000 else "; missed here"), flush=True)
            row = page.locator("#rows .row", has_text=nonce).first
            c.check("the logger line is visible in the tail", row.is_visible())
            c.check("the logger line shows its app and severity", row.locator(".app").inner_text() == "tailcheck"
                    and row.locator(".sev").inner_text().lower() == "warning", row.inner_text())
        except Exception as e:  # noqa: BLE001 (any failure to see it is the check failing)
            c.check("the logger line is visible in the tail", False, e)
        shot("tail-02-logger-line")

        # Hostile lines are text.
        ui_common.send_lines(args.syslog_tcp, [rfc5424(3, "web-1", "tailcheck", t) for t in HOSTILE]
                             + [rfc5424(4, HOSTILE_HOST, "tailcheck", "tailcheck-hostile host")])
        page.wait_for_function("() => document.querySelectorAll('#rows .row').length >= 5")
        texts = page.locator("#rows .row .msg").all_text_contents()
        c.check("<script> shown as text", any("<script>alert(1)</script>" in t for t in texts), texts)
        c.check("attribute breaker shown as text", any('"><img src=x onerror=alert(1)>' in t for t in texts))
        c.check("a hostile host name shown as text", HOSTILE_HOST in page.locator("#rows .row .host").all_text_contents())
        injected = page.evaluate(
            "() => document.querySelectorAll('#rows img, #rows script, #rows svg, #rows a[href^=\"javascript\"], #rows [onerror], #rows [onload]').length")
        c.check("no element made from log text", injected == 0, injected)

        # A click expands a line.
        page.locator("#rows .row", has_text="<script>").first.click()
        detail = page.locator("#rows .detail").first
        detail.wait_for()
        c.check("a clicked line expands, its text as text", "<script>alert(1)</script>" in detail.inner_text())
        shot("tail-03-hostile-expanded")
        page.locator("#rows .row", has_text="<script>").first.click()
        c.check("a second click closes it", page.locator("#rows .detail").count() == 0)

        # Pause with the space key (not typing): new lines are counted, not drawn; resume draws them in order.
        page.evaluate("() => document.activeElement && document.activeElement.blur()")
        page.keyboard.press("Space")
        c.check("space pauses", page.get_attribute("#pause", "aria-pressed") == "true")
        ui_common.send_lines(args.syslog_tcp, [rfc5424(6, "web-2", "tailcheck", "paused %d" % n) for n in range(50)])
        try:
            page.wait_for_function("() => document.getElementById('paused-info').textContent.includes('50 new lines')", timeout=30000)
            c.check("the lines that arrived while paused are counted", True)
        except Exception as e:  # noqa: BLE001
            c.check("the lines that arrived while paused are counted", False, page.inner_text("#paused-info"))
        c.check("nothing is drawn while paused", numbers(page, "paused") == [], numbers(page, "paused")[:5])
        shot("tail-04-paused")
        page.keyboard.press("Space")
        page.wait_for_function("() => document.querySelectorAll('#rows .row').length >= 55")
        got = numbers(page, "paused")
        c.check("resume draws every paused line, in order", got == list(range(50)), got[:10])
        c.check("resumed", page.get_attribute("#pause", "aria-pressed") == "false" and not page.is_visible("#paused-info"))

        # "/" focuses the query box; a bad query shows the server's error there.
        page.evaluate("() => document.activeElement && document.activeElement.blur()")
        page.keyboard.press("/")
        c.check("/ focuses the query box", page.evaluate("() => document.activeElement && document.activeElement.id") == "q")
        page.fill("#q", "app:tailcheck (")
        page.press("#q", "Enter")
        page.wait_for_selector("#query-error:not([hidden])")
        message = page.inner_text("#query-error")
        c.check("a bad query shows the server's error with its column", "column" in message, message)
        c.check("a bad query stops the tail, without retrying", page.get_attribute("#conn", "data-state") == "failed")
        c.check("the URL holds the query", "q=app%3Atailcheck+%28" in page.url or "q=app%3Atailcheck%20%28" in page.url, page.url)
        shot("tail-05-query-error")

        # 2,000 lines/s for 10 s.
        page.fill("#q", "app:tailflood")
        page.press("#q", "Enter")
        wait_live(page)
        page.evaluate(PERF_PROBE)
        before = page.evaluate("() => ({...window.notilogTail})")
        result = {}
        sender = threading.Thread(target=flood, args=(args.syslog_tcp, "flood", FLOOD_RATE, FLOOD_SECONDS, result))
        started = time.monotonic()
        sender.start()
        sender.join(timeout=120)
        total = FLOOD_RATE * FLOOD_SECONDS
        c.check("the flood was sent (%d lines)" % total, result.get("sent") == total, result)
        # Every line arrives or is reported missing.
        deadline = time.time() + 60
        while True:
            now = page.evaluate("() => ({...window.notilogTail})")
            accounted = (now["received"] - before["received"]) + (now["missed"] - before["missed"])
            if accounted >= total or time.time() > deadline:
                break
            time.sleep(0.2)
        elapsed = time.monotonic() - started
        perf = page.evaluate("() => { window.__perf.stop = true; return {...window.__perf}; }")
        received = now["received"] - before["received"]
        missed = now["missed"] - before["missed"]
        dropped = now["dropped"] - before["dropped"]
        rendered = now["rendered"] - before["rendered"]
        frames = now["frames"] - before["frames"]
        print("flood: %d lines sent in %.1f s; page received %d, server reported %d missed, page dropped %d"
              % (total, result.get("seconds", 0), received, missed, dropped), flush=True)
        print("flood: render rate %.0f rows/s drawn (%d rows in %d frames over %.1f s; older rows beyond the cap of 2,000 are counted, not drawn)"
              % (rendered / elapsed, rendered, frames, elapsed), flush=True)
        print("flood: longest main-thread stall: long tasks %s (%d of them), longest animation-frame gap %.0f ms over %d frames"
              % ("%.0f ms" % perf["longest"] if perf["supported"] else "not measurable here", perf["longtasks"], perf["maxGap"], perf["frames"]),
              flush=True)
        print("flood: the page's drawing (script, style and layout per frame) took %.0f ms in all, %.0f ms at most in one frame"
              % (now["renderMs"] - before["renderMs"], now["renderMaxMs"]), flush=True)
        c.check("every flood line arrived or was reported missing", received + missed == total, (received, missed, total))
        if missed or dropped:
            c.check("lines that could not be shown are flagged (gap indicator)", page.is_visible("#gap-indicator"))
        try:
            page.wait_for_function(
                "(last) => { const m = document.querySelectorAll('#rows .row .msg'); return m.length > 0 && m[m.length - 1].textContent === last; }",
                arg="flood %d" % (total - 1), timeout=30000)
        except Exception:  # noqa: BLE001
            pass
        last = numbers(page, "flood")
        c.check("the newest flood line is on the page, at the bottom", bool(last) and last[-1] == total - 1, last[-3:])
        try:
            page.wait_for_function(
                """() => { const rows = document.querySelectorAll('#rows .row'); const last = rows[rows.length - 1];
                           const s = document.getElementById('stream').getBoundingClientRect(), r = last.getBoundingClientRect();
                           return r.bottom <= s.bottom + 2 && r.top >= s.top; }""", timeout=5000)
            followed = True
        except Exception:  # noqa: BLE001
            followed = False
        c.check("the view followed the stream down to the newest line", followed)
        c.check("no 'Jump to latest' while following", page.is_hidden("#jump"))
        gap_rows = page.locator("#rows .gap-row").count()
        runs_ok = gap_rows > 0 or all(b - a == 1 for a, b in zip(last, last[1:]))
        c.check("the rows kept are consecutive (or a gap row says why not)", runs_ok, last[:5])
        kept = page.locator("#rows .row").count()
        c.check("the page keeps at most 2,000 rows", kept <= 2000, kept)
        c.check("the page says it keeps the last 2,000 lines", "2,000" in page.inner_text("#cap-note"), page.inner_text("#cap-note"))
        c.check("the rate is shown", "lines/s" in page.inner_text("#rate"), page.inner_text("#rate"))
        shot("tail-06-flood")

        # More lines than the pause buffer holds (20,000): the rest are a gap, said in place and on the toolbar, with
        # a search for them.
        page.evaluate("() => document.activeElement && document.activeElement.blur()")
        page.keyboard.press("Space")
        ui_common.send_lines(args.syslog_tcp, [rfc5424(6, "bulk", "tailflood", "overflow %d" % n) for n in range(20500)])
        # Every burst line is either buffered by the page or reported missing by the server: under load the page
        # can read too slowly, and the server then drops lines for it (a "slow_client" gap) before the page's own
        # buffer overflows. Either way nothing goes unaccounted.
        burst = 20500
        try:
            page.wait_for_function(
                "(t) => (window.notilogTail.received - t.received) + (window.notilogTail.missed - t.missed) >= %d" % burst,
                arg=now, timeout=60000)
        except Exception:  # noqa: BLE001
            pass
        after = page.evaluate("() => ({...window.notilogTail})")
        server_missed = after["missed"] - now["missed"]
        page_skipped = after["dropped"] - now["dropped"]
        info = page.inner_text("#paused-info")
        pending = int(re.sub(r"[^0-9]", "", info.split("new line")[0]) or -1)
        c.check("every burst line is waiting, skipped by the page or reported missing by the server",
                pending + page_skipped + server_missed == burst, (info, page_skipped, server_missed))
        c.check("the page skips only what its 20,000-line buffer cannot hold",
                page_skipped == max(0, burst - server_missed - 20000), (page_skipped, server_missed))
        c.check("the paused count says lines were skipped",
                page_skipped == 0 or "{:,} skipped".format(page_skipped) in info, info)
        shot("tail-07-paused-overflow")
        page.keyboard.press("Space")
        page.wait_for_selector("#rows .gap-row")
        gap = page.locator("#rows .gap-row").last
        gap_texts = " | ".join(t or "" for t in page.locator("#rows .gap-row").all_text_contents())
        # The page's own gap (skipped) and the server's (missed), each said in the stream with its count.
        c.check("the skipped lines are a gap row in the stream",
                (page_skipped == 0 or "{:,} lines skipped".format(page_skipped) in gap_texts)
                and (server_missed == 0 or re.search(r"[0-9,]+ lines? missed here", gap_texts) is not None),
                (gap_texts, page_skipped, server_missed))
        c.check("the gap indicator says how many", "lines missed" in page.inner_text("#gap-indicator"), page.inner_text("#gap-indicator"))
        shot("tail-08-gap")
        href = gap.locator("a").get_attribute("href")
        c.check("the gap links to a search of its time range", href.startswith("/search?q=app%3Atailflood&from="), href)
        found = b.new_page(b.context)
        found.goto(base + href)
        try:
            found.wait_for_selector("#results .row", timeout=30000)
            messages = found.locator("#results .row .msg").all_text_contents()
        except Exception:  # noqa: BLE001
            messages = []
        c.check("the gap's search finds the skipped lines", "overflow 20499" in messages, messages[:3])
        found.close()

        # Scrolling up stops following; "Jump to latest" comes back.
        page.mouse.move(600, 500)
        page.mouse.wheel(0, -3000)
        page.wait_for_selector("#jump:not([hidden])")
        c.check("scrolling up offers 'Jump to latest'", page.is_visible("#jump"))
        page.mouse.wheel(0, -200000)
        try:
            page.wait_for_function("() => document.getElementById('stream').scrollTop < 5", timeout=10000)
        except Exception:  # noqa: BLE001
            pass
        banner = page.locator("#scrolled-out")
        c.check("at the top, the page says older lines left it, with a search for them",
                banner.is_visible() and "no longer on the page" in banner.inner_text()
                and (banner.locator("a").get_attribute("href") or "").startswith("/search?q=app%3Atailflood&from="), banner.inner_text())
        c.check("reading older lines is not pulled back down", page.evaluate("() => document.getElementById('stream').scrollTop") < 5)
        shot("tail-09-scrolled-up")
        page.click("#jump")
        c.check("'Jump to latest' follows again", page.is_hidden("#jump"))

        # Reconnecting: through a proxy that drops the connection and refuses new ones for a while.
        proxy = Proxy(http_port)
        tab = b.new_page(b.context)
        tab.goto("http://127.0.0.1:%d/tail?q=app:tailreconnect" % proxy.port)
        wait_live(tab)
        ui_common.send_lines(args.syslog_tcp, [rfc5424(6, "web-3", "tailreconnect", "reconnect %d" % n) for n in range(10)])
        tab.wait_for_function("() => document.querySelectorAll('#rows .row').length >= 10")
        proxy.refusing = True
        proxy.drop_all()
        try:
            tab.wait_for_selector('#conn[data-state="reconnecting"]', timeout=15000)
            c.check("a dropped connection shows as reconnecting", True)
        except Exception:  # noqa: BLE001
            c.check("a dropped connection shows as reconnecting", False, tab.inner_text("#conn"))
        ui_common.send_lines(args.syslog_tcp, [rfc5424(6, "web-3", "tailreconnect", "reconnect %d" % n) for n in range(10, 30)])
        time.sleep(1.5)
        shot("tail-10-reconnecting", tab)
        proxy.refusing = False
        try:
            wait_live(tab, timeout=40000)
            tab.wait_for_function("() => document.querySelectorAll('#rows .row').length >= 30", timeout=20000)
        except Exception as e:  # noqa: BLE001
            print("reconnect: %s" % e)
        got = numbers(tab, "reconnect")
        c.check("after reconnecting every line is there once, in order", got == list(range(30)), got)
        connects = tab.evaluate("() => window.notilogTail.connects")
        c.check("the page reconnected by itself", connects >= 2, connects)
        shot("tail-11-reconnected", tab)
        tab.close()
        proxy.close()

        b.close()

    b.check_clean(c)
    return c.finish(args.screenshots)


if __name__ == "__main__":
    sys.exit(main())
