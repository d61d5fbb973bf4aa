"""`make bench`: every stage's throughput beside its reference implementation, on the same shards, in one run.

Input: `cc-sieve make-shards` WARC shards of about --shard-mb MB each (8 x 100 MB by default, 2 small
ones with --quick), made once under OUTPUT/shards and reused while the request is unchanged.

1. One core, no Spark, on shard 0 (all of it, or its first N documents where the reference is slow):
   read (fastwarc vs warcio), extract (resiliparse vs trafilatura as datatrove runs it), the
   pipeline (cc-sieve's reader + quality rules + MinHash vs datatrove's WarcReader -> Trafilatura ->
   Gopher/C4/FineWeb filters -> MinhashDedupSignature), quality rules, harm detectors, PII (regex
   and full Presidio vs naive per-document Presidio), MinHash (vs datasketch) — the last ones from
   jobs/bench_quality.py, bench_harm.py, bench_pii.py and bench_dedup.py; then the whole annotate pass of
   the default preset on every page of shard 0 beside its figure before (jobs/bench/annotate.py), its PII
   findings against Presidio's on 10,000 pieces of the pages and on every labeled text, and the 1 MB
   adversarial document beside ordinary pages (jobs/bench/adversarial.py).
2. Spark local[2], end to end (ingest: read + extract to Parquet; MinHash signatures; near-duplicate
   clusters) over 1, 2, 4 and 8 shards: wall time, docs/s, MB/s, peak RSS of the JVMs and of the
   Python workers (sampled every 0.2 s), and the share of planted duplicates the clusters find.
3. Full size only: the same job on a standalone cluster on 127.0.0.1 with 1, then 2 workers of 1 core.

Printed as a table (docs/s, MB/s, ratio to the reference of the stage), written to OUTPUT/results.json,
logged as one run of the MLflow experiment `bench`. Measurements, not timed tests: nothing asserts speed.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import os
import platform
import shutil
import socket
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import mlflow
import psutil
from fastwarc.warc import ArchiveIterator, WarcRecordType
from pyspark.sql import functions as F
from warcio.archiveiterator import ArchiveIterator as WarcioIterator

from cc_sieve.filters import planting
from cc_sieve.filters.base import batch_of
from cc_sieve.filters.extract import html_to_text
from cc_sieve.filters.minhash import MinHashAnnotator
from cc_sieve.filters.pii import split_entities
from cc_sieve.filters.planting import TRUTH_FILE
from cc_sieve.filters.quality import C4Quality, FineWebQuality, GopherQuality, GopherRepetition
from cc_sieve.filters.resources import REPO_ROOT
from cc_sieve.filters.text import fixed_pieces
from cc_sieve.jobs.bench.adversarial import bench_adversarial, default_annotators
from cc_sieve.jobs.bench.annotate import PIECE_CHARS, bench_annotate_pass, pii_identity
from cc_sieve.jobs.bench.dedup import bench_dedup_stage, bench_minhash
from cc_sieve.jobs.bench.harm import bench_harm
from cc_sieve.jobs.bench.pii import bench_pii
from cc_sieve.jobs.bench.quality import bench_quality
from cc_sieve.jobs.bench.timing import Measurement, megabytes, ratio_table, timed
from cc_sieve.jobs.cluster.standalone import ClusterLayout, down, up, worker_pids
from cc_sieve.jobs.commands.parsers import command_parser
from cc_sieve.jobs.config.measurements import minhash_spec
from cc_sieve.jobs.config.presets import DedupConfig, load_benchmark_config
from cc_sieve.jobs.config.spark_conf import read_spark_conf
from cc_sieve.jobs.errors import run_command
from cc_sieve.jobs.generator import make_shards as make_shards_module
from cc_sieve.jobs.generator.make_shards import SUMMARY_FILE, ShardOptions, make_shards
from cc_sieve.jobs.reading.options import ReadOptions
from cc_sieve.jobs.reading.reader import ShardReport, read_shard
from cc_sieve.jobs.reading.sources import shard_opener
from cc_sieve.jobs.spark.annotate import annotate_documents
from cc_sieve.jobs.spark.dedup import near_duplicate_clusters
from cc_sieve.jobs.spark.ingest import run_ingest
from cc_sieve.jobs.spark.session import get_spark
from cc_sieve.jobs.tracking.runs import code_version, log_metrics, metric_name

SAMPLE_WARC = REPO_ROOT / "data" / "commoncrawl" / "CC-MAIN-2020-34" / "resiliparse-warcfile.warc.gz"
PILOT_DOCS = 200  # documents of the pilot shard that sizes the real ones
BENCH_SEED = 2024


@dataclass(frozen=True)
class BenchSizes:
    """How much of what: the default sizes, or the small ones `--quick` runs inside `make test`."""

    shard_mb: float
    shard_counts: tuple[int, ...]
    extract_docs: int
    pipeline_docs: int
    quality_docs: int
    stage_docs: int
    annotate_docs: int | None  # pages of shard 0 for the whole annotate pass (None: all)
    identity_pieces: int  # 2,000-character pieces on which PII findings are compared with Presidio's
    dedup_sizes: tuple[int, ...]
    warm_up: bool  # run the Spark job once, untimed, before measuring (quick runs only check it works)
    cluster: bool

    @classmethod
    def of(cls, quick: bool, shard_mb: float | None = None) -> BenchSizes:
        if quick:
            return cls(shard_mb or 1.5, (1, 2), 40, 20, 40, 100, 100, 100, (300,), False, False)
        return cls(shard_mb or 100.0, (1, 2, 4, 8), 400, 150, 300, 1000, None, 10_000, (10_000, 100_000), True, True)


# ---------------------------------------------------------------------------------------------
# Input shards

@dataclass
class BenchShards:
    folder: Path
    paths: list[Path]  # WARC shards in manifest order
    docs_per_shard: int
    generated_seconds: float | None  # None when reused

    @property
    def megabytes(self) -> list[float]:
        return [path.stat().st_size / 1e6 for path in self.paths]


def ensure_shards(folder: Path, shards: int, shard_mb: float) -> BenchShards:
    """WARC shards of about `shard_mb` MB made by make-shards, reused when the same request (and the same
    make-shards code) made them."""
    generator = hashlib.sha256(b"".join(Path(module.__file__).read_bytes() for module in (make_shards_module,
                                                                                           planting))).hexdigest()
    request = {"shards": shards, "shard_mb": shard_mb, "seed": BENCH_SEED, "generator": generator}
    request_file = folder / "bench-request.json"
    if request_file.is_file() and (folder / SUMMARY_FILE).is_file() and json.loads(request_file.read_text()) == request:
        summary = json.loads((folder / SUMMARY_FILE).read_text())
        paths = [folder / s["files"]["warc"]["path"] for s in summary["shards"]]
        if all(path.is_file() and path.stat().st_size == s["files"]["warc"]["bytes"]
               for path, s in zip(paths, summary["shards"], strict=True)):
            return BenchShards(folder, paths, summary["shards"][0]["documents"], None)
    started = time.perf_counter()
    shutil.rmtree(folder, ignore_errors=True)
    pilot = folder.parent / "pilot-shard"
    shutil.rmtree(pilot, ignore_errors=True)
    pilot_summary = make_shards(ShardOptions(output=str(pilot), docs=PILOT_DOCS, format="warc", seed=BENCH_SEED))
    bytes_per_doc = pilot_summary["bytes"]["warc"] / PILOT_DOCS
    shutil.rmtree(pilot)
    docs_per_shard = max(20, round(shard_mb * 1e6 / bytes_per_doc))
    summary = make_shards(ShardOptions(output=str(folder), docs=docs_per_shard * shards, shards=shards,
                                       format="warc", seed=BENCH_SEED))
    request_file.write_text(json.dumps(request))
    paths = [folder / s["files"]["warc"]["path"] for s in summary["shards"]]
    return BenchShards(folder, paths, docs_per_shard, time.perf_counter() - started)


def manifest_uris(shards: BenchShards, count: int) -> list[str]:
    return [str(path) for path in shards.paths[:count]]


# ---------------------------------------------------------------------------------------------
# One core, no Spark

def read_documents(path: Path, limit: int | None = None) -> list[dict]:
    report = ShardReport(str(path))
    documents = list(itertools.islice(read_shard(str(path), shard_opener(str(path)), report), limit))
    if report.failures:
        raise RuntimeError(f"{path}: {report.failures[0].message}")
    return documents


def bench_read(path: Path) -> tuple[list[Measurement], list[dict]]:
    """fastwarc's parse beside warcio's iteration, and cc-sieve's read + extract (whose documents the
    later stages use), each over the whole shard."""
    size_mb = path.stat().st_size / 1e6
    on = f"{path.name} ({size_mb:,.0f} MB), 1 core"

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
    for name, function, reference in [("fastwarc parse only", fastwarc_parse_only, False),
                                      ("warcio iteration", warcio_iteration, True)]:
        count, seconds = timed(function)
        results.append(Measurement("read", name, reference, count, size_mb, seconds, on))
    documents, seconds = timed(lambda: read_documents(path))
    results.append(Measurement("read+extract", "cc-sieve reader (fastwarc + resiliparse)", False, len(documents),
                               size_mb, seconds, on))
    return results, documents


def response_payloads(path: Path, limit: int) -> list[tuple[bytes, str | None]]:
    payloads = []
    with open(path, "rb") as stream:
        for record in ArchiveIterator(stream, record_types=WarcRecordType.response, parse_http=True):
            payloads.append((record.reader.read(), record.http_charset))
            if len(payloads) >= limit:
                break
    return payloads


def bench_extract(path: Path, limit: int) -> list[Measurement]:
    """HTML -> text on the same pages: resiliparse (cc-sieve) and trafilatura as datatrove's extractor calls it."""
    from datatrove.pipeline.extractors import Trafilatura

    payloads = response_payloads(path, limit)
    size_mb = sum(len(payload) for payload, _ in payloads) / 1e6
    on = f"first {len(payloads):,} pages of {path.name}, 1 core"
    _, ours = timed(lambda: [html_to_text(payload, charset) for payload, charset in payloads])
    extractor = Trafilatura(favour_precision=True)
    pages = [payload.decode("utf-8", "replace") for payload, _ in payloads]
    _, reference = timed(lambda: [extractor.extract(page) for page in pages])
    return [Measurement("extract", "resiliparse main content (cc-sieve)", False, len(payloads), size_mb, ours, on),
            Measurement("extract", "trafilatura (datatrove's extractor)", True, len(payloads), size_mb, reference, on)]


