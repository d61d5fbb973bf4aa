"""PII counts and spans of every document, on their own (no recipes, no MLflow): `cc-sieve pii`'s Spark part."""

from __future__ import annotations

import time
from pathlib import Path

from pyspark.sql import functions as F

from cc_sieve.filters.base import AnnotatorSpec
from cc_sieve.filters.pii import SUMMARY_COLUMNS
from cc_sieve.jobs.spark.annotate import annotate_documents


def run_pii(spark, documents, spec: AnnotatorSpec, output: Path) -> dict:
    """Annotate `documents` with the PII annotator of `spec`, write `output` (Parquet), return a summary."""
    started = time.perf_counter()
    annotations, timers = annotate_documents(spark, documents, [spec])
    columns = ["doc_id", "url"] + [name for name in annotations.columns if name.startswith("pii_")]
    annotations.select(*columns).write.mode("overwrite").parquet(str(output))
    seconds = time.perf_counter() - started
    table = spark.read.parquet(str(output))
    counts = [name for name in table.columns if name.startswith("pii_") and name not in SUMMARY_COLUMNS]
    row = table.agg(F.count(F.lit(1)).alias("documents"),
                    F.sum(F.col("pii_scanned").cast("long")).alias("scanned"),
                    F.sum(F.when(F.col("pii_total") > 0, 1).otherwise(0)).alias("with_pii"),
                    *[F.sum(name).alias(name) for name in counts]).collect()[0].asDict()
    return {"output": str(output), "seconds": seconds, "annotator_seconds": sum(t.value for t in timers.values()),
            **{name: int(value or 0) for name, value in row.items()}}
