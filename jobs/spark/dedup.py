"""Near-duplicate clusters from MinHash band keys, with Spark DataFrames only.

Documents that share a band key (same band index, same key, same scope) are candidates. Each
bucket links its members to its smallest doc_id (a star: linear in the bucket's size). With
`verify_threshold`, candidate pairs are kept only when their signatures agree in at least that
share of positions (datasketch's `MinHash.jaccard`); documents with identical signatures are
first collapsed onto one representative, then every pair of representatives in a bucket is
compared (quadratic in the number of distinct signatures of a bucket). Connected components of
the edges come from alternating large-star / small-star rounds (Kiveris et al. 2014, "Connected
Components in MapReduce and Beyond") on doc_id strings, each round materialised (Parquet under
`checkpoint_dir`, else a local checkpoint) so the plan does not grow with the rounds.

Everything is a set operation with a total order (doc_id), so the clusters and the survivors are
the same for the same input whatever the partitioning. cluster_id is the smallest doc_id of the
cluster; the survivor (keep) is the first member by the survivor policy, ties broken by doc_id.
Scope "crawl" or "shard" only compares documents of the same crawl_id / source_shard.

`cc-sieve dedup` (jobs/commands/dedup.py) runs it on any input.
"""

from __future__ import annotations

from pathlib import Path
from typing import get_args

from pyspark.sql import Window
from pyspark.sql import functions as F

from cc_sieve.jobs.config.presets import Survivor

SCOPE_COLUMNS = {"global": None, "crawl": "crawl_id", "shard": "source_shard"}
# Order inside a cluster, the first document survives (column, descending), for each dedup.survivor policy.
SURVIVOR_ORDERS: dict[Survivor, list[tuple[str, bool]]] = {
    "smallest_doc_id": [("doc_id", False)], "longest": [("text_chars", True), ("doc_id", False)],
    "oldest": [("fetch_date", False), ("doc_id", False)]}
assert set(SURVIVOR_ORDERS) == set(get_args(Survivor)), "an order for every survivor policy of DedupConfig"
SIGNATURE, BANDS, EXACT_HASH = "minhash_signature", "minhash_bands", "exact_hash"
BUCKET = ("scope", "band", "key")  # documents sharing these are LSH candidates
MAX_ROUNDS = 64
# Band buckets up to this many distinct signatures are verified pair by pair (at most ~2 M pairs each);
# a larger one (a site template shared by thousands of pages) only against its smallest doc_id, so its
# cost stays linear. That can miss a link between two of its members that are unlike that one.
MAX_VERIFIED_BUCKET = 2_000
# The duplicate measure (similar_pairs): bands of 3 signature values find pairs down to Jaccard 0.5.
SIMILAR_ROWS = 3
SIMILAR_MIN = 0.5


def scope_column(scope: str):
    """The column that bounds comparisons (a constant for global scope)."""
    if scope not in SCOPE_COLUMNS:
        raise ValueError(f"scope must be one of {', '.join(SCOPE_COLUMNS)}, not {scope!r}")
    column = SCOPE_COLUMNS[scope]
    return (F.coalesce(F.col(column), F.lit("")) if column else F.lit("")).alias("scope")


def survivor_order(survivor: str, columns: list[str]):
    """Sort expressions for the survivor policy; source_shard and record_offset settle equal doc_ids."""
    if survivor not in SURVIVOR_ORDERS:
        raise ValueError(f"survivor must be one of {', '.join(SURVIVOR_ORDERS)}, not {survivor!r}")
    tie_breakers = [name for name in ("source_shard", "record_offset") if name in columns]
    order = [F.col(name).desc_nulls_last() if descending else F.col(name).asc_nulls_last()
             for name, descending in SURVIVOR_ORDERS[survivor]]
    return order + [F.col(name).asc_nulls_last() for name in tie_breakers]


def band_rows(documents):
    """(doc_id, scope, band, key) for every band of every document that has band keys."""
    return documents.where(F.col(BANDS).isNotNull()).select(
        "doc_id", "scope", F.posexplode(BANDS).alias("band", "key"))


def with_anchor(frame, *group: str):
    """`frame` with `anchor`: the smallest doc_id among its rows of the same `group` values."""
    return frame.withColumn("anchor", F.min("doc_id").over(Window.partitionBy(*group)))


def edges_to_anchor(frame):
    """An edge from every row's doc_id to its anchor (none from the anchor itself)."""
    return ordered(frame.where(F.col("doc_id") != F.col("anchor")), "doc_id", "anchor")


