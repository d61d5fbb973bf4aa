"""Evaluate recipes over the annotations table, once: no second pass over text.

Every recipe's decisions are columns of one frame (`decide`: per recipe, whether a document is kept,
the first rule that removed it and each rule's verdict), persisted once; every count of every recipe
comes from one aggregation over it, duplicates remaining from one more, and the samples, collateral
and planted-truth scores read the same frame. The metrics are derived from the counts in
jobs/metrics.py, which also names them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from pyspark import StorageLevel
from pyspark.sql import Column, DataFrame, Window
from pyspark.sql import functions as F

from cc_sieve.filters.pii import redact_excerpt
from cc_sieve.filters.planting import TRUTH_FILE
from cc_sieve.jobs import metrics as M
from cc_sieve.jobs.config.presets import DedupConfig
from cc_sieve.jobs.config.recipes import Recipe
from cc_sieve.jobs.spark.dedup import survivor_order

SAMPLES_PER_RULE = 20
EXCERPT_CHARS = 300
TOP_VALUES = 15


@dataclass(frozen=True)
class RecipePlan:
    """What evaluation needs of a recipe: its name, rule predicates in order, and dedup placement."""

    name: str
    predicates: dict[str, str]
    dedup: str = "none"  # "none" | "before" (dedup, then rules) | "after" (rules, then dedup among kept)
    survivor: str = "smallest_doc_id"  # who survives among kept duplicates (jobs/spark/dedup.py SURVIVOR_ORDERS)

    @classmethod
    def of(cls, recipe: Recipe, dedup: DedupConfig) -> RecipePlan:
        placement = recipe.dedup_placement() if dedup.enabled else "none"
        return cls(recipe.name, recipe.removal_predicates(), placement, dedup.survivor)


BASELINE = RecipePlan("unfiltered", {})


@dataclass(frozen=True)
class MeasureColumns:
    """Which annotation columns hold harm flags and PII counts (empty when not annotated)."""

    harm_flags: dict[str, str] = field(default_factory=dict)  # detector name -> boolean column
    pii_counts: dict[str, str] = field(default_factory=dict)  # entity type -> count column
    pii_total: str | None = None
    has_dedup: bool = False


@dataclass
class RecipeEvaluation:
    name: str
    metrics: dict[str, float]
    samples: list[dict] = field(default_factory=list)  # redacted excerpts of removed documents, by first rule
    collateral: dict = field(default_factory=dict)  # removed documents no detector flags, by language and host

    def removal_table(self) -> list[dict]:
        """One row per rule (and the dedup step): documents removed first by it, and by it at all."""
        docs_in = self.metrics[M.DOCS_IN]
        rows = []
        for rule in sorted({M.rule_of(name) for name in self.metrics if M.is_removal(name)}):
            first = int(self.metrics.get(M.removed_first(rule), 0))
            any_ = int(self.metrics.get(M.removed_any(rule), first))
            rows.append({"rule": rule, "removed_first": first, "removed_any": any_,
                         "share_of_input_any": round(any_ / docs_in, 6) if docs_in else 0.0})
        return rows


@dataclass
class Evaluation:
    baseline: dict[str, float]  # the unfiltered input's metrics
    recipes: list[RecipeEvaluation]
    sources: dict  # where the documents came from
    harm_detectors: list[str]


# ---------------------------------------------------------------------------------------------
# Decisions

def kept(index: int) -> str:
    return f"_kept_{index}"


def first_rule(index: int) -> str:
    return f"_first_{index}"


def rule_flag(index: int, rule: int) -> str:
    return f"_rule_{index}_{rule}"


def decide(annotations: DataFrame, plans: list[RecipePlan], measures: MeasureColumns) -> DataFrame:
    """The annotations with, for recipe i: `_kept_i`, `_first_i` (the first rule that removed the document, or
    "dedup") and `_rule_i_j` (rule j of the recipe would remove it). A rule's NULL verdict counts as keep."""
    frame = annotations
    for index, plan in enumerate(plans):
        flags = [F.coalesce(F.expr(sql), F.lit(False)) for sql in plan.predicates.values()]
        frame = frame.select("*", *[flag.alias(rule_flag(index, j)) for j, flag in enumerate(flags)])
        columns = [F.col(rule_flag(index, j)) for j in range(len(flags))]
        by_rules = F.greatest(*columns, F.lit(False)) if columns else F.lit(False)
        first = F.lit(None).cast("string")
        for j, rule in reversed(list(enumerate(plan.predicates))):
            first = F.when(F.col(rule_flag(index, j)), F.lit(rule)).otherwise(first)
        dedup = plan.dedup if measures.has_dedup else "none"
        if dedup == "none":
            frame = frame.select("*", (~by_rules).alias(kept(index)), first.alias(first_rule(index)))
        elif dedup == "before":
            frame = frame.select("*", (F.col("dup_keep") & ~by_rules).alias(kept(index)),
                                 F.when(~F.col("dup_keep"), F.lit(M.DEDUP_RULE)).otherwise(first)
                                 .alias(first_rule(index)))
        elif dedup == "after":
            survivors = Window.partitionBy("dup_cluster_id", by_rules).orderBy(
                *survivor_order(plan.survivor, annotations.columns))
            duplicate = ~by_rules & (F.row_number().over(survivors) > 1)
            frame = frame.select("*", (~by_rules & ~duplicate).alias(kept(index)),
                                 F.when(duplicate, F.lit(M.DEDUP_RULE)).otherwise(first).alias(first_rule(index)))
        else:
            raise ValueError(f"recipe {plan.name}: dedup must be none, before or after, not {plan.dedup!r}")
    return frame


