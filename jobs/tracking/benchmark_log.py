"""Log a benchmark to MLflow: one parent run for the benchmark, one child run per recipe.

Parent run: inputs, shards, failures, stage times, the unfiltered input's metrics, calibration, the
comparison table and plots. Child runs: the recipe's params and metrics, its file, the per-rule removal
table and plot, redacted excerpts of removed documents, and who lost text. Everything logged was
computed before (jobs/spark/evaluate.py); nothing here reads the data again.
"""

from __future__ import annotations

import csv
import logging
import sys
import warnings
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import mlflow
import pandas as pd
import pyarrow.parquet as pq
from mlflow.tracking import MlflowClient

from cc_sieve.filters.base import AnnotatorSpec
from cc_sieve.filters.calibration import calibration_table
from cc_sieve.filters.web_calibration import stored_calibration
from cc_sieve.jobs import metrics as M
from cc_sieve.jobs.config.presets import BenchmarkConfig
from cc_sieve.jobs.config.recipes import Recipe
from cc_sieve.jobs.redact import csv_cell, printable, redact_setting, redact_uri
from cc_sieve.jobs.spark.evaluate import Evaluation, RecipeEvaluation
from cc_sieve.jobs.spark.ingest import IngestSummary
from cc_sieve.jobs.tracking import plots
from cc_sieve.jobs.tracking.descriptions import TAG_DESCRIPTION, benchmark_description, recipe_description
from cc_sieve.jobs.tracking.runs import (
    BENCHMARK_COLOUR,
    EXPERIMENT_KIND,
    TAG_BENCHMARK,
    TAG_RECIPE,
    TAG_ROLE,
    TAG_RUN_COLOUR,
    code_version,
    config_hash,
    dashboard_view_tag,
    flatten,
    log_metrics,
    log_params,
    readable,
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
    reused_stages: list[str] = field(default_factory=list)  # stages whose tables a rerun reused (jobs/spark/reuse.py)
    annotate_failed_documents: int = 0  # documents an annotator gave up on (over its time budget, or raising)


@dataclass
class BenchmarkResult:
    """What was logged, and where."""

    parent_run_id: str
    experiment: str
    tracking_uri: str
    output: str
    baseline: dict[str, float]
    recipes: list[RecipeEvaluation]
    recipe_run_ids: dict[str, str]
    stage_seconds: dict[str, float]
    harm_detectors: list[str]
    experiment_id: str = ""
    report_dir: str | None = field(default=None)


def write_csv(path: Path, rows: list[dict]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    fieldnames = list(dict.fromkeys(k for row in rows for k in row))
    with open(path, "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=fieldnames)
        writer.writeheader()
        writer.writerows({key: csv_cell(value) for key, value in row.items()} for row in rows)
    return path


def throughput(documents: float, megabytes: float, seconds: dict[str, float],
               ingest_timed: bool = True) -> dict[str, float]:
    """Documents and megabytes per second of a stage; the ingest's only when its seconds cover every shard
    (`ingest_timed` is False when some shards were resumed from an earlier run: their reading is not timed)."""
    def per_second(amount: float, stage: str) -> float:
        return amount / seconds[stage] if seconds.get(stage) else 0.0

    ingest = {M.throughput("ingest_docs_per_s"): per_second(documents, "ingest"),
              M.throughput("ingest_mb_per_s"): per_second(megabytes, "ingest")} if ingest_timed else {}
    return {**ingest, M.throughput("annotate_docs_per_s"): per_second(documents, "annotate")}


TAG_FAILURE = "cc_sieve.failure"
TAG_REUSED = "cc_sieve.reused_stages"  # on a rerun's benchmark run: the stages it reused, e.g. "ingest,annotate"


def quiet_tracking(verbose: bool) -> None:
    """MLflow's own info lines (database set-up, new experiment) and schema hints off, unless verbose."""
    if not verbose:
        logging.getLogger("mlflow").setLevel(logging.WARNING)
        logging.getLogger("alembic").setLevel(logging.WARNING)
        warnings.filterwarnings("ignore", category=UserWarning, module=r"mlflow\..*")
        warnings.filterwarnings("ignore", message=".*noload.*")


@contextmanager
def failure_recorded():
    """Inside an active run: an error leaves the reason as a tag (MLflow marks the run FAILED as it exits)."""
    try:
        yield
    except Exception as error:
        mlflow.set_tag(TAG_FAILURE, failure_reason(error))
        raise


def failure_reason(error: BaseException) -> str:
    return printable(f"{type(error).__name__}: {str(error).splitlines()[0] if str(error) else ''}")[:500]


def mark_failed(client: MlflowClient, run_ids: list[str], error: BaseException) -> None:
    """After logging finished: record a later failure (the report's) on the runs, and mark them FAILED."""
    for run_id in run_ids:
        client.set_tag(run_id, TAG_FAILURE, failure_reason(error))
        client.set_terminated(run_id, status="FAILED")


def log_benchmark(run: BenchmarkRun) -> BenchmarkResult:
    config, ingest, evaluation, out = run.config, run.ingest, run.evaluation, run.output
    if config.tracking.uri:
        mlflow.set_tracking_uri(config.tracking.uri)
    experiment_id = prepare_experiment(config.tracking.experiment)
    artifacts = out / "artifacts"
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    config_dump = config.model_dump()
    config_dump["input"]["specs"] = [redact_uri(spec) for spec in config.input.specs]
    run_ids: dict[str, str] = {}
    sources = text_sources(shard_rows(out))
    if len(sources) > 1:
        print(f"[warning] the shards hold text of {len(sources)} kinds ({'; '.join(sources)}): the rates blend "
              "them, and the same captures give other rates as WARC than as WET")
    tags = {TAG_ROLE: "benchmark", TAG_RUN_COLOUR: BENCHMARK_COLOUR,
            **({TAG_REUSED: ",".join(run.reused_stages)} if run.reused_stages else {})}
    with mlflow.start_run(run_name=f"{config.name}-{stamp}", tags=tags) as parent, \
            failure_recorded():
        log_params({
            **{key: redact_setting(key, value) for key, value in flatten(config_dump, "config").items()},
            "input.shards": str(ingest.shards),
            "input.crawl_ids": ",".join(ingest.crawl_ids) or "unknown",
            "spark.master": redact_uri(run.spark_master),
            "spark.default_parallelism": str(run.spark_parallelism),
            "code_version": code_version(),
            "config_hash": config_hash(config_dump),
            "annotators": ",".join(spec.name for spec in run.annotators),
            "input.text_source": "; ".join(sources),
            "input.text_source_mixed": str(len(sources) > 1).lower(),
        })
        log_input_manifest(out)
        log_metrics({
            M.SHARDS: ingest.shards, M.SHARDS_FAILED: ingest.shards_failed, M.RECORDS: ingest.records,
            M.RECORDS_SKIPPED: ingest.records_skipped, M.FAILURES: ingest.failures, M.DOCUMENTS: ingest.documents,
            M.ANNOTATE_FAILED: run.annotate_failed_documents, M.INPUT_MEGABYTES: ingest.bytes_read / 1e6,
            **{M.seconds(stage): value for stage, value in run.stage_seconds.items()},
            **throughput(ingest.documents, ingest.bytes_read / 1e6, run.stage_seconds,
                         ingest_timed=not ingest.shards_resumed or "ingest" in run.reused_stages),
            **{M.unfiltered(name): value for name, value in evaluation.baseline.items()},
        })
        parent_dir = artifacts / "benchmark"
        write_csv(parent_dir / "shards.csv", shard_rows(out))
        write_csv(parent_dir / "failures.csv", failure_rows(out) or [{"source_shard": "", "error_class": "none"}])
        # the figures as logged (4 significant digits): further digits mean nothing and could spell an input's number
        write_csv(parent_dir / "comparison.csv",
                  [{"recipe": r.name, **{k: readable(v) for k, v in r.metrics.items()}} for r in evaluation.recipes])
        write_json(parent_dir / "calibration.json", calibration_rows(config))
        web = stored_calibration()
        if web is not None:  # the figures without the units (the benchmark used them; the report shows these)
            detectors = {name: {key: value for key, value in entry.items() if key != "unit_rows"}
                         for name, entry in web["detectors"].items()}
            write_json(parent_dir / "web_calibration.json", {**web, "detectors": detectors})
        write_json(parent_dir / "sources.json", evaluation.sources)
        plots.headline_chart([recipe_point(result) for result in evaluation.recipes], evaluation.baseline,
                             parent_dir / "headline.png")
        mlflow.log_artifacts(str(parent_dir))
        for number, (result, recipe) in enumerate(zip(evaluation.recipes, run.recipes, strict=True), start=1):
            print(f"[log] recipe {number}/{len(run.recipes)}: {result.name}", file=sys.stderr, flush=True)
            with mlflow.start_run(run_name=result.name, nested=True,
                                  tags={TAG_ROLE: "recipe", TAG_RECIPE: result.name,
                                        TAG_BENCHMARK: parent.info.run_id,
                                        TAG_RUN_COLOUR: plots.recipe_colour(result.name)}) as child, \
                    failure_recorded():
                run_ids[result.name] = child.info.run_id
                log_params({**flatten(recipe.as_params()),
                            **{f"graders.{name}": verdict for name, verdict in result.graders.items()},
                            **{f"headline_grader.{kind}": detector
                               for kind, detector in M.headline_graders(result.graders).items()},
                            **{f"headline_basis.{kind}": M.headline_basis(result.metrics, detector)
                               for kind, detector in M.headline_graders(result.graders).items()}})
                log_metrics(result.metrics)
                mlflow.set_tag(TAG_DESCRIPTION, recipe_description(
                    result.name, recipe.description, result.metrics, evaluation.baseline, result.graders))
                recipe_dir = artifacts / "recipes" / result.name
                removals = result.removal_table()
                write_csv(recipe_dir / "removals_by_rule.csv", removals
                          or [{"rule": "none", "removed_first": 0, "removed_any": 0, "share_of_input_any": 0}])
                plots.removals_by_rule(result.name, removals, recipe_dir / "removals_by_rule.png")
                write_json(recipe_dir / "removed_samples.json", result.samples)
                write_json(recipe_dir / "collateral.json", result.collateral)
                mlflow.log_artifacts(str(recipe_dir))
                mlflow.log_artifact(str(recipe.path), artifact_path="recipe")
        mlflow.set_tag(TAG_DESCRIPTION, benchmark_description(
            parent.info.run_name, evaluation.baseline, [(r.name, r.metrics) for r in evaluation.recipes],
            ingest.shards, ingest.shards_failed))
        mlflow.log_table(comparison_frame(evaluation), "comparison_table.json")
        parent_id = parent.info.run_id
    return BenchmarkResult(parent_run_id=parent_id, experiment=config.tracking.experiment,
                           tracking_uri=mlflow.get_tracking_uri(), output=str(out), baseline=evaluation.baseline,
                           recipes=evaluation.recipes,
                           recipe_run_ids=run_ids, stage_seconds=run.stage_seconds,
                           harm_detectors=evaluation.harm_detectors, experiment_id=experiment_id)


def recipe_point(result: RecipeEvaluation) -> plots.RecipePoint:
    circular = frozenset(detector for detector, role in result.graders.items() if role == "circular")
    return plots.RecipePoint(result.name, result.metrics, circular)


def comparison_frame(evaluation: Evaluation) -> pd.DataFrame:
    """The comparison as MLflow shows a logged table: one row per recipe, the headline metrics as numbers and
    what each change says in words."""
    rows = []
    for result in evaluation.recipes:
        m = result.metrics
        row = {"recipe": result.name, "docs_kept": m.get(M.DOCS_KEPT), M.RETENTION_DOCS: m.get(M.RETENTION_DOCS),
               M.RETENTION_WORDS: m.get(M.RETENTION_WORDS), M.NEAR_DUP_RATE: m.get(M.NEAR_DUP_RATE),
               "near_dup_change": M.says(m, M.NEAR_DUP_RATE), M.PII_DOC_RATE: m.get(M.PII_DOC_RATE),
               "pii_doc_change": M.says(m, M.PII_DOC_RATE)}
        for kind in M.KIND_GRADERS:
            row[M.headline_change(kind)] = m.get(M.headline_change(kind))
            row[f"{kind}_says"] = M.says_headline(m, kind)
        row[M.COLLATERAL] = m.get(M.COLLATERAL)
        rows.append(row)
    return pd.DataFrame(rows)


def prepare_experiment(name: str) -> str:
    """The experiment (created with its artifacts beside a SQLite store, whatever the working folder), tagged
    to open on the runs table with the headline view saved; set active."""
    client = MlflowClient()
    found = client.get_experiment_by_name(name)
    experiment_id = found.experiment_id if found else client.create_experiment(
        name, artifact_location=artifact_root(mlflow.get_tracking_uri()))
    for key, value in [*EXPERIMENT_KIND.items(), dashboard_view_tag(list(M.HEADLINE))]:
        client.set_experiment_tag(experiment_id, key, value)
    mlflow.set_experiment(experiment_id=experiment_id)
    return experiment_id


def artifact_root(tracking_uri: str) -> str | None:
    """`mlruns/` beside a SQLite store's file (MLflow's default is the working folder's); None: the server's."""
    if not tracking_uri.startswith("sqlite:///"):
        return None
    return (Path(tracking_uri.removeprefix("sqlite:///")).resolve().parent / "mlruns").as_uri()


def log_input_manifest(out: Path) -> None:
    """The shard list as an MLflow dataset (URIs redacted), so the UI shows what was read."""
    rows = shard_rows(out)
    frame = pd.DataFrame(rows)
    with warnings.catch_warnings():  # MLflow's schema hints about integer columns and local sources
        warnings.simplefilter("ignore", UserWarning)
        dataset = mlflow.data.from_pandas(frame, source=str(out / "ingest" / "shards.parquet"),
                                          name="input-shards")
    mlflow.log_input(dataset, context="input")


# What text a shard's documents hold: the same captures give other rates as WARC (HTML through resiliparse's
# main-content extraction) than as WET (Common Crawl's own text, navigation lines and all).
TEXT_SOURCES = {"response": "WARC: HTML to text by resiliparse (main content)",
                "conversion": "WET: Common Crawl's extracted text", "jsonl": "JSONL: the text field as given"}


def text_source(records_by_type: dict[str, int]) -> str:
    sources = [label for record_type, label in TEXT_SOURCES.items() if records_by_type.get(record_type)]
    return " + ".join(sources) or "no documents"


def shard_rows(out: Path) -> list[dict]:
    rows = []
    for row in pq.read_table(out / "ingest" / "shards.parquet").to_pylist():
        records = dict(row["records_by_type"] or [])
        row["source_shard"] = redact_uri(row["source_shard"])
        row["text_source"] = text_source(records) if row["documents"] else "no documents"
        for column in ("records_by_type", "responses_by_class"):  # map columns, written out as k=v;k=v
            row[column] = ";".join(f"{k}={v}" for k, v in sorted(dict(row[column] or []).items()))
        rows.append(row)
    return rows


def text_sources(rows: list[dict]) -> list[str]:
    """The text sources of the shards that gave documents; more than one makes the rates a blend."""
    return sorted({row["text_source"] for row in rows if row["documents"]})


def failure_rows(out: Path) -> list[dict]:
    return [{**row, "source_shard": redact_uri(row["source_shard"])}
            for row in pq.read_table(out / "ingest" / "failures.parquet").to_pylist()]


def calibration_rows(config: BenchmarkConfig) -> list[dict]:
    if not config.harm.enabled:
        return []
    return calibration_table(profanity_threshold=config.harm.profanity_threshold,
                             pii_per_1k_words=config.harm.pii_per_1k_words)
