"""Metric names, and every metric derived from the counts the evaluation collects (pure Python).

Every metric a benchmark logs is named here and only here: MLflow, the report, the notebook, the console
table and the tests read these names. Spark (jobs/spark/evaluate.py) only counts; the rates, shares,
reductions and intervals are computed from those counts by `recipe_metrics`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

# Counts and shares of what a recipe keeps
DOCS_IN, DOCS_KEPT, DOCS_REMOVED = "docs_in", "docs_kept", "docs_removed"
CHARS_IN, CHARS_KEPT, WORDS_IN, WORDS_KEPT = "chars_in", "chars_kept", "words_in", "words_kept"
RETENTION_DOCS, RETENTION_CHARS, RETENTION_WORDS = "retention_docs", "retention_chars", "retention_words"
# Duplicates among the kept documents (the dedup stage's clusters)
DUPLICATES_REMAINING, DUPLICATE_CLUSTERS_REMAINING, DUPLICATE_RATE = (
    "duplicates_remaining", "duplicate_clusters_remaining", "duplicate_rate")
# PII among the kept documents that the PII measurement scanned
PII_DOC_RATE, PII_PER_1K_DOCS = "pii_doc_rate", "pii_per_1k_docs"
PII_DOCS_KEPT, PII_DOCS_IN, PII_SCANNED_KEPT, PII_SCANNED_IN = (
    "pii_docs_kept", "pii_docs_in", "pii_scanned_kept", "pii_scanned_in")
# Removed documents that no harm detector flags
REMOVED_UNFLAGGED, COLLATERAL = "removed_unflagged", "collateral"
DEDUP_RULE = "dedup"  # the name removals by a recipe's dedup step go under


def removed_first(rule: str) -> str:
    """Documents this rule removed first, in recipe order."""
    return f"removed_first.{rule}"


def removed_any(rule: str) -> str:
    """Documents this rule would remove, whatever removed them first."""
    return f"removed_any.{rule}"


def harm_rate(detector: str) -> str:
    return f"harm_rate.{detector}"


def harm_flagged_kept(detector: str) -> str:
    return f"harm_flagged_kept.{detector}"


def harm_flagged_in(detector: str) -> str:
    return f"harm_flagged_in.{detector}"


def pii_entities_kept(entity: str) -> str:
    return f"pii_entities_kept.{entity}"


def pii_per_1k_docs(entity: str | None = None) -> str:
    return PII_PER_1K_DOCS if entity is None else f"{PII_PER_1K_DOCS}.{entity}"


def squares(name: str) -> str:
    """The sum of squares of a per-document count, kept for its interval (not logged)."""
    return f"squares.{name}"


def reduction(name: str) -> str:
    """Relative reduction of a rate against the unfiltered input: (raw - recipe) / raw; plus means less."""
    return f"reduction_vs_raw.{name}"


def unfiltered(name: str) -> str:
    """A metric of the unfiltered input, logged on the benchmark's parent run."""
    return f"unfiltered.{name}"


def interval(name: str, bound: str) -> str:
    """`sample_size`, `ci_low` or `ci_high` of a rate measured on a sample."""
    return f"{name}.{bound}"


def truth(name: str) -> str:
    """A planted-truth metric (make-shards' truth.jsonl)."""
    return f"truth.{name}"


def is_removal(name: str) -> bool:
    return name.startswith(("removed_first.", "removed_any."))


def rule_of(name: str) -> str:
    return name.split(".", 1)[1]


REDUCED = (DUPLICATE_RATE, PII_DOC_RATE, PII_PER_1K_DOCS)  # rates whose reduction against raw is logged


# ---------------------------------------------------------------------------------------------
# Intervals

Z_95 = 1.959963984540054


def ratio(numerator: float, denominator: float) -> float:
    return numerator / denominator if denominator else 0.0


def wilson_interval(successes: float, n: float, z: float = Z_95) -> tuple[float, float]:
    """95% Wilson score interval of a proportion (sound near 0 and 1, unlike the normal one)."""
    if not n:
        return 0.0, 1.0
    p = successes / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return max(0.0, centre - half), min(1.0, centre + half)


