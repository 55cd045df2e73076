#!/usr/bin/env python3
"""A stand-in for the Telegram Bot API on 127.0.0.1, for the notifier's integration tests.

It answers `/bot<TOKEN>/sendMessage` (and `getMe`) the way api.telegram.org does — the same JSON shapes, the same
checks on chat_id, text, parse_mode=HTML and the 4096-character limit, the same error descriptions — records every
request as a JSON line, and can be told to answer with 429 (retry_after) or 502 for a while. Python 3 standard
library only. Flags, formats and examples: README.md beside this file.
"""

import argparse
import email.parser
import email.policy
import json
import re
import sys
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

sys.dont_write_bytecode = True  # no __pycache__ beside the sources in the work tree
from peer_common import Recorder, now, read_http_body, send_http, serve_until_terminated

MAX_TEXT_UTF16 = 4096

BAD_GATEWAY_BODY = (
    "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n"
    "<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n"
)


class BadRequest(Exception):
    """A 400 answer; `description` without the "Bad Request: " prefix."""

    def __init__(self, description):
        super().__init__(description)
        self.description = description


# --- HTML as Telegram reads it (parse_mode=HTML) ------------------------------------------------------------------
#
# The same walk as TDLib's parse_html (which the Bot API uses), with the same error messages and byte offsets
# (UTF-8), so a notifier sees the descriptions the real API gives. One deliberate difference: Telegram keeps a
# bare "&" (and an unknown entity such as "&nbsp;") as literal text, but its documentation requires every "&"
# outside an entity to be escaped; this stand-in refuses one, so an escaping bug fails the test instead of
# slipping through.

HTML_TAGS = {
    "a", "b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "code", "pre", "tg-spoiler", "span",
    "blockquote",
}
ENTITY_TYPE = {
    "b": "bold", "strong": "bold", "i": "italic", "em": "italic", "u": "underline", "ins": "underline",
    "s": "strikethrough", "strike": "strikethrough", "del": "strikethrough", "tg-spoiler": "spoiler",
    "span": "spoiler", "code": "code", "pre": "pre", "a": "text_link", "blockquote": "blockquote",
}
NAMED_ENTITIES = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
SPACES = " \t\r\n\v\f"


def utf16_length(text):
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


