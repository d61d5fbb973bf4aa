"""WARC records written byte by byte, so a test can make exactly the damaged file it needs.

warcio's writer fixes what it writes (lengths, line ends, digests); these helpers do not: every header
line, length and separator is what the test says, which is how the files in the wild are broken.
"""

from __future__ import annotations

import gzip
from collections.abc import Iterable

from cc_sieve.jobs.reading.reader import ShardReport, read_shard
from tests.support.samples import bytes_opener

PAGE = ("<html><head><title>{title}</title></head><body><h1>{title}</h1><p>{body}</p>"
        "<p>A second paragraph, so that the page has a main content worth extracting.</p></body></html>")


def page(title: str = "A page", body: str = "Some words of the page.") -> bytes:
    return PAGE.format(title=title, body=body).encode()


def http_response(body: bytes, headers: Iterable[tuple[str, str]] = (("Content-Type", "text/html; charset=utf-8"),),
                  status_line: str = "HTTP/1.1 200 OK", line_end: bytes = b"\r\n") -> bytes:
    head = [status_line.encode("latin-1")] + [f"{name}: {value}".encode("latin-1") for name, value in headers]
    return line_end.join(head) + line_end + line_end + body


def warc_record(block: bytes, record_type: str = "response", uri: str | None = "http://example.com/",
                record_id: str | None = "<urn:uuid:00000000-0000-0000-0000-000000000001>",
                date: str | None = "2024-05-20T10:00:00Z", length: int | None = None,
                extra: Iterable[tuple[str, str]] = (), line_end: bytes = b"\r\n") -> bytes:
    """One WARC record; `length` overrides the true Content-Length (None: the block's length)."""
    fields = [("WARC-Type", record_type)]
    if record_id is not None:
        fields.append(("WARC-Record-ID", record_id))
    if date is not None:
        fields.append(("WARC-Date", date))
    if uri is not None:
        fields.append(("WARC-Target-URI", uri))
    content_type = "text/plain" if record_type == "conversion" else "application/http; msgtype=response"
    fields += [("Content-Type", content_type), *extra,
               ("Content-Length", str(len(block) if length is None else length))]
    head = line_end.join([b"WARC/1.0", *(f"{k}: {v}".encode() for k, v in fields)])
    return head + line_end + line_end + block + line_end + line_end


def response(n: int, body: bytes | None = None, **http) -> bytes:
    """A response record for http://example.com/<n> (its own record id) holding an HTML page."""
    return warc_record(http_response(page(f"Page {n}") if body is None else body, **http),
                       uri=f"http://example.com/{n}", record_id=f"<urn:uuid:00000000-0000-0000-0000-{n:012d}>")


def gzip_members(records: Iterable[bytes]) -> bytes:
    """Common Crawl's layout: every record its own gzip member."""
    return b"".join(gzip.compress(record, mtime=0) for record in records)


def read(data: bytes, name: str = "test.warc.gz", engine: str = "fastwarc",
         **settings) -> tuple[list[dict], ShardReport]:
    """The documents and report of a shard held in memory."""
    report = ShardReport(name)
    return list(read_shard(name, bytes_opener(data), report, engine=engine, **settings)), report