def identity_pieces(shards: BenchShards, first: list[dict], count: int) -> list[str]:
    """`count` pieces of PIECE_CHARS characters of the bench pages: shard 0's, then the next shards' as needed."""
    pieces = fixed_pieces([d["text"] or "" for d in first], PIECE_CHARS)
    for path in shards.paths[1:]:
        if len(pieces) >= count:
            break
        pieces += fixed_pieces([d["text"] or "" for d in read_documents(path)], PIECE_CHARS)
    return pieces[:count]


def quality_annotators() -> list:
    return [GopherRepetition(), GopherQuality(), C4Quality(variants=("datatrove",)), FineWebQuality()]




def bench_pipeline(path: Path, limit: int, work: Path) -> list[Measurement]:
    """datatrove's pipeline (WarcReader, Trafilatura, Gopher repetition + quality, C4, FineWeb filters,
    MinhashDedupSignature; one task, one worker) beside cc-sieve's reader, the same rules and MinHash
    signatures on the first `limit` documents of the same shard. datatrove drops a document at its first
    failing filter, so its later steps see fewer documents; cc-sieve computes every signal of every one."""
    from datatrove.executor import LocalPipelineExecutor
    from datatrove.pipeline.dedup import MinhashDedupSignature
    from datatrove.pipeline.dedup.minhash import MinhashConfig
    from datatrove.pipeline.extractors import Trafilatura
    from datatrove.pipeline.filters import (
        C4QualityFilter,
        FineWebQualityFilter,
        GopherQualityFilter,
        GopherRepetitionFilter,
    )
    from datatrove.pipeline.readers import WarcReader

    annotators = quality_annotators() + [MinHashAnnotator()]

    def ours() -> list[dict]:
        documents = read_documents(path, limit)
        for start in range(0, len(documents), 256):
            batch = batch_of(documents[start:start + 256])
            for annotator in annotators:
                annotator.annotate(batch)
        return documents

    documents, our_seconds = timed(ours)
    size_mb = megabytes(d["text"] for d in documents)
    shutil.rmtree(work, ignore_errors=True)
    executor = LocalPipelineExecutor(pipeline=[
        WarcReader(str(path.parent), glob_pattern=path.name, limit=limit),
        Trafilatura(favour_precision=True), GopherRepetitionFilter(), GopherQualityFilter(), C4QualityFilter(),
        FineWebQualityFilter(), MinhashDedupSignature(output_folder=str(work / "signatures"),
                                                      config=MinhashConfig(n_grams=5, num_buckets=14,
                                                                           hashes_per_bucket=8))],
        tasks=1, workers=1, logging_dir=str(work / "logs"))
    _, reference_seconds = timed(executor.run)
    on = f"first {len(documents):,} documents of {path.name}, 1 core"
    return [Measurement("pipeline", "cc-sieve reader + quality rules + MinHash", False, len(documents), size_mb,
                        our_seconds, on),
            Measurement("pipeline", "datatrove WarcReader..MinhashDedupSignature", True, len(documents), size_mb,
                        reference_seconds, on)]


