"""A small HTTP proxy on 127.0.0.1 that injects S3 faults in front of the real (SeaweedFS) server.

Requests are forwarded byte for byte (the Host header too, so SigV4 signatures still verify).
A rule matches GET requests whose path contains `path_part` and, for its first `times` matches,
either answers 503 SlowDown, resets the connection, or sends the headers and only `after_bytes`
of the body before dropping the connection.
"""

from __future__ import annotations

import http.client
import socket
import struct
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

SLOW_DOWN = (b'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>SlowDown</Code>'
             b"<Message>Please reduce your request rate.</Message></Error>")


@dataclass
class FaultRule:
    path_part: str
    action: str  # "slowdown" | "reset" | "cut"
    times: int = 1
    after_bytes: int = 0
    hits: int = 0


class FaultProxy:
    def __init__(self, upstream_port: int):
        self.upstream_port = upstream_port
        self.rules: list[FaultRule] = []
        self.requests: list[tuple[str, str, str | None]] = []  # (method, path, Range header)
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def _forward(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else None
                proxy.requests.append((self.command, self.path, self.headers.get("Range")))
                rule = proxy.matching_rule(self.command, self.path)
                if rule is not None and rule.action == "slowdown":
                    self.send_response(503)
                    self.send_header("Content-Type", "application/xml")
                    self.send_header("Content-Length", str(len(SLOW_DOWN)))
                    self.end_headers()
                    self.wfile.write(SLOW_DOWN)
                    return
                if rule is not None and rule.action == "reset":
                    self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                    self.close_connection = True
                    return
                upstream = http.client.HTTPConnection("127.0.0.1", proxy.upstream_port, timeout=30)
                headers = {k: v for k, v in self.headers.items()}
                upstream.request(self.command, self.path, body=body, headers=headers)
                response = upstream.getresponse()
                payload = response.read()
                self.send_response(response.status, response.reason)
                for key, value in response.getheaders():
                    if key.lower() not in {"transfer-encoding", "connection"}:
                        self.send_header(key, value)
                if "content-length" not in {k.lower() for k, _ in response.getheaders()}:
                    self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                if rule is not None and rule.action == "cut":
                    self.wfile.write(payload[: rule.after_bytes])
                    self.wfile.flush()
                    self.connection.shutdown(socket.SHUT_RDWR)
                    self.close_connection = True
                else:
                    self.wfile.write(payload)
                upstream.close()

            do_GET = do_HEAD = do_PUT = do_POST = do_DELETE = _forward

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.endpoint = f"http://127.0.0.1:{self.port}"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def matching_rule(self, method: str, path: str) -> FaultRule | None:
        if method != "GET":
            return None
        for rule in self.rules:
            if rule.path_part in path and rule.hits < rule.times:
                rule.hits += 1
                return rule
        return None

    def __enter__(self) -> FaultProxy:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()
