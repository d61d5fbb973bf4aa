"""`make demo`: the default benchmark in local mode on the bundled real Common Crawl samples.

Ingests the samples in data/commoncrawl, annotates them once, deduplicates, evaluates the
default recipes, logs to MLflow's local store (sqlite:///mlflow.db in the working folder), writes
the transparency report and prints the comparison table and where to look.
"""

from __future__ import annotations

import sys

from cc_sieve.filters.resources import REPO_ROOT
from cc_sieve.jobs.commands import benchmark
from cc_sieve.jobs.commands.parsers import command_parser
from cc_sieve.jobs.errors import run_command


def main(argv: list[str] | None = None) -> int:
    parser = command_parser("cc-sieve demo", __doc__)
    parser.add_argument("--input", action="append",
                        help="shard, folder or manifest, as for benchmark (repeatable; default: the bundled samples "
                             "in data/commoncrawl)")
    parser.add_argument("--output", default="build/demo", help="working folder; a rerun reuses its finished stages")
    parser.add_argument("--master", default="local[2]", help="Spark master")
    parser.add_argument("--verbose", action="store_true", help="show the JVM's, Spark's and MLflow's own log lines")
    args = parser.parse_args(argv)
    inputs = args.input or [str(REPO_ROOT / "data" / "commoncrawl")]
    forwarded = ["--output", args.output, "--master", args.master] + (["--verbose"] if args.verbose else [])
    for spec in inputs:
        forwarded += ["--input", spec]
    return benchmark.main(forwarded)


if __name__ == "__main__":
    sys.exit(run_command(main, prog="cc-sieve demo"))
