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
  notfound     every request answers 404
  rotate       every answer carries a new ETag and If-None-Match is ignored (always 200)
  auth-U-P     requires HTTP basic authentication as user U, password P (401 otherwise)
  slow         sends the body 512 bytes at a time, 0.1 s apart (for progress while downloading)

Every request is appended to LOG_FILE as one JSON object per line: method, path, mode, status,
the If-None-Match and Authorization headers it carried, and the body bytes sent.
"""
import base64
import hashlib
import http.server
import json
import os
import socketserver
import sys
import threading
import time

ROOT, PORT_FILE, LOG_FILE = sys.argv[1], sys.argv[2], sys.argv[3]
seen = set()
seen_lock = threading.Lock()
log_lock = threading.Lock()
rotation = [0]


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

    def answer(self, mode, status, body=b"", headers=None):
        self.send_response(status)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)
        self.record(mode, status, len(body))

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
        path = os.path.realpath(os.path.join(ROOT, relative))
        if not path.startswith(os.path.realpath(ROOT) + os.sep) or not os.path.isfile(path) or mode == "notfound":
            self.answer(mode, 404, b"not found\n")
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
            self.send_response(304)
            self.send_header("ETag", etag)
            self.end_headers()
            self.record(mode, 304, 0)
            return
        cut = mode == "cut" or (mode == "cutonce" and first_time(key))
        short = mode == "shortonce" and first_time(key)
        long = mode == "longonce" and first_time(key)
        self.send_response(200)
        self.send_header("ETag", etag)
        self.send_header("Content-Type", "application/octet-stream")
        declared = len(content) + 64 if short else len(content)
        self.send_header("Content-Length", str(declared))
        if cut or short or long:
            self.send_header("Connection", "close")
        self.end_headers()
        if self.command == "HEAD":
            self.record(mode, 200, 0)
            return
        body = content
        if cut:
            body = content[: len(content) // 2]
        elif long:
            body = content + b"\0" * 64
        if mode == "slow":
            for start in range(0, len(body), 512):
                self.wfile.write(body[start:start + 512])
                self.wfile.flush()
                time.sleep(0.1)
        else:
            self.wfile.write(body)
            self.wfile.flush()
        self.record(mode, 200, len(body))
        if cut or short or long:
            self.close_connection = True


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True


server = Server(("127.0.0.1", 0), Handler)
with open(PORT_FILE + ".tmp", "w") as port_file:
    port_file.write(str(server.server_address[1]))
os.rename(PORT_FILE + ".tmp", PORT_FILE)
server.serve_forever()
