"""Harm detectors on real texts, real list entries and the real Common Crawl sample; pii_density in Spark."""

from __future__ import annotations

from cc_sieve.filters.harm import (
    DETECTORS,
    PII_PER_1K_WORDS_THRESHOLD,
)
from cc_sieve.jobs.config.presets import BenchmarkConfig, InputConfig
from cc_sieve.jobs.config.recipes import load_recipes
from cc_sieve.jobs.reading.inputs import resolve_inputs
from cc_sieve.jobs.reading.options import ReadOptions
from cc_sieve.jobs.spark.ingest import run_ingest
from cc_sieve.jobs.spark.stages import annotate_stage, measure_columns, with_pii_density
from tests.support.samples import DOLMA_JSONL


def test_pii_density_is_derived_in_spark_and_picked_up_as_a_measure(spark):
    rows = [("a", 3, 0, 200), ("b", 1, 0, 1000), ("c", None, None, 100), ("d", 2, 0, 0), ("e", 12, 2, 1000),
            ("f", 30, 30, 100)]
    table = spark.createDataFrame(rows, "doc_id string, pii_total long, pii_URL long, words long")
    derived = {r["doc_id"]: (r["harm_pii_density"], r["harm_pii_density_score"])
               for r in with_pii_density(table, PII_PER_1K_WORDS_THRESHOLD).collect()}
    assert derived == {"a": (True, 15.0), "b": (False, 1.0), "c": (None, None), "d": (None, None),
                       "e": (True, 10.0), "f": (False, 0.0)}  # f: links only
    without_urls = with_pii_density(table.drop("pii_URL"), PII_PER_1K_WORDS_THRESHOLD)
    assert without_urls.where("doc_id = 'f'").first()["harm_pii_density_score"] == 300.0
    assert with_pii_density(table.drop("pii_total"), 10.0).columns == ["doc_id", "pii_URL", "words"]
    config = BenchmarkConfig.model_validate({"input": {"specs": ["data/commoncrawl"]}, "recipes": ["raw"]})
    measures = measure_columns(with_pii_density(table, 10.0).columns, config)
    assert measures.harm_flags == {"pii_density": "harm_pii_density"}
    assert measures.pii_counts == {"URL": "pii_URL"} and measures.pii_total == "pii_total"


def test_annotate_pass_in_spark_writes_every_detector_beside_the_recipes_rules(spark, tmp_path):
    """The detectors through mapInArrow in a Spark Python worker, in one pass with the badwords and
    url-blocklist recipes' annotators (the same UT1 list and language guesses), on the real Dolma sample."""
    run_ingest(spark, resolve_inputs(InputConfig(specs=[str(DOLMA_JSONL)])), str(tmp_path / "ingest"), ReadOptions())
    documents = spark.read.parquet(str(tmp_path / "ingest" / "documents"))
    config = BenchmarkConfig.model_validate({"input": {"specs": [str(DOLMA_JSONL)]},
                                             "recipes": ["badwords", "url-blocklist"],
                                             "dedup": {"enabled": False}, "pii": {"enabled": False}})
    annotated = annotate_stage(spark, documents, config, load_recipes(config.recipes), tmp_path)
    table, measures = annotated.table, annotated.measures
    assert set(measures.harm_flags) == {d.name for d in DETECTORS if d.kind != "derived"}
    counts = table.selectExpr(*[f"count_if({d.column}) AS {d.name}" for d in DETECTORS if d.kind != "derived"],
                              "count_if(badwords_match) AS rule").collect()[0].asDict()
    # languages by fastText's lid.176 (py3langid before: 30, 8, 8, 1 and 30; tests/unit/test_harm.py says why)
    assert (counts["ldnoobw"], counts["davidson_hate"], counts["profanity"], counts["url_mixed_adult"]) == (31, 7, 8, 1)
    assert counts["rule"] == 31  # C4's list flags as many sample pages, not all the same ones
    differ = table.where("coalesce(harm_ldnoobw, false) != coalesce(badwords_match, false)").count()
    assert differ == 2
    assert table.count() == 697
