"""`cc-sieve submit`: spark-submit a cc-sieve job to any master, shipping the project with it.

    cc-sieve submit --master spark://127.0.0.1:7077 -- benchmark --config conf/benchmark/default.yaml

What travels: the code as a zip of filters/ and jobs/ (`--py-files`), the data the annotators
read (lexicons, blocklists, labeled sets) as an archive unpacked in each executor's working
folder (`--archives data.zip#ccsieve-data`, found through CC_SIEVE_DATA), and PYSPARK_PYTHON
set explicitly. The Python environment itself (the pinned dependencies) must exist on every
node at `--python` (see README: clusters); S3 credentials come from the nodes' environment or
instance role and are never put on the command line or in conf files.

The cluster's secret (spark.authenticate) reaches spark-submit as `--properties-file` (`--auth-file`; by
default build/cluster/spark-auth.conf when the master is the one `cc-sieve cluster up` starts), never as a
`--conf` value; the command line is printed with secrets masked and URIs redacted.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import zipfile
from pathlib import Path

from cc_sieve.filters.resources import REPO_ROOT
from cc_sieve.jobs.cluster.standalone import SPARK_HOME, ClusterLayout, check_auth_file
from cc_sieve.jobs.commands.parsers import command_parser
from cc_sieve.jobs.config.spark_conf import check_master
from cc_sieve.jobs.errors import run_command
from cc_sieve.jobs.redact import redact_setting, redact_uri

JOB_SCRIPTS = {"benchmark": "jobs/commands/benchmark.py", "ingest": "jobs/commands/ingest.py"}
DATA_ARCHIVE_ALIAS = "ccsieve-data"
SETTING_KEY = re.compile(r"-{0,2}[A-Za-z0-9_.\-]+")


def zip_folder(zip_path: Path, root: Path, folders: list[str], suffixes: tuple[str, ...] | None = None,
               prefix: str = "", extra: dict[str, bytes] | None = None) -> Path:
    """A deterministic zip (sorted entries, fixed timestamps) of `folders` under `root`, each entry named
    `prefix` + its path under `root`, plus the `extra` entries."""
    zip_path.parent.mkdir(parents=True, exist_ok=True)
    files = sorted(p for folder in folders for p in (root / folder).rglob("*")
                   if p.is_file() and "__pycache__" not in p.parts and (suffixes is None or p.suffix in suffixes))
    entries = {prefix + str(path.relative_to(root)): path.read_bytes() for path in files} | (extra or {})
    with zipfile.ZipFile(zip_path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name in sorted(entries):
            info = zipfile.ZipInfo(name, date_time=(2020, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, entries[name])
    return zip_path


def package(build: Path = REPO_ROOT / "build") -> tuple[Path, Path]:
    """build/cc-sieve-code.zip (filters and jobs as cc_sieve/filters and cc_sieve/jobs, the layout the installed
    package has) and build/cc-sieve-data.zip (the bundled data)."""
    code = zip_folder(build / "cc-sieve-code.zip", REPO_ROOT, ["filters", "jobs"], (".py",), prefix="cc_sieve/",
                      extra={"cc_sieve/__init__.py": b""})
    data_root = REPO_ROOT / "data"
    data = zip_folder(build / "cc-sieve-data.zip", data_root,
                      [p.name for p in sorted(data_root.iterdir()) if p.is_dir() and p.name != "commoncrawl"])
    return code, data


def submit_command(master: str, job: str, job_args: list[str], python: str, deploy_mode: str = "client",
                   extra_conf: list[str] | None = None, auth_file: Path | None = None) -> list[str]:
    """The spark-submit command line; `auth_file` (the cluster's secret) goes as --properties-file."""
    code, data = package()
    conf = {
        "spark.pyspark.python": python,
        "spark.executorEnv.PYSPARK_PYTHON": python,
        "spark.executorEnv.CC_SIEVE_DATA": f"./{DATA_ARCHIVE_ALIAS}",
        "spark.executorEnv.PYTHONHASHSEED": "0",
    }
    command = [str(SPARK_HOME / "bin" / "spark-submit"), "--master", master, "--deploy-mode", deploy_mode,
               "--py-files", str(code), "--archives", f"{data}#{DATA_ARCHIVE_ALIAS}"]
    for key, value in conf.items():
        command += ["--conf", f"{key}={value}"]
    for item in extra_conf or []:
        command += ["--conf", item]
    if auth_file is not None:
        check_auth_file(auth_file)
        command += ["--properties-file", str(auth_file)]
    command.append(str(REPO_ROOT / JOB_SCRIPTS[job]))
    return command + job_args


def shown_command(command: list[str]) -> str:
    """The command as printed: URIs redacted, also as the value of a `key=value` or `--flag=value`
    argument, and the value of a key that names a secret (`spark.authenticate.secret=...`) masked."""
    shown = []
    for argument in command:
        key, equals, value = argument.partition("=")
        if equals and SETTING_KEY.fullmatch(key):
            shown.append(f"{key}={redact_setting(key, value)}")
        else:
            shown.append(redact_uri(argument))
    return " ".join(shown)


def default_auth_file(master: str) -> Path | None:
    """The local cluster's properties file when submitting to it (`cc-sieve cluster up` made it), else none:
    its secret is never sent to another master."""
    layout = ClusterLayout()
    return layout.auth_file if master == layout.master_url and layout.auth_file.exists() else None


def main(argv: list[str] | None = None) -> int:
    parser = command_parser("cc-sieve submit", __doc__,
                            usage="cc-sieve submit [--master URL] [--python PATH] -- JOB [job options]")
    parser.add_argument("--master", default="spark://127.0.0.1:7077",
                        help="spark://host:port, yarn or k8s://https://host:port")
    parser.add_argument("--deploy-mode", choices=["client", "cluster"], default="client",
                        help="client: the driver runs here (it reads conf/ and writes MLflow)")
    parser.add_argument("--python", default=os.environ.get("PYSPARK_PYTHON") or sys.executable,
                        help="the Python every node runs (same pinned environment on all nodes)")
    parser.add_argument("--conf", action="append", default=[], metavar="KEY=VALUE",
                        help="extra Spark setting (repeatable; default: none)")
    parser.add_argument("--auth-file", type=Path, default=None,
                        help="Spark properties holding the cluster's secret (default: build/cluster/spark-auth.conf "
                             "when --master is the cluster `cc-sieve cluster up` starts)")
    parser.add_argument("--dry-run", action="store_true", help="print the spark-submit command only")
    parser.add_argument("job", choices=sorted(JOB_SCRIPTS))
    parser.add_argument("job_args", nargs=argparse.REMAINDER)
    args = parser.parse_args(argv)
    check_master(args.master)
    job_args = [a for a in args.job_args if a != "--"]
    if "--master" not in job_args:
        job_args += ["--master", args.master]
    auth_file = args.auth_file or default_auth_file(args.master)
    command = submit_command(args.master, args.job, job_args, args.python, args.deploy_mode, args.conf, auth_file)
    print(shown_command(command))
    if args.dry_run:
        return 0
    env = {**os.environ, "SPARK_HOME": str(SPARK_HOME), "PYSPARK_PYTHON": args.python, "CC_SIEVE_HOME": str(REPO_ROOT),
           "SPARK_LOCAL_IP": os.environ.get("SPARK_LOCAL_IP", "127.0.0.1")}
    return subprocess.run(command, env=env).returncode


if __name__ == "__main__":
    sys.exit(run_command(main, prog="cc-sieve submit"))
