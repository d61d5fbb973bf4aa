"""A Spark standalone cluster on 127.0.0.1 from the pyspark wheel: `make cluster-up|cluster-down|cluster-status`.

The wheel has no start-master.sh, so the master and workers are started with spark-daemon.sh.
PID files, logs and worker folders live under build/cluster (ignored by git). `up` is
idempotent and returns once every worker has registered with the master.

Only who holds the secret may use the cluster: the master and workers run with spark.authenticate and a
secret generated at the first `up` (build/cluster/spark-auth.conf, a Spark properties file readable by its
owner only, given to every daemon and to spark-submit by `cc-sieve submit`, never on a command line), and
the master's REST submission server, which would accept jobs without that secret, stays off. The web UIs
(status only: their kill buttons are off) are bound to 127.0.0.1 and not authenticated (docs/security.md).
"""

from __future__ import annotations

import json
import os
import secrets
import stat
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pyspark

from cc_sieve.filters.resources import REPO_ROOT
from cc_sieve.jobs.commands.parsers import command_parser
from cc_sieve.jobs.errors import ConfigError, run_command

SPARK_HOME = Path(pyspark.__file__).resolve().parent
MASTER_CLASS = "org.apache.spark.deploy.master.Master"
WORKER_CLASS = "org.apache.spark.deploy.worker.Worker"


@dataclass(frozen=True)
class ClusterLayout:
    home: Path = REPO_ROOT / "build" / "cluster"
    host: str = "127.0.0.1"
    port: int = 7077
    webui_port: int = 8080

    @property
    def master_url(self) -> str:
        return f"spark://{self.host}:{self.port}"

    @property
    def status_url(self) -> str:
        return f"http://{self.host}:{self.webui_port}/json/"

    @property
    def auth_file(self) -> Path:
        """The Spark properties that every daemon and every application of this cluster starts with."""
        return self.home / "spark-auth.conf"

    def environment(self) -> dict[str, str]:
        python = os.environ.get("PYSPARK_PYTHON") or sys.executable
        return {**os.environ, "SPARK_HOME": str(SPARK_HOME), "SPARK_LOCAL_IP": self.host,
                "SPARK_PID_DIR": str(self.home / "pids"), "SPARK_LOG_DIR": str(self.home / "logs"),
                "SPARK_WORKER_DIR": str(self.home / "work"), "PYSPARK_PYTHON": python,
                "SPARK_NO_DAEMONIZE": ""}


AUTH_PROPERTIES = """# cc-sieve standalone cluster: the shared secret of Spark's RPC authentication. Readable by
# its owner only; given to the master, the workers and spark-submit as --properties-file. Never print it.
spark.authenticate true
spark.authenticate.secret {secret}
spark.master.rest.enabled false
spark.ui.killEnabled false
"""


def ensure_auth_file(layout: ClusterLayout) -> Path:
    """The cluster's properties file, made with a new 256-bit secret (mode 0600, in a folder only its owner
    can enter) unless it exists; an existing one must be a regular file of ours that nobody else can read."""
    layout.home.mkdir(parents=True, exist_ok=True)
    os.chmod(layout.home, stat.S_IRWXU)
    path = layout.auth_file
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    except FileExistsError:
        check_auth_file(path)
        return path
    with os.fdopen(descriptor, "w", encoding="utf-8") as stream:
        stream.write(AUTH_PROPERTIES.format(secret=secrets.token_hex(32)))
    return path


def check_auth_file(path: Path) -> None:
    """A ConfigError unless `path` is a regular file (not a link) of this user, readable by this user only."""
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such file; `cc-sieve cluster up` makes it") from None
    if not stat.S_ISREG(info.st_mode) or info.st_uid != os.getuid():
        raise ConfigError(f"{path}: not a regular file of this user; remove it and run `cc-sieve cluster up`")
    if info.st_mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise ConfigError(f"{path}: readable by others (mode {stat.S_IMODE(info.st_mode):o}), so its secret is "
                          "spent: stop the cluster, remove the file and run `cc-sieve cluster up`")


def daemon(layout: ClusterLayout, action: str, java_class: str, instance: int, *args: str) -> None:
    for folder in ("pids", "logs", "work"):
        (layout.home / folder).mkdir(parents=True, exist_ok=True)
    env = {k: v for k, v in layout.environment().items() if k != "SPARK_NO_DAEMONIZE"}
    command = ["bash", str(SPARK_HOME / "sbin" / "spark-daemon.sh"), action, java_class, str(instance), *args]
    subprocess.run(command, env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)