class HTMLText:
    """Parses Telegram HTML into plain text and Bot API `entities` (offsets and lengths in UTF-16 units)."""

    def __init__(self, source):
        self.s = source
        self.n = len(source)

    def fail(self, message):
        raise BadRequest("can't parse entities: " + message)

    def byte_offset(self, index):
        return len(self.s[:index].encode("utf-8", "surrogatepass"))

    def entity_at(self, i):
        """Decodes the character reference at s[i] == "&"; returns (text, next index)."""
        s, n = self.s, self.n
        j = i + 1
        if j < n and s[j] == "#":
            j += 1
            hexadecimal = j < n and s[j] in "xX"
            if hexadecimal:
                j += 1
            start = j
            digits = "0123456789abcdefABCDEF" if hexadecimal else "0123456789"
            while j < n and s[j] in digits:
                j += 1
            code = int(s[start:j], 16 if hexadecimal else 10) if j > start else 0
            if j > start and 0 < code < 0x110000 and not 0xD800 <= code <= 0xDFFF:
                return chr(code), (j + 1 if j < n and s[j] == ";" else j)
        else:
            while j < n and s[j].isascii() and s[j].isalpha():
                j += 1
            name = s[i + 1:j]
            if name in NAMED_ENTITIES:
                return NAMED_ENTITIES[name], (j + 1 if j < n and s[j] == ";" else j)
        self.fail('Unsupported HTML entity or unescaped "&" at byte offset %d (escape it as "&amp;")'
                  % self.byte_offset(i))

    def skip_spaces(self, i):
        while i < self.n and self.s[i] in SPACES:
            i += 1
        return i

    def parse(self):
        s, n = self.s, self.n
        out = []
        utf16 = 0
        stack = []  # [tag name, argument, UTF-16 offset where it starts, byte offset of "<"]
        entities = []
        i = 0
        while i < n:
            c = s[i]
            if c == "&":
                text, i = self.entity_at(i)
                out.append(text)
                utf16 += utf16_length(text)
                continue
            if c != "<":
                out.append(c)
                utf16 += utf16_length(c)
                i += 1
                continue
            begin = i
            begin_byte = self.byte_offset(begin)
            i += 1
            if i < n and s[i] == "/":
                if not stack:
                    self.fail("Unexpected end tag at byte offset %d" % begin_byte)
                while i < n and s[i] not in SPACES and s[i] != ">":
                    i += 1
                end_name = s[begin + 2:i].lower()
                i = self.skip_spaces(i)
                if i >= n or s[i] != ">":
                    self.fail("Unclosed end tag at byte offset %d" % begin_byte)
                i += 1
                name, argument, start, _ = stack[-1]
                if end_name and end_name != name:
                    self.fail('Unmatched end tag at byte offset %d, expected "</%s>", found "</%s>"'
                              % (begin_byte, name, end_name))
                stack.pop()
                if utf16 > start:
                    self.close_entity(name, argument, start, utf16 - start, "".join(out), stack, entities)
                continue

            while i < n and s[i] not in SPACES and s[i] != ">":
                i += 1
            if i >= n:
                self.fail("Unclosed start tag at byte offset %d" % begin_byte)
            name = s[begin + 1:i].lower()
            if name not in HTML_TAGS:
                self.fail('Unsupported start tag "%s" at byte offset %d' % (name, begin_byte))
            argument = ""
            while True:
                i = self.skip_spaces(i)
                if i >= n:
                    self.fail('Unclosed start tag "%s" at byte offset %d' % (name, begin_byte))
                if s[i] == ">":
                    break
                attr_begin = i
                while i < n and s[i] not in SPACES and s[i] not in "=>":
                    i += 1
                attr_name = s[attr_begin:i].lower()
                if not attr_name:
                    self.fail('Empty attribute name in the tag "%s" at byte offset %d' % (name, begin_byte))
                i = self.skip_spaces(i)
                if i >= n:
                    self.fail('Unclosed start tag "%s" at byte offset %d' % (name, begin_byte))
                if s[i] != "=":
                    if name == "blockquote" and attr_name == "expandable":
                        argument = "expandable"
                        continue
                    self.fail('Expected equal sign in declaration of an attribute of the tag "%s" at byte offset %d'
                              % (name, begin_byte))
                i = self.skip_spaces(i + 1)
                if i >= n:
                    self.fail('Unclosed start tag "%s" at byte offset %d' % (name, begin_byte))
                if s[i] not in "'\"":
                    # A name token: letters, digits, periods and hyphens.
                    token_begin = i
                    while i < n and ((s[i].isascii() and s[i].isalnum()) or s[i] in ".-"):
                        i += 1
                    value = s[token_begin:i].lower()
                    if i < n and s[i] not in SPACES and s[i] != ">":
                        self.fail("Unexpected end of name token at byte offset %d" % self.byte_offset(token_begin))
                else:
                    quote = s[i]
                    i += 1
                    chars = []
                    while i < n and s[i] != quote:
                        if s[i] == "&":
                            text, i = self.entity_at(i)
                            chars.append(text)
                        else:
                            chars.append(s[i])
                            i += 1
                    i += 1
                    value = "".join(chars)
                if i >= n:
                    self.fail("Unclosed start tag at byte offset %d" % begin_byte)
                if name == "a" and attr_name == "href":
                    argument = value
                elif name == "code" and attr_name == "class" and value.startswith("language-"):
                    argument = value[len("language-"):]
                elif name == "span" and attr_name == "class" and value.startswith("tg-"):
                    argument = value[len("tg-"):]
            i += 1  # ">"
            if name == "span" and argument != "spoiler":
                self.fail('Tag "span" must have class "tg-spoiler" at byte offset %d' % begin_byte)
            stack.append([name, argument, utf16, begin_byte])

        if stack:
            self.fail('Can\'t find end tag corresponding to start tag "%s"' % stack[-1][0])
        entities.sort(key=lambda e: (e["offset"], -e["length"]))
        return "".join(out), entities

    @staticmethod
    def close_entity(name, argument, offset, length, text_so_far, stack, entities):
        entity = {"type": ENTITY_TYPE[name], "offset": offset, "length": length}
        if name == "a":
            # An <a> without href links to its own text, as in Telegram.
            entity["url"] = argument or text_so_far[-length:]
        elif name == "blockquote" and argument == "expandable":
            entity["type"] = "expandable_blockquote"
        elif name == "code" and argument and stack and stack[-1][0] == "pre":
            # <pre><code class="language-x">: one pre entity with a language, as Telegram reports it.
            stack[-1][1] = argument
            return
        elif name == "pre" and argument:
            entity["language"] = argument
        entities.append(entity)


