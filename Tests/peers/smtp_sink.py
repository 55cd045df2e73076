#!/usr/bin/env python3
"""An SMTP server on 127.0.0.1 for the email notifier's integration tests, built on aiosmtpd.

Each accepted message goes, byte for byte as received, into a Maildir, and one JSON line per transaction into the
record file (envelope, size, time, TLS, who authenticated). It can offer STARTTLS or speak TLS from the first byte,
require AUTH PLAIN/LOGIN, refuse a recipient, and answer the first transactions with 451 so a client retries.

Runs from the project's virtualenv, which scripts/setup makes:  .peers/python/bin/python Tests/peers/smtp_sink.py
Flags, formats and examples: README.md beside this file.
"""

import argparse
import asyncio
import logging
import os
import signal
import socket
import ssl
import sys
import warnings

from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword

sys.dont_write_bytecode = True  # no __pycache__ beside the sources in the work tree
from peer_common import Recorder, now, write_port_file


class Maildir:
    """A Maildir (new/, cur/, tmp/): each message is written to tmp/ and renamed into new/, so a reader never
    sees part of one. Files hold the message exactly as received (after SMTP dot-unstuffing), CRLF line ends
    included; the envelope is in the record, not added as headers."""

    def __init__(self, path):
        self.path = path
        for sub in ("new", "cur", "tmp"):
            os.makedirs(os.path.join(path, sub), exist_ok=True)
        self.count = 0
        self.host = socket.gethostname().replace("/", "_").replace(":", "_") or "localhost"

    def deliver(self, content):
        """Stores `content` (bytes); returns its name relative to the Maildir ("new/...")."""
        self.count += 1
        t = now()
        name = "%d.M%06dP%dQ%d.%s" % (int(t), int((t % 1) * 1e6), os.getpid(), self.count, self.host)
        tmp = os.path.join(self.path, "tmp", name)
        with open(tmp, "wb") as f:
            f.write(content)
        os.rename(tmp, os.path.join(self.path, "new", name))
        return "new/" + name


class Sink:
    """aiosmtpd handler: refuses the --reject-rcpt addresses, fails the first --fail-first transactions with 451
    at the end of DATA, stores the others, and records every transaction that reaches the end of DATA."""

    def __init__(self, maildir, recorder, reject, fail_first, implicit_tls):
        self.maildir = maildir
        self.recorder = recorder
        self.reject = {address.lower() for address in reject}
        self.fail_left = fail_first
        self.implicit_tls = implicit_tls

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.lower() in self.reject:
            envelope.rejected_rcpts = getattr(envelope, "rejected_rcpts", []) + [address]
            return "550 5.1.1 <%s>: Recipient address rejected (smtp_sink --reject-rcpt)" % address
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(rcpt_options)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        content = envelope.original_content or b""
        ssl_object = server.transport.get_extra_info("ssl_object") if server.transport else None
        auth = session.auth_data if session.authenticated and isinstance(session.auth_data, dict) else {}
        entry = {
            "time": now(),
            "peer": list(session.peer) if session.peer else None,
            "helo": session.host_name,
            "mail_from": envelope.mail_from,
            "mail_options": envelope.mail_options,
            "rcpt_tos": envelope.rcpt_tos,
            "rejected_rcpts": getattr(envelope, "rejected_rcpts", []),
            "size": len(content),
            "tls": ssl_object is not None,
            "tls_mode": None if ssl_object is None else ("implicit" if self.implicit_tls else "starttls"),
            "tls_version": ssl_object.version() if ssl_object is not None else None,
            "authenticated": bool(session.authenticated),
            "auth_user": auth.get("user"),
            "auth_mechanism": auth.get("mechanism"),
        }
        if self.fail_left > 0:
            self.fail_left -= 1
            status = "451 4.3.0 Temporary failure, try again later (smtp_sink --fail-first)"
            entry.update(accepted=False, status=status, maildir_file=None)
        else:
            name = self.maildir.deliver(content)
            status = "250 2.0.0 OK: queued as %s" % name.split("/", 1)[1]
            entry.update(accepted=True, status=status, maildir_file=name)
        self.recorder.write(entry)
        return status


class Authenticator:
    """AUTH PLAIN and LOGIN (aiosmtpd's built-in mechanisms) against the one --auth user."""

    def __init__(self, user, password):
        self.user = user.encode("utf-8")
        self.password = password.encode("utf-8")

    def __call__(self, server, session, envelope, mechanism, auth_data):
        if not isinstance(auth_data, LoginPassword):
            return AuthResult(success=False, handled=False)
        ok = auth_data.login == self.user and auth_data.password == self.password
        return AuthResult(success=ok, handled=False,
                          auth_data={"user": auth_data.login.decode("utf-8", "replace"), "mechanism": mechanism}
                          if ok else None)


def tls_context(cert, key):
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    return context


