"""The whole benchmark (the default preset, as `cc-sieve benchmark` runs it) reading its shards from S3, at
several input sizes: seconds per stage, CPU seconds of the whole process tree, peak memory of the JVM and of
the Python workers, and the shuffle bytes of the dedup stage per document (docs/performance.md).

S3 is SeaweedFS on 127.0.0.1 (jobs/bench/seaweed.py) with fresh random credentials, holding `make bench`'s
shards (make-shards output); each size is its own Spark application (local[2]) whose event log gives the
shuffle bytes of the jobs of the dedup stage (Timed names each stage's jobs). Memory and CPU are sampled with
psutil every 0.2 s over the driver's descendants: `java` is the JVM, the other Python processes under it are
the workers (peak of their sum).

    python -m cc_sieve.jobs.bench.scale [--sizes 1,4,16] [--shards FOLDER] [--shard-mb 20] [--output build/bench/scale]

With `--shard-mb`, the shards are made (seeded, reused while the request is unchanged) in `--shards` at that size,
so the largest size fits the time a bench has here; without it, `--shards` holds ready make-shards output.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import psutil
from mlflow.tracking import MlflowClient

from cc_sieve.filters.planting import TRUTH_FILE
from cc_sieve.jobs import metrics as M
from cc_sieve.jobs.bench.run import ensure_shards
from cc_sieve.jobs.bench.seaweed import SeaweedS3
from cc_sieve.jobs.commands.benchmark import run_benchmark
from cc_sieve.jobs.config.loading import validate
from cc_sieve.jobs.config.presets import BenchmarkConfig, load_benchmark_config
from cc_sieve.jobs.config.recipes import load_recipes
from cc_sieve.jobs.errors import InputError, run_command
from cc_sieve.jobs.reading.inputs import resolve_inputs
from cc_sieve.jobs.spark.session import get_spark

BUCKET = "cc-sieve-scale"
SAMPLE_SECONDS = 0.2


@dataclass
class Usage:
    """Peaks and CPU seconds of a process tree, sampled."""

    jvm_peak_mb: float = 0.0
    workers_peak_mb: float = 0.0
    driver_peak_mb: float = 0.0
    cpu_seconds: dict[int, float] = field(default_factory=dict)  # per process, the last reading

    def sample(self, root: psutil.Process) -> None:
        jvm = workers = 0.0
        for process in [root, *root.children(recursive=True)]:
            try:
                with process.oneshot():
                    name, rss = process.name(), process.memory_info().rss / 1e6
                    times = process.cpu_times()
                    self.cpu_seconds[process.pid] = times.user + times.system
                    under_jvm = any(parent.name() == "java" for parent in process.parents())
            except psutil.Error:  # ended between the listing and the reading
                continue
            if name == "java":
                jvm += rss
            elif under_jvm:
                workers += rss
            elif process.pid == root.pid:
                self.driver_peak_mb = max(self.driver_peak_mb, rss)
        self.jvm_peak_mb = max(self.jvm_peak_mb, jvm)
        self.workers_peak_mb = max(self.workers_peak_mb, workers)


class Sampler(threading.Thread):
    def __init__(self):
        super().__init__(daemon=True)
        self.usage = Usage()
        self.done = threading.Event()

    def run(self) -> None:
        root = psutil.Process()
        while not self.done.wait(SAMPLE_SECONDS):
            self.usage.sample(root)

    def stop(self) -> Usage:
        self.done.set()
        self.join()
        self.usage.sample(psutil.Process())
        return self.usage


def shuffle_bytes(event_log_folder: Path, description: str) -> dict[str, int]:
    """Shuffle bytes written and read by the tasks of the jobs whose description is `description`."""
    stages: set[int] = set()
    written = read = 0
    for path in sorted(path for path in event_log_folder.rglob("*") if path.is_file()):
        for line in path.open():
            event = json.loads(line)
            kind = event.get("Event")
            if kind == "SparkListenerJobStart" and event.get("Properties", {}).get(
                    "spark.job.description") == description:
                stages.update(event["Stage IDs"])
            elif kind == "SparkListenerTaskEnd" and event["Stage ID"] in stages:
                task = event.get("Task Metrics") or {}
                written += task.get("Shuffle Write Metrics", {}).get("Shuffle Bytes Written", 0)
                reading = task.get("Shuffle Read Metrics", {})
                read += reading.get("Remote Bytes Read", 0) + reading.get("Local Bytes Read", 0)
    return {"written": written, "read": read}


def scale_config(uris: list[str], endpoint: str, out: Path) -> BenchmarkConfig:
    values = load_benchmark_config().model_dump()
    values["input"].update(specs=uris, limit=None)
    values["input"]["s3"]["endpoint"] = endpoint
    values["output"] = str(out)
    values["report"] = False
    values["tracking"]["uri"] = f"sqlite:///{out / 'mlflow.db'}"
    return validate(BenchmarkConfig, values, "bench scale")


def run_size(server: SeaweedS3, keys: list[str], truth: list[Path], work: Path) -> dict:
    """The benchmark over the shards `keys`, in a Spark application of its own; its figures."""
    out = work / f"{len(keys)}-shards"
    events = out / "events"
    events.mkdir(parents=True, exist_ok=True)
    config = scale_config([f"s3://{BUCKET}/{key}" for key in keys], server.endpoint, out)
    recipes = load_recipes(config.recipes)
    uris = resolve_inputs(config.input)
    sampler = Sampler()
    sampler.start()
    started = time.perf_counter()
    spark = get_spark(f"cc-sieve bench scale {len(keys)}", master="local[2]", overrides={
        **config.spark.conf, "spark.eventLog.enabled": "true", "spark.eventLog.dir": events.as_uri(),
        "spark.eventLog.compress": "false", "spark.eventLog.rolling.enabled": "false"})
    try:
        result = run_benchmark(spark, config, recipes, uris, truth)
    finally:
        spark.stop()
    wall = time.perf_counter() - started
    usage = sampler.stop()
    documents = MlflowClient(tracking_uri=config.tracking.uri).get_run(result.parent_run_id).data.metrics[M.DOCUMENTS]
    dedup = shuffle_bytes(events, "dedup")
    return {"shards": len(keys), "documents": int(documents), "wall_seconds": round(wall, 1),
            "cpu_seconds": round(sum(usage.cpu_seconds.values()), 1),
            "stage_seconds": {name: round(value, 1) for name, value in result.stage_seconds.items()},
            "jvm_peak_mb": round(usage.jvm_peak_mb), "python_workers_peak_mb": round(usage.workers_peak_mb),
            "driver_peak_mb": round(usage.driver_peak_mb), "dedup_shuffle_bytes": dedup,
            "dedup_shuffle_bytes_per_document": round(dedup["written"] / max(documents, 1), 1)}


def summary(rows: list[dict]) -> str:
    lines = ["shards  documents  wall s  CPU s  docs/CPU s  ingest s  annotate s  dedup s  evaluate s  "
             "JVM MB  workers MB  dedup shuffle B/doc"]
    for row in rows:
        stage = row["stage_seconds"]
        lines.append(f"{row['shards']:>6}  {row['documents']:>9,}  {row['wall_seconds']:>6}  {row['cpu_seconds']:>5}  "
                     f"{row['documents'] / max(row['cpu_seconds'], 1e-9):>10.1f}  {stage.get('ingest', 0):>8}  "
                     f"{stage.get('annotate', 0):>10}  {stage.get('dedup', 0):>7}  {stage.get('evaluate', 0):>10}  "
                     f"{row['jvm_peak_mb']:>6}  {row['python_workers_peak_mb']:>10}  "
                     f"{row['dedup_shuffle_bytes_per_document']:>19}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m cc_sieve.jobs.bench.scale", description=__doc__.split("\n")[0])
    parser.add_argument("--shards", default="build/bench/shards", help="make-shards output (make bench's)")
    parser.add_argument("--shard-mb", type=float, help="make the shards in --shards first, of about this many MB")
    parser.add_argument("--sizes", default="1,4,16", help="comma-separated shard counts")
    parser.add_argument("--output", default="build/bench/scale", help="folder of the runs and scale.json")
    parser.add_argument("--quick", action="store_true", help="the first shard only (a smoke run on a small one)")
    args = parser.parse_args(argv)
    sizes = [1] if args.quick else [int(size) for size in args.sizes.split(",")]
    if args.shard_mb:
        ensure_shards(Path(args.shards), max(sizes), args.shard_mb)
    shards = sorted(Path(args.shards).rglob("*.warc.gz"))
    if not shards or max(sizes) > len(shards):
        raise InputError(f"{args.shards}: {len(shards)} shards, fewer than {max(sizes)} "
                         "(make them with `cc-sieve make-shards`)")
    truth = [path for path in [Path(args.shards) / TRUTH_FILE] if path.is_file()]
    output = Path(args.output).resolve()
    output.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="seaweedfs-", dir=output) as folder:
        server = SeaweedS3(Path(folder), f"scale-{secrets.token_hex(8)}", secrets.token_hex(20), BUCKET)
        os.environ.update(server.credentials_env)  # the Spark workers read S3 with them
        server.start()
        try:
            client = server.client()
            keys = [str(path.relative_to(args.shards)) for path in shards[:max(sizes)]]
            for key in keys:
                client.upload_file(str(Path(args.shards) / key), BUCKET, key)
            rows = []
            for size in sizes:
                with tempfile.TemporaryDirectory(dir=output) as work:
                    rows.append(run_size(server, keys[:size], truth, Path(work)))
                (output / "scale.json").write_text(json.dumps(rows, indent=1))
                print(summary(rows).splitlines()[-1], flush=True)
        finally:
            server.stop()
    print(summary(rows))
    print(f"[scale] {output / 'scale.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(run_command(main, prog="python -m cc_sieve.jobs.bench.scale"))
