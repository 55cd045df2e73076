"""What the browser checks share: sending syslog lines to the server under test, one line per check, starting
Chromium (Debian's, driven by Playwright) and signing in. Imported by the ui_*_check.py scripts beside it."""

import argparse
import datetime
import os
import socket
import sys
import urllib.parse


def frame(message):
    """One octet-counted frame (RFC 6587) of a str or bytes message."""
    data = message if isinstance(message, bytes) else message.encode("utf-8")
    return str(len(data)).encode() + b" " + data


def rfc5424(severity, host, app, text, sd="-", facility=1):
    now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return "<%d>1 %s %s %s - - %s %s" % (facility * 8 + severity, now, host, app, sd, text)


def send_lines(port, messages):
    """Sends the messages over one TCP connection and waits until the server closed it (all read)."""
    with socket.create_connection(("127.0.0.1", port)) as s:
        s.sendall(b"".join(frame(m) for m in messages))
        s.shutdown(socket.SHUT_WR)
        s.settimeout(30)
        while s.recv(4096):
            pass


class Checks:
    """Prints one line per check; `failed` names the ones that did not hold."""

    def __init__(self):
        self.failed = []

    def check(self, name, ok, detail=""):
        print(("ok    " if ok else "FAIL  ") + name + ("" if ok or not detail else ": " + str(detail)[:500]), flush=True)
        if not ok:
            self.failed.append(name)
        return ok

    def finish(self, screenshots=None):
        """The exit status: 0 when every check held."""
        if screenshots:
            print("screenshots: %s" % os.path.abspath(screenshots))
        if self.failed:
            print("%d check(s) failed: %s" % (len(self.failed), ", ".join(self.failed)))
            return 1
        print("all checks passed")
        return 0


def add_arguments(parser):
    """The arguments every check script takes (the Swift test passes them)."""
    parser.add_argument("--url", required=True)
    parser.add_argument("--syslog-tcp", type=int, required=True)
    parser.add_argument("--username", default="admin")
    parser.add_argument("--password", required=True)
    parser.add_argument("--screenshots", required=True)
    parser.add_argument("--chromium", default="/usr/bin/chromium")


def setup(more_arguments=None):
    """Parses the shared arguments (and the script's own, added by `more_arguments(parser)`) and returns them
    with sync_playwright; exits 2 (the Swift test skips) when Playwright or the browser is missing."""
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    if more_arguments:
        more_arguments(parser)
    args = parser.parse_args()
    sync_playwright = playwright_or_skip(args)
    if sync_playwright is None:
        sys.exit(2)
    return args, sync_playwright


def playwright_or_skip(args):
    """sync_playwright, or None after printing why the check cannot run (exit 2 then)."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError as e:
        print("SKIP playwright is not installed: %s" % e)
        return None
    if not os.access(args.chromium, os.X_OK):
        print("SKIP no browser at %s (apt-get install chromium)" % args.chromium)
        return None
    os.makedirs(args.screenshots, exist_ok=True)
    return sync_playwright


class Browser:
    """A Chromium context with one page, recording dialogs, console errors and page errors (checked by
    `check_clean`)."""

    def __init__(self, playwright, args):
        self.args = args
        self.base = args.url.rstrip("/")
        self.browser = playwright.chromium.launch(executable_path=args.chromium, args=["--no-sandbox"])
        self.context = self.browser.new_context(viewport={"width": 1280, "height": 800}, timezone_id="Europe/Berlin", locale="en-GB")
        self.dialogs, self.console_errors, self.page_errors = [], [], []
        self.page = self.new_page(self.context)

    def new_page(self, context):
        page = context.new_page()
        page.set_default_timeout(60000)  # generous: the whole test suite may be running beside it
        page.on("dialog", lambda d: (self.dialogs.append(d.message), d.dismiss()))
        page.on("console", lambda m: self.console_errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: self.page_errors.append(str(e)))
        return page

    def shot(self, name, page=None):
        (page or self.page).screenshot(path=os.path.join(self.args.screenshots, name + ".png"), full_page=False)

    def sign_in(self, username=None, password=None, page=None, then="/search"):
        """Signs in on /login and waits for the page `then` (a path) to load."""
        page = page or self.page
        page.goto(self.base + "/login?next=" + then)
        page.fill("#username", username or self.args.username)
        page.fill("#password", password or self.args.password)
        page.click("#sign-in")
        path = then.split("?")[0]
        page.wait_for_url(lambda url: urllib.parse.urlparse(url).path == path)
        page.wait_for_load_state()

    def check_clean(self, c):
        c.check("no dialog appeared", not self.dialogs, self.dialogs)
        c.check("no script error on the pages", not self.page_errors, self.page_errors)
        csp = [e for e in self.console_errors if "Content Security Policy" in e]
        c.check("no Content-Security-Policy violation", not csp, csp)

    def close(self):
        self.browser.close()


if __name__ == "__main__":
    sys.exit("imported by the ui_*_check.py scripts")
