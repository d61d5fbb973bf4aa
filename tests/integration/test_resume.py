"""A run killed halfway and started again processes only unfinished shards and ends identical."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import time
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from tests.support.commands import CC_SIEVE
from tests.support.samples import DOLMA_JSONL, repeated_warc

SHARDS = 6


def content_hash(output: Path) -> str:
    """sha256 of the documents table's rows, in a fixed order (independent of file layout)."""
    rows = pq.read_table(output / "documents").to_pylist()
    rows.sort(key=lambda r: (r["source_shard"], r["record_offset"]))
    return hashlib.sha256(json.dumps(rows, sort_keys=True, default=str).encode()).hexdigest()


def ingest_command(inputs: Path, output: Path) -> list[str]:
    return [*CC_SIEVE, "ingest", "--input", str(inputs), "--output", str(output),
            "--master", "local[1]"]


@pytest.fixture(scope="module")
def shard_folder(tmp_path_factory):
    folder = tmp_path_factory.mktemp("resume-input")
    for index in range(SHARDS):
        repeated_warc(folder / f"shard-{index}.warc.gz", 4.0)
    (folder / "shard-jsonl.jsonl.gz").write_bytes(DOLMA_JSONL.read_bytes())
    return folder


def test_killed_run_resumes_only_unfinished_shards_with_identical_output(shard_folder, tmp_path):
    env = {**os.environ, "SPARK_LOCAL_IP": "127.0.0.1"}
    reference = tmp_path / "uninterrupted"
    subprocess.run(ingest_command(shard_folder, reference), env=env, check=True, capture_output=True, timeout=600)

    resumed = tmp_path / "resumed"
    driver = subprocess.Popen(ingest_command(shard_folder, resumed), env=env, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL, start_new_session=True)
    reports = resumed / "_shards"
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline and len(list(reports.glob("*.json"))) < 2:
        time.sleep(0.2)
    os.killpg(driver.pid, signal.SIGKILL)  # the driver and its JVM, mid-run
    driver.wait()
    done_before = len(list(reports.glob("*.json")))
    assert 2 <= done_before < SHARDS + 1, "the kill should land mid-run"
    assert not (resumed / "shards.parquet").exists()

    rerun = subprocess.run(ingest_command(shard_folder, resumed), env=env, check=True, capture_output=True,
                           text=True, timeout=600)
    assert f"{done_before} resumed" in rerun.stdout
    assert content_hash(resumed) == content_hash(reference)
    assert not list((resumed / "documents").glob(".*.tmp"))