def bench_quality_rules(documents: list[dict]) -> list[Measurement]:
    result = bench_quality(documents)
    size_mb = result["megabytes"]
    on = f"{len(documents):,} documents of shard 0, 1 core"
    ours = result["ours"]
    return [Measurement("quality", "cc-sieve Gopher+C4+FineWeb+URL+bad words", False, len(documents), size_mb,
                        ours["seconds"], on),
            Measurement("quality", "cc-sieve, second pass (tokens cached)", False, len(documents), size_mb,
                        len(documents) / ours["docs_per_second_second_pass"], on),
            Measurement("quality", "datatrove Gopher+C4+FineWeb+URL filters", True, len(documents), size_mb,
                        result["datatrove"]["seconds"], on)]


# ---------------------------------------------------------------------------------------------
# Spark

class PeakMemory:
    """Peak RSS of the JVMs and of the Python workers under `roots` (pids), sampled every `interval` s."""

    def __init__(self, roots: list[int], interval: float = 0.2):
        self.roots = roots
        self.interval = interval
        self.jvm_mb = 0.0
        self.python_mb = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def sample(self) -> None:
        jvm = python = 0
        for root in self.roots:
            try:
                processes = [psutil.Process(root), *psutil.Process(root).children(recursive=True)]
            except psutil.NoSuchProcess:
                continue
            for process in processes:
                try:
                    name, rss = process.name(), process.memory_info().rss
                except psutil.NoSuchProcess:
                    continue
                if name == "java":
                    jvm += rss
                elif name.startswith("python"):
                    python += rss
        self.jvm_mb = max(self.jvm_mb, jvm / 1e6)
        self.python_mb = max(self.python_mb, python / 1e6)

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self.sample()

    def __enter__(self) -> PeakMemory:
        self.sample()
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()
        self.sample()


