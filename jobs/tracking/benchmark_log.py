"""Log a benchmark to MLflow: one parent run for the benchmark, one child run per recipe.

Parent run: inputs, shards, failures, stage times, the unfiltered input's metrics, calibration, the
comparison table and plots. Child runs: the recipe's params and metrics, its file, the per-rule removal
table and plot, redacted excerpts of removed documents, and who lost text. Everything logged was
computed before (jobs/spark/evaluate.py); nothing here reads the data again.
"""

from __future__ import annotations

import csv
import warnings
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import mlflow
import pandas as pd
import pyarrow.parquet as pq

from cc_sieve.filters.base import AnnotatorSpec
from cc_sieve.filters.calibration import calibration_metrics, calibration_table
from cc_sieve.jobs import metrics as M
from cc_sieve.jobs.config.presets import BenchmarkConfig
from cc_sieve.jobs.config.recipes import Recipe
from cc_sieve.jobs.redact import redact_uri
from cc_sieve.jobs.spark.evaluate import Evaluation, RecipeEvaluation
from cc_sieve.jobs.spark.ingest import IngestSummary
from cc_sieve.jobs.tracking import plots
from cc_sieve.jobs.tracking.runs import (
    TAG_BENCHMARK,
    TAG_RECIPE,
    TAG_ROLE,
    code_version,
    config_hash,
    flatten,
    log_metrics,
    log_params,
    write_json,
)


@dataclass
class BenchmarkRun:
    """Everything a benchmark produced, ready to log."""

    config: BenchmarkConfig
    recipes: list[Recipe]
    ingest: IngestSummary
    annotators: list[AnnotatorSpec]
    evaluation: Evaluation
    stage_seconds: dict[str, float]
    output: Path
    spark_master: str
    spark_parallelism: int


@dataclass
class BenchmarkResult:
    """What was logged, and where."""

    parent_run_id: str
    experiment: str
    tracking_uri: str
    output: str
    recipes: list[RecipeEvaluation]
    recipe_run_ids: dict[str, str]
    stage_seconds: dict[str, float]
    harm_detectors: list[str]
    report_dir: str | None = field(default=None)


