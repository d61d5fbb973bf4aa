"""The Spark session, built from the settings of conf/spark/*.conf (jobs/config/spark_conf.py).

By default the JVM's own output (Spark's log4j lines, its warnings, and what the Python workers print) goes
to a log file rather than the terminal, so a command shows its own progress and results; `--verbose` keeps
it on the terminal.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from pyspark.sql import SparkSession

from cc_sieve.jobs.config.spark_conf import spark_settings


@contextmanager
def stderr_to(path: Path) -> Iterator[None]:
    """File descriptor 2 pointed at `path` meanwhile: a process started inside (the JVM) keeps writing there."""
    path.parent.mkdir(parents=True, exist_ok=True)
    sys.stderr.flush()
    saved = os.dup(2)
    with open(path, "ab") as log:
        os.dup2(log.fileno(), 2)
    try:
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


def get_spark(app_name: str = "cc-sieve", master: str | None = None, conf_file: str | None = None,
              overrides: dict[str, str] | None = None, log_file: Path | None = None) -> SparkSession:
    """Build (or reuse) the session; Python workers run this interpreter unless PYSPARK_PYTHON says otherwise.
    With `log_file`, the JVM's output goes there (see the module's docstring)."""
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    os.environ.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)
    builder = SparkSession.builder.appName(app_name)
    for key, value in spark_settings(master, conf_file, overrides).items():
        builder = builder.config(key, value)
    if log_file is None:
        spark = builder.getOrCreate()
    else:
        with stderr_to(log_file):
            spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel("WARN")
    return spark