def driver_jvm_pids() -> list[int]:
    """The JVM(s) this Python process started (the Spark driver)."""
    return [p.pid for p in psutil.Process().children() if p.name() == "java"]


@dataclass
class SparkRun:
    label: str
    shards: int
    documents: int
    megabytes: float
    seconds: float
    stage_seconds: dict[str, float]
    peak_jvm_mb: float
    peak_python_mb: float
    clusters: list[dict] = field(default_factory=list)  # doc_id, cluster_id of planted documents


def spark_job(spark, uris: list[str], work: Path,
              planted: set[str] | None) -> tuple[int, dict[str, float], list[dict]]:
    """The cheap stages as the benchmark runs them: ingest (read + extract -> Parquet), MinHash signatures
    (annotate pass) and, given the `planted` documents to report on, near-duplicate clusters.
    Returns (documents, seconds per stage, the clusters of the planted documents)."""
    shutil.rmtree(work, ignore_errors=True)
    seconds: dict[str, float] = {}
    summary, seconds["ingest"] = timed(lambda: run_ingest(spark, uris, str(work / "ingest"), ReadOptions(),
                                                          resume=False))
    if summary.failures:
        raise RuntimeError(f"bench: {summary.failures} shard failures reading {uris}")

    documents = spark.read.parquet(str(work / "ingest" / "documents"))
    started = time.perf_counter()
    annotations, _ = annotate_documents(spark, documents, [minhash_spec(DedupConfig())])
    annotations.write.mode("overwrite").parquet(str(work / "annotations"))
    seconds["minhash"] = time.perf_counter() - started
    if planted is None:
        return summary.documents, seconds, []
    started = time.perf_counter()
    clusters = near_duplicate_clusters(spark.read.parquet(str(work / "annotations")),
                                       checkpoint_dir=str(work / "checkpoints"))
    clusters.write.mode("overwrite").parquet(str(work / "clusters"))
    seconds["dedup"] = time.perf_counter() - started
    table = spark.read.parquet(str(work / "clusters"))
    wanted = spark.createDataFrame([(doc_id,) for doc_id in sorted(planted)] or [("",)], "doc_id string")
    rows = table.join(F.broadcast(wanted), "doc_id").select("doc_id", "cluster_id").collect()
    return summary.documents, seconds, [row.asDict() for row in rows]