# ---------------------------------------------------------------------------------------------
# Counts

def count_if(condition: Column) -> Column:
    return F.sum(F.when(condition, 1).otherwise(0))


def sum_if(condition: Column, column: str) -> Column:
    return F.sum(F.when(condition, F.col(column)).otherwise(0))


def recipe_counters(index: int, plan: RecipePlan, measures: MeasureColumns) -> dict[str, Column]:
    """The counts of recipe i, as aggregate expressions over the decided frame."""
    is_kept = F.col(kept(index))
    counters = {M.DOCS_IN: F.count(F.lit(1)), M.DOCS_KEPT: count_if(is_kept),
                M.CHARS_IN: F.sum("text_chars"), M.CHARS_KEPT: sum_if(is_kept, "text_chars"),
                M.WORDS_IN: F.sum("words"), M.WORDS_KEPT: sum_if(is_kept, "words")}
    for j, rule in enumerate(plan.predicates):
        counters[M.removed_any(rule)] = count_if(F.col(rule_flag(index, j)))
        counters[M.removed_first(rule)] = count_if(F.col(first_rule(index)) == rule)
    if plan.dedup != "none" and measures.has_dedup:
        counters[M.removed_first(M.DEDUP_RULE)] = count_if(F.col(first_rule(index)) == M.DEDUP_RULE)
    if measures.pii_total:
        total = F.col(measures.pii_total)  # NULL outside the PII sample: PII rates are among scanned documents
        counters[M.PII_DOCS_KEPT] = count_if(is_kept & (total > 0))
        counters[M.PII_DOCS_IN] = count_if(total > 0)
        counters[M.PII_SCANNED_KEPT] = count_if(is_kept & total.isNotNull())
        counters[M.PII_SCANNED_IN] = count_if(total.isNotNull())
        counters[M.squares(M.PII_PER_1K_DOCS)] = F.sum(F.when(is_kept, total * total).otherwise(0))
        for entity, column in measures.pii_counts.items():
            counters[M.pii_entities_kept(entity)] = sum_if(is_kept, column)
            counters[M.squares(M.pii_entities_kept(entity))] = F.sum(
                F.when(is_kept, F.col(column) * F.col(column)).otherwise(0))
    any_flag = F.lit(False)
    for detector, column in measures.harm_flags.items():
        flag = F.coalesce(F.col(column), F.lit(False))
        counters[M.harm_flagged_kept(detector)] = count_if(is_kept & flag)
        counters[M.harm_flagged_in(detector)] = count_if(flag)
        any_flag = any_flag | flag
    if measures.harm_flags:
        counters[M.REMOVED_UNFLAGGED] = count_if(~is_kept & ~any_flag)
    return counters


