"""S3 access with boto3, built in whichever process reads (driver lists, executors stream).

The pyspark wheel carries no hadoop-aws jars, so `s3a://` is not available: like cc-pyspark,
the driver lists keys and every executor opens its own boto3 client. Credentials are never
passed through here: boto3 finds them in the executor's environment, profile or instance role.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import lru_cache

import boto3
import botocore
from botocore.config import Config

from cc_sieve.jobs.config.presets import S3Config


@dataclass(frozen=True)
class S3Options:
    """Where and how to reach S3. Holds no secret, so it may be shipped to executors and logged."""

    endpoint_url: str | None = None
    region: str | None = None
    profile: str | None = None
    unsigned: bool = False
    max_attempts: int = 8  # every request, the first included
    connect_timeout: float = 10.0
    read_timeout: float = 60.0

    @classmethod
    def from_env(cls, **overrides) -> S3Options:
        """Defaults from CC_SIEVE_S3_* variables (and AWS_ENDPOINT_URL), then explicit overrides."""
        env = os.environ
        values = {
            "endpoint_url": env.get("CC_SIEVE_S3_ENDPOINT") or env.get("AWS_ENDPOINT_URL") or None,
            "region": env.get("CC_SIEVE_S3_REGION") or env.get("AWS_DEFAULT_REGION") or None,
            "profile": env.get("CC_SIEVE_S3_PROFILE") or None,
            "unsigned": env.get("CC_SIEVE_S3_UNSIGNED", "").lower() in {"1", "true", "yes"},
        }
        if env.get("CC_SIEVE_S3_MAX_ATTEMPTS"):
            values["max_attempts"] = int(env["CC_SIEVE_S3_MAX_ATTEMPTS"])
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)

    @classmethod
    def from_config(cls, config: S3Config) -> S3Options:
        """The environment's defaults, overridden by what a preset or the flags set."""
        return cls.from_env(endpoint_url=config.endpoint, region=config.region, profile=config.profile,
                            unsigned=config.unsigned)


@lru_cache(maxsize=8)
def s3_client(options: S3Options):
    """One client per options per process: clients are thread-safe and costly to build."""
    session = boto3.session.Session(profile_name=options.profile) if options.profile else boto3.session.Session()
    config = Config(
        retries={"mode": "adaptive", "total_max_attempts": options.max_attempts},
        connect_timeout=options.connect_timeout,
        read_timeout=options.read_timeout,
        signature_version=botocore.UNSIGNED if options.unsigned else None,
        region_name=options.region,
    )
    return session.client("s3", endpoint_url=options.endpoint_url, config=config)


def split_s3_uri(uri: str) -> tuple[str, str]:
    """`s3://bucket/key` -> (bucket, key)."""
    if not uri.startswith("s3://"):
        raise ValueError(f"not an s3:// URI: {uri}")
    bucket, _, key = uri[5:].partition("/")
    if not bucket:
        raise ValueError(f"s3 URI has no bucket: {uri}")
    return bucket, key


def list_s3_prefix(uri: str, options: S3Options) -> list[str]:
    """Every object under an `s3://bucket/prefix/`, sorted by key."""
    bucket, prefix = split_s3_uri(uri)
    paginator = s3_client(options).get_paginator("list_objects_v2")
    keys: list[str] = []
    for page in paginator.paginate(Bucket=bucket, Prefix=prefix):
        keys.extend(obj["Key"] for obj in page.get("Contents", []) if not obj["Key"].endswith("/"))
    return [f"s3://{bucket}/{key}" for key in sorted(keys)]
