"""`cc-sieve ingest`: shards -> documents table (Parquet) + failures table.

Run as `cc-sieve ingest --input SPEC --output DIR` or `spark-submit jobs/commands/ingest.py ...`.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pyarrow.parquet as pq

from cc_sieve.jobs.commands.args import add_input_arguments, add_spark_arguments, input_config, spark_from_args
from cc_sieve.jobs.commands.parsers import command_parser
from cc_sieve.jobs.errors import run_command
from cc_sieve.jobs.reading.inputs import resolve_inputs
from cc_sieve.jobs.reading.options import ReadOptions
from cc_sieve.jobs.spark.ingest import run_ingest


def print_failures(output: str, limit: int = 20) -> None:
    failures = pq.read_table(Path(output) / "failures.parquet").to_pylist()
    for failure in failures[:limit]:
        where = f" @ {failure['record_offset']}" if failure["record_offset"] is not None else ""
        kind = "shard failed" if failure["fatal"] else "record"
        print(f"  {kind}: {failure['source_shard']}{where}: {failure['error_class']}: {failure['message']}")
    if len(failures) > limit:
        print(f"  ... and {len(failures) - limit} more in {output}/failures.parquet")


def main(argv: list[str] | None = None) -> int:
    parser = command_parser("cc-sieve ingest", __doc__)
    add_input_arguments(parser)
    add_spark_arguments(parser)
    parser.add_argument("--output", required=True, help="output folder (documents/, failures.parquet, ...)")
    parser.add_argument("--strict", action="store_true", help="exit non-zero if any shard failed")
    parser.add_argument("--no-resume", action="store_true", help="re-read shards already done in --output")
    args = parser.parse_args(argv)
    inputs = input_config(args)
    uris = resolve_inputs(inputs)
    spark = spark_from_args(args, "cc-sieve ingest")
    summary = run_ingest(spark, uris, args.output, ReadOptions.from_input(inputs), resume=not args.no_resume)
    print(summary.line())
    if summary.failures:
        print_failures(args.output)
    print(f"documents table: {summary.output}/documents  failures: {summary.output}/failures.parquet")
    if summary.shards_failed == summary.shards or (args.strict and summary.shards_failed):
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(run_command(main, prog="cc-sieve ingest"))
