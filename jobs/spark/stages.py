"""The benchmark's stages: ingest, annotate (one pass), dedup, evaluate. Each returns its result and its time.

Ingest, annotate and dedup write tables under the output folder, and a rerun into the same folder reuses them
when their inputs, settings and code are unchanged (jobs/spark/reuse.py); evaluate always runs.
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass, field
from pathlib import Path

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from cc_sieve.filters.base import AnnotatorSpec
from cc_sieve.filters.harm import DETECTORS, pii_density_sql
from cc_sieve.filters.pii import SUMMARY_COLUMNS
from cc_sieve.filters.registry import DedupColumns
from cc_sieve.filters.web_calibration import stored_calibration
from cc_sieve.jobs import metrics as M
from cc_sieve.jobs.config.measurements import measurement_specs
from cc_sieve.jobs.config.presets import BenchmarkConfig
from cc_sieve.jobs.config.recipes import Recipe, required_annotators
from cc_sieve.jobs.reading.options import ReadOptions
from cc_sieve.jobs.reading.shard_ingest import document_file, forget_shards
from cc_sieve.jobs.spark.annotate import annotate_documents
from cc_sieve.jobs.spark.dedup import SIMILAR_MIN, exact_duplicates, near_duplicate_clusters, similar_pairs
from cc_sieve.jobs.spark.evaluate import Evaluation, MeasureColumns, RecipePlan, evaluate
from cc_sieve.jobs.spark.ingest import IngestSummary, run_ingest
from cc_sieve.jobs.spark.progress import StageProgress
from cc_sieve.jobs.spark.reuse import Reuse, StageRecord, file_listing, fingerprint, local_path

PII_TOTAL, PII_NER_SCANNED = "pii_total", "pii_ner_scanned"
# The columns the dedup stage adds; exact_duplicate is declared with the rule registry (DedupColumns).
DEDUP_COLUMNS = ("dup_cluster_id", "dup_cluster_size", "dup_keep",
                 *(signal.name for signal in DedupColumns.signals()))


@dataclass
class Timed:
    """Runs the stages, each with a progress line while it runs, and keeps their seconds in the order they ran.
    A stage whose result gives its own `seconds` counts those: the same whether it ran now or a rerun reused it
    (then they are the seconds it took when it was computed), and `reused` names the stages a rerun reused."""

    spark: SparkSession
    seconds: dict[str, float] = field(default_factory=dict)
    reused: list[str] = field(default_factory=list)

    def run(self, stage: str, work, documents: int | None = None, progress: bool = True):
        started = time.perf_counter()
        self.spark.sparkContext.setJobDescription(stage)  # names the stage's Spark jobs (event log, UI)
        try:
            if progress:
                with StageProgress(self.spark, stage, documents):
                    result = work()
            else:
                result = work()
        finally:
            self.spark.sparkContext.setJobDescription(None)
        own = getattr(result, "seconds", None)
        self.seconds[stage] = own if own is not None else time.perf_counter() - started
        if getattr(result, "reused", None):
            self.reused.append(stage)
        return result


@dataclass
class Ingested:
    summary: IngestSummary
    document_files: list[str]  # this run's shards' documents (the folder may hold other runs' shards too)
    reused: Reuse | None = None

    @property
    def seconds(self) -> float:
        return self.summary.wall_seconds


@dataclass
class Annotated:
    table: DataFrame
    measures: MeasureColumns
    specs: list[AnnotatorSpec]
    annotator_seconds: dict[str, float]
    seconds: float
    failed_documents: int = 0  # documents with an annotate_failures row (an annotator too slow or raising on it)
    reused: Reuse | None = None


def local_file_state(uri: str) -> list | None:
    """[size, mtime_ns] of a local shard (None when it is missing); None for a remote one, which is read again
    only when the read settings change (Common Crawl's objects never change)."""
    if "://" in uri:
        return None
    listing = file_listing([Path(uri)])
    return listing[0][1:] if listing and listing[0][1] is not None else None


def ingest_stage(spark, uris: list[str], out: Path, options: ReadOptions) -> Ingested:
    """The documents of every shard, read once: a shard already read with the same settings is resumed (its
    local file unchanged); when every shard was, the ingest is reused."""
    folder = out / "ingest"
    settings = {"engine": options.engine, "main_content": options.main_content, "max_payload": options.max_payload,
                "s3_endpoint": options.s3.endpoint_url}
    shards = {uri: local_file_state(uri) for uri in uris}
    record = StageRecord(out, "ingest", tuple(str(document_file(folder, uri).relative_to(out)) for uri in uris))
    stage_fingerprint = fingerprint("ingest", {"shards": shards, "settings": settings})
    reuse = record.reusable(stage_fingerprint)
    details = {"settings": settings, "shards": shards}
    earlier_seconds = record.read().get("seconds")  # of the last finished ingest into this folder
    if reuse is None:
        previous = record.details()
        if previous.get("settings", settings) != settings:
            forget_shards(folder, uris)
        else:
            recorded = previous.get("shards", {})
            forget_shards(folder, [uri for uri in uris if uri in recorded and recorded[uri] != shards[uri]])
        record.start(details)  # a run killed halfway still tells the next one what it read with
    summary = run_ingest(spark, uris, str(folder), options)
    if reuse:
        summary = dataclasses.replace(summary, wall_seconds=reuse.seconds)
        print(reuse.line("ingest", f"the documents of {len(uris)} shards"))
    else:
        if earlier_seconds and summary.shards_resumed == summary.shards:  # read by that run (the code changed since)
            summary = dataclasses.replace(summary, wall_seconds=earlier_seconds)
        record.finish(stage_fingerprint, summary.wall_seconds, details)
    print(f"[ingest] {summary.line()}")
    files = [str(document_file(folder, uri)) for uri in uris if document_file(folder, uri).is_file()]
    return Ingested(summary, files, reuse)


def measure_columns(schema_names: list[str], config: BenchmarkConfig) -> MeasureColumns:
    harm = {d.name: d.column for d in DETECTORS if d.column in schema_names} if config.harm.enabled else {}
    pii_counts = {name[len("pii_"):]: name for name in schema_names
                  if name.startswith("pii_") and name not in SUMMARY_COLUMNS}
    return MeasureColumns(harm_flags=harm, pii_counts=pii_counts,
                          pii_total=PII_TOTAL if PII_TOTAL in schema_names else None,
                          pii_ner_scanned=PII_NER_SCANNED if PII_NER_SCANNED in schema_names else None,
                          has_dedup=config.dedup.enabled)


def input_files(table: DataFrame) -> list:
    """The listing of the files a table read from Parquet was read from: what a stage over it depends on."""
    return file_listing([local_path(file) for file in table.inputFiles()])


def annotate_stage(spark, documents: DataFrame, config: BenchmarkConfig, recipes: list[Recipe],
                   out: Path) -> Annotated:
    """One pass of every annotator the recipes and the measurements need, written to OUT/annotations (reused
    when the documents, the annotators and their settings are those of the table there)."""
    specs = list(dict.fromkeys(required_annotators(recipes) + measurement_specs(config)))
    path = out / "annotations"
    record = StageRecord(out, "annotate", (path.name,))
    stage_fingerprint = fingerprint("annotate", {
        "documents": input_files(documents), "harm": [config.harm.enabled, config.harm.pii_per_1k_words],
        "annotators": [[f"{spec.factory.__module__}.{spec.name}", spec.kwargs] for spec in specs]})
    reuse = record.reusable(stage_fingerprint)
    if reuse:
        table = spark.read.parquet(str(path))
        print(reuse.line("annotate", f"the annotations ({len(specs)} annotators, {len(table.columns)} columns)"))
        return Annotated(table, measure_columns(table.columns, config), specs, reuse.details["annotator_seconds"],
                         reuse.seconds, reuse.details.get("failed_documents", 0), reuse)
    record.start()
    started = time.perf_counter()
    annotations, timers = annotate_documents(spark, documents, specs)
    if config.harm.enabled:
        annotations = with_pii_density(annotations, config.harm.pii_per_1k_words)
    annotations.write.mode("overwrite").parquet(str(path))
    seconds = time.perf_counter() - started
    annotator_seconds = {name: accumulator.value for name, accumulator in timers.items()}
    table = spark.read.parquet(str(path))
    failed = table.where(F.size("annotate_failures") > 0).count()
    record.finish(stage_fingerprint, seconds, {"annotator_seconds": annotator_seconds, "failed_documents": failed})
    print(f"[annotate] {len(specs)} annotators, {len(table.columns)} columns in {seconds:.1f} s; "
          f"{failed:,} documents with an annotator too slow or failing")
    return Annotated(table, measure_columns(table.columns, config), specs, annotator_seconds, seconds, failed)


def with_pii_density(annotations: DataFrame, threshold: float) -> DataFrame:
    """The pii_density harm detector's columns, derived from the PII annotator's count (when it ran)."""
    for column, sql in pii_density_sql(annotations.columns, threshold).items():
        annotations = annotations.withColumn(column, F.expr(sql))
    return annotations


@dataclass
class Deduplicated:
    table: DataFrame  # the annotations with the dedup columns (DEDUP_COLUMNS, and each document's representative)
    pairs: DataFrame | None  # the duplicate measure's similar pairs (u, v, jaccard), apart from the clusters
    seconds: float | None = None  # None: dedup is off
    reused: Reuse | None = None


def dedup_stage(spark, annotations: DataFrame, config: BenchmarkConfig, out: Path) -> Deduplicated:
    """Annotations plus dup_cluster_id / dup_cluster_size / dup_keep (survivor by dedup.survivor) and
    exact_duplicate (the exact_duplicate rule's column), cached; and the similar pairs that measure the
    duplicates a recipe leaves, independent of the clusters recipes remove by. Reused when the annotations and
    the dedup settings are those of the tables there."""
    if not config.dedup.enabled:
        return Deduplicated(annotations.cache(), None)
    record = StageRecord(out, "dedup", ("dedup", "similar_pairs"))
    stage_fingerprint = fingerprint("dedup", {"annotations": input_files(annotations),
                                              "settings": config.dedup.model_dump()})
    reuse = record.reusable(stage_fingerprint)
    if reuse:
        table = annotations.join(spark.read.parquet(str(out / "dedup")), "doc_id", "left").cache()
        print(reuse.line("dedup", f"the clusters ({reuse.details['duplicates']:,} duplicates) and similar pairs "
                                  f"({reuse.details['pairs']:,})"))
        return Deduplicated(table, spark.read.parquet(str(out / "similar_pairs")), reuse.seconds, reuse)
    record.start()
    started = time.perf_counter()
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
    counts = {"duplicates": table.where("NOT dup_keep").count(), "pairs": pairs.count()}
    seconds = time.perf_counter() - started
    record.finish(stage_fingerprint, seconds, counts)
    print(f"[dedup] {counts['duplicates']:,} duplicates in clusters; {counts['pairs']:,} similar pairs at estimated "
          f"Jaccard >= {SIMILAR_MIN}")
    return Deduplicated(table, pairs, seconds)


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
