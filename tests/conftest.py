"""Fixtures shared by the test files: real samples, one Spark session, a real S3 server."""

from __future__ import annotations

import os

import pytest

from filters.resources import REPO_ROOT
from tests.s3server import ACCESS_KEY, SECRET_KEY

os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
os.environ.setdefault("PYTHONHASHSEED", "0")
# Set before the Spark session starts, so its Python workers inherit them. boto3 must never
# fall back to the EC2 metadata address: only 127.0.0.1 is reachable (and allowed) here.
os.environ["AWS_ACCESS_KEY_ID"] = ACCESS_KEY
os.environ["AWS_SECRET_ACCESS_KEY"] = SECRET_KEY
os.environ["AWS_DEFAULT_REGION"] = "us-east-1"
os.environ["AWS_EC2_METADATA_DISABLED"] = "true"

SHARED_DATA = REPO_ROOT.parent / "shared" / "data"
BUNDLED_DATA = REPO_ROOT / "data"
CC_SAMPLES = (SHARED_DATA if SHARED_DATA.is_dir() else BUNDLED_DATA) / "commoncrawl"
WARC_2020_34 = CC_SAMPLES / "CC-MAIN-2020-34" / "resiliparse-warcfile.warc.gz"
WHIRLWIND_WARC = CC_SAMPLES / "CC-MAIN-2024-22" / "whirlwind.warc.gz"
WHIRLWIND_WET = CC_SAMPLES / "CC-MAIN-2024-22" / "whirlwind.warc.wet.gz"
WHIRLWIND_WAT = CC_SAMPLES / "CC-MAIN-2024-22" / "whirlwind.warc.wat.gz"
JWARC_2019_51 = CC_SAMPLES / "CC-MAIN-2019-51" / "jwarc-cc.warc.gz"
DOLMA_JSONL = CC_SAMPLES / "CC-MAIN-2019-30" / "dolma-CC-MAIN-20190717121559-20190717143559-00140.jsonl.gz"


@pytest.fixture(scope="session")
def spark():
    """One local[2] session for every Spark test (starting one costs ~8 s)."""
    from jobs.spark import get_spark

    session = get_spark("cc-sieve-tests", master="local[2]",
                        overrides={"spark.sql.shuffle.partitions": "4", "spark.default.parallelism": "4"})
    yield session
    session.stop()


@pytest.fixture(scope="session")
def s3_server(tmp_path_factory):
    """A real S3-compatible server (SeaweedFS) on 127.0.0.1 that enforces SigV4; stopped after the tests."""
    from tests.s3server import SeaweedS3

    server = SeaweedS3(tmp_path_factory.mktemp("seaweedfs"))
    server.start()
    yield server
    server.stop()
