"""The NER coverage simulation (jobs/bench/ner_coverage.py) sums the counters the benchmark's Spark evaluation
sums, and draws the samples the annotator draws; the coverage figures themselves come from `make
bench-ner-coverage` (NER on all 716 documents takes minutes; docs/measurement.md)."""

from __future__ import annotations

import numpy as np
import pytest

from cc_sieve.filters.pii import NER_ENTITIES, in_sample, ner_salt
from cc_sieve.jobs import metrics as M
from cc_sieve.jobs.bench import ner_coverage as C
from cc_sieve.jobs.config.presets import load_benchmark_config
from cc_sieve.jobs.spark.evaluate import count_recipes
from tests.support.samples import JWARC_2019_51, WARC_2020_34, WHIRLWIND_WARC

SHARDS = [WARC_2020_34, WHIRLWIND_WARC, JWARC_2019_51]  # 18 documents: NER on every one stays quick


@pytest.fixture(scope="module")
def decided(spark, tmp_path_factory):
    config = load_benchmark_config()
    config = config.model_copy(update={"input": config.input.model_copy(update={"specs": [str(s) for s in SHARDS]})})
    return C.decided_documents(spark, config, tmp_path_factory.mktemp("ner-coverage"))


def test_the_simulation_counts_as_spark_counts_and_a_whole_sample_is_the_truth(decided):
    table, plans, measures = decided
    population = C.population_of(table, plans, measures)
    assert len(population.doc_ids) == 18 and set(population.ner_types) == set(NER_ENTITIES)
    assert population.counts["PERSON"].sum() > 0
    for plan, spark_counts in enumerate(count_recipes(table, plans, measures)):
        for name, values in C.counters(population, plan, population.scanned).items():
            assert np.array_equal(values, spark_counts[name]), (population.plans[plan], name)
    # the documents a sample reads are those the annotator reads with that fraction and seed
    read = population.ner_sample(0.5, 5)
    assert list(read) == [in_sample(doc_id, 0.5, ner_salt(5)) for doc_id in population.doc_ids]
    assert 0 < read.sum() < 18
    # NER on every document: each estimate is the truth, and its interval holds it
    result = C.coverage(population, (1.0,), seeds=1)
    assert result["cases"] and all(case["covered"] and case["estimate"] == pytest.approx(case["truth"])
                                   for case in result["cases"])
    assert {case["measure"] for case in result["cases"]} == set(C.ner_measures(population))
    assert result["truth"][M.pii_doc_share("PERSON")] == pytest.approx(
        (population.counts["PERSON"] > 0).sum() / population.scanned.sum())

    # coverage by documents read: every level case of a plan that removes documents, in its bin
    levels = [case for case in result["cases"] if case["measure"].startswith(M.pii_per_1k_docs(""))
              and case["plan"] not in C.unchanged_plans(population)]
    bins = result["summary"]["1"]["by_read"].values()
    assert "raw" in C.unchanged_plans(population) and sum(b["cases"] for b in bins) == len(levels) > 0
    assert all(b["covered"] == b["cases"] for b in bins)
    # ten copies: an input ten times the size with the same truth, each copy drawn for NER on its own
    copies = population.copies(10)
    assert len(set(copies.doc_ids)) == 10 * len(population.doc_ids)
    assert {name: pytest.approx(value) for name, value in C.coverage(copies, (1.0,), seeds=1)["truth"].items()} \
        == result["truth"]
    first, second = (copies.ner_sample(0.5, 5)[k * 18:(k + 1) * 18] for k in (0, 1))
    assert not np.array_equal(first, second) and copies.buckets.min() >= 0 and copies.buckets.max() < C.BUCKETS
