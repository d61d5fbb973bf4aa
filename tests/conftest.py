"""Shared by every test: the environment (set before any Spark session or boto3 client exists), the
`integration` marker on every test under tests/integration (Spark, S3, MLflow, cluster, reference runs),
and the planted-truth shards that unit and integration tests both read."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from cc_sieve.jobs.generator.make_shards import ShardOptions, make_shards
from tests.support.planted import RATES, read_all
from tests.support.s3server import ACCESS_KEY, SECRET_KEY

os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
os.environ.setdefault("PYTHONHASHSEED", "0")
# Set before the Spark session starts, so its Python workers inherit them. boto3 must never
# fall back to the EC2 metadata address: only 127.0.0.1 is reachable (and allowed) here.
os.environ["AWS_ACCESS_KEY_ID"] = ACCESS_KEY
os.environ["AWS_SECRET_ACCESS_KEY"] = SECRET_KEY
os.environ["AWS_DEFAULT_REGION"] = "us-east-1"
os.environ["AWS_EC2_METADATA_DISABLED"] = "true"

INTEGRATION = Path(__file__).parent / "integration"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if INTEGRATION in Path(item.fspath).parents:
            item.add_marker(pytest.mark.integration)


@pytest.fixture(scope="session")
def shards(tmp_path_factory) -> Path:
    """Two WARC + WET shards of 500 documents with every kind of planted truth (seed 7)."""
    out = tmp_path_factory.mktemp("shards")
    make_shards(ShardOptions(output=str(out), docs=500, shards=2, seed=7, workers=2, **RATES))
    return out


@pytest.fixture(scope="session")
def truth(shards) -> list[dict]:
    return [json.loads(line) for line in (shards / "truth.jsonl").read_text().splitlines()]


@pytest.fixture(scope="session")
def wet(shards) -> dict[str, dict]:
    return read_all(shards, "wet")[0]
