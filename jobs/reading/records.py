"""WARC and ARC records from the two engines, and what the reader needs to resynchronise after a bad one.

Both engines hand over the record block unparsed (the HTTP inside is jobs/reading/http_payload.py's job),
so they differ only in framing. fastwarc is the fast one; warcio the reference, and the only one that
reads ARC (Common Crawl's 2008-2012 crawls). When an engine meets a record it cannot frame (a wrong
Content-Length, a broken header, a corrupt gzip member), the reader finds the next record start itself
(`next_record_start`: the next gzip member that inflates to `WARC/`, or the next `WARC/1.x` line), re-reads
the bad record from its raw bytes (`split_region`) and restarts the engine there, as warcio reads on.
"""

from __future__ import annotations

import io
import logging
import re
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import BinaryIO

from fastwarc.warc import ArchiveIterator as FastwarcIterator
from warcio.archiveiterator import ArchiveIterator as WarcioIterator

MAX_WARC_HEAD_BYTES = 256 * 1024
SCAN_CHUNK = 1 << 20
READ_TYPES = ("warcinfo", "response", "conversion")  # the records the reader reads; others are counted
KNOWN_TYPES = ("warcinfo", "response", "resource", "request", "metadata", "revisit", "conversion", "continuation")
RECORD_START = re.compile(rb"(?:^|\n)(WARC/(?:1\.[01]|0\.1[78])\r?\n)")
GZIP_MAGIC = b"\x1f\x8b\x08"

# warcio logs a target URI it rewrites (it may hold a query string); the reader reports what matters itself.
logging.getLogger("warcio.recordloader").setLevel(logging.ERROR)


class FramingFault(Exception):
    """The engine read a record whose extent is not what its header says."""


class UnreadableRegion(Exception):
    """A record's raw bytes cannot be re-read: over the cap, or a gzip member that does not inflate."""

    def __init__(self, error_class: str, message: str):
        super().__init__(message)
        self.error_class = error_class


@dataclass
class WarcRecordView:
    """The fields cc-sieve needs from one record, the same from fastwarc, warcio and a raw re-read."""

    offset: int
    record_type: str
    headers: dict[str, str]  # WARC header fields, names in lower case
    declared_length: int | None  # block bytes the header declares; None when it declares none (or no number)
    read: Callable[[int], bytes]  # the next n bytes of the block (fewer only at its end)
    positional_id: bool = False  # the record has no stable id of its own (ARC): the reader derives one


def record_type_name(name: str) -> str:
    return name if name in KNOWN_TYPES else "unknown"


def declared_length(value: str | None) -> int | None:
    return int(value) if value and value.strip().isdigit() else None


def fastwarc_records(stream: BinaryIO, base: int, lf_only: bool) -> Iterator[WarcRecordView]:
    """Strict framing (a bad record raises, so the reader can resynchronise), except for files whose WARC
    headers end lines with LF alone, which fastwarc reads only in its quirks mode."""
    for record in FastwarcIterator(stream, parse_http=False, quirks_mode=lf_only, auto_decode="none",
                                   max_header_len=MAX_WARC_HEAD_BYTES, stream_detect=True):
        record_type = record_type_name(str(record.record_type).rsplit(".", 1)[-1])
        if record_type not in READ_TYPES:  # only counted: no header fields needed
            yield WarcRecordView(base + record.stream_pos, record_type, {}, None, record.reader.read)
            continue
        headers = {key.lower(): value for key, value in record.headers.items()}
        yield WarcRecordView(base + record.stream_pos, record_type, headers,
                             declared_length(headers.get("content-length")), record.reader.read)


class ReferenceIterator(WarcioIterator):
    """warcio's iterator, reading on where it would stop or print record bytes to stderr: a whole file in
    one gzip member is read record by record (as fastwarc does), and a record not followed by its blank
    lines raises FramingFault for the reader to handle like fastwarc's error."""

    INC_RECORD = ""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        line = self.reader.readline()  # a gzip member may begin with the previous record's blank lines
        while line and not line.strip():
            line = self.reader.readline()
        self.next_line = line or None

    def _raise_invalid_gzip_err(self) -> None:
        pass

    def _consume_blanklines(self):
        errors = self.err_count
        result = super()._consume_blanklines()
        if self.err_count != errors:
            raise FramingFault("the record is not followed by a blank line (wrong Content-Length)")
        return result


def warcio_records(stream: BinaryIO, base: int, arc: bool) -> Iterator[WarcRecordView]:
    iterator = ReferenceIterator(stream, no_record_parse=True, arc2warc=arc)
    for record in iterator:
        headers = {key.lower(): value for key, value in record.rec_headers.headers}
        yield WarcRecordView(base + iterator.offset, record_type_name(record.rec_type), headers,
                             declared_length(headers.get("content-length")), record.raw_stream.read,
                             positional_id=arc)