def count_recipes(decided: DataFrame, plans: list[RecipePlan], measures: MeasureColumns) -> list[dict[str, float]]:
    """Every recipe's counts, in one aggregation."""
    counters = [recipe_counters(index, plan, measures) for index, plan in enumerate(plans)]
    expressions = [expression.alias(f"{index}\t{name}") for index, group in enumerate(counters)
                   for name, expression in group.items()]
    row = decided.agg(*expressions).collect()[0].asDict()
    counts: list[dict[str, float]] = [{} for _ in plans]
    for key, value in row.items():
        index, name = key.split("\t", 1)
        counts[int(index)][name] = float(value or 0)
    return counts


def count_duplicates(decided: DataFrame, plans: list[RecipePlan]) -> list[dict[str, float]]:
    """Per recipe: kept documents that have another kept document in their duplicate cluster, and the clusters
    holding two kept documents or more, in one pass over the clusters."""
    per_cluster = decided.groupBy("dup_cluster_id").agg(
        *[count_if(F.col(kept(index))).alias(f"k{index}") for index in range(len(plans))])
    row = per_cluster.agg(*[expression for index in range(len(plans)) for expression in (
        F.sum(F.greatest(F.col(f"k{index}") - 1, F.lit(0))).alias(f"d{index}"),
        count_if(F.col(f"k{index}") > 1).alias(f"c{index}"))]).collect()[0]
    return [{M.DUPLICATES_REMAINING: float(row[f"d{index}"] or 0),
             M.DUPLICATE_CLUSTERS_REMAINING: float(row[f"c{index}"] or 0)} for index in range(len(plans))]


# ---------------------------------------------------------------------------------------------
# Samples, collateral, sources

def removed_samples(decided: DataFrame, documents: DataFrame, plans: list[RecipePlan]) -> list[list[dict]]:
    """Per recipe, at most SAMPLES_PER_RULE removed documents per first rule, as short excerpts with PII
    redacted (the annotations' spans and what the pattern recognizers find in the excerpt)."""
    spans = ["pii_spans"] if "pii_spans" in decided.columns else []
    removed = [decided.where(~F.col(kept(index)) & F.col(first_rule(index)).isNotNull())
               .select(F.lit(index).alias("recipe"), F.col(first_rule(index)).alias("rule"), "doc_id", *spans)
               for index in range(len(plans))]
    if not removed:
        return []
    union = removed[0]
    for frame in removed[1:]:
        union = union.unionByName(frame)
    ranked = union.withColumn("n", F.row_number().over(
        Window.partitionBy("recipe", "rule").orderBy(F.xxhash64("doc_id"), "doc_id"))).where(
        F.col("n") <= SAMPLES_PER_RULE)
    rows = ranked.join(documents.select("doc_id", "text"), "doc_id").collect()
    samples: list[list[dict]] = [[] for _ in plans]
    for row in sorted(rows, key=lambda r: (r["recipe"], r["rule"], r["doc_id"])):
        samples[row["recipe"]].append({"rule": row["rule"], "doc_id": row["doc_id"], "excerpt": redact_excerpt(
            row["text"] or "", row["pii_spans"] if spans else None, EXCERPT_CHARS)})
    return samples


def language_column(table: DataFrame) -> str:
    return "language" if "language" in table.columns else "declared_language"


