#!/usr/bin/env python3
"""A loopback HTTP server for Distill's repository tests, serving a directory with fault modes.

Usage: fault_server.py ROOT PORT_FILE LOG_FILE

Listens on 127.0.0.1 on a free port, writes the port to PORT_FILE, and serves files under ROOT.
The first path segment selects the behaviour for everything below it, so a test points a
repository at http://127.0.0.1:PORT/<mode>/<path under ROOT>:

  ok           plain files, with an ETag (quoted sha1 of the content) and If-None-Match -> 304
  fail500once  the first request for each path answers 500, later ones are served
  fail500      every request answers 500
  cutonce      the first request for each path sends the headers and half the body, then closes
  cut          every request is cut off half way
  shortonce    the first request for each path declares 64 more bytes than it sends, then closes
  longonce     the first request for each path sends 64 bytes more than its Content-Length
  short        every request declares 64 more bytes than it sends, then closes
  long         every request declares 64 bytes fewer than it sends (the whole file), then closes
  notfound     every request answers 404
  hang         every request is read and never answered (the connection stays open)
  redirectloop every request is redirected to itself (302), forever
  redirectfile every request is redirected (302) to the file:// URL of the file it asked for
  rotate       every answer carries a new ETag and If-None-Match is ignored (always 200)
  auth-U-P     requires HTTP basic authentication as user U, password P (401 otherwise)
  slow         sends the body 512 bytes at a time, 0.3 s apart (for progress while downloading)
  hold         a file with a FILE.hold beside it is answered only once FILE.hold is gone (the
               test removes it): logged with status 0 when it starts waiting, then as answered;
               after HOLD_SECONDS it answers 404, and a client that closes the connection while
               it waits is logged with status 499; other files are plain

Every request is appended to LOG_FILE as one JSON object per line: method, path, mode, status,
the If-None-Match and Authorization headers it carried, and the body bytes sent.
"""
import base64
import hashlib
import http.server
import json
import os
import select
import socket
import socketserver
import sys
import threading
import time

ROOT, PORT_FILE, LOG_FILE = sys.argv[1], sys.argv[2], sys.argv[3]
seen = set()
seen_lock = threading.Lock()
log_lock = threading.Lock()
rotation = [0]
HOLD_SECONDS = 30


def first_time(key):
    with seen_lock:
        if key in seen:
            return False
        seen.add(key)
        return True


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def record(self, mode, status, sent):
        entry = {"method": self.command, "path": self.path, "mode": mode, "status": status,
                 "if_none_match": self.headers.get("If-None-Match"),
                 "authorization": self.headers.get("Authorization"), "sent": sent}
        with log_lock:
            with open(LOG_FILE, "a") as log:
                log.write(json.dumps(entry) + "\n")

    # Every answer is logged BEFORE its first byte goes out: a client that has its answer may
    # read the log at once, and must find the request there.
    def answer(self, mode, status, body=b"", headers=None):
        self.record(mode, status, len(body))
        self.send_response(status)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def do_HEAD(self):
        self.do_GET()

    def do_GET(self):
        parts = self.path.split("?")[0].lstrip("/").split("/", 1)
        mode = parts[0]
        relative = parts[1] if len(parts) > 1 else ""
        if mode.startswith("auth-"):
            _, user, password = mode.split("-", 2)
            expected = "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()
            if self.headers.get("Authorization") != expected:
                self.answer(mode, 401, b"authentication required\n", {"WWW-Authenticate": 'Basic realm="test"'})
                return
        if mode == "hang":
            self.record(mode, 0, 0)
            time.sleep(3600)
            return
        if mode == "redirectloop":
            self.answer(mode, 302, b"", {"Location": self.path})
            return
        if mode == "redirectfile":
            self.answer(mode, 302, b"", {"Location": "file://" + os.path.realpath(os.path.join(ROOT, relative))})
            return
        path = os.path.realpath(os.path.join(ROOT, relative))
        if not path.startswith(os.path.realpath(ROOT) + os.sep) or not os.path.isfile(path) or mode == "notfound":
            self.answer(mode, 404, b"not found\n")
            return
        if mode == "hold" and os.path.exists(path + ".hold") and not self.wait_for_release(mode, path + ".hold"):
            return
        key = (mode, relative)
        if mode == "fail500" or (mode == "fail500once" and first_time(key)):
            self.answer(mode, 500, b"internal error\n")
            return
        with open(path, "rb") as handle:
            content = handle.read()
        etag = '"' + hashlib.sha1(content).hexdigest() + '"'
        if mode == "rotate":
            rotation[0] += 1
            etag = '"rotation-%d"' % rotation[0]
        elif self.headers.get("If-None-Match") == etag:
            self.record(mode, 304, 0)
            self.send_response(304)
            self.send_header("ETag", etag)
            self.end_headers()
            return
        cut = mode == "cut" or (mode == "cutonce" and first_time(key))
        short = mode == "short" or (mode == "shortonce" and first_time(key))
        long = mode == "longonce" and first_time(key)
        understated = mode == "long"
        body = content
        if cut:
            body = content[: len(content) // 2]
        elif long:
            body = content + b"\0" * 64
        self.record(mode, 200, 0 if self.command == "HEAD" else len(body))
        self.send_response(200)
        self.send_header("ETag", etag)
        self.send_header("Content-Type", "application/octet-stream")
        declared = len(content) + 64 if short else max(0, len(content) - 64) if understated else len(content)
        self.send_header("Content-Length", str(declared))
        if cut or short or long or understated:
            self.send_header("Connection", "close")
        self.end_headers()
        if self.command == "HEAD":
            return
        if mode == "slow":
            for start in range(0, len(body), 512):
                self.wfile.write(body[start:start + 512])
                self.wfile.flush()
                time.sleep(0.3)
        else:
            self.wfile.write(body)
            self.wfile.flush()
        if cut or short or long or understated:
            self.close_connection = True

    # Waits until `hold` is removed. False when the request is already answered: the client went
    # away (logged as 499) or the hold outlasted HOLD_SECONDS (answered 404, so nothing retries).
    def wait_for_release(self, mode, hold):
        self.record(mode, 0, 0)
        deadline = time.monotonic() + HOLD_SECONDS
        while os.path.exists(hold):
            if time.monotonic() > deadline:
                self.answer(mode, 404, b"held too long\n")
                return False
            readable, _, _ = select.select([self.connection], [], [], 0.02)
            if readable and self.connection.recv(1, socket.MSG_PEEK) == b"":
                self.record(mode, 499, 0)
                self.close_connection = True
                return False
        return True


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True


server = Server(("127.0.0.1", 0), Handler)
with open(PORT_FILE + ".tmp", "w") as port_file:
    port_file.write(str(server.server_address[1]))
os.rename(PORT_FILE + ".tmp", PORT_FILE)
server.serve_forever()
