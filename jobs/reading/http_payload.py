"""The HTTP response inside a WARC or ARC record, read as a browser would, with every cost bounded.

Both WARC engines hand over the record block unparsed, so this one lenient parser decides for both:
- the head ends at the first empty line, CRLF or LF alone (ClueWeb-style files use LF);
- the status line only needs a token and a three-digit code (`HTTPX/1.1 200`, `HTTP/2 200`);
- `Transfer-Encoding: chunked` is undone (a body that is not really chunked is kept as it is), then
  `Content-Encoding` gzip / deflate / br / zstd, each bounded: decoded bytes count against the record cap;
- Common Crawl's convention is kept: its crawler stores the payload decoded and renames the headers to
  `X-Crawler-Transfer-Encoding` / `X-Crawler-Content-Encoding`, which therefore mean "nothing to undo".
"""

from __future__ import annotations

import io
import re
import zlib
from dataclasses import dataclass

import brotli
from fastwarc.stream_io import ZstdReader

MAX_HTTP_HEAD_BYTES = 256 * 1024  # browsers refuse heads far smaller (Chrome: 256 KiB)
HEAD_READ_BYTES = 16 * 1024
DECODE_CHUNK = 256 * 1024
MAX_CHUNKS = 1 << 20  # ~0.65 s of dechunking; a real server sends far fewer, larger chunks

STATUS_LINE = re.compile(r"[!-~]*[ \t]+(\d{3})(?:[ \t]|\r?$)")
CHUNK_SIZE_LINE = re.compile(rb"[ \t]*([0-9A-Fa-f]{1,16})[ \t]*(?:;[^\r\n]*)?\r?\n")


class PayloadTooLarge(Exception):
    """Decoding would make the payload larger than the record cap."""


class UndecodablePayload(Exception):
    """A Content-Encoding that is not supported or whose data is corrupt from its first byte, or a body cut
    into more chunks than MAX_CHUNKS."""


@dataclass
class HttpHead:
    status: int | None  # None when the status line carries no code
    headers: dict[str, str]  # lower-case names; repeated fields joined with ", "
    length: int  # bytes of the head, the empty line included

    @property
    def content_type(self) -> str | None:
        value = self.headers.get("content-type")
        return value.split(";", 1)[0].strip().lower() or None if value else None

    @property
    def charset(self) -> str | None:
        match = re.search(r"charset\s*=\s*[\"']?([^\s;\"',]+)", self.headers.get("content-type", ""), re.I)
        return match.group(1) if match else None

    def codings(self, name: str) -> list[str]:
        """The codings a field lists, lower case, `identity` left out; none when Common Crawl already undid
        them (it renames the field to X-Crawler-<name>)."""
        if f"x-crawler-{name}" in self.headers:
            return []
        value = self.headers.get(name, "")
        return [c for c in (part.strip().lower() for part in value.split(",")) if c and c != "identity"]


def head_end(data: bytes, start: int = 0) -> int | None:
    """Where the head that starts at `start` ends (after its empty line), None when no empty line is there."""
    crlf = data.find(b"\n\r\n", start)
    lf = data.find(b"\n\n", start, crlf if crlf >= 0 else len(data))
    if lf >= 0:
        return lf + 2
    return crlf + 3 if crlf >= 0 else None


def parse_http_head(data: bytes) -> HttpHead | None:
    """The status and header fields of `data` (the head only); None when it does not start with a status line."""
    lines = data.decode("latin-1").split("\n")
    status = STATUS_LINE.match(lines[0])
    if status is None:
        return None
    headers: dict[str, str] = {}
    name = None
    for line in lines[1:]:
        line = line.rstrip("\r")
        if not line:
            break
        if line[0] in " \t" and name:  # an obsolete folded continuation line
            headers[name] += " " + line.strip()
            continue
        field, sep, value = line.partition(":")
        if not sep:
            continue
        name = field.strip().lower()
        value = value.strip()
        if name == "content-type" or name not in headers:
            headers[name] = value
        else:
            headers[name] += ", " + value
    return HttpHead(int(status.group(1)), headers, len(data))


