"""Spark near-duplicate clustering against planted truth and against a single-process datasketch reference."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from datasketch import MinHashLSH

from cc_sieve.filters.minhash import MinHashAnnotator, MinHasher, candidate_probability, datasketch_minhash
from cc_sieve.filters.planting import (
    found_by_level,
    pairwise_scores,
    planted_corpus,
    planted_pair_scores,
    truth_components,
)
from cc_sieve.jobs.commands.dedup import main
from cc_sieve.jobs.config.measurements import minhash_spec
from cc_sieve.jobs.config.presets import DedupConfig
from cc_sieve.jobs.spark.dedup import exact_duplicates, near_duplicate_clusters, similar_pairs
from tests.support.samples import DOLMA_JSONL, sample_documents

CONFIG = DedupConfig()


@pytest.fixture(scope="module")
def planted():
    return planted_corpus(sample_documents())


@pytest.fixture(scope="module")
def signed(planted) -> pa.Table:
    """The planted documents' annotations, by the annotator the benchmark builds from the default config."""
    annotator = minhash_spec(CONFIG).build()
    columns = {"doc_id": [doc.doc_id for doc in planted], "text_chars": [len(doc.text) for doc in planted]}
    columns.update(annotator.annotate({"text": [doc.text for doc in planted]}))
    fields = [pa.field("doc_id", pa.string()), pa.field("text_chars", pa.int64())] + annotator.schema()
    return pa.Table.from_pydict(columns, schema=pa.schema(fields))


@pytest.fixture(scope="module")
def frame(spark, signed, tmp_path_factory):
    path = tmp_path_factory.mktemp("signed") / "signed.parquet"
    pq.write_table(signed, path)
    return spark.read.parquet(str(path)).cache()


def clusters_of(frame, partitions: int, checkpoint_dir: str | None = None, **options) -> dict[str, tuple]:
    spark = frame.sparkSession
    before = spark.conf.get("spark.sql.shuffle.partitions")
    spark.conf.set("spark.sql.shuffle.partitions", str(partitions))
    try:
        rows = near_duplicate_clusters(frame.repartition(partitions), checkpoint_dir=checkpoint_dir,
                                       **options).collect()
    finally:
        spark.conf.set("spark.sql.shuffle.partitions", before)
    return {row["doc_id"]: (row["cluster_id"], row["cluster_size"], row["keep"]) for row in rows}


@pytest.fixture(scope="module")
def default_clusters(frame, tmp_path_factory):
    return clusters_of(frame, 4, str(tmp_path_factory.mktemp("checkpoints")),
                       verify_threshold=CONFIG.verify_threshold)


def reference_clusters(signed: pa.Table, verify_threshold: float | None) -> dict[str, tuple]:
    """datasketch MinHashLSH (14 x 8) over the same signatures, union-find over the (verified) candidates."""
    rows = signed.select(["doc_id", "minhash_signature"]).to_pylist()
    sketches = {row["doc_id"]: datasketch_minhash(row["minhash_signature"]) for row in rows
                if row["minhash_signature"] is not None}
    lsh = MinHashLSH(num_perm=CONFIG.num_perm, params=(CONFIG.bands, CONFIG.rows))
    for doc_id, sketch in sketches.items():
        lsh.insert(doc_id, sketch)
    parent = {row["doc_id"]: row["doc_id"] for row in rows}

    def root(node: str) -> str:
        while parent[node] != node:
            parent[node] = parent[parent[node]]
            node = parent[node]
        return node

    for doc_id, sketch in sketches.items():
        for other in lsh.query(sketch):
            if other != doc_id and (verify_threshold is None or sketch.jaccard(sketches[other]) >= verify_threshold):
                low, high = sorted((root(doc_id), root(other)))
                parent[high] = low
    cluster = {doc_id: root(doc_id) for doc_id in parent}
    sizes: dict[str, int] = defaultdict(int)
    for value in cluster.values():
        sizes[value] += 1
    return {doc_id: (value, sizes[value], doc_id == value) for doc_id, value in cluster.items()}


