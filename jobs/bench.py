"""`make bench`: throughput of each stage beside its reference implementation, in the same run.

Each stage is measured on the same input for cc-sieve and for the reference (warcio for
reading, ...), and printed as a table of docs/s, MB/s and the ratio ours / reference.
Results go to a JSON file. Benchmarks are measurements, not timed tests: nothing asserts speed.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

from fastwarc.warc import ArchiveIterator, WarcRecordType
from warcio.archiveiterator import ArchiveIterator as WarcioIterator

from filters.resources import REPO_ROOT
from jobs.reader import ShardReport, read_shard
from jobs.sources import shard_opener

SAMPLE_WARC = REPO_ROOT / "data" / "commoncrawl" / "CC-MAIN-2020-34" / "resiliparse-warcfile.warc.gz"


@dataclass
class Measurement:
    stage: str
    implementation: str
    reference: bool
    documents: int
    megabytes: float
    seconds: float

    @property
    def docs_per_second(self) -> float:
        return self.documents / self.seconds if self.seconds else 0.0

    @property
    def mb_per_second(self) -> float:
        return self.megabytes / self.seconds if self.seconds else 0.0

    def as_dict(self) -> dict:
        return {**asdict(self), "docs_per_second": self.docs_per_second, "mb_per_second": self.mb_per_second}


def timed(function: Callable[[], int]) -> tuple[int, float]:
    started = time.perf_counter()
    count = function()
    return count, time.perf_counter() - started


def repeated_warc(path: Path, megabytes: float) -> Path:
    """A gzip WARC of at least `megabytes` MB made by repeating the real sample's members."""
    data = SAMPLE_WARC.read_bytes()
    copies = int(megabytes * 1e6 // len(data)) + 1
    if not path.exists() or path.stat().st_size != copies * len(data):
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "wb") as out:
            for _ in range(copies):
                out.write(data)
    return path


def bench_read(path: Path) -> list[Measurement]:
    """Read + extract (cc-sieve, fastwarc), parse only (fastwarc), and warcio's plain iteration."""
    size_mb = path.stat().st_size / 1e6
    uri = str(path)

    def ours() -> int:
        report = ShardReport(uri)
        count = sum(1 for _ in read_shard(uri, shard_opener(uri), report))
        assert not report.failures, report.failures
        return count

    def fastwarc_parse_only() -> int:
        with open(path, "rb") as stream:
            count = 0
            for record in ArchiveIterator(stream, record_types=WarcRecordType.response, parse_http=True):
                record.reader.read()
                count += 1
        return count

    def warcio_iteration() -> int:
        with open(path, "rb") as stream:
            count = 0
            for record in WarcioIterator(stream):
                if record.rec_type == "response":
                    record.content_stream().read()
                    count += 1
        return count

    results = []
    for name, function, reference in [("cc-sieve read+extract (fastwarc+resiliparse)", ours, False),
                                      ("fastwarc parse only", fastwarc_parse_only, False),
                                      ("warcio iteration", warcio_iteration, True)]:
        count, seconds = timed(function)
        results.append(Measurement("read", name, reference, count, size_mb, seconds))
    return results


def ratio_table(measurements: list[Measurement]) -> str:
    lines = [f"{'stage':<10} {'implementation':<48} {'docs':>9} {'docs/s':>10} {'MB/s':>8} {'x reference':>12}"]
    for stage in dict.fromkeys(m.stage for m in measurements):
        rows = [m for m in measurements if m.stage == stage]
        reference = next((m for m in rows if m.reference), None)
        for m in rows:
            ratio = (f"{m.docs_per_second / reference.docs_per_second:.2f}"
                     if reference and reference.docs_per_second and not m.reference else "")
            lines.append(f"{stage:<10} {m.implementation:<48} {m.documents:>9,} {m.docs_per_second:>10,.0f} "
                         f"{m.mb_per_second:>8,.1f} {ratio:>12}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="cc-sieve bench", description=__doc__.split("\n")[0])
    parser.add_argument("--output", default="build/bench", help="folder for inputs and results.json")
    parser.add_argument("--read-mb", type=float, default=100.0, help="size of the repeated real WARC")
    parser.add_argument("--quick", action="store_true", help="small sizes (runs inside make test)")
    parser.add_argument("--tracking-uri", help="MLflow tracking URI (default: sqlite:///mlflow.db here)")
    args = parser.parse_args(argv)
    out = Path(args.output)
    read_mb = 5.0 if args.quick else args.read_mb
    warc = repeated_warc(out / "inputs" / f"repeated-{int(read_mb)}mb.warc.gz", read_mb)
    measurements = bench_read(warc)
    from jobs.bench_harm import bench_harm  # imports this module: not at the top
    from jobs.bench_quality import sample_documents

    measurements += bench_harm([doc["text"] or "" for doc in sample_documents()])
    print(ratio_table(measurements))
    results = {"machine": {"python": platform.python_version(), "platform": platform.platform(),
                           "cpus": os.cpu_count()},
               "quick": args.quick, "measurements": [m.as_dict() for m in measurements]}
    results_path = out / "results.json"
    results_path.write_text(json.dumps(results, indent=2))
    log_to_mlflow(measurements, results_path, args.tracking_uri, args.quick)
    print(f"results: {results_path}")
    return 0


def log_to_mlflow(measurements: list[Measurement], results_path: Path, tracking_uri: str | None,
                  quick: bool) -> None:
    """One run in the `bench` experiment: docs/s, MB/s and ratios per stage and implementation."""
    import mlflow

    from jobs.tracking import code_version, log_metrics, metric_name

    if tracking_uri:
        mlflow.set_tracking_uri(tracking_uri)
    mlflow.set_experiment("bench")
    with mlflow.start_run(run_name="bench-quick" if quick else "bench"):
        mlflow.log_params({"code_version": code_version(), "quick": str(quick), "cpus": str(os.cpu_count())})
        metrics = {}
        for m in measurements:
            key = metric_name(f"{m.stage}.{m.implementation}")
            metrics[f"{key}.docs_per_s"] = m.docs_per_second
            metrics[f"{key}.mb_per_s"] = m.mb_per_second
            metrics[f"{key}.seconds"] = m.seconds
        log_metrics(metrics)
        mlflow.log_artifact(str(results_path))


if __name__ == "__main__":
    sys.exit(main())
