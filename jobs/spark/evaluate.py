"""Evaluate recipes over the annotations table, once: no second pass over text.

Every recipe's decisions are columns of one frame (`decide`: per recipe, whether a document is kept,
the first rule that removed it and each rule's verdict), persisted once. Every counter of every recipe
comes from one aggregation over it, grouped by a random bucket of documents (a hash of doc_id, for the
bootstrap intervals) and a language group; the rule removals from one more, the duplicates that remain
from the similar pairs the dedup stage measured, and the samples, collateral and planted-truth scores read
the same frame. jobs/metrics.py turns the counters into metrics (and names them).

A harm detector that reads a list or model one of a recipe's rules filters with (filters/harm.py `uses`,
filters/registry.py `uses`) is circular for that recipe: its rates are still logged, but it does not
count towards the recipe's collateral, and the report marks it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from pyspark import StorageLevel
from pyspark.sql import Column, DataFrame, Window
from pyspark.sql import functions as F

from cc_sieve.filters.harm import DETECTORS_BY_NAME
from cc_sieve.filters.language import CJK, CYRILLIC_SCRIPT, LANGUAGE_GROUPS, LATIN_SCRIPT
from cc_sieve.filters.pii import NER_ENTITIES, PEOPLE_ENTITIES, PERSONAL_IDENTIFIERS, redact_excerpts
from cc_sieve.jobs import metrics as M
from cc_sieve.jobs.config.presets import DedupConfig
from cc_sieve.jobs.config.recipes import Recipe
from cc_sieve.jobs.spark.dedup import survivor_order

SAMPLES_PER_RULE = 20
EXCERPT_CHARS = 300
TOP_VALUES = 15
BUCKETS = 200  # random groups of documents the bootstrap resamples
BUCKET, GROUP = "_bucket", "_language_group"


@dataclass(frozen=True)
class RecipePlan:
    """What evaluation needs of a recipe: its name, rule predicates in order, and dedup placement."""

    name: str
    predicates: dict[str, str]
    dedup: str = "none"  # "none" | "before" (dedup, then rules) | "after" (rules, then dedup among kept)
    survivor: str = "smallest_doc_id"  # who survives among kept duplicates (jobs/spark/dedup.py SURVIVOR_ORDERS)
    sources: frozenset[str] = frozenset()  # the lists and models its rules read

    @classmethod
    def of(cls, recipe: Recipe, dedup: DedupConfig) -> RecipePlan:
        placement = recipe.dedup_placement() if dedup.enabled else "none"
        sources = frozenset(source for entry in recipe.rules for source in entry.definition.uses)
        return cls(recipe.name, recipe.removal_predicates(), placement, dedup.survivor, sources)

    def independent(self, detectors: list[str]) -> list[str]:
        """The detectors that read none of this recipe's lists and models: its graders."""
        return [name for name in detectors if DETECTORS_BY_NAME[name].independent_of(set(self.sources))]


BASELINE = RecipePlan("unfiltered", {})


@dataclass(frozen=True)
class MeasureColumns:
    """Which annotation columns hold harm flags and PII counts (empty when not annotated)."""

    harm_flags: dict[str, str] = field(default_factory=dict)  # detector name -> boolean column
    pii_counts: dict[str, str] = field(default_factory=dict)  # entity type -> count column
    pii_total: str | None = None
    pii_ner_scanned: str | None = None  # the documents spaCy's NER read (a sample) when not every scanned one
    has_dedup: bool = False


@dataclass
class RecipeEvaluation:
    name: str
    metrics: dict[str, float]
    graders: dict[str, str] = field(default_factory=dict)  # detector -> "independent" or "circular"
    samples: list[dict] = field(default_factory=list)  # redacted excerpts of removed documents, by first rule
    collateral: dict = field(default_factory=dict)  # removed documents no grader flags, by language and host

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
    calibrated: list[str] = field(default_factory=list)  # detectors whose prevalence could be corrected


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


def language_group_column(table: DataFrame) -> Column:
    """The document's language group (filters/language.py LANGUAGE_GROUPS) from its detected language."""
    code = F.col(language_column(table))
    group = F.when(code.isNull(), F.lit("unknown")).when(code == "en", F.lit("en"))
    for name, codes in (("latin", LATIN_SCRIPT), ("cyrillic", CYRILLIC_SCRIPT), ("cjk", CJK)):
        group = group.when(code.isin(*sorted(codes)), F.lit(name))
    return group.otherwise(F.lit("other"))


