"""`cc-sieve COMMAND ...`: one entry point that hands over to each job's own `main(argv)`.

Every command module is also a spark-submit target on its own (`spark-submit jobs/commands/ingest.py ...`).
The table names modules by string, so the CLI loads only the command it runs (and the leaves, bench,
make-shards, cluster and submit, stay outside the pipeline's imports).
"""

from __future__ import annotations

import importlib
import sys

from cc_sieve.jobs.errors import run_command

COMMANDS = {
    "ingest": ("cc_sieve.jobs.commands.ingest", "read shards into a documents table (Parquet) and a failures table"),
    "demo": ("cc_sieve.jobs.commands.demo", "run on the bundled real Common Crawl sample and print a summary"),
    "bench": ("cc_sieve.jobs.bench.run", "measure throughput beside the reference implementations"),
    "make-shards": ("cc_sieve.jobs.generator.make_shards",
                    "write CC-like WARC/WET shards of any size with planted truth"),
    "calibrate": ("cc_sieve.jobs.commands.calibrate",
                  "print each harm detector's precision and recall on the labeled sets"),
    "pii": ("cc_sieve.jobs.commands.pii", "PII counts and spans per document with Presidio (regex or full mode)"),
    "dedup": ("cc_sieve.jobs.commands.dedup", "near-duplicate clusters (MinHash LSH in Spark) of any input"),
    "benchmark": ("cc_sieve.jobs.commands.benchmark", "ingest, annotate, dedup, evaluate the recipes, log to MLflow"),
    "report": ("cc_sieve.jobs.commands.report", "render the transparency report (data card) of a benchmark run"),
    "submit": ("cc_sieve.jobs.cluster.submit", "spark-submit a job to a cluster, shipping code and data"),
    "cluster": ("cc_sieve.jobs.cluster.standalone", "start, stop or describe a Spark standalone cluster on 127.0.0.1"),
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
    return run_command(module.main, rest, prog=f"cc-sieve {command}")


if __name__ == "__main__":
    sys.exit(main())
