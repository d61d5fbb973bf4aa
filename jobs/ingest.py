"""Ingest: shards -> documents table (Parquet) + failures table, one Spark task per shard.

The driver resolves the input spec to shard URIs; each task streams one shard (local, s3 or
https), parses it and writes `documents/<shard_key>.parquet` by atomic rename, then a small
`_shards/<shard_key>.json` report. A rerun with the same output skips shards that have a report,
so a killed run resumes where it stopped, and a task that Spark re-runs (lost worker) rewrites
the same file: output is idempotent. Run as `cc-sieve ingest` or `spark-submit jobs/ingest.py`.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa

from jobs.options import (
    ReadOptions,
    add_input_arguments,
    add_spark_arguments,
    read_options_from_args,
    resolve_cli_inputs,
    spark_from_args,
)
from jobs.reader import ShardReport, read_shard
from jobs.sources import shard_opener
from jobs.tables import (
    DOCUMENT_SCHEMA,
    FAILURE_SCHEMA,
    SHARD_SCHEMA,
    AtomicParquetWriter,
    write_parquet_atomically,
)

ROWS_PER_WRITE = 1000


def shard_key(uri: str) -> str:
    return hashlib.sha1(uri.encode("utf-8")).hexdigest()[:20]


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


@dataclass
class IngestSummary:
    output: str
    shards: int
    shards_resumed: int
    shards_failed: int
    records: int
    documents: int
    records_skipped: int
    failures: int
    bytes_read: int
    wall_seconds: float
    crawl_ids: list[str]

    @property
    def docs_per_second(self) -> float:
        return self.documents / self.wall_seconds if self.wall_seconds else 0.0

    def line(self) -> str:
        return (f"shards {self.shards} ({self.shards_failed} failed, {self.shards_resumed} resumed) | "
                f"records {self.records:,} | documents {self.documents:,} | records skipped "
                f"{self.records_skipped:,} | failures {self.failures} | {self.bytes_read / 1e6:,.1f} MB in "
                f"{self.wall_seconds:,.1f} s ({self.docs_per_second:,.0f} docs/s)")


class Progress:
    """Prints shards done / documents / docs per second while a long ingest runs."""

    def __init__(self, spark, total: int, every: float = 15.0):
        context = spark.sparkContext
        self.shards = context.accumulator(0)
        self.documents = context.accumulator(0)
        self.total = total
        self.every = every
        self._stop = threading.Event()
        self._started = time.monotonic()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(self.every):
            elapsed = time.monotonic() - self._started
            print(f"[ingest] shards {self.shards.value}/{self.total} | documents {self.documents.value:,} | "
                  f"{self.documents.value / elapsed:,.0f} docs/s", file=sys.stderr, flush=True)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()


def completed_reports(output: Path, uris: list[str]) -> dict[str, dict]:
    reports = {}
    for uri in uris:
        path = output / "_shards" / f"{shard_key(uri)}.json"
        if path.is_file() and (output / "documents" / f"{shard_key(uri)}.parquet").is_file():
            reports[uri] = json.loads(path.read_text())
    return reports


def remove_partial_files(output: Path, uris: list[str]) -> None:
    """Temporary files a killed run left for shards about to be read again."""
    for uri in uris:
        for partial in (output / "documents").glob(f".{shard_key(uri)}.parquet.*.tmp"):
            partial.unlink(missing_ok=True)


def run_ingest(spark, uris: list[str], output: str, options: ReadOptions, resume: bool = True) -> IngestSummary:
    """Ingest every shard not already done in `output`; write shards.parquet and failures.parquet."""
    started = time.perf_counter()
    out = Path(output).resolve()
    out.mkdir(parents=True, exist_ok=True)
    done = completed_reports(out, uris) if resume else {}
    todo = [uri for uri in uris if uri not in done]
    remove_partial_files(out, todo)
    fresh: list[dict] = []
    if todo:
        with Progress(spark, len(uris)) as progress:
            progress.shards.add(len(done))
            shards_acc, docs_acc, out_str = progress.shards, progress.documents, str(out)

            def ingest_task(uri: str) -> dict:
                summary = ingest_one_shard(uri, out_str, options)
                shards_acc.add(1)
                docs_acc.add(summary["documents"])
                return summary

            rdd = spark.sparkContext.parallelize(todo, numSlices=len(todo))
            fresh = rdd.map(ingest_task).collect()
    by_uri = {**done, **{s["source_shard"]: s for s in fresh}}
    reports = [by_uri[uri] for uri in uris]
    write_parquet_atomically(pa.Table.from_pylist(
        [{k: v for k, v in r.items() if k != "failures"} for r in reports], schema=SHARD_SCHEMA),
        out / "shards.parquet")
    write_parquet_atomically(pa.Table.from_pylist(
        [f for r in reports for f in r["failures"]], schema=FAILURE_SCHEMA), out / "failures.parquet")
    return IngestSummary(
        output=str(out),
        shards=len(reports),
        shards_resumed=len(done),
        shards_failed=sum(r["failed"] for r in reports),
        records=sum(r["records"] for r in reports),
        documents=sum(r["documents"] for r in reports),
        records_skipped=sum(r["records_skipped"] for r in reports),
        failures=sum(len(r["failures"]) for r in reports),
        bytes_read=sum(r["bytes_read"] for r in reports),
        wall_seconds=time.perf_counter() - started,
        crawl_ids=sorted({r["crawl_id"] for r in reports if r["crawl_id"]}),
    )


def print_failures(output: str, limit: int = 20) -> None:
    import pyarrow.parquet as pq

    failures = pq.read_table(Path(output) / "failures.parquet").to_pylist()
    for failure in failures[:limit]:
        where = f" @ {failure['record_offset']}" if failure["record_offset"] is not None else ""
        kind = "shard failed" if failure["fatal"] else "record skipped"
        print(f"  {kind}: {failure['source_shard']}{where}: {failure['error_class']}: {failure['message']}")
    if len(failures) > limit:
        print(f"  ... and {len(failures) - limit} more in {output}/failures.parquet")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="cc-sieve ingest", description=__doc__.split("\n")[0])
    add_input_arguments(parser)
    add_spark_arguments(parser)
    parser.add_argument("--output", required=True, help="output folder (documents/, failures.parquet, ...)")
    parser.add_argument("--strict", action="store_true", help="exit non-zero if any shard failed")
    parser.add_argument("--no-resume", action="store_true", help="re-read shards already done in --output")
    args = parser.parse_args(argv)
    uris = resolve_cli_inputs(args)
    spark = spark_from_args(args, "cc-sieve ingest")
    summary = run_ingest(spark, uris, args.output, read_options_from_args(args), resume=not args.no_resume)
    print(summary.line())
    if summary.failures:
        print_failures(args.output)
    print(f"documents table: {summary.output}/documents  failures: {summary.output}/failures.parquet")
    if summary.shards_failed == summary.shards or (args.strict and summary.shards_failed):
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
