#!/usr/bin/env python3
"""A scripted upstream for gateway/tests/smoke.sh.

fake_upstream.py PORT

  GET  /health                    200 {"status":"ok"}
  ANY  /api/products/echo         200, the request as JSON: method, path,
                                  headers, body
  GET  /api/products/slow?ms=N    200 after N ms
  GET  /api/products/chunked      200, a chunked body
  GET  /api/products/close        200, a body delimited by closing
  GET  /api/products/big?n=N      200, N bytes of 'x'
  GET  /api/products/garbage      not HTTP at all
  GET  /api/products/status?code=N&h=Name:Value  answers N with that header
  GET  /api/products/hangup       closes without answering
  ANY  .../echo                   like /api/products/echo, on any service
  POST /api/auth/logout           204 (the user service revoking the token)
  GET  /api/products/calls        {"calls": N}: requests answered so far,
                                  /health and this one not counted
"""
import json
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit


CALLS = 0
CALLS_LOCK = threading.Lock()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        pass

    def send_json(self, code, obj, extra=()):
        body = json.dumps(obj).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        for name, value in extra:
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def handle_any(self):
        url = urlsplit(self.path)
        q = parse_qs(url.query)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        p = url.path
        if p == "/health":
            return self.send_json(200, {"status": "ok"})
        global CALLS
        if p == "/api/products/calls":
            with CALLS_LOCK:
                return self.send_json(200, {"calls": CALLS})
        with CALLS_LOCK:
            CALLS += 1
        if p == "/api/auth/logout" and self.command == "POST":
            self.send_response(204)
            self.end_headers()
            return None
        if p.endswith("/echo"):
            return self.send_json(200, {
                "method": self.command,
                "path": self.path,
                "headers": {k.lower(): v for k, v in self.headers.items()},
                "body": body.decode(errors="replace"),
            })
        if p == "/api/products/slow":
            time.sleep(int(q.get("ms", ["100"])[0]) / 1000)
            return self.send_json(200, {"slow": True})
        if p == "/api/products/chunked":
            self.send_response(200)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for part in (b"hello, ", b"chunked ", b"world"):
                self.wfile.write(b"%x\r\n%s\r\n" % (len(part), part))
                self.wfile.flush()
                time.sleep(0.01)
            self.wfile.write(b"0\r\n\r\n")
            return None
        if p == "/api/products/close":
            self.send_response(200)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(b"until the end")
            self.close_connection = True
            return None
        if p == "/api/products/big":
            n = int(q.get("n", ["1024"])[0])
            self.send_response(200)
            self.send_header("Content-Type", "application/octet-stream")
            self.send_header("Content-Length", str(n))
            self.end_headers()
            chunk = b"x" * 65536
            while n > 0:
                self.wfile.write(chunk[:min(n, len(chunk))])
                n -= min(n, len(chunk))
            return None
        if p == "/api/products/garbage":
            self.wfile.write(b"SPDY/9 nonsense\r\n\r\n")
            self.close_connection = True
            return None
        if p == "/api/products/hangup":
            self.close_connection = True
            return None
        if p == "/api/products/status":
            code = int(q.get("code", ["200"])[0])
            extra = [tuple(h.split(":", 1)) for h in q.get("h", [])]
            if code in (204, 304):
                self.send_response(code)
                for name, value in extra:
                    self.send_header(name, value)
                self.end_headers()
                return None
            return self.send_json(code, {"code": code}, extra)
        return self.send_json(404, {"title": "Not Found"})

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = handle_any


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    # socketserver's default backlog of 5 drops SYNs when the gateway opens
    # 16 connections at once, and a retried SYN (1 s) misses the gateway's
    # 100 ms connect timeout: "300 concurrent requests" then saw 503/504
    request_queue_size = 256

    def handle_error(self, request, client_address):
        pass  # clients hanging up (timeouts, probes) are part of the test


if __name__ == "__main__":
    Server(("127.0.0.1", int(sys.argv[1])), Handler).serve_forever()
