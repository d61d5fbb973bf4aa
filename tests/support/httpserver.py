"""A small HTTP file server on 127.0.0.1 for https:// shard tests: Range requests, 404s, a body cut short
or never sent on purpose, and a log of what was asked (query strings included, as a presigned URL sends
them)."""

from __future__ import annotations

import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class FileServer:
    def __init__(self, files: dict[str, bytes]):
        self.files = files  # path (without query) -> bytes
        self.cut_after: dict[str, int] = {}  # path -> bytes sent before the first response is dropped
        self.stalled: set[str] = set()  # paths whose body never comes (the client waits until it gives up)
        self.release = threading.Event()  # set at exit, so stalled answers end
        self.requests: list[tuple[str, str | None]] = []  # (path with query, Range header)
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_GET(self):
                server.requests.append((self.path, self.headers.get("Range")))
                path = self.path.split("?", 1)[0]
                data = server.files.get(path)
                if data is None:
                    self.send_response(404)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                start = 0
                match = re.fullmatch(r"bytes=(\d+)-", self.headers.get("Range") or "")
                if match:
                    start = int(match.group(1))
                    self.send_response(206)
                    self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
                else:
                    self.send_response(200)
                self.send_header("Content-Length", str(len(data) - start))
                self.end_headers()
                if path in server.stalled:
                    server.release.wait(120)
                    return
                cut = server.cut_after.pop(path, None)
                self.wfile.write(data[start:] if cut is None else data[start:start + cut])
                if cut is not None:
                    self.close_connection = True

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self._thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self) -> FileServer:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.release.set()
        self.httpd.shutdown()
        self.httpd.server_close()