def master_status(layout: ClusterLayout) -> dict | None:
    try:
        with urllib.request.urlopen(layout.status_url, timeout=2) as response:
            return json.load(response)
    except OSError:
        return None


def alive_workers(status: dict | None) -> list[dict]:
    return [w for w in (status or {}).get("workers", []) if w.get("state") == "ALIVE"]


def wait_for(layout: ClusterLayout, workers: int, timeout: float) -> dict:
    deadline = time.monotonic() + timeout
    status = None
    while time.monotonic() < deadline:
        status = master_status(layout)
        if status is not None and len(alive_workers(status)) >= workers:
            return status
        time.sleep(1)
    raise RuntimeError(f"cluster at {layout.master_url}: {len(alive_workers(status))} of {workers} workers "
                       f"registered after {timeout:.0f} s; see {layout.home / 'logs'}")


def up(layout: ClusterLayout, workers: int = 2, cores: int = 1, memory: str = "2g", timeout: float = 90) -> dict:
    properties = str(ensure_auth_file(layout))
    if master_status(layout) is None:
        daemon(layout, "start", MASTER_CLASS, 1, "--host", layout.host, "--port", str(layout.port),
               "--webui-port", str(layout.webui_port), "--properties-file", properties)
    for instance in range(1, workers + 1):
        pid_file = layout.home / "pids" / f"spark-{os.environ.get('USER', 'root')}-{WORKER_CLASS}-{instance}.pid"
        if not pid_running(pid_file):
            daemon(layout, "start", WORKER_CLASS, instance, layout.master_url, "--cores", str(cores),
                   "--memory", memory, "--host", layout.host, "--webui-port", str(layout.webui_port + instance),
                   "--properties-file", properties)
    return wait_for(layout, workers, timeout)


def pid_running(pid_file: Path) -> bool:
    try:
        os.kill(int(pid_file.read_text().strip()), 0)
        return True
    except (OSError, ValueError):
        return False


def worker_pids(layout: ClusterLayout) -> dict[int, int]:
    """Worker instance number -> JVM pid, for the instances whose JVM is running."""
    pids = {}
    for pid_file in (layout.home / "pids").glob(f"*{WORKER_CLASS}-*.pid"):
        if pid_running(pid_file):
            pids[int(pid_file.stem.rsplit("-", 1)[-1])] = int(pid_file.read_text().strip())
    return pids


def down(layout: ClusterLayout) -> None:
    for instance in sorted(worker_pids(layout)):
        daemon(layout, "stop", WORKER_CLASS, instance)
    if (layout.home / "pids").is_dir() and any((layout.home / "pids").glob(f"*{MASTER_CLASS}-1.pid")):
        daemon(layout, "stop", MASTER_CLASS, 1)


def describe(layout: ClusterLayout) -> str:
    status = master_status(layout)
    if status is None:
        return f"no Spark master answers at {layout.status_url}"
    lines = [f"master {layout.master_url} ({status.get('status')}), web UI http://{layout.host}:{layout.webui_port}"]
    for worker in status.get("workers", []):
        lines.append(f"  worker {worker['id']} {worker['state']} cores {worker['coresused']}/{worker['cores']} "
                     f"memory {worker['memoryused']}/{worker['memory']} MB")
    lines.append(f"  applications running: {len(status.get('activeapps', []))}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = command_parser("cc-sieve cluster", __doc__)
    parser.add_argument("action", choices=["up", "down", "status"])
    parser.add_argument("--workers", type=int, default=2, help="workers to start (up)")
    parser.add_argument("--cores", type=int, default=1, help="cores per worker")
    parser.add_argument("--memory", default="2g", help="memory per worker")
    args = parser.parse_args(argv)
    layout = ClusterLayout()
    if args.action == "up":
        up(layout, args.workers, args.cores, args.memory)
        print(describe(layout))
    elif args.action == "down":
        down(layout)
        print(f"stopped the cluster at {layout.master_url}")
    else:
        print(describe(layout))
    return 0


if __name__ == "__main__":
    sys.exit(run_command(main, prog="cc-sieve cluster"))
