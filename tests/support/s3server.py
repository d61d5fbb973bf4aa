"""SeaweedFS as a real S3 server on 127.0.0.1 for tests (jobs/bench/seaweed.py), with the tests' credentials."""

from __future__ import annotations

from pathlib import Path

from cc_sieve.jobs.bench.seaweed import SeaweedS3 as Server
from cc_sieve.jobs.bench.seaweed import free_port

ACCESS_KEY = "ccsieve-test-access"
SECRET_KEY = "ccsieve-test-secret-1b9f0c"  # a test-only secret; tests grep outputs for it
BUCKET = "commoncrawl-test"

__all__ = ["ACCESS_KEY", "BUCKET", "SECRET_KEY", "SeaweedS3", "free_port"]


class SeaweedS3(Server):
    def __init__(self, directory: Path):
        super().__init__(directory, ACCESS_KEY, SECRET_KEY, BUCKET)
