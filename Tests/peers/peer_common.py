"""What the test peers in this directory share: the port file, the record file, HTTP bodies, and SIGTERM.

Python 3 standard library only, so the HTTP peers run under any python3; smtp_sink.py imports it too (from the
virtualenv .peers/python). See README.md beside this file.
"""

import json
import os
import signal
import sys
import threading
import time


def write_port_file(path, port):
    """Writes `port` and a newline to `path` atomically (a temporary file beside it, then rename): a test
    polling the file sees either nothing or the whole number."""
    directory = os.path.dirname(os.path.abspath(path))
    tmp = os.path.join(directory, ".%s.%d.tmp" % (os.path.basename(path), os.getpid()))
    with open(tmp, "w") as f:
        f.write("%d\n" % port)
    os.replace(tmp, path)


class Recorder:
    """Appends one JSON object per line to a file, each line with a single write(2) on an O_APPEND descriptor,
    so a reader never sees half a line and lines from concurrent requests never interleave. Without a path it
    records nothing."""

    def __init__(self, path):
        self._fd = None
        if path:
            self._fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        self._lock = threading.Lock()

    def write(self, entry):
        if self._fd is None:
            return
        # ensure_ascii: lone surrogates (legal in JSON input, not in UTF-8) cannot break a line.
        line = (json.dumps(entry, ensure_ascii=True, sort_keys=False) + "\n").encode("ascii")
        with self._lock:
            os.write(self._fd, line)


def now():
    """Wall-clock time in seconds (float), as every record's `time` field."""
    return time.time()


def read_http_body(handler):
    """The request body of a BaseHTTPRequestHandler request, by Content-Length or chunked transfer coding
    (libcurl sends chunked when it uploads from a read callback without a size)."""
    if "chunked" in handler.headers.get("Transfer-Encoding", "").lower():
        parts = []
        while True:
            size_line = handler.rfile.readline(65537)
            size = int(size_line.split(b";", 1)[0].strip() or b"0", 16)
            if size == 0:
                # Trailer fields, up to the empty line.
                while handler.rfile.readline(65537) not in (b"\r\n", b"\n", b""):
                    pass
                return b"".join(parts)
            parts.append(handler.rfile.read(size))
            handler.rfile.readline(3)  # the CRLF after each chunk
    length = int(handler.headers.get("Content-Length") or 0)
    return handler.rfile.read(length) if length > 0 else b""


def send_http(handler, status, body, content_type="application/json", headers=()):
    """Answers with `body` (bytes, str, or an object sent as JSON) and a Content-Length, so HTTP/1.1
    keep-alive works (libcurl reuses connections)."""
    if not isinstance(body, (bytes, str)):
        body = json.dumps(body, separators=(",", ":"))
    if isinstance(body, str):
        body = body.encode("utf-8")
    handler.send_response(status)
    handler.send_header("Content-Type", content_type)
    handler.send_header("Content-Length", str(len(body)))
    for name, value in headers:
        handler.send_header(name, value)
    handler.end_headers()
    if handler.command != "HEAD":
        handler.wfile.write(body)


def serve_until_terminated(server, name, port_file):
    """Serves `server` (a ThreadingHTTPServer, already bound and listening) on a background thread, writes the
    port file, and returns after SIGTERM or SIGINT once the server has stopped: the process then exits 0.
    (shutdown() waits for serve_forever, so it cannot run on serve_forever's own thread.)"""
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.2}, daemon=True)
    thread.start()
    host, port = server.server_address[:2]
    if port_file:
        write_port_file(port_file, port)
    print("%s: listening on http://%s:%d" % (name, host, port), file=sys.stderr, flush=True)
    while not stop.wait(1.0):
        pass
    server.shutdown()
    server.server_close()
    print("%s: stopped" % name, file=sys.stderr, flush=True)
