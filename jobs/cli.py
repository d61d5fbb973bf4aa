"""`cc-sieve COMMAND ...`: one entry point that hands over to each job's own `main(argv)`.

Every job module is also a spark-submit target on its own (`spark-submit jobs/ingest.py ...`).
"""

from __future__ import annotations

import importlib
import sys

from jobs.errors import UserError

COMMANDS = {
    "ingest": ("jobs.ingest", "read shards into a documents table (Parquet) and a failures table"),
    "demo": ("jobs.demo", "run on the bundled real Common Crawl sample and print a summary"),
    "bench": ("jobs.bench", "measure throughput beside the reference implementations"),
    "make-shards": ("jobs.make_shards", "write CC-like WARC/WET shards of any size with planted truth"),
    "calibrate": ("jobs.calibrate", "print each harm detector's precision and recall on the labeled sets"),
    "pii": ("jobs.pii", "PII counts and spans per document with Presidio (regex or full mode), as Parquet"),
    "dedup": ("jobs.dedup", "near-duplicate clusters (MinHash LSH, Spark) of any input, as Parquet with keep flags"),
    "benchmark": ("jobs.benchmark", "ingest, annotate once, dedup, evaluate every recipe, log to MLflow"),
    "report": ("jobs.report", "render the transparency report (data card) of a benchmark or recipe run"),
    "submit": ("jobs.submit", "spark-submit a job to a cluster, shipping code and data"),
    "cluster": ("jobs.cluster", "start, stop or describe a Spark standalone cluster on 127.0.0.1"),
}


def usage() -> str:
    lines = ["usage: cc-sieve COMMAND [options]   (cc-sieve COMMAND --help for its options)", "", "commands:"]
    lines += [f"  {name:<12} {summary}" for name, (_, summary) in COMMANDS.items()]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in {"-h", "--help"}:
        print(usage())
        return 0 if argv else 2
    command, rest = argv[0], argv[1:]
    if command not in COMMANDS:
        print(f"cc-sieve: unknown command {command!r}\n\n{usage()}", file=sys.stderr)
        return 2
    module = importlib.import_module(COMMANDS[command][0])
    try:
        return module.main(rest) or 0
    except UserError as error:
        print(f"cc-sieve {command}: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
