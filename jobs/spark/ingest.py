"""Ingest: shards -> documents table (Parquet) + failures table, one Spark task per shard.

The driver has the shard URIs; each task streams one shard (local, s3 or https), parses it and writes
`documents/<shard_key>.parquet` (jobs/reading/shard_ingest.py). A rerun with the same output skips
shards already read without a fatal fault, so a killed run resumes where it stopped.

A task turns every Python error into its shard's own failures row, but a worker can still die under it
(killed for memory, a crash in a C extension), and Spark then aborts the whole job. The shards whose
reports were written are kept; the rest are read again in halves until the one that kills its worker is
alone, and that one is recorded as failed (`task_failed`). The summary tables are always written.
"""

from __future__ import annotations

import json
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
from py4j.protocol import Py4JJavaError

from cc_sieve.jobs.reading.options import ReadOptions
from cc_sieve.jobs.reading.report import ShardReport
from cc_sieve.jobs.reading.shard_ingest import (
    completed_reports,
    ingest_one_shard,
    remove_stale_outputs,
    report_file,
    shard_key,
)
from cc_sieve.jobs.reading.tables import FAILURE_SCHEMA, SHARD_SCHEMA, write_parquet_atomically


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


def crashed_shard(uri: str) -> dict:
    """The report of a shard whose task never returned: its worker died, and Spark gave up on it."""
    report = ShardReport(uri)
    report.fail("task_failed", "the task reading this shard died (its Python worker was killed or crashed) "
                "and Spark gave up on it; the executor log says why", None, fatal=True)
    return {"source_shard": report.source_shard, "shard_key": shard_key(uri), "crawl_id": None, "records": 0,
            "records_by_type": {}, "responses_by_class": {}, "documents": 0, "records_skipped": 0, "failed": True,
            "bytes_read": 0, "seconds": 0.0, "failures": [f.as_row() for f in report.failures]}


def written_report(out: Path, uri: str) -> dict | None:
    path = report_file(out, uri)
    return json.loads(path.read_text()) if path.is_file() else None


def ingest_shards(spark, uris: list[str], out: Path, options: ReadOptions, progress: Progress) -> dict[str, dict]:
    """Each shard's report (by URI). A job that Spark aborts keeps the reports its tasks wrote; the other
    shards are read again, split in halves, so the shard that kills its worker ends up alone and failed."""
    shards_acc, docs_acc, out_str = progress.shards, progress.documents, str(out)

    def ingest_task(uri: str) -> tuple[str, dict]:
        summary = ingest_one_shard(uri, out_str, options)
        shards_acc.add(1)
        docs_acc.add(summary["documents"])
        return uri, summary

    try:
        return dict(spark.sparkContext.parallelize(uris, numSlices=len(uris)).map(ingest_task).collect())
    except Py4JJavaError:
        reports = {uri: report for uri in uris if (report := written_report(out, uri)) is not None}
        left = [uri for uri in uris if uri not in reports]
        if len(uris) == 1:
            return {**reports, **{uri: crashed_shard(uri) for uri in left}}
        for part in (left[:len(left) // 2], left[len(left) // 2:]):
            if part:
                reports.update(ingest_shards(spark, part, out, options, progress))
        return reports


def run_ingest(spark, uris: list[str], output: str, options: ReadOptions, resume: bool = True) -> IngestSummary:
    """Ingest every shard not already done in `output`; write shards.parquet and failures.parquet."""
    started = time.perf_counter()
    out = Path(output).resolve()
    out.mkdir(parents=True, exist_ok=True)
    done = completed_reports(out, uris) if resume else {}
    todo = [uri for uri in uris if uri not in done]
    remove_stale_outputs(out, todo)
    fresh: dict[str, dict] = {}
    if todo:
        with Progress(spark, len(uris)) as progress:
            progress.shards.add(len(done))
            fresh = ingest_shards(spark, todo, out, options, progress)
    reports = [{**done, **fresh}[uri] for uri in uris]
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
