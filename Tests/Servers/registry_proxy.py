#!/usr/bin/env python3
"""A loopback proxy in front of a registry, for Distill's publish tests: it breaks one thing.

Usage: registry_proxy.py UPSTREAM FAULT PORT_FILE

Listens on 127.0.0.1 on a free port, writes the port to PORT_FILE, and forwards every request
to UPSTREAM (host:port, plain HTTP) with its Host header unchanged, so the registry's upload
locations keep naming the proxy. FAULT is one of:

  cut-uploads   a PUT or PATCH under /blobs/uploads/ that carries bytes: half of its body is read,
                then the connection is closed without an answer (an upload cut off mid-stream)
  claim-blobs   HEAD on any blob answers 200 (Content-Length 0) without asking the registry: a
                client that believes it skips the upload and the registry later rejects the
                manifests (MANIFEST_BLOB_UNKNOWN); one that checks the size refuses the answer
  reject-index  PUT of an image index answers 400 MANIFEST_INVALID; other manifests pass
  reject-signatures  PUT of a manifest under a cosign tag (sha256-<hex>.sig or .att) answers 400
                MANIFEST_INVALID; the image itself passes

Every request is logged on stdout as one line: METHOD PATH STATUS, or METHOD PATH cut.
"""
import http.client
import http.server
import os
import socketserver
import sys
import threading

UPSTREAM, FAULT, PORT_FILE = sys.argv[1], sys.argv[2], sys.argv[3]
if FAULT not in ("cut-uploads", "claim-blobs", "reject-index", "reject-signatures"):
    sys.exit(f"unknown fault {FAULT}")
HOP_BY_HOP = {"connection", "keep-alive", "proxy-connection", "transfer-encoding", "te", "trailer", "upgrade",
              "expect", "content-length"}
log_lock = threading.Lock()


def log(line):
    with log_lock:
        print(line, flush=True)


class Proxy(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def answer(self, status, headers, body):
        self.send_response(status)
        for name, value in headers:
            if name.lower() not in HOP_BY_HOP:
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        if self.close_connection:
            # The client asked to close (Connection is hop-by-hop, so it is answered here).
            self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)
        log(f"{self.command} {self.path} {status}")

    def forward(self):
        length = int(self.headers.get("Content-Length") or 0)
        if FAULT == "cut-uploads" and self.command in ("PUT", "PATCH") and "/blobs/uploads/" in self.path and length > 0:
            self.rfile.read(length // 2)
            log(f"{self.command} {self.path} cut")
            self.close_connection = True
            return
        if FAULT == "claim-blobs" and self.command == "HEAD" and "/blobs/sha256:" in self.path:
            self.answer(200, [("Docker-Content-Digest", self.path.rsplit("/", 1)[-1])], b"")
            return
        content_type = self.headers.get("Content-Type", "")
        tag = self.path.rsplit("/", 1)[-1]
        rejected_signature = FAULT == "reject-signatures" and tag.startswith("sha256-") and tag.endswith((".sig", ".att"))
        rejected_index = FAULT == "reject-index" and "index" in content_type
        if self.command == "PUT" and "/manifests/" in self.path and (rejected_index or rejected_signature):
            self.rfile.read(length)
            body = b'{"errors":[{"code":"MANIFEST_INVALID","message":"manifest invalid","detail":"refused by the test proxy"}]}'
            self.answer(400, [("Content-Type", "application/json")], body)
            return
        body = self.rfile.read(length) if length else None
        headers = {name: value for name, value in self.headers.items() if name.lower() not in HOP_BY_HOP}
        if body is not None or self.command in ("PUT", "POST", "PATCH"):
            headers["Content-Length"] = str(len(body or b""))
        upstream = http.client.HTTPConnection(UPSTREAM, timeout=60)
        try:
            upstream.request(self.command, self.path, body=body, headers=headers)
            response = upstream.getresponse()
            payload = response.read()
            if self.command == "HEAD":
                # The registry's Content-Length describes the blob or manifest, not this empty body.
                self.send_response(response.status)
                for name, value in response.getheaders():
                    if name.lower() not in HOP_BY_HOP or name.lower() == "content-length":
                        self.send_header(name, value)
                self.end_headers()
                log(f"{self.command} {self.path} {response.status}")
            else:
                self.answer(response.status, response.getheaders(), payload)
        finally:
            upstream.close()

    do_GET = do_HEAD = do_POST = do_PUT = do_PATCH = do_DELETE = forward


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True


server = Server(("127.0.0.1", 0), Proxy)
with open(PORT_FILE + ".tmp", "w") as port_file:
    port_file.write(str(server.server_address[1]))
os.rename(PORT_FILE + ".tmp", PORT_FILE)
server.serve_forever()