def any_flag(measures: MeasureColumns) -> Column:
    flagged = F.lit(False)
    for column in measures.harm_flags.values():
        flagged = flagged | F.coalesce(F.col(column), F.lit(False))
    return flagged


def collateral_breakdowns(decided: DataFrame, plans: list[RecipePlan], measures: MeasureColumns) -> list[dict]:
    """Per recipe, removed documents that no harm detector flags, by language and by host: who loses text."""
    language = language_column(decided)
    flagged = any_flag(measures)

    def breakdown(column: str) -> list[list[dict]]:
        value = F.coalesce(F.col(column), F.lit("unknown")).alias("value")
        lost = [count_if(~F.col(kept(index)) & ~flagged).alias(f"l{index}") for index in range(len(plans))]
        rows = decided.groupBy(value).agg(F.count(F.lit(1)).alias("total"), *lost).collect()
        tables = []
        for index in range(len(plans)):
            top = sorted((r for r in rows if r[f"l{index}"]), key=lambda r: (-r[f"l{index}"], r["value"]))
            tables.append([{"value": r["value"], "removed_unflagged": r[f"l{index}"], "documents": r["total"],
                            "share_lost": r[f"l{index}"] / r["total"]} for r in top[:TOP_VALUES]])
        return tables

    by_language, by_host = breakdown(language), breakdown("host")
    return [{"by_language": by_language[index], "by_host": by_host[index]} for index in range(len(plans))]


def sources_summary(table: DataFrame) -> dict:
    """Where the documents came from: capture dates, top hosts, languages, crawls, record types."""
    dates = table.agg(F.min("fetch_date").alias("first"), F.max("fetch_date").alias("last")).collect()[0]
    language = language_column(table)

    def counts(column: str, limit: int | None = None) -> list[dict]:
        frame = table.groupBy(F.coalesce(F.col(column), F.lit("unknown")).alias("value")).count()
        frame = frame.orderBy(F.desc("count"), "value")
        rows = frame.limit(limit).collect() if limit else frame.collect()
        return [{"value": r["value"], "documents": r["count"]} for r in rows]

    return {"first_capture": str(dates["first"]) if dates["first"] else None,
            "last_capture": str(dates["last"]) if dates["last"] else None,
            "language_column": language, "languages": counts(language), "top_hosts": counts("host", TOP_VALUES),
            "crawls": counts("crawl_id"), "record_types": counts("record_type")}


# ---------------------------------------------------------------------------------------------
# Planted truth (cc-sieve make-shards)

def find_truth(specs: list[str], explicit: str | None) -> list[Path]:
    """Planted truth written by `cc-sieve make-shards`: beside a folder or manifest input, or named."""
    if explicit:
        return [Path(explicit)]
    found = []
    for spec in specs:
        path = Path(spec)
        folder = path if path.is_dir() else path.parent
        if (folder / TRUTH_FILE).is_file():
            found.append(folder / TRUTH_FILE)
    return sorted(set(found))


def load_truth(spark, paths: list[Path]) -> DataFrame:
    """One row per planted document: doc_id and which truths were planted in it (no PII strings)."""
    rows = []
    for path in paths:
        with open(path) as handle:
            for line in handle:
                item = json.loads(line)
                rows.append((item["doc_id"], item.get("near_dup_of"), item.get("exact_dup_of"),
                             item.get("jaccard_target"), bool(item.get("pii")), bool(item.get("toxic")),
                             bool(item.get("blocklisted"))))
    schema = ("doc_id string, near_dup_of string, exact_dup_of string, jaccard_target double, planted_pii boolean, "
              "planted_toxic boolean, planted_blocklisted boolean")
    return spark.createDataFrame(rows, schema)


