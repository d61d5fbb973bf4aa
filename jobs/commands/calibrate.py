"""`cc-sieve calibrate`: each harm detector's precision and recall at its threshold on the labeled sets.

The thresholds are the benchmark preset's (`harm:` section), so the table printed here is the one a
benchmark with that preset logs (calibration.json and `calibration.*` metrics of its parent run).
No Spark: the detectors run in this process (about 10 s).

    cc-sieve calibrate                               # the default preset's thresholds
    cc-sieve calibrate --profanity-threshold 0.6     # what another threshold would mean
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from cc_sieve.filters.calibration import calibration_table, format_table
from cc_sieve.jobs.config.loading import validate_flags
from cc_sieve.jobs.config.presets import HarmConfig, load_benchmark_config
from cc_sieve.jobs.errors import run_command


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="cc-sieve calibrate", description=__doc__.split("\n")[0])
    parser.add_argument("--config", help="benchmark preset whose harm thresholds to use (default: default)")
    parser.add_argument("--profanity-threshold", type=float, help="overrides harm.profanity_threshold")
    parser.add_argument("--pii-per-1k-words", type=float, help="overrides harm.pii_per_1k_words")
    parser.add_argument("--json", help="also write the rows to this JSON file")
    return parser.parse_args(argv)


def harm_config(args: argparse.Namespace) -> HarmConfig:
    overrides = {key: value for key, value in {"profanity_threshold": args.profanity_threshold,
                                               "pii_per_1k_words": args.pii_per_1k_words}.items()
                 if value is not None}
    base = load_benchmark_config(args.config).harm
    return validate_flags(HarmConfig, {**base.model_dump(), **overrides})


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    harm = harm_config(args)
    rows = calibration_table(profanity_threshold=harm.profanity_threshold, pii_per_1k_words=harm.pii_per_1k_words)
    print(format_table(rows))
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps(rows, indent=2))
        print(f"rows: {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(run_command(main, prog="cc-sieve calibrate"))
