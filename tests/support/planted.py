"""Shards with planted truth, made once per test session by `cc-sieve make-shards` (its code, not its CLI)."""

from __future__ import annotations

import gzip
from pathlib import Path

from cc_sieve.jobs.reading.reader import ShardReport, read_shard
from cc_sieve.jobs.reading.sources import shard_opener

RATES = {"near_dup_rate": 0.1, "exact_dup_rate": 0.04, "pii_rate": 0.1, "toxic_rate": 0.06, "blocklist_rate": 0.04}


def read_all(out: Path, format_name: str, engine: str = "fastwarc") -> tuple[dict[str, dict], list[ShardReport]]:
    """Every document of a make-shards format (by its manifest), by doc_id, and each shard's report."""
    entries = gzip.decompress((out / f"{format_name}.paths.gz").read_bytes()).decode().split()
    documents, reports = {}, []
    for entry in entries:
        uri = str(out / entry)
        report = ShardReport(uri)
        for document in read_shard(uri, shard_opener(uri), report, engine=engine):
            documents[document["doc_id"]] = document
        reports.append(report)
    return documents, reports