def mean_interval(total: float, sum_of_squares: float, n: float, z: float = Z_95) -> tuple[float, float]:
    """95% interval of the mean count per document from its sum and sum of squares: the normal (CLT)
    interval with the sample variance, which allows for documents with many entities (over-dispersion);
    when the sample holds no entity at all, the rule of three (0 to 3/n). Needs n >= 2."""
    if not total:
        return 0.0, 3.0 / n
    mean = total / n
    variance = max(sum_of_squares / n - mean * mean, 0.0) * n / (n - 1)
    half = z * math.sqrt(variance / n)
    return max(0.0, mean - half), mean + half


def add_interval(metrics: dict[str, float], name: str, sample_size: float, low: float, high: float) -> None:
    metrics[interval(name, "sample_size")] = sample_size
    metrics[interval(name, "ci_low")] = low
    metrics[interval(name, "ci_high")] = high


# ---------------------------------------------------------------------------------------------
# Metrics from counts

def recipe_metrics(counts: Mapping[str, float], pii_entities: list[str], detectors: list[str]) -> dict[str, float]:
    """Every metric of one recipe from its counts (`counts` holds the counters named above; squares are used for
    intervals and dropped)."""
    metrics = {name: value for name, value in counts.items() if not name.startswith("squares.")}
    kept, docs_in = counts[DOCS_KEPT], counts[DOCS_IN]
    metrics[RETENTION_DOCS] = ratio(kept, docs_in)
    metrics[RETENTION_CHARS] = ratio(counts[CHARS_KEPT], counts[CHARS_IN])
    metrics[RETENTION_WORDS] = ratio(counts[WORDS_KEPT], counts[WORDS_IN])
    metrics[DOCS_REMOVED] = docs_in - kept
    if PII_SCANNED_KEPT in counts:
        scanned = counts[PII_SCANNED_KEPT]
        sampled = counts[PII_SCANNED_IN] < docs_in and scanned >= 2  # pii.sample < 1: intervals
        metrics[PII_DOC_RATE] = ratio(counts[PII_DOCS_KEPT], scanned)
        if sampled:
            add_interval(metrics, PII_DOC_RATE, scanned, *wilson_interval(counts[PII_DOCS_KEPT], scanned))
        total = 0.0
        for entity in pii_entities:
            entities = counts[pii_entities_kept(entity)]
            total += entities
            metrics[pii_per_1k_docs(entity)] = 1000 * ratio(entities, scanned)
            if sampled:
                low, high = mean_interval(entities, counts[squares(pii_entities_kept(entity))], scanned)
                add_interval(metrics, pii_per_1k_docs(entity), scanned, 1000 * low, 1000 * high)
        metrics[PII_PER_1K_DOCS] = 1000 * ratio(total, scanned)
        if sampled:
            low, high = mean_interval(total, counts[squares(PII_PER_1K_DOCS)], scanned)
            add_interval(metrics, PII_PER_1K_DOCS, scanned, 1000 * low, 1000 * high)
    for detector in detectors:
        metrics[harm_rate(detector)] = ratio(counts[harm_flagged_kept(detector)], kept)
    if detectors:
        metrics[COLLATERAL] = ratio(counts[REMOVED_UNFLAGGED], docs_in - kept)
    if DUPLICATES_REMAINING in counts:
        metrics[DUPLICATE_RATE] = ratio(counts[DUPLICATES_REMAINING], kept)
    return metrics


def with_reductions(metrics: dict[str, float], baseline: Mapping[str, float]) -> dict[str, float]:
    """Relative reduction of each harm rate, PII rate and duplicate rate against the unfiltered input."""
    reductions = {}
    for name, value in metrics.items():
        if name.startswith("harm_rate.") or name in REDUCED:
            base = baseline.get(name, 0.0)
            reductions[reduction(name)] = (base - value) / base if base else 0.0
    return {**metrics, **reductions}
