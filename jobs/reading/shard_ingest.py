"""One shard into `documents/<shard_key>.parquet` and a small report, inside an executor task (no Spark).

The Parquet file is written under a temporary name and renamed when complete, then the report
`_shards/<shard_key>.json`: a rerun skips shards that have both, and a task that Spark re-runs (a
lost worker) rewrites the same file, so output is idempotent.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from cc_sieve.jobs.reading.options import ReadOptions
from cc_sieve.jobs.reading.reader import ShardReport, read_shard
from cc_sieve.jobs.reading.sources import shard_opener
from cc_sieve.jobs.reading.tables import DOCUMENT_SCHEMA, AtomicParquetWriter


def shard_key(uri: str) -> str:
    return hashlib.sha1(uri.encode("utf-8")).hexdigest()[:20]


ROWS_PER_WRITE = 1000


def ingest_one_shard(uri: str, output: str, options: ReadOptions) -> dict:
    """Read one shard into `documents/<key>.parquet`; return its report as a JSON-able dict."""
    out = Path(output)
    key = shard_key(uri)
    report = ShardReport(uri)
    writer = AtomicParquetWriter(out / "documents" / f"{key}.parquet", DOCUMENT_SCHEMA)
    try:
        pending: list[dict] = []
        for document in read_shard(uri, shard_opener(uri, options.s3), report, engine=options.engine,
                                   main_content=options.main_content, max_payload=options.max_payload):
            pending.append(document)
            if len(pending) >= ROWS_PER_WRITE:
                writer.write_rows(pending)
                pending = []
        writer.write_rows(pending)
        writer.commit()
    except BaseException:
        writer.abort()
        raise
    summary = {
        "source_shard": uri,
        "shard_key": key,
        "crawl_id": report.crawl_id,
        "records": sum(report.records_by_type.values()),
        "records_by_type": dict(report.records_by_type),
        "documents": report.documents,
        "records_skipped": report.records_skipped,
        "failed": report.failed,
        "bytes_read": report.bytes_read,
        "seconds": round(report.seconds, 6),
        "failures": [f.as_row() for f in report.failures],
    }
    report_path = out / "_shards" / f"{key}.json"
    report_path.parent.mkdir(parents=True, exist_ok=True)
    tmp = report_path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(summary, sort_keys=True))
    tmp.replace(report_path)
    return summary


def completed_reports(output: Path, uris: list[str]) -> dict[str, dict]:
    reports = {}
    for uri in uris:
        path = output / "_shards" / f"{shard_key(uri)}.json"
        if path.is_file() and (output / "documents" / f"{shard_key(uri)}.parquet").is_file():
            reports[uri] = json.loads(path.read_text())
    return reports


def document_file(output: Path, uri: str) -> Path:
    """Where the shard's documents are (once it was read)."""
    return output / "documents" / f"{shard_key(uri)}.parquet"


def forget_shards(output: Path, uris: list[str]) -> None:
    """Make the next run read these shards again (their file or the read settings changed): without its report,
    a shard is not done."""
    for uri in uris:
        (output / "_shards" / f"{shard_key(uri)}.json").unlink(missing_ok=True)


def remove_partial_files(output: Path, uris: list[str]) -> None:
    """Temporary files a killed run left for shards about to be read again."""
    for uri in uris:
        for partial in (output / "documents").glob(f".{shard_key(uri)}.parquet.*.tmp"):
            partial.unlink(missing_ok=True)