def with_buckets(decided: DataFrame) -> DataFrame:
    return decided.select("*", F.pmod(F.xxhash64("doc_id"), F.lit(BUCKETS)).alias(BUCKET),
                          language_group_column(decided).alias(GROUP))


def flag_of(measures: MeasureColumns, detector: str) -> Column:
    return F.coalesce(F.col(measures.harm_flags[detector]), F.lit(False))


def recipe_counters(index: int, plan: RecipePlan, measures: MeasureColumns) -> dict[str, Column]:
    """The counters of recipe i (see jobs/metrics.py), as aggregate expressions over the decided frame."""
    is_kept = F.col(kept(index))
    counters = {M.kept(M.DOCS): count_if(is_kept), M.kept(M.CHARS): sum_if(is_kept, "text_chars"),
                M.kept(M.WORDS): sum_if(is_kept, "words")}
    for detector, column in measures.harm_flags.items():
        counters[M.flagged(detector)] = count_if(is_kept & flag_of(measures, detector))
        counters[M.readable(detector)] = count_if(is_kept & F.col(column).isNotNull())
    graders = plan.independent(list(measures.harm_flags))
    if graders:
        flagged_by_a_grader = F.greatest(*[flag_of(measures, d) for d in graders], F.lit(False))
        counters[M.REMOVED_UNFLAGGED] = count_if(~is_kept & ~flagged_by_a_grader)
    if measures.pii_total:
        counters.update(pii_counters(is_kept, measures))
    return counters


def pii_counters(is_kept: Column, measures: MeasureColumns) -> dict[str, Column]:
    """PII among the kept documents each entity type was searched in: the scanned ones (NULL pii_total outside
    pii.sample), and for the NER types the NER sample (pii_ner_scanned) when there is one."""
    scanned = is_kept & F.col(measures.pii_total).isNotNull()
    searched = {M.PII_SCANNED_SET: scanned}
    if measures.pii_ner_scanned:
        searched[M.PII_NER_SET] = is_kept & F.coalesce(F.col(measures.pii_ner_scanned), F.lit(False))
    counters = {M.kept("pii_docs"): count_if(scanned & (F.col(measures.pii_total) > 0))}
    for name, condition in searched.items():
        counters[M.kept(name)] = count_if(condition)
        counters[M.kept(M.chars_of(name))] = sum_if(condition, "text_chars")
    for entity, column in measures.pii_counts.items():
        condition = searched[M.searched_set(entity, measures.pii_ner_scanned is not None)]
        counters[M.pii_entities(entity)] = F.sum(F.when(condition, F.coalesce(F.col(column), F.lit(0))).otherwise(0))
        counters[M.pii_holding(entity)] = count_if(condition & (F.col(column) > 0))
    if any(entity in NER_ENTITIES for entity in measures.pii_counts):
        people = [column for entity, column in measures.pii_counts.items()
                  if entity in PEOPLE_ENTITIES or entity in PERSONAL_IDENTIFIERS]
        holds = F.greatest(*[F.coalesce(F.col(column), F.lit(0)) > 0 for column in people], F.lit(False))
        counters[M.PII_PEOPLE_DOCS] = count_if(searched[M.ner_set(measures.pii_ner_scanned is not None)] & holds)
    return counters


Counts = dict[str, np.ndarray]


def count_recipes(decided: DataFrame, plans: list[RecipePlan], measures: MeasureColumns) -> list[Counts]:
    """Every recipe's counters per bucket and language group, in one aggregation: [buckets, groups] arrays."""
    everything = {M.DOCS: F.count(F.lit(1)), M.CHARS: F.sum("text_chars"), M.WORDS: F.sum("words")}
    counters = [recipe_counters(index, plan, measures) for index, plan in enumerate(plans)]
    expressions = [expression.alias(name) for name, expression in everything.items()]
    expressions += [expression.alias(f"{index}\t{name}") for index, group in enumerate(counters)
                    for name, expression in group.items()]
    rows = decided.groupBy(BUCKET, GROUP).agg(*expressions).collect()
    shared = grouped_arrays(rows, list(everything))
    arrays = grouped_arrays(rows, [f"{index}\t{name}" for index, group in enumerate(counters) for name in group])
    counts: list[Counts] = [dict(shared) for _ in plans]
    for key, array in arrays.items():
        index, name = key.split("\t", 1)
        counts[int(index)][name] = array
    return counts


