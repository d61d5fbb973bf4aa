"""Read one shard (WARC, WET or JSONL; gzip or not) into document rows, recording every fault.

No Spark here: `read_shard` runs inside an executor task (or a test, or the bench) and yields
plain dicts. The format comes from the content, not the name. fastwarc is the fast parser;
warcio is the reference (`engine="warcio"`), and both must yield the same documents.

fastwarc stops silently when a gzip member is cut short, yielding the cut record with a short
body. So every record's body is checked against its Content-Length, and at the end the member
of the last record is re-read (a Range request for remote shards) to prove the stream ended on
a complete gzip member.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import itertools
import json
import re
import time
import zlib
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO
from urllib.parse import urlsplit

from fastwarc.warc import ArchiveIterator as FastwarcIterator
from warcio.archiveiterator import ArchiveIterator as WarcioIterator

from cc_sieve.filters.extract import BinaryPayload, html_to_text, is_html

CRAWL_ID_IN_PATH = re.compile(r"CC-MAIN-\d{4}-\d{2}(?!\d)")
DOCUMENT_RECORD_TYPES = ("response", "conversion")
USED_RECORD_TYPES = ("warcinfo", *DOCUMENT_RECORD_TYPES)
MAX_PAYLOAD_BYTES = 32 * 1024 * 1024
SNIFF_BYTES = 64 * 1024


class ShardFault(Exception):
    """A fault that ends the shard. `error_class` is a short machine name, the message says what."""

    def __init__(self, error_class: str, message: str, offset: int | None = None):
        super().__init__(message)
        self.error_class = error_class
        self.offset = offset


@dataclass
class Failure:
    source_shard: str
    record_offset: int | None
    error_class: str
    message: str
    fatal: bool  # True: the shard stopped here; False: one record skipped, reading went on

    def as_row(self) -> dict:
        return dict(self.__dict__)


@dataclass
class ShardReport:
    """What reading one shard did: counts, bytes, time and faults (documents go elsewhere)."""

    source_shard: str
    crawl_id: str | None = None
    records_by_type: Counter = field(default_factory=Counter)
    documents: int = 0
    records_skipped: int = 0
    bytes_read: int = 0
    seconds: float = 0.0
    failures: list[Failure] = field(default_factory=list)
    last_record_offset: int | None = None

    @property
    def failed(self) -> bool:
        return any(f.fatal for f in self.failures)

    def fail(self, error_class: str, message: str, offset: int | None, fatal: bool) -> None:
        self.failures.append(Failure(self.source_shard, offset, error_class, message, fatal))
        if not fatal:
            self.records_skipped += 1


class CountingStream:
    """Read-only wrapper that counts bytes, lets the head be peeked, and offers the `tell()` fastwarc needs."""

    def __init__(self, raw: BinaryIO):
        self._raw = raw
        self._head = b""
        self.position = 0

    def peek(self, n: int) -> bytes:
        while len(self._head) < n:
            chunk = self._raw.read(n - len(self._head))
            if not chunk:
                break
            self._head += chunk
        return self._head[:n]

    def read(self, n: int = -1) -> bytes:
        if self._head:
            if n < 0:
                data = self._head + self._raw.read()
                self._head = b""
            else:
                data, self._head = self._head[:n], self._head[n:]
        else:
            data = self._raw.read(n)
        self.position += len(data)
        return data

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        """As a raw stream under io.BufferedReader (line reading of uncompressed JSONL)."""
        data = self.read(len(buffer))
        buffer[:len(data)] = data
        return len(data)

    @property
    def closed(self) -> bool:
        return getattr(self._raw, "closed", False)

    def tell(self) -> int:
        return self.position

    def close(self) -> None:
        self._raw.close()


def sniff(stream: CountingStream) -> tuple[bool, str]:
    """(gzipped, kind) where kind is 'warc', 'jsonl' or 'empty'; anything else is a ShardFault."""
    head = stream.peek(SNIFF_BYTES)
    if not head:
        return False, "empty"
    gzipped = head[:2] == b"\x1f\x8b"
    if gzipped:
        try:
            text = zlib.decompressobj(zlib.MAX_WBITS | 16).decompress(head, 4096)
        except zlib.error as error:
            raise ShardFault("corrupt_gzip", f"gzip header is corrupt: {error}", 0) from error
    else:
        text = head[:4096]
    start = text.lstrip()[:8]
    if start.startswith(b"WARC/"):
        return gzipped, "warc"
    if start.startswith(b"{"):
        return gzipped, "jsonl"
    if not start:
        return gzipped, "empty"
    raise ShardFault("not_a_shard", f"content is neither WARC, WET nor JSONL (starts with {start[:8]!r})", 0)


def crawl_id_from_path(uri: str) -> str | None:
    found = CRAWL_ID_IN_PATH.findall(uri)
    return found[-1] if found else None


def parse_warc_date(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(UTC)
    except ValueError:
        return None


def warcinfo_fields(block: bytes) -> dict[str, str]:
    fields = {}
    for line in block.decode("utf-8", "replace").splitlines():
        key, sep, value = line.partition(":")
        if sep:
            fields[key.strip()] = value.strip()
    return fields


def host_of(url: str | None) -> str | None:
    if not url:
        return None
    try:
        host = urlsplit(url if "://" in url else "http://" + url).hostname
    except ValueError:
        return None
    return host.lower() if host else None


def strip_record_id(record_id: str | None) -> str | None:
    return record_id.strip("<>") if record_id else None


def make_document(*, doc_id, url, crawl_id, fetch_date, shard, offset, record_type, content_type,
                  language, text, content_bytes) -> dict:
    return {
        "doc_id": doc_id,
        "url": url,
        "host": host_of(url),
        "crawl_id": crawl_id,
        "fetch_date": fetch_date,
        "source_shard": shard,
        "record_offset": offset,
        "record_type": record_type,
        "content_type": content_type,
        "language": language,
        "text": text,
        "content_bytes": content_bytes,
        "text_chars": len(text),
    }


@dataclass
class WarcRecordView:
    """The fields cc-sieve needs from one WARC record, the same from fastwarc and from warcio."""

    offset: int
    record_type: str
    headers: dict[str, str]
    http_status: int | None
    http_content_type: str | None
    http_charset: str | None
    has_length: bool  # False when the record header was cut before its Content-Length
    declared_length: int | None  # payload bytes the record says it holds; None when unknown
    read_payload: Callable[[int], bytes]


def counted_only(offset: int, record_type: str) -> WarcRecordView:
    """A record cc-sieve only counts (request, metadata, ...): no header parsing, no payload."""
    return WarcRecordView(offset, record_type, {}, None, None, None, True, None, lambda n: b"")


def fastwarc_records(stream) -> Iterator[WarcRecordView]:
    for record in FastwarcIterator(stream, parse_http=True, auto_decode="none"):
        record_type = str(record.record_type).rsplit(".", 1)[-1]
        if record_type not in USED_RECORD_TYPES:
            yield counted_only(record.stream_pos, record_type)
            continue
        http = record.http_headers if record.is_http else None
        content_type = record.http_content_type if http is not None else record.headers.get("Content-Type")
        yield WarcRecordView(
            offset=record.stream_pos,
            record_type=record_type,
            headers=dict(record.headers.items()),
            http_status=http.status_code if http is not None else None,
            http_content_type=content_type,
            http_charset=record.http_charset if http is not None else None,
            has_length="Content-Length" in record.headers,
            declared_length=record.content_length,
            read_payload=record.reader.read,
        )


def warcio_records(stream) -> Iterator[WarcRecordView]:
    iterator = WarcioIterator(stream, no_record_parse=False)
    for record in iterator:
        if record.rec_type not in USED_RECORD_TYPES:
            yield counted_only(iterator.offset, record.rec_type)
            continue
        headers = dict(record.rec_headers.headers)
        http = record.http_headers
        content_type = None
        charset = None
        if http is not None:
            full_type = http.get_header("Content-Type") or ""
            content_type = full_type.split(";", 1)[0].strip() or None
            match = re.search(r"charset=([^\s;]+)", full_type, re.I)
            charset = match.group(1).strip("\"'") if match else None
        else:
            content_type = headers.get("Content-Type")
        status = None
        if http is not None and record.rec_type == "response" and (http.get_statuscode() or "").isdigit():
            status = int(http.get_statuscode())
        raw = record.raw_stream
        yield WarcRecordView(
            offset=iterator.offset,  # get_record_offset() would read the record to its end
            record_type=record.rec_type,
            headers=headers,
            http_status=status,
            http_content_type=content_type,
            http_charset=charset,
            has_length="Content-Length" in headers,
            declared_length=None,  # warcio raises on a cut-short record itself
            read_payload=raw.read,
        )


def read_capped(view: WarcRecordView, limit: int) -> bytes:
    return view.read_payload(limit + 1)


def verify_gzip_tail(reopen: Callable[[int], BinaryIO], offset: int) -> None:
    """Inflate every gzip member from `offset` to the end: a cut-short member is a ShardFault."""
    with reopen(offset) as raw:
        decompressor = zlib.decompressobj(zlib.MAX_WBITS | 16)
        member_start = offset
        position = offset
        while True:
            chunk = raw.read(1 << 20)
            if not chunk:
                break
            while chunk:
                try:
                    decompressor.decompress(chunk, 1 << 20)
                    while decompressor.unconsumed_tail:
                        decompressor.decompress(decompressor.unconsumed_tail, 1 << 20)
                except zlib.error as error:
                    raise ShardFault("corrupt_gzip", f"gzip data error: {error}", member_start) from error
                consumed = len(chunk) - len(decompressor.unused_data)
                position += consumed
                if decompressor.eof:
                    chunk = decompressor.unused_data
                    member_start = position
                    decompressor = zlib.decompressobj(zlib.MAX_WBITS | 16)
                else:
                    chunk = b""
        if position > member_start:  # bytes of a member that never reached its end
            raise ShardFault("truncated", "gzip stream ends inside a record (truncated file)", member_start)


def read_warc(stream, report: ShardReport, engine: str, main_content: bool,
              max_payload: int) -> Iterator[dict]:
    records = fastwarc_records(stream) if engine == "fastwarc" else warcio_records(stream)
    crawl_id = report.crawl_id
    for view in records:
        report.last_record_offset = view.offset
        report.records_by_type[view.record_type] += 1
        if view.record_type == "warcinfo":
            fields = warcinfo_fields(view.read_payload(1 << 20))
            crawl_id = fields.get("isPartOf") or crawl_id
            report.crawl_id = crawl_id
            continue
        if view.record_type not in DOCUMENT_RECORD_TYPES:
            continue
        if not view.has_length:
            raise ShardFault("truncated", "record header is cut short (no Content-Length)", view.offset)
        if view.record_type == "response":
            if not is_html(view.http_content_type) or not view.http_status or view.http_status // 100 != 2:
                continue
        payload = read_capped(view, max_payload)
        if len(payload) > max_payload:
            report.fail("too_large", f"payload over {max_payload} bytes skipped", view.offset, fatal=False)
            continue
        if view.declared_length is not None and len(payload) < view.declared_length:
            raise ShardFault("truncated", f"record body ends after {len(payload)} of "
                             f"{view.declared_length} bytes (truncated file)", view.offset)
        headers = view.headers
        if view.record_type == "response":
            try:
                text = html_to_text(payload, view.http_charset, main_content=main_content)
            except BinaryPayload as error:
                report.fail("binary_payload", str(error), view.offset, fatal=False)
                continue
            except Exception as error:  # a page that breaks the extractor is skipped, not fatal
                report.fail("extract_error", f"{type(error).__name__}: {error}", view.offset, fatal=False)
                continue
            language = None
        else:
            text = payload.decode("utf-8", "replace").strip()
            language = headers.get("WARC-Identified-Content-Language")
        url = headers.get("WARC-Target-URI")
        report.documents += 1
        yield make_document(
            doc_id=strip_record_id(headers.get("WARC-Record-ID")),
            url=url,
            crawl_id=crawl_id,
            fetch_date=parse_warc_date(headers.get("WARC-Date")),
            shard=report.source_shard,
            offset=view.offset,
            record_type=view.record_type,
            content_type=(view.http_content_type or "").split(";", 1)[0].strip().lower() or None,
            language=language,
            text=text,
            content_bytes=len(payload),
        )


def jsonl_doc_id(source_shard: str, offset: int) -> str:
    """A JSONL line's id: a hash of its shard's file name and its byte offset. Unique even for identical
    lines (which a content hash would merge into one document for every join and for dedup), and the
    same wherever the shard is read from (local, S3, https)."""
    name = source_shard.rstrip("/").rsplit("/", 1)[-1]
    return "sha1:" + hashlib.sha1(f"{name}\x00{offset}".encode("utf-8", "surrogatepass")).hexdigest()


def jsonl_document(obj: dict, report: ShardReport, offset: int) -> dict:
    metadata = obj.get("metadata") if isinstance(obj.get("metadata"), dict) else {}
    text = obj.get("text")
    if not isinstance(text, str):
        raise ValueError("no string field 'text'")
    url = obj.get("url") or metadata.get("warc_url") or metadata.get("url")
    return make_document(
        doc_id=jsonl_doc_id(report.source_shard, offset),
        url=url,
        crawl_id=obj.get("crawl_id") or metadata.get("crawl_id") or report.crawl_id,
        fetch_date=parse_warc_date(metadata.get("warc_date") or obj.get("date") or obj.get("created")),
        shard=report.source_shard,
        offset=offset,
        record_type="jsonl",
        content_type=metadata.get("content_type") or obj.get("content_type"),
        language=obj.get("language") or metadata.get("language"),
        text=text,
        content_bytes=len(text.encode("utf-8", "surrogatepass")),
    )


def read_jsonl(stream, gzipped: bool, report: ShardReport) -> Iterator[dict]:
    source = gzip.GzipFile(fileobj=stream, mode="rb") if gzipped else stream
    lines = io.BufferedReader(source, 1 << 20)
    offset = 0
    try:
        for line in iter_lines(lines):
            line_offset, offset = offset, offset + len(line)
            if not line.strip():
                continue
            report.records_by_type["jsonl"] += 1
            try:
                obj = json.loads(line)
                if not isinstance(obj, dict):
                    raise ValueError("line is not a JSON object")
                document = jsonl_document(obj, report, line_offset)
            except ValueError as error:
                report.fail("bad_json", f"line skipped: {error}", line_offset, fatal=False)
                continue
            report.documents += 1
            yield document
    except EOFError as error:
        raise ShardFault("truncated", f"gzip stream ends early: {error}", offset) from error
    except (zlib.error, gzip.BadGzipFile) as error:
        raise ShardFault("corrupt_gzip", f"gzip data error: {error}", offset) from error


def iter_lines(stream) -> Iterator[bytes]:
    while True:
        line = stream.readline()
        if not line:
            return
        yield line


def read_shard(uri: str, open_at: Callable[[int], BinaryIO], report: ShardReport | None = None,
               engine: str = "fastwarc", main_content: bool = True,
               max_payload: int = MAX_PAYLOAD_BYTES) -> Iterator[dict]:
    """Yield document rows of one shard; faults go to `report.failures`, never out as exceptions.

    `open_at(offset)` opens the raw shard bytes from `offset` (used again to check the gzip tail).
    """
    report = report if report is not None else ShardReport(uri)
    report.crawl_id = report.crawl_id or crawl_id_from_path(uri)
    started = time.perf_counter()
    stream = None
    try:
        stream = CountingStream(open_at(0))
        gzipped, kind = sniff(stream)
        if kind == "warc":
            yield from read_warc(stream, report, engine, main_content, max_payload)
            if gzipped and report.last_record_offset is not None:
                verify_gzip_tail(open_at, report.last_record_offset)
        elif kind == "jsonl":
            yield from read_jsonl(stream, gzipped, report)
        else:
            report.fail("empty", "the shard holds no records (empty file)", 0, fatal=True)
    except ShardFault as fault:
        report.fail(fault.error_class, str(fault), fault.offset, fatal=True)
    except Exception as error:  # every other fault is classified, recorded and ends only this shard
        error_class, message = classify_error(error)
        offset = report.last_record_offset
        if offset is None and stream is not None:
            offset = stream.position
        report.fail(error_class, message, offset, fatal=True)
    finally:
        if stream is not None:
            report.bytes_read = stream.position
            try:
                stream.close()
            except Exception:
                pass
        report.seconds = time.perf_counter() - started


def classify_error(error: BaseException) -> tuple[str, str]:
    """(error_class, one-line message) for any exception raised while opening or reading a shard."""
    name = type(error).__name__
    if isinstance(error, FileNotFoundError):
        return "missing", f"no such file: {error.filename or error}"
    if isinstance(error, PermissionError):
        return "access_denied", f"permission denied: {error.filename or error}"
    response = getattr(error, "response", None)
    if isinstance(response, dict) and "Error" in response:
        code = response["Error"].get("Code", "")
        status = response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        if code in {"NoSuchKey", "404", "NotFound"}:
            return "missing", "no such key on S3"
        if code in {"AccessDenied", "403", "InvalidAccessKeyId", "SignatureDoesNotMatch"}:
            return "access_denied", f"S3 refused access ({code}); check the credentials or --s3-unsigned"
        if code in {"SlowDown", "503", "ServiceUnavailable", "InternalError", "500"}:
            return "s3_unavailable", f"S3 kept answering {code} after retries"
        return "s3_error", f"S3 error {code or status}"
    if name == "HTTPError":
        return ("missing" if getattr(error, "code", None) == 404 else "http_error"), f"HTTP {error}"
    message = str(error).splitlines()[0] if str(error) else name
    if "Gzip" in message or "gzip" in message or isinstance(error, zlib.error):
        return "corrupt_gzip", message
    if "WARC" in message:
        return "malformed_record", message
    if isinstance(error, (ConnectionError, TimeoutError)) or "Connect" in name or "Timeout" in name:
        return "network", f"{name}: {message}"
    if isinstance(error, OSError):
        return "io_error", f"{name}: {message}"
    return "read_error", f"{name}: {message}"


def local_opener(path: str | Path) -> Callable[[int], BinaryIO]:
    def open_at(offset: int) -> BinaryIO:
        handle = open(path, "rb")
        handle.seek(offset)
        return handle

    return open_at


def read_documents(path: str | Path, limit: int | None = None) -> list[dict]:
    """The document rows of one local shard (its first `limit`), as the ingest reads them; a fault is an error
    (for tests and benches, which read files they know to be whole)."""
    report = ShardReport(str(path))
    documents = list(itertools.islice(read_shard(str(path), local_opener(path), report), limit))
    if report.failures:
        raise RuntimeError(f"{path}: {report.failures[0].message}")
    return documents