def trim(text, entities):
    """Telegram drops leading and trailing white space from a message; entity offsets move with it."""
    stripped = text.lstrip()
    lead = utf16_length(text[:len(text) - len(stripped)])
    stripped = stripped.rstrip()
    size = utf16_length(stripped)
    kept = []
    for e in entities:
        start = max(e["offset"] - lead, 0)
        end = min(e["offset"] + e["length"] - lead, size)
        if end > start:
            kept.append(dict(e, offset=start, length=end - start))
    return stripped, kept


# --- the Bot API --------------------------------------------------------------------------------------------------

class Faults:
    """What the next sendMessage calls (with the right token) are answered with. In order: the first
    `pass_before` calls are served normally, then `rate_limit` calls get 429 with retry_after
    `rate_limit_seconds`, then `fail_5xx` calls get 502, then everything is served normally again."""

    def __init__(self, pass_before=0, rate_limit=0, rate_limit_seconds=1, fail_5xx=0):
        self.lock = threading.Lock()
        self.pass_before = pass_before
        self.rate_limit = rate_limit
        self.rate_limit_seconds = rate_limit_seconds
        self.fail_5xx = fail_5xx

    def state(self):
        return {"fail_after": self.pass_before, "rate_limit": [self.rate_limit, self.rate_limit_seconds],
                "fail_5xx": self.fail_5xx}

    def next_call(self):
        """Counts a call; returns (429, retry_after), (502, None), or None to serve it normally."""
        with self.lock:
            if self.pass_before > 0:
                self.pass_before -= 1
                return None
            if self.rate_limit > 0:
                self.rate_limit -= 1
                return 429, self.rate_limit_seconds
            if self.fail_5xx > 0:
                self.fail_5xx -= 1
                return 502, None
            return None

    def change(self, request):
        """Applies a /control request: any of rate_limit [N, SECONDS], fail_5xx N, fail_after K, reset true."""
        if not isinstance(request, dict):
            raise ValueError("the body must be a JSON object")
        unknown = set(request) - {"rate_limit", "fail_5xx", "fail_after", "reset"}
        if unknown:
            raise ValueError("unknown keys: %s" % ", ".join(sorted(unknown)))

        def count(value, key):
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                raise ValueError("%s must be a non-negative integer" % key)
            return value

        with self.lock:
            if request.get("reset"):
                self.pass_before, self.rate_limit, self.fail_5xx = 0, 0, 0
            if "rate_limit" in request:
                value = request["rate_limit"]
                if not isinstance(value, list) or len(value) != 2:
                    raise ValueError("rate_limit must be [N, SECONDS]")
                self.rate_limit = count(value[0], "rate_limit N")
                self.rate_limit_seconds = count(value[1], "rate_limit SECONDS")
            if "fail_5xx" in request:
                self.fail_5xx = count(request["fail_5xx"], "fail_5xx")
            if "fail_after" in request:
                self.pass_before = count(request["fail_after"], "fail_after")
            return self.state()