def scored_pairs(rows, signatures, max_bucket: int):
    """(u > v, jaccard) for the documents of `rows` (doc_id, scope, band, key) that share a band bucket: every
    pair of a bucket of at most `max_bucket` documents, each member with the smallest doc_id of a larger one;
    jaccard is the share of positions where their `signatures` (doc_id, signature) agree."""
    sized = with_anchor(rows, *BUCKET).withColumn("bucket_size", F.count(F.lit(1)).over(Window.partitionBy(*BUCKET)))
    small = sized.where(F.col("bucket_size").between(2, max_bucket)).select("doc_id", *BUCKET)
    large = sized.where(F.col("bucket_size") > max_bucket)
    pairs = (small.alias("x").join(small.alias("y"), list(BUCKET))
             .where(F.col("x.doc_id") > F.col("y.doc_id"))
             .select(F.col("x.doc_id").alias("u"), F.col("y.doc_id").alias("v"))
             .unionByName(edges_to_anchor(large))
             .distinct())
    scored = (pairs.join(signatures.withColumnRenamed("doc_id", "u").withColumnRenamed(SIGNATURE, "su"), "u")
              .join(signatures.withColumnRenamed("doc_id", "v").withColumnRenamed(SIGNATURE, "sv"), "v"))
    agreeing = F.aggregate(F.zip_with("su", "sv", lambda x, y: F.when(x == y, 1).otherwise(0)), F.lit(0),
                           lambda total, value: total + value)
    return scored.select("u", "v", (agreeing / F.size("su")).alias("jaccard"))


def representatives_of(documents):
    """`documents` (doc_id, scope, signature) with `anchor`: the smallest doc_id with the same signature in
    the scope (identical signatures are compared once, through their representative)."""
    return with_anchor(documents.where(F.col(SIGNATURE).isNotNull()), "scope", SIGNATURE)


def candidate_edges(documents, verify_threshold: float | None = None, max_verified_bucket: int = MAX_VERIFIED_BUCKET):
    """Undirected edges (u > v, doc_id strings) between candidates; `documents` has doc_id, scope and bands
    (and the signature when verifying). Verified pairs: every pair of a bucket of at most
    `max_verified_bucket` distinct signatures, each member with the smallest doc_id of a larger bucket."""
    if verify_threshold is None:
        return edges_to_anchor(with_anchor(band_rows(documents), *BUCKET))
    signed = representatives_of(documents)
    representatives = signed.where(F.col("doc_id") == F.col("anchor")).drop("anchor")
    scored = scored_pairs(band_rows(representatives), representatives.select("doc_id", SIGNATURE),
                          max_verified_bucket)
    verified = scored.where(F.col("jaccard") >= F.lit(float(verify_threshold))).select("u", "v")
    return edges_to_anchor(signed).unionByName(verified).distinct()


def similar_pairs(annotations, scope: str = "global", rows: int = SIMILAR_ROWS, min_jaccard: float = SIMILAR_MIN,
                  max_bucket: int = MAX_VERIFIED_BUCKET):
    """The duplicate measure's similar documents, apart from any recipe's clusters: (groups, pairs), where
    groups holds each signed document's representative (doc_id, representative: the smallest doc_id with an
    identical signature) and pairs the representatives (u > v) whose signatures agree in at least
    `min_jaccard` of positions, jaccard being that share. Candidates share a band of `rows` values: with 3,
    a pair at Jaccard 0.5 shares one of the 37 bands of a 112-value signature with probability 0.993."""
    documents = annotations.select("doc_id", scope_column(scope), SIGNATURE)
    signed = representatives_of(documents)
    representatives = signed.where(F.col("doc_id") == F.col("anchor")).select("doc_id", "scope", SIGNATURE)
    bands = F.expr(f"transform(sequence(0, cast(size({SIGNATURE}) / {rows} AS INT) - 1), "
                   f"b -> xxhash64(slice({SIGNATURE}, b * {rows} + 1, {rows})))")
    band_keys = representatives.select("doc_id", "scope", F.posexplode(bands).alias("band", "key"))
    pairs = scored_pairs(band_keys, representatives.select("doc_id", SIGNATURE), max_bucket)
    groups = signed.select("doc_id", F.col("anchor").alias("representative"))
    return groups, pairs.where(F.col("jaccard") >= F.lit(float(min_jaccard)))


def ordered(frame, first: str, second: str):
    """Edges as (u, v) with u > v, distinct."""
    return frame.select(F.greatest(first, second).alias("u"), F.least(first, second).alias("v")).distinct()


def large_star(edges):
    """Link every node's larger neighbours to the smallest node of its neighbourhood (itself included)."""
    both = edges.unionByName(edges.select(F.col("v").alias("u"), F.col("u").alias("v")))
    smallest = both.groupBy("u").agg(F.least(F.min("v"), F.col("u")).alias("m"))
    linked = both.join(smallest, "u").where(F.col("v") > F.col("u"))
    return ordered(linked, "v", "m")