async def serve(args):
    loop = asyncio.get_running_loop()
    implicit = args.implicit_tls is not None
    starttls = args.starttls is not None
    handler = Sink(Maildir(args.maildir), Recorder(args.record), args.reject_rcpt, args.fail_first, implicit)
    smtp_options = {"hostname": args.hostname, "enable_SMTPUTF8": True, "loop": loop}
    if starttls:
        smtp_options.update(tls_context=tls_context(*args.starttls), require_starttls=args.require_starttls)
    if args.auth:
        user, password = args.auth.split(":", 1)
        # aiosmtpd knows TLS only from its own STARTTLS; with implicit TLS every connection is TLS already.
        smtp_options.update(authenticator=Authenticator(user, password), auth_required=True,
                            auth_require_tls=starttls and not args.auth_insecure)
    server = await loop.create_server(lambda: SMTP(handler, **smtp_options), host=args.host, port=args.port,
                                      ssl=tls_context(*args.implicit_tls) if implicit else None)
    port = server.sockets[0].getsockname()[1]
    if args.port_file:
        write_port_file(args.port_file, port)
    notes = []
    if starttls:
        notes.append("STARTTLS required" if args.require_starttls else "STARTTLS")
    if args.auth:
        notes.append("AUTH required as " + args.auth.split(":", 1)[0])
    print("smtp_sink: listening on %s://%s:%d%s" % ("smtps" if implicit else "smtp", args.host, port,
                                                     " (%s)" % ", ".join(notes) if notes else ""),
          file=sys.stderr, flush=True)

    stop = asyncio.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    await stop.wait()
    server.close()
    if hasattr(server, "close_clients"):  # Python 3.13: also end open sessions, which wait_closed waits for
        server.close_clients()
    try:
        await asyncio.wait_for(server.wait_closed(), 2)
    except asyncio.TimeoutError:
        pass
    print("smtp_sink: stopped", file=sys.stderr, flush=True)


def main(argv=None):
    parser = argparse.ArgumentParser(
        description="SMTP sink on loopback (aiosmtpd): stores each accepted message in a Maildir and records it.")
    parser.add_argument("--maildir", required=True, metavar="DIR", help="Maildir to store messages in (created)")
    parser.add_argument("--record", help="append one JSON line per transaction that reaches the end of DATA")
    parser.add_argument("--port-file", help="write the bound port here (atomically: temporary file + rename)")
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=0, help="port to bind (default 0: any free port)")
    parser.add_argument("--hostname", default="smtp-sink.notilog.test",
                        help="the name in the greeting and EHLO answer (default smtp-sink.notilog.test)")
    tls = parser.add_mutually_exclusive_group()
    tls.add_argument("--starttls", nargs=2, metavar=("CERT", "KEY"), help="offer STARTTLS with this PEM pair")
    tls.add_argument("--implicit-tls", nargs=2, metavar=("CERT", "KEY"),
                     help="SMTPS: TLS from the first byte with this PEM pair")
    parser.add_argument("--require-starttls", action="store_true",
                        help="with --starttls: refuse every command but EHLO/NOOP/QUIT/STARTTLS before it (530)")
    parser.add_argument("--auth", metavar="USER:PASSWORD",
                        help="require AUTH PLAIN or LOGIN as this user before MAIL (530 otherwise); offered only "
                             "over TLS unless --auth-insecure")
    parser.add_argument("--auth-insecure", action="store_true", help="allow AUTH without TLS")
    parser.add_argument("--reject-rcpt", action="append", default=[], metavar="ADDRESS",
                        help="answer RCPT TO this address with 550 (repeatable; case-insensitive)")
    parser.add_argument("--fail-first", type=int, default=0, metavar="N",
                        help="answer the first N transactions with 451 at the end of DATA (nothing stored)")
    parser.add_argument("--verbose", action="store_true", help="log the SMTP dialogue (aiosmtpd's log) to stderr")
    args = parser.parse_args(argv)
    if args.require_starttls and not args.starttls:
        parser.error("--require-starttls needs --starttls CERT KEY")
    if args.auth is not None and ":" not in args.auth:
        parser.error("--auth takes USER:PASSWORD")
    if args.auth and not (args.starttls or args.implicit_tls or args.auth_insecure):
        parser.error("--auth without TLS needs --auth-insecure (AUTH is offered only over TLS otherwise)")
    if args.fail_first < 0:
        parser.error("--fail-first must be >= 0")

    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.ERROR,
                        format="smtp_sink: %(name)s: %(message)s")
    if not args.verbose:
        # A client that gives up in the TLS handshake is the client's business, not an error of the sink's.
        logging.getLogger("asyncio").setLevel(logging.CRITICAL)
    # aiosmtpd warns on every connection when AUTH is required without its own TLS check, which is what
    # --implicit-tls and --auth-insecure mean.
    warnings.filterwarnings("ignore", message="Requiring AUTH while not requiring TLS")
    asyncio.run(serve(args))
    return 0


if __name__ == "__main__":
    sys.exit(main())
