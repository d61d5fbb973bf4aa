"""`make bench-scale` end to end on the smallest size: the whole benchmark reads a real Common Crawl WARC from
SeaweedFS on 127.0.0.1 and reports its stages, memory and the dedup shuffle (its own Spark application, so in
a process of its own)."""

from __future__ import annotations

import json
import subprocess
import sys

from tests.support.samples import WARC_2020_34


def test_scale_bench_runs_the_whole_benchmark_from_s3_on_one_shard(tmp_path):
    completed = subprocess.run([sys.executable, "-m", "cc_sieve.jobs.bench.scale", "--quick", "--shards",
                                str(WARC_2020_34.parent), "--output", str(tmp_path)],
                               capture_output=True, text=True, timeout=600)
    assert completed.returncode == 0, completed.stderr[-3000:]
    [row] = json.loads((tmp_path / "scale.json").read_text())
    assert row["shards"] == 1 and row["documents"] == 16  # the sample's 16 HTML pages with text
    assert set(row["stage_seconds"]) >= {"ingest", "annotate", "dedup", "evaluate"}
    assert row["jvm_peak_mb"] > 100 and row["python_workers_peak_mb"] > 50 and row["cpu_seconds"] > 1
    assert row["dedup_shuffle_bytes"]["written"] > 0
    assert "dedup shuffle B/doc" in completed.stdout