def test_planted_copies_at_the_configured_threshold(planted, signed, default_clusters):
    """Copies edited to word 5-gram Jaccard 0.5 ... 1.0 of real documents: precision and recall of
    'copy in its original's cluster' against exact Jaccard >= verify_threshold (the defaults: 14 x 8,
    verified at 0.75), and of every co-clustered pair against the truth components."""
    threshold = CONFIG.verify_threshold
    clusters = {doc_id: value[0] for doc_id, value in default_clusters.items()}
    scores = planted_pair_scores(planted, clusters, threshold)
    by_level = found_by_level(planted, clusters)
    unverified = {doc_id: value[0] for doc_id, value in reference_clusters(signed, None).items()}
    lsh_only = planted_pair_scores(planted, unverified, threshold)
    pairs = pairwise_scores(clusters, truth_components(planted, threshold))
    print(f"\n{len(planted):,} documents, {len(by_level)} levels; threshold {threshold}")
    print(f"defaults (14 x 8, verified): precision {scores['precision']:.3f} recall {scores['recall']:.3f} "
          f"F1 {scores['f1']:.3f} over {scores['true_pairs']:.0f} true pairs")
    print(f"LSH only (verify_threshold None): precision {lsh_only['precision']:.3f} recall "
          f"{lsh_only['recall']:.3f} F1 {lsh_only['f1']:.3f}")
    print(f"all co-clustered pairs vs truth components: precision {pairs['precision']:.3f} "
          f"recall {pairs['recall']:.3f} F1 {pairs['f1']:.3f}")
    print("found per level: " + ", ".join(f"{level:.1f}: {share:.1%} (LSH curve "
                                         f"{candidate_probability(level, CONFIG.bands, CONFIG.rows):.0%})"
                                         for level, share in by_level.items()))
    assert scores["f1"] >= 0.95
    assert by_level[1.0] == 1.0 and by_level[0.9] == 1.0 and by_level[0.5] == 0.0
    assert scores["true_pairs"] > 1000


def test_spark_equals_the_datasketch_reference(signed, default_clusters):
    assert default_clusters == reference_clusters(signed, CONFIG.verify_threshold)


def test_same_clusters_whatever_the_partitioning(frame, signed, default_clusters):
    """1 and 16 partitions (input and shuffle) give the clusters and survivors of the 4-partition run; without
    verification too, where they equal the reference's."""
    for partitions in (1, 16):
        assert clusters_of(frame, partitions, verify_threshold=CONFIG.verify_threshold) == default_clusters
    assert clusters_of(frame, 16, verify_threshold=None) == reference_clusters(signed, None)


def test_survivor_policies_scope_and_exact_duplicates(spark):
    """Three copies of one text (two crawls), one with extra words: who survives under each policy."""
    text = " ".join(doc["text"] for doc in sample_documents()[:3])
    docs = [("c", text, "CC-A", datetime(2020, 1, 1, tzinfo=UTC)),
            ("a", text.upper(), "CC-A", datetime(2021, 1, 1, tzinfo=UTC)),
            ("b", text + " and a few more words at the end" * 3, "CC-B", datetime(2019, 1, 1, tzinfo=UTC)),
            ("d", "something else entirely, short", "CC-B", None)]
    annotator = MinHashAnnotator()
    columns = {"doc_id": [d[0] for d in docs], "text_chars": [len(d[1]) for d in docs],
               "crawl_id": [d[2] for d in docs], "fetch_date": [d[3] for d in docs]}
    columns.update(annotator.annotate({"text": [d[1] for d in docs]}))
    frame = spark.createDataFrame(pa.Table.from_pydict(columns).to_pandas())
    chars = {doc_id: len(text) for doc_id, text, _, _ in docs}
    longest = min("abc", key=lambda doc_id: (-chars[doc_id], doc_id))

    def keep(**options) -> dict[str, tuple]:
        rows = near_duplicate_clusters(frame, **options).collect()
        return {row["doc_id"]: (row["cluster_id"], row["keep"]) for row in rows}

    assert keep() == {"a": ("a", True), "b": ("a", False), "c": ("a", False), "d": ("d", True)}
    assert keep(survivor="longest")[longest] == ("a", True)
    assert keep(survivor="oldest")["b"] == ("a", True)
    assert keep(scope="crawl") == {"a": ("a", True), "b": ("b", True), "c": ("a", False), "d": ("d", True)}
    exact = {row["doc_id"]: row["exact_duplicate"] for row in exact_duplicates(frame, survivor="oldest").collect()}
    assert exact == {"a": True, "b": False, "c": False, "d": False}


