"""Recipe evaluation in Spark SQL: rule decisions, dedup before or after the rules, survivor policies."""

from __future__ import annotations

from datetime import datetime

import pytest

from cc_sieve.jobs import metrics as M
from cc_sieve.jobs.spark.evaluate import (
    BASELINE,
    BUCKETS,
    MeasureColumns,
    RecipePlan,
    count_duplicates,
    count_recipes,
    count_removals,
    decide,
    with_buckets,
)

SHORT = {"short": "text_chars < 200"}


DEDUP = MeasureColumns(has_dedup=True)


@pytest.fixture(scope="module")
def table(spark):
    """a, b, c are one near-duplicate cluster (a survives the global dedup); d stands alone.
    a is too short for the rule; c is the longest and the oldest of the cluster; b and c have the same text."""
    rows = [("a", 100, 20, datetime(2021, 1, 1), "a", True, 1),
            ("b", 500, 90, datetime(2020, 1, 1), "a", False, 2),
            ("c", 600, 110, datetime(2019, 1, 1), "a", False, 2),
            ("d", 250, 40, datetime(2022, 1, 1), "d", True, 4)]
    return spark.createDataFrame(
        [(*row, "shard-0", index, "en") for index, row in enumerate(rows)],
        "doc_id string, text_chars long, words long, fetch_date timestamp, dup_cluster_id string, dup_keep boolean, "
        "exact_hash long, source_shard string, record_offset long, language string")


def decisions(table, plan: RecipePlan) -> dict[str, tuple[bool, str | None]]:
    decided = decide(table, [plan], DEDUP)
    return {r["doc_id"]: (r["_kept_0"], r["_first_0"]) for r in decided.collect()}


def recipe_metrics(table, plan: RecipePlan) -> dict[str, float]:
    decided = with_buckets(decide(table, [BASELINE, plan], DEDUP))
    counts = count_recipes(decided, [BASELINE, plan], DEDUP)
    for recipe_counts, duplicates in zip(counts, count_duplicates(decided, None, [BASELINE, plan]), strict=True):
        recipe_counts.update(duplicates)
    metrics = M.Evaluator(counts[0], [], buckets=BUCKETS, replicates=100).recipe_metrics(counts[1])
    return {**metrics, **count_removals(decided, [BASELINE, plan], DEDUP)[1]}


def test_rules_alone(table):
    assert decisions(table, RecipePlan("x", SHORT)) == {
        "a": (False, "short"), "b": (True, None), "c": (True, None), "d": (True, None)}


def test_dedup_before_the_rules_keeps_the_global_survivor_only(table):
    assert decisions(table, RecipePlan("x", SHORT, dedup="before")) == {
        "a": (False, "short"), "b": (False, "dedup"), "c": (False, "dedup"), "d": (True, None)}


@pytest.mark.parametrize(("survivor", "kept", "dropped"), [("smallest_doc_id", "b", "c"), ("longest", "c", "b"),
                                                           ("oldest", "c", "b")])
def test_dedup_after_the_rules_picks_the_survivor_among_the_kept(table, survivor, kept, dropped):
    decided = decisions(table, RecipePlan("x", SHORT, dedup="after", survivor=survivor))
    assert decided["a"] == (False, "short") and decided["d"] == (True, None)
    assert decided[kept] == (True, None) and decided[dropped] == (False, "dedup")


def test_every_recipe_decided_in_one_frame_as_each_alone(table):
    plans = [RecipePlan("x", SHORT), RecipePlan("y", SHORT, dedup="before"), RecipePlan("z", SHORT, dedup="after")]
    together = decide(table, plans, DEDUP).collect()
    for index, plan in enumerate(plans):
        alone = decisions(table, plan)
        assert {r["doc_id"]: (r[f"_kept_{index}"], r[f"_first_{index}"]) for r in together} == alone


def test_metrics_count_kept_text_and_remaining_duplicates(table):
    rules_only = recipe_metrics(table, RecipePlan("x", SHORT))
    assert rules_only[M.DOCS_KEPT] == 3 and rules_only[M.CHARS_KEPT] == 1350 and rules_only[M.WORDS_KEPT] == 240
    assert rules_only[M.removed_first("short")] == 1 and rules_only[M.RETENTION_DOCS] == 0.75
    assert rules_only[M.EXACT_DUP_RATE] == pytest.approx(2 / 3)  # b and c, the same text
    after = recipe_metrics(table, RecipePlan("x", SHORT, dedup="after"))
    assert after[M.DOCS_KEPT] == 2 and after[M.removed_first(M.DEDUP_RULE)] == 1 and after[M.EXACT_DUP_RATE] == 0
