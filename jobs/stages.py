"""The benchmark's stages before evaluation: ingest, annotate (one pass), dedup. Each is timed."""

from __future__ import annotations

import time
from pathlib import Path

from jobs.annotate import AnnotatorSpec, annotate_documents
from jobs.config import BenchmarkConfig
from jobs.evaluate import MeasureColumns
from jobs.ingest import IngestSummary, run_ingest
from jobs.options import ReadOptions

PII_TOTAL = "pii_total"


def ingest_stage(spark, uris: list[str], out: Path, options: ReadOptions,
                 stage_seconds: dict[str, float]) -> IngestSummary:
    started = time.perf_counter()
    summary = run_ingest(spark, uris, str(out / "ingest"), options)
    stage_seconds["ingest"] = time.perf_counter() - started
    print(f"[ingest] {summary.line()}")
    return summary


def check_measurements(config: BenchmarkConfig, recipes) -> None:
    """Before Spark starts: the PII settings are usable, and a recipe rule that reads a measurement's column
    (pii_entities reads pii_total) does not meet a benchmark where that measurement is off."""
    from filters.pii import check_entities
    from jobs.config import ConfigError

    if config.pii.enabled:
        try:
            check_entities(config.pii.mode, config.pii.entities)
        except ValueError as error:
            raise ConfigError(f"pii.entities: {error}") from None
    enabled = {"pii": config.pii.enabled, "dedup": config.dedup.enabled}
    for recipe in recipes:
        for index, entry in enumerate(recipe.rules):
            section = entry.definition.measured_by
            if section and not enabled[section]:
                raise ConfigError(f"{recipe.path}: rules[{index}]: {entry.rule} reads {entry.definition.column}, "
                                  f"which the benchmark's {section} measurement writes, and {section}.enabled is "
                                  f"false in this benchmark: enable it or drop the rule")


def measurement_specs(config: BenchmarkConfig) -> list[AnnotatorSpec]:
    """Annotators that measure (dedup signatures, PII, harm), apart from the recipes' own rules."""
    specs = []
    if config.dedup.enabled:
        from jobs.dedup import minhash_spec

        specs.append(minhash_spec(config.dedup))
    if config.pii.enabled:
        specs.append(AnnotatorSpec.of("filters.pii:PiiAnnotator", mode=config.pii.mode,
                                      entities=config.pii.entities, score_threshold=config.pii.score_threshold,
                                      sample=config.pii.sample))
    if config.harm.enabled:
        specs.append(AnnotatorSpec.of("filters.harm:HarmAnnotator",
                                      profanity_threshold=config.harm.profanity_threshold))
    return specs


def measure_columns(schema_names: list[str], config: BenchmarkConfig) -> MeasureColumns:
    from filters.harm import DETECTORS

    harm = {d.name: d.column for d in DETECTORS if d.column in schema_names} if config.harm.enabled else {}
    pii_counts = {name[len("pii_"):]: name for name in schema_names
                  if name.startswith("pii_") and name not in {PII_TOTAL, "pii_spans", "pii_scanned"}}
    return MeasureColumns(harm_flags=harm, pii_counts=pii_counts,
                          pii_total=PII_TOTAL if PII_TOTAL in schema_names else None,
                          has_dedup=config.dedup.enabled)


def annotate_stage(spark, documents, config: BenchmarkConfig, recipes, out: Path,
                   stage_seconds: dict[str, float]):
    from jobs.recipes import required_annotators

    specs = list(dict.fromkeys(required_annotators(recipes) + measurement_specs(config)))
    started = time.perf_counter()
    annotations, timers = annotate_documents(spark, documents, specs)
    if config.harm.enabled:
        annotations = with_pii_density(annotations, config.harm.pii_per_1k_words)
    path = out / "annotations"
    annotations.write.mode("overwrite").parquet(str(path))
    stage_seconds["annotate"] = time.perf_counter() - started
    for name, accumulator in timers.items():
        stage_seconds[f"annotate.{name}"] = accumulator.value
    table = spark.read.parquet(str(path))
    print(f"[annotate] {len(specs)} annotators, {len(table.columns)} columns in {stage_seconds['annotate']:.1f} s")
    return table, measure_columns(table.columns, config), specs


def with_pii_density(annotations, threshold: float):
    """The pii_density harm detector's columns, derived from the PII annotator's count (when it ran)."""
    from pyspark.sql import functions as F

    from filters.harm import pii_density_sql

    for column, sql in pii_density_sql(annotations.columns, threshold).items():
        annotations = annotations.withColumn(column, F.expr(sql))
    return annotations


def dedup_stage(spark, annotations, config: BenchmarkConfig, measures: MeasureColumns, out: Path,
                stage_seconds: dict[str, float]):
    """Annotations plus dup_cluster_id / dup_cluster_size / dup_keep (survivor by dedup.survivor) and
    exact_duplicate (the exact_duplicate rule's column), cached."""
    if not config.dedup.enabled:
        return annotations.cache()
    from jobs.dedup import exact_duplicates, near_duplicate_clusters

    started = time.perf_counter()
    clusters = near_duplicate_clusters(
        annotations, scope=config.dedup.scope, survivor=SURVIVOR_POLICIES[config.dedup.survivor],
        verify_threshold=config.dedup.verify_threshold, checkpoint_dir=str(out / "checkpoints"))
    exact = exact_duplicates(annotations, scope=config.dedup.scope, survivor=config.dedup.survivor)
    clusters = clusters.join(exact, "doc_id").selectExpr(
        "doc_id", "cluster_id AS dup_cluster_id", "cluster_size AS dup_cluster_size", "keep AS dup_keep",
        "exact_duplicate")
    clusters.write.mode("overwrite").parquet(str(out / "dedup"))
    table = annotations.join(spark.read.parquet(str(out / "dedup")), "doc_id", "left").cache()
    stage_seconds["dedup"] = time.perf_counter() - started
    print(f"[dedup] {table.where('NOT dup_keep').count():,} duplicates in {stage_seconds['dedup']:.1f} s")
    return table


SURVIVOR_POLICIES = {"smallest_doc_id": "smallest_doc_id", "longest": "longest", "oldest": "oldest"}
