"""The Spark session, built from the settings of conf/spark/*.conf (jobs/config/spark_conf.py)."""

from __future__ import annotations

import os
import sys

from pyspark.sql import SparkSession

from cc_sieve.jobs.config.spark_conf import spark_settings


def get_spark(app_name: str = "cc-sieve", master: str | None = None, conf_file: str | None = None,
              overrides: dict[str, str] | None = None) -> SparkSession:
    """Build (or reuse) the session; Python workers run this interpreter unless PYSPARK_PYTHON says otherwise."""
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    os.environ.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)
    builder = SparkSession.builder.appName(app_name)
    for key, value in spark_settings(master, conf_file, overrides).items():
        builder = builder.config(key, value)
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel("WARN")
    return spark
