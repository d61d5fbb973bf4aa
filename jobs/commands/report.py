"""`cc-sieve report --run-id ID`: the transparency report (data card) of a benchmark or one of its recipe runs."""

from __future__ import annotations

import argparse
import sys

from cc_sieve.jobs.errors import run_command
from cc_sieve.jobs.tracking.report import write_report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="cc-sieve report", description=__doc__.split("\n")[0])
    parser.add_argument("--run-id", required=True, help="a benchmark run or one of its recipe runs")
    parser.add_argument("--output", default="build/report", help="folder for the HTML and Markdown pages")
    parser.add_argument("--tracking-uri", help="MLflow tracking URI (default: sqlite:///mlflow.db here)")
    parser.add_argument("--no-log", action="store_true", help="do not log the pages back to MLflow")
    args = parser.parse_args(argv)
    index = write_report(args.run_id, args.output, args.tracking_uri, log=not args.no_log)
    print(f"transparency report: {index}")
    return 0


if __name__ == "__main__":
    sys.exit(run_command(main, prog="cc-sieve report"))
