"""The benchmark submitted to a real Spark standalone cluster on 127.0.0.1: same numbers as local mode,
and the same numbers again when a worker's JVM is killed mid-job. The cluster runs with authentication:
a client without its secret is refused, the secret shows in no output, log or command line, and the master
opens no REST submission port."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import psutil
import pyarrow.parquet as pq
import pytest

from cc_sieve.jobs import metrics as M
from cc_sieve.jobs.cluster.standalone import MASTER_CLASS, ClusterLayout, down, up, worker_pids
from cc_sieve.jobs.config.spark_conf import read_spark_conf
from tests.support.commands import CC_SIEVE
from tests.support.s3server import ACCESS_KEY, SECRET_KEY, free_port
from tests.support.samples import CC_SAMPLES

RECIPES = "raw,gopher,badwords,url-blocklist"


COMPARED = (M.DOCS_KEPT, M.RETENTION_DOCS, M.NEAR_DUP_RATE, M.EXACT_DUP_RATE, M.PII_PER_1K_DOCS, M.PII_DOC_RATE,
            M.COLLATERAL)


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    layout = ClusterLayout(home=tmp_path_factory.mktemp("cluster"), port=free_port(), webui_port=free_port())
    try:
        up(layout, workers=2, cores=1, memory="2g")
        yield layout
    finally:
        down(layout)


def benchmark_command(folder: Path, master: str, submit: bool, auth_file: Path | None = None) -> list[str]:
    job = ["--input", str(CC_SAMPLES), "--recipes", RECIPES, "--tracking-uri", f"sqlite:///{folder / 'mlflow.db'}",
           "--output", str(folder / "out"), "--no-report"]
    if submit:
        return [*CC_SIEVE, "submit", "--master", master, "--auth-file", str(auth_file), "benchmark", "--", *job]
    return [*CC_SIEVE, "benchmark", "--master", master, *job]


def cluster_secret(layout: ClusterLayout) -> str:
    return read_spark_conf(layout.auth_file)["spark.authenticate.secret"]


def files_holding(folder: Path, text: str) -> list[Path]:
    return [path for path in folder.rglob("*") if path.is_file() and text.encode() in path.read_bytes()]


def master_process(layout: ClusterLayout) -> psutil.Process:
    pid_file = next((layout.home / "pids").glob(f"*{MASTER_CLASS}-1.pid"))
    return psutil.Process(int(pid_file.read_text()))


def test_the_master_listens_on_its_rpc_and_ui_ports_only_and_no_daemon_command_line_holds_the_secret(cluster):
    """No REST submission server (it would take jobs without the secret); the secret reaches the daemons in
    their properties file, not on a command line that `ps` shows to every user."""
    master = master_process(cluster)
    listening = {c.laddr.port for c in master.net_connections(kind="tcp") if c.status == psutil.CONN_LISTEN}
    assert listening == {cluster.port, cluster.webui_port}
    daemons = [master, *(psutil.Process(pid) for pid in worker_pids(cluster).values())]
    assert all(f"--properties-file {cluster.auth_file}" in " ".join(p.cmdline()) for p in daemons)
    assert not any(cluster_secret(cluster) in " ".join(p.cmdline()) for p in daemons)


PROBE = """
import sys
from pyspark.sql import SparkSession
builder = SparkSession.builder.master(sys.argv[1]).config("spark.driver.host", "127.0.0.1")
for setting in sys.argv[2:]:
    builder = builder.config(*setting.split("=", 1))
print("sum", builder.getOrCreate().sparkContext.parallelize(range(10), 2).sum(), flush=True)
"""


@pytest.mark.parametrize("settings", [[], ["spark.authenticate=true", "spark.authenticate.secret=" + "0" * 64]],
                         ids=["no-secret", "wrong-secret"])
def test_a_client_without_the_cluster_secret_is_refused(cluster, settings):
    """A pyspark driver that does not hold the secret cannot register with the master: its first attempt fails
    the SASL handshake (Spark would retry for a minute; the probe stops at the first refusal)."""
    probe = subprocess.Popen([sys.executable, "-c", PROBE, cluster.master_url, *settings], text=True,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             env={**os.environ, "SPARK_LOCAL_IP": "127.0.0.1"})
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(probe.stderr), daemon=True)
    reader.start()
    refused = f"Failed to connect to master {cluster.host}:{cluster.port}"
    deadline = time.monotonic() + 120
    try:
        while time.monotonic() < deadline and probe.poll() is None and not any(refused in line for line in lines):
            time.sleep(0.5)
    finally:
        probe.kill()
        stdout = probe.communicate()[0]
        reader.join(timeout=10)
    log = "".join(lines)
    assert refused in log, log[-3000:]
    assert "SaslException" in log or "Expected SaslMessage" in log
    assert "sum" not in stdout


def recipe_metrics(folder: Path) -> dict[str, dict[str, float]]:
    from mlflow.tracking import MlflowClient

    client = MlflowClient(tracking_uri=f"sqlite:///{folder / 'mlflow.db'}")
    experiment = client.get_experiment_by_name("cc-sieve")
    runs = client.search_runs([experiment.experiment_id], "tags.`cc_sieve.role` = 'recipe'")
    return {r.data.tags["cc_sieve.recipe"]: {k: v for k, v in r.data.metrics.items()
                                             if k in COMPARED or k.startswith(("harm/", M.removed_first("")))}
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
    process = subprocess.Popen(benchmark_command(tmp_path, cluster.master_url, submit=True,
                                                 auth_file=cluster.auth_file),
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
    assert cluster_secret(cluster) not in stdout + stderr
    assert files_holding(cluster.home / "logs", cluster_secret(cluster)) == []
    assert files_holding(cluster.home / "work", cluster_secret(cluster)) == []  # executors' logs and commands
    assert annotations_hash(tmp_path) == annotations_hash(local_run)
    assert recipe_metrics(tmp_path) == recipe_metrics(local_run)
    up(cluster, workers=2)  # bring the killed worker back for any later test
    assert victim_instance in worker_pids(cluster)