def write_csv(path: Path, rows: list[dict]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    fieldnames = list(dict.fromkeys(k for row in rows for k in row))
    with open(path, "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=fieldnames)
        writer.writeheader()
        writer.writerows(rows)
    return path


def throughput(documents: float, megabytes: float, seconds: dict[str, float]) -> dict[str, float]:
    def per_second(amount: float, stage: str) -> float:
        return amount / seconds[stage] if seconds.get(stage) else 0.0

    return {"throughput.ingest_docs_per_s": per_second(documents, "ingest"),
            "throughput.ingest_mb_per_s": per_second(megabytes, "ingest"),
            "throughput.annotate_docs_per_s": per_second(documents, "annotate")}


def log_benchmark(run: BenchmarkRun) -> BenchmarkResult:
    config, ingest, evaluation, out = run.config, run.ingest, run.evaluation, run.output
    if config.tracking.uri:
        mlflow.set_tracking_uri(config.tracking.uri)
    mlflow.set_experiment(config.tracking.experiment)
    artifacts = out / "artifacts"
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    config_dump = config.model_dump()
    config_dump["input"]["specs"] = [redact_uri(spec) for spec in config.input.specs]
    run_ids: dict[str, str] = {}
    with mlflow.start_run(run_name=f"{config.name}-{stamp}", tags={TAG_ROLE: "benchmark"}) as parent:
        log_params({
            **flatten(config_dump, "config"),
            "input.shards": str(ingest.shards),
            "input.crawl_ids": ",".join(ingest.crawl_ids) or "unknown",
            "spark.master": run.spark_master,
            "spark.default_parallelism": str(run.spark_parallelism),
            "code_version": code_version(),
            "config_hash": config_hash(config_dump),
            "annotators": ",".join(spec.name for spec in run.annotators),
        })
        log_input_manifest(out)
        log_metrics({
            "shards_total": ingest.shards, "shards_failed": ingest.shards_failed, "records": ingest.records,
            "records_skipped": ingest.records_skipped, "failures": ingest.failures, "documents": ingest.documents,
            "input_megabytes": ingest.bytes_read / 1e6,
            **{f"seconds.{stage}": value for stage, value in run.stage_seconds.items()},
            **throughput(ingest.documents, ingest.bytes_read / 1e6, run.stage_seconds),
            **{M.unfiltered(name): value for name, value in evaluation.baseline.items()},
        })
        parent_dir = artifacts / "benchmark"
        write_csv(parent_dir / "shards.csv", shard_rows(out))
        write_csv(parent_dir / "failures.csv", failure_rows(out) or [{"source_shard": "", "error_class": "none"}])
        write_csv(parent_dir / "comparison.csv", [{"recipe": r.name, **r.metrics} for r in evaluation.recipes])
        calibration = calibration_rows(config)
        write_json(parent_dir / "calibration.json", calibration)
        if calibration:
            log_metrics(calibration_metrics(calibration))
        write_json(parent_dir / "sources.json", evaluation.sources)
        plots.harm_vs_retention(evaluation.recipes, evaluation.harm_detectors, parent_dir / "harm_vs_retention.png")
        mlflow.log_artifacts(str(parent_dir))
        for result, recipe in zip(evaluation.recipes, run.recipes, strict=True):
            with mlflow.start_run(run_name=result.name, nested=True,
                                  tags={TAG_ROLE: "recipe", TAG_RECIPE: result.name,
                                        TAG_BENCHMARK: parent.info.run_id}) as child:
                run_ids[result.name] = child.info.run_id
                log_params(flatten(recipe.as_params()))
                log_metrics(result.metrics)
                recipe_dir = artifacts / "recipes" / result.name
                removals = result.removal_table()
                write_csv(recipe_dir / "removals_by_rule.csv", removals
                          or [{"rule": "none", "removed_first": 0, "removed_any": 0, "share_of_input_any": 0}])
                plots.removals_by_rule(result.name, removals, recipe_dir / "removals_by_rule.png")
                write_json(recipe_dir / "removed_samples.json", result.samples)
                write_json(recipe_dir / "collateral.json", result.collateral)
                mlflow.log_artifacts(str(recipe_dir))
                mlflow.log_artifact(str(recipe.path), artifact_path="recipe")
        parent_id = parent.info.run_id
    return BenchmarkResult(parent_run_id=parent_id, experiment=config.tracking.experiment,
                           tracking_uri=mlflow.get_tracking_uri(), output=str(out), recipes=evaluation.recipes,
                           recipe_run_ids=run_ids, stage_seconds=run.stage_seconds,
                           harm_detectors=evaluation.harm_detectors)


def log_input_manifest(out: Path) -> None:
    """The shard list as an MLflow dataset (URIs redacted), so the UI shows what was read."""
    rows = shard_rows(out)
    frame = pd.DataFrame(rows)
    with warnings.catch_warnings():  # MLflow's schema hints about integer columns and local sources
        warnings.simplefilter("ignore", UserWarning)
        dataset = mlflow.data.from_pandas(frame, source=str(out / "ingest" / "shards.parquet"),
                                          name="input-shards")
    mlflow.log_input(dataset, context="input")


def shard_rows(out: Path) -> list[dict]:
    rows = []
    for row in pq.read_table(out / "ingest" / "shards.parquet").to_pylist():
        row["source_shard"] = redact_uri(row["source_shard"])
        for column in ("records_by_type", "responses_by_class"):  # map columns, written out as k=v;k=v
            row[column] = ";".join(f"{k}={v}" for k, v in sorted(dict(row[column] or []).items()))
        rows.append(row)
    return rows


def failure_rows(out: Path) -> list[dict]:
    return [{**row, "source_shard": redact_uri(row["source_shard"])}
            for row in pq.read_table(out / "ingest" / "failures.parquet").to_pylist()]


def calibration_rows(config: BenchmarkConfig) -> list[dict]:
    if not config.harm.enabled:
        return []
    return calibration_table(profanity_threshold=config.harm.profanity_threshold,
                             pii_per_1k_words=config.harm.pii_per_1k_words)
