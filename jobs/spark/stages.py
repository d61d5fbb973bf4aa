"""The benchmark's stages: ingest, annotate (one pass), dedup, evaluate. Each returns its result and its time."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from cc_sieve.filters.base import AnnotatorSpec
from cc_sieve.filters.harm import DETECTORS, pii_density_sql
from cc_sieve.filters.registry import DedupColumns
from cc_sieve.filters.web_calibration import stored_calibration
from cc_sieve.jobs import metrics as M
from cc_sieve.jobs.config.measurements import measurement_specs
from cc_sieve.jobs.config.presets import BenchmarkConfig
from cc_sieve.jobs.config.recipes import Recipe, required_annotators
from cc_sieve.jobs.reading.options import ReadOptions
from cc_sieve.jobs.spark.annotate import annotate_documents
from cc_sieve.jobs.spark.dedup import SIMILAR_MIN, exact_duplicates, near_duplicate_clusters, similar_pairs
from cc_sieve.jobs.spark.evaluate import Evaluation, MeasureColumns, RecipePlan, evaluate
from cc_sieve.jobs.spark.ingest import IngestSummary, run_ingest
from cc_sieve.jobs.spark.progress import StageProgress

PII_TOTAL = "pii_total"
# The columns the dedup stage adds; exact_duplicate is declared with the rule registry (DedupColumns).
DEDUP_COLUMNS = ("dup_cluster_id", "dup_cluster_size", "dup_keep",
                 *(signal.name for signal in DedupColumns.signals()))


@dataclass
class Timed:
    """Runs the stages, each with a progress line while it runs, and keeps their seconds in the order they ran."""

    spark: SparkSession
    seconds: dict[str, float] = field(default_factory=dict)

    def run(self, stage: str, work, documents: int | None = None, progress: bool = True):
        started = time.perf_counter()
        if progress:
            with StageProgress(self.spark, stage, documents):
                result = work()
        else:
            result = work()
        self.seconds[stage] = time.perf_counter() - started
        return result


@dataclass
class Annotated:
    table: DataFrame
    measures: MeasureColumns
    specs: list[AnnotatorSpec]
    annotator_seconds: dict[str, float]
    failed_documents: int = 0  # documents with an annotate_failures row (an annotator too slow or raising on it)


def ingest_stage(spark, uris: list[str], out: Path, options: ReadOptions) -> IngestSummary:
    summary = run_ingest(spark, uris, str(out / "ingest"), options)
    print(f"[ingest] {summary.line()}")
    return summary


def measure_columns(schema_names: list[str], config: BenchmarkConfig) -> MeasureColumns:
    harm = {d.name: d.column for d in DETECTORS if d.column in schema_names} if config.harm.enabled else {}
    pii_counts = {name[len("pii_"):]: name for name in schema_names
                  if name.startswith("pii_") and name not in {PII_TOTAL, "pii_spans", "pii_scanned"}}
    return MeasureColumns(harm_flags=harm, pii_counts=pii_counts,
                          pii_total=PII_TOTAL if PII_TOTAL in schema_names else None,
                          has_dedup=config.dedup.enabled)


def annotate_stage(spark, documents: DataFrame, config: BenchmarkConfig, recipes: list[Recipe],
                   out: Path) -> Annotated:
    """One pass of every annotator the recipes and the measurements need, written to OUT/annotations."""
    specs = list(dict.fromkeys(required_annotators(recipes) + measurement_specs(config)))
    started = time.perf_counter()
    annotations, timers = annotate_documents(spark, documents, specs)
    if config.harm.enabled:
        annotations = with_pii_density(annotations, config.harm.pii_per_1k_words)
    path = out / "annotations"
    annotations.write.mode("overwrite").parquet(str(path))
    table = spark.read.parquet(str(path))
    failed = table.where(F.size("annotate_failures") > 0).count()
    print(f"[annotate] {len(specs)} annotators, {len(table.columns)} columns in "
          f"{time.perf_counter() - started:.1f} s; {failed:,} documents with an annotator too slow or failing")
    return Annotated(table, measure_columns(table.columns, config), specs,
                     {name: accumulator.value for name, accumulator in timers.items()}, failed)


def with_pii_density(annotations: DataFrame, threshold: float) -> DataFrame:
    """The pii_density harm detector's columns, derived from the PII annotator's count (when it ran)."""
    for column, sql in pii_density_sql(annotations.columns, threshold).items():
        annotations = annotations.withColumn(column, F.expr(sql))
    return annotations


@dataclass
class Deduplicated:
    table: DataFrame  # the annotations with the dedup columns (DEDUP_COLUMNS, and each document's representative)
    pairs: DataFrame | None  # the duplicate measure's similar pairs (u, v, jaccard), apart from the clusters


def dedup_stage(spark, annotations: DataFrame, config: BenchmarkConfig, out: Path) -> Deduplicated:
    """Annotations plus dup_cluster_id / dup_cluster_size / dup_keep (survivor by dedup.survivor) and
    exact_duplicate (the exact_duplicate rule's column), cached; and the similar pairs that measure the
    duplicates a recipe leaves, independent of the clusters recipes remove by."""
    if not config.dedup.enabled:
        return Deduplicated(annotations.cache(), None)
    clusters = near_duplicate_clusters(
        annotations, scope=config.dedup.scope, survivor=config.dedup.survivor,
        verify_threshold=config.dedup.verify_threshold, checkpoint_dir=str(out / "checkpoints"))
    exact = exact_duplicates(annotations, scope=config.dedup.scope, survivor=config.dedup.survivor)
    clusters = clusters.join(exact, "doc_id").selectExpr(
        "doc_id", "cluster_id AS dup_cluster_id", "cluster_size AS dup_cluster_size", "keep AS dup_keep",
        "exact_duplicate")
    groups, pairs = similar_pairs(annotations, scope=config.dedup.scope)
    clusters.join(groups, "doc_id", "left").write.mode("overwrite").parquet(str(out / "dedup"))
    pairs.write.mode("overwrite").parquet(str(out / "similar_pairs"))
    table = annotations.join(spark.read.parquet(str(out / "dedup")), "doc_id", "left").cache()
    pairs = spark.read.parquet(str(out / "similar_pairs"))
    print(f"[dedup] {table.where('NOT dup_keep').count():,} duplicates in clusters; {pairs.count():,} similar "
          f"pairs at estimated Jaccard >= {SIMILAR_MIN}")
    return Deduplicated(table, pairs)


def evaluate_stage(spark, deduplicated: Deduplicated, documents: DataFrame, config: BenchmarkConfig,
                   recipes: list[Recipe], measures: MeasureColumns, truth: list[Path]) -> Evaluation:
    plans = [RecipePlan.of(recipe, config.dedup) for recipe in recipes]
    return evaluate(spark, deduplicated.table, documents, plans, measures, truth, deduplicated.pairs,
                    web_calibrations(config))


def web_calibrations(config: BenchmarkConfig) -> dict[str, M.DetectorCalibration]:
    """Each detector's web-page labeled units (data/eval/web/calibration.json), for the corrected prevalence;
    none when the file was computed at other thresholds than this benchmark's (a note says so)."""
    stored = stored_calibration()
    if stored is None:
        return {}
    wanted = {"profanity_threshold": config.harm.profanity_threshold, "pii_per_1k_words": config.harm.pii_per_1k_words,
              "pii_score_threshold": config.pii.score_threshold}
    if stored["settings"] != wanted:
        print(f"[calibration] the web-page calibration was measured at {stored['settings']}, this benchmark runs at "
              f"{wanted}: no corrected prevalence (run `cc-sieve calibrate --write` with this preset)")
        return {}
    return {name: M.DetectorCalibration.of(entry["unit_rows"]) for name, entry in stored["detectors"].items()}