def truth_metrics(decided: DataFrame, truth: DataFrame, plans: list[RecipePlan]) -> list[dict[str, float]]:
    """Per recipe, the share of each planted truth it keeps: a duplicate remains when the copy and the document
    it copies are both kept (near-duplicates also per planted Jaccard level); PII, toxic and blocklisted
    documents remain when kept."""
    columns = [kept(index) for index in range(len(plans))]
    flags = decided.select("doc_id", *columns)
    joined = truth.join(flags, "doc_id")
    for source in ("near_dup_of", "exact_dup_of"):
        joined = joined.join(flags.select(F.col("doc_id").alias(source),
                                          *[F.col(c).alias(f"{source}{c}") for c in columns]), source, "left")
    kinds = {"near_dup": F.col("near_dup_of").isNotNull(), "exact_dup": F.col("exact_dup_of").isNotNull(),
             "pii_docs": F.col("planted_pii"), "toxic_docs": F.col("planted_toxic"),
             "blocklisted_docs": F.col("planted_blocklisted")}

    def remains(kind: str, index: int) -> Column:
        copy_kept = F.col(kept(index))
        if kind in ("near_dup", "exact_dup"):
            copy_kept = copy_kept & F.col(f"{kind}_of{kept(index)}")
        return F.coalesce(copy_kept, F.lit(False))

    expressions = [count_if(planted).alias(f"planted {kind}") for kind, planted in kinds.items()]
    expressions += [count_if(planted & remains(kind, index)).alias(f"{index} {kind}")
                    for kind, planted in kinds.items() for index in range(len(plans))]
    row = joined.agg(*expressions).collect()[0]
    by_level = joined.where(kinds["near_dup"] & F.col("jaccard_target").isNotNull()).groupBy("jaccard_target").agg(
        F.count(F.lit(1)).alias("planted"),
        *[count_if(remains("near_dup", index)).alias(f"r{index}") for index in range(len(plans))]).collect()
    results = []
    for index in range(len(plans)):
        metrics = {}
        for kind in kinds:
            planted = float(row[f"planted {kind}"] or 0)
            metrics[M.truth(f"{kind}_planted")] = planted
            if planted:
                metrics[M.truth(f"{kind}_remaining_share")] = float(row[f"{index} {kind}"] or 0) / planted
        for level in by_level:
            metrics[M.truth(f"near_dup_{level['jaccard_target']:g}_remaining_share")] = (
                level[f"r{index}"] / level["planted"])
        results.append(metrics)
    return results


# ---------------------------------------------------------------------------------------------
# Everything, once

def evaluate(spark, table: DataFrame, documents: DataFrame, plans: list[RecipePlan], measures: MeasureColumns,
             truth_paths: list[Path]) -> Evaluation:
    """The unfiltered input's metrics and every recipe's, with samples and collateral, from one decided frame."""
    everything = [BASELINE, *plans]
    decided = decide(table, everything, measures).persist(StorageLevel.MEMORY_AND_DISK)
    try:
        counts = count_recipes(decided, everything, measures)
        if measures.has_dedup:
            for recipe_counts, duplicates in zip(counts, count_duplicates(decided, everything), strict=True):
                recipe_counts.update(duplicates)
        detectors = list(measures.harm_flags)
        entities = list(measures.pii_counts)
        metrics = [M.recipe_metrics(c, entities, detectors) for c in counts]
        baseline, recipe_metrics = metrics[0], [M.with_reductions(m, metrics[0]) for m in metrics[1:]]
        if truth_paths:
            truth = load_truth(spark, truth_paths)
            for recipe_metrics_, scores in zip(recipe_metrics, truth_metrics(decided, truth, everything)[1:],
                                               strict=True):
                recipe_metrics_.update(scores)
        samples = removed_samples(decided, documents, everything)[1:]
        collateral = collateral_breakdowns(decided, everything, measures)[1:]
        results = [RecipeEvaluation(plan.name, m, s, c)
                   for plan, m, s, c in zip(plans, recipe_metrics, samples, collateral, strict=True)]
        return Evaluation(baseline, results, sources_summary(table), detectors)
    finally:
        decided.unpersist()

