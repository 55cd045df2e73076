"""How long NotiLog's search page takes to show its first results, measured in headless Chromium (Debian's
chromium, Playwright from PyPI) against a running notilog-server that already holds the records.

For each query: `open` is a browser opening /search?q=…&range=… (a shared link) until the first page of results
is painted (the page's `notilog-first-results` mark, milliseconds since navigation start: page, scripts,
session, search); `submit` is typing the query into the box and pressing Enter until the results are painted
(the page's `notilog-search` measure); each waits for the page's histogram (requested after the first page)
to finish before the next step; `api` is the browser's own timing of the GET /api/v1/logs request. Median
of --runs runs after one warm-up. Prints a table and one `timing {json}` line per query; exits 0 when every
query showed results (no timing targets are checked here: figures are reported, see bench/README.md), 1
otherwise, 2 when Playwright or the browser is missing.

    .peers/python/bin/python Tests/peers/ui_search_timing.py --url http://127.0.0.1:PORT --syslog-tcp PORT \
        --password PASSWORD --screenshots test-output/ui-screenshots --query 'timeout' --query 'zqxvulture'
"""

import json
import statistics
import sys
import urllib.parse

sys.dont_write_bytecode = True

import ui_common  # noqa: E402


def wait_for_results(page):
    """Waits until the search finished: the first-results measure exists, or the page says nothing was found
    or shows an error."""
    page.wait_for_function(
        "() => performance.getEntriesByName('notilog-search').length > 0"
        " || !document.getElementById('end-line').hidden"
        " || !document.getElementById('query-error').hidden"
        " || document.getElementById('status').textContent.startsWith('The search failed')",
        timeout=120000)


def api_ms(page):
    entries = page.evaluate(
        "() => performance.getEntriesByType('resource').filter(e => e.name.includes('/api/v1/logs?')).map(e => e.duration)")
    return entries[-1] if entries else None


def measure(page, base, query, time_range):
    """One run: (open ms, submit ms, api ms of the submit, rows shown)."""
    page.goto(base + "/search?" + urllib.parse.urlencode({"q": query, "range": time_range}))
    wait_for_results(page)
    opened = page.evaluate("() => (performance.getEntriesByName('notilog-first-results')[0] || {}).startTime ?? null")
    # As someone reading the results would: the histogram (counted after the first page) is done before the next.
    page.wait_for_load_state("networkidle")
    # Then the same query typed again: a new search from a loaded page.
    page.evaluate("() => { performance.clearMeasures('notilog-search'); performance.clearResourceTimings(); }")
    page.fill("#q", query)
    page.press("#q", "Enter")
    wait_for_results(page)
    page.wait_for_load_state("networkidle")
    submitted = page.evaluate("() => (performance.getEntriesByName('notilog-search')[0] || {}).duration ?? null")
    rows = page.locator("#results .row").count()
    return opened, submitted, api_ms(page), rows


def fmt(v):
    return "%9.1f" % v if isinstance(v, (int, float)) else "%9s" % "-"


def arguments(parser):
    parser.add_argument("--query", action="append", required=True, help="a query to time (repeatable)")
    parser.add_argument("--range", default="7d", help="the page's range: 15m, 1h, 24h or 7d")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--label", default="", help="a word for the screenshots' names")
    parser.add_argument("--send", type=int, default=0, help="first send this many lines over syslog (a small store)")


def main():
    args, sync_playwright = ui_common.setup(arguments)
    c = ui_common.Checks()
    results = []
    if args.send:
        words = ["timeout", "refused", "accepted", "started"]
        ui_common.send_lines(args.syslog_tcp, [
            ui_common.rfc5424(n % 8, "web-%02d" % (n % 10), "timing", "line %d %s" % (n, words[n % 4] if n % 1000 else "zqxvulture"))
            for n in range(args.send)])
    with sync_playwright() as p:
        b = ui_common.Browser(p, args)
        b.sign_in()
        for n, query in enumerate(args.query):
            if args.send:  # the lines just sent may still be on their way to the store
                for _ in range(120):
                    if measure(b.page, b.base, query, args.range)[3] > 0:
                        break
                    b.page.wait_for_timeout(500)
            measure(b.page, b.base, query, args.range)  # warm-up
            runs = [measure(b.page, b.base, query, args.range) for _ in range(args.runs)]
            rows = runs[-1][3]
            c.check("%r shows results" % query, rows > 0, "no rows")
            b.shot("search-timing-%s%d" % (args.label + "-" if args.label else "", n + 1))

            def med(i):
                values = [r[i] for r in runs if r[i] is not None]
                return statistics.median(values) if values else None

            results.append({"query": query, "open_ms": med(0), "submit_ms": med(1), "api_ms": med(2), "rows": rows,
                            "runs": args.runs})
        b.close()
    print("search page, first results painted (median of %d runs after a warm-up, range %s):" % (args.runs, args.range))
    print("%-48s %9s %9s %9s %5s" % ("query", "open ms", "submit ms", "api ms", "rows"))
    for r in results:
        print("%-48s %s %s %s %5d" % (r["query"][:48], fmt(r["open_ms"]), fmt(r["submit_ms"]), fmt(r["api_ms"]), r["rows"]))
    for r in results:
        print("timing " + json.dumps(r))
    b.check_clean(c)
    return c.finish()


if __name__ == "__main__":
    sys.exit(main())
