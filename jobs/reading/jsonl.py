"""JSONL shards (Dolma's layout understood): one document per line, a bad line skipped with its offset.

A line may be anything: not JSON, JSON nested a million deep, over the record cap, its `text` a number,
its `language` a list. Each such line is a failures row (or, for a field that cannot be coerced, a count
in the shard's field problems) and reading goes on with the next line.
"""

from __future__ import annotations

import gzip
import io
import json
import zlib
from collections.abc import Iterator

from cc_sieve.jobs.reading.documents import clean_string, make_document, positional_doc_id
from cc_sieve.jobs.reading.report import ShardFault, ShardReport

LINE_READ = 1 << 20
UTF8_BOM = b"\xef\xbb\xbf"


def jsonl_document(obj: dict, report: ShardReport, offset: int) -> dict:
    metadata = obj.get("metadata") if isinstance(obj.get("metadata"), dict) else {}
    text = obj.get("text")
    if not isinstance(text, str):
        raise ValueError("no string field 'text'")
    text = clean_string(text).removeprefix("\ufeff")
    return make_document(
        doc_id=positional_doc_id(report.source_shard, offset),
        url=obj.get("url") or metadata.get("warc_url") or metadata.get("url"),
        crawl_id=obj.get("crawl_id") or metadata.get("crawl_id") or report.crawl_id,
        fetch_date=metadata.get("warc_date") or obj.get("date") or obj.get("created"),
        shard=report.source_shard,
        offset=offset,
        record_type="jsonl",
        content_type=metadata.get("content_type") or obj.get("content_type"),
        language=obj.get("language") or metadata.get("language"),
        text=text,
        content_bytes=len(text.encode("utf-8")),
        problems=report.field_problems,
    )


def line_problem(error: ValueError) -> str:
    """What is wrong with a line, without quoting it (json's messages give a position, not the text)."""
    if isinstance(error, UnicodeDecodeError):
        return f"not UTF-8 (byte {error.start} of the line)"
    return str(error)


def skip_rest_of_line(lines: io.BufferedReader) -> int:
    """Read past the rest of an overlong line without keeping it; the bytes skipped."""
    skipped = 0
    while True:
        part = lines.readline(LINE_READ)
        skipped += len(part)
        if not part or part.endswith(b"\n"):
            return skipped


def read_jsonl(stream, gzipped: bool, report: ShardReport, max_line: int) -> Iterator[dict]:
    """Documents of a JSONL shard; offsets are of the uncompressed lines."""
    source = gzip.GzipFile(fileobj=stream, mode="rb") if gzipped else stream
    lines = io.BufferedReader(source, LINE_READ)
    offset = 0
    try:
        while True:
            line = lines.readline(max_line + 1)
            if not line:
                return
            line_offset = offset
            offset += len(line)
            if line_offset == 0 and line.startswith(UTF8_BOM):
                line = line[len(UTF8_BOM):]
            if len(line) > max_line and not line.endswith(b"\n"):
                offset += skip_rest_of_line(lines)
                report.records_by_type["jsonl"] += 1
                report.fail("too_large", f"line over {max_line} bytes skipped", line_offset, fatal=False)
                continue
            if not line.strip():
                continue
            report.records_by_type["jsonl"] += 1
            try:
                obj = json.loads(line)
                if not isinstance(obj, dict):
                    raise ValueError("line is not a JSON object")
                document = jsonl_document(obj, report, line_offset)
            except RecursionError:
                report.fail("bad_json", "line skipped: JSON nested too deep", line_offset, fatal=False)
                continue
            except ValueError as error:
                report.fail("bad_json", f"line skipped: {line_problem(error)}", line_offset, fatal=False)
                continue
            report.documents += 1
            yield document
    except EOFError as error:
        raise ShardFault("truncated", "gzip stream ends early (truncated file)", offset) from error
    except (zlib.error, gzip.BadGzipFile) as error:
        raise ShardFault("corrupt_gzip", f"gzip data error: {error}", offset) from error