def warm_up(spark, work: Path, clusters: bool) -> None:
    """The job once, untimed, on the bundled 16-page sample: starts the Python workers, loads their
    modules and compiles the plans, so the first measured run does not pay for it."""
    _, seconds = timed(lambda: spark_job(spark, [str(SAMPLE_WARC)], work, set() if clusters else None))
    print(f"[bench] warm-up on {SAMPLE_WARC.name}: {seconds:.1f} s")


def measured_run(spark, label: str, shards: BenchShards, count: int, work: Path, roots: list[int],
                 planted: set[str] | None) -> SparkRun:
    uris = manifest_uris(shards, count)
    with PeakMemory(roots) as memory:
        (documents, stage_seconds, clusters), seconds = timed(lambda: spark_job(spark, uris, work, planted))
    megabytes = sum(shards.megabytes[:count])
    print(f"[bench] {label}: {count} shard(s), {documents:,} documents in {seconds:.1f} s "
          f"(JVM peak {memory.jvm_mb:,.0f} MB, Python workers peak {memory.python_mb:,.0f} MB)")
    return SparkRun(label, count, documents, megabytes, seconds, stage_seconds, memory.jvm_mb, memory.python_mb,
                    clusters)


def planted_pairs(folder: Path) -> list[dict]:
    """Planted duplicate rows (WARC ids) of the bench shards' truth.jsonl."""
    rows = [json.loads(line) for line in (folder / TRUTH_FILE).read_text().splitlines()]
    return [r for r in rows if r["format"] == "warc" and ("near_dup_of" in r or "exact_dup_of" in r)]


def duplicates_found(pairs: list[dict], clusters: list[dict], shard_paths: set[str]) -> dict[str, float]:
    """Share of planted duplicates put in one cluster with their original, per kind and Jaccard level."""
    cluster_of = {row["doc_id"]: row["cluster_id"] for row in clusters}
    groups: dict[str, list[bool]] = {}
    for pair in pairs:
        if pair["shard"] not in shard_paths:
            continue
        original = pair.get("near_dup_of") or pair["exact_dup_of"]
        key = f"near_dup_{pair['jaccard_target']}" if "near_dup_of" in pair else "exact_dup"
        found = cluster_of.get(pair["doc_id"]) is not None and cluster_of.get(pair["doc_id"]) == cluster_of.get(
            original)
        groups.setdefault(key, []).append(found)
    return {f"found_share.{key}": sum(values) / len(values) for key, values in sorted(groups.items())}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def bench_spark(shards: BenchShards, sizes: BenchSizes, out: Path) -> tuple[list[SparkRun], list[SparkRun],
                                                                           list[Measurement], dict]:
    """local[2] over 1..8 shards, the dedup stage bench, then (full size) a standalone cluster of 1 and 2 workers."""
    pairs = planted_pairs(shards.folder)
    planted = {p["doc_id"] for p in pairs} | {p.get("near_dup_of") or p["exact_dup_of"] for p in pairs}
    spark = get_spark("cc-sieve bench", master="local[2]")
    if sizes.warm_up:
        warm_up(spark, out / "work" / "warm-up", clusters=True)
    roots = driver_jvm_pids()
    local_runs = [measured_run(spark, "local[2]", shards, count, out / "work" / f"local-{count}", roots, planted)
                  for count in sizes.shard_counts]

    extra = bench_dedup_stage(spark, sizes.dedup_sizes)
    spark.stop()
    largest = local_runs[-1]
    shard_paths = {str(path.relative_to(shards.folder)) for path in shards.paths[:largest.shards]}
    found = duplicates_found(pairs, largest.clusters, shard_paths) if largest.clusters else {}
    cluster_runs = bench_cluster(shards, out) if sizes.cluster else []
    return local_runs, cluster_runs, extra, found


