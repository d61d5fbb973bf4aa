"""Fixtures of the integration tests: one Spark session, a real S3 server."""

from __future__ import annotations

import pytest

from cc_sieve.jobs.spark.session import get_spark
from tests.support.s3server import SeaweedS3


@pytest.fixture(scope="session")
def spark():
    """One local[2] session for every Spark test (starting one costs ~8 s)."""
    session = get_spark("cc-sieve-tests", master="local[2]",
                        overrides={"spark.sql.shuffle.partitions": "4", "spark.default.parallelism": "4"})
    yield session
    session.stop()


@pytest.fixture(scope="session")
def s3_server(tmp_path_factory):
    """A real S3-compatible server (SeaweedFS) on 127.0.0.1 that enforces SigV4; stopped after the tests."""
    server = SeaweedS3(tmp_path_factory.mktemp("seaweedfs"))
    server.start()
    yield server
    server.stop()
