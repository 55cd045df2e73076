#!/usr/bin/env python3
"""A webhook receiver on 127.0.0.1 for the notifier's integration tests.

It records every request (path, headers, body, and whether the HMAC-SHA256 signature header matched the body) as a
JSON line and answers 200, or 5xx for the first N requests when told to. Python 3 standard library only. Flags,
formats and examples: README.md beside this file.
"""

import argparse
import base64
import hashlib
import hmac
import sys
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

sys.dont_write_bytecode = True  # no __pycache__ beside the sources in the work tree
from peer_common import Recorder, now, read_http_body, send_http, serve_until_terminated


class Receiver:
    def __init__(self, secret, signature_header, fail_count, fail_status, recorder):
        self.secret = secret.encode("utf-8") if secret is not None else None
        self.signature_header = signature_header
        self.fail_left = fail_count
        self.fail_status = fail_status
        self.recorder = recorder
        self.lock = threading.Lock()

    def verify(self, header_value, body):
        """True when the header is "sha256=" + hex HMAC-SHA256(secret, body); None without --secret."""
        if self.secret is None:
            return None
        if header_value is None:
            return False
        expected = "sha256=" + hmac.new(self.secret, body, hashlib.sha256).hexdigest()
        return hmac.compare_digest(expected.encode("ascii"), header_value.strip().lower().encode("utf-8"))

    def next_status(self):
        with self.lock:
            if self.fail_left > 0:
                self.fail_left -= 1
                return self.fail_status
            return 200


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    receiver = None  # set in main()
    verbose = False

    def log_message(self, format, *args):
        if self.verbose:
            super().log_message(format, *args)

    def do_POST(self):
        self.receive()

    def do_PUT(self):
        self.receive()

    def do_GET(self):
        self.receive()

    def receive(self):
        body = read_http_body(self)
        receiver = self.receiver
        headers = {}
        for name, value in self.headers.items():
            key = name.lower()
            headers[key] = headers[key] + ", " + value if key in headers else value
        split = urllib.parse.urlsplit(self.path)
        status = receiver.next_status() if self.command == "POST" else 405
        entry = {
            "time": now(),
            "method": self.command,
            "path": split.path,
            "query": split.query,
            "headers": headers,
            "body": body.decode("utf-8", "replace"),
            "body_size": len(body),
            "signature_verified": receiver.verify(self.headers.get(receiver.signature_header), body),
            "status": status,
        }
        try:
            body.decode("utf-8")
        except UnicodeDecodeError:
            entry["body_base64"] = base64.b64encode(body).decode("ascii")
        receiver.recorder.write(entry)
        if status == 200:
            send_http(self, 200, {"ok": True})
        elif status == 405:
            send_http(self, 405, {"ok": False, "error": "POST only"}, headers=[("Allow", "POST")])
        else:
            send_http(self, status, {"ok": False, "error": "scripted failure (--fail-5xx)"})


def main(argv=None):
    parser = argparse.ArgumentParser(
        description="Webhook receiver on loopback: records each request as a JSON line, answers 200.")
    parser.add_argument("--port-file", help="write the bound port here (atomically: temporary file + rename)")
    parser.add_argument("--record", help="append one JSON line per request to this file")
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=0, help="port to bind (default 0: any free port)")
    parser.add_argument("--secret", help="HMAC-SHA256 key: check each request's signature header against it")
    parser.add_argument("--signature-header", default="X-NotiLog-Signature", metavar="NAME",
                        help="the header that carries sha256=<hex> (default X-NotiLog-Signature)")
    parser.add_argument("--fail-5xx", type=int, default=0, metavar="N",
                        help="answer the first N POSTs with --fail-status instead of 200")
    parser.add_argument("--fail-status", type=int, default=503, metavar="CODE",
                        help="the status --fail-5xx answers with (default 503)")
    parser.add_argument("--verbose", action="store_true", help="log every request to stderr")
    args = parser.parse_args(argv)
    if args.fail_5xx < 0 or not 500 <= args.fail_status <= 599:
        parser.error("--fail-5xx must be >= 0 and --fail-status a 5xx code")

    Handler.receiver = Receiver(args.secret, args.signature_header, args.fail_5xx, args.fail_status,
                                Recorder(args.record))
    Handler.verbose = args.verbose
    server = ThreadingHTTPServer((args.host, args.port), Handler)
    serve_until_terminated(server, "webhook_receiver", args.port_file)
    return 0


if __name__ == "__main__":
    sys.exit(main())
