"""Near-duplicate detection: planted truth, accuracy against exact Jaccard, and throughput.

`planted_corpus(docs)` takes real documents, keeps those with enough words that share little
with each other, and adds copies edited (words replaced by fresh ones or deleted at random
places) to word 5-gram Jaccard levels from 0.5 to 1.0 against their original; the exact Jaccard
of every pair of a family is computed from `cc_sieve.filters.minhash.shingles`. `pairwise_scores` compares
predicted clusters with the truth components (documents linked by exact Jaccard >= a threshold):
precision and recall over the pairs of documents put in one cluster.

`bench_minhash(texts)` times signatures on one core: cc-sieve's vectorised MinHasher (default
shingle hash, and datasketch's sha1) beside datasketch 2.0's `MinHash.bulk` and `update_batch`
on the same shingles, and rensa's Rust RMinHash (both are given the shingles: their time excludes
normalising and shingling). `bench_dedup_stage(spark, sizes)` times the Spark clustering (jobs/dedup.py) on
synthetic corpora of real paragraphs with planted near-duplicates. Nothing here asserts speed.

    python -m cc_sieve.jobs.bench.dedup [--quick]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import pyarrow as pa
from pyspark.sql.pandas.types import from_arrow_schema

from cc_sieve.filters.minhash import MinHashAnnotator, MinHasher, shingles
from cc_sieve.jobs.bench.quality import sample_documents
from cc_sieve.jobs.bench.timing import Measurement, cpu_timed, megabytes, ratio_table, timed
from cc_sieve.jobs.errors import run_command
from cc_sieve.jobs.spark.dedup import dedup_summary, near_duplicate_clusters
from cc_sieve.jobs.spark.session import get_spark

OUR_REPEATS = 3  # cc-sieve's pass takes ~0.1 s on 1,000 documents: the best of a few is a steadier figure


# ---------------------------------------------------------------------------------------------
# Throughput



def bench_minhash(texts: list[str], num_perm: int = 112) -> list[Measurement]:
    """Signatures of the same texts on one core: cc-sieve (default hash; datasketch's sha1), datasketch 2.0
    (`MinHash.bulk`, `update_batch`) given the UTF-8 shingles ready-made, and rensa's Rust `RMinHash` given the
    same shingles (a speed reference: its signatures are not datasketch's)."""
    from datasketch import MinHash
    from rensa import RMinHash

    size = megabytes(texts)
    shingle_lists = [list(shingles(text)) for text in texts]
    shingled = [[shingle.encode("utf-8", "surrogatepass") for shingle in text_shingles]
                for text_shingles in shingle_lists]
    results = []
    for hashfunc in ("poly64", "sha1"):
        hasher = MinHasher(num_perm=num_perm, hashfunc=hashfunc)
        hasher.signatures(texts[:10])  # builds the per-process tables, as a worker does once
        seconds = min(cpu_timed(lambda hasher=hasher: hasher.signatures(texts))[1] for _ in range(OUR_REPEATS))
        name = "cc-sieve MinHasher (numpy" + (", sha1 shingle hash)" if hashfunc == "sha1" else ")")
        results.append(Measurement("minhash", name, False, len(texts), size, seconds,
                                   f"{len(texts):,} documents, 1 core, best of {OUR_REPEATS}, CPU seconds"))

    def update_batch() -> None:
        for encoded in shingled:
            MinHash(num_perm=num_perm).update_batch(encoded)

    on = f"{len(texts):,} documents, 1 core, CPU seconds"
    _, seconds = cpu_timed(lambda: MinHash.bulk(shingled, num_perm=num_perm))
    results.append(Measurement("minhash", "datasketch MinHash.bulk (shingles given)", True, len(texts), size, seconds,
                               on))
    _, seconds = cpu_timed(update_batch)
    results.append(Measurement("minhash", "datasketch update_batch (shingles given)", True, len(texts), size,
                               seconds, on))

    def rensa_signatures() -> None:
        for text_shingles in shingle_lists:
            signature = RMinHash(num_perm=num_perm, seed=1)
            signature.update(text_shingles)
            signature.digest()

    _, seconds = cpu_timed(rensa_signatures)
    results.append(Measurement("minhash", "rensa RMinHash, Rust (shingles given)", False, len(texts), size,
                               seconds, on))
    return results


def paragraph_pool(docs: list[dict]) -> list[str]:
    """Distinct lines of at least 8 words of the real documents, in a stable order."""
    return sorted({line.strip() for doc in docs for line in (doc["text"] or "").splitlines()
                   if len(line.split()) >= 8})


def synthetic_text(pool: list[str], index: int, seed: int) -> str:
    """3 to 12 lines of the pool drawn by the document's index: two documents rarely share much."""
    rng = np.random.default_rng([seed, index])
    return "\n".join(pool[i] for i in rng.choice(len(pool), size=int(rng.integers(3, 13)), replace=False))


def synthetic_annotations(spark, pool: list[str], size: int, near_duplicate_share: float = 0.1, seed: int = 0):
    """A DataFrame of `size` documents' dedup annotations (doc_id, text_chars, crawl_id, source_shard,
    fetch_date, minhash_signature, minhash_bands, exact_hash) made in the executors: every tenth document
    (by default) is a copy of another with 1-5 % of its words replaced, the rest are drawn from `pool`."""
    every = max(int(round(1 / near_duplicate_share)), 2) if near_duplicate_share else size + 1
    fields = [pa.field("doc_id", pa.string()), pa.field("text_chars", pa.int64()), pa.field("crawl_id", pa.string()),
              pa.field("source_shard", pa.string()), pa.field("fetch_date", pa.timestamp("us", tz="UTC"))]
    schema = pa.schema(fields + MinHashAnnotator().schema())

    def text_of(index: int) -> str:
        if index % every != every - 1:
            return synthetic_text(pool, index, seed)
        rng = np.random.default_rng([seed, index, 1])
        words = synthetic_text(pool, int(rng.integers(0, index)) if index else 0, seed).split(" ")
        replaced = rng.random(len(words)) < rng.uniform(0.01, 0.05)
        return " ".join(f"w{rng.integers(1 << 30)}" if r else word for word, r in zip(words, replaced, strict=True))

    def make(batches):
        annotator = MinHashAnnotator()
        for batch in batches:
            indexes = batch.column("id").to_pylist()
            texts = [text_of(i) for i in indexes]
            columns = {"doc_id": [f"doc-{i:09d}" for i in indexes], "text_chars": [len(t) for t in texts],
                       "crawl_id": ["CC-MAIN-2019-30"] * len(texts),
                       "source_shard": [f"shard-{i % 8}" for i in indexes], "fetch_date": [None] * len(texts)}
            columns.update(annotator.annotate({"text": texts}))
            yield pa.RecordBatch.from_pydict(columns, schema=schema)

    return spark.range(size, numPartitions=max(2, size // 20_000)).mapInArrow(make, from_arrow_schema(schema))


def bench_dedup_stage(spark, sizes: list[int], work: str | Path = "build/bench/work/dedup",
                      verify_threshold: float | None = 0.75) -> list[Measurement]:
    """Spark time of the dedup stage (near_duplicate_clusters, written as Parquet) at each size, on synthetic
    annotations (made and written first, timed apart as the signature pass)."""
    pool = paragraph_pool(sample_documents())
    master = spark.sparkContext.master
    results = []
    for size in sizes:
        folder = Path(work) / f"{size}"
        _, seconds = timed(lambda folder=folder, size=size: synthetic_annotations(spark, pool, size).write.mode(
            "overwrite").parquet(str(folder / "annotations")))
        results.append(Measurement("dedup", f"synthesise + MinHashAnnotator, {size:,} docs", False, size, 0.0,
                                   seconds, on=f"Spark {master}"))
        annotations = spark.read.parquet(str(folder / "annotations"))

        def cluster(folder=folder, annotations=annotations) -> None:
            clusters = near_duplicate_clusters(annotations, verify_threshold=verify_threshold,
                                               checkpoint_dir=str(folder / "checkpoints"))
            clusters.write.mode("overwrite").parquet(str(folder / "clusters"))

        _, seconds = timed(cluster)
        summary = dedup_summary(spark.read.parquet(str(folder / "clusters")))
        print(f"[bench_dedup] {size:,} documents: {summary['clusters']:,.0f} clusters, "
              f"{summary['duplicates']:,.0f} duplicates, clustered in {seconds:.1f} s")
        results.append(Measurement("dedup", f"near-duplicate clusters (verify {verify_threshold}), {size:,} docs",
                                   False, size, 0.0, seconds, on=f"Spark {master}"))
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m cc_sieve.jobs.bench.dedup", description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="100000,400000", help="document counts of the Spark dedup stage")
    parser.add_argument("--repeat", type=int, default=5, help="times the 697 sample texts are repeated (minhash)")
    parser.add_argument("--output", default="build/bench/work/dedup")
    args = parser.parse_args(argv)
    texts = [doc["text"] for doc in sample_documents()] * args.repeat
    measurements = bench_minhash(texts)
    print(ratio_table(measurements))
    spark = get_spark("cc-sieve bench_dedup", master="local[2]")
    measurements += bench_dedup_stage(spark, [int(size) for size in args.sizes.split(",")], args.output)
    print(ratio_table(measurements))
    return 0


if __name__ == "__main__":
    sys.exit(run_command(main, prog="python -m cc_sieve.jobs.bench.dedup"))
