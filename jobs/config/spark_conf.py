"""Spark settings from conf/spark/*.conf (spark-defaults syntax), so local and cluster runs differ only there.

Pure Python: the settings are read and checked before a session exists (jobs/spark/session.py builds it).
"""

from __future__ import annotations

import re
from pathlib import Path

from cc_sieve.filters.resources import REPO_ROOT
from cc_sieve.jobs.errors import ConfigError

CONF_DIR = REPO_ROOT / "conf" / "spark"
MASTER_PATTERN = re.compile(r"^(local(\[(\*|\d+)(,\d+)?\])?|yarn|spark://\S+|k8s://\S+|mesos://\S+)$")


def read_spark_conf(path: Path) -> dict[str, str]:
    """`key value` lines (spark-defaults.conf syntax); '#' starts a comment."""
    settings: dict[str, str] = {}
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        parts = line.split(None, 1)
        if len(parts) != 2:
            raise ConfigError(f"{path}:{number}: expected 'key value', got {line!r}")
        settings[parts[0]] = parts[1].strip()
    return settings


def conf_file_for(master: str | None, conf_file: str | None) -> Path:
    if conf_file:
        path = Path(conf_file)
        if not path.is_file():
            raise ConfigError(f"--spark-conf {conf_file}: no such file")
        return path
    local = master is None or master.startswith("local")
    return CONF_DIR / ("local.conf" if local else "cluster.conf")


def master_problem(master: str) -> str | None:
    """Why `master` is not a Spark master URL, or None when it is one."""
    if MASTER_PATTERN.match(master):
        return None
    return f"{master}: unknown Spark master; use local[N], spark://host:port, yarn or k8s://https://host:port"


def check_master(master: str) -> None:
    problem = master_problem(master)
    if problem:
        raise ConfigError(f"--master {problem}")


def spark_settings(master: str | None = None, conf_file: str | None = None,
                   overrides: dict[str, str] | None = None) -> dict[str, str]:
    settings = read_spark_conf(conf_file_for(master, conf_file))
    if master:
        check_master(master)
        settings["spark.master"] = master
    settings.update(overrides or {})
    settings.setdefault("spark.master", "local[*]")
    return settings
