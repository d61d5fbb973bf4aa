"""`make demo`: the benchmark in local mode on the bundled real Common Crawl samples."""

from __future__ import annotations

import argparse
import sys

from filters.resources import REPO_ROOT
from jobs.ingest import print_failures, run_ingest
from jobs.inputs import resolve_inputs
from jobs.options import ReadOptions
from jobs.spark import get_spark


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="cc-sieve demo", description=__doc__)
    parser.add_argument("--input", action="append", help="default: the bundled samples in data/commoncrawl")
    parser.add_argument("--output", default="build/demo")
    parser.add_argument("--master", default="local[2]")
    args = parser.parse_args(argv)
    uris = resolve_inputs(args.input or [str(REPO_ROOT / "data" / "commoncrawl")])
    spark = get_spark("cc-sieve demo", master=args.master)
    summary = run_ingest(spark, uris, f"{args.output}/ingest", ReadOptions(), resume=False)
    print(summary.line())
    if summary.failures:
        print_failures(summary.output)
    return 0


if __name__ == "__main__":
    sys.exit(main())
