"""A small fault-injecting HTTP proxy of our own, put between the client factory and moto.

Point an Environment's endpoint_url at `proxy.url`; every request is forwarded to the moto server
unless a fault is armed:
- `throttle(n)`: the next n requests get HTTP 400 ThrottlingException (as AWS throttles);
- `fail(n, status)`: the next n requests get an HTTP 5xx;
- `drop(n)`: the next n requests have their connection closed with no response;
- `delay = seconds`: every request waits that long before being forwarded.
`requests` counts what reached the proxy, `forwarded` what reached moto.
"""
from __future__ import annotations

import http.client
import json
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit


class FaultProxy:
    def __init__(self, target_url: str):
        target = urlsplit(target_url)
        self.target = (target.hostname, target.port)
        self.delay = 0.0
        self.requests = 0
        self.forwarded = 0
        self._faults: list[tuple[str, int]] = []  # armed faults, in order: (kind, status)
        self._lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def start(self) -> "FaultProxy":
        self._thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def throttle(self, n: int = 1) -> None:
        with self._lock:
            self._faults += [("throttle", 400)] * n

    def fail(self, n: int = 1, status: int = 503) -> None:
        with self._lock:
            self._faults += [("fail", status)] * n

    def drop(self, n: int = 1) -> None:
        with self._lock:
            self._faults += [("drop", 0)] * n

    def _next_fault(self) -> tuple[str, int] | None:
        with self._lock:
            self.requests += 1
            return self._faults.pop(0) if self._faults else None

    def _handler(self):
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def _send(self, status: int, body: bytes, headers: dict[str, str]) -> None:
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def _proxy(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                fault = proxy._next_fault()
                if proxy.delay:
                    time.sleep(proxy.delay)
                if fault and fault[0] == "drop":
                    self.connection.shutdown(socket.SHUT_RDWR)
                    self.close_connection = True
                    return
                if fault and fault[0] == "throttle":
                    payload = json.dumps({"__type": "ThrottlingException", "message": "Rate exceeded"}).encode()
                    self._send(400, payload, {"Content-Type": "application/x-amz-json-1.1",
                                              "x-amzn-ErrorType": "ThrottlingException"})
                    return
                if fault and fault[0] == "fail":
                    self._send(fault[1], b"Service Unavailable", {"Content-Type": "text/plain"})
                    return
                upstream = http.client.HTTPConnection(*proxy.target, timeout=60)
                try:
                    headers = {k: v for k, v in self.headers.items() if k.lower() not in ("connection", "keep-alive")}
                    upstream.request(self.command, self.path, body=body, headers=headers)
                    response = upstream.getresponse()
                    data = response.read()
                    with proxy._lock:
                        proxy.forwarded += 1
                    skip = {"transfer-encoding", "connection", "content-length", "keep-alive"}
                    self._send(response.status, data, {k: v for k, v in response.getheaders() if k.lower() not in skip})
                finally:
                    upstream.close()

            do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = do_PATCH = _proxy

        return Handler
