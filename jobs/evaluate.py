"""Evaluate recipes over the annotations table: Spark SQL aggregations, no second pass over text.

A recipe is a set of removal predicates (one SQL expression per rule, TRUE when the rule
removes the document) plus a dedup policy. For each recipe one aggregation gives documents,
characters and words kept, removals per rule (the first rule that removed a document, and any
rule that would have), duplicates remaining, PII and harm rates among kept documents, and the
collateral: removed documents that no harm detector flags.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

DEDUP_RULE = "dedup"


@dataclass(frozen=True)
class RecipePlan:
    """What evaluation needs of a recipe: its name, rule predicates in order, and dedup placement."""

    name: str
    predicates: dict[str, str]
    dedup: str = "none"  # "none" | "before" (dedup, then rules) | "after" (rules, then dedup among kept)
    survivor: str = "smallest_doc_id"  # who survives among kept duplicates (jobs.dedup.SURVIVOR_ORDERS)
    params: dict = field(default_factory=dict)


@dataclass(frozen=True)
class MeasureColumns:
    """Which annotation columns hold harm flags and PII counts (empty when not annotated)."""

    harm_flags: dict[str, str] = field(default_factory=dict)  # detector name -> boolean column
    pii_counts: dict[str, str] = field(default_factory=dict)  # entity type -> count column
    pii_total: str | None = None
    has_dedup: bool = False


def quote(name: str) -> str:
    return f"`{name}`"


def with_decisions(annotations, plan: RecipePlan, measures: MeasureColumns):
    """Add `_removed_by_rules`, `_kept` and `_first_rule` columns for one recipe."""
    from pyspark.sql import functions as F
    from pyspark.sql.window import Window

    rule_flags = {rule: F.coalesce(F.expr(sql), F.lit(False)) for rule, sql in plan.predicates.items()}
    df = annotations
    for index, flag in enumerate(rule_flags.values()):
        df = df.withColumn(f"_rule_{index}", flag)
    rule_columns = [F.col(f"_rule_{i}") for i in range(len(rule_flags))]
    removed_by_rules = F.greatest(*rule_columns, F.lit(False)) if rule_columns else F.lit(False)
    df = df.withColumn("_removed_by_rules", removed_by_rules)

    first_rule = F.lit(None).cast("string")
    for index, rule in reversed(list(enumerate(rule_flags))):
        first_rule = F.when(F.col(f"_rule_{index}"), F.lit(rule)).otherwise(first_rule)

    if plan.dedup == "none" or not measures.has_dedup:
        df = df.withColumn("_kept", ~F.col("_removed_by_rules")).withColumn("_first_rule", first_rule)
    elif plan.dedup == "before":
        df = df.withColumn("_kept", F.col("dup_keep") & ~F.col("_removed_by_rules"))
        df = df.withColumn("_first_rule", F.when(~F.col("dup_keep"), F.lit(DEDUP_RULE)).otherwise(first_rule))
    elif plan.dedup == "after":
        from jobs.dedup import survivor_order

        survivors = Window.partitionBy("dup_cluster_id", "_removed_by_rules").orderBy(
            *survivor_order(plan.survivor, df.columns))
        df = df.withColumn("_rank_in_cluster", F.row_number().over(survivors))
        dup_removed = ~F.col("_removed_by_rules") & (F.col("_rank_in_cluster") > 1)
        df = df.withColumn("_kept", ~F.col("_removed_by_rules") & ~dup_removed)
        df = df.withColumn("_first_rule", F.when(dup_removed, F.lit(DEDUP_RULE)).otherwise(first_rule))
    else:
        raise ValueError(f"recipe {plan.name}: dedup must be none, before or after, not {plan.dedup!r}")
    return df, list(rule_flags)


def recipe_metrics(annotations, plan: RecipePlan, measures: MeasureColumns) -> dict[str, float]:
    """All metrics of one recipe, in one aggregation (plus one for duplicates remaining)."""
    from pyspark.sql import functions as F

    df, rules = with_decisions(annotations, plan, measures)
    kept = F.col("_kept")
    removed = ~kept

    def count_if(condition):
        return F.sum(F.when(condition, 1).otherwise(0))

    def sum_if(condition, column):
        return F.sum(F.when(condition, F.col(column)).otherwise(0))

    aggregations = {
        "docs_in": F.count(F.lit(1)),
        "docs_kept": count_if(kept),
        "chars_in": F.sum("text_chars"),
        "chars_kept": sum_if(kept, "text_chars"),
        "words_in": F.sum("words"),
        "words_kept": sum_if(kept, "words"),
    }
    for index, rule in enumerate(rules):
        aggregations[f"removed_any.{rule}"] = count_if(F.col(f"_rule_{index}"))
        aggregations[f"removed_first.{rule}"] = count_if(F.col("_first_rule") == rule)
    if plan.dedup != "none" and measures.has_dedup:
        aggregations[f"removed_first.{DEDUP_RULE}"] = count_if(F.col("_first_rule") == DEDUP_RULE)
    if measures.pii_total:
        # a document outside the PII sample has NULL counts: PII rates are among scanned documents
        scanned = F.col(measures.pii_total).isNotNull()
        aggregations["pii_docs_kept"] = count_if(kept & (F.col(measures.pii_total) > 0))
        aggregations["pii_docs_in"] = count_if(F.col(measures.pii_total) > 0)
        aggregations["pii_scanned_kept"] = count_if(kept & scanned)
        aggregations["pii_scanned_in"] = count_if(scanned)
        aggregations["pii_squares_kept"] = F.sum(F.when(kept, F.col(measures.pii_total) ** 2).otherwise(0))
        for entity, column in measures.pii_counts.items():
            aggregations[f"pii_entities_kept.{entity}"] = sum_if(kept, column)
            aggregations[f"pii_squares_kept.{entity}"] = F.sum(F.when(kept, F.col(column) ** 2).otherwise(0))
    any_harm = F.lit(False)
    for detector, column in measures.harm_flags.items():
        flag = F.coalesce(F.col(column), F.lit(False))
        aggregations[f"harm_flagged_kept.{detector}"] = count_if(kept & flag)
        aggregations[f"harm_flagged_in.{detector}"] = count_if(flag)
        any_harm = any_harm | flag
    if measures.harm_flags:
        aggregations["removed_unflagged"] = count_if(removed & ~any_harm)

    row = df.agg(*[expr.alias(name) for name, expr in aggregations.items()]).collect()[0].asDict()
    counts = {name: float(value or 0) for name, value in row.items()}
    metrics = derived_metrics(counts, measures)
    if measures.has_dedup:
        metrics.update(duplicates_remaining(df))
    return metrics


def duplicates_remaining(df) -> dict[str, float]:
    """Kept documents that have another kept document in their duplicate cluster."""
    from pyspark.sql import functions as F

    per_cluster = df.where("_kept").groupBy("dup_cluster_id").count()
    row = per_cluster.agg(F.sum("count").alias("kept"), F.count(F.lit(1)).alias("clusters"),
                          F.sum(F.when(F.col("count") > 1, 1).otherwise(0)).alias("dup_clusters")).collect()[0]
    kept, clusters = float(row["kept"] or 0), float(row["clusters"] or 0)
    duplicates = kept - clusters
    return {"duplicates_remaining": duplicates, "duplicate_clusters_remaining": float(row["dup_clusters"] or 0),
            "duplicate_rate": duplicates / kept if kept else 0.0}


def ratio(numerator: float, denominator: float) -> float:
    return numerator / denominator if denominator else 0.0


Z_95 = 1.959963984540054


def wilson_interval(successes: float, n: float, z: float = Z_95) -> tuple[float, float]:
    """95% Wilson score interval of a proportion (sound near 0 and 1, unlike the normal one)."""
    if not n:
        return 0.0, 1.0
    p = successes / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return max(0.0, centre - half), min(1.0, centre + half)


def mean_interval(total: float, squares: float, n: float, z: float = Z_95) -> tuple[float, float]:
    """95% interval of the mean count per document from its sum and sum of squares: the normal (CLT)
    interval with the sample variance, which allows for documents with many entities (over-dispersion);
    when the sample holds no entity at all, the rule of three (0 to 3/n). Needs n >= 2."""
    if not total:
        return 0.0, 3.0 / n
    mean = total / n
    variance = max(squares / n - mean * mean, 0.0) * n / (n - 1)
    half = z * math.sqrt(variance / n)
    return max(0.0, mean - half), mean + half


def add_interval(metrics: dict[str, float], name: str, sample_size: float, low: float, high: float) -> None:
    metrics[f"{name}.sample_size"] = sample_size
    metrics[f"{name}.ci_low"] = low
    metrics[f"{name}.ci_high"] = high


def derived_metrics(counts: dict[str, float], measures: MeasureColumns) -> dict[str, float]:
    metrics = dict(counts)
    kept, docs_in = counts["docs_kept"], counts["docs_in"]
    metrics["retention_docs"] = ratio(kept, docs_in)
    metrics["retention_chars"] = ratio(counts["chars_kept"], counts["chars_in"])
    metrics["retention_words"] = ratio(counts["words_kept"], counts["words_in"])
    metrics["docs_removed"] = docs_in - kept
    if measures.pii_total:
        scanned = counts["pii_scanned_kept"]
        # pii.sample < 1: rates among scanned documents, with their 95% intervals
        sampled = counts["pii_scanned_in"] < docs_in and scanned >= 2
        metrics["pii_doc_rate"] = ratio(counts["pii_docs_kept"], scanned)
        if sampled:
            add_interval(metrics, "pii_doc_rate", scanned, *wilson_interval(counts["pii_docs_kept"], scanned))
        total = 0.0
        for entity in measures.pii_counts:
            entities = counts[f"pii_entities_kept.{entity}"]
            total += entities
            metrics[f"pii_per_1k_docs.{entity}"] = 1000 * ratio(entities, scanned)
            if sampled:
                low, high = mean_interval(entities, counts[f"pii_squares_kept.{entity}"], scanned)
                add_interval(metrics, f"pii_per_1k_docs.{entity}", scanned, 1000 * low, 1000 * high)
        metrics["pii_per_1k_docs"] = 1000 * ratio(total, scanned)
        if sampled:
            low, high = mean_interval(total, counts["pii_squares_kept"], scanned)
            add_interval(metrics, "pii_per_1k_docs", scanned, 1000 * low, 1000 * high)
        for name in [name for name in metrics if name.startswith("pii_squares_kept")]:
            del metrics[name]  # only for the intervals
    for detector in measures.harm_flags:
        metrics[f"harm_rate.{detector}"] = ratio(counts[f"harm_flagged_kept.{detector}"], kept)
    if measures.harm_flags:
        metrics["collateral"] = ratio(counts["removed_unflagged"], docs_in - kept)
    return metrics


def add_reductions(metrics: dict[str, float], baseline: dict[str, float]) -> dict[str, float]:
    """Relative reduction of each harm rate, PII rate and duplicate rate against the unfiltered run."""
    reductions = {}
    for name, value in metrics.items():
        if name.startswith("harm_rate.") or name in {"pii_doc_rate", "pii_per_1k_docs", "duplicate_rate"}:
            base = baseline.get(name, 0.0)
            reductions[f"reduction_vs_raw.{name}"] = (base - value) / base if base else 0.0
    return {**metrics, **reductions}