def dechunk(body: bytes) -> bytes:
    """Undo chunked transfer coding. A body whose first line is no chunk size was not chunked and is kept;
    a chunk size that cannot be parsed later on ends decoding, and the rest is kept as it is (as warcio
    does); a last chunk cut short keeps what is there."""
    parts: list[bytes] = []
    position = 0
    while position < len(body):
        if len(parts) >= MAX_CHUNKS:
            raise UndecodablePayload(f"more than {MAX_CHUNKS:,} chunks")
        line = CHUNK_SIZE_LINE.match(body, position)
        if line is None:
            if position == 0:
                return body
            parts.append(body[position:])
            break
        size = int(line.group(1), 16)
        if size == 0:
            break
        start = line.end()
        parts.append(body[start:start + size])
        position = start + size
        if body.startswith(b"\r\n", position):
            position += 2
        elif body.startswith(b"\n", position):
            position += 1
    return b"".join(parts)


def inflate(data: bytes, wbits: int, limit: int) -> bytes:
    decompressor = zlib.decompressobj(wbits)
    out = decompressor.decompress(data, limit + 1)
    if len(out) > limit:
        raise PayloadTooLarge(f"decoded payload over {limit} bytes")
    if data and not out and not decompressor.eof:
        raise zlib.error("no data inflates")
    return out


def decode_gzip_or_deflate(data: bytes, coding: str, limit: int) -> bytes:
    """gzip, or deflate with or without its zlib wrapper (servers send both); a body cut short keeps what
    inflates."""
    attempts = (zlib.MAX_WBITS | 32,) if coding in ("gzip", "x-gzip") else (zlib.MAX_WBITS, -zlib.MAX_WBITS)
    for wbits in attempts:
        try:
            return inflate(data, wbits, limit)
        except zlib.error as error:
            problem = error
    raise UndecodablePayload(f"{coding} data is corrupt ({problem})")


def decode_brotli(data: bytes, limit: int) -> bytes:
    decompressor = brotli.Decompressor()
    try:
        out = decompressor.process(data, output_buffer_limit=limit + 1)
    except brotli.error as error:
        raise UndecodablePayload(f"br data is corrupt ({error})") from None
    if len(out) > limit or not decompressor.can_accept_more_data():
        raise PayloadTooLarge(f"decoded payload over {limit} bytes")
    return out


def decode_zstd(data: bytes, limit: int) -> bytes:
    reader = ZstdReader(io.BytesIO(data))
    parts, size = [], 0
    try:
        while size <= limit:
            chunk = reader.read(DECODE_CHUNK)
            if not chunk:
                break
            parts.append(chunk)
            size += len(chunk)
    except OSError as error:
        if not parts:
            raise UndecodablePayload(f"zstd data is corrupt ({error})") from None
    if size > limit:
        raise PayloadTooLarge(f"decoded payload over {limit} bytes")
    return b"".join(parts)


def decode_content(body: bytes, codings: list[str], limit: int) -> bytes:
    """Undo the Content-Encoding codings, last applied first."""
    for coding in reversed(codings):
        if coding in ("gzip", "x-gzip", "deflate"):
            body = decode_gzip_or_deflate(body, coding, limit)
        elif coding == "br":
            body = decode_brotli(body, limit)
        elif coding == "zstd":
            body = decode_zstd(body, limit)
        else:
            raise UndecodablePayload(f"unsupported Content-Encoding {coding[:40]!r}")
    return body


def decoded_body(head: HttpHead, body: bytes, limit: int) -> bytes:
    """The body as the page's author wrote it: transfer coding, then content coding undone."""
    if "chunked" in head.codings("transfer-encoding"):
        body = dechunk(body)
    return decode_content(body, head.codings("content-encoding"), limit)
