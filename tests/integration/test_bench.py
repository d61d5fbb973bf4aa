"""`cc-sieve bench --quick` (what `BENCH_QUICK=1 make bench` runs): every stage measured beside its
reference on make-shards shards, results.json written, one MLflow run in the `bench` experiment.
Speeds are not asserted (benchmarks are not timed tests); what is measured, on what, is."""

from __future__ import annotations

import json
import os
import subprocess

import pytest

from tests.support.commands import CC_SIEVE

REFERENCED_STAGES = {"read", "extract", "pipeline", "quality"}


@pytest.fixture(scope="module")
def bench(tmp_path_factory):
    folder = tmp_path_factory.mktemp("bench")
    tracking = f"sqlite:///{folder / 'mlflow.db'}"
    result = subprocess.run([*CC_SIEVE, "bench", "--quick", "--output", str(folder / "out"),
                             "--tracking-uri", tracking], capture_output=True, text=True, timeout=900,
                            env={**os.environ, "SPARK_LOCAL_IP": "127.0.0.1"}, cwd=folder)
    assert result.returncode == 0, result.stderr[-3000:]
    return folder, tracking, result.stdout, json.loads((folder / "out" / "results.json").read_text())


def test_every_stage_is_measured_beside_its_reference(bench):
    _, _, stdout, results = bench
    expected = REFERENCED_STAGES | {"read+extract", "spark e2e", "harm", "pii", "pii-spark", "minhash", "dedup"}
    measurements = results["measurements"]
    assert expected <= {m["stage"] for m in measurements}
    for stage in REFERENCED_STAGES:
        rows = [m for m in measurements if m["stage"] == stage]
        assert sum(m["reference"] for m in rows) == 1 and len(rows) >= 2, stage
    for m in measurements:
        assert m["documents"] > 0 and m["seconds"] > 0 and m["on"], m
    minhash = {m["implementation"] for m in measurements if m["stage"] == "minhash"}
    assert {"datasketch MinHash.bulk (shingles given)", "rensa RMinHash, Rust (shingles given)"} <= minhash
    assert "x ref" in stdout and "measured on" in stdout
    assert results["quick"] is True and not results["cluster"]


def test_measurements_are_on_the_generated_shards(bench):
    _, _, _, results = bench
    shards = results["shards"]
    assert len(shards["megabytes"]) == 2 and all(0.5 < mb < 5 for mb in shards["megabytes"])
    read = {m["implementation"]: m for m in results["measurements"] if m["stage"] in {"read", "read+extract"}}
    assert {m["documents"] for m in read.values()} == {shards["docs_per_shard"]}
    assert read["warcio iteration"]["megabytes"] == pytest.approx(shards["megabytes"][0])


def test_spark_runs_grow_with_the_shards_and_report_peak_memory(bench):
    _, _, stdout, results = bench
    scaling = results["scaling"]
    assert [run["shards"] for run in scaling] == [1, 2]
    assert scaling[1]["documents"] == 2 * scaling[0]["documents"] == 2 * results["shards"]["docs_per_shard"]
    for run in scaling:
        assert run["peak_jvm_mb"] > 100 and run["peak_python_mb"] > 10
        assert set(run["stage_seconds"]) >= {"ingest"}
    assert "time growth" in stdout


def test_planted_exact_and_close_duplicates_are_found(bench):
    _, _, _, results = bench
    found = results["dedup_truth"]
    assert found["found_share.exact_dup"] == 1.0
    # 14 bands x 8 rows miss a pair at Jaccard 0.9 with probability (1 - 0.9**8)**14 < 0.001
    close = {key: share for key, share in found.items() if key.startswith("found_share.near_dup_0.9")}
    assert close and set(close.values()) == {1.0}


def test_one_mlflow_run_in_the_bench_experiment(bench):
    from mlflow.tracking import MlflowClient

    folder, tracking, _, results = bench
    client = MlflowClient(tracking_uri=tracking)
    experiment = client.get_experiment_by_name("bench")
    runs = client.search_runs([experiment.experiment_id])
    assert len(runs) == 1
    run = runs[0]
    assert run.data.params["quick"] == "True"
    assert run.data.metrics["read.warcio iteration.docs_per_s"] > 0
    assert run.data.metrics["scaling.2_shards.seconds"] > 0
    artifacts = {a.path for a in client.list_artifacts(run.info.run_id)}
    assert {"results.json", "ratio_table.txt"} <= artifacts
