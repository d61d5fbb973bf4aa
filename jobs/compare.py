"""Evaluate every recipe over the annotated table and log the comparison to MLflow.

Parent run: the benchmark (inputs, shards, failures, stage times, calibration, comparison
table and plots). Child runs: one per recipe (params, metrics, recipe file, per-rule removal
table, removals plot, redacted excerpts of removed documents).
"""

from __future__ import annotations

import csv
import time
import warnings
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from jobs import plots
from jobs.config import BenchmarkConfig, redact_uri
from jobs.evaluate import MeasureColumns, RecipePlan, add_reductions, recipe_metrics, with_decisions
from jobs.ingest import IngestSummary
from jobs.tracking import (
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
class RecipeResult:
    name: str
    metrics: dict[str, float]
    params: dict[str, str]
    run_id: str | None = None
    removal_table: list[dict] = field(default_factory=list)


@dataclass
class BenchmarkResult:
    parent_run_id: str | None
    experiment: str
    tracking_uri: str
    output: str
    recipes: list[RecipeResult]
    stage_seconds: dict[str, float]
    harm_detectors: list[str]
    report_dir: str | None = None


def write_csv(path: Path, rows: list[dict]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    fieldnames = list(dict.fromkeys(k for row in rows for k in row))
    with open(path, "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=fieldnames)
        writer.writeheader()
        writer.writerows(rows)
    return path


SAMPLES_PER_RULE = 20
EXCERPT_CHARS = 300
BASELINE = "unfiltered"


def plan_for(recipe, config: BenchmarkConfig) -> RecipePlan:
    dedup = recipe.dedup_placement() if config.dedup.enabled else "none"
    return RecipePlan(name=recipe.name, predicates=recipe.removal_predicates(), dedup=dedup,
                      survivor=config.dedup.survivor)


def removal_table(metrics: dict[str, float], docs_in: float) -> list[dict]:
    rules = sorted({k.split(".", 1)[1] for k in metrics if k.startswith(("removed_first.", "removed_any."))})
    return [{"rule": rule,
             "removed_first": int(metrics.get(f"removed_first.{rule}", 0)),
             "removed_any": int(metrics.get(f"removed_any.{rule}", metrics.get(f"removed_first.{rule}", 0))),
             "share_of_input_any": round(metrics.get(f"removed_any.{rule}",
                                                     metrics.get(f"removed_first.{rule}", 0)) / docs_in, 6)
             if docs_in else 0.0}
            for rule in rules]


def removed_samples(spark, table, documents, plan: RecipePlan, measures: MeasureColumns) -> list[dict]:
    """At most SAMPLES_PER_RULE removed documents per first rule, as short excerpts with PII redacted."""
    from pyspark.sql import functions as F
    from pyspark.sql.window import Window

    from filters.pii import redact_excerpt

    decided, _ = with_decisions(table, plan, measures)
    removed = decided.where("NOT _kept AND _first_rule IS NOT NULL")
    ranked = removed.withColumn("_n", F.row_number().over(
        Window.partitionBy("_first_rule").orderBy(F.xxhash64("doc_id"), "doc_id"))).where(f"_n <= {SAMPLES_PER_RULE}")
    columns = ["doc_id", "url", "_first_rule"] + (["pii_spans"] if "pii_spans" in table.columns else [])
    rows = ranked.select(*columns).join(documents.select("doc_id", "text"), "doc_id").collect()
    samples = []
    for row in sorted(rows, key=lambda r: (r["_first_rule"], r["doc_id"])):
        spans = row["pii_spans"] if "pii_spans" in row else None
        samples.append({"rule": row["_first_rule"], "doc_id": row["doc_id"],
                        "excerpt": redact_excerpt(row["text"] or "", spans, EXCERPT_CHARS)})
    return samples


TOP_HOSTS = 15


def language_column(table) -> str:
    return "language" if "language" in table.columns else "declared_language"


def sources_summary(table) -> dict:
    """Where the documents came from: capture dates, top hosts, languages, crawls, record types."""
    from pyspark.sql import functions as F

    dates = table.agg(F.min("fetch_date").alias("first"), F.max("fetch_date").alias("last")).collect()[0]
    language = language_column(table)

    def counts(column: str, limit: int | None = None) -> list[dict]:
        frame = table.groupBy(F.coalesce(F.col(column), F.lit("unknown")).alias("value")).count()
        frame = frame.orderBy(F.desc("count"), "value")
        rows = frame.limit(limit).collect() if limit else frame.collect()
        return [{"value": r["value"], "documents": r["count"]} for r in rows]

    return {"first_capture": str(dates["first"]) if dates["first"] else None,
            "last_capture": str(dates["last"]) if dates["last"] else None,
            "language_column": language, "languages": counts(language), "top_hosts": counts("host", TOP_HOSTS),
            "crawls": counts("crawl_id"), "record_types": counts("record_type")}


def collateral_breakdown(table, plan: RecipePlan, measures: MeasureColumns) -> dict:
    """Removed documents that no harm detector flags, by language and by host: who loses text."""
    from pyspark.sql import functions as F

    decided, _ = with_decisions(table, plan, measures)
    flagged = F.lit(False)
    for column in measures.harm_flags.values():
        flagged = flagged | F.coalesce(F.col(column), F.lit(False))
    unflagged = decided.where(~F.col("_kept") & ~flagged)
    language = language_column(table)

    def breakdown(column: str) -> list[dict]:
        totals = decided.groupBy(F.coalesce(F.col(column), F.lit("unknown")).alias("value")).count()
        lost = unflagged.groupBy(F.coalesce(F.col(column), F.lit("unknown")).alias("value")).count()
        rows = lost.join(totals.withColumnRenamed("count", "total"), "value").orderBy(F.desc("count"), "value")
        return [{"value": r["value"], "removed_unflagged": r["count"], "documents": r["total"],
                 "share_lost": r["count"] / r["total"]} for r in rows.limit(TOP_HOSTS).collect()]

    return {"by_language": breakdown(language), "by_host": breakdown("host")}


TRUTH_FILE = "truth.jsonl"


def find_truth(specs: list[str], explicit: str | None) -> list[Path]:
    """Planted truth written by `cc-sieve make-shards`: beside a folder or manifest input, or named."""
    if explicit:
        return [Path(explicit)]
    found = []
    for spec in specs:
        path = Path(spec)
        folder = path if path.is_dir() else path.parent
        if (folder / TRUTH_FILE).is_file():
            found.append(folder / TRUTH_FILE)
    return sorted(set(found))


def load_truth(spark, paths: list[Path]):
    """One row per planted document: doc_id and which truths were planted in it (no PII strings)."""
    import json

    rows = []
    for path in paths:
        with open(path) as handle:
            for line in handle:
                item = json.loads(line)
                rows.append((item["doc_id"], item.get("near_dup_of"), item.get("exact_dup_of"),
                             item.get("jaccard_target"), bool(item.get("pii")), bool(item.get("toxic")),
                             bool(item.get("blocklisted"))))
    schema = ("doc_id string, near_dup_of string, exact_dup_of string, jaccard_target double, planted_pii boolean, "
              "planted_toxic boolean, planted_blocklisted boolean")
    return spark.createDataFrame(rows, schema)


def truth_metrics(table, truth, plan: RecipePlan, measures: MeasureColumns) -> dict[str, float]:
    """Share of each planted truth that the recipe keeps: a duplicate remains when the copy and the
    document it copies are both kept (near-duplicates also per planted Jaccard level); PII, toxic and
    blocklisted documents remain when kept."""
    from pyspark.sql import functions as F

    decided, _ = with_decisions(table, plan, measures)
    kept = decided.select("doc_id", "_kept")
    joined = truth.join(kept, "doc_id")
    for column in ("near_dup_of", "exact_dup_of"):
        source = kept.select(F.col("doc_id").alias(column), F.col("_kept").alias(f"_{column}_kept"))
        joined = joined.join(source, column, "left")
    aggregations = {
        "near_dup": (F.col("near_dup_of").isNotNull(), F.col("_kept") & F.col("_near_dup_of_kept")),
        "exact_dup": (F.col("exact_dup_of").isNotNull(), F.col("_kept") & F.col("_exact_dup_of_kept")),
        "pii_docs": (F.col("planted_pii"), F.col("_kept")),
        "toxic_docs": (F.col("planted_toxic"), F.col("_kept")),
        "blocklisted_docs": (F.col("planted_blocklisted"), F.col("_kept")),
    }
    expressions = []
    for name, (planted, remains) in aggregations.items():
        expressions.append(F.sum(F.when(planted, 1).otherwise(0)).alias(f"{name}_planted"))
        expressions.append(F.sum(F.when(planted & F.coalesce(remains, F.lit(False)), 1).otherwise(0))
                           .alias(f"{name}_remaining"))
    row = joined.agg(*expressions).collect()[0]
    metrics = {}
    for name in aggregations:
        planted = float(row[f"{name}_planted"] or 0)
        metrics[f"truth.{name}_planted"] = planted
        if planted:
            metrics[f"truth.{name}_remaining_share"] = float(row[f"{name}_remaining"] or 0) / planted
    near_dup, remains = aggregations["near_dup"]
    by_level = joined.where(near_dup & F.col("jaccard_target").isNotNull()).groupBy("jaccard_target").agg(
        F.count(F.lit(1)).alias("planted"),
        F.sum(F.when(F.coalesce(remains, F.lit(False)), 1).otherwise(0)).alias("remaining")).collect()
    for level in by_level:
        metrics[f"truth.near_dup_{level['jaccard_target']:g}_remaining_share"] = level["remaining"] / level["planted"]
    return metrics


def log_benchmark(spark, config: BenchmarkConfig, recipes, uris: list[str], ingest: IngestSummary, documents,
                  table, measures: MeasureColumns, specs, stage_seconds: dict[str, float],
                  out: Path) -> BenchmarkResult:
    import mlflow

    if config.tracking.uri:
        mlflow.set_tracking_uri(config.tracking.uri)
    mlflow.set_experiment(config.tracking.experiment)
    artifacts = out / "artifacts"
    started = time.perf_counter()
    baseline = recipe_metrics(table, RecipePlan(BASELINE, {}), measures)
    results: list[RecipeResult] = []
    truth_paths = find_truth(config.input.specs, config.input.truth)
    truth = load_truth(spark, truth_paths).cache() if truth_paths else None
    for recipe in recipes:
        plan = plan_for(recipe, config)
        metrics = add_reductions(recipe_metrics(table, plan, measures), baseline)
        if truth is not None:
            metrics.update(truth_metrics(table, truth, plan, measures))
        results.append(RecipeResult(recipe.name, metrics, flatten(recipe.as_params()),
                                    removal_table=removal_table(metrics, metrics["docs_in"])))
    stage_seconds["evaluate"] = time.perf_counter() - started
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    config_dump = config.model_dump()
    config_dump["input"]["specs"] = [redact_uri(spec) for spec in config.input.specs]
    with mlflow.start_run(run_name=f"{config.name}-{stamp}", tags={TAG_ROLE: "benchmark"}) as parent:
        log_params({
            **flatten(config_dump, "config"),
            "input.shards": str(ingest.shards),
            "input.crawl_ids": ",".join(ingest.crawl_ids) or "unknown",
            "spark.master": spark.sparkContext.master,
            "spark.default_parallelism": str(spark.sparkContext.defaultParallelism),
            "code_version": code_version(),
            "config_hash": config_hash(config_dump),
            "annotators": ",".join(s.target.rsplit(":", 1)[-1] for s in specs),
        })
        log_input_manifest(out)
        docs = float(ingest.documents)
        log_metrics({
            "shards_total": ingest.shards, "shards_failed": ingest.shards_failed, "records": ingest.records,
            "records_skipped": ingest.records_skipped, "failures": ingest.failures, "documents": docs,
            "input_megabytes": ingest.bytes_read / 1e6,
            **{f"seconds.{stage}": value for stage, value in stage_seconds.items()},
            "throughput.ingest_docs_per_s": docs / stage_seconds["ingest"] if stage_seconds.get("ingest") else 0,
            "throughput.ingest_mb_per_s": ingest.bytes_read / 1e6 / stage_seconds["ingest"]
            if stage_seconds.get("ingest") else 0,
            "throughput.annotate_docs_per_s": docs / stage_seconds["annotate"]
            if stage_seconds.get("annotate") else 0,
            **{f"unfiltered.{k}": v for k, v in baseline.items()},
        })
        parent_dir = artifacts / "benchmark"
        write_csv(parent_dir / "shards.csv", shard_rows(out))
        write_csv(parent_dir / "failures.csv", failure_rows(out) or [{"source_shard": "", "error_class": "none"}])
        write_csv(parent_dir / "comparison.csv", [{"recipe": r.name, **r.metrics} for r in results])
        calibration = calibration_rows(config)
        write_json(parent_dir / "calibration.json", calibration)
        if calibration:
            from filters.calibration import calibration_metrics

            log_metrics(calibration_metrics(calibration))
        write_json(parent_dir / "sources.json", sources_summary(table))
        plots.harm_vs_retention(results, list(measures.harm_flags), parent_dir / "harm_vs_retention.png")
        mlflow.log_artifacts(str(parent_dir))
        for result, recipe in zip(results, recipes, strict=True):
            with mlflow.start_run(run_name=result.name, nested=True,
                                  tags={TAG_ROLE: "recipe", TAG_RECIPE: result.name,
                                        TAG_BENCHMARK: parent.info.run_id}) as child:
                result.run_id = child.info.run_id
                log_params(result.params)
                log_metrics(result.metrics)
                recipe_dir = artifacts / "recipes" / result.name
                write_csv(recipe_dir / "removals_by_rule.csv", result.removal_table
                          or [{"rule": "none", "removed_first": 0, "removed_any": 0, "share_of_input_any": 0}])
                plots.removals_by_rule(result.name, result.removal_table, recipe_dir / "removals_by_rule.png")
                samples = removed_samples(spark, table, documents, plan_for(recipe, config), measures)
                write_json(recipe_dir / "removed_samples.json", samples)
                write_json(recipe_dir / "collateral.json", collateral_breakdown(table, plan_for(recipe, config),
                                                                                measures))
                mlflow.log_artifacts(str(recipe_dir))
                mlflow.log_artifact(str(recipe.path), artifact_path="recipe")
        parent_id = parent.info.run_id
    return BenchmarkResult(parent_run_id=parent_id, experiment=config.tracking.experiment,
                           tracking_uri=mlflow.get_tracking_uri(), output=str(out), recipes=results,
                           stage_seconds=stage_seconds, harm_detectors=list(measures.harm_flags))


def log_input_manifest(out: Path) -> None:
    """The shard list as an MLflow dataset (URIs redacted), so the UI shows what was read."""
    import mlflow
    import pandas as pd

    rows = shard_rows(out)
    frame = pd.DataFrame(rows)
    with warnings.catch_warnings():  # MLflow's schema hints about integer columns and local sources
        warnings.simplefilter("ignore", UserWarning)
        dataset = mlflow.data.from_pandas(frame, source=str(out / "ingest" / "shards.parquet"),
                                          name="input-shards")
    mlflow.log_input(dataset, context="input")


def shard_rows(out: Path) -> list[dict]:
    import pyarrow.parquet as pq

    rows = []
    for row in pq.read_table(out / "ingest" / "shards.parquet").to_pylist():
        row["source_shard"] = redact_uri(row["source_shard"])
        row["records_by_type"] = ";".join(f"{k}={v}" for k, v in sorted(dict(row["records_by_type"]).items()))
        rows.append(row)
    return rows


def failure_rows(out: Path) -> list[dict]:
    import pyarrow.parquet as pq

    return [{**row, "source_shard": redact_uri(row["source_shard"])}
            for row in pq.read_table(out / "ingest" / "failures.parquet").to_pylist()]


def calibration_rows(config: BenchmarkConfig) -> list[dict]:
    if not config.harm.enabled:
        return []
    from filters.calibration import calibration_table

    return calibration_table(profanity_threshold=config.harm.profanity_threshold,
                             pii_per_1k_words=config.harm.pii_per_1k_words)
