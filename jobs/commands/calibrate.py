"""`cc-sieve calibrate`: each harm detector's precision and recall at its threshold on the labeled sets.

Two kinds of labeled set: real web pages (data/eval/web, 601 units of the bundled Common Crawl samples,
labeled by reading; its figures are the ones the benchmark corrects its rates with) and, beside them, the
tweets and comments the detectors were first judged on. The thresholds are the benchmark preset's (`harm:`
and `pii.score_threshold`). No Spark: the detectors run in this process (about a minute).

    cc-sieve calibrate                               # the default preset's thresholds
    cc-sieve calibrate --write                       # and store the web figures for the benchmark
    cc-sieve calibrate --profanity-threshold 0.6     # what another threshold would mean
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from cc_sieve.filters.calibration import calibration_table, format_table
from cc_sieve.filters.resources import data_path
from cc_sieve.filters.web_calibration import WEB_CALIBRATION, WEB_UNITS, web_calibration
from cc_sieve.jobs.commands.parsers import command_parser
from cc_sieve.jobs.config.loading import validate_flags
from cc_sieve.jobs.config.presets import HarmConfig, load_benchmark_config
from cc_sieve.jobs.errors import run_command


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = command_parser("cc-sieve calibrate", __doc__)
    parser.add_argument("--config", help="benchmark preset whose harm thresholds to use (default: default)")
    defaults = load_benchmark_config().harm
    parser.add_argument("--profanity-threshold", type=float, help="overrides harm.profanity_threshold (default: "
                                                                  f"the preset's; {defaults.profanity_threshold})")
    parser.add_argument("--pii-per-1k-words", type=float, help="overrides harm.pii_per_1k_words (default: the "
                                                               f"preset's; {defaults.pii_per_1k_words})")
    parser.add_argument("--json", help="also write the tweet and comment rows to this JSON file (default: none)")
    parser.add_argument("--write", action="store_true",
                        help=f"store the web-page figures in data/{WEB_CALIBRATION}, where the benchmark reads them")
    return parser.parse_args(argv)


def harm_config(args: argparse.Namespace) -> HarmConfig:
    overrides = {key: value for key, value in {"profanity_threshold": args.profanity_threshold,
                                               "pii_per_1k_words": args.pii_per_1k_words}.items()
                 if value is not None}
    base = load_benchmark_config(args.config).harm
    return validate_flags(HarmConfig, {**base.model_dump(), **overrides})


def share(figure: dict) -> str:
    if figure["value"] is None:
        return "-"
    return f"{figure['value']:.2f} [{figure['ci_low']:.2f}, {figure['ci_high']:.2f}]"


def web_table(calibration: dict) -> str:
    """The web-page figures as plain text: detectors, then PII entity types."""
    lines = [f"web pages ({calibration['units']} labeled units, weighted to their pool; 95 % intervals)",
             f"{'detector':<16} {'graded against':<16} {'read':>5} {'positive':>8} {'flagged':>7}  "
             f"{'precision':<18} {'recall':<18} specificity"]
    for name, entry in calibration["detectors"].items():
        lines.append(f"{name:<16} {'+'.join(entry['labels']):<16} {entry['units']:>5} {entry['positives']:>8} "
                     f"{entry['flagged']:>7}  {share(entry['precision']):<18} {share(entry['recall']):<18} "
                     f"{share(entry['specificity'])}")
    lines += ["", f"{'PII entity':<16} {'found':>6} {'labeled':>7}  {'precision':<18} recall"]
    for entity, entry in calibration["pii_entities"].items():
        before = entry.get("found_before_context_check")
        note = f"  ({before} found before the context check)" if before is not None else ""
        lines.append(f"{entity:<16} {entry['found']:>6} {entry['labeled']:>7}  {share(entry['precision']):<18} "
                     f"{share(entry['recall'])}{note}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    harm = harm_config(args)
    score_threshold = load_benchmark_config(args.config).pii.score_threshold
    calibration = web_calibration(harm.profanity_threshold, harm.pii_per_1k_words, score_threshold)
    print(web_table(calibration))
    print()
    rows = calibration_table(profanity_threshold=harm.profanity_threshold, pii_per_1k_words=harm.pii_per_1k_words)
    print("tweets and comments (the sets the detectors were first judged on; not web pages)")
    print(format_table(rows))
    if args.write:
        path = data_path(WEB_UNITS).parent / "calibration.json"
        path.write_text(json.dumps(calibration, indent=1, sort_keys=True) + "\n")
        print(f"web-page calibration: {path}")
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps(rows, indent=2))
        print(f"rows: {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(run_command(main, prog="cc-sieve calibrate"))
