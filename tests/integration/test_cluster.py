"""The benchmark submitted to a real Spark standalone cluster on 127.0.0.1: same numbers as local mode,
and the same numbers again when a worker's JVM is killed mid-job."""

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

from cc_sieve.jobs.cluster.standalone import ClusterLayout, down, up, worker_pids
from tests.support.commands import CC_SIEVE
from tests.support.s3server import ACCESS_KEY, SECRET_KEY, free_port
from tests.support.samples import CC_SAMPLES

RECIPES = "raw,gopher,badwords,url-blocklist"


COMPARED = ("docs_kept", "retention_docs", "duplicate_rate", "pii_per_1k_docs", "pii_doc_rate", "collateral")


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    layout = ClusterLayout(home=tmp_path_factory.mktemp("cluster"), port=free_port(), webui_port=free_port())
    try:
        up(layout, workers=2, cores=1, memory="2g")
        yield layout
    finally:
        down(layout)


def benchmark_command(folder: Path, master: str, submit: bool) -> list[str]:
    job = ["--input", str(CC_SAMPLES), "--recipes", RECIPES, "--tracking-uri", f"sqlite:///{folder / 'mlflow.db'}",
           "--output", str(folder / "out"), "--no-report"]
    if submit:
        return [*CC_SIEVE, "submit", "--master", master, "benchmark", "--", *job]
    return [*CC_SIEVE, "benchmark", "--master", master, *job]


def recipe_metrics(folder: Path) -> dict[str, dict[str, float]]:
    from mlflow.tracking import MlflowClient

    client = MlflowClient(tracking_uri=f"sqlite:///{folder / 'mlflow.db'}")
    experiment = client.get_experiment_by_name("cc-sieve")
    runs = client.search_runs([experiment.experiment_id], "tags.`cc_sieve.role` = 'recipe'")
    return {r.data.tags["cc_sieve.recipe"]: {k: v for k, v in r.data.metrics.items()
                                             if k in COMPARED or k.startswith(("harm_rate.", "removed_first."))}
            for r in runs}


def annotations_hash(folder: Path) -> str:
    rows = pq.read_table(folder / "out" / "annotations").to_pylist()
    rows.sort(key=lambda r: r["doc_id"])
    return hashlib.sha256(json.dumps(rows, sort_keys=True, default=str).encode()).hexdigest()


@pytest.fixture(scope="module")
def local_run(tmp_path_factory):
    folder = tmp_path_factory.mktemp("local")
    subprocess.run(benchmark_command(folder, "local[2]", submit=False), check=True, capture_output=True,
                   timeout=900, env={**os.environ, "SPARK_LOCAL_IP": "127.0.0.1"})
    return folder


def test_submitted_with_a_worker_killed_mid_job_gives_the_annotations_and_metrics_of_local(cluster, local_run,
                                                                                            tmp_path):
    """The submitted benchmark ships code and data, prints no secret, and matches local mode even though a
    worker's JVM dies while it annotates (the harder case of the two; one submitted run keeps the suite short)."""
    process = subprocess.Popen(benchmark_command(tmp_path, cluster.master_url, submit=True),
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               env={**os.environ, "SPARK_LOCAL_IP": "127.0.0.1"})
    annotations = tmp_path / "out" / "annotations"
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline and not annotations.exists() and process.poll() is None:
        time.sleep(0.2)
    victim_instance, victim_pid = sorted(worker_pids(cluster).items())[0]
    assert process.poll() is None, "the job ended before a worker could be killed"
    os.kill(victim_pid, signal.SIGKILL)
    stdout, stderr = process.communicate(timeout=900)
    assert process.returncode == 0, stderr[-3000:]
    assert "--py-files" in stdout and "--archives" in stdout
    assert SECRET_KEY not in stdout + stderr and ACCESS_KEY not in stdout + stderr
    assert annotations_hash(tmp_path) == annotations_hash(local_run)
    assert recipe_metrics(tmp_path) == recipe_metrics(local_run)
    up(cluster, workers=2)  # bring the killed worker back for any later test
    assert victim_instance in worker_pids(cluster)
