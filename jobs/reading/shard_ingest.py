"""One shard into `documents/<shard_key>.parquet` and a small report, inside an executor task (no Spark).

The Parquet file is written under a temporary name and renamed when complete, then the report
`_shards/<shard_key>.json`: a rerun skips shards whose report says they were read without a fatal
fault, and reads the others again (a shard that was missing may have appeared since); a task that Spark
re-runs (a lost worker) rewrites the same file, so output is idempotent. Whatever goes wrong inside,
writing included, becomes a fatal row of the shard's own report: one shard never ends the job.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from cc_sieve.jobs.reading.options import ReadOptions
from cc_sieve.jobs.reading.reader import ShardReport, read_shard
from cc_sieve.jobs.reading.report import first_line
from cc_sieve.jobs.reading.sources import shard_opener
from cc_sieve.jobs.reading.tables import DOCUMENT_SCHEMA, AtomicParquetWriter

ROWS_PER_WRITE = 1000


def shard_key(uri: str) -> str:
    """A file name for the shard's outputs (file names that are not UTF-8 hash their bytes)."""
    return hashlib.sha1(uri.encode("utf-8", "surrogateescape")).hexdigest()[:20]


def document_file(output: Path, uri: str) -> Path:
    """Where the shard's documents are (once it was read)."""
    return output / "documents" / f"{shard_key(uri)}.parquet"


def report_file(output: Path, uri: str) -> Path:
    """Where the shard's report is: without it, a shard is not done."""
    return output / "_shards" / f"{shard_key(uri)}.json"


def write_documents(uri: str, out: Path, options: ReadOptions, report: ShardReport) -> None:
    writer = AtomicParquetWriter(document_file(out, uri), DOCUMENT_SCHEMA)
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


def ingest_one_shard(uri: str, output: str, options: ReadOptions) -> dict:
    """Read one shard into `documents/<key>.parquet`; return its report as a JSON-able dict."""
    out = Path(output)
    key = shard_key(uri)
    report = ShardReport(uri)
    try:
        write_documents(uri, out, options, report)
    except Exception as error:  # the reader records its own faults, so this is writing the table
        stale = document_file(out, uri)  # a previous attempt's, if any
        if stale.is_file():
            stale.unlink()
        report.fail("write_error", f"writing the documents table failed: {type(error).__name__}: {first_line(error)}",
                    report.last_record_offset, fatal=True)
    summary = {
        "source_shard": report.source_shard,
        "shard_key": key,
        "crawl_id": report.crawl_id,
        "records": sum(report.records_by_type.values()),
        "records_by_type": dict(report.records_by_type),
        "responses_by_class": dict(report.responses_by_class),
        "documents": report.documents,
        "records_skipped": report.records_skipped,
        "failed": report.failed,
        "bytes_read": report.bytes_read,
        "seconds": round(report.seconds, 6),
        "failures": [f.as_row() for f in report.failures],
    }
    report_path = report_file(out, uri)
    report_path.parent.mkdir(parents=True, exist_ok=True)
    tmp = report_path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(summary, sort_keys=True))
    tmp.replace(report_path)
    return summary


def completed_reports(output: Path, uris: list[str]) -> dict[str, dict]:
    """Reports of shards a previous run read without a fatal fault (a failed shard is read again)."""
    reports = {}
    for uri in uris:
        path = report_file(output, uri)
        if path.is_file() and document_file(output, uri).is_file():
            report = json.loads(path.read_text())
            if not report["failed"]:
                reports[uri] = report
    return reports


def forget_shards(output: Path, uris: list[str]) -> None:
    """Make the next run read these shards again (their file or the read settings changed): without its report,
    a shard is not done."""
    for uri in uris:
        report_file(output, uri).unlink(missing_ok=True)


def remove_stale_outputs(output: Path, uris: list[str]) -> None:
    """For shards about to be read again: the temporary files a killed run left, and the reports of a
    previous attempt (so that only this run's reports say a shard is done)."""
    for uri in uris:
        for partial in (output / "documents").glob(f".{shard_key(uri)}.parquet.*.tmp"):
            partial.unlink(missing_ok=True)
    forget_shards(output, uris)
