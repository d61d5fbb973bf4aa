"""Ingest: shards -> documents table (Parquet) + failures table, one Spark task per shard.

The driver has the shard URIs; each task streams one shard (local, s3 or https), parses it and writes
`documents/<shard_key>.parquet` (jobs/reading/shard_ingest.py). A rerun with the same output skips
shards already done, so a killed run resumes where it stopped.
"""

from __future__ import annotations

import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa

from cc_sieve.jobs.reading.options import ReadOptions
from cc_sieve.jobs.reading.shard_ingest import completed_reports, ingest_one_shard, remove_partial_files
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
