"""Command-line flags every command shares, turned into the settings models of jobs/config/presets.py.

A flag left out is None here, so it never overrides a preset's value; `input_config` and
`spark_config` apply the flags given on top of a base (a preset's section, or the defaults).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from cc_sieve.jobs.config.loading import validate_flags
from cc_sieve.jobs.config.presets import CC_HTTPS_BASE, CC_S3_BASE, InputConfig, SparkConfig
from cc_sieve.jobs.config.spark_conf import check_master
from cc_sieve.jobs.errors import ConfigError, InputError
from cc_sieve.jobs.redact import printable
from cc_sieve.jobs.spark.session import get_spark


def add_input_arguments(parser: argparse.ArgumentParser, required: bool = True, preset: bool = False) -> None:
    """The input, S3 and engine flags; `preset`: a flag given overrides the preset's input section, one left out
    keeps the preset's value (the defaults below are the default preset's)."""
    title = "input (a flag given overrides the preset's input section)" if preset else "input"
    group = parser.add_argument_group(title)
    group.add_argument("--input", action="append", required=required, metavar="SPEC",
                       help="shard path or glob, folder, s3://bucket/key, s3://bucket/prefix/, https:// URL, "
                            "or a Common Crawl warc.paths.gz / wet.paths.gz manifest (repeatable)"
                            + ("" if required else "; default: the preset's input.specs"))
    group.add_argument("--manifest-base",
                       help="base that manifest entries are resolved against (s3://commoncrawl/, "
                            f"{CC_HTTPS_BASE} or a local folder; default {CC_HTTPS_BASE} for a manifest "
                            f"fetched from there, else {CC_S3_BASE})")
    group.add_argument("--allow-outside-base", action="store_true", default=None,
                       help="read manifest entries that resolve outside --manifest-base (absolute paths, `..`, "
                            "other schemes or hosts); refused by default")
    group.add_argument("--limit", type=int, help="read at most N shards (default: all)")
    group.add_argument("--sample", type=float, help="read a seeded random fraction of the shards (default: all)")
    group.add_argument("--seed", type=int, help="seed of --sample (default 0)")
    group.add_argument("--engine", choices=["fastwarc", "warcio"],
                       help="WARC parser (default fastwarc; warcio is the slower reference)")
    s3 = parser.add_argument_group("S3 (credentials come from the environment, profile or instance role)")
    s3.add_argument("--s3-endpoint", help="endpoint URL of an S3-compatible store (default: CC_SIEVE_S3_ENDPOINT, "
                                          "else AWS)")
    s3.add_argument("--s3-region", help="default: CC_SIEVE_S3_REGION, else boto3's")
    s3.add_argument("--s3-profile", help="AWS profile name (default: CC_SIEVE_S3_PROFILE, else boto3's)")
    s3.add_argument("--s3-unsigned", action="store_true", default=None, help="anonymous access (public buckets)")


def input_config(args: argparse.Namespace, base: InputConfig | None = None) -> InputConfig:
    """`base` (the defaults when None) with the input and S3 flags that were given."""
    values = (base or InputConfig()).model_dump()
    flags = {"specs": args.input, "manifest_base": args.manifest_base, "limit": args.limit, "sample": args.sample,
             "seed": args.seed, "engine": args.engine, "allow_outside_base": args.allow_outside_base}
    values.update({key: value for key, value in flags.items() if value is not None})
    s3 = {"endpoint": args.s3_endpoint, "region": args.s3_region, "profile": args.s3_profile,
          "unsigned": args.s3_unsigned}
    values["s3"].update({key: value for key, value in s3.items() if value is not None})
    return validate_flags(InputConfig, values)


def add_spark_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("spark")
    group.add_argument("--master", help="Spark master: local[N] (default local[*]), spark://host:port, yarn, k8s://...")
    group.add_argument("--spark-conf", help="a spark-defaults style file (default conf/spark/local.conf "
                                            "or cluster.conf by master)")
    group.add_argument("--conf", action="append", default=[], metavar="KEY=VALUE",
                       help="extra Spark setting (repeatable; default: none)")
    group.add_argument("--verbose", action="store_true",
                       help="show the JVM's and Spark's own log lines (by default they go to OUTPUT/logs/spark.log)")


def spark_config(args: argparse.Namespace, base: SparkConfig | None = None) -> SparkConfig:
    """`base` with --master and the --conf KEY=VALUE settings that were given."""
    values = (base or SparkConfig()).model_dump()
    if args.master:
        check_master(args.master)
        values["master"] = args.master
    for pair in args.conf:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise ConfigError(f"--conf {pair}: expected KEY=VALUE")
        values["conf"][key.strip()] = value.strip()
    return validate_flags(SparkConfig, values)


def spark_from_args(args: argparse.Namespace, app_name: str, base: SparkConfig | None = None):
    """The Spark session for the spark flags (and a preset's spark section as `base`)."""
    config = spark_config(args, base)
    return get_spark(app_name, master=config.master, conf_file=getattr(args, "spark_conf", None),
                     overrides=config.conf, log_file=log_file(args, Path(args.output)))


def log_file(args: argparse.Namespace, output: Path) -> Path | None:
    """Where the JVM's own output goes: OUTPUT/logs/spark.log, or the terminal with --verbose."""
    return None if args.verbose else output / "logs" / "spark.log"


def missing_local_shards(uris: list[str]) -> list[str]:
    """The local shards (no s3:// or https:// scheme) that do not exist."""
    return [uri for uri in uris if "://" not in uri and not Path(uri).exists()]


def check_local_inputs(uris: list[str]) -> None:
    """Before Spark starts: every shard a local file that is not there is an InputError; some of them, a
    warning line (they are recorded as failed shards, and the others are read)."""
    missing = missing_local_shards(uris)
    if missing and len(missing) == len(uris):
        more = f" and {len(missing) - 3} more" if len(missing) > 3 else ""
        raise InputError(f"--input: no such file: {', '.join(printable(uri) for uri in missing[:3])}{more}")
    if missing:
        print(f"[input] {len(missing)} of {len(uris)} local shards do not exist and will be recorded as failed "
              f"(first: {printable(missing[0])})", file=sys.stderr)
