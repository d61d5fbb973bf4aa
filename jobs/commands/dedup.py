"""`cc-sieve dedup`: near-duplicate clusters of any input (ingest, MinHash signatures, LSH clusters in Spark).

Writes DIR/clusters as Parquet: doc_id, url, cluster_id, cluster_size, keep, exact_duplicate. Run as
`cc-sieve dedup --input SPEC --output DIR` or with spark-submit.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from cc_sieve.jobs.commands.args import add_input_arguments, add_spark_arguments, input_config, spark_from_args
from cc_sieve.jobs.commands.parsers import command_parser
from cc_sieve.jobs.config.loading import validate_flags
from cc_sieve.jobs.config.measurements import minhash_spec
from cc_sieve.jobs.config.presets import DedupConfig
from cc_sieve.jobs.errors import run_command
from cc_sieve.jobs.reading.inputs import resolve_inputs
from cc_sieve.jobs.reading.options import ReadOptions
from cc_sieve.jobs.spark.annotate import annotate_documents
from cc_sieve.jobs.spark.dedup import (
    SCOPE_COLUMNS,
    SURVIVOR_ORDERS,
    dedup_summary,
    exact_duplicates,
    near_duplicate_clusters,
)
from cc_sieve.jobs.spark.ingest import run_ingest


def summary_line(summary: dict[str, float]) -> str:
    line = (f"documents {summary['documents']:,.0f} | clusters {summary['clusters']:,.0f} | near duplicates "
            f"{summary['duplicates']:,.0f} ({summary['duplicate_rate']:.2%})")
    if "exact_duplicates" in summary:
        line += f" | exact duplicates {summary['exact_duplicates']:,.0f}"
    return line


def config_from_args(args: argparse.Namespace) -> DedupConfig:
    values = {name: getattr(args, name) for name in ("num_perm", "bands", "rows", "ngram", "unit", "threshold",
                                                     "scope", "survivor") if getattr(args, name) is not None}
    if args.verify_threshold is not None:
        values["verify_threshold"] = None if args.verify_threshold.lower() == "none" else args.verify_threshold
    return validate_flags(DedupConfig, values, {"": "--bands"})


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = command_parser("cc-sieve dedup", __doc__)
    add_input_arguments(parser)
    add_spark_arguments(parser)
    parser.add_argument("--output", required=True, help="output folder (ingest/, signatures/, clusters/)")
    defaults = DedupConfig()
    group = parser.add_argument_group("dedup (defaults: conf/benchmark/default.yaml's dedup section)")
    group.add_argument("--num-perm", type=int, help=f"MinHash permutations (default: {defaults.num_perm})")
    group.add_argument("--bands", type=int, help=f"LSH bands (default: {defaults.bands})")
    group.add_argument("--rows", type=int, help=f"rows per band (default: {defaults.rows})")
    group.add_argument("--ngram", type=int, help="shingle length in words (or characters with --unit char; "
                                                 f"default: {defaults.ngram})")
    group.add_argument("--unit", choices=["word", "char"], help=f"default: {defaults.unit}")
    group.add_argument("--threshold", type=float, help="derive bands x rows from this Jaccard (datasketch's choice; "
                                                       "default: use --bands and --rows)")
    group.add_argument("--scope", choices=list(SCOPE_COLUMNS), help=f"default: {defaults.scope}")
    group.add_argument("--survivor", choices=list(SURVIVOR_ORDERS), help=f"default: {defaults.survivor}")
    group.add_argument("--verify-threshold", help="keep candidate pairs whose signature Jaccard reaches this, "
                                                  f"or 'none' to keep every candidate pair (default: "
                                                  f"{defaults.verify_threshold})")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    config = config_from_args(args)  # before Spark starts
    inputs = input_config(args)
    uris = resolve_inputs(inputs)
    out = Path(args.output).resolve()
    spark = spark_from_args(args, "cc-sieve dedup")
    summary = run_ingest(spark, uris, str(out / "ingest"), ReadOptions.from_input(inputs))
    print(f"[ingest] {summary.line()}")
    started = time.perf_counter()
    documents = spark.read.parquet(str(out / "ingest" / "documents"))
    annotations, _ = annotate_documents(spark, documents, [minhash_spec(config)])
    annotations.write.mode("overwrite").parquet(str(out / "signatures"))
    annotations = spark.read.parquet(str(out / "signatures"))
    print(f"[signatures] {out / 'signatures'} in {time.perf_counter() - started:.1f} s")
    started = time.perf_counter()
    clusters = near_duplicate_clusters(annotations, scope=config.scope, survivor=config.survivor,
                                       verify_threshold=config.verify_threshold,
                                       checkpoint_dir=str(out / "checkpoints"))
    exact = exact_duplicates(annotations, scope=config.scope, survivor=config.survivor)
    result = (annotations.select("doc_id", "url").join(clusters, "doc_id").join(exact, "doc_id")
              .select("doc_id", "url", "cluster_id", "cluster_size", "keep", "exact_duplicate"))
    result.write.mode("overwrite").parquet(str(out / "clusters"))
    written = spark.read.parquet(str(out / "clusters"))
    print(f"[dedup] {summary_line(dedup_summary(written))} in {time.perf_counter() - started:.1f} s")
    print(f"clusters: {out / 'clusters'} (doc_id, url, cluster_id, cluster_size, keep, exact_duplicate)")
    return 0


if __name__ == "__main__":
    sys.exit(run_command(main, prog="cc-sieve dedup"))