class Bot:
    """The stand-in's state: the one valid token, the known chats, the message counter and the faults."""

    def __init__(self, token, chats, faults, recorder):
        self.token = token
        self.chats = set(chats)
        self.faults = faults
        self.recorder = recorder
        self.lock = threading.Lock()
        self.message_id = 0
        bot_id = token.split(":", 1)[0]
        self.user = {"id": int(bot_id) if bot_id.isdigit() else 1, "is_bot": True,
                     "first_name": "NotiLog stand-in", "username": "notilog_standin_bot"}

    def chat(self, chat_id):
        """The `chat` object for a chat_id (int or string), or BadRequest as Telegram answers."""
        if isinstance(chat_id, bool) or not isinstance(chat_id, (int, str)):
            raise BadRequest("chat not found")
        text = str(chat_id).strip()
        if self.chats and text not in self.chats:
            raise BadRequest("chat not found")
        if re.fullmatch(r"-?[0-9]+", text):
            number = int(text)
            if number > 0:
                return {"id": number, "first_name": "Test", "type": "private"}
            if text.startswith("-100"):
                return {"id": number, "title": "Test supergroup", "type": "supergroup"}
            return {"id": number, "title": "Test group", "type": "group"}
        if re.fullmatch(r"@[A-Za-z][A-Za-z0-9_]{3,}", text):
            return {"id": -1000000000001, "title": text[1:], "username": text[1:], "type": "channel"}
        raise BadRequest("chat not found")

    def send_message(self, params):
        """Checks a sendMessage call as Telegram does; returns the `result` message or raises BadRequest."""
        chat_id = params.get("chat_id")
        if chat_id is None or (isinstance(chat_id, str) and not chat_id.strip()):
            raise BadRequest("chat_id is empty")
        text = params.get("text")
        if isinstance(text, (int, float)) and not isinstance(text, bool):
            text = str(text)
        if not isinstance(text, str) or not text.strip():
            raise BadRequest("message text is empty")
        parse_mode = params.get("parse_mode") or ""
        if not isinstance(parse_mode, str) or parse_mode.lower() not in ("", "html", "markdown", "markdownv2"):
            raise BadRequest("unsupported parse_mode")
        options = params.get("link_preview_options")
        if isinstance(options, str):
            try:
                options = json.loads(options)
            except ValueError:
                raise BadRequest("can't parse link preview options JSON object")
        if options is not None and not isinstance(options, dict):
            raise BadRequest("can't parse link preview options JSON object")
        thread_id = params.get("message_thread_id")
        if thread_id not in (None, ""):
            try:
                thread_id = int(thread_id)
            except (TypeError, ValueError):
                raise BadRequest("message thread not found")
        else:
            thread_id = None

        entities = []
        if parse_mode.lower() == "html":
            text, entities = HTMLText(text).parse()
        # Markdown and MarkdownV2 are accepted but not parsed: the text is counted as sent.
        text, entities = trim(text, entities)
        if not text:
            raise BadRequest("message text is empty")
        if utf16_length(text) > MAX_TEXT_UTF16:
            raise BadRequest("message is too long")
        chat = self.chat(chat_id)

        with self.lock:
            self.message_id += 1
            message_id = self.message_id
        message = {"message_id": message_id, "from": self.user, "chat": chat, "date": int(now()), "text": text}
        if entities:
            message["entities"] = entities
        if thread_id is not None:
            message["message_thread_id"] = thread_id
            message["is_topic_message"] = True
        return message


def decode_params(handler, body):
    """The call's parameters: the query string, then the body (JSON, form-encoded or multipart) over it."""
    query = urllib.parse.urlsplit(handler.path).query
    params = {k: v[-1] for k, v in urllib.parse.parse_qs(query, keep_blank_values=True).items()}
    content_type = handler.headers.get("Content-Type", "")
    kind = content_type.split(";", 1)[0].strip().lower()
    if not body:
        return params
    if kind == "application/json":
        try:
            decoded = json.loads(body.decode("utf-8"))
        except (UnicodeDecodeError, ValueError) as error:
            raise BadRequest("can't parse JSON: %s" % error)
        if not isinstance(decoded, dict):
            raise BadRequest("the JSON body must be an object")
        params.update(decoded)
    elif kind == "multipart/form-data":
        message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
            b"Content-Type: " + content_type.encode("latin-1") + b"\r\n\r\n" + body)
        for part in message.iter_parts():
            name = part.get_param("name", header="content-disposition")
            if name:
                params[name] = (part.get_payload(decode=True) or b"").decode("utf-8", "replace")
    else:
        form = urllib.parse.parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True)
        params.update({k: v[-1] for k, v in form.items()})
    return params


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as api.telegram.org
    server_version = "nginx"
    sys_version = ""
    bot = None  # set in main()
    verbose = False

    def log_message(self, format, *args):
        if self.verbose:
            super().log_message(format, *args)

    def do_GET(self):
        self.handle_call()

    def do_POST(self):
        self.handle_call()

    def handle_call(self):
        body = read_http_body(self)
        path = urllib.parse.urlsplit(self.path).path
        if path == "/control":
            return self.control(body)

        match = re.fullmatch(r"/bot([^/]*)/([A-Za-z0-9_]+)/?", path)
        token = match.group(1) if match else None
        method = match.group(2) if match else None
        entry = {"time": now(), "http_method": self.command, "path": path, "token": token, "method": method,
                 "content_type": self.headers.get("Content-Type"), "params": None}
        status, answer = self.answer(match, token, method, body, entry)
        entry["status"] = status
        entry["response"] = answer
        self.bot.recorder.write(entry)
        if status == 502:
            send_http(self, status, answer, content_type="text/html")
        else:
            send_http(self, status, answer)

    def answer(self, match, token, method, body, entry):
        """(HTTP status, answer) for a Bot API call; fills entry["params"]."""
        if match is None:
            return 404, {"ok": False, "error_code": 404, "description": "Not Found"}
        try:
            entry["params"] = decode_params(self, body)
            unreadable = None
        except BadRequest as error:
            unreadable = error
        if token != self.bot.token:
            return 401, {"ok": False, "error_code": 401, "description": "Unauthorized"}
        if unreadable:
            return 400, {"ok": False, "error_code": 400, "description": "Bad Request: " + unreadable.description}
        name = method.lower()
        if name == "getme":
            return 200, {"ok": True, "result": dict(self.bot.user, can_join_groups=True,
                                                    can_read_all_group_messages=False,
                                                    supports_inline_queries=False)}
        if name != "sendmessage":
            return 404, {"ok": False, "error_code": 404, "description": "Not Found"}
        fault = self.bot.faults.next_call()
        if fault and fault[0] == 502:
            return 502, BAD_GATEWAY_BODY
        if fault:
            seconds = fault[1]
            return 429, {"ok": False, "error_code": 429, "description": "Too Many Requests: retry after %d" % seconds,
                         "parameters": {"retry_after": seconds}}
        try:
            return 200, {"ok": True, "result": self.bot.send_message(entry["params"])}
        except BadRequest as error:
            return 400, {"ok": False, "error_code": 400, "description": "Bad Request: " + error.description}

    def control(self, body):
        """GET /control: the fault state; POST /control with a JSON object: changes it (not recorded)."""
        if self.command == "GET":
            return send_http(self, 200, {"ok": True, "state": self.bot.faults.state()})
        try:
            state = self.bot.faults.change(json.loads(body.decode("utf-8") or "{}"))
        except (UnicodeDecodeError, ValueError) as error:
            return send_http(self, 400, {"ok": False, "description": str(error)})
        send_http(self, 200, {"ok": True, "state": state})