def bench_cluster(shards: BenchShards, out: Path) -> list[SparkRun]:
    """Ingest + MinHash (the per-document work, which spreads over executors; the clustering is a small
    shuffle) on every shard, on a standalone cluster on 127.0.0.1 with 1, then 2 workers of 1 core."""
    layout = ClusterLayout(home=out / "cluster", port=free_port(), webui_port=free_port())
    runs = []
    try:
        for workers in (1, 2):
            up(layout, workers=workers, cores=1, memory="2g")
            spark = get_spark("cc-sieve bench cluster", master=layout.master_url,
                              overrides={**read_spark_conf(layout.auth_file),  # the cluster's secret
                                         "spark.driver.host": "127.0.0.1", "spark.driver.bindAddress": "127.0.0.1"})
            warm_up(spark, out / "work" / "warm-up", clusters=False)
            roots = driver_jvm_pids() + list(worker_pids(layout).values())
            runs.append(measured_run(spark, f"standalone, {workers} worker(s) x 1 core", shards, len(shards.paths),
                                     out / "work" / f"cluster-{workers}", roots, None))
            spark.stop()
    finally:
        down(layout)
    return runs


def run_measurements(runs: list[SparkRun], stage: str) -> list[Measurement]:
    """Rows for the table; the first run is the stage's reference (1 shard, or 1 worker)."""
    return [Measurement(stage, f"{run.label}, {run.shards} shard(s)", index == 0, run.documents, run.megabytes,
                        run.seconds, f"{run.shards} shard(s): {' + '.join(run.stage_seconds)}, wall time",
                        run.peak_python_mb, run.peak_jvm_mb)
            for index, run in enumerate(runs)]


# ---------------------------------------------------------------------------------------------
# Report

def scaling_lines(local_runs: list[SparkRun], cluster_runs: list[SparkRun]) -> str:
    """How wall time grows with the shards (local) and shrinks with the workers (cluster)."""
    lines = []
    if local_runs:
        first = local_runs[0]
        lines.append(f"time growth, {first.label} (one task per shard, so 1 shard keeps one core busy): " + ", ".join(
            f"{run.shards} shard(s) {run.seconds:.0f} s (x{run.seconds / first.seconds:.2f} time for "
            f"x{run.shards / first.shards:g} data)" for run in local_runs))
    if len(cluster_runs) == 2:
        one, two = cluster_runs
        lines.append(f"cluster scaling, {one.shards} shards: 1 worker {one.seconds:.0f} s, "
                     f"2 workers {two.seconds:.0f} s (x{one.seconds / two.seconds:.2f} faster)")
    return "\n".join(lines)


def log_to_mlflow(measurements: list[Measurement], results: dict, results_path: Path, table: str,
                  tracking_uri: str | None, quick: bool) -> str:
    """One run in the `bench` experiment: docs/s, MB/s, ratios, peak memory, scaling and planted-duplicate recall."""
    if tracking_uri:
        mlflow.set_tracking_uri(tracking_uri)
    mlflow.set_experiment("bench")
    with mlflow.start_run(run_name="bench-quick" if quick else "bench") as run:
        shards = results["shards"]
        mlflow.log_params({"code_version": code_version(), "quick": str(quick), "cpus": str(os.cpu_count()),
                           "shard_mb": str(results["sizes"]["shard_mb"]), "shards": str(len(shards["megabytes"])),
                           "docs_per_shard": str(shards["docs_per_shard"])})
        metrics = {}
        for m in measurements:
            key = metric_name(f"{m.stage}.{m.implementation}")
            metrics[f"{key}.docs_per_s"] = m.docs_per_second
            metrics[f"{key}.mb_per_s"] = m.mb_per_second
            metrics[f"{key}.seconds"] = m.seconds
            for name in ("peak_python_mb", "peak_jvm_mb"):
                if getattr(m, name) is not None:
                    metrics[f"{key}.{name}"] = getattr(m, name)
        for section in ("scaling", "cluster"):
            for row in results[section]:
                prefix = f"{section}.{row['shards']}_shards" if section == "scaling" else f"cluster.{row['label']}"
                metrics[metric_name(f"{prefix}.seconds")] = row["seconds"]
        metrics.update({f"dedup_truth.{k}": v for k, v in results["dedup_truth"].items()})
        log_metrics(metrics)
        mlflow.log_artifact(str(results_path))
        mlflow.log_text(table, "ratio_table.txt")
        return run.info.run_id


