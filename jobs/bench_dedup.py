"""Near-duplicate detection: planted truth, accuracy against exact Jaccard, and throughput.

`planted_corpus(docs)` takes real documents, keeps those with enough words that share little
with each other, and adds copies edited (words replaced by fresh ones or deleted at random
places) to word 5-gram Jaccard levels from 0.5 to 1.0 against their original; the exact Jaccard
of every pair of a family is computed from `filters.minhash.shingles`. `pairwise_scores` compares
predicted clusters with the truth components (documents linked by exact Jaccard >= a threshold):
precision and recall over the pairs of documents put in one cluster.

`bench_minhash(texts)` times signatures on one core: cc-sieve's vectorised MinHasher (default
shingle hash, and datasketch's sha1) beside datasketch 2.0's `MinHash.bulk` and `update_batch`
on the same shingles (datasketch is given the shingles: its time excludes normalising and
shingling). `bench_dedup_stage(spark, sizes)` times the Spark clustering (jobs/dedup.py) on
synthetic corpora of real paragraphs with planted near-duplicates. Nothing here asserts speed.

    python -m jobs.bench_dedup [--quick]
"""

from __future__ import annotations

import argparse
import sys
from collections import defaultdict
from dataclasses import dataclass
from itertools import combinations
from pathlib import Path

import numpy as np

from filters.minhash import MinHasher, normalize, shingles
from jobs.bench import Measurement, cpu_timed, timed

LEVELS = (0.5, 0.6, 0.7, 0.8, 0.9, 1.0)
MIN_WORDS = 100  # enough shingles for an edit count to land within ~0.01 of a level
MAX_WORDS = 2000  # keeps the exact Jaccard of every pair of a family cheap to compute
MAX_SHARED = 0.3  # originals whose Jaccard with an earlier one reaches this are left out
OUR_REPEATS = 3  # cc-sieve's pass takes ~0.1 s on 1,000 documents: the best of a few is a steadier figure


@dataclass(frozen=True)
class PlantedDocument:
    doc_id: str
    text: str
    family: str  # the original's doc_id
    level: float | None  # the targeted Jaccard (None for the original)
    jaccard: float  # exact Jaccard of word 5-gram sets with the original (1.0 for the original)


def jaccard(first: set, second: set) -> float:
    union = len(first | second)
    return len(first & second) / union if union else 1.0


def word_shingles(words: list[str], ngram: int = 5) -> set[tuple[str, ...]]:
    if len(words) <= ngram:
        return {tuple(words)} if words else set()
    return set(zip(*(words[i:] for i in range(ngram)), strict=False))


def shingle_keys(ids: np.ndarray, ngram: int = 5) -> np.ndarray:
    """Sorted distinct 64-bit keys of the word n-grams of a word-id sequence (a stand-in for the
    shingle set while searching for an edit count; the Jaccard kept is recomputed exactly)."""
    if len(ids) <= ngram:
        ngram = len(ids)
    keys = np.zeros(len(ids) - ngram + 1, dtype=np.uint64)
    for offset in range(ngram):
        keys = keys * np.uint64(0x9E3779B97F4A7C15) + ids[offset:len(ids) - ngram + 1 + offset] + np.uint64(1)
    keys.sort()
    return keys[np.concatenate(([True], keys[1:] != keys[:-1]))] if len(ids) else keys[:0]


def key_jaccard(first: np.ndarray, second: np.ndarray) -> float:
    shared = len(np.intersect1d(first, second, assume_unique=True))
    union = len(first) + len(second) - shared
    return shared / union if union else 1.0


def edited_words(words: list[str], target: float, rng: np.random.Generator, delete_share: float = 0.3) -> list[str]:
    """`words` with the fewest edits of a random plan (replace by a fresh word, or delete) that bring the
    word 5-gram Jaccard with the original down to `target`, or one edit fewer when that lands closer."""
    vocabulary: dict[str, int] = {}
    ids = np.array([vocabulary.setdefault(word, len(vocabulary)) for word in words], dtype=np.uint64)
    original = shingle_keys(ids)
    order = rng.permutation(len(words))
    deleted = rng.random(len(words)) < delete_share
    fresh_ids = np.arange(len(vocabulary), len(vocabulary) + len(words), dtype=np.uint64)

    def after(edits: int) -> np.ndarray:
        edited = ids.copy()
        edited[order[:edits]] = fresh_ids[:edits]
        keep = np.ones(len(words), dtype=bool)
        keep[order[:edits][deleted[:edits]]] = False
        return edited[keep]

    low, high = 0, len(words)
    while low < high:  # smallest edit count whose Jaccard is at most the target
        middle = (low + high) // 2
        if key_jaccard(original, shingle_keys(after(middle))) <= target:
            high = middle
        else:
            low = middle + 1
    edits = min({max(low - 1, 0), low},
                key=lambda count: (abs(key_jaccard(original, shingle_keys(after(count))) - target), count))
    fresh = {int(i): f"x{int(i)}{rng.integers(1 << 40):010x}" for i in fresh_ids[:edits]}
    inverse = list(vocabulary)
    return [inverse[i] if i < len(inverse) else fresh[i] for i in after(edits).tolist()]


def dissimilar_originals(docs: list[dict], max_shared: float = MAX_SHARED) -> list[dict]:
    """Documents of MIN_WORDS to MAX_WORDS words, skipping any that shares `max_shared` Jaccard with one kept."""
    kept: list[dict] = []
    index: dict[str, list[int]] = defaultdict(list)  # shingle -> kept positions
    sets: list[set] = []
    for doc in docs:
        words = normalize(doc["text"]).split()
        if not MIN_WORDS <= len(words) <= MAX_WORDS:
            continue
        own = word_shingles(words)
        shared: dict[int, int] = defaultdict(int)
        for shingle in own:
            for position in index.get(shingle, ()):
                shared[position] += 1
        if any(count / len(own | sets[p]) >= max_shared for p, count in shared.items()):
            continue
        for shingle in own:
            index[shingle].append(len(kept))
        kept.append(doc)
        sets.append(own)
    return kept