def test_a_bucket_past_the_verified_size_is_verified_against_its_smallest_doc_id_only(spark):
    """b and c agree in 99 of 112 positions but share a whole band only with a and d (band 0), which are unlike
    them: pairwise verification links b and c; past the cap each is compared with a alone, and is not."""
    rng = np.random.default_rng(7)
    signatures = rng.integers(0, 2**32, size=(4, 112), dtype=np.uint64).astype(np.uint32)  # a, b, c, d
    signatures[1:, :8] = signatures[0, :8]
    signatures[2, 8:] = signatures[1, 8:]
    signatures[2, 8::8] += 1  # one position in each of bands 1..13 differs
    bands = MinHasher().band_keys(signatures).view(np.int64)
    frame = spark.createDataFrame(pd.DataFrame({
        "doc_id": list("abcd"), "text_chars": [100] * 4,
        "minhash_signature": [row.astype(np.int64).tolist() for row in signatures],
        "minhash_bands": [row.tolist() for row in bands]}))

    def clusters(**options) -> dict[str, str]:
        rows = near_duplicate_clusters(frame, verify_threshold=0.75, **options).collect()
        return {row["doc_id"]: row["cluster_id"] for row in rows}

    assert clusters() == {"a": "a", "b": "b", "c": "b", "d": "d"}
    assert clusters(max_verified_bucket=3) == {"a": "a", "b": "b", "c": "c", "d": "d"}


def test_dedup_command_on_the_real_sample(spark, tmp_path, capsys):
    """`cc-sieve dedup` ingests the 697-document JSONL sample and writes a row per document."""
    assert main(["--input", str(DOLMA_JSONL), "--output", str(tmp_path), "--master", "local[2]"]) == 0
    table = pq.read_table(tmp_path / "clusters").to_pylist()
    assert len(table) == 697 and set(table[0]) == {"doc_id", "url", "cluster_id", "cluster_size", "keep",
                                                  "exact_duplicate"}
    by_cluster: dict[str, list[dict]] = defaultdict(list)
    for row in table:
        by_cluster[row["cluster_id"]].append(row)
    duplicated = [rows for rows in by_cluster.values() if len(rows) > 1]
    assert duplicated and all(sum(row["keep"] for row in rows) == 1 for rows in by_cluster.values())
    assert all(min(row["doc_id"] for row in rows) == rows[0]["cluster_id"] for rows in duplicated)
    assert "[dedup] documents 697 |" in capsys.readouterr().out


def test_the_duplicate_measure_finds_planted_copies_down_to_half_apart(frame, planted):
    """similar_pairs, the recipes' independent duplicate measure: a planted copy at exact Jaccard >= 0.7 is
    always paired with its original, at 0.6 nearly always and at 0.5 mostly (an estimate from 112 values
    has a standard deviation of about 0.05 there), the estimate close to the exact value; no pair of different
    originals (they share less than 0.3) is reported."""
    groups, pairs = similar_pairs(frame)
    representative = {row["doc_id"]: row["representative"] for row in groups.collect()}
    found = {frozenset((row["u"], row["v"])): row["jaccard"] for row in pairs.collect()}
    errors, by_level = [], {}
    for doc in planted:
        pair = frozenset((representative[doc.doc_id], representative[doc.family]))
        if doc.level is None or len(pair) == 1:
            continue  # an original, or identical signatures (one representative)
        by_level.setdefault(doc.level, []).append(pair in found)
        if pair in found:
            errors.append(abs(found[pair] - doc.jaccard))
    for level in (0.7, 0.8, 0.9):
        assert all(by_level[level]), level
    shares = {level: float(np.mean(found_at)) for level, found_at in by_level.items()}
    assert shares[0.6] >= 0.9 and shares[0.5] >= 0.4, shares
    assert float(np.mean(errors)) < 0.05 and max(errors) < 0.2
    families = {doc.doc_id: doc.family for doc in planted}
    assert all(families[a] == families[b] for a, b in (tuple(pair) for pair in found))
