"""`cc-sieve report --run-id ID`: the transparency report (data card) of a benchmark or one of its recipe runs."""

from __future__ import annotations

import sys

import mlflow
from mlflow.exceptions import MlflowException
from mlflow.tracking import MlflowClient

from cc_sieve.jobs.commands.parsers import command_parser
from cc_sieve.jobs.errors import InputError, run_command
from cc_sieve.jobs.redact import printable, redact_uri
from cc_sieve.jobs.tracking.report import write_report
from cc_sieve.jobs.tracking.runs import TAG_ROLE
from cc_sieve.jobs.tracking.store import check_store_exists


def check_benchmark_run(tracking_uri: str, run_id: str) -> None:
    """An InputError unless `run_id` is a benchmark run or one of its recipe runs in the store."""
    try:
        run = MlflowClient(tracking_uri=tracking_uri).get_run(run_id)
    except MlflowException as error:
        if error.error_code != "RESOURCE_DOES_NOT_EXIST":
            raise
        raise InputError(f"--run-id {printable(run_id)}: no such run in {redact_uri(tracking_uri)}") from None
    if run.data.tags.get(TAG_ROLE) not in ("benchmark", "recipe"):
        raise InputError(f"--run-id {run_id}: not a cc-sieve benchmark or recipe run (run name "
                         f"{printable(run.info.run_name or '')!r})")


def main(argv: list[str] | None = None) -> int:
    parser = command_parser("cc-sieve report", __doc__)
    parser.add_argument("--run-id", required=True, help="a benchmark run or one of its recipe runs")
    parser.add_argument("--output", default="build/report", help="folder for the HTML and Markdown pages")
    parser.add_argument("--tracking-uri", help="MLflow tracking URI (default: MLFLOW_TRACKING_URI, else "
                                               "sqlite:///mlflow.db in the working folder)")
    parser.add_argument("--no-log", action="store_true", help="do not log the pages back to MLflow")
    args = parser.parse_args(argv)
    tracking_uri = args.tracking_uri or mlflow.get_tracking_uri()
    check_store_exists(tracking_uri, "--tracking-uri" if args.tracking_uri else "MLflow's default store")
    check_benchmark_run(tracking_uri, args.run_id)
    index = write_report(args.run_id, args.output, tracking_uri, log=not args.no_log)
    print(f"transparency report: {index}")
    return 0


if __name__ == "__main__":
    sys.exit(run_command(main, prog="cc-sieve report"))
