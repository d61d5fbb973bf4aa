"""Readers of the MLflow store find it from any folder of the repository, never create one, and say how to
browse it; `cc-sieve report` turns a missing store, server or run into one line."""

from __future__ import annotations

import os
import subprocess

import mlflow
import pytest

from cc_sieve.filters.resources import REPO_ROOT
from cc_sieve.jobs import metrics as M
from cc_sieve.jobs.commands.cli import main
from cc_sieve.jobs.errors import ConfigError
from cc_sieve.jobs.tracking.benchmark_log import throughput
from cc_sieve.jobs.tracking.store import browse_hint, check_store_exists, default_tracking_uri
from tests.support.commands import CC_SIEVE
from tests.support.s3server import free_port


def test_the_repository_store_is_found_from_any_folder_inside_it(monkeypatch, tmp_path):
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    expected = f"sqlite:///{REPO_ROOT / 'mlflow.db'}"
    assert default_tracking_uri(REPO_ROOT / "notebooks") == expected
    assert default_tracking_uri(REPO_ROOT / "conf" / "recipes") == expected
    with pytest.raises(ConfigError, match="MLFLOW_TRACKING_URI is not set and no repository"):
        default_tracking_uri(tmp_path)
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "http://127.0.0.1:5000")
    assert default_tracking_uri(tmp_path) == "http://127.0.0.1:5000"


def test_a_missing_store_is_refused_and_not_created(tmp_path):
    store = tmp_path / "mlflow.db"
    with pytest.raises(ConfigError, match=f"sqlite:///{store}: {store} does not exist; run a benchmark first"):
        check_store_exists(f"sqlite:///{store}")
    assert not store.exists()
    with pytest.raises(ConfigError, match="does not exist"):
        check_store_exists(str(tmp_path / "mlruns"))
    with pytest.raises(ConfigError, match="MLflow server unreachable"):
        check_store_exists(f"http://127.0.0.1:{free_port()}")
    store.touch()  # a file there: a store to read (MLflow would say if it is not one)
    check_store_exists(f"sqlite:///{store}")


def test_the_browse_hint_names_the_store_that_was_written(tmp_path):
    store = tmp_path / "runs.db"
    assert browse_hint(f"sqlite:///{store}", "3", "abc") == (
        f"`mlflow server --backend-store-uri sqlite:///{store} --host 127.0.0.1 --port 5000`, then open "
        "http://127.0.0.1:5000/#/experiments/3/runs/abc")
    assert browse_hint(f"sqlite:///{REPO_ROOT / 'mlflow.db'}", "1") == (
        "`make mlflow-ui`, then open http://127.0.0.1:5000/#/experiments/1")
    assert browse_hint("https://user:secret@mlflow.example.org/", "7", "r1") == (
        "open https://mlflow.example.org/#/experiments/7/runs/r1")
    assert browse_hint(str(tmp_path / "mlruns")).startswith(
        f"`MLFLOW_ALLOW_FILE_STORE=true mlflow server --backend-store-uri file://{tmp_path}/mlruns --host 127.0.0.1")


def test_report_on_a_missing_store_is_one_line_and_creates_nothing(tmp_path):
    store = tmp_path / "mlflow.db"
    missing = subprocess.run([*CC_SIEVE, "report", "--run-id", "0123456789abcdef"], capture_output=True, text=True,
                             timeout=120, cwd=tmp_path, env={**os.environ, "MLFLOW_TRACKING_URI": ""})
    assert missing.returncode == 2
    assert missing.stderr == (f"cc-sieve report: MLflow's default store sqlite:///{store}: {store} does not exist; "
                              "run a benchmark first (make demo) or name the store a benchmark wrote\n")
    assert not store.exists()


def test_report_on_an_unreachable_server_or_an_unknown_run_is_one_line(tmp_path, capsys):
    port = free_port()
    assert main(["report", "--run-id", "x", "--tracking-uri", f"http://127.0.0.1:{port}"]) == 2
    assert capsys.readouterr().err == (
        f"cc-sieve report: --tracking-uri http://127.0.0.1:{port}: MLflow server unreachable "
        "(ConnectionRefusedError); start it with `make mlflow-ui` or fix the URI\n")
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    client = mlflow.MlflowClient(tracking_uri=uri)
    other = client.create_run(client.create_experiment("other")).info.run_id
    capsys.readouterr()  # MLflow's lines as it creates the store
    assert main(["report", "--run-id", "0123456789abcdef", "--tracking-uri", uri]) == 2
    assert capsys.readouterr().err == f"cc-sieve report: --run-id 0123456789abcdef: no such run in {uri}\n"
    assert main(["report", "--run-id", other, "--tracking-uri", uri]) == 2
    assert capsys.readouterr().err.startswith(f"cc-sieve report: --run-id {other}: not a cc-sieve benchmark or recipe")


def test_ingest_throughput_is_left_out_when_some_shards_were_resumed_untimed():
    seconds = {"ingest": 0.02, "annotate": 50.0}  # a resumed shard's reading took no time in this run
    assert throughput(1000, 40.0, seconds) == {M.throughput("ingest_docs_per_s"): 50_000.0,
                                               M.throughput("ingest_mb_per_s"): 2_000.0,
                                               M.throughput("annotate_docs_per_s"): 20.0}
    assert throughput(1000, 40.0, seconds, ingest_timed=False) == {M.throughput("annotate_docs_per_s"): 20.0}
