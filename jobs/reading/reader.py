"""Read one shard (WARC, ARC, WET or JSONL; gzip or not) into document rows, recording every fault.

No Spark here: `read_shard` runs inside an executor task (or a test, or the bench) and yields plain
dicts. The format comes from the content, not the name. fastwarc frames WARC records; warcio is the
reference (`engine="warcio"`) and reads ARC. Both hand over raw record blocks, and everything after the
framing (HTTP, decoding, charset, extraction, the document's values) is the same code for both.

A record is committed (counted, its document yielded) only once the engine has framed the next one: a
record whose Content-Length is wrong is only noticed at the next header. After any framing fault the
reader finds the next record start itself, re-reads the faulty record from its raw bytes and restarts the
engine there (jobs/reading/records.py), so one bad record never ends the shard. fastwarc stops silently
when the last gzip member is cut short, so at the end the member of the last record is re-read to prove
the stream ended on a complete gzip member.
"""

from __future__ import annotations

import itertools
import json
import re
import time
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from cc_sieve.filters.extract import BinaryPayload, TooLarge, TooSlow, extract_text, is_html
from cc_sieve.jobs.reading.documents import clean_text, make_document, positional_doc_id
from cc_sieve.jobs.reading.http_payload import (
    HEAD_READ_BYTES,
    MAX_HTTP_HEAD_BYTES,
    PayloadTooLarge,
    UndecodablePayload,
    decoded_body,
    head_end,
    parse_http_head,
)
from cc_sieve.jobs.reading.jsonl import read_jsonl
from cc_sieve.jobs.reading.records import (
    FramingFault,
    UnreadableRegion,
    WarcRecordView,
    block_view,
    declared_length,
    fastwarc_records,
    inflated_head,
    next_record_start,
    read_block,
    read_region,
    split_region,
    warcio_records,
)
from cc_sieve.jobs.reading.report import ShardFault, ShardReport, classify_error

CRAWL_ID_IN_PATH = re.compile(r"CC-MAIN-\d{4}-\d{2}(?!\d)")
DOCUMENT_RECORD_TYPES = ("response", "conversion")
MAX_PAYLOAD_BYTES = 32 * 1024 * 1024
SNIFF_BYTES = 64 * 1024
WARCINFO_BYTES = 1 << 20
RECORD_START_LINE = re.compile(rb"(?:^|\n)WARC/(?:1\.[01]|0\.1[78])\r?\n")


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


@dataclass(frozen=True)
class Sniffed:
    gzipped: bool
    kind: str  # "warc", "arc", "jsonl" or "empty"
    lf_only: bool = False  # WARC header lines end with LF alone


def looks_like_jsonl(text: bytes) -> bool:
    """A first line that opens a JSON object, or (the first line being damaged) a later one that is one."""
    if text.startswith(b"{"):
        return True
    for line in text.split(b"\n")[1:-1][:64]:
        if line.lstrip().startswith(b"{"):
            try:
                if isinstance(json.loads(line), dict):
                    return True
            except (ValueError, RecursionError):
                continue
    return False


def sniff(stream: CountingStream) -> Sniffed:
    """The shard's format from its first bytes; anything else is a ShardFault that quotes none of them."""
    head = stream.peek(SNIFF_BYTES)
    gzipped = head[:2] == b"\x1f\x8b"
    if gzipped:
        try:
            text = zlib.decompressobj(zlib.MAX_WBITS | 16).decompress(head, SNIFF_BYTES)
        except zlib.error as error:
            raise ShardFault("corrupt_gzip", f"gzip header is corrupt: {error}", 0) from error
    else:
        text = head
    text = text.removeprefix(b"\xef\xbb\xbf").lstrip()
    if not text:
        return Sniffed(gzipped, "empty")
    if text.startswith(b"WARC/"):
        return Sniffed(gzipped, "warc", lf_only=not text.split(b"\n", 1)[0].endswith(b"\r"))
    if text.startswith(b"filedesc://"):
        return Sniffed(gzipped, "arc")
    if looks_like_jsonl(text):
        return Sniffed(gzipped, "jsonl")
    if RECORD_START_LINE.search(text):  # damaged bytes before the first WARC record: resynchronise
        return Sniffed(gzipped, "warc")
    raise ShardFault("not_a_shard", "content is neither WARC, ARC, WET nor JSONL", 0)