def grouped_arrays(rows: list, names: list[str]) -> dict[str, np.ndarray]:
    """Rows of (bucket, language group, counters...) -> {counter: [buckets, groups]} (zeros where no row)."""
    arrays = {name: np.zeros((BUCKETS, len(LANGUAGE_GROUPS))) for name in names}
    for row in rows:
        position = (row[BUCKET], LANGUAGE_GROUPS.index(row[GROUP]))
        for name in names:
            arrays[name][position] = float(row[name] or 0)
    return arrays


def count_removals(decided: DataFrame, plans: list[RecipePlan], measures: MeasureColumns) -> list[dict[str, float]]:
    """Per recipe, the documents each rule removed first and removes at all (exact counts, one aggregation)."""
    expressions = []
    for index, plan in enumerate(plans):
        for j, rule in enumerate(plan.predicates):
            expressions.append(count_if(F.col(rule_flag(index, j))).alias(f"{index}\t{M.removed_any(rule)}"))
            expressions.append(count_if(F.col(first_rule(index)) == rule).alias(f"{index}\t{M.removed_first(rule)}"))
        if plan.dedup != "none" and measures.has_dedup:
            expressions.append(count_if(F.col(first_rule(index)) == M.DEDUP_RULE)
                               .alias(f"{index}\t{M.removed_first(M.DEDUP_RULE)}"))
    removals: list[dict[str, float]] = [{} for _ in plans]
    if expressions:
        for key, value in decided.agg(*expressions).collect()[0].asDict().items():
            index, name = key.split("\t", 1)
            removals[int(index)][name] = float(value or 0)
    return removals


def count_duplicates(decided: DataFrame, pairs: DataFrame | None, plans: list[RecipePlan]) -> list[Counts]:
    """Per recipe, per bucket and language group: kept documents with another kept document at each estimated
    Jaccard level, from the similar pairs the dedup stage measured (jobs/spark/dedup.py similar_pairs: pairs
    of signature representatives; documents with identical signatures are at 1.0), independent of any
    recipe's clusters; and kept documents whose normalised text another kept document has (exact copies)."""
    count = range(len(plans))
    flags = decided.select("doc_id", BUCKET, GROUP, "exact_hash", *[kept(i) for i in count],
                           *(["representative"] if pairs is not None else []))
    exact = flags.where(F.col("exact_hash").isNotNull()).groupBy("exact_hash").agg(
        *[count_if(F.col(kept(i))).alias(f"copies_{i}") for i in count])
    documents = flags.join(exact, "exact_hash", "left")
    named: dict[str, Column] = {f"{i}\t{M.kept('exact_dup')}": count_if(F.col(kept(i)) & (F.col(f"copies_{i}") >= 2))
                                for i in count}
    if pairs is not None:
        kept_in_group = flags.where(F.col("representative").isNotNull()).groupBy("representative").agg(
            *[count_if(F.col(kept(i))).alias(f"group_{i}") for i in count])
        both_ways = pairs.select("u", "v", "jaccard").unionByName(
            pairs.select(F.col("v").alias("u"), F.col("u").alias("v"), "jaccard"))
        partners = both_ways.join(kept_in_group.withColumnRenamed("representative", "v"), "v").groupBy(
            F.col("u").alias("representative")).agg(
            *[F.max(F.when(F.col(f"group_{i}") > 0, F.col("jaccard"))).alias(f"partner_{i}") for i in count])
        documents = documents.join(kept_in_group, "representative", "left").join(partners, "representative", "left")
        for i in count:
            best = F.greatest(F.when(F.col(f"group_{i}") >= 2, F.lit(1.0)), F.col(f"partner_{i}"))
            for level in M.NEAR_DUP_LEVELS:
                named[f"{i}\t{M.near_dup(level)}"] = count_if(F.col(kept(i)) & (best >= level))
    rows = documents.groupBy(BUCKET, GROUP).agg(*[e.alias(name) for name, e in named.items()]).collect()
    counts: list[Counts] = [{} for _ in plans]
    for key, array in grouped_arrays(rows, list(named)).items():
        index, name = key.split("\t", 1)
        counts[int(index)][name] = array
    return counts


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
    rows = sorted(rows, key=lambda r: (r["recipe"], r["rule"], r["doc_id"]))
    first = {row["doc_id"]: row for row in rows}  # a document several recipes remove is redacted once
    excerpts = dict(zip(first, redact_excerpts([(row["text"] or "", row["pii_spans"] if spans else None)
                                                for row in first.values()], EXCERPT_CHARS), strict=True))
    samples: list[list[dict]] = [[] for _ in plans]
    for row in rows:
        samples[row["recipe"]].append({"rule": row["rule"], "doc_id": row["doc_id"],
                                       "excerpt": excerpts[row["doc_id"]]})
    return samples