def planted_corpus(docs: list[dict], levels: tuple[float, ...] = LEVELS, seed: int = 0) -> list[PlantedDocument]:
    """Dissimilar real originals, each followed by one edited copy per level. A copy's text is its
    normalised words, so its word 5-grams are exactly `shingles(text)`."""
    rng = np.random.default_rng(seed)
    planted = []
    for doc in dissimilar_originals(docs):
        words = normalize(doc["text"]).split()
        own = word_shingles(words)
        planted.append(PlantedDocument(doc["doc_id"], doc["text"], doc["doc_id"], None, 1.0))
        for level in levels:
            copy = edited_words(words, level, rng)
            planted.append(PlantedDocument(f"{doc['doc_id']}~{level:.2f}", " ".join(copy), doc["doc_id"], level,
                                           jaccard(own, word_shingles(copy))))
    return planted


def truth_components(planted: list[PlantedDocument], threshold: float) -> dict[str, str]:
    """doc_id -> smallest doc_id of its component when documents of one family are linked by exact
    Jaccard >= threshold (originals share less than MAX_SHARED, so families never link)."""
    parent = {doc.doc_id: doc.doc_id for doc in planted}

    def root(node: str) -> str:
        while parent[node] != node:
            parent[node] = parent[parent[node]]
            node = parent[node]
        return node

    families: dict[str, list[PlantedDocument]] = defaultdict(list)
    for doc in planted:
        families[doc.family].append(doc)
    for members in families.values():
        sets = {doc.doc_id: word_shingles(normalize(doc.text).split()) for doc in members}
        for first, second in combinations(members, 2):
            if jaccard(sets[first.doc_id], sets[second.doc_id]) >= threshold:
                low, high = sorted((root(first.doc_id), root(second.doc_id)))
                parent[high] = low
    return {doc.doc_id: root(doc.doc_id) for doc in planted}


def planted_pair_scores(planted: list[PlantedDocument], clusters: dict[str, str], threshold: float,
                        ) -> dict[str, float]:
    """Precision, recall, F1 over (original, copy) pairs: found when both share a cluster, a true
    duplicate when their exact Jaccard reaches `threshold`."""
    copies = [doc for doc in planted if doc.level is not None]
    found = [clusters[doc.doc_id] == clusters[doc.family] for doc in copies]
    true = [doc.jaccard >= threshold for doc in copies]
    hits = sum(f and t for f, t in zip(found, true, strict=True))
    precision = hits / sum(found) if any(found) else 1.0
    recall = hits / sum(true) if any(true) else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": precision, "recall": recall, "f1": f1, "true_pairs": float(sum(true)),
            "found_pairs": float(sum(found))}


def found_by_level(planted: list[PlantedDocument], clusters: dict[str, str]) -> dict[float, float]:
    """Share of copies put in their original's cluster, per targeted level (the LSH S-curve, measured)."""
    by_level: dict[float, list[bool]] = defaultdict(list)
    for doc in planted:
        if doc.level is not None:
            by_level[doc.level].append(clusters[doc.doc_id] == clusters[doc.family])
    return {level: sum(found) / len(found) for level, found in sorted(by_level.items())}


def co_clustered_pairs(clusters: dict[str, str]) -> set[tuple[str, str]]:
    members: dict[str, list[str]] = defaultdict(list)
    for doc_id, cluster in clusters.items():
        members[cluster].append(doc_id)
    return {pair for group in members.values() for pair in combinations(sorted(group), 2)}


def pairwise_scores(predicted: dict[str, str], truth: dict[str, str]) -> dict[str, float]:
    """Precision, recall and F1 of 'in one cluster' over document pairs, predicted against truth."""
    predicted_pairs, true_pairs = co_clustered_pairs(predicted), co_clustered_pairs(truth)
    hits = len(predicted_pairs & true_pairs)
    precision = hits / len(predicted_pairs) if predicted_pairs else 1.0
    recall = hits / len(true_pairs) if true_pairs else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": precision, "recall": recall, "f1": f1, "true_pairs": float(len(true_pairs)),
            "predicted_pairs": float(len(predicted_pairs))}


# ---------------------------------------------------------------------------------------------
# Throughput

def megabytes(texts: list[str]) -> float:
    return sum(len(text.encode("utf-8", "surrogatepass")) for text in texts) / 1e6


def bench_minhash(texts: list[str], num_perm: int = 112) -> list[Measurement]:
    """Signatures of the same texts on one core: cc-sieve (default hash; datasketch's sha1) and datasketch 2.0
    (`MinHash.bulk`, `update_batch`) given the UTF-8 shingles ready-made."""
    from datasketch import MinHash

    size = megabytes(texts)
    shingled = [[shingle.encode("utf-8", "surrogatepass") for shingle in shingles(text)] for text in texts]
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
    import pyarrow as pa
    from pyspark.sql.pandas.types import from_arrow_schema

    from filters.minhash import MinHashAnnotator

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
    from jobs.bench_quality import sample_documents
    from jobs.dedup import dedup_summary, near_duplicate_clusters

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
    from jobs.bench import ratio_table
    from jobs.bench_quality import sample_documents
    from jobs.spark import get_spark

    parser = argparse.ArgumentParser(prog="python -m jobs.bench_dedup", description=__doc__.split("\n")[0])
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
    sys.exit(main())