def crawl_id_from_path(uri: str) -> str | None:
    found = CRAWL_ID_IN_PATH.findall(uri)
    return found[-1] if found else None


def warcinfo_fields(block: bytes) -> dict[str, str]:
    fields = {}
    for line in block.decode("utf-8", "replace").splitlines():
        key, sep, value = line.partition(":")
        if sep:
            fields[key.strip()] = value.strip()
    return fields


@dataclass
class Outcome:
    """What one record gives, kept apart from the report until the record is committed."""

    view: WarcRecordView
    text: str | None = None  # a document's text; None: no document
    content_type: str | None = None
    language: str | None = None
    content_bytes: int = 0
    response_class: str | None = None
    crawl_id: str | None = None  # a warcinfo record's isPartOf
    faults: list[tuple[str, str, bool]] = field(default_factory=list)  # (error_class, message, record skipped)

    def skip(self, error_class: str, message: str) -> None:
        self.faults.append((error_class, message, True))


@dataclass(frozen=True)
class ReadSettings:
    engine: str = "fastwarc"
    main_content: bool = True
    max_payload: int = MAX_PAYLOAD_BYTES


def status_class(status: int | None) -> str:
    return f"{status // 100}xx" if status and 100 <= status < 600 else "no_status"


class WarcReading:
    """The records of one WARC or ARC shard, resynchronised after every framing fault."""

    def __init__(self, open_at: Callable[[int], BinaryIO], sniffed: Sniffed, report: ShardReport,
                 settings: ReadSettings):
        self.open_at = open_at
        self.sniffed = sniffed
        self.report = report
        self.settings = settings

    def records(self, stream, base: int) -> Iterator[WarcRecordView]:
        if self.sniffed.kind == "arc" or self.settings.engine == "warcio":
            return warcio_records(stream, base, arc=self.sniffed.kind == "arc")
        return fastwarc_records(stream, base, lf_only=self.sniffed.lf_only)

    def documents(self, first_stream: CountingStream) -> Iterator[dict]:
        start: int | None = 0
        stream = first_stream
        while start is not None:
            start = yield from self.read_from(start, stream or CountingStream(self.open_at(start)))
            stream = None

    def read_from(self, start: int, stream: CountingStream):
        """Documents from `start` on; returns where to restart after a framing fault (None: done)."""
        current: WarcRecordView | None = None
        held: Outcome | None = None
        fault: Exception | None = None
        try:
            for view in self.records(stream, start):
                if held is not None:
                    yield from self.commit(held)
                    held = None
                current = view
                held = self.outcome(view)
            if held is not None:
                yield from self.commit(held)
        except Exception as error:  # the engine could not frame a record: find the next one and go on
            fault = error
        finally:
            self.report.bytes_read += stream.position
            stream.close()
        if fault is not None:
            return (yield from self.recover(current.offset if current else start, fault))
        if self.sniffed.gzipped and self.report.last_record_offset is not None:
            verify_gzip_tail(self.open_at, self.report.last_record_offset)
        return None

    def recover(self, offset: int, fault: Exception):
        """Re-read the record at `offset` from its raw bytes up to the next record start, and return that
        start. A Content-Length that disagrees with the record's extent is reported, and the extent wins,
        unless the declared length ends on a record separator (then the bytes after it are the fault)."""
        error_class, message = classify_error(fault)
        if self.sniffed.kind == "arc":
            raise ShardFault(error_class, f"{message} (ARC files are not resynchronised)", offset) from fault
        report = self.report
        resume = next_record_start(self.open_at, offset + 1, self.sniffed.gzipped)
        where = f"reading resumed at byte {resume}" if resume is not None else "no record follows"
        try:
            region, junk = read_region(self.open_at, offset, resume, self.sniffed.gzipped,
                                       self.settings.max_payload + MAX_HTTP_HEAD_BYTES)
            parsed = split_region(region)
        except UnreadableRegion as unreadable:
            error_class, message, parsed = unreadable.error_class, str(unreadable), None
        if parsed is None:
            report.fail(error_class, f"{message}; the bytes up to the next record were skipped ({where})",
                        offset, fatal=False)
            return resume
        if junk:
            report.fail("corrupt_gzip", f"{junk} bytes after the record are no gzip member and were skipped "
                        f"({where})", offset, fatal=False, skipped=False)
        headers, rest = parsed
        declared = declared_length(headers.get("content-length"))
        if declared is not None and len(rest) >= declared and rest[declared:].strip(b"\r\n") == b"":
            block = rest[:declared]  # the record is whole: the fault lies after it
        elif declared is not None and rest[declared:declared + 2] in (b"\r\n", b"\n\n"):
            block = rest[:declared]
            report.fail("malformed_record", f"{len(rest) - declared} bytes after the record are no record and were "
                        f"skipped ({where})", offset, fatal=False, skipped=False)
        elif declared is not None and resume is None and len(rest) < declared:
            raise ShardFault("truncated", f"record body ends after {len(rest)} of {declared} bytes (truncated file)",
                             offset) from fault
        else:
            block = without_separator(rest)
            said = f"says {declared} bytes" if declared is not None else "is missing"
            report.fail("bad_length", f"Content-Length {said}, the record holds {len(block)}: read to the next "
                        f"record ({where})", offset, fatal=False, skipped=False)
        yield from self.commit(self.outcome(block_view(offset, headers, block)))
        return resume

    def commit(self, outcome: Outcome) -> Iterator[dict]:
        report, view = self.report, outcome.view
        report.last_record_offset = view.offset
        report.records_by_type[view.record_type] += 1
        if outcome.response_class:
            report.responses_by_class[outcome.response_class] += 1
        if outcome.crawl_id:
            report.crawl_id = outcome.crawl_id
        for error_class, message, skipped in outcome.faults:
            report.fail(error_class, message, view.offset, fatal=False, skipped=skipped)
        if outcome.text is None:
            return
        headers = view.headers
        record_id = (headers.get("warc-record-id") or "").strip().strip("<>")
        report.documents += 1
        yield make_document(
            doc_id=record_id if record_id and not view.positional_id else positional_doc_id(report.source_shard,
                                                                                            view.offset),
            url=headers.get("warc-target-uri"),
            crawl_id=report.crawl_id,
            fetch_date=headers.get("warc-date"),
            shard=report.source_shard,
            offset=view.offset,
            record_type=view.record_type,
            content_type=outcome.content_type,
            language=outcome.language,
            text=outcome.text,
            content_bytes=outcome.content_bytes,
            problems=report.field_problems,
        )

    def outcome(self, view: WarcRecordView) -> Outcome:
        """What the record gives. Raises FramingFault when its block ends before its Content-Length."""
        outcome = Outcome(view)
        if view.record_type == "warcinfo":
            outcome.crawl_id = warcinfo_fields(read_block(view, WARCINFO_BYTES)).get("isPartOf") or None
        elif view.record_type == "response":
            self.response(outcome)
        elif view.record_type == "conversion":
            self.conversion(outcome)
        return outcome

    def whole_block(self, view: WarcRecordView, prefix: bytes, outcome: Outcome) -> bytes | None:
        """The rest of the block after `prefix`, bounded by the record cap (None: over it, recorded)."""
        limit = self.settings.max_payload
        data = prefix + read_block(view, limit + 1 - len(prefix))
        if len(data) > limit:
            outcome.skip("too_large", f"payload over {limit} bytes skipped")
            return None
        if view.declared_length is not None and len(data) < view.declared_length:
            short = f"record block ends after {len(data)} of {view.declared_length} bytes"
            if self.sniffed.kind != "arc":
                raise FramingFault(short)
            outcome.faults.append(("bad_length", f"{short}: kept what is there (ARC is read as warcio reads it)",
                                   False))
        return data

    def conversion(self, outcome: Outcome) -> None:
        data = self.whole_block(outcome.view, b"", outcome)
        if data is not None:
            outcome.text = clean_text(data.decode("utf-8", "replace"))
            outcome.content_type = outcome.view.headers.get("content-type")
            outcome.language = outcome.view.headers.get("warc-identified-content-language")
            outcome.content_bytes = len(data)

    def response(self, outcome: Outcome) -> None:
        """An HTML 2xx response becomes a document; every response is counted by content and status class."""
        view = outcome.view
        data = read_block(view, HEAD_READ_BYTES)
        start = len(data) - len(data.lstrip(b"\r\n"))  # blank lines some writers put before the status line
        end = head_end(data, start)
        while end is None and len(data) < MAX_HTTP_HEAD_BYTES:
            more = read_block(view, HEAD_READ_BYTES)
            if not more:
                break
            data += more
            start = len(data) - len(data.lstrip(b"\r\n"))
            end = head_end(data, start)
        head = parse_http_head(data[start:end])
        if head is None or end is None and len(data) >= MAX_HTTP_HEAD_BYTES:
            outcome.response_class = "no_http"
            if head is not None:
                outcome.skip("http_head_too_large", f"HTTP head over {MAX_HTTP_HEAD_BYTES} bytes")
            return
        kind = "html" if is_html(head.content_type) else "other"
        outcome.response_class = f"{kind} {status_class(head.status)}"
        if outcome.response_class != "html 2xx":
            return
        block = self.whole_block(view, data, outcome)
        if block is None:
            return
        try:
            payload = decoded_body(head, block[start + head.length:], self.settings.max_payload)
            extraction = extract_text(payload, head.charset, main_content=self.settings.main_content)
        except (PayloadTooLarge, TooLarge) as error:
            outcome.skip("too_large", f"{error}; skipped")
            return
        except UndecodablePayload as error:
            outcome.skip("undecodable", f"{error}; skipped")
            return
        except BinaryPayload as error:
            outcome.skip("binary_payload", str(error))
            return
        except TooSlow as error:
            outcome.skip("too_slow", f"{error}; skipped")
            return
        except Exception as error:  # a page that breaks the extractor is skipped, not fatal
            outcome.skip("extract_error", f"{type(error).__name__} in the extractor; skipped")
            return
        if self.settings.main_content and not extraction.main_content:
            outcome.faults.append(("too_deep", "nested too deep for main-content extraction in the time bound: "
                                   "document kept with its boilerplate", False))
        outcome.text = extraction.text
        outcome.content_type = head.content_type
        outcome.content_bytes = len(payload)


