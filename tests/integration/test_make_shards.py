"""make-shards: CC-like shards that both parsers read, and planted truth that is really there.

The shards are made from the real bundled samples (Dolma texts, presidio-research PII sentences,
Davidson/Jigsaw toxic sentences, UT1 adult domains) and every check reads them back the way the
ingest does (cc_sieve.jobs.reading.reader), then compares with the recorded truth.
"""

from __future__ import annotations

import pytest

from cc_sieve.jobs import metrics as M
from cc_sieve.jobs.spark.evaluate import MeasureColumns, RecipePlan, decide, load_truth, truth_metrics


def test_benchmark_truth_scoring_per_recipe(spark, shards, truth, wet):
    """The planted-truth metrics on this truth: a recipe that drops every planted PII document
    and the near-duplicate copies at 0.8 and above leaves none of those, and all of the rest."""
    rows = {r["doc_id"]: r for r in truth if r["format"] == "wet"}
    table = spark.createDataFrame(
        [(doc_id, bool(rows.get(doc_id, {}).get("pii")), rows.get(doc_id, {}).get("jaccard_target"))
         for doc_id in wet], "doc_id string, pii_found boolean, copy_level double")
    plan = RecipePlan("test", {"pii": "pii_found", "close_copy": "copy_level >= 0.8"})
    decided = decide(table, [plan], MeasureColumns())
    [metrics] = truth_metrics(decided, load_truth(spark, [shards / "truth.jsonl"]), [plan])
    pii_docs = {d for d, r in rows.items() if r.get("pii")}
    toxic = [d for d, r in rows.items() if r.get("toxic")]
    assert metrics[M.truth("pii_docs_planted")] == 50 and metrics[M.truth("pii_docs_remaining_share")] == 0.0
    assert metrics[M.truth("toxic_docs_remaining_share")] == len(set(toxic) - pii_docs) / len(toxic)
    assert metrics[M.truth("exact_dup_remaining_share")] == 1.0
    assert metrics[M.truth("near_dup_0.5_remaining_share")] == metrics[M.truth("near_dup_0.7_remaining_share")] == 1.0
    assert {metrics[M.truth(f"near_dup_{level}_remaining_share")] for level in ("0.8", "0.9", "0.95")} == {0.0}
    assert metrics[M.truth("near_dup_remaining_share")] == pytest.approx(0.4)
