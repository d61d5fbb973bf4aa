"""`cc-sieve pii`: PII counts and spans per document with Presidio, on its own (no recipes, no MLflow).

Ingests the input like `cc-sieve ingest` (into OUTPUT/ingest, resumable), runs the PII annotator over
the documents in one Arrow pass and writes OUTPUT/pii (Parquet): doc_id, url, pii_total, one
pii_<TYPE> count per entity type, pii_spans as (start, end, type) and pii_scanned. Never the matched
text. Run as `cc-sieve pii --input SPEC --output DIR --mode regex|full` or with spark-submit.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from jobs.errors import UserError
from jobs.options import (
    add_input_arguments,
    add_spark_arguments,
    read_options_from_args,
    resolve_cli_inputs,
    spark_from_args,
)


def pii_spec(mode: str, entities: list[str] | None, score_threshold: float, sample: float):
    from filters.pii import check_entities
    from jobs.annotate import AnnotatorSpec

    try:
        check_entities(mode, entities)
    except ValueError as error:
        raise UserError(f"--entities: {error}") from None
    if not 0 < sample <= 1:
        raise UserError(f"--pii-sample {sample}: a fraction in (0, 1]")
    if not 0 <= score_threshold <= 1:
        raise UserError(f"--score-threshold {score_threshold}: a score in [0, 1]")
    return AnnotatorSpec.of("filters.pii:PiiAnnotator", mode=mode, entities=entities,
                            score_threshold=score_threshold, sample=sample)


def run_pii(spark, documents, spec, output: Path) -> dict:
    """Annotate `documents` with the PII annotator of `spec`, write `output` (Parquet), return a summary."""
    from pyspark.sql import functions as F

    from jobs.annotate import annotate_documents

    started = time.perf_counter()
    annotations, timers = annotate_documents(spark, documents, [spec])
    columns = ["doc_id", "url"] + [name for name in annotations.columns if name.startswith("pii_")]
    annotations.select(*columns).write.mode("overwrite").parquet(str(output))
    seconds = time.perf_counter() - started
    table = spark.read.parquet(str(output))
    counts = [name for name in table.columns if name.startswith("pii_")
              and name not in {"pii_total", "pii_spans", "pii_scanned"}]
    row = table.agg(F.count(F.lit(1)).alias("documents"),
                    F.sum(F.col("pii_scanned").cast("long")).alias("scanned"),
                    F.sum(F.when(F.col("pii_total") > 0, 1).otherwise(0)).alias("with_pii"),
                    *[F.sum(name).alias(name) for name in counts]).collect()[0].asDict()
    return {"output": str(output), "seconds": seconds, "annotator_seconds": sum(t.value for t in timers.values()),
            **{name: int(value or 0) for name, value in row.items()}}


def summary_lines(summary: dict) -> list[str]:
    documents, scanned = summary["documents"], summary["scanned"]
    rate = summary["with_pii"] / scanned if scanned else 0.0
    lines = [f"documents {documents:,} | scanned {scanned:,} | with PII {summary['with_pii']:,} ({rate:.1%} of "
             f"scanned) | {summary['seconds']:,.1f} s ({documents / summary['seconds']:,.1f} docs/s; annotator "
             f"{summary['annotator_seconds']:,.1f} s in the workers)"]
    lines += [f"  {name[len('pii_'):]:<16} {summary[name]:>10,}" for name in summary
              if name.startswith("pii_")]
    lines.append(f"PII table: {summary['output']}")
    return lines


def main(argv: list[str] | None = None) -> int:
    from jobs.ingest import run_ingest

    parser = argparse.ArgumentParser(prog="cc-sieve pii", description=__doc__.split("\n")[0])
    add_input_arguments(parser)
    add_spark_arguments(parser)
    parser.add_argument("--output", required=True, help="output folder (ingest/, pii/)")
    parser.add_argument("--mode", choices=["regex", "full"], default="regex",
                        help="regex: pattern recognizers; full: also spaCy NER (about 8x slower)")
    parser.add_argument("--entities", help="comma-separated entity types (default: the mode's list)")
    parser.add_argument("--score-threshold", type=float, default=0.5, help="minimum Presidio score")
    parser.add_argument("--pii-sample", type=float, default=1.0,
                        help="analyze this fraction of documents, chosen by a hash of doc_id (--sample samples "
                             "shards)")
    args = parser.parse_args(argv)
    entities = [e.strip() for e in args.entities.split(",") if e.strip()] if args.entities else None
    spec = pii_spec(args.mode, entities, args.score_threshold, args.pii_sample)
    uris = resolve_cli_inputs(args)
    spark = spark_from_args(args, "cc-sieve pii")
    out = Path(args.output)
    ingest = run_ingest(spark, uris, str(out / "ingest"), read_options_from_args(args))
    print(f"[ingest] {ingest.line()}")
    documents = spark.read.parquet(str(out / "ingest" / "documents"))
    for line in summary_lines(run_pii(spark, documents, spec, out / "pii")):
        print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