def without_separator(block: bytes) -> bytes:
    for separator in (b"\r\n\r\n", b"\n\n"):
        if block.endswith(separator):
            return block[:-len(separator)]
    return block


def verify_gzip_tail(reopen: Callable[[int], BinaryIO], offset: int) -> None:
    """Inflate every gzip member from the one at `offset` to the end: a cut-short member is a ShardFault.
    When no member starts at `offset` (records inside one big member have no offset of their own), from 0."""
    with reopen(offset) as raw:
        chunk = raw.read(1 << 20)
        if offset and inflated_head(chunk) is None:
            raw.close()
            return verify_gzip_tail(reopen, 0)
        decompressor = zlib.decompressobj(zlib.MAX_WBITS | 16)
        member_start = offset
        position = offset
        while chunk:
            try:
                decompressor.decompress(chunk, 1 << 20)
                while decompressor.unconsumed_tail:
                    decompressor.decompress(decompressor.unconsumed_tail, 1 << 20)
            except zlib.error as error:
                raise ShardFault("corrupt_gzip", f"gzip data error: {error}", member_start) from error
            position += len(chunk) - len(decompressor.unused_data)
            if decompressor.eof:
                chunk = decompressor.unused_data or raw.read(1 << 20)
                member_start = position
                decompressor = zlib.decompressobj(zlib.MAX_WBITS | 16)
            else:
                chunk = raw.read(1 << 20)
        if position > member_start:  # bytes of a member that never reached its end
            raise ShardFault("truncated", "gzip stream ends inside a record (truncated file)", member_start)


def read_shard(uri: str, open_at: Callable[[int], BinaryIO], report: ShardReport | None = None,
               engine: str = "fastwarc", main_content: bool = True,
               max_payload: int = MAX_PAYLOAD_BYTES) -> Iterator[dict]:
    """Yield document rows of one shard; faults go to `report.failures`, never out as exceptions.

    `open_at(offset)` opens the raw shard bytes from `offset` (used again to resynchronise after a bad
    record and to check the gzip tail).
    """
    report = report if report is not None else ShardReport(uri)
    report.crawl_id = report.crawl_id or crawl_id_from_path(uri)
    settings = ReadSettings(engine, main_content, max_payload)
    started = time.perf_counter()
    stream = None
    try:
        stream = CountingStream(open_at(0))
        sniffed = sniff(stream)
        if sniffed.kind in ("warc", "arc"):
            first, stream = stream, None  # the reading owns the stream from here
            yield from WarcReading(open_at, sniffed, report, settings).documents(first)
        elif sniffed.kind == "jsonl":
            yield from read_jsonl(stream, sniffed.gzipped, report, max_payload)
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
            report.bytes_read += stream.position
            try:
                stream.close()
            except Exception:
                pass
        report.close()
        report.seconds = time.perf_counter() - started


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