def main(argv: list[str] | None = None) -> int:
    parser = command_parser("cc-sieve bench", __doc__)
    parser.add_argument("--output", default="build/bench", help="folder for the shards, work files and results.json")
    parser.add_argument("--quick", action="store_true", help="small sizes (runs inside make test)")
    parser.add_argument("--shard-mb", type=float, help="size of each shard (default 100, quick 1.5)")
    parser.add_argument("--no-spark", action="store_true", help="single-core stages only")
    parser.add_argument("--tracking-uri", help="MLflow tracking URI (default: sqlite:///mlflow.db here)")
    args = parser.parse_args(argv)
    sizes = BenchSizes.of(args.quick, args.shard_mb)
    out = Path(args.output).resolve()
    shards = ensure_shards(out / "shards", max(sizes.shard_counts), sizes.shard_mb)
    made = (f"made in {shards.generated_seconds:.0f} s" if shards.generated_seconds is not None else "reused")
    print(f"[bench] {len(shards.paths)} shards of {shards.docs_per_shard:,} documents "
          f"({', '.join(f'{mb:.1f}' for mb in shards.megabytes)} MB), {made}")
    first = shards.paths[0]
    measurements: list[Measurement] = []
    documents: list[dict] = []

    def stage(name: str, function: Callable[[], list[Measurement]]) -> None:
        rows, seconds = timed(function)
        print(f"[bench] {name}: {seconds:.1f} s")
        measurements.extend(rows)

    def read() -> list[Measurement]:
        rows, shard_documents = bench_read(first)
        documents.extend(shard_documents)
        return rows

    stage("read", read)
    stage("extract", lambda: bench_extract(first, sizes.extract_docs))
    stage("pipeline", lambda: bench_pipeline(first, sizes.pipeline_docs, out / "work" / "datatrove"))
    stage("quality", lambda: bench_quality_rules(documents[:sizes.quality_docs]))
    annotators = default_annotators()
    stage("annotate", lambda: bench_annotate_pass(documents[:sizes.annotate_docs], annotators)[0])
    pii = load_benchmark_config().pii  # the types regex mode searches on every document (not the NER sample's)
    stage("pii-identity", lambda: pii_identity(identity_pieces(shards, documents, sizes.identity_pieces),
                                               split_entities(pii.mode, pii.entities, pii.ner_sample)[0],
                                               pii.score_threshold,
                                               [d["text"] for d in documents[:sizes.annotate_docs] if d["text"]])[0])
    stage("adversarial", lambda: bench_adversarial(documents[:100], annotators)[0])
    texts = [d["text"] for d in documents[:sizes.stage_docs]]

    for name, function in [("harm", lambda: bench_harm(texts)), ("pii", lambda: bench_pii(texts, args.quick)),
                           ("minhash", lambda: bench_minhash(texts))]:
        stage(name, lambda function=function: [
            replace(row, on=row.on or f"{len(texts):,} documents of shard 0, 1 core") for row in function()])
    local_runs, cluster_runs, found = [], [], {}
    if not args.no_spark:
        (local_runs, cluster_runs, extra, found), seconds = timed(lambda: bench_spark(shards, sizes, out))
        print(f"[bench] spark: {seconds:.1f} s")
        measurements += extra + run_measurements(local_runs, "spark e2e") + run_measurements(cluster_runs, "cluster")
    table = ratio_table(measurements)
    growth = scaling_lines(local_runs, cluster_runs)
    print(table)
    if growth:
        print(growth)
    if found:
        print("planted duplicates found by the clusters: " + ", ".join(f"{k[12:]} {v:.0%}" for k, v in found.items()))
    results = {
        "machine": {"python": platform.python_version(), "platform": platform.platform(), "cpus": os.cpu_count()},
        "quick": args.quick, "sizes": asdict(sizes),
        "shards": {"folder": str(shards.folder), "docs_per_shard": shards.docs_per_shard,
                   "megabytes": shards.megabytes, "generated_seconds": shards.generated_seconds},
        "measurements": [m.as_dict() for m in measurements],
        "scaling": [{k: v for k, v in asdict(run).items() if k != "clusters"} for run in local_runs],
        "cluster": [{k: v for k, v in asdict(run).items() if k != "clusters"} for run in cluster_runs],
        "dedup_truth": found,
    }
    results_path = out / "results.json"
    results_path.write_text(json.dumps(results, indent=2))
    run_id = log_to_mlflow(measurements, results, results_path, table + "\n" + growth, args.tracking_uri, args.quick)
    print(f"results: {results_path}; MLflow run {run_id} (experiment 'bench')")
    return 0


if __name__ == "__main__":
    sys.exit(run_command(main, prog="cc-sieve bench"))