def counted(text):
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError("must be >= 0")
    return value


def rate_limit(text):
    match = re.fullmatch(r"([0-9]+):([0-9]+)", text)
    if not match:
        raise argparse.ArgumentTypeError("expected N:SECONDS, e.g. 2:1")
    return int(match.group(1)), int(match.group(2))


def main(argv=None):
    parser = argparse.ArgumentParser(
        description="Telegram Bot API stand-in (sendMessage, getMe) on loopback for the notifier's tests.",
        epilog="Fault order for sendMessage calls with the right token: the first --fail-after K are served "
               "normally, then --rate-limit's N get 429, then --fail-5xx's N get 502, then all are served again. "
               "POST /control changes the same counters at run time.")
    parser.add_argument("--token", required=True, help="the only token accepted (others get 401)")
    parser.add_argument("--port-file", help="write the bound port here (atomically: temporary file + rename)")
    parser.add_argument("--record", help="append one JSON line per Bot API request to this file")
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=0, help="port to bind (default 0: any free port)")
    parser.add_argument("--chat", action="append", default=[], metavar="CHAT_ID",
                        help="a chat that exists (repeatable); with any, other chat_ids get 'chat not found'")
    parser.add_argument("--rate-limit", type=rate_limit, default=(0, 1), metavar="N:SECONDS",
                        help="answer N sendMessage calls with 429, retry_after SECONDS")
    parser.add_argument("--fail-5xx", type=counted, default=0, metavar="N",
                        help="answer N sendMessage calls with 502 Bad Gateway (after the 429s)")
    parser.add_argument("--fail-after", type=counted, default=0, metavar="K",
                        help="serve the first K sendMessage calls normally before the faults above start")
    parser.add_argument("--verbose", action="store_true", help="log every request to stderr")
    args = parser.parse_args(argv)

    faults = Faults(pass_before=args.fail_after, rate_limit=args.rate_limit[0],
                    rate_limit_seconds=args.rate_limit[1], fail_5xx=args.fail_5xx)
    Handler.bot = Bot(args.token, args.chat, faults, Recorder(args.record))
    Handler.verbose = args.verbose
    server = ThreadingHTTPServer((args.host, args.port), Handler)
    serve_until_terminated(server, "telegram_standin", args.port_file)
    return 0


if __name__ == "__main__":
    sys.exit(main())