def language_column(table: DataFrame) -> str:
    return "language" if "language" in table.columns else "declared_language"


def flagged_by_any(measures: MeasureColumns, detectors: list[str]) -> Column:
    return F.greatest(*[flag_of(measures, detector) for detector in detectors], F.lit(False))


def collateral_breakdowns(decided: DataFrame, plans: list[RecipePlan], measures: MeasureColumns) -> list[dict]:
    """Per recipe, removed documents that none of its independent detectors flags, by language and by host:
    who loses text."""
    language = language_column(decided)
    unflagged = [~flagged_by_any(measures, plan.independent(list(measures.harm_flags))) for plan in plans]

    def breakdown(column: str) -> list[list[dict]]:
        value = F.coalesce(F.col(column), F.lit("unknown")).alias("value")
        lost = [count_if(~F.col(kept(index)) & unflagged[index]).alias(f"l{index}") for index in range(len(plans))]
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
             truth_paths: list[Path], pairs: DataFrame | None = None,
             calibrations: dict[str, M.DetectorCalibration] | None = None) -> Evaluation:
    """The unfiltered input's metrics and every recipe's, with intervals, samples and collateral, from one
    decided frame. `pairs` are the similar pairs (u, v, jaccard) the dedup stage measured; `calibrations` the
    detectors' web-page labeled units (for the corrected prevalence)."""
    everything = [BASELINE, *plans]
    decided = with_buckets(decide(table, everything, measures)).persist(StorageLevel.MEMORY_AND_DISK)
    try:
        counts = count_recipes(decided, everything, measures)
        if measures.has_dedup:
            for recipe_counts, duplicates in zip(counts, count_duplicates(decided, pairs, everything), strict=True):
                recipe_counts.update(duplicates)
        detectors = list(measures.harm_flags)
        evaluator = M.Evaluator(counts[0], detectors, calibrations or {}, buckets=BUCKETS)
        metrics = [evaluator.recipe_metrics(recipe_counts, set(detectors) - set(plan.independent(detectors)))
                   for recipe_counts, plan in zip(counts, everything, strict=True)]
        for recipe_metrics, removals in zip(metrics, count_removals(decided, everything, measures), strict=True):
            recipe_metrics.update(removals)
        if truth_paths:
            truth = load_truth(spark, truth_paths)
            for recipe_metrics, scores in zip(metrics, truth_metrics(decided, truth, everything), strict=True):
                recipe_metrics.update(scores)
        samples = removed_samples(decided, documents, everything)
        collateral = collateral_breakdowns(decided, everything, measures)
        results = []
        for index, plan in enumerate(everything):
            if index:
                recipe_graders = graders(plan, detectors)
                metrics[index].update(M.headline_changes(metrics[index], recipe_graders))
                results.append(RecipeEvaluation(plan.name, metrics[index], recipe_graders, samples[index],
                                                collateral[index]))
        return Evaluation(metrics[0], results, sources_summary(table), detectors,
                          [d for d in detectors if evaluator.estimable(d)])
    finally:
        decided.unpersist()


def graders(plan: RecipePlan, detectors: list[str]) -> dict[str, str]:
    independent = set(plan.independent(detectors))
    return {detector: "independent" if detector in independent else "circular" for detector in detectors}