def read_block(view: WarcRecordView, limit: int) -> bytes:
    """Up to `limit` bytes of the block, read until the block ends (engines may return short reads)."""
    parts, size = [], 0
    while size < limit:
        chunk = view.read(limit - size)
        if not chunk:
            break
        parts.append(chunk)
        size += len(chunk)
    return b"".join(parts)


def inflated_head(data: bytes) -> bytes | None:
    """The first inflated bytes of a gzip member starting `data`; None when no member starts there."""
    if not data.startswith(GZIP_MAGIC):
        return None
    try:
        return zlib.decompressobj(zlib.MAX_WBITS | 16).decompress(data[:4096], 64)
    except zlib.error:
        return None


def is_record_member(data: bytes) -> bool:
    """Whether compressed `data` starts a gzip member that inflates to a WARC record header."""
    head = inflated_head(data)
    return head is not None and head.lstrip(b"\r\n").startswith(b"WARC/")



def next_record_start(open_at: Callable[[int], BinaryIO], after: int, gzipped: bool) -> int | None:
    """Offset of the first record start at or after `after`: a gzip member inflating to `WARC/`, or a
    `WARC/1.x` line. Reads forward in 1 MiB steps (cost linear in the bytes skipped)."""
    with open_at(after) as raw:
        window, window_start = b"", after
        while True:
            chunk = raw.read(SCAN_CHUNK)
            window += chunk
            if gzipped:
                found = window.find(GZIP_MAGIC)
                while found >= 0:
                    if len(window) - found < 4096 and chunk:
                        break  # too little of this candidate yet: read on
                    if is_record_member(window[found:]):
                        return window_start + found
                    found = window.find(GZIP_MAGIC, found + 1)
                keep = len(window) - found if found >= 0 else 2
            else:
                match = RECORD_START.search(window)
                if match and (match.start(1) > 0 or window_start == 0 or match.group().startswith(b"\n")):
                    return window_start + match.start(1)
                keep = 16
            if not chunk:
                return None
            window_start += len(window) - min(keep, len(window))
            window = window[len(window) - min(keep, len(window)):]


def read_region(open_at: Callable[[int], BinaryIO], start: int, end: int | None, gzipped: bool,
                limit: int) -> tuple[bytes, int]:
    """The (inflated) bytes of [start, end) (to the end of the file when `end` is None), at most `limit`,
    and how many bytes after the last whole gzip member are no gzip member (junk between records)."""
    with open_at(start) as raw:
        data = raw.read(min(end - start, 2 * limit + 1) if end is not None else 2 * limit + 1)
    if not gzipped:
        if len(data) > limit:
            raise UnreadableRegion("too_large", f"the record is over {limit} bytes")
        return data, 0
    parts, size = [], 0
    while data.startswith(GZIP_MAGIC):
        decompressor = zlib.decompressobj(zlib.MAX_WBITS | 16)
        try:
            out = decompressor.decompress(data, limit + 1 - size)
        except zlib.error as error:
            raise UnreadableRegion("corrupt_gzip", f"gzip data error: {error}") from None
        parts.append(out)
        size += len(out)
        if size > limit:
            raise UnreadableRegion("too_large", f"the record is over {limit} bytes")
        if not decompressor.eof:
            return b"".join(parts), 0  # the member is cut short: what inflated is what there is
        data = decompressor.unused_data
    if not parts:
        raise UnreadableRegion("corrupt_gzip", "no gzip member starts here")
    return b"".join(parts), len(data)


def split_region(region: bytes) -> tuple[dict[str, str], bytes] | None:
    """The WARC header fields (names in lower case) of a raw record region and the bytes after its header;
    None when no WARC header starts the region."""
    region = region.lstrip(b"\r\n")
    end = re.search(rb"\r?\n\r?\n", region)
    if not region.startswith(b"WARC/") or end is None:
        return None
    headers: dict[str, str] = {}
    for line in region[:end.start()].split(b"\n")[1:]:
        name, sep, value = line.decode("utf-8", "replace").partition(":")
        if sep:
            headers[name.strip().lower()] = value.strip()
    return headers, region[end.end():]


def block_view(offset: int, headers: dict[str, str], block: bytes) -> WarcRecordView:
    """A record re-read from its raw bytes, its block given (whatever its Content-Length said)."""
    return WarcRecordView(offset, record_type_name(headers.get("warc-type", "")), headers, len(block),
                          io.BytesIO(block).read)
