"""`cc-sieve COMMAND ...`: one entry point that hands over to each job's own `main(argv)`.

Every command module is also a spark-submit target on its own (`spark-submit jobs/commands/ingest.py ...`).
The table names modules by string, so the CLI loads only the command it runs (and the leaves, bench,
make-shards, cluster and submit, stay outside the pipeline's imports); `--version` loads the tracking
module that names the code version in MLflow (cc_sieve.jobs.tracking.runs) the same way.
"""

from __future__ import annotations

import difflib
import importlib
import sys
from importlib.metadata import version

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
    "rules": ("cc_sieve.jobs.commands.rules", "list the filter rules a recipe can use, with sources and defaults"),
    "recipes": ("cc_sieve.jobs.commands.recipes", "list the recipes in conf/recipes with their rules"),
}
SHORT_USAGE = "usage: cc-sieve COMMAND [options]   (cc-sieve --help lists the commands; cc-sieve --version)"


def usage() -> str:
    lines = [SHORT_USAGE, "", "commands:"]
    lines += [f"  {name:<12} {summary}" for name, (_, summary) in COMMANDS.items()]
    lines += ["", "cc-sieve COMMAND --help shows a command's options and their defaults."]
    return "\n".join(lines)


def version_line() -> str:
    """The package version and the code's commit, as the benchmark's runs record it (code_version)."""
    code = importlib.import_module("cc_sieve.jobs.tracking.runs").code_version()
    package = f"cc-sieve {version('cc-sieve')}"
    return package if code == package else f"{package} (code {code})"  # outside a git checkout: the package


def unknown_command(command: str) -> str:
    close = difflib.get_close_matches(command, COMMANDS, n=1, cutoff=0.6)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    return f"cc-sieve: unknown command {command!r}{hint}\n{SHORT_USAGE}"


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in {"-h", "--help"}:
        print(usage())
        return 0 if argv else 2
    if argv[0] == "--version":
        print(version_line())
        return 0
    command, rest = argv[0], argv[1:]
    if command not in COMMANDS:
        print(unknown_command(command), file=sys.stderr)
        return 2
    module = importlib.import_module(COMMANDS[command][0])
    return run_command(module.main, rest, prog=f"cc-sieve {command}")


if __name__ == "__main__":
    sys.exit(main())
