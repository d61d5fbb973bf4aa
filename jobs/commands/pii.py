"""`cc-sieve pii`: PII counts and spans per document with Presidio, on its own (no recipes, no MLflow).

Ingests the input like `cc-sieve ingest` (into OUTPUT/ingest, resumable), runs the PII annotator over
the documents in one Arrow pass and writes OUTPUT/pii (Parquet): doc_id, url, pii_total, one
pii_<TYPE> count per entity type, pii_spans as (start, end, type) and pii_scanned. Never the matched
text. Run as `cc-sieve pii --input SPEC --output DIR --mode regex|full` or with spark-submit.
"""

from __future__ import annotations

import sys
from pathlib import Path

from cc_sieve.filters.pii_context import SCORE_THRESHOLD
from cc_sieve.jobs.commands.args import add_input_arguments, add_spark_arguments, input_config, spark_from_args
from cc_sieve.jobs.commands.parsers import command_parser
from cc_sieve.jobs.config.loading import validate_flags
from cc_sieve.jobs.config.measurements import pii_spec
from cc_sieve.jobs.config.presets import PiiConfig
from cc_sieve.jobs.errors import run_command
from cc_sieve.jobs.reading.inputs import resolve_inputs
from cc_sieve.jobs.reading.options import ReadOptions
from cc_sieve.jobs.spark.ingest import run_ingest
from cc_sieve.jobs.spark.pii import run_pii


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
    parser = command_parser("cc-sieve pii", __doc__)
    add_input_arguments(parser)
    add_spark_arguments(parser)
    parser.add_argument("--output", required=True, help="output folder (ingest/, pii/)")
    parser.add_argument("--mode", choices=["regex", "full"], default="regex",
                        help="regex: pattern recognizers; full: also spaCy NER (about 8x slower)")
    parser.add_argument("--entities", help="comma-separated entity types (default: the mode's list)")
    parser.add_argument("--score-threshold", type=float, default=SCORE_THRESHOLD,
                        help="minimum Presidio score (0.4 keeps phone numbers without a context word)")
    parser.add_argument("--pii-sample", type=float, default=1.0,
                        help="analyze this fraction of documents, chosen by a hash of doc_id (--sample samples "
                             "shards)")
    args = parser.parse_args(argv)
    entities = [e.strip() for e in args.entities.split(",") if e.strip()] if args.entities else None
    config = validate_flags(PiiConfig, {"mode": args.mode, "entities": entities,
                                        "score_threshold": args.score_threshold, "sample": args.pii_sample},
                            {"sample": "--pii-sample"})
    spec = pii_spec(config, where="--entities")
    inputs = input_config(args)
    uris = resolve_inputs(inputs)
    spark = spark_from_args(args, "cc-sieve pii")
    out = Path(args.output)
    ingest = run_ingest(spark, uris, str(out / "ingest"), ReadOptions.from_input(inputs))
    print(f"[ingest] {ingest.line()}")
    documents = spark.read.parquet(str(out / "ingest" / "documents"))
    for line in summary_lines(run_pii(spark, documents, spec, out / "pii")):
        print(line)
    return 0


if __name__ == "__main__":
    sys.exit(run_command(main, prog="cc-sieve pii"))
