"""Command-line options every job shares: the input spec, S3 access, reading, Spark."""

from __future__ import annotations

import argparse
from dataclasses import dataclass, field

from jobs.inputs import CC_S3_BASE, InputOptions, resolve_inputs
from jobs.reader import MAX_PAYLOAD_BYTES
from jobs.s3 import S3Options


@dataclass(frozen=True)
class ReadOptions:
    """How executors read shards; shipped to every task, so it holds no secret."""

    engine: str = "fastwarc"
    main_content: bool = True
    max_payload: int = MAX_PAYLOAD_BYTES
    s3: S3Options = field(default_factory=S3Options)


def add_input_arguments(parser: argparse.ArgumentParser, required: bool = True) -> None:
    group = parser.add_argument_group("input")
    group.add_argument("--input", action="append", required=required, metavar="SPEC",
                       help="shard path or glob, folder, s3://bucket/key, s3://bucket/prefix/, https:// URL, "
                            "or a Common Crawl warc.paths.gz / wet.paths.gz manifest (repeatable)")
    group.add_argument("--manifest-base", default=CC_S3_BASE,
                       help="base that manifest entries are resolved against "
                            "(s3://commoncrawl/, https://data.commoncrawl.org/ or a local folder)")
    group.add_argument("--limit", type=int, help="read at most N shards")
    group.add_argument("--sample", type=float, help="read a seeded random fraction of the shards")
    group.add_argument("--seed", type=int, default=0, help="seed of --sample")
    group.add_argument("--engine", choices=["fastwarc", "warcio"], default="fastwarc",
                       help="WARC parser (warcio is the slower reference)")
    s3 = parser.add_argument_group("S3 (credentials come from the environment, profile or instance role)")
    s3.add_argument("--s3-endpoint", help="endpoint URL of an S3-compatible store")
    s3.add_argument("--s3-region")
    s3.add_argument("--s3-profile", help="AWS profile name")
    s3.add_argument("--s3-unsigned", action="store_true", help="anonymous access (public buckets)")


def add_spark_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("spark")
    group.add_argument("--master", help="Spark master: local[N] (default local[*]), spark://host:port, yarn, k8s://...")
    group.add_argument("--spark-conf", help="a spark-defaults style file (default conf/spark/local.conf "
                                            "or cluster.conf by master)")
    group.add_argument("--conf", action="append", default=[], metavar="KEY=VALUE", help="extra Spark setting")


def s3_options_from_args(args: argparse.Namespace) -> S3Options:
    return S3Options.from_env(endpoint_url=args.s3_endpoint, region=args.s3_region, profile=args.s3_profile,
                              unsigned=True if args.s3_unsigned else None)


def read_options_from_args(args: argparse.Namespace) -> ReadOptions:
    return ReadOptions(engine=args.engine, s3=s3_options_from_args(args))


def resolve_cli_inputs(args: argparse.Namespace) -> list[str]:
    options = InputOptions(manifest_base=args.manifest_base, limit=args.limit, sample=args.sample, seed=args.seed)
    return resolve_inputs(args.input, options, s3_options_from_args(args))


def spark_conf_overrides(pairs: list[str]) -> dict[str, str]:
    overrides = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise argparse.ArgumentTypeError(f"--conf {pair}: expected KEY=VALUE")
        overrides[key.strip()] = value.strip()
    return overrides


def spark_from_args(args: argparse.Namespace, app_name: str):
    from jobs.spark import get_spark

    return get_spark(app_name, master=args.master, conf_file=args.spark_conf,
                     overrides=spark_conf_overrides(args.conf))
