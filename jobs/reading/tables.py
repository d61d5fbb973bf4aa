"""Arrow schemas of the tables cc-sieve writes, and small helpers to write them atomically."""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

DOCUMENT_SCHEMA = pa.schema([
    pa.field("doc_id", pa.string(), nullable=False),
    pa.field("url", pa.string()),
    pa.field("host", pa.string()),
    pa.field("crawl_id", pa.string()),
    pa.field("fetch_date", pa.timestamp("us", tz="UTC")),
    pa.field("source_shard", pa.string(), nullable=False),
    pa.field("record_offset", pa.int64()),
    pa.field("record_type", pa.string()),
    pa.field("content_type", pa.string()),
    pa.field("language", pa.string()),
    pa.field("text", pa.string()),
    pa.field("content_bytes", pa.int64()),
    pa.field("text_chars", pa.int64()),
])

FAILURE_SCHEMA = pa.schema([
    pa.field("source_shard", pa.string(), nullable=False),
    pa.field("record_offset", pa.int64()),
    pa.field("error_class", pa.string()),
    pa.field("message", pa.string()),
    pa.field("fatal", pa.bool_()),
])

SHARD_SCHEMA = pa.schema([
    pa.field("source_shard", pa.string(), nullable=False),
    pa.field("shard_key", pa.string()),
    pa.field("crawl_id", pa.string()),
    pa.field("records", pa.int64()),
    pa.field("records_by_type", pa.map_(pa.string(), pa.int64())),
    # every response record by content and status class ("html 2xx", "html 4xx", "other 2xx", "no_http", ...):
    # "html 2xx" ones are documents or failures rows, the others are only counted here
    pa.field("responses_by_class", pa.map_(pa.string(), pa.int64())),
    pa.field("documents", pa.int64()),
    pa.field("records_skipped", pa.int64()),
    pa.field("failed", pa.bool_()),
    pa.field("bytes_read", pa.int64()),
    pa.field("seconds", pa.float64()),
])


def write_parquet_atomically(table: pa.Table, path: Path) -> None:
    """Write to a temporary name, then rename: a task that dies leaves no half file behind."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    pq.write_table(table, tmp, compression="zstd")
    os.replace(tmp, path)


class AtomicParquetWriter:
    """Streams record batches into one Parquet file that appears (renamed) only when closed cleanly."""

    def __init__(self, path: Path, schema: pa.Schema):
        self.path = path
        self.schema = schema
        path.parent.mkdir(parents=True, exist_ok=True)
        self._tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
        self._writer = pq.ParquetWriter(self._tmp, schema, compression="zstd")
        self.rows = 0

    def write_rows(self, rows: list[dict]) -> None:
        if rows:
            self._writer.write_table(pa.Table.from_pylist(rows, schema=self.schema))
            self.rows += len(rows)

    def commit(self) -> None:
        self._writer.close()
        os.replace(self._tmp, self.path)

    def abort(self) -> None:
        self._writer.close()
        self._tmp.unlink(missing_ok=True)