def small_star(edges):
    """Link every node and its smaller neighbours to the smallest of them."""
    smallest = edges.groupBy("u").agg(F.min("v").alias("m"))
    neighbours = edges.join(smallest, "u").where(F.col("v") != F.col("m")).select("v", "m")
    return ordered(neighbours.unionByName(smallest.select(F.col("u").alias("v"), "m")), "v", "m")


class Materializer:
    """Writes each round's edges (Parquet under `folder`, else a local checkpoint) and reads them back."""

    def __init__(self, spark, folder: str | None):
        self.spark, self.folder, self.rounds = spark, folder, 0

    def __call__(self, frame):
        self.rounds += 1
        if self.folder is None:
            return frame.localCheckpoint(eager=True)
        path = str(Path(self.folder) / f"components-{self.rounds:03d}")
        frame.write.mode("overwrite").parquet(path)
        return self.spark.read.parquet(path)


def is_star_forest(edges) -> bool:
    """Every node that links anywhere links to exactly one node, and that node links nowhere."""
    sources = edges.select(F.col("u").alias("v"), F.lit(True).alias("links")).distinct()
    counts = edges.join(sources, "v", "left").agg(
        F.count(F.lit(1)).alias("edges"), F.countDistinct("u").alias("sources"),
        F.count("links").alias("chained")).first()
    return counts["edges"] == counts["sources"] and counts["chained"] == 0


def connected_components(edges, checkpoint_dir: str | None = None):
    """(node, root) for every node of `edges` (u > v), root being the smallest node of its component.

    Rounds of large-star then small-star keep the components and end in one star per component
    around its smallest node (u > v on every edge), which is where the loop stops.
    """
    materialize = Materializer(edges.sparkSession, checkpoint_dir)
    current = materialize(edges)
    while not is_star_forest(current):
        if materialize.rounds > MAX_ROUNDS:
            raise RuntimeError(f"connected components did not converge in {MAX_ROUNDS} rounds")
        current = materialize(small_star(large_star(current)))
    return current.select(F.col("u").alias("node"), F.col("v").alias("root")).unionByName(
        current.select(F.col("v").alias("node"), F.col("v").alias("root")).distinct())


def near_duplicate_clusters(annotations, scope: str = "global", survivor: str = "smallest_doc_id",
                            verify_threshold: float | None = None, checkpoint_dir: str | None = None,
                            max_verified_bucket: int = MAX_VERIFIED_BUCKET):
    """doc_id, cluster_id, cluster_size, keep for every row of `annotations` (singletons: their own cluster)."""
    order = survivor_order(survivor, annotations.columns)
    needed = [BANDS] + ([SIGNATURE] if verify_threshold is not None else [])
    documents = annotations.select("doc_id", scope_column(scope), *needed)
    components = connected_components(candidate_edges(documents, verify_threshold, max_verified_bucket),
                                      checkpoint_dir)
    labelled = annotations.join(components.withColumnRenamed("node", "doc_id"), "doc_id", "left").withColumn(
        "cluster_id", F.coalesce("root", "doc_id"))
    cluster = Window.partitionBy("cluster_id")
    return labelled.select(
        "doc_id", "cluster_id", F.count(F.lit(1)).over(cluster).alias("cluster_size"),
        (F.row_number().over(cluster.orderBy(*order)) == 1).alias("keep"))


def exact_duplicates(annotations, scope: str = "global", survivor: str = "smallest_doc_id"):
    """doc_id, exact_duplicate: TRUE when an earlier document (survivor order) in scope has the same exact_hash."""
    same_text = Window.partitionBy(scope_column(scope), EXACT_HASH).orderBy(
        *survivor_order(survivor, annotations.columns))
    return annotations.select("doc_id", (F.col(EXACT_HASH).isNotNull() & (F.row_number().over(same_text) > 1))
                              .alias("exact_duplicate"))


def dedup_summary(clusters) -> dict[str, float]:
    """documents, clusters of two or more, duplicates (non-survivors) and their share, exact duplicates."""
    aggregations = [F.count(F.lit(1)).alias("documents"),
                    F.countDistinct(F.when(F.col("cluster_size") > 1, F.col("cluster_id"))).alias("clusters"),
                    F.sum(F.when(~F.col("keep"), 1).otherwise(0)).alias("duplicates")]
    if "exact_duplicate" in clusters.columns:
        aggregations.append(F.sum(F.when(F.col("exact_duplicate"), 1).otherwise(0)).alias("exact_duplicates"))
    row = clusters.agg(*aggregations).collect()[0].asDict()
    summary = {name: float(value or 0) for name, value in row.items()}
    summary["duplicate_rate"] = summary["duplicates"] / summary["documents"] if summary["documents"] else 0.0
    return summary
