"""The Spark session, configured from conf/spark/*.conf, so local and cluster runs differ only there."""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path

from filters.resources import REPO_ROOT
from jobs.errors import UserError

CONF_DIR = REPO_ROOT / "conf" / "spark"


class SparkConfError(UserError):
    pass


def read_spark_conf(path: Path) -> dict[str, str]:
    """`key value` lines (spark-defaults.conf syntax); '#' starts a comment."""
    settings: dict[str, str] = {}
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        parts = line.split(None, 1)
        if len(parts) != 2:
            raise SparkConfError(f"{path}:{number}: expected 'key value', got {line!r}")
        settings[parts[0]] = parts[1].strip()
    return settings


def conf_file_for(master: str | None, conf_file: str | None) -> Path:
    if conf_file:
        path = Path(conf_file)
        if not path.is_file():
            raise SparkConfError(f"--spark-conf {conf_file}: no such file")
        return path
    local = master is None or master.startswith("local")
    return CONF_DIR / ("local.conf" if local else "cluster.conf")


MASTER_PATTERN = re.compile(r"^(local(\[(\*|\d+)(,\d+)?\])?|yarn|spark://\S+|k8s://\S+|mesos://\S+)$")


def check_master(master: str) -> None:
    if not MASTER_PATTERN.match(master):
        raise SparkConfError(f"--master {master}: unknown Spark master; use local[N], spark://host:port, "
                             "yarn or k8s://https://host:port")


def spark_settings(master: str | None = None, conf_file: str | None = None,
                   overrides: dict[str, str] | None = None) -> dict[str, str]:
    settings = read_spark_conf(conf_file_for(master, conf_file))
    if master:
        check_master(master)
        settings["spark.master"] = master
    settings.update(overrides or {})
    settings.setdefault("spark.master", "local[*]")
    return settings


def get_spark(app_name: str = "cc-sieve", master: str | None = None, conf_file: str | None = None,
              overrides: dict[str, str] | None = None):
    """Build (or reuse) the session. Import of pyspark is deferred so `filters`-only code never pays it."""
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    os.environ.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)
    from pyspark.sql import SparkSession

    builder = SparkSession.builder.appName(app_name)
    for key, value in spark_settings(master, conf_file, overrides).items():
        builder = builder.config(key, value)
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel("WARN")
    return spark
